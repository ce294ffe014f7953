"""The tracking hook picks datasets by their own metadata, factory-made ones included.

A real Kedro catalog (with dataset factory patterns), a real runner and hook manager and
the direct transport on a sqlite store in a temporary folder. The context is a stand-in
with the three attributes the hook reads: a real KedroContext would point the MLflow
store at the project folder, and these tests must leave no mlflow.db there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from mlflow import MlflowClient

from kedro_snowflake_mlops.conf import project_config_loader
from kedro_snowflake_mlops.tracking.hook import (
    MlflowTrackingHook,
)


def catalog_config(folder: Path) -> dict:
    return {
        # Factory patterns: no entry names the datasets the pipeline saves.
        "{name}_metrics": {
            "type": "json.JSONDataset",
            "filepath": str(folder / "{name}_metrics.json"),
            "metadata": {"mlflow": "metrics"},
        },
        "{name}_model": {
            "type": "pickle.PickleDataset",
            "filepath": str(folder / "{name}_model.pickle"),
            "metadata": {"mlflow": "artifact"},
        },
        "{name}_table": {
            "type": "json.JSONDataset",
            "filepath": str(folder / "{name}_table.json"),
            "metadata": {"mlflow": "metric"},  # a typo: warned about, not logged
        },
        "plain_report": {
            "type": "json.JSONDataset",
            "filepath": str(folder / "plain_report.json"),
        },
    }


def outputs() -> tuple:
    return (
        {"rows": 3, "nested": {"share": 0.5}},
        {"r2": 0.75},
        {"weights": [1, 2]},
        {"rows": 99},
        {"not_tracked": 1.0},
    )


@pytest.fixture
def tracked_run(demo_project, tmp_path, caplog):
    hook = MlflowTrackingHook()
    loader = project_config_loader(demo_project, "local")
    hook.after_context_created(
        SimpleNamespace(config_loader=loader, project_path=tmp_path, env="local")
    )
    catalog = DataCatalog.from_config(catalog_config(tmp_path / "data"))
    hook.after_catalog_created(catalog=catalog, parameters={"parameters": {}})
    pipeline = Pipeline(
        [
            node(
                outputs,
                inputs=None,
                outputs=[
                    "quality_metrics",
                    "scoring_metrics",
                    "regressor_model",
                    "input_table",
                    "plain_report",
                ],
            )
        ]
    )
    hook_manager = _create_hook_manager()
    hook_manager.register(hook)
    hook.before_pipeline_run(
        run_params={"run_id": "test-session", "pipeline_names": ["__default__"]},
        pipeline=pipeline,
    )
    with caplog.at_level(logging.INFO):
        SequentialRunner().run(pipeline, catalog, hook_manager)
        hook.after_pipeline_run(pipeline=pipeline)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(hook.config.experiment_name)
    (run,) = client.search_runs([experiment.experiment_id])
    return client, run, caplog.records


def test_factory_made_metrics_datasets_are_logged(tracked_run):
    _, run, _ = tracked_run
    assert run.info.status == "FINISHED"
    # Both `{name}_metrics` datasets, and nothing from the others.
    assert run.data.metrics == {"rows": 3.0, "nested.share": 0.5, "r2": 0.75}


def test_factory_made_artifact_datasets_are_logged(tracked_run):
    client, run, _ = tracked_run
    listed = [item.path for item in client.list_artifacts(run.info.run_id)]
    assert listed == ["regressor_model.pickle"]


def test_an_unknown_role_is_warned_about_by_dataset_name(tracked_run):
    _, _, records = tracked_run
    messages = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    warnings = [message for message in messages if "metadata mlflow" in message]
    assert len(warnings) == 1
    assert "input_table" in warnings[0] and "'metric'" in warnings[0]


def test_inside_a_task_graph_no_git_process_is_started(monkeypatch, tmp_path):
    """A Snowflake procedure may not start a process (docs: Python stored procedure
    limitations), and there is no checkout there: the commit tag is asked of git only
    outside a task graph. subprocess.run is replaced to see whether git is called."""
    from kedro_snowflake_mlops.tracking import hook as hook_module  # noqa: PLC0415
    from kedro_snowflake_mlops.tracking.joined_run import join_run  # noqa: PLC0415

    started: list[list[str]] = []

    def run(command, **kwargs):
        started.append(command)
        return SimpleNamespace(returncode=0, stdout="abc123\n")

    monkeypatch.setattr(hook_module.subprocess, "run", run)
    hook = SimpleNamespace(
        env="local",
        project_path=tmp_path,
        session_block={"mode": "local_testing"},
        config=SimpleNamespace(transport="direct"),
    )
    outside = MlflowTrackingHook._tags(hook, {}, "__default__")
    assert outside["mlflow.source.git.commit"] == "abc123"
    join_run(SimpleNamespace())  # what a task of the graph does before its nodes run
    try:
        inside = MlflowTrackingHook._tags(hook, {}, "__default__")
    finally:
        join_run(None)
    assert inside["mlflow.source.git.commit"] is None
    assert started == [["git", "rev-parse", "HEAD"]]
