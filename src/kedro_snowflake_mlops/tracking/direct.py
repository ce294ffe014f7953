"""The offline default: the MLflow client against a tracking URI (sqlite:///mlflow.db).

`kedro run` uses this transport in a worker process of its own (see worker.py), so that
importing MLflow and opening the store happen while the pipeline runs.

The client is created on first use, inside the calls the recorder retries: opening the
store is a tracking call like any other, under the same retries and failure policy. A
local sqlite store is opened under a file lock and checked first (local_store.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..conf import first_line, without_credentials
from . import local_store
from .transport import (
    RUN_KEY_TAG,
    ExperimentNotFoundError,
    RunInfo,
    TrackingTransport,
    is_transient,
)
from .values import Metric


def client_environment(timeout_seconds: float) -> dict[str, str]:
    """MLflow client settings for our calls: the client retries HTTP errors for minutes
    by default, and our retry policy (snowflake.mlflow.retry) applies instead; it prints
    "View run <name> at: <url>" itself, with any credentials of the URL, and our summary
    line says where the run is instead."""
    return {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(math.ceil(timeout_seconds)),
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }


@contextmanager
def _client_limits(timeout_seconds: float) -> Iterator[None]:
    """client_environment() during one call (the worker process sets it for good)."""
    wanted = client_environment(timeout_seconds)
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


# What this transport imports when it first needs MLflow (it needs seconds). A process
# that must have them loaded up front imports these: Snowpark local testing forgets
# modules first imported inside a procedure call (`kedro snowflake run --local`).
MLFLOW_MODULES = (
    "mlflow",
    "mlflow.entities",
    "mlflow.store.db.utils",
    "mlflow.store.tracking.sqlalchemy_store",
)


def _forget_engines(database: Path) -> None:
    """MLflow keeps one engine per database URI for the process; after the file was
    moved aside, its pooled connections would still reach the old file."""
    from mlflow.store.tracking.sqlalchemy_store import (  # noqa: PLC0415
        SqlAlchemyStore,
    )

    engines = getattr(SqlAlchemyStore, "_engine_map", {})
    for uri in list(engines):
        found = local_store.sqlite_file(uri)
        if found is not None and found.resolve() == database.resolve():
            engines.pop(uri).dispose()


def _already_exists(error: Exception) -> bool:
    return getattr(error, "error_code", None) == "RESOURCE_ALREADY_EXISTS"


class DirectTransport(TrackingTransport):
    """Every call is an MLflow client call; no Snowflake statements."""

    can_find_runs = True

    def __init__(
        self,
        tracking_uri: str,
        timeout_seconds: float,
        artifact_root: Path,
        display_uri: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        # As configured (sqlite:///mlflow.db): what to type in the project folder.
        self.display_uri = without_credentials(display_uri or tracking_uri)
        self.timeout_seconds = timeout_seconds
        # Where a new experiment keeps artifacts: the project, not the shell's cwd.
        self.artifact_root = artifact_root
        self._client: Any = None
        # Lines for the user (a half-created store moved aside).
        self.notes: list[str] = []

    @property
    def client(self) -> Any:
        """The MLflow client, its store opened (and checked) on first use."""
        if self._client is None:
            with _client_limits(self.timeout_seconds):
                self._client = self._open()
        return self._client

    def _open(self) -> Any:
        from mlflow import MlflowClient  # noqa: PLC0415 - seconds to import

        database = local_store.sqlite_file(self.tracking_uri)
        if database is None:
            return MlflowClient(tracking_uri=self.tracking_uri)
        local_store.check_file(database)
        with local_store.store_lock(database, self.timeout_seconds):
            try:
                return MlflowClient(tracking_uri=self.tracking_uri)
            except Exception as error:
                if is_transient(error):
                    raise  # another process writes: tried again
                # Only now look closer (it costs MLflow's schema scan): a store left
                # half-created is moved aside and a new one made; otherwise say why.
                note = self._diagnose(database, error)
            self.notes.append(note)
            return MlflowClient(tracking_uri=self.tracking_uri)

    @staticmethod
    def _diagnose(database: Path, error: Exception) -> str:
        """A note when the store was repaired; StoreProblem (or `error`) otherwise."""
        import mlflow  # noqa: PLC0415
        from mlflow.store.db.utils import (  # noqa: PLC0415
            _get_latest_schema_revision,
        )

        note = local_store.prepare(
            database, _get_latest_schema_revision(), mlflow.__version__
        )
        if note:
            _forget_engines(database)
            return note
        if "malformed" in str(error) or "not a database" in str(error):
            raise local_store.StoreProblem(
                f"{database} is damaged ({first_line(error)}). Fix: "
                f"{local_store.move_away_fix(database)}"
            ) from error
        raise error

    def open(self) -> None:
        """Import MLflow and open the store now (the worker does it while the pipeline
        runs); a failure here is left for the first real call to meet, and report."""
        try:
            _ = self.client
        except Exception:  # noqa: BLE001 - reported, with retries, by the first call
            pass

    def _experiment_id(self, experiment_name: str, create: bool) -> str:
        experiment = self.client.get_experiment_by_name(experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        if not create:
            raise ExperimentNotFoundError(experiment_name, self.display_uri)
        try:
            return self.client.create_experiment(
                experiment_name, artifact_location=self._artifact_location()
            )
        except Exception as error:
            # Another run created it a moment ago (two first runs at once).
            if not _already_exists(error):
                raise
            experiment = self.client.get_experiment_by_name(experiment_name)
            if experiment is None:
                raise
            return experiment.experiment_id

    def start_run(
        self,
        experiment_name: str,
        run_name: str,
        start_time_ms: int,
        tags: dict[str, str],
        create_experiment: bool,
    ) -> RunInfo:
        with _client_limits(self.timeout_seconds):
            experiment_id = self._experiment_id(experiment_name, create_experiment)
            run = self.client.create_run(
                experiment_id, start_time=start_time_ms, tags=tags, run_name=run_name
            )
        return RunInfo(
            run_id=run.info.run_id,
            experiment_id=experiment_id,
            artifact_uri=run.info.artifact_uri,
        )

    def find_run(self, experiment_name: str, run_key: str) -> RunInfo | None:
        with _client_limits(self.timeout_seconds):
            experiment = self.client.get_experiment_by_name(experiment_name)
            if experiment is None:
                return None
            # run_key is a uuid's hex digits: nothing to quote.
            found = self.client.search_runs(
                [experiment.experiment_id],
                filter_string=f"tags.`{RUN_KEY_TAG}` = '{run_key}'",
                max_results=1,
            )
        if not found:
            return None
        return RunInfo(
            run_id=found[0].info.run_id,
            experiment_id=experiment.experiment_id,
            artifact_uri=found[0].info.artifact_uri,
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
        from mlflow.entities import Metric as MlflowMetric  # noqa: PLC0415
        from mlflow.entities import Param  # noqa: PLC0415

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

    def find_champion(self, registry: Any, into: Path) -> Any:
        from ..registry.lifecycle import find_champion  # noqa: PLC0415

        with _client_limits(self.timeout_seconds):
            return find_champion(self.client, registry, into)

    def tag_run(self, run: RunInfo, tags: dict[str, str]) -> None:
        with _client_limits(self.timeout_seconds):
            for key, value in tags.items():
                self.client.set_tag(run.run_id, key, value)

    def record_candidate(self, run: RunInfo, registry: Any, candidate: Any) -> Any:
        from ..registry.lifecycle import (  # noqa: PLC0415
            record_decision,
            register_candidate,
        )

        with _client_limits(self.timeout_seconds):
            record_decision(self.client, run.run_id, candidate.decision)
            return register_candidate(self.client, run.run_id, registry, candidate)

    def how_to_open(self, run: RunInfo) -> str:
        if self.tracking_uri.startswith(("http://", "https://")):
            base = without_credentials(self.tracking_uri.rstrip("/"))
            return (
                f"open it at {base}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
            )
        return f"open it with: mlflow ui --backend-store-uri {self.display_uri}"
