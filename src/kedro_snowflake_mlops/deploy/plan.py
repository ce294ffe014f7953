"""The plan of a deploy: the task groups, the files for the code stage, the manifest
the procedure reads, and the SQL that creates the procedure and the task graph.

Only validated names enter SQL text: identifiers from snowflake.deploy (plain unquoted
identifiers, see config.py), task names made of [A-Z0-9_], package names matching a
strict pattern and file names this module makes. Node names, dataset names and paths
travel in the manifest, a file the procedure imports.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..conf import project_config_loader, read_snowflake_conf
from .config import DeployConfig, load_deploy_config, schedule_problem
from .grouping import (
    Estimate,
    PlanError,
    TaskGraph,
    TaskGroup,
    dataset_kind,
    group_nodes,
    task_suffix,
)
from .imports import Trace, load_trace, trace_key
from .packaging import PLUGIN, canonical, project_requirements, resolve_code, zip_name
from .steps import FINALIZER, MANIFEST, ROOT
from .task_system import LEDGER_COLUMNS

HANDLER = "kedro_snowflake_mlops.deploy.procedure.main"
DEFAULT_PIPELINE = "__default__"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
RUNS_TABLE_COLUMNS = ", ".join(
    f"{name} {kind}" for name, kind in LEDGER_COLUMNS.items()
)


@dataclass
class Plan:
    """Everything deploy will create, computed offline."""

    project: Path
    env: str
    package_name: str
    deploy: DeployConfig
    mlflow: Any  # MlflowConfig
    graph: TaskGraph
    shipped: list[Any] = field(default_factory=list)  # distributions
    provided: list[str] = field(default_factory=list)
    # Every pure-Python library the requirements reach; shipped are those traced.
    candidates: list[Any] = field(default_factory=list)
    traced: Trace | None = None
    trace_key: str = ""
    # Nodes that require the registry's champion ("node score_shuttles reads ...").
    champion_readers: list[str] = field(default_factory=list)
    registry: Any = None  # registry.config.RegistryConfig of the env, if any

    @property
    def groups(self) -> list[TaskGroup]:
        return self.graph.groups

    # --- names ----------------------------------------------------------------------
    # One graph per deployed pipeline: __default__ takes the names snowflake.deploy
    # gives; any other pipeline adds its name to the tasks, the procedure and the folder
    # of its code, so that pipelines are deployed side by side.
    @property
    def graph_suffix(self) -> str:
        pipeline = self.deploy.pipeline
        return "" if pipeline == DEFAULT_PIPELINE else f"_{task_suffix(pipeline)}"

    @property
    def task_prefix(self) -> str:
        return f"{self.deploy.task_prefix}{self.graph_suffix}".upper()

    @property
    def procedure(self) -> str:
        return f"{self.deploy.procedure}{self.graph_suffix}"

    @property
    def schedule(self) -> str | None:
        """The root's SCHEDULE (--schedule, or snowflake.deploy.schedules), or None."""
        return self.deploy.schedules.get(self.deploy.pipeline)

    def task(self, step: str) -> str:
        return f"{self.task_prefix}_{step}".upper()

    @property
    def tasks(self) -> list[str]:
        return [self.task(step) for step in self.steps]

    @property
    def steps(self) -> list[str]:
        return [ROOT, *(g.name for g in self.groups), FINALIZER]

    @property
    def stage_folder(self) -> str:
        # Graphs of other pipelines keep their code beside, not below, this folder:
        # destroy removes a folder with all it holds.
        folder = f"{self.package_name}{self.graph_suffix.lower()}"
        return f"{self.deploy.code_stage.rstrip('/')}/{folder}"

    @property
    def project_zip(self) -> str:
        return f"{self.package_name}.zip"

    @property
    def conf_archive(self) -> str:
        return f"conf-{self.package_name}.tar.gz"

    def input_file_names(self) -> dict[str, str]:
        """Raw files the pipeline reads -> their names among the imports."""
        files = sorted({f for g in self.groups for f in g.input_files})
        return {
            f: "input__" + re.sub(r"[^A-Za-z0-9._-]", "_", f.replace("/", "__"))
            for f in files
        }

    def import_names(self) -> list[str]:
        """The procedure's IMPORTS, in order: the project, the plugin and the shipped
        libraries, the conf archive, the raw inputs, the manifest."""
        names = [self.project_zip]
        names += [zip_name(dist) for dist in self.shipped]
        names += [self.conf_archive, *self.input_file_names().values(), MANIFEST]
        return names

    def candidate_zips(self) -> dict[str, str]:
        """Canonical name -> stage file name, for every library that could be shipped."""
        return {canonical(d.metadata["Name"]): zip_name(d) for d in self.candidates}

    @property
    def needs_trace(self) -> bool:
        """Shipping what the tasks import, but no trace holds for this code yet."""
        return self.deploy.ship == "traced" and self.traced is None

    def refuse_for_account(self) -> None:
        """What can run offline but not inside Snowflake."""
        if self.mlflow.transport == "direct":
            raise PlanError(
                f"snowflake.mlflow.transport is direct in env {self.env}: inside "
                "Snowflake the MLflow client cannot reach a tracking store without "
                "external access. Fix: deploy with --env snowflake (transport "
                "external_functions) or set transport external_access (sql/80)"
            )

    # --- what the procedure reads -------------------------------------------------------
    def manifest(
        self, tracking_uri: str | None = None, project_root: str | None = None
    ) -> dict[str, Any]:
        """What the procedure reads. `run --local` adds where the laptop's MLflow store
        is (tracking_uri) and where a new experiment keeps artifacts (project_root)."""
        body = {
            "package_name": self.package_name,
            "pipeline": self.deploy.pipeline,
            "env": self.env,
            "conf_archive": self.conf_archive,
            "task_prefix": self.task_prefix,
            "runs_table": self.deploy.runs_table.upper(),
            "transport": self.mlflow.transport,
            "tag_function": self.deploy.tag_function,
            "tracking_uri": tracking_uri,
            "project_root": project_root,
            "input_files": self.input_file_names(),
            "groups": [
                {
                    "name": g.name,
                    "nodes": g.nodes,
                    "after": g.after,
                    "input_files": g.input_files,
                }
                for g in self.groups
            ],
            "preload": self.preload_modules(),
        }
        body["deploy_id"] = hashlib.sha256(
            json.dumps(body, sort_keys=True).encode()
        ).hexdigest()[:16]
        return body

    def preload_modules(self) -> list[str]:
        modules = [
            "kedro.framework.session",
            "kedro.runner",
            "kedro_snowflake_mlops.tracking.hook",
        ]
        if self.mlflow.transport in ("direct", "external_access"):
            from ..tracking.direct import MLFLOW_MODULES  # noqa: PLC0415

            modules += ["kedro_snowflake_mlops.tracking.direct", *MLFLOW_MODULES]
        if self.mlflow.transport == "external_access":
            modules += ["kedro_snowflake_mlops.tracking.external_access"]
        if self.mlflow.transport == "external_functions":
            modules += ["kedro_snowflake_mlops.tracking.external_functions"]
        return modules

    # --- SQL ----------------------------------------------------------------------------
    def packages_literal(self) -> str:
        """PACKAGES as the procedure lists them: ('pandas', 'mlflow>=3')."""
        return "(" + ", ".join(f"'{p}'" for p in self.deploy.packages) + ")"

    def resolve_packages(self) -> tuple[str, list[str]]:
        """Asks Snowflake, before anything is created, which versions PACKAGES resolve
        to for the runtime, from the repository the procedure names (docs:
        system_resolve_python_packages; any role may call it). Values bound."""
        return (
            "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES(?, ?, ?)",
            [
                self.deploy.runtime_version,
                self.packages_literal(),
                self.deploy.artifact_repository,
            ],
        )

    def procedure_sql(self) -> str:
        imports = ",\n    ".join(
            f"'{self.stage_folder}/{n}'" for n in self.import_names()
        )
        lines = [
            f"CREATE OR REPLACE PROCEDURE {self.procedure}(STEP VARCHAR)",
            "  RETURNS VARCHAR",
            "  LANGUAGE PYTHON",
            f"  RUNTIME_VERSION = '{self.deploy.runtime_version}'",
            f"  ARTIFACT_REPOSITORY = {self.deploy.artifact_repository}",
            f"  PACKAGES = {self.packages_literal()}",
            f"  IMPORTS = (\n    {imports}\n  )",
            f"  HANDLER = '{HANDLER}'",
        ]
        if self.deploy.external_access_integrations:
            names = ", ".join(self.deploy.external_access_integrations)
            lines.append(f"  EXTERNAL_ACCESS_INTEGRATIONS = ({names})")
        if self.deploy.secrets:
            pairs = ", ".join(f"'{k}' = {v}" for k, v in self.deploy.secrets.items())
            lines.append(f"  SECRETS = ({pairs})")
        lines.append("  EXECUTE AS OWNER")
        return "\n".join(lines)

    def task_sql(self, step: str, manifest_id: str) -> str:
        lines = [
            f"CREATE OR REPLACE TASK {self.task(step)}",
            f"  WAREHOUSE = {self.deploy.warehouse}",
        ]
        if step == ROOT:
            if self.schedule:
                lines.append(f"  SCHEDULE = '{self.schedule}'")
            # The graph's config (docs.snowflake.com/en/sql-reference/sql/create-task,
            # CONFIG = $${...}$$): which deploy made these tasks. Every task compares
            # it with the staged manifest, so tasks and code of two deploys never mix.
            config = json.dumps({"deploy_id": manifest_id})
            lines.append(f"  CONFIG = $${config}$$")
        elif step == FINALIZER:
            lines.append(f"  FINALIZE = {self.task(ROOT)}")
        else:
            group = next(g for g in self.groups if g.name == step)
            after = ", ".join(self.task(name) for name in group.after or [ROOT])
            lines.append(f"  AFTER {after}")
        lines.append(f"  AS CALL {self.procedure}('{step}')")
        return "\n".join(lines)

    def runs_table_sql(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.deploy.runs_table} ({RUNS_TABLE_COLUMNS})"

    def suspend_sql(self) -> str:
        """A child task can only be replaced while its root is suspended."""
        return f"ALTER TASK IF EXISTS {self.task(ROOT)} SUSPEND"

    def ddl(self, manifest_id: str) -> list[str]:
        """The procedure, then the tasks from the root to the finalizer."""
        tasks = [self.task_sql(step, manifest_id) for step in self.steps]
        return [self.procedure_sql(), *tasks]

    def resume_statements(self) -> list[tuple[str, list[str]]]:
        """What makes the new tasks run (they are created suspended). EXECUTE TASK runs
        a suspended root but skips suspended children (docs: execute-task), so the
        children and the finalizer are resumed, while the root stays suspended: a root
        without SCHEDULE is not documented to resume. With a schedule the root is
        resumed too, with its dependents, by SYSTEM$TASK_DEPENDENTS_ENABLE (binds the
        root's name); from then on it runs on the schedule."""
        if self.schedule:
            return [("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE(?)", [self.task(ROOT)])]
        return [(f"ALTER TASK {name} RESUME", []) for name in self.tasks[1:]]

    def statements(self, manifest_id: str) -> list[str]:
        """The SQL of a deploy after the files are on the stage, in order (`?` binds
        the value the plan prints beside it). Tasks of the graph's earlier deploy that
        this one no longer has are dropped after the suspend (online)."""
        return [
            bound_text(*self.resolve_packages()),
            self.runs_table_sql(),
            self.suspend_sql(),
            *self.ddl(manifest_id),
            *(bound_text(sql, values) for sql, values in self.resume_statements()),
        ]

    # --- the graph as text --------------------------------------------------------------
    def graph_summary(self) -> list[str]:
        """The grouping, the number of tasks, the critical path and its estimate."""
        graph, estimate = self.graph, self.graph.estimate
        path = " -> ".join(graph.critical_path)
        return [
            f"Task graph: grouping {graph.grouping}, {len(self.groups)} task(s) of "
            f"nodes besides the root and the finalizer; critical path "
            f"{len(graph.critical_path)} task(s): {path}",
            f"  estimated {graph.seconds:.1f} s along it (a cold start "
            f"{estimate.cold_start_seconds:.1f} s per task, a node "
            f"{estimate.node_seconds:.1f} s"
            + (
                f", {len(estimate.nodes)} node(s) as snowflake.deploy.estimate.nodes says"
                if estimate.nodes
                else ""
            )
            + "), plus the root's and the finalizer's cold starts",
            *[f"  {line}" for line in graph.kept_apart],
        ]

    def graph_text(self) -> str:
        lines = [f"{self.task(ROOT)}   (starts the MLflow run, logs the params)"]
        for group in self.groups:
            after = ", ".join(group.after or [ROOT])
            lines.append(
                f"  {self.task(group.name)}   after {after}   "
                f"(est. {group.seconds:.1f} s of nodes)"
            )
            for node in group.nodes:
                why = "; ".join(group.why.get(node, [])) or (
                    "the task's first node" if node == group.nodes[0] else ""
                )
                lines.append(f"      node {node}" + (f"   <- {why}" if why else ""))
            for path in group.input_files:
                lines.append(f"      reads {path} (shipped with the code)")
            lines += self._champion_lines(group.nodes)
        lines.append(
            f"{self.task(FINALIZER)}   (always runs: ends the MLflow run FINISHED or FAILED)"
        )
        return "\n".join(lines)

    def _champion_lines(self, nodes: list[str]) -> list[str]:
        """Where a task's nodes read the champion from (the registry call)."""
        if self.registry is None:
            return []
        uri = f"models:/{self.registry.model_name}@{self.registry.alias}"
        return [
            f"      {reader}: {uri} from MLflow's registry at "
            f"{self.mlflow.tracking_uri}, through the procedure's MLflow client "
            f"(transport {self.mlflow.transport})"
            for reader in self.champion_readers
            if reader.split()[1] in nodes
        ]

    def file_sizes(self) -> dict[str, int]:
        """Bytes of each file deploy uploads, where known: the libraries, the project
        and its conf as the trace built them, the raw inputs and the manifest now."""
        sizes = dict(self.traced.sizes) if self.traced else {}
        for relative, name in self.input_file_names().items():
            sizes[name] = (self.project / relative).stat().st_size
        sizes[MANIFEST] = len(json.dumps(self.manifest(), indent=2).encode())
        return {name: sizes[name] for name in self.import_names() if name in sizes}

    def files_text(self) -> list[str]:
        """The IMPORTS with their sizes, and the libraries that stay home."""
        names, sizes = self.import_names(), self.file_sizes()
        total = (
            f", {size_text(sum(sizes.values()))}" if len(sizes) == len(names) else ""
        )
        shipped = {canonical(d.metadata["Name"]) for d in self.shipped}
        home = sorted(set(self.candidate_zips()) - shipped)
        if self.traced:
            source = (
                f"the {len(self.shipped)} of {len(self.candidates)} libraries the tasks "
                f"imported when `kedro snowflake run --local` traced them "
                f"({self.traced.traced_at}, conf env {self.traced.env})"
            )
        else:
            source = (
                f"all {len(self.candidates)} libraries the requirements reach "
                f"(snowflake.deploy.ship: {self.deploy.ship})"
            )

        def line(name: str, what: str) -> str:
            size = f"{size_text(sizes[name]):>9}" if name in sizes else " " * 9
            return f"  {size}  {name}   {what}"

        return [
            f"Files for {self.stage_folder}/ (the procedure's IMPORTS): "
            f"{len(names)} files{total}",
            f"  libraries: {source}",
            *([f"  left home: {', '.join(home)}"] if home else []),
            line(self.project_zip, "the project (kedro package)"),
            *[
                line(
                    zip_name(d), f"{d.metadata['Name']} (pure Python, not in PACKAGES)"
                )
                for d in self.shipped
            ],
            line(self.conf_archive, "conf/ (kedro package; conf/local is left out)"),
            *[line(n, f) for f, n in self.input_file_names().items()],
            line(MANIFEST, "the groups and their nodes, read by the procedure"),
        ]

    def text(self) -> str:
        """The whole plan, for `deploy --dry-run`."""
        manifest = self.manifest()
        objects = [
            ("code stage folder", self.stage_folder),
            ("runs table", self.deploy.runs_table),
            ("procedure", f"{self.procedure}(VARCHAR)"),
            *[("task", name) for name in self.tasks],
        ]
        width = max(len(kind) for kind, _ in objects)
        out = [
            f"Plan: pipeline {self.deploy.pipeline}, conf env {self.env}, MLflow "
            f"transport {self.mlflow.transport} (dry run: no connection; nothing is "
            "uploaded or created in Snowflake)",
            "",
            "Objects:",
            *[f"  {kind:<{width}}  {name}" for kind, name in objects],
            "",
            *self.graph_summary(),
            *[f"  {line}" for line in self.graph_text().splitlines()],
            "",
            *self.files_text(),
            "",
            f"PACKAGES (from {self.deploy.artifact_repository}): "
            f"{', '.join(self.deploy.packages)}",
            "",
            "SQL:",
        ]
        for statement in self.statements(manifest["deploy_id"]):
            out.append(statement.rstrip(";") + ";")
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def make_plan(
    project: Path,
    env: str,
    pipeline: str | None = None,
    grouping: str | None = None,
    schedule: str | None = None,
) -> Plan:
    """Read conf/<env>, group the pipeline's nodes and resolve the code to ship;
    `pipeline`, `grouping` and `schedule` (the pipeline's) override snowflake.deploy's."""
    from kedro.framework import project as kedro_project  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    from ..tracking.config import load_mlflow_config  # noqa: PLC0415

    bootstrap_project(project)  # the project's settings, package and pipelines
    loader = project_config_loader(project, env)
    pipelines = kedro_project.pipelines
    block = read_snowflake_conf(loader)
    deploy = load_deploy_config(block)
    if pipeline:
        deploy = deploy.model_copy(update={"pipeline": pipeline})
    if grouping:
        deploy = deploy.model_copy(update={"grouping": grouping})
    if schedule:
        if problem := schedule_problem(schedule):
            raise PlanError(f"--schedule {problem}")
        schedules = {**deploy.schedules, deploy.pipeline: schedule}
        deploy = deploy.model_copy(update={"schedules": schedules})
    mlflow = load_mlflow_config(block)
    for what, value in (("pipeline", deploy.pipeline), ("env", env)):
        if not SAFE_NAME.match(value):
            raise PlanError(
                f"{what} {value!r} cannot name a deployed graph: use letters, digits, "
                "'_', '.' and '-' only"
            )
    registered = dict(pipelines)
    if deploy.pipeline not in registered:
        raise PlanError(
            f"pipeline {deploy.pipeline!r} is not registered; the project has "
            f"{', '.join(sorted(registered))}. Fix: --pipeline NAME or "
            "snowflake.deploy.pipeline"
        )
    catalog = {k: v for k, v in loader["catalog"].items()}
    estimate = Estimate(**deploy.estimate.model_dump())
    graph = group_nodes(registered[deploy.pipeline], catalog, deploy.grouping, estimate)
    readers = champion_readers(registered[deploy.pipeline], catalog)
    registry = _registry_for(readers, block, env)
    candidates, provided = resolve_code(
        project_requirements(project), deploy.packages, mlflow.transport
    )
    package_name = str(kedro_project.PACKAGE_NAME)
    project_dist = canonical(package_name)
    candidates = [
        d for d in candidates if canonical(d.metadata["Name"]) != project_dist
    ]
    key = trace_key(project, deploy.pipeline, [zip_name(d) for d in candidates])
    traced = (
        load_trace(project, deploy.pipeline, key) if deploy.ship == "traced" else None
    )
    shipped = candidates
    if traced is not None:
        used = set(traced.libraries) | {PLUGIN}  # the handler's own code, always
        shipped = [d for d in candidates if canonical(d.metadata["Name"]) in used]
    return Plan(
        project,
        env,
        package_name,
        deploy,
        mlflow,
        graph,
        shipped,
        provided,
        candidates,
        traced,
        key,
        readers,
        registry,
    )


def champion_readers(pipeline: Any, catalog: dict[str, Any]) -> list[str]:
    """The pipeline's nodes that require the registry's champion (scoring), as
    sentences; a gate that compares with it when there is one does not count."""
    return sorted(
        f"node {node.name} reads {name}"
        for node in pipeline.nodes
        for name in node.inputs
        if dataset_kind(name, catalog).kind == "registry"
        and (catalog.get(name) or {}).get("required")
    )


def _registry_for(readers: list[str], block: dict[str, Any], env: str) -> Any:
    """The env's registry. A node that must have the champion (scoring) cannot run in
    a graph whose env has none: it would find none on every scheduled run. Refused
    before anything is built."""
    from ..registry.config import load_registry_config  # noqa: PLC0415

    registry = load_registry_config(block)
    if readers and registry is None:
        raise PlanError(
            f"{'; '.join(readers)}, which requires the registry's champion, but "
            f"conf/{env}/"
            "snowflake.yml sets no snowflake.registry, so inside Snowflake there is "
            "no champion to read. Fix: in that env, track with transport: "
            "external_access (sql/80) and keep the registry block of conf/base "
            "(remove `registry: null`)"
        )
    return registry


def size_text(size: int) -> str:
    """1234567 -> 1.2 MB."""
    for unit in ("B", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def bound_text(sql: str, values: list[str]) -> str:
    """A statement with its bound values shown in a comment above it (dry run)."""
    return f"-- binds: {' | '.join(values)}\n{sql}" if values else sql
