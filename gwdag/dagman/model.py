"""The DAG model: what a DAG file means once INCLUDEs and SPLICEs are resolved.

A :class:`Dag` holds its nodes in DAGMan's internal order (the order they were
created: file order, splice nodes where the SPLICE line stands, join nodes where
the PARENT line that needed them stands) and its edges.  Node names are full names
(``S1+S2+A`` for a node of a nested splice).  Everything DAGMan reads from the DAG
file is here, so a DAG can be written back (:mod:`gwdag.dagman.writer`) without loss.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "NodeKind",
    "Script",
    "Var",
    "AbortDagOn",
    "Tolerance",
    "Node",
    "DotSpec",
    "NodeStatusSpec",
    "SpliceInfo",
    "Dag",
    "JOIN_NODE_PREFIX",
]

#: Name prefix of the hidden NOOP nodes DAGMan inserts for N×M dependencies.
JOIN_NODE_PREFIX = "_condor_join_node"


class NodeKind(enum.StrEnum):
    """The command that defined a node."""

    JOB = "JOB"
    FINAL = "FINAL"
    SUBDAG = "SUBDAG"
    SERVICE = "SERVICE"
    PROVISIONER = "PROVISIONER"

    @property
    def special(self) -> bool:
        """FINAL, SERVICE and PROVISIONER nodes take no edges and no ALL_NODES."""
        return self in (NodeKind.FINAL, NodeKind.SERVICE, NodeKind.PROVISIONER)


@dataclass(slots=True)
class Script:
    """A PRE, POST or HOLD script.

    ``command`` is the command line as written (executable and arguments, split on
    blanks at run time, quotes passed through).  With DEFER, an exit status equal to
    ``defer_status`` re-runs the script after at least ``defer_time`` seconds.
    """

    type: str
    command: str
    defer_status: int | None = None
    defer_time: int | None = None
    debug_file: str | None = None
    debug_stream: str | None = None  # STDOUT, STDERR or ALL


@dataclass(slots=True)
class Var:
    """A VARS macro; ``append`` puts it after the submit file is read."""

    value: str
    append: bool = False


@dataclass(slots=True)
class AbortDagOn:
    """ABORT-DAG-ON: abort when the node exits with ``status``; DAGMan then exits
    with ``return_value`` (or the node's value when ``None``)."""

    status: int
    return_value: int | None = None


@dataclass(slots=True)
class Tolerance:
    """TOLERANCE: job failures allowed in a multi-proc node (``percent`` of procs
    when true); ``mode`` is ``FAIL-FAST``, ``WAIT`` or ``None`` (the default)."""

    value: int
    percent: bool = False
    mode: str | None = None


@dataclass(slots=True)
class Node:
    """One DAG node.

    ``submit`` is a submit file path, the name of a SUBMIT-DESCRIPTION, or
    ``"INLINE"`` with the description in ``inline_submit``; for SUBDAG nodes it is
    the sub-DAG file.  ``dir`` is the node's directory relative to the DAG working
    directory ("" for none).  ``index`` is the creation order.
    """

    name: str
    kind: NodeKind
    submit: str
    index: int
    dir: str = ""
    inline_submit: str | None = None
    noop: bool = False
    done: bool = False
    join: bool = False
    retry: int = 0
    retry_unless_exit: int | None = None
    abort_dag_on: AbortDagOn | None = None
    vars: dict[str, Var] = field(default_factory=dict)
    priority: int = 0
    category: str | None = None
    pre_skip: int | None = None
    scripts: dict[str, Script] = field(default_factory=dict)
    tolerance: Tolerance | None = None
    save_point_file: str | None = None
    source: tuple[str, int] = ("", 0)


@dataclass(slots=True)
class DotSpec:
    file: str
    update: bool | None = None
    overwrite: bool | None = None
    include: str | None = None


@dataclass(slots=True)
class NodeStatusSpec:
    """NODE_STATUS_FILE; ``min_update`` seconds between rewrites (``None``: 60)."""

    file: str
    min_update: int | None = None
    always_update: bool = False


@dataclass(slots=True)
class SpliceInfo:
    """What the parent DAG keeps of a splice: its nodes and its pins."""

    name: str
    dagfile: str
    dir: str
    nodes: list[str] = field(default_factory=list)
    pin_in: dict[int, list[str]] = field(default_factory=dict)
    pin_out: dict[int, list[str]] = field(default_factory=dict)
    nested: int = 0  # splices inside this one, counted recursively


@dataclass
class Dag:
    """A whole DAG with splices expanded and INCLUDEs inlined."""

    path: str
    nodes: dict[str, Node] = field(default_factory=dict)
    #: parent -> child -> weak
    children: dict[str, dict[str, bool]] = field(default_factory=dict)
    #: child -> parent -> weak
    parents: dict[str, dict[str, bool]] = field(default_factory=dict)
    submit_descriptions: dict[str, str] = field(default_factory=dict)
    maxjobs: dict[str, int] = field(default_factory=dict)
    splices: dict[str, SpliceInfo] = field(default_factory=dict)
    config: str | None = None
    set_job_attrs: list[str] = field(default_factory=list)
    env_get: list[str] = field(default_factory=list)
    env_set: list[str] = field(default_factory=list)
    dot: DotSpec | None = None
    node_status_file: NodeStatusSpec | None = None
    jobstate_log: str | None = None
    rejected_at: tuple[str, int] | None = None

    # -- nodes and edges -------------------------------------------------------------
    @property
    def final_node(self) -> Node | None:
        return next((n for n in self.nodes.values() if n.kind is NodeKind.FINAL), None)

    def add_edge(self, parent: str, child: str, weak: bool = False) -> None:
        """Add ``parent -> child``; a strong edge wins over a weak one."""
        kids = self.children.setdefault(parent, {})
        if child in kids:
            weak = weak and kids[child]
        kids[child] = weak
        self.parents.setdefault(child, {})[parent] = weak

    def edges(self) -> list[tuple[str, str, bool]]:
        """All edges as ``(parent, child, weak)``, parents in node order."""
        nodes = self.nodes
        result = []
        for parent in nodes:
            for child, weak in self.children.get(parent, {}).items():
                result.append((parent, child, weak))
        return result

    def num_edges(self) -> int:
        return sum(len(kids) for kids in self.children.values())

    def initial_nodes(self, names: list[str]) -> list[str]:
        """Those of ``names`` with no parent."""
        return [n for n in names if not self.parents.get(n)]

    def terminal_nodes(self, names: list[str]) -> list[str]:
        """Those of ``names`` with no child."""
        return [n for n in names if not self.children.get(n)]
