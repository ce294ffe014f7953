"""What the procedure imports: the project, the plugin and the pure-Python libraries that
Snowflake's package channel does not provide, each as one zip on the code stage.

Which libraries to ship is decided offline and reproducibly from the installed
distributions' own metadata: starting from the project's requirements, every
distribution is either PROVIDED (named in `snowflake.deploy.packages`, or needed by one
that is: Snowflake's conda resolves those) or SHIPPED (pure Python, zipped from the files
its RECORD lists). A distribution with compiled code that is not provided cannot be
shipped (Snowflake imports only platform-independent code from stages): that is a plan
error naming it.

Snowflake imports staged code with zipimport (docs.snowflake.com/en/developer-guide/udf/
python/udf-python-limitations: "Snowflake uses the Python zipimport module to import
Python code from stages"), so the procedure sees exactly these zips; `run --local`
imports them the same way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from .grouping import PlanError

# What the plugin needs at run time inside a procedure (its other requirements serve the
# CLI and the starter: cookiecutter, the connector's CLI use, mlflow for `kedro run`).
PLUGIN = "kedro-snowflake-mlops"
PLUGIN_RUNTIME = ("kedro", "pydantic", "pyyaml", "snowflake-snowpark-python")
# Transports that run the MLflow client inside the procedure.
CLIENT_TRANSPORTS = ("direct", "external_access")
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
# Fixed timestamps: the same code gives the same zip (and the same stage file name).
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Shipped:
    """One zip the procedure imports."""

    name: str  # file name on the stage and in the import directory
    path: Path  # the local file


def _requires(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    found = []
    for text in dist.requires or ():
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None:
            found.append(requirement)
            continue
        environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
        if any(marker.evaluate(env) for env in environments):
            found.append(requirement)
    return found


def _installed(name: str, needed_by: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise PlanError(
            f"{name} (needed by {needed_by}) is not installed here, so its code cannot "
            "be packaged. Fix: pip install -e . in the project, then deploy again"
        ) from None


def closure(roots: list[tuple[str, set[str]]], stop: set[str] = frozenset()) -> dict:
    """name -> (distribution, needed_by), following Requires-Dist from the roots, not
    into names in `stop`."""
    found: dict[str, tuple[metadata.Distribution, str]] = {}
    todo = [(name, extras, "the project") for name, extras in roots]
    while todo:
        name, extras, needed_by = todo.pop()
        key = canonical(name)
        if key in stop:
            continue
        seen = found.get(key)
        dist = seen[0] if seen else _installed(name, needed_by)
        if seen is None:
            found[key] = (dist, needed_by)
        elif not extras:
            continue
        following = (
            [Requirement(r) for r in PLUGIN_RUNTIME]
            if key == PLUGIN
            else _requires(dist, set(extras))
        )
        for requirement in following:
            todo.append(
                (requirement.name, set(requirement.extras), dist.metadata["Name"])
            )
    return found


def _files(dist: metadata.Distribution) -> list[tuple[Path, str]]:
    """(local file, path inside the zip) of a distribution's importable files."""
    entries = list(dist.files or ())
    if any(str(entry).endswith(".pth") for entry in entries):
        # An editable install: its RECORD lists a path hook, not the sources.
        meta = [e for e in entries if ".dist-info/" in str(e)]
        return _editable_files(dist) + [
            (Path(str(e.locate())), Path(str(e)).as_posix()) for e in meta
        ]
    files = []
    for entry in entries:
        parts = Path(str(entry)).parts
        if not parts or parts[0] == ".." or entry.suffix == ".pyc":
            continue
        if "__pycache__" in parts or entry.suffix == ".pth":
            continue
        files.append((Path(str(entry.locate())), Path(*parts).as_posix()))
    return files


def _editable_files(dist: metadata.Distribution) -> list[tuple[Path, str]]:
    """An editable install lists no sources in its RECORD: take the package folders
    its top-level names point at."""
    files = []
    names = (dist.read_text("top_level.txt") or "").split()
    if not names:
        names = [canonical(dist.metadata["Name"]).replace("-", "_")]
    for name in names:
        spec = __import__("importlib.util").util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        root = Path(spec.origin).parent
        for path in sorted(root.rglob("*")):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix != ".pyc"
            ):
                arc = (Path(name) / path.relative_to(root)).as_posix()
                files.append((path, arc))
    return files


def is_compiled(dist: metadata.Distribution) -> bool:
    return any(str(entry).endswith(COMPILED_SUFFIXES) for entry in dist.files or ())


def write_zip(files: list[tuple[Path, str]], target: Path) -> None:
    """A reproducible zip: sorted entries, fixed dates."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for source, arc in sorted(set(files), key=lambda item: item[1]):
            info = zipfile.ZipInfo(arc, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read_bytes())


def zip_name(dist: metadata.Distribution) -> str:
    """The stage file name of a shipped distribution: kedro-1.7.0.zip."""
    return f"{canonical(dist.metadata['Name'])}-{dist.version}.zip"


def zip_distribution(dist: metadata.Distribution, folder: Path) -> Shipped:
    name = canonical(dist.metadata["Name"]).replace("-", "_")
    files = _files(dist)
    if PLUGIN.replace("-", "_") == name:
        # The starter's template travels in the plugin's wheel; a procedure never
        # generates a project.
        files = [(s, a) for s, a in files if "/template/" not in a]
    target = folder / zip_name(dist)
    write_zip(files, target)
    return Shipped(target.name, target)


def resolve_code(
    project_requirements: list[str], packages: list[str], transport: str
) -> tuple[list[metadata.Distribution], list[str]]:
    """(distributions to ship, names the packages provide); PlanError for what can be
    neither."""
    declared = [Requirement(spec).name for spec in packages]
    if transport in CLIENT_TRANSPORTS and "mlflow" not in map(canonical, declared):
        raise PlanError(
            f"snowflake.mlflow.transport {transport} runs the MLflow client inside the "
            "procedure, but snowflake.deploy.packages does not name mlflow. Fix: add "
            "mlflow to snowflake.deploy.packages"
        )
    provided = closure([(name, set()) for name in declared])
    roots = []
    for text in project_requirements:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            roots.append((requirement.name, set(requirement.extras)))
    needed = closure(roots, stop=set(provided))
    shipped, problems = [], []
    for _name, (dist, needed_by) in sorted(needed.items()):
        if is_compiled(dist):
            problems.append(
                f"{dist.metadata['Name']} {dist.version} (needed by {needed_by}) has "
                "compiled code, which Snowflake does not import from a stage. Fix: add "
                f"{canonical(dist.metadata['Name'])} to snowflake.deploy.packages (Snowflake's "
                "Anaconda channel: SELECT * FROM INFORMATION_SCHEMA.PACKAGES WHERE "
                "LANGUAGE = 'python')"
            )
            continue
        shipped.append(dist)
    if problems:
        raise PlanError("\n".join(problems))
    return shipped, sorted(provided)


def project_requirements(project: Path) -> list[str]:
    """The project's own dependencies (pyproject.toml), as its wheel declares them."""
    try:
        import tomllib  # noqa: PLC0415
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # noqa: PLC0415

    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data.get("project", {}).get("dependencies", []))


def build_project(project: Path, folder: Path, stem: str) -> tuple[Path, Path]:
    """`kedro package`: the project's wheel (copied as <stem>.zip: Snowflake imports
    .zip files) and its conf archive."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "package"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    dist = project / "dist"
    wheels = sorted(dist.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    confs = sorted(dist.glob("conf-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if result.returncode != 0 or not wheels or not confs:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise PlanError(
            "`kedro package` failed in the project:\n  " + "\n  ".join(tail)
        )
    wheel, conf = wheels[-1], confs[-1]
    target = folder / f"{stem}.zip"
    shutil.copyfile(wheel, target)
    conf_target = folder / conf.name
    shutil.copyfile(conf, conf_target)
    return target, conf_target
