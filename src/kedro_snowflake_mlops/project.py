"""What the `kedro snowflake` commands and the deploy need: the project folder and a
real session's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .conf import ConfigError, project_config_loader, read_snowflake_conf


def project_path(metadata: Any) -> Path:
    """The project Kedro found (commands run inside a project), else the cwd."""
    return Path(getattr(metadata, "project_path", None) or Path.cwd())


def real_session_config(project: Path, env: str) -> tuple[Any, Any]:
    """(session config, credentials) of an env that connects to a real account; a
    configuration problem becomes one clear line, never a traceback."""
    from .session.config import load_real_session  # noqa: PLC0415 (pydantic)

    try:
        loader = project_config_loader(project, env)
        block = read_snowflake_conf(loader)
        config, credentials = load_real_session(block.get("session"), loader, env)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    return config, credentials
