"""The spool: durable states, duplicates, rejections with reasons, claims; the CLI."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake import Spool
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import shard_of


def test_states_duplicates_and_rejections(tmp_path: Path):
    spool = Spool(str(tmp_path))
    first = spool.ingest(synthetic_voevent(1), "test")
    assert first.status == "accepted" and spool.state_of(first.key) == "incoming"
    assert spool.ingest(synthetic_voevent(1), "again").status == "duplicate"
    bad = spool.ingest(b"\x00\x01 not a message", "test")
    assert bad.status == "rejected" and bad.reason.startswith("not XML or JSON")
    shard = tmp_path / "spool/rejected" / shard_of(bad.key)
    raw_path = shard / f"{bad.key}.raw"
    assert raw_path.read_bytes() == b"\x00\x01 not a message"
    reason = json.loads((shard / f"{bad.key}.reason.json").read_text())
    assert reason["reason"] == bad.reason
    meta, raw = spool.read(first.key)
    assert raw == synthetic_voevent(1) and meta["kind"] == "voevent"
    assert spool.stats()["counts"]["incoming"] == 1 and spool.stats()["duplicates"] == 1

    assert spool.claim(first.key) and spool.claim(first.key) is None
    assert spool.ingest(synthetic_voevent(1)).status == "duplicate"  # claimed still counts
    assert spool.requeue_claims() == [first.key]
    spool.claim(first.key)
    spool.finish(first.key, ok=False, reason="planner said no")
    meta, _ = spool.read(first.key)
    assert meta["state"] == "failed" and meta["reason"] == "planner said no"
    assert spool.ingest(synthetic_voevent(1)).status == "duplicate"  # and so does failed


def test_concurrent_writers_of_one_message_store_it_once(tmp_path: Path):
    spool = Spool(str(tmp_path))
    statuses: list[str] = []
    barrier = threading.Barrier(8)

    def write() -> None:
        barrier.wait()
        statuses.append(spool.ingest(synthetic_voevent(7)).status)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 7
    assert len(os.listdir(tmp_path / "spool/incoming")) == 1
    assert os.listdir(tmp_path / "spool/tmp") == []


def test_cli_ingest_ls_show_stats(tmp_path: Path):
    good = tmp_path / "good.xml"
    good.write_bytes(synthetic_voevent(2))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"hello": "world"}')
    runner = CliRunner()
    root = str(tmp_path / "data")
    result = runner.invoke(main, ["ingest", "--root", root, "--json", str(good)])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["status"] == "accepted" and entry["kind"] == "voevent"
    assert entry["trigger_gps"] > 1.4e9
    result = runner.invoke(main, ["ingest", "--root", root, "--json", str(good), str(bad)])
    assert result.exit_code == 1
    assert [d["status"] for d in json.loads(result.output)] == ["duplicate", "rejected"]
    dry = runner.invoke(main, ["ingest", "--root", str(tmp_path / "none"), "--dry-run",
                               str(good)])
    assert dry.exit_code == 0 and not (tmp_path / "none").exists()

    listing = json.loads(runner.invoke(main, ["spool", "ls", "--root", root, "--json"]).output)
    assert listing["schema_version"] == 1
    assert sorted(e["state"] for e in listing["entries"]) == ["incoming", "rejected"]
    rejected = [e for e in listing["entries"] if e["state"] == "rejected"][0]
    assert rejected["reason"].startswith("JSON is neither")
    shown = runner.invoke(main, ["spool", "show", "--root", root, "--json", entry["key"]])
    assert json.loads(shown.output)["fields"]["trigger_id"] == "900000002"
    raw = runner.invoke(main, ["spool", "show", "--root", root, "--raw", entry["key"]])
    assert raw.stdout_bytes == synthetic_voevent(2)
    missing = runner.invoke(main, ["spool", "show", "--root", root, "nope"])
    assert missing.exit_code == 1 and "no spool entry 'nope'" in missing.output
    stats = json.loads(runner.invoke(main, ["spool", "stats", "--root", root, "--json"]).output)
    assert stats["counts"]["incoming"] == 1 and stats["duplicates"] == 1


def test_entries_an_older_gwdag_left_unsharded_are_moved_into_shards(tmp_path: Path):
    spool = Spool(str(tmp_path))
    accepted = spool.ingest(synthetic_voevent(1), "t")
    spool.claim(accepted.key)
    spool.finish(accepted.key, True)
    bad = spool.ingest(b"garbage", "t")
    # put them where gwdag 0.1 kept them: at the top of done/ and rejected/
    done_dir, rejected_dir = tmp_path / "spool/done", tmp_path / "spool/rejected"
    (done_dir / shard_of(accepted.key) / f"{accepted.key}.alert").rename(
        done_dir / f"{accepted.key}.alert")
    for suffix in (".raw", ".reason.json"):
        (rejected_dir / shard_of(bad.key) / f"{bad.key}{suffix}").rename(
            rejected_dir / f"{bad.key}{suffix}")
    (done_dir / "notes.txt").write_text("an operator's file")
    reader = Spool(str(tmp_path), create=False)          # readers see them where they are
    assert reader.stats()["counts"]["done"] == 1 and reader.stats()["counts"]["rejected"] == 1
    Spool(str(tmp_path))                                 # a writer opens: they move
    assert (done_dir / shard_of(accepted.key) / f"{accepted.key}.alert").exists()
    assert (rejected_dir / shard_of(bad.key) / f"{bad.key}.reason.json").exists()
    assert (done_dir / "notes.txt").exists()
    assert spool.state_of(accepted.key) == "done" and spool.state_of(bad.key) == "rejected"
    assert spool.read(bad.key)[0]["reason"].startswith("not XML or JSON")
