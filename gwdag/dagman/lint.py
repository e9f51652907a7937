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
from .loader import Issue, LoadOptions, LoadResult, load_dag, locate_dag, read_dag_text
from .model import Dag, Node, NodeKind
from .quickcheck import prove_valid

__all__ = ["ValidationReport", "validate_dag", "check_submit_text", "lint_dag", "submit_problem"]


@dataclass
class ValidationReport:
    """Everything ``gwdag dag validate`` says about one DAG file.

    ``result`` is ``None`` when the DAG was proven valid without building its model
    (:func:`validate_dag` with ``model=False``); ``nodes`` and ``edges`` are the
    counts either way.
    """

    path: str
    result: LoadResult | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    nodes: int = 0
    edges: int = 0

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


def _read_submit(path: str) -> str | None:
    """A submit file's text, or ``None`` when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def submit_problem(path: str) -> bool:
    """Whether :func:`lint_dag` would warn about the submit file at ``path``."""
    text = _read_submit(path)
    return text is None or bool(text and check_submit_text(text))


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
                text = _read_submit(path)
                checked[path] = text or ""
                if text is None:
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


def validate_dag(path: str, *, cwd: str | None = None, options: LoadOptions | None = None,
                 model: bool = True) -> ValidationReport:
    """Load ``path`` and lint it: the answer to "would DAGMan accept this DAG?".

    With ``model=False`` a DAG file of plain lines is first checked in bulk
    (:func:`gwdag.dagman.quickcheck.prove_valid`); when that proves it valid the
    report has the counts but no ``result``.  The answer is the same either way.
    """
    text = None
    if not model:
        options = options or LoadOptions()
        full, _, dag_cwd = locate_dag(path, cwd, options)
        try:
            text = read_dag_text(full)
        except OSError:
            pass  # the full path reports it in DAGMan's words
        if text is not None:
            counts = prove_valid(text, dag_cwd, submit_problem)
            if counts is not None:
                return ValidationReport(path, None, nodes=counts[0], edges=counts[1])
    with paused_gc():
        # (the text already read, if any: a large file is not read twice)
        result = load_dag(path, cwd=cwd, options=options, text=text)
        report = ValidationReport(path, result, list(result.errors), list(result.warnings),
                                  len(result.dag.nodes), result.dag.num_edges())
        if result.dag.nodes or not result.errors:
            errors, warnings = lint_dag(result.dag, result.cwd)
            report.errors.extend(errors)
            report.warnings.extend(warnings)
    return report
