"""What one task of the in-Snowflake graph pays before its first node runs, and what
that makes each grouping cost.

    python benchmarks/task_graph_startup.py [--runs 5]

Bakes the demo, builds exactly what deploy uploads (the traced imports, as `run --local`
ships them), then starts --runs fresh processes the way `run --local` starts the one
that plays Snowflake (`python -I -S`, the procedure's zips on the path, zipimport), each
timing a task's start-up phase by phase: the interpreter, importing Kedro, Snowpark, the
plugin and the project, the project's settings and pipelines, Kedro's session and
catalog from the conf archive, a Snowpark session, and the MLflow client (transport
direct and external_access import it in every task). Inside Snowflake add the task's
scheduling and the unpacking of the imports, which only an account can measure.

Then, for each grouping, the graph's estimated start-up cost: the tasks on its critical
path (root and finalizer included) times the measured cold start, and all its tasks
times it (what the warehouse pays in total). Medians; compare within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import ENV, bake_demo

# The phases of one task's start-up, timed inside the process that plays Snowflake.
PROBE = """\
import json, sys, time
started = time.perf_counter()
spec = json.load(open(sys.argv[1], encoding="utf-8"))
sys.path[:0] = [spec["packages_view"]]
sys.path.extend(spec["import_paths"])
times = {}
def phase(name, since):
    now = time.perf_counter()
    times[name] = now - since
    return now
mark = started
from pathlib import Path
from kedro_snowflake_mlops.deploy import procedure
procedure.prepare_process(Path(spec["workdir"]))  # as the procedure does, first
import kedro.framework.session, kedro.runner
from kedro.framework.project import configure_project, pipelines
import kedro_snowflake_mlops.tracking.hook, kedro_snowflake_mlops.session.hook
import snowflake.snowpark
mark = phase("imports (Kedro, Snowpark, the plugin)", mark)
configure_project(spec["package_name"])
pipelines.get(spec["pipeline"])
mark = phase("the project's settings and pipelines", mark)
from kedro.framework.session import KedroSession
session = KedroSession.create(project_path=spec["workdir"], env=spec["env"],
                              conf_source=spec["conf_source"])
context = session.load_context()
context.catalog
mark = phase("Kedro's session and catalog", mark)
from kedro_snowflake_mlops.session.create import local_testing_session
local_testing_session("DEMO", "DEMO").close()
mark = phase("a Snowpark session", mark)
if spec["mlflow"]:
    import importlib
    for module in spec["mlflow"]:
        importlib.import_module(module)
    mark = phase("the MLflow client", mark)
print(json.dumps(times))
"""


def probe_spec(project: Path, folder: Path) -> Path:
    """Build the bundle of the demo's deploy plan (env local) and describe it."""
    from kedro_snowflake_mlops.deploy.bundle import build_bundle  # noqa: PLC0415
    from kedro_snowflake_mlops.deploy.local import packages_view  # noqa: PLC0415
    from kedro_snowflake_mlops.deploy.packaging import canonical  # noqa: PLC0415
    from kedro_snowflake_mlops.deploy.plan import make_plan  # noqa: PLC0415
    from kedro_snowflake_mlops.tracking.direct import MLFLOW_MODULES  # noqa: PLC0415

    plan = make_plan(project, "local")
    files = build_bundle(plan, folder / "bundle")
    view = packages_view(sorted({canonical(n) for n in plan.provided}), folder / "view")
    workdir = folder / "work"
    workdir.mkdir()
    spec = {
        "packages_view": str(view),
        "import_paths": [str(p) for n, p in files if n.endswith(".zip")],
        "package_name": plan.package_name,
        "pipeline": plan.deploy.pipeline,
        "env": plan.env,
        "conf_source": str(dict(files)[plan.conf_archive]),
        "workdir": str(workdir),
        "mlflow": list(MLFLOW_MODULES)
        if plan.mlflow.transport in ("direct", "external_access")
        else [],
    }
    path = folder / "probe.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def cold_starts(spec: Path, runs: int) -> tuple[float, dict[str, float]]:
    """(median wall seconds of a task's start-up, median seconds per phase)."""
    walls, phases = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", PROBE, str(spec)],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
        )
        walls.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"the probe failed:\n{result.stderr[-3000:]}")
        for name, seconds in json.loads(result.stdout.splitlines()[-1]).items():
            phases.setdefault(name, []).append(seconds)
    return statistics.median(walls), {
        k: statistics.median(v) for k, v in phases.items()
    }


def grouping_costs(project: Path) -> list[tuple[str, int, int]]:
    """(grouping, tasks on the critical path, all tasks), root and finalizer included."""
    from kedro_snowflake_mlops.deploy.grouping import GROUPINGS  # noqa: PLC0415
    from kedro_snowflake_mlops.deploy.plan import make_plan  # noqa: PLC0415

    costs = []
    for grouping in GROUPINGS:
        graph = make_plan(project, "snowflake", grouping=grouping).graph
        costs.append((grouping, len(graph.critical_path) + 2, len(graph.groups) + 2))
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project = bake_demo(folder)
        spec = probe_spec(project, folder / "probe")
        wall, phases = cold_starts(spec, args.runs)
        costs = grouping_costs(project)
    inside = sum(phases.values())
    print(f"runs: {args.runs} (medians)")
    print(f"cold start of one task, as run --local's process pays it: {wall:.2f} s")
    print(f"  {'the interpreter and the path':<42}{wall - inside:>7.2f} s")
    for name, seconds in phases.items():
        print(f"  {name:<42}{seconds:>7.2f} s")
    print()
    print("estimated start-up cost of the demo's graph (root and finalizer included):")
    print(f"  {'grouping':<10}{'critical path':>16}{'all tasks':>14}")
    for grouping, path, tasks in costs:
        print(
            f"  {grouping:<10}{path:>4} x {wall:.2f} = {path * wall:5.1f} s"
            f"{tasks:>4} x {wall:.2f} = {tasks * wall:5.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
