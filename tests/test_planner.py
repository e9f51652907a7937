"""The planner: alerts in the spool become rendered, validated DAGs that the
local executor runs; idempotence, failures with rescue DAGs, retries, crashes."""

from __future__ import annotations

import json
from pathlib import Path

import htcondor2
import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.dagman.loader import load_dag
from gwdag.executors.jobspec import split_arguments
from gwdag.intake.spool import Spool
from gwdag.planner.planner import Planner, PlannerBusy
from gwdag.planner.plans import Plan, PlanNode
from gwdag.planner.render import RenderSettings, condor_arguments, render_plan
from gwdag.planner.store import StateStore
from gwdag.steps.simulate import write_simulation

FAST = RenderSettings(second_alert_delay=0.0)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    return write_simulation(out, 2, seed=2, grb_fraction=1.0)


def _ingest(root: Path, *paths: str | Path) -> list[str]:
    spool = Spool(str(root))
    return [spool.ingest(Path(p).read_bytes(), source="test").key for p in paths]


def test_rendered_dag_and_submit_files_are_what_htcondor_reads(tmp_path):
    hostile = ["--event", "/tmp/it's \"quoted\" $(HOME) & more.json", "plain"]
    plan = Plan("key", "test").chain(PlanNode("a", "superevent", ("superevent", *hostile)),
                                     PlanNode("b", "localize", ("localize", "x")))
    dag = render_plan(plan, tmp_path, RenderSettings(request_cpus=4, accounting_group="g.x"))
    loaded = load_dag(str(dag), cwd=str(tmp_path))
    assert not loaded.errors
    node = loaded.dag.nodes["a"]
    value = dict(node.vars)["gwdag_arguments"].value
    submit = htcondor2.Submit((tmp_path / "superevent.sub").read_text())
    assert submit["universe"] == "local"
    submit["gwdag_arguments"] = value
    arguments = split_arguments(submit.expand("arguments"))
    assert arguments == ["-m", "gwdag", "step", "superevent", *hostile]
    localize = htcondor2.Submit((tmp_path / "localize.sub").read_text())
    assert (localize["universe"], localize["request_cpus"],
            localize["accounting_group"]) == ("vanilla", "4", "g.x")
    assert condor_arguments(["a b"]) == "\"'a b'\""


def test_alerts_flow_from_the_spool_to_the_outbox(tmp_path, simulated):
    first = Path(simulated[0]["event"]).parent
    keys = _ingest(tmp_path, first / "event.json", first / "grb.xml", first / "coinc.xml")
    with Planner(tmp_path, FAST) as planner:
        results = {r.key: r for r in planner.run_until_idle()}
    assert [results[k].state for k in keys] == ["done", "done", "skipped"]
    assert "no handler for alert kind 'coinc_xml'" in results[keys[2]].reason
    store = StateStore(tmp_path)
    (superevent,) = store.superevents()
    assert superevent.em_events == ("E1",)
    sent = store.sent_alerts(superevent.superevent_id)
    store.close()
    assert [a["alert_type"] for a in sent][:2] == ["preliminary", "preliminary"]
    alert = json.loads(Path(sent[-1]["path"]).read_text())
    assert alert["external_coinc"]["external_event"] == "E1"
    assert alert["event"]["skymap"].endswith("skymap.fits")
    run = tmp_path / "runs" / keys[0]
    assert (run / "run.dag").exists() and (run / "jobstate.log").exists()
    assert {e.state for e in Spool(str(tmp_path)).entries()} == {"done"}


def test_the_same_alert_never_runs_twice(tmp_path, simulated):
    event = Path(simulated[1]["event"])
    (key,) = _ingest(tmp_path, event)
    with Planner(tmp_path, FAST) as planner:
        assert planner.run_until_idle()[0].state == "done"
        # put the finished entry back, as a crash between run and finish would
        spool = Spool(str(tmp_path))
        Path(spool.state_dir("done", key), key + ".alert").rename(
            Path(spool.dirs["incoming"], key + ".alert"))
        again = planner.run_until_idle()
    assert again[0].state == "done" and again[0].reason == "already planned"
    assert again[0].run_dir is None


def test_a_failed_dag_leaves_its_rescue_and_can_be_retried(tmp_path, simulated):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "superevent.sub.jinja2").write_text(
        "universe = local\nexecutable = /bin/false\nlog = nodes.log\nqueue\n")
    root = tmp_path / "root"
    (key,) = _ingest(root, Path(simulated[1]["event"]))
    with Planner(root, RenderSettings(templates=str(broken), second_alert_delay=0)) as planner:
        (result,) = planner.run_until_idle()
    assert result.state == "failed" and "superevent" in result.reason
    assert "rescue" in result.reason
    meta, _ = Spool(str(root)).read(key)
    assert meta["state"] == "failed" and "superevent" in meta["reason"]
    assert list((root / "runs" / key).glob("run.dag.rescue*"))
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["run", "list", "--root", str(root), "--state",
                                             "failed", "--json"]).output)
    assert [r["run_id"] for r in listed["runs"]] == [key]
    with Planner(root, FAST) as planner:
        retried = planner.retry(key)
    assert retried.state == "done"
    # the rescue DAG skipped localize, which had succeeded the first time
    out = (root / "runs" / key / "run.dag.dagman.out").read_text()
    assert out.count("Submitting HTCondor Node localize") == 1


def test_crashed_claims_are_requeued_and_one_planner_per_root(tmp_path, simulated):
    (key,) = _ingest(tmp_path, Path(simulated[0]["grb"]["path"]))
    spool = Spool(str(tmp_path))
    assert spool.claim(key)                         # a planner claimed it, then died
    with Planner(tmp_path, FAST) as planner:
        with pytest.raises(PlannerBusy, match="another planner"):
            Planner(tmp_path, FAST).__enter__()
        assert planner.pending() == [key]
        assert planner.run_until_idle()[0].state == "done"


def test_plan_command(tmp_path, simulated):
    _ingest(tmp_path, Path(simulated[0]["grb"]["path"]))
    runner = CliRunner()
    result = runner.invoke(main, ["plan", "--root", str(tmp_path), "--until-idle",
                                  "--second-alert-delay", "0", "--json"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.splitlines()[0])
    assert line["state"] == "done" and line["kind"] == "voevent"
    shown = runner.invoke(main, ["run", "show", line["key"], "--root", str(tmp_path),
                                 "--json"])
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)["status"]
    assert {n["name"] for n in status["nodes"]} == {"external", "coinc", "alert"}
    result = runner.invoke(main, ["plan", "retry", "nope", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "not in failed/" in result.output


def test_alerts_are_also_published_on_a_redis_stream(tmp_path, simulated, redis_url):
    import redis

    stream = f"{redis_url}?stream=gwdag-alerts"
    (key,) = _ingest(tmp_path, Path(simulated[1]["event"]))
    settings = RenderSettings(second_alert_delay=0.0, alert_stream=stream)
    with Planner(tmp_path, settings) as planner:
        assert planner.run_until_idle()[0].state == "done"
    entries = redis.Redis.from_url(redis_url).xrange("gwdag-alerts")
    assert [e[1][b"alert_type"] for e in entries] == [b"preliminary", b"preliminary"]
    document = json.loads(entries[0][1][b"alert"])
    store = StateStore(tmp_path)
    (superevent,) = store.superevents()
    assert document["superevent_id"] == superevent.superevent_id
    assert json.loads(Path(store.sent_alerts(superevent.superevent_id)[0]["path"]
                           ).read_text()) == document
    store.close()
    dag = (tmp_path / "runs" / key / "run.dag").read_text()
    assert "--stream" in dag


@pytest.mark.parametrize("moment", ["localize.err", "superevent.err", "alert.err"])
def test_a_planner_killed_mid_dag_finishes_on_restart(tmp_path, simulated, moment):
    """SIGKILL the planner (and its node processes) as a given node starts; a new
    planner requeues the claim, runs the DAG again and every step is idempotent:
    one superevent, each alert sent once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (key,) = _ingest(tmp_path, Path(simulated[0]["event"]))
    command = [sys.executable, "-m", "gwdag", "plan", "--root", str(tmp_path),
               "--until-idle", "--second-alert-delay", "0"]
    process = subprocess.Popen(command, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = tmp_path / "runs" / key / moment
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert Spool(str(tmp_path)).stats()["counts"]["done"] == 0     # it really died
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    store = StateStore(tmp_path)
    (superevent,) = store.superevents()
    sent = store.sent_alerts(superevent.superevent_id)
    store.close()
    assert [(a["alert_type"], a["sequence"]) for a in sent] == [("preliminary", 1),
                                                                ("preliminary", 2)]
    assert [e.state for e in Spool(str(tmp_path)).entries()] == ["done"]
