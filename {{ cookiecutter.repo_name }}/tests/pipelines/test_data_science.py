"""Training, evaluation and the quality gate on a small synthetic table with a known
linear signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro_snowflake_mlops.registry import Champion

from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    evaluate_model,
    judge_model,
    plot_predictions,
    split_data,
    train_model,
)

FEATURES = ["ENGINES", "CREW"]


@pytest.fixture
def model_input(snowpark_session):
    rng = np.random.default_rng(0)
    engines = rng.integers(1, 5, 200)
    crew = rng.integers(1, 7, 200)
    price = 100 * engines + 30 * crew + rng.normal(0, 5, 200)
    frame = pd.DataFrame({"ENGINES": engines, "CREW": crew, "PRICE": price})
    return snowpark_session.create_dataframe(frame)


def test_split_train_evaluate_recovers_the_signal(model_input):
    options = {
        "features": FEATURES,
        "target": "PRICE",
        "test_size": 0.25,
        "random_state": 1,
    }
    X_train, X_test, y_train, y_test = split_data(model_input, options)
    assert len(X_train) == 150
    assert len(X_test) == 50
    assert list(X_train.columns) == FEATURES

    regressor = train_model(X_train, y_train)
    metrics = evaluate_model(regressor, X_test, y_test)

    assert set(metrics) == {"r2", "mae", "rmse"}
    assert metrics["r2"] > 0.99
    assert 0 < metrics["mae"] <= metrics["rmse"] < 10


def test_prediction_plot_has_the_test_points(model_input):
    options = {
        "features": FEATURES,
        "target": "PRICE",
        "test_size": 0.5,
        "random_state": 2,
    }
    X_train, X_test, y_train, y_test = split_data(model_input, options)
    figure = plot_predictions(train_model(X_train, y_train), X_test, y_test)
    (axes,) = figure.axes
    (points,) = axes.collections
    assert len(points.get_offsets()) == len(X_test)
    assert axes.get_xlabel() == "actual price"


GATE = {"thresholds": {"r2": ">= 0.9"}, "no_worse_than_champion": {"r2": 0.01}}


@pytest.fixture
def split(model_input):
    options = {
        "features": FEATURES,
        "target": "PRICE",
        "test_size": 0.25,
        "random_state": 1,
    }
    return split_data(model_input, options)


def test_the_gate_judges_the_first_model_on_its_thresholds(split):
    X_train, X_test, y_train, y_test = split
    regressor = train_model(X_train, y_train)
    candidate = judge_model(regressor, None, X_test, y_test, GATE)
    assert candidate.decision.passed
    assert candidate.model is regressor
    assert candidate.decision.reasons[-1].startswith("no champion yet")


def test_the_gate_keeps_a_better_champion(split):
    X_train, X_test, y_train, y_test = split
    good = train_model(X_train, y_train)
    # Trained on one feature only: r2 well below the champion's on the same rows.
    weak = train_model(X_train[["CREW"]].assign(ENGINES=0.0)[FEATURES], y_train)
    champion = Champion("price", "3", "champion", None, good)
    candidate = judge_model(weak, champion, X_test, y_test, GATE)
    assert not candidate.decision.passed
    assert "(version 3)" in candidate.decision.line("price")
