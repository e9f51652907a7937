"""``gwdag q`` and ``gwdag watch``: run tables from the artifacts, exit conditions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import Spool
from gwdag.ops.watch import ExitCondition, RunRow, collect_runs
from gwdag.planner.planner import Planner
from gwdag.planner.render import RenderSettings


def _row(state: str, held: int = 0) -> RunRow:
    return RunRow("r", "voevent", state, None, None, None, total=3, held=held)


@pytest.mark.parametrize("text, rows, met", [
    ("all,done,0", [_row("done"), _row("skipped")], True),
    ("all,done,0", [_row("done"), _row("running")], False),
    ("all,done,0", [], False),
    ("any,failed,1", [_row("done"), _row("failed")], True),
    ("any,failed,1", [_row("running")], False),
    ("all,finished", [_row("done"), _row("failed")], True),
    ("any,held,2", [_row("running", held=1)], True),
    ("ANY, HELD", [_row("running")], False),
])
def test_exit_conditions(text, rows, met):
    assert ExitCondition.parse(text).met(rows) is met


@pytest.mark.parametrize("text", ["some,done", "all,idle", "all", "any,failed,x"])
def test_bad_exit_conditions(text):
    with pytest.raises(ValueError, match="--exit"):
        ExitCondition.parse(text)


def _watch(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gwdag", "watch", "--root", str(root),
                             "--json", "--interval", "0.5", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_watch_follows_runs_to_their_end(tmp_path):
    root = tmp_path / "root"
    spool = Spool(str(root))
    keys = [spool.ingest(synthetic_voevent(n, role="observation"), "t").key for n in (1, 2)]
    watcher = _watch(root, "--exit", "all,done,0")
    time.sleep(1.5)                    # the watcher is up before any run exists
    assert watcher.poll() is None      # nothing to watch yet: all,done is not met
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        planner.run_until_idle()
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    documents = [json.loads(line) for line in out.splitlines()]
    final = {r["run_id"]: r for r in documents[-1]["runs"]}
    assert set(final) == set(keys)
    assert all(r["state"] == "done" and r["nodes"]["done"] == r["nodes"]["total"] == 3
               for r in final.values())
    # it saw the runs on their way, not only at the end
    assert any(r["state"] == "running" for d in documents for r in d["runs"])


def test_watch_all_waits_for_alerts_not_yet_planned(tmp_path):
    """With one run done and another alert still in the spool, 'all,done' is not
    met: the planner has not made that alert's run yet."""
    root = tmp_path / "root"
    spool = Spool(str(root))
    keys = [spool.ingest(synthetic_voevent(n, role="observation"), "t").key for n in (1, 2)]
    watcher = _watch(root, "--exit", "all,done,0")
    time.sleep(1.5)                    # up before any run exists
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        planner.process(keys[0])
    assert spool.waiting() == 1
    time.sleep(2.0)                    # four rescans with run 1 done
    assert watcher.poll() is None      # ... but alert 2 waiting: not all done
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        planner.run_until_idle()
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    final = {r["run_id"] for r in json.loads(out.splitlines()[-1])["runs"]}
    assert final == set(keys) and spool.waiting() == 0


def test_watch_exits_on_a_failure_and_q_shows_it(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "coinc.sub.jinja2").write_text(
        "universe = local\nexecutable = /bin/false\nlog = nodes.log\nqueue\n")
    root = tmp_path / "root"
    key = Spool(str(root)).ingest(synthetic_voevent(5, role="observation"), "t").key
    watcher = _watch(root, "--exit", "any,failed,3")
    time.sleep(1.0)
    with Planner(root, RenderSettings(templates=str(broken), second_alert_delay=0)) as planner:
        (result,) = planner.run_until_idle()
    assert result.state == "failed"
    _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 3, err
    (row,) = collect_runs(root, since=0)
    assert (row.run_id, row.done, row.failed, row.total) == (key, 1, 2, 3)  # coinc + futile
    runner = CliRunner()
    assert "Total for 0 runs" in runner.invoke(main, ["q", "--root", str(root)]).output
    result = runner.invoke(main, ["q", "--root", str(root), "--all", "--json"])
    (listed,) = json.loads(result.output)["runs"]
    assert listed["state"] == "failed" and listed["nodes"]["failed"] == 2
    text = runner.invoke(main, ["q", "--root", str(root), "--all"]).output
    assert key in text and "failed" in text and "1/3" in text


def test_q_on_a_pool_without_a_schedd_says_so(tmp_path, monkeypatch):
    Spool(str(tmp_path))
    monkeypatch.setenv("GWDAG_EXECUTOR__KIND", "condor")
    monkeypatch.setenv("CONDOR_CONFIG", str(tmp_path / "no-condor-config"))
    result = CliRunner().invoke(main, ["q", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "schedd" in result.output.lower()
    assert len(result.output.strip().splitlines()) == 1


def test_condor_rows_select_this_roots_dagman_jobs(tmp_path):
    """No pool here: a stand-in schedd evaluates our constraint with classad2,
    as the real one would, over DAGMan jobs of this root, of another root and a
    node job."""
    import classad2

    from gwdag.ops.watch import condor_rows

    runs = str(tmp_path.resolve() / "runs")
    ads = [classad2.ClassAd({"ClusterId": 11, "JobUniverse": 7, "JobBatchName": "gwdag",
                             "Iwd": f"{runs}/voevent-1", "JobStatus": 2,
                             "DAG_NodesTotal": 3, "DAG_NodesDone": 1, "DAG_NodesQueued": 1,
                             "DAG_NodesReady": 1, "DAG_NodesUnready": 0,
                             "DAG_NodesFailed": 0, "DAG_NodesHeld": 0}),
           classad2.ClassAd({"ClusterId": 12, "JobUniverse": 7, "JobBatchName": "gwdag",
                             "Iwd": "/elsewhere/runs/voevent-2"}),
           classad2.ClassAd({"ClusterId": 13, "JobUniverse": 5, "JobBatchName": "gwdag",
                             "Iwd": f"{runs}/voevent-1"})]

    class Schedd:
        def query(self, constraint, projection):
            expression = classad2.ExprTree(constraint)
            return [ad for ad in ads if expression.eval(ad) is True]

    (row,) = condor_rows(tmp_path, Schedd())
    assert row["run_id"] == "voevent-1" and row["cluster"] == 11
    assert row["nodes"] == {"total": 3, "done": 1, "running": 1, "idle": 1, "held": 0,
                            "failed": 0}
