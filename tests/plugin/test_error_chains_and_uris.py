"""Errors and addresses on their way to the terminal: a cause chain that loops is walked
once, and a URI's user and password never reach a message (deploy's run outcome, the
procedure's error, external access)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.conf import error_chain
from kedro_snowflake_mlops.deploy.outcome import how_to_open
from kedro_snowflake_mlops.deploy.procedure import innermost
from kedro_snowflake_mlops.tracking import external_access
from kedro_snowflake_mlops.tracking.config import MlflowConfigError, load_mlflow_config
from kedro_snowflake_mlops.tracking.transport import is_transient

PASSWORD = throwaway_secret("password")


def looping_error() -> ValueError:
    """`raise error from error`: its own cause."""
    error = ValueError("HTTP 400 from https://user:" + PASSWORD + "@mlflow.example")
    error.__cause__ = error
    return error


def test_a_chain_that_loops_is_walked_once():
    error = looping_error()
    assert list(error_chain(error)) == [error]
    assert is_transient(error) is False  # returns, no endless loop


def test_the_first_error_of_a_chain_is_named_without_credentials():
    try:
        try:
            raise looping_error()
        except ValueError as first:
            raise RuntimeError("the procedure failed") from first
    except RuntimeError as wrapper:
        named = innermost(wrapper)
    assert named.startswith("ValueError: HTTP 400 from https://***@mlflow.example")
    assert PASSWORD not in named


@pytest.mark.parametrize("transport", ["direct", "external_access"])
def test_the_graph_runs_address_hides_the_uris_credentials(transport):
    uri = f"https://analyst:{PASSWORD}@mlflow.example/"
    plan = SimpleNamespace(
        mlflow=SimpleNamespace(tracking_uri=uri, transport=transport)
    )
    said = how_to_open(plan, {"experiment_id": "1", "run_id": "abc"})
    assert said == "open it at https://***@mlflow.example/#/experiments/1/runs/abc"


def test_external_access_refuses_plain_http_in_one_line_without_credentials():
    block = {
        "mlflow": {
            "experiment_name": "demo-mlops",
            "transport": "external_access",
            "tracking_uri": f"http://analyst:{PASSWORD}@mlflow.example",
        }
    }
    with pytest.raises(MlflowConfigError) as refused:
        load_mlflow_config(block)
    message = str(refused.value)  # one line per problem (stage, functions: missing)
    (line,) = [x for x in message.splitlines() if "tracking_uri" in x.split(" ")[0]]
    assert line.startswith("snowflake.mlflow.tracking_uri must be an https URI")
    assert "http://***@mlflow.example" in line and PASSWORD not in message


def test_the_token_leaves_the_environment_when_the_transport_closes(
    monkeypatch, tmp_path: Path
):
    # Outside Snowflake there is no procedure secret to read: the test hands one.
    token = throwaway_secret("token")
    monkeypatch.setattr(external_access, "read_token", lambda: token)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    transport = external_access.ExternalAccessTransport(
        "http://127.0.0.1:5000", 5, tmp_path
    )
    assert os.environ["MLFLOW_TRACKING_TOKEN"] == token
    transport.close()
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ
