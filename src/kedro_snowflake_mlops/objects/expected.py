"""What a project expects in Snowflake, read from its conf/ the way `kedro run --env
snowflake` reads it (Kedro's own config loader: base merged with the env, globals
resolved).

conf/ names the role, warehouse, database, schema, the stages and the five external
functions; report.py then asks sql/ for the statements that create them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..conf import ConfigError, project_config_loader, read_snowflake_conf
from ..tracking.contract import FUNCTION_SIGNATURES
from .inventory import SqlObject, normalize

QUALIFIED_PARTS = 3  # database.schema.object
RUN_ENV = "snowflake"  # the conf env whose objects sql/ creates
ARTIFACT_STAGING_KEY = "snowflake.mlflow.artifact_staging_stage"
STAGE_REFERENCE = re.compile(r"^@[A-Za-z_\"]")


@dataclass(frozen=True)
class Finding:
    """One inconsistency: where, what is wrong, how to fix it."""

    where: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}. Fix: {self.fix}."


@dataclass
class ExpectedObject:
    """A Snowflake object the project needs, and the script that creates it."""

    kind: str
    name: str
    source: str
    created_by: SqlObject | None = None
    # External stages are read from the artifact store; internal ones hold files.
    stage_type: str = ""
    signature: tuple[str, ...] | None = None

    @property
    def script(self) -> str:
        return f"sql/{self.created_by.statement.script}" if self.created_by else ""

    @property
    def described(self) -> str:
        return f"{self.stage_type} {self.kind}".strip().lower()


@dataclass
class ProjectConf:
    """The parts of a project's conf (env `snowflake`) that name Snowflake objects."""

    snowflake: dict[str, Any]
    catalog: dict[str, Any]


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


def qualify(name: str, scope: list[str]) -> str:
    """A partial name completed with the leading parts of scope: NAME with
    [DB, SCHEMA] -> DB.SCHEMA.NAME, SCHEMA.NAME -> DB.SCHEMA.NAME."""
    parts = name.split(".")
    return ".".join(scope[: max(0, QUALIFIED_PARTS - len(parts))] + parts)


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
        # The MLflow stage is MLflow's artifact store (external); PUT uploads the run's
        # artifacts to the staging stage first, so that one must be internal.
        kind = {
            "snowflake.mlflow.stage": "external",
            ARTIFACT_STAGING_KEY: "internal",
            # The procedure's IMPORTS are PUT there (sql/07).
            "snowflake.deploy.code_stage": "internal",
        }
        expected.append(_stage(reference, key, database, schema, kind.get(key, "")))
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
