"""The spool: every message durably on disk before its source is acknowledged.

Layout under ``<root>/spool/``::

    tmp/        files being written (removed at start-up: never acknowledged)
    incoming/   <key>.alert   accepted, waiting for the planner
    claimed/    <key>.alert   taken by the planner
    done/<s>/   <key>.alert   processed
    failed/     <key>.alert + <key>.reason.json
    rejected/<s>/ <key>.raw (the bytes exactly as received) + <key>.reason.json
    duplicates.jsonl          one line per message seen again (key, source, time)
    purged/<UTC stamp>/       incoming entries set aside by ``gwdag ctl purge``
    journal/    <pid>-<ns>.log  the listener's write-ahead journal (:mod:`.journal`)

An ``.alert`` file is one line of JSON metadata (:meth:`Alert.metadata` plus
``spooled_at``) followed by the raw bytes.  A write goes to ``tmp/``, is fsync'd,
then hard-linked into its state directory (``link`` refuses to overwrite, so two
writers of the same key cannot both win) and the directory is fsync'd.  The
listener instead journals a batch first (one flush) and lets the journal's
checkpoint flush the files it then writes.  Moves
between states are single renames.  A key already present in any state is a
duplicate and is not written again; states are checked in the order a file moves
through them, so a concurrent move cannot hide it.

``done/`` and ``rejected/``, the states that grow, are split into 16 shards
``<s>`` = ``0``…``f`` (CRC-32 of the key): removing files from one directory is
serialised by the kernel on that directory, so cleanup removes shards in
parallel.  Files a pre-shard gwdag left at the top of those directories are
moved into their shards when a writer opens the spool.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .alert import Alert, AlertRejected
from .formats import DEFAULT_LIMITS, Limits, parse_alert
from .journal import Journal, JournalRecord, orphan_segments, read_segment

__all__ = ["Spool", "SpoolResult", "SpoolEntry", "STATES", "SHARDED", "SpoolError",
           "shard_of", "state_files", "fsync_all"]

#: Entry states, in the order an entry moves through them.
STATES = ("incoming", "claimed", "done", "failed", "rejected")
#: States kept in 16 shard subdirectories (see the module docstring).
SHARDED = ("done", "rejected")
SHARDS = tuple(f"{n:x}" for n in range(16))
_ALERT = ".alert"
_RAW = ".raw"
_REASON = ".reason.json"


class SpoolError(Exception):
    """A spool operation that cannot be done (unknown key, wrong state)."""


@dataclass
class SpoolResult:
    """What became of one message: ``status`` is ``accepted``, ``duplicate`` or
    ``rejected`` (with ``reason``)."""

    status: str
    key: str
    kind: str | None = None
    trigger_gps: float | None = None
    reason: str | None = None
    source: str = ""
    #: When the message was safe on disk (Unix s): journalled, or its file flushed.
    durable_at: float | None = None

    def document(self) -> dict[str, Any]:
        return {"status": self.status, "kind": self.kind, "key": self.key,
                "trigger_gps": self.trigger_gps, "reason": self.reason}


@dataclass
class SpoolEntry:
    """One entry as ``gwdag spool ls`` shows it; ``received_at`` in Unix seconds."""

    key: str
    kind: str | None
    state: str
    received_at: float | None
    reason: str | None
    path: str

    def document(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "state": self.state,
                "received_at": self.received_at, "reason": self.reason}


def shard_of(key: str) -> str:
    """The shard directory name (``0``…``f``) of ``key`` in a sharded state."""
    return f"{zlib.crc32(key.encode()) & 0xF:x}"


def state_files(state_dir: str, sharded: bool) -> Iterator[os.DirEntry]:
    """Every file of a state directory, through its shards when ``sharded``
    (files at the top of a sharded state, left by an older gwdag, included)."""
    if not os.path.isdir(state_dir):
        return
    with os.scandir(state_dir) as scan:
        top = list(scan)
    for entry in top:
        if entry.is_dir(follow_symlinks=False):
            if sharded and entry.name in SHARDS:
                with os.scandir(entry.path) as inner:
                    yield from inner
        else:
            yield entry


def _rejected_key(raw: bytes) -> str:
    """The key of a rejected message: only its bytes identify it."""
    return f"rejected-{hashlib.sha256(raw).hexdigest()[:16]}"


def _alert_chunks(alert: Alert) -> tuple[bytes, bytes]:
    """An ``.alert`` file's contents: the metadata line (with ``spooled_at``, now)
    and the raw bytes."""
    meta = alert.metadata()
    meta["spooled_at"] = time.time()
    header = json.dumps(meta, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    return header, alert.raw


def _holds(path: str, raw: bytes, *, header: bool) -> bool:
    """Whether ``path`` holds ``raw`` intact (after its JSON header line when
    ``header``), flushing it when it does: a file linked before a crash may
    exist with its data never written."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return False
    with handle:
        data = handle.read()
        if header:
            newline = data.find(b"\n")
            try:
                json.loads(data[:newline])
            except ValueError:
                return False
            data = data[newline + 1:]
        if data != raw:
            return False
        os.fsync(handle.fileno())
        return True


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_unflushed(path: str, chunks: Iterable[bytes]) -> int:
    """Create ``path`` with ``chunks``; returns its open descriptor, not flushed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                written = os.write(fd, view)
                view = view[written:]
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_file(path: str, chunks: Iterable[bytes]) -> None:
    fd = _write_unflushed(path, chunks)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_WRITERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _writer_pool() -> ThreadPoolExecutor:
    """Threads that write and fsync a batch's files concurrently (fsync releases
    the GIL and the disk overlaps the flushes)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_WRITERS, thread_name_prefix="gwdag-spool-write")
        return _pool


def fsync_all(fds: list[int], directories: Iterable[str]) -> None:
    """Flush files (concurrently) and then the directories they were linked into."""
    if len(fds) > 1:
        list(_writer_pool().map(os.fsync, fds))
    elif fds:
        os.fsync(fds[0])
    for directory in directories:
        _fsync_dir(directory)


class Spool:
    """The spool under data root ``root`` (created when missing)."""

    def __init__(self, root: str, *, limits: Limits = DEFAULT_LIMITS,
                 create: bool = True, journal: bool = False) -> None:
        """``create=False`` opens the spool read-only: nothing is created.
        ``journal=True`` (the listener) makes batches durable through the
        write-ahead journal (:mod:`gwdag.intake.journal`): one flush per batch on
        the receive path, the alert files flushed afterwards by a checkpoint."""
        self.root = os.path.abspath(root)
        self.path = os.path.join(self.root, "spool")
        self.limits = limits
        self.dirs = {state: os.path.join(self.path, state) for state in STATES}
        self.tmp = os.path.join(self.path, "tmp")
        self._counter = 0
        if create:
            for directory in (self.tmp, *self.dirs.values()):
                os.makedirs(directory, exist_ok=True)
            for state in SHARDED:
                for shard in SHARDS:
                    os.makedirs(os.path.join(self.dirs[state], shard), exist_ok=True)
                self._move_into_shards(state)
        self.journal = Journal(os.path.join(self.path, "journal"), fsync_all) if journal else None

    def _move_into_shards(self, state: str) -> None:
        """Move files an older (unsharded) gwdag left in ``state`` into shards."""
        with os.scandir(self.dirs[state]) as scan:
            legacy = [e.name for e in scan if not e.is_dir(follow_symlinks=False)]
        for name in legacy:
            suffix = next((x for x in (_REASON, _ALERT, _RAW) if name.endswith(x)), None)
            if suffix is None:
                continue                      # not a spool file: leave it alone
            key = name[:-len(suffix)]
            try:
                os.rename(os.path.join(self.dirs[state], name),
                          os.path.join(self.dirs[state], shard_of(key), name))
            except FileNotFoundError:
                pass

    def state_dir(self, state: str, key: str) -> str:
        """The directory ``key``'s files live in when the entry is in ``state``."""
        if state in SHARDED:
            return os.path.join(self.dirs[state], shard_of(key))
        return self.dirs[state]

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.dirs["incoming"])

    # -- writing -------------------------------------------------------------------
    def clean_tmp(self) -> int:
        """Remove half-written files left by a crash; returns how many.  Call only
        while no other process writes to this spool (the listener holds its lock)."""
        removed = 0
        for name in os.listdir(self.tmp):
            try:
                os.unlink(os.path.join(self.tmp, name))
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def _tmp_path(self) -> str:
        self._counter += 1  # with the thread id: unique even across threads
        return os.path.join(self.tmp, f"{os.getpid()}-{threading.get_ident()}-"
                                      f"{time.monotonic_ns()}-{self._counter}")

    def _publish(self, tmp: str, final: str) -> bool:
        """Link ``tmp`` to ``final``; False when ``final`` exists (a duplicate)."""
        try:
            os.link(tmp, final)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def state_of(self, key: str) -> str | None:
        """The state of ``key``, or ``None`` when the spool has never seen it."""
        for state in STATES[:4]:
            if os.path.exists(os.path.join(self.state_dir(state, key), key + _ALERT)):
                return state
        if os.path.exists(os.path.join(self.state_dir("rejected", key), key + _RAW)):
            return "rejected"
        return None

    def _record_duplicate(self, key: str, source: str, received_at: float) -> None:
        line = json.dumps({"key": key, "source": source, "received_at": received_at,
                           "seen_at": time.time()}) + "\n"
        fd = os.open(os.path.join(self.path, "duplicates.jsonl"),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def _prepare_alert(self, alert: Alert) -> tuple[str, tuple[bytes, bytes]] | None:
        """The temporary path and contents of a new alert's file, or None for a
        key already in the spool (recorded as a duplicate)."""
        if self.state_of(alert.key) is not None:
            self._record_duplicate(alert.key, alert.source, alert.received_at)
            return None
        return self._tmp_path(), _alert_chunks(alert)

    def _publish_alert(self, alert: Alert, tmp: str) -> str:
        """Link a written, fsync'd alert into incoming/; its status."""
        final = os.path.join(self.dirs["incoming"], alert.key + _ALERT)
        if not self._publish(tmp, final):
            self._record_duplicate(alert.key, alert.source, alert.received_at)
            return "duplicate"
        return "accepted"

    def _store_rejected(self, raw: bytes, reason: str, kind: str | None, source: str,
                        received_at: float, unflushed: list[int] | None = None) -> str:
        """Keep a rejected message and its reason; with ``unflushed`` (the
        journal's path) the files are not flushed, their descriptors added there."""
        key = _rejected_key(raw)
        directory = self.state_dir("rejected", key)
        raw_path = os.path.join(directory, key + _RAW)
        if os.path.exists(raw_path):
            return key
        note = {"key": key, "kind": kind, "reason": reason, "source": source,
                "received_at": received_at, "size": len(raw)}
        for chunk, publish in ((json.dumps(note).encode() + b"\n", False), (raw, True)):
            tmp = self._tmp_path()
            if unflushed is None:
                _write_file(tmp, (chunk,))
            else:
                unflushed.append(_write_unflushed(tmp, (chunk,)))
            if publish:
                self._publish(tmp, raw_path)
            else:
                os.replace(tmp, os.path.join(directory, key + _REASON))
        return key

    def ingest_many(self, messages: Iterable[tuple[bytes, str, float | None]]
                    ) -> list[SpoolResult]:
        """Parse and durably store ``(bytes, source, received_at)`` messages.

        When this returns, every message is on disk (fsync'd, directories too, or
        with the journal: journalled and flushed) as accepted, duplicate or
        rejected: acknowledge the source only after it.
        """
        if self.journal is not None:
            return self._ingest_journalled(list(messages))
        results: list[SpoolResult | None] = []
        touched: set[str] = set()
        pending: list[tuple[int, Alert, str, tuple[bytes, bytes]]] = []
        for raw, source, received_at in messages:
            received = time.time() if received_at is None else received_at
            try:
                alert = parse_alert(raw, received_at=received, source=source,
                                    limits=self.limits)
            except AlertRejected as exc:
                key = self._store_rejected(bytes(raw), exc.reason, exc.kind, source, received)
                touched.add(self.state_dir("rejected", key))
                results.append(SpoolResult("rejected", key, exc.kind, None, exc.reason, source))
                continue
            touched.add(self.dirs["incoming"])
            prepared = self._prepare_alert(alert)
            if prepared is None:
                results.append(SpoolResult("duplicate", alert.key, alert.kind,
                                           alert.trigger_gps, None, source))
                continue
            pending.append((len(results), alert, *prepared))
            results.append(None)
        # The disk takes several flushes at once: write and fsync the batch's files
        # concurrently, then publish them one by one in arrival order.
        jobs = [(tmp, chunks) for _, _, tmp, chunks in pending]
        if len(jobs) > 1:
            list(_writer_pool().map(lambda job: _write_file(*job), jobs))
        elif jobs:
            _write_file(*jobs[0])
        for index, alert, tmp, _ in pending:
            results[index] = SpoolResult(self._publish_alert(alert, tmp), alert.key,
                                         alert.kind, alert.trigger_gps, None, alert.source)
        for directory in touched:
            _fsync_dir(directory)
        durable_at = time.time()
        done = [r for r in results if r is not None]
        for result in done:
            result.durable_at = durable_at
        return done

    def _ingest_journalled(self, messages: list[tuple[bytes, str, float | None]]
                           ) -> list[SpoolResult]:
        """:meth:`ingest_many` through the journal: the batch is appended and
        flushed first (one ``fdatasync``), then parsed and its files written
        without flushing; the journal's checkpoint flushes them afterwards."""
        assert self.journal is not None
        now = time.time()
        records = [JournalRecord(bytes(raw), source, now if t is None else t)
                   for raw, source, t in messages]
        batch = self.journal.append(records)
        durable_at = time.time()
        fds: list[int] = []
        touched: set[str] = set()
        results = []
        try:
            for record in records:
                results.append(self._materialize(record, fds, touched))
        finally:
            self.journal.written(batch, fds, touched)
        for result in results:
            result.durable_at = durable_at
        return results

    def _materialize(self, record: JournalRecord, fds: list[int], touched: set[str]
                     ) -> SpoolResult:
        """Write one journalled message's spool files, unflushed (their open
        descriptors are added to ``fds``, their directories to ``touched``)."""
        raw, source, received = record.raw, record.source, record.received_at
        try:
            alert = parse_alert(raw, received_at=received, source=source, limits=self.limits)
        except AlertRejected as exc:
            key = self._store_rejected(raw, exc.reason, exc.kind, source, received, fds)
            touched.add(self.state_dir("rejected", key))
            return SpoolResult("rejected", key, exc.kind, None, exc.reason, source)
        prepared = self._prepare_alert(alert)
        if prepared is None:
            return SpoolResult("duplicate", alert.key, alert.kind, alert.trigger_gps, None,
                               source)
        tmp, chunks = prepared
        fds.append(_write_unflushed(tmp, chunks))
        touched.add(self.dirs["incoming"])
        return SpoolResult(self._publish_alert(alert, tmp), alert.key, alert.kind,
                           alert.trigger_gps, None, source)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every journalled alert's file is flushed (no-op without the
        journal); ``False`` on timeout (seconds)."""
        return True if self.journal is None else self.journal.flush(timeout)

    def recover_journal(self) -> int:
        """Replay the journal segments of writers that are gone (a crash): every
        message in them is put in the spool if missing, its file re-written if
        torn, and flushed.  Returns the number of messages replayed."""
        replayed = 0
        for path, fd in orphan_segments(os.path.join(self.path, "journal")):
            try:
                touched: set[str] = set()
                for record in read_segment(path):
                    self._replay(record, touched)
                    replayed += 1
                for directory in touched:
                    _fsync_dir(directory)
                os.unlink(path)
            finally:
                os.close(fd)
        return replayed

    def _replay(self, record: JournalRecord, touched: set[str]) -> None:
        raw = record.raw
        try:
            alert = parse_alert(raw, received_at=record.received_at, source=record.source,
                                limits=self.limits)
        except AlertRejected as exc:
            key = _rejected_key(raw)
            raw_path = os.path.join(self.state_dir("rejected", key), key + _RAW)
            if not _holds(raw_path, raw, header=False):
                for stale in (raw_path, raw_path[:-len(_RAW)] + _REASON):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(stale)
                self._store_rejected(raw, exc.reason, exc.kind, record.source,
                                     record.received_at)
                touched.add(self.state_dir("rejected", key))
            return
        state = self.state_of(alert.key)
        if state is None:
            prepared = self._prepare_alert(alert)
            if prepared is not None:
                _write_file(*prepared)
                self._publish_alert(alert, prepared[0])
                touched.add(self.dirs["incoming"])
            return
        path = os.path.join(self.state_dir(state, alert.key), alert.key + _ALERT)
        if _holds(path, raw, header=True):
            return
        # Torn by the crash (linked, never flushed): write it again where it is.
        tmp = self._tmp_path()
        _write_file(tmp, _alert_chunks(alert))
        os.replace(tmp, path)
        touched.add(os.path.dirname(path))

    def ingest(self, raw: bytes, source: str = "", received_at: float | None = None
               ) -> SpoolResult:
        """One message; see :meth:`ingest_many`."""
        return self.ingest_many([(raw, source, received_at)])[0]

    def check(self, raw: bytes, source: str = "") -> SpoolResult:
        """What :meth:`ingest` would do with ``raw``, writing nothing (``--dry-run``)."""
        try:
            alert = parse_alert(raw, source=source, limits=self.limits)
        except AlertRejected as exc:
            return SpoolResult("rejected", _rejected_key(raw), exc.kind, None, exc.reason, source)
        status = "duplicate" if self.state_of(alert.key) is not None else "accepted"
        return SpoolResult(status, alert.key, alert.kind, alert.trigger_gps, None, source)

    # -- reading --------------------------------------------------------------------
    def _find(self, key: str) -> tuple[str, str]:
        state = self.state_of(key)
        if state is None:
            raise SpoolError(f"no spool entry {key!r} under {self.path}")
        suffix = _RAW if state == "rejected" else _ALERT
        return state, os.path.join(self.state_dir(state, key), key + suffix)

    def _reason(self, state: str, key: str) -> dict[str, Any] | None:
        try:
            with open(os.path.join(self.state_dir(state, key), key + _REASON), "rb") as handle:
                return json.loads(handle.readline())
        except (FileNotFoundError, ValueError):
            return None

    def read(self, key: str) -> tuple[dict[str, Any], bytes]:
        """``(metadata, raw bytes)`` of an entry; metadata has ``state`` and, for
        failed and rejected entries, ``reason``."""
        state, path = self._find(key)
        with open(path, "rb") as handle:
            if state == "rejected":
                meta = self._reason(state, key) or {"key": key}
                raw = handle.read()
            else:
                meta = json.loads(handle.readline())
                raw = handle.read()
        meta["state"] = state
        if state == "failed":
            meta["reason"] = (self._reason(state, key) or {}).get("reason")
        return meta, raw

    def entries(self, state: str | None = None) -> Iterator[SpoolEntry]:
        """Entries of one state (or all), oldest file first within a state."""
        for name in STATES if state is None else (state,):
            if name not in self.dirs:
                raise SpoolError(f"unknown state {name!r} (one of {', '.join(STATES)})")
            suffix = _RAW if name == "rejected" else _ALERT
            files = sorted((e for e in state_files(self.dirs[name], name in SHARDED)
                            if e.name.endswith(suffix)),
                           key=lambda e: (e.stat().st_mtime_ns, e.name))
            for entry in files:
                key = entry.name[:-len(suffix)]
                yield self._entry(name, key, entry.path)

    def _entry(self, state: str, key: str, path: str) -> SpoolEntry:
        if state == "rejected":
            note = self._reason(state, key) or {}
            return SpoolEntry(key, note.get("kind"), state, note.get("received_at"),
                              note.get("reason"), path)
        try:
            with open(path, "rb") as handle:
                meta = json.loads(handle.readline())
        except (FileNotFoundError, ValueError):
            meta = {}
        reason = (self._reason(state, key) or {}).get("reason") if state == "failed" else None
        return SpoolEntry(key, meta.get("kind"), state, meta.get("received_at"), reason, path)

    def waiting(self) -> int:
        """Alerts not yet through the planner: in incoming/ or claimed/."""
        return sum(1 for state in ("incoming", "claimed")
                   for entry in state_files(self.dirs[state], False)
                   if entry.name.endswith(_ALERT))

    def stats(self) -> dict[str, Any]:
        """Counts per state, the oldest incoming entry's age (s), duplicates seen."""
        counts = {}
        oldest = None
        for state in STATES:
            suffix = _RAW if state == "rejected" else _ALERT
            names = [e for e in state_files(self.dirs[state], state in SHARDED)
                     if e.name.endswith(suffix)]
            counts[state] = len(names)
            if state == "incoming" and names:
                oldest = time.time() - min(e.stat().st_mtime for e in names)
        try:
            with open(os.path.join(self.path, "duplicates.jsonl"), "rb") as handle:
                duplicates = sum(1 for _ in handle)
        except FileNotFoundError:
            duplicates = 0
        return {"root": self.root, "counts": counts, "duplicates": duplicates,
                "oldest_incoming_age": oldest}

    # -- the planner's side ----------------------------------------------------------
    def claim(self, key: str) -> str | None:
        """Move ``key`` from incoming/ to claimed/; its new path, or ``None`` when
        another claimer took it first."""
        target = os.path.join(self.dirs["claimed"], key + _ALERT)
        try:
            os.rename(os.path.join(self.dirs["incoming"], key + _ALERT), target)
        except FileNotFoundError:
            return None
        _fsync_dir(self.dirs["claimed"])
        return target

    def finish(self, key: str, ok: bool, reason: str = "") -> None:
        """Move a claimed entry to done/ or (with ``reason``) failed/."""
        source = os.path.join(self.dirs["claimed"], key + _ALERT)
        if not os.path.exists(source):
            raise SpoolError(f"{key!r} is not claimed")
        state = "done" if ok else "failed"
        directory = self.state_dir(state, key)
        if not ok:
            tmp = self._tmp_path()
            note = {"key": key, "reason": reason or "failed", "failed_at": time.time()}
            _write_file(tmp, (json.dumps(note).encode() + b"\n",))
            os.replace(tmp, os.path.join(directory, key + _REASON))
        os.rename(source, os.path.join(directory, key + _ALERT))
        _fsync_dir(directory)

    def retry(self, key: str) -> None:
        """Move a failed entry back to incoming/ (its reason is dropped: the
        next attempt writes a new one if it fails again)."""
        source = os.path.join(self.dirs["failed"], key + _ALERT)
        if not os.path.exists(source):
            raise SpoolError(f"{key} is not in failed/")
        os.rename(source, os.path.join(self.dirs["incoming"], key + _ALERT))
        _fsync_dir(self.dirs["incoming"])
        try:
            os.unlink(os.path.join(self.dirs["failed"], key + _REASON))
        except FileNotFoundError:
            pass

    def purge(self, dry_run: bool = False) -> dict[str, Any]:
        """Set every incoming entry aside under ``purged/<UTC stamp>/`` (nothing
        is deleted: move a file back into ``incoming/`` to process it after all).
        Returns ``{"purged", "moved_to", "keys" (the first 100), "dry_run"}``; with
        ``dry_run`` what would be moved.  An entry claimed meanwhile stays with
        its claimer."""
        # Journalled alerts first: replayed after the purge, they would come back.
        if not dry_run:
            self.flush()
            self.recover_journal()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = os.path.join(self.path, "purged", stamp)
        with os.scandir(self.dirs["incoming"]) as scan:
            keys = sorted(e.name[:-len(_ALERT)] for e in scan if e.name.endswith(_ALERT))
        moved = keys
        if keys and not dry_run:
            os.makedirs(target, exist_ok=True)
            moved = []
            for key in keys:
                try:
                    os.rename(os.path.join(self.dirs["incoming"], key + _ALERT),
                              os.path.join(target, key + _ALERT))
                except FileNotFoundError:
                    continue
                moved.append(key)
            _fsync_dir(target)
            _fsync_dir(self.dirs["incoming"])
        return {"purged": len(moved), "moved_to": target, "keys": moved[:100],
                "dry_run": dry_run}

    def requeue_claims(self) -> list[str]:
        """Return every claimed entry to incoming/ (stale claims after a crash).
        Call only while holding the planner's lock."""
        moved = []
        for entry in list(self.entries("claimed")):
            os.rename(entry.path, os.path.join(self.dirs["incoming"], entry.key + _ALERT))
            moved.append(entry.key)
        if moved:
            _fsync_dir(self.dirs["incoming"])
        return moved
