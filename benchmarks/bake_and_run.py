"""Median time to generate the demo (`kedro new --config`) and to run it offline.

    python benchmarks/bake_and_run.py [--runs 5]

Prints one line per figure. Times are wall-clock medians over --runs repetitions in this
one process, so compare figures from the same run (machines are noisy), e.g. the ratio of
run time to bake time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
    "KEDRO_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def bake(workdir: Path, index: int) -> tuple[float, Path]:
    answers = yaml.safe_load((REPO_ROOT / "demo-answers.yml").read_text())
    answers.update(project_name=f"Bench Demo {index}", output_dir=str(workdir))
    config = workdir / f"answers-{index}.yml"
    config.write_text(yaml.safe_dump(answers))
    seconds = timed(
        [
            sys.executable,
            "-m",
            "kedro",
            "new",
            f"--starter={REPO_ROOT}",
            "--config",
            str(config),
        ],
        workdir,
    )
    return seconds, workdir / f"bench-demo-{index}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    bake_times, run_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for index in range(args.runs):
            seconds, project = bake(workdir, index)
            bake_times.append(seconds)
            run_times.append(timed([sys.executable, "-m", "kedro", "run"], project))

    bake_median = statistics.median(bake_times)
    run_median = statistics.median(run_times)
    print(f"runs: {args.runs}")
    print(f"kedro new --config (bake), median: {bake_median:.2f} s")
    print(f"offline kedro run, median:          {run_median:.2f} s")
    print(f"run / bake ratio:                    {run_median / bake_median:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
