"""Proving a plain DAG file valid without building its model.

Generated DAGs of 100k+ nodes are almost entirely four kinds of line, in the plain
forms :meth:`gwdag.dagman.syntax._CommandParser._fast` takes: ``JOB name file``,
``VARS name key="value" ...``, ``PARENT p ... CHILD c ...`` and ``RETRY name n``.
For such a file, "would DAGMan accept it, and would ``gwdag dag validate`` warn?"
comes down to a few set and order checks that regular expressions and built-in
functions can do over the whole text at once, at a fraction of what the full
parser and the :class:`~gwdag.dagman.model.Dag` model cost.

:func:`prove_valid` answers only when it can *prove* that the full path (load and
lint) finds no error and no warning; then it returns the node and edge counts the
full path would report.  Anything else returns ``None`` and the caller takes the
full path, which gives the exact messages:

* a line of any other form (other commands, options, quotes outside VARS values,
  keywords not in upper case, continuation lines, blanks other than space and tab);
* a name defined twice, a reserved name, a reference to an undefined node,
  ``VARS ALL_NODES``, a node with VARS on two lines or a key twice on one line
  (the full path warns "VAR ... is already defined");
* a PARENT line with several parents *and* several children (a join node);
* an edge from a node to one defined at or before it in the file, so that file
  order is not a topological order (a cycle is possible; the full path decides);
* a submit file that does not exist, is a DAGMan ``.condor.sub`` file, or that
  HTCondor's submit parser rejects.

Every answer it gives is checked against the full path in ``tests/test_quickcheck.py``
over the fixture corpus, generated DAGs and randomly damaged ones.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable
from itertools import chain, repeat

from .gcpause import paused_gc

__all__ = ["prove_valid"]

# The plain forms, each a whole line between two "\n" (the text is given a "\n"
# before and after).  A literal start ("\nJOB ") lets the regular expression
# engine skip to candidate lines; "\n" is the only line break left (see
# prove_valid) and, the text being ASCII, ``\s`` is a blank, a tab or "\x1f".
_NAME = r"[^\s=\"'\\]+"
_JOB = re.compile(r"\nJOB ([^\s=\"'\\+]+)[ \t]+([^\s=\"'\\{@][^\s=\"'\\]*)[ \t]*(?=\n)")
_VARS = re.compile(r"\nVARS (" + _NAME + r")((?:[ \t]+[A-Za-z0-9][^\s=\"'\\]*=\"[^\"\\\n]*\")+)"
                   r"[ \t]*(?=\n)")
_PARENT = re.compile(r"\nPARENT ([^\n]*)")
_RETRY = re.compile(r"\nRETRY (" + _NAME + r")[ \t]+[0-9]{1,9}[ \t]*(?=\n)")
_SKIPPED = re.compile(r"\n[ \t]*(?:(?:#|//)[^\n]*)?(?=\n)")
_RESERVED_JOB = re.compile(r"\nJOB (?i:PARENT|CHILD|ALL_NODES)[ \t]")
_VARS_ALL_NODES = re.compile(r"\nVARS (?i:ALL_NODES)[ \t]")
#: Line breaks other than "\n" that ``str.splitlines`` honours (ASCII ones: the
#: text is ASCII when they are looked for).
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_VALUE = re.compile(r"=\"[^\"\\\n]*\"")
_PREFIXES = ("\nJOB ", "\nVARS ", "\nPARENT ", "\nRETRY ")


def prove_valid(text: str, cwd: str,
                submit_problem: Callable[[str], bool]) -> tuple[int, int] | None:
    """``(nodes, edges)`` when the DAG file ``text`` is provably valid, else ``None``.

    ``cwd`` is the DAG working directory submit files are relative to;
    ``submit_problem(path)`` says whether lint would warn about the submit file at
    ``path`` (missing, unreadable or rejected by HTCondor's parser).
    """
    if not text.isascii():
        return None
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if any(brk in text for brk in _OTHER_BREAKS):
        return None
    with paused_gc():
        return _prove("\n" + text + "\n", cwd, submit_problem)


def _prove(text: str, cwd: str, submit_problem: Callable[[str], bool]
           ) -> tuple[int, int] | None:
    jobs = _JOB.findall(text)
    vars_lines = _VARS.findall(text)
    parent_lines = _PARENT.findall(text)
    retry_nodes = _RETRY.findall(text)
    # Every line must be one of the plain forms: each line that starts like one
    # must match it in full, and every other line must be blank or a comment.
    started = sum(text.count(prefix) for prefix in _PREFIXES)
    if started != len(jobs) + len(vars_lines) + len(parent_lines) + len(retry_nodes):
        return None
    lines = text.count("\n") - 1
    if lines - started != sum(1 for _ in _SKIPPED.finditer(text)):
        return None
    if not jobs or _RESERVED_JOB.search(text) or _VARS_ALL_NODES.search(text):
        return None

    index = {name: position for position, (name, _) in enumerate(jobs)}
    if len(index) != len(jobs):
        return None  # a node defined twice
    if not _vars_are_plain(vars_lines, index):
        return None
    # RETRY: defined nodes or ALL_NODES (in any case), never an error.
    for node in set(retry_nodes) - index.keys():
        if node.upper() != "ALL_NODES":
            return None
    edges = _edge_count(parent_lines, index)
    if edges is None:
        return None
    for submit in {submit for _, submit in jobs}:
        if submit.endswith(".condor.sub"):
            return None
        path = submit if os.path.isabs(submit) else os.path.join(cwd, submit)
        if submit_problem(path):
            return None
    return len(jobs), edges


def _vars_are_plain(vars_lines: list[tuple[str, str]], index: dict[str, int]) -> bool:
    """VARS name defined nodes, one line per node, no key twice on a line and no
    key starting with "queue" (a parse error)."""
    nodes = {node for node, _ in vars_lines}
    if len(nodes) != len(vars_lines) or not nodes <= index.keys():
        return False
    bodies = "\n".join(body for _, body in vars_lines)
    if "queue" in bodies.lower():
        return False
    # Generated DAGs repeat a few key sequences: check each distinct one once.
    for keys in set(_VALUE.sub("", bodies).split("\n")):
        words = keys.split()
        if len(set(words)) != len(words):
            return False
    return True


class _Unproven(Exception):
    """The PARENT lines cannot be proven valid (a backward edge, a join node ...)."""


def _edge_count(parent_lines: list[str], index: dict[str, int]) -> int | None:
    """The number of distinct edges, or ``None`` unless every PARENT line is plain,
    names defined nodes only, has one parent or one child, and points forward in
    file order (so that the graph has no cycle)."""
    if not parent_lines:
        return 0
    joined = "\n".join(parent_lines)
    if any(char in joined for char in "\"'=\\\x1f"):
        return None
    # "CHILD" exactly once per line, as the keyword between single blanks.
    split = list(map(str.partition, parent_lines, repeat(" CHILD ")))
    if not all(map(operator.itemgetter(1), split)):
        return None
    if joined.upper().count("CHILD") != len(parent_lines):
        return None
    parent_parts = list(map(operator.itemgetter(0), split))
    child_parts = list(map(operator.itemgetter(2), split))
    position = index.__getitem__
    try:
        edges = _edge_count_flat(parent_parts, child_parts, position)
        if edges is None:
            edges = _edge_count_by_line([part.split() for part in parent_parts],
                                        [part.split() for part in child_parts], position)
    except (KeyError, _Unproven):  # KeyError: an undefined node
        return None
    return edges


def _edge_count_flat(parent_parts: list[str], child_parts: list[str],
                     position: Callable[[str], int]) -> int | None:
    """:func:`_edge_count` for the common shape, a node and its parents on each line
    written with single spaces, in a few passes over flat lists; ``None`` when the
    lines have another shape (the caller then goes line by line).  Raises
    :class:`_Unproven` for a backward edge and ``position``'s KeyError for an
    unknown node: no need to look again line by line."""
    children_text = "\n".join(child_parts)
    if " " in children_text or "\t" in children_text:
        return None
    child_names = children_text.split("\n")
    if "" in child_names:
        return None
    parents_text = "\n".join(parent_parts)
    if any(bad in parents_text for bad in ("\t", "  ", "\n ", " \n", "\n\n")):
        return None
    if parents_text[:1] in ("", " ") or parents_text.endswith(" "):
        return None
    counts = [blanks + 1 for blanks in map(str.count, parent_parts, repeat(" "))]
    parents = list(map(position, parents_text.split()))
    if len(parents) != sum(counts):
        return None
    children = list(chain.from_iterable(map(repeat, map(position, child_names), counts)))
    if not all(map(operator.lt, parents, children)):
        raise _Unproven("an edge points backward in file order")
    width = max(children) + 1  # parent * width + child is one number per edge
    return len(set(map(operator.add, map(operator.mul, parents, repeat(width)), children)))


def _edge_count_by_line(parent_groups: list[list[str]], child_groups: list[list[str]],
                        position: Callable[[str], int]) -> int:
    pairs: set[tuple[int, int]] = set()
    for ups, downs in zip(parent_groups, child_groups, strict=True):
        if not ups or not downs or (len(ups) > 1 and len(downs) > 1):
            raise _Unproven("a line without parent or child, or a join node")
        up = list(map(position, ups))
        down = list(map(position, downs))
        if max(up) >= min(down):
            raise _Unproven("an edge points backward in file order")
        pairs.update((parent, child) for parent in up for child in down)
    return len(pairs)
