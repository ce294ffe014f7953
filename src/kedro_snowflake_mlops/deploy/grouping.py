"""A Kedro pipeline as groups of nodes, one Snowflake task per group.

Every task of the graph is a cold start: Snowflake schedules it, the procedure unpacks
its imports and Python imports Kedro, Snowpark and the project before the first node
runs. Tasks pay that back only by running side by side. `snowflake.deploy.grouping`:

- `node`: one task per node (as the seed did);
- `memory`: one task per namespace, and per set of nodes joined by in-memory datasets;
- `pipeline`: one task for the whole pipeline;
- `auto` (the default): `memory`, then two tasks stay apart only where running them side
  by side saves more time than a cold start costs. A chain (a task whose only successor
  waits for nothing else) always merges; then, one merge at a time, the neighbours
  (a task and one it waits for, or two that wait for the same task) whose merge makes
  the graph slowest by less than one cold start merge, the cheapest first.

How long things take is estimated by a rule, not measured: offline runs use Snowpark's
local emulator, whose timings say nothing about a warehouse. A task costs
`estimate.cold_start_seconds` (benchmarks/task_graph_startup.py measures what a task's
start-up costs here; Snowflake adds its scheduling), a node `estimate.node_seconds`
unless `estimate.nodes` names it (give your long training nodes their seconds there).

Whatever the grouping, nodes joined by an in-memory dataset share a task (memory does
not outlive a task). What goes from one task to another must outlive the task that
wrote it: a Snowflake table. A local file written in one task and read in another cannot
(each task runs in a fresh procedure call with its own folder): that is refused at plan
time, naming the dataset. Raw files that the pipeline only reads are shipped with the
code (packaging.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
# Read through the run's MLflow client, in whichever task reads it (like parameters).
REGISTRY_TYPES = ("kedro_snowflake_mlops.datasets.ChampionModelDataset",)
LOCAL_PROTOCOLS = ("", "file")
TASK_NAME_CHARACTERS = re.compile(r"[^A-Z0-9_]+")
# Snowflake identifiers are at most 255 characters; leave room for the prefix.
MAX_TASK_SUFFIX = 80
GROUPINGS = ("auto", "memory", "node", "pipeline")
# The name of the one task of a pipeline that runs whole.
WHOLE_PIPELINE = "ALL_NODES"


class PlanError(ConfigError):
    """The pipeline cannot run as a task graph as it is; the message says why and how."""


@dataclass(frozen=True)
class Estimate:
    """Seconds a task's start-up and a node's work are taken to cost (grouping auto)."""

    cold_start_seconds: float = 6.0
    node_seconds: float = 1.0
    nodes: dict[str, float] = field(default_factory=dict)

    def of(self, node: str) -> float:
        return self.nodes.get(node, self.node_seconds)


@dataclass
class DatasetKind:
    """How a dataset lives: `table`, `memory`, `parameters`, `registry` (the champion,
    read through the run's MLflow client), `file` (local) or `other`."""

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
    # Why each node sits in this task (in the order the reasons arose).
    why: dict[str, list[str]] = field(default_factory=dict)
    # Estimated seconds of its nodes' work (without the task's cold start).
    seconds: float = 0.0


@dataclass
class TaskGraph:
    """The groups in dependency order, and what the estimate says of them."""

    grouping: str
    estimate: Estimate
    groups: list[TaskGroup]
    critical_path: list[str]  # group names, first to last
    seconds: float  # estimated, along the critical path, cold starts included
    kept_apart: list[str] = field(default_factory=list)  # why tasks stayed apart


def dataset_kind(name: str, catalog: dict[str, Any]) -> DatasetKind:
    """Classify a dataset from its catalog entry (dataset factories included)."""
    if name == "parameters" or name.startswith("params:"):
        return DatasetKind("parameters")
    entry = _catalog_entry(name, catalog)
    if entry is None:
        return DatasetKind("memory")
    kind = str(entry.get("type", ""))
    if named := _kind_of_type(kind):
        return DatasetKind(named, kind)
    filepath = str(entry.get("filepath") or entry.get("path") or "")
    if filepath:
        protocol = filepath.split("://", 1)[0] if "://" in filepath else ""
        if protocol in LOCAL_PROTOCOLS:
            return DatasetKind("file", kind, filepath.removeprefix("file://"))
    return DatasetKind("other", kind, filepath)


def _kind_of_type(kind: str) -> str | None:
    """`table`, `registry` or `memory` for the dataset types that say so."""
    if kind in TABLE_TYPES or kind.endswith("SnowflakeTableDataset"):
        return "table"
    if kind in REGISTRY_TYPES:
        return "registry"
    if kind in MEMORY_TYPES or kind.endswith(".MemoryDataset"):
        return "memory"
    return None


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


class _Nodes:
    """The pipeline's nodes as data: their order, what each reads from which, and a
    partition into tasks (node -> the task it is in) with the reasons that made it."""

    def __init__(self, pipeline: Any, catalog: dict[str, Any]) -> None:
        self.nodes = list(pipeline.nodes)  # Kedro's topological order
        self.names = [node.name for node in self.nodes]
        self.order = {name: index for index, name in enumerate(self.names)}
        self.by_name = {node.name: node for node in self.nodes}
        self.producers = {out: node.name for node in self.nodes for out in node.outputs}
        self.kinds = {name: dataset_kind(name, catalog) for name in pipeline.datasets()}
        # (producer, consumer, dataset) for every dataset one node hands another.
        self.handed = [
            (self.producers[name], node.name, name)
            for node in self.nodes
            for name in node.inputs
            if name in self.producers
        ]
        self.task = {name: name for name in self.names}
        self.why: dict[str, list[str]] = {name: [] for name in self.names}

    def members(self, task: str) -> list[str]:
        return [n for n in self.names if self.task[n] == task]

    def tasks(self) -> list[str]:
        """Task keys in pipeline order of their first node."""
        return list(dict.fromkeys(self.task[n] for n in self.names))

    def join(self, a: str, b: str, reason: str, about: tuple[str, ...] = ()) -> None:
        """Put the tasks of nodes a and b together. The reason is noted on the nodes
        `about` names, or else on the first node of the smaller task (the one that
        moved), which stands for the nodes that came with it."""
        a, b = self.task[a], self.task[b]
        if a == b:
            return
        keep, other = sorted((a, b), key=self.order.get)  # keyed by its first node
        if not about:
            moved = min((other, keep), key=lambda t: len(self.members(t)))
            about = (self.members(moved)[0],)
        for name in self.names:
            if self.task[name] == other:
                self.task[name] = keep
        for name in about:
            if reason not in self.why[name]:
                self.why[name].append(reason)

    def edges(self, task: dict[str, str] | None = None) -> dict[str, set[str]]:
        """task -> the tasks that wait for it."""
        task = task or self.task
        found: dict[str, set[str]] = {t: set() for t in task.values()}
        for before, after, _ in self.handed:
            if task[before] != task[after]:
                found[task[before]].add(task[after])
        return found

    def merge_cycles(self) -> None:
        """Merging nodes can make two tasks wait for each other; such tasks become one."""
        while cycle := _find_cycle(self.edges()):
            for member in cycle[1:]:
                self.join(
                    cycle[0],
                    member,
                    f"its task and the task of {cycle[0]} would wait for each other",
                )


def group_nodes(
    pipeline: Any,
    catalog: dict[str, Any],
    grouping: str = "auto",
    estimate: Estimate | None = None,
) -> TaskGraph:
    """The task groups of a pipeline, in an order where each comes after what it waits
    for; PlanError when a dataset that must cross tasks cannot."""
    if grouping not in GROUPINGS:
        raise PlanError(f"grouping {grouping!r}: use one of {', '.join(GROUPINGS)}")
    estimate = estimate or Estimate()
    nodes = _Nodes(pipeline, catalog)
    _refuse_unknown_estimates(nodes, estimate)
    in_memory: dict[tuple[str, str], list[str]] = {}
    for before, after, name in nodes.handed:
        if nodes.kinds[name].kind == "memory":
            in_memory.setdefault((before, after), []).append(name)
    for (before, after), names in in_memory.items():
        reason = (
            f"reads {', '.join(names)} from {before} in memory, which does not "
            "outlive a task"
        )
        nodes.join(before, after, reason, about=(after,))
    if grouping in ("memory", "auto"):
        _join_namespaces(nodes)
    if grouping == "pipeline":
        for name in nodes.names:
            nodes.join(nodes.names[0], name, "grouping pipeline", about=(name,))
    nodes.merge_cycles()
    kept_apart: list[str] = []
    if grouping == "auto":
        kept_apart = _merge_where_parallel_does_not_pay(nodes, estimate)
    _refuse_crossings(nodes)
    groups = _groups(nodes, estimate, by_namespace=grouping in ("memory", "auto"))
    seconds, path = _critical_path(groups, estimate)
    return TaskGraph(grouping, estimate, groups, path, seconds, kept_apart)


def _join_namespaces(nodes: _Nodes) -> None:
    for name in nodes.names:
        namespace = nodes.by_name[name].namespace
        if not namespace:
            continue
        top = namespace.split(".")[0]
        first = next(
            n
            for n in nodes.names
            if (nodes.by_name[n].namespace or "").split(".")[0] == top
        )
        nodes.join(first, name, f"namespace {top} is one task", about=(first, name))


def _merge_where_parallel_does_not_pay(nodes: _Nodes, estimate: Estimate) -> list[str]:
    """grouping auto: chains, then neighbours whose side-by-side run saves less than a
    cold start; returns why the remaining neighbours stay apart."""
    cold = estimate.cold_start_seconds
    while True:
        _merge_chains(nodes)
        now, _ = _makespan(nodes, nodes.task, estimate)
        candidates = []
        for a, b in _neighbours(nodes):
            merged = _merged(nodes, a, b)
            later, _ = _makespan(nodes, merged, estimate)
            candidates.append((round(later - now, 6), nodes.order[a], nodes.order[b]))
        cheap = sorted(c for c in candidates if c[0] < cold)
        if not cheap:
            break
        slower, a, b = cheap[0]
        a, b = nodes.names[a], nodes.names[b]
        saves = (
            f"the graph gets {slower:.1f} s slower, less than the cold start it saves "
            f"({cold:.1f} s)"
            if slower > 0
            else "one cold start fewer, and the graph gets no slower"
        )
        nodes.join(a, b, f"the tasks of {a} and {b} merged: {saves}")
        nodes.merge_cycles()
    return [
        f"the tasks of {nodes.names[a]} and {nodes.names[b]} stay apart: merged, the "
        f"graph would get {slower:.1f} s slower, more than a cold start ({cold:.1f} s)"
        for slower, a, b in sorted(candidates)
    ]


def _merge_chains(nodes: _Nodes) -> None:
    """A task whose only successor waits for nothing else merges into it."""
    while True:
        edges = nodes.edges()
        waits_for: dict[str, set[str]] = {t: set() for t in edges}
        for before, afters in edges.items():
            for after in afters:
                waits_for[after].add(before)
        chain = next(
            (
                (before, next(iter(afters)))
                for before, afters in edges.items()
                if len(afters) == 1 and len(waits_for[next(iter(afters))]) == 1
            ),
            None,
        )
        if chain is None:
            return
        before, after = chain
        nodes.join(
            before,
            after,
            f"chain: the task of {nodes.members(before)[0]} feeds only the task of "
            f"{nodes.members(after)[0]}, which waits for nothing else",
        )


def _neighbours(nodes: _Nodes) -> Iterable[tuple[str, str]]:
    """Pairs of tasks that could merge: one waits for the other, or both wait for the
    same task (the root, for tasks that wait for none)."""
    edges = nodes.edges()
    waits_for: dict[str, set[str]] = {t: set() for t in edges}
    for before, afters in edges.items():
        for after in afters:
            waits_for[after].add(before)
    pairs = {
        tuple(sorted((a, b), key=nodes.order.get)) for a in edges for b in edges[a]
    }
    tasks = list(edges)
    for i, a in enumerate(tasks):
        for b in tasks[i + 1 :]:
            if waits_for[a] & waits_for[b] or not (waits_for[a] or waits_for[b]):
                pairs.add(tuple(sorted((a, b), key=nodes.order.get)))
    return sorted(pairs, key=lambda p: (nodes.order[p[0]], nodes.order[p[1]]))


def _merged(nodes: _Nodes, a: str, b: str) -> dict[str, str]:
    """The partition with tasks a and b as one (and any cycle that makes closed)."""
    task = {n: (a if t == b else t) for n, t in nodes.task.items()}
    while cycle := _find_cycle(nodes.edges(task)):
        task = {n: (cycle[0] if t in cycle else t) for n, t in task.items()}
    return task


def _makespan(
    nodes: _Nodes, task: dict[str, str], estimate: Estimate
) -> tuple[float, list[str]]:
    """(estimated seconds from the first task's start to the last's end, the tasks on
    that longest path); each task costs a cold start plus its nodes."""
    cost: dict[str, float] = {}
    for name, key in task.items():
        cost[key] = cost.get(key, estimate.cold_start_seconds) + estimate.of(name)
    edges = nodes.edges(task)
    waits_for: dict[str, list[str]] = {t: [] for t in edges}
    for before, afters in edges.items():
        for after in afters:
            waits_for[after].append(before)
    finish: dict[str, tuple[float, list[str]]] = {}
    for key in _topological(edges, waits_for):
        start, path = max(
            (finish[before] for before in waits_for[key]),
            default=(0.0, []),
            key=lambda item: item[0],
        )
        finish[key] = (start + cost[key], [*path, key])
    return max(finish.values(), key=lambda item: item[0], default=(0.0, []))


def _topological(edges: dict[str, set[str]], waits_for: dict[str, list[str]]):
    done: list[str] = []
    waiting = list(edges)
    while waiting:
        ready = next(t for t in waiting if set(waits_for[t]) <= set(done))
        waiting.remove(ready)
        done.append(ready)
    return done


def _groups(nodes: _Nodes, estimate: Estimate, by_namespace: bool) -> list[TaskGroup]:
    groups: dict[str, TaskGroup] = {}
    names_taken: set[str] = set()
    whole = len(nodes.tasks()) == 1 and len(nodes.names) > 1
    for key in nodes.tasks():
        names = nodes.members(key)
        namespaces = {(nodes.by_name[n].namespace or "").split(".")[0] for n in names}
        namespace = (namespaces.pop() if len(namespaces) == 1 else None) or None
        if not by_namespace:
            namespace = None  # grouping node: a task is named by its node
        if namespace:
            suffix = task_suffix(namespace)
        else:
            suffix = WHOLE_PIPELINE if whole else task_suffix(names[0])
        unique, number = suffix, 2
        while unique in names_taken or unique in (ROOT, FINALIZER):
            unique, number = f"{suffix}_{number}", number + 1
        names_taken.add(unique)
        files = sorted(
            {
                nodes.kinds[i].filepath
                for n in names
                for i in nodes.by_name[n].inputs
                if i not in nodes.producers and nodes.kinds[i].kind == "file"
            }
        )
        groups[key] = TaskGroup(
            unique,
            names,
            namespace=namespace,
            input_files=files,
            why={n: list(nodes.why[n]) for n in names},
            seconds=sum(estimate.of(n) for n in names),
        )
    for before, after, _ in nodes.handed:
        a, b = nodes.task[before], nodes.task[after]
        if a != b and groups[a].name not in groups[b].after:
            groups[b].after.append(groups[a].name)
    return _in_dependency_order(list(groups.values()))


def _critical_path(
    groups: list[TaskGroup], estimate: Estimate
) -> tuple[float, list[str]]:
    finish: dict[str, tuple[float, list[str]]] = {}
    for group in groups:  # in dependency order
        start, path = max(
            (finish[name] for name in group.after),
            default=(0.0, []),
            key=lambda item: item[0],
        )
        cost = estimate.cold_start_seconds + group.seconds
        finish[group.name] = (start + cost, [*path, group.name])
    seconds, path = max(finish.values(), key=lambda item: item[0], default=(0.0, []))
    return seconds, path


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


def _refuse_unknown_estimates(nodes: _Nodes, estimate: Estimate) -> None:
    import difflib  # noqa: PLC0415 (only for a name that is not found)

    problems = []
    for name in estimate.nodes:
        if name not in nodes.order:
            close = difflib.get_close_matches(name, nodes.names, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            problems.append(
                f"snowflake.deploy.estimate.nodes names {name}, which is not a node of "
                f"this pipeline{hint}; fix: use a node name, as `kedro registry "
                "describe` lists them"
            )
    if problems:
        raise PlanError("\n".join(problems))


def _refuse_crossings(nodes: _Nodes) -> None:
    problems = []
    for node in nodes.nodes:
        for name in node.inputs:
            kind = nodes.kinds[name]
            if name not in nodes.producers:
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
            producer = nodes.producers[name]
            if nodes.task[producer] == nodes.task[node.name]:
                continue
            if kind.kind not in ("table", "parameters"):
                where = f" ({kind.filepath})" if kind.filepath else ""
                problems.append(
                    f"dataset {name} ({kind.type or kind.kind}{where}) is written by "
                    f"node {producer} and read by node {node.name} in another "
                    "task: a task's local files and memory are gone when it ends. Fix: "
                    "make it a table (type kedro_snowflake_mlops.datasets."
                    "SnowflakeTableDataset), or put both nodes in one namespace so "
                    "they share a task"
                )
    if problems:
        raise PlanError("\n".join(dict.fromkeys(problems)))
