"""Fixtures shared by the template's tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.baking import REPO_ROOT, clean_env
from support.mlflow_server import start_mlflow_server, stop_mlflow_server

# Generated projects and kedro itself must never phone home from a test run.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 (sqlite store), shared by the whole session."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    stop_mlflow_server(server)


@pytest.fixture(scope="session")
def starter_wheel(tmp_path_factory):
    """The starter built as a wheel from this checkout, once per test session."""
    wheels = tmp_path_factory.mktemp("starter-wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
        + [str(REPO_ROOT)],
        check=True,
        env=clean_env(),
        timeout=600,
    )
    (wheel,) = wheels.glob("snowflake_mlops_starter-*.whl")
    return wheel
