"""The `snowflake.registry` block of conf/<env>/snowflake.yml, validated by one schema.

Which model the training pipeline registers, under which alias the gate's winner is
found (`champion`; the newest version always carries `challenger`), and where:
`mlflow` (MLflow's own registry: offline, mlflow.db), `snowflake` (the Snowflake Model
Registry, through the run's Snowpark session) or `both`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..conf import (
    UNQUOTED_IDENTIFIER,
    ConfigError,
    FieldProblem,
    field_problems,
)

# An alias both registries take: MLflow's (letters, digits, '_' and '-'; not `latest`,
# not v<digits>, which name versions) and Snowflake's (an unquoted identifier), so the
# same alias works with target both.
ALIAS = r"^[A-Za-z_][A-Za-z0-9_]*$"
RESERVED_ALIASES = ("latest", "default", "first", "last")
SCHEMA = rf"{UNQUOTED_IDENTIFIER}\.{UNQUOTED_IDENTIFIER}"

_FIXES = {
    "model_name": "name the model, e.g. spaceflights_price (with target snowflake or "
    "both an unquoted identifier: letters, digits and '_')",
    "alias": "use a word such as champion",
    "challenger_alias": "use a word such as challenger",
    "target": "use mlflow (offline default), snowflake or both",
    "schema": "use database.schema, e.g. DEMO.DEMO (where sql/01 grants CREATE MODEL)",
}


class RegistryConfigError(ConfigError):
    """The `snowflake.registry` block is invalid."""


class RegistryConfig(BaseModel):
    """`snowflake.registry`: the model the training pipeline registers."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    model_name: str = Field(min_length=1, max_length=255)
    alias: str = Field(default="champion", pattern=ALIAS)
    challenger_alias: str = Field(default="challenger", pattern=ALIAS)
    target: Literal["mlflow", "snowflake", "both"] = "mlflow"
    # Where the Snowflake Model Registry keeps the model (target snowflake or both).
    schema_: str | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _consistent(self) -> RegistryConfig:
        problems = []
        for key in ("alias", "challenger_alias"):
            value = getattr(self, key)
            if value.lower() in RESERVED_ALIASES or re.fullmatch(r"[vV]\d+", value):
                problems.append(
                    f"{key} {value!r} is a name the registries keep for themselves"
                )
        if self.alias == self.challenger_alias:
            problems.append("alias and challenger_alias must differ")
        if self.target != "mlflow":
            if not re.fullmatch(UNQUOTED_IDENTIFIER, self.model_name):
                problems.append(
                    f"model_name {self.model_name!r} must be an unquoted identifier "
                    f"with target {self.target} (the Snowflake Model Registry names "
                    "models like tables)"
                )
            if self.schema_ is None or not re.fullmatch(SCHEMA, self.schema_):
                problems.append(
                    f"schema is required as database.schema with target {self.target} "
                    f"(got {self.schema_!r})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def uses_mlflow(self) -> bool:
        return self.target in ("mlflow", "both")

    @property
    def uses_snowflake(self) -> bool:
        return self.target in ("snowflake", "both")


def _describe(problem: FieldProblem) -> str:
    if problem.kind == "extra_forbidden":
        what = f"is not a known key{problem.suggestion}"
    elif problem.kind == "missing":
        what = "is missing"
    else:
        shown = problem.value
        got = f" (got {shown!r})" if isinstance(shown, str) and problem.field else ""
        what = f"{problem.rule}{got}"
    fix = _FIXES.get(problem.top, "see the registry block of conf/base/snowflake.yml")
    return f"{problem.key} {what}; fix: {fix}"


def load_registry_config(
    snowflake_block: dict[str, Any] | None,
) -> RegistryConfig | None:
    """Validate `snowflake.registry`; None when the project registers no model."""
    block = (snowflake_block or {}).get("registry")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise RegistryConfigError(
            f"snowflake.registry must be a mapping (got {block!r}); fix: see the "
            "registry block of the starter's conf/base/snowflake.yml"
        )
    try:
        return RegistryConfig.model_validate(block)
    except ValidationError as error:
        problems = field_problems(error.errors(), "snowflake.registry", RegistryConfig)
        raise RegistryConfigError("\n".join(map(_describe, problems))) from None


def transport_problem(registry: RegistryConfig, transport: str, env: str) -> str:
    """Why this registry target cannot work with this MLflow transport, or ''.

    Target snowflake (and both) is accepted by the schema, so that the block reads the
    same once it is supported, and refused here until then.

    The external functions reach MLflow by POST only (a gateway passes Snowflake's POST
    on), and MLflow's registry reads are GET only (registered-models/alias,
    model-versions/get): loading the champion could never work through them. So target
    mlflow is refused with transport external_functions instead of adding functions
    that cannot be called; the Snowflake Model Registry needs no network at all."""
    if registry.uses_snowflake:
        return (
            f"snowflake.registry.target is {registry.target} in env {env}, but this "
            "version of kedro-snowflake-mlops registers models in MLflow's registry "
            "only (the Snowflake Model Registry is not supported yet). Fix: target: "
            "mlflow, or registry: null in this env (the quality gate then judges on "
            "its thresholds and nothing is registered)"
        )
    if transport == "external_functions":
        return (
            f"snowflake.registry.target is {registry.target} but snowflake.mlflow."
            f"transport is external_functions in env {env}: MLflow's model registry "
            "answers its reads (the champion by alias) only to GET requests, which "
            "external functions cannot send. Fix: transport: external_access (sql/80) "
            "in this env, or registry: null (the quality gate then judges on its "
            "thresholds and nothing is registered)"
        )
    return ""
