"""Per-source liveness: counters, last message and last contact times, latency.

The listener writes one JSON file per source under ``<root>/spool/heartbeat/``
every second; ``gwdag nagios`` and ``gwdag status`` read them, so liveness comes
from something durable rather than a broadcast that may be lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import deque
from typing import Any

from .alert import safe_component

__all__ = ["Heartbeat", "heartbeat_dir", "read_heartbeats"]


def heartbeat_dir(root: str) -> str:
    return os.path.join(os.path.abspath(root), "spool", "heartbeat")


class Heartbeat:
    """What one source has done; every time is Unix seconds, latency in ms."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.status = "starting"
        self.started_at = time.time()
        self.last_message_at: float | None = None
        self.last_contact_at: float | None = None
        self.counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.errors = 0
        self.last_error: str | None = None
        self._latencies: deque[float] = deque(maxlen=100_000)
        self._lock = threading.Lock()

    def contact(self, status: str | None = None) -> None:
        self.last_contact_at = time.time()
        if status:
            self.status = status

    def error(self, message: str) -> None:
        self.errors += 1
        self.last_error = message[:300]
        self.status = "error"

    def record(self, statuses: list[str], latencies_s: list[float]) -> None:
        """Messages just made durable, with their receive-to-fsync times (seconds)."""
        now = time.time()
        with self._lock:
            for status in statuses:
                self.counts[status] = self.counts.get(status, 0) + 1
            self._latencies.extend(latency * 1000.0 for latency in latencies_s)
        self.last_message_at = self.last_contact_at = now

    def document(self) -> dict[str, Any]:
        with self._lock:
            ordered = sorted(self._latencies)
        def pct(q: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3) \
                if ordered else None
        return {"schema_version": 1, "source": self.source, "status": self.status,
                "pid": os.getpid(), "started_at": self.started_at, "written_at": time.time(),
                "last_message_at": self.last_message_at,
                "last_contact_at": self.last_contact_at, "counts": dict(self.counts),
                "errors": self.errors, "last_error": self.last_error,
                "latency_ms": {"count": len(ordered), "p50": pct(0.5), "p99": pct(0.99),
                               "max": ordered[-1] if ordered else None}}

    def write(self, root: str) -> None:
        directory = heartbeat_dir(root)
        os.makedirs(directory, exist_ok=True)
        # readable prefix + hash: long URLs that share a prefix stay distinct
        digest = hashlib.sha256(self.source.encode()).hexdigest()[:8]
        path = os.path.join(directory, f"{safe_component(self.source)[:48]}-{digest}.json")
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.document(), handle)
        os.replace(tmp, path)


def read_heartbeats(root: str) -> list[dict[str, Any]]:
    """Every heartbeat file under ``root`` (sources that ever ran), newest first."""
    directory = heartbeat_dir(root)
    beats = []
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(directory, name), encoding="utf-8") as handle:
                        beats.append(json.load(handle))
                except (OSError, ValueError):
                    continue
    return sorted(beats, key=lambda b: b.get("written_at") or 0, reverse=True)
