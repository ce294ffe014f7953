"""What every benchmark here shares: the repository root, a clean environment for the
processes it times (no telemetry, no outer virtualenv), and a wall-clock timer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
    "KEDRO_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def kedro(*args: str) -> list[str]:
    """A `kedro` command run with this Python."""
    return [sys.executable, "-m", "kedro", *args]


def timed(command: list[str], cwd: Path) -> float:
    """Seconds `command` took; it must succeed."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start
