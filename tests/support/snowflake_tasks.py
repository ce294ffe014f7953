"""Snowflake's tasks as a state machine, for FakeSnowflakeServer (snowflake_wire.py).

The statements arrive through the real snowflake-connector (only its HTTP fetch is
answered). This side keeps what an account keeps about tasks and answers and refuses as
the docs say it does; where the docs are silent, it says whose word it takes.

Kept: each task's definition (AFTER, FINALIZE, SCHEDULE, CONFIG), its state (created
and replaced tasks are suspended: create-task), and SHOW TASKS' `predecessors` and
`task_relations` columns, in the JSON forms Snowflake prints (quoted qualified names).

Refused, as Snowflake refuses them:
- creating, replacing, resuming or dropping a task of a graph whose root is started
  ("The root task must be suspended before any task is recreated", create-task;
  alter-task; drop-task);
- SCHEDULE on a task with AFTER or FINALIZE ("A schedule cannot be specified for child
  tasks"; "A finalizer task cannot have a schedule": create-task), AFTER together with
  FINALIZE, a second finalizer for one root, and an AFTER naming a task that does not
  exist;
- resuming a root that has no SCHEDULE (ALTER TASK ... RESUME, or
  SYSTEM$TASK_DEPENDENTS_ENABLE on it): the docs are silent; a Snowflake maintainer
  says such a task "cannot be resumed" (terraform-provider-snowflake#3069), and
  Snowflake's own snowflake-core resumes a root only when it has a schedule.

EXECUTE TASK is recorded with the states the graph had then (children still suspended
would be skipped: execute-task). SYSTEM$RESOLVE_PYTHON_PACKAGES answers from a table
of what the repository "holds", refusing a package it lacks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import Requirement

from .snowflake_wire import SqlError, identifier

Rows = list[dict[str, Any]]


@dataclass
class Task:
    name: str  # bare, as Snowflake resolves it
    after: list[str] = field(default_factory=list)
    finalizes: str | None = None
    schedule: str | None = None
    started: bool = False


def bare(qualified: str) -> str:
    return identifier(qualified.strip().split(".")[-1])


@dataclass
class TaskAccount:
    """The tasks of one schema (DEMO.DEMO), the ledger rows a test gives, and the
    packages the artifact repository holds."""

    database: str = "DEMO"
    schema: str = "DEMO"
    tasks: dict[str, Task] = field(default_factory=dict)
    ledger: Rows = field(default_factory=list)
    ended_graphs: Rows = field(default_factory=list)
    repository: dict[str, str] = field(
        default_factory=lambda: {
            "snowflake-snowpark-python": "1.56.0",
            "pandas": "2.3.3",
            "scikit-learn": "1.8.0",
            "matplotlib": "3.10.8",
            "pydantic": "2.12.5",
            "markupsafe": "3.0.3",
            "lz4": "4.4.4",
            "mlflow": "3.5.0",
            "snowflake-ml-python": "2.6.0",
        }
    )
    executions: list[dict[str, bool]] = field(default_factory=list)

    # --- what SHOW TASKS prints -----------------------------------------------------
    def quoted(self, name: str) -> str:
        return f'"{self.database}"."{self.schema}"."{name}"'

    def rows(self) -> Rows:
        rows = []
        for task in self.tasks.values():
            relations: dict[str, Any] = {
                "Predecessors": [self.quoted(n) for n in task.after]
            }
            finalizer = self.finalizer_of(task.name)
            if finalizer:
                relations["FinalizerTask"] = self.quoted(finalizer)
            if task.finalizes:
                relations["FinalizedRootTask"] = self.quoted(task.finalizes)
            rows.append(
                {
                    "name": task.name,
                    "database_name": self.database,
                    "schema_name": self.schema,
                    "state": "started" if task.started else "suspended",
                    "schedule": task.schedule,
                    "predecessors": json.dumps([self.quoted(n) for n in task.after]),
                    "task_relations": json.dumps(relations),
                }
            )
        return rows

    # --- the graph ------------------------------------------------------------------
    def finalizer_of(self, root: str) -> str | None:
        return next((t.name for t in self.tasks.values() if t.finalizes == root), None)

    def root_of(self, task: Task) -> Task:
        seen = set()
        while task.after and task.name not in seen:
            seen.add(task.name)
            task = self.tasks.get(task.after[0], task)
        if task.finalizes and task.finalizes in self.tasks:
            return self.tasks[task.finalizes]
        return task

    def refuse_if_root_started(self, task: Task, doing: str) -> None:
        root = self.root_of(task)
        if root.started and (root.name != task.name or doing != "resume"):
            raise SqlError(
                f"SQL compilation error: Unable to {doing} task {task.name} of a graph "
                f"whose root task {root.name} is not suspended."
            )

    # --- statements -----------------------------------------------------------------
    def answer(self, sql: str, values: list[Any]) -> Rows | None:
        """Rows for a statement about tasks, or None when it is not one."""
        text = sql.strip()
        for pattern, handle in (
            (r"SHOW TASKS IN SCHEMA \S+", lambda m: self.rows()),
            (
                r"CREATE OR REPLACE TASK (\S+).*",
                lambda m: self.create(text, bare(m[1])),
            ),
            (r"ALTER TASK IF EXISTS (\S+) SUSPEND", lambda m: self.suspend(bare(m[1]))),
            (r"ALTER TASK (\S+) RESUME", lambda m: self.resume(bare(m[1]))),
            (
                r"SELECT SYSTEM\$TASK_DEPENDENTS_ENABLE\(\?\)",
                lambda m: self.enable_dependents(bare(values[0])),
            ),
            (r"DROP TASK IF EXISTS (\S+)", lambda m: self.drop(bare(m[1]))),
            (r"EXECUTE TASK (\S+)", lambda m: self.execute(m[1])),
            (
                r"SELECT SYSTEM\$RESOLVE_PYTHON_PACKAGES\(\?, \?, \?\)",
                lambda m: self.resolve(values),
            ),
            (
                r"SELECT GROUP_ID, TASK, STATE, NODE, ERROR, RUN FROM .*",
                lambda m: self.read_ledger(values),
            ),
            (
                r"SELECT (.+?) FROM TABLE\(.*INFORMATION_SCHEMA\.COMPLETE_TASK_GRAPHS\(.*",
                lambda m: self.ended(m[1].split(", "), values),
            ),
        ):
            if match := re.fullmatch(pattern, text, re.IGNORECASE | re.DOTALL):
                return handle(match)
        return None

    def suspend(self, name: str) -> Rows:
        if task := self.tasks.get(name):
            task.started = False
        return ok()

    def execute(self, qualified: str) -> Rows:
        self.executions.append({t.name: t.started for t in self.tasks.values()})
        if bare(qualified) not in self.tasks:
            raise SqlError(f"Task {qualified} does not exist")
        return ok()

    def read_ledger(self, values: list[Any]) -> Rows:
        graph, since = values
        columns = ("GROUP_ID", "TASK", "STATE", "NODE", "ERROR", "RUN")
        return [
            {column: row.get(column, "") for column in columns}
            for row in self.ledger
            if row["GRAPH"] == graph and int(row["AT_MS"]) >= int(since)
        ]

    def ended(self, columns: list[str], values: list[Any]) -> Rows:
        root, since = values
        return [
            {column: row.get(column) for column in columns}
            for row in self.ended_graphs
            if row["ROOT_TASK_NAME"] == root
            and int(row.get("SCHEDULED_MS", since)) >= int(since)
        ]

    def create(self, text: str, name: str) -> Rows:
        code = re.sub(r"\$\$.*?\$\$|'[^']*'", "''", text, flags=re.DOTALL)
        after = re.search(r"^\s*AFTER (.+)$", code, re.MULTILINE)
        finalize = re.search(r"\bFINALIZE = (\S+)", code)
        schedule = re.search(r"\bSCHEDULE = '([^']*)'", text)
        task = Task(
            name,
            [bare(n) for n in after[1].split(",")] if after else [],
            bare(finalize[1]) if finalize else None,
            schedule[1] if schedule else None,
        )
        if task.schedule and (task.after or task.finalizes):
            raise SqlError(
                "SQL compilation error: A schedule cannot be specified for a child or "
                "finalizer task."
            )
        if task.after and task.finalizes:
            raise SqlError("SQL compilation error: a finalizer task cannot have AFTER.")
        for before in task.after:
            if before not in self.tasks:
                raise SqlError(f"SQL compilation error: Task {before} does not exist.")
        if task.finalizes:
            if task.finalizes not in self.tasks:
                raise SqlError(f"Task {task.finalizes} does not exist.")
            other = self.finalizer_of(task.finalizes)
            if other and other != name:
                raise SqlError(
                    f"Finalize target {task.finalizes} already has a finalizer."
                )
        if name in self.tasks:
            self.refuse_if_root_started(self.tasks[name], "replace")
        self.refuse_if_root_started(task, "create")
        self.tasks[name] = task  # created (and replaced) tasks are suspended
        return ok()

    def resume(self, name: str) -> Rows:
        task = self.tasks.get(name)
        if task is None:
            raise SqlError(f"Task {name} does not exist.")
        if not (task.after or task.finalizes) and not task.schedule:
            raise SqlError(
                f"Task {name} cannot be resumed: it has no SCHEDULE and runs after no "
                "task (a root is run suspended by EXECUTE TASK)."
            )
        self.refuse_if_root_started(task, "resume")
        task.started = True
        return ok()

    def enable_dependents(self, root: str) -> Rows:
        self.resume(root)
        for task in self.tasks.values():
            if self.root_of(task).name == root:
                task.started = True
        return [{"status": "Task dependents enabled."}]

    def drop(self, name: str) -> Rows:
        task = self.tasks.get(name)
        if task is None:
            return ok()
        self.refuse_if_root_started(task, "drop")
        del self.tasks[name]
        for other in self.tasks.values():  # its children become roots (drop-task)
            other.after = [n for n in other.after if n != name]
            if other.finalizes == name:
                other.finalizes = None
        return ok()

    def resolve(self, values: list[Any]) -> Rows:
        runtime, packages, repository = values
        if runtime not in ("3.11", "3.12", "3.13"):
            raise SqlError(f"Unsupported runtime version {runtime}")
        if repository != "snowflake.snowpark.anaconda_shared_repository":
            raise SqlError(f"Artifact repository {repository} is not available")
        resolved = []
        for spec in re.findall(r"'([^']+)'", packages):
            requirement = Requirement(spec)
            held = self.repository.get(requirement.name)
            if held is None or not requirement.specifier.contains(held):
                raise SqlError(
                    "Cannot create a Python function with the specified packages. "
                    f"Please check your packages specification and try again: {spec}"
                )
            resolved.append(f"{requirement.name}=={held}")
        return [{"RESOLVED": "[" + ",".join(f"'{r}'" for r in resolved) + "]"}]


def ok() -> Rows:
    return [{"status": "Statement executed successfully."}]
