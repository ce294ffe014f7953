"""`kedro snowflake setup`: the dry run prints sql/ in order; --apply runs it.

No Snowflake account exists where these tests run, so --apply is exercised against a
fake DB-API connection that records the statements (and can fail on one). That is the
only fake here: the scripts, the statement splitter and the conf/ loading are real.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from {{ cookiecutter.python_package }}.snowflake import (
    setup_command,
)
from {{ cookiecutter.python_package }}.snowflake.setup_command import (
    PLACEHOLDER,
    read_scripts,
    setup,
    split_script,
)

PROJECT_PATH = Path(__file__).resolve().parent.parent
# A recognisable fake credential: the tests check it never appears in any output.
FAKE_CREDENTIAL = "not-a-real-credential-7f3a"


class FakeConnection:
    """Records what would run on Snowflake; raises on a statement matching fail_on."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.executed: list[str] = []
        self.closed = False

    def cursor(self) -> FakeConnection:
        return self

    def execute(self, statement: str) -> None:
        if self.fail_on and re.search(self.fail_on, statement):
            raise RuntimeError("002003 (02000): SQL compilation error: it failed")
        self.executed.append(statement)

    def fetchall(self) -> list[tuple]:
        return [("property", "String", "value", "")]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of sql/ with every placeholder filled in, as a user would do."""
    shutil.copytree(PROJECT_PATH / "sql", tmp_path / "sql")
    for script in (tmp_path / "sql").glob("*.sql"):
        text = script.read_text(encoding="utf-8")
        script.write_text(PLACEHOLDER.sub("filled-in", text), encoding="utf-8")
    return tmp_path


def invoke(project: Path, *args: str):
    return CliRunner().invoke(
        setup, list(args), obj=SimpleNamespace(project_path=project)
    )


def expected_statements(project: Path, last_script: int) -> list[str]:
    return [
        statement
        for script in read_scripts(project)
        if script.number <= last_script
        for statement in script.statements
    ]


def test_dry_run_lists_and_prints_every_script_in_order():
    result = invoke(PROJECT_PATH)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (PROJECT_PATH / "sql").glob("*.sql"))
    listed = re.findall(r"^  sql/(\S+\.sql)", result.output, re.MULTILINE)
    assert listed == names
    printed = re.findall(
        r"^-- ===== sql/(\S+\.sql) =====$", result.output, re.MULTILINE
    )
    assert printed == names
    for name in names:
        assert (PROJECT_PATH / "sql" / name).read_text().strip() in result.output


def test_every_script_splits_into_statements():
    for script in read_scripts(PROJECT_PATH):
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


def test_apply_runs_the_setup_scripts_in_order(project, monkeypatch):
    connection = FakeConnection()
    monkeypatch.setattr(setup_command, "connect", lambda *_: connection)
    result = invoke(project, "--apply")
    assert result.exit_code == 0, result.output
    assert connection.executed == expected_statements(project, 89)
    assert not any("DROP " in s for s in connection.executed), "teardown must not run"
    assert connection.closed


def test_apply_with_smoke_test_runs_it_last(project, monkeypatch):
    connection = FakeConnection()
    monkeypatch.setattr(setup_command, "connect", lambda *_: connection)
    result = invoke(project, "--apply", "--with-smoke-test")
    assert result.exit_code == 0, result.output
    assert connection.executed == expected_statements(project, 98)
    assert "run_update" in connection.executed[-1]


def test_apply_stops_at_the_first_error_naming_script_and_statement(
    project, monkeypatch
):
    connection = FakeConnection(fail_on=r"^CREATE API INTEGRATION")
    monkeypatch.setattr(setup_command, "connect", lambda *_: connection)
    result = invoke(project, "--apply")
    assert result.exit_code == 1
    assert re.search(
        r"sql/03_api_integration\.sql, statement \d+ of \d+ failed: 002003",
        result.output,
    )
    assert "statement: CREATE API INTEGRATION" in result.output
    assert not any("EXTERNAL FUNCTION" in s for s in connection.executed)
    assert connection.closed


def test_connect_uses_the_env_vars_and_never_prints_them(monkeypatch):
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "myorg-myaccount")
    monkeypatch.setenv("SNOWFLAKE_USER", "JANE")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", FAKE_CREDENTIAL)
    for name in ("SNOWFLAKE_TOKEN", "SNOWFLAKE_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    seen = {}

    def fake_connect(**parameters):
        seen.update(parameters)
        raise RuntimeError("250001: Could not connect to Snowflake backend")

    monkeypatch.setattr("snowflake.connector.connect", fake_connect)
    with pytest.raises(
        Exception, match="could not connect to Snowflake: 250001"
    ) as error:
        setup_command.connect(PROJECT_PATH, "snowflake")
    assert seen["account"] == "myorg-myaccount" and seen["password"] == FAKE_CREDENTIAL
    # The project's role and database do not exist yet on a fresh account.
    assert not {"role", "database", "schema", "warehouse"} & set(seen)
    assert FAKE_CREDENTIAL not in str(error.value.format_message())
