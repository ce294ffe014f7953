"""Run a Kedro pipeline of a baked project in THIS process, its tracking through the five
external functions emulated as in test_tracking_external_functions.py (the project's own
translator JavaScript in V8, POSTing to a real `mlflow server`).

    python tests/support/run_with_external_functions.py <project> <env> <pipeline> <url>

A process of its own, so that a test can send it real signals: with this transport the
run is recorded in the Kedro process itself (no worker), through its Snowpark session.
Prints `ready` when the functions are registered; Kedro's log goes to stdout as usual.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support

from kedro.framework.session import KedroSession  # noqa: E402
from kedro.framework.startup import bootstrap_project  # noqa: E402
from snowflake.snowpark.mock import patch  # noqa: E402
from snowflake.snowpark.mock._functions import ColumnEmulator, ColumnType  # noqa: E402
from snowflake.snowpark.types import VariantType  # noqa: E402

from support.external_functions import ExternalFunctionEmulator  # noqa: E402

PREFIX = "demo.demo.mlflow_"  # the default answers' database and schema


def register(emulator: ExternalFunctionEmulator) -> None:
    """Each of the five names answers through the emulator (rows in, VARIANTs out)."""

    def plain(value):
        return value.item() if hasattr(value, "item") else value

    def forward(function: str, *columns: ColumnEmulator) -> ColumnEmulator:
        rows = [[plain(value) for value in row] for row in zip(*columns, strict=True)]
        results = emulator.call(PREFIX + function, rows)
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
        patch(PREFIX + implementation.__name__)(implementation)


def main() -> int:
    project, env, pipeline, mlflow_url = sys.argv[1:5]
    register(ExternalFunctionEmulator(Path(project) / "sql", mlflow_url))
    print("ready", flush=True)
    bootstrap_project(Path(project))
    with KedroSession.create(project_path=Path(project), env=env) as session:
        session.run(pipeline_names=[pipeline])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
