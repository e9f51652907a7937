"""The state store: SQLite in WAL mode under ``<root>/state/gwdag.sqlite``.

Tables for G-events, superevents, external events, runs and sent alerts, with a
versioned schema.  Every state change a DAG step makes happens inside one
:meth:`StateStore.transaction` (``BEGIN IMMEDIATE``), so concurrent steps are
serialised by SQLite and a crash leaves either the whole change or none of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ..pipeline.external import ExternalTrigger
from ..pipeline.superevents import GEvent, Superevent

__all__ = ["SCHEMA_VERSION", "StateStore", "StoreError"]

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    graceid TEXT PRIMARY KEY, pipeline TEXT, grp TEXT, search TEXT, gpstime REAL,
    far REAL, instruments TEXT, snr REAL, duration REAL, offline INTEGER,
    labels TEXT, complete INTEGER, superevent_id TEXT, skymap TEXT, updated_at REAL);
CREATE INDEX IF NOT EXISTS events_time ON events (gpstime);
CREATE TABLE IF NOT EXISTS superevents (
    superevent_id TEXT PRIMARY KEY, category TEXT, t_start REAL, t_0 REAL, t_end REAL,
    preferred_event TEXT, gw_events TEXT, far REAL, labels TEXT, em_events TEXT,
    created_at REAL, updated_at REAL);
CREATE INDEX IF NOT EXISTS superevents_time ON superevents (t_0);
CREATE TABLE IF NOT EXISTS external_events (
    event_id TEXT PRIMARY KEY, pipeline TEXT, trigger_id TEXT, search TEXT, grp TEXT,
    trigger_gps REAL, ra REAL, dec REAL, error_radius REAL, far REAL, labels TEXT,
    notice TEXT, superevent_id TEXT, temporal_coinc_far REAL,
    spatiotemporal_coinc_far REAL, updated_at REAL, skymap TEXT,
    UNIQUE (pipeline, trigger_id));
CREATE INDEX IF NOT EXISTS external_time ON external_events (trigger_gps);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, alert_key TEXT UNIQUE, kind TEXT, state TEXT, dag TEXT,
    reason TEXT, created_at REAL, finished_at REAL, role TEXT, received_at REAL);
CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at);
CREATE TABLE IF NOT EXISTS sent_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, superevent_id TEXT, alert_type TEXT,
    significant INTEGER, sequence INTEGER, path TEXT, time_created REAL,
    UNIQUE (superevent_id, alert_type, sequence));
"""

# Schema changes, each from the version before it (a store is upgraded in place
# when a newer gwdag opens it for writing).
_MIGRATIONS = {
    2: ("ALTER TABLE runs ADD COLUMN role TEXT",          # observation / test / utility
        "ALTER TABLE runs ADD COLUMN received_at REAL",   # Unix s, the listener's receipt
        "CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at)"),
}


class StoreError(RuntimeError):
    """The state store cannot be used (wrong schema version, unreadable)."""


def _json(value: Any) -> str:
    return json.dumps(sorted(value) if isinstance(value, set | frozenset) else value)


class StateStore:
    """The state of the GW pipeline under one data root."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.path = Path(root) / "state" / "gwdag.sqlite"
        if not create and not self.path.exists():
            raise StoreError(f"no state store at {self.path} (nothing planned yet)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self.transaction():
            row = self._db.execute("SELECT name FROM sqlite_master WHERE type='table' AND "
                                   "name='meta'").fetchone()
            found = None if row is None else self._db.execute(
                "SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if found is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))
            elif int(found["value"]) > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: schema version {found['value']} is newer "
                                 f"than this gwdag's ({SCHEMA_VERSION}): upgrade gwdag")
            else:
                for version in range(int(found["value"]) + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[version]:
                        self._db.execute(statement)
                    self._db.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                                     (str(version),))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One serialised read-modify-write: ``BEGIN IMMEDIATE`` ... ``COMMIT``."""
        if self._db.in_transaction:
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- G-events -------------------------------------------------------------------

    def put_event(self, event: GEvent, superevent_id: str | None,
                  skymap: str | None = None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (event.graceid, event.pipeline, event.group, event.search, event.gpstime,
             event.far, ",".join(event.instruments), event.snr, event.duration,
             int(event.offline), _json(event.labels), int(event.complete), superevent_id,
             skymap, time.time()))

    def event(self, graceid: str) -> GEvent | None:
        row = self._db.execute("SELECT * FROM events WHERE graceid=?", (graceid,)).fetchone()
        return None if row is None else self._event(row)

    @staticmethod
    def _event(row: sqlite3.Row) -> GEvent:
        return GEvent(row["graceid"], row["pipeline"], row["grp"], row["search"],
                      row["gpstime"], row["far"],
                      tuple(i for i in (row["instruments"] or "").split(",") if i),
                      row["snr"], row["duration"], bool(row["offline"]),
                      frozenset(json.loads(row["labels"] or "[]")), bool(row["complete"]))

    def event_row(self, graceid: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM events WHERE graceid=?", (graceid,)).fetchone()
        return None if row is None else dict(row)

    def events(self, graceids: list[str] | tuple[str, ...]) -> dict[str, GEvent]:
        result = {}
        for graceid in graceids:
            event = self.event(graceid)
            if event is not None:
                result[graceid] = event
        return result

    # --- superevents ------------------------------------------------------------------

    def put_superevent(self, superevent: Superevent) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO superevents VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(superevent_id) DO UPDATE SET category=excluded.category, "
            "t_start=excluded.t_start, t_0=excluded.t_0, t_end=excluded.t_end, "
            "preferred_event=excluded.preferred_event, gw_events=excluded.gw_events, "
            "far=excluded.far, labels=excluded.labels, em_events=excluded.em_events, "
            "updated_at=excluded.updated_at",
            (superevent.superevent_id, superevent.category, superevent.t_start,
             superevent.t_0, superevent.t_end, superevent.preferred_event,
             _json(list(superevent.gw_events)), superevent.far, _json(superevent.labels),
             _json(list(superevent.em_events)), now, now))

    @staticmethod
    def _superevent(row: sqlite3.Row) -> Superevent:
        return Superevent(row["superevent_id"], row["category"], row["t_start"], row["t_0"],
                          row["t_end"], row["preferred_event"],
                          tuple(json.loads(row["gw_events"])), row["far"],
                          frozenset(json.loads(row["labels"] or "[]")),
                          tuple(json.loads(row["em_events"] or "[]")))

    def superevent(self, superevent_id: str) -> Superevent | None:
        row = self._db.execute("SELECT * FROM superevents WHERE superevent_id=?",
                               (superevent_id,)).fetchone()
        return None if row is None else self._superevent(row)

    def superevents_between(self, start: float, end: float) -> list[Superevent]:
        """Superevents whose window touches [start, end] (GPS s)."""
        rows = self._db.execute("SELECT * FROM superevents WHERE t_end >= ? AND t_start <= ? "
                                "ORDER BY t_start", (start, end))
        return [self._superevent(r) for r in rows]

    def superevents(self, limit: int | None = None) -> list[Superevent]:
        query = "SELECT * FROM superevents ORDER BY t_0 DESC"
        rows = self._db.execute(query + (f" LIMIT {int(limit)}" if limit else ""))
        return [self._superevent(r) for r in rows]

    def superevent_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT superevent_id FROM superevents")}

    # --- external events --------------------------------------------------------------

    def external(self, pipeline: str, trigger_id: str) -> tuple[str, ExternalTrigger,
                                                                dict[str, Any]] | None:
        row = self._db.execute("SELECT * FROM external_events WHERE pipeline=? AND "
                               "trigger_id=?", (pipeline, trigger_id)).fetchone()
        return None if row is None else (row["event_id"], self._external(row), dict(row))

    @staticmethod
    def _external(row: sqlite3.Row) -> ExternalTrigger:
        names = [f.name for f in fields(ExternalTrigger)]
        values = {name: row["grp" if name == "group" else name] for name in names}
        values["labels"] = frozenset(json.loads(values["labels"] or "[]"))
        return ExternalTrigger(**values)

    def put_external(self, event_id: str, trigger: ExternalTrigger, **coinc: Any) -> None:
        data = asdict(trigger)
        data["labels"] = _json(trigger.labels)
        existing = self._db.execute("SELECT superevent_id, temporal_coinc_far, "
                                    "spatiotemporal_coinc_far, skymap FROM external_events "
                                    "WHERE event_id=?", (event_id,)).fetchone()
        kept = dict(existing) if existing else {}
        kept.update(coinc)
        self._db.execute(
            "INSERT OR REPLACE INTO external_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (event_id, data["pipeline"], data["trigger_id"], data["search"], data["group"],
             data["trigger_gps"], data["ra"], data["dec"], data["error_radius"], data["far"],
             data["labels"], data["notice"], kept.get("superevent_id"),
             kept.get("temporal_coinc_far"), kept.get("spatiotemporal_coinc_far"),
             time.time(), kept.get("skymap")))

    def next_external_id(self) -> str:
        count = self._db.execute("SELECT COUNT(*) FROM external_events").fetchone()[0]
        return f"E{count + 1}"

    def externals_between(self, start: float, end: float) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM external_events WHERE trigger_gps BETWEEN ? "
                                "AND ? ORDER BY trigger_gps", (start, end))
        return [dict(r) for r in rows]

    def external_rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM external_events ORDER BY trigger_gps DESC"
        rows = self._db.execute(query + (f" LIMIT {int(limit)}" if limit else ""))
        return [dict(r) for r in rows]

    # --- alerts -----------------------------------------------------------------------

    def sent_alerts(self, superevent_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM sent_alerts WHERE superevent_id=? ORDER BY id",
                                (superevent_id,))
        return [dict(r) for r in rows]

    def record_alert(self, superevent_id: str, alert_type: str, significant: bool,
                     sequence: int, path: str, time_created: float) -> bool:
        """Record a sent alert; False when that (superevent, type, sequence) was
        already sent (idempotent re-runs)."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO sent_alerts (superevent_id, alert_type, significant, "
            "sequence, path, time_created) VALUES (?,?,?,?,?,?)",
            (superevent_id, alert_type, int(significant), sequence, path, time_created))
        return cursor.rowcount == 1

    # --- runs -------------------------------------------------------------------------

    def run_for_alert(self, alert_key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM runs WHERE alert_key=?", (alert_key,)).fetchone()
        return None if row is None else dict(row)

    def put_run(self, run_id: str, alert_key: str, kind: str, state: str, dag: str | None,
                reason: str = "", finished: bool = False, *, role: str | None = None,
                received_at: float | None = None) -> None:
        """Record a run's state; ``role`` and ``received_at`` (Unix s) are kept
        from an earlier record when not given."""
        existing = self._db.execute("SELECT created_at, role, received_at FROM runs "
                                    "WHERE run_id=?", (run_id,)).fetchone()
        now = time.time()
        self._db.execute(
            "INSERT OR REPLACE INTO runs (run_id, alert_key, kind, state, dag, reason, "
            "created_at, finished_at, role, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (run_id, alert_key, kind, state, dag, reason,
             existing["created_at"] if existing else now, now if finished else None,
             role if role is not None else (existing["role"] if existing else None),
             received_at if received_at is not None
             else (existing["received_at"] if existing else None)))

    def run_counts(self) -> dict[str, int]:
        """Runs by state."""
        return dict(self._db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state"))

    def runs(self, limit: int | None = None, state: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs" + (" WHERE state=?" if state else "") + \
            " ORDER BY created_at DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [dict(r) for r in self._db.execute(query, (state,) if state else ())]
