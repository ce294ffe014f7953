"""Snowflake external functions, emulated well enough to run the project's own translators.

No Snowflake account exists here, so this plays Snowflake's part of an external function
call, and only that part; everything else is real:

* the function definitions and the translator JavaScript are read from the rendered
  `sql/` folder of a generated project (`CREATE ... EXTERNAL FUNCTION` for the signature,
  MAX_BATCH_ROWS, translators and AS url; `CREATE ... FUNCTION ...(EVENT OBJECT) ...
  LANGUAGE JAVASCRIPT AS $$ ... $$` for the translators);
* rows are split into batches of at most MAX_BATCH_ROWS, each row prefixed with its row
  number inside the batch (0, 1, ...), as Snowflake does;
* the request translator runs in V8 (mini-racer). Its EVENT is written as a JavaScript
  object literal, not JSON, so NaN and +-Infinity arrive as JavaScript numbers. That is
  an ASSUMPTION: Snowflake does not document how FLOAT specials reach a translator (JSON
  numbers cannot hold them; sql/04_translators.sql reads the strings too);
* the translated body is POSTed (`Content-Type: application/json`) to
  `mlflow_url + urlSuffix` — the AS url of the function stands for a gateway that forwards
  every path to the MLflow server, so it is replaced by `mlflow_url`;
* the body is compressed as Snowflake compresses it (see COMPRESSION below) and sent with
  the matching `Content-Encoding` (and `Accept-Encoding`) header;
* only HTTP 200 is success (Snowflake fails the query otherwise), and its body must be
  JSON (an empty body is refused); the response translator then gets
  `{body, translatorData}` and must give back `{"data": [[row_number, value], ...]}`:
  exactly one [row_number, value] per row of the batch, same order (anything else fails
  the query, naming the row);
* arguments are cast to the declared SQL types as Snowflake casts them: NUMBER(p, s)
  rounds half away from zero to s decimals (NUMBER: s = 0), a BOOLEAN as VARCHAR is
  'true' / 'false'.

COMPRESSION, as documented for CREATE EXTERNAL FUNCTION
(https://docs.snowflake.com/en/sql-reference/sql/create-external-function): the values are
NONE, GZIP, DEFLATE and AUTO; the default is AUTO, which is GZIP on AWS and NONE on Azure
and GCP; "when compression is used, Snowflake sets the HTTP headers Content-Encoding and
Accept-Encoding". The cloud is the API_PROVIDER of the API integration the function names,
read from the same sql/ folder. The gateway is modelled as an HTTP proxy that passes the
body and its Content-Encoding through unchanged, so a compressed body reaches MLflow as it
would behind a proxy integration; MLflow's server (3.17, checked) does not decode it
and answers 400 or 500.
A value Snowflake would refuse (another COMPRESSION, an unknown provider, an integration no
script creates) is refused here too.

Retries of 429/5xx, HEADERS/CONTEXT_HEADERS and the 10 MB limit are not emulated.

Example::

    emulator = ExternalFunctionEmulator(project / "sql", mlflow_server.url)
    [experiment] = emulator.call("demo.demo.mlflow_experiment_get_by_name", [["demo-mlops"]])
    [info] = emulator.call(
        "demo.demo.mlflow_run_create",
        [[experiment["experiment_id"], "my-run", 1_700_000_000_000, {"team": "ml"}]],
    )
    emulator.call(
        "demo.demo.mlflow_run_log_metric",
        [[info["run_id"], "rmse", 0.5, 0, None], [info["run_id"], "r2", float("nan"), 0, None]],
    )  # -> one runs/log-batch request; emulator.requests_sent counts HTTP requests
"""

from __future__ import annotations

import gzip
import json
import math
import re
import threading
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from pathlib import Path
from typing import Any

from py_mini_racer import MiniRacer
from snowflake.connector.util_text import split_statements

_NAME = r'[A-Za-z0-9_$."]+'
_JS_FUNCTION = re.compile(
    rf"CREATE\s+(?:OR\s+REPLACE\s+)?(?:SECURE\s+)?FUNCTION\s+(?P<name>{_NAME})\s*"
    r"\(\s*EVENT\s+OBJECT\s*\).*?\bLANGUAGE\s+JAVASCRIPT\b.*?\bAS\s*\$\$(?P<body>.*)\$\$",
    re.IGNORECASE | re.DOTALL,
)
_API_INTEGRATION = re.compile(
    rf"CREATE\s+(?:OR\s+REPLACE\s+)?API\s+INTEGRATION\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_NAME})(?P<clauses>.*)",
    re.IGNORECASE | re.DOTALL,
)
_EXTERNAL_FUNCTION = re.compile(
    rf"CREATE\s+(?:OR\s+REPLACE\s+)?(?:SECURE\s+)?EXTERNAL\s+FUNCTION\s+(?P<name>{_NAME})"
    r"\s*\((?P<args>[^)]*)\)(?P<clauses>.*)\bAS\s+'(?P<url>[^']*)'\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)

# COMPRESSION values CREATE EXTERNAL FUNCTION accepts, and what AUTO means for each
# API_PROVIDER (AWS: GZIP; Azure, GCP: NONE), from the page cited in the docstring.
COMPRESSIONS = ("NONE", "GZIP", "DEFLATE", "AUTO")
AUTO_COMPRESSION = {
    "aws_api_gateway": "GZIP",
    "aws_private_api_gateway": "GZIP",
    "aws_gov_api_gateway": "GZIP",
    "aws_gov_private_api_gateway": "GZIP",
    "azure_api_management": "NONE",
    "google_api_gateway": "NONE",
}
CONTENT_ENCODINGS = {"GZIP": "gzip", "DEFLATE": "deflate"}


class ExternalFunctionError(RuntimeError):
    """What fails the SQL statement in Snowflake: a translator error or a non-200 answer."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ExternalFunction:
    """One `CREATE EXTERNAL FUNCTION` of sql/, as far as calling it is concerned."""

    name: str
    arguments: list[tuple[str, str]]
    max_batch_rows: int | None
    request_translator: str | None
    response_translator: str | None
    url: str
    api_integration: str | None = None
    # As written; AUTO (Snowflake's default) when the statement has no COMPRESSION clause.
    compression: str = "AUTO"


@dataclass(frozen=True)
class SentRequest:
    """One HTTP request the emulator made (for tests that count or inspect them)."""

    function: str
    url: str
    body: Any  # as the translator made it, before compression
    status: int
    content_encoding: str | None = None  # the Content-Encoding header sent, if any


def _key(name: str) -> str:
    """Snowflake folds unquoted identifiers to upper case."""
    return name.replace('"', "").upper()


def read_sql_folder(sql_dir: Path) -> tuple[dict, dict, dict]:
    """(external functions, translator bodies, API_PROVIDER of each API integration)
    defined by the scripts in sql_dir."""
    functions: dict[str, ExternalFunction] = {}
    translators: dict[str, str] = {}
    providers: dict[str, str] = {}
    for script in sorted(Path(sql_dir).glob("*.sql")):
        text = script.read_text(encoding="utf-8")
        for statement, _ in split_statements(StringIO(text), remove_comments=True):
            javascript = _JS_FUNCTION.match(statement)
            if javascript:
                translators[_key(javascript["name"])] = javascript["body"]
                continue
            external = _EXTERNAL_FUNCTION.match(statement)
            if external:
                function = _external_function(external)
                functions[_key(function.name)] = function
                continue
            integration = _API_INTEGRATION.match(statement)
            if integration:
                provider = re.search(
                    r"\bAPI_PROVIDER\s*=\s*'?(\w+)'?", integration["clauses"], re.I
                )
                providers[_key(integration["name"])] = provider[1] if provider else ""
    return functions, translators, providers


def _external_function(match: re.Match) -> ExternalFunction:
    clauses = match["clauses"]

    def clause(key: str, value: str) -> str | None:
        found = re.search(rf"\b{key}\s*=\s*({value})", clauses, re.IGNORECASE)
        return found[1] if found else None

    arguments = []
    for argument in match["args"].split(","):
        if argument.strip():
            name, kind = argument.split()
            arguments.append((name.upper(), kind.upper()))
    rows = clause("MAX_BATCH_ROWS", r"\d+")
    compression = clause("COMPRESSION", r"'[^']*'|\"[^\"]*\"|\w+")
    return ExternalFunction(
        name=match["name"],
        arguments=arguments,
        max_batch_rows=int(rows) if rows else None,
        request_translator=clause("REQUEST_TRANSLATOR", _NAME),
        response_translator=clause("RESPONSE_TRANSLATOR", _NAME),
        url=match["url"],
        api_integration=clause("API_INTEGRATION", _NAME),
        compression=compression.strip("'\"") if compression else "AUTO",
    )


def _js_number(number: float | int) -> str:
    if isinstance(number, float) and math.isnan(number):
        return "NaN"
    if isinstance(number, float) and math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def js_literal(value: Any) -> str:
    """A JavaScript expression for a Python value; unlike JSON it keeps NaN and +-Infinity."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float, Decimal)):
        return _js_number(value if isinstance(value, int) else float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {js_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(js_literal(item) for item in value) + "]"
    raise TypeError(f"cannot pass a {type(value).__name__} to an external function")


def _as_sql_type(value: Any, sql_type: str, where: str) -> Any:
    """Cast an argument like Snowflake would for the declared type (NULL stays NULL)."""
    if value is None:
        return None
    base = sql_type.split("(", maxsplit=1)[0]
    if base in ("FLOAT", "DOUBLE", "REAL", "FLOAT8"):
        return float(value)
    if base in ("NUMBER", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC"):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ExternalFunctionError(f"{where}: {value!r} is not a {sql_type}")
        # NUMBER(p, s) keeps s decimals (NUMBER, INT...: 0), rounding half away from
        # zero as Snowflake does (ROUND_HALF_UP is away from zero in Decimal).
        scale = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", sql_type)
        places = int(scale[1]) if scale else 0
        rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return int(rounded) if places == 0 else rounded
    if base in ("VARCHAR", "STRING", "TEXT"):
        if isinstance(value, bool):
            return "true" if value else "false"  # Snowflake's BOOLEAN as text
        return value if isinstance(value, str) else str(value)
    return value  # VARIANT, OBJECT, ARRAY: passed as they are


@dataclass
class ExternalFunctionEmulator:
    """Calls the external functions of a rendered sql/ folder against a real MLflow server."""

    sql_dir: Path
    mlflow_url: str
    timeout: float = 30.0
    sent: list[SentRequest] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.functions, self._translator_bodies, self.api_providers = read_sql_folder(
            Path(self.sql_dir)
        )
        if not self.functions:
            raise ValueError(f"no CREATE EXTERNAL FUNCTION found in {self.sql_dir}")
        self._js = MiniRacer()
        self._js_names: dict[str, str] = {}
        # One V8 context is not thread-safe; Snowpark may call from several threads.
        self._lock = threading.Lock()

    @property
    def requests_sent(self) -> int:
        return len(self.sent)

    def function(self, name: str) -> ExternalFunction:
        """The definition of `name`: qualified (db.schema.fn) or bare, any case."""
        key = _key(name)
        if key in self.functions:
            return self.functions[key]
        bare = [f for k, f in self.functions.items() if k.rsplit(".", 1)[-1] == key]
        if len(bare) == 1:
            return bare[0]
        known = ", ".join(sorted(f.name for f in self.functions.values()))
        raise KeyError(f"external function {name!r} is not in {self.sql_dir}: {known}")

    def call(self, function_name: str, rows: list[list[Any]]) -> list[Any]:
        """Call the function once per row (arguments only); one decoded VARIANT per row."""
        function = self.function(function_name)
        rows = [self._typed_row(function, row, index) for index, row in enumerate(rows)]
        size = function.max_batch_rows or max(len(rows), 1)
        results: list[Any] = []
        for start in range(0, len(rows), size):
            results.extend(self.call_batch(function_name, rows[start : start + size]))
        return results

    def call_batch(self, function_name: str, rows: list[list[Any]]) -> list[Any]:
        """Send these rows as ONE batch, ignoring MAX_BATCH_ROWS (to test the limits)."""
        function = self.function(function_name)
        data = [[number, *row] for number, row in enumerate(rows)]
        event = {
            "body": {"data": data},
            "serviceUrl": function.url,
            "contextHeaders": {},
        }
        with self._lock:
            if function.request_translator:
                request = self._translate(function, function.request_translator, event)
            else:
                request = {"body": {"data": data}}
            url = self.mlflow_url.rstrip("/") + request.get("urlSuffix", "")
            status, text = self._post(function, url, request.get("body"))
            try:
                # Snowflake parses the body as JSON: an empty one is not JSON either.
                answer = json.loads(text)
            except json.JSONDecodeError as error:
                raise ExternalFunctionError(
                    f"{function.name}: the remote service answered with non-JSON: {error}",
                    status,
                    text,
                ) from None
            if function.response_translator:
                response_event = {
                    "body": answer,
                    "translatorData": request.get("translatorData"),
                }
                answer = self._translate(
                    function, function.response_translator, response_event
                )["body"]
        return self._rows_of(function, answer, [row[0] for row in data])

    def _typed_row(self, function: ExternalFunction, row: Any, index: int) -> list:
        where = f"{function.name} row {index}"
        if len(row) != len(function.arguments):
            expected = ", ".join(f"{n} {t}" for n, t in function.arguments)
            raise TypeError(f"{where}: got {len(row)} arguments, expected ({expected})")
        return [
            _as_sql_type(value, kind, f"{where} {name}")
            for value, (name, kind) in zip(row, function.arguments, strict=True)
        ]

    def _translate(
        self, function: ExternalFunction, translator: str, event: dict
    ) -> dict:
        """Run a translator UDF on EVENT in V8; the result as Snowflake would read it."""
        js_name = self._compiled(translator)
        try:
            text = self._js.eval(f"JSON.stringify({js_name}({js_literal(event)}))")
        except Exception as error:  # noqa: BLE001 (a JS throw; its message is the error)
            thrown = re.sub(r"^<anonymous>:\d+: ", "", str(error).splitlines()[0])
            raise ExternalFunctionError(
                f"{function.name}: translator {translator} failed: {thrown}"
            ) from None
        result = json.loads(text) if isinstance(text, str) else None
        if not isinstance(result, dict) or "body" not in result:
            raise ExternalFunctionError(
                f"{function.name}: translator {translator} must return an OBJECT with a "
                f"body, returned {text!r}"
            )
        return result

    def _compiled(self, translator: str) -> str:
        key = _key(translator)
        if key not in self._js_names:
            if key not in self._translator_bodies:
                raise ExternalFunctionError(
                    f"translator {translator} is not created by any script in {self.sql_dir}"
                )
            js_name = f"translator_{len(self._js_names)}"
            # A Snowflake JavaScript UDF body is a function body; arguments are upper case.
            self._js.eval(
                f"var {js_name} = function (EVENT) {{\n{self._translator_bodies[key]}\n}};"
            )
            self._js_names[key] = js_name
        return self._js_names[key]

    def compression(self, function: ExternalFunction) -> str:
        """NONE, GZIP or DEFLATE: what Snowflake does to this function's request body."""
        written = function.compression.upper()
        if written not in COMPRESSIONS:
            raise ExternalFunctionError(
                f"{function.name}: COMPRESSION = {function.compression} is not one of "
                f"{', '.join(COMPRESSIONS)}; Snowflake refuses the CREATE EXTERNAL FUNCTION"
            )
        if written != "AUTO":
            return written
        integration = _key(function.api_integration or "")
        if integration not in self.api_providers:
            raise ExternalFunctionError(
                f"{function.name}: API_INTEGRATION {function.api_integration} is not "
                f"created by any script in {self.sql_dir}"
            )
        provider = self.api_providers[integration].lower()
        if provider not in AUTO_COMPRESSION:
            raise ExternalFunctionError(
                f"{function.name}: API_PROVIDER {provider!r} of {integration} is not one "
                f"Snowflake knows for external functions: {', '.join(AUTO_COMPRESSION)}"
            )
        return AUTO_COMPRESSION[provider]

    def _post(self, function: ExternalFunction, url: str, body: Any) -> tuple[int, str]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        compression = self.compression(function)
        encoding = CONTENT_ENCODINGS.get(compression)
        if encoding:
            data = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
            headers["Content-Encoding"] = headers["Accept-Encoding"] = encoding
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
                answer_encoding = response.headers.get("Content-Encoding")
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
            answer_encoding = error.headers.get("Content-Encoding")
        if answer_encoding == "gzip":
            raw = gzip.decompress(raw)
        elif answer_encoding == "deflate":
            raw = zlib.decompress(raw)
        text = raw.decode("utf-8", "replace")
        self.sent.append(SentRequest(function.name, url, body, status, encoding))
        if status != 200:
            raise ExternalFunctionError(
                f"{function.name}: {url} answered HTTP {status}: {text[:2000]}",
                status,
                text,
            )
        return status, text

    def _rows_of(self, function: ExternalFunction, answer: Any, numbers: list) -> list:
        """Snowflake's checks on a response: `data` holds exactly one
        [row_number, value] per row of the batch, same order."""
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list):
            raise ExternalFunctionError(
                f'{function.name}: the response must be a JSON object whose "data" is '
                f"an array of the batch's rows {numbers}, got {answer!r:.200}"
            )
        for index, row in enumerate(data):
            if (
                not isinstance(row, list)
                or len(row) != 2  # noqa: PLR2004
                or not isinstance(row[0], int)
                or isinstance(row[0], bool)
            ):
                raise ExternalFunctionError(
                    f"{function.name}: response row {index} must be "
                    f"[row_number, value], got {row!r:.200}"
                )
        got = [row[0] for row in data]
        if got != numbers:
            raise ExternalFunctionError(
                f"{function.name}: the response must hold rows {numbers} in order, got {got}"
            )
        return [row[1] for row in data]
