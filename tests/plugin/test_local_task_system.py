"""The task system functions `run --local` emulates (deploy/local_graph.TaskSystem) refuse
what Snowflake refuses, through the product's own caller (deploy/task_system.TaskContext):

- SYSTEM$GET_PREDECESSOR_RETURN_VALUE takes the predecessor's bare name (no database or
  schema), case-sensitive as created, and is NULL when the predecessor set nothing;
- SYSTEM$SET_RETURN_VALUE takes at most 10 kB.
"""

from __future__ import annotations

import pytest

from kedro_snowflake_mlops.deploy.local_graph import MAX_RETURN_VALUE_BYTES, TaskSystem
from kedro_snowflake_mlops.deploy.task_system import TaskContext


@pytest.fixture
def graph(snowpark_session):
    system = TaskSystem({"deploy_id": "d1"})
    system.register(snowpark_session)
    return system, TaskContext(snowpark_session)


def test_a_predecessor_s_value_by_its_exact_bare_name_and_null_when_unset(graph):
    system, context = graph
    system.current = "DEMO_ROOT"
    context.set_return_value('{"run": null}')
    system.current, system.predecessors = "DEMO_SPLIT", ["DEMO_ROOT", "DEMO_OTHER"]
    assert context.predecessor_return_value("DEMO_ROOT") == '{"run": null}'
    # NULL stays None (never the text "None").
    assert context.predecessor_return_value("DEMO_OTHER") is None
    for wrong in ("demo_root", "DEMO.DEMO.DEMO_ROOT", "DEMO_SPLIT"):
        with pytest.raises(Exception, match="not the name of a predecessor"):
            context.predecessor_return_value(wrong)


def test_a_return_value_over_10_kb_is_refused(graph):
    system, context = graph
    system.current = "DEMO_ROOT"
    context.set_return_value("é" * (MAX_RETURN_VALUE_BYTES // 2))  # bytes, not chars
    with pytest.raises(Exception, match="at most"):
        context.set_return_value("x" * (MAX_RETURN_VALUE_BYTES + 1))


def test_a_task_refuses_code_staged_by_another_deploy(graph):
    """A deploy that ran while a graph run was going on replaces the procedure under
    the old run's later tasks (docs: tasks-graphs, Versioning): each task, not only the
    root, compares the graph's CONFIG with the manifest it imported."""
    from kedro_snowflake_mlops.deploy.procedure import same_deploy  # noqa: PLC0415

    _, context = graph
    same_deploy({"deploy_id": "d1"}, context)  # the graph's own deploy
    with pytest.raises(RuntimeError, match="created by deploy d1, the staged code by"):
        same_deploy({"deploy_id": "d2"}, context)
