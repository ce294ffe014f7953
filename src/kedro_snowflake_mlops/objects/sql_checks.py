"""Checks of sql/ against what conf/ expects: every object created, with the right
type, signature and dependencies, in a workable order, and dropped again by teardown."""

from __future__ import annotations

import re
from pathlib import Path

from .expected import QUALIFIED_PARTS, ExpectedObject, Finding, qualify
from .inventory import (
    ACCOUNT_LEVEL,
    Inventory,
    SqlObject,
    SqlSyntaxError,
    normalize,
    read_script,
)

TYPE_FAMILIES = {
    "VARCHAR": ("VARCHAR", "STRING", "TEXT", "CHAR", "CHARACTER", "NVARCHAR"),
    "NUMBER": ("NUMBER", "INT", "INTEGER", "BIGINT", "SMALLINT", "DECIMAL", "NUMERIC"),
    "FLOAT": ("FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "REAL"),
    "VARIANT": ("VARIANT",),
    "OBJECT": ("OBJECT",),
}


def type_family(sql_type: str) -> str:
    """VARCHAR(100) -> VARCHAR, INTEGER -> NUMBER, DOUBLE -> FLOAT, ..."""
    match = re.match(r"\s*([A-Za-z0-9_]+)", sql_type)
    base = match[1].upper() if match else ""
    for family, members in TYPE_FAMILIES.items():
        if base in members:
            return family
    return base


def read_sql(project: Path, findings: list[Finding]) -> Inventory:
    """The inventory of sql/; scripts that do not split or parse are findings."""
    inventory = Inventory()
    scripts = sorted((project / "sql").glob("*.sql"))
    if not scripts:
        findings.append(
            Finding("sql/", "holds no .sql scripts", "regenerate the project")
        )
    for path in scripts:
        try:
            read_script(inventory, path.name, path.read_text(encoding="utf-8"))
        except SqlSyntaxError as error:
            findings.append(
                Finding(
                    f"sql/{path.name}",
                    f"does not split into statements: {error}",
                    "close the quote, comment or $$ body",
                )
            )
    for statement in inventory.unparsed:
        findings.append(
            Finding(
                statement.where,
                "a CREATE/DROP statement whose header could not be read",
                "keep `CREATE [OR REPLACE] <TYPE> [IF NOT EXISTS] <name>` on one line",
            )
        )
    return inventory


def setup_objects(inventory: Inventory) -> list[SqlObject]:
    """Lasting objects created by the setup scripts (not by teardown, not temporary)."""
    return [
        obj
        for obj in inventory.created
        if not is_teardown(obj.statement.script) and not obj.temporary
    ]


def is_teardown(script: str) -> bool:
    return "teardown" in script.lower()


def order(obj: SqlObject, inventory: Inventory) -> tuple[int, int]:
    """When a statement runs when the scripts run in order."""
    return inventory.scripts.index(obj.statement.script), obj.statement.line


def match_creator(
    expected: ExpectedObject, inventory: Inventory, findings: list[Finding]
) -> None:
    """Find the statement that creates an expected object; explain when there is none."""
    creators = [c for c in setup_objects(inventory) if c.name == expected.name]
    of_kind = [c for c in creators if c.kind == expected.kind]
    if of_kind:
        expected.created_by = of_kind[0]
        scripts = sorted({c.statement.script for c in of_kind})
        if len(scripts) > 1:
            findings.append(
                Finding(
                    expected.source,
                    f"{expected.kind} {expected.name} is created by several scripts "
                    f"({', '.join(scripts)})",
                    "create it in one script only",
                )
            )
        return
    if creators:
        found = creators[0]
        findings.append(
            Finding(
                found.statement.where,
                f"{expected.name} is created as {found.kind}, but {expected.source} needs "
                f"a {expected.kind}",
                f"create it as {expected.kind}",
            )
        )
        return
    # Compare the last name parts: qualified names all look alike by their prefix.
    same_kind = {
        c.name.rsplit(".", 1)[-1]: c.name
        for c in setup_objects(inventory)
        if c.kind == expected.kind
    }
    last = expected.name.rsplit(".", 1)[-1]
    import difflib  # noqa: PLC0415 (only for a name that is not found)

    close = difflib.get_close_matches(last, list(same_kind), n=1, cutoff=0.75)
    hint = f"; sql/ creates {same_kind[close[0]]} instead" if close else ""
    # Named by a statement of sql/ (an integration, a translator) or by a key of conf/.
    named_in = "that statement" if expected.source.startswith("sql/") else "conf/"
    findings.append(
        Finding(
            expected.source,
            f"names {expected.kind} {expected.name or '(empty)'}, but no script in sql/ "
            f"creates it{hint}",
            f"make the name in {named_in} and the CREATE statement in sql/ agree",
        )
    )


def check_function(
    expected: ExpectedObject, inventory: Inventory, findings: list[Finding]
) -> list[ExpectedObject]:
    """Signature of one external function, and the objects its statement depends on."""
    created = expected.created_by
    if created is None:
        return []
    where = created.statement.where
    types = tuple(type_family(kind) for _, kind in created.arguments)
    if expected.signature is not None and types != expected.signature:
        findings.append(
            Finding(
                where,
                f"{expected.name} takes ({', '.join(types)}), the tracking code calls it "
                f"with ({', '.join(expected.signature)})",
                "use the signature of the names contract",
            )
        )
    if not re.search(r"\bRETURNS\s+VARIANT\b", created.statement.text, re.IGNORECASE):
        findings.append(
            Finding(
                where, f"{expected.name} must return VARIANT", "declare RETURNS VARIANT"
            )
        )
    dependencies = []
    integration = created.properties.get("API_INTEGRATION")
    if integration:
        dependencies.append(
            ExpectedObject("API INTEGRATION", normalize(integration), where)
        )
    else:
        findings.append(
            Finding(
                where,
                f"{expected.name} names no API_INTEGRATION",
                "add API_INTEGRATION = <integration>",
            )
        )
    for key, suffix in (
        ("REQUEST_TRANSLATOR", "_REQUEST_TRANSLATOR"),
        ("RESPONSE_TRANSLATOR", "_RESPONSE_TRANSLATOR"),
    ):
        translator = created.properties.get(key)
        wanted = expected.name + suffix
        if not translator:
            findings.append(
                Finding(
                    where,
                    f"{expected.name} has no {key}",
                    f"add {key} = {wanted.lower()}",
                )
            )
            continue
        name = qualify(normalize(translator), expected.name.split("."))
        if name != wanted:
            findings.append(
                Finding(
                    where,
                    f"{key} is {name}, the names contract says {wanted}",
                    f"rename it {wanted.lower()}",
                )
            )
        dependencies.append(ExpectedObject("FUNCTION", name, where))
    return dependencies


def check_translator(expected: ExpectedObject, findings: list[Finding]) -> None:
    """Translators are JavaScript UDFs with one OBJECT argument named EVENT."""
    created = expected.created_by
    if created is None:
        return
    if created.properties.get("LANGUAGE") != "JAVASCRIPT" or created.arguments != [
        ("EVENT", "OBJECT")
    ]:
        findings.append(
            Finding(
                created.statement.where,
                f"translator {expected.name} must be a JavaScript UDF taking (EVENT OBJECT)",
                "declare it as FUNCTION ...(event OBJECT) RETURNS OBJECT LANGUAGE JAVASCRIPT",
            )
        )


def check_created_before(
    user: SqlObject | None,
    needed: ExpectedObject,
    inventory: Inventory,
    findings: list[Finding],
) -> None:
    """Snowflake resolves integrations and translators when the function is created."""
    if user is None or needed.created_by is None:
        return
    if order(needed.created_by, inventory) > order(user, inventory):
        findings.append(
            Finding(
                user.statement.where,
                f"{user.name} uses {needed.name}, which is only created later "
                f"({needed.created_by.statement.where})",
                "create it in an earlier script or statement",
            )
        )


def check_teardown(inventory: Inventory, findings: list[Finding]) -> None:
    """Teardown drops every object the setup scripts create (or its database/schema)."""
    teardown = [s for s in inventory.scripts if is_teardown(s)]
    if not teardown:
        findings.append(
            Finding("sql/", "has no teardown script", "add sql/NN_teardown.sql")
        )
        return

    dropped = {
        (family(d.kind), d.name)
        for d in inventory.dropped
        if is_teardown(d.statement.script)
    }
    for obj in setup_objects(inventory):
        if (family(obj.kind), obj.name) in dropped or containers(obj) & dropped:
            continue
        findings.append(
            Finding(
                obj.statement.where,
                f"{obj.kind} {obj.name} is created but {', '.join(teardown)} does not "
                "drop it",
                f"add DROP {family(obj.kind)} IF EXISTS {obj.name} to the teardown",
            )
        )


def family(kind: str) -> str:
    """DROP uses the family name: DROP FUNCTION drops an external function too."""
    if kind.endswith("INTEGRATION"):
        return "INTEGRATION"
    return kind.replace("EXTERNAL ", "")


def containers(obj: SqlObject) -> set[tuple[str, str]]:
    """The database (and schema) whose DROP also drops this object."""
    if obj.kind in ACCOUNT_LEVEL:
        return set()
    parts = obj.name.split(".")
    found = {("DATABASE", parts[0])}
    if len(parts) == QUALIFIED_PARTS:
        found.add(("SCHEMA", ".".join(parts[:2])))
    return found


def created_object(created: SqlObject) -> ExpectedObject:
    """An object only sql/ names (conf does not refer to it)."""
    stage_type = ""
    if created.kind == "STAGE":
        stage_type = "external" if "URL" in created.properties else "internal"
    return ExpectedObject(
        created.kind,
        created.name,
        created.statement.where,
        created_by=created,
        stage_type=stage_type,
    )


def stage_dependencies(
    stage: ExpectedObject, findings: list[Finding]
) -> list[ExpectedObject]:
    """The MLflow stage is external: a URL on the artifact store and its integration."""
    created = stage.created_by
    if stage.stage_type != "external" or created is None:
        return []
    where = created.statement.where
    if "URL" not in created.properties:
        findings.append(
            Finding(
                where,
                f"{stage.name} must be an external stage (URL = '<artifact store>')",
                "add URL and STORAGE_INTEGRATION",
            )
        )
        return []
    integration = created.properties.get("STORAGE_INTEGRATION")
    if not integration:
        findings.append(
            Finding(
                where,
                f"{stage.name} names no STORAGE_INTEGRATION",
                "add STORAGE_INTEGRATION = <integration>",
            )
        )
        return []
    return [ExpectedObject("STORAGE INTEGRATION", normalize(integration), where)]
