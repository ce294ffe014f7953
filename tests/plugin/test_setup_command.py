"""`kedro snowflake setup`: the dry run prints sql/ in order; --apply runs it.

No Snowflake account exists where these tests run. --apply runs through the REAL
snowflake-connector, whose HTTP requests reach FakeSnowflakeServer
(tests/support/snowflake_wire.py): it records each statement, can refuse one, and knows
which integrations already exist. The scripts, the splitter, the conf/ loading and the
connector are real.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from support.snowflake_wire import FakeSnowflakeServer, SqlError

from kedro_snowflake_mlops.cli import setup as setup_command
from kedro_snowflake_mlops.cli.setup import read_scripts, setup, split_script
from kedro_snowflake_mlops.objects.report import PLACEHOLDER

# A recognisable fake credential: the tests check it never appears in any output.
FAKE_CREDENTIAL = "not-a-real-credential-7f3a"
API_INTEGRATION = "DEMO_DEMO_MLFLOW_API_INTEGRATION"


@pytest.fixture
def project(project_copy: Path, monkeypatch) -> Path:
    """The demo with every placeholder filled in, as a user would do, and its
    credentials in the environment."""
    for script in (project_copy / "sql").glob("*.sql"):
        text = script.read_text(encoding="utf-8")
        script.write_text(PLACEHOLDER.sub("filled-in", text), encoding="utf-8")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "myorg-myaccount")
    monkeypatch.setenv("SNOWFLAKE_USER", "JANE")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", FAKE_CREDENTIAL)
    for name in ("SNOWFLAKE_TOKEN", "SNOWFLAKE_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return project_copy


def invoke(project: Path, *args: str):
    return CliRunner().invoke(
        setup, list(args), obj=SimpleNamespace(project_path=project)
    )


def expected_statements(project: Path, last_script: int) -> list[str]:
    """The scripts up to last_script, without the optional ones (80-89)."""
    return [
        statement
        for script in read_scripts(project)
        if script.number <= last_script and not script.is_optional
        for statement in script.statements
    ]


def executed(server: FakeSnowflakeServer) -> list[str]:
    """The scripts' statements the server received (not the checks setup adds)."""
    return [
        sql
        for sql, _ in server.queries
        if sql != "SHOW INTEGRATIONS" and "cancel_all_queries" not in sql
    ]


def test_dry_run_lists_and_prints_every_script_in_order(demo_project):
    result = invoke(demo_project)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (demo_project / "sql").glob("*.sql"))
    listed = re.findall(r"^  sql/(\S+\.sql)", result.output, re.MULTILINE)
    assert listed == names
    printed = re.findall(
        r"^-- ===== sql/(\S+\.sql) =====$", result.output, re.MULTILINE
    )
    assert printed == names
    for name in names:
        assert (demo_project / "sql" / name).read_text().strip() in result.output


def test_every_script_splits_into_statements(demo_project):
    for script in read_scripts(demo_project):
        assert script.statements, script.name
        assert all(s.strip() for s in split_script(script.path.read_text()))


def test_apply_refuses_placeholders_before_connecting(project, monkeypatch):
    script = project / "sql" / "03_api_integration.sql"
    script.write_text(script.read_text() + "\n-- <IN_A_COMMENT> is fine\n")
    script.write_text(script.read_text() + "SELECT '<STILL_HERE>';\n")
    monkeypatch.setattr(
        setup_command, "connect", lambda *_: pytest.fail("must not connect")
    )
    result = invoke(project, "--apply")
    assert result.exit_code == 1
    assert "sql/03_api_integration.sql: <STILL_HERE>" in result.output
    assert "IN_A_COMMENT" not in result.output


def test_apply_runs_the_setup_scripts_in_order(project):
    server = FakeSnowflakeServer()
    with server.serving():
        result = invoke(project, "--apply")
    assert result.exit_code == 0, result.output
    assert executed(server) == expected_statements(project, 89)
    assert not any("DROP " in s for s in executed(server)), "teardown must not run"
    assert "warning" not in result.output  # no integration existed yet


def test_apply_with_smoke_test_runs_it_last(project):
    server = FakeSnowflakeServer()
    with server.serving():
        result = invoke(project, "--apply", "--with-smoke-test")
    assert result.exit_code == 0, result.output
    assert executed(server) == expected_statements(project, 98)
    assert "run_update" in executed(server)[-1]


def test_apply_stops_at_the_first_error_naming_script_and_statement(project):
    def refuse_integrations(sql: str, values: list) -> list[dict] | None:
        if sql.startswith("CREATE API INTEGRATION"):
            raise SqlError("SQL compilation error: it failed")
        return None  # the server's own answer

    server = FakeSnowflakeServer(on_statement=refuse_integrations)
    with server.serving():
        result = invoke(project, "--apply")
    assert result.exit_code == 1
    assert re.search(
        r"sql/03_api_integration\.sql, statement \d+ of \d+ failed: 001003",
        result.output,
    )
    assert "statement: CREATE API INTEGRATION" in result.output
    assert not any("EXTERNAL FUNCTION" in s for s in executed(server))


def test_an_existing_integration_is_named_with_the_alter_that_updates_it(project):
    """IF NOT EXISTS keeps a stale role ARN or gateway URL: say which ALTER applies the
    script's values (the existence check binds nothing: SHOW without LIKE, matched
    by name here)."""
    server = FakeSnowflakeServer(
        objects={"INTEGRATIONS": [{"name": API_INTEGRATION, "type": "EXTERNAL_API"}]}
    )
    with server.serving():
        result = invoke(project, "--apply")
    assert result.exit_code == 0, result.output
    assert ("SHOW INTEGRATIONS", []) in server.queries
    warning = result.output[result.output.index("already exists") :]
    assert f"api integration {API_INTEGRATION} already exists" in result.output
    assert re.search(
        rf"ALTER API INTEGRATION {API_INTEGRATION} SET API_AWS_ROLE_ARN = 'filled-in' "
        r"API_ALLOWED_PREFIXES = \('filled-in'\) ENABLED = TRUE COMMENT = '[^']*';",
        warning,
    )
    # The storage integration did not exist: no warning for it.
    assert result.output.count("already exists") == 1


def test_connect_uses_the_credentials_and_never_prints_them(project):
    """Who connects comes from conf/snowflake/credentials.yml (the environment); the
    project's role, database and warehouse do not exist yet on a fresh account."""
    logins: list[tuple[str, dict]] = []
    server = FakeSnowflakeServer()
    fetch = server.fetch

    def refusing_login(url, data):
        if "login-request" in url:
            logins.append((url, json.loads(data)["data"]))
            return {"success": False, "code": "250001", "message": "Could not connect"}
        return fetch(url, data)

    server.fetch = refusing_login
    with server.serving():
        result = invoke(project, "--apply")
    assert result.exit_code == 1
    assert "could not connect to Snowflake" in result.output
    [(url, login)] = logins
    assert login["ACCOUNT_NAME"] == "myorg-myaccount" and login["LOGIN_NAME"] == "JANE"
    assert login["PASSWORD"] == FAKE_CREDENTIAL
    for name in ("roleName", "databaseName", "schemaName", "warehouse"):
        assert name not in url
    assert FAKE_CREDENTIAL not in result.output
