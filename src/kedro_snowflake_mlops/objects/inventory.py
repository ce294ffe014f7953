"""Read the scripts in sql/ as data: their statements and the objects they create and drop.

A splitter and a header parser, not a SQL validator: it understands quotes, comments and
$$ bodies well enough to find statement boundaries (and to report one left open, with its
line, which snowflake-connector's splitter would silently run to the end of the file),
and reads the `CREATE [OR REPLACE] <TYPE> [IF NOT EXISTS] <name>` header, which sql/
keeps on one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PART = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
NAME = rf"{PART}(?:\.{PART}){{0,2}}"  # up to database.schema.name

# Longest first, so EXTERNAL FUNCTION wins over FUNCTION.
OBJECT_TYPES = (
    "EXTERNAL ACCESS INTEGRATION",
    "NOTIFICATION INTEGRATION",
    "SECURITY INTEGRATION",
    "STORAGE INTEGRATION",
    "API INTEGRATION",
    "EXTERNAL FUNCTION",
    "NETWORK RULE",
    "FILE FORMAT",
    "INTEGRATION",
    "FUNCTION",
    "PROCEDURE",
    "WAREHOUSE",
    "DATABASE",
    "SEQUENCE",
    "SCHEMA",
    "SECRET",
    "STAGE",
    "TABLE",
    "ROLE",
    "USER",
    "VIEW",
    "TASK",
)
ACCOUNT_LEVEL = frozenset(
    {"ROLE", "USER", "WAREHOUSE", "DATABASE"}
    | {t for t in OBJECT_TYPES if "INTEGRATION" in t}
)
_TYPES = "|".join(t.replace(" ", r"\s+") for t in OBJECT_TYPES)
_MODIFIERS = r"(?P<modifiers>(?:(?:SECURE|TEMPORARY|TEMP|TRANSIENT|LOCAL|GLOBAL)\s+)*)"
CREATE_HEADER = re.compile(
    rf"CREATE\s+(?:OR\s+REPLACE\s+)?{_MODIFIERS}(?P<type>{_TYPES})\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{NAME})",
    re.IGNORECASE,
)
DROP_HEADER = re.compile(
    rf"DROP\s+(?P<type>{_TYPES})\s+(?:IF\s+EXISTS\s+)?(?P<name>{NAME})", re.IGNORECASE
)
USE = re.compile(
    rf"USE\s+(?P<what>DATABASE|SCHEMA)\s+(?P<name>{NAME})\s*$", re.IGNORECASE
)
PROPERTY = r"\s*=\s*(?P<value>{value})"


class SqlSyntaxError(ValueError):
    """A script that cannot be split: an unterminated quote, comment or $$ body."""


@dataclass(frozen=True)
class Statement:
    """One statement of a script, without its comments."""

    script: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"sql/{self.script}:{self.line}"


@dataclass
class SqlObject:
    """An object a statement creates (or drops), with the clauses validation reads."""

    kind: str
    name: str
    statement: Statement
    arguments: list[tuple[str, str]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    # TEMPORARY objects vanish with the session: nothing for teardown to drop.
    temporary: bool = False


def normalize(name: str) -> str:
    """Snowflake folds unquoted identifiers to upper case; quoted ones are kept as is."""
    parts = re.findall(PART, name)
    return ".".join(
        part[1:-1].replace('""', '"') if part.startswith('"') else part.upper()
        for part in parts
    )


# What the splitter steps over as a whole: comments (blanked), quoted text and $$ bodies
# (kept); a quote, $$ or /* left open is matched alone and refused; ; ends a statement.
_TOKENS = re.compile(
    r"(?P<comment>--[^\n]*|//[^\n]*|/\*.*?\*/)"
    r"|(?P<kept>\$\$.*?\$\$|'(?:[^'\\]|\\.|'')*'(?!')|\"(?:[^\"]|\"\")*\"(?!\"))"
    r"|(?P<open>/\*|\$\$|'|\")"
    r"|(?P<end>;)",
    re.DOTALL,
)
_OPEN = {"/*": "/* comment", "$$": "$$ body", "'": "' quote", '"': '" quote'}


def split_statements(sql: str, script: str = "<sql>") -> list[Statement]:
    """Split a script at semicolons outside quotes, comments and $$ bodies."""
    statements: list[Statement] = []
    current: list[str] = []
    line, start_line, position = 1, 0, 0

    def text(piece: str) -> None:
        nonlocal start_line
        if not start_line and piece.strip():
            start_line = line + piece[: len(piece) - len(piece.lstrip())].count("\n")
        current.append(piece)

    def flush() -> None:
        nonlocal start_line
        body = "".join(current).strip()
        if body:
            statements.append(Statement(script, start_line, body))
        current.clear()
        start_line = 0

    for token in _TOKENS.finditer(sql):
        text(sql[position : token.start()])
        line += sql.count("\n", position, token.start())
        found = token[0]
        if token["open"]:
            what = _OPEN[found]
            raise SqlSyntaxError(f"sql/{script}:{line}: unterminated {what}")
        if token["comment"]:
            current.append(" ")
        elif token["kept"]:
            text(found)
        else:
            flush()
        line += found.count("\n")
        position = token.end()
    text(sql[position:])
    flush()
    return statements


def _without_bodies(text: str) -> str:
    """The statement with $$ bodies blanked, so clauses are not found inside code."""
    return re.sub(r"\$\$.*?\$\$", "$$ $$", text, flags=re.DOTALL)


def _arguments(text: str, after: int) -> list[tuple[str, str]]:
    """`(name TYPE, ...)` right after the object name, as (NAME, TYPE) pairs."""
    rest = text[after:].lstrip()
    if not rest.startswith("("):
        return []
    depth, inside = 0, ""
    for char in rest:
        depth += (char == "(") - (char == ")")
        inside += char
        if depth == 0:
            break
    pieces, depth, piece = [], 0, ""
    for char in inside[1:-1]:
        if char == "," and depth == 0:
            pieces.append(piece)
            piece = ""
            continue
        depth += (char == "(") - (char == ")")
        piece += char
    pieces.append(piece)
    arguments = []
    for argument in (p.strip() for p in pieces):
        if argument:
            name, _, kind = argument.partition(" ")
            arguments.append((normalize(name), " ".join(kind.split()).upper()))
    return arguments


def _properties(text: str) -> dict[str, str]:
    """The `KEY = value` clauses validation cares about, plus the AS '<url>' target."""
    code = _without_bodies(text)
    found = {}
    for key, value in (
        ("API_INTEGRATION", NAME),
        ("STORAGE_INTEGRATION", NAME),
        ("REQUEST_TRANSLATOR", NAME),
        ("RESPONSE_TRANSLATOR", NAME),
        ("MAX_BATCH_ROWS", r"\d+"),
        ("URL", r"'[^']*'"),
        ("API_PROVIDER", r"[A-Za-z_]+"),
        ("STORAGE_PROVIDER", r"'?[A-Za-z_]+'?"),
    ):
        match = re.search(
            rf"\b{key}" + PROPERTY.format(value=value), code, re.IGNORECASE
        )
        if match:
            found[key] = match["value"].strip("'")
    language = re.search(r"\bLANGUAGE\s+(\w+)", code, re.IGNORECASE)
    if language:
        found["LANGUAGE"] = language[1].upper()
    target = re.search(r"\bAS\s+'([^']*)'\s*$", code, re.IGNORECASE)
    if target:
        found["AS"] = target[1]
    return found


@dataclass
class _Context:
    """The session's current database and schema while a script runs."""

    database: str = ""
    schema: str = ""

    def qualify(self, kind: str, name: str) -> str:
        """database.schema.name for schema objects, database.name for schemas."""
        parts = normalize(name).split(".")
        if kind in ACCOUNT_LEVEL:
            return ".".join(parts)
        scope = [self.database] if kind == "SCHEMA" else [self.database, self.schema]
        prefix = scope[: max(0, len(scope) + 1 - len(parts))]
        if not all(prefix):  # no current database/schema: leave the name as written
            prefix = []
        return ".".join(prefix + parts)

    def follow(self, kind: str, qualified: str) -> None:
        """CREATE DATABASE/SCHEMA and USE make the object current, as in Snowflake."""
        parts = qualified.split(".")
        if kind == "DATABASE":
            self.database, self.schema = parts[0], "PUBLIC"
        elif kind == "SCHEMA":
            if len(parts) > 1:
                self.database = parts[0]
            self.schema = parts[-1]


@dataclass
class Inventory:
    """Everything the scripts in sql/ create and drop, in script order."""

    scripts: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    created: list[SqlObject] = field(default_factory=list)
    dropped: list[SqlObject] = field(default_factory=list)
    unparsed: list[Statement] = field(default_factory=list)


def read_script(inventory: Inventory, script: str, sql: str) -> None:
    """Add one script's objects to the inventory (names qualified as Snowflake would)."""
    context = _Context()
    inventory.scripts.append(script)
    for statement in split_statements(sql, script):
        inventory.statements.append(statement)
        first_line = statement.text.splitlines()[0].strip()
        use = USE.match(statement.text)
        if use:
            kind = use["what"].upper()
            context.follow(kind, context.qualify(kind, use["name"]))
            continue
        for header, objects in (
            (CREATE_HEADER, inventory.created),
            (DROP_HEADER, inventory.dropped),
        ):
            match = header.match(first_line)
            if match:
                kind = " ".join(match["type"].upper().split())
                name = context.qualify(kind, match["name"])
                obj = SqlObject(kind, name, statement)
                if header is CREATE_HEADER:
                    obj.arguments = _arguments(statement.text, match.end())
                    obj.properties = _properties(statement.text)
                    obj.temporary = "TEMP" in match["modifiers"].upper()
                    context.follow(kind, name)
                objects.append(obj)
                break
        else:
            if re.match(r"(CREATE|DROP)\b", statement.text, re.IGNORECASE):
                inventory.unparsed.append(statement)
