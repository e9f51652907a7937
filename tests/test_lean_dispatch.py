"""scripts/lean_dispatch.py, the benchmark's reference loop, does the per-job work
``gwdag dag run`` does: if the executor's artifacts change, the reference must too."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

from gwdag.executors.local import RunOptions, run_dag

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
LEAN = SCRIPTS / "lean_dispatch.py"
_PER_JOB_LINE = re.compile(r"^\S+ \S+ (Submitting HTCondor Node|Event: ULOG_SUBMIT for|"
                           r"Node \S+ job proc|Node \S+ job completed)")


def _event_counts(path: Path) -> collections.Counter:
    import htcondor2

    return collections.Counter((e.type, e.get("LogNotes")) for e in
                               htcondor2.JobEventLog(str(path)).events(0))


def _per_job_lines(path: Path) -> list[str]:
    return [match.group(1) for line in path.read_text().splitlines()
            if (match := _PER_JOB_LINE.match(line))]


def test_lean_loop_writes_what_the_executor_writes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from bench_executor import write_layered  # the benchmark's own DAG, 4 wide, 3 deep

    write_layered(tmp_path, 4, 3)
    dag = tmp_path / "layered.dag"
    assert run_dag(str(dag), RunOptions(cpus=2)).exit_code == 0
    subprocess.run([sys.executable, str(LEAN), str(dag), "--cpus", "2"], check=True,
                   cwd=tmp_path)
    gwdag_events = _event_counts(tmp_path / "layered.dag.nodes.log")
    lean_events = _event_counts(tmp_path / "layered.dag.lean.nodes.log")
    assert sum(lean_events.values()) == 3 * 12
    assert lean_events == gwdag_events   # same events, same DAG Node notes
    gwdag_lines = _per_job_lines(tmp_path / "layered.dag.dagman.out")
    lean_lines = _per_job_lines(tmp_path / "layered.dag.lean.dagman.out")
    assert len(lean_lines) == 4 * 12
    assert sorted(lean_lines) == sorted(gwdag_lines)
