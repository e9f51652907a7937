"""``gwdag dag run|rm|status``: run a DAG with the local executor and follow it."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter

import click

from ..dagman.states import NodeStatus
from ..executors.jobspec import JobSpecError, read_job_spec
from ..executors.local import DagAlreadyRunning, RunOptions, run_dag, running_pid


def register(group: click.Group) -> None:
    """Add the run/rm/status commands to the ``dag`` group."""
    group.add_command(run)
    group.add_command(rm)
    group.add_command(status)


@click.command("run")
@click.argument("dag", type=click.Path(dir_okay=False, exists=True))
@click.option("--max-jobs", type=click.IntRange(0), default=0,
              help="Nodes with jobs submitted at once (0: no limit; DAGMan's -maxjobs).")
@click.option("--max-idle", type=click.IntRange(0), default=0,
              help="Job procs waiting for CPUs or memory at once (0: no limit).")
@click.option("--maxpre", type=click.IntRange(0), default=20, show_default=True,
              help="PRE scripts running at once (0: no limit).")
@click.option("--maxpost", type=click.IntRange(0), default=20, show_default=True,
              help="POST scripts running at once (0: no limit).")
@click.option("--cpus", type=click.IntRange(1), default=None,
              help="CPUs to pack jobs into by request_cpus [default: this machine's].")
@click.option("--memory", type=click.IntRange(0), default=None,
              help="Memory in MB to pack jobs into by request_memory [default: this "
                   "machine's].")
@click.option("--settle", type=click.FloatRange(0, 10), default=0.03, show_default=True,
              help="Seconds to pause before the first job of a DAG of 100 or more jobs, "
                   "so that Linux places their processes on idle CPUs (0: no pause; see "
                   "docs/executor.md).")
@click.option("--usedagdir", is_flag=True,
              help="Run in the DAG file's directory (condor_submit_dag -usedagdir).")
@click.option("--force", is_flag=True, help="Ignore rescue DAGs and run the whole DAG.")
@click.option("--always-run-post", is_flag=True,
              help="Run POST scripts after failed PRE scripts (DAGMAN_ALWAYS_RUN_POST).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Echo dagman.out lines to stderr.")
def run(dag: str, max_jobs: int, max_idle: int, maxpre: int, maxpost: int, cpus: int | None,
        memory: int | None, settle: float, usedagdir: bool, force: bool, always_run_post: bool,
        as_json: bool, verbose: bool) -> None:
    """Run DAG on this machine with DAGMan's semantics; exit with DAGMan's exit code.

    0 success, 1 failure, 2 removed (SIGTERM or 'gwdag dag rm'), or the RETURN value
    of ABORT-DAG-ON.  Artifacts are written next to DAG: .nodes.log, .dagman.out,
    .metrics, rescue DAGs; a rerun starts from the newest rescue DAG.
    """
    options = RunOptions(max_jobs=max_jobs, max_idle=max_idle, max_pre=maxpre,
                         max_post=maxpost, use_dag_dir=usedagdir, force=force,
                         always_run_post=True if always_run_post else None,
                         settle=settle)
    if cpus is not None:
        options.cpus = cpus
    if memory is not None:
        options.memory_mb = memory
    echo = (lambda line: click.echo(line, err=True)) if verbose else None
    try:
        result = run_dag(dag, options, log=echo)
    except DagAlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    # (counted first: one enum .name lookup per state instead of one per node)
    counts = {state.name: n for state, n in Counter(result.nodes.values()).items()}
    if as_json:
        click.echo(json.dumps({
            "schema_version": 1, "dag": dag, "exit_code": result.exit_code,
            "dag_status": int(result.dag_status), "duration": round(result.duration, 3),
            "rescue_file": result.rescue_file, "counts": counts,
            "nodes": {name: state.name for name, state in result.nodes.items()},
        }, indent=2))
    else:
        summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
        click.echo(f"{dag}: exit {result.exit_code} ({result.dag_status.label}) in "
                   f"{result.duration:.2f} s: {summary}")
        if result.rescue_file:
            click.echo(f"rescue DAG: {result.rescue_file}")
    sys.exit(result.exit_code)


@click.command("rm")
@click.argument("dag", type=click.Path(dir_okay=False, exists=True))
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the run to write its rescue DAG and exit.")
def rm(dag: str, timeout: float) -> None:
    """Stop a running DAG: its jobs are removed, the rescue DAG written, FINAL run."""
    pid = running_pid(os.path.abspath(dag))
    if pid is None:
        raise click.ClickException(f"{dag} is not running (no live lock file {dag}.lock)")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_pid(os.path.abspath(dag)) is None:
            click.echo(f"{dag}: removed (pid {pid})")
            return
        time.sleep(0.05)
    raise click.ClickException(f"{dag}: pid {pid} has not exited after {timeout:.0f} s")


def _stderr_tails(dag_file: str, cwd: str, node_names: list[str], lines: int = 5
                  ) -> dict[str, list[str]]:
    """The last lines of each named node's error file, when its submit file names one."""
    from ..dagman.loader import load_dag

    if not node_names:
        return {}
    dag = load_dag(dag_file, cwd=cwd).dag
    tails: dict[str, list[str]] = {}
    for name in node_names:
        try:
            node = dag.nodes[name]
            submit_dir = os.path.join(cwd, node.dir) if node.dir else cwd
            if node.inline_submit is not None:
                text = node.inline_submit
            elif node.submit in dag.submit_descriptions:
                text = dag.submit_descriptions[node.submit]
            else:
                with open(os.path.join(submit_dir, node.submit), encoding="utf-8") as handle:
                    text = handle.read()
            macros = {"JOB": node.name, "RETRY": "0"}
            macros.update({k: v.value for k, v in node.vars.items()})
            path = read_job_spec(text, submit_dir, macros, {}, cluster=0).procs[0].stderr
            if path:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    tails[name] = handle.read().splitlines()[-lines:]
        except (OSError, KeyError, JobSpecError, IndexError):
            continue
    return tails


@click.command("status")
@click.argument("dag", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--watch", is_flag=True, help="Redraw every second until the DAG finishes.")
@click.option("--usedagdir", is_flag=True, help="The DAG ran in its own directory.")
def status(dag: str, as_json: bool, watch: bool, usedagdir: bool) -> None:
    """Node counts and per-node states of DAG from its artifacts (also for DAGs real
    DAGMan ran): retries, failed nodes with exit codes and the tail of their stderr."""
    # (imported here: 'dag run', which shares this module, does not need it)
    from ..dagman.progress import dag_progress

    cwd = os.path.dirname(os.path.abspath(dag)) if usedagdir else os.getcwd()
    while True:
        pid = running_pid(os.path.abspath(dag))
        progress = dag_progress(dag, cwd=cwd, running_pid=pid)
        failed = [n for n in progress.nodes if n.status is NodeStatus.ERROR]
        tails = _stderr_tails(dag, cwd, [n.name for n in failed])
        if as_json:
            document = progress.document()
            for node in document["nodes"]:
                if node["name"] in tails:
                    node["stderr_tail"] = tails[node["name"]]
            click.echo(json.dumps(document, indent=2))
        else:
            state = (f"running (pid {pid})" if pid else
                     f"finished, exit {progress.exit_code}" if progress.finished else
                     "not running")
            counts = progress.counts()
            click.echo(f"{dag}: {state}")
            click.echo("  " + "  ".join(f"{k.lower()} {v}" for k, v in counts.items() if v))
            for node in progress.nodes:
                extra = f" retries={node.retries}" if node.retries else ""
                if node.status is NodeStatus.ERROR:
                    extra += f" return={node.return_value}"
                    if node.post_return is not None:
                        extra += f" post={node.post_return}"
                click.echo(f"  {node.name:30s} {node.status.name:10s}{extra}")
                for line in tails.get(node.name, []):
                    click.echo(f"      | {line}")
        if not watch or progress.finished or (pid is None and not progress.nodes):
            return
        if pid is None:
            return
        time.sleep(1.0)
