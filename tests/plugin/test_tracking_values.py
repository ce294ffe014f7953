"""Kedro parameters and metric datasets turned into what MLflow accepts."""

from __future__ import annotations

import json
import math

from kedro_snowflake_mlops.tracking.values import (
    MAX_PARAM_VALUE_LENGTH,
    TRUNCATION_MARKER,
    key_problem,
    metrics_from,
    prepare_params,
    prepare_tags,
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
    metrics, skipped = metrics_from(
        "model_metrics",
        {"r2": 0.9, "counts": {"rows": 10}, "flag": True, "nan": math.nan, "name": "x"},
    )
    as_dict = {metric.key: metric.value for metric in metrics}
    assert as_dict["r2"] == 0.9
    assert as_dict["counts.rows"] == 10.0
    assert as_dict["flag"] == 1.0
    assert math.isnan(as_dict["nan"])
    assert skipped == ["name"]


def test_a_single_number_is_named_after_its_dataset():
    metrics, _ = metrics_from("accuracy", 0.5)
    assert [(metric.key, metric.value) for metric in metrics] == [("accuracy", 0.5)]


def test_empty_tags_are_dropped_and_long_ones_truncated():
    tags = prepare_tags({"a": None, "b": "", "c": "x" * 9000, "d": 1})
    assert set(tags) == {"c", "d"}
    assert tags["c"].endswith(TRUNCATION_MARKER)
    assert json.dumps(tags)  # all strings
