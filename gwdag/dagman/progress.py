"""How far a DAG has got, read from the artifacts DAGMan (or gwdag's local executor)
leaves next to it: ``<dag>.nodes.log`` (through ``htcondor2.JobEventLog``), the last
``EXITING WITH STATUS`` line of ``<dag>.dagman.out`` and the DAG itself.

Nothing here needs the process that ran the DAG, so it works for a DAG real
DAGMan ran on a pool as well as for one still running.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .loader import LoadOptions, load_dag
from .model import NodeKind
from .states import NodeStatus

__all__ = ["NodeProgress", "DagProgress", "dag_progress"]

_EXIT_LINE = re.compile(r"EXITING WITH STATUS (-?\d+)")
_NODE_NOTE = re.compile(r"DAG Node: (\S+)")


@dataclass
class NodeProgress:
    name: str
    status: NodeStatus = NodeStatus.NOT_READY
    retries: int = 0
    clusters: list[int] = field(default_factory=list)
    return_value: int | None = None
    post_return: int | None = None
    hold_reason: str = ""
    held: bool = False            # held now (a JOB_HELD without a release since)
    details: str = ""

    def document(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status.name, "retries": self.retries,
                "clusters": self.clusters, "return_value": self.return_value,
                "post_return": self.post_return, "hold_reason": self.hold_reason,
                "held": self.held,
                "details": self.details}


@dataclass
class DagProgress:
    dag: str
    finished: bool
    exit_code: int | None
    running_pid: int | None
    nodes: list[NodeProgress]

    def counts(self) -> dict[str, int]:
        counts = {status.name: 0 for status in NodeStatus}
        for node in self.nodes:
            counts[node.status.name] += 1
        return counts

    def document(self) -> dict[str, object]:
        return {"schema_version": 1, "dag": self.dag, "finished": self.finished,
                "exit_code": self.exit_code, "running_pid": self.running_pid,
                "counts": self.counts(), "nodes": [n.document() for n in self.nodes]}


def _exit_code(dagman_out: str) -> int | None:
    try:
        with open(dagman_out, "rb") as handle:
            handle.seek(max(0, os.path.getsize(dagman_out) - 4096))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    # Only the last run of the file counts: a later STARTING UP resets it.
    last_start = tail.rfind("STARTING UP")
    matches = list(_EXIT_LINE.finditer(tail))
    if not matches or (last_start >= 0 and matches[-1].start() < last_start):
        return None
    return int(matches[-1].group(1))


def dag_progress(dag_file: str, *, cwd: str | None = None,
                 running_pid: int | None = None) -> DagProgress:
    """Node states of ``dag_file`` from its artifacts."""
    import htcondor2

    result = load_dag(dag_file, cwd=cwd, options=LoadOptions())
    dag = result.dag
    nodes = {name: NodeProgress(name) for name in dag.nodes
             if dag.nodes[name].kind is not NodeKind.SERVICE}
    for name, progress in nodes.items():
        if dag.nodes[name].done:
            progress.status = NodeStatus.DONE
            progress.details = "User defined as DONE"
    by_cluster: dict[int, str] = {}
    log_path = os.path.abspath(dag_file) + ".nodes.log"
    if os.path.exists(log_path):
        for event in htcondor2.JobEventLog(log_path).events(0):
            kind = event.type
            notes = str(event.get("LogNotes", "") or event.get("SkipEventLogNotes", "") or "")
            note = _NODE_NOTE.search(notes)
            name = note.group(1) if note else by_cluster.get(event.cluster)
            if kind is htcondor2.JobEventType.POST_SCRIPT_TERMINATED:
                name = str(event.get("DAGNodeName", name))
            if name not in nodes:
                continue
            node = nodes[name]
            has_post = "POST" in dag.nodes[name].scripts
            if kind in (htcondor2.JobEventType.JOB_TERMINATED,
                        htcondor2.JobEventType.JOB_ABORTED):
                node.held = False
            if kind is htcondor2.JobEventType.SUBMIT:
                if event.proc == 2147483647:  # the fake event of a NOOP node
                    node.status = NodeStatus.DONE
                    continue
                if event.cluster not in node.clusters:
                    node.clusters.append(event.cluster)
                    by_cluster[event.cluster] = name
                node.status = NodeStatus.SUBMITTED
                node.return_value = node.post_return = None
            elif kind is htcondor2.JobEventType.JOB_TERMINATED:
                if event.proc == 2147483647:
                    continue
                if event.get("TerminatedNormally", True):
                    value = int(event.get("ReturnValue", 0))
                else:
                    value = -int(event.get("TerminatedBySignal", 0))
                if node.return_value in (None, 0):
                    node.return_value = value
                if has_post:
                    node.status = NodeStatus.POSTRUN
                else:
                    node.status = NodeStatus.DONE if node.return_value == 0 else NodeStatus.ERROR
                    if node.return_value:
                        node.details = f"Job exited with status {node.return_value}"
            elif kind is htcondor2.JobEventType.JOB_ABORTED:
                node.return_value = -1002
                node.status = NodeStatus.POSTRUN if has_post else NodeStatus.ERROR
                node.details = str(event.get("Reason", "Job was aborted"))
            elif kind is htcondor2.JobEventType.JOB_HELD:
                node.hold_reason = str(event.get("HoldReason", ""))
                node.held = True
            elif kind is htcondor2.JobEventType.JOB_RELEASED:
                node.held = False
            elif kind is htcondor2.JobEventType.POST_SCRIPT_TERMINATED:
                value = int(event.get("ReturnValue", 0)) if event.get(
                    "TerminatedNormally", True) else -int(event.get("TerminatedBySignal", 0))
                node.post_return = value
                node.status = NodeStatus.DONE if value == 0 else NodeStatus.ERROR
                node.details = "" if value == 0 else f"POST script failed with status {value}"
            elif int(kind) == 34:  # PRESKIP
                node.status = NodeStatus.DONE
    for node in nodes.values():
        node.retries = max(0, len(node.clusters) - 1)
    exit_code = None if running_pid else _exit_code(os.path.abspath(dag_file) + ".dagman.out")
    finished = exit_code is not None
    if finished:
        # Nodes that never ran below a failed node were futile.
        failed = [n for n, p in nodes.items() if p.status is NodeStatus.ERROR]
        stack = list(failed)
        while stack:
            current = stack.pop()
            for child, weak in dag.children.get(current, {}).items():
                if weak or child not in nodes:
                    continue
                if nodes[child].status is NodeStatus.NOT_READY:
                    nodes[child].status = NodeStatus.FUTILE
                    nodes[child].details = "Had an ancestor node fail"
                    stack.append(child)
    return DagProgress(dag_file, finished, exit_code, running_pid, list(nodes.values()))
