"""Writing DAGs in Python: nodes, layers of nodes and the edges between them.

>>> dag = DagBuilder()
>>> dag.submit_description("work", {"executable": "/bin/echo", "arguments": "$(i)"})
'work'
>>> split = dag.node("split", "split.sub", post="check.sh $RETURN")
>>> work = dag.layer("work", "work", vars=[{"i": str(i)} for i in range(3)],
...                  parents=[split], retry=2)
>>> merge = dag.node("merge", "merge.sub", parents=work.names)
>>> dag.maxjobs("heavy", 4)
>>> print(dag.text().splitlines()[0])
SUBMIT-DESCRIPTION work {

Every option DAGMan knows for a node is a keyword argument of :meth:`DagBuilder.node`
and :meth:`DagBuilder.layer`; the result is a :class:`~gwdag.dagman.model.Dag`
written by :mod:`gwdag.dagman.writer`, so what the builder writes the parser reads
back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .model import (
    JOIN_NODE_PREFIX,
    AbortDagOn,
    Dag,
    DotSpec,
    Node,
    NodeKind,
    NodeStatusSpec,
    Script,
    Tolerance,
    Var,
)
from .writer import dag_text, write_dag

__all__ = ["DagBuilder", "Layer"]

#: How a layer's nodes depend on its parents: every parent node of every node
#: ("all", through one join node as DAGMan would insert), node i on parent node i
#: ("one_to_one"), or a function from a node's position to its parents' positions.
EdgeSpec = str | Callable[[int], Iterable[int]]


@dataclass(frozen=True)
class Layer:
    """Nodes ``<name>:<i>`` sharing one submit description."""

    name: str
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> str:
        return self.names[index]


def _script(kind: str, value: str | Script | None) -> Script | None:
    if value is None or isinstance(value, Script):
        return value
    return Script(kind, value)


def _render_description(description: str | Mapping[str, object]) -> str:
    if isinstance(description, str):
        text = description if description.endswith("\n") else description + "\n"
        return text
    lines = [f"{key} = {value}" for key, value in description.items()]
    if not any(key.lower().startswith("queue") for key in description):
        lines.append("queue")
    return "\n".join(lines) + "\n"


class DagBuilder:
    """Builds a :class:`~gwdag.dagman.model.Dag` node by node or layer by layer."""

    def __init__(self, path: str = "dag.dag") -> None:
        self.dag = Dag(path=path)
        self._index = 0
        self._joins = 0

    # -- DAG-wide settings -----------------------------------------------------------
    def submit_description(self, name: str, description: str | Mapping[str, object]) -> str:
        """Declare a named SUBMIT-DESCRIPTION (text, or a mapping of submit commands
        to values; ``queue`` is added when missing).  Returns ``name``."""
        self.dag.submit_descriptions[name] = _render_description(description)
        return name

    def maxjobs(self, category: str, limit: int) -> None:
        """Allow at most ``limit`` submitted nodes of ``category`` at once."""
        self.dag.maxjobs[category] = limit

    def config(self, path: str) -> None:
        """CONFIG: a per-DAG HTCondor configuration file (DAGMAN_* knobs)."""
        self.dag.config = path

    def node_status_file(self, path: str, min_update: int | None = None,
                         always_update: bool = False) -> None:
        """NODE_STATUS_FILE, rewritten at most every ``min_update`` seconds."""
        self.dag.node_status_file = NodeStatusSpec(path, min_update, always_update)

    def jobstate_log(self, path: str) -> None:
        self.dag.jobstate_log = path

    def dot(self, path: str, update: bool | None = None, overwrite: bool | None = None) -> None:
        self.dag.dot = DotSpec(path, update, overwrite)

    def set_job_attr(self, attribute: str, value: str) -> None:
        """SET_JOB_ATTR: an attribute of the DAGMan job itself."""
        self.dag.set_job_attrs.append(f"{attribute} = {value}")

    # -- nodes -------------------------------------------------------------------------
    def node(self, name: str, submit: str, *, kind: NodeKind = NodeKind.JOB,
             dir: str = "", inline: str | None = None, noop: bool = False, done: bool = False,
             vars: Mapping[str, str] | None = None, append_vars: Mapping[str, str] | None = None,
             retry: int = 0, unless_exit: int | None = None, priority: int = 0,
             category: str | None = None, pre: str | Script | None = None,
             post: str | Script | None = None, hold: str | Script | None = None,
             pre_skip: int | None = None, abort_dag_on: int | None = None,
             abort_return: int | None = None, tolerance: Tolerance | None = None,
             save_point_file: str | None = None, parents: Iterable[str] = (),
             weak_parents: Iterable[str] = ()) -> str:
        """Add one node and return its name.

        ``submit`` is a submit file (relative to the DAG working directory, or to
        ``dir``), the name of a submit description, or ``"INLINE"`` with ``inline``
        text.  ``vars`` are PREPEND macros, ``append_vars`` APPEND ones.  ``pre``,
        ``post`` and ``hold`` are script command lines (``"check.sh $RETURN"``).
        ``parents`` must already exist; ``weak_parents`` need only have finished.
        """
        dag = self.dag
        if name in dag.nodes:
            raise ValueError(f"node {name} is already defined")
        self._index += 1
        node = Node(name=name, kind=kind, submit=submit, index=self._index, dir=dir,
                    inline_submit=inline, noop=noop, done=done, retry=retry,
                    retry_unless_exit=unless_exit, priority=priority, category=category,
                    pre_skip=pre_skip, tolerance=tolerance, save_point_file=save_point_file)
        if vars:
            node.vars = {k: Var(str(v)) for k, v in vars.items()}
        if append_vars:
            node.vars.update({k: Var(str(v), True) for k, v in append_vars.items()})
        for kind_name, value in (("PRE", pre), ("POST", post), ("HOLD", hold)):
            script = _script(kind_name, value)
            if script is not None:
                node.scripts[kind_name] = script
        if abort_dag_on is not None:
            node.abort_dag_on = AbortDagOn(abort_dag_on, abort_return)
        dag.nodes[name] = node
        for parent in parents:
            self.edge(parent, name)
        for parent in weak_parents:
            self.edge(parent, name, weak=True)
        return name

    def final(self, name: str, submit: str, **options: object) -> str:
        """The FINAL node: runs last, whatever happened to the others."""
        return self.node(name, submit, kind=NodeKind.FINAL, **options)  # type: ignore[arg-type]

    def service(self, name: str, submit: str, **options: object) -> str:
        """A SERVICE node: runs alongside the DAG, best effort."""
        return self.node(name, submit, kind=NodeKind.SERVICE, **options)  # type: ignore[arg-type]

    def subdag(self, name: str, dagfile: str, **options: object) -> str:
        """A SUBDAG EXTERNAL node running ``dagfile`` as its own DAG."""
        return self.node(name, dagfile, kind=NodeKind.SUBDAG, **options)  # type: ignore[arg-type]

    def layer(self, name: str, submit: str, *, vars: Sequence[Mapping[str, str]] | int,
              parents: Layer | Sequence[str] | None = None, edges: EdgeSpec = "all",
              **options: object) -> Layer:
        """Add one node per entry of ``vars`` (or ``vars`` nodes without macros),
        named ``<name>:<i>``, all with the same submit description and options.

        ``parents`` (a layer or node names) are connected as ``edges`` says:
        ``"all"`` (every parent before every node), ``"one_to_one"`` or a function
        from a node's position to the positions of its parents.
        """
        count = vars if isinstance(vars, int) else len(vars)
        names = tuple(f"{name}:{i}" for i in range(count))
        macros: Sequence[Mapping[str, str] | None] = (
            [None] * count if isinstance(vars, int) else vars)
        for node_name, node_vars in zip(names, macros, strict=True):
            self.node(node_name, submit, vars=node_vars, **options)  # type: ignore[arg-type]
        layer = Layer(name, names)
        if parents is not None:
            parent_names = parents.names if isinstance(parents, Layer) else tuple(parents)
            self.connect(parent_names, names, edges)
        return layer

    # -- edges ---------------------------------------------------------------------------
    def edge(self, parent: str, child: str, weak: bool = False) -> None:
        """``parent`` before ``child`` (``weak``: finished, not necessarily successful)."""
        nodes = self.dag.nodes
        for name in (parent, child):
            if name not in nodes:
                raise KeyError(f"no node named {name}")
        self.dag.add_edge(parent, child, weak)

    def connect(self, parents: Sequence[str], children: Sequence[str],
                edges: EdgeSpec = "all", weak: bool = False) -> None:
        """Connect node lists; see :meth:`layer` for ``edges``."""
        if edges == "all":
            if len(parents) > 1 and len(children) > 1:
                # One NOOP join node instead of N x M edges, as DAGMan does.
                self._joins += 1
                join = self.node(f"{JOIN_NODE_PREFIX}{self._joins}", "-", noop=True)
                self.dag.nodes[join].join = True
                for parent in parents:
                    self.edge(parent, join, weak)
                parents, weak = [join], False
            for parent in parents:
                for child in children:
                    self.edge(parent, child, weak)
        elif edges == "one_to_one":
            if len(parents) != len(children):
                raise ValueError(f"one_to_one needs equal sizes, not {len(parents)} "
                                 f"and {len(children)}")
            for parent, child in zip(parents, children, strict=True):
                self.edge(parent, child, weak)
        elif callable(edges):
            for position, child in enumerate(children):
                for parent_position in edges(position):
                    self.edge(parents[parent_position], child, weak)
        else:
            raise ValueError(f"unknown edge pattern {edges!r}")

    # -- output ----------------------------------------------------------------------------
    def build(self) -> Dag:
        """The DAG built so far."""
        return self.dag

    def text(self) -> str:
        return dag_text(self.dag)

    def write(self, path: str, header: str | None = None) -> None:
        write_dag(self.dag, path, header=header)
