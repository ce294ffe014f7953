"""Values MLflow cannot take and secrets that must not reach it: real `kedro run`
processes of a baked demo, the runs read back from the real store (or a real `mlflow
server` through a forwarding proxy), the store's bytes searched for the secrets.
"""

from __future__ import annotations

import math

import pytest
from mlflow import MlflowClient
from support.attack_project import (
    bake_attack_project,
    kedro_run,
    write,
    write_env,
)
from support.mlflow_server import free_port
from support.throwaway import throwaway_secret
from support.troubled_proxy import TroubledProxy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake_attack_project(cookies_session, "Tracking Values Secrets")


@pytest.mark.parametrize("policy", ["warn", "fail"])
def test_values_mlflow_cannot_take_are_named_and_skipped(project, policy):
    """Value problems are the data's, not MLflow's: skipped with a warning naming the
    dataset and the key, under either policy; the pipeline always completes."""
    env = write_env(
        project,
        f"values_{policy}",
        f"tracking_uri: sqlite:///values_{policy}.db\non_failure: {policy}\n",
    )
    outcome = kedro_run(project, "--env", env, "--pipelines", "values")
    assert outcome.returncode == 0, outcome.output[-3000:]
    assert (project.path / "data/08_reporting/odd_metrics.json").is_file()
    (skipped,) = [line for line in outcome.output.splitlines() if "values of" in line]
    assert "MLflow: values of odd_metrics not logged: " in skipped
    for key, why in [
        ("huge", "out of range for a float"),
        ("text", "not a number: str"),
        ("nothing", "not a number: NoneType"),
        ("a.b", "two values flatten to this key"),
    ]:
        assert f"{key} ({why})" in skipped
    (table,) = [
        line
        for line in outcome.output.splitlines()
        if "table_artifact" in line
        and "cannot be pickled" in line
        and "WARNING" in line
        and "MLflow run" not in line
    ]
    assert "its data (a snowflake.snowpark." in table  # a Snowpark Table here
    assert "is not a local file and cannot be pickled" in table
    assert "NOT logged: artifact table_artifact (cannot be pickled)" in outcome.summary
    assert outcome.summary.endswith("; the run ended FINISHED")
    client = MlflowClient(f"sqlite:///{project.path / f'values_{policy}.db'}")
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == {"fine", "flag", "nan"}
    assert run.data.metrics["fine"] == 0.5 and run.data.metrics["flag"] == 1.0
    assert math.isnan(run.data.metrics["nan"])
    assert client.list_artifacts(run.info.run_id) == []


PASSWORD, API_KEY, API_TOKEN = (
    throwaway_secret(label) for label in ("password", "api-key", "api-token")
)
SECRET_PARAMS = f"""\
db:
  user: analyst
  password: {PASSWORD}
service:
  api_key: {API_KEY}
  apiToken: {API_TOKEN}
tokenizer:
  keys: [first, second]
  max_tokens: 512
  sort_key: name
"""


def test_secret_looking_params_are_redacted_in_mlflow_and_never_printed(project):
    env = write_env(project, "secrets", "tracking_uri: sqlite:///secrets.db\n")
    write(project.path / "conf" / env / "parameters.yml", SECRET_PARAMS)
    outcome = kedro_run(project, "--env", env, "--pipelines", "tiny")
    assert outcome.returncode == 0, outcome.output[-3000:]
    store = project.path / "secrets.db"
    params = MlflowClient(f"sqlite:///{store}").get_run(outcome.run_id).data.params
    assert params["db.password"] == "[redacted]"
    assert params["service.api_key"] == "[redacted]"
    assert params["service.apiToken"] == "[redacted]"
    # Names that only look alike are data: logged as they are.
    assert params["db.user"] == "analyst"
    assert params["tokenizer.keys"] == '["first", "second"]'
    assert params["tokenizer.max_tokens"] == "512"
    assert params["tokenizer.sort_key"] == "name"
    for secret in (PASSWORD, API_KEY, API_TOKEN):
        assert secret.encode() not in store.read_bytes()
        assert secret not in outcome.output
    (said,) = [line for line in outcome.output.splitlines() if "[redacted]" in line]
    assert said.endswith(
        "db.password, service.api_key, service.apiToken; rename a "
        "param that is not a secret"
    )


def test_the_environment_cannot_reach_mlflow_through_parameters(project):
    """Kedro resolves ${oc.env:...} in credentials only (the project's settings.py
    does not widen it): in parameters.yml it is refused, so no secret becomes a param."""
    env = write_env(project, "env_param", "tracking_uri: sqlite:///env_param.db\n")
    write(
        project.path / "conf" / env / "parameters.yml",
        "db:\n  password: ${oc.env:SECRET_FOR_THIS_TEST}\n",
    )
    secret = throwaway_secret("from-the-environment")
    outcome = kedro_run(
        project, "--env", env, "--pipelines", "tiny", SECRET_FOR_THIS_TEST=secret
    )
    assert outcome.returncode != 0
    assert "Unsupported interpolation type oc.env" in outcome.output
    assert secret not in outcome.output
    store = project.path / "env_param.db"
    assert not store.exists() or secret.encode() not in store.read_bytes()


@pytest.fixture
def proxy(mlflow_server):
    forwarding = TroubledProxy(mlflow_server.url)  # no rules: forwards everything
    yield forwarding
    forwarding.close()


URI_PASSWORD = throwaway_secret("uri-password")


def test_a_tracking_uri_with_credentials_is_never_printed(project, proxy):
    port = proxy.url.rsplit(":", 1)[1]
    env = write_env(
        project,
        "uri_credentials",
        f"tracking_uri: http://kedro:{URI_PASSWORD}@127.0.0.1:{port}\n",
    )
    outcome = kedro_run(project, "--env", env, "--pipelines", "tiny")
    assert outcome.returncode == 0, outcome.output[-3000:]
    assert URI_PASSWORD not in outcome.output
    assert "View run" not in outcome.output  # MLflow's own line would carry it
    assert f"open it at http://***@127.0.0.1:{port}/#/experiments/" in outcome.summary


def test_credentials_stay_out_of_the_failure_line_too(project):
    env = write_env(
        project,
        "uri_credentials_down",
        f"tracking_uri: http://kedro:{URI_PASSWORD}@127.0.0.1:{free_port()}\n"
        "timeout_seconds: 2\nretry:\n  attempts: 1\n",
    )
    outcome = kedro_run(project, "--env", env, "--pipelines", "tiny")
    assert outcome.returncode == 0
    assert URI_PASSWORD not in outcome.output
    assert "NOT logged" in outcome.summary and "Connection refused" in outcome.summary
