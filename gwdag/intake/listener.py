"""The ``gwdag listen`` daemon: runs every source in its own thread into one spool.

One instance per data root (``flock`` on ``<root>/spool/listen.lock``, which holds
the owner's pid); half-written files from a crash are removed at start-up and journal segments a
crashed listener left are replayed (:mod:`gwdag.intake.journal`).
SIGTERM/SIGINT stop the sources, which finish the batch in hand (spool it, then
acknowledge it) and exit 0 within about a second; a second SIGINT exits at once.
SIGHUP re-reads the source list (``reload`` callback) and starts/stops sources to
match; it never exits.  Heartbeats are written every second.  The control socket
``<root>/spool/listen.sock`` answers ``gwdag ctl`` (ping, status, stats, active,
reserved, result, purge, shutdown, reload).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from .. import __version__
from ..control import CONTROL_SOCKETS, ControlServer, VerbError
from .heartbeat import Heartbeat
from .sink import Sink
from .sources import open_source
from .spool import Spool, SpoolError

__all__ = ["Listener", "ListenerLocked", "lock_holder"]

log = logging.getLogger("gwdag.intake.listener")


class ListenerLocked(Exception):
    """Another listener holds this data root."""


def lock_holder(root: str) -> int | None:
    """The pid written in the listener lock file of ``root``, if any."""
    try:
        with open(os.path.join(os.path.abspath(root), "spool", "listen.lock")) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


class _Running:
    def __init__(self, thread: threading.Thread, stop: threading.Event,
                 beat: Heartbeat) -> None:
        self.thread, self.stop, self.beat = thread, stop, beat


class Listener:
    """Sources into a spool, until stopped."""

    def __init__(self, root: str, sources: list[str], *,
                 reload: Callable[[], list[str]] | None = None,
                 heartbeat_interval: float = 1.0, control: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.urls = list(dict.fromkeys(sources))
        for url in self.urls:
            open_source(url)  # fail now, in one line, on a bad URL
        self.reload_sources = reload
        self.heartbeat_interval = heartbeat_interval
        self.spool = Spool(self.root, journal=True)
        self.running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._interrupts = 0
        self._lock_fd: int | None = None
        self.control = control
        self.started_at = time.time()

    # -- lock -------------------------------------------------------------------------
    def _acquire(self) -> None:
        path = os.path.join(self.spool.path, "listen.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = lock_holder(self.root)
            raise ListenerLocked(f"another gwdag listen (pid {pid or '?'}) holds {path}; "
                                 "stop it first (kill -TERM <pid>)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- signals -----------------------------------------------------------------------
    def _on_stop(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGINT:
            self._interrupts += 1
            if self._interrupts > 1:
                os._exit(130)
        log.info("signal %d: draining and stopping", signum)
        self._stop.set()

    def _on_hup(self, _signum: int, _frame: object) -> None:
        self._reload.set()

    def request_stop(self) -> None:
        self._stop.set()

    # -- sources ------------------------------------------------------------------------
    def _start(self, url: str) -> None:
        source = open_source(url)
        beat = Heartbeat(url)
        stop = threading.Event()
        sink = Sink(self.spool, beat)

        def guarded() -> None:
            # A source must never take the daemon down: restart it after a crash.
            while not stop.is_set():
                try:
                    source.run(sink, stop, beat)
                except Exception as exc:  # noqa: BLE001 - logged, counted, retried
                    log.exception("source %s crashed; restarting in 1 s", url)
                    beat.error(f"crashed: {exc!r}")
                    stop.wait(1.0)

        thread = threading.Thread(target=guarded, name=f"source {url}", daemon=True)
        self.running[url] = _Running(thread, stop, beat)
        thread.start()
        log.info("source %s started", url)

    def _stop_source(self, url: str, timeout: float = 5.0) -> None:
        running = self.running.pop(url)
        running.stop.set()
        running.thread.join(timeout)
        running.beat.write(self.root)

    def _apply_reload(self) -> None:
        self._reload.clear()
        if self.reload_sources is None:
            log.info("SIGHUP: no configuration to reload")
            return
        try:
            wanted = list(dict.fromkeys(self.reload_sources()))
            for url in wanted:
                open_source(url)
        except Exception as exc:  # noqa: BLE001 - a bad reload keeps the old sources
            log.error("SIGHUP: configuration not reloaded: %s", exc)
            return
        for url in [u for u in self.running if u not in wanted]:
            self._stop_source(url)
        for url in [u for u in wanted if u not in self.running]:
            self._start(url)
        log.info("SIGHUP: configuration reloaded, sources: %s", ", ".join(wanted) or "none")

    # -- control verbs -------------------------------------------------------------------
    def _control_server(self) -> ControlServer:
        def status(_args: dict) -> dict:
            return {"daemon": "listen", "pid": os.getpid(), "version": __version__,
                    "root": self.root, "started_at": self.started_at,
                    "uptime_s": round(time.time() - self.started_at, 3),
                    "sources": list(self.running), "stopping": self._stop.is_set()}

        def stats(_args: dict) -> dict:
            journal = self.spool.journal.stats() if self.spool.journal else None
            return {**status(_args), "spool": self.spool.stats(), "journal": journal,
                    "heartbeat_interval_s": self.heartbeat_interval,
                    "limits_bytes": dict(vars(self.spool.limits)),
                    "per_source": {url: r.beat.document() for url, r in
                                   list(self.running.items())}}

        def active(_args: dict) -> list:
            return [{"source": url, "status": r.beat.status, "alive": r.thread.is_alive(),
                     "last_message_at": r.beat.last_message_at,
                     "last_contact_at": r.beat.last_contact_at, "counts": dict(r.beat.counts)}
                    for url, r in list(self.running.items())]

        def reserved(_args: dict) -> dict:
            # acknowledged means spooled: nothing waits inside the listener
            return {"entries": [], "note": "the listener holds no queue: a message is "
                                           "acknowledged only once it is in the spool"}

        def result(args: dict) -> dict:
            try:
                meta, _raw = self.spool.read(str(args.get("key", "")))
            except SpoolError as exc:
                raise VerbError(str(exc)) from None
            return meta

        def purge(args: dict) -> dict:
            return self.spool.purge(dry_run=bool(args.get("dry_run")))

        def shutdown(_args: dict) -> dict:
            log.info("shutdown requested over the control socket")
            self._stop.set()
            return {"stopping": True}

        def reload(_args: dict) -> dict:
            if self.reload_sources is None:
                return {"reloading": False, "note": "sources came from the command line; "
                                                    "nothing to reload"}
            self._reload.set()
            return {"reloading": True}

        return ControlServer(os.path.join(self.root, CONTROL_SOCKETS["listen"]), "listen",
                             {"status": status, "stats": stats, "active": active,
                              "reserved": reserved, "result": result, "purge": purge,
                              "shutdown": shutdown, "reload": reload})

    # -- main loop -----------------------------------------------------------------------
    def run(self, install_signals: bool = True) -> int:
        """Run until stopped; returns the exit status (0)."""
        self._acquire()
        server = self._control_server().start_or_warn() if self.control else None
        try:
            removed = self.spool.clean_tmp()
            if removed:
                log.info("removed %d half-written files left by a crash", removed)
            replayed = self.spool.recover_journal()
            if replayed:
                log.info("replayed %d journalled messages left by a crash", replayed)
            if install_signals:
                signal.signal(signal.SIGTERM, self._on_stop)
                signal.signal(signal.SIGINT, self._on_stop)
                signal.signal(signal.SIGHUP, self._on_hup)
            for url in self.urls:
                self._start(url)
            if not self.urls:
                log.warning("no sources configured: pass --source or set [intake] sources")
            while not self._stop.wait(self.heartbeat_interval):
                if self._reload.is_set():
                    self._apply_reload()
                for running in list(self.running.values()):
                    running.beat.write(self.root)
            started = time.monotonic()
            for running in self.running.values():
                running.stop.set()
            for url in list(self.running):
                self._stop_source(url, timeout=max(0.1, 5.0 - (time.monotonic() - started)))
            if not self.spool.flush(timeout=max(1.0, 5.0 - (time.monotonic() - started))):
                log.warning("spooled files not all flushed at exit; the journal keeps "
                            "them and the next start replays it")
            log.info("stopped")
            return 0
        finally:
            if server is not None:
                server.stop()
            self._release()
