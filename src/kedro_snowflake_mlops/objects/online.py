"""The online half of `kedro snowflake check`: are the objects there, of the right type,
usable by the project's role, and does experiment_get_by_name answer?

The connection is the Snowpark session's own snowflake-connector connection, which
Snowpark opens with the qmark paramstyle: `?` marks a value the server binds, and a `%s`
would reach Snowflake as text. SHOW takes its LIKE pattern only as a literal in the docs
(no bind variable is documented there), so each SHOW is sent once without LIKE and its
rows are matched here by name. SHOW GRANTS TO ROLE takes an identifier, where binding
is not documented either: the role's name goes in as a quoted identifier, after it has
been checked (quoted_identifier).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..conf import first_line
from .conf_check import ARTIFACT_STAGING_KEY
from .expected import QUALIFIED_PARTS, ExpectedObject
from .report import OfflineReport

# One SHOW per kind of object, without LIKE: rows are matched by exact name after.
SHOW_QUERIES = {
    "ROLE": "SHOW ROLES",
    "WAREHOUSE": "SHOW WAREHOUSES",
    "DATABASE": "SHOW DATABASES",
    "SCHEMA": "SHOW SCHEMAS IN ACCOUNT",
    "STAGE": "SHOW STAGES IN ACCOUNT",
    "EXTERNAL FUNCTION": "SHOW USER FUNCTIONS IN ACCOUNT",
    "FUNCTION": "SHOW USER FUNCTIONS IN ACCOUNT",
    "API INTEGRATION": "SHOW INTEGRATIONS",
    "STORAGE INTEGRATION": "SHOW INTEGRATIONS",
    # sql/80 (transport external_access).
    "EXTERNAL ACCESS INTEGRATION": "SHOW INTEGRATIONS",
    "NETWORK RULE": "SHOW NETWORK RULES IN ACCOUNT",
    "SECRET": "SHOW SECRETS IN ACCOUNT",
}
GRANTS_QUERY = "SHOW GRANTS TO ROLE {role}"
# The privileges the project role needs (all of them; OWNERSHIP always suffices) on each
# object it uses at run time. Integrations and translators are used by their owner, not
# the caller.
NEEDED_PRIVILEGES = {
    "WAREHOUSE": ("USAGE",),
    "DATABASE": ("USAGE",),
    "SCHEMA": ("USAGE",),
    "external STAGE": ("USAGE",),
    # The tracking PUTs each run's artifacts to the internal staging stage (then COPY
    # FILES reads them), so READ alone is not enough there.
    "artifact staging STAGE": ("READ", "WRITE"),
    "STAGE": ("READ",),
    "EXTERNAL FUNCTION": ("USAGE",),
    "EXTERNAL ACCESS INTEGRATION": ("USAGE",),
}
GRANTED_ON = {"EXTERNAL FUNCTION": "FUNCTION"}

Lookup = Callable[[str, str], Any]
# SHOW INTEGRATIONS' type column (EXTERNAL_STAGE, EXTERNAL_ACCESS, EXTERNAL_API, ...).
INTEGRATION_TYPES = (
    ("STAGE", "storage integration"),
    ("STORAGE", "storage integration"),
    ("ACCESS", "external access integration"),
    ("API", "api integration"),
)


@dataclass(frozen=True)
class CheckRow:
    """One line of the table: object, what is expected, what was found, the fix."""

    object: str
    expected: str
    found: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return not self.fix


def quoted_identifier(name: str) -> str:
    """A Snowflake name as a quoted identifier, for statements that take no binding.

    `name` is the resolved name (unquoted ones folded to upper case, see normalize); a
    quoted identifier holds any character but NUL and line breaks, and `"` is doubled.
    """
    if not name or any(char in name for char in "\0\r\n"):
        raise ValueError(f"{name!r} cannot be a Snowflake identifier")
    return '"' + name.replace('"', '""') + '"'


def run_query(
    connection: Any, sql: str, params: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Rows as dicts with lower-case column names (SHOW output columns)."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, tuple(params) or None)
        columns = [column[0].lower() for column in cursor.description or ()]
        return [dict(zip(columns, row, strict=False)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _found_type(obj: ExpectedObject, row: dict[str, Any]) -> str:
    """What the row says the object is, in the words of `ExpectedObject.described`."""
    if obj.kind == "STAGE":
        stage = str(row.get("type", "")).split()[0].lower() or "internal"
        return f"{stage} stage"
    if obj.kind in ("EXTERNAL FUNCTION", "FUNCTION"):
        external = str(row.get("is_external_function", "N")).upper() == "Y"
        return "external function" if external else "function"
    if obj.kind.endswith("INTEGRATION"):
        category = str(row.get("type", row.get("category", ""))).upper()
        for word, kind in INTEGRATION_TYPES:
            if word in category:
                return kind
        return category.lower() or "integration"
    return obj.described


def _same_place(obj: ExpectedObject, row: dict[str, Any]) -> bool:
    """Does a SHOW row describe the object (name, and database/schema if qualified)?"""
    parts = obj.name.split(".")
    if str(row.get("name", "")) != parts[-1]:
        return False
    scope = dict(zip(("database", "schema"), parts[:-1], strict=False))
    database = row.get("database_name", row.get("catalog_name"))
    if (
        "database" in scope
        and database is not None
        and str(database) != scope["database"]
    ):
        return False
    schema = row.get("schema_name")
    qualified = len(parts) == QUALIFIED_PARTS
    return not (qualified and schema is not None and str(schema) != scope["schema"])


def find_object(
    connection: Any, obj: ExpectedObject, shown: dict[str, list] | None = None
) -> str:
    """'missing', or what the object turned out to be (`shown`: SHOW rows by query,
    kept between calls so that each SHOW runs once)."""
    query = SHOW_QUERIES.get(obj.kind)
    if query is None:
        return "not checked"
    shown = {} if shown is None else shown
    if query not in shown:
        shown[query] = run_query(connection, query)
    rows = shown[query]
    matches = [row for row in rows if _same_place(obj, row)]
    if not matches:
        return "missing"
    found = [_found_type(obj, row) for row in matches]
    return obj.described if obj.described in found else found[0]


def granted_names(rows: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(granted_on, object name) -> privileges; function names lose their signature."""
    grants: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        name = str(row.get("name", "")).replace('"', "")
        name = re.sub(r"\(.*$", "", name)
        key = (str(row.get("granted_on", "")).upper(), name.upper())
        grants.setdefault(key, set()).add(str(row.get("privilege", "")).upper())
    return grants


def needed_privileges(obj: ExpectedObject) -> tuple[str, ...]:
    """What the project role must hold on an object (empty: nothing)."""
    key = obj.kind
    if obj.kind == "STAGE" and obj.stage_type == "external":
        key = "external STAGE"
    elif obj.kind == "STAGE" and obj.source.endswith(ARTIFACT_STAGING_KEY):
        key = "artifact staging STAGE"
    return NEEDED_PRIVILEGES.get(key, ())


def privilege_row(obj: ExpectedObject, role: str, grants: dict) -> CheckRow | None:
    """The role's privileges on an object it uses, or None when none is needed."""
    needed = needed_privileges(obj)
    if not needed:
        return None
    held = grants.get((GRANTED_ON.get(obj.kind, obj.kind), obj.name), set())
    wanted = f"{', '.join(needed)} for role {role}"
    missing = [] if "OWNERSHIP" in held else [p for p in needed if p not in held]
    if not missing:
        return CheckRow(obj.name, wanted, ", ".join(sorted(held)))
    return CheckRow(
        obj.name,
        wanted,
        ", ".join(sorted(held)) or "no grant",
        f"GRANT {', '.join(missing)} ON {GRANTED_ON.get(obj.kind, obj.kind)} {obj.name} "
        f"TO ROLE {role} (see {obj.script or 'sql/'})",
    )


def create_fix(obj: ExpectedObject) -> str:
    return f"run {obj.script}" if obj.script else "see sql/README.md"


def check_online(
    report: OfflineReport,
    connection: Any,
    lookup: Lookup,
    experiment_name: str,
    experiment_function: str,
) -> list[CheckRow]:
    """One row per object, one per privilege the role needs, one for the lookup."""
    rows: list[CheckRow] = []
    role = next((o.name for o in report.expected if o.kind == "ROLE"), "")
    present = []
    shown: dict[str, list] = {}
    for obj in report.expected:
        found = find_object(connection, obj, shown)
        if found == "not checked":  # a type without a SHOW query here
            rows.append(CheckRow(obj.name, obj.described, found))
        elif found == obj.described:
            rows.append(CheckRow(obj.name, obj.described, "ok"))
            present.append(obj)
        elif found == "missing":
            rows.append(CheckRow(obj.name, obj.described, "missing", create_fix(obj)))
        else:
            rows.append(
                CheckRow(
                    obj.name,
                    obj.described,
                    found,
                    f"drop the {found} {obj.name}, then {create_fix(obj)}",
                )
            )
    if role and any(o.kind == "ROLE" for o in present):
        query = GRANTS_QUERY.format(role=quoted_identifier(role))
        grants = granted_names(run_query(connection, query))
        for obj in present:
            row = privilege_row(obj, role, grants)
            if row is not None:
                rows.append(row)
        rows += task_graph_rows(report, role, grants)
    rows.append(lookup_row(lookup, experiment_function, experiment_name))
    return rows


def task_graph_rows(report: OfflineReport, role: str, grants: dict) -> list[CheckRow]:
    """What `kedro snowflake deploy` and `run` need of the role (sql/07), when the
    project deploys a task graph: EXECUTE TASK on the account (only ACCOUNTADMIN grants
    it), CREATE TASK and CREATE PROCEDURE on the schema."""
    code_stage = next(
        (o for o in report.expected if o.source == "snowflake.deploy.code_stage"), None
    )
    schema = next((o.name for o in report.expected if o.kind == "SCHEMA"), "")
    if code_stage is None or not schema:
        return []
    on_account = set().union(
        *(held for (kind, _), held in grants.items() if kind == "ACCOUNT")
    )
    on_schema = grants.get(("SCHEMA", schema), set())
    rows = []
    for privilege, held, on, grant_on in (
        ("EXECUTE TASK", on_account, "the account", "ACCOUNT"),
        ("CREATE TASK", on_schema, schema, f"SCHEMA {schema}"),
        ("CREATE PROCEDURE", on_schema, schema, f"SCHEMA {schema}"),
    ):
        wanted = f"{privilege} on {on} for role {role}"
        if privilege in held or "OWNERSHIP" in held:
            rows.append(CheckRow(privilege, wanted, "ok"))
        else:
            rows.append(
                CheckRow(
                    privilege,
                    wanted,
                    "no grant",
                    f"GRANT {privilege} ON {grant_on} TO ROLE {role} (sql/07_task_graph.sql)",
                )
            )
    return rows


def lookup_row(lookup: Lookup, function: str, experiment_name: str) -> CheckRow:
    """Call experiment_get_by_name through Snowflake, as a run would."""
    expected = f"{function.rsplit('.', maxsplit=1)[-1]}({experiment_name!r}) answers"
    try:
        experiment = lookup(function, experiment_name)
    except Exception as error:  # noqa: BLE001 (any failure is a finding to report)
        return CheckRow(
            function,
            expected,
            f"error: {first_line(error)[:120]}",
            "check the gateway and the integration (sql/README.md, DESCRIBE INTEGRATION)",
        )
    if not experiment:
        return CheckRow(
            function,
            expected,
            "NULL (no such experiment)",
            f"create it on the MLflow server: mlflow experiments create -n {experiment_name!r}",
        )
    experiment_id = (
        experiment.get("experiment_id") if isinstance(experiment, dict) else None
    )
    return CheckRow(function, expected, f"experiment {experiment_id or experiment}")


def table(rows: list[CheckRow]) -> str:
    """object | expected | found | fix, aligned."""
    header = CheckRow("OBJECT", "EXPECTED", "FOUND", "FIX")
    lines = [header, *rows]
    widths = [
        max(len(getattr(r, f)) for r in lines) for f in ("object", "expected", "found")
    ]
    return "\n".join(
        f"{r.object:<{widths[0]}}  {r.expected:<{widths[1]}}  {r.found:<{widths[2]}}  {r.fix}".rstrip()
        for r in lines
    )
