"""Terminate events read back by HTCondor's own reader: the bodies the writer
shares between jobs never mix up two jobs' outcomes or CPU times."""

from __future__ import annotations

import htcondor2

from gwdag.dagman.eventlog import EventLogWriter, Usage


def test_terminate_events_keep_each_jobs_outcome(tmp_path):
    path = str(tmp_path / "x.log")
    outcomes = [  # (return value, signal, usage) — repeated ones share a body
        (0, None, Usage(0.2, 0.1)), (3, None, Usage(0.2, 0.1)), (None, 9, Usage(0.2, 0.1)),
        (0, None, Usage(75.5, 0.1)), (0, None, Usage(0.2, 0.1)), (3, None, Usage(0.0, 61.0)),
    ]
    with EventLogWriter(path, truncate=True) as log:
        for cluster, (value, signal, usage) in enumerate(outcomes, start=1):
            log.terminated(cluster, 0, return_value=value, signal=signal, usage=usage)
    events = list(htcondor2.JobEventLog(path).events(0))
    assert [e.cluster for e in events] == list(range(1, len(outcomes) + 1))
    seen = [(e.get("ReturnValue"), e.get("TerminatedBySignal"), e["RunRemoteUsage"])
            for e in events]
    assert seen == [
        (0, None, "Usr 0 00:00:00, Sys 0 00:00:00"), (3, None, "Usr 0 00:00:00, Sys 0 00:00:00"),
        (None, 9, "Usr 0 00:00:00, Sys 0 00:00:00"), (0, None, "Usr 0 00:01:15, Sys 0 00:00:00"),
        (0, None, "Usr 0 00:00:00, Sys 0 00:00:00"), (3, None, "Usr 0 00:00:00, Sys 0 00:01:01"),
    ]
