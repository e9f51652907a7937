"""The planner's state store, opened read only by the operations tools."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["open_store"]


def open_store(root: str | Path) -> sqlite3.Connection | None:
    """The data root's state store (``state/gwdag.sqlite``) opened read only, or
    ``None`` while there is none to read: no file yet, or a file the planner has
    just created and not yet given its tables (it creates the file, then the
    whole schema in one transaction; a reader in between finds no tables —
    ``gwdag watch`` started beside a first planner run used to fail on it).
    """
    path = Path(root) / "state" / "gwdag.sqlite"
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        ready = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                           "name='runs'").fetchone()
    except BaseException:
        db.close()
        raise
    if ready is None:
        db.close()
        return None
    return db
