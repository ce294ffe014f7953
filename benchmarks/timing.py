"""What every benchmark here shares: the repository root, a clean environment for the
processes it times (no telemetry, no outer virtualenv), the demo baked quietly, and a
wall-clock timer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from support.baking import clean_env  # noqa: E402

# The tests' environment for the processes timed here: no outer virtualenv, telemetry off.
ENV = clean_env()
# ENV as a user's shell has it: Python caches bytecode. A machine that sets
# PYTHONDONTWRITEBYTECODE (this one does) makes an editable checkout recompile its
# modules on every command, while packages installed from wheels (Kedro, and this
# plugin once `pip install`ed: pip compiles a wheel's modules as it installs them) load
# cached bytecode; comparing under it would time the checkout, not the starter.
USER_ENV = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}


def kedro(*args: str) -> list[str]:
    """A `kedro` command run with this Python."""
    return [sys.executable, "-m", "kedro", *args]


def timed(command: list[str], cwd: Path, env: dict[str, str] = ENV) -> float:
    """Seconds `command` took; it must succeed (otherwise its last output is shown)."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-3000:]
        raise SystemExit(f"`{' '.join(command[1:])}` failed in {cwd}:\n{output}")
    return seconds


def bake_demo(workdir: Path, template: Path = REPO_ROOT, **answers: str) -> Path:
    """The demo project, baked by cookiecutter into `workdir` with its default answers
    and `answers`; what the post-generation hook prints is kept out of the output."""
    before = set(workdir.iterdir())
    timed(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(template)]
        + [f"{key}={value}" for key, value in answers.items()],
        workdir,
    )
    (project,) = set(workdir.iterdir()) - before
    return project
