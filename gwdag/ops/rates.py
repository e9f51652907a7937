"""QMonit-style rates: moving averages over 1 h … 30 d and anomaly flags.

Time is cut into 10-minute buckets (QMonit's collection interval).  Two kinds of
series:

- terminal (runs done / failed / skipped, alerts planned): events are **summed**
  per bucket, from the timestamps in the state store, so no history has to be
  kept; a window's average is its events per hour.
- live (spool incoming / claimed, runs running): levels are **averaged** per
  bucket, from the samples ``gwdag metrics`` records under
  ``<root>/metrics/samples.sqlite`` at each run (kept 31 days).

The current bucket is partial and never enters an average: "current" is the last
complete bucket.  A (series, window) pair is anomalous when the current value and
the window's average differ by more than ``factor`` either way, with ``floor``
added to both so quiet series do not flap:
``|ln((current + floor) / (average + floor))| > ln(factor)``.  Rates are per hour;
live values are counts.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store_reader import open_store

__all__ = ["BUCKET_S", "WINDOWS", "SeriesRates", "compute_rates", "record_live"]

BUCKET_S = 600
WINDOWS: dict[str, int] = {"1h": 3600, "6h": 6 * 3600, "12h": 12 * 3600,
                           "24h": 24 * 3600, "7d": 7 * 86400, "30d": 30 * 86400}
KEEP_SAMPLES_S = 31 * 86400
MIN_BUCKETS = 3          # a window average needs this many complete buckets
TERMINAL_RUN_STATES = ("done", "failed", "skipped")
LIVE_SERIES = ("spool_incoming", "spool_claimed", "runs_running")


@dataclass
class SeriesRates:
    """One series: its kind, current value and the average of each window
    (per hour for terminal series, a count for live ones)."""

    series: str
    kind: str                                   # "terminal" or "live"
    current: float | None
    averages: dict[str, float | None] = field(default_factory=dict)
    anomalies: dict[str, bool] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {"series": self.series, "kind": self.kind, "current": self.current,
                "averages": self.averages, "anomalies": self.anomalies}


def _terminal_buckets(root: Path, since: float) -> tuple[dict[str, dict[int, float]],
                                                          float | None]:
    """Events per bucket of each terminal series, and when the record starts."""
    series: dict[str, dict[int, float]] = {f"runs_{s}": {} for s in TERMINAL_RUN_STATES}
    series["alerts_planned"] = {}
    db = open_store(root)
    if db is None:
        return series, None
    try:
        for state, bucket, count in db.execute(
                "SELECT state, CAST(finished_at / ? AS INTEGER), COUNT(*) FROM runs "
                "WHERE finished_at >= ? GROUP BY 1, 2", (BUCKET_S, since)):
            if state in TERMINAL_RUN_STATES:
                series[f"runs_{state}"][bucket] = float(count)
        for bucket, count in db.execute(
                "SELECT CAST(created_at / ? AS INTEGER), COUNT(*) FROM runs "
                "WHERE created_at >= ? GROUP BY 1", (BUCKET_S, since)):
            series["alerts_planned"][bucket] = float(count)
        first = db.execute("SELECT MIN(created_at) FROM runs").fetchone()[0]
    finally:
        db.close()
    return series, first


def _samples_db(root: Path, create: bool) -> sqlite3.Connection | None:
    path = root / "metrics" / "samples.sqlite"
    if not create and not path.exists():
        return None
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS samples (t REAL, series TEXT, value REAL)")
        db.execute("CREATE INDEX IF NOT EXISTS samples_t ON samples (t)")
        return db
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


def record_live(root: str | Path, values: dict[str, float], now: float | None = None) -> None:
    """Append one sample of each live series (counts) at ``now`` (Unix s) and
    drop samples older than 31 days."""
    now = time.time() if now is None else now
    db = _samples_db(Path(root), create=True)
    assert db is not None
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO samples VALUES (?,?,?)",
                       [(now, name, float(value)) for name, value in values.items()])
        db.execute("DELETE FROM samples WHERE t < ?", (now - KEEP_SAMPLES_S,))
        db.execute("COMMIT")
    finally:
        db.close()


def _live_buckets(root: Path, since: float) -> dict[str, dict[int, float]]:
    series: dict[str, dict[int, float]] = {name: {} for name in LIVE_SERIES}
    db = _samples_db(root, create=False)
    if db is None:
        return series
    try:
        for name, bucket, mean in db.execute(
                "SELECT series, CAST(t / ? AS INTEGER), AVG(value) FROM samples "
                "WHERE t >= ? GROUP BY 1, 2", (BUCKET_S, since)):
            series.setdefault(name, {})[bucket] = float(mean)
    except sqlite3.OperationalError:       # an empty file being created right now
        pass
    finally:
        db.close()
    return series


def _terminal_rates(name: str, buckets: dict[int, float], first: float | None,
                    last_complete: int) -> SeriesRates:
    per_hour = 3600.0 / BUCKET_S
    rates = SeriesRates(name, "terminal", None)
    if first is None:
        return rates
    first_bucket = int(first // BUCKET_S)
    if last_complete >= first_bucket:
        rates.current = buckets.get(last_complete, 0.0) * per_hour
    for window, seconds in WINDOWS.items():
        start = max(last_complete - seconds // BUCKET_S + 1, first_bucket)
        count = last_complete - start + 1
        if count < MIN_BUCKETS:
            rates.averages[window] = None
            continue
        total = sum(v for b, v in buckets.items() if start <= b <= last_complete)
        rates.averages[window] = total / count * per_hour
    return rates


def _live_rates(name: str, buckets: dict[int, float], last_complete: int) -> SeriesRates:
    rates = SeriesRates(name, "live", buckets.get(last_complete))
    for window, seconds in WINDOWS.items():
        start = last_complete - seconds // BUCKET_S + 1
        values = [v for b, v in buckets.items() if start <= b <= last_complete]
        rates.averages[window] = sum(values) / len(values) if len(values) >= MIN_BUCKETS \
            else None
    return rates


def compute_rates(root: str | Path, *, factor: float = 3.0, floor: float = 1.0,
                  now: float | None = None) -> list[SeriesRates]:
    """Every series' current value, window averages and anomaly flags."""
    if factor <= 1.0:
        raise ValueError(f"anomaly factor {factor:g} must be above 1")
    root = Path(root)
    now = time.time() if now is None else now
    last_complete = int(now // BUCKET_S) - 1
    since = (last_complete + 1) * BUCKET_S - max(WINDOWS.values())
    terminal, first = _terminal_buckets(root, since)
    results = [_terminal_rates(name, buckets, first, last_complete)
               for name, buckets in terminal.items()]
    results += [_live_rates(name, buckets, last_complete)
                for name, buckets in _live_buckets(root, since).items()]
    limit = math.log(factor)
    for rates in results:
        for window, average in rates.averages.items():
            rates.anomalies[window] = (
                average is not None and rates.current is not None
                and abs(math.log((rates.current + floor) / (average + floor))) > limit)
    return results
