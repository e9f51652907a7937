"""Graph facts about a DAG: statistics, cycles, topological order.

:func:`graph_stats` reports what ``condor_dag_checker -statistics`` reports, with
the same meaning: counts by node type, the number of arcs, and the height and
per-depth widths found by a depth-first walk from each node without parents (in
node order, children in node order), a node's depth being where the walk first
reaches it.  FINAL, SERVICE and PROVISIONER nodes take no part in the walk.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .model import JOIN_NODE_PREFIX, Dag, NodeKind

__all__ = ["graph_stats", "find_cycle", "topological_order"]

_OUTSIDE_GRAPH = (NodeKind.FINAL, NodeKind.SERVICE, NodeKind.PROVISIONER)


def _adjacency(dag: Dag) -> tuple[list[str], list[list[int]], list[bool]]:
    """Node names in order, children as sorted index lists, has-parent flags."""
    names = list(dag.nodes)
    position = {name: i for i, name in enumerate(names)}
    children: list[list[int]] = [[] for _ in names]
    has_parent = [False] * len(names)
    for parent, kids in dag.children.items():
        p = position[parent]
        row = children[p]
        for child in kids:
            c = position[child]
            row.append(c)
            has_parent[c] = True
        row.sort()
    return names, children, has_parent


def _walk(start: int, children: list[list[int]], visited: list[bool],
          widths: list[int]) -> list[int] | None:
    """Depth-first walk from ``start``; returns the ancestor path of a cycle."""
    # Iterative form of a recursive pre-order walk (DAGs can be 100k nodes deep).
    visited[start] = True
    if len(widths) == 0:
        widths.append(0)
    widths[0] += 1
    stack: list[tuple[int, int]] = [(start, 0)]
    on_path = {start}
    while stack:
        node, next_child = stack[-1]
        kids = children[node]
        if next_child >= len(kids):
            stack.pop()
            on_path.discard(node)
            continue
        stack[-1] = (node, next_child + 1)
        child = kids[next_child]
        if visited[child]:
            if child in on_path:
                return [n for n, _ in stack] + [child]
            continue
        visited[child] = True
        depth = len(stack)
        if len(widths) <= depth:
            widths.append(0)
        widths[depth] += 1
        stack.append((child, 0))
        on_path.add(child)
    return None


def graph_stats(dag: Dag) -> dict[str, Any]:
    """Statistics of ``dag`` as ``condor_dag_checker`` names them.

    Always present: ``TotalNodes``, ``NumNodes``, ``NumArcs``, ``GraphHeight``,
    ``GraphWidth``, ``WidthByDepth``; present when non-zero or set:
    ``NumJoinNodes``, ``NumServiceNodes``, ``NumSubDAGs``, ``NumSplices``,
    ``FinalNode``, ``ProvisionerNode``, and for a cyclic DAG ``IsCyclic`` and
    ``DetectedCycle`` (then height and widths are 0 and empty).
    """
    counts = {"NumNodes": 0, "NumJoinNodes": 0, "NumServiceNodes": 0, "NumSubDAGs": 0}
    stats: dict[str, Any] = {}
    for node in dag.nodes.values():
        if node.kind is NodeKind.JOB:
            key = "NumJoinNodes" if node.name.startswith(JOIN_NODE_PREFIX) else "NumNodes"
            counts[key] += 1
        elif node.kind is NodeKind.SERVICE:
            counts["NumServiceNodes"] += 1
        elif node.kind is NodeKind.SUBDAG:
            counts["NumSubDAGs"] += 1
        elif node.kind is NodeKind.FINAL:
            stats["FinalNode"] = node.name
        elif node.kind is NodeKind.PROVISIONER:
            stats["ProvisionerNode"] = node.name
    result: dict[str, Any] = {"TotalNodes": len(dag.nodes), "NumNodes": counts["NumNodes"],
                              "NumArcs": dag.num_edges()}
    for key in ("NumJoinNodes", "NumServiceNodes", "NumSubDAGs"):
        if counts[key]:
            result[key] = counts[key]
    top_splices = [s for s in dag.splices if "+" not in s]
    num_splices = sum(1 + dag.splices[s].nested for s in top_splices)
    if num_splices:
        result["NumSplices"] = num_splices
    result.update(stats)

    names, children, has_parent = _adjacency(dag)
    kinds = [dag.nodes[n].kind for n in names]
    visited = [k in _OUTSIDE_GRAPH for k in kinds]
    in_graph = not all(visited)
    widths: list[int] = []
    cycle: list[int] | None = None
    found_start = False
    height = 0
    for i in range(len(names)):
        if kinds[i] in _OUTSIDE_GRAPH or has_parent[i]:
            continue
        found_start = True
        local: list[int] = []
        cycle = _walk(i, children, visited, local)
        for depth, count in enumerate(local):
            if depth < len(widths):
                widths[depth] += count
            else:
                widths.append(count)
        if cycle is not None:
            break
    widths = [w for w in widths if w]
    height = len(widths)
    not_visited = [names[i] for i, seen in enumerate(visited) if not seen]
    if in_graph and (cycle is not None or not found_start or not_visited):
        result["IsCyclic"] = True
        if not found_start:
            detected = "No initial nodes discovered"
        elif cycle is not None:
            detected = " -> ".join(names[i] for i in cycle)
        else:
            detected = "Failed to visit nodes " + ",".join(not_visited)
        result["DetectedCycle"] = detected
        result.update(GraphHeight=0, GraphWidth=0, WidthByDepth=[])
    else:
        result.update(GraphHeight=height, GraphWidth=max(widths, default=0),
                      WidthByDepth=widths)
    return result


def _acyclic(dag: Dag) -> bool:
    """Whether ``dag`` has no cycle (Kahn's peeling of parentless nodes).

    Several times faster than the depth-first walk on large DAGs: it touches each
    edge once through the model's own dictionaries; the walk runs only to name a
    cycle this finds.
    """
    children = dag.children
    waiting = {name: len(ups) for name, ups in dag.parents.items() if ups}
    ready = [name for name in children if name not in waiting]
    while ready:
        kids = children.get(ready.pop())
        if not kids:
            continue
        for child in kids:
            left = waiting[child] - 1
            if left:
                waiting[child] = left
            else:
                del waiting[child]
                ready.append(child)
    return not waiting


def find_cycle(dag: Dag) -> list[str] | None:
    """A cycle of ``dag`` as the walk that found it (``[A, B, C, B]``), or ``None``.

    The walk starts at the nodes without parents, as DAGMan's checker does, and
    then at any node it could not reach, so cycles with no way in are found too.
    """
    if _acyclic(dag):
        return None
    names, children, has_parent = _adjacency(dag)
    visited = [False] * len(names)
    starts = [i for i in range(len(names)) if not has_parent[i]]
    starts += [i for i in range(len(names)) if has_parent[i]]
    for start in starts:
        if visited[start]:
            continue
        cycle = _walk(start, children, visited, [])
        if cycle is not None:
            return [names[i] for i in cycle]
    return None


def topological_order(dag: Dag) -> list[str]:
    """Node names with every parent before its children (node order breaks ties).

    Raises ``ValueError`` if the DAG has a cycle.
    """
    indegree = {name: len(dag.parents.get(name, {})) for name in dag.nodes}
    ready = deque(name for name, degree in indegree.items() if degree == 0)
    order: list[str] = []
    while ready:
        name = ready.popleft()
        order.append(name)
        for child in dag.children.get(name, {}):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if len(order) != len(dag.nodes):
        raise ValueError("the DAG has a cycle")
    return order
