"""What a user sees after the demo's offline `kedro run`: `mlflow ui` on 127.0.0.1 over the
run's store, the experiment page opened in headless Chromium (Debian's package, driven by
Playwright), with the run and its r2 metric on it."""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from support.baking import bake
from support.mlflow_ui import (
    CHROMIUM,
    experiment_charts_url,
    start_mlflow_ui,
    stop_process_group,
)

pytestmark = pytest.mark.slow

RUN_SUMMARY = re.compile(
    r"MLflow run (?P<run_id>[0-9a-f]{32}): (?P<metrics>\d+) metrics"
)


def require_browser() -> None:
    """CI installs Chromium (.ci/run) and Playwright (the `test` extra): there, a missing
    one is a failure. Elsewhere the test is skipped with what to install."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium, as root)")
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if not missing:
        return
    reason = "headless browser test needs " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}; .ci/run should have installed it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def demo_run(cookies_session):
    """A baked demo after one offline `kedro run`: (project, run id, r2)."""
    demo = bake(cookies_session)
    result = demo.run("kedro", "run")
    summary = RUN_SUMMARY.search(result.stdout + result.stderr)
    assert summary, (
        "kedro run printed no MLflow summary line:\n" + result.stderr[-4000:]
    )
    metrics = json.loads(
        (demo.path / "data/08_reporting/model_metrics.json").read_text()
    )
    return demo.path, summary["run_id"], metrics["r2"]


@pytest.fixture(scope="module")
def mlflow_ui(demo_run):
    project, _, _ = demo_run
    ui = start_mlflow_ui(project)
    yield ui
    stop_process_group(ui.process)


def test_experiment_page_shows_the_run_and_its_r2(demo_run, mlflow_ui, tmp_path):
    require_browser()
    from support.mlflow_ui import headless_chromium  # noqa: PLC0415

    _, run_id, r2 = demo_run
    experiment_id = mlflow_ui.experiment_id("demo-mlops")
    run_name = mlflow_ui.run(run_id)["info"]["run_name"]

    shown = f"{r2:.2f}"
    # A metric's chart is titled with its key; its bar for the run is labelled with the
    # value (drawn a moment after the titles, so poll).
    r2_chart = re.compile(rf"(?m)^r2\n{re.escape(shown)}$")
    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto(experiment_charts_url(mlflow_ui, experiment_id))
        # The page is a JavaScript app: wait for what it fetches, not for "load".
        page.get_by_text(run_name).first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        deadline = time.monotonic() + 30
        while not r2_chart.search(text) and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            text = page.inner_text("body")
        page.screenshot(path=tmp_path / "experiment-page.png")

    assert run_name in text
    assert r2_chart.search(text), (
        f"no r2 chart with value {shown} for run {run_name} on the experiment page "
        f"(screenshot: {tmp_path / 'experiment-page.png'}):\n{text[:3000]}"
    )


def test_models_page_shows_the_champion_version(demo_run, mlflow_ui, tmp_path):
    """The training run registered the model; MLflow's Models page lists its version
    with the champion and challenger aliases."""
    require_browser()
    from support.mlflow_ui import headless_chromium, registered_model_url  # noqa: PLC0415

    name = "snowflake_mlops_demo_price"
    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto(registered_model_url(mlflow_ui, name))
        page.get_by_text("Version 1").first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        deadline = time.monotonic() + 30
        while "champion" not in text and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            text = page.inner_text("body")
        page.screenshot(path=tmp_path / "models-page.png")

    screenshot = f"(screenshot: {tmp_path / 'models-page.png'}):\n{text[:3000]}"
    assert name in text, screenshot
    assert "champion" in text and "challenger" in text, screenshot
    assert "quality_gate" in text and "passed" in text, screenshot  # the version's tags
