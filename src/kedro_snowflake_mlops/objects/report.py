"""Offline checks: a project's conf/ and sql/ agree on every Snowflake object.

The same code runs in the starter's post-generation hook and in `kedro snowflake check`.
It never connects to Snowflake; objects that do not exist yet are not its business (see
online.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .expected import (
    RUN_ENV,
    ExpectedObject,
    Finding,
    ProjectConf,
    objects_named_in_conf,
    read_project_conf,
)
from .inventory import Inventory
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

# What the generator writes for a value only the user knows, e.g. <AWS_API_ROLE_ARN>.
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")


@dataclass
class OfflineReport:
    """What the offline check found."""

    project: Path
    expected: list[ExpectedObject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    inventory: Inventory = field(default_factory=Inventory)
    conf: ProjectConf = field(default_factory=lambda: ProjectConf({}, {}))
    # `sql/NN_name.sql: <NAME>` for every value only the user can fill in.
    placeholders: list[str] = field(default_factory=list)

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


def check_project(project: Path, env: str = RUN_ENV) -> OfflineReport:
    """Every offline check of a project, with its conf as `--env <env>` reads it."""
    project = Path(project)
    report = OfflineReport(project)
    findings = report.findings
    conf = report.conf = read_project_conf(project, findings, env)
    inventory = report.inventory = read_sql(project, findings)
    report.placeholders = placeholders_in(inventory)
    expected = objects_named_in_conf(conf)
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


def placeholders_in(inventory: Inventory) -> list[str]:
    """`sql/NN.sql: <NAME>` for every placeholder in a statement (not in comments)."""
    found: dict[str, None] = {}
    for statement in inventory.statements:
        for name in PLACEHOLDER.findall(statement.text):
            found.setdefault(f"sql/{statement.script}: {name}")
    return list(found)
