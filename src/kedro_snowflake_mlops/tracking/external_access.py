"""`transport: external_access`: the MLflow client inside a Snowflake procedure, reaching
the server through an External Access Integration (sql/80: a network rule for the
server's host, a secret holding an MLflow token, the integration allowing both).

No gateway and no translators: any HTTP method and real headers reach MLflow, so the
client works as it does on a laptop. The token is read from the procedure's secret when
the transport is made (Snowflake's `get_generic_secret_string`, which exists only inside
Snowflake) and handed to the client as MLFLOW_TRACKING_TOKEN, MLflow's own variable; it
is never logged nor written to a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .direct import DirectTransport

# The name the procedure's SECRETS clause gives the token (snowflake.deploy.secrets).
TOKEN_SECRET_NAME = "mlflow_token"


def read_token(name: str = TOKEN_SECRET_NAME) -> str:
    """The secret's value, inside a procedure created with SECRETS = ('<name>' = ...)."""
    from snowflake.snowpark.secrets import get_generic_secret_string  # noqa: PLC0415

    return get_generic_secret_string(name)


class ExternalAccessTransport(DirectTransport):
    """DirectTransport with the token of the procedure's secret."""

    def __init__(
        self, tracking_uri: str, timeout_seconds: float, artifact_root: Path
    ) -> None:
        # The URI is https (or this machine's, for run --local): MlflowConfig checks it.
        os.environ["MLFLOW_TRACKING_TOKEN"] = read_token()
        super().__init__(tracking_uri, timeout_seconds, artifact_root)

    def close(self) -> None:
        # The token is for this run's client only: nothing started later inherits it.
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
        super().close()
