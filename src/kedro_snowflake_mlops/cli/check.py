"""`kedro snowflake check [--online]`: are conf/ and sql/ consistent, and (online) do the
Snowflake objects exist and can the project's role use them?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..objects.conf_check import check_project
from ..objects.online import CheckRow, check_online, table
from ..objects.report import OfflineReport
from ..project import project_path, real_session_config


def snowpark_lookup(session: Any):
    """experiment_get_by_name called the way the tracking code calls it: through
    Snowpark with the name as a bound literal."""
    from snowflake.snowpark.functions import call_function, col  # noqa: PLC0415

    from ..tracking.external_functions import variant  # noqa: PLC0415

    def lookup(function: str, experiment_name: str) -> Any:
        frame = session.create_dataframe(
            [[experiment_name]], schema=["EXPERIMENT_NAME"]
        )
        row = frame.select(call_function(function, col("EXPERIMENT_NAME"))).collect()[0]
        return variant(row[0])

    return lookup


def run_online(
    report: OfflineReport, project: Path, mlflow: Any, env: str
) -> list[CheckRow]:
    """Connect with the project's credentials (conf/<env>/credentials.yml) and check."""
    # Snowpark is imported here: --help and the offline check do not need it.
    from ..session.create import create_session  # noqa: PLC0415

    config, credentials = real_session_config(project, env)
    # A failure is one line already (SnowflakeConnectionError: what, where, the fix).
    session = create_session(config, credentials)
    try:
        return check_online(
            report,
            session.connection,
            snowpark_lookup(session),
            mlflow.experiment_name,
            mlflow.functions.experiment_get_by_name,
        )
    finally:
        session.close()


def mlflow_block_problems(block: dict[str, Any]) -> tuple[Any, list[str]]:
    """The `snowflake.mlflow` block validated by the tracking code's own schema."""
    # Imported here: pydantic and the tracking package are not needed for --help.
    from ..tracking.config import (  # noqa: PLC0415
        MlflowConfigError,
        load_mlflow_config,
    )

    try:
        return load_mlflow_config(block), []
    except MlflowConfigError as error:
        return None, str(error).splitlines()


def registry_block_problems(block: dict[str, Any], mlflow: Any, env: str) -> list[str]:
    """The `snowflake.registry` block, and whether its target works with the
    transport (registry/config.py says why MLflow's registry needs more than POST)."""
    from ..registry.config import (  # noqa: PLC0415
        RegistryConfigError,
        load_registry_config,
        transport_problem,
    )

    try:
        registry = load_registry_config(block)
    except RegistryConfigError as error:
        return str(error).splitlines()
    if registry is None or mlflow is None:
        return []
    problem = transport_problem(registry, mlflow.transport, env)
    return [problem] if problem else []


@click.command()
@click.option(
    "--online", is_flag=True, help="Also connect to Snowflake and check the objects."
)
@click.option(
    "--env", "-e", default="snowflake", show_default=True, help="Conf env to read."
)
@click.pass_obj
def check(metadata: Any, online: bool, env: str) -> None:
    """Check conf/ against sql/ (offline); with --online, check the account too."""
    project = project_path(metadata)
    report = check_project(project, env)
    mlflow, mlflow_problems = mlflow_block_problems(report.conf.snowflake)
    problems = [str(finding) for finding in report.findings] + mlflow_problems
    problems += registry_block_problems(report.conf.snowflake, mlflow, env)
    click.echo("Snowflake objects this project expects:")
    click.echo(report.inventory_table())
    if problems:
        click.echo("\nProblems in conf/ and sql/:", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
    if report.placeholders:
        click.echo(
            "\nWarning: sql/ still holds values only you can fill in (sql/README.md, "
            "Placeholders); the scripts that hold them refuse to run until then:",
            err=True,
        )
        for placeholder in report.placeholders:
            click.echo(f"  {placeholder}", err=True)
    if online and mlflow is None:
        click.echo("\nOnline check skipped: fix snowflake.mlflow first.", err=True)
    elif online:
        rows = run_online(report, project, mlflow, env)
        click.echo(f"\nOnline check (env {env}):")
        click.echo(table(rows))
        problems += [row.object for row in rows if not row.ok]
    if problems:
        raise SystemExit(1)
    if report.placeholders:
        click.echo(
            f"\nconf/ and sql/ agree; {len(report.placeholders)} placeholders are left "
            "in sql/ (see the warning above)."
        )
    else:
        click.echo("\nAll checks passed.")
