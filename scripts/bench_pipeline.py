#!/usr/bin/env python
"""End-to-end latency of the GW pipeline: alert file into the listener's drop
directory -> first preliminary alert JSON in the outbox.

A real ``gwdag listen`` (dir:// source) and a real ``gwdag plan`` daemon run on a
fresh data root with the local executor; simulated three-detector events are
dropped one at a time.  Printed: median and p90 latency, each step's median
wall time (a DAG node is a fresh ``python -m gwdag step`` process) and its
share, and — as the baseline measured in the same run — the same four steps
called in one process without listener, spool, DAG or executor.

    python scripts/bench_pipeline.py [--events 10] [--seed 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from precompile import compile_gwdag

from gwdag.steps.gw import run_alert, run_coinc, run_superevent  # noqa: E402
from gwdag.steps.localize import run_localize  # noqa: E402
from gwdag.steps.simulate import write_simulation  # noqa: E402

TIMING = re.compile(r"gwdag step timing: (\w+) ([0-9.]+) s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def three_detector_events(out: Path, count: int, seed: int) -> list[dict]:
    """``count`` simulated events seen by H1, L1 and V1 (draws more as needed)."""
    truth = write_simulation(out, count * 4, seed=seed, spacing=2000.0)
    chosen = [row for row in truth if len(row["snr"]) == 3][:count]
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} three-detector events among {len(truth)}")
    return chosen


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def run_pipeline(root: Path, events: list[dict], cpus: int) -> list[float]:
    drop = root.parent / "drop"
    drop.mkdir()
    env = dict(os.environ, GWDAG_PLANNER__SECOND_ALERT_DELAY="0",
               GWDAG_PLANNER__REQUEST_CPUS=str(cpus))
    logs = root.parent
    root.mkdir(parents=True, exist_ok=True)
    listener = subprocess.Popen([sys.executable, "-m", "gwdag", "listen", "--root", str(root),
                                 "--source", f"dir://{drop}"], env=env,
                                stdout=open(logs / "listen.log", "wb"),
                                stderr=subprocess.STDOUT)
    planner = subprocess.Popen([sys.executable, "-m", "gwdag", "plan", "--root", str(root)],
                               env=env, stdout=open(logs / "plan.log", "wb"),
                               stderr=subprocess.STDOUT)
    latencies = []
    try:
        wait_for(lambda: (root / "spool" / "heartbeat").is_dir()
                 and any((root / "spool" / "heartbeat").iterdir()), 30, "the listener")
        outbox = root / "outbox"
        for number, row in enumerate(events):
            before = set(outbox.glob("*/*-1-preliminary.json")) if outbox.exists() else set()
            target = drop / f"{number:03d}.json"
            shutil.copyfile(row["event"], drop / f".{number:03d}.part")
            dropped = time.time()
            os.replace(drop / f".{number:03d}.part", target)
            new = wait_for(lambda before=before: set(outbox.glob("*/*-1-preliminary.json"))
                           - before, 120, f"the alert of event {number}")
            latencies.append(min(p.stat().st_mtime for p in new) - dropped)
            print(f"  event {number}: {latencies[-1]:.2f} s", file=sys.stderr)
    finally:
        for process in (listener, planner):
            process.send_signal(signal.SIGTERM)
        for process in (listener, planner):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    return latencies


def step_times(root: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for err in (root / "runs").glob("*/*.err"):
        for match in TIMING.finditer(err.read_text(errors="replace")):
            times.setdefault(match.group(1), []).append(float(match.group(2)))
    return times


def run_in_process(root: Path, events: list[dict], threads: int) -> list[float]:
    """The baseline: the same steps as plain function calls in this process."""
    run_localize(out=root / "warm.fits", event=events[0]["event"], threads=threads)
    seconds = []
    for row in events:
        started = time.perf_counter()
        skymap = root / f"{row['graceid']}.fits"
        run_localize(out=skymap, event=row["event"], threads=threads)
        report = run_superevent(root, row["event"], skymap)
        run_coinc(root, superevent=report["superevent_id"])
        run_alert(root, report["superevent_id"], second_after=0)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cpus", type=int, default=2, help="request_cpus of localize")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    compile_gwdag()
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-pipeline-"))
    try:
        events = three_detector_events(work / "sim", args.events, args.seed)
        latencies = run_pipeline(work / "root", events, args.cpus)
        steps = {step: statistics.median(values)
                 for step, values in sorted(step_times(work / "root").items())}
        baseline = run_in_process(work / "baseline", events, args.cpus)
    finally:
        for log in ("listen.log", "plan.log"):
            path = work / log
            if path.exists() and "Traceback" in path.read_text(errors="replace"):
                print(f"--- {log}\n{path.read_text(errors='replace')[-2000:]}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    median = statistics.median(latencies)
    figures = {"events": len(latencies), "median_s": median,
               "p90_s": percentile(latencies, 0.9), "steps_s": steps,
               "baseline_median_s": statistics.median(baseline)}
    print(f"\n{len(latencies)} three-detector events, local executor, 2 cores")
    print(f"listener -> outbox latency: median {median:.2f} s, p90 {figures['p90_s']:.2f} s")
    for step, seconds in steps.items():
        print(f"  {step:<11} {seconds:5.2f} s  ({100 * seconds / median:4.1f}% of the median)")
    print(f"rest (listener, spool, planner, executor): "
          f"{median - sum(steps.values()):.2f} s")
    print(f"baseline, the same steps in one process: median "
          f"{figures['baseline_median_s']:.2f} s -> end-to-end is "
          f"{median / figures['baseline_median_s']:.1f}x the baseline")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
