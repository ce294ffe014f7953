"""What MLflow tracking costs an offline `kedro run` of the demo: the median wall time
with tracking on and with tracking off, and their ratio, from one run of this script.

    python benchmarks/tracking_overhead.py [--runs 7] [--template PATH]

The demo is baked once (cookiecutter, default answers) and copied; the copy's
settings.py drops MlflowTrackingHook, so the two projects differ only in tracking.
After one warm-up run each (compiled files, the first mlflow.db), the two are run in
turn, --runs times each, and the medians compared: machines are noisy, so compare
figures from the same run of this script only.

To measure another version of the plugin (before/after a change), put its src/ first
on PYTHONPATH and bake its own template:

    PYTHONPATH=/path/to/other/src python benchmarks/tracking_overhead.py \\
        --template /path/to/other
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

from timing import REPO_ROOT, bake_demo, kedro, timed

TRACKING_OFF = """

# benchmarks/tracking_overhead.py: the same project without MLflow tracking.
HOOKS = tuple(hook for hook in HOOKS if type(hook).__name__ != "MlflowTrackingHook")
"""


def bake(template: Path, workdir: Path) -> tuple[Path, Path]:
    """The demo (tracking on) and a copy of it without the tracking hook."""
    tracked = bake_demo(workdir, template)
    untracked = workdir / "tracking-off"
    shutil.copytree(tracked, untracked)
    (settings,) = (untracked / "src").glob("*/settings.py")
    settings.write_text(settings.read_text() + TRACKING_OFF)
    return tracked, untracked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--template", type=Path, default=REPO_ROOT)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        tracked, untracked = bake(args.template, Path(folder))
        timed(kedro("run"), tracked)  # warm-up: compiled files, mlflow.db created
        timed(kedro("run"), untracked)
        on, off = [], []
        for _ in range(args.runs):
            on.append(timed(kedro("run"), tracked))
            off.append(timed(kedro("run"), untracked))

    median_on, median_off = statistics.median(on), statistics.median(off)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load:.1f}, {args.runs} runs each, template {args.template}"
    )
    print(f"offline kedro run, tracking on,  median: {median_on:.2f} s")
    print(f"offline kedro run, tracking off, median: {median_off:.2f} s")
    print(
        f"tracking on / off:                        {median_on / median_off:.2f}  "
        f"(tracking costs {median_on - median_off:+.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
