"""Both transports, each against something real.

Direct: the MLflow client on a sqlite store in a temporary folder. External functions:
Snowpark local testing, with the five functions registered by name. Behind them is a
small in-memory stand-in for MLflow (the template repository's tests run the real
translators against a real `mlflow server`; a generated project has neither).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient
from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._functions import ColumnEmulator, ColumnType
from snowflake.snowpark.types import VariantType

from {{ cookiecutter.python_package }}.tracking.config import (
    FunctionNames,
)
from {{ cookiecutter.python_package }}.tracking.direct import (
    DirectTransport,
)
from {{ cookiecutter.python_package }}.tracking.external_functions import (
    ExternalFunctionTransport,
)
from {{ cookiecutter.python_package }}.tracking.transport import (
    ExperimentNotFoundError,
)
from {{ cookiecutter.python_package }}.tracking.values import (
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
    assert transport.statements == 0
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
        return {"run_id": "run1", "experiment_id": row[0], "artifact_uri": "s3://x"}

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


@pytest.fixture
def transport(snowpark_session):
    FAKE.calls.clear()
    return ExternalFunctionTransport(snowpark_session, NAMES, "@FAKE_DB.S.MLFLOW_STAGE")


def test_a_run_starts_in_one_statement(transport):
    run = transport.start_run("exp", "my run", 1000, {"k": HOSTILE}, False)
    assert (run.run_id, run.experiment_id) == ("run1", "7")
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


def test_artifacts_go_to_the_stage_under_the_run(transport, snowpark_session, tmp_path):
    run = transport.start_run("exp", "r", 1000, {}, False)
    model = tmp_path / "regressor.pickle"
    model.write_bytes(b"model")
    where = transport.log_artifact(run, model)
    assert where == "@FAKE_DB.S.MLFLOW_STAGE/7/run1/artifacts/regressor.pickle"
    snowpark_session.file.get(where.rsplit("/", 1)[0] + "/", str(tmp_path / "back"))
    assert Path(tmp_path / "back" / "regressor.pickle").read_bytes() == b"model"
    transport.end_run(run, "FINISHED", 3000)
    assert FAKE.calls["update"] == [[["run1", "FINISHED", 3000]]]
    assert transport.statements == 3
