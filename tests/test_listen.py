"""``gwdag listen`` as a process: Redis streams, VTP, drop directories, signals, crashes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gwdag.intake import Spool
from gwdag.intake.replay import publish_redis, serve_vtp
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import SHARDED, state_files
from gwdag.intake.vtp import transport

from .conftest import start_gwdag


def _listen(root: Path, *sources: str, config: Path | None = None) -> subprocess.Popen:
    args = ["listen", "--root", str(root)]
    for source in sources:
        args += ["--source", source]
    return start_gwdag(*args, log_dir=root.parent, config=config)


def _stderr(proc: subprocess.Popen) -> str:
    proc.log.seek(0)  # type: ignore[attr-defined]
    return proc.log.read()  # type: ignore[attr-defined]


def _wait(condition, timeout: float = 30.0, what="condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(0.05)


def _count(root: Path, state: str) -> int:
    """Files (entries and reasons) in one state, through its shards."""
    return sum(1 for _ in state_files(str(root / "spool" / state), state in SHARDED))


def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("listener did not stop within 5 s of SIGTERM")


def _pending(url: str, stream: str, group: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    return client.xpending(stream, group)["pending"]


def test_redis_stream_is_spooled_then_acknowledged(tmp_path: Path, redis_url: str):
    import redis

    stream = "s-basic"
    source = f"{redis_url}?stream={stream}&group=g"
    publish_redis(source, [synthetic_voevent(i) for i in range(300)])
    redis.Redis.from_url(redis_url).xadd(stream, {"other": "no payload here"})
    proc = _listen(tmp_path, source)
    _wait(lambda: _count(tmp_path, "incoming") == 300 and _count(tmp_path, "rejected") == 2,
          what="300 accepted + 1 rejected")
    _wait(lambda: _pending(redis_url, stream, "g") == 0, what="every entry acknowledged")
    started = time.monotonic()
    assert _stop(proc) == 0
    assert time.monotonic() - started < 3
    beat = Spool(str(tmp_path)).stats()
    assert beat["counts"]["incoming"] == 300
    reason = next(e.reason for e in Spool(str(tmp_path)).entries("rejected"))
    assert "JSON is neither" in reason


def test_vtp_events_acknowledged_and_iamalive_answered(tmp_path: Path):
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    payloads = [synthetic_voevent(i) for i in range(40)]
    payloads.insert(20, transport("iamalive", "ivo://test/server"))
    payloads.append(b"<broken")
    report = {}
    thread = threading.Thread(target=lambda: report.update(vars(serve_vtp(
        "127.0.0.1", port, payloads, deadline=60, listen_socket=server))))
    thread.start()
    proc = _listen(tmp_path, f"vtp://127.0.0.1:{port}")
    thread.join(60)
    server.close()
    assert report["acked"] == len(payloads), report
    _wait(lambda: _count(tmp_path, "incoming") == 40, what="40 VOEvents")
    assert _count(tmp_path, "rejected") == 2  # the broken one: .raw + .reason.json
    assert _stop(proc) == 0


def test_drop_directory_files_move_into_the_spool(tmp_path: Path):
    drop = tmp_path / "drop"
    drop.mkdir()
    proc = _listen(tmp_path / "data", f"dir://{drop}")
    for i in range(20):
        (drop / f".n{i}.part").write_bytes(synthetic_voevent(i))
        os.rename(drop / f".n{i}.part", drop / f"n{i}.xml")
    (drop / "junk.txt").write_bytes(b"junk")
    _wait(lambda: _count(tmp_path / "data", "incoming") == 20 and not os.listdir(drop),
          what="drop directory drained")
    assert _count(tmp_path / "data", "rejected") == 2
    assert _stop(proc) == 0


def test_one_listener_per_root_and_sighup_reload(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    config = tmp_path / "gwdag.toml"
    config.write_text(f'[intake]\nsources = ["dir://{first}"]\n')
    proc = _listen(tmp_path / "data", config=config)
    beats = tmp_path / "data" / "spool" / "heartbeat"
    _wait(lambda: beats.is_dir() and len(os.listdir(beats)) == 1, what="first heartbeat")
    other = _listen(tmp_path / "data", f"dir://{first}")
    assert other.wait(10) == 1
    assert f"another gwdag listen (pid {proc.pid})" in _stderr(other)
    config.write_text(f'[intake]\nsources = ["dir://{second}"]\n')
    proc.send_signal(signal.SIGHUP)
    (second).mkdir(exist_ok=True)
    _wait(lambda: len(os.listdir(beats)) == 2, what=f"reloaded source {os.listdir(beats)}")
    (second / "x.xml").write_bytes(synthetic_voevent(5))
    _wait(lambda: _count(tmp_path / "data", "incoming") == 1, what="file from new source")
    assert proc.poll() is None  # SIGHUP never exits
    assert _stop(proc) == 0


def test_sigkill_repeatedly_loses_and_duplicates_nothing(tmp_path: Path, redis_url: str):
    """Feed 2,000 alerts from a Redis stream and 600 over VTP while the listener is
    SIGKILLed again and again; in the end each is in the spool exactly once and
    nothing is left unacknowledged."""
    import socket

    stream = "s-crash"
    source = f"{redis_url}?stream={stream}&group=g&batch=64&claim_idle=1"
    redis_alerts = [synthetic_voevent(i) for i in range(2000)]
    vtp_alerts = [synthetic_voevent(100_000 + i) for i in range(600)]
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    report = {}
    feeder = threading.Thread(target=lambda: report.update(vars(serve_vtp(
        "127.0.0.1", port, vtp_alerts, deadline=240, listen_socket=server))))
    feeder.start()
    publisher = threading.Thread(target=publish_redis, args=(source, redis_alerts, 4000.0))
    publisher.start()
    rng = random.Random(4)
    kills = 0
    for _ in range(6):
        proc = _listen(tmp_path, source, f"vtp://127.0.0.1:{port}")
        time.sleep(rng.uniform(0.4, 1.0))
        proc.kill()
        proc.wait()
        kills += 1
    publisher.join()
    proc = _listen(tmp_path, source, f"vtp://127.0.0.1:{port}")
    total = len(redis_alerts) + len(vtp_alerts)
    _wait(lambda: _count(tmp_path, "incoming") >= total, timeout=120,
          what=lambda: f"every alert: {_count(tmp_path, 'incoming')} of {total}, "
                       f"vtp {report}, pending {_pending(redis_url, stream, 'g')}")
    feeder.join(60)
    server.close()
    _wait(lambda: _pending(redis_url, stream, "g") == 0, what="no pending entries")
    assert _stop(proc) == 0
    assert kills == 6
    spool = Spool(str(tmp_path))
    keys = {entry.key for entry in spool.entries("incoming")}
    from gwdag.intake import parse_alert

    expected = {parse_alert(raw).key for raw in redis_alerts + vtp_alerts}
    assert keys == expected and _count(tmp_path, "incoming") == total
    assert report["acked"] == len(vtp_alerts)
    assert _count(tmp_path, "rejected") == 0
    assert os.listdir(tmp_path / "spool" / "tmp") == []
    # The killed listeners' journal segments were replayed by the next start,
    # the last one's flushed and deleted at its clean stop.
    assert list((tmp_path / "spool" / "journal").glob("*.log")) == []
