#!/usr/bin/env python
"""Operations commands on a big root: ``gwdag status``, ``nagios`` and
``metrics`` wall time with 100,000 spool entries and 1,000 runs, and
``cleanup`` throughput.  Each read command runs as a fresh process, as a
monitoring system runs it; the baseline measured in the same run is a bare
``os.scandir`` count of the spool (the least any of them must do).

    python scripts/bench_ops.py [--entries 100000] [--runs 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from precompile import compile_gwdag

from gwdag.intake.heartbeat import Heartbeat  # noqa: E402
from gwdag.intake.samples import synthetic_voevent  # noqa: E402
from gwdag.intake.spool import SHARDED, Spool, state_files  # noqa: E402
from gwdag.ops.cleanup import cleanup  # noqa: E402
from gwdag.planner.store import StateStore  # noqa: E402


def populate(root: Path, entries: int, runs: int) -> None:
    spool = Spool(str(root))
    batch = 2000
    for start in range(0, entries, batch):
        spool.ingest_many([(synthetic_voevent(n), "bench", None)
                           for n in range(start, min(entries, start + batch))])
        print(f"  spooled {min(entries, start + batch)}/{entries}", file=sys.stderr)
    # most alerts are done, some wait, a few failed
    keys = [e.key for e in spool.entries("incoming")]
    for key in keys[: int(len(keys) * 0.9)]:
        spool.claim(key)
        spool.finish(key, True)
    for key in keys[int(len(keys) * 0.9): int(len(keys) * 0.9) + 50]:
        spool.claim(key)
        spool.finish(key, False, "bench failure")
    store = StateStore(root)
    with store.transaction():
        for number in range(runs):
            run_dir = root / "runs" / f"run-{number:05d}"
            run_dir.mkdir(parents=True, exist_ok=True)
            for name in ("run.dag", "a.out", "a.err", "nodes.log"):
                (run_dir / name).write_text("x" * 200 + "\ngwdag step timing: alert 0.1 s\n")
            store.put_run(run_dir.name, run_dir.name, "voevent",
                          "failed" if number % 100 == 0 else "done", str(run_dir / "run.dag"),
                          "bench", finished=True)
    store.close()
    beat = Heartbeat("vtp://bench:8099")
    beat.status = "running"
    beat.contact()
    beat.write(str(root))


def timed(command: list[str], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scandir_baseline(root: Path) -> float:
    """A bare count of every spool file, through the shards."""
    started = time.perf_counter()
    for state in ("incoming", "claimed", "done", "failed", "rejected"):
        sum(1 for _ in state_files(str(root / "spool" / state), state in SHARDED))
    return time.perf_counter() - started


def unlink_baseline(work: Path, count: int = 20_000) -> float:
    """Files per second a plain loop unlinks from one flat directory, for files
    written and fsync'd as the spool writes them (the unsharded layout's best)."""
    flat = work / "flat"
    flat.mkdir()
    payload = synthetic_voevent(1)
    for number in range(count):
        handle = os.open(flat / f"{number:06d}.alert", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(handle, payload)
        os.fsync(handle)
        os.close(handle)
    started = time.perf_counter()
    for number in range(count):
        os.unlink(flat / f"{number:06d}.alert")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1_000)
    args = parser.parse_args()
    compile_gwdag()
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-ops-"))
    root = work / "root"
    try:
        started = time.perf_counter()
        populate(root, args.entries, args.runs)
        print(f"populated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        python = [sys.executable, "-m", "gwdag"]
        figures = {
            "status --json": timed(python + ["status", "--root", str(root), "--json"]),
            "nagios": timed(python + ["nagios", "--root", str(root)]),
            "metrics (prometheus)": timed(python + ["metrics", "--root", str(root)]),
            "metrics (influx)": timed(python + ["metrics", "--root", str(root), "--format",
                                                "influx"]),
        }
        baseline = scandir_baseline(root)
        startup = timed(python + ["--version"])
        entries = Spool(str(root)).stats()["counts"]["done"] + args.runs
        started = time.perf_counter()
        report = cleanup(root, older_than=0.0, now=time.time() + 10)
        seconds = time.perf_counter() - started
        removed = sum(report.removed.values())
        flat_rate = unlink_baseline(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.entries} spool entries, {args.runs} runs; each command a fresh process "
          "(median of 3)")
    for name, seconds_taken in figures.items():
        print(f"  gwdag {name:<22} {seconds_taken:6.3f} s   (goal < 1 s; "
              f"{seconds_taken / startup:.1f}x a bare `gwdag --version`)")
    print(f"  baseline: `gwdag --version`     {startup:6.3f} s")
    print(f"  baseline: scandir of the spool  {baseline:6.3f} s")
    rate = removed / seconds
    print(f"cleanup: {removed} entries and run directories in {seconds:.2f} s = "
          f"{rate:,.0f} per s (goal > 20,000 per s; {entries} candidates)")
    print(f"  baseline: one-thread unlink of fsync'd files in one flat directory "
          f"{flat_rate:,.0f} per s; cleanup = {rate / flat_rate:.2f}x")


if __name__ == "__main__":
    main()
