"""`kedro snowflake deploy | run | destroy` against an account, through the REAL
snowflake-connector: only its HTTP fetch is answered, by FakeSnowflakeServer
(tests/support/snowflake_wire.py), which refuses what Snowflake refuses (a `%s`, a
count of `?` that differs from the bindings) and lets the connector's own PUT copy the
files to a local folder (its LOCAL_FS storage client) instead of a cloud stage.

What the server says about tasks (SHOW TASKS) follows the CREATE/DROP TASK statements it
received; the ledger rows `run` reads are given by the test. The project, its conf, the
plan, `kedro package` and the packaging are real.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from support.snowflake_wire import FakeSnowflakeServer, identifier
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.cli.deploy import deploy, destroy, run

PREFIX = "DEMO.DEMO.SNOWFLAKE_MLOPS_DEMO"
STAGE = "DEMO.DEMO.KEDRO_CODE_STAGE/snowflake_mlops_demo"


@pytest.fixture
def project(project_copy: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "myorg-myaccount")
    monkeypatch.setenv("SNOWFLAKE_USER", "JANE")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "not-a-real-credential-41c2")
    for name in ("SNOWFLAKE_TOKEN", "SNOWFLAKE_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return project_copy


class Account:
    """The tasks the fake account holds, kept in step with CREATE/DROP TASK."""

    def __init__(self, tmp_path: Path, ledger: list[dict] | None = None) -> None:
        self.server = FakeSnowflakeServer(
            objects={"TASKS": []},
            stage_root=tmp_path / "stages",
            on_statement=self.answer,
        )
        self.ledger = ledger or []

    @property
    def tasks(self) -> set[str]:
        return {row["name"] for row in self.server.objects["TASKS"]}

    def answer(self, sql: str, values: list) -> list[dict]:
        created = re.match(r"CREATE OR REPLACE TASK (\S+)", sql)
        dropped = re.match(r"DROP TASK IF EXISTS (\S+)", sql)
        if created:
            name = created[1].split(".")[-1]
            self.server.objects["TASKS"] = [
                r for r in self.server.objects["TASKS"] if r["name"] != name
            ] + [{"name": name, "database_name": "DEMO", "schema_name": "DEMO"}]
        elif dropped:
            name = identifier(dropped[1].split(".")[-1])  # quoted or not, as Snowflake
            self.server.objects["TASKS"] = [
                r for r in self.server.objects["TASKS"] if r["name"] != name
            ]
        elif sql.startswith("SELECT TASK, STATE, NODE, ERROR, RUN FROM"):
            return self.ledger
        elif sql == "SELECT DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP())":
            return [{"NOW": "1700000000000"}]
        return [{"status": "Statement executed successfully."}]

    def statements(self) -> list[str]:
        return [sql for sql, _ in self.server.queries]


def invoke(command, project: Path, *args: str):
    return CliRunner().invoke(
        command, list(args), obj=SimpleNamespace(project_path=project)
    )


def test_deploy_twice_replaces_cleanly_and_drops_tasks_it_no_longer_has(
    project, tmp_path
):
    account = Account(tmp_path)
    account.server.objects["TASKS"].append({"name": "SNOWFLAKE_MLOPS_DEMO_OLD_GROUP"})
    with account.server.serving():
        first = invoke(deploy, project)
        second = invoke(deploy, project)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    # A name read from the account is dropped as a quoted identifier.
    assert 'dropped DEMO.DEMO."SNOWFLAKE_MLOPS_DEMO_OLD_GROUP"' in first.output
    assert "SNOWFLAKE_MLOPS_DEMO_OLD_GROUP" not in account.tasks
    assert len(account.tasks) == 10
    statements = account.statements()
    procedure = next(
        s for s in statements if s.startswith("CREATE OR REPLACE PROCEDURE")
    )
    imports = re.findall(r"'@([^']+)'", procedure)
    uploaded = {p.name for p in (tmp_path / "stages" / STAGE).iterdir()}
    assert {i.rsplit("/", 1)[-1] for i in imports} == uploaded
    assert "kedro_deploy_manifest.json" in uploaded and "kedro-1.7.0.zip" in uploaded
    # The root is suspended before its children are replaced; all are enabled after.
    suspend = statements.index(f"ALTER TASK IF EXISTS {PREFIX}_ROOT SUSPEND")
    first_task = next(
        i for i, s in enumerate(statements) if s.startswith("CREATE OR REPLACE TASK")
    )
    assert suspend < first_task
    assert (
        "SELECT SYSTEM$TASK_DEPENDENTS_ENABLE(?)",
        [f"{PREFIX}_ROOT"],
    ) in account.server.queries


def test_destroy_removes_tasks_procedure_and_code_and_is_safe_to_repeat(
    project, tmp_path
):
    account = Account(tmp_path)
    with account.server.serving():
        assert invoke(deploy, project).exit_code == 0
        first = invoke(destroy, project)
        second = invoke(destroy, project)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert account.tasks == set()
    statements = account.statements()
    assert (
        statements.count("DROP PROCEDURE IF EXISTS DEMO.DEMO.KEDRO_RUN_NODES(VARCHAR)")
        == 2
    )
    assert statements.count(f"REMOVE @{STAGE}/") == 2
    drops = [s for s in statements if s.startswith("DROP TASK")]
    assert drops[-1] == f"DROP TASK IF EXISTS {PREFIX}_ROOT"  # the root last


def ledger_row(
    task: str, state: str, node: str = "", error: str = "", run: str = ""
) -> dict:
    return {"TASK": task, "STATE": state, "NODE": node, "ERROR": error, "RUN": run}


def test_run_follows_the_graph_and_names_the_failed_node(project, tmp_path):
    outcome = {
        "status": "FAILED",
        "run": {"run_id": "ab12", "experiment_id": "7", "artifact_uri": None},
        "failed_task": "CREATE_MODEL_INPUT_TABLE",
        "failed_node": "create_model_input_table",
        "error": "SnowparkSQLException: invalid identifier 'SHUTTLE_ID'",
    }
    ledger = [
        ledger_row("ROOT", "SUCCEEDED"),
        *[ledger_row(t, "SUCCEEDED") for t in ("INGEST_COMPANIES", "INGEST_REVIEWS")],
        ledger_row(
            "CREATE_MODEL_INPUT_TABLE",
            "FAILED",
            outcome["failed_node"],
            outcome["error"],
        ),
        ledger_row("FINALIZER", "FAILED", run=json.dumps(outcome)),
    ]
    account = Account(tmp_path, ledger)
    with account.server.serving():
        result = invoke(run, project)
    assert result.exit_code == 1
    assert f"EXECUTE TASK {PREFIX}_ROOT" in account.statements()
    (select,) = [q for q in account.server.queries if q[0].startswith("SELECT TASK")]
    # Rows since the graph started, by Snowflake's clock (not this machine's).
    assert select[0].endswith("WHERE AT_MS >= ? ORDER BY AT_MS")
    assert select[1] == ["1700000000000"]
    assert re.search(
        r"SNOWFLAKE_MLOPS_DEMO_CREATE_MODEL_INPUT_TABLE\s+FAILED", result.output
    )
    assert re.search(r"SNOWFLAKE_MLOPS_DEMO_SPLIT_DATA\s+SKIPPED", result.output)
    assert "MLflow run ab12: FAILED" in result.output
    assert "the graph failed at node create_model_input_table" in result.output


def test_run_no_wait_only_starts_the_graph(project, tmp_path):
    account = Account(tmp_path)
    with account.server.serving():
        result = invoke(run, project, "--no-wait")
    assert result.exit_code == 0, result.output
    assert not any(s.startswith("SELECT TASK") for s in account.statements())


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

    plan = make_plan(project, "snowflake")
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
