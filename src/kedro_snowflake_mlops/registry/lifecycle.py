"""A trained model's way into the registry, as a `kedro run` carries it.

The training pipeline's gate node returns a `Candidate` (the new model, a few rows like
its input, the gate's decision) to a catalog entry with `metadata: {mlflow: candidate}`;
it reads the current champion from a `ChampionModelDataset` (a `Champion`, or None
before the first one). When the pipeline has finished, the tracking hook logs the
decision on the run (tags and quality_gate.json) and, with a `snowflake.registry` block,
registers the model as a new version: the challenger alias always moves to it, the
champion alias only when the gate passed (and a champion that could not be read fails
the gate: it was compared with nothing).

Both halves run where the run is recorded (the MLflow worker process offline), through
the same MLflow client as the run's metrics.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..conf import UserFacingError
from .gate import NO_CHAMPION_REASON, Decision, decide, parse_rules
from .mlflow_registry import (
    GATE_TAG,
    RUN_TAG,
    VersionRef,
    download_model,
    find_by_alias,
    load_model_folder,
    log_sklearn_model,
    register_version,
)

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from .config import RegistryConfig

DECISION_ARTIFACT = "quality_gate.json"


class NoChampionError(UserFacingError):
    """A pipeline requires the champion (ChampionModelDataset with required: true)
    and the registry has none yet."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No champion model yet: run the training pipeline first (`kedro run`); "
            "its model becomes champion when it passes the quality gate (if MLflow "
            "could not be reached, the log above says so)"
        )


@dataclass(frozen=True)
class Champion:
    """The version the registry's alias points at, and its model: what a new model is
    compared with, and what the scoring pipeline predicts with."""

    name: str
    version: str
    alias: str
    run_id: str | None
    model: Any
    # The metrics its training run logged (its own test rows).
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """`models:/<name>@<alias>`, as mlflow.pyfunc.load_model takes it."""
        return f"models:/{self.name}@{self.alias}"


@dataclass
class Candidate:
    """What the gate node returns: the new model, rows like its input (they give the
    logged model its signature and input example) and the gate's decision."""

    model: Any
    input_example: pd.DataFrame
    decision: Decision


def find_champion(
    client: MlflowClient, registry: RegistryConfig, into: Path
) -> dict[str, Any] | None:
    """The champion of `registry.model_name` with its model folder downloaded into
    `into` but not loaded (no scikit-learn needed here), as Champion's fields with
    `model_folder` for `model`; None before the first champion."""
    ref = find_by_alias(client, registry.model_name, registry.alias)
    if ref is None:
        return None
    return {
        "name": ref.name,
        "version": ref.version,
        "alias": registry.alias,
        "run_id": ref.run_id,
        "metrics": client.get_run(ref.run_id).data.metrics if ref.run_id else {},
        "model_folder": str(download_model(client, ref, into)),
    }


def load_champion(found: dict[str, Any]) -> Champion:
    """The Champion of find_champion's answer, its model loaded."""
    fields = dict(found)
    model = load_model_folder(Path(fields.pop("model_folder")))
    return Champion(**fields, model=model)


def judge(  # noqa: PLR0913 (what the gate weighs)
    model: Any,
    champion: Champion | None,
    x_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    rules: Mapping[str, Any],
    measure: Callable[[Any, pd.DataFrame, pd.Series], dict[str, float]],
) -> Candidate:
    """The quality gate: `measure` (your metrics) of the new model on the test rows
    against parameters.yml's `rules`, and against the champion's on the same rows.

    A champion trained on columns these rows lack (the features changed) cannot score
    them; it is then represented by the test metrics its own training run logged, and
    the gate's reason says so."""
    champion_metrics = source = None
    if champion is not None:
        columns = list(getattr(champion.model, "feature_names_in_", x_test.columns))
        if set(columns) <= set(x_test.columns):
            champion_metrics = measure(champion.model, x_test[columns], y_test)
        else:
            champion_metrics = dict(champion.metrics)
            source = "its own run's test metrics: it reads columns these rows lack"
    decision = decide(
        parse_rules(rules),
        measure(model, x_test, y_test),
        champion_metrics,
        champion.version if champion is not None else None,
        source,
    )
    return Candidate(model, x_test, decision)


def champion_tags(
    registry: RegistryConfig, found: dict[str, Any] | None
) -> dict[str, str]:
    """What a run that read the champion (find_champion's answer) is tagged with: the
    model version it was compared with (training) or predicted with (scoring)."""
    return {
        "registry.model": registry.model_name,
        f"registry.{registry.alias}_version": found["version"] if found else "none",
    }


def record_decision(client: MlflowClient, run_id: str, decision: Decision) -> None:
    """The gate's verdict as tags of the run, and its reasons as quality_gate.json."""
    client.set_tag(run_id, GATE_TAG, "passed" if decision.passed else "failed")
    if decision.champion_version is not None:
        client.set_tag(
            run_id, f"{GATE_TAG}.champion_version", decision.champion_version
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / DECISION_ARTIFACT
        path.write_text(json.dumps(decision.as_dict(), indent=2), encoding="utf-8")
        client.log_artifact(run_id, str(path))


def unread_champion(decision: Decision) -> Decision:
    """The decision when the champion could not be read: the gate compared the new
    model with nothing, so it cannot take the alias, whatever the thresholds said."""
    reasons = [r for r in decision.reasons if r != NO_CHAMPION_REASON]
    reasons.append("the champion could not be read, so the alias stays where it is")
    return Decision(False, reasons, decision.metrics)


def register_candidate(
    client: MlflowClient, run_id: str, registry: RegistryConfig, candidate: Candidate
) -> VersionRef:
    """Log the candidate as an MLflow model of the run and register it as a version.

    Asked again after an answer was lost (the recorder retries), it finds the version
    it made for this run instead of making a second one."""
    existing = _version_of_run(client, registry.model_name, run_id)
    if existing is not None:
        return existing
    uri = log_sklearn_model(client, run_id, candidate.model, candidate.input_example)
    return register_version(
        client,
        name=registry.model_name,
        run_id=run_id,
        model_uri=uri,
        decision=candidate.decision,
        alias=registry.alias,
        challenger_alias=registry.challenger_alias,
    )


def _version_of_run(client: MlflowClient, name: str, run_id: str) -> VersionRef | None:
    # The filter holds only the run id (hex, checked by MLflow), never the model's
    # free-text name: that one is compared here.
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        if version.name == name and version.tags.get(RUN_TAG) == run_id:
            return VersionRef(name, str(version.version), run_id, version.source)
    return None
