"""``vtp://HOST:PORT``: a GCN classic VOEvent Transport Protocol client.

Connects, answers ``iamalive`` with ``iamalive``, and acknowledges every VOEvent
with an ``ack`` only after it is in the spool (also a rejected one: it is kept in
``rejected/``).  A silent server is dropped after 70 s without any message (GCN
sends ``iamalive`` every 60 s); reconnection backs off 1, 2, 4 ... up to 60 s.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from urllib.parse import urlsplit

from ..heartbeat import Heartbeat
from ..sink import Sink
from ..vtp import (
    FrameTooLarge,
    event_ivorn,
    recv_frame,
    send_frame,
    transport,
    transport_origin,
    transport_role,
)

__all__ = ["VtpSource"]

log = logging.getLogger("gwdag.intake.vtp")


class _Stopped(Exception):
    pass


class VtpSource:
    """A VTP client for one server."""

    def __init__(self, url: str, *, iamalive_timeout: float = 70.0,
                 max_backoff: float = 60.0) -> None:
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"VTP source needs vtp://HOST:PORT, not {url!r}")
        self.url = url
        self.address = (parts.hostname, parts.port)
        self.iamalive_timeout = iamalive_timeout
        self.max_backoff = max_backoff

    def run(self, sink: Sink, stop: threading.Event, beat: Heartbeat) -> None:
        delay = 1.0
        while not stop.is_set():
            try:
                with socket.create_connection(self.address, timeout=5) as sock:
                    beat.contact("connected")
                    log.info("connected to %s", self.url)
                    delay = 1.0
                    self._session(sock, sink, stop, beat)
            except _Stopped:
                break
            except (OSError, ConnectionError, FrameTooLarge) as exc:
                beat.status = f"disconnected: {exc}"[:200]
                log.warning("%s: %s; reconnecting in %.0f s", self.url, exc, delay)
            if stop.wait(delay):
                break
            delay = min(delay * 2, self.max_backoff)
        beat.status = "stopped"

    def _session(self, sock: socket.socket, sink: Sink, stop: threading.Event,
                 beat: Heartbeat) -> None:
        sock.settimeout(0.5)
        last_heard = time.monotonic()

        def idle() -> None:
            if stop.is_set():
                raise _Stopped
            if time.monotonic() - last_heard > self.iamalive_timeout:
                raise ConnectionError(f"nothing heard for {self.iamalive_timeout:.0f} s")

        while True:
            payload = recv_frame(sock, sink.spool.limits.max_bytes, idle)
            received = time.time()
            last_heard = time.monotonic()
            beat.contact()
            role = transport_role(payload)
            if role == "iamalive":
                send_frame(sock, transport("iamalive", transport_origin(payload) or
                                           "ivo://unknown"))
                continue
            if role is not None:
                log.info("%s: ignoring Transport message with role %s", self.url, role)
                continue
            sink.put([(payload, received)])
            # Only now, with the event fsync'd in the spool, tell the server.
            send_frame(sock, transport("ack", event_ivorn(payload) or "ivo://unknown"))
            if stop.is_set():
                raise _Stopped
