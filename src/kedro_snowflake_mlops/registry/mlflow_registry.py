"""Model versions in MLflow's own registry (target `mlflow`): the champion a new model
must beat, and the new version, which always takes the challenger alias and takes the
champion alias only when the quality gate passed.

Everything goes through an `MlflowClient` for one tracking URI (mlflow.db offline), the
same client that records the run, and nothing through MLflow's process-wide state (the
active run, the global tracking URI): the caller decides which process talks to MLflow.

MLflow's aliases replaced its deprecated stages; `models:/<name>@<alias>` loads the
version an alias points at (mlflow.pyfunc.load_model, `mlflow models serve`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .gate import Decision

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

# Where in the run's artifacts the model goes, and the tags a version gets from the gate.
MODEL_ARTIFACT_PATH = "model"
GATE_TAG = "quality_gate"
RUN_TAG = "mlflow_run_id"
# MLflow's answers when a registered model, or an alias of it, does not exist.
_NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


@dataclass(frozen=True)
class VersionRef:
    """One version of a registered model."""

    name: str
    version: str
    run_id: str | None
    source: str

    @property
    def uri(self) -> str:
        """`models:/<name>/<version>`: what mlflow.pyfunc.load_model takes."""
        return f"models:/{self.name}/{self.version}"


def _ref(version: Any) -> VersionRef:
    return VersionRef(
        version.name, str(version.version), version.run_id or None, version.source
    )


def find_by_alias(client: MlflowClient, name: str, alias: str) -> VersionRef | None:
    """The version `alias` points at, or None: no such model yet, or no version with
    that alias (the first training run has no champion to beat)."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        return _ref(client.get_model_version_by_alias(name, alias))
    except MlflowException as error:
        if error.error_code in _NOT_FOUND:
            return None
        raise


def download_model(client: MlflowClient, ref: VersionRef, into: Path) -> Path:
    """The version's MLflow model folder, copied from its run into `into`."""
    if ref.run_id is None:
        raise ValueError(
            f"{ref.uri} names no MLflow run, so its model cannot be read from one; "
            "register versions with register_version"
        )
    into.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(ref.run_id, MODEL_ARTIFACT_PATH, str(into)))


def load_model_folder(folder: Path) -> Any:
    """The scikit-learn model of an MLflow model folder saved with skops, loaded by
    skops' own loader (which refuses types it does not trust) without importing MLflow:
    the MLmodel file names the model's file and how it was saved."""
    import skops.io  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    flavor = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8"))
    sklearn = (flavor.get("flavors") or {}).get("sklearn") or {}
    if sklearn.get("serialization_format") != "skops":
        raise ValueError(
            f"{folder} holds a model saved as {sklearn.get('serialization_format')!r}: "
            "only skops-saved models are loaded (pickle can run code when loaded); "
            "register it again with this plugin"
        )
    return skops.io.load(folder / sklearn["pickled_model"])


def load_sklearn_model(client: MlflowClient, ref: VersionRef) -> Any:
    """The scikit-learn model of a version this module registered (from its run)."""
    with tempfile.TemporaryDirectory() as folder:
        return load_model_folder(download_model(client, ref, Path(folder)))


def log_sklearn_model(
    client: MlflowClient, run_id: str, model: Any, input_example: pd.DataFrame
) -> str:
    """The model saved as an MLflow model (the sklearn flavour, with the signature its
    input example and predictions give) into the run's artifacts; returns its URI.

    Saved with skops, not pickle: loading it cannot run arbitrary code. The
    requirements are given, not inferred: inferring them starts a Python process that
    imports the model's code, which would cost a run seconds."""
    from importlib.metadata import version  # noqa: PLC0415

    import mlflow.sklearn  # noqa: PLC0415
    from mlflow.models import infer_signature  # noqa: PLC0415

    example = input_example.head(5)
    signature = infer_signature(example, model.predict(example))
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / MODEL_ARTIFACT_PATH
        mlflow.sklearn.save_model(
            model,
            saved,
            signature=signature,
            input_example=example,
            pip_requirements=[
                f"{package}=={version(package)}"
                for package in ("scikit-learn", "skops")
            ],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        )
        client.log_artifacts(run_id, str(saved), MODEL_ARTIFACT_PATH)
    return f"{client.get_run(run_id).info.artifact_uri}/{MODEL_ARTIFACT_PATH}"


def register_version(  # noqa: PLR0913 (each is one fact of the registration)
    client: MlflowClient,
    *,
    name: str,
    run_id: str,
    model_uri: str,
    decision: Decision,
    alias: str,
    challenger_alias: str,
) -> VersionRef:
    """A new version of `name` from the run's model. The challenger alias moves to it
    always; the champion alias only when `decision` passed. The version carries the
    gate's verdict and the run it came from as tags, and the gate's reasons as its
    description, so the registry alone says why an alias sits where it does."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        name,
        model_uri,
        run_id=run_id,
        tags={GATE_TAG: "passed" if decision.passed else "failed", RUN_TAG: run_id},
        description=decision.line(name),
    )
    number = str(version.version)
    client.set_registered_model_alias(name, challenger_alias, number)
    if decision.passed:
        client.set_registered_model_alias(name, alias, number)
    return _ref(version)
