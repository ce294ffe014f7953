"""Median time to generate the demo (`kedro new --config`) and to run it offline, side by
side with Kedro's official spaceflights-pandas starter, in this one virtualenv.

    python benchmarks/bake_and_run.py --baseline PATH [--runs 7] [--before GIT_REF]

PATH is the spaceflights-pandas starter as a folder or a .tar.gz of it (for example
../shared/baseline/spaceflights-pandas.tar.gz: kedro-starters at a fixed commit). It is
unpacked into a temporary folder and generated with `kedro new --starter=<that folder>`,
exactly as ours is generated with `--starter=snowflake-mlops`; nothing of it is kept.
`kedro new --starter=spaceflights-pandas` would also clone GitHub first, which this
comparison leaves out, so the bake ratio is stricter than what a user sees.

`--before` adds this starter as it was at a git commit (from `git archive`, with that
commit's demo-answers.yml), so a change's own effect reads as `ours/before`.

Bakes and runs alternate (ours, theirs, theirs, ours, ...: who goes first changes every
round) so that every starter sees the same machine; compare the RATIOS, not the seconds.
Every command runs as in a user's shell, with Python's bytecode cache on (see
timing.USER_ENV), after one untimed bake of each starter has filled it.
The first `kedro run` of each new project is reported apart (ours creates mlflow.db then).
The official starter's pipelines need openpyxl, plotly and seaborn besides what the test
extra installs: `pip install -e ".[test,bench]"`.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import tarfile
import tempfile
from pathlib import Path

import yaml
from timing import REPO_ROOT, USER_ENV, kedro, timed

# What the official starter's nodes and datasets import beyond our own test extra.
BASELINE_NEEDS = ("openpyxl", "plotly", "seaborn", "pyarrow", "sklearn")


def unpack_baseline(source: Path, workdir: Path) -> Path:
    """The starter's folder (the one holding cookiecutter.json), unpacked if needed."""
    if source.is_file():
        target = workdir / "baseline"
        with tarfile.open(source) as archive:
            archive.extractall(target, filter="data")
        source = target
    found = sorted(source.rglob("cookiecutter.json"), key=lambda p: len(p.parts))
    if not found:
        raise SystemExit(f"{source}: no cookiecutter.json, so not a Kedro starter")
    return found[0].parent


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


def bake(starter: str, answers: dict, workdir: Path, name: str) -> tuple[float, Path]:
    config = workdir / f"{name}.yml"
    config.write_text(
        yaml.safe_dump({**answers, "project_name": name, "output_dir": str(workdir)})
    )
    seconds = timed(
        kedro("new", f"--starter={starter}", "--config", str(config)),
        workdir,
        USER_ENV,
    )
    return seconds, workdir / name.lower().replace(" ", "-")


def alternated(names: list[str], rounds: int) -> list[str]:
    """Each name once per round; the order turns every round (a, b, c / b, c, a / ...)."""
    return [
        names[(start + offset) % len(names)]
        for start in range(rounds)
        for offset in range(len(names))
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline",
        type=Path,
        required=True,
        metavar="PATH",
        help="Kedro's spaceflights-pandas starter: a folder or a .tar.gz",
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", metavar="GIT_REF", help="also this commit's demo")
    args = parser.parse_args()
    missing = [m for m in BASELINE_NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(
            f"the official starter's run needs {', '.join(missing)}: "
            'pip install -e ".[test,bench]"'
        )
    ours_answers = yaml.safe_load((REPO_ROOT / "demo-answers.yml").read_text())

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        starters = {"ours": ("snowflake-mlops", ours_answers)}
        if args.before:
            folder, answers = starter_at(args.before, workdir)
            starters["before"] = (str(folder), answers)
        starters["theirs"] = (str(unpack_baseline(args.baseline, workdir)), {})
        for who, (starter, answers) in starters.items():
            bake(starter, answers, workdir, f"{who} warm up")
        order = alternated(list(starters), args.runs)
        bakes = {who: [] for who in starters}
        runs = {who: [] for who in starters}
        projects, first_runs = {}, {}
        for index, who in enumerate(order):
            starter, answers = starters[who]
            seconds, project = bake(starter, answers, workdir, f"{who} bench {index}")
            bakes[who].append(seconds)
            if who not in projects:
                projects[who] = project
                first_runs[who] = timed(kedro("run"), project, USER_ENV)
        for who in order:
            runs[who].append(timed(kedro("run"), projects[who], USER_ENV))

    print(
        f"runs: {args.runs} (medians; ours = the demo, theirs = Kedro's "
        f"spaceflights-pandas from {args.baseline}"
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
