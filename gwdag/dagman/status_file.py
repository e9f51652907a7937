"""The node status file (NODE_STATUS_FILE) and the jobstate log (JOBSTATE_LOG) in
DAGMan's formats (``shared/reference/dagman.md`` §7.3–7.4), and reading the status
file back with ``classad2``."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .states import NodeStatus

__all__ = ["NodeStatusRow", "DagCounts", "status_file_text", "write_status_file",
           "read_status_file", "jobstate_line"]


@dataclass(frozen=True)
class NodeStatusRow:
    """One NodeStatus ad."""

    node: str
    status: NodeStatus
    details: str = ""
    retry_count: int = 0
    procs_queued: int = 0
    procs_held: int = 0


@dataclass(frozen=True)
class DagCounts:
    """The DagStatus ad's node and proc counts."""

    total: int
    done: int = 0
    pre: int = 0
    queued: int = 0
    post: int = 0
    ready: int = 0
    unready: int = 0
    futile: int = 0
    failed: int = 0
    procs_held: int = 0
    procs_idle: int = 0


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stamp(when: int) -> str:
    return f'{when}; /* "{time.ctime(when)}" */'


def status_file_text(dag_files: list[str], dag_status: NodeStatus, dag_note: str,
                     counts: DagCounts, rows: list[NodeStatusRow], *, now: float | None = None,
                     next_update: int | None = None) -> str:
    """The whole file; ``dag_status`` uses the node enum as DAGMan does (3 while
    running, 5 success, 6 failure) with ``dag_note`` in the comment."""
    when = int(time.time() if now is None else now)
    out = ["[", '  Type = "DagStatus";', "  DagFiles = {"]
    out.append(",\n".join(f"    {_quote(name)}" for name in dag_files))
    out += [
        "  };",
        f"  Timestamp = {_stamp(when)}",
        f'  DagStatus = {int(dag_status)}; /* "{dag_status.label} ({dag_note})" */',
        f"  NodesTotal = {counts.total};",
        f"  NodesDone = {counts.done};",
        f"  NodesPre = {counts.pre};",
        f"  NodesQueued = {counts.queued};",
        f"  NodesPost = {counts.post};",
        f"  NodesReady = {counts.ready};",
        f"  NodesUnready = {counts.unready};",
        f"  NodesFutile = {counts.futile};",
        f"  NodesFailed = {counts.failed};",
        f"  JobProcsHeld = {counts.procs_held};",
        f"  JobProcsIdle = {counts.procs_idle}; /* includes held */",
        "]",
    ]
    for row in rows:
        out += [
            "[",
            '  Type = "NodeStatus";',
            f"  Node = {_quote(row.node)};",
            f'  NodeStatus = {int(row.status)}; /* "{row.status.label}" */',
            f"  StatusDetails = {_quote(row.details)};",
            f"  RetryCount = {row.retry_count};",
            f"  JobProcsQueued = {row.procs_queued};",
            f"  JobProcsHeld = {row.procs_held};",
            "]",
        ]
    if next_update is None:
        next_line = '  NextUpdate = 0; /* "none" */'
    else:
        next_line = f"  NextUpdate = {_stamp(next_update)}"
    out += ["[", '  Type = "StatusEnd";', f"  EndTime = {_stamp(when)}", next_line, "]"]
    return "\n".join(out) + "\n"


def write_status_file(path: str, text: str) -> None:
    """Replace the file atomically (``<file>.tmp``, then a rename), as DAGMan does."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_status_file(path: str) -> list[dict[str, object]]:
    """The ads of a node status file as dicts (parsed by ``classad2``)."""
    import classad2

    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    ads = []
    for ad in classad2.parseAds(text, classad2.ParserType.New):
        ads.append({key: ad.eval(key) for key in ad.keys()})
    return ads


def jobstate_line(when: int, node: str, event: str, condor_id: str, tag: str, seq: int | str
                  ) -> str:
    """``<time> <node> <EVENT> <condorId|-|retval> <jobtag> - <seq>``."""
    return f"{int(when)} {node} {event} {condor_id} {tag} - {seq}\n"
