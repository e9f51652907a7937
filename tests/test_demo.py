"""``gwdag demo`` end to end: a real listener process, the planner, DAGs on the
local executor, and the report against the simulator's truth."""

from __future__ import annotations

import json
import subprocess
import sys
import time


def test_demo_runs_the_whole_pipeline(tmp_path):
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "gwdag", "demo", "--dir", str(tmp_path),
                             "--json"], capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["spool"]["duplicates"] == 1 and report["spool"]["rejected"] == 0
    superevents = report["superevents"]
    assert len(superevents) == 4
    quiet = [s for s in superevents if s["far"] == 1e-4]
    assert len(quiet) == 1 and quiet[0]["alerts"] == []       # the sub-threshold one
    loud = [s for s in superevents if s["far"] < 1e-4]
    assert all(len(s["alerts"]) >= 2 for s in loud)
    for s in superevents:
        assert s["area_90_deg2"] > 0 and 0 <= s["searched_prob"] <= 1
    (coincidence,) = report["coincidences"]
    assert coincidence["superevent_id"] == superevents[0]["superevent_id"]
    assert 0 < coincidence["spatiotemporal_coinc_far"] < coincidence["temporal_coinc_far"]
    # the G-event was planned before the GRB notice: the joint FAR went out as an update
    assert superevents[0]["alerts"][-1].endswith("-3-update.json")
    assert set(report["step_seconds"]) == {"localize", "superevent", "coinc", "alert",
                                           "external"}
    assert elapsed < 60
