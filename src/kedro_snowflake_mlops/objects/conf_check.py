"""The whole offline check: what conf/ names, read the way `kedro run --env snowflake`
reads it (Kedro's own config loader and the project's settings.py: base merged with the
env, globals resolved), is what sql/ creates.

conf/ names the role, warehouse, database, schema, the stages and the external functions
(the five of the `mlflow:` block, and the task graph's tag function); each must be created
by sql/ with the right type and signature. Then come the checks of sql/ alone
(report.py): integrations and translators, teardown. This is `kedro snowflake check`;
right after `kedro new` only the sql/ part runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..conf import ConfigError, project_config_loader, read_snowflake_conf
from ..tracking.contract import FUNCTION_SIGNATURES
from .expected import ExpectedObject, Finding, ProjectConf, qualify
from .inventory import normalize
from .report import OfflineReport, check_sql

RUN_ENV = "snowflake"  # the conf env whose objects sql/ creates
ARTIFACT_STAGING_KEY = "snowflake.mlflow.artifact_staging_stage"
STAGE_REFERENCE = re.compile(r"^@[A-Za-z_\"]")
# The MLflow stage is MLflow's artifact store (external); PUT uploads the run's artifacts
# to the staging stage first, and the procedure's IMPORTS to the code stage (sql/07), so
# those must be internal.
STAGE_KINDS = {
    "snowflake.mlflow.stage": "external",
    ARTIFACT_STAGING_KEY: "internal",
    "snowflake.deploy.code_stage": "internal",
}


def check_project(project: Path, env: str = RUN_ENV) -> OfflineReport:
    """Every offline check of a project, with its conf as `--env <env>` reads it."""
    conf_findings: list[Finding] = []
    conf = read_project_conf(Path(project), conf_findings, env)
    # What conf/ names first; whatever else the setup scripts create (the data stage,
    # ...) is checked like the rest, and listed, so the online check looks for it too.
    report = check_sql(project, objects_named_in_conf(conf))
    report.conf = conf
    report.findings[:0] = conf_findings
    return report


def read_project_conf(
    project: Path, findings: list[Finding], env: str = RUN_ENV
) -> ProjectConf:
    """conf/ as a run with `--env <env>` sees it; what cannot be read is a finding."""
    where = f"conf/ (env {env})"
    try:
        loader = project_config_loader(project, env)
    except Exception as error:  # noqa: BLE001 (reported as a finding)
        findings.append(Finding(where, f"cannot be read: {error}", "repair conf/"))
        return ProjectConf({}, {})
    parts = []
    for read in (read_snowflake_conf, lambda loader: loader["catalog"]):
        try:
            parts.append(read(loader) or {})
        except ConfigError as error:
            findings.append(Finding(where, str(error), "see the message"))
            parts.append({})
        except Exception as error:  # noqa: BLE001 (YAML errors and the like)
            text = " ".join(str(error).split())
            findings.append(Finding(where, f"cannot be read: {text}", "repair it"))
            parts.append({})
    return ProjectConf(*parts)


def stage_name(reference: str, database: str, schema: str) -> str:
    """`@db.schema.stage/path` -> DB.SCHEMA.STAGE (partial names qualified)."""
    return qualify(normalize(reference.lstrip("@").split("/")[0]), [database, schema])


def stage_references(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every `@stage` string in a conf tree, with its key path."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            found += stage_references(value, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(node, str) and STAGE_REFERENCE.match(node):
        return [(path, node)]
    return []


def _stage(reference: str, source: str, database: str, schema: str, kind: str) -> Any:
    return ExpectedObject(
        "STAGE", stage_name(reference, database, schema), source, stage_type=kind
    )


def objects_named_in_conf(conf: ProjectConf) -> list[ExpectedObject]:
    """The objects conf/ names for a run with `--env snowflake`."""
    session = conf.snowflake.get("session") or {}
    mlflow = conf.snowflake.get("mlflow") or {}
    database = normalize(str(session.get("database") or ""))
    schema = normalize(str(session.get("schema") or ""))
    where = "snowflake.session"
    expected = [
        ExpectedObject(
            "ROLE", normalize(str(session.get("role") or "")), f"{where}.role"
        ),
        ExpectedObject(
            "WAREHOUSE",
            normalize(str(session.get("warehouse") or "")),
            f"{where}.warehouse",
        ),
        ExpectedObject("DATABASE", database, f"{where}.database"),
        ExpectedObject("SCHEMA", f"{database}.{schema}", f"{where}.schema"),
    ]
    for key, reference in stage_references({"snowflake": conf.snowflake}):
        kind = STAGE_KINDS.get(key, "")
        expected.append(_stage(reference, key, database, schema, kind))
    for key, reference in stage_references(conf.catalog):
        expected.append(_stage(reference, f"catalog {key}", database, schema, ""))
    functions = mlflow.get("functions") or {}
    for key, signature in FUNCTION_SIGNATURES.items():
        expected.append(
            ExpectedObject(
                "EXTERNAL FUNCTION",
                normalize(str(functions.get(key) or "")),
                f"snowflake.mlflow.functions.{key}",
                signature=signature,
            )
        )
    tag_function = (conf.snowflake.get("deploy") or {}).get("tag_function")
    if tag_function:
        # The finalizer of the task graph tags a FAILED run through it (sql/07).
        expected.append(
            ExpectedObject(
                "EXTERNAL FUNCTION",
                normalize(str(tag_function)),
                "snowflake.deploy.tag_function",
                signature=("VARCHAR", "VARCHAR", "VARCHAR"),
            )
        )
    unique: dict[tuple[str, str], ExpectedObject] = {}
    for obj in expected:
        unique.setdefault((obj.kind, obj.name), obj)
    return list(unique.values())
