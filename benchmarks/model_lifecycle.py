"""What the quality gate and the registration cost an offline training `kedro run`, and
how fast the scoring pipeline prices rows offline, from one run of this script.

    python benchmarks/model_lifecycle.py [--runs 7] [--rows 100000]

The demo is baked once (cookiecutter, default answers) and copied; the copy drops the
gate node (`judge_model`) and sets `registry: null`, so the two projects differ only in
the model's way to the registry. After one warm-up run each (the first mlflow.db, and a
champion in the gated one), the two are run in turn, --runs times each, and the medians
compared as a ratio: machines are noisy, so compare figures from one run of this script.

Then the gated project's listings to score are replaced by --rows rows (the original
ones repeated, with new ids) and `kedro run --pipeline scoring` is timed: rows per second
of the whole run, and of the run past its fixed start-up (the same run with the 50
original rows taken away).
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

from timing import USER_ENV, bake_demo, kedro, timed

NO_REGISTRY = """
# benchmarks/model_lifecycle.py: the same project without a model registry.
snowflake:
  registry: null
"""


def without_gate(project: Path) -> Path:
    """A copy of the demo without the gate node and without a registry."""
    copy = project.parent / "no-gate"
    shutil.copytree(project, copy)
    (pipeline,) = (copy / "src").glob("*/pipelines/data_science/pipeline.py")
    text = pipeline.read_text()
    start = text.index("            node(\n                judge_model,")
    end = text.index('name="judge_model",\n            ),\n', start)
    end += len('name="judge_model",\n            ),\n')
    pipeline.write_text(text[:start] + text[end:])
    (copy / "conf/local/snowflake.yml").write_text(NO_REGISTRY)
    return copy


def many_listings(project: Path, rows: int) -> int:
    """The listings to score, repeated to `rows` rows with new ids; the original count."""
    path = project / "data/01_raw/shuttles_to_score.csv"
    with path.open(newline="") as file:
        listed = list(csv.DictReader(file))
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(listed[0]))
        writer.writeheader()
        for index in range(rows):
            writer.writerow({**listed[index % len(listed)], "id": str(10_000 + index)})
    return len(listed)


def median_runs(projects: dict[str, Path], runs: int) -> dict[str, float]:
    seconds: dict[str, list[float]] = {name: [] for name in projects}
    for round_number in range(runs):
        order = list(projects) if round_number % 2 == 0 else list(projects)[::-1]
        for name in order:
            seconds[name].append(timed(kedro("run"), projects[name], USER_ENV))
    return {name: statistics.median(values) for name, values in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as folder:
        gated = bake_demo(Path(folder))
        projects = {"with gate and registry": gated, "without": without_gate(gated)}
        for project in projects.values():
            timed(kedro("run"), project, USER_ENV)  # warm-up: the store, a champion
        medians = median_runs(projects, args.runs)
        print(f"python {platform.python_version()}, {args.runs} runs each (medians)")
        for name, seconds in medians.items():
            print(f"  training kedro run, {name:<24} {seconds:6.2f} s")
        ratio = medians["with gate and registry"] / medians["without"]
        print(f"  ratio with/without: {ratio:.2f}x (goal <= 1.15x)")

        scoring = kedro("run", "--pipeline", "scoring")
        small = timed(scoring, gated, USER_ENV)
        original = many_listings(gated, args.rows)
        large = timed(scoring, gated, USER_ENV)
        extra = max(large - small, 1e-9)
        print(
            f"  scoring {original} rows: {small:.2f} s; {args.rows} rows: {large:.2f} s"
        )
        print(
            f"  scoring rate: {args.rows / large:,.0f} rows/s for the whole run, "
            f"{(args.rows - original) / extra:,.0f} rows/s past its start-up"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
