"""Where sources deliver: the spool, plus the source's heartbeat."""

from __future__ import annotations

import logging
import time

from .heartbeat import Heartbeat
from .spool import Spool, SpoolResult

__all__ = ["Sink"]

log = logging.getLogger("gwdag.intake")


class Sink:
    """Stores a batch durably and records it; thread-safe (the spool is)."""

    def __init__(self, spool: Spool, beat: Heartbeat) -> None:
        self.spool = spool
        self.beat = beat

    def put(self, messages: list[tuple[bytes, float]]) -> list[SpoolResult]:
        """Store ``(bytes, received_at)`` messages; when this returns they are on
        disk, so the caller may acknowledge them."""
        source = self.beat.source
        results = self.spool.ingest_many((raw, source, t) for raw, t in messages)
        done = time.time()
        # Receive-to-durable: the journal's flush (or the files' own fsyncs).
        pairs = zip(results, messages, strict=True)
        self.beat.record([r.status for r in results],
                         [(r.durable_at or done) - t for r, (_, t) in pairs])
        for result in results:
            if result.status == "rejected":
                log.warning("rejected message from %s: %s", source, result.reason,
                            extra={"alert_key": result.key})
            else:
                log.debug("%s %s", result.status, result.key, extra={"alert_key": result.key})
        return results
