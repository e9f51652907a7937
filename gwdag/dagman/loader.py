"""Reading a DAG file into a :class:`~gwdag.dagman.model.Dag` as DAGMan does.

Semantics (``shared/reference/dagman.md`` §1–2):

* Two passes per DAG file: node definitions, SUBMIT-DESCRIPTION, SPLICE, REJECT,
  DOT, NODE_STATUS_FILE and JOBSTATE_LOG first, everything else second, in file
  order, so a command may name a node defined further down.
* INCLUDE is textual; SPLICE parses its file with the working directory moved to
  its DIR and renames its nodes ``<splice>+<node>``.  A splice in PARENT/CHILD
  stands for its terminal (as parent) or initial (as child) nodes; CONNECT joins
  PIN_OUT k of one splice to PIN_IN k of another.
* A later command overrides an earlier one for the same node ("last one wins");
  ALL_NODES reaches the JOB and SUBDAG nodes of the same file and its includes.
* A PARENT/CHILD line with several parents and several children gets a hidden NOOP
  join node, as with ``DAGMAN_USE_JOIN_NODES = True``.
* Relative paths are relative to the DAG working directory (``cwd``), not to the
  file that contains them; ``use_dag_dir`` makes it the DAG file's directory.

Errors are collected (the way ``condor_dag_checker`` reports them), each with its
file and line, in DAGMan's wording where DAGMan has one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .gcpause import paused_gc
from .model import (
    JOIN_NODE_PREFIX,
    AbortDagOn,
    Dag,
    DotSpec,
    Node,
    NodeKind,
    NodeStatusSpec,
    Script,
    SpliceInfo,
    Tolerance,
    Var,
)
from .syntax import ALL_NODES, Command, parse_dag_text

__all__ = ["Issue", "LoadOptions", "LoadResult", "load_dag", "locate_dag", "read_config_knobs",
           "read_dag_text"]


@dataclass(slots=True, frozen=True)
class Issue:
    """An error or warning about a DAG, located at ``file:line``."""

    file: str
    line: int
    message: str
    command: str | None = None
    severity: str = "error"

    @property
    def reason(self) -> str:
        """The message without its ``file:line`` and "Failed to parse X command"."""
        prefix = f"{self.file}:{self.line} "
        if not self.message.startswith(prefix):
            return self.message
        rest = self.message[len(prefix):]
        head = f"Failed to parse {self.command} command: "
        return rest[len(head):] if self.command and rest.startswith(head) else rest

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message,
                "reason": self.reason, "command": self.command}

    def __str__(self) -> str:
        if self.message.startswith(f"{self.file}:{self.line} "):
            return self.message
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class LoadOptions:
    """Knobs that change how a DAG is read (``None``: from the DAG's CONFIG file,
    else HTCondor's default)."""

    allow_illegal_chars: bool | None = None  # DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS
    use_join_nodes: bool | None = None  # DAGMAN_USE_JOIN_NODES
    use_dag_dir: bool = False  # condor_submit_dag -usedagdir


@dataclass
class LoadResult:
    dag: Dag
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    cwd: str = "."

    @property
    def ok(self) -> bool:
        return not self.errors


_CONFIG_LINE = re.compile(r"^\s*config\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_KNOB_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
_TRUE = {"true", "t", "yes", "y", "1"}
_JOIN_NAME = re.compile(r"(?:.*\+)?" + JOIN_NODE_PREFIX + r"\d+")


def read_config_knobs(path: str) -> dict[str, str]:
    """Read ``KEY = VALUE`` lines of an HTCondor config file (keys upper-cased)."""
    knobs: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = _KNOB_LINE.match(line)
                if match and not line.lstrip().startswith("#"):
                    knobs[match.group(1).upper()] = match.group(2)
    except OSError:
        pass
    return knobs


def read_dag_text(path: str) -> str:
    """A DAG file's text as the loader reads it (undecodable bytes kept)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def _join(base: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base, path))


def _prefixed_dir(splice_dir: str, node_dir: str) -> str:
    if not splice_dir:
        return node_dir
    if not node_dir:
        return splice_dir
    return node_dir if os.path.isabs(node_dir) else os.path.join(splice_dir, node_dir)


def _renamed_splice(info: SpliceInfo, name: str, rename: dict[str, str],
                    splice_dir: str) -> SpliceInfo:
    """``info`` as seen from the outer DAG: nodes renamed, directory prefixed."""
    return SpliceInfo(
        name=name, dagfile=info.dagfile, dir=_prefixed_dir(splice_dir, info.dir),
        nodes=[rename[n] for n in info.nodes],
        pin_in={k: [rename[n] for n in v] for k, v in info.pin_in.items()},
        pin_out={k: [rename[n] for n in v] for k, v in info.pin_out.items()},
        nested=info.nested)


class _Loader:
    """State shared by the whole load: counters and the files being read."""

    def __init__(self, allow_illegal_chars: bool, use_join_nodes: bool) -> None:
        self.allow_illegal_chars = allow_illegal_chars
        self.use_join_nodes = use_join_nodes
        self.node_index = 0
        self.join_index = 0
        self.open_files: set[str] = set()
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, cmd: Command, message: str) -> None:
        self.errors.append(Issue(cmd.file, cmd.line, message, cmd.keyword))

    def warn(self, cmd: Command, message: str) -> None:
        self.warnings.append(Issue(cmd.file, cmd.line, message, cmd.keyword, "warning"))

    # -- reading files ---------------------------------------------------------------
    def _parse_file(self, path: str, label: str, text: str | None = None) -> list[Command]:
        if text is None:
            text = read_dag_text(path)
        commands, issues = parse_dag_text(text, label,
                                          allow_illegal_chars=self.allow_illegal_chars)
        for issue in issues:
            self.errors.append(Issue(issue.file, issue.line, issue.message, issue.command))
        return commands

    def _expand_includes(self, commands: list[Command], cwd: str) -> list[Command]:
        """Replace INCLUDE commands by the commands of the files they name."""
        if not any(c.keyword == "INCLUDE" for c in commands):
            return commands
        expanded: list[Command] = []
        for cmd in commands:
            if cmd.keyword != "INCLUDE":
                expanded.append(cmd)
                continue
            path = _join(cwd, cmd.fields["file"])
            if not os.path.isfile(path):
                self.error(cmd, "Failed to read include file: Provided file path does not exist")
                continue
            real = os.path.realpath(path)
            if real in self.open_files:
                self.error(cmd, "Recursive file inclusion detected")
                continue
            self.open_files.add(real)
            included = self._parse_file(path, cmd.fields["file"])
            for inner in included:
                inner.fields["_included"] = True
            expanded.extend(self._expand_includes(included, cwd))
            self.open_files.discard(real)
        return expanded

    # -- one DAG file (top level or splice) ------------------------------------------
    def build(self, path: str, label: str, cwd: str, splice: str | None,
              text: str | None = None) -> _Scope:
        """Build the DAG of one file; ``splice`` is the splice name when spliced;
        ``text`` is the file's content when the caller has already read it."""
        real = os.path.realpath(path)
        self.open_files.add(real)
        commands = self._expand_includes(self._parse_file(path, label, text), cwd)
        scope = _Scope(self, Dag(path=label), cwd, splice)
        second_pass = []
        first_pass = scope.first_pass
        for cmd in commands:
            if cmd.keyword in _FIRST_PASS:
                first_pass(cmd)
            else:
                second_pass.append(cmd)
        scope.merge_splice_descriptions()
        for cmd in second_pass:
            scope.second_pass(cmd)
        self.open_files.discard(real)
        return scope

    def new_index(self) -> int:
        self.node_index += 1
        return self.node_index


#: Node options DAGMan refuses (RETRY; ABORT-DAG-ON on FINAL) or ignores for
#: FINAL, SERVICE and PROVISIONER nodes.
_NOT_FOR_SPECIAL = frozenset({"RETRY", "ABORT_DAG_ON", "PRIORITY", "CATEGORY", "DONE",
                              "SAVE_POINT_FILE", "TOLERANCE"})
_MODIFIERS = frozenset({"SCRIPT", "RETRY", "ABORT_DAG_ON", "VARS", "PRIORITY", "PRE_SKIP",
                        "TOLERANCE", "DONE", "SAVE_POINT_FILE", "CATEGORY"})
_NODE_KINDS = {kind.value: kind for kind in NodeKind}
_FIRST_PASS = frozenset({*_NODE_KINDS, "SPLICE", "SUBMIT_DESCRIPTION", "REJECT", "DOT",
                         "NODE_STATUS_FILE", "JOBSTATE_LOG"})
_SPECIAL_KINDS = frozenset({NodeKind.FINAL, NodeKind.SERVICE, NodeKind.PROVISIONER})
_PLAIN_KINDS = frozenset({NodeKind.JOB, NodeKind.SUBDAG})


class _Scope:
    """The commands of one DAG file applied to its :class:`Dag`."""

    def __init__(self, loader: _Loader, dag: Dag, cwd: str, splice: str | None) -> None:
        self.loader = loader
        self.dag = dag
        self.cwd = cwd
        self.splice = splice
        self.own_nodes: list[str] = []  # JOB/SUBDAG nodes of this file: ALL_NODES
        self.splice_descriptions: list[dict[str, str]] = []
        self.pin_in: dict[int, list[str]] = {}
        self.pin_out: dict[int, list[str]] = {}
        self.nested_splices = 0

    # -- pass 1 ----------------------------------------------------------------------
    def first_pass(self, cmd: Command) -> bool:
        keyword = cmd.keyword
        if keyword not in _FIRST_PASS:
            return False
        fields = cmd.fields
        dag = self.dag
        if keyword in _NODE_KINDS:
            self._add_node(cmd)
        elif keyword == "SPLICE":
            self._add_splice(cmd)
        elif keyword == "SUBMIT_DESCRIPTION":
            name = fields["name"]
            if name in dag.submit_descriptions:
                self.loader.warn(cmd, f"Warning: Inline Description name '{name}' used "
                                      "multiple time. Overwritting...")
            dag.submit_descriptions[name] = fields["inline"]
        elif keyword == "REJECT":
            if dag.rejected_at is None:
                dag.rejected_at = (cmd.file, cmd.line)
        elif keyword == "DOT":
            if self.splice is None and dag.dot is None:
                dag.dot = DotSpec(fields["file"], fields["update"], fields["overwrite"],
                                  fields["include"])
        elif keyword == "NODE_STATUS_FILE":
            if self.splice is not None:
                pass  # ignored inside splices
            elif dag.node_status_file is None:
                dag.node_status_file = NodeStatusSpec(fields["file"], fields["min_update"],
                                                      fields["always_update"])
            else:
                self.loader.warn(cmd, "Warning: Node status file already specified; "
                                      f"ignoring {fields['file']}")
        elif keyword == "JOBSTATE_LOG":
            if self.splice is None and dag.jobstate_log is None:
                dag.jobstate_log = fields["file"]
        else:
            return False
        return True

    def _taken(self, name: str) -> bool:
        return name in self.dag.nodes or name in self.dag.splices

    def _add_node(self, cmd: Command) -> None:
        fields = cmd.fields
        kind = _NODE_KINDS[cmd.keyword]
        name = fields["name"]
        dag = self.dag
        if name in dag.nodes or name in dag.splices:
            self.loader.error(cmd, f"Node {name} is already defined in the DAG")
            return
        if kind is NodeKind.FINAL:
            if dag.final_node is not None:
                self.loader.error(cmd, "Final node is already defined in the DAG")
                return
            if self.splice is not None:
                self.loader.error(cmd, "Spliced DAGs can not contain a final node")
                return
        if kind is NodeKind.PROVISIONER and any(
                n.kind is NodeKind.PROVISIONER for n in dag.nodes.values()):
            self.loader.error(cmd, "Provisioner node is already defined in the DAG")
            return
        submit = fields["submit"]
        if submit.endswith(".condor.sub") and kind is NodeKind.JOB:
            self.loader.error(cmd, f"Submit file {submit} is a DAGMan submit file "
                                   "(.condor.sub): use SUBDAG EXTERNAL for a sub-DAG")
            return
        done = fields["done"]
        if done and kind not in _PLAIN_KINDS:
            self.loader.warn(cmd, f"Warning: DONE ignored for {kind.value} node {name}")
            done = False
        self.loader.node_index += 1
        # Positional arguments: this runs once per node of DAGs of 100k+ nodes.
        node = Node(name, kind, submit, self.loader.node_index, fields["dir"] or "",
                    fields["inline"], fields["noop"], done)
        node.source = (cmd.file, cmd.line)
        # A join node written out explicitly (by gwdag's writer) is still a join node.
        if node.noop:
            node.join = (kind is NodeKind.JOB and submit == "-"
                         and _JOIN_NAME.fullmatch(name) is not None)
        dag.nodes[name] = node
        if kind in _PLAIN_KINDS:
            self.own_nodes.append(name)

    def _add_splice(self, cmd: Command) -> None:
        fields = cmd.fields
        name = fields["name"]
        loader = self.loader
        if self._taken(name):
            loader.error(cmd, f"Splice name {name} is already defined in the DAG")
            return
        splice_dir = fields["dir"] or ""
        splice_cwd = _join(self.cwd, splice_dir) if splice_dir else self.cwd
        path = _join(splice_cwd, fields["dagfile"])
        if not os.path.isfile(path):
            loader.error(cmd, f"Failed to read splice {name}: Provided file path does not exist")
            return
        if os.path.realpath(path) in loader.open_files:
            loader.error(cmd, "Recursive splicing detected")
            return
        inner = loader.build(path, fields["dagfile"], splice_cwd, name)
        self._lift(cmd, name, inner, splice_dir)

    def _lift(self, cmd: Command, name: str, inner_scope: _Scope, splice_dir: str) -> None:
        """Copy a built splice into this DAG, renaming its nodes ``name+node``."""
        dag = self.dag
        inner = inner_scope.dag
        prefix = name + "+"
        rename = {old: prefix + old for old in inner.nodes}
        for old, node in inner.nodes.items():
            node.name = rename[old]
            node.dir = _prefixed_dir(splice_dir, node.dir)
            if node.category is not None and not node.category.startswith("+"):
                node.category = prefix + node.category
            dag.nodes[node.name] = node
        for parent, kids in inner.children.items():
            for child, weak in kids.items():
                dag.add_edge(rename[parent], rename[child], weak)
        for category, limit in inner.maxjobs.items():
            key = category if category.startswith("+") else prefix + category
            dag.maxjobs[key] = limit
        self.splice_descriptions.append(inner.submit_descriptions)
        if inner.rejected_at is not None and dag.rejected_at is None:
            dag.rejected_at = inner.rejected_at
        this = SpliceInfo(name="", dagfile=cmd.fields["dagfile"], dir="",
                          nodes=list(inner.nodes), pin_in=inner_scope.pin_in,
                          pin_out=inner_scope.pin_out, nested=inner_scope.nested_splices)
        dag.splices[name] = _renamed_splice(this, name, rename, splice_dir)
        self.nested_splices += 1 + this.nested
        for inner_splice in inner.splices.values():
            # Nested splices stay reachable by their full name (S1+S2).
            renamed = _renamed_splice(inner_splice, prefix + inner_splice.name, rename,
                                      splice_dir)
            dag.splices[renamed.name] = renamed

    def merge_splice_descriptions(self) -> None:
        # A description of the outer DAG wins over a same-named one in a splice.
        for descriptions in self.splice_descriptions:
            for name, text in descriptions.items():
                self.dag.submit_descriptions.setdefault(name, text)

    # -- pass 2 ----------------------------------------------------------------------
    def second_pass(self, cmd: Command) -> None:
        keyword = cmd.keyword
        fields = cmd.fields
        dag = self.dag
        loader = self.loader
        if keyword == "PARENT":
            self._add_dependencies(cmd)
        elif keyword in _MODIFIERS:
            for node in self._targets(cmd):
                self._modify(cmd, node)
        elif keyword == "MAXJOBS":
            dag.maxjobs[fields["category"]] = fields["limit"]
        elif keyword == "CONNECT":
            self._connect(cmd)
        elif keyword in ("PIN_IN", "PIN_OUT"):
            node = fields["node"]
            if node not in dag.nodes:
                loader.error(cmd, f"References undefined node {node}")
                return
            pins = self.pin_in if keyword == "PIN_IN" else self.pin_out
            pins.setdefault(fields["pin"], []).append(node)
        elif fields.get("_included") or self.splice is not None:
            return  # CONFIG, SET_JOB_ATTR and ENV count only in the top-level file
        elif keyword == "CONFIG":
            path = _join(self.cwd, fields["file"])
            if not os.path.isabs(fields["file"]):
                path = os.path.abspath(path)
            if dag.config is not None:
                loader.error(cmd, "DAG configuration file is already defined")
            elif not os.path.isfile(path):
                loader.error(cmd, f"Configuration file {path} does not exist")
            if dag.config is None:
                dag.config = fields["file"]
        elif keyword == "SET_JOB_ATTR":
            dag.set_job_attrs.append(fields["attribute"])
        elif keyword == "ENV":
            target = dag.env_set if fields["action"] == "SET" else dag.env_get
            target.append(fields["variables"])

    def _resolve(self, cmd: Command, name: str, as_parent: bool,
                 found: list[str], missing: list[str]) -> None:
        dag = self.dag
        node = dag.nodes.get(name)
        if node is not None:
            if node.kind in _SPECIAL_KINDS:
                self.loader.error(cmd, f"{node.kind.value} node {name} can not have dependencies")
            else:
                found.append(name)
            return
        splice = dag.splices.get(name)
        if splice is not None:
            if as_parent:
                found.extend(dag.terminal_nodes(splice.nodes))
            else:
                found.extend(dag.initial_nodes(splice.nodes))
            return
        missing.append(name)

    def _add_dependencies(self, cmd: Command) -> None:
        dag = self.dag
        fields = cmd.fields
        if (len(fields["parents"]) == 1 or len(fields["children"]) == 1
                or not self.loader.use_join_nodes):
            if self._add_plain_dependencies(fields):
                return
        parents: list[str] = []
        children: list[str] = []
        missing_parents: list[str] = []
        missing_children: list[str] = []
        for name in cmd.fields["parents"]:
            self._resolve(cmd, name, True, parents, missing_parents)
        for name in cmd.fields["children"]:
            self._resolve(cmd, name, False, children, missing_children)
        if missing_parents or missing_children:
            message = "References to undefined nodes:"
            if missing_parents:
                message += f" Parents [{','.join(missing_parents)}]"
            if missing_children:
                message += f" Children [{','.join(missing_children)}]"
            self.loader.error(cmd, message)
        parents = list(dict.fromkeys(parents))
        children = list(dict.fromkeys(children))
        weak = cmd.fields["weak"]
        if self.loader.use_join_nodes and len(parents) > 1 and len(children) > 1:
            self.loader.join_index += 1
            join = Node(name=f"{JOIN_NODE_PREFIX}{self.loader.join_index}", kind=NodeKind.JOB,
                        submit="-", index=self.loader.new_index(), noop=True, join=True,
                        source=(cmd.file, cmd.line))
            dag.nodes[join.name] = join
            for parent in parents:
                dag.add_edge(parent, join.name, weak)
            parents, weak = [join.name], False
        for parent in parents:
            for child in children:
                dag.add_edge(parent, child, weak)

    def _add_plain_dependencies(self, fields: dict) -> bool:
        """Add the edges of a PARENT line that names only ordinary nodes, with no join
        node and no repeated name; ``False`` (nothing done) for any other line."""
        nodes = self.dag.nodes
        parents, children = fields["parents"], fields["children"]
        try:
            for name in parents:
                if nodes[name].kind in _SPECIAL_KINDS:
                    return False
            for name in children:
                if nodes[name].kind in _SPECIAL_KINDS:
                    return False
        except KeyError:
            return False
        if len(set(parents)) != len(parents) or len(set(children)) != len(children):
            return False
        weak = fields["weak"]
        all_children = self.dag.children
        all_parents = self.dag.parents
        for parent in parents:
            kids = all_children.get(parent)
            if kids is None:
                kids = all_children[parent] = {}
            for child in children:
                edge_weak = weak and kids.get(child, True)
                kids[child] = edge_weak
                ups = all_parents.get(child)
                if ups is None:
                    all_parents[child] = {parent: edge_weak}
                else:
                    ups[parent] = edge_weak
        return True

    def _targets(self, cmd: Command) -> list[Node]:
        name = cmd.fields["node"]
        dag = self.dag
        if name.upper() == ALL_NODES:
            if cmd.keyword == "DONE":
                self.loader.error(cmd, "ALL_NODES can not be used with DONE command")
                return []
            return [dag.nodes[n] for n in self.own_nodes]
        node = dag.nodes.get(name)
        if node is not None:
            return [node]
        if name in dag.splices:
            self.loader.error(cmd, f"Cannot be applied to splice {name}")
        elif cmd.keyword == "CATEGORY":
            self.loader.error(cmd, f"References to undefined nodes: {name}")
        else:
            self.loader.error(cmd, f"References undefined node {name}")
        return []

    def _modify(self, cmd: Command, node: Node) -> None:
        keyword = cmd.keyword
        fields = cmd.fields
        loader = self.loader
        if node.kind in _SPECIAL_KINDS and keyword in _NOT_FOR_SPECIAL:
            message = f"{keyword} can not be applied to {node.kind.value} node {node.name}"
            if keyword == "RETRY" or (keyword == "ABORT_DAG_ON" and node.kind is NodeKind.FINAL):
                loader.error(cmd, message)
                return
            if keyword != "ABORT_DAG_ON":
                loader.warn(cmd, f"Warning: {message}; ignored")
                return
        if keyword == "VARS":
            append = bool(fields["append"])
            node_vars = node.vars
            for key, value in fields["pairs"]:
                if key in node_vars:
                    loader.warn(cmd, f"Warning: VAR {key} is already defined in node {node.name}")
                node_vars[key] = Var(value, append)
        elif keyword == "SCRIPT":
            node.scripts[fields["type"]] = Script(
                fields["type"], fields["command"], fields["defer_status"], fields["defer_time"],
                fields["debug_file"], fields["debug_stream"])
        elif keyword == "RETRY":
            node.retry = fields["retries"]
            node.retry_unless_exit = fields["unless_exit"]
        elif keyword == "ABORT_DAG_ON":
            node.abort_dag_on = AbortDagOn(fields["status"], fields["return_value"])
        elif keyword == "PRIORITY":
            if node.priority and node.priority != fields["priority"]:
                loader.warn(cmd, f"Warning: new priority {fields['priority']} for node "
                                 f"{node.name} overrides old value {node.priority}")
            node.priority = fields["priority"]
        elif keyword == "PRE_SKIP":
            code = fields["exit_code"]
            if not 0 <= code <= 255:
                loader.error(cmd, f"PRE_SKIP exit code {code} for node {node.name} "
                                  "is out of range (0 to 255)")
                return
            if code == 0:
                loader.warn(cmd, f"Warning: PRE_SKIP exit code 0 for node {node.name}: a PRE "
                                 "script that succeeds will skip the job")
            node.pre_skip = code
        elif keyword == "TOLERANCE":
            node.tolerance = Tolerance(fields["value"], fields["percent"], fields["mode"])
        elif keyword == "DONE":
            node.done = True
        elif keyword == "SAVE_POINT_FILE":
            node.save_point_file = fields["file"]
        elif keyword == "CATEGORY":
            node.category = fields["category"]

    def _connect(self, cmd: Command) -> None:
        dag = self.dag
        loader = self.loader
        out_name, in_name = cmd.fields["out_splice"], cmd.fields["in_splice"]
        for name in (out_name, in_name):
            if name not in dag.splices:
                loader.error(cmd, f"{name} is not a splice (CONNECT takes two splices)")
                return
        out_pins = dag.splices[out_name].pin_out
        in_pins = dag.splices[in_name].pin_in
        for splice, pins, kind in ((out_name, out_pins, "PIN_OUT"), (in_name, in_pins, "PIN_IN")):
            if not pins:
                loader.error(cmd, f"Splice {splice} has no {kind} pins")
                return
            expected = list(range(1, len(pins) + 1))
            if sorted(pins) != expected:
                loader.error(cmd, f"{kind} pins of splice {splice} are not numbered "
                                  f"consecutively from 1: {sorted(pins)}")
                return
        if len(out_pins) != len(in_pins):
            loader.error(cmd, f"Splice {out_name} has {len(out_pins)} PIN_OUT pins but splice "
                              f"{in_name} has {len(in_pins)} PIN_IN pins")
            return
        pinned = {n for nodes in in_pins.values() for n in nodes}
        for node in dag.initial_nodes(dag.splices[in_name].nodes):
            if node not in pinned:
                loader.error(cmd, f"Initial node {node} of splice {in_name} is not "
                                  "connected to any PIN_IN")
                return
        for pin, out_nodes in out_pins.items():
            for parent in out_nodes:
                for child in in_pins[pin]:
                    dag.add_edge(parent, child)


def locate_dag(path: str, cwd: str | None, options: LoadOptions) -> tuple[str, str, str]:
    """The DAG file's full path, the name messages use for it, and the DAG working
    directory (``cwd``, the current directory by default, or the file's directory
    with ``options.use_dag_dir``)."""
    cwd = os.path.abspath(cwd or os.getcwd())
    full = _join(cwd, path)
    if options.use_dag_dir:
        return full, os.path.basename(full), os.path.dirname(full)
    return full, path, cwd


def load_dag(path: str, *, cwd: str | None = None, options: LoadOptions | None = None,
             text: str | None = None) -> LoadResult:
    """Read the DAG file ``path`` and everything it includes or splices.

    Parameters
    ----------
    path : str
        The DAG file, relative to ``cwd`` or absolute.
    cwd : str, optional
        The DAG working directory (where ``condor_submit_dag`` would run); relative
        paths inside the DAG resolve against it.  Defaults to the current directory,
        or to the DAG file's directory with ``options.use_dag_dir``.
    options : LoadOptions, optional
    text : str, optional
        The file's text, when the caller has read it already (as
        :func:`read_dag_text` does); read from ``path`` otherwise.

    Returns
    -------
    LoadResult
        The DAG (also when there are errors: whatever could be read) with the
        errors and warnings found.
    """
    options = options or LoadOptions()
    full, label, cwd = locate_dag(path, cwd, options)
    if not os.path.isfile(full):
        issue = Issue(path, 0, f"Failed to open DAG file {path}: No such file or directory")
        return LoadResult(Dag(path=path), [issue], [], cwd)
    if text is None:
        text = read_dag_text(full)
    knobs: dict[str, str] = {}
    config = _CONFIG_LINE.search(text)
    if config:
        knobs = read_config_knobs(_join(cwd, config.group(1).strip("\"'")))
    allow = options.allow_illegal_chars
    if allow is None:
        allow = knobs.get("DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS", "false").lower() in _TRUE
    joins = options.use_join_nodes
    if joins is None:
        joins = knobs.get("DAGMAN_USE_JOIN_NODES", "true").lower() in _TRUE
    loader = _Loader(allow, joins)
    with paused_gc():
        dag = loader.build(full, label, cwd, None, text).dag
    if dag.splices:  # lifted splice nodes are inserted out of creation order
        dag.nodes = dict(sorted(dag.nodes.items(), key=lambda item: item[1].index))
    if dag.rejected_at is not None:
        file, line = dag.rejected_at
        loader.errors.append(Issue(file, line, "DAG marked with REJECT command", "REJECT"))
    return LoadResult(dag, loader.errors, loader.warnings, cwd)
