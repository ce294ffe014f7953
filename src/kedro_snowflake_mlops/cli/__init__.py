"""`kedro snowflake ...`: project commands, added to every Kedro project's CLI through
the `kedro.project_commands` entry point of this package."""

from __future__ import annotations

import click

from .. import show_info_messages
from . import check, deploy, setup

show_info_messages()


@click.group(name="kedro-snowflake-mlops")
def commands() -> None:
    """Commands of kedro-snowflake-mlops."""


@commands.group()
def snowflake() -> None:
    """Set up and check the Snowflake objects (sql/README.md); deploy, run and destroy
    the pipeline as a task graph inside Snowflake."""


snowflake.add_command(check.check)
snowflake.add_command(setup.setup)
snowflake.add_command(deploy.deploy)
snowflake.add_command(deploy.run)
snowflake.add_command(deploy.destroy)
