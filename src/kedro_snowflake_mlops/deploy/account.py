"""deploy, run and destroy on a real account, through snowflake-connector.

The connection is opened as the project role (conf/snowflake/snowflake.yml) with the
qmark paramstyle, as Snowpark's own: `?` marks a value the server binds. DDL takes no
bind variables, so it holds only names validated by plan.py; function arguments (the
package resolution, the system functions, the table functions) and the ledger query
bind their values. SHOW takes its LIKE pattern only as a literal in the docs, so SHOW
is sent without LIKE and its rows are filtered here.

Real-account facts this relies on (docs, read against the statements; not run against
an account here): new and replaced tasks are created suspended; a child task can only
be replaced, dropped or resumed while its root is suspended (alter-task, drop-task);
EXECUTE TASK runs a suspended root and skips suspended children (execute-task);
SYSTEM$TASK_DEPENDENTS_ENABLE resumes a root and all its dependents (scheduled graphs);
PUT with AUTO_COMPRESS = FALSE keeps the zips importable; COMPLETE_TASK_GRAPHS tells
when a graph run ended and its first error, for the task's owner.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
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
# The longest `run` follows a graph that neither ends nor reports (a task's default
# time-out, USER_TASK_TIMEOUT_MS, is one hour).
WAIT_SECONDS = 3600.0
# How long `run` waits for the finalizer's row after Snowflake says the graph ended.
GRACE_POLLS = 2


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


def bare(name: str) -> str:
    """DEMO."DEMO".X_ROOT -> X_ROOT: the last part of a qualified name, unquoted."""
    parts, current, quoted = [], "", False
    for char in name:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    last = parts[-1]
    if last.startswith('"') and last.endswith('"'):
        return last[1:-1].replace('""', '"')
    return last.upper()


def _names(value: Any) -> list[str]:
    """A JSON list of qualified task names (SHOW TASKS' predecessors), as bare names."""
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [bare(str(item)) for item in items or ()]


def graph_members(rows: Iterable[dict[str, Any]], root: str) -> list[str]:
    """The bare names of the tasks of the graph under `root` (bare): the root, what
    runs after it, and its finalizer, read from SHOW TASKS rows (`predecessors`,
    `task_relations`). Another graph whose names start alike is not touched."""
    rows = list(rows)
    relations = {
        str(row.get("name", "")): _relations(row.get("task_relations")) for row in rows
    }
    members = {root} if root in relations else set()
    grown = True
    while grown:
        grown = False
        for row in rows:
            name = str(row.get("name", ""))
            before = set(_names(row.get("predecessors")))
            before |= set(_names(relations[name].get("Predecessors")))
            finalizes = relations[name].get("FinalizedRootTask")
            if name not in members and (
                before & members or (finalizes and bare(str(finalizes)) == root)
            ):
                members.add(name)
                grown = True
    finalizer = relations.get(root, {}).get("FinalizerTask")
    if finalizer and bare(str(finalizer)) in relations:
        members.add(bare(str(finalizer)))
    return sorted(members)


def _relations(value: Any) -> dict[str, Any]:
    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def deployed_tasks(connection: Any, plan: Plan) -> list[str]:
    """The tasks of this graph on the account now (an earlier deploy's), qualified:
    names this plan makes as it writes them, any other one as a quoted identifier."""
    rows = run_query(connection, f"SHOW TASKS IN SCHEMA {plan.deploy.schema_name}")
    planned = {task.split(".")[-1]: task for task in plan.tasks}
    root = plan.task(ROOT).split(".")[-1]
    return [
        planned.get(name, f"{plan.deploy.schema_name}.{quoted_identifier(name)}")
        for name in graph_members(rows, root)
    ]


def put_statement(path: Path, stage_folder: str) -> str:
    """PUT takes no bind variables: the local path is one this module made."""
    text = path.resolve().as_posix()
    if "'" in text:
        raise click.ClickException(f"cannot upload {text}: quotes in the path")
    return (
        f"PUT 'file://{text}' '{stage_folder}/' AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
    )


def resolve_packages(connection: Any, plan: Plan, echo: Callable[[str], None]) -> None:
    """Which versions PACKAGES resolve to, before anything is created: a package the
    repository lacks is named now instead of failing CREATE PROCEDURE half way."""
    sql, values = plan.resolve_packages()
    try:
        ((resolved,),) = execute(connection, sql, values)
    except click.ClickException as error:
        raise click.ClickException(
            f"{error.message}\n  Nothing was uploaded or created. Fix: list in "
            "snowflake.deploy.packages only versions the repository holds for "
            f"runtime {plan.deploy.runtime_version} (Snowflake lists them: SELECT "
            "PACKAGE_NAME, VERSION FROM INFORMATION_SCHEMA.PACKAGES WHERE LANGUAGE = "
            "'python'), or drop the pin"
        ) from None
    echo(f"  PACKAGES resolve ({plan.deploy.artifact_repository}): {resolved}")


def deploy_to_account(plan: Plan, echo: Callable[[str], None]) -> None:
    connection = connect(plan)
    try:
        resolve_packages(connection, plan, echo)
        with TemporaryDirectory(prefix="kedro-snowflake-deploy-") as folder:
            echo("Building the code (kedro package, libraries) ...")
            files = build_bundle(plan, Path(folder))
            execute(connection, plan.runs_table_sql())
            for _name, path in files:
                execute(connection, put_statement(path, plan.stage_folder))
            echo(f"  uploaded {len(files)} files to {plan.stage_folder}/")
        execute(connection, plan.suspend_sql())  # the root of an earlier deploy
        for old in sorted(set(deployed_tasks(connection, plan)) - set(plan.tasks)):
            execute(connection, f"DROP TASK IF EXISTS {old}")
            echo(f"  dropped {old} (not in this plan)")
        for statement in plan.ddl(plan.manifest()["deploy_id"]):
            execute(connection, statement)
            echo(f"  ok  {statement.splitlines()[0]}")
        for statement, values in plan.resume_statements():
            execute(connection, statement, values)
        when = f"on its schedule ({plan.schedule})" if plan.schedule else "when run"
        echo(
            f"Deployed: {len(plan.tasks)} tasks; the graph runs {when}. Run it now "
            f"with: kedro snowflake run --pipeline {plan.deploy.pipeline}"
        )
    finally:
        connection.close()


def run_on_account(plan: Plan, echo: Callable[[str], None], wait: bool = True) -> None:
    connection = connect(plan)
    try:
        # Snowflake's clock (not this machine's, which may be off by minutes).
        ((now,),) = execute(connection, NOW_MS)
        started_ms = int(now)
        execute(connection, f"EXECUTE TASK {plan.task(ROOT)}")
        echo(f"Started {plan.task(ROOT)}.")
        if not wait:
            echo(
                "Follow it in Snowsight (Transformation, Tasks) or run without --no-wait."
            )
            return
        follow(connection, plan, started_ms, echo)
    finally:
        connection.close()


def ledger_query(plan: Plan) -> str:
    return (
        f"SELECT GROUP_ID, TASK, STATE, NODE, ERROR, RUN FROM {plan.deploy.runs_table} "
        "WHERE GRAPH = ? AND AT_MS >= ? ORDER BY AT_MS"
    )


def ended_query(plan: Plan) -> str:
    """Graph runs of this root that ended since the run started (docs:
    complete_task_graphs; bare task name; readable by the task's owner)."""
    database = plan.deploy.schema_name.split(".")[0]
    return (
        "SELECT GRAPH_RUN_GROUP_ID, STATE, FIRST_ERROR_TASK_NAME, FIRST_ERROR_MESSAGE "
        f"FROM TABLE({database}.INFORMATION_SCHEMA.COMPLETE_TASK_GRAPHS("
        "ROOT_TASK_NAME => ?)) WHERE SCHEDULED_TIME >= TO_TIMESTAMP_LTZ(?, 3)"
    )


def follow(connection: Any, plan: Plan, since_ms: int, echo, sleep=time.sleep) -> None:
    """Report each task of this graph run once, from the ledger: the run is the one
    whose ROOT row comes first after `since_ms` (another run of the graph may still be
    writing rows). It ends with the finalizer's row; if Snowflake says the run ended
    and no finalizer row comes (a task failed before its code ran), with Snowflake's
    first error."""
    seen: set[str] = set()
    group: str | None = None
    ended_polls = 0
    root = plan.task(ROOT).split(".")[-1]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        rows = execute(connection, ledger_query(plan), [plan.task_prefix, since_ms])
        for group_id, task, state, node, error, run in rows:
            if group is None and task == ROOT:
                group = group_id
            if group_id != group or task in seen:
                continue
            seen.add(task)
            if task == FINALIZER:
                return finish(plan, run, seen, echo)
            line = f"  {plan.task(task):<50} {state}"
            echo(line + (f"\n      node {node}: {error}" if state == "FAILED" else ""))
        ended = [
            row
            for row in execute(connection, ended_query(plan), [root, since_ms])
            if group is None or row[0] == group
        ]
        if ended:
            ended_polls += 1
            if ended_polls > GRACE_POLLS:
                _, state, task, message = ended[0]
                raise click.ClickException(
                    f"the graph run ended {state} without its finalizer's outcome: "
                    f"task {task or '?'}: {message or 'no message'} (Snowflake's "
                    "COMPLETE_TASK_GRAPHS; Snowsight, Transformation, Tasks shows "
                    "every task)"
                )
        sleep(POLL_SECONDS)
    raise click.ClickException(
        "the graph did not finish within an hour; see Snowsight (Transformation, Tasks)"
    )


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
        tasks = sorted(set(deployed_tasks(connection, plan)) | set(plan.tasks))
        # The finalizer and the children before the root they hang from.
        for name in sorted(tasks, key=lambda n: n.endswith(f"_{ROOT}")):
            execute(connection, f"DROP TASK IF EXISTS {name}")
        execute(connection, f"DROP PROCEDURE IF EXISTS {plan.procedure}(VARCHAR)")
        execute(connection, f"REMOVE {plan.stage_folder}/")
        echo(
            f"Removed {len(tasks)} tasks, {plan.procedure} and "
            f"{plan.stage_folder}/ (the runs table {plan.deploy.runs_table} keeps the "
            "history; sql/99_teardown.sql drops it with the database)."
        )
    finally:
        connection.close()
