"""SQL statements per graph run for tracking, through the external functions, with the
demo's own metrics and params and with K=100 more metrics and P=50 more params.

    python benchmarks/task_graph_statements.py

Real processes: `kedro snowflake run --local --env bench_ef` of a baked demo; the six
external functions reach the translators' JavaScript (V8) and a real `mlflow server` on
127.0.0.1 through tests/support's bridge (the procedure's process sees only what deploy
uploads). Counts come from the procedure's own log (snowflake-run-local.log): each task's
summary line, and the root's and the finalizer's. HTTP requests are counted by the
emulator. Expected: the same counts for both rows.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from timing import ENV, REPO_ROOT, bake_demo

sys.path.insert(0, str(REPO_ROOT / "tests"))

from support.external_function_bridge import ARITIES, ExternalFunctionBridge  # noqa: E402
from support.external_functions import ExternalFunctionEmulator  # noqa: E402
from support.mlflow_server import start_mlflow_server, stop_mlflow_server  # noqa: E402


def bake(workdir: Path, name: str, extra: bool) -> Path:
    project = bake_demo(workdir, project_name=name)
    if extra:
        nodes = next(project.glob("src/*/pipelines/data_science/nodes.py"))
        text = nodes.read_text().replace(
            '        "rmse": math.sqrt(mean_squared_error(y_test, predicted)),\n    }',
            '        "rmse": math.sqrt(mean_squared_error(y_test, predicted)),\n    }\n'
            '    metrics.update({f"extra_{i}": float(i) for i in range(100)})',
        )
        nodes.write_text(text)
        params = project / "conf/base/parameters.yml"
        params.write_text(
            params.read_text()
            + "extra:\n"
            + "".join(f"  p{i}: {i}\n" for i in range(50))
        )
    return project


def measure(project: Path, server, experiment: str) -> dict:
    conf = project / "conf" / "bench_ef"
    conf.mkdir()
    (conf / "snowflake.yml").write_text(
        "snowflake:\n  mlflow:\n    transport: external_functions\n"
        f"    experiment_name: {experiment}\n"
    )
    emulator = ExternalFunctionEmulator(project / "sql", server.url)
    bridge = ExternalFunctionBridge(emulator)
    try:
        functions = {f"demo.demo.mlflow_{k}": v for k, v in ARITIES.items()}
        with tempfile.TemporaryDirectory() as export:
            result = subprocess.run(
                [sys.executable, "-m", "kedro", "snowflake", "run", "--local"]
                + ["--env", "bench_ef"],
                cwd=project,
                env={
                    **ENV,
                    "KEDRO_SNOWFLAKE_MLOPS_LOCAL_PATCHES": str(
                        REPO_ROOT / "tests/support/local_patches.py"
                    ),
                    "BRIDGE_URL": bridge.url,
                    "BRIDGE_FUNCTIONS": json.dumps(functions),
                    "STAGE_EXPORT": export,
                },
                capture_output=True,
                text=True,
                check=False,
            )
    finally:
        bridge.close()
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
    log = (project / "snowflake-run-local.log").read_text()
    tasks = [
        (int(m), int(p), int(s))
        for m, p, s in re.findall(
            r"MLflow run \w+: (\d+) metrics, (\d+) params, (\d+) SQL statements", log
        )
    ]
    root = int(re.search(r"started with \d+ params, (\d+) SQL statements", log)[1])
    final = int(re.search(r"ended \w+, (\d+) SQL statements", log)[1])
    params = int(re.search(r"started with (\d+) params", log)[1])
    return {
        "metrics": sum(m for m, _, _ in tasks),
        "params": params,
        "per task": [s for _, _, s in tasks],
        "root": root,
        "finalizer": final,
        "total": root + final + sum(s for _, _, s in tasks),
        "http": emulator.requests_sent,
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "server").mkdir()
        server = start_mlflow_server(workdir / "server")
        try:
            rows = []
            for label, extra in (
                ("demo", False),
                ("demo + 100 metrics + 50 params", True),
            ):
                experiment = f"bench-{uuid.uuid4().hex[:8]}"
                server.post("experiments/create", {"name": experiment})
                folder = workdir / ("extra" if extra else "plain")
                folder.mkdir()
                project = bake(folder, "Bench Graph", extra)
                rows.append((label, measure(project, server, experiment)))
        finally:
            stop_mlflow_server(server)
    for label, row in rows:
        print(
            f"{label}: {row['metrics']} metrics, {row['params']} params -> SQL statements "
            f"for tracking: root {row['root']}, tasks {row['per task']}, finalizer "
            f"{row['finalizer']}, total {row['total']}; MLflow HTTP requests {row['http']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
