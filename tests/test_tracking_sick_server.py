"""A sick MLflow server: real `kedro run` processes of a baked demo track to a real
`mlflow server` through TroubledProxy (tests/support/troubled_proxy.py), which answers
503, garbage or slowly, or loses the answer to a request the server carried out, for
the requests a rule names, and forwards everything else. Only those answers are faked
(a real server cannot be made to misbehave on demand); the runs are read back from the
real server.
"""

from __future__ import annotations

import pytest
from support.attack_project import (
    TINY_OUTPUTS,
    bake_attack_project,
    error_line,
    outputs_kept,
    run_tiny,
    write_env,
)
from support.troubled_proxy import TroubledProxy

pytestmark = pytest.mark.slow

SETTINGS = """\
tracking_uri: {url}
on_failure: {policy}
timeout_seconds: 2
retry:
  attempts: 3
  backoff_seconds: 0.1
"""


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake_attack_project(cookies_session, "Tracking Sick Server")


@pytest.fixture
def proxy(mlflow_server):
    troubled = TroubledProxy(mlflow_server.url)
    yield troubled
    troubled.close()


def tracked_run(project, proxy, policy: str = "warn", name: str = "sick"):
    env = write_env(project, name, SETTINGS.format(url=proxy.url, policy=policy))
    return run_tiny(project, env)


def server_run(mlflow_server, run_id: str) -> tuple[dict, dict, dict, dict]:
    run = mlflow_server.get("runs/get", run_id=run_id)["run"]
    data = run["data"]
    return (
        run["info"],
        {m["key"]: m["value"] for m in data.get("metrics", [])},
        {p["key"]: p["value"] for p in data.get("params", [])},
        {t["key"]: t["value"] for t in data.get("tags", [])},
    )


def test_the_proxy_injects_only_what_mlflow_s_server_answers(proxy):
    """An injected status carries the error_code MLflow's server sends with it (held
    against the real server for a missing run); a status it never answers is refused
    (a gateway's 502 is the `gateway` action)."""
    import json  # noqa: PLC0415
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    with pytest.raises(ValueError, match="never answers 502"):
        proxy.add("runs/get", "status", status=502)
    proxy.add("runs/get", "status", status=429)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"{proxy.url}/api/2.0/mlflow/runs/get?run_id=x")
    assert answer.value.code == 429  # noqa: PLR2004
    assert json.loads(answer.value.read())["error_code"] == "RESOURCE_EXHAUSTED"

    def answer_to_a_missing_run() -> tuple[int, str]:
        url = f"{proxy.url}/api/2.0/mlflow/runs/get?run_id={'0' * 32}"
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(url)
        return answer.value.code, json.loads(answer.value.read())["error_code"]

    real = answer_to_a_missing_run()  # forwarded: the real server's answer
    proxy.add("runs/get", "status", status=404)
    assert answer_to_a_missing_run() == real == (404, "RESOURCE_DOES_NOT_EXIST")


def test_a_gateway_s_brief_502_page_is_retried_and_everything_is_logged(
    project, proxy, mlflow_server
):
    """A gateway in front of MLflow (the cloud one of the external functions, a reverse
    proxy) answers 502 with an HTML page while it cannot reach the server."""
    proxy.add("runs/log-batch", "gateway", skip=1, times=2)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert "NOT logged" not in outcome.summary
    _, metrics, _, _ = server_run(mlflow_server, outcome.run_id)
    assert metrics == {"rows": 3.0, "share": 0.5, "r2": 0.9}
    assert proxy.count("runs/log-batch") == 5  # params, metrics (+2 retries), metrics


def test_a_brief_503_is_retried_and_everything_is_logged(project, proxy, mlflow_server):
    proxy.add("runs/log-batch", "status", times=2, status=503)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert outputs_kept(project)
    assert "NOT logged" not in outcome.summary
    info, metrics, params, _ = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FINISHED"
    assert metrics == {"rows": 3.0, "share": 0.5, "r2": 0.9}
    assert params["model_options.target"] == "PRICE"
    assert proxy.count("runs/log-batch") == 5  # params (+2 retries), two metrics


@pytest.mark.parametrize("behind", [False, True], ids=["worker-keeping-up", "behind"])
def test_a_503_that_outlasts_the_retries_costs_one_batch_not_the_run(
    project, proxy, mlflow_server, behind
):
    # The first metrics batch (the second log-batch) fails all three attempts; the
    # server is fine again for the next one, and for the end of the run. `behind`: a
    # slow runs/create makes the worker catch up only after the pipeline has ended,
    # with every call and the end of the run already waiting.
    if behind:
        # Slow, yet answered within the client's 2 s time-out: one create, no look-up.
        proxy.add("runs/create", "delay", times=1, seconds=1.0)
    proxy.add("runs/log-batch", "status", skip=1, times=3, status=503)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert outputs_kept(project)
    summary = outcome.summary
    assert (
        "NOT logged: 2 metrics of tiny_quality because MLflow could not log" in summary
    )
    assert "503" in summary
    assert summary.endswith("; the run ended FINISHED")
    info, metrics, _, _ = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FINISHED" and info["end_time"] >= info["start_time"]
    assert metrics == {"r2": 0.9}
    assert proxy.count("runs/create") == 1 and proxy.count("runs/search") == 0


def test_a_lost_answer_to_runs_create_leaves_one_run_not_two(
    project, proxy, mlflow_server
):
    # The server creates the run, but its answer comes after the client's time-out:
    # the retry must find that run by its key rather than create a second one.
    proxy.add("runs/create", "lose_answer", times=1, seconds=3)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert "NOT logged" not in outcome.summary
    info, metrics, _, tags = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FINISHED"
    assert metrics == {"rows": 3.0, "share": 0.5, "r2": 0.9}
    assert proxy.count("runs/create") == 1
    assert proxy.count("runs/search") == 1
    same_key = mlflow_server.post(
        "runs/search",
        {
            "experiment_ids": [info["experiment_id"]],
            "filter": f"tags.`kedro.run_key` = '{tags['kedro.run_key']}'",
            "max_results": 10,
        },
    )
    assert [run["info"]["run_id"] for run in same_key["runs"]] == [outcome.run_id]


def test_garbage_answers_are_reported_and_the_run_still_ends(
    project, proxy, mlflow_server
):
    proxy.add("runs/log-batch", "garbage", skip=2, times=1)  # the second metrics batch
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert outputs_kept(project)
    summary = outcome.summary
    assert "NOT logged: 1 metrics of tiny_model_metrics because MLflow could not" in (
        summary
    )
    assert summary.endswith("; the run ended FINISHED")
    info, metrics, _, _ = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FINISHED"
    assert metrics == {"rows": 3.0, "share": 0.5}


def test_a_slow_server_within_the_time_out_loses_nothing(project, proxy, mlflow_server):
    proxy.add("/api/", "delay", times=None, seconds=0.5)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert "NOT logged" not in outcome.summary
    info, metrics, _, _ = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FINISHED"
    assert metrics == {"rows": 3.0, "share": 0.5, "r2": 0.9}


def test_a_server_that_stays_down_costs_warn_one_line(project, proxy):
    proxy.add("/api/", "status", times=None, status=503)
    outcome = tracked_run(project, proxy)
    assert outcome.returncode == 0
    assert outputs_kept(project)
    assert "Pipeline execution completed successfully" in outcome.output
    summary = outcome.summary
    assert "NOT logged: 7 params, 2 metrics of tiny_quality" in summary
    assert "could not start a run in experiment 'demo-mlops'" in summary
    assert summary.endswith("; no run was created")
    assert outcome.output.count("WARNING") == 1  # that line, and nothing else


def test_fail_stops_before_the_first_node_with_one_line(project, proxy):
    proxy.add("/api/", "status", times=None, status=503)
    outcome = tracked_run(project, proxy, policy="fail", name="sick_fail")
    line = error_line(outcome)
    assert outcome.output.strip().splitlines()[-1] == line
    assert not (project.path / TINY_OUTPUTS[0]).exists()  # no node ran
    assert line.startswith(
        "Error: MLflow could not start a run in experiment 'demo-mlops': "
    )
    assert "503" in line
    assert line.endswith(
        "(snowflake.mlflow.on_failure is `fail`; set it to `warn` to keep running "
        "and only report what was not logged)"
    )


def test_fail_mid_run_ends_the_run_failed_and_stops_with_one_line(
    project, proxy, mlflow_server
):
    # The run starts; every metrics batch then meets a 503 that outlasts the retries.
    proxy.add("runs/log-batch", "status", skip=1, times=None, status=503)
    outcome = tracked_run(project, proxy, policy="fail", name="sick_fail_mid")
    assert outcome.returncode == 1
    assert "Traceback" not in outcome.output
    (error,) = [line for line in outcome.output.splitlines() if "Error:" in line]
    assert error.startswith("Error: MLflow could not log metrics of tiny_quality")
    assert "on_failure is `fail`" in error
    # The run ended FAILED on the server (a node failed: ours).
    assert "ended FAILED" in outcome.summary
    info, _, params, _ = server_run(mlflow_server, outcome.run_id)
    assert info["status"] == "FAILED"
    assert params["model_options.target"] == "PRICE"
