"""Run a Kedro pipeline of a baked project in THIS process, its tracking through the five
external functions emulated (support/snowpark_functions.py: the project's own translator
JavaScript in V8, POSTing to a real `mlflow server`).

    python tests/support/run_with_external_functions.py <project> <env> <pipeline> <url>

A process of its own, so that a test can send it real signals: with this transport the
run is recorded in the Kedro process itself (no worker), through its Snowpark session.
Prints `ready` when the functions are registered; Kedro's log goes to stdout as usual.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support

from kedro.framework.session import KedroSession  # noqa: E402
from kedro.framework.startup import bootstrap_project  # noqa: E402

from support.external_functions import ExternalFunctionEmulator  # noqa: E402
from support.snowpark_functions import patch_external_functions  # noqa: E402


def main() -> int:
    project, env, pipeline, mlflow_url = sys.argv[1:5]
    emulator = ExternalFunctionEmulator(Path(project) / "sql", mlflow_url)
    patch_external_functions(lambda: emulator)
    print("ready", flush=True)
    bootstrap_project(Path(project))
    with KedroSession.create(project_path=Path(project), env=env) as session:
        session.run(pipeline_names=[pipeline])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
