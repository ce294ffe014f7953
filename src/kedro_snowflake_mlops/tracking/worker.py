"""The process that records a `kedro run` with the direct transport.

    python -m kedro_snowflake_mlops.tracking.worker   (started by background.py)

Importing MLflow takes a second or more and opening a new store about as long again.
This process does both while the pipeline runs in the Kedro process, then records the
run there: the Kedro process sends it one JSON message per line on stdin and only waits
for the answer at the end (and for every call under `on_failure: fail`).

It always closes the run. When its input ends before the run was finished (Ctrl-C,
SIGTERM or even SIGKILL of the Kedro process), it ends the run KILLED, and so does a
SIGTERM sent to this process itself. Ctrl-C in the terminal does not reach it (it runs
in a session of its own, and ignores SIGINT anyway): the Kedro process tells it.

Messages (in):  {"op": "open", "config": {...}, "tracking_uri", "display_uri",
                 "artifact_root", "registry": {...} or null, "handover"}, then "start", "metrics", "artifact", "not_logged",
                 "prefetch" (of the champion), "champion" (always answered, with
                 "champion" and "known"),
                 "register" and "finish"; a message with "reply": true is answered.
Answers (out):  {"ok": bool, "error": str, "experiment_missing": bool}; "finish" is
                 always answered, with "line", "tally" and "notes" too.
Everything else this process prints goes to its stderr (a file the Kedro process reads
only to explain a crash), never to the user's terminal.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import queue
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

from ..registry.config import RegistryConfig
from .config import MlflowConfig
from .direct import DirectTransport
from .recorder import RunRecorder
from .transport import ExperimentNotFoundError
from .values import Metric

# Every answer line starts with this: anything else on stdout is not an answer (MLflow
# and Kedro may print before this module could send their output elsewhere).
ANSWER_PREFIX = "@@kedro-snowflake-mlops-answer@@ "
# No run started this long after the worker was: the Kedro process is not running a
# pipeline (`kedro ipython`, a context without a run); do not keep MLflow in memory.
IDLE_SECONDS = 600
_END = None  # what the reader queues when the Kedro process's input ends


class Interrupted(BaseException):  # noqa: N818 - not an error: SIGTERM arrived
    """SIGTERM: end the run KILLED and leave (a BaseException, so that no `except
    Exception` on the way mistakes it for a tracking fault)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    del signum, frame
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the closing must not be cut short
    raise Interrupted


def import_model_libraries() -> None:
    """scikit-learn, skops and MLflow's sklearn flavour: what loading the champion
    and logging the new model need."""
    import mlflow.sklearn  # noqa: F401, PLC0415
    import skops.io  # noqa: F401, PLC0415


def warm_up_model_logging() -> None:
    """MLflow's check of a logged model's requirements maps every installed
    package's modules the first time (0.4 s, then cached): done while the pipeline
    runs instead of after it. An MLflow without that check only loses the head
    start."""
    try:
        from mlflow.utils.requirements_utils import (  # noqa: PLC0415
            warn_dependency_requirement_mismatches,
        )
    except ImportError:
        return
    warn_dependency_requirement_mismatches(["scikit-learn"])


def _registry(block: dict[str, Any]) -> RegistryConfig:
    return RegistryConfig.model_validate(block)


def _unpickle(path: Path) -> Any:
    # Written by the Kedro process that started this one, into its own temporary
    # folder, a moment ago: the new model and its gate decision, handed over.
    with path.open("rb") as file:
        return pickle.load(file)  # noqa: S301 - our own process's file, see above


def _read(stream: IO[bytes], inbox: queue.Queue, ending: threading.Event) -> None:
    """Queue each message as it arrives, then _END; the main loop works meanwhile.
    `ending` is set as soon as the run's end is asked for (or the input ends)."""
    for line in stream:
        if line.strip():
            message = json.loads(line)
            if message.get("op") == "finish":
                ending.set()
            inbox.put(message)
    ending.set()
    inbox.put(_END)


class Worker:
    """Carries out the messages on a RunRecorder over a DirectTransport."""

    def __init__(
        self,
        opening: dict[str, Any],
        answers: IO[str],
        ending: threading.Event | None = None,
    ) -> None:
        self.answers = answers
        # Set when the end of the run waits behind the messages still queued. While
        # MLflow is failing, one of those is tried (MLflow may be back); if it fails
        # too, the rest are not (each could cost a time-out), so that the run's end
        # (always tried, with every retry) comes soon.
        self.ending = ending or threading.Event()
        self._tried_while_ending = False
        self.config = MlflowConfig.model_validate(opening["config"])
        self.transport = DirectTransport(
            opening["tracking_uri"],
            self.config.timeout_seconds,
            artifact_root=Path(opening["artifact_root"]),
            display_uri=opening["display_uri"],
        )
        self.recorder = RunRecorder(self.transport, self.config)
        self.started = False
        self.finished = False
        # The champion, read on `prefetch` (sent right after the start), so that the
        # gate node finds it ready.
        self._champion_found: tuple[Any, bool] | None = None
        block = opening.get("registry")
        self.registry = None if block is None else _registry(block)
        # The Kedro process's folder for models handed over (the champion's).
        self.handover = Path(opening.get("handover") or ".")
        self._model_imports: threading.Thread | None = None
        self.experiment_missing: str | None = None

    def answer(self, **fields: Any) -> None:
        try:
            self.answers.write(ANSWER_PREFIX + json.dumps(fields) + "\n")
            self.answers.flush()
        except OSError:
            pass  # the Kedro process is gone: nobody to answer, the run is closed

    def handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        try:
            extra = self._do(op, message) or {}
        except ExperimentNotFoundError as error:
            self.experiment_missing = str(error)
            if message.get("reply"):
                self.answer(ok=False, error=str(error), experiment_missing=True)
            return
        except Exception as error:  # noqa: BLE001 - the policy raised (fail): tell
            if message.get("reply"):
                self.answer(ok=False, error=str(error))
            else:  # nobody waits for this one: the summary names what was lost
                what = message.get("dataset") or op
                self.recorder.not_logged(f"{what} ({type(error).__name__}: {error})")
            return
        if message.get("reply") and op != "finish":
            self.answer(
                ok=True, run_id=getattr(self.recorder.run, "run_id", None), **extra
            )

    def _do(self, op: str, message: dict[str, Any]) -> dict[str, Any] | None:
        recorder = self.recorder
        if op == "start":
            self.started = True
            # Times are the Kedro process's: this process may get to a message late.
            recorder.start(
                message["run_name"],
                message["tags"],
                message["params"],
                start_time_ms=message["time_ms"],
            )
        elif op == "metrics":
            metrics = [
                Metric(key, value, step) for key, value, step in message["metrics"]
            ]
            if self._skip():
                recorder.not_logged(f"{len(metrics)} metrics of {message['dataset']}")
            else:
                recorder.log_metrics(message["dataset"], metrics, message["time_ms"])
        elif op == "artifact":
            if self._skip():
                recorder.not_logged(f"artifact {message['dataset']}")
            else:
                recorder.log_artifact(message["dataset"], Path(message["path"]))
        elif op in ("prefetch", "champion", "register"):
            return self._model_registry(op, message)
        elif op == "not_logged":
            recorder.not_logged(message["what"])
        elif op == "finish":
            self.finish(message["status"], message["time_ms"])
        else:
            raise ValueError(f"unknown message {op!r}")
        return None

    def _model_registry(
        self, op: str, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        registry = _registry(message["registry"])
        if op == "prefetch":
            self.prepare_registry(registry)
        elif op == "champion":
            return self._champion(message)
        else:
            if self._model_imports is not None:
                self._model_imports.join()
            self.recorder.register(registry, _unpickle(Path(message["candidate"])))
        return None

    def start_model_imports(self) -> None:
        """With a registry: import scikit-learn and skops beside MLflow's own start-up
        (a second or two), so that the champion is loaded and the new model logged
        without waiting for them."""
        if self.registry is None:
            return
        self._model_imports = threading.Thread(
            target=import_model_libraries, name="model-imports", daemon=True
        )
        self._model_imports.start()

    def prepare_registry(self, registry: RegistryConfig) -> None:
        """Right after the run has started, while the first nodes run: find the
        champion and load its model, ready for the gate node; then warm up model
        logging."""
        self._prefetch(registry)
        if self._model_imports is not None:
            self._model_imports.join()
        self._model_imports = threading.Thread(
            target=warm_up_model_logging, name="model-logging", daemon=True
        )
        self._model_imports.start()

    def _prefetch(self, registry: RegistryConfig) -> None:
        """Find and load the champion once (the recorder tags the run with it). Its
        model is handed over as a pickle in the Kedro process's own folder: that
        process then needs neither MLflow nor skops (loading skops costs it a second)."""
        if self._champion_found is not None:
            return
        found, known = self.recorder.find_champion(registry, self.handover / "champion")
        if found is not None:
            if self._model_imports is not None:
                self._model_imports.join()
            found = self._hand_over(found)
        self._champion_found = (found, known)

    def _hand_over(self, found: dict[str, Any]) -> dict[str, Any]:
        from ..registry.mlflow_registry import load_model_folder  # noqa: PLC0415

        model = load_model_folder(Path(found.pop("model_folder")))
        path = self.handover / "champion.pickle"
        path.write_bytes(pickle.dumps(model))
        return {**found, "model_pickle": str(path)}

    def _champion(self, message: dict[str, Any]) -> dict[str, Any]:
        """The champion found here (MLflow is imported here, not in the Kedro
        process), its model handed over."""
        self._prefetch(_registry(message["registry"]))
        found, known = self._champion_found
        return {"champion": found, "known": known}

    def _skip(self) -> bool:
        if not (self.recorder.degraded and self.ending.is_set()):
            return False
        if not self._tried_while_ending:
            self._tried_while_ending = True
            return False
        return True

    def finish(self, status: str, end_time_ms: int | None = None) -> None:
        """End the run (at the Kedro process's time, or now when it has gone)."""
        self.finished = True
        error = None
        line = ""
        try:
            if self.experiment_missing:
                error = self.experiment_missing
            else:
                line = self.recorder.finish(status, end_time_ms)
        except Exception as failure:  # noqa: BLE001 - the policy raised (fail)
            error = str(failure)
        self.answer(
            ok=error is None,
            error=error,
            line=line,
            tally=dataclasses.asdict(self.recorder.tally),
            notes=self.transport.notes + self.recorder.notes,
            run_id=getattr(self.recorder.run, "run_id", None),
        )


def main() -> int:
    # Answers go to the original stdout; anything MLflow or a library prints goes to
    # stderr, so it can never be mistaken for an answer.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    inbox: queue.Queue = queue.Queue()
    ending = threading.Event()
    reader = threading.Thread(
        target=_read,
        args=(sys.stdin.buffer, inbox, ending),
        name="inbox",
        daemon=True,
    )
    reader.start()
    worker = None
    try:
        opening = inbox.get()
        if opening is _END:
            return 0
        # The MLflow client settings (client_environment) came with this process's
        # environment, from background.py.
        worker = Worker(opening, answers, ending)
        worker.start_model_imports()
        worker.transport.open()  # import MLflow, open the store: the pipeline runs
        while not worker.finished:
            try:
                message = inbox.get(timeout=None if worker.started else IDLE_SECONDS)
            except queue.Empty:
                return 0  # no run came: nothing to close
            if message is _END:
                if worker.started:  # the Kedro process is gone mid-run
                    worker.finish("KILLED")
                return 0
            worker.handle(message)
    except Interrupted:
        if worker is not None and worker.started and not worker.finished:
            worker.finish("KILLED")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # At once: the inbox thread is blocked reading stdin, and tearing down MLflow's
    # modules takes longer than the run's last call; the answers are flushed already.
    os._exit(code)
