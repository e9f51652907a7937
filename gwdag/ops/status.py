"""``gwdag status``: the answers an on-call person needs first, read-only.

Daemons (listener and planner: running or not, pid, heartbeat age per source),
the spool (count and oldest age per state), recent superevents and alerts, and
DAG runs by state with the failures spelled out (failed nodes, their exit
codes and stderr tails).  Everything comes from the root's own files; the state
store is opened read-only.  Times are Unix seconds or ages in seconds.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..intake.spool import SHARDED, state_files
from .store_reader import open_store

__all__ = ["collect_status", "lock_holder"]

SCHEMA_VERSION = 1
SPOOL_STATES = ("incoming", "claimed", "done", "failed", "rejected")


def lock_holder(path: Path) -> int | None:
    """The pid holding the flock on ``path`` (a daemon's lock file), or None
    when nobody holds it (the daemon is not running)."""
    try:
        handle = open(path)
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip().split()
            return int(text[0]) if text and text[0].isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def _spool(root: Path, now: float) -> dict[str, Any]:
    result = {}
    for state in SPOOL_STATES:
        directory = root / "spool" / state
        suffix = ".raw" if state == "rejected" else ".alert"
        count, oldest = 0, None
        for entry in state_files(str(directory), state in SHARDED):
            if entry.name.endswith(suffix):
                count += 1
                if state in ("incoming", "claimed", "failed"):
                    mtime = entry.stat().st_mtime
                    oldest = mtime if oldest is None else min(oldest, mtime)
        result[state] = {"count": count,
                         "oldest_age": None if oldest is None else round(now - oldest, 3)}
    return result


def _daemons(root: Path, now: float) -> dict[str, Any]:
    from ..intake.heartbeat import read_heartbeats

    beats = read_heartbeats(str(root))
    sources = [{"source": b.get("source"), "status": b.get("status"), "pid": b.get("pid"),
                "heartbeat_age": round(now - float(b.get("written_at") or 0), 3),
                "last_contact_age": None if b.get("last_contact_at") is None
                else round(now - float(b["last_contact_at"]), 3),
                "counts": b.get("counts"), "latency_ms": b.get("latency_ms"),
                "last_error": b.get("last_error")} for b in beats]
    listener = lock_holder(root / "spool" / "listen.lock")
    planner = lock_holder(root / "state" / "plan.lock")
    return {"listener": {"running": listener is not None, "pid": listener,
                         "sources": sources},
            "planner": {"running": planner is not None, "pid": planner}}


def _failure(dag: str | None, tail: int = 5) -> list[dict[str, Any]]:
    """Failed nodes of a run's DAG with exit codes and stderr tails."""
    if not dag or not Path(dag).exists():
        return []
    from ..dagman.progress import dag_progress
    from ..dagman.states import NodeStatus

    try:
        progress = dag_progress(dag, cwd=str(Path(dag).parent))
    except (OSError, ValueError):
        return []
    failures = []
    for node in progress.nodes:
        if node.status is not NodeStatus.ERROR:
            continue
        err = Path(dag).parent / f"{node.name}.err"
        lines = err.read_text(errors="replace").splitlines()[-tail:] if err.exists() else []
        failures.append({"node": node.name, "exit_code": node.return_value,
                         "retries": node.retries, "stderr_tail": lines})
    return failures


def _store(root: Path, recent: int) -> dict[str, Any]:
    db = open_store(root)
    if db is None:
        return {"superevents": [], "alerts": [], "runs": {"by_state": {}, "failed": [],
                                                          "held": []}}
    db.row_factory = sqlite3.Row
    try:
        superevents = [{"superevent_id": r["superevent_id"], "t_0": r["t_0"], "far": r["far"],
                        "preferred_event": r["preferred_event"],
                        "gw_events": json.loads(r["gw_events"]),
                        "em_events": json.loads(r["em_events"] or "[]")}
                       for r in db.execute("SELECT * FROM superevents ORDER BY t_0 DESC "
                                           "LIMIT ?", (recent,))]
        alerts = [{"superevent_id": r["superevent_id"], "alert_type": r["alert_type"],
                   "sequence": r["sequence"], "significant": bool(r["significant"]),
                   "path": r["path"], "time_created": r["time_created"]}
                  for r in db.execute("SELECT * FROM sent_alerts ORDER BY id DESC LIMIT ?",
                                      (recent,))]
        by_state = dict(db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state"))
        failed = [{"run_id": r["run_id"], "kind": r["kind"], "reason": r["reason"],
                   "finished_at": r["finished_at"], "nodes": _failure(r["dag"])}
                  for r in db.execute("SELECT * FROM runs WHERE state='failed' "
                                      "ORDER BY finished_at DESC LIMIT ?", (recent,))]
    finally:
        db.close()
    from .watch import collect_runs

    held = [{"run_id": row.run_id, "node": node, "hold_reason": reason}
            for row in collect_runs(root) for node, reason in row.held_nodes]
    return {"superevents": superevents, "alerts": alerts,
            "runs": {"by_state": by_state, "failed": failed, "held": held}}


def collect_status(root: str | Path, *, recent: int = 10) -> dict[str, Any]:
    """The status document of ``root`` (``gwdag status --json``)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    now = time.time()
    return {"schema_version": SCHEMA_VERSION, "root": str(root.resolve()), "time": now,
            "daemons": _daemons(root, now), "spool": _spool(root, now),
            **_store(root, recent)}
