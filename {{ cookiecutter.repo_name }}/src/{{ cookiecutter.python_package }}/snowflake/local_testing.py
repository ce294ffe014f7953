"""Patches for what Snowpark local testing does not implement but the demo uses.

On Snowflake these functions run in the warehouse; offline, the emulator needs a Python
implementation (registered with `snowflake.snowpark.mock.patch`). Keep each patch faithful
to Snowflake's documented behaviour for the arguments the project passes.
"""

from __future__ import annotations

from snowflake.snowpark import functions
from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._functions import ColumnEmulator

_patched = False


def _scalar(value: object) -> object:
    """Literal arguments arrive as a one-value column in the emulator."""
    if isinstance(value, ColumnEmulator):
        return value.iloc[0]
    return value


def _replace(
    subject: ColumnEmulator,
    pattern: ColumnEmulator,
    replacement: ColumnEmulator,
) -> ColumnEmulator:
    """REPLACE(subject, pattern, replacement): every occurrence, not a regex; NULL stays NULL."""
    old, new = str(_scalar(pattern)), str(_scalar(replacement))
    replaced = subject.map(
        lambda text: text.replace(old, new) if isinstance(text, str) else None
    )
    return ColumnEmulator(replaced, sf_type=subject.sf_type)


def patch_local_testing() -> None:
    """Register the patches once per process."""
    global _patched  # noqa: PLW0603 - registration is process-wide in Snowpark too
    if _patched:
        return
    patch(functions.replace)(_replace)
    _patched = True
