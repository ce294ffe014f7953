"""`kedro snowflake check`: offline through the real command, online through the real
snowflake-connector and Snowpark.

There is no Snowflake account here, and local testing cannot answer SHOW commands. So
the online check runs on a real Snowpark session whose HTTP requests reach
FakeSnowflakeServer (tests/support/snowflake_wire.py) instead of Snowflake: login,
cursors and the qmark binding are the connector's own, and the server refuses a `%s`
placeholder as Snowflake would. The server answers SHOW (without LIKE) and SHOW GRANTS from
an inventory built from the project's own expected objects, then broken on purpose.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from snowflake.snowpark import Session
from support.snowflake_wire import FakeSnowflakeServer
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.cli.check import check
from kedro_snowflake_mlops.conf import project_config_loader
from kedro_snowflake_mlops.objects.conf_check import ARTIFACT_STAGING_KEY, check_project
from kedro_snowflake_mlops.objects.online import check_online, table
from kedro_snowflake_mlops.session import config as session_config

FAKE_CREDENTIAL = throwaway_secret("password")  # recognisable, never a real one
CREDENTIALS = {
    "SNOWFLAKE_ACCOUNT": "myorg-acct",
    "SNOWFLAKE_USER": "ME",
    "SNOWFLAKE_PASSWORD": FAKE_CREDENTIAL,
}


def show_rows(report) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """A healthy account: every expected object, right type, every grant in place."""
    objects: dict[str, list[dict]] = {}
    grants: list[dict] = []
    role = next(o.name for o in report.expected if o.kind == "ROLE")
    for obj in report.expected:
        parts = obj.name.split(".")
        row: dict = {"name": parts[-1]}
        if obj.kind == "SCHEMA":
            row["database_name"] = parts[0]
        if obj.kind == "STAGE":
            row |= {"database_name": parts[0], "schema_name": parts[1]}
            row["type"] = "EXTERNAL" if obj.stage_type == "external" else "INTERNAL"
        if obj.kind in ("FUNCTION", "EXTERNAL FUNCTION"):
            row |= {"catalog_name": parts[0], "schema_name": parts[1]}
            row["is_external_function"] = (
                "Y" if obj.kind == "EXTERNAL FUNCTION" else "N"
            )
        if obj.kind.endswith("INTEGRATION"):
            row["type"] = {"API": "EXTERNAL_API", "EXTERNAL": "EXTERNAL_ACCESS"}.get(
                obj.kind.split()[0], "EXTERNAL_STAGE"
            )
        kind = {"EXTERNAL FUNCTION": "FUNCTIONS", "FUNCTION": "FUNCTIONS"}.get(obj.kind)
        if kind is None:
            kind = (
                "INTEGRATIONS" if obj.kind.endswith("INTEGRATION") else obj.kind + "S"
            )
        objects.setdefault(kind, []).append(row)
        granted_on = "FUNCTION" if obj.kind == "EXTERNAL FUNCTION" else obj.kind
        name = obj.name
        if obj.kind == "EXTERNAL FUNCTION":  # SHOW GRANTS quotes the signature
            name = f'{parts[0]}.{parts[1]}."{parts[2]}(RUN_ID VARCHAR):VARIANT"'
        privileges = ["USAGE"]
        if obj.kind == "STAGE" and obj.stage_type != "external":
            privileges = ["READ", "WRITE"]  # as sql/02 grants them
        for privilege in privileges:
            grants.append(
                {"privilege": privilege, "granted_on": granted_on, "name": name}
            )
    schema = next(o.name for o in report.expected if o.kind == "SCHEMA")
    grants += [  # sql/07, for the task graph
        {"privilege": "EXECUTE TASK", "granted_on": "ACCOUNT", "name": "MYORG_ACCT"},
        {"privilege": "CREATE TASK", "granted_on": "SCHEMA", "name": schema},
        {"privilege": "CREATE PROCEDURE", "granted_on": "SCHEMA", "name": schema},
    ]
    return objects, {role: grants}


@pytest.fixture(scope="module")
def report(demo_project):
    return check_project(demo_project)


@pytest.fixture
def healthy(report) -> FakeSnowflakeServer:
    objects, grants = show_rows(report)
    return FakeSnowflakeServer(objects=objects, grants=grants)


def connected(server: FakeSnowflakeServer) -> Session:
    """A real Snowpark session (qmark connection) whose requests reach `server`."""
    return Session.builder.configs(
        {"account": "myorg-acct", "user": "ME", "password": FAKE_CREDENTIAL}
    ).create()


def online(report, server: FakeSnowflakeServer, lookup=None) -> list:
    with server.serving():
        session = connected(server)
        try:
            return check_online(
                report, session.connection, lookup or lookup_found, "demo", "db.s.fn"
            )
        finally:
            session.close()


def by_object(rows):
    return {(row.object, row.expected): row for row in rows}


def lookup_found(function: str, name: str) -> dict:
    return {"experiment_id": "42", "name": name}


def test_healthy_account_passes_and_binds_every_value(report, healthy):
    rows = online(report, healthy)
    assert all(row.ok for row in rows), table(rows)
    # SHOW binds nothing (no bind variable is documented there): each kind is shown
    # once, without LIKE, and matched by name; SHOW GRANTS names the role as a quoted
    # identifier. No project name is ever part of a SHOW ... LIKE statement.
    shows = [(sql, values) for sql, values in healthy.queries if sql.startswith("SHOW")]
    assert shows
    for sql, values in shows:
        assert values == [] and " LIKE " not in sql
        if sql.startswith("SHOW GRANTS"):
            assert sql == 'SHOW GRANTS TO ROLE "MLOPS_DEMO_ROLE"'
    others = [sql for sql, _ in shows if not sql.startswith("SHOW GRANTS")]
    assert len(others) == len(set(others))


def test_a_pyformat_placeholder_would_reach_snowflake_as_text(healthy):
    """Why `?`: Snowpark's connection uses the qmark paramstyle, so the connector sends
    `%s` unchanged and Snowflake refuses the statement."""
    with healthy.serving():
        session = connected(healthy)
        cursor = session.connection.cursor()
        with pytest.raises(Exception, match="unexpected '%'"):
            cursor.execute("SELECT %s", ("MLOPS_DEMO_ROLE",))
        cursor.execute("SELECT ?", ("MLOPS_DEMO_ROLE",))
        assert cursor.fetchall()
        # Not documented to bind, so refused by the fake and never sent by the plugin.
        with pytest.raises(Exception, match="unexpected '[?]'"):
            cursor.execute("SHOW ROLES LIKE ?", ("MLOPS_DEMO_ROLE",))
        session.close()


def test_missing_object_names_the_script_that_creates_it(report):
    objects, grants = show_rows(report)
    function = next(o for o in report.expected if o.name.endswith("MLFLOW_RUN_CREATE"))
    objects["FUNCTIONS"] = [
        r for r in objects["FUNCTIONS"] if r["name"] != "MLFLOW_RUN_CREATE"
    ]
    # A look-alike name in the same SHOW output must not count.
    objects["FUNCTIONS"].append(
        {
            "name": "MLFLOWXRUNXCREATE",
            "catalog_name": function.name.split(".")[0],
            "schema_name": function.name.split(".")[1],
            "is_external_function": "Y",
        }
    )
    rows = online(report, FakeSnowflakeServer(objects=objects, grants=grants))
    row = by_object(rows)[(function.name, "external function")]
    assert row.found == "missing"
    assert row.fix == f"run {function.script}"
    assert function.script in table(rows)


def test_wrong_type_is_reported(report):
    objects, grants = show_rows(report)
    stage = next(o for o in report.expected if o.stage_type == "external")
    for row in objects["STAGES"]:
        if row["name"] == stage.name.split(".")[-1]:
            row["type"] = "INTERNAL"
    rows = online(report, FakeSnowflakeServer(objects=objects, grants=grants))
    row = by_object(rows)[(stage.name, "external stage")]
    assert row.found == "internal stage"
    assert "drop the internal stage" in row.fix and stage.script in row.fix


def test_missing_privilege_is_reported(report):
    objects, grants = show_rows(report)
    role = next(iter(grants))
    warehouse = next(o for o in report.expected if o.kind == "WAREHOUSE")
    grants[role] = [g for g in grants[role] if g["granted_on"] != "WAREHOUSE"]
    rows = online(report, FakeSnowflakeServer(objects=objects, grants=grants))
    row = by_object(rows)[(warehouse.name, f"USAGE for role {role}")]
    assert row.found == "no grant"
    assert row.fix.startswith(
        f"GRANT USAGE ON WAREHOUSE {warehouse.name} TO ROLE {role}"
    )


def test_artifact_staging_stage_needs_write_too(report):
    """The tracking PUTs artifacts to the staging stage: READ alone must not pass."""
    objects, grants = show_rows(report)
    role = next(iter(grants))
    staging = next(
        o for o in report.expected if o.source.endswith(ARTIFACT_STAGING_KEY)
    )
    grants[role] = [
        g
        for g in grants[role]
        if not (g["name"] == staging.name and g["privilege"] == "WRITE")
    ]
    rows = online(report, FakeSnowflakeServer(objects=objects, grants=grants))
    row = by_object(rows)[(staging.name, f"READ, WRITE for role {role}")]
    assert not row.ok and row.found == "READ"
    assert row.fix.startswith(f"GRANT WRITE ON STAGE {staging.name} TO ROLE {role}")


def test_experiment_lookup_null_and_error(report, healthy):
    def lookup_none(function, name):
        return None

    def lookup_fails(function, name):
        raise RuntimeError("Request failed for external function: 403 Forbidden\nmore")

    rows = online(report, healthy, lookup_none)
    assert rows[-1].found == "NULL (no such experiment)"
    assert "mlflow experiments create -n 'demo'" in rows[-1].fix
    rows = online(report, healthy, lookup_fails)
    assert (
        rows[-1].found == "error: Request failed for external function: 403 Forbidden"
    )


def answer_lookup(sql: str, values: list) -> list[dict] | None:
    """experiment_get_by_name, as the gateway behind the external function answers."""
    if "MLFLOW_EXPERIMENT_GET_BY_NAME" not in sql.upper():
        return None  # the server's own answer
    return [{"EXPERIMENT": json.dumps({"experiment_id": "42", "name": "demo-mlops"})}]


def run_check(project: Path, monkeypatch, *args: str):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(project)
    metadata = SimpleNamespace(project_path=project)
    return CliRunner().invoke(check, list(args), obj=metadata, catch_exceptions=False)


def test_online_command_exits_non_zero_and_prints_the_table(
    report, demo_project, monkeypatch
):
    objects, grants = show_rows(report)
    objects["WAREHOUSES"] = []
    server = FakeSnowflakeServer(objects, grants, on_statement=answer_lookup)
    with server.serving():
        result = run_check(demo_project, monkeypatch, "--online")
    assert result.exit_code == 1, result.output
    assert "OBJECT" in result.output and "FIX" in result.output
    warehouse = next(o for o in report.expected if o.kind == "WAREHOUSE")
    assert re.search(
        rf"{warehouse.name}\s+warehouse\s+missing\s+run {warehouse.script}",
        result.output,
    )
    assert re.search(r"get_by_name.*answers\s+experiment 42", result.output)
    assert FAKE_CREDENTIAL not in result.output
    # The session was closed (Snowpark deletes it on the server).
    assert any("cancel_all_queries" in sql for sql, _ in server.queries)


def test_online_command_connects_with_the_credentials_from_the_environment(
    report, demo_project, monkeypatch
):
    """conf/snowflake/credentials.yml reads SNOWFLAKE_* from the environment; the login
    carries exactly those, and the check of a healthy account passes."""
    objects, grants = show_rows(report)
    server = FakeSnowflakeServer(objects, grants, on_statement=answer_lookup)
    logins = []
    fetch = server.fetch

    def recording_fetch(url, data):
        if "login-request" in url:
            logins.append(json.loads(data)["data"])
        return fetch(url, data)

    server.fetch = recording_fetch
    with server.serving():
        result = run_check(demo_project, monkeypatch, "--online")
    assert result.exit_code == 0, result.output
    [login] = logins
    assert login["ACCOUNT_NAME"] == "myorg-acct" and login["LOGIN_NAME"] == "ME"
    assert login["PASSWORD"] == FAKE_CREDENTIAL
    assert FAKE_CREDENTIAL not in result.output


def test_online_command_without_credentials_names_the_variable(
    demo_project, monkeypatch
):
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(demo_project)
    server = FakeSnowflakeServer()
    with server.serving():
        result = CliRunner().invoke(
            check,
            ["--online"],
            obj=SimpleNamespace(project_path=demo_project),
        )
    assert result.exit_code != 0
    assert "SNOWFLAKE_ACCOUNT" in result.output
    assert server.queries == []  # refused before connecting


def test_credential_errors_name_the_field_and_never_show_a_secret(demo_project):
    """pydantic puts the whole input in its messages; the loaders must not."""
    fake_credential = "pass-SECRET-4b1d"  # recognisable, never a real one
    entry = {
        "account": "myorg-acct",
        "user": "",
        "private_key_file": "/keys/rsa_key.p8",
        "private_key_file_pwd": fake_credential,
    }
    loader = {"credentials": {"snowflake": entry}}
    with pytest.raises(session_config.SessionConfigError) as error:
        session_config.load_credentials(loader, "snowflake")
    assert "credentials.snowflake.user" in str(error.value)
    assert "SNOWFLAKE_USER" in str(error.value)
    # An unknown key (which could hold a secret), then two secrets at once.
    for wrong, expected in (
        ({"pasword": fake_credential}, "credentials.snowflake.pasword"),
        ({"password": fake_credential}, "exactly one way to authenticate"),
    ):
        loader["credentials"]["snowflake"] = {**entry, "user": "ME", **wrong}
        with pytest.raises(session_config.SessionConfigError) as error:
            session_config.load_credentials(loader, "snowflake")
        message = str(error.value)
        assert expected in message
        assert fake_credential not in message and "input_value" not in message
        assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "did you mean `password`" in str(
        pytest.raises(
            session_config.SessionConfigError,
            session_config.load_credentials,
            {"credentials": {"snowflake": {**entry, "pasword": "x"}}},
            "snowflake",
        ).value
    )
    # The session block itself: a wrong type names the key and the file.
    block = project_config_loader(demo_project, "snowflake")["snowflake"]["snowflake"]
    with pytest.raises(session_config.SessionConfigError, match="warehouse"):
        session_config.load_session_config({**block["session"], "warehouse": ["WH"]})


def test_kedro_snowflake_check_offline_passes_here_and_fails_on_a_tampered_copy(
    demo_project, project_copy
):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    command = [sys.executable, "-m", "kedro", "snowflake", "check"]
    result = subprocess.run(
        command,
        cwd=demo_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The demo's sql/ still holds the values only the user knows.
    assert "placeholders are left in sql/" in result.stdout
    assert "sql/03_api_integration.sql: <MLFLOW_GATEWAY_URL>" in result.stderr
    assert "All checks passed." not in result.stdout

    conf = project_copy / "conf" / "base" / "snowflake.yml"
    text = conf.read_text(encoding="utf-8")
    text = re.sub(r"(run_update:\s*\S+)", r"\1_renamed", text)
    # The mlflow block is also validated by the tracking code's schema.
    text = re.sub(r"(?m)^(\s*on_failure:).*$", r"\1 shrug", text)
    conf.write_text(text, encoding="utf-8")
    result = subprocess.run(
        command,
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "snowflake.mlflow.functions.run_update" in result.stderr
    assert "MLFLOW_RUN_UPDATE_RENAMED" in result.stderr
    assert "snowflake.mlflow.on_failure" in result.stderr


def test_no_placeholders_left_says_all_checks_passed(project_copy, monkeypatch):
    for script in (project_copy / "sql").glob("*.sql"):
        text = script.read_text(encoding="utf-8")
        text = re.sub(
            r"<MLFLOW_GATEWAY_URL>",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            text,
        )
        text = re.sub(r"<BUCKET>", "my-bucket", text)
        text = re.sub(r"<MLFLOW_HOST>", "mlflow.example.com", text)
        text = re.sub(
            r"<AWS_(API|STORAGE)_ROLE_ARN>", "arn:aws:iam::123456789012:role/r", text
        )
        script.write_text(text, encoding="utf-8")
    result = run_check(project_copy, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "All checks passed." in result.output
    assert "Warning" not in result.output


def test_a_role_without_execute_task_is_told_the_grant_of_sql_07(report):
    objects, grants = show_rows(report)
    (role,) = grants
    grants[role] = [g for g in grants[role] if g["privilege"] != "EXECUTE TASK"]
    rows = by_object(
        online(report, FakeSnowflakeServer(objects=objects, grants=grants))
    )
    row = rows[("EXECUTE TASK", "EXECUTE TASK on the account for role MLOPS_DEMO_ROLE")]
    assert row.found == "no grant"
    assert row.fix == (
        "GRANT EXECUTE TASK ON ACCOUNT TO ROLE MLOPS_DEMO_ROLE (sql/07_task_graph.sql)"
    )
    assert rows[("CREATE TASK", "CREATE TASK on DEMO.DEMO for role MLOPS_DEMO_ROLE")].ok


def test_check_refuses_the_mlflow_registry_through_external_functions(
    project_copy, monkeypatch
):
    """conf/snowflake tracks through the external functions: a registry block whose
    target is MLflow's registry cannot work there (its reads are GET only)."""
    conf = project_copy / "conf" / "snowflake" / "snowflake.yml"
    text = conf.read_text(encoding="utf-8")
    assert "  registry: null\n" in text
    conf.write_text(
        text.replace("  registry: null\n", "  registry:\n    model_name: price\n"),
        encoding="utf-8",
    )
    result = run_check(project_copy, monkeypatch)
    assert result.exit_code == 1
    assert (
        "snowflake.registry.target is mlflow but snowflake.mlflow.transport is "
        "external_functions in env snowflake" in result.output
    )
    assert "Fix: transport: external_access (sql/80) in this env" in result.output
