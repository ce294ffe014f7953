"""The `snowflake.mlflow` block of conf/<env>/snowflake.yml, validated by one schema.

The five function names and the stage are required (sql/ creates them); the other keys are
optional and default to the offline setup: the MLflow client writing to `mlflow.db` in
the project, and a warning (not a failed run) when MLflow cannot be reached.
`artifact_staging_stage` (an internal stage) is only needed by `external_functions`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..conf import (
    QUALIFIED_NAME,
    UNQUOTED_IDENTIFIER,
    ConfigError,
    FieldProblem,
    field_problems,
    without_credentials,
)
from .contract import FUNCTION_KEYS

# @name, @schema.name or @db.schema.name, optionally followed by a /path. The location
# becomes text of PUT and COPY FILES statements (they take no bind variables), so the
# path may only hold characters that cannot end or change the statement.
STAGE_NAME = (
    "^@"
    + rf"(?:{UNQUOTED_IDENTIFIER}\.)?" * 2
    + UNQUOTED_IDENTIFIER
    + "(?:/[A-Za-z0-9._/-]*)?$"
)


# How to fix each key, shown under the error (the value and the rule come from pydantic).
_FIXES = {
    "experiment_name": "set the MLflow experiment name, e.g. demo-mlops",
    "stage": "use the stage created by sql/, e.g. @DEMO.DEMO.MLFLOW_STAGE",
    "artifact_staging_stage": (
        "use the project's internal stage created by sql/02, e.g. "
        "@DEMO.DEMO.DEMO_DATA_STAGE (PUT uploads there, COPY FILES moves the files on "
        "to the external MLflow stage)"
    ),
    "functions": f"list exactly these five keys: {', '.join(FUNCTION_KEYS)}",
    "transport": (
        "use `direct` (MLflow client, offline default), `external_functions` or "
        "`external_access` (inside a Snowflake procedure, see sql/80)"
    ),
    "tracking_uri": (
        "use e.g. sqlite:///mlflow.db (a file in the project) or "
        "http://127.0.0.1:5000 (an MLflow server); with transport external_access, the "
        "https address of your MLflow server (sql/80's network rule allows its host on "
        "port 443)"
    ),
    "on_failure": "use `warn` (keep running) or `fail` (stop the run)",
    "create_experiment": "use true or false",
    "retry": "set attempts (1-10), backoff_seconds and max_backoff_seconds",
    "timeout_seconds": "use a number of seconds between 1 and 600",
}


# What the MLflow client can track to (a `+driver` suffix is allowed: postgresql+psycopg2).
TRACKING_URI_SCHEMES = (
    "sqlite",
    "http",
    "https",
    "file",
    "postgresql",
    "mysql",
    "mssql",
    "databricks",
)
# sqlite:///<path>[?options], also with a driver: sqlite+pysqlite:///<path>
_SQLITE = re.compile(r"^(?P<prefix>sqlite(?:\+\w+)?:///)(?P<path>[^?]*)")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9.-]*)(?:\+[A-Za-z0-9_.-]+)?:")


def sqlite_path(tracking_uri: str) -> str | None:
    """The database path of a `sqlite:///<path>[?options]` URI, as written; None for
    other URIs and for an in-memory database."""
    found = _SQLITE.match(tracking_uri)
    if not found or found["path"] in ("", ":memory:"):
        return None
    return found["path"]


def tracking_uri_problem(uri: str) -> str | None:
    """Why the MLflow client could not use `uri` (checked here, before any run starts,
    so that a typo is not found half-way through a pipeline), or None."""
    if uri == "databricks":  # the Databricks workspace of the default profile
        return None
    found = _SCHEME.match(uri)
    scheme = found["scheme"].lower() if found else None
    if scheme not in TRACKING_URI_SCHEMES or any(char.isspace() for char in uri):
        return "must be a URI without spaces whose scheme is one of " + ", ".join(
            TRACKING_URI_SCHEMES
        )
    if scheme == "sqlite" and not re.match(r"^sqlite(\+\w+)?:///.+", uri):
        return (
            "must name a database file: sqlite:///<path> (three slashes, then a path)"
        )
    if scheme in ("http", "https") and not urlsplit(uri).hostname:
        return f"must name a host: {scheme}://<host>[:<port>]"
    return None


class MlflowConfigError(ConfigError):
    """The `snowflake.mlflow` block is missing or invalid; the message names each key."""


class FunctionNames(BaseModel):
    """The five external functions, fully qualified (database.schema.function)."""

    model_config = ConfigDict(extra="forbid")

    experiment_get_by_name: str = Field(pattern=QUALIFIED_NAME)
    run_create: str = Field(pattern=QUALIFIED_NAME)
    run_update: str = Field(pattern=QUALIFIED_NAME)
    run_log_metric: str = Field(pattern=QUALIFIED_NAME)
    run_log_parameter: str = Field(pattern=QUALIFIED_NAME)


class RetrySettings(BaseModel):
    """Retries of transient faults (unreachable, 429, 5xx, time-outs), with backoff."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    max_backoff_seconds: float = Field(default=8.0, ge=0, le=300)

    def delays(self) -> list[float]:
        """Seconds to wait before attempt 2, 3, ...: doubling, capped."""
        return [
            min(self.backoff_seconds * 2**attempt, self.max_backoff_seconds)
            for attempt in range(self.attempts - 1)
        ]


class MlflowConfig(BaseModel):
    """`snowflake.mlflow`: where and how each `kedro run` is tracked."""

    model_config = ConfigDict(extra="forbid")

    # MLflow's SQL stores keep experiment names in a 256-character column.
    experiment_name: str = Field(min_length=1, max_length=256)
    stage: str = Field(pattern=STAGE_NAME)
    functions: FunctionNames
    transport: Literal["direct", "external_functions", "external_access"] = "direct"
    # PUT only uploads to internal stages and `stage` is external (MLflow's artifact
    # store): external functions PUT artifacts here, then COPY FILES them to `stage`.
    # Declared after `transport`, which its check reads; validated even when left out.
    artifact_staging_stage: str | None = Field(
        default=None, pattern=STAGE_NAME, validate_default=True
    )
    tracking_uri: str = Field(default="sqlite:///mlflow.db", min_length=1)
    on_failure: Literal["warn", "fail"] = "warn"
    # None: the direct transport creates a missing experiment, external functions cannot
    # (none of the five functions creates experiments).
    create_experiment: bool | None = None
    retry: RetrySettings = RetrySettings()
    timeout_seconds: float = Field(default=30.0, ge=1, le=600)

    @field_validator("experiment_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("tracking_uri")
    @classmethod
    def _usable_uri(cls, value: str, info) -> str:
        problem = tracking_uri_problem(value)
        if problem:
            raise ValueError(problem)
        # Inside Snowflake the client goes out through sql/80's network rule (port 443);
        # a server on this machine is what `kedro snowflake run --local` can use.
        loopback = value.startswith(("http://127.0.0.1", "http://localhost"))
        wanted_https = info.data.get("transport") == "external_access"
        if wanted_https and not (value.startswith("https://") or loopback):
            raise ValueError("must be an https URI with transport external_access")
        return value

    @field_validator("artifact_staging_stage")
    @classmethod
    def _internal_staging(cls, value: str | None, info) -> str | None:
        if value is None:
            if info.data.get("transport") == "external_functions":
                raise ValueError(
                    "is required with transport external_functions (PUT cannot upload "
                    "to the external MLflow stage)"
                )
            return value
        if _stage_of(value) == _stage_of(info.data.get("stage") or ""):
            raise ValueError(
                "must be an internal stage, not snowflake.mlflow.stage (an external "
                "stage: PUT cannot upload to it)"
            )
        return value

    @field_validator("create_experiment")
    @classmethod
    def _creatable(cls, value: bool | None, info) -> bool | None:
        if value and info.data.get("transport") == "external_functions":
            raise ValueError(
                "external functions cannot create experiments; create it once with "
                "`mlflow experiments create --experiment-name <name>` against your "
                "MLflow server, then set create_experiment: false"
            )
        return value

    @property
    def creates_experiment(self) -> bool:
        if self.create_experiment is None:
            return self.transport == "direct"
        return self.create_experiment

    def resolved_tracking_uri(self, project_path: Path) -> str:
        """A relative sqlite path is relative to the project root, not the shell's cwd."""
        database = sqlite_path(self.tracking_uri)
        if database is None or database.startswith("/"):
            return self.tracking_uri
        prefix = _SQLITE.match(self.tracking_uri)["prefix"]
        options = self.tracking_uri[len(prefix) + len(database) :]
        return f"{prefix}{(project_path / database).resolve()}{options}"


def _stage_of(location: str) -> str:
    """`@DB.SCH.NAME/some/path` -> `DB.SCH.NAME` (unquoted names are case-insensitive)."""
    return location.lstrip("@").split("/", 1)[0].upper()


def _describe(problem: FieldProblem) -> str:
    if problem.kind == "extra_forbidden":
        # Not its value: a key nobody reads may well hold a token pasted in the wrong place.
        what = f"is not a known key{problem.suggestion}"
        known = ", ".join(problem.known)
        fix = f"remove it or correct its name; the keys here are {known}"
    else:
        if problem.kind == "missing":
            what = "is missing"
        else:
            what = f"{problem.rule} (got {problem.value!r})"
        fix = _FIXES.get(problem.top, "see conf/base/snowflake.yml")
    return without_credentials(f"{problem.key} {what}; fix: {fix}")


def load_mlflow_config(snowflake_block: dict[str, Any] | None) -> MlflowConfig:
    """Validate `snowflake.mlflow` from the merged `snowflake:` block of the config."""
    block = (snowflake_block or {}).get("mlflow")
    if not isinstance(block, dict):
        raise MlflowConfigError(
            "snowflake.mlflow is missing or not a mapping (got "
            f"{block!r}); fix: add the mlflow block to conf/base/snowflake.yml"
        )
    try:
        return MlflowConfig.model_validate(block)
    except ValidationError as error:
        problems = field_problems(error.errors(), "snowflake.mlflow", MlflowConfig)
        lines = [_describe(problem) for problem in problems]
        raise MlflowConfigError("\n".join(lines)) from None
