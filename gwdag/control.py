"""Local control sockets for gwdag's daemons (the transport of ``gwdag ctl``).

Each daemon (listener, planner) answers verbs on a Unix stream socket next to its
lock file.  One request per connection: a JSON line ``{"verb", "args"}``; one reply
line ``{"ok", "daemon", "pid", "result" | "error"}``.  The socket is created mode
0600 so only the account running the daemon can control it.  Unix socket paths
are limited to 107 bytes; a longer one is reached through the directory's
``/proc/self/fd`` entry, so deep data roots work too.

This module sits beside ``config.py`` because two layers need it (``intake`` for
the listener, ``planner`` for the planner) and neither may import the other.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ControlError", "ControlServer", "NotRunning", "VerbError", "control_request",
           "CONTROL_SOCKETS"]

log = logging.getLogger("gwdag.control")

#: daemon name -> socket path relative to the data root (beside its lock file)
CONTROL_SOCKETS = {"plan": os.path.join("state", "plan.sock"),
                   "listen": os.path.join("spool", "listen.sock")}
MAX_REQUEST_BYTES = 65_536
_SUN_PATH_MAX = 107

Handler = Callable[[dict[str, Any]], Any]


class ControlError(Exception):
    """A control request that could not be answered (bad reply, timeout)."""


class NotRunning(ControlError):
    """Nobody listens on the control socket: the daemon is not running."""


class VerbError(Exception):
    """A verb that cannot be done as asked (unknown key, ...): its message is
    the whole answer, without a traceback."""


@contextlib.contextmanager
def _addressable(path: str) -> Iterator[str]:
    """A path no longer than sun_path allows that names ``path``."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield path
        return
    fd = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{os.path.basename(path)}"
    finally:
        os.close(fd)


def _read_line(connection: socket.socket, limit: int = MAX_REQUEST_BYTES) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = connection.recv(65_536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > limit:
            break
    return b"".join(chunks).split(b"\n", 1)[0]


class ControlServer:
    """Answers control verbs for one daemon from a background thread.

    ``handlers`` maps a verb to a function of the request's ``args`` returning a
    JSON-serialisable result; an exception becomes ``{"ok": false, "error"}``
    and never reaches the daemon.
    """

    def __init__(self, path: str, daemon: str, handlers: dict[str, Handler]) -> None:
        self.path = os.path.abspath(path)
        self.daemon = daemon
        self.handlers = dict(handlers)
        self.handlers.setdefault("ping", lambda _args: "pong")
        self.started_at = time.time()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def start_or_warn(self) -> ControlServer | None:
        """:meth:`start`, or a logged warning and None: a daemon runs on without
        its control socket rather than not at all."""
        try:
            return self.start()
        except OSError as exc:
            log.warning("no control socket at %s (%s): gwdag ctl cannot reach this %s",
                        self.path, exc, self.daemon)
            return None

    def start(self) -> ControlServer:
        # Only the daemon holding the root's lock starts a server, so a socket file
        # left here is stale (a crashed daemon) and safe to replace.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            with _addressable(self.path) as address:
                server.bind(address)
        finally:
            os.umask(old_umask)
        server.listen(16)
        server.settimeout(0.2)
        self._socket = server
        self._thread = threading.Thread(target=self._serve, name=f"control {self.daemon}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._closing.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5.0)
                try:
                    reply = self.answer(_read_line(connection))
                    connection.sendall(json.dumps(reply, default=str).encode() + b"\n")
                except OSError as exc:
                    log.warning("control connection dropped: %s", exc)

    def answer(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line."""
        base = {"daemon": self.daemon, "pid": os.getpid()}
        try:
            request = json.loads(line)
            verb = str(request["verb"])
            args = request.get("args") or {}
            if not isinstance(args, dict):
                raise TypeError("args must be an object")
        except (ValueError, KeyError, TypeError) as exc:
            return {**base, "ok": False, "error": f"bad request: {exc}"}
        handler = self.handlers.get(verb)
        if handler is None:
            return {**base, "ok": False,
                    "error": f"{self.daemon} does not answer {verb!r} "
                             f"(it answers {', '.join(sorted(self.handlers))})"}
        try:
            return {**base, "ok": True, "result": handler(args)}
        except VerbError as exc:
            return {**base, "ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a verb must never take a daemon down
            log.exception("control verb %s failed", verb)
            return {**base, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def control_request(path: str, verb: str, args: dict[str, Any] | None = None, *,
                    timeout: float = 5.0) -> dict[str, Any]:
    """Send one verb to the daemon listening on ``path`` and return its reply.

    Raises :class:`NotRunning` when nobody listens there and
    :class:`ControlError` on a timeout or an unreadable reply.
    """
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        with _addressable(os.path.abspath(path)) as address:
            try:
                client.connect(address)
            except (FileNotFoundError, ConnectionRefusedError):
                raise NotRunning(f"no daemon answers on {path}") from None
        client.sendall(json.dumps({"verb": verb, "args": args or {}}).encode() + b"\n")
        line = _read_line(client, limit=64 * MAX_REQUEST_BYTES * 16)
    except TimeoutError:
        raise ControlError(f"no reply on {path} within {timeout:g} s") from None
    except OSError as exc:
        raise ControlError(f"{path}: {exc}") from None
    finally:
        client.close()
    try:
        reply = json.loads(line)
    except ValueError:
        raise ControlError(f"unreadable reply on {path}: {line[:80]!r}") from None
    if not isinstance(reply, dict):
        raise ControlError(f"unreadable reply on {path}")
    return reply
