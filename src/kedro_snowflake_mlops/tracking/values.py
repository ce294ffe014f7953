"""Turn Kedro parameters and metric datasets into what MLflow accepts.

MLflow rejects a whole batch when one key is invalid or one value too long, so both
are handled here, before anything is sent: keys MLflow would refuse are skipped with a
message naming them, over-long values are truncated with a visible marker, values that
are not numbers (or too large for a float) are not sent as metrics, two values that
flatten to the same key are both left out and named, and params whose names look
secret are logged as `[redacted]`.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
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


REDACTED = "[redacted]"
COLLIDED = "two values flatten to this key"

# Words that make a param name look secret (any dotted part of the name, split into
# words: `db.password`, `apiToken`, `credentials.user`). Plurals such as `tokens`
# (`max_tokens`) and `keys` (`model_options.keys`) name counts and lists, not secrets.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
    }
)
# `key` is secret alone (`encryption.key`) or after one of these (`api_key`,
# `aws_access_key_id`, `private_key_file`), not after others (`sort_key`, `primary_key`).
_SECRET_KEY_PREFIXES = frozenset(
    {
        "api",
        "access",
        "secret",
        "private",
        "auth",
        "client",
        "encryption",
        "signing",
        "master",
        "account",
        "service",
        "ssh",
        "license",
    }
)
SECRET_RULE = (
    "a part of the name holds password, passwd, pwd, passphrase, secret(s), token, "
    "credential(s) or apikey, or is `key` alone or after api, access, secret, private, "
    "auth, client, ..."
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def looks_secret(key: str) -> bool:
    """True when a param's name says it holds a secret (see SECRET_RULE)."""
    for part in key.split("."):
        words = [word.lower() for word in _WORDS.findall(part)]
        if _SECRET_WORDS.intersection(words):
            return True
        for index, word in enumerate(words):
            if word == "key" and (
                len(words) == 1 or (index and words[index - 1] in _SECRET_KEY_PREFIXES)
            ):
                return True
    return False


@dataclass
class Prepared:
    """Values ready to send, and what was left out or changed (for one clear message)."""

    values: dict[str, str]
    skipped: list[str]
    truncated: list[str]
    redacted: list[str] = field(default_factory=list)
    collided: list[str] = field(default_factory=list)


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


def _flat_unique(mapping: Mapping) -> tuple[list[tuple[str, object]], list[str]]:
    """flatten(), without the keys that two values flatten to ({"a.b": 1, "a": {"b":
    2}}): which one was meant cannot be known, so neither is logged and both are named."""
    items = list(flatten(mapping))
    counts = Counter(key for key, _ in items)
    collided = sorted(key for key, count in counts.items() if count > 1)
    return [(key, value) for key, value in items if counts[key] == 1], collided


def prepare_params(
    parameters: Mapping, limit: int = MAX_PARAM_VALUE_LENGTH
) -> Prepared:
    """Kedro parameters as MLflow params: flat, string values, within MLflow's limits,
    secret-looking names redacted."""
    items, collided = _flat_unique(parameters)
    prepared = Prepared(values={}, skipped=[], truncated=[], collided=collided)
    for key, value in items:
        if key_problem(key):
            prepared.skipped.append(key)
            continue
        if looks_secret(key):
            prepared.redacted.append(key)
            prepared.values[key] = REDACTED
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


def metric_value(value: object) -> tuple[float | None, str | None]:
    """(the float MLflow stores, None) or (None, why it cannot be a metric).

    True/False count as 1/0 (a flag is a fine metric); numpy numbers and Decimals (what
    Snowflake NUMBER columns give) are numbers; NaN and infinities are kept (MLflow
    stores them); an integer or Decimal beyond a float's range is refused rather than
    stored as infinity.
    """
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, bool) or kind == "b":
        return float(bool(value)), None
    if not isinstance(value, numbers.Real | Decimal) or getattr(value, "ndim", 0):
        return None, f"not a number: {type(value).__name__}"
    try:
        number = float(value)
    except OverflowError:  # an int beyond 1.8e308
        return None, "out of range for a float"
    except (ValueError, TypeError):  # a Real whose float() fails: say what it is
        return None, f"not a number: {type(value).__name__}"
    if math.isinf(number) and isinstance(value, Decimal) and value.is_finite():
        return None, "out of range for a float"  # float() turned it into infinity
    return number, None


@dataclass
class MetricsRead:
    """The metrics of one dataset's data, and each key left out with the reason."""

    metrics: list[Metric]
    skipped: dict[str, str]


def read_metrics(dataset_name: str, data: object) -> MetricsRead:
    """Metrics in a dataset's data: a dict of numbers (nested dicts are flattened), or a
    single number named after the dataset."""
    if isinstance(data, Mapping):
        items, collided = _flat_unique(data)
    else:
        items, collided = [(dataset_name, data)], []
    read = MetricsRead(metrics=[], skipped={key: COLLIDED for key in collided})
    for key, value in items:
        if key_problem(key):
            read.skipped[key] = "key refused by MLflow"
            continue
        number, problem = metric_value(value)
        if problem:
            read.skipped[key] = problem
            continue
        read.metrics.append(Metric(key=key, value=number))
    return read
