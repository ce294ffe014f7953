"""A run is always closed, and any number of runs may start at once: real `kedro run`
processes of a baked demo, real signals, a real sqlite store read back with the MLflow
client. Nothing is faked.

Signals go to the `kedro run` process only (as `kill <pid>` would): with SIGKILL the
Kedro process cannot do anything, and the run is closed by the tracking worker alone.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.attack_project import (
    bake_attack_project,
    experiment_runs,
    interrupt,
    kedro_run,
    no_worker_left,
    sqlite_client,
    start_kedro_run,
    tiny_outputs_in,
    wait_for,
    worker_processes,
    write_env,
)
from support.baking import clean_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc: Linux"),
]


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake_attack_project(cookies_session, "Tracking Interruptions")


def run_of(client, run_id: str):
    run = client.get_run(run_id)
    return run, run.info


@pytest.mark.parametrize(
    ("signum", "exit_codes", "summary"),
    [
        # click turns KeyboardInterrupt into "Aborted!" and exit code 1.
        (signal.SIGINT, {1}, True),
        # The hook turns SIGTERM into an orderly exit with the shell's code for it.
        (signal.SIGTERM, {143}, True),
        # Nothing runs in the Kedro process: its worker closes the run alone.
        (signal.SIGKILL, {-9}, False),
    ],
    ids=["SIGINT", "SIGTERM", "SIGKILL"],
)
def test_an_interrupted_run_ends_killed_with_its_params_and_first_metrics(
    project, tmp_path, signum, exit_codes, summary
):
    env = write_env(project, f"interrupt_{signum}", "tracking_uri: sqlite:///stop.db")
    marker = tmp_path / "slow-node-started"
    process = start_kedro_run(
        project, "--env", env, "--pipelines", "slow", SLOW_MARKER=str(marker)
    )
    wait_for(marker)
    outcome = interrupt(process, signum)
    assert outcome.returncode in exit_codes, outcome.output[-3000:]

    # The first node's output is kept; the interrupted node wrote nothing.
    first = project.path / "data/08_reporting/slow_first_metrics.json"
    assert json.loads(first.read_text()) == {"rows": 3}
    assert no_worker_left(project) == []
    client = sqlite_client(project, "stop.db")
    newest = max(experiment_runs(client), key=lambda run: run.info.start_time)
    assert newest.info.status == "KILLED"
    assert newest.info.end_time >= newest.info.start_time > 0
    # Params are logged when the run starts, metrics as each node saves them.
    assert newest.data.params["model_options.target"] == "PRICE"
    assert newest.data.metrics == {"rows": 3.0}
    if summary:
        assert outcome.summary.endswith(
            "1 metrics, 7 params; ended KILLED; open it with: mlflow ui "
            "--backend-store-uri sqlite:///stop.db"
        )
        assert outcome.run_id == newest.info.run_id
    else:
        assert "MLflow run" not in outcome.output


def test_a_failing_node_ends_the_run_failed(project):
    env = write_env(project, "failing", "tracking_uri: sqlite:///failing.db")
    # The slow node needs SLOW_MARKER: without it, it raises a KeyError.
    outcome = kedro_run(project, "--env", env, "--pipelines", "slow")
    assert outcome.returncode == 1
    assert "KeyError: 'SLOW_MARKER'" in outcome.output
    assert outcome.summary.endswith(
        "; ended FAILED; open it with: mlflow ui "
        "--backend-store-uri sqlite:///failing.db"
    )
    run = sqlite_client(project, "failing.db").get_run(outcome.run_id)
    assert run.info.status == "FAILED"
    assert run.info.end_time >= run.info.start_time
    assert run.data.metrics == {"rows": 3.0}


def runs_at_once(project, envs: list[str]) -> list:
    with ThreadPoolExecutor(len(envs)) as pool:
        futures = [
            pool.submit(kedro_run, project, "--env", env, "--pipelines", "tiny")
            for env in envs
        ]
        return [future.result() for future in futures]


def test_runs_started_together_in_a_new_project_are_each_recorded(project):
    """Four first runs at once (MLflow creates the store's tables on first open, without
    a lock of its own), then four more on the store they made. Each run has its own
    environment: one MLflow store for all, but files of its own (see tiny_outputs_in)."""
    envs, outputs = [], []
    for index in range(8):
        env = write_env(
            project, f"together_{index}", "tracking_uri: sqlite:///together.db"
        )
        envs.append(env)
        outputs.extend(tiny_outputs_in(project, env, f"together_{index}"))
    assert not (project.path / "together.db").exists()
    outcomes = runs_at_once(project, envs[:4]) + runs_at_once(project, envs[4:])
    for outcome in outcomes:
        assert outcome.returncode == 0, outcome.output[-3000:]
        assert "NOT logged" not in outcome.summary, outcome.summary
    for output in outputs:
        assert (project.path / output).is_file()
    runs = experiment_runs(sqlite_client(project, "together.db"))
    assert sorted(run.info.run_id for run in runs) == sorted(
        outcome.run_id for outcome in outcomes
    )
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.metrics == {"rows": 3.0, "share": 0.5, "r2": 0.9}
    assert no_worker_left(project) == []


def test_a_run_leaves_no_worker_process_behind(project):
    env = write_env(project, "reaped", "tracking_uri: sqlite:///reaped.db")
    outcome = kedro_run(project, "--env", env, "--pipelines", "tiny")
    assert outcome.returncode == 0
    # Right after `kedro run` returns: the worker was waited for, not left to exit.
    assert worker_processes(project) == []


EMULATED = Path(__file__).parent / "support" / "run_with_external_functions.py"


@pytest.mark.parametrize(
    ("signum", "exit_codes"),
    [
        # No click here: Python exits on the KeyboardInterrupt by re-raising SIGINT.
        (signal.SIGINT, {-2, 1, 130}),
        (signal.SIGTERM, {143}),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_an_interrupted_run_through_external_functions_ends_killed(
    project, mlflow_server, tmp_path, signum, exit_codes
):
    """With external functions the Kedro process records the run itself (through its
    Snowpark session): on Ctrl-C or SIGTERM it ends the run KILLED on its way out.
    Snowflake's side of the calls is emulated (support/run_with_external_functions.py:
    the project's translators in V8, POSTing to the real `mlflow server`)."""
    experiment = f"interrupted-ef-{uuid.uuid4().hex[:8]}"
    mlflow_server.post("experiments/create", {"name": experiment})
    env = write_env(
        project,
        f"ef_interrupt_{signum}",
        f"transport: external_functions\nexperiment_name: {experiment}\n",
    )
    marker = tmp_path / "slow-node-started"
    process = subprocess.Popen(
        [sys.executable, str(EMULATED), str(project.path), env, "slow"]
        + [mlflow_server.url],
        cwd=project.path,
        env=clean_env(SLOW_MARKER=str(marker)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(marker)
    outcome = interrupt(process, signum)
    assert outcome.returncode in exit_codes, outcome.output[-3000:]
    assert (
        "1 metrics, 7 params, 4 SQL statements; ended KILLED; open it in the MLflow "
        "UI behind your gateway"
    ) in outcome.summary
    found = mlflow_server.get("experiments/get-by-name", experiment_name=experiment)
    (run,) = mlflow_server.post(
        "runs/search",
        {"experiment_ids": [found["experiment"]["experiment_id"]], "max_results": 5},
    )["runs"]
    assert run["info"]["run_id"] == outcome.run_id
    assert run["info"]["status"] == "KILLED"
    assert run["info"]["end_time"] >= run["info"]["start_time"]
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert metrics == {"rows": 3.0}
    assert params["model_options.target"] == "PRICE"
