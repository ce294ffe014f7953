"""The project as Kedro sees it: settings, pipelines and catalog fit together."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_PATH = Path(__file__).resolve().parent.parent


def test_every_pipeline_input_is_in_the_catalog():
    bootstrap_project(PROJECT_PATH)
    with KedroSession.create(project_path=PROJECT_PATH) as session:
        context = session.load_context()
        catalog = context.catalog
        default = pipelines["__default__"]
        free_inputs = default.inputs() - {"parameters"}
        missing = {
            name
            for name in free_inputs
            if not name.startswith("params:") and name not in catalog
        }
        assert not missing, f"pipeline inputs not in the catalog: {sorted(missing)}"
        assert {"data_processing", "data_science"} <= set(pipelines)


def test_offline_default_is_local_testing():
    bootstrap_project(PROJECT_PATH)
    with KedroSession.create(project_path=PROJECT_PATH) as session:
        block = session.load_context().config_loader["snowflake"]["snowflake"]
        assert block["session"]["mode"] == "local_testing"
