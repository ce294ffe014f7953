"""What the project expects in Snowflake, read from conf/ (stdlib and PyYAML only).

conf/ names the role, warehouse, database, schema, the MLflow stage and the five external
functions; validation.py then asks sql/ for the statements that create them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .sql_inventory import SqlObject, normalize

QUALIFIED_PARTS = 3  # database.schema.object
RUN_ENV = "snowflake"  # the conf env whose objects sql/ creates

# The names contract of the five external functions (argument types, in order).
SIGNATURES = {
    "experiment_get_by_name": ("VARCHAR",),
    "run_create": ("VARCHAR", "VARCHAR", "NUMBER", "VARIANT"),
    "run_update": ("VARCHAR", "VARCHAR", "NUMBER"),
    "run_log_metric": ("VARCHAR", "VARCHAR", "FLOAT", "NUMBER", "NUMBER"),
    "run_log_parameter": ("VARCHAR", "VARCHAR", "VARCHAR"),
}
ENV_DEFAULT = re.compile(
    r"^\$\{oc\.env:\s*[A-Za-z_][A-Za-z0-9_]*\s*,\s*(?P<default>.*)\}$"
)
GLOBALS_REFERENCE = re.compile(r"^\$\{globals:\s*(?P<key>[A-Za-z0-9_.]+)\s*\}$")


@dataclass(frozen=True)
class Finding:
    """One internal inconsistency: where, what is wrong, how to fix it."""

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


# ---- conf ---------------------------------------------------------------------------


def deep_merge(base: dict, override: dict) -> dict:
    """Kedro's soft merge of `--env snowflake` over conf/base."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_conf(project: Path, findings: list[Finding]) -> dict[str, dict]:
    """Every YAML file under conf/, parsed; a file that does not parse is a finding."""
    parsed = {}
    for path in sorted((project / "conf").rglob("*.y*ml")):
        relative = path.relative_to(project).as_posix()
        try:
            parsed[relative] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            findings.append(
                Finding(relative, f"is not valid YAML ({error})", "repair the file")
            )
    return parsed


def merged_conf(parsed: dict[str, dict], prefix: str) -> dict:
    """`conf/base/<prefix>*.yml` soft-merged with `conf/snowflake/<prefix>*.yml`."""
    merged: dict = {}
    for env in ("base", RUN_ENV):
        for relative, data in sorted(parsed.items()):
            name = relative.split("/")[-1]
            if relative.startswith(f"conf/{env}/") and name.startswith(prefix):
                merged = deep_merge(merged, data if isinstance(data, dict) else {})
    return merged


def resolve(value: Any, globals_: dict) -> str:
    """The value conf gives when no environment variable is set (no OmegaConf here)."""
    text = "" if value is None else str(value).strip()
    for _ in range(5):  # a globals value may itself be an ${oc.env:...} default
        env = ENV_DEFAULT.match(text)
        reference = GLOBALS_REFERENCE.match(text)
        if env:
            text = env["default"].strip().strip("\"'")
        elif reference:
            node: Any = globals_
            for part in reference["key"].split("."):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            text = "" if isinstance(node, dict) else str(node)
        else:
            break
    return "" if text == "null" else text


def stage_name(reference: str, database: str, schema: str) -> str:
    """`@db.schema.stage/path` -> DB.SCHEMA.STAGE (partial names qualified)."""
    parts = normalize(reference.lstrip("@").split("/")[0]).split(".")
    return ".".join([database, schema][: max(0, 3 - len(parts))] + parts)


def stage_references(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every `@stage` string in a conf tree, with its key path."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            found += stage_references(value, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(node, str) and re.match(r"^@[A-Za-z_\"]", node):
        return [(path, node)]
    return []


def objects_named_in_conf(parsed: dict[str, dict]) -> list[ExpectedObject]:
    """The objects conf/ names for a run with `--env snowflake`."""
    globals_ = merged_conf(parsed, "globals")
    snowflake = merged_conf(parsed, "snowflake").get("snowflake") or {}
    session, mlflow = snowflake.get("session") or {}, snowflake.get("mlflow") or {}
    database = normalize(resolve(session.get("database"), globals_))
    schema = normalize(resolve(session.get("schema"), globals_))
    where = f"conf/{RUN_ENV}/snowflake.yml snowflake.session"
    expected = [
        ExpectedObject(
            "ROLE", normalize(resolve(session.get("role"), globals_)), f"{where}.role"
        ),
        ExpectedObject(
            "WAREHOUSE",
            normalize(resolve(session.get("warehouse"), globals_)),
            f"{where}.warehouse",
        ),
        ExpectedObject("DATABASE", database, f"{where}.database"),
        ExpectedObject("SCHEMA", f"{database}.{schema}", f"{where}.schema"),
    ]
    mlflow_where = "conf/base/snowflake.yml snowflake.mlflow"
    stages = [("mlflow.stage", str(mlflow.get("stage") or ""))]
    for relative, data in sorted(parsed.items()):
        for key, value in stage_references(data):
            if key != "snowflake.mlflow.stage":
                stages.append((f"{relative} {key}", value))
    for key, reference in stages:
        if reference:
            is_mlflow = key == "mlflow.stage"
            # PUT uploads the run's artifacts there: it must be an internal stage.
            is_staging = key.endswith(" snowflake.mlflow.artifact_staging_stage")
            expected.append(
                ExpectedObject(
                    "STAGE",
                    stage_name(reference, database, schema),
                    f"{mlflow_where}.stage" if is_mlflow else key,
                    stage_type="external"
                    if is_mlflow
                    else ("internal" if is_staging else ""),
                )
            )
    functions = mlflow.get("functions") or {}
    for key, signature in SIGNATURES.items():
        expected.append(
            ExpectedObject(
                "EXTERNAL FUNCTION",
                normalize(str(functions.get(key) or "")),
                f"{mlflow_where}.functions.{key}",
                signature=signature,
            )
        )
    unique: dict[tuple[str, str], ExpectedObject] = {}
    for obj in expected:
        unique.setdefault((obj.kind, obj.name), obj)
    return list(unique.values())
