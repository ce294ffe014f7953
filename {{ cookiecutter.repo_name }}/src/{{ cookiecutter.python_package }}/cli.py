"""Project commands: `kedro snowflake ...`. Kedro adds the `cli` group of <package>.cli."""

import click


@click.group(name="{{ cookiecutter.python_package }}")
def cli() -> None:
    """Commands of {{ cookiecutter.project_name }}."""


@cli.group()
def snowflake() -> None:
    """Set up and check the Snowflake objects this project needs (see sql/README.md)."""
