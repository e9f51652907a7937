"""Alert sources: each runs in its own thread, delivers batches to a
:class:`~gwdag.intake.sink.Sink` and acknowledges upstream only after the sink
returns (the messages are then fsync'd in the spool).

URLs: ``vtp://HOST:PORT`` (GCN classic VOEvent Transport Protocol),
``redis://HOST:PORT/DB?stream=NAME&group=GROUP`` (a Redis stream with a consumer
group), ``dir:///path`` (a drop directory).
"""

from __future__ import annotations

import threading
from typing import Protocol
from urllib.parse import urlsplit

from ..heartbeat import Heartbeat
from ..sink import Sink

__all__ = ["Source", "open_source", "SCHEMES"]

SCHEMES = ("vtp", "redis", "rediss", "dir")


class Source(Protocol):
    url: str

    def run(self, sink: Sink, stop: threading.Event, beat: Heartbeat) -> None:
        """Receive until ``stop`` is set; never raise for bad input or lost peers."""


def open_source(url: str) -> Source:
    """The source for ``url``; ``ValueError`` with a one-line reason when invalid."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "vtp":
        from .vtp import VtpSource
        return VtpSource(url)
    if scheme in ("redis", "rediss", "unix"):
        from .redis_stream import RedisStreamSource
        return RedisStreamSource(url)
    if scheme == "dir":
        from .directory import DirectorySource
        return DirectorySource(url)
    raise ValueError(f"unsupported source {url!r}: use vtp://HOST:PORT, "
                     "redis://HOST:PORT/DB?stream=NAME&group=GROUP or dir:///path")
