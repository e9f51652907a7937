"""Writing a :class:`~gwdag.dagman.model.Dag` as DAGMan's language.

The output reads back (:func:`gwdag.dagman.loader.load_dag`) to the same model:
same nodes in the same order, same edges, same options.  Join nodes DAGMan would
create itself are written as the ``PARENT ... CHILD ...`` line that creates them;
others (from splices) are written as explicit NOOP nodes.  Throttles are written
``MAXJOBS <category> <n>`` (``htcondor2.dags`` writes ``CATEGORY``, which DAGMan
reads as a node's category).
"""

from __future__ import annotations

import os
import re
import tempfile

from .model import JOIN_NODE_PREFIX, Dag, Node, NodeKind

__all__ = [
    "write_dag", "write_text", "dag_text", "header_lines", "node_definition_lines",
    "node_option_lines", "vars_value", "quote_token", "JOIN_NODE_SUBMIT",
]

#: Submit token of a join node written explicitly (NOOP nodes need no file).
JOIN_NODE_SUBMIT = "-"
_NEEDS_QUOTES = re.compile(r"[\s\"'\\]")


def quote_token(token: str) -> str:
    """Quote a file-name token if it has blanks, quotes or backslashes."""
    if token and not _NEEDS_QUOTES.search(token):
        return token
    escaped = token.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def vars_value(value: str) -> str:
    """A VARS value in double quotes, with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _inline_block(opener_line: str, body: str) -> list[str]:
    lines = body.splitlines()
    if any(line == "}" or line.startswith("} ") for line in lines):
        return [opener_line.replace(" {", " @=GWDAG_END", 1), *lines, "@GWDAG_END"]
    return [opener_line, *lines, "}"]


def node_definition_lines(node: Node) -> list[str]:
    """The line(s) defining ``node`` (several for an inline submit description)."""
    options = ""
    if node.dir:
        options += f" DIR {quote_token(node.dir)}"
    if node.noop:
        options += " NOOP"
    if node.done:
        options += " DONE"
    if node.kind is NodeKind.SUBDAG:
        return [f"SUBDAG EXTERNAL {node.name} {quote_token(node.submit)}{options}"]
    submit = node.submit or JOIN_NODE_SUBMIT
    if node.inline_submit is not None:
        block = _inline_block(f"{node.kind.value} {node.name} {{", node.inline_submit)
        block[-1] += options
        return block
    return [f"{node.kind.value} {node.name} {quote_token(submit)}{options}"]


def node_option_lines(node: Node, out: list[str]) -> None:
    """Append the VARS, SCRIPT, RETRY, ... lines of ``node`` to ``out``."""
    name = node.name
    prepend = [f"{k}={vars_value(v.value)}" for k, v in node.vars.items() if not v.append]
    append = [f"{k}={vars_value(v.value)}" for k, v in node.vars.items() if v.append]
    if prepend:
        out.append(f"VARS {name} {' '.join(prepend)}")
    if append:
        out.append(f"VARS {name} APPEND {' '.join(append)}")
    for script in node.scripts.values():
        head = "SCRIPT"
        if script.defer_status is not None:
            head += f" DEFER {script.defer_status} {script.defer_time}"
        if script.debug_file is not None:
            head += f" DEBUG {script.debug_file} {script.debug_stream}"
        out.append(f"{head} {script.type} {name} {script.command}")
    if node.retry or node.retry_unless_exit is not None:
        unless = "" if node.retry_unless_exit is None else f" UNLESS-EXIT {node.retry_unless_exit}"
        out.append(f"RETRY {name} {node.retry}{unless}")
    if node.abort_dag_on is not None:
        abort = node.abort_dag_on
        ret = "" if abort.return_value is None else f" RETURN {abort.return_value}"
        out.append(f"ABORT-DAG-ON {name} {abort.status}{ret}")
    if node.priority:
        out.append(f"PRIORITY {name} {node.priority}")
    if node.category is not None:
        out.append(f"CATEGORY {name} {node.category}")
    if node.pre_skip is not None:
        out.append(f"PRE_SKIP {name} {node.pre_skip}")
    if node.tolerance is not None:
        tol = node.tolerance
        mode = f" {tol.mode}" if tol.mode else ""
        out.append(f"TOLERANCE {name} {tol.value}{'%' if tol.percent else ''}{mode}")
    if node.save_point_file is not None:
        out.append(f"SAVE_POINT_FILE {name} {quote_token(node.save_point_file)}")


def _regenerable_joins(dag: Dag) -> set[str]:
    """Join nodes that a ``PARENT p1 p2 CHILD c1 c2`` line recreates with the same
    name: top-level ones, numbered 1, 2, ... in node order, after every other node."""
    joins: set[str] = set()
    expected = 1
    seen_join = False
    for node in dag.nodes.values():
        if node.join and node.name == f"{JOIN_NODE_PREFIX}{expected}":
            parents = dag.parents.get(node.name, {})
            kids = dag.children.get(node.name, {})
            weak_flags = set(parents.values())
            if (len(parents) > 1 and len(kids) > 1 and len(weak_flags) == 1
                    and not any(kids.values()) and not node.vars and not node.scripts
                    and not node.retry and node.priority == 0 and node.category is None):
                joins.add(node.name)
                expected += 1
                seen_join = True
                continue
            return set()
        if seen_join:
            return set()  # a regenerated join must not move ahead of a later node
    return joins


def header_lines(dag: Dag, header: str | None = None) -> list[str]:
    """The comment header and the DAG-wide commands, up to the node definitions."""
    out: list[str] = []
    if header:
        out.extend(f"# {line}" if line else "#" for line in header.splitlines())
    if dag.config is not None:
        out.append(f"CONFIG {quote_token(dag.config)}")
    out.extend(f"SET_JOB_ATTR {attr}" for attr in dag.set_job_attrs)
    out.extend(f"ENV GET {variables}" for variables in dag.env_get)
    out.extend(f"ENV SET {variables}" for variables in dag.env_set)
    if dag.dot is not None:
        dot = dag.dot
        line = f"DOT {quote_token(dot.file)}"
        if dot.update is not None:
            line += " UPDATE" if dot.update else " DONT-UPDATE"
        if dot.overwrite is not None:
            line += " OVERWRITE" if dot.overwrite else " DONT-OVERWRITE"
        if dot.include is not None:
            line += f" INCLUDE {dot.include}"
        out.append(line)
    if dag.node_status_file is not None:
        status = dag.node_status_file
        line = f"NODE_STATUS_FILE {quote_token(status.file)}"
        if status.min_update is not None:
            line += f" {status.min_update}"
        if status.always_update:
            line += " ALWAYS-UPDATE"
        out.append(line)
    if dag.jobstate_log is not None:
        out.append(f"JOBSTATE_LOG {quote_token(dag.jobstate_log)}")
    if dag.rejected_at is not None:
        out.append("REJECT")
    for name, body in dag.submit_descriptions.items():
        out.extend(_inline_block(f"SUBMIT-DESCRIPTION {name} {{", body))
    return out


def dag_text(dag: Dag, *, header: str | None = None) -> str:
    """The DAG file text for ``dag``."""
    out = header_lines(dag, header)
    regenerated = _regenerable_joins(dag)
    nodes = [n for n in dag.nodes.values() if n.name not in regenerated]
    for node in nodes:
        out.extend(node_definition_lines(node))
    for node in nodes:
        node_option_lines(node, out)
    for node in nodes:
        kids = [(c, w) for c, w in dag.children.get(node.name, {}).items()
                if c not in regenerated]
        strong = [c for c, weak in kids if not weak]
        weak = [c for c, weak in kids if weak]
        if strong:
            out.append(f"PARENT {node.name} CHILD {' '.join(strong)}")
        if weak:
            out.append(f"WEAK PARENT {node.name} CHILD {' '.join(weak)}")
    for name in dag.nodes:
        if name in regenerated:
            parents = dag.parents[name]
            weak = "WEAK " if next(iter(parents.values())) else ""
            out.append(f"{weak}PARENT {' '.join(parents)} CHILD {' '.join(dag.children[name])}")
    out.extend(f"MAXJOBS {category} {limit}" for category, limit in dag.maxjobs.items())
    return "\n".join(out) + "\n"


def write_dag(dag: Dag, path: str, *, header: str | None = None) -> None:
    """Write ``dag`` to ``path`` (atomically: a temporary file, then a rename)."""
    write_text(dag_text(dag, header=header), path)


def write_text(text: str, path: str) -> None:
    """Write DAG ``text`` to ``path`` atomically: a temporary file, then a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gwdag-", suffix=".dag", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
