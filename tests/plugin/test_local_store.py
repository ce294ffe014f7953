"""The local store's checks, repair and lock, on real files: stores made by MLflow
itself, damaged the way a crash or a user would, and a real second process holding the
lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from mlflow import MlflowClient
from mlflow.store.db.utils import _get_alembic_config

from kedro_snowflake_mlops.tracking.local_store import (
    StoreProblem,
    check_file,
    lock_path,
    prepare,
    sqlite_file,
    store_lock,
)

SCRIPTS = ScriptDirectory.from_config(_get_alembic_config(""))
(HEAD,) = SCRIPTS.get_heads()
PREVIOUS = SCRIPTS.get_revision(HEAD).down_revision


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("sqlite:///mlflow.db", "mlflow.db"),
        ("sqlite:////abs/mlflow.db", "/abs/mlflow.db"),
        ("sqlite:///mlflow.db?timeout=30", "mlflow.db"),
        ("sqlite:///:memory:", None),
        ("http://127.0.0.1:5000", None),
    ],
)
def test_the_database_file_of_a_uri(uri, path):
    assert sqlite_file(uri) == (Path(path) if path else None)


def test_a_new_or_empty_file_is_fine(tmp_path):
    check_file(tmp_path / "new.db")
    (tmp_path / "empty.db").touch()
    check_file(tmp_path / "empty.db")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "is a folder, not an MLflow database"),
        (lambda path: path.write_bytes(b"PK\x03\x04 a zip"), "is not an SQLite"),
    ],
    ids=["folder", "not-sqlite"],
)
def test_a_file_that_cannot_be_a_store_is_explained(tmp_path, make, message):
    path = tmp_path / "mlflow.db"
    make(path)
    with pytest.raises(StoreProblem, match=message) as error:
        check_file(path)
    assert "Fix: move it away (`mv mlflow.db mlflow.db.broken`)" in str(error.value)


def test_a_missing_folder_is_explained(tmp_path):
    with pytest.raises(StoreProblem, match="the folder of .* does not exist"):
        check_file(tmp_path / "no" / "mlflow.db")


def store(tmp_path: Path, runs: int, revision: str | None = None) -> Path:
    path = tmp_path / "mlflow.db"
    client = MlflowClient(f"sqlite:///{path}")
    experiment = client.create_experiment(
        "e", artifact_location=(tmp_path / "mlruns").as_uri()
    )
    for _ in range(runs):
        client.create_run(experiment)
    if revision:
        with sqlite3.connect(path) as connection:
            connection.execute(
                "UPDATE alembic_version SET version_num = ?", (revision,)
            )
    return path


def test_a_current_store_is_left_alone(tmp_path):
    path = store(tmp_path, runs=1)
    assert prepare(path, HEAD, "3.x") is None
    assert path.exists()


def test_a_half_created_store_without_runs_is_moved_aside(tmp_path):
    path = store(tmp_path, runs=0, revision=PREVIOUS)
    note = prepare(path, HEAD, "3.x")
    assert not path.exists()
    (aside,) = tmp_path.glob("mlflow.db.incomplete-*")
    assert note == (
        f"MLflow: mlflow.db was left half-created by an earlier run (schema "
        f"{PREVIOUS} instead of {HEAD}, no runs in it); it was moved to {aside.name} "
        "and a new one was created."
    )


def test_a_store_with_runs_of_another_schema_is_explained_not_moved(tmp_path):
    path = store(tmp_path, runs=2, revision=PREVIOUS)
    with pytest.raises(StoreProblem) as error:
        prepare(path, HEAD, "3.x")
    assert str(error.value) == (
        f"{path} has MLflow schema {PREVIOUS} but MLflow 3.x needs {HEAD} (made by "
        "another MLflow version, or an upgrade stopped half-way). Fix: back it up, "
        f"then run `mlflow db upgrade sqlite:///{path}`"
    )
    assert path.exists()


def test_a_truncated_store_is_damaged(tmp_path):
    path = store(tmp_path, runs=3)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(StoreProblem, match=r"is damaged \(SQLite: .*malformed"):
        prepare(path, HEAD, "3.x")


HOLDER = """\
import sys, time
from pathlib import Path
from kedro_snowflake_mlops.tracking.local_store import store_lock
with store_lock(Path(sys.argv[1]), 5):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_the_lock_keeps_a_second_process_out_until_it_is_released(tmp_path):
    database = tmp_path / "mlflow.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Kedro, imported with the plugin, may log a line first.
        assert any(line.strip() == "held" for line in holder.stdout)
        with pytest.raises(TimeoutError, match="timed out waiting for its lock"):
            with store_lock(database, 0.5):
                pass
    finally:
        holder.communicate("release\n", timeout=30)
    with store_lock(database, 0.5):
        assert lock_path(database).exists()
    assert str(tmp_path) not in str(lock_path(database))  # nothing left in the project
