"""`mlflow ui` on 127.0.0.1 over a demo project's store, and headless Chromium to look
at it. Shared by tests/test_mlflow_ui_browser.py and scripts/make_pictures.py, so the
pictures in docs/ show exactly what the browser test checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from .mlflow_server import free_port

# Debian's chromium package; .ci/run installs it. Playwright drives it through
# executable_path (Playwright's own browser download cannot work on a closed network).
CHROMIUM = Path("/usr/bin/chromium")
# --headless comes from Playwright. Without the background-networking flags Chromium keeps
# reaching for Google services, which on a closed network stalls or slows it down.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class MlflowUi:
    url: str
    process: subprocess.Popen
    log: Path

    def get(self, endpoint: str, **query: str) -> dict:
        """GET <url>/api/2.0/mlflow/<endpoint>?query, decoded."""
        address = f"{self.url}/api/2.0/mlflow/{endpoint}"
        if query:
            address += "?" + urlencode(query)
        with urllib.request.urlopen(address, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def experiment_id(self, name: str) -> str:
        found = self.get("experiments/get-by-name", experiment_name=name)
        return found["experiment"]["experiment_id"]

    def run(self, run_id: str) -> dict:
        return self.get("runs/get", run_id=run_id)["run"]


def wait_until_healthy(
    url: str, process: subprocess.Popen, log: Path, timeout: float
) -> None:
    """Poll <url>/health until it answers; fail with the server's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(
        f"{url} did not answer within {timeout} s:\n{log.read_text()[-4000:]}"
    )


def start_mlflow_ui(project: Path, timeout: float = 180.0) -> MlflowUi:
    """`mlflow ui` in the project folder, against the store its `kedro run` wrote
    (sqlite:///mlflow.db, artifacts in ./mlruns), on a free port of 127.0.0.1."""
    port = free_port()
    log = project / "mlflow-ui.log"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    env.pop("VIRTUAL_ENV", None)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "ui",
                "--backend-store-uri",
                "sqlite:///mlflow.db",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=project,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # `mlflow ui` forks workers: a process group lets us stop all of them.
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log, timeout)
    except RuntimeError:
        stop_process_group(process)
        raise
    return MlflowUi(url=url, process=process, log=log)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True and everything it forked."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


@contextmanager
def headless_chromium(width: int = 1600, height: int = 900) -> Iterator:
    """A Playwright browser context on Debian's Chromium with a new, empty profile."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional dependency

    with (
        tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            context.close()


def experiment_charts_url(ui: MlflowUi, experiment_id: str) -> str:
    """The experiment's runs page, chart view: one chart per metric, run names beside."""
    return f"{ui.url}/#/experiments/{experiment_id}/runs?compareRunsMode=CHART"


def run_page_url(ui: MlflowUi, experiment_id: str, run_id: str) -> str:
    """A run's overview: its metrics, parameters and tags."""
    return f"{ui.url}/#/experiments/{experiment_id}/runs/{run_id}"


def registered_model_url(ui: MlflowUi, name: str) -> str:
    """The Models page of one registered model: its versions and their aliases."""
    return f"{ui.url}/#/models/{quote(name)}"
