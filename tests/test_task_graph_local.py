"""`kedro snowflake deploy --dry-run` and `kedro snowflake run --local` on the demo, as a
user types them (real `python -m kedro` processes in a baked project).

Nothing is faked but Snowflake itself: `run --local` builds what deploy would upload
(`kedro package`, zips of the pure-Python libraries), then plays the graph in a second
process started with `python -I -S`, whose path holds only those zips (zipimport, as in
Snowflake) and the installed code of the procedure's PACKAGES; Snowpark local testing
runs the procedure, and the task system functions are emulated there. MLflow is the
project's own mlflow.db (transport direct, the offline default), read back with the
MLflow client.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient
from support.baking import REPO_ROOT, bake

pytestmark = pytest.mark.slow

GOLDEN = REPO_ROOT / "tests" / "golden" / "demo_plan.txt"
VERSION = re.compile(r"-\d[\w.+]*\.zip")


def normalized_plan(text: str) -> str:
    """Library versions vary with the environment; the plan's shape must not."""
    lines = [line for line in text.splitlines() if " INFO " not in line]
    return VERSION.sub("-<version>.zip", "\n".join(lines)).strip() + "\n"


@pytest.fixture(scope="module")
def demo(cookies_session):
    return bake(cookies_session)


def runs(project: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    found = []
    for experiment in client.search_experiments():
        found += client.search_runs([experiment.experiment_id])
    return found


def test_the_dry_run_prints_the_golden_plan_without_connecting(demo):
    result = demo.run("kedro", "snowflake", "deploy", "--dry-run")
    assert normalized_plan(result.stdout) == GOLDEN.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def local_run(demo):
    result = demo.run("kedro", "snowflake", "run", "--local", timeout=900)
    return result, runs(demo.path)


def test_run_local_records_one_finished_mlflow_run(demo, local_run):
    result, found = local_run
    assert "SNOWFLAKE_MLOPS_DEMO_FINALIZER" in result.stdout
    (run,) = found
    assert run.info.status == "FINISHED"
    assert f"MLflow run {run.info.run_id}: FINISHED" in result.stdout
    assert {"r2", "mae", "rmse"} <= set(run.data.metrics)
    assert run.data.metrics["r2"] > 0.8
    assert len(run.data.params) == 4
    assert run.data.tags["kedro.runs_in"] == "snowflake task graph"
    client = MlflowClient(tracking_uri=f"sqlite:///{demo.path / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"regressor.pickle", "predicted_vs_actual.png"}


def test_every_task_reports_and_succeeds_in_dependency_order(local_run):
    result, _ = local_run
    reported = re.findall(
        r"SNOWFLAKE_MLOPS_DEMO_(\w+)\s+(SUCCEEDED|FAILED|SKIPPED)", result.stdout
    )
    names = [name for name, _ in reported]
    assert names[0] == "ROOT" and names[-1] == "FINALIZER"
    assert {state for _, state in reported} == {"SUCCEEDED"}
    assert names.index("CREATE_MODEL_INPUT_TABLE") < names.index("SPLIT_DATA")
    assert len(names) == 10


@pytest.fixture
def project_copy_of(demo, tmp_path) -> Path:
    copy = tmp_path / demo.path.name
    shutil.copytree(
        demo.path, copy, ignore=shutil.ignore_patterns("mlflow.db", "mlruns", "dist")
    )
    return copy


def run_in(project: Path, *args: str):
    from support.baking import BakedProject  # noqa: PLC0415

    return BakedProject(project, {}).run(
        "kedro", "snowflake", *args, check=False, timeout=900
    )


def test_broken_raw_data_fails_naming_the_node_and_leaves_the_run_failed(
    project_copy_of,
):
    reviews = project_copy_of / "data/01_raw/reviews.csv"
    text = reviews.read_text().replace("shuttle_id", "shuttle_ident", 1)
    reviews.write_text(text)
    result = run_in(project_copy_of, "run", "--local")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "the graph failed at node create_model_input_table" in output
    assert re.search(r"SPLIT_DATA\s+SKIPPED", output)
    assert re.search(r"SUMMARISE_MODEL_INPUT\s+SKIPPED", output)
    assert re.search(
        r"FINALIZER\s+SUCCEEDED", output
    )  # it always runs, and closed the run
    (run,) = runs(project_copy_of)
    assert run.info.status == "FAILED"
    assert run.data.tags["kedro.failed_node"] == "create_model_input_table"
    assert "SHUTTLE_ID" in run.data.tags["kedro.error"].upper()


def test_a_module_deploy_would_not_upload_is_missing_inside_the_procedure(
    project_copy_of,
):
    """py_mini_racer is installed here (the test extra) but is neither a dependency of
    the project nor among its PACKAGES: `kedro run` would find it, the procedure must not."""
    nodes = next(project_copy_of.glob("src/*/pipelines/data_science/nodes.py"))
    text = nodes.read_text()
    text = text.replace(
        "    regressor = LinearRegression()",
        "    import py_mini_racer  # noqa: F401, PLC0415\n\n    regressor = LinearRegression()",
    )
    nodes.write_text(text)
    result = run_in(project_copy_of, "run", "--local")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No module named 'py_mini_racer'" in output
    assert "the graph failed at node train_model" in output


def test_a_local_file_crossing_tasks_is_refused_at_plan_time(project_copy_of):
    """regressor is a pickle file; read by a node in another task it could not be."""
    pipeline = next(project_copy_of.glob("src/*/pipelines/data_science/pipeline.py"))
    text = pipeline.read_text().replace(
        '["regressor", "X_test", "y_test"],\n                "prediction_plot"',
        '["regressor", "model_input_table"],\n                "prediction_plot"',
    )
    pipeline.write_text(text)
    nodes = next(project_copy_of.glob("src/*/pipelines/data_science/nodes.py"))
    nodes.write_text(
        nodes.read_text().replace(
            "    X_test: pd.DataFrame,\n    y_test: pd.Series,\n) -> Figure:",
            "    table,\n) -> Figure:",
        )
    )
    result = run_in(project_copy_of, "deploy", "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "dataset regressor (pickle.PickleDataset (data/06_models/regressor.pickle))"
        in output
    )
    assert "read by node plot_predictions in another task" in output
