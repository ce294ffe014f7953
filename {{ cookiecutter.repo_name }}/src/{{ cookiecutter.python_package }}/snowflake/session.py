"""Build the project's one Snowpark session from the `snowflake.session` config block.

Offline (`mode: local_testing`) the session is Snowpark's local testing emulator, with
telemetry off and the few functions it lacks patched in. With `mode: snowflake` it is a real
connection whose settings come from environment variables (see conf/snowflake/); secrets are
passed to Snowpark and never logged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from snowflake.snowpark import Session

from .local_testing import emulate_copy_files, patch_local_testing


class SessionConfig(BaseModel):
    """The `snowflake.session` block of conf/<env>/snowflake.yml."""

    # hide_input_in_errors: pydantic would otherwise print the whole block, secrets
    # included, as `input_value=...` in every ValidationError.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    mode: Literal["local_testing", "snowflake"] = "local_testing"
    database: str
    schema_: str = Field(alias="schema")
    account: str | None = None
    user: str | None = None
    role: str | None = None
    warehouse: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    private_key_file: str | None = None
    private_key_file_pwd: SecretStr | None = None

    @model_validator(mode="after")
    def _real_sessions_need_credentials(self) -> SessionConfig:
        if self.mode != "snowflake":
            return self
        missing = [name for name in ("account", "user") if not getattr(self, name)]
        if missing:
            variables = ", ".join(f"SNOWFLAKE_{name.upper()}" for name in missing)
            raise ValueError(
                f"snowflake.session.{missing[0]} is empty: export {variables} "
                "(see conf/snowflake/snowflake.yml)"
            )
        secrets = [self.password, self.token, self.private_key_file]
        if sum(secret is not None for secret in secrets) != 1:
            raise ValueError(
                "snowflake.session needs exactly one way to authenticate: export "
                "SNOWFLAKE_PASSWORD, SNOWFLAKE_TOKEN or SNOWFLAKE_PRIVATE_KEY_FILE"
            )
        return self

    def connection_parameters(self) -> dict[str, Any]:
        """Snowpark's `Session.builder.configs(...)` for this block."""
        if self.mode == "local_testing":
            return {
                "local_testing": True,
                # Without this the emulator tries to reach Snowflake's telemetry service.
                "disable_local_testing_telemetry": True,
                "database": self.database,
                "schema": self.schema_,
            }
        parameters: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "role": self.role,
            "warehouse": self.warehouse,
            "database": self.database,
            "schema": self.schema_,
            "session_parameters": {"QUERY_TAG": "snowflake-mlops"},
        }
        if self.password is not None:
            parameters["password"] = self.password.get_secret_value()
        elif self.token is not None:
            parameters["authenticator"] = "PROGRAMMATIC_ACCESS_TOKEN"
            parameters["token"] = self.token.get_secret_value()
        else:
            parameters["authenticator"] = "SNOWFLAKE_JWT"
            parameters["private_key_file"] = self.private_key_file
            if self.private_key_file_pwd is not None:
                parameters["private_key_file_pwd"] = (
                    self.private_key_file_pwd.get_secret_value()
                )
        return {key: value for key, value in parameters.items() if value is not None}


# Where each field comes from, for the fix in an error message (conf/snowflake/).
ENV_VARIABLES = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "schema": "SNOWFLAKE_SCHEMA",
    "password": "SNOWFLAKE_PASSWORD",
    "token": "SNOWFLAKE_TOKEN",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_FILE_PWD",
}
# Only these values may be shown in an error; the others can be secrets.
SHOWN_VALUES = ("mode", "account", "user", "role", "warehouse", "database", "schema")


class SessionConfigError(ValueError):
    """The `snowflake.session` block is invalid; the message holds no secret."""


def describe_problem(detail: dict[str, Any]) -> str:
    """One pydantic error as `snowflake.session.<field>: <rule> (got ...). Fix: ...`."""
    field = ".".join(str(part) for part in detail["loc"])
    key = f"snowflake.session.{field}" if field else "snowflake.session"
    message = str(detail["msg"]).removeprefix("Value error, ")
    if message.startswith("snowflake.session"):  # our own validator names the fix
        return message
    if field in SHOWN_VALUES and isinstance(detail.get("input"), (str, int, float)):
        message += f" (got {detail['input']!r})"
    variable = ENV_VARIABLES.get(field)
    if detail.get("type") == "extra_forbidden":
        fix = f"remove it or correct its name (known: {', '.join(ENV_VARIABLES)}, mode)"
    elif variable:
        fix = f"export {variable} or correct conf/<env>/snowflake.yml"
    else:
        fix = "correct it in conf/<env>/snowflake.yml"
    return f"{key}: {message}. Fix: {fix}"


def load_session_config(block: dict[str, Any] | None) -> SessionConfig:
    """The validated `snowflake.session` block, or SessionConfigError with one line per
    problem (field, rule, fix) and never an input value that could be a secret."""
    try:
        return SessionConfig.model_validate(block or {})
    except ValidationError as error:
        problems = [describe_problem(detail) for detail in error.errors()]
        raise SessionConfigError("\n".join(problems)) from None


def load_real_session_config(block: dict[str, Any] | None, env: str) -> SessionConfig:
    """Like load_session_config, for commands that need a real account (setup --apply,
    check --online): a local_testing block is refused with how to pick the real one."""
    config = load_session_config(block)
    if config.mode != "snowflake":
        raise SessionConfigError(
            f"snowflake.session.mode is {config.mode} in env {env!r}; "
            "use --env snowflake"
        )
    return config


def create_session(config: SessionConfig) -> Session:
    """Create the session and make it Snowpark's active session."""
    session = Session.builder.configs(config.connection_parameters()).create()
    if config.mode == "local_testing":
        patch_local_testing()
        # The tracking's COPY FILES (artifacts to the external MLflow stage) runs
        # offline too; local testing has no COPY FILES of its own.
        emulate_copy_files(session)
    return session
