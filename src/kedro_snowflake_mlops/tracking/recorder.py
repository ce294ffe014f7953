"""One MLflow run, recorded through a transport with retries and a failure policy.

Every call to MLflow (opening a local store included) is retried on transient faults
(`snowflake.mlflow.retry`); what still fails goes through the policy (`on_failure`):
`warn` keeps the pipeline going and the summary line says, once, what was not logged
and in which state the run was left; `fail` raises one TrackingError naming the
setting. A missing experiment is a configuration error and always raises.

A fault never switches tracking off: the next call is tried again (once, until one
succeeds, so that an unreachable server does not cost every call all its retries), and
the final status always gets every retry. The run is created with its tags, among
them a key of its own (RUN_KEY_TAG): a create tried again after an answer was lost
looks that key up first, where the transport can, instead of making a second run.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..conf import error_chain, without_credentials
from .config import MlflowConfig, RetrySettings
from .transport import (
    RUN_KEY_TAG,
    ExperimentNotFoundError,
    RunInfo,
    TrackingError,
    TrackingTransport,
    policy_failure,
    with_retries,
)
from .values import Metric

T = TypeVar("T")

_ONE_ATTEMPT = RetrySettings(attempts=1)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Tally:
    """What reached MLflow, and what did not (for the summary and warning lines)."""

    metrics: int = 0
    params: int = 0
    artifacts: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    # Model versions registered by the run, e.g. "spaceflights_price version 2 (champion)".
    registered: list[str] = field(default_factory=list)
    # The champion the run read (compared with, or predicted with), if any.
    champion: str | None = None

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
        self.run_key = uuid.uuid4().hex
        self.tally = Tally()
        # The first fault that made something miss MLflow (shown in the summary).
        self.first_fault: str | None = None
        # After a call failed all its attempts, later calls get one attempt each until
        # one succeeds: a server that is down costs each call one try, not all retries.
        self.degraded = False
        # Lines for the user besides the summary (a repaired store, a possible
        # duplicate run); the hook logs them as warnings.
        self.notes: list[str] = []
        self._failure: TrackingError | None = None  # raised once the run has ended
        # Artifacts kept by a transport that uploads them at the end: (dataset, where).
        self._waiting_artifacts: list[tuple[str, str]] = []

    def _attempt(
        self, what: str, call: Callable[[], T], final: bool = False
    ) -> T | None:
        """Run a transport call with retries; on failure apply the policy."""
        retry = self.config.retry if final or not self.degraded else _ONE_ATTEMPT
        try:
            result = with_retries(call, retry, self.sleep)
        except ExperimentNotFoundError:
            raise
        except Exception as error:
            self.degraded = True
            reason = f"could not {what}: {_root_cause(error)}"
            self.first_fault = self.first_fault or reason
            failure = policy_failure(f"MLflow {reason}")
            if self.config.on_failure == "fail":
                if not final:
                    raise failure from error
                self._failure = self._failure or failure
            return None
        self.degraded = False
        return result

    def start(
        self,
        run_name: str,
        tags: dict[str, str],
        params: dict[str, str],
        start_time_ms: int | None = None,
    ) -> None:
        """Create the run with its tags, then log the params: both are in MLflow before
        the first node runs, whatever happens to the pipeline later. Times default to
        now; a recorder in another process is given the Kedro process's times."""
        tags = {**tags, RUN_KEY_TAG: self.run_key}
        start_time = start_time_ms or now_ms()
        tries = 0

        def create() -> RunInfo:
            nonlocal tries
            tries += 1
            if tries > 1:  # the last attempt may have created it before failing
                found = self.transport.find_run(
                    self.config.experiment_name, self.run_key
                )
                if found is not None:
                    return found
            return self.transport.start_run(
                self.config.experiment_name,
                run_name,
                start_time,
                tags,
                self.config.creates_experiment,
            )

        self.run = self._attempt(
            f"start a run in experiment {self.config.experiment_name!r}", create
        )
        if self.run is not None and tries > 1 and not self.transport.can_find_runs:
            self.notes.append(
                f"MLflow: creating run {self.run.run_id} took {tries} attempts and "
                "this transport cannot look runs up, so an earlier attempt may have "
                f"left a duplicate RUNNING run: look for tag {RUN_KEY_TAG} = "
                f"{self.run_key} in the MLflow UI and delete the one that is not "
                f"{self.run.run_id}."
            )
        if params and not self._log("log params", [], params, start_time):
            self.tally.miss(f"{len(params)} params")

    def log_metrics(
        self,
        dataset_name: str,
        metrics: list[Metric],
        timestamp_ms: int | None = None,
    ) -> None:
        what = f"log metrics of {dataset_name}"
        if not self._log(what, metrics, {}, timestamp_ms or now_ms()):
            self.tally.miss(f"{len(metrics)} metrics of {dataset_name}")

    def _log(
        self,
        what: str,
        metrics: list[Metric],
        params: dict[str, str],
        timestamp_ms: int,
    ) -> bool:
        if not metrics and not params:
            return True
        run = self.run
        if run is None:
            return False
        done = self._attempt(
            what,
            lambda: (
                self.transport.log_batch(run, metrics, params, timestamp_ms) or True
            ),
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

    def prefetch_champion(self, registry: Any) -> None:
        """Nothing to do ahead here: in this process the champion is read when asked."""
        del registry

    def read_champion(self, registry: Any) -> tuple[Any, bool]:
        """(the registry's champion or None, whether it could be read), its model
        loaded in this process. A champion that could not be read is not the same as
        none: the gate then compares with nothing, and the alias stays."""
        from ..registry.lifecycle import load_champion  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="kedro-champion-") as folder:
            found, known = self.find_champion(registry, Path(folder))
            return (load_champion(found) if found else None), known

    def find_champion(self, registry: Any, into: Path) -> tuple[Any, bool]:
        """As read_champion, with the model folder downloaded into `into` but not
        loaded (lifecycle.find_champion); the run is tagged with the version."""
        found = self._attempt(
            f"read the {registry.alias} of model {registry.model_name}",
            lambda: (self.transport.find_champion(registry, into),),
        )
        if found is None:
            self.tally.miss(self.champion_miss(registry))
            return None, False
        champion = found[0]
        if champion is not None:
            self.tally.champion = (
                f"{champion['name']} version {champion['version']} ({registry.alias})"
            )
        if self.run is not None:
            self.tag_champion(registry, champion)
        return champion, True

    def tag_champion(self, registry: Any, champion: Any) -> None:
        """Tag the run with the champion it read (lifecycle.champion_tags)."""
        from ..registry.lifecycle import champion_tags  # noqa: PLC0415

        run = self.run
        tagged = run is not None and self._attempt(
            "tag the run with the champion it read",
            lambda: (
                self.transport.tag_run(run, champion_tags(registry, champion)) or True
            ),
        )
        if not tagged:
            self.tally.miss("the tags naming the champion")

    @staticmethod
    def champion_miss(registry: Any) -> str:
        """What the summary names when the champion could not be read."""
        return (
            f"the move of the {registry.alias} alias of {registry.model_name} (its "
            "current version could not be read)"
        )

    def register(self, registry: Any, candidate: Any) -> None:
        """The gate's decision on the run and the model as a new version; named in the
        summary line either way."""
        run = self.run
        what = f"a version of model {registry.model_name}"
        done = run is not None and self._attempt(
            f"register {what}",
            lambda: (self.transport.record_candidate(run, registry, candidate),),
        )
        if not done:
            self.tally.miss(what)
            return
        ref = done[0]
        aliases = [registry.challenger_alias]
        aliases += [registry.alias] if candidate.decision.passed else []
        self.tally.registered.append(
            f"{ref.name} version {ref.version} ({', '.join(aliases)})"
        )

    def not_logged(self, what: str) -> None:
        """Something the hook could not even hand to MLflow (an artifact that cannot
        be serialised): named in the summary with what MLflow missed."""
        self.tally.miss(what)

    def _upload_artifacts(self) -> None:
        """Artifacts kept until the end go up now, FAILED runs included."""
        waiting, self._waiting_artifacts = self._waiting_artifacts, []
        if not waiting:
            return
        run = self.run
        uploaded = run is not None and self._attempt(
            f"upload {len(waiting)} artifacts",
            lambda: self.transport.flush_artifacts(run) or True,
            final=True,
        )
        for dataset_name, where in waiting:
            if uploaded:
                self.tally.artifacts.append(where)
            else:
                self.tally.miss(f"artifact {dataset_name}")

    def finish(
        self, status: str, end_time_ms: int | None = None, interrupted: bool = False
    ) -> str:
        """Upload what waits, set the final status (always tried, with every retry);
        returns the line to show the user. Under `fail` a fault is raised after the
        final status was tried, so that the run is not left RUNNING because of it.
        `interrupted` (Ctrl-C, SIGTERM) changes nothing here: the run is ended in this
        process, with every retry."""
        del interrupted
        try:
            line = self._finish(status, end_time_ms or now_ms())
        finally:
            self.close()
        if self._failure:
            raise self._failure
        return line

    def close(self) -> None:
        """Release the transport's local resources (also when the run never started)."""
        self.transport.close()

    def _finish(self, status: str, end_time_ms: int) -> str:
        self._upload_artifacts()
        run = self.run
        ended = run is not None and self._attempt(
            f"set the run's status to {status}",
            lambda: self.transport.end_run(run, status, end_time_ms) or True,
            final=True,
        )
        if not ended:
            self.tally.miss(f"status {status}")
        run_id = run.run_id if run is not None else "(not created)"
        line = summary_line(run_id, self.tally, self.transport.statements)
        if self.tally.champion:
            line = f"{line}; read {self.tally.champion}"
        if self.tally.registered:
            line = f"{line}; registered {', '.join(self.tally.registered)}"
        if self.tally.missed:
            cause = f" because MLflow {self.first_fault}" if self.first_fault else ""
            if run is None:
                state = "no run was created"
            elif ended:
                state = f"the run ended {status}"
            else:
                state = "the run was left RUNNING (its end could not be recorded)"
            line = f"{line}; NOT logged: {', '.join(self.tally.missed)}{cause}; {state}"
        else:
            ended_as = "" if status == "FINISHED" else f"; ended {status}"
            line = f"{line}{ended_as}; {self.transport.how_to_open(run)}"
        return without_credentials(line)


def _root_cause(error: BaseException) -> str:
    """The innermost error of the chain: Snowpark wraps what the function raised. Our
    own TrackingErrors (a damaged store, explained with its fix) speak for themselves."""
    chain = list(error_chain(error))
    error = next((e for e in chain if isinstance(e, TrackingError)), chain[-1])
    if isinstance(error, TrackingError):
        return str(error).strip().splitlines()[0]  # ours: short, with its fix
    text = (str(error).strip() or repr(error)).splitlines()[0][:300]
    return f"{type(error).__name__}: {text}{_http_status(error, text)}"


def _http_status(error: BaseException, text: str) -> str:
    """The HTTP status behind an MLflow error, when its message does not say it: from
    MLflow 3.18 a server's JSON error reads `TEMPORARILY_UNAVAILABLE: ...`, and the 503
    is what tells you a gateway or the server is overloaded rather than your request
    being wrong. MLflow's server answers each error code with this same status."""
    status_of = getattr(error, "get_http_status_code", None)
    if status_of is None or not getattr(error, "json", None):  # RestException only
        return ""
    status = status_of()
    return "" if str(status) in text else f" (HTTP {status})"
