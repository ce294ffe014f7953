"""A Kedro pipeline as groups of nodes, one Snowflake task per group.

Nodes joined by an in-memory dataset share a task (memory does not outlive a task), and
so do the nodes of one namespace (a namespace is one unit of work). What goes from one
task to another must outlive the task that wrote it: a Snowflake table. A local file
written in one task and read in another cannot (each task runs in a fresh procedure
call with its own folder): that is refused here, at plan time, naming the dataset.
Raw files that the pipeline only reads are shipped with the code (packaging.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..conf import ConfigError
from .steps import FINALIZER, ROOT

TABLE_TYPES = (
    "kedro_snowflake_mlops.datasets.SnowflakeTableDataset",
    "snowflake.SnowparkTableDataset",
    "kedro_datasets.snowflake.SnowparkTableDataset",
)
MEMORY_TYPES = ("MemoryDataset", "kedro.io.MemoryDataset", "SharedMemoryDataset")
LOCAL_PROTOCOLS = ("", "file")
TASK_NAME_CHARACTERS = re.compile(r"[^A-Z0-9_]+")
# Snowflake identifiers are at most 255 characters; leave room for the prefix.
MAX_TASK_SUFFIX = 80


class PlanError(ConfigError):
    """The pipeline cannot run as a task graph as it is; the message says why and how."""


@dataclass
class DatasetKind:
    """How a dataset lives: `table`, `memory`, `parameters`, `file` (local) or `other`."""

    kind: str
    type: str = ""
    filepath: str = ""


@dataclass
class TaskGroup:
    """One task of the graph: its nodes in run order, and the groups it waits for."""

    name: str  # the task's suffix: upper case, [A-Z0-9_]
    nodes: list[str]
    after: list[str] = field(default_factory=list)
    namespace: str | None = None
    # Raw files the group reads (relative paths), shipped with the code.
    input_files: list[str] = field(default_factory=list)


def dataset_kind(name: str, catalog: dict[str, Any]) -> DatasetKind:
    """Classify a dataset from its catalog entry (dataset factories included)."""
    if name == "parameters" or name.startswith("params:"):
        return DatasetKind("parameters")
    entry = _catalog_entry(name, catalog)
    if entry is None:
        return DatasetKind("memory")
    kind = str(entry.get("type", ""))
    if kind in TABLE_TYPES or kind.endswith("SnowflakeTableDataset"):
        return DatasetKind("table", kind)
    if kind in MEMORY_TYPES or kind.endswith(".MemoryDataset"):
        return DatasetKind("memory", kind)
    filepath = str(entry.get("filepath") or entry.get("path") or "")
    if filepath:
        protocol = filepath.split("://", 1)[0] if "://" in filepath else ""
        if protocol in LOCAL_PROTOCOLS:
            return DatasetKind("file", kind, filepath.removeprefix("file://"))
    return DatasetKind("other", kind, filepath)


def _catalog_entry(name: str, catalog: dict[str, Any]) -> dict[str, Any] | None:
    from kedro.io.catalog_config_resolver import CatalogConfigResolver  # noqa: PLC0415

    entries = {k: v for k, v in catalog.items() if not k.startswith("_")}
    if name in entries:
        return entries[name]
    resolver = CatalogConfigResolver(
        config=entries,
        default_runtime_patterns={"{default}": {"type": "MemoryDataset"}},
    )
    if resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(
        name
    ):
        return resolver.resolve_pattern(name)
    return None


def task_suffix(label: str) -> str:
    """A node or namespace name as the end of a task name: SPLIT_DATA."""
    suffix = TASK_NAME_CHARACTERS.sub("_", label.upper()).strip("_") or "NODES"
    if suffix[0].isdigit():
        suffix = f"N_{suffix}"
    return suffix[:MAX_TASK_SUFFIX]


class _Union:
    def __init__(self, items: list[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(b)] = self.find(a)


def group_nodes(pipeline: Any, catalog: dict[str, Any]) -> list[TaskGroup]:
    """The task groups of a pipeline, in an order where each comes after what it waits
    for; PlanError when a dataset that must cross tasks cannot."""
    nodes = list(pipeline.nodes)  # Kedro's topological order
    order = {node.name: index for index, node in enumerate(nodes)}
    union = _Union([node.name for node in nodes])
    producers = {out: node.name for node in nodes for out in node.outputs}
    kinds = {name: dataset_kind(name, catalog) for name in pipeline.datasets()}
    for node in nodes:
        for name in node.inputs:
            if name in producers and kinds[name].kind == "memory":
                union.join(producers[name], node.name)
        if node.namespace:
            top = node.namespace.split(".")[0]
            first = next(
                n.name for n in nodes if (n.namespace or "").split(".")[0] == top
            )
            union.join(first, node.name)
    _merge_cycles(nodes, producers, union)

    members: dict[str, list[str]] = {}
    for node in nodes:
        members.setdefault(union.find(node.name), []).append(node.name)
    by_node = {name: root for root, names in members.items() for name in names}
    _refuse_crossings(nodes, producers, kinds, by_node)

    groups: dict[str, TaskGroup] = {}
    names_taken: set[str] = set()
    node_by_name = {node.name: node for node in nodes}
    for root in sorted(members, key=lambda r: min(order[n] for n in members[r])):
        names = sorted(members[root], key=order.__getitem__)
        namespaces = {(node_by_name[n].namespace or "").split(".")[0] for n in names}
        namespace = (namespaces.pop() if len(namespaces) == 1 else None) or None
        suffix = task_suffix(namespace or names[0])
        unique, number = suffix, 2
        while unique in names_taken or unique in (ROOT, FINALIZER):
            unique, number = f"{suffix}_{number}", number + 1
        names_taken.add(unique)
        files = sorted(
            {
                kinds[i].filepath
                for n in names
                for i in node_by_name[n].inputs
                if i not in producers and kinds[i].kind == "file"
            }
        )
        groups[root] = TaskGroup(unique, names, namespace=namespace, input_files=files)
    for node in nodes:
        for name in node.inputs:
            if name in producers:
                before, after = by_node[producers[name]], by_node[node.name]
                if before != after and groups[before].name not in groups[after].after:
                    groups[after].after.append(groups[before].name)
    return _in_dependency_order(list(groups.values()))


def _in_dependency_order(groups: list[TaskGroup]) -> list[TaskGroup]:
    """Each group after the groups it waits for (otherwise in pipeline order)."""
    done: list[TaskGroup] = []
    names: set[str] = set()
    waiting = list(groups)
    while waiting:
        ready = next(g for g in waiting if set(g.after) <= names)
        waiting.remove(ready)
        done.append(ready)
        names.add(ready.name)
    return done


def _merge_cycles(nodes: list, producers: dict[str, str], union: _Union) -> None:
    """Merging nodes can make two groups wait for each other; such groups become one."""
    while True:
        edges: dict[str, set[str]] = {}
        for node in nodes:
            for name in node.inputs:
                if name in producers:
                    a, b = union.find(producers[name]), union.find(node.name)
                    if a != b:
                        edges.setdefault(a, set()).add(b)
        cycle = _find_cycle(edges)
        if not cycle:
            return
        for member in cycle[1:]:
            union.join(cycle[0], member)


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(item: str) -> list[str]:
        state[item] = 1
        stack.append(item)
        for following in sorted(edges.get(item, ())):
            if state.get(following) == 1:
                return stack[stack.index(following) :]
            if following not in state:
                found = visit(following)
                if found:
                    return found
        state[item] = 2
        stack.pop()
        return []

    for item in sorted(edges):
        if item not in state:
            found = visit(item)
            if found:
                return found
    return []


def _refuse_crossings(
    nodes: list, producers: dict[str, str], kinds: dict[str, DatasetKind], by_node
) -> None:
    problems = []
    for node in nodes:
        for name in node.inputs:
            kind = kinds[name]
            if name not in producers:
                if kind.kind == "file" and kind.filepath.startswith("/"):
                    problems.append(
                        f"dataset {name} ({kind.type}) reads {kind.filepath}, an "
                        "absolute path on this machine: a procedure cannot see it. Fix: "
                        "use a path inside the project (it is shipped with the code) or "
                        "a table"
                    )
                elif kind.kind == "other":
                    problems.append(
                        f"dataset {name} ({kind.type or 'no type'}) is read by node "
                        f"{node.name}, but a procedure can only read tables and the "
                        "project's own files. Fix: make it a SnowflakeTableDataset"
                    )
                continue
            if by_node[producers[name]] == by_node[node.name]:
                continue
            if kind.kind not in ("table", "parameters"):
                where = f" ({kind.filepath})" if kind.filepath else ""
                problems.append(
                    f"dataset {name} ({kind.type or kind.kind}{where}) is written by "
                    f"node {producers[name]} and read by node {node.name} in another "
                    "task: a task's local files and memory are gone when it ends. Fix: "
                    "make it a table (type kedro_snowflake_mlops.datasets."
                    "SnowflakeTableDataset), or put both nodes in one namespace so "
                    "they share a task"
                )
    if problems:
        raise PlanError("\n".join(dict.fromkeys(problems)))
