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
from .config import DeployConfig, load_deploy_config
from .grouping import PlanError, TaskGroup, group_nodes
from .packaging import canonical, project_requirements, resolve_code, zip_name
from .steps import FINALIZER, MANIFEST, ROOT
from .task_system import LEDGER_COLUMNS

HANDLER = "kedro_snowflake_mlops.deploy.procedure.main"
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
    groups: list[TaskGroup]
    shipped: list[Any] = field(default_factory=list)  # distributions
    provided: list[str] = field(default_factory=list)

    # --- names ----------------------------------------------------------------------
    def task(self, step: str) -> str:
        return f"{self.deploy.task_prefix}_{step}".upper()

    @property
    def tasks(self) -> list[str]:
        return [self.task(step) for step in self.steps]

    @property
    def steps(self) -> list[str]:
        return [ROOT, *(g.name for g in self.groups), FINALIZER]

    @property
    def stage_folder(self) -> str:
        return f"{self.deploy.code_stage.rstrip('/')}/{self.package_name}"

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
            "task_prefix": self.deploy.task_prefix.upper(),
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
    def procedure_sql(self) -> str:
        packages = ", ".join(f"'{p}'" for p in self.deploy.packages)
        imports = ",\n    ".join(
            f"'{self.stage_folder}/{n}'" for n in self.import_names()
        )
        lines = [
            f"CREATE OR REPLACE PROCEDURE {self.deploy.procedure}(STEP VARCHAR)",
            "  RETURNS VARCHAR",
            "  LANGUAGE PYTHON",
            f"  RUNTIME_VERSION = '{self.deploy.runtime_version}'",
            f"  PACKAGES = ({packages})",
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
            # The graph's config (docs.snowflake.com/en/sql-reference/sql/create-task,
            # CONFIG = $${...}$$): which deploy made these tasks. The root compares it
            # with the staged manifest, so tasks and code of two deploys never mix.
            config = json.dumps({"deploy_id": manifest_id})
            lines.append(f"  CONFIG = $${config}$$")
        elif step == FINALIZER:
            lines.append(f"  FINALIZE = {self.task(ROOT)}")
        else:
            group = next(g for g in self.groups if g.name == step)
            after = ", ".join(self.task(name) for name in group.after or [ROOT])
            lines.append(f"  AFTER {after}")
        lines.append(f"  AS CALL {self.deploy.procedure}('{step}')")
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

    def enable_sql(self) -> str:
        """Resumes the root and every task after it, so that EXECUTE TASK runs the whole
        graph (docs: system_task_dependents_enable). Binds the root's name, the one
        value here that is not part of a DDL."""
        return "SELECT SYSTEM$TASK_DEPENDENTS_ENABLE(?)"

    def statements(self, manifest_id: str) -> list[str]:
        """The SQL of a deploy after the files are on the stage, in order. Tasks of an
        earlier deploy that this one no longer has are dropped first (online)."""
        return [
            self.runs_table_sql(),
            self.suspend_sql(),
            *self.ddl(manifest_id),
            self.enable_sql(),
        ]

    # --- the graph as text --------------------------------------------------------------
    def graph_text(self) -> str:
        lines = [f"{self.task(ROOT)}   (starts the MLflow run, logs the params)"]
        for group in self.groups:
            after = ", ".join(group.after or [ROOT])
            lines.append(f"  {self.task(group.name)}   after {after}")
            for node in group.nodes:
                lines.append(f"      node {node}")
            for path in group.input_files:
                lines.append(f"      reads {path} (shipped with the code)")
        lines.append(
            f"{self.task(FINALIZER)}   (always runs: ends the MLflow run FINISHED or FAILED)"
        )
        return "\n".join(lines)

    def text(self) -> str:
        """The whole plan, for `deploy --dry-run`."""
        manifest = self.manifest()
        objects = [
            ("code stage folder", self.stage_folder),
            ("runs table", self.deploy.runs_table),
            ("procedure", f"{self.deploy.procedure}(VARCHAR)"),
            *[("task", name) for name in self.tasks],
        ]
        width = max(len(kind) for kind, _ in objects)
        out = [
            f"Plan: pipeline {self.deploy.pipeline}, conf env {self.env}, MLflow "
            f"transport {self.mlflow.transport} (dry run: nothing is built, uploaded "
            "or created)",
            "",
            "Objects:",
            *[f"  {kind:<{width}}  {name}" for kind, name in objects],
            "",
            f"Task graph ({len(self.groups)} groups of nodes, {len(self.tasks)} tasks):",
            *[f"  {line}" for line in self.graph_text().splitlines()],
            "",
            f"Files for {self.stage_folder}/ (the procedure's IMPORTS):",
            f"  {self.project_zip}   the project (kedro package)",
            *[
                f"  {zip_name(dist)}   {dist.metadata['Name']} (pure Python, not in PACKAGES)"
                for dist in self.shipped
            ],
            f"  {self.conf_archive}   conf/ (kedro package; conf/local is left out)",
            *[f"  {n}   {f}" for f, n in self.input_file_names().items()],
            f"  {MANIFEST}   the groups and their nodes, read by the procedure",
            "",
            f"PACKAGES (Snowflake's Anaconda channel): {', '.join(self.deploy.packages)}",
            "",
            "SQL:",
        ]
        for statement in self.statements(manifest["deploy_id"]):
            out.append(statement.rstrip(";") + ";")
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def make_plan(project: Path, env: str, pipeline: str | None = None) -> Plan:
    """Read conf/<env>, group the pipeline's nodes and resolve the code to ship."""
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
    groups = group_nodes(registered[deploy.pipeline], catalog)
    shipped, provided = resolve_code(
        project_requirements(project), deploy.packages, mlflow.transport
    )
    package_name = str(kedro_project.PACKAGE_NAME)
    project_dist = canonical(package_name)
    shipped = [d for d in shipped if canonical(d.metadata["Name"]) != project_dist]
    return Plan(project, env, package_name, deploy, mlflow, groups, shipped, provided)
