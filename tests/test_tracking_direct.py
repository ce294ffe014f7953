"""The offline default: a real `kedro run` of the generated demo leaves a FINISHED run in
the project's mlflow.db, read back with the MLflow client (no mocks anywhere)."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient
from support.attack_project import write_env
from support.baking import bake
from support.mlflow_server import free_port

pytestmark = pytest.mark.slow

EXPERIMENT = "demo-mlops"


def commit_all(folder: Path) -> str | None:
    """Make the project a git repository with one commit; its sha, or None without git."""
    if shutil.which("git") is None:
        return None
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        [*identity, "commit", "-qm", "demo"],
    ):
        subprocess.run(["git", *command], cwd=folder, check=True, capture_output=True)
    head = ["git", "rev-parse", "HEAD"]
    return subprocess.run(
        head, cwd=folder, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def demo(cookies_session):
    project = bake(cookies_session)
    project.git_sha = commit_all(project.path)
    result = project.run("kedro", "run")
    return project, result.stdout + result.stderr


@pytest.fixture(scope="module")
def client(demo):
    project, _ = demo
    return MlflowClient(tracking_uri=f"sqlite:///{project.path / 'mlflow.db'}")


def runs(client: MlflowClient, status: str | None = None) -> list:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, f"no experiment {EXPERIMENT!r} in mlflow.db"
    found = client.search_runs([experiment.experiment_id])
    return [run for run in found if status is None or run.info.status == status]


def first_run(client: MlflowClient):
    """The run of the module's successful `kedro run` (the oldest one)."""
    return min(runs(client), key=lambda run: run.info.start_time)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_run_is_finished_with_the_demo_metrics(demo, client):
    project, _ = demo
    run = first_run(client)
    assert run.info.status == "FINISHED"
    assert run.info.end_time >= run.info.start_time > 0
    model = read_json(project.path / "data/08_reporting/model_metrics.json")
    quality = read_json(project.path / "data/08_reporting/data_quality_metrics.json")
    assert {"r2", "mae", "rmse"} <= set(run.data.metrics)
    for key, value in {**model, **quality}.items():
        assert run.data.metrics[key] == pytest.approx(value), key
    assert run.data.metrics["r2"] > 0.8


def test_parameters_are_flattened(demo, client):
    params = first_run(client).data.params
    assert params["model_options.test_size"] == "0.2"
    assert params["model_options.target"] == "PRICE"
    assert json.loads(params["model_options.features"])[0] == "ENGINES"


def test_tags_describe_the_kedro_run(demo, client):
    project, _ = demo
    tags = first_run(client).data.tags
    assert tags["kedro.pipeline"] == "__default__"
    assert tags["kedro.env"] == "local"
    assert tags["kedro.project"] == project.package
    assert tags["snowflake.session_mode"] == "local_testing"
    assert tags["tracking.transport"] == "direct"
    if project.git_sha:
        assert tags["mlflow.source.git.commit"] == project.git_sha
    session_id = tags["kedro.session_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d.]+Z", session_id), session_id


def test_the_model_is_an_artifact(demo, client, tmp_path):
    project, _ = demo
    run = first_run(client)
    assert "regressor.pickle" in [
        artifact.path for artifact in client.list_artifacts(run.info.run_id)
    ]
    local = client.download_artifacts(run.info.run_id, "regressor.pickle", tmp_path)
    saved = project.path / "data/06_models/regressor.pickle"
    assert Path(local).read_bytes() == saved.read_bytes()
    assert hasattr(pickle.loads(saved.read_bytes()), "predict")


def test_one_summary_line_says_how_to_open_the_run(demo, client):
    project, output = demo
    run = first_run(client)
    # The first run's model passed the quality gate: registered as champion.
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    summary = (
        f"MLflow run {run.info.run_id}: {len(run.data.metrics)} metrics, "
        f"{len(run.data.params)} params; registered {version.name} version "
        f"{version.version} (challenger, champion); open it with: mlflow ui "
        "--backend-store-uri sqlite:///mlflow.db"
    )
    # One line, as written to a file (the output here is a pipe, not a terminal);
    # no SQL statements are mentioned: the direct transport issues none.
    [line] = [line for line in output.splitlines() if "MLflow run " in line]
    assert line.endswith(summary), output[-3000:]


def test_a_failing_node_marks_the_run_failed_and_still_raises(demo, client):
    project, _ = demo
    result = project.run(
        "kedro", "run", "--params", "model_options.target=NO_SUCH_COLUMN", check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "NO_SUCH_COLUMN" in output  # the node's own error, not a tracking error
    (failed,) = runs(client, "FAILED")
    assert failed.data.params["model_options.target"] == "NO_SUCH_COLUMN"
    assert failed.info.end_time >= failed.info.start_time


UNREACHABLE = """\
    tracking_uri: http://127.0.0.1:{port}
    timeout_seconds: 2
    retry:
      attempts: 2
      backoff_seconds: 0.1
    on_failure: {policy}
"""


def test_mlflow_down_with_warn_keeps_the_pipeline_outputs(demo):
    project, _ = demo
    write_env(
        project, "mlflow_down", UNREACHABLE.format(port=free_port(), policy="warn")
    )
    outputs = [
        project.path / "data/08_reporting/model_metrics.json",
        project.path / "data/06_models/regressor.pickle",
    ]
    for output in outputs:
        output.unlink()
    result = project.run("kedro", "run", "--env", "mlflow_down")
    log = result.stdout + result.stderr
    assert all(output.is_file() for output in outputs)
    assert "Pipeline execution completed successfully" in log
    assert "MLflow could not start a run" in log
    flat = " ".join(log.split())
    assert flat.count("NOT logged:") == 1
    not_logged = flat.split("NOT logged:")[1]
    assert "metrics of model_metrics" in not_logged
    assert "artifact regressor" in not_logged


def test_mlflow_down_with_fail_stops_with_a_clear_error(demo):
    project, _ = demo
    write_env(
        project, "mlflow_fail", UNREACHABLE.format(port=free_port(), policy="fail")
    )
    result = project.run("kedro", "run", "--env", "mlflow_fail", check=False)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "MLflow could not start a run in experiment 'demo-mlops'" in log
    assert "on_failure is `fail`" in log
