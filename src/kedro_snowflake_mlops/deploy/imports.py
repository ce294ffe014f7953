"""Which libraries the procedure imports, as the last `run --local` traced them.

packaging.py finds every pure-Python library the project's requirements reach (the
candidates), Kedro's command-line tools among them (cookiecutter, build, ...). Only
the ones a task really imports (import_trace.py) go to the code stage. The trace is kept
in dist/snowflake-imports-<pipeline>.json with a key: the candidates and their
versions, and the project's code and conf. Any change to those makes the trace stale,
and the next `run --local` (or `deploy`, which runs it first) traces again with every
candidate shipped.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What makes a trace stale besides the candidates: the code and the conf it ran with.
SOURCES = ("pyproject.toml", "src", "conf")
SKIPPED_PARTS = {"__pycache__", "local"}


@dataclass(frozen=True)
class Trace:
    """A trace that still holds: the libraries the tasks used, and file sizes."""

    libraries: tuple[str, ...]  # canonical names
    sizes: dict[str, int]  # bytes of each file of the traced bundle, by stage name
    env: str
    traced_at: str


def trace_file(project: Path, pipeline: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", pipeline)
    return project / "dist" / f"snowflake-imports-{safe}.json"


def trace_key(project: Path, pipeline: str, candidates: list[str]) -> str:
    """A digest of what the trace depends on: candidates, pipeline, code and conf."""
    digest = hashlib.sha256()
    digest.update(json.dumps([pipeline, sorted(candidates)]).encode())
    for top in SOURCES:
        root = project / top
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in paths:
            relative = path.relative_to(project)
            skipped = SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc"
            if path.is_file() and not skipped and ".egg-info" not in str(relative):
                digest.update(relative.as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_trace(project: Path, pipeline: str, key: str) -> Trace | None:
    """The recorded trace, or None when there is none or it is stale."""
    try:
        data = json.loads(trace_file(project, pipeline).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return Trace(
        tuple(data["libraries"]), dict(data["sizes"]), data["env"], data["traced_at"]
    )


def used_libraries(
    candidates: dict[str, str], imported: dict[str, list[str]]
) -> list[str]:
    """The candidates (canonical name -> zip name) a run imported or read metadata of."""
    zips = set(imported.get("zips", ()))
    looked_up = set(imported.get("distributions", ()))
    return sorted(
        name
        for name, zip_name in candidates.items()
        if zip_name in zips or name in looked_up
    )


def save_trace(  # noqa: PLR0913 (one record's fields)
    project: Path,
    pipeline: str,
    key: str,
    *,
    env: str,
    libraries: list[str],
    files: list[tuple[str, Path]],
) -> Trace:
    sizes = {name: path.stat().st_size for name, path in files}
    traced_at = time.strftime("%Y-%m-%d %H:%M:%S")
    target = trace_file(project, pipeline)
    target.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "what": "the libraries the tasks of `kedro snowflake run --local` imported; "
        "deploy ships only these (kedro_snowflake_mlops.deploy.imports)",
        "key": key,
        "pipeline": pipeline,
        "env": env,
        "traced_at": traced_at,
        "libraries": libraries,
        "sizes": sizes,
    }
    target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return Trace(tuple(libraries), sizes, env, traced_at)
