"""The files deploy uploads to the code stage, built in a local folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .packaging import build_project, zip_distribution
from .plan import Plan
from .steps import MANIFEST


def build_bundle(
    plan: Plan,
    folder: Path,
    tracking_uri: str | None = None,
    project_root: Path | None = None,
) -> list[tuple[str, Path]]:
    """(name on the stage, local file) for every IMPORT of the procedure, in order.
    Local runs (tracking_uri set) also tell the procedure where a new experiment keeps
    its artifacts: the project, unless project_root says otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    project_zip, conf = build_project(
        plan.project, folder, plan.project_zip.removesuffix(".zip")
    )
    files = [(plan.project_zip, project_zip)]
    for dist in plan.shipped:
        shipped = zip_distribution(dist, folder)
        files.append((shipped.name, shipped.path))
    files.append((plan.conf_archive, conf))
    for relative, name in plan.input_file_names().items():
        target = folder / name
        shutil.copyfile(plan.project / relative, target)
        files.append((name, target))
    manifest = folder / MANIFEST
    manifest.write_text(
        json.dumps(
            plan.manifest(
                tracking_uri,
                str(project_root or plan.project) if tracking_uri else None,
            ),
            indent=2,
        ),
        encoding="utf-8",
    )
    files.append((MANIFEST, manifest))
    names = [name for name, _ in files]
    if names != plan.import_names():
        raise RuntimeError(
            f"bundle and plan disagree: {names} != {plan.import_names()}"
        )
    return files
