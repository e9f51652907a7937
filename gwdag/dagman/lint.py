"""Checks beyond parsing: what DAGMan would only find at run time, or not at all.

* a cycle (an error: DAGMan runs what it can, then fails with DAG_STATUS_CYCLE);
* a submit file that does not exist (a warning: DAGMan fails that node when it
  tries to submit it) and one that HTCondor's own submit parser
  (``htcondor2.Submit``) rejects;
* MAXJOBS for a category no node is in, and a numeric category name, the mark of
  ``CATEGORY cat N`` written where ``MAXJOBS cat N`` was meant.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from .gcpause import paused_gc
from .graph import find_cycle
from .loader import Issue, LoadOptions, LoadResult, load_dag
from .model import Dag, Node, NodeKind

__all__ = ["ValidationReport", "validate_dag", "check_submit_text", "lint_dag"]


@dataclass
class ValidationReport:
    """Everything ``gwdag dag validate`` says about one DAG file."""

    path: str
    result: LoadResult
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def document(self) -> dict[str, object]:
        return {"schema_version": 1, "dag": self.path, "ok": self.ok,
                "errors": [e.as_dict() for e in self.errors],
                "warnings": [w.as_dict() for w in self.warnings]}


@lru_cache(maxsize=1024)
def check_submit_text(text: str) -> str:
    """Why ``htcondor2.Submit`` rejects a submit description, or ``""``.

    The bindings only say ``parse_up_to_q_line() failed``; the first line whose
    addition makes the parse fail is named so the message can be acted on.
    """
    try:
        import htcondor2
    except ImportError:  # pragma: no cover - htcondor is a dependency
        return ""
    try:
        htcondor2.Submit(text)
        return ""
    except Exception as exc:  # the bindings raise ValueError / HTCondorException
        reason = str(exc) or type(exc).__name__
    lines = text.splitlines()
    for number in range(1, len(lines) + 1):
        try:
            htcondor2.Submit("\n".join(lines[:number]))
        except Exception:
            return f"line {number} ({lines[number - 1].strip()!r}): {reason}"
    return reason


def _submit_file(node: Node, cwd: str) -> str:
    path = node.submit
    if not os.path.isabs(path):
        path = os.path.join(cwd, node.dir, path) if node.dir else os.path.join(cwd, path)
    return path


def lint_dag(dag: Dag, cwd: str) -> tuple[list[Issue], list[Issue]]:
    """Errors and warnings about ``dag`` that parsing does not give."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    cycle = find_cycle(dag)
    if cycle is not None:
        errors.append(Issue(dag.path, 0, "Cycle detected: " + " -> ".join(cycle)))
    checked: dict[str, str] = {}
    paths: dict[tuple[str, str], str] = {}
    for node in dag.nodes.values():
        file, line = node.source
        if node.noop or node.join:
            continue
        if node.kind is NodeKind.SUBDAG:
            if not os.path.exists(_submit_file(node, cwd)):
                warnings.append(Issue(file, line, f"Sub-DAG file {node.submit} of node "
                                                  f"{node.name} does not exist (yet)",
                                      "SUBDAG", "warning"))
            continue
        if node.inline_submit is not None:
            text, label = node.inline_submit, "inline submit description"
        elif node.submit in dag.submit_descriptions:
            text = dag.submit_descriptions[node.submit]
            label = f"submit description {node.submit}"
        else:
            # Thousands of nodes share a file: resolve each (dir, file) pair once.
            key = (node.dir, node.submit)
            path = paths.get(key)
            if path is None:
                path = paths[key] = _submit_file(node, cwd)
            label = f"submit file {node.submit}"
            if path not in checked:
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        checked[path] = handle.read()
                except OSError:
                    checked[path] = ""
                    warnings.append(Issue(
                        file, line, f"Submit file {node.submit} of node {node.name} does not "
                                    "exist: DAGMan will fail the node when it submits it",
                        node.kind.value, "warning"))
                    continue
            text = checked[path]
            if not text:
                continue
        reason = check_submit_text(text)
        if reason:
            warnings.append(Issue(file, line, f"HTCondor's submit parser rejects the {label} "
                                              f"of node {node.name}: {reason}",
                                  node.kind.value, "warning"))
    used = {n.category for n in dag.nodes.values() if n.category is not None}
    for category in dag.maxjobs:
        if category not in used:
            warnings.append(Issue(dag.path, 0, f"MAXJOBS for category {category}, which no "
                                               "node is in", "MAXJOBS", "warning"))
    for category in sorted(c for c in used if c.lstrip("+").isdigit() and c not in dag.maxjobs):
        warnings.append(Issue(dag.path, 0, f"Category name {category} is a number: "
                                           f"'CATEGORY <node> <n>' sets a node's category; a "
                                           "throttle is written 'MAXJOBS <category> <n>'",
                              "CATEGORY", "warning"))
    return errors, warnings


def validate_dag(path: str, *, cwd: str | None = None,
                 options: LoadOptions | None = None) -> ValidationReport:
    """Load ``path`` and lint it: the answer to "would DAGMan accept this DAG?"."""
    with paused_gc():
        result = load_dag(path, cwd=cwd, options=options)
        report = ValidationReport(path, result, list(result.errors), list(result.warnings))
        if result.dag.nodes or not result.errors:
            errors, warnings = lint_dag(result.dag, result.cwd)
            report.errors.extend(errors)
            report.warnings.extend(warnings)
    return report
