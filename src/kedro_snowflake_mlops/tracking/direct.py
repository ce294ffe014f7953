"""The offline default: the MLflow client against a tracking URI (sqlite:///mlflow.db)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric as MlflowMetric
from mlflow.entities import Param

from .transport import (
    ExperimentNotFoundError,
    RunInfo,
    TrackingTransport,
)
from .values import Metric


@contextmanager
def _client_limits(timeout_seconds: float) -> Iterator[None]:
    """The MLflow client retries HTTP errors for minutes by default; our retry policy
    (snowflake.mlflow.retry) applies instead, so its own retries are off during our calls."""
    wanted = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(math.ceil(timeout_seconds)),
    }
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class DirectTransport(TrackingTransport):
    """Every call is an MLflow client call; no Snowflake statements."""

    def __init__(
        self,
        tracking_uri: str,
        timeout_seconds: float,
        artifact_root: Path,
        display_uri: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        # As configured (sqlite:///mlflow.db): what to type in the project folder.
        self.display_uri = display_uri or tracking_uri
        self.timeout_seconds = timeout_seconds
        # Where a new experiment keeps artifacts: the project, not the shell's cwd.
        self.artifact_root = artifact_root
        self.client = MlflowClient(tracking_uri=tracking_uri)

    def start_run(
        self,
        experiment_name: str,
        run_name: str,
        start_time_ms: int,
        tags: dict[str, str],
        create_experiment: bool,
    ) -> RunInfo:
        with _client_limits(self.timeout_seconds):
            experiment = self.client.get_experiment_by_name(experiment_name)
            if experiment is not None:
                experiment_id = experiment.experiment_id
            elif create_experiment:
                experiment_id = self.client.create_experiment(
                    experiment_name, artifact_location=self._artifact_location()
                )
            else:
                raise ExperimentNotFoundError(experiment_name, self.tracking_uri)
            run = self.client.create_run(
                experiment_id, start_time=start_time_ms, tags=tags, run_name=run_name
            )
        return RunInfo(
            run_id=run.info.run_id,
            experiment_id=experiment_id,
            artifact_uri=run.info.artifact_uri,
        )

    def _artifact_location(self) -> str | None:
        if self.tracking_uri.startswith("sqlite:") or "://" not in self.tracking_uri:
            return self.artifact_root.resolve().as_uri()
        return None  # a tracking server decides where artifacts go

    def log_batch(
        self,
        run: RunInfo,
        metrics: list[Metric],
        params: dict[str, str],
        timestamp_ms: int,
    ) -> None:
        with _client_limits(self.timeout_seconds):
            self.client.log_batch(
                run.run_id,
                metrics=[
                    MlflowMetric(metric.key, metric.value, timestamp_ms, metric.step)
                    for metric in metrics
                ],
                params=[Param(key, value) for key, value in params.items()],
            )

    def log_artifact(self, run: RunInfo, local_path: Path) -> str:
        with _client_limits(self.timeout_seconds):
            self.client.log_artifact(run.run_id, str(local_path))
        return f"{run.artifact_uri}/{local_path.name}"

    def end_run(self, run: RunInfo, status: str, end_time_ms: int) -> None:
        with _client_limits(self.timeout_seconds):
            self.client.set_terminated(run.run_id, status=status, end_time=end_time_ms)

    def how_to_open(self, run: RunInfo) -> str:
        if self.tracking_uri.startswith(("http://", "https://")):
            base = self.tracking_uri.rstrip("/")
            return (
                f"open it at {base}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
            )
        return f"open it with: mlflow ui --backend-store-uri {self.display_uri}"
