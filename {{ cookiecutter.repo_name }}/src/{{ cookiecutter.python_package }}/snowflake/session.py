"""Build the project's one Snowpark session from the `snowflake.session` config block.

Offline (`mode: local_testing`) the session is Snowpark's local testing emulator, with
telemetry off and the few functions it lacks patched in. With `mode: snowflake` it is a real
connection whose settings come from environment variables (see conf/snowflake/); secrets are
passed to Snowpark and never logged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from snowflake.snowpark import Session

from .local_testing import emulate_copy_files, patch_local_testing


class SessionConfig(BaseModel):
    """The `snowflake.session` block of conf/<env>/snowflake.yml."""

    model_config = ConfigDict(extra="forbid")

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


def create_session(config: SessionConfig) -> Session:
    """Create the session and make it Snowpark's active session."""
    session = Session.builder.configs(config.connection_parameters()).create()
    if config.mode == "local_testing":
        patch_local_testing()
        # The tracking's COPY FILES (artifacts to the external MLflow stage) runs
        # offline too; local testing has no COPY FILES of its own.
        emulate_copy_files(session)
    return session
