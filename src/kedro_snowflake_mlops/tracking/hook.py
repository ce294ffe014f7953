"""The Kedro hook that makes every `kedro run` one MLflow run.

Which datasets are tracked is read from the catalog, never from node names: a dataset
whose metadata says `mlflow: metrics` holds a dict of metrics, `mlflow: artifact` a file
to keep with the run, `mlflow: candidate` the quality gate's Candidate (the new model
and the gate's decision, registered when the pipeline has finished: registry/). The metadata is read from each saved dataset object,
so entries made by dataset factories (`"{name}_metrics"` patterns) count too; metadata
in the wrong shape (a list, an `mlfow:` typo) is refused before the first node runs.

The run is created, with params and tags, before the first node, and always closed:
FINISHED, FAILED (a node failed), or KILLED (Ctrl-C, SIGTERM, or the process ending
before the pipeline did). With the direct transport a worker process records the run
(background.py), so MLflow costs the pipeline almost nothing and even a killed Kedro
process leaves no run RUNNING.

The run ends (through the session, for external functions) before SnowparkSessionHook
closes the session: that hook closes it `trylast`, whatever the order in settings.HOOKS.
"""

from __future__ import annotations

import atexit
import difflib
import logging
import os
import pickle
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from ..conf import did_you_mean, read_snowflake_conf
from ..registry.current import offer_champion
from .background import BackgroundRecorder
from .config import MlflowConfig, MlflowConfigError, load_mlflow_config
from .joined_run import JoinedRunTransport, joined_run
from .recorder import RunRecorder
from .transport import TrackingError, TrackingTransport, policy_failure
from .values import (
    KEY_RULE,
    SECRET_RULE,
    prepare_params,
    prepare_tags,
    read_metrics,
)

logger = logging.getLogger(__name__)

ROLES = ("metrics", "artifact", "candidate")


def make_transport(config: MlflowConfig, project_path: Path) -> TrackingTransport:
    """The transport chosen by `snowflake.mlflow.transport`, in this process."""
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
    # Imported here: settings.py imports this module for every kedro command.
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


def metadata_problem(dataset_name: str, metadata: Any) -> str | None:
    """Why a catalog entry's metadata cannot say what MLflow should do with it, or None.
    Metadata that does not mention MLflow is other tools' business."""
    where = f"catalog entry {dataset_name}: metadata"
    fix = (
        "Fix: write it as a mapping in conf/<env>/catalog.yml, e.g.\n"
        "      metadata:\n        mlflow: metrics   # or: artifact"
    )
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        if "mlflow" not in str(metadata).lower():
            return None
        shape = type(metadata).__name__
        return f"{where} is a {shape} ({metadata!r}), not a mapping. {fix}"
    if "mlflow" in metadata:
        return None
    for key in metadata:
        if did_you_mean(str(key).lower(), ["mlflow"]) or "mlflow" in str(key).lower():
            return (
                f"{where} has key `{key}`, not `mlflow` (did you mean `mlflow`?). {fix}"
            )
    return None


class MlflowTrackingHook:
    """Starts the MLflow run before the pipeline and ends it FINISHED, FAILED or KILLED."""

    def __init__(self) -> None:
        # ThreadRunner saves datasets from several threads; one call at a time.
        self._lock = threading.Lock()
        # ParallelRunner's forked processes inherit this object: only this process
        # records (the others' outputs are read back at the end, see _log_unseen).
        self._owner_pid = os.getpid()
        self.recorder: RunRecorder | BackgroundRecorder | None = None
        self._worker: BackgroundRecorder | None = None
        self._previous_sigterm: Any = None
        self._reset()

    def _reset(self) -> None:
        # settings.HOOKS holds one instance per process; every run starts clean. A run
        # left open by an interrupted run in this process (Ctrl-C in a notebook) is
        # ended KILLED, and an unused worker is stopped.
        if self.recorder is not None:
            self._finish("KILLED", interrupted=True)
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        offer_champion(None)
        self.config: MlflowConfig | None = None
        self.project_path = Path.cwd()
        self.env: str | None = None
        self.session_block: dict[str, Any] = {}
        # dataset name -> its mlflow role (None: not tracked), decided once per dataset.
        self.roles: dict[str, str | None] = {}
        self.parameters: dict[str, Any] = {}
        self.catalog: Any = None
        self.logged: set[str] = set()
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.registry: Any = None  # registry.config.RegistryConfig, from the block
        self.candidate: Any = None  # what the gate node saved (registry.lifecycle)
        # The champion, read once per run (the gate and scoring may both ask), and
        # whether it could be read: the alias never moves past an unread champion.
        self._champion: tuple[Any, bool] | None = None

    # -- configuration ----------------------------------------------------------------

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        """Read the config and, for the direct transport, start the worker process
        now: it imports MLflow and opens the store while Kedro opens the Snowpark
        session and loads the pipeline (tryfirst: before the session hook)."""
        self._reset()
        block = read_snowflake_conf(context.config_loader)
        self.config = load_mlflow_config(block)
        self.session_block = dict(block.get("session") or {})
        self.project_path = Path(context.project_path)
        # context.env is None for a bare `kedro run`; the loader knows the default env.
        loader = context.config_loader
        self.env = context.env or getattr(loader, "default_run_env", None)
        self._check_registry(block)
        # Inside a task of a task graph the run is the graph's, logged in-process.
        if self.config.transport == "direct" and joined_run() is None:
            self._worker = self._start_worker()

    def _check_registry(self, block: dict[str, Any]) -> None:
        """The registry block, before the first node: a target the transport cannot
        reach would otherwise fail only when the model is registered."""
        if block.get("registry") is None:
            return
        from ..registry.config import (  # noqa: PLC0415
            RegistryConfigError,
            load_registry_config,
            transport_problem,
        )

        registry = load_registry_config(block)
        if problem := transport_problem(registry, self.config.transport, self.env):
            raise RegistryConfigError(problem)
        self.registry = registry

    def _start_worker(self) -> BackgroundRecorder:
        config = self.config
        return BackgroundRecorder(
            config,
            config.resolved_tracking_uri(self.project_path),
            config.tracking_uri,
            self.project_path / "mlruns",
            self.registry,
        )

    @hook_impl
    def after_catalog_created(self, catalog, parameters: dict[str, Any]) -> None:
        self.catalog = catalog
        self.parameters = dict(parameters.get("parameters") or {})
        if "quality_gate" in self.parameters:
            from ..registry.gate import parse_rules  # noqa: PLC0415

            # The gate's rules, checked before the first node rather than at the end.
            parse_rules(self.parameters["quality_gate"])

    def _role(self, dataset_name: str) -> str | None:
        """`metrics`, `artifact` or None, from the dataset object's own metadata (read,
        and refused when in the wrong shape, before the first node: _check_metadata)."""
        return self.roles.get(dataset_name)

    def _read_role(self, dataset_name: str) -> str | None:
        """Note the dataset's role in self.roles; what is wrong with its metadata (it
        then has no role), or None."""
        metadata = getattr(self._dataset(dataset_name), "metadata", None)
        problem = metadata_problem(dataset_name, metadata)
        if problem:
            return problem
        role = metadata.get("mlflow") if isinstance(metadata, Mapping) else None
        if role is not None and role not in ROLES:
            near = difflib.get_close_matches(str(role), ROLES, n=1)
            logger.warning(
                "Catalog entry %s has metadata mlflow: %r%s; use one of %s.",
                dataset_name,
                role,
                f" (did you mean {near[0]!r}?)" if near else "",
                ", ".join(ROLES),
            )
            role = None
        self.roles[dataset_name] = role
        return None

    def _dataset(self, dataset_name: str) -> Any:
        try:
            # get() materialises factory-pattern entries too; None for unknown names.
            return self.catalog.get(dataset_name) if self.catalog is not None else None
        except Exception as error:  # noqa: BLE001 - not in the catalog: not tracked
            logger.debug("MLflow: no dataset %s in catalog: %s", dataset_name, error)
            return None

    def _check_metadata(self, pipeline: Any) -> None:
        """Read each dataset's role, and refuse metadata in the wrong shape, before the
        first node runs."""
        if pipeline is None or self.catalog is None:
            return
        problems = [
            problem
            for name in sorted(pipeline.datasets())
            if (problem := self._read_role(name))
        ]
        if problems:
            raise MlflowConfigError("\n".join(problems))

    # -- the run ----------------------------------------------------------------------

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline) -> None:
        if self.config is None:
            return
        self._check_metadata(pipeline)
        joined = joined_run()  # a task of a Snowflake task graph (joined_run.py)
        if joined is not None and joined.run is None:
            # The graph's root could not create the run: nothing to log into, and no
            # champion to be read either (the gate judges on its thresholds).
            offer_champion(self._untracked_champion)
            return
        if joined is None and self.config.transport == "direct":
            worker, self._worker = self._worker, None
            if worker is None or not worker.alive:  # a second run of this context
                worker = self._start_worker()
            recorder = worker
        else:
            recorder = RunRecorder(self._transport(joined), self.config)
        # In a task graph the root task logged the params once, for the whole run.
        prepared = prepare_params({} if joined else self.parameters)
        self._announce(prepared)
        pipelines = ",".join(run_params.get("pipeline_names") or ["__default__"])
        self.recorder = recorder
        self._arm()
        offer_champion(self._read_champion)
        prefetch = self.registry is not None and self._reads_champion(pipeline)
        try:
            recorder.start(
                run_name=f"{pipelines} {run_params['run_id']}",
                tags=prepare_tags(self._tags(run_params, pipelines)),
                params=prepared.values,
            )
            if prefetch:
                recorder.prefetch_champion(self.registry)
        except BaseException:
            # No run (on_failure: fail, or a missing experiment): nothing to end; the
            # worker or the transport is released.
            self.recorder = None
            offer_champion(None)
            self._disarm()
            recorder.close()
            raise

    def _transport(self, joined) -> TrackingTransport:
        """The configured transport in this process; in a task of a task graph, one
        that logs into the graph's run and leaves its end to the finalizer."""
        if joined is None:
            return make_transport(self.config, self.project_path)
        config = self.config
        if joined.tracking_uri:
            config = config.model_copy(update={"tracking_uri": joined.tracking_uri})
        return JoinedRunTransport(make_transport(config, self.project_path), joined.run)

    @staticmethod
    def _announce(prepared) -> None:
        if prepared.skipped:
            logger.warning(
                "MLflow: params not logged: %s (%s)",
                ", ".join(prepared.skipped),
                KEY_RULE,
            )
        if prepared.collided:
            logger.warning(
                "MLflow: params not logged: %s (two values flatten to each of these "
                "keys, e.g. `a.b: 1` and `a: {b: 2}`; rename one of them)",
                ", ".join(prepared.collided),
            )
        if prepared.truncated:
            logger.warning(
                "MLflow: params too long for MLflow, logged truncated: %s",
                ", ".join(prepared.truncated),
            )
        if prepared.redacted:
            logger.info(
                "MLflow: params logged as [redacted] because their names look secret "
                "(%s): %s; rename a param that is not a secret",
                SECRET_RULE,
                ", ".join(prepared.redacted),
            )

    def _tags(self, run_params: dict[str, Any], pipelines: str) -> dict[str, Any]:
        # Imported here: settings.py imports this module, and reading a project's conf
        # (the post-generation check) should not pay for Kedro's project machinery.
        from kedro.framework import project  # noqa: PLC0415

        tags = {
            "kedro.session_id": run_params.get("run_id"),
            "kedro.pipeline": pipelines,
            "kedro.env": run_params.get("env") or self.env,
            "kedro.project": project.PACKAGE_NAME,
            "kedro.version": run_params.get("kedro_version"),
            # Inside a task graph there is no checkout, and a procedure may not start
            # a process (docs: Python stored procedure limitations).
            "mlflow.source.git.commit": (
                git_sha(self.project_path) if joined_run() is None else None
            ),
            "snowflake.session_mode": self.session_block.get("mode"),
            "tracking.transport": self.config.transport,
        }
        if self.session_block.get("mode") == "snowflake":
            for key in ("role", "warehouse", "database", "schema"):
                tags[f"snowflake.{key}"] = self.session_block.get(key)
        return tags

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if self.recorder is None or os.getpid() != self._owner_pid:
            return
        with self._lock:
            role = self._role(dataset_name)
            if role is not None:
                self._log(dataset_name, role, data)

    def _log(self, dataset_name: str, role: str, data: Any) -> None:
        """Hand one dataset's data to MLflow. Under `warn`, nothing here can stop the
        pipeline: an unexpected problem with the data is named and skipped."""
        self.logged.add(dataset_name)
        try:
            if role == "metrics":
                self._log_metrics(dataset_name, data)
            elif role == "candidate":
                self._take_candidate(dataset_name, data)
            else:
                self._log_artifact(dataset_name, data)
        except TrackingError:
            raise  # on_failure: fail
        except Exception as error:
            kind = {"metrics": "metrics of", "candidate": "candidate model"}
            what = f"{kind.get(role, 'artifact')} {dataset_name}"
            reason = f"{type(error).__name__}: {str(error).strip()[:200]}"
            if self.config is not None and self.config.on_failure == "fail":
                raise policy_failure(
                    f"MLflow could not log {what}: {reason}"
                ) from error
            logger.warning("MLflow: %s not logged: %s", what, reason)
            self.recorder.not_logged(what)

    def _log_metrics(self, dataset_name: str, data: Any) -> None:
        read = read_metrics(dataset_name, data)
        if read.skipped:
            logger.warning(
                "MLflow: values of %s not logged: %s (%s)",
                dataset_name,
                ", ".join(f"{key} ({why})" for key, why in read.skipped.items()),
                KEY_RULE,
            )
        self.recorder.log_metrics(dataset_name, read.metrics)

    def _log_artifact(self, dataset_name: str, data: Any) -> None:
        path = _saved_file(self._dataset(dataset_name))
        if path is None:
            # Not a local file (memory, cloud, a table): keep a pickle of the data.
            try:
                payload = pickle.dumps(data)
            except Exception as error:  # noqa: BLE001 - a session, a lock, a generator
                logger.warning(
                    "MLflow: artifact %s not logged: its data (a %s) is not a local "
                    "file and cannot be pickled (%s). To keep it with the run, save it "
                    "to a file dataset (e.g. pandas.CSVDataset) and give that one "
                    "`mlflow: artifact`.",
                    dataset_name,
                    f"{type(data).__module__}.{type(data).__qualname__}",
                    str(error)[:200],
                )
                self.recorder.not_logged(f"artifact {dataset_name} (cannot be pickled)")
                return
            self._scratch = self._scratch or tempfile.TemporaryDirectory()
            path = Path(self._scratch.name) / f"{dataset_name}.pickle"
            path.write_bytes(payload)
        self.recorder.log_artifact(dataset_name, path)

    def _untracked_champion(self) -> None:
        if self.registry is not None:
            logger.warning(
                "MLflow: this run is not tracked, so the champion of %s is not read",
                self.registry.model_name,
            )

    def _reads_champion(self, pipeline: Any) -> bool:
        from ..datasets import ChampionModelDataset  # noqa: PLC0415

        return any(
            isinstance(self._dataset(name), ChampionModelDataset)
            for name in pipeline.inputs()
        )

    def _read_champion(self) -> Any:
        """ChampionModelDataset's load: the registry's champion, or None (none yet,
        or no registry in this env: the gate then judges on its thresholds alone)."""
        if self.registry is None:
            return None
        with self._lock:
            if self._champion is None:
                self._champion = self.recorder.read_champion(self.registry)
            return self._champion[0]

    def _take_candidate(self, dataset_name: str, data: Any) -> None:
        """The gate node's Candidate: its decision is said now, and recorded (with the
        model registered) once the pipeline has finished."""
        from ..registry.lifecycle import Candidate, unread_champion  # noqa: PLC0415

        if not isinstance(data, Candidate):
            raise TypeError(
                f"{dataset_name} has metadata mlflow: candidate, so its node must "
                "return a kedro_snowflake_mlops.registry.lifecycle.Candidate (got a "
                f"{type(data).__name__})"
            )
        if self._champion is not None and not self._champion[1]:
            data.decision = unread_champion(data.decision)
        self.candidate = data
        name = self.registry.model_name if self.registry else dataset_name
        decision = data.decision
        (logger.info if decision.passed else logger.warning)(decision.line(name))
        if self.registry is None:
            logger.info(
                "MLflow: %s is not registered: conf/%s/snowflake.yml sets no "
                "snowflake.registry (see conf/base/snowflake.yml).",
                dataset_name,
                self.env,
            )

    def _register_candidate(self) -> None:
        candidate, self.candidate = self.candidate, None
        if candidate is None or self.recorder is None or self.registry is None:
            return
        self.recorder.register(self.registry, candidate)

    def _log_unseen(self, outputs: set[str]) -> None:
        """Datasets saved in other processes (ParallelRunner) never reached this
        instance's after_dataset_saved; read this run's outputs back from the catalog."""
        for name in sorted(outputs - self.logged):
            role = self._role(name)
            if role is None:
                continue
            try:
                data = self.catalog.load(name)
            except Exception as error:  # not saved (optional output, failed earlier)
                logger.debug("MLflow: %s not read back: %s", name, error)
                continue
            self._log(name, role, data)

    @hook_impl
    def after_pipeline_run(self, pipeline) -> None:
        if self.recorder is None or os.getpid() != self._owner_pid:
            return
        try:
            if self.catalog is not None:
                self._log_unseen(set(pipeline.all_outputs()))
            self._register_candidate()
        finally:
            self._finish("FINISHED")

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        if self.recorder is None or os.getpid() != self._owner_pid:
            return
        try:
            self._finish("FAILED")
        except Exception as tracking_error:  # noqa: BLE001
            # The pipeline's own error is the one Kedro must raise; never replace it.
            logger.warning("MLflow: could not mark the run FAILED: %s", tracking_error)

    def _finish(self, status: str, interrupted: bool = False) -> None:
        recorder, self.recorder = self.recorder, None
        self._disarm()
        offer_champion(None)
        self._champion = None
        self.candidate = None
        try:
            line = recorder.finish(status, interrupted=interrupted)
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None
            for note in recorder.notes:
                logger.warning(note)
        if recorder.tally.missed:
            logger.warning(line)
        else:
            logger.info(line)

    # -- interruptions ----------------------------------------------------------------

    def _arm(self) -> None:
        """Until the run ends: close it KILLED at interpreter exit (Ctrl-C raises
        KeyboardInterrupt, which Kedro does not report to hooks), and turn SIGTERM into
        an orderly exit (status 143) instead of an instant death, where nobody else
        handles SIGTERM."""
        atexit.register(self._at_exit)
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _disarm(self) -> None:
        atexit.unregister(self._at_exit)
        previous, self._previous_sigterm = self._previous_sigterm, None
        if (
            previous is not None
            and threading.current_thread() is threading.main_thread()
        ):
            signal.signal(signal.SIGTERM, previous)

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        del frame
        if os.getpid() != self._owner_pid:  # a forked runner process: die as usual
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise SystemExit(128 + signum)

    def _at_exit(self) -> None:
        if self.recorder is not None and os.getpid() == self._owner_pid:
            try:
                self._finish("KILLED", interrupted=True)
            except Exception as error:  # noqa: BLE001 - exiting anyway
                logger.warning("MLflow: could not mark the run KILLED: %s", error)
