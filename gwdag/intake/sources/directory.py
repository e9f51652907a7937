"""``dir:///path``: a drop directory.  Files are moved into the spool as they
appear: read, stored durably, then deleted from the drop directory.

Writers should create files under a name starting with ``.`` or ending in
``.tmp``/``.part`` and rename them when complete; such names are skipped, as are
files modified in the last 0.2 s (still being written).  ``watchdog`` wakes the
source at once; a rescan every 2 s covers file systems without notifications.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from urllib.parse import unquote, urlsplit

from ..heartbeat import Heartbeat
from ..sink import Sink

__all__ = ["DirectorySource"]

log = logging.getLogger("gwdag.intake.dir")
_SKIP_SUFFIXES = (".tmp", ".part", ".swp", "~")
_SETTLE_S = 0.2


class DirectorySource:
    """Watches one directory."""

    def __init__(self, url: str, *, rescan_interval: float = 2.0, batch: int = 256) -> None:
        parts = urlsplit(url)
        path = unquote(parts.netloc + parts.path) if parts.netloc else unquote(parts.path)
        if not path:
            raise ValueError(f"directory source needs dir:///path, not {url!r}")
        self.url = url
        self.path = os.path.abspath(path)
        self.rescan_interval = rescan_interval
        self.batch = batch

    def pending(self) -> tuple[list[str], bool]:
        """Complete files waiting in the directory, oldest first, and whether any
        other file is still settling (so the caller should look again soon)."""
        now = time.time()
        ready = []
        settling = False
        with os.scandir(self.path) as scan:
            for entry in scan:
                name = entry.name
                if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    mtime = entry.stat().st_mtime
                except FileNotFoundError:
                    continue
                if now - mtime >= _SETTLE_S:
                    ready.append((mtime, entry.path))
                else:
                    settling = True
        return [path for _, path in sorted(ready)], settling

    def run(self, sink: Sink, stop: threading.Event, beat: Heartbeat) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        os.makedirs(self.path, exist_ok=True)
        wake = threading.Event()

        class _Wake(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # created, moved, modified
                wake.set()

        observer = Observer()
        observer.schedule(_Wake(), self.path, recursive=False)
        observer.start()
        beat.contact("watching")
        try:
            while not stop.is_set():
                settling = False
                try:
                    settling = self.drain(sink, stop)
                    beat.contact("watching")
                except OSError as exc:
                    beat.error(f"{self.path}: {exc}")
                    log.error("%s: %s", self.path, exc)
                wake.wait(_SETTLE_S if settling else self.rescan_interval)
                wake.clear()
        finally:
            observer.stop()
            observer.join(timeout=2)
            beat.status = "stopped"

    def drain(self, sink: Sink, stop: threading.Event) -> bool:
        """Move every complete file into the spool; returns whether other files
        are still settling."""
        paths, settling = self.pending()
        for start in range(0, len(paths), self.batch):
            if stop.is_set():
                break
            chunk = paths[start:start + self.batch]
            messages, taken = [], []
            for path in chunk:
                try:
                    with open(path, "rb") as handle:
                        messages.append((handle.read(), time.time()))
                    taken.append(path)
                except FileNotFoundError:
                    continue
            sink.put(messages)
            for path in taken:  # only now is each file safe in the spool
                os.unlink(path)
        return settling
