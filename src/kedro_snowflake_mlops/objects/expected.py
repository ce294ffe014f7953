"""What the offline checks talk about: an object the project needs in Snowflake, the
statement in sql/ that creates it, and a finding when the two do not agree.

Plain data: the checks of sql/ alone (report.py) and of conf/ against sql/
(conf_check.py) both speak in these terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .inventory import SqlObject

QUALIFIED_PARTS = 3  # database.schema.object


@dataclass(frozen=True)
class Finding:
    """One inconsistency: where, what is wrong, how to fix it."""

    where: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}. Fix: {self.fix}."


@dataclass
class ExpectedObject:
    """A Snowflake object the project needs, and the script that creates it."""

    kind: str
    name: str
    source: str
    created_by: SqlObject | None = None
    # External stages are read from the artifact store; internal ones hold files.
    stage_type: str = ""
    signature: tuple[str, ...] | None = None

    @property
    def script(self) -> str:
        return f"sql/{self.created_by.statement.script}" if self.created_by else ""

    @property
    def described(self) -> str:
        return f"{self.stage_type} {self.kind}".strip().lower()


@dataclass
class ProjectConf:
    """The parts of a project's conf (env `snowflake`) that name Snowflake objects."""

    snowflake: dict[str, Any]
    catalog: dict[str, Any]


def qualify(name: str, scope: list[str]) -> str:
    """A partial name completed with the leading parts of scope: NAME with
    [DB, SCHEMA] -> DB.SCHEMA.NAME, SCHEMA.NAME -> DB.SCHEMA.NAME."""
    parts = name.split(".")
    return ".".join(scope[: max(0, QUALIFIED_PARTS - len(parts))] + parts)
