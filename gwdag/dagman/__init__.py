"""DAGMan's DAG language: model, parser, writer, builder and lint.

The entry points most code needs::

    from gwdag.dagman import load_dag, validate_dag, DagBuilder, dag_text

This package imports nothing else from gwdag (see DESIGN.md, "Layout").
"""

from .builder import DagBuilder, Layer
from .describe import dag_document, to_dot, to_mermaid, to_text
from .flatten import flatten_dag
from .graph import find_cycle, graph_stats, topological_order
from .lint import ValidationReport, lint_dag, validate_dag
from .loader import Issue, LoadOptions, LoadResult, load_dag
from .model import Dag, Node, NodeKind, Script, Tolerance, Var
from .syntax import parse_dag_text
from .writer import dag_text, write_dag

__all__ = [
    "Dag", "DagBuilder", "Issue", "Layer", "LoadOptions", "LoadResult", "Node", "NodeKind",
    "Script", "Tolerance", "ValidationReport", "Var", "dag_document", "dag_text",
    "find_cycle", "flatten_dag", "graph_stats", "lint_dag", "load_dag", "parse_dag_text",
    "to_dot", "to_mermaid", "to_text", "topological_order", "validate_dag", "write_dag",
]
