"""Both transports, each against something real.

Direct: the MLflow client on a sqlite store in a temporary folder. External functions:
Snowpark local testing, with the five functions registered by name. Behind them is a
small in-memory stand-in for MLflow (the template repository's tests run the real
translators against a real `mlflow server`; a generated project has neither).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient
from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._functions import ColumnEmulator, ColumnType
from snowflake.snowpark.types import VariantType

from kedro_snowflake_mlops.session.local_testing import (
    emulate_copy_files,
)
from kedro_snowflake_mlops.tracking.config import (
    FunctionNames,
)
from kedro_snowflake_mlops.tracking.direct import (
    DirectTransport,
)
from kedro_snowflake_mlops.tracking.external_functions import (
    ExternalFunctionTransport,
)
from kedro_snowflake_mlops.tracking.transport import (
    ExperimentNotFoundError,
    RunInfo,
    TrackingError,
)
from kedro_snowflake_mlops.tracking.values import (
    Metric,
)

HOSTILE = 'it\'s; DROP TABLE x; -- "q" ünï 🚀'


def test_direct_transport_round_trip(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    transport = DirectTransport(uri, 10, artifact_root=tmp_path / "mlruns")
    with pytest.raises(ExperimentNotFoundError, match="mlflow experiments create"):
        transport.start_run("exp", "run", 1000, {}, create_experiment=False)
    run = transport.start_run("exp", "run", 1000, {"kedro.env": "local"}, True)
    transport.log_batch(
        run, [Metric("r2", 0.5), Metric("inf", math.inf)], {"note": HOSTILE}, 2000
    )
    model = tmp_path / "model.pickle"
    model.write_bytes(b"model")
    transport.log_artifact(run, model)
    transport.end_run(run, "FINISHED", 3000)

    stored = MlflowClient(uri).get_run(run.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics["r2"] == 0.5
    # MLflow's SQL store keeps +inf as the largest float.
    assert stored.data.metrics["inf"] >= sys.float_info.max
    assert stored.data.params == {"note": HOSTILE}
    assert stored.data.tags["kedro.env"] == "local"
    assert [a.path for a in MlflowClient(uri).list_artifacts(run.run_id)] == [
        "model.pickle"
    ]
    assert transport.statements is None  # no SQL at all
    assert "mlflow ui --backend-store-uri" in transport.how_to_open(run)


class FakeMlflow:
    """Keeps what the external functions were called with, one list per call."""

    def __init__(self) -> None:
        self.experiments = {"exp": {"experiment_id": "7", "name": "exp"}}
        self.calls: dict[str, list[list]] = {}

    def answer(self, function: str, columns: tuple, result) -> ColumnEmulator:
        rows = [list(row) for row in zip(*columns, strict=True)]
        self.calls.setdefault(function, []).append(rows)
        values = [result(row) for row in rows]
        return ColumnEmulator(values, sf_type=ColumnType(VariantType(), True))


FAKE = FakeMlflow()
RUN_ID = "5e1f0c3a9b7d4e2f8a6c1b0d9e8f7a6b"  # MLflow run ids are uuid4 hex
NAMES = FunctionNames(
    **{key: f"fake_db.fake_schema.mlflow_{key}" for key in FunctionNames.model_fields}
)


@patch(NAMES.experiment_get_by_name)
def _get(name: ColumnEmulator) -> ColumnEmulator:
    return FAKE.answer("get", (name,), lambda row: FAKE.experiments.get(row[0]))


@patch(NAMES.run_create)
def _create(
    experiment_id: ColumnEmulator,
    run_name: ColumnEmulator,
    start: ColumnEmulator,
    tags: ColumnEmulator,
) -> ColumnEmulator:
    def create(row):
        if row[0] is None:
            raise ValueError("400 INVALID_PARAMETER_VALUE: experiment_id is empty")
        # Where MLflow's artifact store keeps the run: <root>/<experiment>/<run>/artifacts
        artifacts = f"s3://mlflow-root/{row[0]}/{RUN_ID}/artifacts"
        return {"run_id": RUN_ID, "experiment_id": row[0], "artifact_uri": artifacts}

    return FAKE.answer("create", (experiment_id, run_name, start, tags), create)


@patch(NAMES.run_update)
def _update(
    run_id: ColumnEmulator, status: ColumnEmulator, end: ColumnEmulator
) -> ColumnEmulator:
    return FAKE.answer("update", (run_id, status, end), lambda row: {"status": row[1]})


@patch(NAMES.run_log_metric)
def _metric(
    run_id: ColumnEmulator,
    key: ColumnEmulator,
    value: ColumnEmulator,
    step: ColumnEmulator,
    timestamp: ColumnEmulator,
) -> ColumnEmulator:
    return FAKE.answer("metric", (run_id, key, value, step, timestamp), lambda row: {})


@patch(NAMES.run_log_parameter)
def _param(
    run_id: ColumnEmulator, key: ColumnEmulator, value: ColumnEmulator
) -> ColumnEmulator:
    return FAKE.answer("param", (run_id, key, value), lambda row: {})


MLFLOW_STAGE = "@FAKE_DB.S.MLFLOW_STAGE"
STAGING_STAGE = "@FAKE_DB.S.DATA_STAGE"


@pytest.fixture
def transport(snowpark_session):
    FAKE.calls.clear()
    made = ExternalFunctionTransport(
        snowpark_session, NAMES, MLFLOW_STAGE, STAGING_STAGE
    )
    yield made
    made.close()


def test_a_run_starts_in_one_statement(transport):
    run = transport.start_run("exp", "my run", 1000, {"k": HOSTILE}, False)
    assert (run.run_id, run.experiment_id) == (RUN_ID, "7")
    assert transport.statements == 1
    ((row,),) = FAKE.calls["create"]
    assert row[:3] == ["7", "my run", 1000]
    tags = json.loads(row[3]) if isinstance(row[3], str) else row[3]
    assert tags == {"k": HOSTILE}


def test_a_missing_experiment_says_how_to_create_it(transport):
    with pytest.raises(ExperimentNotFoundError, match="mlflow experiments create"):
        transport.start_run("no such experiment", "r", 1000, {}, False)


def test_many_metrics_and_params_go_in_one_statement(transport):
    run = transport.start_run("exp", "r", 1000, {}, False)
    metrics = [Metric(f"m{index}", float(index)) for index in range(100)]
    metrics.append(Metric("nan", math.nan))
    params = {f"p{index}": HOSTILE for index in range(50)}
    transport.log_batch(run, metrics, params, 2000)
    assert transport.statements == 2
    (metric_rows,) = FAKE.calls["metric"]
    (param_rows,) = FAKE.calls["param"]
    assert len(metric_rows) == 101 and len(param_rows) == 50
    assert {row[2] for row in param_rows} == {HOSTILE}  # data, verbatim
    assert math.isnan(metric_rows[-1][2])


def staged_files(session, location: str, folder: Path) -> dict[str, bytes]:
    """What a stage location holds, read back through GET."""
    session.file.get(location, str(folder))
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_artifacts_go_up_at_the_end_in_two_statements(
    transport, snowpark_session, tmp_path, caplog
):
    run = transport.start_run("exp", "r", 1000, {}, False)
    model, plot = tmp_path / "regressor.pickle", tmp_path / "plot.png"
    model.write_bytes(b"model")
    plot.write_bytes(b"png")
    where = transport.log_artifact(run, model)
    transport.log_artifact(run, plot)
    model.write_bytes(b"changed after it was logged")
    assert where == f"{MLFLOW_STAGE}/7/{RUN_ID}/artifacts/regressor.pickle"
    assert transport.statements == 1  # logging an artifact only keeps a copy

    transport.flush_artifacts(run)
    assert transport.statements == 3  # one PUT + one COPY FILES for both files
    expected = {"regressor.pickle": b"model", "plot.png": b"png"}
    on_mlflow_stage = f"{MLFLOW_STAGE}/7/{RUN_ID}/artifacts/"
    assert staged_files(snowpark_session, on_mlflow_stage, tmp_path / "a") == expected
    staging = f"{STAGING_STAGE}/mlflow/7/{RUN_ID}/artifacts/"
    assert staged_files(snowpark_session, staging, tmp_path / "b") == expected

    assert not caplog.records  # artifact_uri ends with /7/<run>/artifacts: no warning
    transport.flush_artifacts(run)  # nothing left: no statement
    transport.end_run(run, "FINISHED", 3000)
    assert FAKE.calls["update"] == [[[RUN_ID, "FINISHED", 3000]]]
    assert transport.statements == 4


def test_an_artifact_uri_elsewhere_is_warned_about_once(transport, tmp_path, caplog):
    started = transport.start_run("exp", "r", 1000, {}, False)
    # A server whose artifact root lays runs out differently than <exp>/<run>/artifacts.
    run = dataclasses.replace(started, artifact_uri="s3://other/runs/abc/files")
    for name in ("regressor.pickle", "plot.png"):
        (tmp_path / name).write_bytes(b"x")
        transport.log_artifact(run, tmp_path / name)
    with caplog.at_level(logging.WARNING):
        transport.flush_artifacts(run)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = warning.getMessage()
    assert "s3://other/runs/abc/files" in message
    assert f"{MLFLOW_STAGE}/7/{RUN_ID}/artifacts/" in message


def test_no_artifacts_no_upload_statements(transport):
    run = transport.start_run("exp", "r", 1000, {}, False)
    transport.flush_artifacts(run)
    assert transport.statements == 1


@pytest.mark.parametrize(
    ("run", "field"),
    [
        (RunInfo(run_id="run1", experiment_id="7"), "run_id"),  # 'r' is not hex
        (RunInfo(run_id="abc123", experiment_id="7/../8"), "experiment_id"),
        (RunInfo(run_id="abc'; rm", experiment_id="7"), "run_id"),
    ],
)
def test_ids_that_do_not_fit_a_stage_path_are_refused(
    snowpark_session, tmp_path, run, field
):
    transport = ExternalFunctionTransport(
        snowpark_session, NAMES, MLFLOW_STAGE, STAGING_STAGE
    )
    model = tmp_path / "model.pickle"
    model.write_bytes(b"model")
    with pytest.raises(
        TrackingError, match=rf"^{field} .* cannot go into a stage path"
    ):
        transport.log_artifact(run, model)
    assert transport.statements == 0  # refused before any statement


@pytest.mark.parametrize("name", ["my model.pickle", "it's.png", "..", "ünï.png"])
def test_file_names_that_do_not_fit_a_stage_path_are_refused(transport, tmp_path, name):
    run = RunInfo(run_id="0123abcd", experiment_id="7")
    path = tmp_path / name
    if name != "..":
        path.write_bytes(b"x")
    with pytest.raises(TrackingError) as error:
        transport.log_artifact(run, path)
    message = str(error.value)
    assert message.startswith(
        f"artifact file name {name!r} cannot go into a stage path"
    )
    assert "[A-Za-z0-9._-]+" in message and "fix: rename the file" in message


def test_copy_files_emulation_copies_between_local_stages(snowpark_session, tmp_path):
    source, target = "@FAKE_DB.S.FROM_STAGE/some/path/", "@FAKE_DB.S.TO_STAGE/x/"
    for name, data in [("a.txt", b"a"), ("b.bin", b"\x00b")]:
        (tmp_path / name).write_bytes(data)
        snowpark_session.file.put(
            str(tmp_path / name), source, auto_compress=False, overwrite=True
        )
    copied = snowpark_session.file.copy_files(source, target)
    assert sorted(copied) == ["a.txt", "b.bin"]  # Snowpark: paths relative to target
    back = staged_files(snowpark_session, target, tmp_path / "back")
    assert back == {"a.txt": b"a", "b.bin": b"\x00b"}
    # The source stays (COPY, not MOVE); FILES selects; detailed_output=False counts.
    assert staged_files(snowpark_session, source, tmp_path / "src").keys() == {
        "a.txt",
        "b.bin",
    }
    only = "@FAKE_DB.S.TO_STAGE/only/"
    count = snowpark_session.file.copy_files(
        source, only, files=["b.bin"], detailed_output=False
    )
    assert count == 1
    assert staged_files(snowpark_session, only, tmp_path / "only") == {
        "b.bin": b"\x00b"
    }
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        snowpark_session.file.copy_files(source, only, files=["nope.txt"])
    with pytest.raises(NotImplementedError, match="PATTERN"):
        snowpark_session.file.copy_files(source, only, pattern=".*")


def test_copy_files_emulation_is_for_local_sessions_only(snowpark_session):
    class RealLooking:
        _conn = object()  # not Snowpark's mock connection

    with pytest.raises(ValueError, match="local testing sessions only"):
        emulate_copy_files(RealLooking())
