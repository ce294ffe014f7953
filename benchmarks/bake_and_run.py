"""Median time to generate the demo (`kedro new --config`) and to run it offline, side by
side with a spaceflights-shaped pandas project (benchmarks/spaceflights_baseline.py).

    python benchmarks/bake_and_run.py [--runs 5]

Needs the test extra (`pip install -e ".[test]"`) plus openpyxl for the stand-in's Excel
file. Times are wall-clock medians over --runs repetitions, interleaved (ours, theirs,
ours, ...) in this one process so that both see the same machine; compare the RATIOS,
not the seconds. The first `kedro run` of a new project is reported apart: ours creates
mlflow.db then.
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
from spaceflights_baseline import build_template

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


def kedro(*args: str) -> list[str]:
    return [sys.executable, "-m", "kedro", *args]


def bake(starter: str, answers: dict, workdir: Path, name: str) -> tuple[float, Path]:
    config = workdir / f"{name}.yml"
    config.write_text(
        yaml.safe_dump({**answers, "project_name": name, "output_dir": str(workdir)})
    )
    seconds = timed(
        kedro("new", f"--starter={starter}", "--config", str(config)), workdir
    )
    return seconds, workdir / name.lower().replace(" ", "-")


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours_answers = yaml.safe_load((REPO_ROOT / "demo-answers.yml").read_text())

    bakes: dict[str, list[float]] = {"ours": [], "theirs": []}
    runs: dict[str, list[float]] = {"ours": [], "theirs": []}
    first_runs: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        theirs_template = build_template(workdir)
        projects = {}
        for index in range(args.runs):
            for who, starter, answers in (
                ("ours", "snowflake-mlops", ours_answers),
                ("theirs", str(theirs_template), {}),
            ):
                seconds, project = bake(
                    starter, answers, workdir, f"{who} bench {index}"
                )
                bakes[who].append(seconds)
                projects.setdefault(who, project)
        for who, project in projects.items():
            first_runs[who] = timed(kedro("run"), project)
        for _ in range(args.runs):
            for who, project in projects.items():
                runs[who].append(timed(kedro("run"), project))

    print(f"runs: {args.runs} (medians; ours = the demo, theirs = spaceflights-shaped)")
    print(f"{'':<28}{'ours':>10}{'theirs':>10}{'ratio':>8}")
    for label, values in (("kedro new --config", bakes), ("kedro run (offline)", runs)):
        ratio = statistics.median(values["ours"]) / statistics.median(values["theirs"])
        print(
            f"{label:<28}{median(values['ours']):>10}{median(values['theirs']):>10}"
            f"{ratio:>8.2f}"
        )
    ratio = first_runs["ours"] / first_runs["theirs"]
    print(
        f"{'first kedro run (once)':<28}{first_runs['ours']:>8.2f} s"
        f"{first_runs['theirs']:>8.2f} s{ratio:>8.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
