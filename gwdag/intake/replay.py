"""Publishing messages for demos and load tests: ``gwdag replay``.

:func:`publish_redis` appends each message to a Redis stream (field ``payload``);
:func:`serve_vtp` is a minimal VTP server that sends each message to the client
that connects and waits for its ``ack``; an unacknowledged message is sent again
to the next client, so a listener killed mid-stream still gets everything.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .vtp import FrameTooLarge, recv_frame, send_frame, transport, transport_role

__all__ = ["publish_redis", "serve_vtp", "VtpServerReport"]

log = logging.getLogger("gwdag.intake.replay")


class _Pacer:
    """Keeps to ``rate`` messages per second (``None``: as fast as possible)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        if self.interval:
            self.next += self.interval
            delay = self.next - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def publish_redis(url: str, payloads: Sequence[bytes], rate: float | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """XADD every payload to the stream of ``url``; returns how many."""
    import redis

    from .sources.redis_stream import parse_stream_url

    connection, options = parse_stream_url(url)
    client = redis.Redis.from_url(connection)
    pacer = _Pacer(rate)
    stream = options["stream"]
    if rate is None:
        pipe = client.pipeline(transaction=False)
        for index, payload in enumerate(payloads, 1):
            pipe.xadd(stream, {"payload": payload})
            if index % 500 == 0:
                pipe.execute()
                if progress:
                    progress(index)
        pipe.execute()
    else:
        for index, payload in enumerate(payloads, 1):
            pacer.wait()
            client.xadd(stream, {"payload": payload})
            if progress:
                progress(index)
    return len(payloads)


@dataclass
class VtpServerReport:
    sent: int = 0
    acked: int = 0
    connections: int = 0
    resent: int = 0


def serve_vtp(host: str, port: int, payloads: Sequence[bytes], *, rate: float | None = None,
              ack_timeout: float = 30.0, deadline: float | None = None,
              ready: Callable[[int], None] | None = None,
              listen_socket: socket.socket | None = None) -> VtpServerReport:
    """Serve ``payloads`` to VTP clients until each has been acknowledged once.

    ``ready`` is called with the bound port (useful with ``port=0``); ``deadline``
    (seconds) bounds the whole run.  Returns what happened.
    """
    report = VtpServerReport()
    server = listen_socket or socket.create_server((host, port))
    if ready:
        ready(server.getsockname()[1])
    give_up = time.monotonic() + deadline if deadline else None
    position = 0
    pacer = _Pacer(rate)
    server.settimeout(1.0)
    try:
        while position < len(payloads):
            if give_up and time.monotonic() > give_up:
                break
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            report.connections += 1
            if report.connections > 1 and position < len(payloads):
                report.resent += 1
            with conn:
                conn.settimeout(ack_timeout)
                try:
                    while position < len(payloads):
                        pacer.wait()
                        send_frame(conn, payloads[position])
                        report.sent += 1
                        # a VOEvent wants an ack, an iamalive an iamalive back
                        wanted = "iamalive" if transport_role(payloads[position]) else "ack"
                        while True:
                            reply = recv_frame(conn, 1 << 20)
                            if transport_role(reply) == wanted:
                                break
                        report.acked += 1
                        position += 1
                    # tell a live client we are still here, then let it go
                    send_frame(conn, transport("iamalive", "ivo://gwdag/replay"))
                except (OSError, ConnectionError, FrameTooLarge) as exc:
                    log.info("client went away (%s); %d of %d acknowledged", exc, position,
                             len(payloads))
    finally:
        if listen_socket is None:
            server.close()
    return report
