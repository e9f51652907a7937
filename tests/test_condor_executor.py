"""The condor executor as far as the bindings go without a pool: the DAGMan
submit description from htcondor2.Submit.from_dag (with a stub condor_dagman),
the one-line failure when no schedd answers, and reading how a DAG ended."""

from __future__ import annotations

from pathlib import Path

import htcondor2
import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.executors.condor import CondorExecutor, CondorUnavailable
from gwdag.executors.local import LocalExecutor, RunOptions
from gwdag.planner.plans import Plan, PlanNode
from gwdag.planner.render import RenderSettings, render_plan


def _schedd_answers() -> bool:
    try:
        htcondor2.Schedd()
    except Exception:
        return False
    return True


pytestmark = pytest.mark.skipif(_schedd_answers(), reason="a schedd answers here; these "
                                "tests check the behaviour without a pool")


@pytest.fixture
def dag(tmp_path) -> Path:
    plan = Plan("k", "t").chain(PlanNode("a", "superevent", ("superevent", "--help")),
                                PlanNode("b", "alert", ("alert", "--help")))
    return render_plan(plan, tmp_path / "run", RenderSettings())


def test_submit_description_is_dagmans(stub_condor_dagman, dag):
    description = CondorExecutor.submit_description(dag, batch_name="gwdag")
    assert description["universe"] == "scheduler"
    assert description["executable"] == str(stub_condor_dagman)
    assert description["My.JobBatchName"] == '"gwdag"'
    assert "-Dag run.dag" in description["arguments"]
    assert description["log"] == "run.dag.dagman.log"
    # and it is a description htcondor2 parses back unchanged
    assert str(htcondor2.Submit(str(description))) == str(description)


def test_without_a_schedd_every_call_says_what_to_do(stub_condor_dagman, dag):
    executor = CondorExecutor()
    with pytest.raises(CondorUnavailable, match='kind = "local"'):
        executor.submit(dag)
    with pytest.raises(CondorUnavailable, match="no HTCondor schedd answers"):
        executor.remove(1)
    with pytest.raises(CondorUnavailable, match="no HTCondor schedd answers"):
        executor.queue(1)


def test_the_planner_refuses_to_start_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GWDAG_EXECUTOR__KIND", "condor")
    result = CliRunner().invoke(main, ["plan", "--root", str(tmp_path), "--until-idle"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no HTCondor schedd answers" in lines[0]
    assert "local" in lines[0]


def test_how_a_dag_ended_comes_from_its_metrics(dag):
    assert CondorExecutor.finished(dag) is None
    result = LocalExecutor(str(dag), RunOptions(use_dag_dir=True)).run()
    assert result.exit_code == 0
    assert CondorExecutor.finished(dag) == 0
    assert CondorExecutor().wait(dag, poll=0.01, timeout=1) == 0
