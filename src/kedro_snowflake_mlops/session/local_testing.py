"""Patches for what Snowpark local testing does not implement but the demo uses.

On Snowflake these functions run in the warehouse; offline, the emulator needs a Python
implementation (registered with `snowflake.snowpark.mock.patch`). Keep each patch faithful
to Snowflake's documented behaviour for the arguments the project passes.

COPY FILES (`session.file.copy_files`) is a statement, not a function: local testing
refuses it (`'copy_files' is not a valid MockFileOperation.Operator`), so a local session
gets an emulation built from the mock's own GET and PUT.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

from snowflake.snowpark import Session, functions
from snowflake.snowpark.mock import patch
from snowflake.snowpark.mock._connection import MockServerConnection
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


def _copy_files(  # noqa: PLR0913 - Snowpark's copy_files signature, plus the session
    session: Session,
    source: object,
    target_stage_location: str,
    *,
    files: list[str] | None = None,
    pattern: str | None = None,
    detailed_output: bool = True,
    statement_params: dict[str, str] | None = None,
) -> list[str] | int:
    """COPY FILES INTO <target> FROM <source stage> [FILES = (...)], through the mock's
    stages: GET the source path into a temporary folder, PUT the files to the target.

    Same return as Snowpark's copy_files: the copied files' paths relative to the
    target (detailed_output) or their number. What the project never passes (a query
    as source, PATTERN) is refused rather than approximated. The mock's GET flattens
    sub-folders and its PUT keeps a file that is already there; the project copies flat
    artifact folders to paths that are new for each run, where neither matters.
    """
    del statement_params  # tags the query on Snowflake; nothing to tag here
    if not isinstance(source, str) or pattern is not None:
        raise NotImplementedError(
            "the local-testing COPY FILES emulation copies from a stage location "
            "(optionally FILES = (...)); a query source or PATTERN is not emulated"
        )
    with tempfile.TemporaryDirectory(prefix="copy-files-") as folder:
        session.file.get(source, folder)
        available = sorted(path.name for path in Path(folder).iterdir())
        chosen = available if files is None else list(files)
        absent = sorted(set(chosen) - set(available))
        if absent:
            raise FileNotFoundError(
                f"COPY FILES: {', '.join(absent)} not found under {source}"
            )
        if files is None:
            # One PUT with a wildcard, as on Snowflake (the mock's PUT globs too).
            session.file.put(
                f"{Path(folder).as_posix()}/*",
                target_stage_location,
                auto_compress=False,
                overwrite=True,
            )
        else:
            for name in chosen:
                session.file.put(
                    (Path(folder) / name).as_posix(),
                    target_stage_location,
                    auto_compress=False,
                    overwrite=True,
                )
    return chosen if detailed_output else len(chosen)


def emulate_copy_files(session: Session) -> None:
    """Give a LOCAL TESTING session `session.file.copy_files` (real sessions have it)."""
    if not isinstance(session._conn, MockServerConnection):
        raise ValueError(
            "emulate_copy_files is for Snowpark local testing sessions only; a real "
            "session runs COPY FILES on Snowflake"
        )
    # An attribute of this session's FileOperation object: other sessions keep theirs.
    session.file.copy_files = partial(_copy_files, session)


def patch_local_testing() -> None:
    """Register the patches once per process."""
    global _patched  # noqa: PLW0603 - registration is process-wide in Snowpark too
    if _patched:
        return
    patch(functions.replace)(_replace)
    _patched = True
