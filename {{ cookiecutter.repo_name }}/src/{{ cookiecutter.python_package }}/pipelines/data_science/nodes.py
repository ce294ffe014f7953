"""Model training with scikit-learn, and the quality gate that decides whether the new
model becomes the champion. The model input is pulled from Snowflake here, once."""

from __future__ import annotations

import logging
import math
from typing import Any

import matplotlib
import pandas as pd
from kedro_snowflake_mlops.registry import Candidate, Champion, judge
from matplotlib.figure import Figure
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from snowflake.snowpark import DataFrame

# Figures are written to files, never shown: no display is needed (or available) here.
matplotlib.use("Agg")

logger = logging.getLogger(__name__)


def split_data(
    model_input_table: DataFrame, model_options: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Bring the model input into pandas and split it into train and test sets."""
    columns = [*model_options["features"], model_options["target"]]
    data = model_input_table.select(*columns).to_pandas().astype(float)
    features = data[model_options["features"]]
    target = data[model_options["target"]]
    return train_test_split(
        features,
        target,
        test_size=model_options["test_size"],
        random_state=model_options["random_state"],
    )


def train_model(X_train: pd.DataFrame, y_train: pd.Series) -> LinearRegression:
    regressor = LinearRegression()
    regressor.fit(X_train, y_train)
    return regressor


def evaluate_model(
    regressor: LinearRegression,
    X_test: pd.DataFrame,
    y_test: pd.Series,
) -> dict[str, float]:
    """r2, mae and rmse on the test set; the catalog sends them to MLflow."""
    metrics = test_metrics(regressor, X_test, y_test)
    logger.info(
        "Model has r2 %.3f, mae %.1f, rmse %.1f on test data.", *metrics.values()
    )
    return metrics


def test_metrics(
    model: Any, X_test: pd.DataFrame, y_test: pd.Series
) -> dict[str, float]:
    predicted = model.predict(X_test)
    return {
        "r2": float(r2_score(y_test, predicted)),
        "mae": float(mean_absolute_error(y_test, predicted)),
        "rmse": math.sqrt(mean_squared_error(y_test, predicted)),
    }


def judge_model(
    regressor: LinearRegression,
    champion: Champion | None,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    quality_gate: dict[str, Any],
) -> Candidate:
    """The quality gate: the new model's test metrics against the thresholds in
    parameters.yml, and against the champion's on the same test rows (the first model,
    with no champion yet, is judged on the thresholds alone). When the pipeline has
    finished, the tracking hook registers the model as a new version and moves the
    champion alias to it only if the gate passed."""
    return judge(
        regressor, champion, X_test, y_test, rules=quality_gate, measure=test_metrics
    )


def plot_predictions(
    regressor: LinearRegression,
    X_test: pd.DataFrame,
    y_test: pd.Series,
) -> Figure:
    """Predicted against actual price on the test set; logged to MLflow as an artifact."""
    predicted = regressor.predict(X_test)
    figure = Figure(figsize=(6, 6), dpi=100)
    axes = figure.subplots()
    axes.scatter(y_test, predicted, s=12, alpha=0.6, color="#29B5E8")
    low, high = (
        float(min(y_test.min(), predicted.min())),
        float(max(y_test.max(), predicted.max())),
    )
    axes.plot(
        [low, high],
        [low, high],
        color="#11567F",
        linewidth=1,
        label="perfect prediction",
    )
    axes.set_xlabel("actual price")
    axes.set_ylabel("predicted price")
    axes.set_title("Shuttle price: predicted against actual (test set)")
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure
