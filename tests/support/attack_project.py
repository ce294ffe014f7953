"""A baked demo with a few small pipelines added to attack the tracking with, and the
helpers the attack tests share: run `kedro run` as a real process, read runs back.

Added pipelines (picked up by the project's own find_pipelines()):
  tiny    three nodes, two metrics datasets and a pickled model (an artifact) - quick;
  slow    one metrics node, then a node that writes $SLOW_MARKER and sleeps
          $SLOW_SECONDS: a run to interrupt mid-pipeline;
  values  metrics MLflow cannot take, and `mlflow: artifact` on a Snowflake table.
Their catalog entries live in conf/base/catalog_attacks.yml. Each test writes its own
env (conf/<env>/snowflake.yml) for its tracking settings.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient

from .baking import BakedProject, bake, clean_env

WORKER_MODULE = b"kedro_snowflake_mlops.tracking.worker"

TINY = """\
import pickle

from kedro.pipeline import node, pipeline


def quality(options):
    return {"rows": 3, "share": 0.5}


def evaluate(quality):
    return {"r2": 0.9}


def fit(quality):
    return {"weights": [1, 2, 3]}


def create_pipeline(**kwargs):
    return pipeline(
        [
            node(quality, "params:model_options", "tiny_quality", name="tiny_quality"),
            node(evaluate, "tiny_quality", "tiny_model_metrics", name="tiny_evaluate"),
            node(fit, "tiny_quality", "tiny_model", name="tiny_fit"),
        ]
    )
"""

SLOW = """\
import os
import time
from pathlib import Path

from kedro.pipeline import node, pipeline


def first(options):
    return {"rows": 3}


def slow(metrics):
    Path(os.environ["SLOW_MARKER"]).write_text("started")
    time.sleep(float(os.environ.get("SLOW_SECONDS", "120")))
    return {"done": 1}


def create_pipeline(**kwargs):
    return pipeline(
        [
            node(first, "params:model_options", "slow_first_metrics", name="slow_first"),
            node(slow, "slow_first_metrics", "slow_metrics", name="slow_sleep"),
        ]
    )
"""

VALUES = """\
import math

import pandas as pd
from kedro.pipeline import node, pipeline


def odd_metrics(options):
    return {
        "fine": 0.5,
        "flag": True,
        "nan": math.nan,
        "huge": 10**400,
        "text": "0.7",
        "nothing": None,
        "a.b": 1,
        "a": {"b": 2},
    }


def a_table(options):
    # A Snowpark DataFrame (what Snowpark nodes return): it holds the session's lock.
    from kedro_snowflake_mlops.session.current import run_session

    return run_session().create_dataframe(pd.DataFrame({"X": [1, 2, 3]}))


def create_pipeline(**kwargs):
    return pipeline(
        [
            node(odd_metrics, "params:model_options", "odd_metrics", name="odd"),
            node(a_table, "params:model_options", "table_artifact", name="table"),
        ]
    )
"""

CATALOG = """\
tiny_quality:
  type: json.JSONDataset
  filepath: data/08_reporting/tiny_quality.json
  metadata:
    mlflow: metrics
tiny_model_metrics:
  type: json.JSONDataset
  filepath: data/08_reporting/tiny_model_metrics.json
  metadata:
    mlflow: metrics
tiny_model:
  type: pickle.PickleDataset
  filepath: data/06_models/tiny_model.pickle
  metadata:
    mlflow: artifact
slow_first_metrics:
  type: json.JSONDataset
  filepath: data/08_reporting/slow_first_metrics.json
  metadata:
    mlflow: metrics
slow_metrics:
  type: json.JSONDataset
  filepath: data/08_reporting/slow_metrics.json
  metadata:
    mlflow: metrics
odd_metrics:
  type: json.JSONDataset
  filepath: data/08_reporting/odd_metrics.json
  metadata:
    mlflow: metrics
table_artifact:
  type: kedro_snowflake_mlops.datasets.SnowflakeTableDataset
  database: ${globals:snowflake.database}
  schema: ${globals:snowflake.schema}
  table_name: TABLE_ARTIFACT
  metadata:
    mlflow: artifact
"""

TINY_OUTPUTS = (
    "data/08_reporting/tiny_quality.json",
    "data/08_reporting/tiny_model_metrics.json",
    "data/06_models/tiny_model.pickle",
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def bake_attack_project(cookies, name: str) -> BakedProject:
    """The demo, baked under its own name, with the three pipelines above."""
    project = bake(cookies, project_name=name)
    pipelines = project.path / "src" / project.package / "pipelines"
    for folder, code in (("tiny", TINY), ("slow", SLOW), ("values", VALUES)):
        write(
            pipelines / folder / "__init__.py",
            "from .pipeline import create_pipeline  # noqa: F401\n",
        )
        write(pipelines / folder / "pipeline.py", code)
    write(project.path / "conf" / "base" / "catalog_attacks.yml", CATALOG)
    return project


def write_env(project: BakedProject, env: str, mlflow_block: str) -> str:
    """conf/<env>/snowflake.yml with these snowflake.mlflow keys (YAML text); through
    the external functions without the registry, which they cannot reach."""
    block = textwrap.indent(textwrap.dedent(mlflow_block), "    ")
    registry = "  registry: null\n" if "external_functions" in mlflow_block else ""
    write(
        project.path / "conf" / env / "snowflake.yml",
        f"snowflake:\n  mlflow:\n{block}{registry}",
    )
    return env


def tiny_outputs_in(project: BakedProject, env: str, folder: str) -> tuple[str, ...]:
    """conf/<env>/catalog.yml moving the tiny pipeline's files under data/<folder>/.

    Runs started together share one MLflow store but not their files: two Kedro runs
    writing and reading one JSON file at once race on it, which is not what is tested.
    """
    outputs = tuple(f"data/{folder}/{Path(path).name}" for path in TINY_OUTPUTS)
    tiny_entries = CATALOG.split("slow_first_metrics:", maxsplit=1)[0]
    for original, moved in zip(TINY_OUTPUTS, outputs, strict=True):
        tiny_entries = tiny_entries.replace(
            f"filepath: {original}", f"filepath: {moved}"
        )
    write(project.path / "conf" / env / "catalog.yml", tiny_entries)
    return outputs


@dataclass
class Outcome:
    returncode: int
    output: str

    @property
    def summary(self) -> str:
        """The one MLflow summary line (fails when there is not exactly one)."""
        lines = [line for line in self.output.splitlines() if "MLflow run " in line]
        assert len(lines) == 1, self.output[-4000:]
        return lines[0]

    @property
    def run_id(self) -> str:
        found = re.search(r"MLflow run ([0-9a-f]{32})\b", self.summary)
        assert found, self.summary
        return found[1]


def kedro_run(
    project: BakedProject, *args: str, timeout: float = 300, **env: str
) -> Outcome:
    result = project.run("kedro", "run", *args, timeout=timeout, check=False, **env)
    return Outcome(result.returncode, result.stdout + result.stderr)


def run_tiny(project: BakedProject, env: str) -> Outcome:
    """`kedro run --pipelines tiny --env <env>` from no outputs; no worker left after."""
    for output in TINY_OUTPUTS:
        (project.path / output).unlink(missing_ok=True)
    outcome = kedro_run(project, "--env", env, "--pipelines", "tiny")
    assert no_worker_left(project) == []
    return outcome


def outputs_kept(project: BakedProject) -> bool:
    """Every node of the tiny pipeline saved its output."""
    return all((project.path / output).is_file() for output in TINY_OUTPUTS)


# Kedro's own INFO lines before our hooks run, then the error.
MAX_LINES = 6


def error_line(outcome: Outcome) -> str:
    """The one `Error:` line of a stopped run, after checking that the output is short
    and holds no traceback."""
    assert outcome.returncode == 1, outcome.output[-3000:]
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    lines = outcome.output.strip().splitlines()
    assert len(lines) <= MAX_LINES, outcome.output
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, outcome.output
    return errors[0]


def start_kedro_run(project: BakedProject, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project.path,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout} s"
        time.sleep(0.1)


def interrupt(process: subprocess.Popen, signum: int, timeout: float = 120) -> Outcome:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=timeout)
    return Outcome(process.returncode, output)


def sqlite_client(project: BakedProject, database: str = "mlflow.db") -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project.path / database}")


def experiment_runs(client: MlflowClient, experiment: str = "demo-mlops") -> list:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    return client.search_runs([found.experiment_id], max_results=1000)


def worker_processes(project: BakedProject) -> list[tuple[int, str]]:
    """(pid, state) of tracking workers started in this project (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if WORKER_MODULE not in (entry / "cmdline").read_bytes():
                continue
            if os.readlink(entry / "cwd") != str(project.path):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # ended while we looked
        found.append((int(entry.name), state))
    return found


def no_worker_left(project: BakedProject, timeout: float = 30) -> list:
    """Wait until no worker of this project is running (nor a zombie); what is left."""
    deadline = time.monotonic() + timeout
    while (left := worker_processes(project)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


SIGNALS = {
    "SIGINT": signal.SIGINT,
    "SIGTERM": signal.SIGTERM,
    "SIGKILL": signal.SIGKILL,
}
