"""Tags on a run that already exists (the finalizer's `kedro.failed_node`), through the
transport the run was made with."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def set_tags(transport: Any, manifest: dict[str, Any], run: Any, tags: dict) -> None:
    """MLflow client transports set them directly; external functions call the tag
    function of sql/07 (snowflake.deploy.tag_function) with the tags as rows."""
    from ..tracking.direct import DirectTransport  # noqa: PLC0415

    client = getattr(transport, "client", None)
    if isinstance(transport, DirectTransport) and client is not None:
        for key, value in tags.items():
            client.set_tag(run.run_id, key, str(value))
        return
    function = manifest.get("tag_function")
    if not function:
        logger.warning(
            "MLflow run %s is FAILED; the failed node (%s) is not tagged: set "
            "snowflake.deploy.tag_function (sql/07)",
            run.run_id,
            tags.get("kedro.failed_node"),
        )
        return
    from snowflake.snowpark.functions import call_function  # noqa: PLC0415

    from ..tracking.external_functions import frame_columns  # noqa: PLC0415

    rows = [[run.run_id, key, str(value)] for key, value in tags.items()]
    frame = transport.session.create_dataframe(rows, schema=["RUN_ID", "KEY", "VALUE"])
    transport.collect(
        frame.select(call_function(function, *frame_columns(frame)).alias("R"))
    )
