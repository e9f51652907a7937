#!/usr/bin/env python3
"""Benchmark intake: N alerts from a Redis stream through ``gwdag listen``.

A real ``redis-server`` (unix socket) is preloaded with N distinct synthetic
VOEvents (~1 kB each); ``gwdag listen`` then drains the stream into a fresh spool
(journal append + one flush per batch, then parse, write, link, XACK; the files are
flushed by the journal's checkpoint, which holds back new batches when it falls
behind).  Printed: alerts/s from the first receipt to the last spooled alert, and
p50/p99 receive-to-durable latency (to the journal's flush) as the listener
measured it (its heartbeat), next to a plain loop over the same bytes that only
writes, fsyncs and renames each one (the disk's limit), and the ratio.

Usage: python scripts/bench_intake.py [--alerts 10000] [--batch 16]
Goal (issue 4): >= 50% of the disk's limit, p99 under 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gwdag.intake.replay import publish_redis
from gwdag.intake.samples import synthetic_voevent


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    server = shutil.which("redis-server")
    if not server:
        sys.exit("redis-server not found (apt-get install redis-server)")
    sock = directory / "redis.sock"
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", str(sock), "--save", "",
                             "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL)
    while not sock.exists():
        time.sleep(0.01)
    return proc, f"unix://{sock}"


def disk_limit(payloads: list[bytes], directory: Path) -> tuple[float, list[float]]:
    """Write, fsync and rename each payload: alerts/s and per-alert latencies (s)."""
    tmp, final = directory / "tmp", directory / "final"
    tmp.mkdir(parents=True)
    final.mkdir()
    latencies = []
    start = time.perf_counter()
    for index, payload in enumerate(payloads):
        began = time.perf_counter()
        path = tmp / str(index)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, payload)
        os.fsync(fd)
        os.close(fd)
        os.rename(path, final / str(index))
        latencies.append(time.perf_counter() - began)
    return len(payloads) / (time.perf_counter() - start), latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=16, help="entries per XREADGROUP")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-intake-"))
    redis_proc, base = start_redis(work)
    try:
        payloads = [synthetic_voevent(i) for i in range(args.alerts)]
        size = statistics.mean(len(p) for p in payloads)
        limit_rate, limit_lat = disk_limit(payloads, work / "plain")
        source = f"{base}?stream=alerts&group=bench&batch={args.batch}"
        publish_redis(source, payloads)
        root = work / "data"
        started = time.perf_counter()
        listener = subprocess.Popen([sys.executable, "-m", "gwdag", "listen", "--root",
                                     str(root), "--source", source, "--log-level", "WARNING"])
        incoming = root / "spool" / "incoming"
        while not incoming.is_dir() or len(os.listdir(incoming)) < args.alerts:
            time.sleep(0.05)
            if listener.poll() is not None:
                sys.exit("gwdag listen exited early")
        wall = time.perf_counter() - started
        time.sleep(1.5)  # one more heartbeat with the final figures
        listener.terminate()
        listener.wait(10)
        (beat_file,) = (root / "spool" / "heartbeat").iterdir()
        beat = json.loads(beat_file.read_text())
        first = last = None
        for entry in os.scandir(incoming):
            with open(entry.path, "rb") as handle:
                meta = json.loads(handle.readline())
            first = min(first or meta["received_at"], meta["received_at"])
            last = max(last or meta["spooled_at"], meta["spooled_at"])
        rate = args.alerts / (last - first)
        p50, p99 = beat["latency_ms"]["p50"], beat["latency_ms"]["p99"]
        print(f"[intake] {args.alerts} alerts of {size:.0f} B from a Redis stream, "
              f"batches of {args.batch}")
        print(f"  plain write+fsync+rename loop   {limit_rate:8.0f} alerts/s  "
              f"p50 {pct(limit_lat, 0.5) * 1e3:.2f} ms  p99 {pct(limit_lat, 0.99) * 1e3:.2f} ms")
        print(f"  gwdag listen                    {rate:8.0f} alerts/s  "
              f"p50 {p50:.2f} ms  p99 {p99:.2f} ms (receive to durable)")
        print(f"  wall clock incl. start-up       {wall:8.2f} s")
        print(f"  ratio gwdag / disk limit        {rate / limit_rate:8.2f}  (goal >= 0.5; "
              f"p99 goal < 5 ms)")
    finally:
        redis_proc.terminate()
        redis_proc.wait(5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
