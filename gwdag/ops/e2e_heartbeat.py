"""The end-to-end heartbeat: a simulated event that must make it all the way through.

``gwdag heartbeat`` (run from cron every ``[heartbeat] interval``) simulates one
detected compact binary happening now, as an MDC G-event (so its superevent is
an ``mdc`` one, never a production alert), puts it in the spool like any other
alert and records what it sent in ``<root>/metrics/heartbeat.jsonl``.  The Nagios
check then asks the state store whether one of them made it through — localized,
grouped into a superevent, and that superevent's first alert issued — within the
interval: the question GWCelery's check asks of its periodic MDC superevent.
Latency is from spooling to the first alert.  Times are Unix seconds.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..intake.gpstime import utc_to_gps
from ..intake.spool import Spool
from ..pipeline.simulate import simulate_events
from ..steps.simulate import PROGRAM, gevent_message
from .store_reader import open_store

__all__ = ["heartbeat_state", "send_heartbeat"]

RECORD = Path("metrics") / "heartbeat.jsonl"
_KEEP = 200                  # records kept in the file


def send_heartbeat(root: str | Path, now: float | None = None) -> dict[str, Any]:
    """Spool one simulated MDC G-event; returns its record (key, graceid, sent_at)."""
    root = Path(root)
    now = time.time() if now is None else now
    gps = utc_to_gps(datetime.fromtimestamp(now, UTC))
    (event,) = simulate_events(1, seed=int(now * 1000) % 2**32, start_gps=gps - 60.0,
                               spacing=10.0)
    graceid = f"G{int(now)}"          # unique per second: cron sends one per interval
    message = gevent_message(event, graceid, PROGRAM)
    message["object"]["search"] = "MDC"        # "data" is the same object
    result = Spool(str(root)).ingest(json.dumps(message).encode(), source="heartbeat",
                                     received_at=now)
    if result.status != "accepted":
        raise RuntimeError(f"heartbeat event {result.status}: {result.reason}")
    record = {"key": result.key, "graceid": graceid, "sent_at": now,
              "gps": event.geocent_time}
    path = root / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text().splitlines()[-(_KEEP - 1):] if path.exists() else []
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(f"{line}\n" for line in lines) + json.dumps(record) + "\n")
    os.replace(temporary, path)
    return record


def heartbeat_state(root: str | Path, now: float | None = None) -> dict[str, Any]:
    """What the heartbeats did: the newest sent, the newest that went end to
    end (its run done), its latency (s) and how many have not (yet) made it."""
    root = Path(root)
    now = time.time() if now is None else now
    path = root / RECORD
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.exists() else []
    state: dict[str, Any] = {"sent": len(records), "last_sent_at": None,
                             "last_through_at": None, "latency_s": None, "not_through": 0,
                             "failed": 0}
    if not records:
        return state
    state["last_sent_at"] = max(r["sent_at"] for r in records)
    runs: dict[str, str] = {}
    first_alert: dict[str, float] = {}
    db = open_store(root)
    if db is not None:
        try:
            keys = [r["key"] for r in records]
            runs = dict(db.execute(f"SELECT alert_key, state FROM runs WHERE alert_key IN "
                                   f"({','.join('?' * len(keys))})", keys))
            graceids = [r["graceid"] for r in records]
            first_alert = dict(db.execute(
                "SELECT e.graceid, MIN(a.time_created) FROM events e JOIN sent_alerts a "
                "ON a.superevent_id = e.superevent_id WHERE e.graceid IN "
                f"({','.join('?' * len(graceids))}) GROUP BY e.graceid", graceids))
        finally:
            db.close()
    for record in sorted(records, key=lambda r: r["sent_at"]):
        alerted = first_alert.get(record["graceid"])
        if alerted is not None:
            # through: its superevent's first alert was issued
            state["last_through_at"] = record["sent_at"]
            state["latency_s"] = round(alerted - record["sent_at"], 3)
        elif runs.get(record["key"]) in ("failed", "skipped"):
            state["failed"] += 1
        else:
            state["not_through"] += 1
    return state
