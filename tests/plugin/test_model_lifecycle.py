"""From a training run to the champion alias, through the tracking hook.

Real parts: Kedro's catalog, runner and hook manager; the MLflow worker process; MLflow's
own registry in a sqlite store (mlflow.db, as offline). The context is a stand-in with
the attributes the hook reads (a real KedroContext would point the store at the project
folder). Each training run is a new hook, as each `kedro run` is a new process.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import mlflow.pyfunc
import numpy as np
import pandas as pd
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from mlflow import MlflowClient
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from support.troubled_proxy import TroubledProxy

from kedro_snowflake_mlops.datasets import ChampionModelDataset
from kedro_snowflake_mlops.registry.lifecycle import (
    DECISION_ARTIFACT,
    Candidate,
    Champion,
    judge,
)
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS
from kedro_snowflake_mlops.tracking.hook import MlflowTrackingHook

MODEL = "demo_price"
RULES = {"thresholds": {"r2": ">= 0.5"}, "no_worse_than_champion": {"r2": 0.02}}


def snowflake_conf(store: str, registry: dict | None) -> dict:
    block = {
        "mlflow": {
            "experiment_name": "lifecycle",
            "stage": "@DEMO.DEMO.MLFLOW_ARTIFACTS",
            "functions": {key: f"DEMO.DEMO.{key}" for key in FUNCTION_KEYS},
            "tracking_uri": store,
        }
    }
    if registry is not None:
        block["registry"] = registry
    return {"snowflake": {"snowflake": block}}


def rows() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    generator = np.random.default_rng(11)
    features = pd.DataFrame(generator.normal(size=(300, 3)), columns=["a", "b", "c"])
    target = features @ [3.0, -2.0, 1.0] + generator.normal(scale=0.5, size=300)
    return features[:200], target[:200], features[200:], target[200:]


def train(alpha: float) -> tuple[Ridge, pd.DataFrame, pd.Series]:
    x_train, y_train, x_test, y_test = rows()
    return Ridge(alpha=alpha).fit(x_train, y_train), x_test, y_test


def r2(model, x_test, y_test) -> dict[str, float]:
    return {"r2": r2_score(y_test, model.predict(x_test))}


def judge_model(model, champion, x_test, y_test, rules) -> Candidate:
    """The gate node as the starter's project writes it."""
    return judge(model, champion, x_test, y_test, rules=rules, measure=r2)


PIPELINE = Pipeline(
    [
        node(train, "params:alpha", ["model", "x_test", "y_test"], name="train"),
        node(
            judge_model,
            ["model", "champion_model", "x_test", "y_test", "params:quality_gate"],
            "candidate",
            name="judge",
        ),
    ]
)


DEFAULT_REGISTRY = {"model_name": MODEL}


def training_run(  # noqa: PLR0913 (what a run varies)
    folder: Path, alpha: float, caplog, registry=DEFAULT_REGISTRY, store=None
):
    """One `kedro run` of the training pipeline; returns its summary line and log."""
    store = store or f"sqlite:///{folder / 'mlflow.db'}"
    hook = MlflowTrackingHook()
    hook.after_context_created(
        SimpleNamespace(
            config_loader=snowflake_conf(store, registry),
            project_path=folder,
            env="local",
        )
    )
    catalog = DataCatalog(
        {
            "champion_model": ChampionModelDataset(),
            "candidate": MemoryDataset(
                copy_mode="assign", metadata={"mlflow": "candidate"}
            ),
        }
    )
    parameters = {"alpha": alpha, "quality_gate": RULES}
    catalog["params:alpha"] = alpha
    catalog["params:quality_gate"] = RULES
    hook.after_catalog_created(catalog=catalog, parameters={"parameters": parameters})
    hook_manager = _create_hook_manager()
    hook_manager.register(hook)
    hook.before_pipeline_run(
        run_params={"run_id": f"alpha-{alpha}", "pipeline_names": ["__default__"]},
        pipeline=PIPELINE,
    )
    caplog.clear()
    with caplog.at_level(logging.INFO):
        try:
            SequentialRunner().run(PIPELINE, catalog, hook_manager)
        except Exception as error:
            hook.on_pipeline_error(error=error)  # as Kedro's session calls it
            raise
        hook.after_pipeline_run(pipeline=PIPELINE)
    messages = [record.getMessage() for record in caplog.records]
    return next(m for m in messages if m.startswith("MLflow run ")), messages


def test_first_worse_and_better_runs_move_the_alias_only_when_the_gate_passes(
    tmp_path, caplog
):
    first, _ = training_run(tmp_path, 1.0, caplog)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert f"registered {MODEL} version 1 (challenger, champion)" in first
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"

    worse, messages = training_run(tmp_path, 5000.0, caplog)
    assert f"registered {MODEL} version 2 (challenger)" in worse
    (gate,) = [m for m in messages if m.startswith("Quality gate")]
    assert gate.startswith(f"Quality gate failed for {MODEL}: r2 ")
    assert "against the champion's" in gate and "(version 1)" in gate
    assert "worse, more than 0.02" in gate
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"

    better, messages = training_run(tmp_path, 0.01, caplog)
    assert f"registered {MODEL} version 3 (challenger, champion)" in better
    (gate,) = [m for m in messages if m.startswith("Quality gate")]
    assert gate.startswith(f"Quality gate passed for {MODEL}")
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "3"

    # The registry alone says why each alias sits where it does, and each run carries
    # the decision as tags and as quality_gate.json.
    version_2 = client.get_model_version(MODEL, "2")
    assert version_2.tags["quality_gate"] == "failed"
    assert version_2.description.startswith("Quality gate failed")
    run = client.get_run(version_2.run_id)
    assert run.data.tags["quality_gate"] == "failed"
    assert run.data.tags["quality_gate.champion_version"] == "1"
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {DECISION_ARTIFACT, "model"} <= artifacts
    decision = client.download_artifacts(run.info.run_id, DECISION_ARTIFACT, tmp_path)
    assert '"passed": false' in Path(decision).read_text()


def test_the_champion_loads_as_mlflow_serves_it(tmp_path, caplog, monkeypatch):
    """What the gate compared with is what `models:/<name>@champion` predicts."""
    training_run(tmp_path, 1.0, caplog)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    served = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    model, x_test, _ = train(1.0)
    np.testing.assert_allclose(served.predict(x_test), model.predict(x_test))
    # The signature came from the gate's rows: the served model checks its input.
    assert served.metadata.get_input_schema().input_names() == ["a", "b", "c"]


def test_without_a_registry_block_the_gate_judges_on_thresholds(tmp_path, caplog):
    """No champion to compare with and nothing registered; the log says why."""
    line, messages = training_run(tmp_path, 1.0, caplog, registry=None)
    (gate,) = [m for m in messages if m.startswith("Quality gate")]
    assert gate.endswith("no champion yet: judged on the thresholds alone")
    said = "MLflow: candidate is not registered: conf/local/snowflake.yml sets no"
    assert any(message.startswith(said) for message in messages)
    assert "registered" not in line and "NOT logged" not in line


def test_a_champion_that_cannot_be_read_keeps_its_alias(
    mlflow_server, tmp_path, caplog
):
    """MLflow's server answers 503 to every read of the alias (injected by a proxy in
    front of the real `mlflow server`): the gate compared the new model with nothing,
    so it becomes challenger only, and both the gate line and the summary say why."""
    registry = {"model_name": "unreadable_champion"}
    training_run(tmp_path, 1.0, caplog, registry, store=mlflow_server.url)
    proxy = TroubledProxy(mlflow_server.url)
    # Only the read (GET .../registered-models/alias?name=...), not the alias's move.
    proxy.add("registered-models/alias?", "status", times=None, status=503)
    try:
        line, messages = training_run(tmp_path, 0.01, caplog, registry, proxy.url)
    finally:
        proxy.close()
    (gate,) = [m for m in messages if m.startswith("Quality gate")]
    assert gate.startswith("Quality gate failed for unreadable_champion: r2 ")
    assert gate.endswith(
        "the champion could not be read, so the alias stays where it is"
    )
    assert "registered unreadable_champion version 2 (challenger)" in line
    assert "NOT logged: the move of the champion alias of unreadable_champion" in line
    assert "(HTTP 503)" in line
    client = MlflowClient(mlflow_server.url)
    champion = client.get_model_version_by_alias("unreadable_champion", "champion")
    assert str(champion.version) == "1"


def test_a_champion_with_other_features_is_judged_by_its_own_run():
    """Features changed between runs: the champion cannot score the new test rows,
    so its own run's metrics stand in for it, and the reason says so."""
    x_train, y_train, x_test, y_test = rows()
    old = Ridge().fit(x_train.assign(d=0.0), y_train)  # read a column now gone
    champion = Champion(MODEL, "1", "champion", "run", old, {"r2": 0.99})
    new = Ridge().fit(x_train, y_train)  # r2 0.986 on these rows
    candidate = judge(new, champion, x_test, y_test, rules=RULES, measure=r2)
    line = candidate.decision.line(MODEL)
    assert candidate.decision.passed, line
    assert (
        "r2 0.9861 against the champion's 0.99 (version 1, its own run's test metrics: "
        "it reads columns these rows lack): 0.003862 worse, within 0.02" in line
    )
