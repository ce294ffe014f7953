"""The champion of the `kedro run` in progress, for ChampionModelDataset.

The tracking hook reads it through the run's MLflow client (in the MLflow worker
process offline) and offers it here while the run lasts; a dataset cannot reach the
hook otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_reader: Callable[[], Any] | None = None


class NoRegistryError(RuntimeError):
    """No `kedro run` with a `snowflake.registry` block is in progress."""


def offer_champion(reader: Callable[[], Any] | None) -> None:
    """Set (or, with None, withdraw) what reads this run's champion."""
    global _reader  # noqa: PLW0603 - one run at a time per process, like its session
    _reader = reader


def current_champion() -> Any:
    """The run's champion (a lifecycle.Champion), or None before the first."""
    if _reader is None:
        raise NoRegistryError(
            "The champion model is read through the MLflow run of a `kedro run` whose "
            "conf/<env>/snowflake.yml has a snowflake.registry block; fix: load it in "
            "a pipeline (kedro run), or add the registry block (see the starter's "
            "conf/base/snowflake.yml)"
        )
    return _reader()
