"""`kedro snowflake deploy | run | destroy` against an account, through the REAL
snowflake-connector: only its HTTP fetch is answered, by FakeSnowflakeServer
(tests/support/snowflake_wire.py), which refuses what Snowflake refuses (a `%s`, a
count of `?` that differs from the bindings, a `?` in SHOW) and lets the connector's own
PUT copy the files to a local folder (its LOCAL_FS storage client) instead of a stage.

What is faked, and why: no Snowflake account is reachable from here. The tasks are
TaskAccount (tests/support/snowflake_tasks.py), a state machine that keeps each task's
AFTER, FINALIZE, SCHEDULE and state and refuses, as the docs say Snowflake does, to
replace, drop or resume a task while its root runs, a SCHEDULE on a child, a root
resumed without one, and packages the repository lacks. The ledger rows `run` reads
and Snowflake's record of ended graph runs are given by each test. The project, its
conf, the plan, `kedro package` and the packaging are real.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from support.snowflake_tasks import Task, TaskAccount
from support.snowflake_wire import FakeSnowflakeServer
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.cli.deploy import deploy, destroy, run
from kedro_snowflake_mlops.deploy import account as account_module

PREFIX = "DEMO.DEMO.SNOWFLAKE_MLOPS_DEMO"
STAGE = "DEMO.DEMO.KEDRO_CODE_STAGE/snowflake_mlops_demo"
NOW_MS = "1700000000000"
DAILY = "USING CRON 0 6 * * * UTC"


@pytest.fixture
def project(traced_demo: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the demo whose imports are already traced (conftest.traced_demo)."""
    copy = tmp_path / traced_demo.name
    shutil.copytree(traced_demo, copy)
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "myorg-myaccount")
    monkeypatch.setenv("SNOWFLAKE_USER", "JANE")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", throwaway_secret("password"))
    for name in ("SNOWFLAKE_TOKEN", "SNOWFLAKE_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(account_module, "POLL_SECONDS", 0.0)
    return copy


class Account:
    """A fake account's server with its tasks (TaskAccount) behind it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tasks = TaskAccount()
        self.server = FakeSnowflakeServer(
            stage_root=tmp_path / "stages", on_statement=self.answer
        )

    def answer(self, sql: str, values: list) -> list[dict] | None:
        if sql == "SELECT DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP())":
            return [{"NOW": NOW_MS}]
        return self.tasks.answer(sql, values)

    def statements(self) -> list[str]:
        return [sql for sql, _ in self.server.queries]

    def states(self) -> dict[str, str]:
        return {
            name: ("started" if task.started else "suspended")
            for name, task in self.tasks.tasks.items()
        }


def as_deployed(account: Account, project: Path, grouping: str = "auto") -> None:
    """The account holds the plan's graph, as deploy leaves it (children resumed)."""
    from kedro_snowflake_mlops.deploy.plan import make_plan  # noqa: PLC0415

    plan = make_plan(project, "snowflake", grouping=grouping)
    bare = {step: plan.task(step).split(".")[-1] for step in plan.steps}
    root = bare["ROOT"]
    tasks = account.tasks.tasks
    tasks[root] = Task(root)
    for group in plan.groups:
        after = [bare[name] for name in group.after] or [root]
        tasks[bare[group.name]] = Task(bare[group.name], after, started=True)
    tasks[bare["FINALIZER"]] = Task(bare["FINALIZER"], finalizes=root, started=True)


def invoke(command, project: Path, *args: str):
    return CliRunner().invoke(
        command, list(args), obj=SimpleNamespace(project_path=project)
    )


def test_deploy_creates_the_planned_graph_and_leaves_it_ready_to_run(project, tmp_path):
    account = Account(tmp_path)
    with account.server.serving():
        result = invoke(deploy, project)
    assert result.exit_code == 0, result.output
    assert "Tracing" not in result.output  # the copy's trace still holds
    # grouping auto: the root, one task of nodes, the finalizer.
    assert account.states() == {
        "SNOWFLAKE_MLOPS_DEMO_ROOT": "suspended",  # EXECUTE TASK runs it suspended
        "SNOWFLAKE_MLOPS_DEMO_ALL_NODES": "started",
        "SNOWFLAKE_MLOPS_DEMO_FINALIZER": "started",
    }
    assert account.tasks.tasks["SNOWFLAKE_MLOPS_DEMO_ALL_NODES"].after == [
        "SNOWFLAKE_MLOPS_DEMO_ROOT"
    ]
    assert (
        account.tasks.tasks["SNOWFLAKE_MLOPS_DEMO_FINALIZER"].finalizes
        == "SNOWFLAKE_MLOPS_DEMO_ROOT"
    )
    assert "Deployed: 3 tasks; the graph runs when run." in result.output
    statements = account.statements()
    # The packages are resolved before anything is uploaded or created.
    assert statements[0] == "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES(?, ?, ?)"
    procedure = next(
        s for s in statements if s.startswith("CREATE OR REPLACE PROCEDURE")
    )
    assert (
        "ARTIFACT_REPOSITORY = snowflake.snowpark.anaconda_shared_repository"
        in procedure
    )
    imports = re.findall(r"'@([^']+)'", procedure)
    uploaded = {p.name for p in (tmp_path / "stages" / STAGE).iterdir()}
    assert {i.rsplit("/", 1)[-1] for i in imports} == uploaded
    assert "kedro_deploy_manifest.json" in uploaded and "kedro-1.7.0.zip" in uploaded
    # What Kedro needs only for its command line stays home (traced imports).
    assert not any(name.startswith(("cookiecutter-", "build-")) for name in uploaded)


def test_deploy_again_suspends_first_and_drops_only_its_own_stale_tasks(
    project, tmp_path
):
    """An earlier deploy left a task this plan no longer has (a grouping changed), and
    another graph whose names start alike (the scoring pipeline's) is on the schema."""
    account = Account(tmp_path)
    tasks = account.tasks.tasks
    for name, after in (
        ("SNOWFLAKE_MLOPS_DEMO_ROOT", []),
        ("SNOWFLAKE_MLOPS_DEMO_OLD_GROUP", ["SNOWFLAKE_MLOPS_DEMO_ROOT"]),
        ("SNOWFLAKE_MLOPS_DEMO_SCORING_ROOT", []),
        (
            "SNOWFLAKE_MLOPS_DEMO_SCORING_ALL_NODES",
            ["SNOWFLAKE_MLOPS_DEMO_SCORING_ROOT"],
        ),
    ):
        tasks[name] = Task(name, after, started=bool(after))
    tasks["SNOWFLAKE_MLOPS_DEMO_ROOT"].schedule = DAILY
    tasks["SNOWFLAKE_MLOPS_DEMO_ROOT"].started = True  # running on its schedule
    with account.server.serving():
        first = invoke(deploy, project)
        second = invoke(deploy, project)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    # A name read from the account is dropped as a quoted identifier.
    assert 'dropped DEMO.DEMO."SNOWFLAKE_MLOPS_DEMO_OLD_GROUP"' in first.output
    assert "dropped" not in second.output
    assert set(tasks) == {
        "SNOWFLAKE_MLOPS_DEMO_ROOT",
        "SNOWFLAKE_MLOPS_DEMO_ALL_NODES",
        "SNOWFLAKE_MLOPS_DEMO_FINALIZER",
        "SNOWFLAKE_MLOPS_DEMO_SCORING_ROOT",
        "SNOWFLAKE_MLOPS_DEMO_SCORING_ALL_NODES",
    }
    # The other graph was not touched; this one no longer has a schedule.
    assert tasks["SNOWFLAKE_MLOPS_DEMO_SCORING_ALL_NODES"].started
    assert tasks["SNOWFLAKE_MLOPS_DEMO_ROOT"].schedule is None
    statements = account.statements()
    suspend = statements.index(f"ALTER TASK IF EXISTS {PREFIX}_ROOT SUSPEND")
    first_task = next(
        i for i, s in enumerate(statements) if s.startswith("CREATE OR REPLACE TASK")
    )
    assert suspend < first_task
    assert not any("SCORING" in s for s in statements if not s.startswith("SHOW"))


def test_deploy_with_a_schedule_puts_it_on_the_root_and_resumes_the_graph(
    project, tmp_path
):
    account = Account(tmp_path)
    with account.server.serving():
        first = invoke(deploy, project, "--schedule", DAILY)
        # The graph now runs: deploying again works only if deploy suspends it first.
        second = invoke(deploy, project, "--schedule", DAILY)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"the graph runs on its schedule ({DAILY})" in second.output
    root = account.tasks.tasks["SNOWFLAKE_MLOPS_DEMO_ROOT"]
    assert root.schedule == DAILY
    assert set(account.states().values()) == {"started"}
    assert (
        "SELECT SYSTEM$TASK_DEPENDENTS_ENABLE(?)",
        [f"{PREFIX}_ROOT"],
    ) in account.server.queries
    creates = [
        s for s in account.statements() if s.startswith("CREATE OR REPLACE TASK")
    ]
    assert [s for s in creates if "SCHEDULE" in s] == [
        s for s in creates if s.startswith(f"CREATE OR REPLACE TASK {PREFIX}_ROOT\n")
    ]


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        ("USING CRON 0 6 * * *", "is not a schedule"),
        ("USING CRON 0 6 * * * Mars/Olympus", "is not a time zone Snowflake knows"),
        ("20000 MINUTES", "longer than 11520 minutes"),
        ("0 6 * * *'; DROP TABLE X; --", "is not a schedule"),
    ],
)
def test_a_bad_schedule_is_refused_before_connecting(project, tmp_path, schedule, says):
    account = Account(tmp_path)
    with account.server.serving():
        result = invoke(deploy, project, "--schedule", schedule)
    assert result.exit_code == 1
    assert "cannot deploy: --schedule" in result.output
    assert says in result.output
    assert "'USING CRON 0 6 * * * UTC' (06:00 UTC daily)" in result.output  # example
    assert account.server.queries == []


def test_a_package_the_repository_lacks_stops_deploy_before_anything_is_made(
    project, tmp_path
):
    account = Account(tmp_path)
    del account.tasks.repository["mlflow"]
    with account.server.serving():
        result = invoke(deploy, project)
    assert result.exit_code == 1
    assert re.search(
        r"Snowflake refused: .*Cannot create a Python function .*: mlflow>=3\n",
        result.output,
    )
    assert "Nothing was uploaded or created. Fix: list in" in result.output
    assert not any(s.startswith(("PUT", "CREATE")) for s in account.statements())
    assert account.tasks.tasks == {}


def test_destroy_removes_tasks_procedure_and_code_and_is_safe_to_repeat(
    project, tmp_path
):
    account = Account(tmp_path)
    with account.server.serving():
        assert invoke(deploy, project, "--schedule", DAILY).exit_code == 0
        first = invoke(destroy, project)
        second = invoke(destroy, project)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert account.tasks.tasks == {}
    statements = account.statements()
    assert (
        statements.count("DROP PROCEDURE IF EXISTS DEMO.DEMO.KEDRO_RUN_NODES(VARCHAR)")
        == 2
    )
    assert statements.count(f"REMOVE @{STAGE}/") == 2
    drops = [s for s in statements if s.startswith("DROP TASK")]
    assert drops[-1] == f"DROP TASK IF EXISTS {PREFIX}_ROOT"  # the root last


def test_two_pipelines_deploy_side_by_side_and_destroy_one_at_a_time(project, tmp_path):
    """data_processing gets its own tasks, procedure and code folder (it is traced on
    its first deploy); destroying it leaves the __default__ graph as it was."""
    account = Account(tmp_path)
    with account.server.serving():
        assert invoke(deploy, project).exit_code == 0
        other = invoke(deploy, project, "--pipeline", "data_processing")
        gone = invoke(destroy, project, "--pipeline", "data_processing")
    assert other.exit_code == 0, other.output
    assert gone.exit_code == 0, gone.output
    assert "Tracing" in other.output
    statements = account.statements()
    assert (
        "CREATE OR REPLACE TASK DEMO.DEMO.SNOWFLAKE_MLOPS_DEMO_DATA_PROCESSING_ROOT"
        in "\n".join(statements)
    )
    assert any(
        s.startswith(
            "CREATE OR REPLACE PROCEDURE DEMO.DEMO.KEDRO_RUN_NODES_DATA_PROCESSING("
        )
        for s in statements
    )
    assert f"REMOVE @{STAGE}_data_processing/" in statements
    assert f"REMOVE @{STAGE}/" not in statements
    assert set(account.tasks.tasks) == {
        "SNOWFLAKE_MLOPS_DEMO_ROOT",
        "SNOWFLAKE_MLOPS_DEMO_ALL_NODES",
        "SNOWFLAKE_MLOPS_DEMO_FINALIZER",
    }
    assert (tmp_path / "stages" / STAGE / "kedro_deploy_manifest.json").exists()


def ledger_row(task: str, state: str, group: str = "G2", at: int = 1, **more) -> dict:
    return {
        "GRAPH": PREFIX,
        "GROUP_ID": group,
        "TASK": task,
        "STATE": state,
        "AT_MS": str(int(NOW_MS) + at),
        **more,
    }


def test_run_follows_its_own_graph_run_and_names_the_failed_node(project, tmp_path):
    outcome = {
        "status": "FAILED",
        "run": {"run_id": "ab12", "experiment_id": "7", "artifact_uri": None},
        "failed_task": "CREATE_MODEL_INPUT_TABLE",
        "failed_node": "create_model_input_table",
        "error": "SnowparkSQLException: invalid identifier 'SHUTTLE_ID'",
    }
    account = Account(tmp_path)
    account.tasks.ledger = [
        # An earlier run of the graph, still writing; another graph; then this run.
        ledger_row("SPLIT_DATA", "SUCCEEDED", group="G1", at=0),
        {**ledger_row("ROOT", "SUCCEEDED", group="X"), "GRAPH": f"{PREFIX}_SCORING"},
        ledger_row("ROOT", "SUCCEEDED", at=1),
        ledger_row("SPLIT_DATA", "FAILED", group="G1", at=2, NODE="split_data"),
        ledger_row("INGEST_COMPANIES", "SUCCEEDED", at=3),
        ledger_row(
            "CREATE_MODEL_INPUT_TABLE",
            "FAILED",
            at=4,
            NODE=outcome["failed_node"],
            ERROR=outcome["error"],
        ),
        ledger_row("FINALIZER", "FAILED", at=5, RUN=json.dumps(outcome)),
        # rows from before this run started are not read
        ledger_row("ROOT", "SUCCEEDED", group="G0", at=-5),
    ]
    as_deployed(account, project, "memory")
    with account.server.serving():
        result = invoke(run, project, "--grouping", "memory")
    assert result.exit_code == 1
    assert f"EXECUTE TASK {PREFIX}_ROOT" in account.statements()
    selects = [q for q in account.server.queries if q[0].startswith("SELECT GROUP_ID")]
    # Rows of this graph since the graph started, by Snowflake's clock.
    assert selects[0][0].endswith("WHERE GRAPH = ? AND AT_MS >= ? ORDER BY AT_MS")
    assert selects[0][1] == [PREFIX, NOW_MS]
    out = result.output
    assert re.search(r"SNOWFLAKE_MLOPS_DEMO_CREATE_MODEL_INPUT_TABLE\s+FAILED", out)
    assert "node create_model_input_table: SnowparkSQLException" in out
    # G1's SPLIT_DATA rows belong to another run of the graph: this one skipped it.
    assert re.search(r"SNOWFLAKE_MLOPS_DEMO_SPLIT_DATA\s+SKIPPED", out)
    assert "node split_data" not in out
    assert "MLflow run ab12: FAILED" in out
    assert "the graph failed at node create_model_input_table" in out


def test_run_ends_with_snowflake_s_first_error_when_no_finalizer_reports(
    project, tmp_path
):
    """A task that fails before its code runs (the procedure cannot be created, a
    privilege is missing) writes no ledger row: run ends with what Snowflake's
    COMPLETE_TASK_GRAPHS says, after waiting a little for the finalizer."""
    account = Account(tmp_path)
    account.tasks.ledger = [ledger_row("ROOT", "SUCCEEDED")]
    account.tasks.ended_graphs = [
        {
            "ROOT_TASK_NAME": "SNOWFLAKE_MLOPS_DEMO_ROOT",
            "GRAPH_RUN_GROUP_ID": "G2",
            "STATE": "FAILED",
            "FIRST_ERROR_TASK_NAME": "SNOWFLAKE_MLOPS_DEMO_ALL_NODES",
            "FIRST_ERROR_MESSAGE": "Insufficient privileges to operate on warehouse",
        }
    ]
    as_deployed(account, project)
    with account.server.serving():
        result = invoke(run, project)
    assert result.exit_code == 1
    assert (
        "the graph run ended FAILED without its finalizer's outcome: task "
        "SNOWFLAKE_MLOPS_DEMO_ALL_NODES: Insufficient privileges" in result.output
    )
    ended = [q for q in account.server.queries if "COMPLETE_TASK_GRAPHS" in q[0]]
    assert ended[0][1] == ["SNOWFLAKE_MLOPS_DEMO_ROOT", NOW_MS]
    assert len(ended) == account_module.GRACE_POLLS + 1


def test_run_no_wait_only_starts_the_graph(project, tmp_path):
    account = Account(tmp_path)
    as_deployed(account, project)
    with account.server.serving():
        result = invoke(run, project, "--no-wait")
    assert result.exit_code == 0, result.output
    assert account.tasks.executions == [
        {
            "SNOWFLAKE_MLOPS_DEMO_ROOT": False,
            "SNOWFLAKE_MLOPS_DEMO_ALL_NODES": True,
            "SNOWFLAKE_MLOPS_DEMO_FINALIZER": True,
        }
    ]
    assert not any(s.startswith("SELECT GROUP_ID") for s in account.statements())


def test_transport_direct_is_refused_for_an_account_before_connecting(
    project, tmp_path
):
    account = Account(tmp_path)
    with account.server.serving():
        result = invoke(deploy, project, "--env", "local")
    assert result.exit_code == 1
    assert "snowflake.mlflow.transport is direct in env local" in result.output
    assert account.server.queries == []


def test_the_plan_s_sql_splits_as_snowflake_connector_splits_it(project):
    """deploy sends its statements one by one; written out as a script (what the dry run
    shows) snowflake-connector's own splitter must find exactly the same ones, $$ CONFIG
    and multi-line CREATE PROCEDURE included."""
    from io import StringIO  # noqa: PLC0415

    from snowflake.connector.util_text import split_statements  # noqa: PLC0415

    from kedro_snowflake_mlops.deploy.plan import make_plan  # noqa: PLC0415

    plan = make_plan(project, "snowflake", schedule=DAILY)
    statements = plan.statements(plan.manifest()["deploy_id"])
    script = "".join(f"{s};\n\n" for s in statements)
    split = [s.strip().rstrip(";") for s, _ in split_statements(StringIO(script))]
    assert [s for s in split if s] == statements


@pytest.mark.parametrize(
    ("options", "landed"),
    [
        ("", "bundle.zip.gz"),  # Snowflake's default: AUTO_COMPRESS = TRUE
        (" auto_compress=false", "bundle.zip"),
        (" AUTO_COMPRESS = FALSE OVERWRITE = TRUE", "bundle.zip"),
    ],
)
def test_the_fake_server_answers_put_with_snowflake_s_defaults(
    tmp_path, options, landed
):
    """The connector compresses as the server says: a PUT that does not say
    AUTO_COMPRESS = FALSE stores a .gz, which a procedure could not import."""
    import snowflake.connector  # noqa: PLC0415

    source = tmp_path / "bundle.zip"
    source.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    server = FakeSnowflakeServer(stage_root=tmp_path / "stages")
    with server.serving():
        connection = snowflake.connector.connect(
            account="myorg-acct", user="ME", password=throwaway_secret("password")
        )
        try:
            connection.cursor().execute(
                f"PUT 'file://{source.as_posix()}' '@DB.S.CODE/app/'{options}"
            )
        finally:
            connection.close()
    assert [p.name for p in (tmp_path / "stages" / "DB.S.CODE/app").iterdir()] == [
        landed
    ]
