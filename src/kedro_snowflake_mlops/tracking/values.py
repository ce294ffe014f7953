"""Turn Kedro parameters and metric datasets into what MLflow accepts.

MLflow rejects a whole batch when one key is invalid or one value too long, so both
are handled here, before anything is sent: keys MLflow would refuse are skipped with a
message naming them, over-long values are truncated with a visible marker.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from posixpath import normpath

# MLflow's own limits (mlflow/utils/validation.py).
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
TRUNCATION_MARKER = "...[truncated]"
_VALID_KEY = re.compile(r"^[/\w.\- :]*$")
KEY_RULE = (
    "MLflow keys may only hold letters, digits, _ - . space : and /, "
    f"at most {MAX_KEY_LENGTH} characters, and must not look like a path (.., leading /)"
)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int = 0


@dataclass
class Prepared:
    """Values ready to send, and what was left out or changed (for one clear message)."""

    values: dict[str, str]
    skipped: list[str]
    truncated: list[str]


def key_problem(key: str) -> str | None:
    """Why MLflow would refuse this key, or None when it is fine."""
    if not key or len(key) > MAX_KEY_LENGTH or not _VALID_KEY.match(key):
        return KEY_RULE
    normalised = normpath(key)
    if normalised != key or normalised == "." or key.startswith(("..", "/")):
        return KEY_RULE
    return None


def truncate(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return value[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return json.dumps(list(value), default=str, ensure_ascii=False)
    return str(value)


def flatten(mapping: Mapping, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Nested mappings become dotted keys: {"a": {"b": 1}} -> ("a.b", 1)."""
    for key, value in mapping.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            yield from flatten(value, name)
        else:
            yield name, value


def prepare_params(
    parameters: Mapping, limit: int = MAX_PARAM_VALUE_LENGTH
) -> Prepared:
    """Kedro parameters as MLflow params: flat, string values, within MLflow's limits."""
    prepared = Prepared(values={}, skipped=[], truncated=[])
    for key, value in flatten(parameters):
        if key_problem(key):
            prepared.skipped.append(key)
            continue
        text = _as_text(value)
        if len(text) > limit:
            prepared.truncated.append(key)
        prepared.values[key] = truncate(text, limit)
    return prepared


def prepare_tags(tags: Mapping[str, object]) -> dict[str, str]:
    """Tags are ours (never user keys), so only their values need a length check."""
    return {
        key: truncate(str(value), MAX_TAG_VALUE_LENGTH)
        for key, value in tags.items()
        if value is not None and str(value) != ""
    }


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def metrics_from(dataset_name: str, data: object) -> tuple[list[Metric], list[str]]:
    """Metrics in a dataset's data: a dict of numbers (nested dicts are flattened), or a
    single number named after the dataset. Returns the metrics and the skipped keys."""
    items = flatten(data) if isinstance(data, Mapping) else [(dataset_name, data)]
    metrics: list[Metric] = []
    skipped: list[str] = []
    for key, value in items:
        number = _number(value)
        if number is None or key_problem(key):
            skipped.append(key)
            continue
        metrics.append(Metric(key=key, value=number))
    return metrics, skipped
