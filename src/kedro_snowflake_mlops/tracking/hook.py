"""The Kedro hook that makes every `kedro run` one MLflow run.

Which datasets are tracked is read from the catalog, never from node names: a dataset
whose metadata says `mlflow: metrics` holds a dict of metrics, `mlflow: artifact` a file
to keep with the run (the model). The metadata is read from each saved dataset object,
so entries made by dataset factories (`"{name}_metrics"` patterns) count too.

The run ends (through the session, for external functions) before SnowparkSessionHook
closes the session: that hook closes it `trylast`, whatever the order in settings.HOOKS.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from kedro.framework import project
from kedro.framework.hooks import hook_impl

from ..conf import read_snowflake_conf
from .config import (
    MlflowConfig,
    load_mlflow_config,
)
from .joined_run import JoinedRunTransport, joined_run
from .recorder import RunRecorder
from .transport import TrackingTransport
from .values import (
    KEY_RULE,
    metrics_from,
    prepare_params,
    prepare_tags,
)

logger = logging.getLogger(__name__)

ROLES = ("metrics", "artifact")


def make_transport(config: MlflowConfig, project_path: Path) -> TrackingTransport:
    """The transport chosen by `snowflake.mlflow.transport`."""
    if config.transport == "external_access":
        from .external_access import ExternalAccessTransport  # noqa: PLC0415

        return ExternalAccessTransport(
            config.tracking_uri, config.timeout_seconds, project_path / "mlruns"
        )
    if config.transport == "external_functions":
        from ..session.current import run_session  # noqa: PLC0415
        from .external_functions import ExternalFunctionTransport  # noqa: PLC0415

        # The config requires artifact_staging_stage with this transport.
        return ExternalFunctionTransport(
            run_session(),
            config.functions,
            config.stage,
            str(config.artifact_staging_stage),
        )
    # Imported here: mlflow takes seconds to import, and settings.py imports this
    # module for every kedro command, not only for runs tracked directly.
    from .direct import DirectTransport  # noqa: PLC0415

    return DirectTransport(
        config.resolved_tracking_uri(project_path),
        config.timeout_seconds,
        artifact_root=project_path / "mlruns",
        display_uri=config.tracking_uri,
    )


def git_sha(project_path: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, no shell
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _saved_file(dataset: Any) -> Path | None:
    """The local file a file-based Kedro dataset just wrote (versioned or not)."""
    if getattr(dataset, "_protocol", "file") not in ("file", None):
        return None
    try:
        path = dataset._get_load_path()  # the latest version for versioned datasets
    except Exception:
        path = getattr(dataset, "_filepath", None)
    if path is None:
        return None
    local = Path(str(path))
    return local if local.is_file() else None


class MlflowTrackingHook:
    """Starts the MLflow run before the pipeline and ends it FINISHED or FAILED."""

    def __init__(self) -> None:
        # ThreadRunner saves datasets from several threads; one call at a time.
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        # settings.HOOKS holds one instance per process; every run starts clean.
        self.config: MlflowConfig | None = None
        self.project_path = Path.cwd()
        self.env: str | None = None
        self.session_block: dict[str, Any] = {}
        # dataset name -> its mlflow role (None: not tracked), decided once per dataset.
        self.roles: dict[str, str | None] = {}
        self.parameters: dict[str, Any] = {}
        self.catalog: Any = None
        self.recorder: RunRecorder | None = None
        self.logged: set[str] = set()
        self._scratch: tempfile.TemporaryDirectory | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._reset()
        block = read_snowflake_conf(context.config_loader)
        self.config = load_mlflow_config(block)
        self.session_block = dict(block.get("session") or {})
        self.project_path = Path(context.project_path)
        # context.env is None for a bare `kedro run`; the loader knows the default env.
        loader = context.config_loader
        self.env = context.env or getattr(loader, "default_run_env", None)

    @hook_impl
    def after_catalog_created(self, catalog, parameters: dict[str, Any]) -> None:
        self.catalog = catalog
        self.parameters = dict(parameters.get("parameters") or {})

    def _role(self, dataset_name: str) -> str | None:
        """`metrics`, `artifact` or None, from the dataset object's own metadata."""
        if dataset_name in self.roles:
            return self.roles[dataset_name]
        try:
            # get() materialises factory-pattern entries too; None for unknown names.
            found = self.catalog is not None
            dataset = self.catalog.get(dataset_name) if found else None
        except Exception as error:
            logger.debug("MLflow: no dataset %s in catalog: %s", dataset_name, error)
            dataset = None
        metadata = getattr(dataset, "metadata", None)
        role = metadata.get("mlflow") if isinstance(metadata, dict) else None
        if role is not None and role not in ROLES:
            logger.warning(
                "Catalog entry %s has metadata mlflow: %r; use one of %s.",
                dataset_name,
                role,
                ", ".join(ROLES),
            )
            role = None
        self.roles[dataset_name] = role
        return role

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self.config is None:
            return
        joined = joined_run()  # a task of a Snowflake task graph (joined_run.py)
        if joined is not None and joined.run is None:
            return  # the graph's root could not create the run: nothing to log into
        config = self.config
        if joined is not None and joined.tracking_uri:
            config = config.model_copy(update={"tracking_uri": joined.tracking_uri})
        transport = make_transport(config, self.project_path)
        if joined is not None:
            transport = JoinedRunTransport(transport, joined.run)
        self.recorder = RunRecorder(transport, self.config)
        # In a task graph the root task logged the params once, for the whole run.
        prepared = prepare_params({} if joined else self.parameters)
        if prepared.skipped:
            logger.warning(
                "MLflow: params not logged: %s (%s)",
                ", ".join(prepared.skipped),
                KEY_RULE,
            )
        if prepared.truncated:
            logger.warning(
                "MLflow: params too long for MLflow, logged truncated: %s",
                ", ".join(prepared.truncated),
            )
        pipelines = ",".join(run_params.get("pipeline_names") or ["__default__"])
        self.recorder.start(
            run_name=f"{pipelines} {run_params['run_id']}",
            tags=prepare_tags(self._tags(run_params, pipelines)),
            params=prepared.values,
        )

    def _tags(self, run_params: dict[str, Any], pipelines: str) -> dict[str, Any]:
        tags = {
            "kedro.session_id": run_params.get("run_id"),
            "kedro.pipeline": pipelines,
            "kedro.env": run_params.get("env") or self.env,
            "kedro.project": project.PACKAGE_NAME,
            "kedro.version": run_params.get("kedro_version"),
            "mlflow.source.git.commit": git_sha(self.project_path),
            "snowflake.session_mode": self.session_block.get("mode"),
            "tracking.transport": self.config.transport if self.config else None,
        }
        if self.session_block.get("mode") == "snowflake":
            for key in ("role", "warehouse", "database", "schema"):
                tags[f"snowflake.{key}"] = self.session_block.get(key)
        return tags

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if self.recorder is None:
            return
        with self._lock:
            if self._role(dataset_name) is not None:
                self._log(dataset_name, data)

    def _log(self, dataset_name: str, data: Any) -> None:
        self.logged.add(dataset_name)
        if self._role(dataset_name) == "metrics":
            self._log_metrics(dataset_name, data)
        else:
            self._log_artifact(dataset_name, data)

    def _log_metrics(self, dataset_name: str, data: Any) -> None:
        metrics, skipped = metrics_from(dataset_name, data)
        if skipped:
            logger.warning(
                "MLflow: values of %s not logged (not a number, or %s): %s",
                dataset_name,
                KEY_RULE,
                ", ".join(skipped),
            )
        self.recorder.log_metrics(dataset_name, metrics)

    def _log_artifact(self, dataset_name: str, data: Any) -> None:
        dataset = self.catalog.get(dataset_name) if self.catalog is not None else None
        path = _saved_file(dataset)
        if path is None:
            # Not a local file (memory, cloud): keep a pickle of the data instead.
            self._scratch = self._scratch or tempfile.TemporaryDirectory()
            path = Path(self._scratch.name) / f"{dataset_name}.pickle"
            path.write_bytes(pickle.dumps(data))
        self.recorder.log_artifact(dataset_name, path)

    def _log_unseen(self, outputs: set[str]) -> None:
        """Datasets saved in other processes (ParallelRunner) never reached this
        instance's after_dataset_saved; read this run's outputs back from the catalog."""
        for name in sorted(outputs - self.logged):
            if self._role(name) is None:
                continue
            try:
                data = self.catalog.load(name)
            except Exception as error:  # not saved (optional output, failed earlier)
                logger.debug("MLflow: %s not read back: %s", name, error)
                continue
            self._log(name, data)

    @hook_impl
    def after_pipeline_run(self, pipeline) -> None:
        if self.recorder is None:
            return
        if self.catalog is not None:
            self._log_unseen(set(pipeline.all_outputs()))
        self._finish("FINISHED")

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        if self.recorder is None:
            return
        try:
            self._finish("FAILED")
        except Exception as tracking_error:
            # The pipeline's own error is the one Kedro must raise; never replace it.
            logger.warning("MLflow: could not mark the run FAILED: %s", tracking_error)

    def _finish(self, status: str) -> None:
        recorder, self.recorder = self.recorder, None
        try:
            line = recorder.finish(status)
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None
        if recorder.tally.missed:
            logger.warning(line)
        else:
            logger.info(line)
