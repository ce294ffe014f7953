"""A real `mlflow server` on 127.0.0.1 for tests that talk MLflow's REST API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode


@dataclass
class MlflowServer:
    url: str
    backend_store_uri: str
    process: subprocess.Popen

    def get(self, endpoint: str, **query: str) -> dict:
        """GET <url>/api/2.0/mlflow/<endpoint>?query, decoded."""
        address = f"{self.url}/api/2.0/mlflow/{endpoint}"
        if query:
            address += "?" + urlencode(query)
        with urllib.request.urlopen(address, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def post(self, endpoint: str, body: dict) -> dict:
        """POST a JSON body to <url>/api/2.0/mlflow/<endpoint>, decoded."""
        request = urllib.request.Request(
            f"{self.url}/api/2.0/mlflow/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_mlflow_server(workdir: Path, timeout: float = 120.0) -> MlflowServer:
    """Start `mlflow server` with a sqlite store under workdir; wait until it answers."""
    port = free_port()
    backend = f"sqlite:///{workdir / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    log = (workdir / "mlflow-server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            backend,
            "--artifacts-destination",
            str(workdir / "artifacts"),
            "--workers",
            "1",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"mlflow server exited: {(workdir / 'mlflow-server.log').read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return MlflowServer(url=url, backend_store_uri=backend, process=process)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"mlflow server did not answer on {url} within {timeout} s")


def stop_mlflow_server(server: MlflowServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
