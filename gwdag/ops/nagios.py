"""``gwdag nagios``: a Monitoring-Plugins compliant check of one data root.

First line ``GWDAG <OK|WARNING|CRITICAL|UNKNOWN>: <text> | <perfdata>``, one line
per check after it, exit code 0/1/2/3.  Thresholds use the plugins' range
syntax (``10``, ``10:``, ``~:10``, ``10:20``, ``@10:20``): a value outside the
range (inside it, with ``@``) raises the state.  Everything is read from the
root's own files — heartbeats, spool directories, the state store — never from a
copy.  Times in seconds, space in percent.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .store_reader import open_store

__all__ = ["CheckResult", "NagiosReport", "Range", "STATES", "run_checks"]

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")

DEFAULT_THRESHOLDS: dict[str, tuple[str, str]] = {
    # name: (warning, critical)
    "listener_age": ("10", "30"),
    "source_contact_age": ("300", "900"),
    "backlog": ("100", "1000"),
    "backlog_age": ("60", "300"),
    "failed": ("0", "10"),
    "rejected": ("10", "100"),
    "runs_failed": ("0", "5"),
    "runs_stale": ("0", "0"),
    "runs_held": ("0", "3"),
    "disk_free": ("10:", "5:"),
    "anomalies": ("0", "~:"),
    "heartbeat_age": ("", ""),     # from [heartbeat] interval and grace when enabled
}
STALE_RUN_SECONDS = 1800.0


class RangeError(ValueError):
    """A threshold that is not in the plugins' range syntax."""


@dataclass(frozen=True)
class Range:
    """A Monitoring-Plugins threshold range."""

    low: float
    high: float
    inside: bool = False          # '@': alert when inside rather than outside
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Range:
        raw = text.strip()
        inside = raw.startswith("@")
        body = raw[1:] if inside else raw
        try:
            if ":" in body:
                start, end = body.split(":", 1)
                low = -math.inf if start == "~" else float(start or 0)
                high = math.inf if end == "" else float(end)
            else:
                low, high = 0.0, float(body)
        except ValueError:
            raise RangeError(f"threshold {text!r} is not a range (10, 10:, ~:10, 10:20, "
                             "@10:20)") from None
        if low > high:
            raise RangeError(f"threshold {text!r}: start is above end")
        return cls(low, high, inside, raw)

    def alerts(self, value: float) -> bool:
        within = self.low <= value <= self.high
        return within if self.inside else not within


@dataclass
class CheckResult:
    """One figure: its state against its thresholds and its perfdata."""

    name: str
    value: float | None
    unit: str
    summary: str
    warning: Range | None = None
    critical: Range | None = None
    forced: int | None = None     # a state decided without thresholds

    @property
    def state(self) -> int:
        if self.forced is not None:
            return self.forced
        if self.value is None:
            return 0
        if self.critical is not None and self.critical.alerts(self.value):
            return 2
        if self.warning is not None and self.warning.alerts(self.value):
            return 1
        return 0

    def perfdata(self) -> str:
        if self.value is None:
            return ""
        value = "U" if not math.isfinite(self.value) else f"{self.value:g}"
        return (f"{self.name}={value}{self.unit};"
                f"{self.warning.text if self.warning else ''};"
                f"{self.critical.text if self.critical else ''};;")


@dataclass
class NagiosReport:
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def state(self) -> int:
        return max((c.state for c in self.checks), default=3)

    def lines(self) -> list[str]:
        bad = [c for c in self.checks if c.state > 0]
        text = "; ".join(c.summary for c in sorted(bad, key=lambda c: -c.state)) or \
            f"{len(self.checks)} checks ok"
        perf = " ".join(p for p in (c.perfdata() for c in self.checks) if p)
        first = f"GWDAG {STATES[self.state]}: {text}" + (f" | {perf}" if perf else "")
        return [first] + [f"{STATES[c.state]}: {c.summary}" for c in self.checks]


def _ranges(name: str, overrides: dict[str, tuple[str | None, str | None]]
            ) -> tuple[Range, Range]:
    warning, critical = DEFAULT_THRESHOLDS[name]
    given = overrides.get(name, (None, None))
    return Range.parse(given[0] or warning), Range.parse(given[1] or critical)


def _heartbeat_checks(root: Path, now: float, overrides) -> list[CheckResult]:
    from ..intake.heartbeat import read_heartbeats

    beats = [b for b in read_heartbeats(str(root)) if b.get("status") != "stopped"]
    warning, critical = _ranges("listener_age", overrides)
    if not beats:
        return [CheckResult("listener_age", None, "s", "no running listener heartbeat "
                            f"under {root / 'spool' / 'heartbeat'}", forced=2)]
    newest = max(float(b.get("written_at") or 0) for b in beats)
    results = [CheckResult("listener_age", now - newest, "s",
                           f"listener heartbeat {now - newest:.0f} s old", warning, critical)]
    warning, critical = _ranges("source_contact_age", overrides)
    for beat in beats:
        contact = beat.get("last_contact_at") or beat.get("started_at") or newest
        age = now - float(contact)
        label = "".join(ch if ch.isalnum() else "_" for ch in str(beat.get("source")))[:60]
        results.append(CheckResult(f"contact_{label}", age, "s",
                                   f"{beat.get('source')}: last contact {age:.0f} s ago",
                                   warning, critical))
    return results


def _spool_checks(root: Path, overrides) -> list[CheckResult]:
    from ..intake.spool import Spool

    stats = Spool(str(root), create=False).stats()
    counts = stats["counts"]
    backlog_age = stats["oldest_incoming_age"] or 0.0
    results = []
    for name, value, unit, summary in (
            ("backlog", counts.get("incoming", 0) + counts.get("claimed", 0), "",
             f"{counts.get('incoming', 0)} alerts waiting"),
            ("backlog_age", backlog_age, "s", f"oldest waiting alert {backlog_age:.0f} s"),
            ("failed", counts.get("failed", 0), "", f"{counts.get('failed', 0)} failed alerts"),
            ("rejected", counts.get("rejected", 0), "",
             f"{counts.get('rejected', 0)} rejected inputs")):
        warning, critical = _ranges(name, overrides)
        results.append(CheckResult(name, float(value), unit, summary, warning, critical))
    return results


def _run_checks(root: Path, now: float, overrides) -> list[CheckResult]:
    db = open_store(root)
    if db is None:
        return []
    try:
        failed = db.execute("SELECT COUNT(*) FROM runs WHERE state='failed'").fetchone()[0]
        stale = db.execute("SELECT COUNT(*) FROM runs WHERE state='running' AND "
                           "created_at < ?", (now - STALE_RUN_SECONDS,)).fetchone()[0]
    finally:
        db.close()
    from .watch import collect_runs

    held = [(row.run_id, node, reason) for row in collect_runs(root)
            for node, reason in row.held_nodes]
    held_text = f"{len(held)} held DAG nodes" + (
        f" ({held[0][0]} {held[0][1]}: {held[0][2] or 'no reason'})" if held else "")
    results = []
    for name, value, summary in (
            ("runs_failed", failed, f"{failed} failed DAG runs"),
            ("runs_stale", stale, f"{stale} DAG runs running for over "
                                  f"{STALE_RUN_SECONDS / 60:.0f} min"),
            ("runs_held", len(held), held_text)):
        warning, critical = _ranges(name, overrides)
        results.append(CheckResult(name, float(value), "", summary, warning, critical))
    return results


def _disk_check(root: Path, overrides) -> CheckResult:
    usage = shutil.disk_usage(root)
    free = 100.0 * usage.free / usage.total
    warning, critical = _ranges("disk_free", overrides)
    return CheckResult("disk_free", round(free, 2), "%", f"{free:.1f}% disk free under {root}",
                       warning, critical)


def _redis_checks(sources: list[str]) -> list[CheckResult]:
    results = []
    for url in sources:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            continue
        import redis

        from ..intake.sources.redis_stream import parse_stream_url

        connection, _ = parse_stream_url(url)
        started = time.perf_counter()
        try:
            redis.Redis.from_url(connection, socket_timeout=3,
                                 socket_connect_timeout=3).ping()
        except (redis.RedisError, OSError) as exc:
            results.append(CheckResult("redis_ping", None, "s",
                                       f"Redis {connection} does not answer ({exc})",
                                       forced=2))
            continue
        results.append(CheckResult("redis_ping", time.perf_counter() - started, "s",
                                   f"Redis {connection} answers"))
    return results


def _anomaly_check(root: Path, overrides, factor: float, floor: float) -> CheckResult:
    from .rates import compute_rates

    flagged = [(r, window) for r in compute_rates(root, factor=factor, floor=floor)
               for window, bad in r.anomalies.items() if bad]
    summary = f"{len(flagged)} rate anomalies"
    if flagged:
        rates, window = flagged[0]
        unit = "/h" if rates.kind == "terminal" else ""
        summary += (f" ({rates.series} {rates.current:.1f}{unit} vs {window} average "
                    f"{rates.averages[window]:.1f}{unit})")
    warning, critical = _ranges("anomalies", overrides)
    return CheckResult("anomalies", float(len(flagged)), "", summary, warning, critical)


def _heartbeat_alert_check(root: Path, now: float, overrides, interval: float,
                           grace: float) -> list[CheckResult]:
    from .e2e_heartbeat import heartbeat_state

    state = heartbeat_state(root, now)
    limit = interval + grace
    given = overrides.get("heartbeat_age", (None, None))
    warning = Range.parse(given[0]) if given[0] else None
    critical = Range.parse(given[1] or f"{limit:g}")
    if state["last_sent_at"] is None:
        return [CheckResult("heartbeat_age", None, "s", "no heartbeat event ever sent: is "
                            "`gwdag heartbeat` in the crontab?", forced=2)]
    if state["last_through_at"] is None:
        return [CheckResult("heartbeat_age", None, "s",
                            f"none of {state['sent']} heartbeat events made it through "
                            f"({state['failed']} failed)", forced=2)]
    age = now - state["last_through_at"]
    return [CheckResult("heartbeat_age", age, "s",
                        f"last heartbeat event through {age:.0f} s ago (limit {limit:g} s)",
                        warning, critical),
            CheckResult("heartbeat_latency", state["latency_s"], "s",
                        f"heartbeat spool-to-first-alert {state['latency_s']:.1f} s")]


def run_checks(root: str | Path, *, overrides: dict[str, tuple[str | None, str | None]]
               | None = None, sources: list[str] | None = None,
               now: float | None = None, anomaly_factor: float = 3.0,
               anomaly_floor: float = 1.0,
               heartbeat: tuple[float, float] | None = None) -> NagiosReport:
    """Every check of ``root``; ``overrides`` maps a check name to its
    (warning, critical) ranges, ``sources`` are the configured intake URLs,
    ``heartbeat`` is (interval, grace) in seconds when the end-to-end heartbeat
    is enabled."""
    root = Path(root)
    overrides = overrides or {}
    for name in overrides:
        if name not in DEFAULT_THRESHOLDS:
            raise RangeError(f"no check called {name!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    now = time.time() if now is None else now
    report = NagiosReport()
    report.checks += _heartbeat_checks(root, now, overrides)
    report.checks += _spool_checks(root, overrides)
    report.checks += _run_checks(root, now, overrides)
    report.checks.append(_disk_check(root, overrides))
    report.checks.append(_anomaly_check(root, overrides, anomaly_factor, anomaly_floor))
    if heartbeat is not None:
        report.checks += _heartbeat_alert_check(root, now, overrides, *heartbeat)
    report.checks += _redis_checks(sources or [])
    return report

