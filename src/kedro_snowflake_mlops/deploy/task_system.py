"""What a task's procedure asks Snowflake: the task system functions, and the ledger.

The system functions are called the way Snowflake's own snowflake-core calls them
(snowflake/core/task/context.py: `session.call("system$set_return_value", value)`, ...):
through the session, with the values as literals Snowpark writes. `kedro snowflake run
--local` registers procedures of the same names in Snowpark local testing, so this code
runs unchanged in both places.

The ledger is a table (snowflake.deploy.runs_table) where each task of a graph run
writes one row: the root the MLflow run, a task SUCCEEDED or FAILED (with the node and
the error). The finalizer has no predecessor whose return value it could read; it reads
the ledger of its graph run (keyed by CURRENT_TASK_GRAPH_RUN_GROUP_ID) instead. Rows are
dataframes of bound literals, never SQL text.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..conf import without_credentials

# Snowflake keeps a task's return value up to 10 KB; the error text is cut well below.
MAX_ERROR = 2000


class TaskContext:
    """The task system functions, as snowflake-core's TaskContext calls them."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def set_return_value(self, value: str) -> None:
        self.session.call("system$set_return_value", value)

    def predecessor_return_value(self, task_name: str) -> str | None:
        """The predecessor's value; None (SQL NULL) when it set none. `task_name` is
        the bare name as created (no database or schema), case-sensitive."""
        value = self.session.call("system$get_predecessor_return_value", task_name)
        return None if value is None else str(value)

    def graph_config(self) -> dict[str, Any]:
        config = self.session.call("system$get_task_graph_config")
        return json.loads(config) if config else {}

    def graph_run_id(self) -> str:
        """CURRENT_TASK_GRAPH_RUN_GROUP_ID: the same in every task of one graph run."""
        from snowflake.snowpark.functions import call_function, lit  # noqa: PLC0415

        frame = self.session.create_dataframe([[1]], schema=["ONE"])
        row = frame.select(
            call_function(
                "system$task_runtime_info", lit("CURRENT_TASK_GRAPH_RUN_GROUP_ID")
            ).alias("GROUP_ID")
        ).collect()[0]
        return str(row[0])


# The ledger's columns and their Snowflake types; deploy creates the table with them.
LEDGER_COLUMNS = {
    "GRAPH": "VARCHAR",  # the graph's task prefix: pipelines share the table
    "GROUP_ID": "VARCHAR",
    "TASK": "VARCHAR",
    "STATE": "VARCHAR",
    "NODE": "VARCHAR",
    "ERROR": "VARCHAR",
    "RUN": "VARCHAR",
    "AT_MS": "NUMBER",
}


def _schema():
    from snowflake.snowpark.types import (  # noqa: PLC0415
        LongType,
        StringType,
        StructField,
        StructType,
    )

    types = {"VARCHAR": StringType, "NUMBER": LongType}
    return StructType(
        [StructField(name, types[kind]()) for name, kind in LEDGER_COLUMNS.items()]
    )


def ledger_write(  # noqa: PLR0913 (one row's columns)
    session: Any,
    table: str,
    group_id: str,
    *,
    graph: str,
    task: str,
    state: str,
    node: str = "",
    error: str = "",
    run: str = "",
) -> None:
    # The error is shown by `kedro snowflake run` and becomes an MLflow tag: never the
    # credentials of a URL in it.
    error = without_credentials(error)[:MAX_ERROR]
    row = [graph, group_id, task, state, node, error, run, int(time.time() * 1000)]
    frame = session.create_dataframe([row], schema=_schema())
    frame.write.save_as_table(table.split("."), mode="append")


def create_ledger(session: Any, table: str) -> None:
    """The empty table (deploy creates it with CREATE TABLE IF NOT EXISTS)."""
    frame = session.create_dataframe([], schema=_schema())
    frame.write.save_as_table(table.split("."), mode="ignore")


def ledger_rows(session: Any, table: str, group_id: str) -> list[dict[str, Any]]:
    from snowflake.snowpark.functions import col, lit  # noqa: PLC0415

    rows = (
        session.table(table.split("."))
        .filter(col("GROUP_ID") == lit(group_id))
        .collect()
    )
    return [row.as_dict() for row in rows]
