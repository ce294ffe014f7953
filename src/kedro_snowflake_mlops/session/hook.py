"""The Kedro hook that gives every `kedro run` exactly one Snowpark session."""

from __future__ import annotations

import atexit
import logging
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from ..conf import read_snowflake_conf
from .current import provided_session, set_run_session

if TYPE_CHECKING:
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)


class SnowparkSessionHook:
    """Creates the session before any dataset loads and closes it after the run.

    Every Snowflake table in the catalog reads and writes through this session (see
    current.py), so all of them share it (offline, that is also what makes the tables
    written by one node visible to the next). The session is opened first and closed
    last (`tryfirst` / `trylast`), so other hooks can use it in between, whatever their
    order in settings.HOOKS.
    """

    def __init__(self) -> None:
        self.session: Session | None = None
        # A context is not always followed by a run (`kedro ipython`, tests calling
        # load_context()), and a failing after_pipeline_run of another hook skips ours.
        # Closing at interpreter exit covers both; close() is idempotent.
        atexit.register(self.close)

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        # Imported here: settings.py imports this module for every `kedro` command.
        from .config import load_credentials, load_session_config  # noqa: PLC0415
        from .create import create_session  # noqa: PLC0415

        self.close()  # a second context in the same process replaces the first session
        if provided_session() is not None:
            # Inside a Snowflake procedure: its own session, whatever conf says.
            set_run_session(provided_session())
            logger.info("Snowpark session: the procedure's own (inside Snowflake)")
            return
        loader = context.config_loader
        config = load_session_config(read_snowflake_conf(loader).get("session"))
        credentials = None
        if config.mode == "snowflake":
            credentials = load_credentials(loader, config.credentials)
        self.session = create_session(config, credentials)
        set_run_session(self.session)
        where = (
            "Snowpark local testing (offline)"
            if credentials is None
            else f"Snowflake account {credentials.account} as {credentials.user}"
        )
        logger.info(
            "Snowpark session: %s, %s.%s", where, config.database, config.schema_
        )

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        self.close()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the session this hook opened, if it is still open."""
        if self.session is not None:
            session, self.session = self.session, None
            set_run_session(None)
            session.close()
