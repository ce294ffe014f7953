"""The demo's task graph tracked from inside the procedure, offline, with both Snowflake
transports and a real `mlflow server` on 127.0.0.1 (`kedro snowflake run --local`, real
processes).

- external_functions: the procedure's process cannot import the emulator (it sees only
  what deploy uploads), so its six external functions POST their rows to an
  ExternalFunctionBridge in this process, which runs the project's own translator
  JavaScript from sql/ in V8 and calls MLflow (tests/support/local_patches.py). What is
  emulated is Snowflake's side of the call; the translators and MLflow are real.
- external_access: the MLflow client inside the procedure calls the server itself. Only
  Snowflake's secret lookup is patched (it raises outside Snowflake): it returns a test
  token and notes which secret was asked for.
"""

from __future__ import annotations

import json
import pickle
import re
import textwrap
import uuid
from pathlib import Path

import pytest
from support.baking import REPO_ROOT, bake
from support.external_function_bridge import ARITIES, ExternalFunctionBridge
from support.external_functions import ExternalFunctionEmulator, ExternalFunctionError
from support.throwaway import throwaway_secret

pytestmark = pytest.mark.slow

PREFIX = "demo.demo.mlflow_"
PATCHES = REPO_ROOT / "tests" / "support" / "local_patches.py"
FAKE_MLFLOW_CREDENTIAL = throwaway_secret("token")  # it must never be printed
# The model the project registers: its package name and _price (conf/base).
MODEL = "task_graph_tracking_price"


# snowflake.deploy.secrets of env tg_ea: the procedure's SECRETS clause. Only its keys
# resolve inside the procedure (local_patches.py refuses any other name).
EA_SECRETS = {"mlflow_token": "DEMO.DEMO.MLFLOW_TOKEN"}


def write_env(project: Path, env: str, body: str) -> None:
    folder = project / "conf" / env
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snowflake.yml").write_text(textwrap.dedent(body), encoding="utf-8")


@pytest.fixture(scope="module")
def project(cookies_session, mlflow_server):
    baked = bake(cookies_session, project_name="Task Graph Tracking")
    experiment = f"task-graph-{uuid.uuid4().hex[:8]}"
    mlflow_server.post("experiments/create", {"name": experiment})
    write_env(
        baked.path,
        "tg_ef",
        f"""\
        snowflake:
          mlflow:
            transport: external_functions
            experiment_name: {experiment}
          # MLflow's registry is out of reach of the external functions.
          registry: null
        """,
    )
    write_env(
        baked.path,
        "tg_ea",
        f"""\
        snowflake:
          mlflow:
            transport: external_access
            experiment_name: {experiment}
            tracking_uri: {mlflow_server.url}
          deploy:
            external_access_integrations: [DEMO_DEMO_MLFLOW_ACCESS_INTEGRATION]
            secrets: {json.dumps(EA_SECRETS)}
        """,
    )
    return baked, experiment


@pytest.fixture(scope="module")
def bridge(project, mlflow_server):
    baked, _ = project
    emulator = ExternalFunctionEmulator(baked.path / "sql", mlflow_server.url)
    served = ExternalFunctionBridge(emulator)
    yield served
    served.close()


def run_graph(
    project,
    env: str,
    grouping: str = "auto",
    pipeline: str = "__default__",
    **variables,
):
    baked, _ = project
    return baked.run(
        "kedro",
        "snowflake",
        "run",
        "--local",
        "--env",
        env,
        "--grouping",
        grouping,
        "--pipeline",
        pipeline,
        check=False,
        timeout=900,
        KEDRO_SNOWFLAKE_MLOPS_LOCAL_PATCHES=str(PATCHES),
        **variables,
    )


def run_from_output(mlflow_server, output: str) -> dict:
    (run_id,) = set(
        re.findall(r"MLflow run ([0-9a-f]{32}): (?:FINISHED|FAILED)", output)
    )
    return mlflow_server.get("runs/get", run_id=run_id)["run"]


def as_dicts(run: dict) -> tuple[dict, dict, dict]:
    data = run["data"]
    return (
        {m["key"]: m["value"] for m in data.get("metrics", [])},
        {p["key"]: p["value"] for p in data.get("params", [])},
        {t["key"]: t["value"] for t in data.get("tags", [])},
    )


def bridge_variables(bridge, export: Path) -> dict[str, str]:
    functions = {PREFIX + name: arity for name, arity in ARITIES.items()}
    return {
        "BRIDGE_URL": bridge.url,
        "BRIDGE_FUNCTIONS": json.dumps(functions),
        "STAGE_EXPORT": str(export),
    }


@pytest.fixture(scope="module")
def ef_run(project, bridge, mlflow_server, tmp_path_factory):
    export = tmp_path_factory.mktemp("mlflow-stage")
    # grouping memory: eight tasks of nodes, each tracking on its own; the other tests
    # here run the default, auto (the demo's nodes in one task).
    result = run_graph(project, "tg_ef", "memory", **bridge_variables(bridge, export))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    baked, _ = project
    log = (baked.path / "snowflake-run-local.log").read_text(encoding="utf-8")
    return result, run_from_output(mlflow_server, result.stdout), export, log


def test_external_functions_one_finished_run_with_every_task_s_values(ef_run):
    _, run, _, _ = ef_run
    assert run["info"]["status"] == "FINISHED"
    metrics, params, tags = as_dicts(run)
    assert {"r2", "mae", "rmse", "raw_shuttle_rows"} <= set(metrics)
    assert len(params) == 7 and params["model_options.target"] == "PRICE"
    assert tags["tracking.transport"] == "external_functions"
    assert tags["kedro.runs_in"] == "snowflake task graph"


def test_external_functions_put_both_artifacts_on_the_mlflow_stage(ef_run):
    _, run, export, _ = ef_run
    files = {p.name: p for p in export.rglob("*") if p.is_file()}
    assert set(files) == {"regressor.pickle", "predicted_vs_actual.png"}
    assert run["info"]["run_id"] in str(files["regressor.pickle"])
    model = pickle.loads(files["regressor.pickle"].read_bytes())  # noqa: S301 (ours)
    assert type(model).__name__ == "LinearRegression"


def test_tracking_statements_are_constant_per_task(ef_run):
    """root: look up + create, params; a task: one per metrics dataset, two for all its
    artifacts (PUT, COPY FILES); finalizer: end. Not one per metric or param."""
    _, _, _, log = ef_run
    per_task = [
        int(n)
        for n in re.findall(r"MLflow run \w+: \d+ metrics, \d+ params, (\d+) SQL", log)
    ]
    assert len(per_task) == 8  # one summary line per group of nodes
    # summarise_model_input: its metrics; split_data...: metrics + PUT + COPY FILES;
    # the six tasks that log nothing issue nothing.
    assert sorted(per_task) == [0, 0, 0, 0, 0, 0, 1, 3]
    assert re.search(r"started with 7 params, 2 SQL statements", log)
    assert re.search(r"ended FINISHED, 1 SQL statements", log)


def test_external_functions_failed_run_is_tagged_through_the_tag_function(
    project, bridge, mlflow_server, tmp_path
):
    baked, _ = project
    reviews = baked.path / "data/01_raw/reviews.csv"
    original = reviews.read_text()
    reviews.write_text(original.replace("shuttle_id", "shuttle_ident", 1))
    try:
        result = run_graph(project, "tg_ef", **bridge_variables(bridge, tmp_path))
    finally:
        reviews.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "the graph failed at node create_model_input_table" in output
    run = run_from_output(mlflow_server, output)
    assert run["info"]["status"] == "FAILED"
    _, _, tags = as_dicts(run)
    assert tags["kedro.failed_node"] == "create_model_input_table"
    assert tags["kedro.failed_task"] == "ALL_NODES"  # grouping auto: one task


class GatewayDownFor(ExternalFunctionEmulator):
    """The gateway in front of MLflow answers 503 for one function's calls (what
    Snowflake reports once its own retries are spent); the rest reach MLflow."""

    def __init__(self, *args, failing: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failing = failing

    def call(self, function_name, rows):
        if function_name.lower() == self.failing:
            raise ExternalFunctionError(f"{function_name}: the gateway answered 503")
        return super().call(function_name, rows)


def test_mlflow_gone_at_the_end_under_warn_still_ends_the_graph(
    project, mlflow_server, tmp_path
):
    """on_failure: warn: the finalizer cannot end the MLflow run, says so, and still
    writes the graph's outcome (`kedro snowflake run` waits for it)."""
    baked, _ = project
    emulator = GatewayDownFor(
        baked.path / "sql", mlflow_server.url, failing=PREFIX + "run_update"
    )
    gateway = ExternalFunctionBridge(emulator)
    try:
        result = run_graph(project, "tg_ef", **bridge_variables(gateway, tmp_path))
    finally:
        gateway.close()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"FINALIZER\s+SUCCEEDED", output), output[-4000:]
    log = (baked.path / "snowflake-run-local.log").read_text(encoding="utf-8")
    (line,) = [line for line in log.splitlines() if "could not be ended" in line]
    # The procedure's process sees the failed call (the bridge answers it with 500).
    assert "could not be ended FINISHED: HTTPError: HTTP Error 500" in line
    assert "(snowflake.mlflow.on_failure: warn)" in line
    run = mlflow_server.get(
        "runs/get", run_id=re.search(r"MLflow run (\w{32})", line)[1]
    )
    assert run["run"]["info"]["status"] == "RUNNING"  # nothing could end it


def test_external_access_the_mlflow_client_inside_the_procedure(
    project, mlflow_server, tmp_path
):
    secret_log = tmp_path / "secrets.log"
    result = run_graph(
        project,
        "tg_ea",
        SECRET_VALUE=FAKE_MLFLOW_CREDENTIAL,
        SECRET_NAMES=json.dumps(sorted(EA_SECRETS)),
        SECRET_LOG=str(secret_log),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    run = run_from_output(mlflow_server, output)
    assert run["info"]["status"] == "FINISHED"
    metrics, params, tags = as_dicts(run)
    assert {"r2", "mae", "rmse"} <= set(metrics) and len(params) == 7
    assert tags["tracking.transport"] == "external_access"
    listed = mlflow_server.get("artifacts/list", run_id=run["info"]["run_id"])
    assert {f["path"] for f in listed.get("files", [])} == {
        "regressor.pickle",
        "predicted_vs_actual.png",
        "model",
        "quality_gate.json",
    }
    # The gate judged inside the task and the MLflow client there registered the model.
    assert tags["quality_gate"] == "passed"
    champion = mlflow_server.get(
        "registered-models/alias", name=MODEL, alias="champion"
    )["model_version"]
    assert champion["run_id"] == run["info"]["run_id"]
    assert set(secret_log.read_text().split()) == {"mlflow_token"}
    baked, _ = project
    assert FAKE_MLFLOW_CREDENTIAL not in output
    assert (
        FAKE_MLFLOW_CREDENTIAL
        not in (baked.path / "snowflake-run-local.log").read_text()
    )


def test_external_access_scoring_graph_reads_the_champion_training_registered(
    project, mlflow_server, tmp_path
):
    """After the training graph (above) made a champion in the server's registry, the
    scoring pipeline's own graph reads it through the client inside its task."""
    variables = {
        "SECRET_VALUE": FAKE_MLFLOW_CREDENTIAL,
        "SECRET_NAMES": json.dumps(sorted(EA_SECRETS)),
        "SECRET_LOG": str(tmp_path / "secrets.log"),
    }
    trained = run_graph(project, "tg_ea", **variables)
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-4000:]
    result = run_graph(project, "tg_ea", pipeline="scoring", **variables)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "TASK_GRAPH_TRACKING_SCORING_FINALIZER" in output
    run = run_from_output(mlflow_server, output)
    assert run["info"]["status"] == "FINISHED"
    _, _, tags = as_dicts(run)
    champion = mlflow_server.get(
        "registered-models/alias", name=MODEL, alias="champion"
    )["model_version"]
    assert tags["registry.champion_version"] == champion["version"]
    assert tags["kedro.pipeline"] == "scoring"


def test_mlflow_unreachable_under_warn_runs_the_graph_untracked(project, tmp_path):
    """on_failure: warn (the default): the root cannot create the run, says so, and no
    task creates one of its own; every node still runs."""
    from support.mlflow_server import free_port  # noqa: PLC0415

    variables = {
        "BRIDGE_URL": f"http://127.0.0.1:{free_port()}/call",
        "BRIDGE_FUNCTIONS": json.dumps({PREFIX + n: a for n, a in ARITIES.items()}),
    }
    result = run_graph(project, "tg_ef", **variables)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"FINALIZER\s+SUCCEEDED", output)
    assert "MLflow: nothing tracked" in output
    baked, _ = project
    log = (baked.path / "snowflake-run-local.log").read_text()
    assert "no run for this graph run" in log
    assert "Connection refused" in log
