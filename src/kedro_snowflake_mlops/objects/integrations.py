"""Integrations that already exist: what `CREATE ... IF NOT EXISTS` silently keeps.

The setup scripts create integrations with IF NOT EXISTS (OR REPLACE would give them a
new identity and break the trust already set up on the cloud side). When the integration
is there already, Snowflake keeps its old role ARN, URLs and locations, even if the
script now says otherwise. This module turns such a CREATE into the ALTER that applies
the script's values, naming what ALTER cannot change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .inventory import NAME, normalize

# What ALTER [API|STORAGE] INTEGRATION ... SET accepts (Snowflake's SQL reference).
ALTERABLE = {
    "API": (
        "API_AWS_ROLE_ARN",
        "AZURE_AD_APPLICATION_ID",
        "API_ALLOWED_PREFIXES",
        "API_BLOCKED_PREFIXES",
        "ENABLED",
        "COMMENT",
    ),
    "STORAGE": (
        "STORAGE_AWS_ROLE_ARN",
        "AZURE_TENANT_ID",
        "STORAGE_ALLOWED_LOCATIONS",
        "STORAGE_BLOCKED_LOCATIONS",
        "ENABLED",
        "COMMENT",
    ),
}
# Fixed when the integration is created.
FIXED = ("TYPE", "API_PROVIDER", "STORAGE_PROVIDER")
CREATE_IF_NOT_EXISTS = re.compile(
    rf"^\s*CREATE\s+(?P<kind>API|STORAGE)\s+INTEGRATION\s+IF\s+NOT\s+EXISTS\s+"
    rf"(?P<name>{NAME})(?P<clauses>.*)$",
    re.IGNORECASE | re.DOTALL,
)
CLAUSE = re.compile(
    r"(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>'(?:[^']|'')*'|\([^)]*\)|[A-Za-z0-9_]+)",
    re.DOTALL,
)


@dataclass(frozen=True)
class KeptIntegration:
    """A CREATE ... INTEGRATION IF NOT EXISTS, read for its ALTER."""

    kind: str  # API or STORAGE
    name: str
    alter: str
    not_alterable: tuple[str, ...]

    def warning(self) -> str:
        lines = [
            f"{self.kind.lower()} integration {self.name} already exists: CREATE ... "
            "IF NOT EXISTS keeps its old values. If the script's values changed, run:",
            f"    {self.alter};",
        ]
        if self.not_alterable:
            lines.append(
                f"  {', '.join(self.not_alterable)} cannot be altered: to change them, "
                f"DROP INTEGRATION {self.name}, run the script again and redo the "
                "cloud side (DESCRIBE INTEGRATION gives the new values)."
            )
        return "\n".join(lines)


def kept_integration(statement: str) -> KeptIntegration | None:
    """The integration a CREATE ... INTEGRATION IF NOT EXISTS statement creates, with
    the ALTER that applies its values; None for any other statement."""
    match = CREATE_IF_NOT_EXISTS.match(statement)
    if match is None:
        return None
    kind = match["kind"].upper()
    name = normalize(match["name"])
    settable, fixed = [], []
    for clause in CLAUSE.finditer(match["clauses"]):
        key = clause["key"].upper()
        if key in ALTERABLE[kind]:
            settable.append(f"{key} = {' '.join(clause['value'].split())}")
        elif key not in FIXED:
            fixed.append(key)
    alter = f"ALTER {kind} INTEGRATION {match['name']} SET " + " ".join(settable)
    return KeptIntegration(kind, name, alter, tuple(fixed))
