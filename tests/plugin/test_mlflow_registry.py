"""MLflow's real registry in a sqlite store (mlflow.db, as offline): the first model
becomes champion, a worse one leaves the alias where it was and says why, a better one
takes it; `models:/<name>@champion` loads the champion's predictions. Nothing is faked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score

from kedro_snowflake_mlops.registry.gate import decide, parse_rules
from kedro_snowflake_mlops.registry.mlflow_registry import (
    GATE_TAG,
    RUN_TAG,
    find_by_alias,
    load_sklearn_model,
    log_sklearn_model,
    register_version,
)

mlflow = pytest.importorskip("mlflow")

NAME = "spaceflights price"  # a free-text name, as MLflow allows with target mlflow
RULES = parse_rules({"thresholds": {"r2": ">= 0.8"}, "no_worse_than_champion": {"r2": 0.02}})  # fmt: skip


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # mlflow.pyfunc.load_model("models:/...") reads the process-wide tracking URI.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    made = mlflow.MlflowClient(tracking_uri=uri)
    made.create_experiment("demo", artifact_location=(tmp_path / "mlruns").as_uri())
    return made


@pytest.fixture(scope="module")
def rows():
    generator = np.random.default_rng(7)
    features = pd.DataFrame(generator.normal(size=(200, 3)), columns=["A", "B", "C"])
    target = features @ [3.0, -2.0, 1.0] + generator.normal(scale=0.3, size=200)
    return features[:150], target[:150], features[150:], target[150:]


def train_and_register(client, rows, model, champion=None):
    """One training run as the demo will make it: fit, judge, log, register."""
    x_train, y_train, x_test, y_test = rows
    model.fit(x_train, y_train)
    metrics = {"r2": r2_score(y_test, model.predict(x_test))}
    champion_metrics = None
    if champion is not None:
        champion_model = load_sklearn_model(client, champion)
        champion_metrics = {"r2": r2_score(y_test, champion_model.predict(x_test))}
    decision = decide(RULES, metrics, champion_metrics, champion and champion.version)
    experiment = client.get_experiment_by_name("demo").experiment_id
    run_id = client.create_run(experiment).info.run_id
    uri = log_sklearn_model(client, run_id, model, x_test)
    version = register_version(
        client,
        name=NAME,
        run_id=run_id,
        model_uri=uri,
        decision=decision,
        alias="champion",
        challenger_alias="challenger",
    )
    return version, decision


def aliases(client):
    return {k: str(v) for k, v in client.get_registered_model(NAME).aliases.items()}


def test_first_worse_better_models_move_the_alias_only_when_the_gate_passes(
    client, rows
):
    assert find_by_alias(client, NAME, "champion") is None  # no model yet

    first, decision = train_and_register(client, rows, Ridge(alpha=40.0))
    assert decision.passed, decision.reasons
    assert "no champion yet: judged on the thresholds alone" in decision.reasons
    assert aliases(client) == {"champion": "1", "challenger": "1"}

    # Worse: trained on the target shuffled, so it predicts nothing.
    x_train, y_train, x_test, y_test = rows
    shuffled = (x_train, y_train.sample(frac=1, random_state=1).to_numpy(), x_test, y_test)  # fmt: skip
    champion = find_by_alias(client, NAME, "champion")
    worse, decision = train_and_register(client, shuffled, LinearRegression(), champion)
    assert not decision.passed
    line = decision.line(NAME)
    assert line.startswith(f"Quality gate failed for {NAME}: r2 ")
    assert "misses >= 0.8" in line
    assert "(version 1): " in line and "more than 0.02" in line
    assert aliases(client) == {"champion": "1", "challenger": "2"}
    stored = client.get_model_version(NAME, worse.version)
    assert stored.tags[GATE_TAG] == "failed"
    assert stored.description == line  # the registry alone says why

    better, decision = train_and_register(
        client, rows, LinearRegression(), find_by_alias(client, NAME, "champion")
    )
    assert decision.passed, decision.reasons
    assert decision.champion_metrics["r2"] < decision.metrics["r2"]
    assert aliases(client) == {"champion": "3", "challenger": "3"}
    stored = client.get_model_version(NAME, better.version)
    assert stored.tags == {GATE_TAG: "passed", RUN_TAG: better.run_id}


def test_the_champion_loads_by_alias_with_its_signature(client, rows):
    version, _ = train_and_register(client, rows, LinearRegression())
    x_test = rows[2]
    loaded = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    assert client.get_model_version_by_alias(NAME, "champion").run_id == version.run_id
    assert [c.name for c in loaded.metadata.get_input_schema().inputs] == ["A", "B", "C"]  # fmt: skip
    mine = load_sklearn_model(client, find_by_alias(client, NAME, "champion"))
    np.testing.assert_allclose(
        np.asarray(loaded.predict(x_test)).ravel(), mine.predict(x_test)
    )
    # The signature refuses rows without the model's columns, naming what is missing.
    with pytest.raises(mlflow.exceptions.MlflowException, match="C"):
        loaded.predict(x_test[["A", "B"]])


def test_a_missing_alias_is_none_and_other_registry_errors_are_raised(client, rows):
    train_and_register(client, rows, LinearRegression())
    assert find_by_alias(client, NAME, "champion") is not None
    assert find_by_alias(client, NAME, "nobody") is None
    assert find_by_alias(client, "no such model", "champion") is None
