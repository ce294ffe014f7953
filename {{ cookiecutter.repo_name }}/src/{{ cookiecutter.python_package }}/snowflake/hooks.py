"""The Kedro hook that gives every `kedro run` exactly one Snowpark session."""

from __future__ import annotations

import logging

from kedro.framework.hooks import hook_impl
from snowflake.snowpark import Session

from .conf import read_snowflake_conf
from .session import SessionConfig, create_session

logger = logging.getLogger(__name__)


class SnowparkSessionHook:
    """Creates the session before any dataset loads and closes it after the run.

    SnowparkTableDataset reuses Snowpark's active session when there is exactly one, so
    every table in the catalog shares this session (offline, that is also what makes the
    tables written by one node visible to the next).
    """

    def __init__(self) -> None:
        self.session: Session | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        block = read_snowflake_conf(context.config_loader).get("session", {})
        config = SessionConfig.model_validate(block)
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
        self._close()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
