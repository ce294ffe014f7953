"""Bake the template and work with the result, the way a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without the outer virtualenv's markers, telemetry off."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}
    }
    env.update(
        KEDRO_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class BakedProject:
    path: Path
    context: dict

    @property
    def package(self) -> str:
        return self.context["python_package"]

    def has_file(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def files(self) -> set[str]:
        """Every file, relative to the project root, with '/' separators."""
        return {
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if p.is_file()
        }

    def run(
        self, *args: str, timeout: float = 600, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess:
        """Run `python -m <args>` in the project with this interpreter."""
        result = subprocess.run(
            [sys.executable, "-m", *args],
            cwd=self.path,
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`{' '.join(args)}` exited {result.returncode} in {self.path}\n"
                f"--- stdout ---\n{result.stdout[-6000:]}\n"
                f"--- stderr ---\n{result.stderr[-6000:]}"
            )
        return result


def bake(cookies, **answers: str) -> BakedProject:
    """Bake the template with these answers; fail with the hook's output otherwise."""
    result = cookies.bake(template=str(REPO_ROOT), extra_context=answers)
    if result.exit_code != 0:
        raise AssertionError(f"bake failed for {answers}: {result.exception!r}")
    return BakedProject(path=Path(result.project_path), context=result.context)
