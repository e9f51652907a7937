#!/usr/bin/env python3
"""Benchmark gwdag's local executor against ``make -j`` on the same graph.

1. A layered DAG of ``/bin/true`` jobs, 50 wide and 40 deep (2,000 nodes), node i of
   a layer depending on nodes i and i+1 (mod 50) of the layer above: ``gwdag dag
   run --cpus 2`` next to ``make -j2`` on a generated Makefile of the same graph
   running the same command per target, whole processes, and the ratio.
2. Per-edge latency: a 1,000-node chain of ``/bin/true`` jobs; (wall time - the
   time of the same 1,000 ``/bin/true`` processes run one after another) / edges,
   from the medians of ``--repeat`` alternating runs of each.

Each figure is the median of ``--repeat`` runs (3), gwdag and make alternating,
so a noisy machine moves both alike.  ``--job-ms MS`` makes every layered job
``/bin/sleep`` for MS milliseconds instead of ``/bin/true`` (both sides), to see
the executor's overhead on jobs that are not empty (the chain keeps /bin/true).
``--lean`` also times ``scripts/lean_dispatch.py`` on the layered DAG, in the same
alternation: the leanest Python loop writing the same per-job artifacts, to show
how much of the gap to make is the executor's structure rather than Python.

Usage: python scripts/bench_executor.py [--width 50] [--depth 40] [--chain 1000]
       [--repeat 3] [--job-ms 0] [--lean] [--settle-off]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from precompile import compile_gwdag


def write_layered(directory: Path, width: int, depth: int, job_ms: float = 0) -> None:
    """The layered DAG and its Makefile; jobs are ``/bin/true``, or ``/bin/sleep``
    for ``job_ms`` milliseconds."""
    command = f"/bin/sleep {job_ms / 1000:g}" if job_ms else "/bin/true"
    lines = []
    make = [".PHONY: all", "all: " + " ".join(f"L{depth - 1}_{i}" for i in range(width))]
    for k in range(depth):
        for i in range(width):
            lines.append(f"JOB L{k}_{i} job.sub")
            parents = [f"L{k - 1}_{i}", f"L{k - 1}_{(i + 1) % width}"] if k else []
            make.append(f"L{k}_{i}: {' '.join(parents)}\n\t@{command}")
            make.append(f".PHONY: L{k}_{i}")
            if parents:
                lines.append(f"PARENT {' '.join(parents)} CHILD L{k}_{i}")
    (directory / "layered.dag").write_text("\n".join(lines) + "\n")
    (directory / "Makefile").write_text("\n".join(make) + "\n")
    (directory / "true.sub").write_text("universe = local\nexecutable = /bin/true\nqueue\n")
    executable, _, arguments = command.partition(" ")
    arguments_line = f"arguments = {arguments}\n" if arguments else ""
    (directory / "job.sub").write_text(f"universe = local\nexecutable = {executable}\n"
                                       f"{arguments_line}queue\n")


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {done.stderr[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=50)
    parser.add_argument("--depth", type=int, default=40)
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--job-ms", type=float, default=0,
                        help="each layered job sleeps this many ms (default 0: /bin/true)")
    parser.add_argument("--lean", action="store_true",
                        help="also time scripts/lean_dispatch.py on the layered DAG")
    parser.add_argument("--settle-off", action="store_true",
                        help="also time gwdag with --settle 0 (no pause before the first "
                             "job: see docs/executor.md)")
    args = parser.parse_args()
    if args.job_ms < 0:
        parser.error("--job-ms must be 0 or more")
    compile_gwdag()
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-exec-"))
    try:
        write_layered(work, args.width, args.depth, args.job_ms)
        nodes = args.width * args.depth
        gwdag_times, make_times, lean_times, unsettled_times = [], [], [], []
        lean_script = str(Path(__file__).with_name("lean_dispatch.py"))
        for _ in range(args.repeat):
            for stale in work.glob("layered.dag.*"):   # a fresh run, not a rescue
                stale.unlink()
            gwdag_times.append(timed([sys.executable, "-m", "gwdag", "dag", "run",
                                      "layered.dag", "--cpus", "2"], work))
            make_times.append(timed(["make", "-j2", "-s"], work))
            if args.settle_off:
                for stale in work.glob("layered.dag.*"):
                    stale.unlink()
                unsettled_times.append(timed([sys.executable, "-m", "gwdag", "dag", "run",
                                              "layered.dag", "--cpus", "2", "--settle", "0"],
                                             work))
            if args.lean:
                lean_times.append(timed([sys.executable, lean_script, "layered.dag",
                                         "--cpus", "2"], work))
        gwdag, make = statistics.median(gwdag_times), statistics.median(make_times)
        what = f"/bin/sleep {args.job_ms:g} ms" if args.job_ms else "/bin/true"
        print(f"[layered] {nodes} nodes of {what}, 2 CPUs, median of {args.repeat}")
        print(f"  make -j2                {make:7.2f} s")
        print(f"  gwdag dag run --cpus 2  {gwdag:7.2f} s")
        print(f"  ratio gwdag / make      {gwdag / make:7.2f}x  (goal <= 1.5x; DAGMan at "
              "its 5 s scan interval needs over 200 s)")
        if unsettled_times:
            unsettled = statistics.median(unsettled_times)
            print(f"  gwdag with --settle 0   {unsettled:7.2f} s  ({unsettled / make:.2f}x make; "
                  "no pause before the first job)")
        if lean_times:
            lean = statistics.median(lean_times)
            print(f"  lean Python loop        {lean:7.2f} s  ({lean / make:.2f}x make; "
                  "scripts/lean_dispatch.py, same per-job artifacts)")
        chain = work / "chain"
        chain.mkdir()
        lines = [f"JOB C{i} true.sub" for i in range(args.chain)]
        lines += [f"PARENT C{i - 1} CHILD C{i}" for i in range(1, args.chain)]
        (chain / "chain.dag").write_text("\n".join(lines) + "\n")
        shutil.copy(work / "true.sub", chain / "true.sub")
        serial_times, chain_times = [], []
        for _ in range(args.repeat):   # alternating, medians: one pair is noisy here
            start = time.perf_counter()
            for _ in range(args.chain):
                subprocess.run(["/bin/true"])
            serial_times.append(time.perf_counter() - start)
            chain_times.append(timed([sys.executable, "-m", "gwdag", "dag", "run", "chain.dag"],
                                     chain))
        serial = statistics.median(serial_times)
        total = statistics.median(chain_times)
        per_edge = (total - serial) / (args.chain - 1)
        print(f"[chain] {args.chain} nodes: run {total:.2f} s, the same processes one by one "
              f"{serial:.2f} s (medians of {args.repeat})")
        print(f"  per-edge latency        {per_edge * 1000:7.2f} ms  (goal < 5 ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
