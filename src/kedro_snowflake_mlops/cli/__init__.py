"""`kedro snowflake ...`: project commands, added to every Kedro project's CLI through
the `kedro.project_commands` entry point of this package."""

from __future__ import annotations

import click

from . import check, setup


@click.group(name="kedro-snowflake-mlops")
def commands() -> None:
    """Commands of kedro-snowflake-mlops."""


@commands.group()
def snowflake() -> None:
    """Set up, check and run this project's Snowflake objects (see sql/README.md)."""


snowflake.add_command(check.check)
snowflake.add_command(setup.setup)
