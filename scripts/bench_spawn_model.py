#!/usr/bin/env python3
"""A model of the local executor's dispatch loop: where does 1.5x make need it to be?

N ``/bin/true`` jobs, at most 2 running, each costing the parent W seconds of
Python (half at start, half at exit, busy-waited), dispatched two ways:

* ``serial``: the parent calls ``os.posix_spawn`` and ``os.wait4`` itself, as
  ``gwdag dag run`` does (the parent blocks in the vfork until the child execs);
* ``helper``: a forked helper process spawns and reaps; the parent sends it one
  byte per job over a pipe and reads ``(pid, status)`` back, so the parent's
  Python and the spawns overlap.

Both run alternately for each W, next to ``make -j2`` on a Makefile of N
independent ``/bin/true`` targets; prints wall time, the parent's and the
children's CPU, and each wall time over make's.  See docs/executor.md.

Usage: python scripts/bench_spawn_model.py [--jobs 2000] [--work 0.0003 0.00015]
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CPUS = 2
TRUE = "/bin/true"


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def serial(jobs: int, work: float) -> None:
    env = dict(os.environ)
    running = started = done = 0
    while done < jobs:
        while running < CPUS and started < jobs:
            os.posix_spawn(TRUE, [TRUE], env, setsid=True)
            started += 1
            running += 1
            busy(work / 2)
        os.wait4(-1, 0)
        running -= 1
        done += 1
        busy(work / 2)


def _helper_loop(requests: int, replies: int) -> None:
    env = dict(os.environ)
    pending = 0
    while True:
        ready, _, _ = select.select([requests], [], [], 0 if pending else None)
        if ready:
            data = os.read(requests, 64)
            if not data:
                return
            for _ in data:
                os.posix_spawn(TRUE, [TRUE], env, setsid=True)
                pending += 1
        while pending:
            pid, status, _ = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                if select.select([requests], [], [], 0.0002)[0]:
                    break
                continue
            pending -= 1
            os.write(replies, struct.pack("ii", pid, status))


def helper(jobs: int, work: float) -> None:
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(request_write)
        os.close(reply_read)
        _helper_loop(request_read, reply_write)
        os._exit(0)
    os.close(request_read)
    os.close(reply_write)
    running = started = done = 0
    buffer = b""
    while done < jobs:
        while running < CPUS and started < jobs:
            os.write(request_write, b"x")
            started += 1
            running += 1
            busy(work / 2)
        buffer += os.read(reply_read, 8 * CPUS)
        while len(buffer) >= 8:
            buffer = buffer[8:]
            running -= 1
            done += 1
            busy(work / 2)
    os.close(request_write)
    os.waitpid(pid, 0)


def _measure(mode: str, jobs: int, work: float) -> str:
    """Run one mode in a fresh process (so its rusage is its own)."""
    code = (f"import sys, time, resource; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench_spawn_model as m; t = time.perf_counter(); "
            f"m.{mode}({jobs}, {work}); wall = time.perf_counter() - t; "
            "s = resource.getrusage(resource.RUSAGE_SELF); "
            "c = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(wall, s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime)")
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout


def make_time(jobs: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="gwdag-spawn-"))
    try:
        targets = [f"t{i}" for i in range(jobs)]
        rules = [f".PHONY: all {' '.join(targets)}", f"all: {' '.join(targets)}"]
        rules += [f"{target}:\n\t@{TRUE}" for target in targets]
        (work / "Makefile").write_text("\n".join(rules) + "\n")
        start = time.perf_counter()
        subprocess.run(["make", "-s", f"-j{CPUS}"], cwd=work, check=True)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--work", type=float, nargs="+", default=[0.0003, 0.00015],
                        help="seconds of parent Python per job (default 0.3 and 0.15 ms)")
    args = parser.parse_args()
    if shutil.which("make") is None:
        sys.exit("make is needed for the baseline")
    for work in args.work:
        for mode in ("serial", "helper", "serial", "helper"):
            baseline = make_time(args.jobs)
            wall, parent, children = map(float, _measure(mode, args.jobs, work).split())
            print(f"{mode:7s} {work * 1e3:.2f} ms/job: wall {wall:.2f} s (make -j{CPUS} "
                  f"{baseline:.2f} s, {wall / baseline:.2f}x)  parent CPU {parent:.2f} s  "
                  f"children CPU {children:.2f} s")


if __name__ == "__main__":
    main()
