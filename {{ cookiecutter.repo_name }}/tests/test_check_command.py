"""`kedro snowflake check`: offline through the real command, online against a fake.

The online check talks to Snowflake, and there is no Snowflake account here; local
testing cannot answer SHOW commands, and fakesnow ignores their LIKE. So these tests use
a FAKE DB-API connection that answers SHOW ... LIKE and SHOW GRANTS from a fixture
inventory (built from the project's own expected objects, then broken on purpose). It
evaluates LIKE patterns the way Snowflake does (`_` and `%` are wildcards) and records
every statement, so the tests also prove that no value is formatted into the SQL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.python_package }}.snowflake import (
    check_command,
    session,
)
from {{ cookiecutter.python_package }}.snowflake.online_check import (
    ARTIFACT_STAGING_KEY,
    GRANTS_QUERY,
    SHOW_QUERIES,
    check_online,
    table,
)
from {{ cookiecutter.python_package }}.snowflake.validation import (
    check_project,
)

PROJECT = Path(__file__).resolve().parents[1]


def like(pattern: str, value: str) -> bool:
    """Snowflake's case-insensitive LIKE of SHOW commands."""
    regex = "".join(
        ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, re.IGNORECASE) is not None


class FakeCursor:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.description: list[tuple] = []
        self.rows: list[tuple] = []

    def execute(self, sql: str, params: tuple = ()) -> None:
        self.connection.statements.append((sql, params))
        rows = self.connection.answer(sql, params)
        columns = sorted({key for row in rows for key in row})
        self.description = [(column.upper(),) for column in columns]
        self.rows = [tuple(row.get(column) for column in columns) for row in rows]

    def fetchall(self) -> list[tuple]:
        return self.rows

    def close(self) -> None:
        pass


class FakeConnection:
    """Answers SHOW <things> LIKE %s and SHOW GRANTS TO ROLE IDENTIFIER(%s)."""

    def __init__(self, objects: dict[str, list[dict]], grants: dict[str, list[dict]]):
        self.objects = objects  # "ROLES" -> rows as SHOW would return them
        self.grants = grants  # role -> rows of SHOW GRANTS TO ROLE
        self.statements: list[tuple[str, tuple]] = []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def answer(self, sql: str, params: tuple) -> list[dict]:
        grants = re.fullmatch(r"SHOW GRANTS TO ROLE IDENTIFIER\(%s\)", sql)
        if grants:
            return self.grants.get(params[0], [])
        show = re.fullmatch(r"SHOW (?:USER )?(\w+) LIKE %s(?: IN ACCOUNT)?", sql)
        assert show, f"the fake does not know {sql!r}"
        return [
            row for row in self.objects.get(show[1], []) if like(params[0], row["name"])
        ]


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
            row["type"] = (
                "EXTERNAL_API" if obj.kind.startswith("API") else "EXTERNAL_STAGE"
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
    return objects, {role: grants}


@pytest.fixture
def report():
    return check_project(PROJECT)


def by_object(rows):
    return {(row.object, row.expected): row for row in rows}


def lookup_found(function: str, name: str) -> dict:
    return {"experiment_id": "42", "name": name}


def test_healthy_account_passes_and_binds_every_value(report):
    objects, grants = show_rows(report)
    connection = FakeConnection(objects, grants)
    rows = check_online(report, connection, lookup_found, "demo", "db.s.fn")
    assert all(row.ok for row in rows), table(rows)
    # Names travel only as bound parameters: every statement is one of the fixed
    # templates, whatever the project's names are.
    templates = {*SHOW_QUERIES.values(), GRANTS_QUERY}
    for sql, params in connection.statements:
        assert sql in templates
        assert len(params) == 1


def test_missing_object_names_the_script_that_creates_it(report):
    objects, grants = show_rows(report)
    function = next(o for o in report.expected if o.name.endswith("MLFLOW_RUN_CREATE"))
    objects["FUNCTIONS"] = [
        r for r in objects["FUNCTIONS"] if r["name"] != "MLFLOW_RUN_CREATE"
    ]
    # A look-alike that SHOW ... LIKE returns (`_` is a wildcard) must not count.
    objects["FUNCTIONS"].append(
        {
            "name": "MLFLOWXRUNXCREATE",
            "catalog_name": function.name.split(".")[0],
            "schema_name": function.name.split(".")[1],
            "is_external_function": "Y",
        }
    )
    rows = check_online(
        report, FakeConnection(objects, grants), lookup_found, "demo", "db.s.fn"
    )
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
    rows = check_online(
        report, FakeConnection(objects, grants), lookup_found, "demo", "db.s.fn"
    )
    row = by_object(rows)[(stage.name, "external stage")]
    assert row.found == "internal stage"
    assert "drop the internal stage" in row.fix and stage.script in row.fix


def test_missing_privilege_is_reported(report):
    objects, grants = show_rows(report)
    role = next(iter(grants))
    warehouse = next(o for o in report.expected if o.kind == "WAREHOUSE")
    grants[role] = [g for g in grants[role] if g["granted_on"] != "WAREHOUSE"]
    rows = check_online(
        report, FakeConnection(objects, grants), lookup_found, "demo", "db.s.fn"
    )
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
    rows = check_online(
        report, FakeConnection(objects, grants), lookup_found, "demo", "db.s.fn"
    )
    row = by_object(rows)[(staging.name, f"READ, WRITE for role {role}")]
    assert not row.ok and row.found == "READ"
    assert row.fix.startswith(f"GRANT WRITE ON STAGE {staging.name} TO ROLE {role}")


def test_experiment_lookup_null_and_error(report):
    objects, grants = show_rows(report)

    def lookup_none(function, name):
        return None

    def lookup_fails(function, name):
        raise RuntimeError("Request failed for external function: 403 Forbidden\nmore")

    rows = check_online(
        report, FakeConnection(objects, grants), lookup_none, "demo", "db.s.fn"
    )
    assert rows[-1].found == "NULL (no such experiment)"
    assert "mlflow experiments create -n 'demo'" in rows[-1].fix
    rows = check_online(
        report, FakeConnection(objects, grants), lookup_fails, "demo", "db.s.fn"
    )
    assert (
        rows[-1].found == "error: Request failed for external function: 403 Forbidden"
    )


class FakeSession:
    """Stands in for the Snowpark session `run_online` opens (see the module docstring)."""

    def __init__(self, connection):
        self.connection = connection
        self.closed = False

    def close(self):
        self.closed = True


def test_online_command_exits_non_zero_and_prints_the_table(report, monkeypatch):
    objects, grants = show_rows(report)
    objects["WAREHOUSES"] = []
    fake = FakeSession(FakeConnection(objects, grants))
    monkeypatch.setattr(session, "create_session", lambda config: fake)
    monkeypatch.setattr(check_command, "snowpark_lookup", lambda s: lookup_found)
    for name, value in {
        "SNOWFLAKE_ACCOUNT": "myorg-acct",
        "SNOWFLAKE_USER": "ME",
        "SNOWFLAKE_PASSWORD": "not-a-real-secret",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(PROJECT)
    result = CliRunner().invoke(
        check_command.check, ["--online"], obj=None, catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    assert "OBJECT" in result.output and "FIX" in result.output
    warehouse = next(o for o in report.expected if o.kind == "WAREHOUSE")
    assert re.search(
        rf"{warehouse.name}\s+warehouse\s+missing\s+run {warehouse.script}",
        result.output,
    )
    assert "not-a-real-secret" not in result.output
    assert fake.closed


def test_online_command_checks_the_names_the_env_vars_choose(report, monkeypatch):
    """SNOWFLAKE_ROLE/WAREHOUSE/DATABASE/SCHEMA override conf's defaults: the online
    check must look for the objects the connection uses, not the defaults."""
    overrides = {
        "ROLE": "OTHER_ROLE",
        "WAREHOUSE": "OTHER_WH",
        "DATABASE": "OTHER_DB",
        "SCHEMA": "OTHER_DB.OTHER_SCHEMA",
    }
    objects, grants = show_rows(report)
    (role,) = grants
    defaults = {o.kind: o.name for o in report.expected if o.kind in overrides}
    objects["ROLES"] = [{"name": "OTHER_ROLE"}]
    objects["WAREHOUSES"] = [{"name": "OTHER_WH"}]
    objects["DATABASES"] = [{"name": "OTHER_DB"}]
    objects["SCHEMAS"] = [{"name": "OTHER_SCHEMA", "database_name": "OTHER_DB"}]
    renamed = {defaults[kind]: name for kind, name in overrides.items()}
    grants = {
        "OTHER_ROLE": [
            {**grant, "name": renamed.get(grant["name"], grant["name"])}
            for grant in grants[role]
        ]
    }
    fake = FakeSession(FakeConnection(objects, grants))
    monkeypatch.setattr(session, "create_session", lambda config: fake)
    monkeypatch.setattr(check_command, "snowpark_lookup", lambda s: lookup_found)
    for name, value in {
        "SNOWFLAKE_ACCOUNT": "myorg-acct",
        "SNOWFLAKE_USER": "ME",
        "SNOWFLAKE_PASSWORD": "not-a-real-secret",
        "SNOWFLAKE_ROLE": "other_role",
        "SNOWFLAKE_WAREHOUSE": "other_wh",
        "SNOWFLAKE_DATABASE": "other_db",
        "SNOWFLAKE_SCHEMA": "other_schema",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(PROJECT)
    result = CliRunner().invoke(
        check_command.check, ["--online"], obj=None, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    for kind, name in overrides.items():
        assert re.search(
            rf"^{re.escape(name)}\s+{kind.lower()}\s+ok", result.output, re.M
        )
        assert not re.search(rf"^{re.escape(defaults[kind])}\s", result.output, re.M)
    assert "USAGE for role OTHER_ROLE" in result.output


def test_online_command_without_credentials_names_the_variable(monkeypatch):
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(session, "create_session", pytest.fail)
    monkeypatch.chdir(PROJECT)
    result = CliRunner().invoke(check_command.check, ["--online"], obj=None)
    assert result.exit_code != 0
    assert "SNOWFLAKE_ACCOUNT" in result.output


def test_session_errors_name_the_field_and_never_show_a_secret():
    """pydantic puts the whole input in its messages; load_session_config must not."""
    fake_credential = "pass-SECRET-4b1d"  # recognisable, never a real one
    block = {
        "mode": "snowflake",
        "account": "myorg-acct",
        "user": "",
        "database": "DB",
        "schema": "S",
        "private_key_file": "/keys/rsa_key.p8",
        "private_key_file_pwd": fake_credential,
    }
    with pytest.raises(session.SessionConfigError) as error:
        session.load_session_config(block)
    assert "snowflake.session.user" in str(error.value)
    assert "SNOWFLAKE_USER" in str(error.value)
    # A type error and an unknown key (which could hold a secret) are reported too.
    with pytest.raises(session.SessionConfigError) as error:
        session.load_session_config(
            {**block, "user": "ME", "warehouse": ["WH"], "pasword": fake_credential}
        )
    message = str(error.value)
    assert "snowflake.session.warehouse" in message
    assert "SNOWFLAKE_WAREHOUSE" in message
    assert "snowflake.session.pasword" in message
    assert fake_credential not in message and "input_value" not in message
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_kedro_snowflake_check_offline_passes_here_and_fails_on_a_tampered_copy(
    tmp_path,
):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    command = [sys.executable, "-m", "kedro", "snowflake", "check"]
    result = subprocess.run(
        command,
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed." in result.stdout

    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT,
        copy,
        ignore=shutil.ignore_patterns("data", "mlflow.db", "mlruns", ".*cache*"),
    )
    conf = copy / "conf" / "base" / "snowflake.yml"
    text = conf.read_text(encoding="utf-8")
    text = re.sub(r"(run_update:\s*\S+)", r"\1_renamed", text)
    # The mlflow block is also validated by the tracking code's schema.
    text = re.sub(r"(?m)^(\s*on_failure:).*$", r"\1 shrug", text)
    conf.write_text(text, encoding="utf-8")
    result = subprocess.run(
        command,
        cwd=copy,
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
