"""`transport: external_functions` end to end, offline.

The generated project runs in-process (so Snowpark's function patches apply) with its
session in Snowpark local testing. The five external function names are registered
with `snowflake.snowpark.mock.patch`; each implementation hands its rows to
ExternalFunctionEmulator, which runs the project's own translator JavaScript from the
rendered sql/ in V8 and POSTs to a real `mlflow server`. The run is then read back over
MLflow's REST API. What is emulated is only Snowflake's side of the call (no account here).
Artifacts go up as on Snowflake: PUT to the internal staging stage, then COPY FILES to the
MLflow stage (local testing has no COPY FILES; the project's session emulates it).
"""

from __future__ import annotations

import json
import logging
import math
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from snowflake.snowpark import session as snowpark_session
from support.baking import bake
from support.external_functions import ExternalFunctionEmulator
from support.mlflow_server import free_port
from support.snowpark_functions import patch_external_functions

from kedro_snowflake_mlops.session.current import run_session
from kedro_snowflake_mlops.tracking.transport import (
    ExperimentNotFoundError,
    TrackingError,
)

pytestmark = pytest.mark.slow

STAGE = "@DEMO.DEMO.MLFLOW_STAGE"
STAGING_STAGE = "@DEMO.DEMO.DEMO_DATA_STAGE"  # the internal stage of sql/02
HOSTILE_TEXT = 'it\'s; DROP TABLE runs; -- "quoted" ünïcødé 🚀'
LONG_TEXT = "x" * 10_000
TRUNCATION_MARKER = "...[truncated]"


class Route:
    """Where the patched functions send their rows (swapped to simulate MLflow down)."""

    emulator: ExternalFunctionEmulator | None = None


# Two tiny pipelines added to the baked project by the test: one logs hostile metrics,
# one fails. find_pipelines() picks them up like any other pipeline of the project.
HOSTILE_PIPELINE = """\
import math

from kedro.pipeline import node, pipeline


def hostile_metrics(settings):
    return {
        "nan": math.nan,
        "plus_inf": math.inf,
        "minus_inf": -math.inf,
        "ünïcødé µ": 1.5,
        "quote'key": 2.0,
        "semi;colon": 3.0,
    }


def create_pipeline(**kwargs):
    return pipeline(
        [node(hostile_metrics, "params:hostile", "hostile_metrics", name="hostile")]
    )
"""
FAILING_PIPELINE = """\
from kedro.pipeline import node, pipeline


def explode(settings):
    raise ValueError("boom from a node")


def create_pipeline(**kwargs):
    return pipeline([node(explode, "params:model_options", "nothing", name="explode")])
"""
HOSTILE_CATALOG = """\
hostile_metrics:
  type: MemoryDataset
  metadata:
    mlflow: metrics
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_env(project: Path, env: str, experiment: str, extra: str = "") -> None:
    mlflow = (
        f"transport: external_functions\nexperiment_name: {json.dumps(experiment)}\n"
    )
    block = textwrap.indent(mlflow + textwrap.dedent(extra), "    ")
    # MLflow's registry is out of reach of the external functions: no registry here.
    write(
        project / "conf" / env / "snowflake.yml",
        f"snowflake:\n  mlflow:\n{block}  registry: null\n",
    )
    write(project / "conf" / env / "catalog.yml", HOSTILE_CATALOG)


@pytest.fixture(scope="module")
def project(cookies_session, mlflow_server):
    # Its own package name: this module imports the project into the test process.
    baked = bake(cookies_session, project_name="Tracking EF Demo")
    pipelines = baked.path / "src" / baked.package / "pipelines"
    for name, code in [
        ("tracking_hostile", HOSTILE_PIPELINE),
        ("tracking_failing", FAILING_PIPELINE),
    ]:
        write(
            pipelines / name / "__init__.py",
            "from .pipeline import create_pipeline  # noqa: F401\n",
        )
        write(pipelines / name / "pipeline.py", code)
    experiment = f"tracking-ef-{uuid.uuid4().hex[:8]}"
    mlflow_server.post("experiments/create", {"name": experiment})
    write_env(baked.path, "ef_offline", experiment)
    retry = "retry:\n  attempts: 2\n  backoff_seconds: 0.1\n"
    write_env(baked.path, "ef_down_warn", experiment, f"on_failure: warn\n{retry}")
    write_env(baked.path, "ef_down_fail", experiment, f"on_failure: fail\n{retry}")
    bootstrap_project(baked.path)
    # Registrations are process-wide and the last one wins: register in the fixture.
    patch_external_functions(lambda: Route.emulator)
    yield baked, experiment
    sys.path[:] = [entry for entry in sys.path if not entry.startswith(str(baked.path))]


@pytest.fixture
def emulator(project, mlflow_server):
    baked, _ = project
    Route.emulator = ExternalFunctionEmulator(baked.path / "sql", mlflow_server.url)
    yield Route.emulator
    Route.emulator = None
    # A run stopped by the tracking hook before it started leaves its session open.
    for session in list(snowpark_session._active_sessions):
        session.close()


class StageProbe:
    """A test hook placed between the project's two hooks (see run_kedro): pluggy calls
    it after the tracking hook ended the run (artifacts go up at the end) and before the
    session hook closes the run's Snowpark session. It copies the run's artifacts off
    the emulated MLflow stage and off the staging stage."""

    def __init__(self, mlflow_server, experiment: str, target: Path) -> None:
        self.mlflow_server = mlflow_server
        self.experiment = experiment
        self.target = target

    @hook_impl
    def after_pipeline_run(self) -> None:
        run = latest_runs(self.mlflow_server, self.experiment)[0]
        info = run["info"]
        run_path = f"{info['experiment_id']}/{info['run_id']}/artifacts/"
        # The run's own session: other tests of this pytest process may keep sessions
        # of their own open, and Snowpark refuses to pick one of several.
        session = run_session()
        session.file.get(f"{STAGE}/{run_path}", str(self.target / "mlflow_stage"))
        session.file.get(
            f"{STAGING_STAGE}/mlflow/{run_path}", str(self.target / "staging_stage")
        )


def run_kedro(project, env: str, pipelines: list[str], probe=None, **runtime):
    baked, _ = project
    with KedroSession.create(
        project_path=baked.path, env=env, runtime_params=runtime or None
    ) as session:
        if probe is not None:
            # pluggy calls the last registered hook first: register the probe, then the
            # tracking hook again, so the order is tracking hook, probe, session hook.
            manager = session._hook_manager
            (tracking,) = [
                plugin
                for plugin in manager.get_plugins()
                if type(plugin).__name__ == "MlflowTrackingHook"
            ]
            manager.unregister(tracking)
            manager.register(probe)
            manager.register(tracking)
        session.run(pipeline_names=pipelines)
        return session.session_id


def latest_runs(mlflow_server, experiment: str) -> list[dict]:
    found = mlflow_server.get("experiments/get-by-name", experiment_name=experiment)
    experiment_id = found["experiment"]["experiment_id"]
    runs = mlflow_server.post(
        "runs/search",
        {
            "experiment_ids": [experiment_id],
            "max_results": 100,
            "order_by": ["start_time DESC"],
        },
    )
    return runs.get("runs", [])


def run_of(mlflow_server, experiment: str, session_id: str) -> dict:
    for run in latest_runs(mlflow_server, experiment):
        tags = {tag["key"]: tag["value"] for tag in run["data"].get("tags", [])}
        if tags.get("kedro.session_id") == session_id:
            return run
    raise AssertionError(f"no MLflow run tagged with kedro session {session_id}")


def as_dicts(run: dict) -> tuple[dict, dict, dict]:
    data = run["data"]
    metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
    params = {p["key"]: p["value"] for p in data.get("params", [])}
    tags = {t["key"]: t["value"] for t in data.get("tags", [])}
    return metrics, params, tags


def summary_lines(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("MLflow run ")
    ]


@pytest.fixture(scope="module")
def demo_run(project, mlflow_server, tmp_path_factory):
    """The demo's two pipelines, tracked through the external functions."""
    baked, experiment = project
    emulator = ExternalFunctionEmulator(baked.path / "sql", mlflow_server.url)
    Route.emulator = emulator
    stage_copy = tmp_path_factory.mktemp("stage")
    probe = StageProbe(mlflow_server, experiment, stage_copy)
    handler = _Collect()
    logging.getLogger().addHandler(handler)
    try:
        session_id = run_kedro(
            project, "ef_offline", ["data_processing", "data_science"], probe
        )
    finally:
        logging.getLogger().removeHandler(handler)
        Route.emulator = None
    run = run_of(mlflow_server, experiment, session_id)
    return run, handler.messages, emulator, stage_copy


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_run_is_finished_with_metrics_params_and_tags(project, demo_run):
    baked, _ = project
    run, _, _, _ = demo_run
    assert run["info"]["status"] == "FINISHED"
    metrics, params, tags = as_dicts(run)
    reports = baked.path / "data" / "08_reporting"
    model = json.loads((reports / "model_metrics.json").read_text())
    quality = json.loads((reports / "data_quality_metrics.json").read_text())
    assert {"r2", "mae", "rmse"} <= set(metrics)
    for key, value in {**model, **quality}.items():
        assert metrics[key] == pytest.approx(value), key
    assert params["model_options.target"] == "PRICE"
    assert params["model_options.test_size"] == "0.2"
    assert tags["kedro.pipeline"] == "data_processing,data_science"
    assert tags["kedro.env"] == "ef_offline"
    assert tags["kedro.project"] == baked.package
    assert tags["tracking.transport"] == "external_functions"


def test_the_model_and_the_plot_reach_the_mlflow_stage_through_the_staging_stage(
    project, demo_run
):
    baked, _ = project
    _, _, _, stage_copy = demo_run
    data = baked.path / "data"
    saved = [
        data / "06_models/regressor.pickle",
        data / "08_reporting/predicted_vs_actual.png",
    ]
    expected = {path.name: path.read_bytes() for path in saved}
    for where in ("mlflow_stage", "staging_stage"):
        folder = stage_copy / where
        copied = {path.name: path.read_bytes() for path in folder.iterdir()}
        assert copied == expected, where


def test_statements_and_requests_stay_few(demo_run):
    run, messages, emulator, _ = demo_run
    (line,) = [m for m in messages if m.startswith("MLflow run ")]
    metrics, params, _ = as_dicts(run)
    statements = int(line.split(" SQL statements")[0].rsplit(" ", 1)[1])
    assert line.startswith(
        f"MLflow run {run['info']['run_id']}: {len(metrics)} metrics, {len(params)} params"
    )
    # start + params (logged as the run starts) + one per metrics node (2) + PUT +
    # COPY FILES (both artifacts) + end
    assert statements == 7
    batches = [r for r in emulator.sent if r.url.endswith("runs/log-batch")]
    assert len(batches) == 3  # params, data quality metrics, model metrics
    assert emulator.requests_sent == 6  # + lookup, create, update


def test_hostile_keys_and_values_arrive_verbatim_or_are_refused_clearly(
    project, mlflow_server, emulator, caplog
):
    _, experiment = project
    hostile = {
        "text": HOSTILE_TEXT,
        "long": LONG_TEXT,
        "quote'key": "x",
        "semi;colon": 1,
    }
    with caplog.at_level(logging.INFO):
        session_id = run_kedro(
            project, "ef_offline", ["tracking_hostile"], hostile=hostile
        )
    run = run_of(mlflow_server, experiment, session_id)
    metrics, params, _ = as_dicts(run)
    assert run["info"]["status"] == "FINISHED"
    assert params["hostile.text"] == HOSTILE_TEXT
    assert len(params["hostile.long"]) == 6000
    assert params["hostile.long"].endswith(TRUNCATION_MARKER)
    assert math.isnan(float(metrics["nan"]))
    assert float(metrics["plus_inf"]) >= sys.float_info.max  # MLflow's store caps inf
    assert float(metrics["minus_inf"]) <= -sys.float_info.max
    assert metrics["ünïcødé µ"] == 1.5
    # Keys MLflow would refuse are never sent; a warning names each of them.
    refused = {"hostile.quote'key", "hostile.semi;colon", "quote'key", "semi;colon"}
    assert not refused & (set(params) | set(metrics))
    warnings = " ".join(
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    )
    for key in refused:
        assert key in warnings
    assert "hostile.long" in warnings  # truncation is announced too


def test_a_failing_node_marks_the_run_failed_and_its_error_is_raised(
    project, mlflow_server, emulator
):
    _, experiment = project
    before = {run["info"]["run_id"] for run in latest_runs(mlflow_server, experiment)}
    with pytest.raises(ValueError, match="boom from a node"):
        run_kedro(project, "ef_offline", ["tracking_failing"])
    (new,) = [
        run
        for run in latest_runs(mlflow_server, experiment)
        if run["info"]["run_id"] not in before
    ]
    assert new["info"]["status"] == "FAILED"
    assert new["info"]["end_time"] >= new["info"]["start_time"]


def test_mlflow_down_with_warn_keeps_the_pipeline_outputs(project, emulator, caplog):
    baked, _ = project
    Route.emulator = ExternalFunctionEmulator(
        baked.path / "sql", f"http://127.0.0.1:{free_port()}"
    )
    outputs = [
        baked.path / "data" / "08_reporting" / "model_metrics.json",
        baked.path / "data" / "06_models" / "regressor.pickle",
    ]
    for output in outputs:
        output.unlink(missing_ok=True)
    with caplog.at_level(logging.INFO):
        run_kedro(project, "ef_down_warn", ["data_processing", "data_science"])
    assert all(output.is_file() for output in outputs)
    (line,) = summary_lines(caplog)
    assert "NOT logged:" in line and "artifact regressor" in line
    assert "Connection refused" in line


def test_mlflow_down_with_fail_stops_with_a_clear_error(project, emulator):
    baked, _ = project
    Route.emulator = ExternalFunctionEmulator(
        baked.path / "sql", f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(TrackingError, match="on_failure is `fail`"):
        run_kedro(project, "ef_down_fail", ["tracking_hostile"], hostile={"a": 1})


def test_a_missing_experiment_says_how_to_create_it(project, emulator):
    baked, _ = project
    write_env(baked.path, "ef_missing", f"never-created-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ExperimentNotFoundError, match="mlflow experiments create"):
        run_kedro(project, "ef_missing", ["tracking_hostile"], hostile={"a": 1})
