"""DAGMan's DAG language: model, parser, writer, builder and lint.

The entry points most code needs::

    from gwdag.dagman import load_dag, validate_dag, DagBuilder, dag_text

Each name is imported from its module the first time it is used (PEP 562):
``gwdag dag run`` needs the loader and the model, not the builder, the lint or
the drawing code, and it is started often enough for their imports to count.

This package imports nothing else from gwdag (see DESIGN.md, "Layout").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .builder import DagBuilder, Layer
    from .describe import dag_document, to_dot, to_mermaid, to_text
    from .flatten import flatten_dag
    from .graph import find_cycle, graph_stats, topological_order
    from .lint import ValidationReport, lint_dag, validate_dag
    from .loader import Issue, LoadOptions, LoadResult, load_dag
    from .model import Dag, Node, NodeKind, Script, Tolerance, Var
    from .syntax import parse_dag_text
    from .writer import dag_text, write_dag

#: Each public name and the module (of this package) that defines it.
_MODULE_OF = {
    "DagBuilder": "builder", "Layer": "builder",
    "dag_document": "describe", "to_dot": "describe", "to_mermaid": "describe",
    "to_text": "describe",
    "flatten_dag": "flatten",
    "find_cycle": "graph", "graph_stats": "graph", "topological_order": "graph",
    "ValidationReport": "lint", "lint_dag": "lint", "validate_dag": "lint",
    "Issue": "loader", "LoadOptions": "loader", "LoadResult": "loader", "load_dag": "loader",
    "Dag": "model", "Node": "model", "NodeKind": "model", "Script": "model",
    "Tolerance": "model", "Var": "model",
    "parse_dag_text": "syntax",
    "dag_text": "writer", "write_dag": "writer",
}

__all__ = [
    "Dag", "DagBuilder", "Issue", "Layer", "LoadOptions", "LoadResult", "Node", "NodeKind",
    "Script", "Tolerance", "ValidationReport", "Var", "dag_document", "dag_text",
    "find_cycle", "flatten_dag", "graph_stats", "lint_dag", "load_dag", "parse_dag_text",
    "to_dot", "to_mermaid", "to_text", "topological_order", "validate_dag", "write_dag",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value   # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))
