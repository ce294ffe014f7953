"""Median time to generate the demo (`kedro new --config`) and to run it offline, side by
side with a spaceflights-shaped pandas project (benchmarks/spaceflights_baseline.py).

    python benchmarks/bake_and_run.py [--runs 5] [--before GIT_REF]

`--before` adds this starter as it was at a git commit (baked from `git archive` of it,
with that commit's demo-answers.yml): the same machine, the same run, so a change's
effect reads as `before` against `ours`, and both against the stand-in. Needs the test extra (`pip install -e ".[test]"`) plus openpyxl for the stand-in's Excel
file. Times are wall-clock medians over --runs repetitions, interleaved (ours, theirs,
ours, ...) in this one process so that both see the same machine; compare the RATIOS,
not the seconds. The first `kedro run` of a new project is reported apart: ours creates
mlflow.db then.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

import yaml
from spaceflights_baseline import build_template
from timing import REPO_ROOT, kedro, timed


def bake(starter: str, answers: dict, workdir: Path, name: str) -> tuple[float, Path]:
    config = workdir / f"{name}.yml"
    config.write_text(
        yaml.safe_dump({**answers, "project_name": name, "output_dir": str(workdir)})
    )
    seconds = timed(
        kedro("new", f"--starter={starter}", "--config", str(config)), workdir
    )
    return seconds, workdir / name.lower().replace(" ", "-")


def starter_at(ref: str, workdir: Path) -> tuple[Path, dict]:
    """This repository at a git commit, unpacked: (template folder, its demo answers)."""
    folder = workdir / "before-template"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder, yaml.safe_load((folder / "demo-answers.yml").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", metavar="GIT_REF", help="also this commit's demo")
    args = parser.parse_args()
    ours_answers = yaml.safe_load((REPO_ROOT / "demo-answers.yml").read_text())

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        starters = {"ours": ("snowflake-mlops", ours_answers)}
        if args.before:
            folder, answers = starter_at(args.before, workdir)
            starters["before"] = (str(folder), answers)
        starters["theirs"] = (str(build_template(workdir)), {})
        bakes = {who: [] for who in starters}
        runs = {who: [] for who in starters}
        projects, first_runs = {}, {}
        for index in range(args.runs):
            for who, (starter, answers) in starters.items():
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

    print(
        f"runs: {args.runs} (medians; ours = the demo, theirs = spaceflights-shaped"
        + (f", before = the demo at {args.before})" if args.before else ")")
    )
    # (a, b): the column a/b. ours/before is the change's own effect on this machine.
    ratios = [(who, "theirs") for who in starters if who != "theirs"]
    if args.before:
        ratios.append(("ours", "before"))
    print(
        f"{'':<24}"
        + "".join(f"{who:>10}" for who in starters)
        + "".join(f"{a + '/' + b:>15}" for a, b in ratios)
    )
    rows = [("kedro new --config", bakes), ("kedro run (offline)", runs)]
    rows.append(("first kedro run (once)", {k: [v] for k, v in first_runs.items()}))
    for label, values in rows:
        medians = {who: statistics.median(values[who]) for who in starters}
        print(
            f"{label:<24}"
            + "".join(f"{medians[who]:>8.2f} s" for who in starters)
            + "".join(f"{medians[a] / medians[b]:>15.2f}" for a, b in ratios)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
