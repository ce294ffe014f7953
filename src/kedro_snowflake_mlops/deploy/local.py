"""`kedro snowflake run --local`: the graph deploy would create, played offline.

This process builds exactly what deploy uploads (bundle.py), then starts a separate
Python process that sees only those files plus the installed distributions of the
procedure's PACKAGES (local_graph.py plays Snowflake there), and reports each task.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .bundle import build_bundle
from .imports import save_trace, trace_file, used_libraries
from .local_graph import EVENT, PATCHES_VARIABLE
from .packaging import canonical
from .plan import Plan
from .steps import FINALIZER, MANIFEST

# The child imports the plugin from the bundle, never from this installation, and notes
# from the first import on what every task imports (import_trace.py).
BOOTSTRAP = """\
import json, sys
spec = json.load(open(sys.argv[1], encoding="utf-8"))
sys.path[:0] = [spec["packages_view"]]
sys.path.extend(spec["import_paths"])
from kedro_snowflake_mlops.deploy.import_trace import ImportTrace
trace = ImportTrace.install()
from kedro_snowflake_mlops.deploy.local_graph import main
raise SystemExit(main(trace))
"""


@dataclass
class GraphRun:
    """What happened: one entry per task, in order, and the finalizer's result."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    finalizer: dict[str, Any] = field(default_factory=dict)
    returncode: int = 0
    output: str = ""
    # What the tasks imported: {"zips": [...], "distributions": [...]}.
    imported: dict[str, list[str]] = field(default_factory=dict)
    trace_note: str = ""  # what the trace says for deploy (record_trace)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t["state"] == "FAILED"]


def packages_view(provided: list[str], folder: Path) -> Path:
    """A folder of links to the installed code of the PACKAGES' distributions only."""
    view = folder / "packages"
    view.mkdir(parents=True, exist_ok=True)
    for name in provided:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        tops = set()
        for entry in dist.files or ():
            parts = Path(str(entry)).parts
            if parts and parts[0] != ".." and not parts[0].endswith(".pth"):
                tops.add(parts[0])
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            link = view / top
            if source.exists() and not link.exists():
                link.symlink_to(source, target_is_directory=source.is_dir())
    return view


def local_tracking_uri(plan: Plan) -> str | None:
    """transport direct with a relative sqlite path: the project's own store, so the
    run lands where `kedro run` puts its runs."""
    if plan.mlflow.transport != "direct":
        return None
    return plan.mlflow.resolved_tracking_uri(plan.project)


def _seed_store(plan: Plan, tracking_uri: str, store: Path) -> None:
    """A pipeline that reads the champion (scoring) needs the registry: the store of
    its own starts as a copy of the project's (whose model files stay where they are,
    read only)."""
    from ..tracking.local_store import sqlite_file  # noqa: PLC0415

    database = sqlite_file(tracking_uri)
    if plan.champion_readers and database is not None and database.is_file():
        shutil.copy2(database, store / "mlflow.db")


def run_local(
    plan: Plan,
    echo: Callable[[str], None],
    workdir: Path | None = None,
    store: Path | None = None,
) -> GraphRun:
    """Build the bundle, play the graph in a separate process, report each task, and
    keep what the tasks imported (imports.py). With `store`, transport direct writes
    to an MLflow store of its own there, not the project's (deploy's trace run)."""
    with tempfile.TemporaryDirectory(prefix="kedro-snowflake-local-") as scratch:
        folder = Path(workdir or scratch)
        tracking_uri = local_tracking_uri(plan)
        if store is not None and tracking_uri is not None:
            _seed_store(plan, tracking_uri, store)
            tracking_uri = f"sqlite:///{(store / 'mlflow.db').as_posix()}"
        files = build_bundle(plan, folder / "bundle", tracking_uri, store)
        view = packages_view(
            sorted({canonical(n) for n in plan.provided}), folder / "view"
        )
        spec = {
            "manifest": str(folder / "bundle" / MANIFEST),
            "files": [(name, str(path)) for name, path in files],
            "import_paths": [str(p) for n, p in files if n.endswith(".zip")],
            "packages_view": str(view),
            "packages": plan.deploy.packages,
            "stage_folder": plan.stage_folder,
            "procedure": plan.procedure,
            "schema": plan.deploy.schema_name,
            "workdir": str(folder),
        }
        spec_file = folder / "spec.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        env = procedure_environment(os.environ)
        result = _watch(
            [sys.executable, "-I", "-S", "-c", BOOTSTRAP, str(spec_file)], env, echo
        )
        result.trace_note = record_trace(plan, result, files)
        return result


def record_trace(plan: Plan, result: GraphRun, files: list[tuple[str, Path]]) -> str:
    """Keep what a successful run imported; say what that means for deploy."""
    if plan.deploy.ship != "traced" or not result.imported or result.returncode != 0:
        return ""
    candidates = plan.candidate_zips()
    used = used_libraries(candidates, result.imported)
    shipped = sorted(canonical(d.metadata["Name"]) for d in plan.shipped)
    if plan.traced is not None and used == shipped:
        return (
            f"The procedure imported only the {len(shipped)} libraries shipped (of "
            f"{len(candidates)}): exactly what deploy uploads suffices"
        )
    save_trace(
        plan.project,
        plan.deploy.pipeline,
        plan.trace_key,
        env=plan.env,
        libraries=used,
        files=files,
    )
    home = sorted(set(candidates) - set(used))
    return (
        f"Traced what the tasks import: {len(used)} of the {len(candidates)} "
        f"libraries the requirements reach; deploy and the next run --local ship only "
        f"those ({trace_file(plan.project, plan.deploy.pipeline).relative_to(plan.project)})"
        + (f". Left home: {', '.join(home)}" if home else "")
    )


def procedure_environment(environ: dict[str, str]) -> dict[str, str]:
    """What the process that plays Snowflake inherits: not this shell's Kedro, MLflow or
    Snowflake settings (a procedure has none of them: `kedro` itself sets
    KEDRO_LOGGING_CONFIG to the project's conf/logging.yml, and credentials must never
    reach a procedure), except the emulation's own patches file."""
    kept = {
        key: value
        for key, value in environ.items()
        if not key.startswith(("KEDRO_", "MLFLOW_", "SNOWFLAKE_"))
        or key == PATCHES_VARIABLE
    }
    return {**kept, "PYTHONUNBUFFERED": "1", "KEDRO_DISABLE_TELEMETRY": "true"}


def _watch(command: list[str], env: dict, echo: Callable[[str], None]) -> GraphRun:
    result = GraphRun()
    lines: list[str] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as process:
        for line in process.stdout:
            if not line.startswith(EVENT):
                lines.append(line)
                continue
            event = json.loads(line[len(EVENT) :])
            if event["state"] == "IMPORTED":
                result.imported = event["imported"]
                continue
            if event["state"] == "STARTED":
                continue
            if event["step"] == FINALIZER:
                result.finalizer = event
            else:
                result.tasks.append(event)
            echo(describe(event))
        result.returncode = process.wait()
    result.output = "".join(lines)
    return result


def describe(event: dict[str, Any]) -> str:
    seconds = f" {event['seconds']:.1f} s" if "seconds" in event else ""
    line = f"  {event['task']:<45} {event['state']}{seconds}"
    if event["state"] == "FAILED":
        line += f"\n      {event.get('error', '')}"
    return line
