"""The `snowflake.session` block: shipped defaults, refused keys, and how a failed
connection is told. Connection failures are made for real where no account is needed
(a name that cannot resolve, a closed local port, a local socket that never answers)
and go through the real connector; the process-level versions are in
tests/test_configuration_errors.py.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import yaml
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.session.config import (
    Credentials,
    SessionConfig,
    SessionConfigError,
    connection_parameters,
    load_session_config,
)
from kedro_snowflake_mlops.session.create import (
    SnowflakeConnectionError,
    connection_failure,
    create_session,
)


@pytest.fixture(scope="module")
def shipped(demo_project: Path) -> dict:
    path = demo_project / "conf" / "base" / "snowflake.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["snowflake"]["session"]


def test_the_shipped_optional_session_keys_equal_the_schema_defaults(shipped):
    required = {"mode", "database", "schema"}
    defaults = SessionConfig.model_validate(
        {key: shipped[key] for key in required}
    ).model_dump(by_alias=True)
    optional = {key: value for key, value in shipped.items() if key not in required}
    assert optional == {key: defaults[key] for key in optional}
    assert set(optional) == {"login_timeout", "host", "port"}


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("login_timout", "login_timeout"), ("warehose", "warehouse"), ("hots", "host")],
)
def test_an_unknown_session_key_is_refused_with_a_suggestion(key, suggestion):
    block = {"mode": "snowflake", "database": "D", "schema": "S", key: 1}
    with pytest.raises(SessionConfigError) as error:
        load_session_config(block)
    assert str(error.value) == (
        f"snowflake.session.{key}: Extra inputs are not permitted. Fix: remove it or "
        f"correct its name (did you mean `{suggestion}`?)"
    )


PASSWORD = throwaway_secret("password")


def real_config(**keys) -> tuple[SessionConfig, Credentials]:
    config = SessionConfig.model_validate(
        {"mode": "snowflake", "database": "D", "schema": "S", **keys}
    )
    credentials = Credentials(account="myorg-myaccount", user="u", password=PASSWORD)
    return config, credentials


def test_host_and_port_reach_the_connector_only_when_set():
    config, credentials = real_config()
    assert "host" not in connection_parameters(config, credentials)
    config, credentials = real_config(host="acct.privatelink.example", port=8443)
    parameters = connection_parameters(config, credentials)
    assert (parameters["host"], parameters["port"]) == (
        "acct.privatelink.example",
        8443,
    )
    assert parameters["login_timeout"] == 60


def failure_of(config, credentials) -> tuple[SnowflakeConnectionError, float]:
    started = time.monotonic()
    with pytest.raises(SnowflakeConnectionError) as error:
        create_session(config, credentials)
    return error.value, time.monotonic() - started


def test_a_name_that_does_not_resolve():
    config, credentials = real_config(host="no-such-host.invalid", login_timeout=10)
    error, _ = failure_of(config, credentials)
    assert str(error).startswith(
        "could not connect to Snowflake account 'myorg-myaccount': the host "
        "no-such-host.invalid did not resolve. Fix: check snowflake.session.host"
    )
    assert PASSWORD not in str(error)


def test_a_refused_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the probe is
    config, credentials = real_config(host="127.0.0.1", port=port, login_timeout=10)
    error, _ = failure_of(config, credentials)
    assert f"127.0.0.1:{port} refused the connection" in str(error)


def test_a_silent_server_is_given_up_on_after_login_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config, credentials = real_config(host="127.0.0.1", port=port, login_timeout=2)
        error, seconds = failure_of(config, credentials)
    assert f"127.0.0.1:{port} did not answer within 2 s" in str(error)
    assert seconds < 2 + 5  # login_timeout and the grace, not the connector's 60 s


def test_any_other_failure_keeps_the_connectors_first_line():
    config, credentials = real_config()
    error = RuntimeError(
        "390100 (08004): Incorrect username or password was specified."
    )
    assert connection_failure(error, config, credentials) == (
        "could not connect to Snowflake account 'myorg-myaccount': 390100 (08004): "
        "Incorrect username or password was specified."
    )
