"""``gwdag cleanup``: retention for a data root, safe to run from cron.

What goes, when older than the retention age: finished spool entries
(``done/``, ``rejected/`` with their reasons), finished run directories, and
outbox alert directories.  Logs of finished runs that are kept are gzipped first.
Never touched: ``incoming/``, ``claimed/``, ``failed/`` (a person must look at
those), the run directory of a DAG that is running, the state store.  An
exclusive lock makes an overlapping second run return at once.  Ages in seconds.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..intake.spool import SHARDS
from .store_reader import open_store

__all__ = ["CleanupBusy", "CleanupReport", "cleanup", "parse_age"]

_AGE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
COMPRESS_AFTER = 3600.0          # s: logs of finished runs older than this are gzipped
LOG_SUFFIXES = (".out", ".err", ".log", ".dagman.out")
UNLINK_THREADS = 8


class CleanupBusy(RuntimeError):
    """Another cleanup holds the root's cleanup lock."""


def parse_age(text: str) -> float:
    """Seconds from ``30d``, ``12h``, ``90m``, ``3600s``, ``2w`` or a number."""
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"age {text!r}: use a number with s, m, h, d or w (e.g. 30d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class CleanupReport:
    """What was (or, in a dry run, would be) removed, per area."""

    dry_run: bool
    older_than: float
    removed: dict[str, int] = field(default_factory=dict)
    bytes_freed: dict[str, int] = field(default_factory=dict)
    compressed: int = 0
    kept_running: int = 0
    seconds: float = 0.0

    def add(self, area: str, size: int) -> None:
        self.removed[area] = self.removed.get(area, 0) + 1
        self.bytes_freed[area] = self.bytes_freed.get(area, 0) + size

    def document(self) -> dict[str, Any]:
        return {"schema_version": 1, "dry_run": self.dry_run, "older_than_s": self.older_than,
                "removed": self.removed, "bytes_freed": self.bytes_freed,
                "total_bytes_freed": sum(self.bytes_freed.values()),
                "logs_compressed": self.compressed, "kept_running": self.kept_running,
                "seconds": round(self.seconds, 3)}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _doomed_in(directory: str, main_suffix: str, reasons: bool, cutoff: float
               ) -> tuple[list[str], list[int]]:
    """Names to remove from one directory (entries older than ``cutoff`` with
    their reasons) and each entry's size in bytes."""
    names: list[str] = []
    sizes: list[int] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.endswith(main_suffix) or not entry.is_file():
                continue
            info = entry.stat()
            if info.st_mtime >= cutoff:
                continue
            size = info.st_size
            names.append(entry.name)
            if reasons:
                reason = entry.name[:-len(main_suffix)] + ".reason.json"
                try:
                    size += os.stat(os.path.join(directory, reason)).st_size
                    names.append(reason)
                except FileNotFoundError:
                    pass
            sizes.append(size)
    return names, sizes


def _unlink_all(directory: str, names: list[str]) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            try:
                os.unlink(name, dir_fd=handle)
            except FileNotFoundError:
                pass
    finally:
        os.close(handle)


def _spool_area(root: Path, state: str, cutoff: float, report: CleanupReport) -> None:
    top = root / "spool" / state
    if not top.is_dir():
        return
    main_suffix = ".raw" if state == "rejected" else ".alert"
    reasons = state in ("rejected", "failed")      # only these carry a .reason.json
    directories = [str(top)] + [str(top / shard) for shard in SHARDS
                                if (top / shard).is_dir()]

    def one(directory: str) -> list[int]:
        names, sizes = _doomed_in(directory, main_suffix, reasons, cutoff)
        if names and not report.dry_run:
            _unlink_all(directory, names)
        return sizes

    # Removals in one directory are serialised by the kernel (its lock, its journal
    # handle), so the shards go in parallel: 8 in flight measured 3.5x one on ext4.
    with ThreadPoolExecutor(UNLINK_THREADS) as pool:
        for sizes in pool.map(one, directories):
            for size in sizes:
                report.add(f"spool_{state}", size)


def _run_states(root: Path) -> dict[str, str]:
    db = open_store(root)
    if db is None:
        return {}
    try:
        return dict(db.execute("SELECT run_id, state FROM runs"))
    finally:
        db.close()


def _running(run_dir: Path, state: str | None) -> bool:
    """A DAG is running when the store says so or its executor's lock exists."""
    return state in ("planning", "running", "retrying") or any(run_dir.glob("*.dag.lock"))


def _runs_area(root: Path, cutoff: float, now: float, report: CleanupReport) -> None:
    runs = root / "runs"
    if not runs.is_dir():
        return
    states = _run_states(root)
    doomed: list[Path] = []
    for run_dir in sorted(p for p in runs.iterdir() if p.is_dir()):
        if _running(run_dir, states.get(run_dir.name)):
            report.kept_running += 1
            continue
        newest = max((p.stat().st_mtime for p in run_dir.rglob("*")), default=0.0)
        if newest < cutoff:
            report.add("runs", _size(run_dir))
            doomed.append(run_dir)
            continue
        if newest < now - COMPRESS_AFTER:
            for log in run_dir.iterdir():
                if log.is_file() and log.name.endswith(LOG_SUFFIXES) and log.stat().st_size:
                    if not report.dry_run:
                        with open(log, "rb") as source, \
                                gzip.open(log.with_name(log.name + ".gz"), "wb") as target:
                            shutil.copyfileobj(source, target)
                        os.utime(log.with_name(log.name + ".gz"), (newest, newest))
                        log.unlink()
                    report.compressed += 1
    if doomed and not report.dry_run:
        # each run directory is its own directory lock: remove several at once
        with ThreadPoolExecutor(UNLINK_THREADS) as pool:
            list(pool.map(shutil.rmtree, doomed))


def _outbox_area(root: Path, cutoff: float, report: CleanupReport) -> None:
    outbox = root / "outbox"
    if not outbox.is_dir():
        return
    for folder in sorted(p for p in outbox.iterdir() if p.is_dir()):
        newest = max((p.stat().st_mtime for p in folder.rglob("*")), default=0.0)
        if newest < cutoff:
            size = _size(folder)
            if not report.dry_run:
                _remove(folder)
            report.add("outbox", size)


def cleanup(root: str | Path, *, older_than: float = 30 * 86400.0, dry_run: bool = False,
            now: float | None = None) -> CleanupReport:
    """Apply the retention to ``root``; raises :class:`CleanupBusy` when another
    cleanup runs."""
    started = time.perf_counter()
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no data root at {root}")
    now = time.time() if now is None else now
    cutoff = now - older_than
    (root / "state").mkdir(exist_ok=True)
    with open(root / "state" / "cleanup.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CleanupBusy(f"another gwdag cleanup is running on {root}") from None
        report = CleanupReport(dry_run, older_than)
        for state in ("done", "rejected"):
            _spool_area(root, state, cutoff, report)
        _runs_area(root, cutoff, now, report)
        _outbox_area(root, cutoff, report)
    report.seconds = time.perf_counter() - started
    return report
