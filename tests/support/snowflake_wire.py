"""Snowflake's side of the wire, for code that talks to a real account.

There is no Snowflake account here. Rather than a fake connection object (which accepts
whatever it is handed), the REAL snowflake-connector runs: its login, cursors, qmark
binding and result parsing. Only `SnowflakeRestful.fetch`, the one method that sends an
HTTP request, is replaced by `FakeSnowflakeServer.fetch`, which answers as Snowflake's
REST API does: `/session/v1/login-request`, `/queries/v1/query-request` with the SQL
text and its server-side bindings, and session deletion.

The server holds what Snowflake would hold for the tests (SHOW rows per object kind, the
grants of each role, integrations) and, like Snowflake, refuses what it cannot compile:
a `%s` or `%(name)s` placeholder (Snowpark's connection uses the qmark style, so those
reach the server as text), or a number of `?` that differs from the bindings. It also
refuses a `?` in SHOW: the docs give SHOW's LIKE pattern only as a string literal, and a
connector issue (snowflake-connector-nodejs#387) reports `SHOW ... LIKE ?` failing, so
the plugin must not rely on it (it sends SHOW without LIKE and filters the rows).

PUT is answered as Snowflake answers it, with Snowflake's defaults for what the
statement does not say (AUTO_COMPRESS = TRUE: the connector gzips the file and the stage
holds <name>.gz; OVERWRITE = FALSE); the stage is a local folder (LOCAL_FS) and
SOURCE_COMPRESSION is always answered as none.

    server = FakeSnowflakeServer(objects={"ROLES": [{"name": "MY_ROLE"}]})
    with server.serving():
        session = Session.builder.configs({...}).create()   # or connector.connect(...)
        ...
    server.queries  # [(sql text, [bound values])]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from snowflake.connector.network import SnowflakeRestful

from .throwaway import throwaway_secret

Rows = list[dict[str, Any]]


class SqlError(Exception):
    """What Snowflake answers for a statement it refuses (a SQL compilation error)."""


def like(pattern: str, value: str) -> bool:
    """Snowflake's case-insensitive LIKE of SHOW commands (`_` and `%` are wildcards)."""
    regex = "".join(
        ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, re.IGNORECASE) is not None


# What the SQL parser skips when it looks for bind variables: string literals (with ''
# and backslash escapes), quoted identifiers, $$ bodies and comments.
_NOT_CODE = re.compile(
    r"\$\$.*?\$\$|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|//[^\n]*|/\*.*?\*/",
    re.DOTALL,
)


def _code(sql: str) -> str:
    """The statement without literals, quoted names, $$ bodies and comments."""
    return _NOT_CODE.sub(" ", sql)


def identifier(text: str) -> str:
    """An identifier as Snowflake resolves it: quoted kept as is, unquoted upper case."""
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        return text[1:-1].replace('""', '"')
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", text):
        raise SqlError(f"SQL compilation error: syntax error near {text!r}")
    return text.upper()


@dataclass
class FakeSnowflakeServer:
    """Answers a statement with `on_statement`'s rows when it gives any (None: not its
    statement); else SHOW <kind> [LIKE '<literal>'] [IN ...] and SHOW GRANTS TO ROLE
    <identifier> from `objects` and `grants`; anything else "Statement executed
    successfully."."""

    # "ROLES", "WAREHOUSES", "FUNCTIONS", "INTEGRATIONS", ... -> rows as SHOW gives them
    objects: dict[str, Rows] = field(default_factory=dict)
    # role name -> rows of SHOW GRANTS TO ROLE
    grants: dict[str, Rows] = field(default_factory=dict)
    on_statement: Callable[[str, list[Any]], Rows | None] | None = None
    queries: list[tuple[str, list[Any]]] = field(default_factory=list)
    # PUT: the files land in <stage_root>/<stage location> (the connector's own local
    # file-system storage client copies them, as it would upload them to a cloud stage).
    stage_root: Path | None = None

    @contextmanager
    def serving(self) -> Iterator[FakeSnowflakeServer]:
        """Route every HTTP request of snowflake-connector here while inside."""
        server = self

        def fetch(restful, method, full_url, headers, data=None, **kwargs):
            del restful, method, headers, kwargs
            return server.fetch(full_url, data)

        with mock.patch.object(SnowflakeRestful, "fetch", fetch):
            yield self

    def fetch(self, url: str, data: Any) -> dict[str, Any]:
        body = json.loads(data) if isinstance(data, str | bytes) and data else {}
        if "/session/v1/login-request" in url:
            return {
                "success": True,
                "data": {
                    # Session tokens the connector sends back; random, never real.
                    "token": throwaway_secret("session"),
                    "masterToken": throwaway_secret("master"),
                    "validityInSeconds": 3600,
                    "masterValidityInSeconds": 14400,
                    "sessionId": 1,
                    "parameters": [],
                    "sessionInfo": {"roleName": "PUBLIC"},
                },
            }
        if "/queries/v1/query-request" in url:
            if body["sqlText"].lstrip().upper().startswith("PUT "):
                return self._put(body["sqlText"])
            return self._query(body["sqlText"], body.get("bindings") or {})
        return {"success": True, "data": {}}

    def _query(self, sql: str, bindings: dict[str, dict]) -> dict[str, Any]:
        values = [bindings[key]["value"] for key in sorted(bindings, key=int)]
        self.queries.append((sql, values))
        try:
            rows = self.answer(sql, values)
        except SqlError as error:
            return {
                "success": False,
                "code": "001003",
                "message": str(error),
                "data": {"queryId": "fake-query", "sqlState": "42000"},
            }
        return {"success": True, "data": _result(rows)}

    def _put(self, sql: str) -> dict[str, Any]:
        """What Snowflake answers to PUT: where to upload (here a local folder)."""
        self.queries.append((sql, []))
        match = re.fullmatch(
            r"PUT\s+'file://(?P<source>[^']+)'\s+'?(?P<stage>@[^'\s]+?)/?'?(?P<options>\s.*)?",
            sql.strip(),
            re.IGNORECASE | re.DOTALL,
        )
        if match is None or self.stage_root is None:
            return {
                "success": False,
                "code": "001003",
                "message": f"SQL compilation error: cannot PUT here: {sql[:80]}",
                "data": {"queryId": "fake-query", "sqlState": "42000"},
            }
        target = self.stage_root / match["stage"].lstrip("@")
        target.mkdir(parents=True, exist_ok=True)
        return {
            "success": True,
            "data": {
                "queryId": "fake-put",
                "command": "UPLOAD",
                "src_locations": [match["source"]],
                "parallel": 1,
                # Snowflake's PUT defaults: OVERWRITE = FALSE, AUTO_COMPRESS = TRUE
                # (the connector gzips the file then, and the stage holds <name>.gz).
                "overwrite": _option(sql, "OVERWRITE", default=False),
                "autoCompress": _option(sql, "AUTO_COMPRESS", default=True),
                "sourceCompression": "none",
                "encryptionMaterial": None,
                "stageInfo": {
                    "locationType": "LOCAL_FS",
                    "location": str(target),
                    "path": "",
                    "region": None,
                    "endPoint": None,
                    "creds": {},
                    "isClientSideEncrypted": False,
                },
            },
        }

    def answer(self, sql: str, values: list[Any]) -> Rows:
        """What Snowflake would return for one statement."""
        code = _code(sql)
        if re.search(r"%s|%\(\w+\)s", code):
            raise SqlError(
                "SQL compilation error: syntax error line 1 unexpected '%'. "
                "(a pyformat placeholder sent to a qmark connection)"
            )
        if code.count("?") != len(values):
            raise SqlError(
                f"SQL compilation error: {code.count('?')} bind variables, "
                f"{len(values)} values bound"
            )
        if re.match(r"\s*SHOW\b", code, re.IGNORECASE) and "?" in code:
            raise SqlError(
                "SQL compilation error: syntax error unexpected '?' (SHOW takes no "
                "bind variable in the docs)"
            )
        if self.on_statement is not None:
            rows = self.on_statement(sql, values)
            if rows is not None:
                return rows
        grants = re.fullmatch(r"SHOW GRANTS TO ROLE (\S+)", sql.strip(), re.IGNORECASE)
        if grants:
            return self.grants.get(identifier(grants[1]), [])
        show = re.fullmatch(
            r"SHOW (?:USER )?(\w+(?: \w+)?)"
            r"(?: LIKE '([^']*)')?(?: IN (?:ACCOUNT|(?:SCHEMA|DATABASE) [\w.]+))?",
            sql.strip(),
            re.IGNORECASE,
        )
        if show:
            rows = self.objects.get(show[1].upper(), [])
            return [row for row in rows if like(show[2] or "%", str(row["name"]))]
        return [{"status": "Statement executed successfully."}]


def _option(sql: str, name: str, *, default: bool) -> bool:
    """A boolean option of a statement (`NAME = TRUE|FALSE`, any case and spacing)."""
    match = re.search(rf"\b{name}\s*=\s*(TRUE|FALSE)\b", _code(sql), re.IGNORECASE)
    return default if match is None else match[1].upper() == "TRUE"


def _result(rows: Rows) -> dict[str, Any]:
    """A JSON result set as Snowflake's query-request answers it (text columns)."""
    columns = list(dict.fromkeys(key for row in rows for key in row)) or ["status"]
    rowtype = [
        {
            "name": column,
            "type": "text",
            "nullable": True,
            "length": 16777216,
            "byteLength": 16777216,
            "precision": None,
            "scale": None,
            "collation": None,
        }
        for column in columns
    ]
    rowset = [
        [None if row.get(column) is None else str(row[column]) for column in columns]
        for row in rows
    ]
    return {
        "queryId": "fake-query",
        "rowtype": rowtype,
        "rowset": rowset,
        "total": len(rowset),
        "returned": len(rowset),
        "queryResultFormat": "json",
        "parameters": [],
    }
