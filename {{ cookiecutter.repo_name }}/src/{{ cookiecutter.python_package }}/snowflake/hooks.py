"""The Kedro hook that gives every `kedro run` exactly one Snowpark session."""

from __future__ import annotations

import atexit
import logging

from kedro.framework.hooks import hook_impl
from snowflake.snowpark import Session

from .conf import read_snowflake_conf
from .session import create_session, load_session_config

logger = logging.getLogger(__name__)


class SnowparkSessionHook:
    """Creates the session before any dataset loads and closes it after the run.

    SnowparkTableDataset reuses Snowpark's active session when there is exactly one, so
    every table in the catalog shares this session (offline, that is also what makes the
    tables written by one node visible to the next).
    """

    def __init__(self) -> None:
        self.session: Session | None = None
        # The session is opened with the context, but a context is not always followed
        # by a run (`kedro ipython`, tests calling load_context()), and a failing
        # after_pipeline_run of another hook (tracking with on_failure: fail) skips ours.
        # Closing at interpreter exit covers both; close() is idempotent.
        atexit.register(self.close)

    @hook_impl
    def after_context_created(self, context) -> None:
        self.close()  # a second context in the same process replaces the first session
        block = read_snowflake_conf(context.config_loader).get("session")
        config = load_session_config(block)
        self.session = create_session(config)
        where = (
            "Snowpark local testing (offline)"
            if config.mode == "local_testing"
            else f"Snowflake account {config.account} as {config.user}"
        )
        logger.info(
            "Snowpark session: %s, %s.%s", where, config.database, config.schema_
        )

    @hook_impl
    def after_pipeline_run(self) -> None:
        self.close()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the session this hook opened, if it is still open."""
        if self.session is not None:
            session, self.session = self.session, None
            session.close()
