"""RunRecorder's methods, carried out by the worker process (worker.py).

The hook starts the worker as soon as the Kedro context exists; MLflow is imported and
the store opened there while the pipeline runs here. Calls are sent without waiting
(under `on_failure: warn`): the pipeline never waits for MLflow until it has finished,
and then only for the summary line. Under `on_failure: fail`, or when the experiment
must already exist, each call waits for its answer, so that a fault stops the pipeline
where it happens.

The worker is always waited for (no zombie). Only when the Kedro process is being
interrupted (Ctrl-C, SIGTERM) and the worker needs more than a few seconds is it left
to end the run on its own; a thread still reaps it if this process lives on.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from ..conf import without_credentials
from ..registry.config import RegistryConfig
from ..registry.lifecycle import Champion
from .config import MlflowConfig
from .direct import client_environment
from .recorder import RunRecorder, Tally, now_ms, summary_line
from .transport import TrackingError, policy_failure
from .values import Metric
from .worker import ANSWER_PREFIX

WORKER_MODULE = "kedro_snowflake_mlops.tracking.worker"
# Seconds to allow for starting Python, importing MLflow and opening a new store.
_STARTUP_SECONDS = 120
# How long an interrupted run (Ctrl-C, SIGTERM) waits for the worker to confirm the end.
_INTERRUPTED_WAIT_SECONDS = 15


def _read(stream: IO[bytes], answers: queue.Queue) -> None:
    """Queue the worker's answers, then None when it has gone. Other lines (a library
    printing before the worker could redirect its output) are not answers."""
    prefix = ANSWER_PREFIX.encode()
    try:
        for line in stream:
            if line.startswith(prefix):
                answers.put(json.loads(line[len(prefix) :]))
    finally:
        answers.put(None)


class BackgroundRecorder:
    """Starts the worker at once; then start, log_metrics, log_artifact, not_logged and
    finish, as on a RunRecorder."""

    def __init__(
        self,
        config: MlflowConfig,
        tracking_uri: str,
        display_uri: str,
        artifact_root: Path,
        registry: RegistryConfig | None = None,
    ) -> None:
        self.config = config
        # Wait for each answer where a fault must stop the pipeline where it happens:
        # `fail`, and a missing experiment (a configuration error, before any node).
        self.waits = config.on_failure == "fail" or not config.creates_experiment
        self.tally = Tally()
        self.notes: list[str] = []
        self.run_id: str | None = None
        self.gone: str | None = None  # why the worker cannot be reached
        self.process: subprocess.Popen | None = None
        self._answers: queue.Queue = queue.Queue()
        self._stderr = tempfile.TemporaryFile()
        # Models handed to and from the worker (the champion, the new candidate).
        self._handover = tempfile.TemporaryDirectory(prefix="kedro-mlflow-models-")
        self._spawn(
            {
                "op": "open",
                "config": config.model_dump(mode="json", by_alias=True),
                "tracking_uri": tracking_uri,
                "display_uri": display_uri,
                "artifact_root": str(artifact_root),
                # With a registry, the worker imports what models need at once.
                "registry": None
                if registry is None
                else registry.model_dump(mode="json", by_alias=True),
                "handover": self._handover.name,
            }
        )

    def _spawn(self, opening: dict[str, Any]) -> None:
        # The plugin must be importable in the worker even when this process found it
        # through a path added at run time.
        plugin_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(
            p for p in (plugin_root, os.environ.get("PYTHONPATH")) if p
        )
        environment = {
            **os.environ,
            **client_environment(self.config.timeout_seconds),
            "PYTHONPATH": path,
        }
        options: dict[str, Any] = {}
        if os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            # Ctrl-C in the terminal goes to the Kedro process only, which then tells
            # the worker to end the run KILLED.
            options["start_new_session"] = True
        try:
            self.process = subprocess.Popen(  # noqa: S603 - this Python, our module
                [sys.executable, "-m", WORKER_MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=environment,
                **options,
            )
        except OSError as error:
            self.gone = f"the MLflow worker process could not start: {error}"
            return
        threading.Thread(
            target=_read,
            args=(self.process.stdout, self._answers),
            name="mlflow-worker-answers",
            daemon=True,
        ).start()
        self._send(opening)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _why_gone(self) -> str:
        """The worker's last words (a crash's last traceback line), for the summary."""
        code = None
        if self.process is not None:
            try:
                code = self.process.wait(timeout=2)  # its output ended: it is exiting
            except subprocess.TimeoutExpired:
                code = None
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        last = lines[-1][:300] if lines else "no output"
        return f"the MLflow worker process stopped (exit code {code}): {last}"

    def _send(self, message: dict[str, Any]) -> bool:
        if self.gone is not None or self.process is None:
            return False
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            self.gone = self._why_gone()
            return False
        return True

    def _deadline(self) -> float:
        """Seconds an answer may take: the worker's own time-outs and retries bound
        every call; past this, the worker is stuck."""
        retry = self.config.retry
        per_call = retry.attempts * (
            self.config.timeout_seconds + retry.max_backoff_seconds
        )
        return _STARTUP_SECONDS + 2 * per_call

    def _wait(self, timeout: float) -> dict[str, Any] | None:
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.gone = (
                f"the MLflow worker process did not answer within {timeout:.0f} s "
                f"(process {self.process.pid} goes on ending the run)"
            )
            return None
        if answer is None:
            self.gone = self._why_gone()
        return answer

    def _call(self, message: dict[str, Any]) -> None:
        """Send; under `waits`, wait for the answer and raise what the policy raised."""
        if not self.waits:
            self._send(message)
            return
        if not self._send({**message, "reply": True}):
            self._worker_failed()
            return
        answer = self._wait(self._deadline())
        if answer is None:
            self._worker_failed()
        elif not answer["ok"]:  # the policy raised there, or the experiment is missing
            raise TrackingError(answer["error"])
        else:
            self.run_id = answer.get("run_id") or self.run_id

    def _worker_failed(self) -> None:
        if self.config.on_failure == "fail":
            raise policy_failure(f"MLflow tracking failed: {self.gone}")

    def start(
        self, run_name: str, tags: dict[str, str], params: dict[str, str]
    ) -> None:
        self._call(
            {
                "op": "start",
                "run_name": run_name,
                "tags": tags,
                "params": params,
                "time_ms": now_ms(),
            }
        )

    def log_metrics(self, dataset_name: str, metrics: list[Metric]) -> None:
        rows = [[metric.key, metric.value, metric.step] for metric in metrics]
        self._call(
            {
                "op": "metrics",
                "dataset": dataset_name,
                "metrics": rows,
                "time_ms": now_ms(),
            }
        )

    def log_artifact(self, dataset_name: str, local_path: Path) -> None:
        self._call({"op": "artifact", "dataset": dataset_name, "path": str(local_path)})

    def not_logged(self, what: str) -> None:
        self._call({"op": "not_logged", "what": what})

    def prefetch_champion(self, registry: RegistryConfig) -> None:
        """Have the worker read the champion now, while the first nodes run."""
        self._send(
            {
                "op": "prefetch",
                "registry": registry.model_dump(mode="json", by_alias=True),
            }
        )

    def read_champion(self, registry: RegistryConfig) -> tuple[Any, bool]:
        """As RunRecorder.read_champion: the worker finds and loads it, and hands the
        model over as a pickle in this process's own temporary folder."""
        block = registry.model_dump(mode="json", by_alias=True)
        sent = self._send({"op": "champion", "registry": block, "reply": True})
        answer = self._wait(self._deadline()) if sent else None
        if answer is None:
            self._worker_failed()
            self.tally.miss(RunRecorder.champion_miss(registry))
            return None, False
        if not answer["ok"]:  # the policy raised there (on_failure: fail)
            raise TrackingError(answer["error"])
        found = answer["champion"]
        if found is None:
            return None, answer["known"]
        fields = dict(found)
        path = Path(fields.pop("model_pickle"))
        # The worker loaded the model with skops' own loader and wrote it into this
        # process's temporary folder a moment ago: unpickling it is safe here.
        model = pickle.loads(path.read_bytes())  # noqa: S301
        path.unlink()
        return Champion(**fields, model=model), True

    def register(self, registry: RegistryConfig, candidate: Any) -> None:
        """As RunRecorder.register, in the worker (the candidate goes as a file)."""
        path = Path(self._handover.name) / "candidate.pickle"
        path.write_bytes(pickle.dumps(candidate))
        block = registry.model_dump(mode="json", by_alias=True)
        self._call({"op": "register", "registry": block, "candidate": str(path)})

    def finish(self, status: str, interrupted: bool = False) -> str:
        """The worker ends the run; returns its summary line. `interrupted` (Ctrl-C,
        SIGTERM): wait briefly, the worker finishes on its own if it needs longer."""
        timeout = _INTERRUPTED_WAIT_SECONDS if interrupted else self._deadline()
        answer = None
        if self._send({"op": "finish", "status": status, "time_ms": now_ms()}):
            answer = self._wait(timeout)
            # A call interrupted while it waited (Ctrl-C) leaves its answer queued
            # ahead of the end's: the end's is the one with the tally.
            while answer is not None and "tally" not in answer:
                answer = self._wait(timeout)
        self.close(wait=answer is not None or not interrupted)
        if answer is None:
            return self._lost(status)
        self.notes.extend(answer.get("notes") or [])
        self.run_id = answer.get("run_id") or self.run_id
        self.tally = Tally(**answer["tally"])
        if answer.get("error"):
            raise TrackingError(answer["error"])
        return answer["line"]

    def _lost(self, status: str) -> str:
        """The summary when the worker cannot say what it did."""
        self.tally.miss(f"whatever was not logged yet, status {status}")
        line = summary_line(self.run_id or "(unknown)", self.tally, None)
        line = f"{line}; NOT logged: {', '.join(self.tally.missed)} because {self.gone}"
        if self.config.on_failure == "fail":
            raise policy_failure(line)
        return without_credentials(line)

    def close(self, wait: bool = True) -> None:
        """End the worker's input (an idle worker exits; one with a run not finished
        ends it KILLED) and reap it, so that no zombie process is left."""
        process = self.process
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        if wait:
            try:
                process.wait(timeout=self._deadline())
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._stderr.close()
            self._handover.cleanup()
        else:
            # Interrupted: the worker ends the run on its own. Should this process live
            # on (a notebook), a thread reaps the worker when it exits; otherwise the
            # system does, once this process has gone.
            threading.Thread(
                target=process.wait, name="mlflow-worker-reaper", daemon=True
            ).start()
