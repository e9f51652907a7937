"""The local executor: DAGMan's node semantics, exit codes and artifacts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gwdag.dagman.progress import dag_progress
from gwdag.dagman.states import DagStatus, NodeStatus
from gwdag.dagman.status_file import read_status_file
from gwdag.executors.jobspec import JobSpecError, parse_environment, read_job_spec, split_arguments
from gwdag.executors.local import (
    SETTLE_MIN_JOBS,
    LocalExecutor,
    RunOptions,
    _settle_scheduler,
    run_dag,
)

from .conftest import FIXTURES, require_corpus

ROOT = Path(__file__).resolve().parent.parent


def write(directory: Path, name: str, text: str, mode: int | None = None) -> Path:
    path = directory / name
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


@pytest.fixture
def dagdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "ok.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'echo $(JOB) >> order.txt'\"\nqueue\n")
    write(tmp_path, "exit.sub", "executable = /bin/sh\narguments = \"-c 'exit $(code)'\"\n"
          "error = $(JOB).err\nqueue\n")
    write(tmp_path, "record.sh", "#!/bin/sh\necho \"$@\" >> scripts.txt\nexit ${EXIT:-0}\n",
          0o755)
    return tmp_path


def run(path: str = "d.dag", **options) -> object:
    return run_dag(path, RunOptions(**options))


def test_success_and_artifacts(dagdir: Path) -> None:
    import htcondor2

    write(dagdir, "d.dag", "JOB A ok.sub\nJOB B ok.sub\nJOB C ok.sub\nPARENT A CHILD B C\n"
          "NODE_STATUS_FILE d.status 0\nJOBSTATE_LOG d.jobstate\n")
    result = run()
    assert result.exit_code == 0 and result.dag_status is DagStatus.OK
    assert (dagdir / "order.txt").read_text().split()[0] == "A"
    events = list(htcondor2.JobEventLog(str(dagdir / "d.dag.nodes.log")).events(0))
    submits = [e for e in events if e.type is htcondor2.JobEventType.SUBMIT]
    assert [e["LogNotes"] for e in submits][0] == "DAG Node: A"
    assert sum(e.type is htcondor2.JobEventType.JOB_TERMINATED for e in events) == 3
    ads = read_status_file(str(dagdir / "d.status"))
    assert ads[0]["DagStatus"] == 5 and ads[0]["NodesDone"] == 3
    assert [a["NodeStatus"] for a in ads if a["Type"] == "NodeStatus"] == [5, 5, 5]
    metrics = json.loads((dagdir / "d.dag.metrics").read_text())
    assert metrics["exitcode"] == 0 and metrics["nodes_succeeded"] == 3
    jobstate = (dagdir / "d.jobstate").read_text()
    assert "INTERNAL *** DAGMAN_STARTED" in jobstate and " A JOB_SUCCESS 0 - - 1" in jobstate
    assert "EXITING WITH STATUS 0" in (dagdir / "d.dag.dagman.out").read_text()
    assert not list(dagdir.glob("d.dag.rescue*"))


def test_failure_retry_futile_rescue_and_rerun(dagdir: Path) -> None:
    write(dagdir, "d.dag", "JOB A ok.sub\nJOB B exit.sub\nVARS B code=\"3\"\nRETRY B 2\n"
          "JOB C ok.sub\nJOB D ok.sub\nPARENT A CHILD B D\nPARENT B CHILD C\n")
    result = run()
    assert result.exit_code == 1 and result.dag_status is DagStatus.NODE_FAILED
    assert result.nodes == {"A": NodeStatus.DONE, "B": NodeStatus.ERROR,
                            "C": NodeStatus.FUTILE, "D": NodeStatus.DONE}
    assert (dagdir / "d.dag.dagman.out").read_text().count("Retrying node B") == 2
    rescue = (dagdir / "d.dag.rescue001").read_text().splitlines()
    assert rescue[0] == "# Rescue DAG file, created after running"
    assert "# Nodes that failed: 1" in rescue and "#   B,<ENDLIST>" in rescue
    assert [line for line in rescue if line.startswith("DONE")] == ["DONE A", "DONE D"]
    progress = dag_progress("d.dag", cwd=str(dagdir))
    states = {n.name: n for n in progress.nodes}
    assert progress.exit_code == 1 and states["B"].retries == 2
    assert states["B"].return_value == 3 and states["C"].status is NodeStatus.FUTILE
    # The rerun starts from the rescue DAG: A and D do not run again.
    (dagdir / "order.txt").unlink()
    write(dagdir, "d.dag", (dagdir / "d.dag").read_text().replace('code="3"', 'code="0"'))
    result = run()
    assert result.exit_code == 0
    assert sorted((dagdir / "order.txt").read_text().split()) == ["C"]


def test_post_script_decides_and_macros(dagdir: Path) -> None:
    write(dagdir, "d.dag", "JOB A exit.sub\nVARS A code=\"4\"\n"
          "SCRIPT PRE A record.sh pre $JOB $RETRY $MAX_RETRIES\n"
          "SCRIPT POST A record.sh post $JOB $RETURN $PRE_SCRIPT_RETURN $JOBID $SUCCESS\n")
    result = run()
    assert result.exit_code == 0  # POST exits 0: it rescues the failed job
    lines = (dagdir / "scripts.txt").read_text().splitlines()
    assert lines[0] == "pre A 0 0"
    assert lines[1] == "post A 4 0 1.0 False"


def test_pre_skip_and_weak_edges(dagdir: Path) -> None:
    write(dagdir, "skip.sh", "#!/bin/sh\nexit 7\n", 0o755)
    write(dagdir, "d.dag", "JOB A ok.sub\nSCRIPT PRE A skip.sh\nPRE_SKIP A 7\n"
          "JOB F exit.sub\nVARS F code=\"1\"\nJOB W ok.sub\nWEAK PARENT F CHILD W\n")
    result = run()
    assert result.nodes["A"] is NodeStatus.DONE
    assert result.nodes["W"] is NodeStatus.DONE  # a weak child runs after a failure
    assert result.exit_code == 1
    assert "A" not in (dagdir / "order.txt").read_text().split()  # skipped job
    assert "034 (000.2147483647" in (dagdir / "d.dag.nodes.log").read_text()


def test_abort_dag_on_runs_final(dagdir: Path) -> None:
    write(dagdir, "d.dag", "JOB A exit.sub\nVARS A code=\"5\"\nRETRY A 3\n"
          "ABORT-DAG-ON A 5 RETURN 9\nJOB B ok.sub\nPARENT A CHILD B\n"
          "FINAL Z ok.sub\nSCRIPT PRE Z record.sh $DAG_STATUS $FAILED_COUNT\n")
    result = run()
    assert result.exit_code == 0  # the FINAL node succeeded
    assert (dagdir / "scripts.txt").read_text().split() == ["3", "1"]
    assert "Retrying" not in (dagdir / "d.dag.dagman.out").read_text()
    write(dagdir, "d.dag", (dagdir / "d.dag").read_text().split("FINAL")[0])
    result = run(force=True)
    assert result.exit_code == 9


def test_priority_order_and_category_throttle(dagdir: Path) -> None:
    write(dagdir, "d.dag", "JOB A ok.sub\nJOB B ok.sub\nJOB C ok.sub\n"
          "PRIORITY B 5\nPRIORITY C 9\n")
    assert run(max_jobs=1).exit_code == 0
    assert (dagdir / "order.txt").read_text().split() == ["C", "B", "A"]
    write(dagdir, "slow.sub", "universe = local\nexecutable = /bin/sh\narguments = \"-c '"
          "echo start >> trace.txt; sleep 0.2; echo end >> trace.txt'\"\nqueue\n")
    write(dagdir, "t.dag", "".join(f"JOB N{i} slow.sub\nCATEGORY N{i} slow\n" for i in range(3))
          + "MAXJOBS slow 1\n")
    assert run("t.dag").exit_code == 0
    assert (dagdir / "trace.txt").read_text().split() == ["start", "end"] * 3


def test_job_environment_ad_and_procs(dagdir: Path) -> None:
    write(dagdir, "env.sub", "executable = /bin/sh\narguments = \"-c 'cat $_CONDOR_JOB_AD; "
          "echo OMP=$OMP_NUM_THREADS FOO=$FOO P=$(Process)'\"\n"
          "environment = \"FOO='a b'\"\nrequest_cpus = 2\noutput = out.$(Process)\n"
          "queue 2\n")
    write(dagdir, "d.dag", "JOB E env.sub\n")
    assert run(cpus=2).exit_code == 0
    text = (dagdir / "out.1").read_text()
    assert 'DAGNodeName = "E"' in text and "ProcId = 1" in text and "RequestCpus = 2" in text
    assert "OMP=2 FOO=a b P=1" in text


def test_job_ads_per_job_and_overridden(dagdir: Path) -> None:
    """The ad's per-job part changes from job to job of one description; a
    +attribute of the description wins over the executor's own value."""
    import classad2

    write(dagdir, "ad.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'cp $_CONDOR_JOB_AD ad.$(JOB)'\"\n"
          "+QDate = 7\n+Site = \"here\"\nqueue\n")
    write(dagdir, "d.dag", "JOB A ad.sub\nJOB B ad.sub\nPARENT A CHILD B\n")
    assert run().exit_code == 0
    first = classad2.parseOne((dagdir / "ad.A").read_text(), classad2.ParserType.Old)
    second = classad2.parseOne((dagdir / "ad.B").read_text(), classad2.ParserType.Old)
    assert first["DAGNodeName"] == "A" and second["DAGNodeName"] == "B"
    assert second["ClusterId"] == first["ClusterId"] + 1
    assert second["DAGParentNodeNames"] == "A" and first["DAGParentNodeNames"] == ""
    assert first["QDate"] == 7 and second["Site"] == "here"
    assert first["Iwd"] == str(dagdir) and first["RequestCpus"] == 1


def test_vars_set_commands_and_attributes_of_a_shared_description(dagdir: Path) -> None:
    """Nodes sharing a submit file that mentions no macro still get their own
    VARS when those are submit commands or attributes; a node without VARS
    gets the file's values."""
    import classad2

    write(dagdir, "ad.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'cat $_CONDOR_JOB_AD >> ads.txt; echo >> ads.txt'\"\nqueue\n")
    write(dagdir, "d.dag", "JOB A ad.sub\nJOB B ad.sub\nJOB C ad.sub\n"
          "VARS A request_memory=\"100\"\nVARS A +Foo=\"\\\"a\\\"\"\n"
          "VARS B request_memory=\"200\"\nVARS B +Foo=\"\\\"b\\\"\"\n"
          "PARENT A CHILD B\nPARENT B CHILD C\n")
    assert run().exit_code == 0
    ads = {ad["DAGNodeName"]: ad for ad in
           (classad2.parseOne(text, classad2.ParserType.Old)
            for text in (dagdir / "ads.txt").read_text().split("\n\n") if text.strip())}
    assert {name: ad["RequestMemory"] for name, ad in ads.items()}["A"] == 100
    assert ads["B"]["RequestMemory"] == 200 and ads["B"]["Foo"] == "b"
    assert ads["A"]["Foo"] == "a" and "Foo" not in ads["C"]
    assert ads["C"]["RequestMemory"] not in (100, 200)


def test_job_ads_written_fast_or_through_classad2_read_alike(dagdir: Path) -> None:
    """Plain node names get their per-job ad lines formatted directly; others go
    through classad2.  HTCondor's parser reads the same values from both."""
    import time

    import classad2

    write(dagdir, "ad.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'cp $_CONDOR_JOB_AD ad.$(JOB)'\"\nqueue\n")
    write(dagdir, "d.dag", "JOB A ad.sub\nJOB W%x ad.sub\nJOB C ad.sub\n"
          "PARENT A W%x CHILD C\n")
    before = int(time.time())
    assert run().exit_code == 0
    ads = {name: classad2.parseOne((dagdir / f"ad.{name}").read_text(),
                                   classad2.ParserType.Old) for name in ("A", "W%x", "C")}
    assert {name: ad["DAGNodeName"] for name, ad in ads.items()} == {
        "A": "A", "W%x": "W%x", "C": "C"}
    assert sorted(ads["C"]["DAGParentNodeNames"].split(",")) == ["A", "W%x"]
    assert sorted(ad["ClusterId"] for ad in ads.values()) == [1, 2, 3]
    assert all(ad["ProcId"] == 0 and before <= ad["QDate"] <= time.time() + 1
               for ad in ads.values())
    assert (dagdir / "ad.A").read_text().startswith("QDate = ")   # the direct path


def test_scratch_directories_are_reused_only_as_they_were_left(dagdir: Path) -> None:
    """Scratch directories pass from job to job with the ad written over in
    place; whatever a job does to its directory or its ad, the next job finds
    its own complete ad and nothing else."""
    import classad2

    write(dagdir, "job.sh", 'cp "$_CONDOR_JOB_AD" "ad.$1"\n'
          'ls -A "$_CONDOR_SCRATCH_DIR" > "ls.$1"\n'
          'case $2 in\n'
          '  grow) echo "Junk = 1" >> "$_CONDOR_JOB_AD" ;;\n'
          '  shrink) : > "$_CONDOR_JOB_AD" ;;\n'
          '  delete) rm "$_CONDOR_JOB_AD" ;;\n'
          '  replace) rm "$_CONDOR_JOB_AD"; echo "X = 1" > "$_CONDOR_JOB_AD" ;;\n'
          '  link) rm "$_CONDOR_JOB_AD"; ln -s /etc/hostname "$_CONDOR_JOB_AD" ;;\n'
          '  extra) touch "$_CONDOR_SCRATCH_DIR/extra" ;;\n'
          'esac\n')
    write(dagdir, "job.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"job.sh $(JOB) $(mode)\"\nqueue\n")
    modes = ["grow", "shrink", "delete", "replace", "link", "extra", "none", "none"]
    names = [f"N{i}" for i in range(len(modes))]
    lines = [f"JOB {n} job.sub\nVARS {n} mode=\"{m}\"\n" for n, m in zip(names, modes, strict=True)]
    lines += [f"PARENT {a} CHILD {b}\n" for a, b in zip(names, names[1:], strict=False)]
    write(dagdir, "d.dag", "".join(lines))
    assert run(cpus=1).exit_code == 0
    texts = [(dagdir / f"ad.{name}").read_text() for name in names]
    ads = [classad2.parseOne(text, classad2.ParserType.Old) for text in texts]
    for cluster, (name, text, ad) in enumerate(zip(names, texts, ads, strict=True), start=1):
        assert (ad["DAGNodeName"], ad["ClusterId"]) == (name, cluster)
        # no leftover of a longer ad: every line an attribute, the same ones
        assert all(re.fullmatch(r"[A-Za-z_]\w* = .+", line) for line in text.splitlines())
        assert set(ad.keys()) == set(ads[0].keys())
        assert (dagdir / f"ls.{name}").read_text().split() == [".job.ad"]


def test_a_job_prepared_for_the_next_slot_that_never_starts(dagdir: Path) -> None:
    """The next job to start gets its scratch directory and ad while it waits for
    a slot; when the DAG aborts before it starts, it is removed like any idle
    job and nothing of it is left open or on disk."""
    write(dagdir, "abort.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'sleep 0.3; exit 7'\"\nqueue\n")
    write(dagdir, "d.dag", "JOB A abort.sub\nJOB B ok.sub\nJOB C ok.sub\n"
          "ABORT-DAG-ON A 7 RETURN 3\n")
    fds_before = set(os.listdir("/proc/self/fd"))
    executor = LocalExecutor("d.dag", RunOptions(cpus=1))
    result = executor.run()
    assert result.exit_code == 3
    assert result.nodes["B"] is not NodeStatus.DONE and result.nodes["C"] is not NodeStatus.DONE
    assert not (dagdir / "order.txt").exists()          # neither B nor C ran
    log = (dagdir / "d.dag.nodes.log").read_text()
    assert log.count("Job was aborted.") == 2 and log.count("Job executing on host") == 1
    assert set(os.listdir("/proc/self/fd")) <= fds_before
    assert executor.scratch_root and not os.path.exists(executor.scratch_root)


def test_exits_collected_together_are_each_handled_as_they_happened(
        dagdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every exit a wake-up brings is collected before any is handled.  When the
    first one handled aborts the DAG, a job whose successful exit was already
    collected is not removed: it finished before the abort, as DAGMan would
    read it in the log."""
    write(dagdir, "quick.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'sleep 0.1; exit $(code)'\"\nqueue\n")
    write(dagdir, "slow.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'sleep 0.4; exit 0'\"\nqueue\n")
    write(dagdir, "d.dag", "JOB B quick.sub\nVARS B code=\"5\"\nJOB A slow.sub\n"
          "ABORT-DAG-ON B 5 RETURN 3\n")
    real_wait = LocalExecutor._wait
    waits = []

    def wait_after_both_exited(self: LocalExecutor, timeout: float | None) -> None:
        if not waits and self.cpus_used == 2:
            time.sleep(1.2)      # B exits, then A: one wake-up brings both
        waits.append(timeout)
        real_wait(self, timeout)

    monkeypatch.setattr(LocalExecutor, "_wait", wait_after_both_exited)
    result = run(cpus=2)
    assert result.exit_code == 3
    assert result.nodes["B"] is NodeStatus.ERROR and result.nodes["A"] is NodeStatus.DONE
    log = (dagdir / "d.dag.nodes.log").read_text()
    assert "Job was aborted." not in log and log.count("Normal termination") == 2


def test_a_post_script_sees_its_jobs_events_in_the_nodes_log(dagdir: Path) -> None:
    """The nodes log is written in batches, but always before a script starts."""
    write(dagdir, "true.sub", "universe = local\nexecutable = /bin/true\nqueue\n")
    write(dagdir, "post.sh", "grep -c '^005 ' d.dag.nodes.log > seen\n")
    write(dagdir, "d.dag", "JOB A true.sub\nSCRIPT POST A /bin/sh post.sh\n")
    assert run().exit_code == 0
    assert (dagdir / "seen").read_text().strip() == "1"


def test_jobs_see_only_their_three_streams(dagdir: Path) -> None:
    """Whether started here (posix_spawn) or in a DIR (Popen), a job inherits no
    descriptor of the process that runs the DAG: not the pipe its caller passed."""
    (dagdir / "sub").mkdir()
    for directory in (dagdir, dagdir / "sub"):
        write(directory, "fds.sh", "ls -l /proc/$$/fd > fds.$1\n")
        write(directory, "fds.sub", "universe = local\nexecutable = /bin/sh\n"
              "arguments = fds.sh $(JOB)\nqueue\n")
    write(dagdir, "d.dag", "JOB HERE fds.sub\nJOB THERE fds.sub DIR sub\n")
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        done = subprocess.run([sys.executable, "-m", "gwdag", "dag", "run", "d.dag"],
                              cwd=dagdir, pass_fds=(write_end,), capture_output=True,
                              text=True, timeout=60)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    for listing in (dagdir / "fds.HERE", dagdir / "sub" / "fds.THERE"):
        # (the shell's own descriptors for its script are files, not pipes)
        assert "pipe:" not in listing.read_text()


def test_many_short_jobs_in_node_directories(dagdir: Path) -> None:
    """Jobs started through Popen (a DIR) are reaped by the executor only: none
    of their exits is lost to subprocess's own clean-up of dropped Popen objects."""
    for name in ("a", "b"):
        (dagdir / name).mkdir()
        write(dagdir / name, "t.sub", "universe = local\nexecutable = /bin/true\nqueue\n")
    lines = [f"JOB N{i} t.sub DIR {'ab'[i % 2]}" for i in range(40)]
    lines += [f"PARENT N{i} CHILD N{i + 2}" for i in range(38)]
    write(dagdir, "d.dag", "\n".join(lines) + "\n")
    # In a process of its own: a lost exit would leave the run waiting forever.
    with open(dagdir / "run.json", "w") as out:
        run_process = subprocess.Popen([sys.executable, "-m", "gwdag", "dag", "run", "d.dag",
                                        "--cpus", "2", "--json"], cwd=dagdir, stdout=out)
    try:
        assert run_process.wait(timeout=60) == 0
    finally:
        run_process.kill()
        run_process.wait()
    assert set(json.loads((dagdir / "run.json").read_text())["nodes"].values()) == {"DONE"}


def test_settle_pause_only_before_large_dags(dagdir: Path) -> None:
    """The pause before the first job (``settle``) is taken for a DAG of
    SETTLE_MIN_JOBS jobs or more on a machine with more than one usable CPU; a
    small DAG starts its jobs at once."""
    write(dagdir, "t.sub", "universe = local\nexecutable = /bin/true\nqueue\n")
    write(dagdir, "small.dag", "JOB A t.sub\nJOB B t.sub\nPARENT A CHILD B\n")
    small = run("small.dag", settle=3.0)
    assert small.exit_code == 0 and small.duration < 2.0
    write(dagdir, "large.dag", "".join(f"JOB N{i} t.sub\n" for i in range(SETTLE_MIN_JOBS)))
    large = run("large.dag", settle=0.8, cpus=2)
    assert large.exit_code == 0
    assert (large.duration >= 0.8) == (len(os.sched_getaffinity(0)) > 1)
    assert set(large.nodes.values()) == {NodeStatus.DONE}


def test_settle_runs_its_helper_work_in_another_thread_during_the_pause() -> None:
    """What the first job needs anyway (importing the submit parser) is done by
    a thread while the dispatching thread pauses, not after the pause."""
    seen: list[tuple[str, float]] = []
    start = time.monotonic()
    _settle_scheduler(0.2, meanwhile=lambda: seen.append(
        (threading.current_thread().name, time.monotonic() - start)))
    elapsed = time.monotonic() - start
    if len(os.sched_getaffinity(0)) > 1:
        assert [name for name, _ in seen] == ["gwdag-settle"]
        assert seen[0][1] < 0.15 and elapsed >= 0.2   # ran early in the pause
    else:
        assert seen == [] and elapsed < 0.1           # one CPU: no pause at all
    seen.clear()
    _settle_scheduler(0, meanwhile=lambda: seen.append(("called", 0.0)))
    assert seen == []


def test_bad_universe_and_missing_submit_fail_the_node(dagdir: Path) -> None:
    write(dagdir, "grid.sub", "universe = grid\nexecutable = /bin/true\nqueue\n")
    write(dagdir, "d.dag", "JOB G grid.sub\nJOB M missing.sub\n")
    result = run()
    assert result.exit_code == 1
    out = (dagdir / "d.dag.dagman.out").read_text()
    assert "universe grid cannot run on the local executor" in out
    assert "cannot read submit file missing.sub" in out


def test_prohibit_multi_jobs_fails_only_multi_proc_nodes(dagdir: Path) -> None:
    """DAGMAN_PROHIBIT_MULTI_JOBS (from the DAG's CONFIG file): a node whose
    submit queues several procs fails with DAGMan's message; a one-proc node
    runs; without the knob the same DAG succeeds."""
    write(dagdir, "two.sub", "universe = local\nexecutable = /bin/true\nqueue 2\n")
    write(dagdir, "d.dag", "CONFIG d.config\nJOB ONE ok.sub\nJOB TWO two.sub\n")
    write(dagdir, "d.config", "DAGMAN_PROHIBIT_MULTI_JOBS = True\n")
    result = run()
    assert result.exit_code == 1
    assert result.nodes["ONE"] is NodeStatus.DONE and result.nodes["TWO"] is NodeStatus.ERROR
    assert ("Submit generated 2 job procs; disallowed by DAGMAN_PROHIBIT_MULTI_JOBS setting"
            in (dagdir / "d.dag.dagman.out").read_text())
    write(dagdir, "d.config", "DAGMAN_PROHIBIT_MULTI_JOBS = False\n")
    assert run(force=True).exit_code == 0


def test_queue_matching_files(dagdir: Path) -> None:
    """``queue ... matching`` makes one proc per file, in name order, relative to
    the submit directory; no matching file is a clear submit failure."""
    write(dagdir, "glob.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'echo $(Process) > $(name).seen'\"\n"
          "queue name matching files in-*.dat\n")
    write(dagdir, "d.dag", "JOB G glob.sub\n")
    result = run()
    assert result.exit_code == 1
    assert "'queue name matching files in-*.dat' gives no items" in \
        (dagdir / "d.dag.dagman.out").read_text()
    for name in ("in-b.dat", "in-a.dat"):
        write(dagdir, name, "")
    assert run(force=True).exit_code == 0
    assert (dagdir / "in-a.dat.seen").read_text() == "0\n"
    assert (dagdir / "in-b.dat.seen").read_text() == "1\n"
    events = (dagdir / "d.dag.nodes.log").read_text()
    assert "(001.000.000)" in events and "(001.001.000)" in events


def test_provisioner_is_a_clear_error(dagdir: Path) -> None:
    write(dagdir, "d.dag", "PROVISIONER P ok.sub\nJOB A ok.sub\n")
    assert run().exit_code == 1
    assert "PROVISIONER node P needs an HTCondor pool" in (dagdir / "d.dag.dagman.out").read_text()


def test_halt_file_stops_new_work(dagdir: Path) -> None:
    write(dagdir, "halt.sub", "universe = local\nexecutable = /bin/sh\n"
          "arguments = \"-c 'touch d.dag.halt'\"\nqueue\n")
    write(dagdir, "d.dag", "JOB H halt.sub\nJOB B ok.sub\nPARENT H CHILD B\n")
    result = run()
    assert result.exit_code == 1 and result.dag_status is DagStatus.HALTED
    assert result.nodes["B"] in (NodeStatus.READY, NodeStatus.NOT_READY)  # never ran
    assert not (dagdir / "order.txt").exists()
    assert (dagdir / "d.dag.rescue001").exists()


def _cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "gwdag", "dag", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_and_rm_remove_jobs_and_write_rescue(dagdir: Path) -> None:
    write(dagdir, "sleep.sub", "universe = local\nexecutable = /bin/sleep\narguments = 60\n"
          "queue\n")
    write(dagdir, "d.dag", "JOB A ok.sub\nJOB S sleep.sub\nPARENT A CHILD S\nFINAL Z ok.sub\n")
    running = _cli("run", "d.dag", cwd=dagdir)
    deadline = time.monotonic() + 20
    while "S (2.0.0)" not in _read(dagdir / "d.dag.dagman.out"):
        assert time.monotonic() < deadline, "S never started"
        time.sleep(0.05)
    second = _cli("run", "d.dag", cwd=dagdir)
    assert second.wait(20) == 1 and "is already running" in second.stderr.read()
    rm = subprocess.run([sys.executable, "-m", "gwdag", "dag", "rm", "d.dag"], cwd=dagdir,
                        capture_output=True, text=True, timeout=30)
    assert rm.returncode == 0, rm.stderr
    assert running.wait(30) == 2
    text = (dagdir / "d.dag.nodes.log").read_text()
    assert "Job was aborted." in text
    assert (dagdir / "d.dag.rescue001").read_text().count("DONE A") == 1
    assert "Z" in (dagdir / "order.txt").read_text().split()  # FINAL ran


def test_sigterm_directly(dagdir: Path) -> None:
    write(dagdir, "sleep.sub", "universe = local\nexecutable = /bin/sleep\narguments = 60\n"
          "queue\n")
    write(dagdir, "d.dag", "JOB S sleep.sub\n")
    running = _cli("run", "d.dag", "--json", cwd=dagdir)
    deadline = time.monotonic() + 20
    while "Submitting HTCondor Node S" not in _read(dagdir / "d.dag.dagman.out"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.1)
    running.send_signal(signal.SIGTERM)
    assert running.wait(30) == 2
    assert json.loads(running.stdout.read())["dag_status"] == int(DagStatus.RM)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def test_status_command_json(dagdir: Path) -> None:
    write(dagdir, "d.dag", "JOB A exit.sub\nVARS A code=\"2\"\n")
    subprocess.run([sys.executable, "-m", "gwdag", "dag", "run", "d.dag"], cwd=dagdir)
    (dagdir / "A.err").write_text("line1\nboom\n")
    done = subprocess.run([sys.executable, "-m", "gwdag", "dag", "status", "d.dag", "--json"],
                          cwd=dagdir, capture_output=True, text=True)
    document = json.loads(done.stdout)
    node = document["nodes"][0]
    assert document["exit_code"] == 1 and node["status"] == "ERROR"
    assert node["return_value"] == 2 and node["stderr_tail"] == ["line1", "boom"]


def test_arguments_and_environment_syntax() -> None:
    assert split_arguments("\"a 'b c' 'it''s' \"\"q\"\"\"") == ["a", "b c", "it's", '"q"']
    assert split_arguments("one  two") == ["one", "two"]
    assert parse_environment("\"A=1 B='x y'\"") == {"A": "1", "B": "x y"}
    assert parse_environment("A=1;B=2") == {"A": "1", "B": "2"}
    with pytest.raises(JobSpecError):
        parse_environment("\"JUNK\"")
    spec = read_job_spec("executable = /bin/echo\narguments = $(x) $(Cluster).$(Process)\n"
                         "queue 2\n", "/tmp", {"x": "v"}, {}, cluster=7)
    assert [p.argv for p in spec.procs] == [["/bin/echo", "v", "7.0"], ["/bin/echo", "v", "7.1"]]


def test_conformance_corpus() -> None:
    """The shared DAGMan corpus through scripts/dagman_conformance.py."""
    require_corpus()
    corpus = FIXTURES / "htcondor-dags"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "dagman_conformance.py"),
                           str(corpus), "--json", "--timeout", "60"],
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    report = json.loads(done.stdout)
    runnable = report["passed"] + report["failed"]
    # Measured: 85 of 92 runnable cases; this guards against regressions.
    assert report["passed"] >= 85, [r for r in report["results"] if r["status"] == "failed"]
    assert runnable == 92
