"""The `snowflake.session` block and the credentials it names, validated.

conf/base/snowflake.yml says `mode: local_testing` (Snowpark's offline emulator);
conf/snowflake/snowflake.yml says `mode: snowflake` and names an entry of
conf/snowflake/credentials.yml, which reads the account, the user and exactly one secret
from environment variables (Kedro resolves `${oc.env:...}` in credentials files only).
Secrets are held as SecretStr and never appear in an error message.
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

from ..conf import ConfigError, FieldProblem, field_problems

# Where each credential comes from in the generated conf/snowflake/credentials.yml.
ENV_VARIABLES = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "token": "SNOWFLAKE_TOKEN",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_FILE_PWD",
}
SECRET_VARIABLES = "SNOWFLAKE_PASSWORD, SNOWFLAKE_TOKEN or SNOWFLAKE_PRIVATE_KEY_FILE"
# Only these values may be shown in an error; the others can be secrets.
SHOWN_VALUES = (
    "mode",
    "account",
    "user",
    "role",
    "warehouse",
    "database",
    "schema",
    "credentials",
    "login_timeout",
    "host",
    "port",
)


class SessionConfigError(ConfigError):
    """The session block or its credentials are invalid; the message holds no secret."""


class SessionConfig(BaseModel):
    """`snowflake.session`: where the project's tables live and how to connect."""

    # hide_input_in_errors: pydantic would otherwise print the whole block as
    # `input_value=...` in every ValidationError.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    mode: Literal["local_testing", "snowflake"] = "local_testing"
    database: str = Field(min_length=1)
    schema_: str = Field(alias="schema", min_length=1)
    role: str | None = None
    warehouse: str | None = None
    # The entry of conf/<env>/credentials.yml that holds account, user and the secret.
    credentials: str = "snowflake"
    # Seconds to wait for Snowflake to answer a login, whatever the network does (the
    # connector alone waits about two minutes on a silent network).
    login_timeout: int = Field(default=60, ge=1, le=3600)
    # Only when the account is not reached at <account>.snowflakecomputing.com:443
    # (PrivateLink, a proxy): the host name and port to connect to.
    host: str | None = Field(default=None, min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)


class Credentials(BaseModel):
    """One entry of conf/<env>/credentials.yml: who connects, with exactly one secret."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    account: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password: SecretStr | None = None
    token: SecretStr | None = None
    private_key_file: str | None = None
    private_key_file_pwd: SecretStr | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> Credentials:
        secrets = [self.password, self.token, self.private_key_file]
        if sum(secret is not None for secret in secrets) != 1:
            raise ValueError(
                f"exactly one way to authenticate is needed: export {SECRET_VARIABLES}"
            )
        return self


def connection_parameters(
    config: SessionConfig, credentials: Credentials | None
) -> dict[str, Any]:
    """Snowpark's `Session.builder.configs(...)` for a session block."""
    if config.mode == "local_testing":
        return {
            "local_testing": True,
            # Without this the emulator tries to reach Snowflake's telemetry service.
            "disable_local_testing_telemetry": True,
            "database": config.database,
            "schema": config.schema_,
        }
    if credentials is None:
        raise SessionConfigError(
            "snowflake.session.mode is snowflake but no credentials were loaded"
        )
    parameters: dict[str, Any] = {
        "account": credentials.account,
        "user": credentials.user,
        "role": config.role,
        "warehouse": config.warehouse,
        "database": config.database,
        "schema": config.schema_,
        "login_timeout": config.login_timeout,
        "host": config.host,
        "port": config.port,
        "session_parameters": {"QUERY_TAG": "kedro-snowflake-mlops"},
    }
    if credentials.password is not None:
        parameters["password"] = credentials.password.get_secret_value()
    elif credentials.token is not None:
        parameters["authenticator"] = "PROGRAMMATIC_ACCESS_TOKEN"
        parameters["token"] = credentials.token.get_secret_value()
    else:
        parameters["authenticator"] = "SNOWFLAKE_JWT"
        parameters["private_key_file"] = credentials.private_key_file
        if credentials.private_key_file_pwd is not None:
            parameters["private_key_file_pwd"] = (
                credentials.private_key_file_pwd.get_secret_value()
            )
    return {key: value for key, value in parameters.items() if value is not None}


def _describe(problem: FieldProblem) -> str:
    """One problem as `<where>.<field>: <rule> (got ...). Fix: ...`."""
    message = problem.rule
    if problem.field in SHOWN_VALUES and isinstance(problem.value, (str, int, float)):
        message += f" (got {problem.value!r})"
    variable = ENV_VARIABLES.get(problem.field)
    if problem.kind == "extra_forbidden":
        fix = f"remove it or correct its name{problem.suggestion}"
    elif variable:
        fix = f"export {variable}"
    elif not problem.field and problem.key.startswith("credentials"):
        fix = f"export {SECRET_VARIABLES} (one of them)"
    else:
        fix = "correct it in conf/<env>/snowflake.yml"
    return f"{problem.key}: {message}. Fix: {fix}"


def _validate(model: type[BaseModel], block: Any, where: str) -> Any:
    try:
        return model.model_validate(block if block is not None else {})
    except ValidationError as error:
        problems = field_problems(error.errors(), where, model)
        raise SessionConfigError("\n".join(map(_describe, problems))) from None


def load_session_config(block: dict[str, Any] | None) -> SessionConfig:
    """The validated `snowflake.session` block, or SessionConfigError with one line per
    problem (field, rule, fix) and never an input value that could be a secret."""
    return _validate(SessionConfig, block, "snowflake.session")


def load_credentials(config_loader: Any, name: str) -> Credentials:
    """The named entry of the env's credentials.yml, validated."""
    try:
        entries = config_loader["credentials"]
    except Exception:  # noqa: BLE001 (no credentials file at all: same fix)
        entries = {}
    if name not in (entries or {}):
        raise SessionConfigError(
            f"credentials.{name}: not found in conf/<env>/credentials.yml (named by "
            "snowflake.session.credentials). Fix: generate the project again or add "
            f"the entry; it reads {', '.join(ENV_VARIABLES.values())} from the "
            "environment"
        )
    return _validate(Credentials, entries[name], f"credentials.{name}")


def load_real_session(
    block: dict[str, Any] | None, config_loader: Any, env: str
) -> tuple[SessionConfig, Credentials]:
    """The session block and its credentials for commands that need a real account
    (setup --apply, check --online): a local_testing block is refused."""
    config = load_session_config(block)
    if config.mode != "snowflake":
        raise SessionConfigError(
            f"snowflake.session.mode is {config.mode} in env {env!r}. Fix: use "
            "--env snowflake (or an env whose session has mode: snowflake)"
        )
    return config, load_credentials(config_loader, config.credentials)
