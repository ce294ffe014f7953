"""Whole offline runs, as `kedro run` does them: training (every node, every table, one
MLflow run with the model's metrics and artifacts, the model registered as champion),
then scoring with that champion."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

PROJECT_PATH = Path(__file__).resolve().parent.parent

# The model the training pipeline registers (snowflake.registry in conf/base).
MODEL_NAME = yaml.safe_load(
    (PROJECT_PATH / "conf/base/snowflake.yml").read_text(encoding="utf-8")
)["snowflake"]["registry"]["model_name"]


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
    assert artifacts == {
        "regressor.pickle",
        "predicted_vs_actual.png",
        "model",
        "quality_gate.json",
    }
    assert run.data.tags["quality_gate"] == "passed"
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert champion.run_id == run.info.run_id


def listed_features(project: Path, ids: pd.Series, features: list[str]) -> pd.DataFrame:
    """The listings' features computed here with pandas, from the raw files, as the
    Snowpark nodes compute them: an independent check of what the model was given."""
    raw = project / "data/01_raw"
    listed = pd.read_csv(raw / "shuttles_to_score.csv").rename(columns=str.upper)
    companies = pd.read_csv(raw / "companies.csv").rename(columns=str.upper)
    rows = listed.merge(companies.rename(columns={"ID": "COMPANY_ID"}), on="COMPANY_ID")
    for column in ("D_CHECK_COMPLETE", "MOON_CLEARANCE_COMPLETE", "IATA_APPROVED"):
        rows[column] = rows[column] == "t"
    rows["COMPANY_RATING"] = rows["COMPANY_RATING"].str.rstrip("%").astype(float) / 100
    return (
        rows.set_index("ID")
        .loc[list(ids), features]
        .astype(float)
        .reset_index(drop=True)
    )


def test_scoring_predicts_with_the_champion(project: Path, monkeypatch):
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.run()
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_name="scoring")

    predictions = pd.read_csv(
        project / "data/07_model_output/shuttle_price_predictions.csv"
    )
    uri = f"sqlite:///{project / 'mlflow.db'}"
    champion = MlflowClient(tracking_uri=uri).get_model_version_by_alias(
        MODEL_NAME, "champion"
    )
    assert set(predictions["MODEL_NAME"]) == {MODEL_NAME}
    assert set(predictions["MODEL_VERSION"].astype(str)) == {str(champion.version)}
    # The same rows through MLflow's own loader of `models:/<name>@champion`.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    served = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    features = served.metadata.get_input_schema().input_names()
    listed = pd.read_csv(project / "data/01_raw/shuttles_to_score.csv")
    assert len(predictions) > 0.9 * len(listed)  # rows with gaps are not scored
    scored = listed_features(project, predictions["ID"], features)
    pd.testing.assert_series_equal(
        pd.Series(served.predict(scored), name="PREDICTED_PRICE"),
        predictions["PREDICTED_PRICE"],
        check_exact=False,
    )


def test_scoring_before_training_says_to_train_first(project: Path):
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        with pytest.raises(Exception, match="run the training pipeline first"):
            session.run(pipeline_name="scoring")
    assert not (project / "data/07_model_output/shuttle_price_predictions.csv").exists()
