"""One MLflow run, recorded through a transport with retries and a failure policy.

The policy (`on_failure`) decides what a tracking fault does to the pipeline: `warn`
keeps the run going and says once what was not logged, `fail` raises. A missing
experiment is a configuration error and always raises before any node runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .config import MlflowConfig
from .transport import (
    ExperimentNotFoundError,
    RunInfo,
    TrackingError,
    TrackingTransport,
    with_retries,
)
from .values import Metric

logger = logging.getLogger(__name__)
T = TypeVar("T")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Tally:
    """What reached MLflow, and what did not (for the summary and warning lines)."""

    metrics: int = 0
    params: int = 0
    artifacts: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def miss(self, what: str) -> None:
        self.missed.append(what)


def summary_line(run_id: str, tally: Tally, statements: int | None) -> str:
    """`MLflow run <id>: N metrics, P params[, S SQL statements]`: statements only for
    a transport that goes through Snowflake."""
    line = f"MLflow run {run_id}: {tally.metrics} metrics, {tally.params} params"
    return line if statements is None else f"{line}, {statements} SQL statements"


class RunRecorder:
    """Starts the run, logs batches and artifacts, ends it; never loses pipeline output."""

    def __init__(
        self,
        transport: TrackingTransport,
        config: MlflowConfig,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.config = config
        self.sleep = sleep
        self.run: RunInfo | None = None
        self.tally = Tally()
        self.broken: str | None = None  # why tracking stopped (warn policy)
        # Params wait for the first batch of metrics: one statement instead of two.
        self._pending_params: dict[str, str] = {}
        # Artifacts kept by a transport that uploads them at the end: (dataset, where).
        self._waiting_artifacts: list[tuple[str, str]] = []

    def _attempt(self, what: str, call: Callable[[], T]) -> T | None:
        """Run a transport call with retries; on failure apply the policy."""
        if self.broken is not None:
            return None
        try:
            return with_retries(call, self.config.retry, self.sleep)
        except ExperimentNotFoundError:
            raise
        except Exception as error:
            reason = f"could not {what}: {_root_cause(error)}"
            if self.config.on_failure == "fail":
                raise TrackingError(
                    f"MLflow {reason} (snowflake.mlflow.on_failure is `fail`; set it "
                    "to `warn` to keep running without tracking)"
                ) from error
            self.broken = reason
            logger.warning(
                "MLflow %s. The pipeline goes on; tracking is off for the rest of "
                "this run (snowflake.mlflow.on_failure: warn).",
                reason,
            )
            return None

    def start(
        self, run_name: str, tags: dict[str, str], params: dict[str, str]
    ) -> None:
        self._pending_params = dict(params)
        self.run = self._attempt(
            f"start a run in experiment {self.config.experiment_name!r}",
            lambda: self.transport.start_run(
                self.config.experiment_name,
                run_name,
                now_ms(),
                tags,
                self.config.creates_experiment,
            ),
        )

    def log_metrics(self, dataset_name: str, metrics: list[Metric]) -> None:
        params, self._pending_params = self._pending_params, {}
        if not self._log(f"log metrics of {dataset_name}", metrics, params):
            self.tally.miss(f"{len(metrics)} metrics of {dataset_name}")
            if params:
                self.tally.miss(f"{len(params)} params")

    def _log(self, what: str, metrics: list[Metric], params: dict[str, str]) -> bool:
        if not metrics and not params:
            return True
        run = self.run
        if run is None or self.broken is not None:
            return False
        done = self._attempt(
            what,
            lambda: self.transport.log_batch(run, metrics, params, now_ms()) or True,
        )
        if done:
            self.tally.metrics += len(metrics)
            self.tally.params += len(params)
        return bool(done)

    def log_artifact(self, dataset_name: str, local_path: Path) -> None:
        run = self.run
        where = None
        if run is not None:
            where = self._attempt(
                f"upload artifact {dataset_name}",
                lambda: self.transport.log_artifact(run, local_path),
            )
        if where is None:
            self.tally.miss(f"artifact {dataset_name}")
        elif self.transport.uploads_artifacts_at_end:
            self._waiting_artifacts.append((dataset_name, where))
        else:
            self.tally.artifacts.append(where)

    def _upload_artifacts(self) -> None:
        """Artifacts kept until the end go up now, FAILED runs included."""
        waiting, self._waiting_artifacts = self._waiting_artifacts, []
        if not waiting:
            return
        run = self.run
        uploaded = run is not None and self._attempt(
            f"upload {len(waiting)} artifacts",
            lambda: self.transport.flush_artifacts(run) or True,
        )
        for dataset_name, where in waiting:
            if uploaded:
                self.tally.artifacts.append(where)
            else:
                self.tally.miss(f"artifact {dataset_name}")

    def finish(self, status: str) -> str:
        """Flush what waits, set the final status; returns the line to show the user."""
        try:
            return self._finish(status)
        finally:
            self.transport.close()

    def _finish(self, status: str) -> str:
        params, self._pending_params = self._pending_params, {}
        if params and not self._log("log params", [], params):
            self.tally.miss(f"{len(params)} params")
        self._upload_artifacts()
        run = self.run
        ended = run is not None and self._attempt(
            f"set the run's status to {status}",
            lambda: self.transport.end_run(run, status, now_ms()) or True,
        )
        if not ended:
            self.tally.miss(f"status {status}")
        run_id = run.run_id if run is not None else "(not created)"
        line = summary_line(run_id, self.tally, self.transport.statements)
        if self.tally.missed:
            cause = f" because MLflow {self.broken}" if self.broken else ""
            return f"{line}; NOT logged: {', '.join(self.tally.missed)}{cause}"
        return f"{line}; {self.transport.how_to_open(run)}"


def _root_cause(error: BaseException) -> str:
    """The innermost error of the chain: Snowpark wraps what the function raised."""
    seen = {id(error)}
    while (inner := error.__cause__ or error.__context__) is not None:
        if id(inner) in seen:
            break
        seen.add(id(inner))
        error = inner
    text = (str(error).strip() or repr(error)).splitlines()[0][:300]
    return f"{type(error).__name__}: {text}"
