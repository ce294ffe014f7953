"""deploy, run and destroy on a real account, through snowflake-connector.

The connection is opened as the project role (conf/snowflake/snowflake.yml) with the
qmark paramstyle, as Snowpark's own: `?` marks a value the server binds. DDL takes no
bind variables, so it holds only names validated by plan.py; SHOW ... LIKE ?, the
ledger query and SYSTEM$TASK_DEPENDENTS_ENABLE bind their values.

Real-account facts this relies on (docs; not run against an account here):
- new tasks are created suspended; EXECUTE TASK runs a graph once, and its child tasks
  must be resumed (SYSTEM$TASK_DEPENDENTS_ENABLE resumes them);
- a child task can only be replaced while its root is suspended (ALTER TASK ... SUSPEND);
- PUT uploads to an internal stage; AUTO_COMPRESS = FALSE keeps the zips importable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import click

from ..conf import first_line
from ..objects.online import quoted_identifier, run_query
from .bundle import build_bundle
from .outcome import report
from .plan import Plan
from .steps import FINALIZER, ROOT

POLL_SECONDS = 5.0
NOW_MS = "SELECT DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP())"
WAIT_SECONDS = 3600.0


def connect(plan: Plan) -> Any:
    """A connection as the project role, in the project's database and schema."""
    from ..project import real_session_config  # noqa: PLC0415
    from ..session.create import connect_connector  # noqa: PLC0415

    return connect_connector(*real_session_config(plan.project, plan.env))


def execute(connection: Any, sql: str, params: list | None = None) -> list[tuple]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params or None)
        return list(cursor.fetchall())
    except Exception as error:
        raise click.ClickException(
            f"Snowflake refused: {first_line(error)}\n  statement: {' '.join(sql.split())[:300]}"
        ) from None
    finally:
        cursor.close()


def existing_tasks(connection: Any, plan: Plan) -> list[str]:
    """Tasks in the schema whose names start with the prefix (an earlier deploy's)."""
    prefix = plan.deploy.task_prefix.split(".")[-1].upper()
    # `_` is a LIKE wildcard: rows are filtered by exact prefix below.
    rows = run_query(
        connection,
        f"SHOW TASKS LIKE ? IN SCHEMA {plan.deploy.schema_name}",
        [prefix + "%"],
    )
    names = [str(row.get("name", "")) for row in rows]
    planned = {task.split(".")[-1]: task for task in plan.tasks}
    # A name this plan makes is written as the plan writes it; any other one read from
    # the account is quoted, so that it stays one identifier in DROP TASK.
    return [
        planned.get(n, f"{plan.deploy.schema_name}.{quoted_identifier(n)}")
        for n in names
        if n.upper().startswith(prefix + "_")
    ]


def put_statement(path: Path, stage_folder: str) -> str:
    """PUT takes no bind variables: the local path is one this module made."""
    text = path.resolve().as_posix()
    if "'" in text:
        raise click.ClickException(f"cannot upload {text}: quotes in the path")
    return (
        f"PUT 'file://{text}' '{stage_folder}/' AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
    )


def deploy_to_account(plan: Plan, echo: Callable[[str], None]) -> None:
    connection = connect(plan)
    try:
        with TemporaryDirectory(prefix="kedro-snowflake-deploy-") as folder:
            echo("Building the code (kedro package, libraries) ...")
            files = build_bundle(plan, Path(folder))
            execute(connection, plan.runs_table_sql())
            for _name, path in files:
                execute(connection, put_statement(path, plan.stage_folder))
            echo(f"  uploaded {len(files)} files to {plan.stage_folder}/")
        execute(connection, plan.suspend_sql())  # the root of an earlier deploy
        for old in sorted(set(existing_tasks(connection, plan)) - set(plan.tasks)):
            execute(connection, f"DROP TASK IF EXISTS {old}")
            echo(f"  dropped {old} (not in this plan)")
        for statement in plan.ddl(plan.manifest()["deploy_id"]):
            execute(connection, statement)
            echo(f"  ok  {statement.splitlines()[0]}")
        execute(connection, plan.enable_sql(), [plan.task(ROOT)])
        echo(f"Deployed: {len(plan.tasks)} tasks. Run it with: kedro snowflake run")
    finally:
        connection.close()


def run_on_account(plan: Plan, echo: Callable[[str], None], wait: bool = True) -> None:
    connection = connect(plan)
    try:
        # Snowflake's clock, which the procedure's ledger rows use too (not this
        # machine's, which may be off by minutes).
        ((now,),) = execute(connection, NOW_MS)
        started_ms = int(now)
        execute(connection, f"EXECUTE TASK {plan.task(ROOT)}")
        echo(f"Started {plan.task(ROOT)}.")
        if not wait:
            echo(
                "Follow it in Snowsight (Monitoring, Task History) or run without --no-wait."
            )
            return
        follow(connection, plan, started_ms, echo)
    finally:
        connection.close()


def follow(connection: Any, plan: Plan, since_ms: int, echo, sleep=time.sleep) -> None:
    """Read the ledger until the finalizer wrote its row; report each task once."""
    query = (
        f"SELECT TASK, STATE, NODE, ERROR, RUN FROM {plan.deploy.runs_table} "
        "WHERE AT_MS >= ? ORDER BY AT_MS"
    )
    seen: set[str] = set()
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        rows = execute(connection, query, [since_ms])
        for task, state, node, error, run in rows:
            if task in seen:
                continue
            seen.add(task)
            if task == FINALIZER:
                return finish(plan, run, seen, echo)
            line = f"  {plan.task(task):<50} {state}"
            echo(line + (f"\n      node {node}: {error}" if state == "FAILED" else ""))
        sleep(POLL_SECONDS)
    raise click.ClickException("the graph did not finish within an hour; see Snowsight")


def finish(plan: Plan, outcome: str | None, seen: set[str], echo) -> None:
    """Name the groups that never ran, then report the finalizer's outcome (JSON)."""
    for group in plan.groups:
        if group.name not in seen:
            echo(f"  {plan.task(group.name):<50} SKIPPED")
    report({"value": outcome}, [], plan, "", 0)


def destroy_on_account(plan: Plan, echo: Callable[[str], None]) -> None:
    connection = connect(plan)
    try:
        execute(connection, plan.suspend_sql())
        tasks = sorted(set(existing_tasks(connection, plan)) | set(plan.tasks))
        # The finalizer and the children before the root they hang from.
        for name in sorted(tasks, key=lambda n: n.endswith(f"_{ROOT}")):
            execute(connection, f"DROP TASK IF EXISTS {name}")
        execute(
            connection, f"DROP PROCEDURE IF EXISTS {plan.deploy.procedure}(VARCHAR)"
        )
        execute(connection, f"REMOVE {plan.stage_folder}/")
        echo(
            f"Removed {len(tasks)} tasks, {plan.deploy.procedure} and "
            f"{plan.stage_folder}/ (the runs table {plan.deploy.runs_table} keeps the "
            "history; sql/99_teardown.sql drops it with the database)."
        )
    finally:
        connection.close()
