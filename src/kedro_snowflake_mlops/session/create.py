"""Create the one Snowpark session of a run, from a validated session block."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import Credentials, SessionConfig, connection_parameters

if TYPE_CHECKING:
    from snowflake.snowpark import Session


def create_session(
    config: SessionConfig, credentials: Credentials | None = None
) -> Session:
    """Create the session and make it Snowpark's active session."""
    # Imported here: Snowpark takes a second to import, and `kedro --help` needs none.
    from snowflake.snowpark import Session  # noqa: PLC0415

    session = Session.builder.configs(
        connection_parameters(config, credentials)
    ).create()
    if config.mode == "local_testing":
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
