"""``gwdag ctl``: control verbs sent to the daemons of one data root.

Each daemon answers on its own socket (:data:`gwdag.control.CONTROL_SOCKETS`);
without a destination a verb goes to every daemon of the root, planner first (so
``purge`` is done by the planner when it runs).  A daemon that is not running is
reported as such, from the absence of its socket listener, not guessed from a
broadcast timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..control import CONTROL_SOCKETS, ControlError, NotRunning, control_request

__all__ = ["DAEMONS", "VERBS", "Reply", "send_verb"]

DAEMONS = ("plan", "listen")
VERBS = ("status", "ping", "stats", "active", "reserved", "result", "purge", "shutdown",
         "reload")


@dataclass(frozen=True)
class Reply:
    """One daemon's answer; ``replied`` is False when it is not running or timed out."""

    daemon: str
    replied: bool
    ok: bool
    pid: int | None
    result: Any
    error: str | None
    seconds: float

    def document(self) -> dict[str, Any]:
        return {"daemon": self.daemon, "replied": self.replied, "ok": self.ok,
                "pid": self.pid, "result": self.result, "error": self.error,
                "seconds": round(self.seconds, 4)}


def send_verb(root: str | Path, verb: str, args: dict[str, Any] | None = None, *,
              destination: str | None = None, timeout: float = 5.0) -> list[Reply]:
    """Send ``verb`` to one daemon (``destination``) or to every daemon of
    ``root``; one :class:`Reply` per daemon addressed.  ``timeout`` in seconds."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r} (one of {', '.join(VERBS)})")
    if destination is not None and destination not in DAEMONS:
        raise ValueError(f"unknown destination {destination!r} (listen or plan)")
    replies = []
    for daemon in (destination,) if destination else DAEMONS:
        path = root / CONTROL_SOCKETS[daemon]
        started = time.perf_counter()
        try:
            answer = control_request(str(path), verb, args, timeout=timeout)
        except NotRunning:
            replies.append(Reply(daemon, False, False, None, None,
                                 f"not running (nothing listens on {path})",
                                 time.perf_counter() - started))
            continue
        except ControlError as exc:
            replies.append(Reply(daemon, False, False, None, None, str(exc),
                                 time.perf_counter() - started))
            continue
        replies.append(Reply(daemon, True, bool(answer.get("ok")), answer.get("pid"),
                             answer.get("result"), answer.get("error"),
                             time.perf_counter() - started))
    return replies
