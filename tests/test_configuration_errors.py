"""Configuration mistakes and connection failures stop `kedro run` with one clear
`Error:` line (key or cause, rule, fix), not a traceback: real `kedro run` processes of
a baked demo. The connection tests need no Snowflake account: a name that does not
resolve (.invalid never does), a closed local port, and a local socket that accepts a
connection and never answers stand for a mistyped account, a refused connection and a
silent network; the connector is the real one.
"""

from __future__ import annotations

import shutil
import socket
import time

import pytest
from support.attack_project import (
    bake_attack_project,
    error_line,
    kedro_run,
    no_worker_left,
    write,
    write_env,
)
from support.mlflow_server import free_port
from support.throwaway import throwaway_secret

pytestmark = pytest.mark.slow

URI_PASSWORD = throwaway_secret("uri-password")


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake_attack_project(cookies_session, "Configuration Errors")


def snowflake_env(project, name: str, session: str = "", mlflow: str = "") -> str:
    """An env like conf/snowflake (a real session), with extra session keys."""
    folder = project.path / "conf" / name
    folder.mkdir(exist_ok=True)
    shutil.copy(
        project.path / "conf/snowflake/credentials.yml", folder / "credentials.yml"
    )
    write(
        folder / "snowflake.yml",
        "snowflake:\n  session:\n    mode: snowflake\n    credentials: snowflake\n"
        + "".join(f"    {line}\n" for line in session.splitlines())
        + (f"  mlflow:\n    {mlflow}\n" if mlflow else ""),
    )
    return name


@pytest.fixture
def new_env(project):
    """make(name) -> the folder conf/<name>, created."""

    def make(name: str):
        folder = project.path / "conf" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    return make


def test_a_misspelt_section_is_refused_with_a_suggestion(project, new_env):
    folder = new_env("typo_section")
    write(folder / "snowflake.yml", "snowflake:\n  mlfow:\n    on_failure: fail\n")
    line = error_line(kedro_run(project, "--env", "typo_section"))
    assert line == (
        "Error: snowflake.mlfow is not a known section (did you mean `mlflow`?). "
        "Fix: use session, mlflow, registry, deploy"
    )


def test_a_wrong_registry_key_is_refused_before_the_first_node(project, new_env):
    folder = new_env("registry_typo")
    write(
        folder / "snowflake.yml",
        "snowflake:\n  registry:\n    model_name: price model\n    alais: best\n",
    )
    line = error_line(kedro_run(project, "--env", "registry_typo"))
    assert line.startswith(
        "Error: snowflake.registry.alais is not a known key (did you mean `alias`?)"
    )


def test_the_mlflow_registry_through_external_functions_is_refused_saying_what_works(
    project,
):
    """MLflow's registry reads are GET only; external functions send POST: refused
    before anything connects (the account below does not exist)."""
    env = snowflake_env(project, "registry_ef", mlflow="transport: external_functions")
    with (project.path / "conf" / env / "snowflake.yml").open("a") as file:
        file.write("  registry:\n    model_name: price model\n")
    line = error_line(
        kedro_run(project, "--env", env, SNOWFLAKE_ACCOUNT="nowhere.invalid")
    )
    assert line.startswith(
        "Error: snowflake.registry.target is mlflow but snowflake.mlflow.transport is "
        "external_functions in env registry_ef"
    )
    assert "Fix: transport: external_access (sql/80) in this env" in line


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "retry:\n  atempts: 2\n",
            "Error: snowflake.mlflow.retry.atempts is not a known key (did you mean "
            "`attempts`?); fix: remove it or correct its name; the keys here "
            "are attempts, backoff_seconds, max_backoff_seconds",
        ),
        (
            "on_failur: fail\n",
            "Error: snowflake.mlflow.on_failur is not a known key (did you mean "
            "`on_failure`?); fix: remove it or correct its name;",
        ),
        (
            "tracking_uri: not a uri\n",
            "Error: snowflake.mlflow.tracking_uri must be a URI without spaces whose "
            "scheme is one of sqlite, http, https, file, postgresql, mysql, mssql, "
            "databricks (got 'not a uri'); fix: use e.g. sqlite:///mlflow.db",
        ),
        (
            f"tracking_uri: https://user:{URI_PASSWORD}@/x\n",
            "Error: snowflake.mlflow.tracking_uri must name a host: "
            "https://<host>[:<port>] (got 'https://***@/x')",
        ),
    ],
    ids=["nested-typo", "top-level-typo", "not-a-uri", "no-host"],
)
def test_a_wrong_mlflow_key_or_value_is_refused_naming_it(project, block, expected):
    env = write_env(project, "mlflow_key", block)
    line = error_line(kedro_run(project, "--env", env, "--pipelines", "tiny"))
    assert line.startswith(expected)
    assert URI_PASSWORD not in line


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (
            "  metadata:\n    - mlflow: metrics\n",
            "Error: catalog entry tiny_quality: metadata is a list "
            "([{'mlflow': 'metrics'}]), not a mapping. Fix: write it as a mapping",
        ),
        (
            "  metadata:\n    mlfow: metrics\n",
            "Error: catalog entry tiny_quality: metadata has key `mlfow`, not `mlflow` "
            "(did you mean `mlflow`?). Fix: write it as a mapping",
        ),
    ],
    ids=["a-list", "a-typo"],
)
def test_metadata_in_the_wrong_shape_is_refused_before_any_node(
    project, new_env, metadata, expected
):
    folder = new_env("bad_metadata")
    write(
        folder / "catalog.yml",
        "tiny_quality:\n  type: json.JSONDataset\n"
        "  filepath: data/08_reporting/tiny_quality_bad.json\n" + metadata,
    )
    outcome = kedro_run(project, "--env", "bad_metadata", "--pipelines", "tiny")
    # The Error line starts the message; the example mapping follows on its lines.
    assert outcome.returncode == 1 and "Traceback" not in outcome.output
    assert expected in outcome.output
    assert "Running node" not in outcome.output
    assert not (project.path / "data/08_reporting/tiny_quality_bad.json").exists()
    assert no_worker_left(project) == []


def test_the_snowflake_env_without_credentials_says_what_to_export(project):
    line = error_line(
        kedro_run(
            project,
            "--env",
            "snowflake",
            SNOWFLAKE_ACCOUNT="",
            SNOWFLAKE_USER="",
            SNOWFLAKE_PASSWORD="",
        )
    )
    assert line.startswith("Error: credentials.snowflake.account: ")
    assert "export SNOWFLAKE_ACCOUNT" in line


def connect(project, env: str, **variables: str):
    password = throwaway_secret("password")
    started = time.monotonic()
    outcome = kedro_run(
        project,
        "--env",
        env,
        SNOWFLAKE_ACCOUNT=variables.pop("account", "myorg-myaccount"),
        SNOWFLAKE_USER="someone",
        SNOWFLAKE_PASSWORD=password,
        **variables,
    )
    assert password not in outcome.output
    return error_line(outcome), time.monotonic() - started


def test_a_mistyped_account_says_the_host_did_not_resolve(project):
    line, _ = connect(project, "snowflake", account="no-such-account.invalid")
    assert line == (
        "Error: could not connect to Snowflake account 'no-such-account.invalid': the "
        "host no-such-account.invalid.snowflakecomputing.com did not resolve. Fix: "
        "check SNOWFLAKE_ACCOUNT (the account identifier, such as myorg-myaccount, "
        "from Snowsight > Account details)"
    )


def test_a_refused_connection_says_so(project):
    port = free_port()  # nothing listens there
    env = snowflake_env(project, "sf_refused", f"host: 127.0.0.1\nport: {port}")
    line, _ = connect(project, env)
    assert line.startswith(
        f"Error: could not connect to Snowflake account 'myorg-myaccount': "
        f"127.0.0.1:{port} refused the connection. Fix: check "
        "snowflake.session.host in conf/<env>/snowflake.yml"
    )


def test_a_silent_network_is_bounded_by_login_timeout(project):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        env = snowflake_env(
            project, "sf_silent", f"host: 127.0.0.1\nport: {port}\nlogin_timeout: 3"
        )
        line, seconds = connect(project, env)
    assert line.startswith(
        f"Error: could not connect to Snowflake account 'myorg-myaccount': "
        f"127.0.0.1:{port} did not answer within 3 s "
        "(snowflake.session.login_timeout). Fix: check the network"
    )
    # Kedro's start-up plus at most login_timeout and the grace: far from the
    # connector's own 60 s read time-out.
    assert seconds < 30
