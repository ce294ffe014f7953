"""Transient faults through the real MLflow client: 503, 429 and time-outs are retried
with backoff, then the policy applies.

A real MLflow server cannot be made to answer 503 on demand, so a tiny stdlib HTTP
server plays an MLflow server that is in trouble; everything else (MLflow client,
DirectTransport, RunRecorder) is the project's real code.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kedro_snowflake_mlops.tracking.config import (
    MlflowConfig,
)
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS
from kedro_snowflake_mlops.tracking.direct import (
    DirectTransport,
)
from kedro_snowflake_mlops.tracking.recorder import (
    RunRecorder,
)
from kedro_snowflake_mlops.tracking.transport import (
    TrackingError,
)


class TroubledMlflow(BaseHTTPRequestHandler):
    """Answers every request with `status` after `delay` seconds; counts requests."""

    status = 503
    delay = 0.0
    requests: list[str] = []

    def _answer(self) -> None:
        type(self).requests.append(self.path)
        time.sleep(self.delay)
        busy = self.status == 429 or self.status >= 500
        code = "TEMPORARILY_UNAVAILABLE" if busy else "INVALID_PARAMETER_VALUE"
        body = json.dumps({"error_code": code, "message": "trouble"}).encode()
        try:
            self.send_response(self.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out test)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture
def troubled():
    TroubledMlflow.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), TroubledMlflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TroubledMlflow, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def recorder(url: str, tmp_path, policy: str, timeout: float = 5):
    config = MlflowConfig.model_validate(
        {
            "experiment_name": "demo",
            "stage": "@DB.SCH.MLFLOW_STAGE",
            "functions": {key: f"db.sch.mlflow_{key}" for key in FUNCTION_KEYS},
            "tracking_uri": url,
            "on_failure": policy,
            "timeout_seconds": timeout,
            "retry": {"attempts": 3, "backoff_seconds": 0.01},
        }
    )
    transport = DirectTransport(url, timeout, artifact_root=tmp_path)
    sleeps: list[float] = []
    return RunRecorder(transport, config, sleep=sleeps.append), sleeps


@pytest.mark.parametrize("status", [503, 500, 429])
def test_busy_server_is_retried_then_warned_about(troubled, tmp_path, status):
    handler, url = troubled
    handler.status, handler.delay = status, 0.0
    run, sleeps = recorder(url, tmp_path, "warn")
    run.start("r", {}, {"a": "1"})
    assert len(handler.requests) == 3  # our three attempts, no hidden client retries
    assert sleeps == [0.01, 0.02]
    line = run.finish("FINISHED")
    assert "NOT logged: 1 params, status FINISHED" in line
    assert len(handler.requests) == 3  # nothing more is tried once tracking is off


def test_time_outs_are_retried_and_fail_policy_raises(troubled, tmp_path):
    handler, url = troubled
    handler.status, handler.delay = 200, 2.5
    run, _ = recorder(url, tmp_path, "fail", timeout=1)
    with pytest.raises(TrackingError, match=r"(?i)timed? ?out.*on_failure is `fail`"):
        run.start("r", {}, {})
    assert len(handler.requests) == 3


def test_client_errors_are_not_retried(troubled, tmp_path):
    handler, url = troubled
    handler.status = 400
    run, sleeps = recorder(url, tmp_path, "fail")
    with pytest.raises(TrackingError):
        run.start("r", {}, {})
    assert len(handler.requests) == 1
    assert sleeps == []
