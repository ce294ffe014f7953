"""A sick local store: real `kedro run` processes of a baked demo tracking to a sqlite
file that is a folder, not SQLite, truncated, locked by another process, half-created
or of another schema version. The files are real (made with the MLflow client and
sqlite3, then damaged the way a disk, a crash or a user would); nothing is faked.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from mlflow import MlflowClient
from mlflow.store.db.utils import _get_alembic_config
from support.attack_project import (
    TINY_OUTPUTS,
    bake_attack_project,
    kedro_run,
    outputs_kept,
    run_tiny,
    write_env,
)

pytestmark = pytest.mark.slow

SETTINGS = """\
tracking_uri: sqlite:///stores/{name}
on_failure: {policy}
retry:
  attempts: 3
  backoff_seconds: 0.5
"""


@pytest.fixture(scope="module")
def project(cookies_session):
    baked = bake_attack_project(cookies_session, "Tracking Sick Store")
    (baked.path / "stores").mkdir()
    return baked


def store_run(project, name: str, policy: str = "warn"):
    env = write_env(
        project,
        f"store_{policy}_{name.replace('.', '_')}",
        SETTINGS.format(name=name, policy=policy),
    )
    return run_tiny(project, env)


def real_store(project, name: str, runs: int = 0) -> MlflowClient:
    """A store made by MLflow itself, with `runs` finished runs in it."""
    client = MlflowClient(f"sqlite:///{project.path / 'stores' / name}")
    # Artifacts in the project, as the hook's own experiments keep them (not in the
    # folder pytest runs from).
    artifacts = (project.path / "mlruns").as_uri()
    experiment = client.create_experiment("demo-mlops", artifact_location=artifacts)
    for _ in range(runs):
        client.set_terminated(client.create_run(experiment).info.run_id)
    return client


def previous_revision() -> str:
    """The schema revision before MLflow's current one (a migration not yet done)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    script = ScriptDirectory.from_config(_get_alembic_config(""))
    (head,) = script.get_heads()
    return script.get_revision(head).down_revision


def set_revision(path, revision: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("folder.db", "folder", "is a folder, not an MLflow database"),
        ("garbage.db", "garbage", "is not an SQLite database"),
        ("truncated.db", "truncate", "is damaged (SQLite: database disk image is "),
    ],
)
def test_a_broken_store_costs_warn_one_line_and_the_outputs_are_kept(
    project, name, damage, message
):
    path = project.path / "stores" / name
    if damage == "folder":
        path.mkdir()
    elif damage == "garbage":
        path.write_bytes(b"this is not a database\n" * 100)
    else:
        real_store(project, name, runs=3)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    outcome = store_run(project, name)
    assert outcome.returncode == 0, outcome.output[-3000:]
    assert outputs_kept(project)
    summary = outcome.summary
    assert "MLflow run (not created): 0 metrics" in summary
    assert f"{path} {message}" in summary
    assert f"Fix: move it away (`mv {name} {name}.broken`)" in summary
    assert summary.endswith("; no run was created")
    assert outcome.output.count("WARNING") == 1


def test_fail_with_a_broken_store_stops_with_one_line(project):
    (project.path / "stores" / "folder_fail.db").mkdir()
    outcome = store_run(project, "folder_fail.db", policy="fail")
    assert outcome.returncode == 1
    assert "Traceback" not in outcome.output
    last = outcome.output.strip().splitlines()[-1]
    assert last.startswith("Error: MLflow could not start a run in experiment ")
    assert "folder_fail.db is a folder, not an MLflow database" in last
    assert "on_failure is `fail`" in last
    assert not (project.path / TINY_OUTPUTS[0]).exists()  # stopped before any node


LOCK_HOLDER = """\
import sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
connection = sqlite3.connect(path, isolation_level=None)
# Wait for the run to be created, then hold the write lock while the run goes on.
while connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0:
    time.sleep(0.02)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(seconds)
connection.execute("COMMIT")
print("released", flush=True)
"""


def test_a_store_locked_by_another_process_for_a_while_is_waited_for(project, tmp_path):
    """Another process holds the write lock on mlflow.db for 24 s while the run logs:
    MLflow's SQLite connection waits 20 s (busy_timeout), then answers "database is
    locked": a transient fault, retried until the lock is gone."""
    name = "locked.db"
    real_store(project, name)
    path = project.path / "stores" / name
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path), "24"],
        stdout=subprocess.PIPE,
        text=True,
    )
    env = write_env(project, "store_locked", SETTINGS.format(name=name, policy="warn"))
    outcome = kedro_run(
        project,
        "--env",
        env,
        "--pipelines",
        "slow",
        SLOW_MARKER=str(tmp_path / "marker"),
        SLOW_SECONDS="1",
    )
    said, _ = holder.communicate(timeout=120)
    assert said.split() == ["locked", "released"]
    assert outcome.returncode == 0, outcome.output[-3000:]
    assert "NOT logged" not in outcome.summary, outcome.summary
    with sqlite3.connect(path) as connection:
        ((status,),) = connection.execute("SELECT status FROM runs").fetchall()
        metrics = dict(connection.execute("SELECT key, value FROM latest_metrics"))
    assert status == "FINISHED"
    assert metrics == {"rows": 3.0, "done": 1.0}


def test_a_half_created_store_is_moved_aside_and_a_new_one_made(project):
    name = "half.db"
    real_store(project, name, runs=0)
    path = project.path / "stores" / name
    set_revision(path, previous_revision())  # as a run stopped mid-migration leaves it
    first = store_run(project, name)
    assert first.returncode == 0
    assert "NOT logged" not in first.summary
    (note,) = [line for line in first.output.splitlines() if "half-created" in line]
    assert f"MLflow: {name} was left half-created by an earlier run" in note
    (aside,) = (project.path / "stores").glob(f"{name}.incomplete-*")
    assert aside.name in note
    # ...and it stays fixed: the next run uses the new store without a word.
    second = store_run(project, name)
    assert "half-created" not in second.output
    # Read with sqlite3: this process's MLflow keeps an engine on the old file.
    with sqlite3.connect(path) as connection:
        runs = dict(connection.execute("SELECT run_uuid, status FROM runs"))
    assert runs == {first.run_id: "FINISHED", second.run_id: "FINISHED"}


def test_a_store_of_another_schema_with_runs_is_explained_not_touched(project):
    name = "older.db"
    real_store(project, name, runs=2)
    path = project.path / "stores" / name
    revision = previous_revision()
    set_revision(path, revision)
    before = path.read_bytes()
    outcome = store_run(project, name)
    assert outcome.returncode == 0
    assert outputs_kept(project)
    summary = outcome.summary
    assert f"{path} has MLflow schema {revision} but MLflow " in summary
    assert f"Fix: back it up, then run `mlflow db upgrade sqlite:///{path}`" in summary
    assert path.read_bytes() == before  # the user's runs are left as they were
