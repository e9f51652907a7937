"""DAG runs as ``condor_q`` / ``condor_watch_q`` show jobs: one row per run with
node counts, from the state store and each DAG's artifacts (never a schedd poll
for the local executor), plus the exit conditions of ``gwdag watch``.

Node buckets follow ``condor_q``'s batch columns: DONE, RUN (submitted, PRE or
POST script running), IDLE (waiting or ready), HOLD, FAIL (failed or futile).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .store_reader import open_store

__all__ = ["ExitCondition", "RunRow", "collect_runs", "condor_rows"]

ACTIVE_STATES = ("planning", "running", "retrying")


@dataclass
class RunRow:
    """One run and its nodes by bucket; ``updated_at`` is when its artifacts
    last changed (Unix s)."""

    run_id: str
    kind: str
    state: str
    dag: str | None
    created_at: float | None
    finished_at: float | None
    total: int = 0
    done: int = 0
    running: int = 0
    idle: int = 0
    held: int = 0
    failed: int = 0
    updated_at: float | None = None
    held_nodes: tuple[tuple[str, str], ...] = ()     # (node, hold reason)

    @property
    def hold_reasons(self) -> tuple[str, ...]:
        return tuple(f"{node}: {reason or 'no reason given'}"
                     for node, reason in self.held_nodes)

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE_STATES

    def document(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind, "state": self.state,
                "dag": self.dag, "created_at": self.created_at,
                "finished_at": self.finished_at,
                "nodes": {"total": self.total, "done": self.done, "running": self.running,
                          "idle": self.idle, "held": self.held, "failed": self.failed},
                "updated_at": self.updated_at, "hold_reasons": list(self.hold_reasons)}


def _fill(row: RunRow) -> RunRow:
    if not row.dag or not os.path.exists(row.dag):
        return row
    from ..dagman.progress import dag_progress
    from ..dagman.states import NodeStatus

    try:
        progress = dag_progress(row.dag, cwd=str(Path(row.dag).parent))
    except (OSError, ValueError):
        return row
    row.total = len(progress.nodes)
    for node in progress.nodes:
        if node.held:
            row.held += 1
        elif node.status is NodeStatus.DONE:
            row.done += 1
        elif node.status in (NodeStatus.ERROR, NodeStatus.FUTILE):
            row.failed += 1
        elif node.status in (NodeStatus.SUBMITTED, NodeStatus.PRERUN, NodeStatus.POSTRUN):
            row.running += 1
        else:
            row.idle += 1
    row.held_nodes = tuple((n.name, n.hold_reason) for n in progress.nodes if n.held)
    stamps = [os.stat(p).st_mtime for p in (row.dag + ".nodes.log", row.dag + ".dagman.out")
              if os.path.exists(p)]
    row.updated_at = max(stamps) if stamps else None
    return row


def collect_runs(root: str | Path, *, run_ids: list[str] | None = None,
                 since: float | None = None, limit: int = 200) -> list[RunRow]:
    """Active runs plus those created or finished after ``since`` (Unix s), or
    exactly ``run_ids``; newest first, at most ``limit``."""
    db = open_store(root)
    if db is None:
        return []
    db.row_factory = sqlite3.Row
    try:
        if run_ids:
            marks = ",".join("?" * len(run_ids))
            rows = db.execute(f"SELECT * FROM runs WHERE run_id IN ({marks}) "
                              "ORDER BY created_at DESC", run_ids).fetchall()
        else:
            where = f"state IN ({','.join('?' * len(ACTIVE_STATES))})"
            values: list[Any] = list(ACTIVE_STATES)
            if since is not None:
                where += " OR created_at >= ? OR finished_at >= ?"
                values += [since, since]
            rows = db.execute(f"SELECT * FROM runs WHERE {where} ORDER BY created_at DESC "
                              "LIMIT ?", (*values, limit)).fetchall()
    finally:
        db.close()
    return [_fill(RunRow(r["run_id"], r["kind"] or "", r["state"], r["dag"], r["created_at"],
                         r["finished_at"])) for r in rows]


@dataclass(frozen=True)
class ExitCondition:
    """``condor_watch_q -exit``'s grammar for runs: ``all|any,STATE[,CODE]`` with
    STATE one of done, failed, held, finished (done or failed)."""

    quantifier: str
    state: str
    code: int

    STATES = ("done", "failed", "held", "finished")

    @classmethod
    def parse(cls, text: str) -> ExitCondition:
        parts = [p.strip().lower() for p in text.split(",")]
        if len(parts) not in (2, 3) or parts[0] not in ("all", "any") or \
                parts[1] not in cls.STATES:
            raise ValueError(f"--exit {text!r}: expected all|any,{'|'.join(cls.STATES)}"
                             "[,EXIT_CODE] (e.g. all,done,0 or any,failed,1)")
        try:
            code = int(parts[2]) if len(parts) == 3 else 0
        except ValueError:
            raise ValueError(f"--exit {text!r}: the exit code must be an integer") from None
        return cls(parts[0], parts[1], code)

    def _matches(self, row: RunRow) -> bool:
        if self.state == "held":
            return row.held > 0
        if self.state == "finished":
            return row.finished
        if self.state == "done":
            return row.state in ("done", "skipped")
        return row.state == "failed"

    def met(self, rows: list[RunRow]) -> bool:
        if self.quantifier == "any":
            return any(self._matches(r) for r in rows)
        return bool(rows) and all(self._matches(r) for r in rows)


def condor_rows(root: str | Path, schedd) -> list[dict[str, Any]]:
    """The DAGMan jobs of this root's runs on a pool (their ``Iwd`` is a run
    directory), with DAGMan's own node counts."""
    runs = str(Path(root).resolve() / "runs") + "/"
    constraint = (f"JobUniverse == 7 && JobBatchName == \"gwdag\" && "
                  f"substr(Iwd, 0, {len(runs)}) == {json.dumps(runs)}")
    projection = ["ClusterId", "Iwd", "JobStatus", "QDate", "DAG_NodesTotal",
                  "DAG_NodesDone", "DAG_NodesFailed", "DAG_NodesQueued", "DAG_NodesReady",
                  "DAG_NodesUnready", "DAG_NodesHeld", "HoldReason"]
    rows = []
    for ad in schedd.query(constraint=constraint, projection=projection):
        rows.append({"run_id": os.path.basename(str(ad.get("Iwd", "")).rstrip("/")),
                     "cluster": int(ad.get("ClusterId", 0)),
                     "job_status": int(ad.get("JobStatus", 0)),
                     "submitted_at": ad.get("QDate"),
                     "nodes": {"total": int(ad.get("DAG_NodesTotal", 0)),
                               "done": int(ad.get("DAG_NodesDone", 0)),
                               "running": int(ad.get("DAG_NodesQueued", 0)),
                               "idle": int(ad.get("DAG_NodesReady", 0))
                               + int(ad.get("DAG_NodesUnready", 0)),
                               "held": int(ad.get("DAG_NodesHeld", 0)),
                               "failed": int(ad.get("DAG_NodesFailed", 0))},
                     "hold_reason": ad.get("HoldReason")})
    return rows
