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
and :meth:`DagBuilder.layer`.  A layer is kept as columns (names, macros, one set
of shared options, the parents of each node) and written straight from them, so
building and writing a 100k-node DAG never creates 100k node objects;
:meth:`DagBuilder.build` makes the full :class:`~gwdag.dagman.model.Dag`, and the
parser reads the written text back to that same DAG.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

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
from .writer import (
    header_lines,
    node_definition_lines,
    node_option_lines,
    vars_value,
    write_text,
)

__all__ = ["DagBuilder", "Layer"]

#: How a layer's nodes depend on its parents: every parent node of every node
#: ("all", through one join node as DAGMan would insert), node i on parent node i
#: ("one_to_one"), or a function from a node's position to its parents' positions.
EdgeSpec = str | Callable[[int], Iterable[int]]

#: Stands for the node name in a layer's shared lines; no DAG text can contain it.
_NAME = "\0"


@dataclass(frozen=True)
class Layer:
    """Nodes ``<name>:<i>`` sharing one submit description."""

    name: str
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> str:
        return self.names[index]


@dataclass
class _LayerBlock:
    """A layer as columns: ``prototype`` holds the options every node shares."""

    names: tuple[str, ...]
    first_index: int
    prototype: Node
    macros: Sequence[Mapping[str, str] | None]


@dataclass
class _EdgeGroup:
    """``parents[i]`` before ``children[i]`` for every i (one-element ``parents``:
    that tuple before every child)."""

    parents: Sequence[tuple[str, ...]]
    children: Sequence[str]
    weak: bool


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


def _make_node(name: str, submit: str, index: int, *, kind: NodeKind = NodeKind.JOB,
               dir: str = "", inline: str | None = None, noop: bool = False,
               done: bool = False, vars: Mapping[str, str] | None = None,
               append_vars: Mapping[str, str] | None = None, retry: int = 0,
               unless_exit: int | None = None, priority: int = 0,
               category: str | None = None, pre: str | Script | None = None,
               post: str | Script | None = None, hold: str | Script | None = None,
               pre_skip: int | None = None, abort_dag_on: int | None = None,
               abort_return: int | None = None, tolerance: Tolerance | None = None,
               save_point_file: str | None = None) -> Node:
    node = Node(name=name, kind=kind, submit=submit, index=index, dir=dir,
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
    return node


def _prepend_vars_lines(names: Sequence[str],
                        macro_list: Sequence[Mapping[str, str] | None]) -> list[str]:
    """One ``VARS name k="v" ...`` line per node with macros."""
    shared = _shared_keys_lines(names, macro_list)
    if shared is not None:
        return shared
    lines = []
    for name, macros in zip(names, macro_list, strict=True):
        if not macros:
            continue
        pairs = " ".join([f'{key}="{value}"' for key, value in macros.items()])
        # Escaping is rare: check the whole line once instead of every value.
        if "\\" in pairs or pairs.count('"') != 2 * len(macros):
            pairs = " ".join([f"{key}={vars_value(str(value))}"
                              for key, value in macros.items()])
        lines.append(f"VARS {name} {pairs}")
    return lines


def _shared_keys_lines(names: Sequence[str],
                       macro_list: Sequence[Mapping[str, str] | None]) -> list[str] | None:
    """:func:`_prepend_vars_lines` for a layer whose nodes all have the same keys in
    the same order and values that need no escaping (the usual layer), written a
    column at a time.  ``None`` for any other layer."""
    if not macro_list or not macro_list[0]:
        return None
    keys = tuple(macro_list[0])
    try:
        if not all(map(keys.__eq__, map(tuple, macro_list))):
            return None
    except TypeError:  # a node without macros
        return None
    columns = [list(map(str, map(operator.itemgetter(key), macro_list))) for key in keys]
    every_value = "\0".join(chain.from_iterable(columns))
    if "\\" in every_value or '"' in every_value or "\n" in every_value:
        return None
    # Interleave constant pieces with the columns and join once: the block is one
    # string of lines, which the caller's final "\n".join takes like any line.
    streams: list[Iterable[str]] = [repeat("VARS "), names]
    for position, (key, column) in enumerate(zip(keys, columns, strict=True)):
        opening = " " if position == 0 else '" '
        streams += [repeat(f'{opening}{key}="'), column]
    streams.append(repeat('"\n'))
    block = "".join(chain.from_iterable(zip(*streams, strict=False)))  # repeat() is endless
    return [block[:-1]]


class DagBuilder:
    """Builds a DAG node by node or layer by layer, and writes it."""

    def __init__(self, path: str = "dag.dag") -> None:
        self._settings = Dag(path=path)
        self._items: list[Node | _LayerBlock] = []
        self._names: set[str] = set()
        self._edges: list[_EdgeGroup] = []
        self._index = 0
        self._joins = 0

    # -- DAG-wide settings -----------------------------------------------------------
    def submit_description(self, name: str, description: str | Mapping[str, object]) -> str:
        """Declare a named SUBMIT-DESCRIPTION (text, or a mapping of submit commands
        to values; ``queue`` is added when missing).  Returns ``name``."""
        self._settings.submit_descriptions[name] = _render_description(description)
        return name

    def maxjobs(self, category: str, limit: int) -> None:
        """Allow at most ``limit`` submitted nodes of ``category`` at once."""
        self._settings.maxjobs[category] = limit

    def config(self, path: str) -> None:
        """CONFIG: a per-DAG HTCondor configuration file (DAGMAN_* knobs)."""
        self._settings.config = path

    def node_status_file(self, path: str, min_update: int | None = None,
                         always_update: bool = False) -> None:
        """NODE_STATUS_FILE, rewritten at most every ``min_update`` seconds."""
        self._settings.node_status_file = NodeStatusSpec(path, min_update, always_update)

    def jobstate_log(self, path: str) -> None:
        self._settings.jobstate_log = path

    def dot(self, path: str, update: bool | None = None, overwrite: bool | None = None) -> None:
        self._settings.dot = DotSpec(path, update, overwrite)

    def set_job_attr(self, attribute: str, value: str) -> None:
        """SET_JOB_ATTR: an attribute of the DAGMan job itself."""
        self._settings.set_job_attrs.append(f"{attribute} = {value}")

    # -- nodes -------------------------------------------------------------------------
    def node(self, name: str, submit: str, *, parents: Iterable[str] = (),
             weak_parents: Iterable[str] = (), **options: object) -> str:
        """Add one node and return its name.

        ``submit`` is a submit file (relative to the DAG working directory, or to
        ``dir``), the name of a submit description, or ``"INLINE"`` with ``inline``
        text.  Options: ``kind``, ``dir``, ``inline``, ``noop``, ``done``, ``vars``
        (PREPEND macros), ``append_vars`` (APPEND ones), ``retry``, ``unless_exit``,
        ``priority``, ``category``, ``pre``/``post``/``hold`` (script command lines
        such as ``"check.sh $RETURN"``), ``pre_skip``, ``abort_dag_on``,
        ``abort_return``, ``tolerance``, ``save_point_file``.  ``parents`` must
        already exist; ``weak_parents`` need only have finished.
        """
        if name in self._names:
            raise ValueError(f"node {name} is already defined")
        self._index += 1
        node = _make_node(name, submit, self._index, **options)  # type: ignore[arg-type]
        self._names.add(name)
        self._items.append(node)
        for parent in parents:
            self.edge(parent, name)
        for parent in weak_parents:
            self.edge(parent, name, weak=True)
        return name

    def final(self, name: str, submit: str, **options: object) -> str:
        """The FINAL node: runs last, whatever happened to the others."""
        return self.node(name, submit, kind=NodeKind.FINAL, **options)

    def service(self, name: str, submit: str, **options: object) -> str:
        """A SERVICE node: runs alongside the DAG, best effort."""
        return self.node(name, submit, kind=NodeKind.SERVICE, **options)

    def subdag(self, name: str, dagfile: str, **options: object) -> str:
        """A SUBDAG EXTERNAL node running ``dagfile`` as its own DAG."""
        return self.node(name, dagfile, kind=NodeKind.SUBDAG, **options)

    def layer(self, name: str, submit: str, *, vars: Sequence[Mapping[str, str]] | int,
              parents: Layer | Sequence[str] | None = None, edges: EdgeSpec = "all",
              **options: object) -> Layer:
        """Add one node per entry of ``vars`` (or ``vars`` nodes without macros),
        named ``<name>:<i>``, all with the same submit description and options
        (those of :meth:`node`; ``vars`` here are each node's PREPEND macros).

        ``parents`` (a layer or node names) are connected as ``edges`` says:
        ``"all"`` (every parent before every node), ``"one_to_one"`` or a function
        from a node's position to the positions of its parents.
        """
        count = vars if isinstance(vars, int) else len(vars)
        names = tuple(f"{name}:{i}" for i in range(count))
        clashes = self._names.intersection(names)
        if clashes:
            raise ValueError(f"node {min(clashes)} is already defined")
        prototype = _make_node(_NAME, submit, 0, **options)  # type: ignore[arg-type]
        macros: Sequence[Mapping[str, str] | None] = (
            [None] * count if isinstance(vars, int) else vars)
        self._items.append(_LayerBlock(names, self._index + 1, prototype, macros))
        self._index += count
        self._names.update(names)
        layer = Layer(name, names)
        if parents is not None:
            parent_names = parents.names if isinstance(parents, Layer) else tuple(parents)
            self.connect(parent_names, names, edges)
        return layer

    # -- edges ---------------------------------------------------------------------------
    def _check(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self._names:
                raise KeyError(f"no node named {name}")

    def edge(self, parent: str, child: str, weak: bool = False) -> None:
        """``parent`` before ``child`` (``weak``: finished, not necessarily successful)."""
        self._check((parent, child))
        self._edges.append(_EdgeGroup([(parent,)], (child,), weak))

    def connect(self, parents: Sequence[str], children: Sequence[str],
                edges: EdgeSpec = "all", weak: bool = False) -> None:
        """Connect node lists; see :meth:`layer` for ``edges``."""
        self._check(parents)
        self._check(children)
        if edges == "all":
            if len(parents) > 1 and len(children) > 1:
                # One NOOP join node instead of N x M edges, as DAGMan does.
                self._joins += 1
                join = self.node(f"{JOIN_NODE_PREFIX}{self._joins}", "-", noop=True)
                self._edges.append(_EdgeGroup([tuple(parents)], (join,), weak))
                parents, weak = [join], False
            self._edges.append(_EdgeGroup([tuple(parents)], tuple(children), weak))
        elif edges == "one_to_one":
            if len(parents) != len(children):
                raise ValueError(f"one_to_one needs equal sizes, not {len(parents)} "
                                 f"and {len(children)}")
            self._edges.append(_EdgeGroup([(p,) for p in parents], tuple(children), weak))
        elif callable(edges):
            try:
                lists = [tuple([parents[p] for p in edges(i)]) for i in range(len(children))]
            except IndexError:
                raise ValueError(f"edge function gives a position outside the "
                                 f"{len(parents)} parents") from None
            self._edges.append(_EdgeGroup(lists, tuple(children), weak))
        else:
            raise ValueError(f"unknown edge pattern {edges!r}")

    # -- output ----------------------------------------------------------------------------
    def build(self) -> Dag:
        """The DAG built so far, as a full model (one node object per node)."""
        settings = self._settings
        dag = dataclasses.replace(
            settings, nodes={}, children={}, parents={},
            submit_descriptions=dict(settings.submit_descriptions),
            maxjobs=dict(settings.maxjobs), set_job_attrs=list(settings.set_job_attrs))
        nodes = dag.nodes
        for item in self._items:
            if isinstance(item, Node):
                nodes[item.name] = dataclasses.replace(
                    item, vars=dict(item.vars), scripts=dict(item.scripts))
                nodes[item.name].join = item.name.startswith(JOIN_NODE_PREFIX)
                continue
            proto = item.prototype
            for offset, (name, macros) in enumerate(zip(item.names, item.macros, strict=True)):
                node_vars = {k: Var(str(v)) for k, v in macros.items()} if macros else {}
                node_vars.update(proto.vars)
                nodes[name] = dataclasses.replace(
                    proto, name=name, index=item.first_index + offset, vars=node_vars,
                    scripts=dict(proto.scripts))
        for group in self._edges:
            shared = group.parents[0] if len(group.parents) == 1 else None
            for i, child in enumerate(group.children):
                for parent in shared if shared is not None else group.parents[i]:
                    dag.add_edge(parent, child, group.weak)
        return dag

    def text(self, header: str | None = None) -> str:
        """The DAG file text, written from the columns (no node objects for layers)."""
        out = header_lines(self._settings, header)
        for item in self._items:
            if isinstance(item, Node):
                out.extend(node_definition_lines(item))
                continue
            definition = node_definition_lines(item.prototype)
            if len(definition) == 1:
                parts = definition[0].split(_NAME)
                out.extend([name.join(parts) for name in item.names])
            else:  # an inline submit description: a block per node
                for name in item.names:
                    out.extend(line.replace(_NAME, name) for line in definition)
        for item in self._items:
            if isinstance(item, Node):
                node_option_lines(item, out)
                continue
            out.extend(_prepend_vars_lines(item.names, item.macros))
            shared: list[str] = []
            node_option_lines(item.prototype, shared)
            for line in shared:
                parts = line.split(_NAME)
                out.extend([name.join(parts) for name in item.names])
        for group in self._edges:
            head = "WEAK PARENT " if group.weak else "PARENT "
            if not group.children:
                continue
            if len(group.parents) == 1:
                if not group.parents[0]:
                    continue
                out.append(f"{head}{' '.join(group.parents[0])} CHILD "
                           f"{' '.join(group.children)}")
            else:
                out.extend([f"{head}{' '.join(parents)} CHILD {child}"
                            for parents, child in zip(group.parents, group.children, strict=True)
                            if parents])
        out.extend(f"MAXJOBS {category} {limit}"
                   for category, limit in self._settings.maxjobs.items())
        return "\n".join(out) + "\n"

    def write(self, path: str, header: str | None = None) -> None:
        """Write the DAG file to ``path`` atomically."""
        write_text(self.text(header), path)
