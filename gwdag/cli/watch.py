"""``gwdag q`` (condor_q for gwdag's runs) and ``gwdag watch`` (condor_watch_q)."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime

import click

from .common import data_root, root_option

SCHEMA_VERSION = 1
_COLUMNS = ("done", "running", "idle", "held", "failed")


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(round(width * done / total)) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total}"


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%m/%d %H:%M:%S") if stamp else "-"


def _plain_table(rows, title: str) -> str:
    width = max([len(r.run_id) for r in rows] + [3])
    lines = [title, f"{'RUN':<{width}} {'KIND':<11} {'STATE':<9} {'CREATED':<14} "
             f"{'DONE':>4} {'RUN':>4} {'IDLE':>4} {'HOLD':>4} {'FAIL':>4} {'TOTAL':>5}  PROGRESS"]
    for row in rows:
        counts = " ".join(f"{getattr(row, c) or '-':>4}" for c in _COLUMNS)
        lines.append(f"{row.run_id:<{width}} {row.kind[:11]:<11} {row.state:<9} "
                     f"{_when(row.created_at):<14} {counts} {row.total:>5}  "
                     f"{_bar(row.done, row.total)}")
        lines += [f"    held: {reason}" for reason in row.hold_reasons]
    total = sum(r.total for r in rows)
    sums = {c: sum(getattr(r, c) for r in rows) for c in _COLUMNS}
    lines.append(f"Total for {len(rows)} runs: {total} nodes: " +
                 ", ".join(f"{sums[c]} {c}" for c in _COLUMNS) +
                 f"  {_bar(sums['done'], total)}")
    return "\n".join(lines)


def _rich_table(rows, title: str):
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", expand=False)
    for name, justify in (("RUN", "left"), ("KIND", "left"), ("STATE", "left"),
                          ("CREATED", "left"), ("DONE", "right"), ("RUN", "right"),
                          ("IDLE", "right"), ("HOLD", "right"), ("FAIL", "right"),
                          ("TOTAL", "right"), ("PROGRESS", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    style = {"failed": "red", "done": "green", "running": "cyan", "planning": "cyan"}
    for row in rows:
        table.add_row(row.run_id, row.kind, Text(row.state, style=style.get(row.state, "")),
                      _when(row.created_at),
                      *(str(getattr(row, c) or "-") for c in _COLUMNS), str(row.total),
                      ProgressBar(total=max(row.total, 1), completed=row.done, width=20))
    total = sum(r.total for r in rows)
    sums = {c: sum(getattr(r, c) for r in rows) for c in _COLUMNS}
    summary = Text(f"Total for {len(rows)} runs: {total} nodes: "
                   + ", ".join(f"{sums[c]} {c}" for c in _COLUMNS))
    held = [Text(f"held {r.run_id}: {reason}", style="yellow")
            for r in rows for reason in r.hold_reasons]
    return Group(table, *held, summary,
                 ProgressBar(total=max(total, 1), completed=sums["done"], width=60))


def _executor(ctx: click.Context) -> str:
    from ..config import ConfigError, load_config

    try:
        return load_config(ctx.obj.get("config_path") if ctx.obj else None).get(
            "executor", "kind")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("q")
@root_option
@click.option("--all", "show_all", is_flag=True,
              help="Also the runs that finished in the last hour.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def q(ctx: click.Context, root: str | None, show_all: bool, as_json: bool) -> None:
    """gwdag's DAG runs as condor_q shows batches: node counts per run.  With
    [executor] kind = "condor" the DAGMan jobs come from the schedd."""
    from pathlib import Path

    where = data_root(ctx, root)
    if not Path(where).is_dir():
        raise click.ClickException(f"no data root at {where}")
    if _executor(ctx) == "condor":
        from ..executors.condor import CondorExecutor, CondorUnavailable
        from ..ops.watch import condor_rows

        try:
            rows = condor_rows(where, CondorExecutor()._schedd())
        except CondorUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "executor": "condor",
                                   "runs": rows}, indent=2, default=str))
            return
        click.echo(f"-- gwdag DAGMan jobs for {where} on the schedd --\n"
                   "RUN CLUSTER DONE RUN IDLE HOLD FAIL TOTAL")
        for row in rows:
            nodes = row["nodes"]
            click.echo(f"{row['run_id']} {row['cluster']:>8} " +
                       " ".join(f"{nodes[c]:>4}" for c in _COLUMNS) + f" {nodes['total']:>5}")
        return
    from ..ops.watch import collect_runs

    rows = collect_runs(where, since=time.time() - 3600 if show_all else None)
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "executor": "local",
                               "runs": [r.document() for r in rows]}, indent=2))
        return
    title = f"-- gwdag runs under {where} (local executor) -- {datetime.now():%m/%d %H:%M:%S}"
    click.echo(_plain_table(rows, title))


@click.command("watch")
@root_option
@click.option("--exit", "exit_when", metavar="all|any,STATE[,CODE]",
              help="Stop when the condition holds, with CODE: e.g. all,done,0 or "
                   "any,failed,1 (STATE: done, failed, held, finished; 'all' of the "
                   "runs also needs no alert waiting in the spool).")
@click.option("--run", "run_ids", multiple=True, metavar="RUN_ID",
              help="Watch only these runs (repeatable); default: the active ones and "
                   "every run that starts while watching.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds between rescans when no artifact changes.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON document per update (JSON lines) instead of the table.")
@click.pass_context
def watch(ctx: click.Context, root: str | None, exit_when: str | None,
          run_ids: tuple[str, ...], interval: float, as_json: bool) -> None:
    """A live view of gwdag's DAG runs in the manner of condor_watch_q: a
    progress bar per run and in total and an updated-at line, redrawn when a
    run's artifacts change."""
    from pathlib import Path

    from ..intake.notify import watch_changes
    from ..intake.spool import Spool
    from ..ops.watch import ExitCondition, collect_runs

    where = data_root(ctx, root)
    if not Path(where).is_dir():
        raise click.ClickException(f"no data root at {where}")
    try:
        condition = ExitCondition.parse(exit_when) if exit_when else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--exit") from None
    spool = Spool(where, create=False)
    started = time.time()
    wake = threading.Event()
    runs_dir = Path(where) / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    observer = watch_changes(str(runs_dir), wake)
    live = None
    if not as_json and sys.stdout.isatty():
        from rich.live import Live

        live = Live(auto_refresh=False)
        live.start()
    last_text = None
    code = None
    try:
        while code is None:
            wake.clear()
            rows = collect_runs(where, run_ids=list(run_ids) or None, since=started)
            stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            title = f"-- gwdag runs under {where} -- updated at {stamp}"
            if as_json:
                document = {"schema_version": SCHEMA_VERSION, "updated_at": time.time(),
                            "runs": [r.document() for r in rows]}
                text = json.dumps(document["runs"], sort_keys=True)
                if text != last_text:
                    click.echo(json.dumps(document))
            elif live is not None:
                text = None
                live.update(_rich_table(rows, title), refresh=True)
            else:
                text = _plain_table(rows, "")
                if text != last_text:
                    click.echo(_plain_table(rows, title) + "\n")
            last_text = text
            # ("all" of the runs also waits for the alerts not yet planned: the
            # next run of a backlog does not exist yet when the one before ends)
            if condition is not None and condition.met(rows) and not (
                    condition.quantifier == "all" and not run_ids and spool.waiting()):
                code = condition.code
                break
            wake.wait(interval)
            time.sleep(0.2)       # let a burst of writes settle into one redraw
    except KeyboardInterrupt:
        code = 0
    finally:
        if live is not None:
            live.stop()
        if observer is not None:
            observer.stop()
            observer.join(5)
    ctx.exit(code)
