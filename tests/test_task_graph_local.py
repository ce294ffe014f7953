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
SIZE = re.compile(r" *\b\d+(?:\.\d)? (?:B|kB|MB|GB)\b")
TRACED_AT = re.compile(r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, conf env")
# Tasks of nodes of the demo under each grouping (besides the root and the finalizer);
# node keeps nodes that hand each other in-memory data together, as memory does.
TASKS_OF_NODES = {"auto": 1, "memory": 8, "node": 8, "pipeline": 1}
# The model the demo's training pipeline registers (conf/base/snowflake.yml).
MODEL = "snowflake_mlops_demo_price"


def normalized_plan(text: str) -> str:
    """Library versions, file sizes and the trace's time vary with the environment;
    the plan's shape must not."""
    lines = [line for line in text.splitlines() if " INFO " not in line]
    text = VERSION.sub("-<version>.zip", "\n".join(lines))
    text = TRACED_AT.sub("(<traced at>, conf env", SIZE.sub(" <size>", text))
    return text.strip() + "\n"


@pytest.fixture(scope="module")
def demo(cookies_session):
    return bake(cookies_session)


def runs(project: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    found = []
    for experiment in client.search_experiments():
        found += client.search_runs([experiment.experiment_id])
    return found


@pytest.fixture(scope="module")
def dry_run(demo):
    """The first deploy --dry-run of the demo: it traces the imports first (stderr)."""
    return demo.run("kedro", "snowflake", "deploy", "--dry-run", timeout=900)


def test_the_dry_run_prints_the_golden_plan_without_connecting(dry_run):
    assert normalized_plan(dry_run.stdout) == GOLDEN.read_text(encoding="utf-8")
    assert "Tracing what the procedure imports" in dry_run.stderr
    assert re.search(r"Traced what the tasks import: \d+ of the \d+", dry_run.stderr)


@pytest.fixture(scope="module")
def local_run(demo, dry_run):
    """run --local after the trace: it ships only what the trace found."""
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
    assert len(run.data.params) == 7  # model_options and quality_gate
    assert run.data.tags["kedro.runs_in"] == "snowflake task graph"
    client = MlflowClient(tracking_uri=f"sqlite:///{demo.path / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {
        "regressor.pickle",
        "predicted_vs_actual.png",
        "model",
        "quality_gate.json",
    }
    # The gate ran inside the graph's task and the model was registered from there.
    assert run.data.tags["quality_gate"] == "passed"
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert champion.run_id == run.info.run_id


def test_run_local_of_scoring_predicts_with_the_champion_the_graph_registered(
    demo, local_run
):
    """Training's graph made the champion (above); scoring's own graph, with its own
    task prefix, reads it inside its task and tags its run with the version."""
    result = demo.run(
        "kedro", "snowflake", "run", "--local", "--pipeline", "scoring", timeout=900
    )
    assert "SNOWFLAKE_MLOPS_DEMO_SCORING_FINALIZER" in result.stdout
    (run,) = [r for r in runs(demo.path) if r.data.tags["kedro.pipeline"] == "scoring"]
    assert run.info.status == "FINISHED"
    assert run.data.tags["registry.champion_version"] == "1"
    assert run.data.tags["registry.model"] == MODEL


def test_a_scheduled_scoring_graph_reads_the_champion_through_external_access(
    demo, local_run
):
    """With external access the procedure's MLflow client reaches the registry: the
    scoring graph deploys beside training's, on its schedule, and the plan says where
    its task reads the champion. The trace (offline) reads the champion run --local
    registered above."""
    env = demo.path / "conf" / "scoring_ea"
    env.mkdir(exist_ok=True)
    shutil.copy(demo.path / "conf/snowflake/credentials.yml", env)
    (env / "snowflake.yml").write_text(
        "snowflake:\n  session:\n    mode: snowflake\n    credentials: snowflake\n"
        "  mlflow:\n    transport: external_access\n"
        "    tracking_uri: https://mlflow.example.com\n"
    )
    schedule = "USING CRON 0 6 * * * UTC"
    result = demo.run(
        "kedro", "snowflake", "deploy", "--dry-run", "--env", "scoring_ea",
        "--pipeline", "scoring", "--schedule", schedule, timeout=900,
    )  # fmt: skip
    assert "task               DEMO.DEMO.SNOWFLAKE_MLOPS_DEMO_SCORING_ROOT" in (
        result.stdout
    )
    assert f"SCHEDULE = '{schedule}'" in result.stdout
    assert (
        f"node score_shuttles reads scoring_model: models:/{MODEL}@champion from "
        "MLflow's registry at https://mlflow.example.com, through the procedure's "
        "MLflow client (transport external_access)"
    ) in result.stdout


def test_deploying_scoring_where_there_is_no_registry_is_refused(demo):
    """conf/snowflake tracks through the external functions, which cannot reach
    MLflow's registry: a scheduled scoring graph would find no champion, ever."""
    result = demo.run(
        "kedro", "snowflake", "deploy", "--dry-run", "--pipeline", "scoring",
        "--env", "snowflake", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        "node score_shuttles reads scoring_model, which requires the registry's "
        "champion, but conf/snowflake/snowflake.yml sets no snowflake.registry"
    ) in result.stderr


def reported_tasks(output: str) -> list[tuple[str, str]]:
    return re.findall(
        r"SNOWFLAKE_MLOPS_DEMO_(\w+)\s+(SUCCEEDED|FAILED|SKIPPED)", output
    )


def test_run_local_proves_the_traced_imports_suffice(demo, dry_run, local_run):
    """The dry run traced which libraries the tasks import; run --local now ships only
    those (and the project, its conf, inputs and manifest), as deploy would."""
    result, _ = local_run
    used = int(re.search(r"Traced what the tasks import: (\d+)", dry_run.stderr)[1])
    assert (demo.path / "dist/snowflake-imports-__default__.json").exists()
    assert f"the procedure imports only the {used + 6} files deploy would upload" in (
        result.stdout
    )
    assert f"The procedure imported only the {used} libraries shipped" in result.stdout
    assert "exactly what deploy uploads suffices" in result.stdout


@pytest.mark.parametrize("grouping", ["auto", "memory", "node", "pipeline"])
def test_every_grouping_gives_one_finished_run_in_dependency_order(
    project_copy_of, grouping
):
    result = run_in(project_copy_of, "run", "--local", "--grouping", grouping)
    assert result.returncode == 0, result.stdout + result.stderr
    # No trace yet in the copy: this run ships everything and records what ran.
    assert "Traced what the tasks import" in result.stdout
    names = [name for name, _ in reported_tasks(result.stdout)]
    assert names[0] == "ROOT" and names[-1] == "FINALIZER"
    assert {state for _, state in reported_tasks(result.stdout)} == {"SUCCEEDED"}
    assert len(names) == TASKS_OF_NODES[grouping] + 2
    if "SPLIT_DATA" in names:
        assert names.index("CREATE_MODEL_INPUT_TABLE") < names.index("SPLIT_DATA")
    (run,) = runs(project_copy_of)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["r2"] > 0.8


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


@pytest.mark.parametrize("grouping", ["auto", "memory"])
def test_broken_raw_data_fails_naming_the_node_and_leaves_the_run_failed(
    project_copy_of, grouping
):
    reviews = project_copy_of / "data/01_raw/reviews.csv"
    text = reviews.read_text().replace("shuttle_id", "shuttle_ident", 1)
    reviews.write_text(text)
    result = run_in(project_copy_of, "run", "--local", "--grouping", grouping)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "the graph failed at node create_model_input_table" in output
    if grouping == "memory":  # the tasks after the failed one never run
        assert re.search(r"SPLIT_DATA\s+SKIPPED", output)
        assert re.search(r"SUMMARISE_MODEL_INPUT\s+SKIPPED", output)
    else:
        assert re.search(r"ALL_NODES\s+FAILED", output)
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
    # Under grouping auto the demo is one task; memory keeps plot_predictions apart.
    result = run_in(project_copy_of, "deploy", "--dry-run", "--grouping", "memory")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "dataset regressor (pickle.PickleDataset (data/06_models/regressor.pickle))"
        in output
    )
    assert "read by node plot_predictions in another task" in output
