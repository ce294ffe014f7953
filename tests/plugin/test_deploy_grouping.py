"""Nodes into tasks, and the `snowflake.deploy` schema: plain Kedro pipelines, no
Snowflake (the grouping reads the catalog's configuration only)."""

from __future__ import annotations

import pytest
from kedro.pipeline import node, pipeline

from kedro_snowflake_mlops.deploy.config import DeployConfigError, load_deploy_config
from kedro_snowflake_mlops.deploy.grouping import Estimate, PlanError, group_nodes

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
    groups = by_name(group_nodes(pipeline(nodes), catalog, "memory").groups)
    assert groups["A"].nodes == ["a"] and groups["A"].input_files == ["data/raw.csv"]
    assert groups["B"].nodes == ["b", "c"] and groups["B"].after == ["A"]


def test_a_namespace_is_one_task():
    inner = pipeline(
        [node(identity, "x", "t1", name="one"), node(identity, "t1", "t2", name="two")],
        namespace="features",
        inputs={"x"},
    )
    catalog = {"x": TABLE, "features.t1": TABLE, "features.t2": TABLE}
    (group,) = group_nodes(inner, catalog, "memory").groups
    assert group.name == "FEATURES" and group.namespace == "features"
    assert group.nodes == ["features.one", "features.two"]


def test_groups_that_would_wait_for_each_other_become_one():
    nodes = [
        node(identity, "raw", "mem", name="first"),
        node(identity, "raw", "table", name="side"),
        node(lambda m, t: m, ["mem", "table"], "out", name="last"),
    ]
    catalog = {"raw": TABLE, "table": TABLE, "out": TABLE}
    groups = group_nodes(pipeline(nodes), catalog, "memory").groups
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
        group_nodes(pipeline(nodes), catalog, "node")
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


def chain(*names: str, table: bool = True) -> list:
    """n0 -> n1 -> ... joined by tables (or by in-memory datasets)."""
    out = "t_{}" if table else "m_{}"
    first = node(identity, "raw", out.format(names[0]), name=names[0])
    rest = [
        node(identity, out.format(a), out.format(b), name=b)
        for a, b in zip(names, names[1:], strict=False)
    ]
    return [first, *rest]


def tables_of(nodes) -> dict:
    return {name: TABLE for n in nodes for name in (*n.inputs, *n.outputs)}


@pytest.mark.parametrize("grouping", ["node", "memory", "pipeline", "auto"])
def test_every_grouping_keeps_memory_inside_a_task(grouping):
    nodes = [*chain("a", "b"), node(identity, "t_b", "in_memory", name="c")]
    nodes.append(node(identity, "in_memory", "t_d", name="d"))
    catalog = {k: v for k, v in tables_of(nodes).items() if k != "in_memory"}
    graph = group_nodes(pipeline(nodes), catalog, grouping)
    (with_c,) = [g for g in graph.groups if "c" in g.nodes]
    assert "d" in with_c.nodes
    assert "reads in_memory from c in memory" in " ".join(with_c.why["d"])


def test_node_gives_each_node_its_task_even_in_a_namespace():
    inner = pipeline(chain("one", "two"), namespace="features", inputs={"raw"})
    graph = group_nodes(inner, tables_of(inner.nodes), "node")
    assert [g.nodes for g in graph.groups] == [["features.one"], ["features.two"]]
    assert graph.critical_path == ["FEATURES_ONE", "FEATURES_TWO"]


def test_pipeline_is_one_task_named_for_all_nodes():
    nodes = [*chain("a", "b"), *chain("x", "y")]
    graph = group_nodes(pipeline(nodes), tables_of(nodes), "pipeline")
    (group,) = graph.groups
    assert group.name == "ALL_NODES" and sorted(group.nodes) == ["a", "b", "x", "y"]


def test_auto_merges_a_chain_and_says_so():
    nodes = chain("a", "b", "c")
    graph = group_nodes(pipeline(nodes), tables_of(nodes), "auto")
    (group,) = graph.groups
    assert group.nodes == ["a", "b", "c"]
    assert any(r.startswith("chain: ") for r in group.why["c"] + group.why["b"])


def test_auto_merges_short_branches_and_keeps_long_ones_apart():
    """Two branches after the root, then a join. Short (1 s each): side by side they
    save 1 s, less than a cold start (6 s), so they merge. Long (30 s each): they save
    30 s, so they stay apart, and so does the join (merged into one branch, it would
    run that branch after the other); the plan says why."""
    nodes = [
        node(identity, "raw", "t_left", name="left"),
        node(identity, "raw", "t_right", name="right"),
        node(lambda a, b: a, ["t_left", "t_right"], "t_out", name="join"),
    ]
    short = group_nodes(pipeline(nodes), tables_of(nodes), "auto")
    assert len(short.groups) == 1 and short.kept_apart == []
    reasons = " ".join(short.groups[0].why["right"])
    assert "less than the cold start it saves (6.0 s)" in reasons

    long = Estimate(nodes={"left": 30, "right": 30})
    graph = group_nodes(pipeline(nodes), tables_of(nodes), "auto", long)
    assert [g.nodes for g in graph.groups] == [["left"], ["right"], ["join"]]
    assert len(graph.critical_path) == 2
    assert graph.seconds == pytest.approx(6 + 30 + 6 + 1)  # a branch, then the join
    assert any(
        "stay apart" in line and "30.0 s slower, more than a cold start" in line
        for line in graph.kept_apart
    ), graph.kept_apart


def test_auto_merges_a_local_file_that_would_cross_tasks():
    """The pickle that node grouping refuses (above) needs no table under auto: the
    chain train -> score becomes one task, so the file never leaves it."""
    nodes = [
        node(identity, "raw", "model", name="train"),
        node(lambda m, t: m, ["model", "raw"], "out", name="score"),
    ]
    catalog = {
        "raw": TABLE,
        "model": {"type": "pickle.PickleDataset", "filepath": "data/model.pkl"},
        "out": TABLE,
    }
    (group,) = group_nodes(pipeline(nodes), catalog, "auto").groups
    assert group.nodes == ["train", "score"]


def test_the_critical_path_is_the_longest_chain_of_tasks():
    nodes = [
        *chain("a", "b"),
        node(identity, "raw", "t_side", name="side"),
        node(lambda x, y: x, ["t_b", "t_side"], "t_end", name="end"),
    ]
    graph = group_nodes(pipeline(nodes), tables_of(nodes), "node")
    assert graph.critical_path == ["A", "B", "END"]
    assert graph.seconds == pytest.approx(3 * (6 + 1))


def test_an_estimate_for_a_node_the_pipeline_lacks_is_refused_with_a_suggestion():
    nodes = chain("train_model", "score")
    with pytest.raises(PlanError) as error:
        group_nodes(
            pipeline(nodes), tables_of(nodes), "auto", Estimate(nodes={"train_modl": 5})
        )
    assert "snowflake.deploy.estimate.nodes names train_modl" in str(error.value)
    assert "did you mean `train_model`?" in str(error.value)


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


def test_grouping_and_estimate_are_validated_like_every_key():
    config = load_deploy_config(
        {"deploy": {**GOOD, "grouping": "node", "estimate": {"nodes": {"x": 3}}}}
    )
    assert config.grouping == "node" and config.estimate.nodes == {"x": 3}
    assert config.estimate.cold_start_seconds == 6.0
    bad = {
        **GOOD,
        "grouping": "per-node",
        "estimate": {"cold_start_seconds": 0, "node_secs": 1, "nodes": {"x": -1}},
    }
    with pytest.raises(DeployConfigError) as error:
        load_deploy_config({"deploy": bad})
    lines = str(error.value).splitlines()
    assert any(line.startswith("snowflake.deploy.grouping ") for line in lines)
    assert any("use auto, memory, node or pipeline" in line for line in lines)
    assert any(
        line.startswith("snowflake.deploy.estimate.cold_start_seconds ")
        for line in lines
    )
    assert any(
        "snowflake.deploy.estimate.node_secs is not a known key (did you mean "
        "`node_seconds`?)" in line
        for line in lines
    )
    assert any("seconds cannot be negative" in line for line in lines)


def test_runtime_repository_and_schedules_are_validated_like_every_key():
    """3.10 is deprecated in Snowflake (python-runtime-support-policy); the repository
    is one of the two shared ones; a schedule is CRON with an IANA zone or an interval."""
    config = load_deploy_config(
        {"deploy": {**GOOD, "schedules": {"scoring": "USING CRON 0 6 * * * UTC"}}}
    )
    assert config.artifact_repository == "snowflake.snowpark.anaconda_shared_repository"
    assert config.schedules == {"scoring": "USING CRON 0 6 * * * UTC"}
    assert load_deploy_config(
        {"deploy": {**GOOD, "schedules": {"x": "90 MINUTES"}}}
    ).schedules == {"x": "90 MINUTES"}
    bad = {
        **GOOD,
        "runtime_version": "3.10",
        "artifact_repository": "my_repo",
        "schedules": {"scoring": "every day", "other": "USING CRON 0 6 * * * Nowhere"},
    }
    with pytest.raises(DeployConfigError) as error:
        load_deploy_config({"deploy": bad})
    lines = str(error.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("snowflake.deploy.runtime_version ")
    assert "Snowflake deprecated 3.10" in lines[0]
    assert "pypi_shared_repository" in lines[1]
    assert "'every day' is not a schedule" in lines[2]
    assert "'Nowhere' is not a time zone Snowflake knows" in lines[2]
    assert "e.g. 'USING CRON 0 6 * * * UTC' (06:00 UTC daily)" in lines[2]
