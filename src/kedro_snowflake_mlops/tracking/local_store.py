"""The local MLflow store (`sqlite:///mlflow.db`): opened by one process at a time, and
looked at before MLflow touches it.

MLflow creates its tables (a chain of schema migrations) the first time a process opens
a new database, and does so without a lock: two first `kedro run`s at once race, and one
of them fails, or leaves the database half-created so that every later run fails. Here
the opening is done under a file lock, so any number of runs may start together.

Before MLflow opens the file, it is checked, so that the message says what is wrong and
how to fix it: a folder, a file that is not SQLite, a damaged file, a schema of another
MLflow version. A database left half-created (schema not MLflow's, no run in it: nothing
to lose) is moved aside, and MLflow creates a new one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .config import sqlite_path
from .transport import TrackingError, is_transient

SQLITE_HEADER = b"SQLite format 3\x00"


class StoreProblem(TrackingError):
    """The local store cannot be used as it is; the message says why and how to fix it.
    Not transient: trying again cannot help."""


def sqlite_file(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///<path>` URI (None for other URIs)."""
    database = sqlite_path(tracking_uri)
    return None if database is None else Path(database)


def _lock(handle: IO) -> None:
    """Take the lock without waiting; OSError when another process holds it."""
    if os.name == "nt":
        import msvcrt  # noqa: PLC0415 - Windows only

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: IO) -> None:
    if os.name == "nt":
        import msvcrt  # noqa: PLC0415 - Windows only

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def lock_path(database: Path) -> Path:
    """The lock file of a database: in the temporary folder, so the project gets no
    extra file (one machine, one lock per database path)."""
    digest = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"kedro-snowflake-mlops-store-{digest}.lock"


@contextmanager
def store_lock(database: Path, timeout_seconds: float) -> Iterator[None]:
    """Hold the database's lock; TimeoutError (transient: retried) when another process
    has held it for timeout_seconds."""
    deadline = time.monotonic() + timeout_seconds
    with lock_path(database).open("a+") as handle:
        while True:
            try:
                _lock(handle)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another process has been opening {database.name} for "
                        f"{timeout_seconds:g} s (timed out waiting for its lock)"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(handle)


def move_away_fix(database: Path) -> str:
    """How to get a new store when this one cannot be used."""
    return (
        f"move it away (`mv {database.name} {database.name}.broken`) and run again: "
        "MLflow creates a new one"
    )


def check_file(database: Path) -> None:
    """StoreProblem when the path cannot be an SQLite database at all."""
    if database.is_dir():
        raise StoreProblem(
            f"{database} is a folder, not an MLflow database. Fix: "
            f"{move_away_fix(database)}, or point snowflake.mlflow.tracking_uri at "
            "another file"
        )
    if not database.parent.is_dir():
        raise StoreProblem(
            f"the folder of {database} does not exist. Fix: create it, or point "
            "snowflake.mlflow.tracking_uri at a file in an existing folder"
        )
    if not database.exists() or database.stat().st_size == 0:
        return  # MLflow creates the tables in it
    with database.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreProblem(
            f"{database} is not an SQLite database (overwritten or truncated?). Fix: "
            f"{move_away_fix(database)}"
        )


def _schema(database: Path) -> tuple[set[str], str | None, int]:
    """(tables, alembic revision, number of runs), read without changing the file."""
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        revision = None
        if "alembic_version" in tables:
            row = connection.execute(
                "SELECT version_num FROM alembic_version"
            ).fetchone()
            revision = row[0] if row else None
        runs = 0
        if "runs" in tables:
            runs = connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return tables, revision, runs
    finally:
        connection.close()


def prepare(database: Path, head_revision: str, mlflow_version: str) -> str | None:
    """Make an existing database safe for MLflow to open (call under store_lock, on a
    file check_file accepted).

    Returns a note for the user when a half-created database was moved aside;
    StoreProblem when the file is damaged or holds runs of another schema version."""
    if not database.exists() or database.stat().st_size == 0:
        return None
    try:
        tables, revision, runs = _schema(database)
    except sqlite3.DatabaseError as error:
        if is_transient(error):
            raise  # another process writes: tried again
        raise StoreProblem(
            f"{database} is damaged (SQLite: {error}). Fix: {move_away_fix(database)}"
        ) from error
    if not tables - {"alembic_version"} or revision == head_revision:
        return None  # new (MLflow creates the tables) or current
    if runs:
        raise StoreProblem(
            f"{database} has MLflow schema {revision or '(none)'} but MLflow "
            f"{mlflow_version} needs {head_revision} (made by another MLflow version, "
            "or an upgrade stopped half-way). Fix: back it up, then run `mlflow db "
            f"upgrade sqlite:///{database}`"
        )
    aside = database.with_name(
        f"{database.name}.incomplete-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    database.rename(aside)
    for suffix in ("-journal", "-wal", "-shm"):
        leftover = database.with_name(database.name + suffix)
        if leftover.exists():
            leftover.rename(aside.with_name(aside.name + suffix))
    return (
        f"MLflow: {database.name} was left half-created by an earlier run (schema "
        f"{revision or '(none)'} instead of {head_revision}, no runs in it); it was "
        f"moved to {aside.name} and a new one was created."
    )
