"""Retries, the failure policy and the summary line of one recorded run.

The transport here is a small stand-in that fails on demand: what is under test is the
policy around it, and a real MLflow server cannot be told to answer 503 twice. The real
transports are exercised in test_tracking_transports.py and the template's end-to-end tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kedro_snowflake_mlops.tracking.config import (
    MlflowConfig,
)
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS
from kedro_snowflake_mlops.tracking.recorder import (
    RunRecorder,
    Tally,
    summary_line,
)
from kedro_snowflake_mlops.tracking.transport import (
    RUN_KEY_TAG,
    ExperimentNotFoundError,
    RunInfo,
    TrackingError,
    TrackingTransport,
    is_transient,
)
from kedro_snowflake_mlops.tracking.values import (
    Metric,
)

FUNCTIONS = {key: f"db.sch.mlflow_{key}" for key in FUNCTION_KEYS}


class FlakyTransport(TrackingTransport):
    """Records calls; raises the queued errors first."""

    def __init__(self, errors: list[Exception] | None = None) -> None:
        self.errors = list(errors or [])
        self.calls: list[tuple] = []
        self.statements = 0

    def _call(self, *call) -> None:
        self.calls.append(call)
        self.statements += 1
        if self.errors:
            raise self.errors.pop(0)

    def start_run(
        self, experiment_name, run_name, start_time_ms, tags, create_experiment
    ):
        self._call("start", experiment_name, tags)
        return RunInfo(run_id="run1", experiment_id="7")

    def log_batch(self, run, metrics, params, timestamp_ms):
        self._call("batch", [metric.key for metric in metrics], dict(params))

    def log_artifact(self, run, local_path):
        self._call("artifact", local_path.name)
        return f"stage/{local_path.name}"

    def end_run(self, run, status, end_time_ms):
        self._call("end", status)

    def how_to_open(self, run):
        return "open it somewhere"


class UploadAtEndTransport(FlakyTransport):
    """Keeps artifacts and uploads them in flush_artifacts, like external functions."""

    uploads_artifacts_at_end = True

    def __init__(self, errors: list[Exception] | None = None) -> None:
        super().__init__(errors)
        self.closed = False

    def log_artifact(self, run, local_path):
        self.calls.append(("keep", local_path.name))  # no statement, cannot fail
        return f"stage/{local_path.name}"

    def flush_artifacts(self, run):
        self._call("flush")

    def close(self):
        self.closed = True


def config(**overrides) -> MlflowConfig:
    return MlflowConfig.model_validate(
        {
            "experiment_name": "demo",
            "stage": "@DB.SCH.MLFLOW_STAGE",
            "functions": FUNCTIONS,
            "retry": {"attempts": 3, "backoff_seconds": 0.5},
            **overrides,
        }
    )


def recorder(transport, **overrides) -> tuple[RunRecorder, list[float]]:
    sleeps: list[float] = []
    return RunRecorder(transport, config(**overrides), sleep=sleeps.append), sleeps


def test_summary_line_format():
    tally = Tally(metrics=6, params=4)
    assert (
        summary_line("abc", tally, 5)
        == "MLflow run abc: 6 metrics, 4 params, 5 SQL statements"
    )
    # A transport that issues no SQL says nothing about statements.
    assert summary_line("abc", tally, None) == "MLflow run abc: 6 metrics, 4 params"


def test_params_and_tags_are_logged_when_the_run_starts():
    transport = FlakyTransport()
    run, _ = recorder(transport)
    run.start("r", {"kedro.env": "local"}, {"a": "1", "b": "2"})
    # Before any node ran: the run with its tags (and its own key), then the params.
    assert transport.calls == [
        ("start", "demo", {"kedro.env": "local", RUN_KEY_TAG: run.run_key}),
        ("batch", [], {"a": "1", "b": "2"}),
    ]
    run.log_metrics("m1", [Metric("r2", 0.9)])
    run.log_metrics("m2", [Metric("mae", 1.0)])
    line = run.finish("FINISHED")
    assert transport.calls[2:] == [
        ("batch", ["r2"], {}),
        ("batch", ["mae"], {}),
        ("end", "FINISHED"),
    ]
    assert line == (
        "MLflow run run1: 2 metrics, 2 params, 5 SQL statements; open it somewhere"
    )


def test_params_are_flushed_before_the_end_when_no_metrics_came():
    transport = FlakyTransport()
    run, _ = recorder(transport)
    run.start("r", {}, {"a": "1"})
    run.finish("FAILED")
    assert transport.calls[1:] == [("batch", [], {"a": "1"}), ("end", "FAILED")]


def test_transient_faults_are_retried_with_backoff():
    transport = FlakyTransport([ConnectionError("refused"), OSError("HTTP 503")])
    run, sleeps = recorder(transport)
    run.start("r", {}, {})
    assert run.run is not None
    assert sleeps == [0.5, 1.0]
    assert len(transport.calls) == 3


def test_other_faults_are_not_retried():
    transport = FlakyTransport([ValueError("400 INVALID_PARAMETER_VALUE")])
    run, sleeps = recorder(transport, on_failure="fail")
    with pytest.raises(TrackingError, match="could not start a run"):
        run.start("r", {}, {})
    assert sleeps == []


def test_warn_keeps_going_and_one_line_says_what_was_not_logged(caplog, tmp_path):
    down = [TimeoutError("timed out")] * 3
    transport = FlakyTransport(down)
    run, _ = recorder(transport)
    with caplog.at_level(logging.WARNING):
        run.start("r", {}, {"a": "1"})
        run.log_metrics("model_metrics", [Metric("r2", 0.9), Metric("mae", 1.0)])
        run.log_artifact("regressor", Path(tmp_path / "model.pickle"))
        line = run.finish("FINISHED")
    assert len(transport.calls) == 3  # the three attempts to start; no run, no more
    assert (
        "NOT logged: 1 params, 2 metrics of model_metrics, artifact regressor, "
        "status FINISHED because MLflow could not start a run in experiment 'demo': "
        "TimeoutError: timed out; no run was created"
    ) in line
    # The line is the only message: the recorder itself logs nothing (the hook logs
    # the line it returns, once).
    assert caplog.records == []


def test_a_fault_does_not_switch_tracking_off():
    # One log-batch fails all its attempts (a 503 that lasts); MLflow is back for the
    # next call, and the final status is set.
    busy = [OSError("HTTP 503")] * 3
    transport = FlakyTransport()
    run, sleeps = recorder(transport)
    run.start("r", {}, {})
    transport.errors = list(busy)
    run.log_metrics("quality", [Metric("rows", 3)])
    run.log_metrics("model_metrics", [Metric("r2", 0.9)])
    line = run.finish("FINISHED")
    kinds = [call[0] for call in transport.calls]
    assert kinds == ["start", "batch", "batch", "batch", "batch", "end"]
    assert sleeps == [0.5, 1.0]  # only the failing call waited
    assert line.startswith("MLflow run run1: 1 metrics, 0 params")
    assert "NOT logged: 1 metrics of quality because MLflow could not log" in line
    assert line.endswith("HTTP 503; the run ended FINISHED")


def test_after_a_failed_call_each_call_gets_one_attempt_but_the_end_gets_all():
    transport = FlakyTransport()
    run, sleeps = recorder(transport)
    run.start("r", {}, {})
    transport.errors = [ConnectionError("refused")] * 3  # the first batch: 3 attempts
    run.log_metrics("a", [Metric("x", 1)])
    transport.errors = [ConnectionError("refused")]  # the next: one attempt only
    run.log_metrics("b", [Metric("y", 1)])
    transport.errors = [ConnectionError("refused")] * 2  # the end: every retry
    line = run.finish("FAILED")
    assert [call[0] for call in transport.calls] == (
        ["start"] + ["batch"] * 3 + ["batch"] + ["end"] * 3
    )
    assert sleeps == [0.5, 1.0, 0.5, 1.0]
    assert line.endswith("the run ended FAILED")
    assert "NOT logged: 1 metrics of a, 1 metrics of b because" in line


def test_an_end_that_fails_says_the_run_was_left_running():
    transport = FlakyTransport()
    run, _ = recorder(transport)
    run.start("r", {}, {})
    transport.errors = [ConnectionError("refused")] * 3
    line = run.finish("KILLED")
    assert "NOT logged: status KILLED because MLflow could not set" in line
    assert line.endswith("the run was left RUNNING (its end could not be recorded)")


class SearchableTransport(FlakyTransport):
    """Like an MLflow server whose answer to runs/create was lost: the run exists."""

    can_find_runs = True

    def __init__(self, errors=None) -> None:
        super().__init__(errors)
        self.created: dict[str, RunInfo] = {}

    def start_run(
        self, experiment_name, run_name, start_time_ms, tags, create_experiment
    ):
        run = RunInfo(run_id=f"run{len(self.created) + 1}", experiment_id="7")
        self.created[tags[RUN_KEY_TAG]] = run  # created, whatever the answer does
        self._call("start", experiment_name, tags)
        return run

    def find_run(self, experiment_name, run_key):
        self.calls.append(("find", run_key))
        return self.created.get(run_key)


def test_a_retried_create_finds_the_run_instead_of_making_a_duplicate():
    transport = SearchableTransport([TimeoutError("Read timed out")])
    run, _ = recorder(transport)
    run.start("r", {}, {})
    assert [call[0] for call in transport.calls] == ["start", "find"]
    assert len(transport.created) == 1 and run.run.run_id == "run1"
    assert run.notes == []


def test_a_transport_that_cannot_look_runs_up_warns_of_a_possible_duplicate():
    transport = FlakyTransport([TimeoutError("Read timed out")])
    run, _ = recorder(transport)
    run.start("r", {}, {})
    assert [call[0] for call in transport.calls] == ["start", "start"]
    (note,) = run.notes
    assert "took 2 attempts" in note and f"{RUN_KEY_TAG} = {run.run_key}" in note


def test_fail_sets_the_final_status_before_it_raises():
    transport = UploadAtEndTransport()
    run, _ = recorder(transport, on_failure="fail")
    run.start("r", {}, {})
    run.log_artifact("regressor", Path("model.pickle"))
    transport.errors = [ValueError("403 access denied on the stage")]
    with pytest.raises(TrackingError, match="upload 1 artifacts.*on_failure is `fail`"):
        run.finish("FINISHED")
    assert transport.calls[-1] == ("end", "FINISHED")


def test_fail_raises_with_the_policy_named():
    transport = FlakyTransport([ConnectionError("refused")] * 3)
    run, _ = recorder(transport, on_failure="fail")
    with pytest.raises(TrackingError, match="on_failure is `fail`"):
        run.start("r", {}, {})


def test_a_missing_experiment_is_never_swallowed():
    transport = FlakyTransport([ExperimentNotFoundError("demo", "the server")])
    run, _ = recorder(transport)
    with pytest.raises(ExperimentNotFoundError, match="mlflow experiments create"):
        run.start("r", {}, {})


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(), True),
        (RuntimeError("API request failed with error code 503 != 200"), True),
        (RuntimeError("429 Too Many Requests"), True),
        (RuntimeError("Read timed out"), True),
        (RuntimeError("RESOURCE_DOES_NOT_EXIST: no run"), False),
        (RuntimeError("INVALID_PARAMETER_VALUE"), False),
        # A 4xx whose text mentions a number that looks like a status is not transient.
        (RuntimeError("error code 400 != 200: bad value in row 512"), False),
        (RuntimeError("INVALID_PARAMETER_VALUE: metric 429 of 503 has no key"), False),
        (RuntimeError("Request failed with remote service error: 503 'busy'"), True),
        (RuntimeError("HTTP 502 Bad Gateway"), True),
        (RuntimeError("too many 500 error responses"), True),
    ],
)
def test_which_faults_are_transient(error, transient):
    assert is_transient(error) is transient


@pytest.mark.parametrize("status", ["FINISHED", "FAILED"])
def test_kept_artifacts_go_up_before_the_final_status(status, tmp_path):
    transport = UploadAtEndTransport()
    run, _ = recorder(transport)
    run.start("r", {}, {})
    run.log_artifact("regressor", tmp_path / "model.pickle")
    run.log_artifact("prediction_plot", tmp_path / "plot.png")
    line = run.finish(status)
    assert [call[0] for call in transport.calls] == [
        "start",
        "keep",
        "keep",
        "flush",
        "end",
    ]
    assert run.tally.artifacts == ["stage/model.pickle", "stage/plot.png"]
    assert "NOT logged" not in line and transport.closed


def test_a_failed_upload_names_each_artifact_not_logged(tmp_path):
    transport = UploadAtEndTransport()
    run, _ = recorder(transport)
    run.start("r", {}, {})
    run.log_artifact("regressor", tmp_path / "model.pickle")
    transport.errors = [ValueError("403 access denied on the stage")]
    line = run.finish("FINISHED")
    # The upload failed; the final status is still set (tried with every retry).
    assert "NOT logged: artifact regressor because MLflow could not upload" in line
    assert "403 access denied" in line
    assert line.endswith("; the run ended FINISHED")
    assert transport.calls[-1] == ("end", "FINISHED")
    assert run.tally.artifacts == [] and transport.closed
