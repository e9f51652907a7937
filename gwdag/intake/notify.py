"""Wake-ups when alerts land in the spool's ``incoming/`` (inotify through
watchdog), so the planner starts on an alert at once instead of at its next
scan; the periodic scan stays as the fallback.  ``watch_changes`` does the same
for any change under a tree (``gwdag watch`` redraws when DAG artifacts grow)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

__all__ = ["watch_changes", "watch_incoming"]

log = logging.getLogger("gwdag.intake.notify")


def watch_incoming(incoming: str | Path, wake: threading.Event):
    """Set ``wake`` whenever a file appears in ``incoming``; the running
    watchdog observer (stop and join it when done), or None if watching is
    impossible here (then only scans find new alerts)."""
    return _watch(incoming, wake, recursive=False, every_change=False)


def watch_changes(tree: str | Path, wake: threading.Event):
    """Set ``wake`` on any change (created, modified, moved, deleted) under
    ``tree``; the running observer or None, as :func:`watch_incoming`."""
    return _watch(tree, wake, recursive=True, every_change=True)


def _watch(directory: str | Path, wake: threading.Event, *, recursive: bool,
           every_change: bool):
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:  # pragma: no cover - watchdog is a dependency
        return None

    class _Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if every_change:
                if event.event_type not in ("opened", "closed_no_write"):
                    wake.set()
            elif event.event_type in ("created", "moved"):
                wake.set()

    observer = Observer()
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        observer.schedule(_Handler(), str(directory), recursive=recursive)
        observer.start()
    except OSError as exc:
        log.warning("cannot watch %s (%s); relying on periodic scans", directory, exc)
        return None
    return observer
