"""QMonit-style moving averages and anomaly flags, and the checks built on them
(rate anomalies, held nodes, the end-to-end heartbeat)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from gwdag.cli import main
from gwdag.dagman.eventlog import EventLogWriter
from gwdag.intake.spool import Spool
from gwdag.ops.e2e_heartbeat import heartbeat_state, send_heartbeat
from gwdag.ops.nagios import run_checks
from gwdag.ops.rates import BUCKET_S, compute_rates, record_live
from gwdag.planner.store import StateStore

NOW = 1_800_000_000.0 + 0.5 * BUCKET_S        # half-way through a bucket


def _runs(root: Path, times: list[float], state: str = "done") -> None:
    """Runs finished (and created) at these Unix times."""
    store = StateStore(root)
    try:
        offset = len(store.runs())
        for number, moment in enumerate(times, start=offset):
            key = f"voevent-{number}"
            store.put_run(key, key, "voevent", state, None, finished=True)
            store._db.execute("UPDATE runs SET created_at=?, finished_at=? WHERE run_id=?",
                              (moment, moment, key))
    finally:
        store.close()


def _by_series(root: Path, **options) -> dict:
    return {r.series: r for r in compute_rates(root, now=NOW, **options)}


def test_terminal_series_are_summed_per_bucket_and_the_partial_bucket_left_out(tmp_path):
    current_start = (NOW // BUCKET_S) * BUCKET_S
    # one run per 10-minute bucket for a day, then ten in the last complete bucket
    # and a hundred in the current, partial one
    steady = [current_start - (k + 0.5) * BUCKET_S for k in range(144)]
    _runs(tmp_path, steady + [current_start - 0.5 * BUCKET_S] * 9
          + [current_start + 1.0] * 100)
    rates = _by_series(tmp_path)["runs_done"]
    assert rates.kind == "terminal"
    assert rates.current == pytest.approx(10 * 6)             # per hour, partial bucket out
    assert rates.averages["1h"] == pytest.approx((5 + 10) / 6 * 6)
    assert rates.averages["24h"] == pytest.approx((143 + 10) / 144 * 6)
    # before the record starts there is nothing to average: 7 d and 30 d = the day
    assert rates.averages["7d"] == pytest.approx(rates.averages["24h"])
    assert rates.anomalies["24h"] and rates.anomalies["30d"]   # 60/h against ~6/h
    assert rates.anomalies["1h"]                     # 60/h against 15/h: (60+1)/(15+1) > 3
    wider = _by_series(tmp_path, factor=4.0)["runs_done"]
    assert not wider.anomalies["1h"] and wider.anomalies["24h"]
    quiet = _by_series(tmp_path, factor=20.0)["runs_done"]
    assert not any(quiet.anomalies.values())
    failed = _by_series(tmp_path)["runs_failed"]
    assert failed.current == 0 and not any(failed.anomalies.values())


def test_a_stopped_stream_is_an_anomaly(tmp_path):
    current_start = (NOW // BUCKET_S) * BUCKET_S
    # 5 per bucket (30/h) for 12 h, then nothing for the last 30 minutes
    times = [current_start - (k + 0.5) * BUCKET_S for k in range(4, 76) for _ in range(5)]
    _runs(tmp_path, times)
    rates = _by_series(tmp_path)["runs_done"]
    assert rates.current == 0
    assert rates.anomalies["6h"] and rates.anomalies["12h"]


def test_too_little_history_gives_no_average(tmp_path):
    current_start = (NOW // BUCKET_S) * BUCKET_S
    _runs(tmp_path, [current_start - 0.5 * BUCKET_S] * 50)
    rates = _by_series(tmp_path)["runs_done"]
    assert rates.current == pytest.approx(300)
    assert set(rates.averages.values()) == {None}
    assert not any(rates.anomalies.values())


def test_live_series_are_averaged_from_recorded_samples(tmp_path):
    current_start = (NOW // BUCKET_S) * BUCKET_S
    for k in range(1, 37):                      # 6 h of samples, two per bucket
        for offset, value in ((0.2, 2.0), (0.7, 4.0)):
            record_live(tmp_path, {"spool_incoming": value if k > 1 else 50.0},
                        now=current_start - k * BUCKET_S + offset * BUCKET_S)
    record_live(tmp_path, {"spool_incoming": 1000.0}, now=current_start + 1)   # partial
    rates = _by_series(tmp_path)["spool_incoming"]
    assert rates.kind == "live"
    assert rates.current == pytest.approx(50.0)
    assert rates.averages["6h"] == pytest.approx((35 * 3.0 + 50.0) / 36)
    assert rates.anomalies["6h"] and rates.anomalies["30d"]
    # samples older than 31 days are dropped as new ones arrive
    record_live(tmp_path, {"spool_incoming": 1.0}, now=current_start + 32 * 86400)
    db = sqlite3.connect(tmp_path / "metrics" / "samples.sqlite")
    assert db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 1


def test_metrics_export_rates_and_nagios_warns_on_anomalies(tmp_path):
    now = time.time()
    if BUCKET_S - now % BUCKET_S < 10:        # do not straddle a bucket boundary
        time.sleep(BUCKET_S - now % BUCKET_S + 0.1)
        now = time.time()
    current_start = (now // BUCKET_S) * BUCKET_S
    Spool(str(tmp_path))
    _runs(tmp_path, [current_start - (k + 0.5) * BUCKET_S for k in range(144)])
    _runs(tmp_path, [current_start - 0.5 * BUCKET_S] * 30, state="failed")
    result = CliRunner().invoke(main, ["metrics", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(result.output)
              for s in family.samples}
    assert values[("gwdag_rate_current", (("series", "runs_failed"),))] == 180
    assert values[("gwdag_anomaly", (("series", "runs_failed"), ("window", "24h")))] == 1
    assert values[("gwdag_anomaly", (("series", "runs_done"), ("window", "24h")))] == 0
    assert values[("gwdag_rate_average", (("series", "runs_done"), ("window", "24h")))] == \
        pytest.approx(6.0)
    assert values[("gwdag_alerts_planned", (("kind", "voevent"), ("role", "unknown")))] == 174
    assert (tmp_path / "metrics" / "samples.sqlite").exists()       # a live sample kept
    report = run_checks(tmp_path, now=now)
    (check,) = [c for c in report.checks if c.name == "anomalies"]
    assert check.state == 1 and check.value > 0 and "runs_failed" in check.summary


def test_held_nodes_warn_with_their_reason(tmp_path):
    run = tmp_path / "runs" / "voevent-1"
    run.mkdir(parents=True)
    dag = run / "run.dag"
    dag.write_text("JOB a a.sub\nJOB b b.sub\n")
    with EventLogWriter(str(dag) + ".nodes.log") as log:
        log.submit(11, 0, "a")
        log.submit(12, 0, "b")
        log.held(11, 0, "Error from slot1: memory usage exceeded request_memory")
        log.held(12, 0, "held by the user")
        log.released(12, 0)
    store = StateStore(tmp_path)
    store.put_run("voevent-1", "voevent-1", "voevent", "running", str(dag))
    store.close()
    Spool(str(tmp_path))
    (check,) = [c for c in run_checks(tmp_path).checks if c.name == "runs_held"]
    assert check.value == 1 and check.state == 1
    assert "memory usage exceeded" in check.summary and "voevent-1 a" in check.summary
    result = CliRunner().invoke(main, ["status", "--root", str(tmp_path), "--json"])
    (held,) = json.loads(result.output)["runs"]["held"]
    assert held == {"run_id": "voevent-1", "node": "a",
                    "hold_reason": "Error from slot1: memory usage exceeded request_memory"}
    text = CliRunner().invoke(main, ["status", "--root", str(tmp_path)]).output
    assert "HELD voevent-1 node a: Error from slot1" in text
    (row,) = [r for r in json.loads(CliRunner().invoke(
        main, ["q", "--root", str(tmp_path), "--json"]).output)["runs"]]
    assert row["nodes"]["held"] == 1 and row["nodes"]["running"] == 1


def test_end_to_end_heartbeat(tmp_path):
    root = tmp_path
    Spool(str(root))
    checks = {c.name: c for c in run_checks(root, heartbeat=(3600, 600)).checks}
    assert checks["heartbeat_age"].state == 2
    assert "gwdag heartbeat" in checks["heartbeat_age"].summary
    sent = send_heartbeat(root)
    assert Spool(str(root)).state_of(sent["key"]) == "incoming"
    checks = {c.name: c for c in run_checks(root, heartbeat=(3600, 600)).checks}
    assert checks["heartbeat_age"].state == 2 and "made it through" in \
        checks["heartbeat_age"].summary
    result = CliRunner().invoke(main, ["plan", "--root", str(root), "--until-idle",
                                       "--second-alert-delay", "0"])
    assert result.exit_code == 0, result.output
    state = heartbeat_state(root)
    assert state["last_through_at"] == sent["sent_at"] and 0 < state["latency_s"] < 60
    checks = {c.name: c for c in run_checks(root, heartbeat=(3600, 600)).checks}
    assert checks["heartbeat_age"].state == 0
    assert checks["heartbeat_latency"].value == state["latency_s"]
    # an hour and a quarter later with nothing new through: CRITICAL
    late = {c.name: c for c in run_checks(root, heartbeat=(3600, 600),
                                          now=time.time() + 4500).checks}
    assert late["heartbeat_age"].state == 2
    # the MDC event made an mdc superevent, never a production one
    store = StateStore(root)
    (superevent,) = store.superevents()
    store.close()
    assert superevent.superevent_id.startswith("MS")


def test_schema_1_store_is_upgraded(tmp_path):
    path = tmp_path / "state" / "gwdag.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE runs (run_id TEXT PRIMARY KEY, alert_key TEXT UNIQUE, kind TEXT,
            state TEXT, dag TEXT, reason TEXT, created_at REAL, finished_at REAL);
        INSERT INTO runs VALUES ('k', 'k', 'voevent', 'done', NULL, '', 1.0, 2.0);""")
    db.commit()
    db.close()
    store = StateStore(tmp_path)
    try:
        run = store.run_for_alert("k")
        assert run["state"] == "done" and run["role"] is None and "received_at" in run
        store.put_run("k2", "k2", "voevent", "running", None, role="test", received_at=5.0)
        store.put_run("k2", "k2", "voevent", "done", None, finished=True)
        assert store.run_for_alert("k2")["role"] == "test"
        assert store.run_for_alert("k2")["received_at"] == 5.0
    finally:
        store.close()
    assert sqlite3.connect(path).execute("SELECT value FROM meta").fetchone()[0] == "2"
