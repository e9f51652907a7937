"""``redis://HOST:PORT/DB?stream=NAME&group=GROUP``: a Redis stream read through a
consumer group.

Each entry's ``payload`` field is one message.  Entries are acknowledged
(``XACK``) only after the batch is fsync'd in the spool.  On start the consumer
first re-reads its own pending entries (delivered before a crash, never
acknowledged), then takes over entries other consumers left pending for longer
than ``claim_idle`` seconds (``XAUTOCLAIM``), and does so again every
``claim_idle`` seconds.  Query options: ``consumer`` (default
``gwdag-<hostname>``), ``batch`` (entries per read, 16), ``claim_idle`` (60).
An entry without a ``payload`` field is rejected into the spool, never dropped.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from ..heartbeat import Heartbeat
from ..sink import Sink

__all__ = ["RedisStreamSource", "parse_stream_url"]

log = logging.getLogger("gwdag.intake.redis")
_OPTIONS = ("stream", "group", "consumer", "batch", "claim_idle")


def parse_stream_url(url: str) -> tuple[str, dict[str, str]]:
    """``(connection URL for redis-py, our options)`` from a source URL."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    options = {k: query.pop(k) for k in _OPTIONS if k in query}
    if not options.get("stream"):
        raise ValueError(f"Redis source needs ?stream=NAME: {url!r}")
    # built by hand: urlunsplit drops the "//" of unix:///path/to/redis.sock
    connection = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if query:
        connection += "?" + urlencode(query)
    return connection, options


class RedisStreamSource:
    """A consumer-group reader of one Redis stream."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection_url, options = parse_stream_url(url)
        self.stream = options["stream"]
        self.group = options.get("group", "gwdag")
        self.consumer = options.get("consumer", f"gwdag-{socket.gethostname()}")
        try:
            self.batch = int(options.get("batch", 16))
            self.claim_idle = float(options.get("claim_idle", 60))
        except ValueError as exc:
            raise ValueError(f"Redis source option: {exc}") from None

    def run(self, sink: Sink, stop: threading.Event, beat: Heartbeat) -> None:
        import redis

        delay = 1.0
        while not stop.is_set():
            try:
                client = redis.Redis.from_url(self.connection_url, socket_timeout=10,
                                              socket_connect_timeout=5)
                self._ensure_group(client)
                beat.contact("connected")
                delay = 1.0
                self._consume(client, sink, stop, beat)
            except redis.RedisError as exc:
                beat.status = f"disconnected: {exc}"[:200]
                log.warning("%s: %s; reconnecting in %.0f s", self.url, exc, delay)
                if stop.wait(delay):
                    break
                delay = min(delay * 2, 60.0)
        beat.status = "stopped"

    def _ensure_group(self, client) -> None:
        import redis

        try:
            client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _handle(self, client, entries, sink: Sink) -> None:
        """Spool ``[(id, fields), ...]`` durably, then XACK them."""
        if not entries:
            return
        received = time.time()
        messages = []
        for entry_id, fields in entries:
            payload = (fields or {}).get(b"payload")
            if payload is None:
                # Keep the entry, as received, in rejected/ rather than drop it.
                shown = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
                         for k, v in (fields or {}).items()}
                payload = json.dumps({"redis_entry": entry_id.decode(), "fields": shown,
                                      "error": "no payload field"}).encode()
            messages.append((payload, received))
        sink.put(messages)
        client.xack(self.stream, self.group, *[entry_id for entry_id, _ in entries])

    def _reclaim(self, client, sink: Sink, stop: threading.Event) -> None:
        cursor = "0-0"
        while not stop.is_set():
            reply = client.xautoclaim(self.stream, self.group, self.consumer,
                                      min_idle_time=int(self.claim_idle * 1000),
                                      start_id=cursor, count=self.batch)
            cursor, entries = reply[0], reply[1]
            entries = [(i, f) for i, f in entries if f is not None]
            if entries:
                log.info("%s: reclaimed %d pending entries", self.url, len(entries))
            self._handle(client, entries, sink)
            if cursor in (b"0-0", "0-0"):
                break

    def _consume(self, client, sink: Sink, stop: threading.Event, beat: Heartbeat) -> None:
        # Our own entries delivered before a crash and never acknowledged.
        while not stop.is_set():
            reply = client.xreadgroup(self.group, self.consumer, {self.stream: "0"},
                                      count=self.batch)
            entries = reply[0][1] if reply else []
            if not entries:
                break
            self._handle(client, entries, sink)
        self._reclaim(client, sink, stop)
        last_claim = time.monotonic()
        while not stop.is_set():
            reply = client.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                      count=self.batch, block=500)
            beat.contact()
            for _stream, entries in reply or []:
                self._handle(client, entries, sink)
            if time.monotonic() - last_claim > self.claim_idle:
                self._reclaim(client, sink, stop)
                last_claim = time.monotonic()
