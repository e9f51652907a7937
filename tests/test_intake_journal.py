"""The spool's write-ahead journal: durable batches, checkpoints, crash recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from gwdag.intake import Spool
from gwdag.intake.journal import JournalRecord, read_segment
from gwdag.intake.samples import synthetic_voevent


def _segments(root: Path) -> list[Path]:
    journal = root / "spool" / "journal"
    return sorted(journal.glob("*.log")) if journal.is_dir() else []


def _crash_after_ingest(root: Path, count: int, bad: bytes = b"") -> None:
    """Ingest ``count`` alerts (and ``bad``) through the journal in a process that
    then dies without its checkpoint: the segment stays, its lock released."""
    script = textwrap.dedent(f"""
        import os, sys
        from gwdag.intake import Spool
        from gwdag.intake.samples import synthetic_voevent
        spool = Spool({str(root)!r}, journal=True)
        batch = [(synthetic_voevent(i), "test", None) for i in range({count})]
        if {bad!r}:
            batch.append(({bad!r}, "test", None))
        spool.ingest_many(batch)
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def _alert_raw(path: Path) -> bytes:
    data = path.read_bytes()
    json.loads(data[:data.index(b"\n")])
    return data[data.index(b"\n") + 1:]


def test_a_batch_is_in_the_journal_and_the_spool_and_a_flush_retires_the_segment(
        tmp_path: Path):
    spool = Spool(str(tmp_path), journal=True)
    results = spool.ingest_many([(synthetic_voevent(i), "test", None) for i in range(5)]
                                + [(b"<not xml", "test", None)])
    assert [r.status for r in results] == ["accepted"] * 5 + ["rejected"]
    assert all(r.durable_at is not None for r in results)
    (segment,) = _segments(tmp_path)
    records = list(read_segment(str(segment)))
    assert [r.raw for r in records] == [synthetic_voevent(i) for i in range(5)] + [b"<not xml"]
    assert len(list(spool.entries("incoming"))) == 5
    assert spool.flush(timeout=30)
    assert spool.journal.stats() == {"unflushed_files": 0, "flush_errors": 0}
    assert _segments(tmp_path) == []
    # A duplicate through the journal is recorded, not written again.
    again = spool.ingest_many([(synthetic_voevent(0), "other", None)])
    assert again[0].status == "duplicate"
    assert spool.flush(timeout=30)


def test_recovery_restores_lost_and_torn_files_from_a_dead_writers_segment(tmp_path: Path):
    _crash_after_ingest(tmp_path, 4, bad=b"\x00garbage")
    (segment,) = _segments(tmp_path)
    spool = Spool(str(tmp_path))
    incoming = sorted(Path(spool.dirs["incoming"]).iterdir())
    assert len(incoming) == 4
    # What a power cut can leave of files linked but never flushed: one empty,
    # one never linked at all, one torn in its header.
    os.truncate(incoming[0], 0)
    incoming[1].unlink()
    incoming[2].write_bytes(b'{"key": tru')
    rejected = [p for p in Path(spool.dirs["rejected"]).rglob("*.raw")]
    assert len(rejected) == 1
    os.truncate(rejected[0], 0)

    assert spool.recover_journal() == 5
    assert not segment.exists()
    restored = {_alert_raw(p) for p in Path(spool.dirs["incoming"]).iterdir()}
    assert restored == {synthetic_voevent(i) for i in range(4)}
    assert rejected[0].read_bytes() == b"\x00garbage"
    reason = json.loads((rejected[0].parent / (rejected[0].stem + ".reason.json")).read_text())
    assert reason["reason"]
    # Nothing is counted twice: recovery is not a second delivery.
    assert spool.stats()["duplicates"] == 0
    assert spool.recover_journal() == 0


def test_recovery_finds_an_entry_the_planner_has_moved_on(tmp_path: Path):
    _crash_after_ingest(tmp_path, 1)
    spool = Spool(str(tmp_path))
    (entry,) = spool.entries("incoming")
    spool.claim(entry.key)
    spool.finish(entry.key, ok=True)
    done = Path(spool.state_dir("done", entry.key)) / f"{entry.key}.alert"
    os.truncate(done, 0)
    assert spool.recover_journal() == 1
    assert _alert_raw(done) == synthetic_voevent(0)
    assert list(spool.entries("incoming")) == []      # not resurrected


def test_a_torn_last_record_is_ignored(tmp_path: Path):
    _crash_after_ingest(tmp_path, 2)
    (segment,) = _segments(tmp_path)
    records = list(read_segment(str(segment)))
    assert len(records) == 2
    # A crash in the middle of appending a third batch (never acknowledged):
    with open(segment, "r+b") as handle:
        data = handle.read()
        end = data.rindex(synthetic_voevent(1)) + len(synthetic_voevent(1))
        handle.seek(end)
        handle.write(b'{"source":"test","received_at":1.0,"size":900,"crc":1}\n<voe:VOE')
    assert [r.raw for r in read_segment(str(segment))] == [r.raw for r in records]
    spool = Spool(str(tmp_path))
    assert spool.recover_journal() == 2


def test_a_live_writers_segment_is_left_alone(tmp_path: Path):
    writer = Spool(str(tmp_path), journal=True)
    writer.ingest_many([(synthetic_voevent(1), "test", None)])
    (segment,) = _segments(tmp_path)
    assert Spool(str(tmp_path)).recover_journal() == 0
    assert segment.exists()
    assert writer.flush(timeout=30)
    assert not segment.exists()


def test_purge_flushes_the_journal_so_recovery_cannot_bring_entries_back(tmp_path: Path):
    spool = Spool(str(tmp_path), journal=True)
    spool.ingest_many([(synthetic_voevent(i), "test", None) for i in range(3)])
    assert spool.purge()["purged"] == 3
    assert _segments(tmp_path) == []
    assert Spool(str(tmp_path)).recover_journal() == 0
    assert list(spool.entries("incoming")) == []


def test_record_framing_round_trips_any_bytes(tmp_path: Path):
    from gwdag.intake.journal import _encode

    records = [JournalRecord(b"", "a", 1.5), JournalRecord(b"\n\x00\xff" * 100, "b\n", 2.0),
               JournalRecord(bytes(range(256)), "c", 3.25)]
    path = tmp_path / "x.log"
    path.write_bytes(b"".join(_encode(r) for r in records) + bytes(4096))
    assert list(read_segment(str(path))) == records


def test_a_failed_checkpoint_keeps_the_segment_for_the_next_start(tmp_path: Path):
    """An fsync error (EIO: injected, a disk cannot be made to fail here) is
    counted, and the segment is closed, not deleted: recovery replays it."""
    import errno

    from gwdag.intake.journal import Journal

    def failing_flush(fds, directories):
        raise OSError(errno.EIO, "Input/output error")

    spool = Spool(str(tmp_path), journal=True)
    spool.journal = Journal(str(tmp_path / "spool" / "journal"), failing_flush)
    spool.ingest_many([(synthetic_voevent(i), "test", None) for i in range(3)])
    assert spool.flush(timeout=30)
    assert spool.journal.stats() == {"unflushed_files": 0, "flush_errors": 1}
    (segment,) = _segments(tmp_path)
    assert Spool(str(tmp_path)).recover_journal() == 3
    assert not segment.exists()
    assert len(list(spool.entries("incoming"))) == 3
