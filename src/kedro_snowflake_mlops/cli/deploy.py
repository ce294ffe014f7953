"""`kedro snowflake deploy | run | destroy`: the pipeline as a Snowflake task graph.

deploy builds the plan (plan.py), uploads the code and creates the procedure and the
tasks; run executes the graph now and follows it task by task (`--local`: the same
graph, offline, in Snowpark local testing); destroy removes what deploy created.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..conf import ConfigError
from ..deploy.outcome import report
from ..project import project_path

# Kept in the project folder; the generated .gitignore leaves *.log out of git.
LOCAL_LOG = "snowflake-run-local.log"
PIPELINE = click.option(
    "--pipeline",
    "-p",
    default=None,
    help="Pipeline to deploy (default: snowflake.deploy.pipeline).",
)


GROUPING = click.option(
    "--grouping",
    type=click.Choice(["auto", "memory", "node", "pipeline"]),
    default=None,
    help="How nodes become tasks (default: snowflake.deploy.grouping).",
)


def plan_for(
    metadata: Any,
    env: str,
    pipeline: str | None,
    grouping: str | None = None,
    schedule: str | None = None,
):
    """The plan, or one clear message for what conf/ or the pipeline gets wrong."""
    from ..deploy.plan import make_plan  # noqa: PLC0415 (Kedro, pydantic)

    try:
        return make_plan(project_path(metadata), env, pipeline, grouping, schedule)
    except ConfigError as error:
        raise click.ClickException(f"cannot deploy: {error}") from None


@click.command()
@PIPELINE
@GROUPING
@click.option(
    "--env",
    "-e",
    default="snowflake",
    show_default=True,
    help="Conf env the tasks run with.",
)
@click.option(
    "--schedule",
    default=None,
    help="The root task's SCHEDULE, e.g. 'USING CRON 0 6 * * * UTC' (default: "
    "snowflake.deploy.schedules of the pipeline; none: the graph runs when run).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (objects, SQL, graph); connect to nothing.",
)
@click.pass_obj
def deploy(  # noqa: PLR0913 (the command's options)
    metadata: Any,
    *,
    pipeline: str | None,
    grouping: str | None,
    env: str,
    schedule: str | None,
    dry_run: bool,
) -> None:
    """Upload the project and create its procedure and task graph in Snowflake."""
    plan = plan_for(metadata, env, pipeline, grouping, schedule)
    if not dry_run:
        try:
            plan.refuse_for_account()
        except ConfigError as error:
            raise click.ClickException(f"cannot deploy: {error}") from None
    plan = traced(metadata, plan)
    if dry_run:
        click.echo(plan.text(), nl=False)
        return
    from ..deploy.account import deploy_to_account  # noqa: PLC0415

    deploy_to_account(plan, click.echo)


@click.command()
@PIPELINE
@GROUPING
@click.option(
    "--env",
    "-e",
    default=None,
    help="Conf env (default: snowflake; with --local: local).",
)
@click.option(
    "--local",
    "local",
    is_flag=True,
    help="Play the graph offline in Snowpark local testing.",
)
@click.option(
    "--no-wait", is_flag=True, help="Start the graph and return without following it."
)
@click.pass_obj
def run(  # noqa: PLR0913 (the command's options)
    metadata: Any,
    *,
    pipeline: str | None,
    grouping: str | None,
    env: str | None,
    local: bool,
    no_wait: bool,
) -> None:
    """Run the deployed task graph now and follow it task by task."""
    env = env or ("local" if local else "snowflake")
    plan = plan_for(metadata, env, pipeline, grouping)
    if local:
        run_locally(plan)
        return
    from ..deploy.account import run_on_account  # noqa: PLC0415

    run_on_account(plan, click.echo, wait=not no_wait)


def traced(metadata: Any, plan: Any) -> Any:
    """The plan with its IMPORTS traced: when no trace holds for this code, conf and
    libraries yet, `run --local` of every task first (offline, into an MLflow store
    of its own), then the plan again."""
    if not plan.needs_trace:
        return plan
    from tempfile import TemporaryDirectory  # noqa: PLC0415

    from ..deploy.local import run_local  # noqa: PLC0415

    click.echo(
        "Tracing what the procedure imports: `kedro snowflake run --local` of every "
        "task, offline (again only when the code, the conf or the libraries change) ...",
        err=True,
    )
    local = plan_for(metadata, "local", plan.deploy.pipeline, plan.deploy.grouping)
    with TemporaryDirectory(prefix="kedro-snowflake-trace-") as store:
        result = run_local(local, lambda line: None, store=Path(store))
    if not result.trace_note:
        failed = result.failed[0] if result.failed else {}
        raise click.ClickException(
            "cannot trace what the procedure imports: the offline run of the graph "
            f"failed{' at ' + failed['task'] if failed else ''}"
            f"{': ' + failed.get('error', '') if failed else ''}. Fix: `kedro "
            "snowflake run --local` shows why; or set snowflake.deploy.ship: all to "
            "ship every library the requirements reach"
        )
    click.echo(result.trace_note, err=True)
    again = plan_for(
        metadata, plan.env, plan.deploy.pipeline, plan.deploy.grouping, plan.schedule
    )
    if again.needs_trace:
        raise click.ClickException(
            f"conf env {plan.env} reaches other libraries than env local, which the "
            "trace ran with. Fix: give both envs the same snowflake.deploy.packages, "
            "or set snowflake.deploy.ship: all"
        )
    return again


def run_locally(plan: Any) -> None:
    from ..deploy.local import run_local  # noqa: PLC0415

    shipped = (
        f"every one of the {len(plan.candidates)} libraries the requirements reach, "
        "to trace which the tasks import"
        if plan.needs_trace
        else f"only the {len(plan.import_names())} files deploy would upload"
    )
    click.echo(
        f"Task graph of pipeline {plan.deploy.pipeline}, played offline (Snowpark local "
        f"testing; the procedure imports {shipped}):"
    )
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here != plan.deploy.runtime_version:
        click.echo(
            f"  (this is Python {here}; the procedure runs "
            f"{plan.deploy.runtime_version}, snowflake.deploy.runtime_version)"
        )
    result = run_local(plan, click.echo)
    if result.trace_note:
        click.echo(result.trace_note)
    log = plan.project / LOCAL_LOG
    log.write_text(result.output, encoding="utf-8")
    click.echo(f"The procedure's own output (Kedro's log of every task): {LOCAL_LOG}")
    report(result.finalizer, result.failed, plan, result.output, result.returncode)


@click.command()
@PIPELINE
@click.option(
    "--env", "-e", default="snowflake", show_default=True, help="Conf env to read."
)
@click.pass_obj
def destroy(metadata: Any, pipeline: str | None, env: str) -> None:
    """Remove the task graph, the procedure and the staged code (safe to repeat)."""
    plan = plan_for(metadata, env, pipeline)
    from ..deploy.account import destroy_on_account  # noqa: PLC0415

    destroy_on_account(plan, click.echo)
