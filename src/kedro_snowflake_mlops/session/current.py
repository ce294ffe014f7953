"""The Snowpark session of the current run, for the datasets and the tracking.

SnowparkSessionHook sets it when it opens the session; inside a Snowflake procedure the
procedure's own session is set instead. Without one, Snowpark's single active session is
used (Snowpark refuses to choose when there are several).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snowflake.snowpark import Session

_run_session: Session | None = None
# A session the process was given (a Snowflake procedure's own): runs use it as it is,
# and nobody here closes it.
_provided_session: Session | None = None


class NoSessionError(RuntimeError):
    """No session for this run: nothing opened one."""


def set_run_session(session: Session | None) -> None:
    """Make `session` the one every table and the tracking of this run use."""
    global _run_session  # noqa: PLW0603 (one run per process, like Snowpark's own)
    _run_session = session


def run_session() -> Session:
    """The session of the current run."""
    if _run_session is not None:
        return _run_session
    from snowflake.snowpark.context import get_active_session  # noqa: PLC0415
    from snowflake.snowpark.exceptions import (  # noqa: PLC0415
        SnowparkSessionException,
    )

    try:
        return get_active_session()
    except SnowparkSessionException as error:
        raise NoSessionError(
            "no Snowpark session for this run: register SnowparkSessionHook in "
            "settings.py (HOOKS), which opens one for every run"
        ) from error


def provide_session(session: Session | None) -> None:
    """Inside a Snowflake procedure: every Kedro run of this process uses `session`
    (SnowparkSessionHook opens none of its own and closes none)."""
    global _provided_session  # noqa: PLW0603 (one procedure call per process)
    _provided_session = session
    set_run_session(session)


def provided_session() -> Session | None:
    return _provided_session
