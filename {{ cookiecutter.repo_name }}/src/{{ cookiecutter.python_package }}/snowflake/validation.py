"""Offline checks: the project's conf/ and sql/ agree on every Snowflake object.

The same code runs in the starter's post-generation hook (before anything is installed,
so: stdlib and PyYAML only) and in `kedro snowflake check`. It never connects to
Snowflake; objects that do not exist yet are not its business (see online_check.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pyproject.toml is not parsed (no TOML in stdlib)
    tomllib = None

from .expected_objects import (
    ExpectedObject,
    Finding,
    objects_named_in_conf,
    read_conf,
)
from .sql_checks import (
    check_created_before,
    check_function,
    check_teardown,
    check_translator,
    created_object,
    match_creator,
    order,
    read_sql,
    setup_objects,
    stage_dependencies,
)
from .sql_inventory import Inventory

# Built from pieces so that cookiecutter does not read them as template syntax.
UNRENDERED_MARKERS = ("{" + "{", "{" + "%")
# Where the template wrote text: a user's .venv, data or caches are not searched.
TEMPLATE_FOLDERS = ("conf", "sql", "src", "tests")


@dataclass
class OfflineReport:
    """What the offline check found."""

    project: Path
    expected: list[ExpectedObject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    inventory: Inventory = field(default_factory=Inventory)

    @property
    def ok(self) -> bool:
        return not self.findings

    def inventory_table(self) -> str:
        """Type, name and creating script of every object, one per line."""

        def run_order(obj: ExpectedObject) -> tuple[int, int]:
            if obj.created_by is None:
                return (len(self.inventory.scripts), 0)
            return order(obj.created_by, self.inventory)

        rows = [("TYPE", "NAME", "CREATED BY")]
        rows += [
            (obj.described, obj.name, obj.script or "(no script!)")
            for obj in sorted(self.expected, key=run_order)
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        return "\n".join(
            f"{kind:<{widths[0]}}  {name:<{widths[1]}}  {script}"
            for kind, name, script in rows
        )


def text_files(project: Path):
    """(relative path, text) of the files the template generated (binary ones skipped)."""
    paths = [p for p in project.iterdir() if p.is_file()]
    for folder in TEMPLATE_FOLDERS:
        paths += [
            p
            for p in (project / folder).rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and ".ruff_cache" not in p.parts
        ]
    for path in sorted(paths):
        try:
            yield path.relative_to(project).as_posix(), path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue


def check_files(project: Path, findings: list[Finding]) -> None:
    """Nothing left unrendered; pyproject.toml parses."""
    for relative, content in text_files(project):
        for number, line in enumerate(content.splitlines(), start=1):
            if any(marker in line for marker in UNRENDERED_MARKERS):
                findings.append(
                    Finding(
                        f"{relative}:{number}",
                        "holds unrendered template syntax",
                        "report this to the starter's maintainers; regenerate",
                    )
                )
                break
    if tomllib is None:
        return
    try:
        tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        findings.append(
            Finding("pyproject.toml", f"is not valid TOML ({error})", "repair the file")
        )


def check_project(project: Path) -> OfflineReport:
    """Every offline check of a generated project."""
    project = Path(project)
    report = OfflineReport(project)
    findings = report.findings
    parsed = read_conf(project, findings)
    check_files(project, findings)
    inventory = report.inventory = read_sql(project, findings)
    expected = objects_named_in_conf(parsed)
    for obj in expected:
        match_creator(obj, inventory, findings)
    # Integrations and translators are named by the statements that use them; each is
    # matched (and reported) once, however many functions use it.
    known = {(obj.kind, obj.name): obj for obj in expected}
    for obj in list(expected):
        if obj.kind == "EXTERNAL FUNCTION":
            needed = check_function(obj, inventory, findings)
        elif obj.kind == "STAGE":
            needed = stage_dependencies(obj, findings)
        else:
            continue
        for dependency in needed:
            key = (dependency.kind, dependency.name)
            if key not in known:
                known[key] = dependency
                expected.append(dependency)
                match_creator(dependency, inventory, findings)
                if dependency.kind == "FUNCTION":
                    check_translator(dependency, findings)
            check_created_before(obj.created_by, known[key], inventory, findings)
    # Whatever else the setup scripts create (the data stage, ...) is part of the
    # inventory too, so the online check looks for it.
    for created in setup_objects(inventory):
        if (created.kind, created.name) not in known:
            known[(created.kind, created.name)] = created_object(created)
            expected.append(known[(created.kind, created.name)])
    report.expected = expected
    check_teardown(inventory, findings)
    return report
