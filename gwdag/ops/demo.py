"""``gwdag demo``: the whole pipeline on simulated events, in a fresh data root.

Events come from the simulator (one with a coincident GRB notice, one
sub-threshold, one sent twice), reach the spool through a real ``gwdag listen``
process watching a drop directory, and are planned and run as DAGs on the local
executor.  The summary puts each sky map next to the true position.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..intake.spool import Spool
from ..pipeline.skymap import credible_area, searched
from ..planner.planner import Planner
from ..planner.render import RenderSettings
from ..planner.store import StateStore
from ..steps.simulate import write_simulation
from ..steps.skymap_file import read_sky_map

__all__ = ["DemoReport", "run_demo"]

SUBTHRESHOLD_FAR = 1e-4    # Hz: groups (≤ 1/hour) but below both alert bars
_TIMING = re.compile(r"gwdag step timing: (\w+) ([0-9.]+) s")


@dataclass
class DemoReport:
    """What the demo did, for printing or ``--json``."""

    root: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    spool: dict[str, int] = field(default_factory=dict)
    superevents: list[dict[str, Any]] = field(default_factory=list)
    coincidences: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    run_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _prepare_inputs(sim: Path, count: int, seed: int) -> tuple[list[Path], list[dict]]:
    truth = write_simulation(sim, count, seed=seed, grb_fraction=1.0)
    files: list[Path] = []
    for row in truth:
        folder = Path(row["event"]).parent
        files.append(folder / "event.json")
    # one coincident GRB (the first event's); the others' notices are not sent
    files.insert(1, Path(truth[0]["grb"]["path"]))
    # one sub-threshold event: its FAR raised above the alert bars
    quiet = Path(truth[-1]["event"])
    message = json.loads(quiet.read_text())
    for holder in (message["object"], message["data"]):
        holder["far"] = SUBTHRESHOLD_FAR
    quiet.write_text(json.dumps(message, indent=1))
    truth[-1]["far"] = SUBTHRESHOLD_FAR
    # one duplicate: the second event's message sent again
    files.append(files[2])
    return files, truth


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _listen(root: Path, drop: Path, files: list[Path], log: Path) -> dict[str, int]:
    """Feed ``files`` through a real listener process; the spool counts after."""
    command = [sys.executable, "-m", "gwdag", "listen", "--root", str(root), "--source",
               f"dir://{drop}"]
    with open(log, "wb") as output:
        listener = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    spool = Spool(str(root))
    try:
        _wait_for(lambda: (root / "spool" / "heartbeat").is_dir()
                  and any((root / "spool" / "heartbeat").iterdir()), 30, "the listener")
        for number, path in enumerate(files):
            target = drop / f"{number:02d}-{path.parent.name}-{path.name}"
            shutil.copyfile(path, drop / f".{target.name}.part")
            os.replace(drop / f".{target.name}.part", target)

        def settled() -> bool:
            counts = spool.stats()["counts"]
            return counts["incoming"] + counts["rejected"] + spool.stats()["duplicates"] \
                >= len(files) and not any(drop.iterdir())

        _wait_for(settled, 30, "the listener to spool every file")
    finally:
        listener.send_signal(signal.SIGTERM)
        try:
            listener.wait(10)
        except subprocess.TimeoutExpired:
            listener.kill()
    stats = spool.stats()
    return {**stats["counts"], "duplicates": stats["duplicates"]}


def _step_times(runs: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for err in runs.glob("*/*.err"):
        for match in _TIMING.finditer(err.read_text(errors="replace")):
            times.setdefault(match.group(1), []).append(float(match.group(2)))
    return times


def run_demo(directory: str | Path | None = None, *, events: int = 4, seed: int = 17,
             progress=lambda message: None) -> DemoReport:
    """Run the demo in ``directory`` (default: a new temporary directory)."""
    started = time.perf_counter()
    base = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gwdag-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    root, sim, drop = base / "data", base / "simulated", base / "drop"
    drop.mkdir(exist_ok=True)
    report = DemoReport(str(root))
    progress(f"simulating {events} events into {sim}")
    files, truth = _prepare_inputs(sim, events, seed)
    report.inputs = [{"file": str(p)} for p in files]
    progress(f"feeding {len(files)} files through gwdag listen (dir://{drop})")
    report.spool = _listen(root, drop, files, base / "listen.log")
    progress("planning and running the DAGs on the local executor")
    with Planner(root, RenderSettings(second_alert_delay=0.0, request_cpus=2)) as planner:
        results = planner.run_until_idle(
            lambda r: progress(f"  {r.kind:<10} {r.state:<7} {r.seconds:5.2f} s  {r.key}"))
    report.run_seconds = [r.seconds for r in results if r.state == "done"]
    report.step_seconds = {step: statistics.median(values)
                           for step, values in sorted(_step_times(root / "runs").items())}
    by_graceid = {row["graceid"]: row for row in truth}
    store = StateStore(root)
    try:
        for superevent in sorted(store.superevents(), key=lambda s: s.t_0):
            row = store.event_row(superevent.preferred_event) or {}
            entry: dict[str, Any] = {
                "superevent_id": superevent.superevent_id,
                "preferred_event": superevent.preferred_event, "far": superevent.far,
                "gw_events": list(superevent.gw_events),
                "alerts": [Path(a["path"]).name for a in
                           store.sent_alerts(superevent.superevent_id)]}
            true = by_graceid.get(superevent.preferred_event)
            if row.get("skymap") and true:
                sky = read_sky_map(row["skymap"])
                area, probability = searched(sky.uniq, sky.probdensity,
                                             math.radians(true["ra_deg"]),
                                             math.radians(true["dec_deg"]))
                entry.update({"area_90_deg2": credible_area(sky.uniq, sky.probdensity, 0.9),
                              "true_ra_deg": true["ra_deg"], "true_dec_deg": true["dec_deg"],
                              "searched_area_deg2": area, "searched_prob": probability,
                              "distance_mpc": sky.header.get("DISTMEAN"),
                              "true_distance_mpc": true["distance_mpc"]})
            report.superevents.append(entry)
            report.alerts.extend(entry["alerts"])
        for external in store.external_rows():
            report.coincidences.append({
                "external": external["event_id"], "search": external["search"],
                "superevent_id": external["superevent_id"],
                "temporal_coinc_far": external["temporal_coinc_far"],
                "spatiotemporal_coinc_far": external["spatiotemporal_coinc_far"]})
    finally:
        store.close()
    report.seconds = time.perf_counter() - started
    return report
