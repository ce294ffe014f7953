"""`kedro snowflake setup [--apply]`: show, or run, the scripts of sql/ in order.

The dry run (default) prints every script, so you can read or paste them. `--apply` runs
the setup scripts through snowflake-connector, statement by statement (split by the
connector's own splitter), and stops at the first error, naming the script and the
statement. It connects with the env's credentials (conf/snowflake/credentials.yml, read
from environment variables) and never prints them. The scripts switch roles themselves
(USE ROLE), so the connection carries only the account, the user and the secret.
Before it creates an integration that is already there, it says which ALTER applies the
script's values (IF NOT EXISTS keeps the old ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import click

from ..conf import first_line
from ..objects.integrations import kept_integration
from ..objects.online import SHOW_QUERIES, run_query
from ..objects.report import check_sql
from ..project import project_path, real_session_config

# 90_smoke_test and 99_teardown are run on purpose, not as part of the setup; 80-89
# are optional set-ups (80_external_access: only for transport external_access).
FIRST_OPTIONAL_SCRIPT = 80
FIRST_NON_SETUP_SCRIPT = 90
TEARDOWN_SCRIPT = 99
# The scripts name every object in full and switch roles, so the connection must not
# require the project's role, database or warehouse (they do not exist yet).
CONNECTION_KEYS_NOT_USED = ("role", "warehouse", "database", "schema")
SHOWN_STATEMENT_CHARACTERS = 300


@dataclass(frozen=True)
class Script:
    """One file of sql/ and its statements (comments removed)."""

    path: Path
    statements: list[str]

    @property
    def name(self) -> str:
        return f"sql/{self.path.name}"

    @property
    def number(self) -> int:
        prefix = self.path.name.split("_", 1)[0]
        return int(prefix) if prefix.isdigit() else FIRST_NON_SETUP_SCRIPT

    @property
    def is_setup(self) -> bool:
        return self.number < FIRST_OPTIONAL_SCRIPT

    @property
    def is_optional(self) -> bool:
        return FIRST_OPTIONAL_SCRIPT <= self.number < FIRST_NON_SETUP_SCRIPT


def split_script(text: str) -> list[str]:
    """The statements of a script, split by snowflake-connector's own splitter."""
    from snowflake.connector.util_text import split_statements  # noqa: PLC0415

    statements = (
        sql for sql, _ in split_statements(StringIO(text), remove_comments=True)
    )
    return [sql.strip() for sql in statements if sql.strip().rstrip(";").strip()]


def read_scripts(project: Path) -> list[Script]:
    """Every `sql/*.sql` of the project, in file-name (= run) order."""
    sql_dir = project / "sql"
    paths = sorted(sql_dir.glob("*.sql"))
    if not paths:
        raise click.ClickException(f"no *.sql scripts in {sql_dir}")
    return [Script(p, split_script(p.read_text(encoding="utf-8"))) for p in paths]


def print_dry_run(scripts: list[Script]) -> None:
    click.echo(
        "Scripts in sql/, in the order to run them (dry run: nothing is executed)."
    )
    for script in scripts:
        applied = (
            "applied by --apply"
            if script.is_setup
            else "optional: --apply --with-external-access"
            if script.is_optional
            else "run it yourself"
        )
        click.echo(f"  {script.name}  ({len(script.statements)} statements, {applied})")
    for script in scripts:
        click.echo(f"\n-- ===== {script.name} =====")
        click.echo(script.path.read_text(encoding="utf-8").rstrip())


def shorten(statement: str) -> str:
    """The statement on one line, cut short (enough to find it in the script)."""
    flat = " ".join(statement.split())
    if len(flat) <= SHOWN_STATEMENT_CHARACTERS:
        return flat
    return flat[:SHOWN_STATEMENT_CHARACTERS] + " ..."


def warn_if_kept(connection: Any, statement: str) -> None:
    """Before CREATE ... INTEGRATION IF NOT EXISTS: say so when it will keep old values."""
    kept = kept_integration(statement)
    if kept is None:
        return
    query = SHOW_QUERIES[f"{kept.kind} INTEGRATION"]
    rows = run_query(connection, query)  # SHOW binds no LIKE pattern (online.py)
    if any(str(row.get("name", "")) == kept.name for row in rows):
        click.echo("  warning: " + kept.warning(), err=True)


def apply_scripts(connection: Any, scripts: list[Script]) -> None:
    """Run the statements in order on a DB-API connection; stop at the first error."""
    cursor = connection.cursor()
    try:
        for script in scripts:
            click.echo(f"{script.name}:")
            for number, statement in enumerate(script.statements, start=1):
                try:
                    warn_if_kept(connection, statement)
                    cursor.execute(statement)
                except Exception as error:  # noqa: BLE001 (any failure stops the setup)
                    raise click.ClickException(
                        f"{script.name}, statement {number} of {len(script.statements)} "
                        f"failed: {first_line(error)}\n  statement: {shorten(statement)}\n"
                        f"Fix it and run `kedro snowflake setup --apply` again (the "
                        f"scripts are idempotent)."
                    ) from None
                click.echo(f"  ok  {shorten(statement)[:100]}")
                if statement.upper().startswith(("DESCRIBE", "DESC ", "SELECT")):
                    for row in cursor.fetchall():
                        click.echo("      " + " | ".join(str(value) for value in row))
    finally:
        cursor.close()


def connect(project: Path, env: str) -> Any:
    """A snowflake-connector connection with the env's credentials."""
    from ..session.create import connect_connector  # noqa: PLC0415

    config, credentials = real_session_config(project, env)
    return connect_connector(config, credentials, without=CONNECTION_KEYS_NOT_USED)


@click.command()
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Run the setup scripts (01-79) on Snowflake instead of printing them.",
)
@click.option(
    "--with-smoke-test",
    is_flag=True,
    help="With --apply, also run 90_smoke_test.sql (creates one MLflow run).",
)
@click.option(
    "--with-external-access",
    is_flag=True,
    help="With --apply, also run 80_external_access.sql (transport external_access).",
)
@click.option(
    "--env", "-e", default="snowflake", show_default=True, help="Conf env to read."
)
@click.pass_obj
def setup(  # noqa: PLR0913 (the command's options)
    metadata: Any,
    apply_: bool,
    with_smoke_test: bool,
    with_external_access: bool,
    env: str,
) -> None:
    """Print the scripts of sql/ in order, or run them with --apply (see sql/README.md)."""
    project = project_path(metadata)
    scripts = read_scripts(project)
    if not apply_:
        print_dry_run(scripts)
        return
    chosen = [
        script
        for script in scripts
        if script.is_setup
        or (with_external_access and script.is_optional)
        or (
            with_smoke_test
            and script.number >= FIRST_NON_SETUP_SCRIPT
            and script.number < TEARDOWN_SCRIPT
        )
    ]
    # Each placeholder left in a statement of these scripts (sql/ alone says).
    names = {script.path.name for script in chosen}
    left = [str(p) for p in check_sql(project).placeholders if p.script in names]
    if left:
        raise click.ClickException(
            "placeholders are left; replace each with your value (see sql/README.md, "
            "Placeholders) or generate the project again with the answers:\n  "
            + "\n  ".join(left)
        )
    connection = connect(project, env)
    try:
        apply_scripts(connection, chosen)
    finally:
        connection.close()
    click.echo(
        "Setup done. Next: sql/90_smoke_test.sql, then kedro run --env snowflake."
    )
