"""Create the one Snowpark session of a run, from a validated session block.

Connecting to a real account is bounded by `snowflake.session.login_timeout` whatever
the network does, and a failure is one line saying what went wrong: the host did not
resolve, refused the connection, did not answer in time, or Snowflake refused the login.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..conf import UserFacingError, error_chain, first_line
from .config import ENV_VARIABLES, Credentials, SessionConfig, connection_parameters

if TYPE_CHECKING:
    from snowflake.snowpark import Session

T = TypeVar("T")

# A login that has not ended this long after login_timeout is abandoned: the connector
# bounds DNS and refused connections by login_timeout itself, but a silent network only
# by its socket read timeout (60 s), whatever login_timeout says.
_GRACE_SECONDS = 2


class SnowflakeConnectionError(UserFacingError):
    """The session could not be opened; one line naming the cause and the fix."""


def create_session(
    config: SessionConfig, credentials: Credentials | None = None
) -> Session:
    """Create the session and make it Snowpark's active session."""
    # Imported here: Snowpark takes a second to import, and `kedro --help` needs none.
    from snowflake.snowpark import Session  # noqa: PLC0415

    parameters = connection_parameters(config, credentials)
    if config.mode != "local_testing":
        return bounded_login(
            lambda: Session.builder.configs(parameters).create(), config, credentials
        )
    session = Session.builder.configs(parameters).create()
    from .local_testing import (  # noqa: PLC0415
        emulate_copy_files,
        patch_local_testing,
    )

    patch_local_testing()
    # Artifacts travel by COPY FILES with the external-functions transport; local
    # testing has no COPY FILES of its own.
    emulate_copy_files(session)
    return session


def local_testing_session(database: str = "TEST_DB", schema: str = "TEST") -> Session:
    """An offline session like the one `kedro run` uses: for tests of Snowpark nodes."""
    return create_session(SessionConfig(database=database, schema=schema))


@contextmanager
def _quiet_connector() -> Iterator[None]:
    """The connector logs every retry with a traceback (hundreds of lines for one
    mistyped account); the one line raised below says what happened instead."""
    connector = logging.getLogger("snowflake.connector")
    level = connector.level
    connector.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        connector.setLevel(level)


def connect_connector(
    config: SessionConfig,
    credentials: Credentials,
    without: tuple[str, ...] = (),
) -> Any:
    """A snowflake-connector connection (not a Snowpark session), bounded and explained
    like create_session; `without` drops connection keys (the setup scripts create the
    role, warehouse and database the session block names)."""
    import snowflake.connector  # noqa: PLC0415

    parameters = connection_parameters(config, credentials)
    for key in without:
        parameters.pop(key, None)
    # qmark, as Snowpark's own connection: `?` marks a value the server binds.
    return bounded_login(
        lambda: snowflake.connector.connect(**parameters, paramstyle="qmark"),
        config,
        credentials,
    )


def bounded_login(
    login_call: Callable[[], T],
    config: SessionConfig,
    credentials: Credentials | None,
) -> T:
    """Log in on a helper thread and wait at most login_timeout (plus a little)."""
    outcome: dict[str, Any] = {}

    def login() -> None:
        try:
            outcome["session"] = login_call()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = error

    # A daemon thread: a login still hanging when we give up must not keep the
    # process alive.
    thread = threading.Thread(target=login, name="snowflake-login", daemon=True)
    with _quiet_connector():
        thread.start()
        thread.join(config.login_timeout + _GRACE_SECONDS)
    if "session" in outcome:
        return outcome["session"]
    error = outcome.get("error")
    raise SnowflakeConnectionError(
        connection_failure(error, config, credentials)
    ) from error


def connection_failure(
    error: BaseException | None,
    config: SessionConfig,
    credentials: Credentials | None,
) -> str:
    """One line: which account, what went wrong on the way, and what to check.
    `error` None means the login did not end within login_timeout."""
    account = credentials.account if credentials else "?"
    host = config.host or f"{account}.snowflakecomputing.com"
    where = f"{host}:{config.port}" if config.port else host
    head = f"could not connect to Snowflake account {account!r}"
    host_fix = (
        f"check {ENV_VARIABLES['account']} (the account identifier, such as "
        "myorg-myaccount, from Snowsight > Account details)"
    )
    if config.host:
        host_fix = "check snowflake.session.host in conf/<env>/snowflake.yml"
    chain = list(error_chain(error))
    timed_out = error is None or any(
        isinstance(e, TimeoutError | socket.timeout) for e in chain
    )
    if any(isinstance(e, socket.gaierror) for e in chain):
        return f"{head}: the host {host} did not resolve. Fix: {host_fix}"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return (
            f"{head}: {where} refused the connection. Fix: {host_fix}, and that no "
            "proxy or firewall stands in the way"
        )
    if timed_out:
        return (
            f"{head}: {where} did not answer within {config.login_timeout} s "
            "(snowflake.session.login_timeout). Fix: check the network (a proxy, a "
            "firewall, a VPN); raise login_timeout only for a slow network"
        )
    # The connector's own first line (an authentication error, a locked user...): it
    # never holds the secret.
    return f"{head}: {first_line(chain[0])}"
