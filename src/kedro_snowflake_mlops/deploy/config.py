"""The `snowflake.deploy` block of conf/<env>/snowflake.yml, validated by one schema.

Every object `kedro snowflake deploy` creates is named here (the template computes the
names from the answers). Names go into SQL text (CREATE PROCEDURE / CREATE TASK take no
bind variables), so each one must be a plain unquoted identifier: it can then never end
or change a statement.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..conf import (
    QUALIFIED_NAME,
    UNQUOTED_IDENTIFIER,
    ConfigError,
    FieldProblem,
    field_problems,
)

IDENTIFIER = f"^{UNQUOTED_IDENTIFIER}$"
# A stage and a folder in it: @DB.SCHEMA.STAGE or @DB.SCHEMA.STAGE/some/folder.
STAGE_LOCATION = (
    "^@" + r"\.".join([UNQUOTED_IDENTIFIER] * 3) + r"(?:/[A-Za-z0-9_.-]+)*/?$"
)
# A conda package of Snowflake's channel, optionally pinned: pandas, pandas==2.2.3,
# scikit-learn>=1.4. PACKAGES takes them as string literals.
PACKAGE_SPEC = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:(?:==|>=|<=|>|<)[0-9A-Za-z.*+-]+)?$"
)

SCHEDULE_EXAMPLE = "'USING CRON 0 6 * * * UTC' (06:00 UTC daily) or '60 MINUTES'"
# A CRON field as Snowflake takes them: numbers, names (MON, JAN), *, ranges, steps,
# lists, and L, W, # (docs: create-task, SCHEDULE).
CRON_FIELD = r"[0-9A-Za-z*?/,#-]+"
CRON = re.compile(
    rf"USING CRON((?: {CRON_FIELD}){{5}}) ([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)"
)
INTERVAL = re.compile(r"([1-9][0-9]*) (MINUTE|MINUTES|HOUR|HOURS|SECOND|SECONDS)")
# The documented maximum of an interval schedule: 11520 minutes (8 days).
MAX_MINUTES = 11520


def schedule_problem(schedule: str) -> str:
    """Why Snowflake would refuse this SCHEDULE, or ''. It goes into CREATE TASK as a
    quoted literal (DDL binds nothing), so nothing outside the rule gets through."""
    rule = (
        f"a schedule is 'USING CRON <minute> <hour> <day> <month> <weekday> <time "
        f"zone>' or '<n> MINUTES' (or HOURS, SECONDS), e.g. {SCHEDULE_EXAMPLE}"
    )
    if cron := CRON.fullmatch(schedule):
        if not time_zone_known(cron[2]):
            return f"{cron[2]!r} is not a time zone Snowflake knows (IANA names, e.g. UTC, Europe/Paris); {rule}"
        return ""
    if interval := INTERVAL.fullmatch(schedule.upper()):
        number, unit = int(interval[1]), interval[2]
        minutes = number * {"M": 1, "H": 60, "S": 1 / 60}[unit[0]]
        if minutes > MAX_MINUTES:
            return f"{schedule!r} is longer than {MAX_MINUTES} minutes (8 days), Snowflake's longest interval; {rule}"
        return ""
    return f"{schedule!r} is not a schedule: {rule}"


def time_zone_known(name: str) -> bool:
    """An IANA time zone (the tz database Python has; any well-formed name when this
    Python has none, e.g. Windows without the tzdata package)."""
    import zoneinfo  # noqa: PLC0415

    zones = zoneinfo.available_timezones()
    return name in zones or name == "UTC" or not zones


_FIXES = {
    "pipeline": "name a pipeline of the project's pipeline_registry (e.g. __default__)",
    "code_stage": "use the code stage created by sql/07, e.g. @DEMO.DEMO.KEDRO_CODE_STAGE",
    "procedure": "use database.schema.name, e.g. DEMO.DEMO.KEDRO_RUN_NODES",
    "task_prefix": "use database.schema.name, e.g. DEMO.DEMO.MLOPS_DEMO (tasks get _ROOT, ...)",
    "runs_table": "use database.schema.name, e.g. DEMO.DEMO.KEDRO_GRAPH_RUNS",
    "warehouse": "use the warehouse of sql/02, e.g. MLOPS_DEMO_WH",
    "runtime_version": "use one of 3.11, 3.12, 3.13 (Snowflake deprecated 3.10)",
    "artifact_repository": "use snowflake.snowpark.anaconda_shared_repository or snowflake.snowpark.pypi_shared_repository",
    "schedules": f"map a pipeline to a schedule, e.g. scoring: {SCHEDULE_EXAMPLE}",
    "packages": "list packages of the artifact repository, e.g. pandas or scikit-learn>=1.5",
    "tag_function": "use the function of sql/07, e.g. demo.demo.mlflow_run_set_tag",
    "external_access_integrations": "use the integration of sql/80",
    "secrets": "map a name the code reads to the secret of sql/80, e.g. mlflow_token: DEMO.DEMO.MLFLOW_TOKEN",
    "grouping": "use auto, memory, node or pipeline",
    "ship": "use traced (what run --local saw the tasks import) or all",
    "estimate": "give seconds, e.g. estimate: {cold_start_seconds: 6, node_seconds: 1, nodes: {train_model: 120}}",
}


class EstimateConfig(BaseModel):
    """`snowflake.deploy.estimate`: the seconds grouping auto weighs (grouping.py)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    cold_start_seconds: float = Field(default=6.0, gt=0)
    node_seconds: float = Field(default=1.0, ge=0)
    nodes: dict[str, float] = Field(default_factory=dict)

    @field_validator("nodes")
    @classmethod
    def _seconds(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [f"{name}: {seconds}" for name, seconds in value.items() if seconds < 0]
        if bad:
            raise ValueError(f"seconds cannot be negative: {bad!r}")
        return value


class DeployConfigError(ConfigError):
    """The `snowflake.deploy` block is missing or invalid."""


class DeployConfig(BaseModel):
    """`snowflake.deploy`: what `kedro snowflake deploy` creates, and with what."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    pipeline: str = Field(default="__default__", min_length=1)
    # How nodes become tasks: auto, memory, node or pipeline (deploy/grouping.py).
    grouping: Literal["auto", "memory", "node", "pipeline"] = "auto"
    estimate: EstimateConfig = Field(default_factory=EstimateConfig)
    code_stage: str = Field(pattern=STAGE_LOCATION)
    procedure: str = Field(pattern=QUALIFIED_NAME)
    task_prefix: str = Field(pattern=QUALIFIED_NAME)
    runs_table: str = Field(pattern=QUALIFIED_NAME)
    warehouse: str = Field(pattern=IDENTIFIER)
    # Snowflake deprecated 3.10 on 2026-10-04 (docs: python-runtime-support-policy).
    runtime_version: Literal["3.11", "3.12", "3.13"] = "3.11"
    # Where PACKAGES come from. Said explicitly: without it an account created after
    # 2026-06-26 resolves them from PyPI, an older one from Anaconda (BCR-2325).
    artifact_repository: Literal[
        "snowflake.snowpark.anaconda_shared_repository",
        "snowflake.snowpark.pypi_shared_repository",
    ] = "snowflake.snowpark.anaconda_shared_repository"
    packages: list[str] = Field(default_factory=list)
    # The SCHEDULE of a pipeline's root task, by pipeline (deploy --schedule sets one).
    schedules: dict[str, str] = Field(default_factory=dict)
    # traced: only the libraries `run --local` saw the tasks import (deploy/imports.py);
    # all: every pure-Python library the project's requirements reach.
    ship: Literal["traced", "all"] = "traced"
    # Only with transport external_functions: the sixth function (sql/07) that sets the
    # tag naming a failed node; None leaves the FAILED run without it.
    tag_function: str | None = Field(default=None, pattern=QUALIFIED_NAME)
    external_access_integrations: list[str] = Field(default_factory=list)
    secrets: dict[str, str] = Field(default_factory=dict)

    @field_validator("packages")
    @classmethod
    def _packages(cls, value: list[str]) -> list[str]:
        bad = [item for item in value if not PACKAGE_SPEC.match(str(item))]
        if bad:
            raise ValueError(f"not a package name (optionally pinned): {bad!r}")
        return value

    @field_validator("schedules")
    @classmethod
    def _schedules(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [
            f"{pipeline}: {problem}"
            for pipeline, schedule in value.items()
            if (problem := schedule_problem(str(schedule)))
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("external_access_integrations")
    @classmethod
    def _integrations(cls, value: list[str]) -> list[str]:
        bad = [item for item in value if not re.match(IDENTIFIER, str(item))]
        if bad:
            raise ValueError(f"not an unquoted identifier: {bad!r}")
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [
            f"{key}: {name}"
            for key, name in value.items()
            if not re.match(IDENTIFIER, str(key))
            or not re.match(QUALIFIED_NAME, str(name))
        ]
        if bad:
            raise ValueError(
                "each entry is <name the code reads>: <database.schema.secret>; "
                f"got {bad!r}"
            )
        return value

    @property
    def schema_name(self) -> str:
        return ".".join(self.procedure.split(".")[:2])


def _describe(problem: FieldProblem) -> str:
    if problem.kind == "missing":
        what = "is missing"
    elif problem.kind == "extra_forbidden":
        what = f"is not a known key{problem.suggestion}"
    else:
        shown = problem.value
        got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
        what = f"{problem.rule}{got}"
    fix = _FIXES.get(problem.top, f"use only {', '.join(DeployConfig.model_fields)}")
    return f"{problem.key} {what}; fix: {fix}"


def load_deploy_config(snowflake_block: dict[str, Any] | None) -> DeployConfig:
    """Validate `snowflake.deploy` from the merged `snowflake:` block of the config."""
    block = (snowflake_block or {}).get("deploy")
    if not isinstance(block, dict):
        raise DeployConfigError(
            "snowflake.deploy is missing or not a mapping; fix: add the deploy block "
            "of the starter to conf/base/snowflake.yml (it names the code stage, the "
            "procedure and the tasks)"
        )
    try:
        return DeployConfig.model_validate(block)
    except ValidationError as error:
        problems = field_problems(error.errors(), "snowflake.deploy", DeployConfig)
        raise DeployConfigError("\n".join(map(_describe, problems))) from None
