"""``gwdag condor ...`` and the deployment files: HTCondor parses what we write;
the verbs run HTCondor's tools (stand-ins on PATH here: no pool on these machines)
with constraints that classad2 evaluates."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import htcondor2
import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.ops.deploy import job_constraint, submit_description

REPO = Path(__file__).resolve().parents[1]

# One script stands in for condor_q / condor_submit / condor_rm / condor_hold /
# condor_release: it keeps a queue in $STUB_QUEUE, logs each call to $STUB_LOG, and
# selects jobs by evaluating the -constraint with classad2, as the schedd would.
_TOOL = r'''#!{python}
import json, os, sys, time
import classad2
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
queue_path = os.environ["STUB_QUEUE"]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([name, *args, os.getcwd()]) + "\n")
jobs = json.load(open(queue_path)) if os.path.exists(queue_path) else []
now = time.time()
jobs = [j for j in jobs if j.get("GoneAt", now + 1) > now]   # removal takes a moment
def selected():
    if "-constraint" not in args:
        return jobs
    expr = classad2.ExprTree(args[args.index("-constraint") + 1])
    return [j for j in jobs if expr.eval(classad2.ClassAd(
        {{k: v for k, v in j.items() if k != "GoneAt"}})) is True]
if name == "condor_submit":
    text = open(args[0]).read()
    assert "queue daemon in (listen, plan)" in text
    cluster = 100 + len(jobs)
    for proc, daemon in enumerate(("listen", "plan")):
        jobs.append({{"ClusterId": cluster, "ProcId": proc, "JobStatus": 2,
                      "JobBatchName": "gwdag", "Iwd": os.getcwd(), "Args": daemon}})
    print(f"2 job(s) submitted to cluster {{cluster}}.")
elif name == "condor_rm":
    for job in selected():
        job["GoneAt"] = now + float(os.environ.get("STUB_RM_DELAY", "0"))
elif name in ("condor_hold", "condor_release"):
    for job in selected():
        job["JobStatus"] = 5 if name == "condor_hold" else 1
elif name == "condor_q":
    chosen = selected()
    if "-json" in args:
        print(json.dumps(chosen) if chosen else "")
    else:
        for job in chosen:
            print(job["ClusterId"], job["ProcId"], job["JobStatus"], job["Args"])
json.dump(jobs, open(queue_path, "w"))
'''


@pytest.fixture
def condor_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = _TOOL.format(python=sys.executable)
    for name in ("condor_q", "condor_submit", "condor_rm", "condor_hold", "condor_release"):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_QUEUE", str(tmp_path / "queue.json"))
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "calls.log"))
    deployment = tmp_path / "deploy here"
    deployment.mkdir()
    monkeypatch.chdir(deployment)
    return tmp_path


def _calls(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "calls.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _gwdag(*args: str):
    return CliRunner().invoke(main, list(args))


def test_submit_description_is_what_htcondor_reads() -> None:
    root = "/data/gw dag's $(root)"
    submit = htcondor2.Submit(submit_description(root, accounting_group="ligo.prod.o4.cbc"))
    assert submit["universe"] == "local"
    assert submit["batch_name"] == "gwdag"
    assert submit["on_exit_remove"] == "false" and submit["getenv"] == "true"
    assert submit["accounting_group"] == "ligo.prod.o4.cbc"
    assert submit.getQArgs() == "daemon in (listen, plan)"
    assert [item["daemon"] for item in submit.itemdata()] == ["listen", "plan"]
    submit["daemon"] = "plan"
    arguments = submit.expand("arguments")
    # the root survives quoting and macro expansion intact
    assert arguments == '"gwdag plan \'--root\' \'/data/gw dag\'\'s $(DOLLAR)(root)\'"'.replace(
        "$(DOLLAR)", "$")
    assert submit.expand("log") == "gwdag-plan.log"


def test_checked_in_submit_file_is_the_generated_one() -> None:
    assert (REPO / "submit" / "gwdag.sub").read_text() == \
        submit_description("/var/lib/gwdag")
    result = _gwdag("condor", "submit-file", "--root", "/var/lib/gwdag")
    assert result.exit_code == 0 and result.output == submit_description("/var/lib/gwdag")


def test_constraint_selects_this_directory_only() -> None:
    import classad2

    expr = classad2.ExprTree(job_constraint('/home/x/"quoted" dir'))
    mine = classad2.ClassAd({"JobBatchName": "gwdag", "Iwd": '/home/x/"quoted" dir'})
    other = classad2.ClassAd({"JobBatchName": "gwdag", "Iwd": "/home/x"})
    celery = classad2.ClassAd({"JobBatchName": "gwcelery", "Iwd": '/home/x/"quoted" dir'})
    assert [expr.eval(ad) for ad in (mine, other, celery)] == [True, False, False]


def test_verbs_with_gwcelery_semantics(condor_tools: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    result = _gwdag("condor", "submit", "--root", str(root))
    assert result.exit_code == 0, result.output
    cwd = str(Path.cwd())
    assert f"condor_submit '{cwd}/gwdag.sub'" in result.output
    assert (Path.cwd() / "gwdag.sub").read_text() == submit_description(str(root))
    # a second submit in the same directory refuses
    result = _gwdag("condor", "submit", "--root", str(root))
    assert result.exit_code == 1
    assert "already running" in result.output and "gwdag condor rm" in result.output
    # ... but another directory is another deployment
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.chdir(other)
    assert _gwdag("condor", "submit", "--root", str(root)).exit_code == 0
    os.chdir(cwd)

    result = _gwdag("condor", "hold")
    assert result.exit_code == 0
    assert f"condor_hold -constraint '{job_constraint(cwd)}'" in result.output
    queue = json.loads(Path(os.environ["STUB_QUEUE"]).read_text())
    assert sorted(j["JobStatus"] for j in queue if j["Iwd"] == cwd) == [5, 5]
    assert sorted(j["JobStatus"] for j in queue if j["Iwd"] != cwd) == [2, 2]
    assert _gwdag("condor", "release").exit_code == 0
    result = _gwdag("condor", "q")
    assert result.exit_code == 0 and "condor_q -nobatch -constraint" in result.output
    assert _gwdag("condor", "rm").exit_code == 0
    queue = json.loads(Path(os.environ["STUB_QUEUE"]).read_text())
    assert [j["Iwd"] for j in queue if "GoneAt" not in j] == [str(other)] * 2


def test_resubmit_waits_for_removal(condor_tools: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert _gwdag("condor", "submit", "--root", str(tmp_path)).exit_code == 0
    monkeypatch.setenv("STUB_RM_DELAY", "1.5")
    started = time.monotonic()
    result = _gwdag("condor", "resubmit", "--root", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.5
    names = [call[0] for call in _calls(tmp_path)]
    last_rm = len(names) - 1 - names[::-1].index("condor_rm")
    assert names[-1] == "condor_submit" and last_rm < len(names) - 1
    assert names[last_rm + 1:-1] and set(names[last_rm + 1:-1]) == {"condor_q"}
    queue = json.loads(Path(os.environ["STUB_QUEUE"]).read_text())
    assert len([j for j in queue if "GoneAt" not in j]) == 2
    # a removal that never completes ends with a clear error, not a second copy
    monkeypatch.setenv("STUB_RM_DELAY", "30")
    result = _gwdag("condor", "resubmit", "--root", str(tmp_path), "--wait", "0.5")
    assert result.exit_code == 1 and "still in the queue after 0.5 s" in result.output


def test_dry_run_runs_nothing(condor_tools: Path, tmp_path: Path) -> None:
    for verb in ("submit", "resubmit", "rm", "hold", "release", "q"):
        result = _gwdag("condor", verb, "--dry-run")
        assert result.exit_code == 0, (verb, result.output)
        assert "condor_" in result.output
    assert _calls(tmp_path) == []
    assert not (Path.cwd() / "gwdag.sub").exists()


def test_missing_tools_is_one_clear_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = _gwdag("condor", "q")
    assert result.exit_code == 1
    assert "condor_q not found on PATH" in result.output


def test_systemd_unit() -> None:
    unit = REPO / "scripts" / "gwdag@.service"
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str          # systemd keys are case-sensitive
    parser.read_string(unit.read_text())
    service = parser["Service"]
    assert service["ExecStart"] == "/usr/bin/env gwdag %i"
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return                         # the structural checks above still ran
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
