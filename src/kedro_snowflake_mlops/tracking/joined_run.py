"""One MLflow run across many Kedro runs: the tasks of a Snowflake task graph.

The graph's root task creates the run and logs the parameters; every other task runs a
part of the pipeline with Kedro and logs its metrics and artifacts INTO that run; the
finalizer ends it. Before a task's Kedro run starts, the procedure calls `join_run`, and
MlflowTrackingHook then records through a JoinedRunTransport: the same transport as
always, except that starting the run returns the joined one and ending it is left to
the finalizer. `tracking_off()` says the root could not create a run (policy `warn`):
then no task creates one of its own either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .transport import RunInfo, TrackingTransport
from .values import Metric


@dataclass(frozen=True)
class JoinedRun:
    run: RunInfo | None  # None: tracking is off for this graph run
    # Where the transport reaches MLflow when conf's relative sqlite path cannot say it
    # (`run --local`: the project's own mlflow.db); None keeps conf's tracking_uri.
    tracking_uri: str | None = None


_joined: JoinedRun | None = None


def join_run(joined: JoinedRun | None) -> None:
    """Make the next Kedro runs of this process log into `joined` (None: stop)."""
    global _joined  # noqa: PLW0603 (one procedure call per process at a time)
    _joined = joined


def joined_run() -> JoinedRun | None:
    return _joined


class JoinedRunTransport(TrackingTransport):
    """Logs into an existing run; neither creates nor ends it."""

    def __init__(self, inner: TrackingTransport, run: RunInfo) -> None:
        self.inner = inner
        self.run = run
        self.uploads_artifacts_at_end = inner.uploads_artifacts_at_end

    @property
    def statements(self) -> int | None:  # type: ignore[override]
        return self.inner.statements

    def start_run(self, *args, **kwargs) -> RunInfo:
        return self.run

    def log_batch(
        self,
        run: RunInfo,
        metrics: list[Metric],
        params: dict[str, str],
        timestamp_ms: int,
    ) -> None:
        self.inner.log_batch(run, metrics, params, timestamp_ms)

    def log_artifact(self, run: RunInfo, local_path: Path) -> str:
        return self.inner.log_artifact(run, local_path)

    def flush_artifacts(self, run: RunInfo) -> None:
        self.inner.flush_artifacts(run)

    def close(self) -> None:
        self.inner.close()

    def end_run(self, run: RunInfo, status: str, end_time_ms: int) -> None:
        """The finalizer task ends the graph's run, FINISHED or FAILED."""

    def how_to_open(self, run: RunInfo) -> str:
        return self.inner.how_to_open(run)

    def find_champion(self, registry: Any, into: Path) -> Any:
        return self.inner.find_champion(registry, into)

    def tag_run(self, run: RunInfo, tags: dict[str, str]) -> None:
        self.inner.tag_run(run, tags)

    def record_candidate(self, run: RunInfo, registry: Any, candidate: Any) -> Any:
        return self.inner.record_candidate(run, registry, candidate)
