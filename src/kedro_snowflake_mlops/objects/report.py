"""Offline checks of sql/ and what they report: the Snowflake objects a project
creates, in which script, and what does not add up.

The post-generation hook runs check_sql(); `kedro snowflake check` runs the whole check
(conf_check.py), which starts from what conf/ names. Neither connects to Snowflake:
objects that do not exist yet are not their business (see online.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .expected import ExpectedObject, Finding, ProjectConf
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


class Placeholder(NamedTuple):
    """A value only the user can fill in, and the script of sql/ that holds it."""

    script: str  # the file name in sql/
    name: str  # e.g. <AWS_API_ROLE_ARN>

    def __str__(self) -> str:
        return f"sql/{self.script}: {self.name}"


@dataclass
class OfflineReport:
    """What the offline check found."""

    project: Path
    expected: list[ExpectedObject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    inventory: Inventory = field(default_factory=Inventory)
    conf: ProjectConf = field(default_factory=lambda: ProjectConf({}, {}))
    placeholders: list[Placeholder] = field(default_factory=list)

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


def check_sql(project: Path, named: Iterable[ExpectedObject] = ()) -> OfflineReport:
    """The checks that read sql/ alone: every script splits into statements; every
    object the setup scripts create is listed; external functions and the external stage
    find their integration and translators, created before them; teardown drops it all.

    `named`: objects named elsewhere (conf/), each of which sql/ must create with the
    right type (and signature); they are checked first, and like the rest.

    This is what runs right after `kedro new`: it reads no conf/, so it needs neither
    Kedro's config loader nor the project's settings.py. `kedro snowflake check` runs the
    whole check (conf_check.py), which passes what conf/ names.
    """
    report = OfflineReport(Path(project))
    report.inventory = read_sql(report.project, report.findings)
    report.placeholders = placeholders_in(report.inventory)
    report.expected = list(named)
    for obj in report.expected:
        match_creator(obj, report.inventory, report.findings)
    add_what_sql_creates(report)
    follow_dependencies(report)
    check_teardown(report.inventory, report.findings)
    return report


def add_what_sql_creates(report: OfflineReport) -> None:
    """Every lasting object of the setup scripts joins the expected ones (once); one
    created by several scripts is a finding (which of them would win?)."""
    known = {(obj.kind, obj.name) for obj in report.expected}
    for created in setup_objects(report.inventory):
        if (created.kind, created.name) not in known:
            known.add((created.kind, created.name))
            obj = created_object(created)
            match_creator(obj, report.inventory, report.findings)
            report.expected.append(obj)


def follow_dependencies(report: OfflineReport) -> None:
    """External functions need their API integration and translators, the external stage
    its storage integration, each created before it: they join the expected objects.
    Each is matched (and reported) once, however many functions use it."""
    inventory, findings = report.inventory, report.findings
    known = {(obj.kind, obj.name): obj for obj in report.expected}
    translators_checked: set[tuple[str, str]] = set()
    for obj in list(report.expected):
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
                report.expected.append(dependency)
                match_creator(dependency, inventory, findings)
            if dependency.kind == "FUNCTION" and key not in translators_checked:
                translators_checked.add(key)
                check_translator(known[key], findings)
            check_created_before(obj.created_by, known[key], inventory, findings)


def placeholders_in(inventory: Inventory) -> list[Placeholder]:
    """Every placeholder in a statement (not in comments), once per script."""
    found: dict[Placeholder, None] = {}
    for statement in inventory.statements:
        for name in PLACEHOLDER.findall(statement.text):
            found.setdefault(Placeholder(statement.script, name))
    return list(found)
