"""``gwdag status``: daemons from their locks and heartbeats, spool ages, runs
with their failures spelled out — read-only."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake.heartbeat import Heartbeat
from gwdag.intake.spool import Spool
from gwdag.ops.status import collect_status
from gwdag.planner.planner import Planner
from gwdag.planner.render import RenderSettings
from gwdag.steps.simulate import write_simulation


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_status_of_a_root_with_a_failed_run(tmp_path):
    truth = write_simulation(tmp_path / "sim", 1, seed=2)
    root = tmp_path / "root"
    spool = Spool(str(root))
    spool.ingest(Path(truth[0]["event"]).read_bytes(), source="test")
    beat = Heartbeat("dir:///drop")
    beat.status = "running"
    beat.write(str(root))
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "superevent.sub.jinja2").write_text(
        "universe = local\nexecutable = /bin/sh\n"
        "arguments = \"-c 'echo boom >&2; exit 3'\"\nerror = $(JOB).err\n"
        "log = nodes.log\nqueue\n")
    with Planner(root, RenderSettings(templates=str(broken), second_alert_delay=0)) as planner:
        planner.run_until_idle()
        document = collect_status(root)
        assert document["daemons"]["planner"] == {"running": True, "pid": os.getpid()}
    assert document["daemons"]["listener"]["running"] is False
    (source,) = document["daemons"]["listener"]["sources"]
    assert source["source"] == "dir:///drop" and source["heartbeat_age"] < 60
    assert document["spool"]["failed"]["count"] == 1
    assert document["spool"]["failed"]["oldest_age"] >= 0
    assert document["runs"]["by_state"] == {"failed": 1}
    (failed,) = document["runs"]["failed"]
    (node,) = failed["nodes"]
    assert (node["node"], node["exit_code"]) == ("superevent", 3)
    assert node["stderr_tail"] == ["boom"]
    before = _tree(root)
    result = CliRunner().invoke(main, ["status", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "FAILED" in result.output and "| boom" in result.output
    assert "planner   NOT RUNNING" in result.output
    result = CliRunner().invoke(main, ["status", "--root", str(root), "--json"])
    assert json.loads(result.output)["schema_version"] == 1
    assert _tree(root) == before                      # read-only


def test_status_of_an_empty_root_creates_nothing(tmp_path):
    document = collect_status(tmp_path)
    assert document["runs"] == {"by_state": {}, "failed": [], "held": []}
    assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(main, ["status", "--root", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no data root" in result.output
