"""Run by `kedro snowflake run --local` in the process that plays Snowflake (the file
named by KEDRO_SNOWFLAKE_MLOPS_LOCAL_PATCHES), before the first task. Standard library
and Snowpark only: that process sees nothing else.

What it emulates, chosen by environment variables the test sets:
- BRIDGE_URL, BRIDGE_FUNCTIONS (JSON {name: number of arguments}): each external function
  sends its rows to the test's ExternalFunctionBridge (translators in V8, real MLflow);
- SECRET_VALUE, SECRET_NAMES (JSON list), SECRET_LOG:
  `snowflake.snowpark.secrets.get_generic_secret_string`, which raises outside
  Snowflake, returns SECRET_VALUE for the names in SECRET_NAMES and notes each name
  asked for in SECRET_LOG. Any other name raises ValueError: in Snowflake only the keys
  of the procedure's SECRETS clause resolve, so the test passes the plan's secret keys
  (snowflake.deploy.secrets) and nothing else;
- STAGE_EXPORT: what COPY FILES puts on a stage is also copied to this folder, so the
  test can compare the artifacts with the files the pipeline wrote.
"""

import json
import os
import urllib.error
import urllib.request

import snowflake.snowpark.secrets
from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._functions import ColumnEmulator, ColumnType
from snowflake.snowpark.types import VariantType

session = globals()["session"]  # given by the runner


def _plain(value):
    return (
        value.item()
        if hasattr(value, "item") and not isinstance(value, dict)
        else value
    )


def _forward(function, *columns):
    rows = [[_plain(v) for v in row] for row in zip(*columns, strict=True)]
    request = urllib.request.Request(
        os.environ["BRIDGE_URL"],
        data=json.dumps({"function": function, "rows": rows}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            results = json.loads(response.read())["results"]
    except urllib.error.HTTPError as error:
        raise RuntimeError(json.loads(error.read())["error"]) from None
    return ColumnEmulator(results, sf_type=ColumnType(VariantType(), True))


def _implementation(function, arguments):
    if arguments == 1:

        def one(a: ColumnEmulator) -> ColumnEmulator:
            return _forward(function, a)

        return one
    if arguments == 3:  # noqa: PLR2004

        def three(
            a: ColumnEmulator, b: ColumnEmulator, c: ColumnEmulator
        ) -> ColumnEmulator:
            return _forward(function, a, b, c)

        return three
    if arguments == 4:  # noqa: PLR2004

        def four(
            a: ColumnEmulator, b: ColumnEmulator, c: ColumnEmulator, d: ColumnEmulator
        ) -> ColumnEmulator:
            return _forward(function, a, b, c, d)

        return four

    def five(
        a: ColumnEmulator,
        b: ColumnEmulator,
        c: ColumnEmulator,
        d: ColumnEmulator,
        e: ColumnEmulator,
    ) -> ColumnEmulator:
        return _forward(function, a, b, c, d, e)

    return five


if os.environ.get("BRIDGE_URL"):
    for name, arguments in json.loads(os.environ["BRIDGE_FUNCTIONS"]).items():
        patch(name.lower())(_implementation(name, arguments))

if os.environ.get("SECRET_VALUE"):
    secret_names = json.loads(os.environ["SECRET_NAMES"])

    def get_generic_secret_string(name):
        with open(os.environ["SECRET_LOG"], "a", encoding="utf-8") as log:
            log.write(name + "\n")
        if name not in secret_names:
            raise ValueError(
                f"secret {name!r} is not in the procedure's SECRETS clause "
                f"(its keys: {', '.join(secret_names) or 'none'})"
            )
        return os.environ["SECRET_VALUE"]

    snowflake.snowpark.secrets.get_generic_secret_string = get_generic_secret_string

if os.environ.get("STAGE_EXPORT"):
    copy_files = session.file.copy_files

    def copy_and_export(source, target, **kwargs):
        copied = copy_files(source, target, **kwargs)
        folder = os.path.join(
            os.environ["STAGE_EXPORT"], target.strip("/").split("/", 1)[-1]
        )
        os.makedirs(folder, exist_ok=True)
        session.file.get(target, folder)
        return copied

    session.file.copy_files = copy_and_export
