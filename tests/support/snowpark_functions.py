"""The five MLflow external functions, registered with Snowpark local testing.

Local testing cannot call an external function, so each name is patched
(`snowflake.snowpark.mock.patch`) with an implementation that hands its rows to an
ExternalFunctionEmulator: the project's own translator JavaScript in V8, POSTing to a
real `mlflow server`. Only Snowflake's side of the call is emulated.

(`kedro snowflake run --local` plays Snowflake in a process that sees only the standard
library and Snowpark; tests/support/local_patches.py does the same there, through a
bridge.)
"""

from __future__ import annotations

from collections.abc import Callable

from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._functions import ColumnEmulator, ColumnType
from snowflake.snowpark.types import VariantType

from .external_functions import ExternalFunctionEmulator

# The default answers' database and schema, and the functions' common prefix.
PREFIX = "demo.demo.mlflow_"


def patch_external_functions(
    emulator: Callable[[], ExternalFunctionEmulator], prefix: str = PREFIX
) -> None:
    """Register the five names process-wide (the last registration wins). `emulator`
    is asked at each call, so a test can swap it (to take MLflow away, say)."""

    def forward(function: str, *columns: ColumnEmulator) -> ColumnEmulator:
        # Local testing hands numpy scalars; Snowflake would hand plain SQL values.
        rows = [
            [value.item() if hasattr(value, "item") else value for value in row]
            for row in zip(*columns, strict=True)
        ]
        results = emulator().call(prefix + function, rows)
        return ColumnEmulator(results, sf_type=ColumnType(VariantType(), True))

    def experiment_get_by_name(experiment_name: ColumnEmulator) -> ColumnEmulator:
        return forward("experiment_get_by_name", experiment_name)

    def run_create(
        experiment_id: ColumnEmulator,
        run_name: ColumnEmulator,
        start_time_ms: ColumnEmulator,
        tags: ColumnEmulator,
    ) -> ColumnEmulator:
        return forward("run_create", experiment_id, run_name, start_time_ms, tags)

    def run_update(
        run_id: ColumnEmulator, status: ColumnEmulator, end_time_ms: ColumnEmulator
    ) -> ColumnEmulator:
        return forward("run_update", run_id, status, end_time_ms)

    def run_log_metric(
        run_id: ColumnEmulator,
        key: ColumnEmulator,
        value: ColumnEmulator,
        step: ColumnEmulator,
        timestamp_ms: ColumnEmulator,
    ) -> ColumnEmulator:
        return forward("run_log_metric", run_id, key, value, step, timestamp_ms)

    def run_log_parameter(
        run_id: ColumnEmulator, key: ColumnEmulator, value: ColumnEmulator
    ) -> ColumnEmulator:
        return forward("run_log_parameter", run_id, key, value)

    for implementation in (
        experiment_get_by_name,
        run_create,
        run_update,
        run_log_metric,
        run_log_parameter,
    ):
        patch(prefix + implementation.__name__)(implementation)
