"""Read the `snowflake:` block of conf/<env>/snowflake.yml (base merged with the run env)."""

from __future__ import annotations

from typing import Any


def read_snowflake_conf(config_loader) -> dict[str, Any]:
    """The merged `snowflake:` mapping (session, mlflow, ...), empty when there is none."""
    try:
        files = config_loader["snowflake"]
    except KeyError:
        return {}
    return dict(files.get("snowflake") or {})
