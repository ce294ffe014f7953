"""Offline validation: conf/ and sql/ agree, and a tampered copy is caught clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kedro_snowflake_mlops.objects.conf_check import check_project
from kedro_snowflake_mlops.objects.inventory import (
    Inventory,
    SqlSyntaxError,
    read_script,
    split_statements,
)
from kedro_snowflake_mlops.objects.report import check_sql


@pytest.fixture
def copy(project_copy: Path) -> Path:
    """The demo project, copied so a test can break it."""
    return project_copy


def problems(project: Path) -> list[str]:
    return [str(finding) for finding in check_project(project).findings]


def edit(path: Path, pattern: str, replacement: str) -> None:
    """Change a file; fail loudly if the pattern is not there (the test would be void)."""
    text = path.read_text(encoding="utf-8")
    changed, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count, f"{pattern!r} not found in {path}"
    path.write_text(changed, encoding="utf-8")


def creating_script(project: Path, kind: str, name_part: str) -> Path:
    """The sql/ script whose CREATE <kind> line names the object."""
    for script in sorted((project / "sql").glob("*.sql")):
        for line in script.read_text(encoding="utf-8").splitlines():
            if (
                re.match(rf"\s*CREATE\b.*\b{kind}\b", line, re.I)
                and name_part in line.upper()
            ):
                return script
    raise AssertionError(f"no script creates {kind} {name_part}")


def test_generated_project_is_consistent(demo_project):
    report = check_project(demo_project)
    assert report.findings == []
    functions = [o for o in report.expected if o.kind == "EXTERNAL FUNCTION"]
    # The seed's five, and the finalizer's tag function (sql/07).
    assert len(functions) == 6
    assert all(o.script.startswith("sql/") for o in report.expected)
    table = report.inventory_table()
    for obj in report.expected:
        assert obj.name in table


def test_renamed_function_in_conf_is_reported_with_the_name_sql_creates(copy):
    edit(copy / "conf/base/snowflake.yml", r"^(\s*run_create:\s*\S+)$", r"\1_v2")
    found = problems(copy)
    assert len(found) == 1
    message = found[0]
    assert "snowflake.mlflow.functions.run_create" in message
    assert "MLFLOW_RUN_CREATE_V2" in message
    assert "no script in sql/ creates it" in message
    assert "creates" in message and "MLFLOW_RUN_CREATE instead" in message


def test_missing_mlflow_stage_is_reported(copy):
    script = creating_script(copy, "STAGE", "MLFLOW_STAGE")
    edit(script, r"^\s*CREATE\b.*\bSTAGE\b.*MLFLOW_STAGE.*$", "-- removed by the test")
    found = problems(copy)
    assert any("snowflake.mlflow.stage" in m and "MLFLOW_STAGE" in m for m in found), (
        found
    )


def test_renamed_translator_breaks_the_names_contract(copy):
    script = creating_script(copy, "EXTERNAL FUNCTION", "RUN_UPDATE")
    edit(
        script,
        r"(REQUEST_TRANSLATOR\s*=\s*\S*run_update_request_translator)",
        r"\1_old",
    )
    found = problems(copy)
    assert any(
        "REQUEST_TRANSLATOR" in m and "RUN_UPDATE_REQUEST_TRANSLATOR_OLD" in m
        for m in found
    ), found


def test_wrong_signature_is_reported(copy):
    script = creating_script(copy, "EXTERNAL FUNCTION", "RUN_LOG_METRIC")
    edit(script, r"(run_log_metric\(run_id) VARCHAR", r"\1 NUMBER")
    found = problems(copy)
    assert any("MLFLOW_RUN_LOG_METRIC takes (NUMBER" in m for m in found), found


def test_create_header_split_over_two_lines_is_reported(copy):
    script = creating_script(copy, "EXTERNAL FUNCTION", "RUN_UPDATE")
    edit(
        script,
        r"CREATE OR REPLACE EXTERNAL FUNCTION (\S*run_update\()",
        r"CREATE OR REPLACE\nEXTERNAL FUNCTION \1",
    )
    found = problems(copy)
    assert any("keep `CREATE" in m and script.name in m for m in found), found


def test_unterminated_quote_is_reported(copy):
    (copy / "sql" / "50_extra.sql").write_text("SELECT 'oops;\n", encoding="utf-8")
    found = problems(copy)
    assert any(
        "sql/50_extra.sql" in m and "unterminated ' quote" in m for m in found
    ), found


def test_teardown_must_drop_what_setup_creates(copy):
    (copy / "sql" / "50_extra.sql").write_text(
        "CREATE WAREHOUSE IF NOT EXISTS FORGOTTEN_WH;\n"
        "CREATE TEMPORARY TABLE SCRATCH (A INT);\n",  # gone with the session
        encoding="utf-8",
    )
    found = problems(copy)
    assert any("FORGOTTEN_WH" in m and "does not drop it" in m for m in found), found
    assert not any("SCRATCH" in m for m in found), found


def both_checks(project: Path) -> tuple[list[str], list[str]]:
    """Findings of the check after `kedro new` (sql/ alone) and of the whole check."""
    return (
        [str(finding) for finding in check_sql(project).findings],
        problems(project),
    )


def test_an_object_created_by_several_scripts_is_reported_by_both_checks(copy):
    """The data stage (named by no key of conf/) created again by a later script."""
    (copy / "sql" / "50_extra.sql").write_text(
        "CREATE STAGE IF NOT EXISTS DEMO.DEMO.DEMO_DATA_STAGE;\n", encoding="utf-8"
    )
    for found in both_checks(copy):
        assert any(
            "STAGE DEMO.DEMO.DEMO_DATA_STAGE is created by several scripts" in m
            and "50_extra.sql" in m
            for m in found
        ), found


def test_objects_only_sql_names_get_every_check_in_both(copy):
    """An external function that no key of conf/ names still needs its integration and
    translators: the whole check finds what the check after `kedro new` finds."""
    (copy / "sql" / "50_extra.sql").write_text(
        "CREATE OR REPLACE EXTERNAL FUNCTION DEMO.DEMO.EXTRA_LOOKUP(NAME VARCHAR)\n"
        "  RETURNS VARIANT\n"
        "  API_INTEGRATION = MISSING_INTEGRATION\n"
        "  REQUEST_TRANSLATOR = DEMO.DEMO.EXTRA_LOOKUP_REQUEST_TRANSLATOR\n"
        "  RESPONSE_TRANSLATOR = DEMO.DEMO.EXTRA_LOOKUP_RESPONSE_TRANSLATOR\n"
        "  AS 'https://example.com/extra';\n"
        "DROP FUNCTION IF EXISTS DEMO.DEMO.EXTRA_LOOKUP(VARCHAR);\n",
        encoding="utf-8",
    )
    after_generation, whole = both_checks(copy)
    assert after_generation, "the broken function went unnoticed"
    assert set(after_generation) <= set(whole)
    missing = [m for m in whole if "MISSING_INTEGRATION" in m]
    assert len(missing) == 1, whole
    assert "no script in sql/ creates it" in missing[0]
    assert "make the name in that statement and the CREATE statement" in missing[0]
    assert any("EXTRA_LOOKUP_REQUEST_TRANSLATOR" in m for m in whole), whole


def test_conf_that_kedro_cannot_read_is_reported(copy):
    (copy / "conf" / "base" / "snowflake_extra.yml").write_text(
        "a: [unclosed\n", encoding="utf-8"
    )
    found = problems(copy)
    assert any(
        "conf/ (env snowflake)" in m and "snowflake_extra.yml" in m for m in found
    ), found


def test_an_unknown_section_under_snowflake_is_named(copy):
    edit(copy / "conf/base/snowflake.yml", r"^  mlflow:$", "  mlfow:")
    found = problems(copy)
    assert any(
        "snowflake.mlfow is not a known section (did you mean `mlflow`?)" in m
        for m in found
    ), found


def test_placeholders_in_statements_are_listed_but_not_in_comments(copy, demo_project):
    report = check_project(demo_project)
    listed = [str(placeholder) for placeholder in report.placeholders]
    assert "sql/03_api_integration.sql: <MLFLOW_GATEWAY_URL>" in listed
    script = copy / "sql" / "50_extra.sql"
    script.write_text(
        "-- <ONLY_IN_A_COMMENT>\nSELECT '<IN_A_STATEMENT>';\n", encoding="utf-8"
    )
    placeholders = check_project(copy).placeholders
    assert ("50_extra.sql", "<IN_A_STATEMENT>") in placeholders
    assert not any("ONLY_IN_A_COMMENT" in p.name for p in placeholders)


def test_splitter_respects_quotes_comments_and_dollar_bodies():
    sql = (
        "-- a comment; not a statement\n"
        "SELECT 'it''s; fine', 'back\\'slash;' FROM t; /* block; */\n"
        "CREATE FUNCTION f(event OBJECT) RETURNS OBJECT LANGUAGE JAVASCRIPT AS $$\n"
        "  var a = 'x;y'; // js comment; here\n"
        "  return {};\n"
        "$$;\n"
        'SELECT "odd;name" FROM t\n'
    )
    statements = split_statements(sql, "t.sql")
    assert [s.line for s in statements] == [2, 3, 7]
    assert statements[1].text.endswith("$$")
    assert "return {};" in statements[1].text


def test_splitter_reports_unterminated_dollar_body():
    with pytest.raises(SqlSyntaxError, match=r"sql/t.sql:2: unterminated \$\$ body"):
        split_statements("SELECT 1;\nCREATE FUNCTION f() AS $$ body", "t.sql")


def test_headers_are_qualified_like_snowflake_would():
    inventory = Inventory()
    read_script(
        inventory,
        "t.sql",
        "CREATE DATABASE IF NOT EXISTS db1;\n"
        "CREATE OR REPLACE SCHEMA s1;\n"
        "CREATE STAGE IF NOT EXISTS st URL = 's3://b/p/' STORAGE_INTEGRATION = si;\n"
        "USE SCHEMA other;\n"
        'CREATE OR REPLACE SECURE EXTERNAL FUNCTION "Quoted"(a VARCHAR(10), b NUMBER(38, 0))\n'
        "  RETURNS VARIANT API_INTEGRATION = ai AS 'https://x.example/p';\n"
        'DROP FUNCTION IF EXISTS db1.other."Quoted"(VARCHAR, NUMBER);\n',
    )
    created = {(o.kind, o.name) for o in inventory.created}
    assert created == {
        ("DATABASE", "DB1"),
        ("SCHEMA", "DB1.S1"),
        ("STAGE", "DB1.S1.ST"),
        ("EXTERNAL FUNCTION", "DB1.OTHER.Quoted"),
    }
    function = inventory.created[-1]
    assert function.arguments == [("A", "VARCHAR(10)"), ("B", "NUMBER(38, 0)")]
    assert function.properties["API_INTEGRATION"] == "ai"
    assert function.properties["AS"] == "https://x.example/p"
    assert [(o.kind, o.name) for o in inventory.dropped] == [
        ("FUNCTION", "DB1.OTHER.Quoted")
    ]
