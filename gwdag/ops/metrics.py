"""``gwdag metrics``: the root's figures for Prometheus and InfluxDB.

The same figures in both formats: spool entries by state, spool entries by
alert kind, DAG runs by state, superevents, alerts issued (by type), and the
median wall time of each step over the most recent runs.  Prometheus text is
built with ``prometheus_client`` (``--textfile`` writes it atomically for
node_exporter's textfile collector); Influx line protocol carries one timestamp
snapped down to the reporting interval, so a re-run within the interval
overwrites rather than duplicates.  Read-only, like ``gwdag status``.
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
        if directory.is_dir():
            with os.scandir(directory) as entries:
                for entry in entries:
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
    path = root / "state" / "gwdag.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
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
    finally:
        db.close()
    return dags


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


def collect_samples(root: str | Path) -> list[Sample]:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    samples = Samples()
    _spool(root, samples)
    _steps(_store(root, samples), samples)
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
