"""``gwdag metrics``: the same figures in Prometheus and Influx formats, parsed
back with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from gwdag.cli import main
from gwdag.intake.samples import synthetic_voevent
from gwdag.intake.spool import Spool
from gwdag.ops.metrics import collect_samples, to_influx
from gwdag.planner.planner import Planner
from gwdag.planner.render import RenderSettings


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    spool = Spool(str(root))
    for number in range(3):
        spool.ingest(synthetic_voevent(number), source="t")
    spool.ingest(b"garbage", source="t")
    with Planner(root, RenderSettings(second_alert_delay=0)) as planner:
        planner.process(next(iter(planner.pending())))   # one run; two stay waiting
    return root


def test_prometheus_text_parses_back_with_the_figures(tmp_path):
    root = _root(tmp_path)
    result = CliRunner().invoke(main, ["metrics", "--root", str(root)])
    assert result.exit_code == 0, result.output
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(result.output)
              for s in family.samples}
    assert values[("gwdag_spool_entries", (("state", "incoming"),))] == 2
    assert values[("gwdag_spool_entries", (("state", "done"),))] == 1
    assert values[("gwdag_spool_entries", (("state", "rejected"),))] == 1
    assert values[("gwdag_alerts", (("kind", "voevent"),))] == 3
    assert values[("gwdag_runs", (("state", "done"),))] == 1
    steps = {labels[0][1] for (name, labels) in values if name == "gwdag_step_seconds"}
    assert steps == {"external", "coinc", "alert"}


def test_influx_lines_carry_the_same_figures_and_a_snapped_time(tmp_path):
    root = _root(tmp_path)
    samples = collect_samples(root)
    first = to_influx(samples, interval=60, now=1_000_000_030.0)
    again = to_influx(samples, interval=60, now=1_000_000_059.9)
    assert first == again                                  # re-runs overwrite
    lines = first.strip().splitlines()
    assert len(lines) == len(samples)
    assert "gwdag_spool_entries,state=incoming value=2 1000000020000000000" in lines
    textfile = tmp_path / "gwdag.prom"
    result = CliRunner().invoke(main, ["metrics", "--root", str(root), "--textfile",
                                       str(textfile)])
    assert result.exit_code == 0 and result.output == ""
    assert "gwdag_superevents" in textfile.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gwdag.prom")] == []
