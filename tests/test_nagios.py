"""``gwdag nagios``: threshold syntax, each check's states, perfdata, UNKNOWN."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake.heartbeat import Heartbeat
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import Spool
from gwdag.ops.nagios import Range, RangeError, run_checks

FIRST_LINE = re.compile(r"^GWDAG (OK|WARNING|CRITICAL|UNKNOWN): [^|]+( \| .+)?$")
PERFDATA = re.compile(r"^[A-Za-z0-9_]+=(-?[0-9.e+]+|U)(s|%|)?;[^;]*;[^;]*;;$")


@pytest.mark.parametrize("text, alerting, quiet", [
    ("10", [-1, 10.5, 11], [0, 5, 10]),
    ("10:", [9.9, -5], [10, 1e9]),
    ("~:10", [10.1, 1e9], [-1e9, 10]),
    ("10:20", [9, 21], [10, 15, 20]),
    ("@10:20", [10, 15, 20], [9, 21]),
])
def test_range_syntax(text, alerting, quiet):
    threshold = Range.parse(text)
    assert all(threshold.alerts(v) for v in alerting)
    assert not any(threshold.alerts(v) for v in quiet)


@pytest.mark.parametrize("text", ["x", "20:10", "1:2:3", ""])
def test_bad_ranges_are_refused(text):
    with pytest.raises(RangeError):
        Range.parse(text)


def _beat(root, source="vtp://gcn:8099", contact_age=0.0) -> float:
    beat = Heartbeat(source)
    beat.status = "running"
    beat.last_contact_at = time.time() - contact_age
    beat.write(str(root))
    return time.time()


def _invoke(*args: str):
    return CliRunner().invoke(main, ["nagios", *args])


def test_no_listener_is_critical(tmp_path):
    Spool(str(tmp_path))
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert FIRST_LINE.match(first) and "no running listener heartbeat" in first
    for item in first.split(" | ", 1)[1].split():
        assert PERFDATA.match(item), item


def test_heartbeat_age_states(tmp_path):
    Spool(str(tmp_path))
    written = _beat(tmp_path)
    assert run_checks(tmp_path, now=written + 1).state == 0
    assert run_checks(tmp_path, now=written + 20).state == 1       # > 10 s
    assert run_checks(tmp_path, now=written + 40).state == 2       # > 30 s
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("GWDAG OK: ")


def test_a_silent_source_warns(tmp_path):
    Spool(str(tmp_path))
    _beat(tmp_path, contact_age=400)
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 1 and "last contact" in result.output.splitlines()[0]
    result = _invoke("--root", str(tmp_path), "--source-contact-age-critical", "300")
    assert result.exit_code == 2


def test_backlog_failed_and_rejected(tmp_path):
    spool = Spool(str(tmp_path))
    _beat(tmp_path)
    keys = [spool.ingest(synthetic_voevent(n), source="t").key for n in range(3)]
    spool.ingest(b"not an alert", source="t")
    assert _invoke("--root", str(tmp_path)).exit_code == 0
    result = _invoke("--root", str(tmp_path), "--backlog-warning", "2")
    assert result.exit_code == 1 and "3 alerts waiting" in result.output.splitlines()[0]
    assert _invoke("--root", str(tmp_path), "--backlog-critical", "2").exit_code == 2
    assert _invoke("--root", str(tmp_path), "--rejected-warning", "0").exit_code == 1
    spool.claim(keys[0])
    spool.finish(keys[0], False, "test failure")
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 1 and "1 failed alerts" in result.output.splitlines()[0]


def test_redis_sources_are_pinged(tmp_path, redis_url, monkeypatch):
    Spool(str(tmp_path))
    _beat(tmp_path)
    monkeypatch.setenv("GWDAG_INTAKE__SOURCES", f'["{redis_url}?stream=alerts"]')
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "answers" in result.output
    monkeypatch.setenv("GWDAG_INTAKE__SOURCES",
                       f'["unix://{tmp_path}/no-such.sock?stream=alerts"]')
    result = _invoke("--root", str(tmp_path))
    assert result.exit_code == 2 and "does not answer" in result.output.splitlines()[0]


def test_internal_errors_are_unknown_in_one_line(tmp_path):
    result = _invoke("--root", str(tmp_path / "missing"))
    assert result.exit_code == 3
    assert result.output.strip() == f"GWDAG UNKNOWN: no data root at {tmp_path / 'missing'}"
    result = _invoke("--root", str(tmp_path), "--disk-free-warning", "abc")
    assert result.exit_code == 3 and result.output.startswith("GWDAG UNKNOWN: threshold")
