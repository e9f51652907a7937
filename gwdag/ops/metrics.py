"""``gwdag metrics``: the root's figures for Prometheus and InfluxDB.

The same figures in both formats: spool entries by state, spool entries by
alert kind, alerts planned by kind and role, DAG runs by state, superevents,
alerts issued (by type), the median wall time of each step and the end-to-end
latency (listener receipt to the end of the alert's DAG) over the most recent
runs, and the QMonit-style moving averages and anomaly flags of
:mod:`gwdag.ops.rates`.  Prometheus text is
built with ``prometheus_client`` (``--textfile`` writes it atomically for
node_exporter's textfile collector); Influx line protocol carries one timestamp
snapped down to the reporting interval, so a re-run within the interval
overwrites rather than duplicates.  The one thing it writes is a sample of the
live counts under ``<root>/metrics/`` (what the live moving averages are made of).
"""

from __future__ import annotations

import os
import re
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..intake.spool import SHARDED, state_files
from .store_reader import open_store

__all__ = ["Sample", "collect_samples", "to_influx", "to_prometheus", "write_textfile"]

SPOOL_STATES = ("incoming", "claimed", "done", "failed", "rejected")
_TIMING = re.compile(r"gwdag step timing: (\w+) ([0-9.]+) s")
RECENT_RUNS = 100


@dataclass(frozen=True)
class Sample:
    """One figure: metric name, labels, value, help text."""

    name: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()
    help: str = ""
    unit_seconds: bool = False


@dataclass
class Samples:
    items: list[Sample] = field(default_factory=list)

    def add(self, name: str, value: float, help_text: str, **labels: str) -> None:
        self.items.append(Sample(name, float(value), tuple(sorted(labels.items())), help_text))


def _spool(root: Path, samples: Samples) -> None:
    kinds: dict[str, int] = {}
    for state in SPOOL_STATES:
        directory = root / "spool" / state
        suffix = ".raw" if state == "rejected" else ".alert"
        count = 0
        for entry in state_files(str(directory), state in SHARDED):
            if entry.name.endswith(suffix):
                count += 1
                if state != "rejected":     # the key starts with the kind
                    kind = entry.name.split("-", 1)[0]
                    kinds[kind] = kinds.get(kind, 0) + 1
        samples.add("gwdag_spool_entries", count, "Spool entries by state.", state=state)
    for kind, count in sorted(kinds.items()):
        samples.add("gwdag_alerts", count, "Alerts taken in (not rejected) by kind.",
                    kind=kind)


def _store(root: Path, samples: Samples) -> list[str]:
    db = open_store(root)
    if db is None:
        return []
    try:
        for state, count in db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state"):
            samples.add("gwdag_runs", count, "DAG runs by state.", state=state)
        samples.add("gwdag_superevents", db.execute("SELECT COUNT(*) FROM superevents")
                    .fetchone()[0], "Superevents in the state store.")
        for alert_type, count in db.execute("SELECT alert_type, COUNT(*) FROM sent_alerts "
                                            "GROUP BY alert_type"):
            samples.add("gwdag_alerts_sent", count, "Alerts issued by type.",
                        type=alert_type)
        dags = [row[0] for row in db.execute(
            "SELECT dag FROM runs WHERE dag IS NOT NULL ORDER BY created_at DESC LIMIT ?",
            (RECENT_RUNS,))]
        try:
            _origin(db, samples)
        except sqlite3.OperationalError:    # a schema-1 store: no role / receipt columns
            pass
    finally:
        db.close()
    return dags


def _origin(db: sqlite3.Connection, samples: Samples) -> None:
    for kind, role, count in db.execute("SELECT kind, COALESCE(role, 'unknown'), COUNT(*) "
                                        "FROM runs GROUP BY 1, 2"):
        samples.add("gwdag_alerts_planned", count, "Alerts planned by kind and role.",
                    kind=kind or "unknown", role=role)
    latencies = sorted(row[0] for row in db.execute(
        "SELECT finished_at - received_at FROM runs WHERE state='done' AND received_at "
        "IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
        (RECENT_RUNS,)))
    for quantile in (0.5, 0.9):
        if latencies:
            value = latencies[min(len(latencies) - 1, int(quantile * len(latencies)))]
            samples.add("gwdag_end_to_end_seconds", value,
                        "Listener receipt to the end of the alert's DAG, over the last "
                        f"{RECENT_RUNS} runs done.", quantile=f"{quantile:g}")


def _steps(dags: list[str], samples: Samples) -> None:
    times: dict[str, list[float]] = {}
    for dag in dags:
        folder = Path(dag).parent
        if not folder.is_dir():
            continue
        for err in folder.glob("*.err"):
            for match in _TIMING.finditer(err.read_text(errors="replace")[-4096:]):
                times.setdefault(match.group(1), []).append(float(match.group(2)))
    for step, values in sorted(times.items()):
        samples.add("gwdag_step_seconds", statistics.median(values),
                    f"Median wall time of a step's node over the last {RECENT_RUNS} runs.",
                    step=step)


def _rates(root: Path, samples: Samples, record: bool, factor: float, floor: float) -> None:
    from .rates import compute_rates, record_live

    if record:
        counts = {s.labels: s.value for s in samples.items
                  if s.name in ("gwdag_spool_entries", "gwdag_runs")}
        record_live(root, {"spool_incoming": counts.get((("state", "incoming"),), 0.0),
                           "spool_claimed": counts.get((("state", "claimed"),), 0.0),
                           "runs_running": sum(v for k, v in counts.items()
                                               if k in ((("state", "running"),),
                                                        (("state", "planning"),)))})
    for rates in compute_rates(root, factor=factor, floor=floor):
        unit = "per hour" if rates.kind == "terminal" else "count"
        if rates.current is not None:
            samples.add("gwdag_rate_current", rates.current,
                        "Last complete 10-minute bucket (terminal series: events per "
                        "hour; live series: mean count).", series=rates.series)
        for window, average in rates.averages.items():
            if average is not None:
                samples.add("gwdag_rate_average", average,
                            "Moving average over the window, complete buckets only "
                            f"({unit}).", series=rates.series, window=window)
            samples.add("gwdag_anomaly", float(rates.anomalies[window]),
                        f"1 when the current value is more than {factor:g}x off the "
                        "window's average.", series=rates.series, window=window)


def collect_samples(root: str | Path, *, record: bool = True, factor: float = 3.0,
                    floor: float = 1.0) -> list[Sample]:
    """Every figure of ``root``; with ``record`` a sample of the live counts is
    stored for the moving averages.  ``factor`` and ``floor`` (per hour) set
    the anomaly flags (see :mod:`gwdag.ops.rates`)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    samples = Samples()
    _spool(root, samples)
    _steps(_store(root, samples), samples)
    _rates(root, samples, record, factor, floor)
    return samples.items


def to_prometheus(samples: list[Sample]) -> str:
    """Prometheus text exposition format, through prometheus_client."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    gauges: dict[str, Gauge] = {}
    for sample in samples:
        names = [k for k, _ in sample.labels]
        gauge = gauges.get(sample.name)
        if gauge is None:
            gauge = gauges[sample.name] = Gauge(sample.name, sample.help or sample.name,
                                                names, registry=registry)
        (gauge.labels(**dict(sample.labels)) if names else gauge).set(sample.value)
    return generate_latest(registry).decode()


def _escape_tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def to_influx(samples: list[Sample], *, interval: float = 60.0,
              now: float | None = None) -> str:
    """InfluxDB line protocol, every line stamped with ``now`` snapped down to a
    multiple of ``interval`` seconds (nanosecond precision)."""
    now = time.time() if now is None else now
    stamp = int(now // interval * interval) * 1_000_000_000
    lines = []
    for sample in samples:
        tags = "".join(f",{k}={_escape_tag(v)}" for k, v in sample.labels)
        lines.append(f"{sample.name}{tags} value={sample.value:g} {stamp}")
    return "\n".join(lines) + "\n"


def write_textfile(path: str | Path, text: str) -> None:
    """Write atomically (a temporary file in the same directory, then rename),
    so node_exporter never reads half a file."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as output:
        output.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
