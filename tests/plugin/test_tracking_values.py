"""Kedro parameters and metric datasets turned into what MLflow accepts."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.tracking.values import (
    MAX_PARAM_VALUE_LENGTH,
    REDACTED,
    TRUNCATION_MARKER,
    key_problem,
    looks_secret,
    metric_value,
    prepare_params,
    prepare_tags,
    read_metrics,
)


def test_nested_parameters_become_dotted_keys():
    prepared = prepare_params(
        {"model_options": {"test_size": 0.2, "features": ["A", "B"], "split": {"k": 3}}}
    )
    assert prepared.values == {
        "model_options.test_size": "0.2",
        "model_options.features": '["A", "B"]',
        "model_options.split.k": "3",
    }
    assert prepared.skipped == prepared.truncated == []


def test_hostile_values_are_kept_verbatim():
    value = 'x\'; DROP TABLE runs; -- "ünïcødé" 🚀'
    assert prepare_params({"note": value}).values == {"note": value}


def test_over_long_values_are_truncated_with_a_marker():
    prepared = prepare_params({"blob": "a" * 10_000, "short": "b"})
    blob = prepared.values["blob"]
    assert len(blob) == MAX_PARAM_VALUE_LENGTH
    assert blob.endswith(TRUNCATION_MARKER)
    assert prepared.truncated == ["blob"]
    assert prepared.values["short"] == "b"


def test_keys_mlflow_would_refuse_are_skipped_not_sent():
    prepared = prepare_params(
        {"ok key/1": 1, "bad'key": 2, "semi;colon": 3, "../up": 4}
    )
    assert prepared.values == {"ok key/1": "1"}
    assert sorted(prepared.skipped) == ["../up", "bad'key", "semi;colon"]


def test_key_rules_follow_mlflow():
    assert key_problem("température") is None  # unicode letters are fine
    assert key_problem("a" * 250) is None
    assert key_problem("a" * 251)
    assert key_problem("")
    assert key_problem("/absolute")


def test_metrics_from_a_dict_flatten_and_keep_non_finite_numbers():
    read = read_metrics(
        "model_metrics",
        {"r2": 0.9, "counts": {"rows": 10}, "flag": True, "nan": math.nan, "name": "x"},
    )
    metrics, skipped = read.metrics, list(read.skipped)
    as_dict = {metric.key: metric.value for metric in metrics}
    assert as_dict["r2"] == 0.9
    assert as_dict["counts.rows"] == 10.0
    assert as_dict["flag"] == 1.0
    assert math.isnan(as_dict["nan"])
    assert skipped == ["name"]


def test_a_single_number_is_named_after_its_dataset():
    metrics = read_metrics("accuracy", 0.5).metrics
    assert [(metric.key, metric.value) for metric in metrics] == [("accuracy", 0.5)]


def test_empty_tags_are_dropped_and_long_ones_truncated():
    tags = prepare_tags({"a": None, "b": "", "c": "x" * 9000, "d": 1})
    assert set(tags) == {"c", "d"}
    assert tags["c"].endswith(TRUNCATION_MARKER)
    assert json.dumps(tags)  # all strings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, (0.5, None)),
        (3, (3.0, None)),
        (True, (1.0, None)),  # a flag is a fine metric
        (np.bool_(False), (0.0, None)),
        (np.float32(0.25), (0.25, None)),
        (np.int64(7), (7.0, None)),
        (Decimal("0.5"), (0.5, None)),  # what Snowflake NUMBER columns give
        (10**400, (None, "out of range for a float")),
        (-(10**400), (None, "out of range for a float")),
        (Decimal("1e400"), (None, "out of range for a float")),
        ("0.5", (None, "not a number: str")),  # data is data: no guessing
        (None, (None, "not a number: NoneType")),
        ([1.0], (None, "not a number: list")),
        (np.array([1.0]), (None, "not a number: ndarray")),
    ],
)
def test_what_can_be_a_metric(value, expected):
    assert metric_value(value) == expected


def test_non_finite_floats_are_metrics():
    assert math.isnan(metric_value(math.nan)[0])
    assert metric_value(-math.inf) == (-math.inf, None)


def test_skipped_metrics_say_why_and_colliding_keys_are_named():
    read = read_metrics(
        "model_metrics",
        {"a.b": 1, "a": {"b": 2}, "huge": 10**400, "text": "x", "ok": 1.0},
    )
    assert [(m.key, m.value) for m in read.metrics] == [("ok", 1.0)]
    assert read.skipped == {
        "a.b": "two values flatten to this key",
        "huge": "out of range for a float",
        "text": "not a number: str",
    }


def test_colliding_param_keys_are_left_out_and_named():
    prepared = prepare_params({"a.b": 1, "a": {"b": 2}, "c": 3})
    assert prepared.values == {"c": "3"}
    assert prepared.collided == ["a.b"]


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db.password",
        "DB_PASSWORD",
        "credentials.user",  # under credentials: all of it
        "api_key",
        "apiKey",
        "aws_access_key_id",
        "private_key_file",
        "encryption.key",
        "key",
        "token",
        "oauth_token",
        "client_secret",
        "service.apiToken",
        "passphrase",
    ],
)
def test_names_that_look_secret(key):
    assert looks_secret(key)


@pytest.mark.parametrize(
    "key",
    [
        "model_options.keys",  # a list of keys, not a key
        "max_tokens",  # a count
        "tokenizer.name",
        "sort_key",
        "primary_key",
        "partition_key",
        "passwordless",
        "model_options.target",
        "monkey",
    ],
)
def test_names_that_only_look_alike_are_data(key):
    assert not looks_secret(key)


def test_secret_looking_params_are_logged_redacted_and_listed():
    password = throwaway_secret("password")
    prepared = prepare_params({"db": {"user": "u", "password": password}})
    assert prepared.values == {"db.user": "u", "db.password": REDACTED}
    assert prepared.redacted == ["db.password"]
