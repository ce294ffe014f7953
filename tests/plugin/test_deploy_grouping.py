"""Nodes into tasks, and the `snowflake.deploy` schema: plain Kedro pipelines, no
Snowflake (the grouping reads the catalog's configuration only)."""

from __future__ import annotations

import pytest
from kedro.pipeline import node, pipeline

from kedro_snowflake_mlops.deploy.config import DeployConfigError, load_deploy_config
from kedro_snowflake_mlops.deploy.grouping import PlanError, group_nodes

TABLE = {"type": "kedro_snowflake_mlops.datasets.SnowflakeTableDataset"}


def identity(x):
    return x


def by_name(groups):
    return {g.name: g for g in groups}


def test_nodes_joined_by_memory_share_a_task_and_tables_make_edges():
    nodes = [
        node(identity, "raw", "table_a", name="a"),
        node(identity, "table_a", "in_memory", name="b"),
        node(identity, "in_memory", "result", name="c"),
    ]
    catalog = {
        "raw": {"type": "pandas.CSVDataset", "filepath": "data/raw.csv"},
        "table_a": TABLE,
    }
    groups = by_name(group_nodes(pipeline(nodes), catalog))
    assert groups["A"].nodes == ["a"] and groups["A"].input_files == ["data/raw.csv"]
    assert groups["B"].nodes == ["b", "c"] and groups["B"].after == ["A"]


def test_a_namespace_is_one_task():
    inner = pipeline(
        [node(identity, "x", "t1", name="one"), node(identity, "t1", "t2", name="two")],
        namespace="features",
        inputs={"x"},
    )
    catalog = {"x": TABLE, "features.t1": TABLE, "features.t2": TABLE}
    (group,) = group_nodes(inner, catalog)
    assert group.name == "FEATURES" and group.namespace == "features"
    assert group.nodes == ["features.one", "features.two"]


def test_groups_that_would_wait_for_each_other_become_one():
    nodes = [
        node(identity, "raw", "mem", name="first"),
        node(identity, "raw", "table", name="side"),
        node(lambda m, t: m, ["mem", "table"], "out", name="last"),
    ]
    catalog = {"raw": TABLE, "table": TABLE, "out": TABLE}
    groups = group_nodes(pipeline(nodes), catalog)
    # first+last share a task (memory); side feeds last and needs nothing of first.
    assert [g.nodes for g in groups] == [["first", "last"], ["side"]] or [
        g.nodes for g in groups
    ] == [["side"], ["first", "last"]]
    joined = next(g for g in groups if "last" in g.nodes)
    assert joined.after == ["SIDE"]


def test_a_local_file_crossing_tasks_is_refused_naming_it():
    """train and score share no memory dataset, so they are two tasks; the pickle file
    train writes would be gone when score runs."""
    nodes = [
        node(identity, "raw", "model", name="train"),
        node(lambda m, t: m, ["model", "raw"], "out", name="score"),
    ]
    catalog = {
        "raw": TABLE,
        "model": {"type": "pickle.PickleDataset", "filepath": "data/model.pkl"},
        "out": TABLE,
    }
    with pytest.raises(PlanError) as error:
        group_nodes(pipeline(nodes), catalog)
    assert "dataset model (pickle.PickleDataset (data/model.pkl))" in str(error.value)
    assert "written by node train and read by node score" in str(error.value)
    assert "make it a table" in str(error.value)


def test_an_absolute_input_path_is_refused():
    nodes = [node(identity, "raw", "t", name="ingest")]
    catalog = {
        "raw": {"type": "pandas.CSVDataset", "filepath": "/home/me/raw.csv"},
        "t": TABLE,
    }
    with pytest.raises(PlanError, match="absolute path on this machine"):
        group_nodes(pipeline(nodes), catalog)


GOOD = {
    "code_stage": "@DB.SC.CODE",
    "procedure": "DB.SC.RUN_NODES",
    "task_prefix": "DB.SC.DEMO",
    "runs_table": "DB.SC.RUNS",
    "warehouse": "WH",
    "packages": ["pandas", "scikit-learn==1.5.2"],
}


def test_the_deploy_block_validates_names_that_go_into_sql():
    assert load_deploy_config({"deploy": GOOD}).schema_name == "DB.SC"
    bad = {**GOOD, "procedure": "DB.SC.RUN; DROP TABLE X", "packages": ["pandas'); --"]}
    with pytest.raises(DeployConfigError) as error:
        load_deploy_config({"deploy": bad})
    text = str(error.value)
    assert "snowflake.deploy.procedure" in text and "fix:" in text
    assert "snowflake.deploy.packages" in text


def test_a_missing_or_misspelt_deploy_block_says_what_to_do():
    with pytest.raises(DeployConfigError, match="add the deploy block"):
        load_deploy_config({})
    with pytest.raises(DeployConfigError) as error:
        load_deploy_config({"deploy": {**GOOD, "warehose": "X"}})
    assert str(error.value).startswith(
        "snowflake.deploy.warehose is not a known key (did you mean `warehouse`?); fix:"
    )
