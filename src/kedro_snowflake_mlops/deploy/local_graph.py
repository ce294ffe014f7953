"""The Snowflake side of `kedro snowflake run --local`, played in a separate process.

That process starts with `python -I -S` (no site-packages, no user paths) and puts on
its path exactly what a procedure would get: the zips deploy uploads (imported with
zipimport, as Snowflake does) and the installed distributions of the procedure's
PACKAGES. A module the packaging forgot is missing here as it would be in Snowflake.

Then, in Snowpark local testing: the files are PUT on the code stage, the procedure is
registered with them as its IMPORTS, the task system functions are registered as
procedures of their names (their state is this module's), and the tasks run in
dependency order: a task whose predecessor did not succeed is skipped, as Snowflake
skips it, and the finalizer always runs. Each step is reported on stdout as one line
`@@task {json}` for the parent process.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

# Snowpark reads the emulated system procedures' type hints at registration.
from snowflake.snowpark import Session
from snowflake.snowpark.mock._functions import ColumnEmulator

from .procedure import innermost
from .steps import FINALIZER, ROOT

EVENT = "@@task "
# A Python file run in this process before the first task, to stand in for what only
# Snowflake has (your external functions, the procedure's secret); optional.
PATCHES_VARIABLE = "KEDRO_SNOWFLAKE_MLOPS_LOCAL_PATCHES"
# SYSTEM$SET_RETURN_VALUE takes at most 10 kB; the stricter reading of "kB" is used.
MAX_RETURN_VALUE_BYTES = 10_000


def emit(**event: Any) -> None:
    print(EVENT + json.dumps(event), flush=True)


class TaskSystem:
    """The task system functions of one graph run, as procedures of their names."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.group_id = uuid.uuid4().hex
        self.current = ""
        self.predecessors: list[str] = []
        self.return_values: dict[str, str] = {}

    def register(self, session: Any) -> None:
        from snowflake.snowpark.mock import patch  # noqa: PLC0415
        from snowflake.snowpark.types import StringType  # noqa: PLC0415

        system = self

        def set_return_value(_session: Session, value: str) -> str:
            # Snowflake: the value may be at most 10 kB (encoded in UTF-8); counted
            # here as 10,000 bytes, so what passes here passes there too.
            size = len(value.encode("utf-8"))
            if size > MAX_RETURN_VALUE_BYTES:
                raise ValueError(
                    f"SYSTEM$SET_RETURN_VALUE: {size} bytes from {system.current}; "
                    f"a task's return value holds at most {MAX_RETURN_VALUE_BYTES}"
                )
            system.return_values[system.current] = value
            return ""

        # Annotated `str` for Snowpark (it reads the hints); returns None for NULL.
        def get_predecessor_return_value(_session: Session, task_name: str) -> str:
            # As Snowflake: the bare task name (no database or schema), matched
            # case-sensitively with the name as created (unquoted: upper case); NULL
            # when the predecessor set no return value. Stricter than Snowflake on
            # one point: Snowflake also answers for an ancestor further up (docs:
            # system_get_predecessor_return_value), here only a direct predecessor
            # is accepted, so what runs here also runs there.
            if "." in task_name or task_name not in system.predecessors:
                raise ValueError(
                    f"SYSTEM$GET_PREDECESSOR_RETURN_VALUE({task_name!r}): not the "
                    f"name of a predecessor of {system.current} (predecessors, "
                    "names without database or schema, case-sensitive: "
                    f"{', '.join(system.predecessors) or 'none'})"
                )
            return system.return_values.get(task_name)

        def get_task_graph_config(_session: Session) -> str:
            return json.dumps(system.config)

        for name, function, inputs in (
            ("system$set_return_value", set_return_value, [StringType()]),
            (
                "system$get_predecessor_return_value",
                get_predecessor_return_value,
                [StringType()],
            ),
            ("system$get_task_graph_config", get_task_graph_config, []),
        ):
            session.sproc.register(
                function,
                name=name,
                return_type=StringType(),
                input_types=inputs,
                replace=True,
            )

        def task_runtime_info(key: ColumnEmulator) -> ColumnEmulator:
            values = {"CURRENT_TASK_GRAPH_RUN_GROUP_ID": system.group_id}
            return ColumnEmulator(
                [values.get(str(k).upper()) for k in key], sf_type=key.sf_type
            )

        patch("system$task_runtime_info")(task_runtime_info)


def play(spec: dict[str, Any], trace: Any = None) -> int:
    """Deploy to local testing and run the graph once; 0 when every task succeeded.
    With an ImportTrace, report at the end what the tasks imported."""
    from snowflake.snowpark.types import StringType  # noqa: PLC0415

    from ..session.create import local_testing_session  # noqa: PLC0415
    from . import procedure  # noqa: PLC0415
    from .task_system import create_ledger  # noqa: PLC0415

    manifest = json.loads(Path(spec["manifest"]).read_text(encoding="utf-8"))
    database, schema = spec["schema"].split(".")
    session = local_testing_session(database, schema)
    workdir = Path(spec["workdir"])
    procedure.prepare_process(workdir)
    patches = os.environ.get(PATCHES_VARIABLE)
    if patches:
        runpy.run_path(patches, init_globals={"session": session, "spec": spec})
    procedure.preload(manifest)

    stage_files = []
    for name, path in spec["files"]:
        session.file.put(
            path, spec["stage_folder"], auto_compress=False, overwrite=True
        )
        stage_files.append(f"{spec['stage_folder']}/{name}")
    session.sproc.register(
        procedure.main,
        name=spec["procedure"],
        imports=stage_files,
        packages=spec["packages"],
        return_type=StringType(),
        input_types=[StringType()],
        replace=True,
    )
    create_ledger(session, manifest["runs_table"])  # as deploy's CREATE TABLE does
    system = TaskSystem({"deploy_id": manifest["deploy_id"]})
    system.register(session)

    prefix = manifest["task_prefix"].split(".")[-1]
    steps = [(ROOT, [])]
    steps += [(g["name"], g["after"] or [ROOT]) for g in manifest["groups"]]
    states: dict[str, str] = {}
    for step, after in steps:
        name = f"{prefix}_{step}"
        if any(states.get(f"{prefix}_{a}") != "SUCCEEDED" for a in after):
            states[name] = "SKIPPED"
            emit(task=name, step=step, state="SKIPPED")
            continue
        states[name] = _call(
            session,
            spec["procedure"],
            system,
            name=name,
            step=step,
            after=after,
            prefix=prefix,
        )
    name = f"{prefix}_{FINALIZER}"
    _call(
        session,
        spec["procedure"],
        system,
        name=name,
        step=FINALIZER,
        after=[],
        prefix=prefix,
    )
    session.close()
    if trace is not None:
        emit(task="", step="", state="IMPORTED", imported=trace.report())
    return 0 if all(state == "SUCCEEDED" for state in states.values()) else 1


def _call(  # noqa: PLR0913 (one task's call)
    session, procedure_name, system: TaskSystem, *, name, step, after, prefix
) -> str:
    system.current = name
    system.predecessors = [f"{prefix}_{a}" for a in after]
    emit(task=name, step=step, state="STARTED")
    started = time.monotonic()
    try:
        value = session.call(procedure_name, step)
    except Exception as error:  # the task FAILS, as the procedure's error fails it
        emit(
            task=name,
            step=step,
            state="FAILED",
            seconds=round(time.monotonic() - started, 2),
            error=innermost(error),  # Snowpark wraps what the procedure raised
            traceback=traceback.format_exc(limit=8),
        )
        return "FAILED"
    emit(
        task=name,
        step=step,
        state="SUCCEEDED",
        seconds=round(time.monotonic() - started, 2),
        value=str(value),
    )
    return "SUCCEEDED"


def main(trace: Any = None) -> int:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    return play(spec, trace)
