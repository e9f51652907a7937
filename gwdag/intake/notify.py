"""Wake-ups when alerts land in the spool's ``incoming/`` (inotify through
watchdog), so the planner starts on an alert at once instead of at its next
scan; the periodic scan stays as the fallback."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

__all__ = ["watch_incoming"]

log = logging.getLogger("gwdag.intake.notify")


def watch_incoming(incoming: str | Path, wake: threading.Event):
    """Set ``wake`` whenever a file appears in ``incoming``; the running
    watchdog observer (stop and join it when done), or None if watching is
    impossible here (then only scans find new alerts)."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:  # pragma: no cover - watchdog is a dependency
        return None

    class _Handler(FileSystemEventHandler):
        def on_created(self, event) -> None:
            wake.set()

        def on_moved(self, event) -> None:
            wake.set()

    observer = Observer()
    try:
        Path(incoming).mkdir(parents=True, exist_ok=True)
        observer.schedule(_Handler(), str(incoming), recursive=False)
        observer.start()
    except OSError as exc:
        log.warning("cannot watch %s (%s); relying on periodic scans", incoming, exc)
        return None
    return observer
