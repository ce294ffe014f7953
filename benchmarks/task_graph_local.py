"""`kedro snowflake run --local` against a plain `kedro run` of the same demo.

    python benchmarks/task_graph_local.py [--runs 3]

Bakes the demo once, then times each command --runs times in this one process (medians;
compare figures from the same invocation: machines are noisy). Both write to the
project's mlflow.db. `run --local` also builds what deploy uploads (`kedro package`,
zips of the libraries) and starts the isolated process that plays Snowflake, so the ratio
is the price of proving the packaging, not of Snowflake.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from timing import bake_demo, kedro, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = bake_demo(Path(tmp))
        plain, local = [], []
        for _ in range(args.runs):
            plain.append(timed(kedro("run"), project))
            local.append(timed(kedro("snowflake", "run", "--local"), project))
    plain_median, local_median = statistics.median(plain), statistics.median(local)
    print(f"runs: {args.runs}")
    print(f"kedro run, median:                   {plain_median:.2f} s")
    print(f"kedro snowflake run --local, median: {local_median:.2f} s")
    print(f"run --local / kedro run:             {local_median / plain_median:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
