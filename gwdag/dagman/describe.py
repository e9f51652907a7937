"""Plain-data views of a DAG: the ``dag show`` document and graph drawings.

:func:`dag_document` is the stable JSON shape of ``gwdag dag show --json``
(``schema_version`` 1); :func:`to_dot`, :func:`to_mermaid` and :func:`to_text`
draw the dependency graph for ``gwdag dag graph``.
"""

from __future__ import annotations

import json
from typing import Any

from .graph import graph_stats, topological_order
from .model import Dag, Node

__all__ = ["SCHEMA_VERSION", "node_document", "dag_document", "to_dot", "to_mermaid",
           "to_text"]

SCHEMA_VERSION = 1


def node_document(node: Node) -> dict[str, Any]:
    """One node as JSON-ready data."""
    abort = node.abort_dag_on
    tolerance = node.tolerance
    return {
        "name": node.name,
        "kind": node.kind.value,
        "submit": node.submit,
        "inline_submit": node.inline_submit,
        "dir": node.dir,
        "noop": node.noop,
        "done": node.done,
        "join": node.join,
        "retry": node.retry,
        "retry_unless_exit": node.retry_unless_exit,
        "abort_dag_on": None if abort is None else {"status": abort.status,
                                                    "return": abort.return_value},
        "category": node.category,
        "priority": node.priority,
        "pre_skip": node.pre_skip,
        "tolerance": None if tolerance is None else {
            "value": tolerance.value, "percent": tolerance.percent, "mode": tolerance.mode},
        "save_point_file": node.save_point_file,
        "vars": [{"key": k, "value": v.value, "append": v.append} for k, v in node.vars.items()],
        "scripts": {
            kind: {"command": s.command, "defer_status": s.defer_status,
                   "defer_time": s.defer_time, "debug_file": s.debug_file,
                   "debug_stream": s.debug_stream}
            for kind, s in node.scripts.items()
        },
    }


def dag_document(dag: Dag, path: str | None = None) -> dict[str, Any]:
    """The whole DAG as JSON-ready data, as DAGMan sees it after INCLUDE/SPLICE."""
    edges = dag.edges()
    return {
        "schema_version": SCHEMA_VERSION,
        "dag": path if path is not None else dag.path,
        "nodes": [node_document(node) for node in dag.nodes.values()],
        "edges": [[parent, child] for parent, child, _ in edges],
        "weak_edges": [[parent, child] for parent, child, weak in edges if weak],
        "maxjobs": dict(dag.maxjobs),
        "submit_descriptions": dict(dag.submit_descriptions),
        "config": dag.config,
        "set_job_attrs": list(dag.set_job_attrs),
        "env": {"get": list(dag.env_get), "set": list(dag.env_set)},
        "dot": None if dag.dot is None else {
            "file": dag.dot.file, "update": dag.dot.update, "overwrite": dag.dot.overwrite,
            "include": dag.dot.include},
        "node_status_file": None if dag.node_status_file is None else {
            "file": dag.node_status_file.file,
            "min_update": dag.node_status_file.min_update,
            "always_update": dag.node_status_file.always_update},
        "jobstate_log": dag.jobstate_log,
        "splices": sorted(dag.splices),
        "stats": graph_stats(dag),
    }


def _dot_id(name: str) -> str:
    return json.dumps(name)


def to_dot(dag: Dag) -> str:
    """Graphviz text: one box per node (joins as points), dashed weak edges."""
    lines = [f"digraph {_dot_id(dag.path)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for node in dag.nodes.values():
        attrs = []
        if node.join:
            attrs.append("shape=point")
        elif node.kind.value != "JOB":
            attrs.append(f'xlabel="{node.kind.value}"')
        if node.noop and not node.join:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_id(node.name)}{suffix};")
    for parent, child, weak in dag.edges():
        style = " [style=dashed]" if weak else ""
        lines.append(f"  {_dot_id(parent)} -> {_dot_id(child)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(dag: Dag) -> str:
    """Mermaid flowchart text (node ids are positions; labels are names)."""
    ids = {name: f"n{i}" for i, name in enumerate(dag.nodes)}
    lines = ["flowchart TD"]
    for name, node in dag.nodes.items():
        label = name.replace('"', "#quot;")
        shape = f'(("{label}"))' if node.join else f'["{label}"]'
        lines.append(f"  {ids[name]}{shape}")
    for parent, child, weak in dag.edges():
        arrow = "-.->" if weak else "-->"
        lines.append(f"  {ids[parent]} {arrow} {ids[child]}")
    return "\n".join(lines) + "\n"


def to_text(dag: Dag) -> str:
    """Plain text: nodes in dependency order with their parents."""
    try:
        order = topological_order(dag)
    except ValueError:
        order = list(dag.nodes)
    lines = []
    for name in order:
        node = dag.nodes[name]
        parents = dag.parents.get(name, {})
        tag = "JOIN" if node.join else node.kind.value
        if parents:
            shown = ", ".join(f"{p} (weak)" if w else p for p, w in parents.items())
            lines.append(f"{name} [{tag}] <- {shown}")
        else:
            lines.append(f"{name} [{tag}]")
    return "\n".join(lines) + "\n"
