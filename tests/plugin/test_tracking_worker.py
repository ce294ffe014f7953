"""The worker process that records runs of the direct transport, driven through
BackgroundRecorder as the hook drives it: a real worker process, a real sqlite store,
real signals. One thing is made up: a Python that does not exist (sys.executable
pointed at a missing file), to see a worker that cannot start."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from mlflow import MlflowClient
from support.mlflow_server import free_port
from support.troubled_proxy import TroubledProxy

from kedro_snowflake_mlops.tracking import background
from kedro_snowflake_mlops.tracking.background import BackgroundRecorder
from kedro_snowflake_mlops.tracking.config import MlflowConfig
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS
from kedro_snowflake_mlops.tracking.transport import TrackingError
from kedro_snowflake_mlops.tracking.values import Metric

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

FUNCTIONS = {key: f"db.sch.mlflow_{key}" for key in FUNCTION_KEYS}


def config(uri: str, **overrides) -> MlflowConfig:
    return MlflowConfig.model_validate(
        {
            "experiment_name": "demo",
            "stage": "@DB.SCH.MLFLOW_STAGE",
            "functions": FUNCTIONS,
            "tracking_uri": uri,
            "timeout_seconds": 2,
            "retry": {"attempts": 2, "backoff_seconds": 0.1},
            **overrides,
        }
    )


@pytest.fixture
def store(tmp_path):
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def recorder(store, tmp_path, **overrides) -> BackgroundRecorder:
    return BackgroundRecorder(
        config(store, **overrides), store, "sqlite:///mlflow.db", tmp_path / "mlruns"
    )


def only_run(store):
    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("demo").experiment_id])
    return run


def test_a_run_through_the_worker_keeps_the_kedro_process_times(store, tmp_path):
    worker = recorder(store, tmp_path)
    before = int(time.time() * 1000)
    worker.start("r", {"kedro.env": "local"}, {"a": "1"})
    worker.log_metrics("m", [Metric("r2", 0.5)])
    model = tmp_path / "model.pickle"
    model.write_bytes(b"model")
    worker.log_artifact("regressor", model)
    time.sleep(0.5)
    line = worker.finish("FINISHED")
    after = int(time.time() * 1000)
    run = only_run(store)
    assert line == (
        f"MLflow run {run.info.run_id}: 1 metrics, 1 params; open it with: mlflow ui "
        "--backend-store-uri sqlite:///mlflow.db"
    )
    assert run.info.status == "FINISHED"
    assert before <= run.info.start_time <= run.info.end_time <= after
    # The end is when the Kedro process asked for it, not when the worker got to it.
    assert run.info.end_time - run.info.start_time >= 500
    assert run.data.params == {"a": "1"} and run.data.metrics == {"r2": 0.5}
    assert worker.process.returncode == 0  # waited for: no zombie


def test_the_end_of_the_kedro_process_ends_the_run_killed(store, tmp_path):
    worker = recorder(store, tmp_path)
    worker.start("r", {}, {"a": "1"})
    worker.log_metrics("m", [Metric("rows", 3)])
    worker.process.stdin.close()  # what the worker sees when the Kedro process dies
    assert worker.process.wait(timeout=60) == 0
    run = only_run(store)
    assert run.info.status == "KILLED"
    assert run.info.end_time >= run.info.start_time
    assert run.data.metrics == {"rows": 3.0} and run.data.params == {"a": "1"}


def test_sigterm_to_the_worker_ends_the_run_killed(store, tmp_path):
    worker = recorder(store, tmp_path)
    worker.start("r", {}, {})
    worker.waits = True  # wait for an answer: the run exists before the signal
    worker.log_metrics("m", [Metric("rows", 3)])
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=60) == 0
    assert only_run(store).info.status == "KILLED"


def test_ctrl_c_in_the_terminal_does_not_reach_the_worker(store, tmp_path):
    worker = recorder(store, tmp_path)
    # A terminal's Ctrl-C goes to the foreground process group; the worker has its own
    # session, so it is not in it.
    assert os.getsid(worker.process.pid) != os.getsid(0)
    assert os.getpgid(worker.process.pid) != os.getpgid(0)
    worker.waits = True  # the answer shows the worker is up and listening
    worker.start("r", {}, {})
    os.kill(worker.process.pid, signal.SIGINT)  # even sent to it, it is ignored
    line = worker.finish("FINISHED")
    assert "NOT logged" not in line
    assert only_run(store).info.status == "FINISHED"


def test_a_worker_that_dies_is_reported_in_the_summary(store, tmp_path):
    worker = recorder(store, tmp_path)
    worker.start("r", {}, {})
    worker.process.kill()
    worker.process.wait()
    line = worker.finish("FINISHED")
    assert line.startswith("MLflow run (unknown): 0 metrics, 0 params; NOT logged: ")
    assert "because the MLflow worker process stopped (exit code -9)" in line


def test_a_worker_that_cannot_start_is_a_tracking_fault(store, tmp_path, monkeypatch):
    monkeypatch.setattr(background.sys, "executable", str(tmp_path / "no-python"))
    worker = recorder(store, tmp_path)
    worker.start("r", {}, {"a": "1"})
    assert "the MLflow worker process could not start" in worker.finish("FINISHED")
    with pytest.raises(TrackingError, match="could not start.*on_failure is `fail`"):
        recorder(store, tmp_path, on_failure="fail").start("r", {}, {})


def test_fail_waits_for_each_answer_and_raises_at_the_fault(tmp_path):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    worker = BackgroundRecorder(
        config(down, on_failure="fail"), down, down, tmp_path / "mlruns"
    )
    with pytest.raises(TrackingError) as error:
        worker.start("r", {}, {})
    assert str(error.value).startswith(
        "MLflow could not start a run in experiment 'demo': "
    )
    assert "on_failure is `fail`" in str(error.value)
    worker.close()
    assert worker.process.returncode is not None


def test_an_idle_worker_leaves_when_told_and_records_nothing(store, tmp_path):
    worker = recorder(store, tmp_path)
    worker.close()
    assert worker.process.returncode == 0
    assert not (tmp_path / "mlflow.db").exists() or not MlflowClient(
        store
    ).search_experiments(filter_string="name = 'demo'")


def test_while_mlflow_fails_calls_queued_behind_the_end_are_not_tried(
    mlflow_server, tmp_path
):
    """A server that stops answering log-batch in time: each queued call would cost a
    time-out; once the end is asked for, they are named as not logged instead of sent,
    and the run's end (answered in time) is recorded. The slowness is injected by a proxy
    in front of the real `mlflow server`."""
    proxy = TroubledProxy(mlflow_server.url)
    proxy.add("runs/log-batch", "delay", times=None, seconds=3)
    try:
        worker = BackgroundRecorder(
            config(proxy.url, experiment_name="slow-batches", timeout_seconds=1),
            proxy.url,
            proxy.url,
            tmp_path / "mlruns",
        )
        worker.start("r", {}, {"a": "1"})
        # The params batch is tried twice (retry.attempts: 2); waiting for the proxy to
        # see both, not for a guessed time, holds on a loaded machine too.
        deadline = time.monotonic() + 120
        while proxy.count("runs/log-batch") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        for index in range(6):
            worker.log_metrics(f"m{index}", [Metric("x", index)])
        line = worker.finish("FINISHED")
        sent = proxy.count("runs/log-batch")
    finally:
        proxy.close()
    # Counted at the proxy, not timed: the params batch's two attempts, the metrics call
    # that may be in flight when the end is asked for, and the one tried while ending
    # (MLflow may be back) reach the server: at most 4. Trying all six would send 8.
    assert sent <= 4, (sent, line)
    assert "NOT logged: 1 params, 1 metrics of m0" in line
    assert "1 metrics of m5 because MLflow could not log params" in line
    assert line.endswith("; the run ended FINISHED")
