"""``gwdag cleanup`` on a populated root: dry run, real run, what it never
touches, the lock, and that a cleaned alert still never runs twice."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import Spool
from gwdag.ops.cleanup import CleanupBusy, cleanup, parse_age
from gwdag.planner.planner import Planner
from gwdag.planner.render import RenderSettings

DAY = 86400.0


@pytest.mark.parametrize("text, seconds", [("30d", 30 * DAY), ("12h", 43200), ("90m", 5400),
                                           ("2w", 14 * DAY), ("15", 15), ("1.5h", 5400)])
def test_ages(text, seconds):
    assert parse_age(text) == seconds


def _populated(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "root"
    spool = Spool(str(root))
    keys = [spool.ingest(synthetic_voevent(n), source="t").key for n in range(4)]
    spool.ingest(b"garbage", source="t")
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        planner.process(keys[0])
        planner.process(keys[1])
    spool.claim(keys[2])                                   # a claim in progress
    running = root / "runs" / "voevent-running"            # a DAG that is running
    running.mkdir(parents=True)
    (running / "run.dag").write_text("JOB a a.sub\n")
    (running / "run.dag.lock").write_text("123\n")
    return root, keys


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_dry_run_then_real_run(tmp_path):
    root, keys = _populated(tmp_path)
    before = _files(root)
    later = time.time() + 40 * DAY
    report = cleanup(root, older_than=30 * DAY, dry_run=True, now=later)
    assert before <= _files(root)                               # nothing removed
    assert report.removed == {"spool_done": 2, "spool_rejected": 1, "runs": 2}
    assert report.kept_running == 1
    real = cleanup(root, older_than=30 * DAY, now=later)
    assert real.removed == report.removed and real.bytes_freed == report.bytes_freed
    left = _files(root)
    assert any(name.startswith("spool/incoming/") for name in left)      # waiting alert
    assert f"spool/claimed/{keys[2]}.alert" in left                      # claimed alert
    assert "runs/voevent-running/run.dag.lock" in left                   # running DAG
    assert not any(name.startswith(("spool/done/", "spool/rejected/")) for name in left)
    assert "state/gwdag.sqlite" in left
    # the cleaned alert arrives again: the spool takes it, the planner does not rerun it
    spool = Spool(str(root))
    again = spool.ingest(synthetic_voevent(0), source="t")
    assert again.key == keys[0]
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        result = planner.process(keys[0])
    assert result.reason == "already planned"


def test_recent_runs_keep_their_logs_compressed(tmp_path):
    root, keys = _populated(tmp_path)
    report = cleanup(root, older_than=30 * DAY, now=time.time() + 2 * 3600)
    assert report.removed == {} and report.compressed > 0
    logs = list((root / "runs" / keys[0]).glob("*.err.gz"))
    assert logs and not list((root / "runs" / keys[0]).glob("*.err"))


def test_overlapping_runs_are_harmless(tmp_path):
    root, _ = _populated(tmp_path)
    with open(root / "state" / "cleanup.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(CleanupBusy):
            cleanup(root, older_than=0)
        result = CliRunner().invoke(main, ["cleanup", "--root", str(root), "--older-than",
                                           "0s"])
        assert result.exit_code == 0 and "another gwdag cleanup" in result.output
    result = CliRunner().invoke(main, ["cleanup", "--root", str(root), "--older-than", "0s",
                                       "--dry-run", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["dry_run"] is True and document["total_bytes_freed"] > 0
    result = CliRunner().invoke(main, ["cleanup", "--root", str(root), "--older-than", "x"])
    assert result.exit_code == 1 and "use a number" in result.output


def test_concurrent_cleanups_beside_a_busy_spool(tmp_path):
    """Three cron cleanups at once while alerts keep arriving and finishing:
    one does the work, the others step aside, and nothing young is lost."""
    import os
    import subprocess
    import sys
    import threading

    root = tmp_path / "root"
    spool = Spool(str(root))
    old = [r.key for r in spool.ingest_many(
        [(synthetic_voevent(n), "t", None) for n in range(1500)])]
    for key in old:
        spool.claim(key)
        spool.finish(key, True)
    two_hours_ago = time.time() - 7200
    for entry in spool.entries("done"):
        os.utime(entry.path, (two_hours_ago, two_hours_ago))
    young: list[str] = []

    def arrivals() -> None:
        writer = Spool(str(root))
        for n in range(5000, 5300):
            key = writer.ingest(synthetic_voevent(n), "t").key
            writer.claim(key)
            writer.finish(key, True)
            young.append(key)

    thread = threading.Thread(target=arrivals)
    thread.start()
    command = [sys.executable, "-m", "gwdag", "cleanup", "--root", str(root),
               "--older-than", "1h", "--json"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in processes]
    thread.join()
    assert [p.returncode for p in processes] == [0, 0, 0]
    reports = [json.loads(out) for out, _ in outputs if out.strip()]
    stepped_aside = sum("another gwdag cleanup" in err for _, err in outputs)
    assert len(reports) + stepped_aside == 3 and reports
    assert sum(r["removed"].get("spool_done", 0) for r in reports) == 1500
    done = {e.key for e in Spool(str(root)).entries("done")}
    assert done == set(young)
