"""``gwdag ctl``: control verbs answered by real running daemons."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.control import ControlServer, NotRunning, VerbError, control_request
from gwdag.intake import Spool
from gwdag.intake.samples import synthetic_voevent

from .conftest import start_gwdag


def _daemon(root: Path, *args: str, config: Path | None = None) -> subprocess.Popen:
    return start_gwdag(*args, "--root", str(root), log_dir=root.parent, config=config)


def _ctl(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ctl", *args, "--root", str(root)])
    return result.exit_code, result.output


def _ctl_json(root: Path, *args: str) -> tuple[int, dict]:
    code, output = _ctl(root, *args, "--json")
    return code, json.loads(output)


def _wait(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(root: Path, daemon: str) -> bool:
    code, document = _ctl_json(root, "ping", "-d", daemon)
    return code == 0 and document["replies"][0]["result"] == "pong"


# -- the transport --------------------------------------------------------------------
def test_server_answers_and_survives_bad_requests(tmp_path: Path) -> None:
    def broken(_args):
        raise RuntimeError("boom")

    def refuse(_args):
        raise VerbError("no such thing")

    # deeper than the 107 bytes a Unix socket path may have
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = str(deep / "x.sock")
    assert len(path) > 107
    with ControlServer(path, "test", {"echo": lambda args: args, "broken": broken,
                                      "refuse": refuse}):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert control_request(path, "ping")["result"] == "pong"
        assert control_request(path, "echo", {"a": 1})["result"] == {"a": 1}
        reply = control_request(path, "broken")
        assert reply["ok"] is False and "RuntimeError: boom" in reply["error"]
        assert control_request(path, "refuse")["error"] == "no such thing"
        assert "does not answer 'nope'" in control_request(path, "nope")["error"]
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(f"/proc/self/fd/{os.open(deep, os.O_PATH)}/x.sock")
        raw.sendall(b"not json\n")
        assert b"bad request" in raw.recv(4096)
        raw.close()
        assert control_request(path, "ping")["ok"] is True      # still serving
    assert not os.path.exists(path)
    with pytest.raises(NotRunning):
        control_request(path, "ping")


def test_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()                       # the file stays, nobody listens: a crash
    with pytest.raises(NotRunning):
        control_request(path, "ping")
    with ControlServer(path, "test", {}):
        assert control_request(path, "ping")["ok"]


def test_nobody_running(tmp_path: Path) -> None:
    Spool(str(tmp_path))
    code, output = _ctl(tmp_path, "ping")
    assert code == 1
    assert "plan: not running" in output and "listen: not running" in output
    assert "No daemon replied" in output
    code, _ = _ctl(tmp_path / "missing", "ping")
    assert code == 1


# -- against the daemons ----------------------------------------------------------------
def test_planner_verbs_active_reserved_result_and_draining_shutdown(tmp_path: Path) -> None:
    root = tmp_path / "root"
    spool = Spool(str(root))
    keys = [spool.ingest(synthetic_voevent(n, role="observation"), "test").key
            for n in (1, 2, 3)]
    planner = _daemon(root, "plan", "--second-alert-delay", "0")
    _wait(lambda: _answers(root, "plan"), what="the planner's control socket")

    def working():
        code, document = _ctl_json(root, "active", "-d", "plan")
        assert code == 0
        active = document["replies"][0]["result"]
        return active if active and active[0].get("dag") else None

    active = _wait(working, what="the planner working on an alert")
    assert active[0]["key"] in keys and active[0]["kind"] == "voevent"
    assert sum(active[0]["nodes"].values()) == 3          # external, coinc, alert
    code, document = _ctl_json(root, "reserved", "-d", "plan")
    reserved = document["replies"][0]["result"]
    assert {e["key"] for e in reserved["entries"]} <= set(keys) - {active[0]["key"]}
    # shutdown drains: the alert in hand finishes, the others wait in incoming/
    code, output = _ctl(root, "shutdown", "-d", "plan")
    assert code == 0 and "stopping" in output
    assert planner.wait(60) == 0
    counts = Spool(str(root)).stats()["counts"]
    assert counts["claimed"] == 0 and counts["failed"] == 0
    assert counts["done"] >= 1 and counts["done"] + counts["incoming"] == 3
    done = next(k for k in keys if spool.state_of(k) == "done")
    planner = _daemon(root, "plan", "--second-alert-delay", "0")
    _wait(lambda: _answers(root, "plan"), what="the planner restarting")
    code, document = _ctl_json(root, "result", done)
    assert code == 0
    result = document["replies"][0]["result"]
    assert result["spool_state"] == "done" and result["run"]["state"] == "done"
    code, output = _ctl(root, "result", "voevent-nosuch")
    assert code == 1 and "no alert or run 'voevent-nosuch'" in output
    _wait(lambda: Spool(str(root)).stats()["counts"]["done"] == 3, what="all three done")
    code, document = _ctl_json(root, "stats", "-d", "plan")
    stats = document["replies"][0]["result"]
    assert stats["runs"]["done"] == 3 and stats["executor"] == "local"
    planner.send_signal(signal.SIGTERM)
    assert planner.wait(30) == 0


def test_listener_verbs_purge_reload_shutdown(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first, second = tmp_path / "drop1", tmp_path / "drop2"
    first.mkdir()
    second.mkdir()
    config = tmp_path / "gwdag.toml"
    config.write_text(f'[intake]\nsources = ["dir://{first}"]\n')
    spool = Spool(str(root))
    for number in (1, 2):
        spool.ingest(synthetic_voevent(number), "test")
    listener = _daemon(root, "listen", config=config)
    _wait(lambda: _answers(root, "listen"), what="the listener's control socket")

    code, document = _ctl_json(root, "status")
    replies = {r["daemon"]: r for r in document["replies"]}
    assert code == 0                                   # one daemon answered
    assert replies["plan"]["replied"] is False
    assert replies["listen"]["result"]["sources"] == [f"dir://{first}"]
    code, document = _ctl_json(root, "status", "-d", "plan")
    assert code == 1                                   # the one addressed is down

    code, output = _ctl(root, "purge")
    assert code == 2 and "--yes" in output
    code, output = _ctl(root, "purge", "--dry-run", "-d", "listen")
    assert code == 0 and "would move 2" in output
    assert spool.stats()["counts"]["incoming"] == 2
    code, document = _ctl_json(root, "purge", "--yes", "-d", "listen")
    purged = document["replies"][0]["result"]
    assert code == 0 and purged["purged"] == 2
    assert spool.stats()["counts"]["incoming"] == 0
    assert len(list(Path(purged["moved_to"]).glob("*.alert"))) == 2   # aside, not gone

    config.write_text(f'[intake]\nsources = ["dir://{second}"]\n')
    code, _ = _ctl(root, "reload", "-d", "listen")
    assert code == 0

    def switched():
        _, document = _ctl_json(root, "status", "-d", "listen")
        return document["replies"][0]["result"]["sources"] == [f"dir://{second}"]

    _wait(switched, what="the listener to switch sources")
    (second / "n.xml").write_bytes(synthetic_voevent(7))
    _wait(lambda: spool.stats()["counts"]["incoming"] == 1, what="the new source's alert")
    code, document = _ctl_json(root, "active", "-d", "listen")
    (active,) = document["replies"][0]["result"]
    assert active["alive"] and active["counts"]["accepted"] == 1

    code, _ = _ctl(root, "shutdown")
    assert code == 0
    assert listener.wait(30) == 0
    assert not (root / "spool" / "listen.sock").exists()


def test_client_times_out_on_a_slow_verb(tmp_path: Path) -> None:
    release = threading.Event()
    path = str(tmp_path / "c.sock")
    with ControlServer(path, "test", {"slow": lambda _a: release.wait(10)}):
        with pytest.raises(Exception, match="no reply"):
            control_request(path, "slow", timeout=0.3)
        release.set()
        assert control_request(path, "ping")["ok"]


def test_a_daemon_runs_on_without_its_socket(tmp_path: Path, caplog) -> None:
    server = ControlServer(str(tmp_path / "no such dir" / "x.sock"), "listen", {})
    assert server.start_or_warn() is None
    assert "gwdag ctl cannot reach this listen" in caplog.text
