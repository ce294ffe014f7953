"""One whole offline run, as `kedro run` does it: every node, every table and one MLflow
run with the model's metrics and artifacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

PROJECT_PATH = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project, so the run leaves nothing behind here."""
    for folder in ("conf", "data", "src"):
        shutil.copytree(
            PROJECT_PATH / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(PROJECT_PATH / "pyproject.toml", tmp_path)
    return tmp_path


def test_a_run_trains_the_model_and_records_one_mlflow_run(project: Path):
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.run()

    assert (project / "data/06_models/regressor.pickle").is_file()
    assert (project / "data/08_reporting/predicted_vs_actual.png").is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    [experiment] = [e for e in client.search_experiments() if e.name != "Default"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert {"r2", "mae", "rmse"} <= set(run.data.metrics)
    assert run.data.metrics["r2"] > 0.8
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"regressor.pickle", "predicted_vs_actual.png"}
