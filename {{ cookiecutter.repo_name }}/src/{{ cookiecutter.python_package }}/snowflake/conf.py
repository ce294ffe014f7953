"""Read the `snowflake:` block of conf/<env>/snowflake.yml (base merged with the run env),
and the one-line error summary the commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_snowflake_conf(config_loader) -> dict[str, Any]:
    """The merged `snowflake:` mapping (session, mlflow, ...), empty when there is none."""
    try:
        files = config_loader["snowflake"]
    except KeyError:
        return {}
    return dict(files.get("snowflake") or {})


def load_snowflake_block(project: Path, env: str) -> dict[str, Any]:
    """The merged `snowflake:` config of an env, read the way `kedro run` reads it
    (without creating a Kedro context, whose hooks would open a session)."""
    from kedro.framework.project import settings  # noqa: PLC0415 (needs the project)
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(project)
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    return read_snowflake_conf(loader)


def first_line(error: BaseException) -> str:
    """The first line of an error (the connector's first line holds no secret)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
