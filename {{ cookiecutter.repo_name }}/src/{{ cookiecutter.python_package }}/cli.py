"""Project commands: `kedro snowflake ...`. Kedro adds the `cli` group of <package>.cli."""

import click

from .snowflake.check_command import check
from .snowflake.setup_command import setup


@click.group(name="{{ cookiecutter.python_package }}")
def cli() -> None:
    """Commands of {{ cookiecutter.project_name }}."""


@cli.group()
def snowflake() -> None:
    """Set up and check the Snowflake objects this project needs (see sql/README.md)."""


snowflake.add_command(check)
snowflake.add_command(setup)
