"""What every tracking transport does, and the errors and retries they share."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..conf import UserFacingError, error_chain, without_credentials
from .config import RetrySettings
from .values import Metric

T = TypeVar("T")

TOO_MANY_REQUESTS = 429
FIRST_SERVER_ERROR = 500

# Every run we create carries this tag with a key of its own (a uuid), so that a create
# retried after an answer was lost finds the run the first attempt made instead of
# making a second one.
RUN_KEY_TAG = "kedro.run_key"
# Faults worth another attempt: the service is briefly away, busy or slow. A 429/5xx
# only counts next to status wording, as MLflow's client ("failed with error code 503
# != 200"), urllib3 ("too many 503 error responses"), Snowflake's external functions
# ("remote service error: 503 ...") and HTTP reason phrases put it; a bare number in a
# message ("row 512") is data, not a status.
_STATUS = r"(?:429|5\d\d)\b"
_TRANSIENT = re.compile(
    r"(?:error code|status(?: code)?|http(?:/[\d.]+)?|remote service error)"
    rf"[ :=]*{_STATUS}"
    rf"|too many {_STATUS} error responses"
    r"|\b429 too many requests|\b5\d\d (?:internal server error|bad gateway"
    r"|service unavailable|gateway time-?out)"
    r"|timed? ?out|timeout|connection (refused|reset|aborted|error)"
    r"|max retries exceeded|temporarily unavailable|request_limit_exceeded"
    r"|temporarily_unavailable|newconnectionerror|remotedisconnected"
    # SQLite: another process writes to mlflow.db right now (a concurrent kedro run).
    r"|database is locked|database table is locked",
    re.IGNORECASE,
)


class TrackingError(UserFacingError, RuntimeError):
    """MLflow tracking could not do what was asked (after retries, where they apply).

    When it stops a `kedro run` (on_failure: fail), Kedro's CLI prints its message as
    one `Error: ...` line, without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(without_credentials(message))


def policy_failure(message: str) -> TrackingError:
    """What stops a `kedro run` under `on_failure: fail`: the fault, then the setting
    that made it stop the run and how to keep running instead."""
    return TrackingError(
        f"{message} (snowflake.mlflow.on_failure is `fail`; set it to `warn` to keep "
        "running and only report what was not logged)"
    )


class ExperimentNotFoundError(TrackingError):
    """The configured experiment does not exist and may not be created here."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(
            f"MLflow experiment {name!r} does not exist on "
            f"{without_credentials(where)}. Create it with "
            f"`mlflow experiments create --experiment-name {name!r}` (or in the MLflow "
            "UI) against that tracking server, or fix snowflake.mlflow.experiment_name "
            "in conf/<env>/snowflake.yml."
        )


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    artifact_uri: str | None = None


class TrackingTransport(ABC):
    """One MLflow run's lifecycle. Implementations do no retries of their own."""

    #: SQL statements issued so far; None for transports that issue none.
    statements: int | None = None
    #: True when log_artifact only keeps a copy and flush_artifacts uploads them all.
    uploads_artifacts_at_end: bool = False
    #: True when find_run can look a run up by its RUN_KEY_TAG (so a retried create
    #: never makes a duplicate run).
    can_find_runs: bool = False

    @abstractmethod
    def start_run(
        self,
        experiment_name: str,
        run_name: str,
        start_time_ms: int,
        tags: dict[str, str],
        create_experiment: bool,
    ) -> RunInfo:
        """Create the run in the named experiment (tags include RUN_KEY_TAG)."""

    def find_run(self, experiment_name: str, run_key: str) -> RunInfo | None:
        """The run of this experiment tagged RUN_KEY_TAG = run_key, or None. Called
        before a create is tried again; transports that cannot search return None."""
        del experiment_name, run_key
        return None

    @abstractmethod
    def log_batch(
        self,
        run: RunInfo,
        metrics: list[Metric],
        params: dict[str, str],
        timestamp_ms: int,
    ) -> None:
        """Log many metrics and params of one run in as few calls as possible."""

    @abstractmethod
    def log_artifact(self, run: RunInfo, local_path: Path) -> str:
        """Store a file with the run's artifacts (or keep it for flush_artifacts when
        uploads_artifacts_at_end); returns where it goes."""

    def flush_artifacts(self, run: RunInfo) -> None:  # noqa: B027 - optional step
        """Upload what log_artifact kept; called once, before end_run."""

    def close(self) -> None:  # noqa: B027 - optional step
        """Release local resources (temporary copies); called after the run ends."""

    @abstractmethod
    def end_run(self, run: RunInfo, status: str, end_time_ms: int) -> None:
        """Set the final status and the end time: FINISHED (the pipeline ended), FAILED
        (a node raised) or KILLED (Ctrl-C, SIGTERM, the Kedro process gone)."""

    @abstractmethod
    def how_to_open(self, run: RunInfo) -> str:
        """One sentence telling the user where to look at the run."""

    # The model registry (registry/lifecycle.py). Only transports that hold an MLflow
    # client can reach it; registry/config.py refuses the others before the first node.

    def find_champion(self, registry: Any, into: Path) -> Any:
        """The registry's champion as lifecycle.find_champion gives it (its model
        folder downloaded into `into`), or None before the first."""
        raise TrackingError(f"{type(self).__name__} cannot reach MLflow's registry")

    def tag_run(self, run: RunInfo, tags: dict[str, str]) -> None:
        """Set tags on the run (which champion it read)."""
        raise TrackingError(f"{type(self).__name__} cannot tag a run after its start")

    def record_candidate(self, run: RunInfo, registry: Any, candidate: Any) -> Any:
        """The gate's decision on the run, and the model as a new version (returns
        its mlflow_registry.VersionRef)."""
        raise TrackingError(f"{type(self).__name__} cannot reach MLflow's registry")


def is_transient(error: BaseException) -> bool:
    """True for unreachable, 429, 5xx and time-outs, anywhere in the error's chain."""
    for seen in error_chain(error):
        status = getattr(seen, "status", None) or getattr(seen, "status_code", None)
        if isinstance(status, int) and (
            status == TOO_MANY_REQUESTS or status >= FIRST_SERVER_ERROR
        ):
            return True
        if isinstance(seen, TimeoutError | ConnectionError):
            return True
        if _TRANSIENT.search(str(seen)):
            return True
    return False


def with_retries(
    call: Callable[[], T],
    retry: RetrySettings,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run call; after a transient fault wait (doubling) and try again, up to the limit."""
    delays = retry.delays()
    for delay in delays:
        try:
            return call()
        except Exception as error:
            if not is_transient(error):
                raise
            sleep(delay)
    return call()
