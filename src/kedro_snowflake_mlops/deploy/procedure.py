"""The stored procedure every task of the graph calls: `CALL <procedure>('<STEP>')`.

STEP is ROOT (start the MLflow run, log the params, hand the run down), FINALIZER (end
the run FINISHED, or FAILED naming the failed node) or the name of a group of nodes,
which it runs with Kedro. Everything else comes from the deploy manifest, a file among
the procedure's IMPORTS, so no value from the project ever becomes SQL text.

Inside the procedure:
- the session is the procedure's own, handed to the project's hooks and datasets
  (kedro_snowflake_mlops.session.current.provide_session);
- the project's conf is the archive `kedro package` made, read where it was imported
  (Kedro's config loader reads a .tar.gz conf_source);
- the working folder is a fresh temporary folder: the raw files the group reads are
  copied into it from the imports; files the group writes live there until it ends
  (grouping.py refuses a file that another task would need).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Snowpark reads the handler's type hints: its first argument must say Session.
from snowflake.snowpark import Session

from ..conf import error_chain, without_credentials
from .steps import FINALIZER, MANIFEST, ROOT
from .task_system import TaskContext, ledger_rows, ledger_write

# Kedro reads its default logging file next to its own code, which zipimport cannot
# open; a plain configuration in the working folder is used instead.
LOGGING = """\
version: 1
disable_existing_loggers: False
formatters:
  simple: {format: "%(levelname)s %(name)s %(message)s"}
handlers:
  console: {class: logging.StreamHandler, formatter: simple, stream: ext://sys.stdout}
loggers:
  kedro: {level: INFO}
  kedro_snowflake_mlops: {level: INFO}
root: {handlers: [console], level: WARNING}
"""
logger = logging.getLogger(__name__)


def import_directory() -> Path:
    """Where Snowflake put the procedure's IMPORTS (documented: sys._xoptions)."""
    return Path(sys._xoptions["snowflake_import_directory"])


def read_manifest() -> dict[str, Any]:
    return json.loads((import_directory() / MANIFEST).read_text(encoding="utf-8"))


def prepare_process(workdir: Path) -> None:
    """Process-wide settings every step needs before Kedro is imported."""
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    logging_file = workdir / "kedro_logging.yml"
    logging_file.write_text(LOGGING, encoding="utf-8")
    os.environ["KEDRO_LOGGING_CONFIG"] = str(logging_file)


def preload(manifest: dict[str, Any]) -> None:
    """Import the project, its pipelines, its datasets' modules (and MLflow when the
    transport needs it). `run --local` calls this once before the first task: Snowpark
    local testing forgets modules first imported inside a procedure call."""
    import importlib  # noqa: PLC0415

    from kedro.framework.project import configure_project, pipelines  # noqa: PLC0415

    configure_project(manifest["package_name"])
    pipelines.get(manifest["pipeline"])
    for module in manifest.get("preload", []):
        importlib.import_module(module)


def task_name(manifest: dict[str, Any], step: str) -> str:
    """The unqualified task name of a step: MLOPS_DEMO_SPLIT_DATA."""
    return f"{manifest['task_prefix'].split('.')[-1]}_{step}"


def main(session: Session, step: str) -> str:
    """The procedure's handler."""
    from ..session.current import provide_session  # noqa: PLC0415

    manifest = read_manifest()
    workdir = Path(tempfile.mkdtemp(prefix="kedro-task-"))
    prepare_process(workdir)
    provide_session(session)
    context = TaskContext(session)
    try:
        if step == ROOT:
            return start_graph_run(session, manifest, context, workdir)
        if step == FINALIZER:
            return finish_graph_run(session, manifest, context, workdir)
        return run_group(session, manifest, context, workdir, step)
    finally:
        provide_session(None)
        shutil.rmtree(workdir, ignore_errors=True)


def _loader(manifest: dict[str, Any]):
    from kedro.framework.project import configure_project, settings  # noqa: PLC0415

    configure_project(manifest["package_name"])
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(import_directory() / manifest["conf_archive"]),
        env=manifest["env"],
        **settings.CONFIG_LOADER_ARGS,
    )


def _tracking(manifest: dict[str, Any], workdir: Path):
    """(mlflow config, transport) as the project's conf says, for the root and the
    finalizer (tasks get theirs from MlflowTrackingHook)."""
    from ..conf import read_snowflake_conf  # noqa: PLC0415
    from ..tracking.config import load_mlflow_config  # noqa: PLC0415
    from ..tracking.hook import make_transport  # noqa: PLC0415

    loader = _loader(manifest)
    config = load_mlflow_config(read_snowflake_conf(loader))
    if manifest.get("tracking_uri"):
        config = config.model_copy(update={"tracking_uri": manifest["tracking_uri"]})
    # `run --local`: a new experiment keeps its artifacts in the project, as with
    # `kedro run`, not in this task's temporary folder.
    root = Path(manifest["project_root"]) if manifest.get("project_root") else workdir
    return loader, config, make_transport(config, root)


def same_deploy(manifest: dict[str, Any], context: TaskContext) -> None:
    """The graph's config names the deploy that made its tasks; the staged manifest the
    deploy of the code. They differ when a deploy stopped half way, or replaced the
    code while a run of the graph was going on (Snowflake then runs the new procedure
    in the old run's later tasks): such a task refuses instead of mixing the two."""
    deployed = context.graph_config().get("deploy_id")
    if deployed != manifest["deploy_id"]:
        raise RuntimeError(
            f"the tasks were created by deploy {deployed}, the staged code by deploy "
            f"{manifest['deploy_id']}: a `kedro snowflake deploy` stopped half way or "
            "ran while the graph was running. Fix: run `kedro snowflake deploy` again, "
            "then `kedro snowflake run`"
        )


def start_graph_run(session, manifest, context: TaskContext, workdir: Path) -> str:
    """ROOT: create the MLflow run, log the params once, hand the run down."""
    from ..tracking.recorder import RunRecorder  # noqa: PLC0415
    from ..tracking.transport import TrackingError  # noqa: PLC0415
    from ..tracking.values import prepare_params, prepare_tags  # noqa: PLC0415

    group_id = context.graph_run_id()
    same_deploy(manifest, context)
    loader, config, transport = _tracking(manifest, workdir)
    params = prepare_params(dict(loader["parameters"])).values
    tags = prepare_tags(
        {
            "kedro.pipeline": manifest["pipeline"],
            "kedro.env": manifest["env"],
            "kedro.project": manifest["package_name"],
            "kedro.runs_in": "snowflake task graph",
            "snowflake.task_graph": f"{manifest['task_prefix']}_{ROOT}",
            "snowflake.graph_run_group_id": group_id,
            "tracking.transport": config.transport,
        }
    )
    run_name = f"{manifest['pipeline']} task graph {time.strftime('%Y-%m-%d %H:%M:%S')}"
    try:
        # The recorder's start: a create retried after a lost answer finds the run
        # it made instead of making a second one (where the transport can look).
        recorder = RunRecorder(transport, config)
        recorder.start(run_name, tags, params)
        for note in recorder.notes:
            logger.warning(note)
        run = recorder.run
        if run is None:
            raise TrackingError(recorder.first_fault or "MLflow did not start a run")
        handed = {
            "run_id": run.run_id,
            "experiment_id": run.experiment_id,
            "artifact_uri": run.artifact_uri,
        }
    except Exception as error:
        if config.on_failure == "fail":
            raise
        logger.warning(
            "MLflow: no run for this graph run (%s); tracking is off for it "
            "(snowflake.mlflow.on_failure: warn)",
            innermost(error),
        )
        handed = None
    finally:
        transport.close()
    if handed:
        logger.info(
            "MLflow run %s started with %s params%s",
            handed["run_id"],
            recorder.tally.params,
            _statements(transport),
        )
        for missed in recorder.tally.missed:
            logger.warning("MLflow: %s NOT logged (%s)", missed, recorder.first_fault)
    value = json.dumps({"run": handed, "group_id": group_id})
    ledger_write(
        session,
        manifest["runs_table"],
        group_id,
        graph=manifest["task_prefix"],
        task=ROOT,
        state="SUCCEEDED",
        run=value,
    )
    context.set_return_value(value)
    return value


def innermost(error: BaseException) -> str:
    """The first error of a chain (Snowpark wraps what a function raised), without
    the credentials of any URL in it: it goes to the terminal."""
    *_, first = error_chain(error)
    return without_credentials(f"{type(first).__name__}: {first}")


def _statements(transport: Any) -> str:
    """`, N SQL statements` for transports that go through Snowflake."""
    count = getattr(transport, "statements", None)
    return "" if count is None else f", {count} SQL statements"


def _failed_node_hook():
    """A hook that remembers which node failed (Kedro raises the node's error, not its
    name). Made on demand: Kedro is imported after prepare_process."""
    from kedro.framework.hooks import hook_impl  # noqa: PLC0415

    class FailedNode:
        node = ""

        @hook_impl
        def on_node_error(self, node) -> None:
            self.node = self.node or node.name

    return FailedNode()


def run_group(session, manifest, context: TaskContext, workdir: Path, step: str) -> str:
    """A group: run its nodes with Kedro, logging into the graph's MLflow run."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    from ..tracking.joined_run import JoinedRun, join_run  # noqa: PLC0415
    from ..tracking.transport import RunInfo  # noqa: PLC0415

    same_deploy(manifest, context)
    group = next(g for g in manifest["groups"] if g["name"] == step)
    predecessor = group["after"][0] if group["after"] else ROOT
    predecessor_task = task_name(manifest, predecessor)
    handed = context.predecessor_return_value(predecessor_task)
    if handed is None:
        raise RuntimeError(
            f"{predecessor_task} handed no return value to {task_name(manifest, step)}"
            " (SYSTEM$GET_PREDECESSOR_RETURN_VALUE is NULL); its procedure sets one"
            " when it succeeds: check that task's last run"
        )
    state = json.loads(handed)
    group_id = state["group_id"]
    for relative in group["input_files"]:
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(import_directory() / manifest["input_files"][relative], target)
    run = RunInfo(**state["run"]) if state.get("run") else None
    join_run(JoinedRun(run, manifest.get("tracking_uri")))
    failed = _failed_node_hook()
    try:
        from kedro.framework.project import configure_project  # noqa: PLC0415

        configure_project(manifest["package_name"])
        with KedroSession.create(
            project_path=workdir,
            env=manifest["env"],
            conf_source=str(import_directory() / manifest["conf_archive"]),
        ) as kedro_session:
            kedro_session._hook_manager.register(failed)
            kedro_session.run(
                pipeline_names=[manifest["pipeline"]], node_names=group["nodes"]
            )
    except Exception as error:
        node = failed.node or ",".join(group["nodes"])
        ledger_write(
            session,
            manifest["runs_table"],
            group_id,
            graph=manifest["task_prefix"],
            task=step,
            state="FAILED",
            node=node,
            error=f"{type(error).__name__}: {error}",
        )
        raise
    finally:
        join_run(None)
    ledger_write(
        session,
        manifest["runs_table"],
        group_id,
        graph=manifest["task_prefix"],
        task=step,
        state="SUCCEEDED",
    )
    context.set_return_value(handed)
    return handed


def finish_graph_run(session, manifest, context: TaskContext, workdir: Path) -> str:
    """FINALIZER: end the run FINISHED when every group succeeded, else FAILED with
    the failed node and its error as tags."""
    from ..tracking.recorder import now_ms  # noqa: PLC0415
    from ..tracking.transport import (  # noqa: PLC0415
        RunInfo,
        policy_failure,
        with_retries,
    )
    from .tags import set_tags  # noqa: PLC0415

    group_id = context.graph_run_id()
    rows = ledger_rows(session, manifest["runs_table"], group_id)
    root = next((r for r in rows if r["TASK"] == ROOT), None)
    handed = json.loads(root["RUN"]) if root else {}
    succeeded = {r["TASK"] for r in rows if r["STATE"] == "SUCCEEDED"}
    failures = [r for r in rows if r["STATE"] == "FAILED"]
    missing = [g["name"] for g in manifest["groups"] if g["name"] not in succeeded]
    status = "FINISHED" if not missing and root else "FAILED"
    result = {"status": status, "group_id": group_id, "run": handed.get("run")}
    if failures:
        result |= {
            "failed_task": failures[0]["TASK"],
            "failed_node": failures[0]["NODE"],
            "error": failures[0]["ERROR"],
        }
    tracking_failure = None
    if handed.get("run"):
        run = RunInfo(**handed["run"])
        _, config, transport = _tracking(manifest, workdir)
        try:
            if status == "FAILED":
                tags = {
                    "kedro.failed_task": result.get("failed_task") or ",".join(missing),
                    "kedro.failed_node": result.get("failed_node") or "(unknown)",
                    "kedro.error": (result.get("error") or "a task did not finish")[
                        :5000
                    ],
                }
                set_tags(transport, manifest, run, tags)
            with_retries(lambda: transport.end_run(run, status, now_ms()), config.retry)
            logger.info(
                "MLflow run %s ended %s%s", run.run_id, status, _statements(transport)
            )
        except Exception as error:  # noqa: BLE001 - the graph's outcome is written anyway
            fault = f"MLflow run {run.run_id} could not be ended {status}: {innermost(error)}"
            if config.on_failure == "fail":
                tracking_failure = policy_failure(fault)
            else:
                logger.warning("%s (snowflake.mlflow.on_failure: warn)", fault)
        finally:
            transport.close()
    value = json.dumps(result)
    ledger_write(
        session,
        manifest["runs_table"],
        group_id,
        graph=manifest["task_prefix"],
        task=FINALIZER,
        state=status,
        run=value,
    )
    if tracking_failure:
        raise tracking_failure  # after the outcome is written: `run` stops waiting
    return value
