"""``gwdag plan`` (the planner daemon), ``gwdag plan retry`` and ``gwdag run ...``."""

from __future__ import annotations

import json
import os
import signal

import click

from .common import data_root as _root
from .common import root_option as _root_option
from .common import start_sentry
from .gw import _store
from .science import SCHEMA_VERSION


def _settings(ctx: click.Context):
    from ..config import ConfigError, load_config
    from ..planner.render import RenderSettings

    try:
        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    section = config.values.get("planner", {})
    return RenderSettings(templates=section.get("templates", ""),
                          request_cpus=int(section.get("request_cpus", 2)),
                          request_memory=str(section.get("request_memory", "2 GB")),
                          accounting_group=section.get("accounting_group", ""),
                          second_alert_delay=float(section.get("second_alert_delay", 270)),
                          alert_stream=section.get("alert_stream", "")), config


def _planner(ctx: click.Context, root: str | None, second_alert_delay: float | None):
    from dataclasses import replace

    from ..planner.planner import Planner

    settings, config = _settings(ctx)
    if second_alert_delay is not None:
        settings = replace(settings, second_alert_delay=second_alert_delay)
    try:
        return Planner(_root(ctx, root), settings, executor=config.get("executor", "kind"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _line(result) -> str:
    return (f"{result.key}: {result.state} in {result.seconds:.2f} s"
            + (f" ({result.reason})" if result.reason else ""))


@click.group("plan", invoke_without_command=True)
@_root_option
@click.option("--until-idle", is_flag=True,
              help="Process the spool, run every DAG to completion, then exit 0.")
@click.option("--second-alert-delay", type=click.FloatRange(min=0.0),
              help="Override [planner] second_alert_delay (seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per alert.")
@click.pass_context
def plan_group(ctx: click.Context, root: str | None, until_idle: bool,
               second_alert_delay: float | None, as_json: bool) -> None:
    """The planner: alerts from the spool become DAGs that run to completion.

    Serves until SIGTERM/SIGINT or `gwdag ctl shutdown` (the alert in hand
    finishes first); SIGHUP or `gwdag ctl reload` re-reads [planner] settings.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..executors.condor import CondorUnavailable
    from ..planner.planner import PlannerBusy

    def report(result) -> None:
        if as_json:
            click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **result.__dict__}))
        else:
            click.echo(_line(result))

    planner = _planner(ctx, root, second_alert_delay)
    start_sentry(ctx)
    try:
        with planner:
            if until_idle:
                results = planner.run_until_idle(report)
                if not as_json:
                    failed = sum(r.state == "failed" for r in results)
                    click.echo(f"{len(results)} alert(s) processed, {failed} failed")
                return
            def reload():
                from dataclasses import replace

                fresh = _settings(ctx)[0]
                return fresh if second_alert_delay is None else \
                    replace(fresh, second_alert_delay=second_alert_delay)

            interrupts = []

            def on_stop(signum, _frame) -> None:
                interrupts.append(signum)
                if signum == signal.SIGINT and interrupts.count(signal.SIGINT) > 1:
                    os._exit(130)
                planner.request_stop()   # the alert in hand finishes first

            def on_hup(_signum, _frame) -> None:
                try:
                    planner.reload(reload)
                except click.ClickException as exc:
                    click.echo(f"SIGHUP: settings not reloaded: {exc.message}", err=True)

            signal.signal(signal.SIGTERM, on_stop)
            signal.signal(signal.SIGINT, on_stop)
            signal.signal(signal.SIGHUP, on_hup)
            planner.serve(poll=_settings(ctx)[1].get("planner", "poll"), reload=reload)
    except (PlannerBusy, CondorUnavailable) as exc:
        raise click.ClickException(str(exc)) from None


@plan_group.command("retry")
@click.argument("key")
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def plan_retry(ctx: click.Context, key: str, root: str | None, as_json: bool) -> None:
    """Run a failed alert's DAG again (from its rescue DAG)."""
    from ..planner.planner import PlannerBusy

    planner = _planner(ctx, root, None)
    try:
        with planner:
            result = planner.retry(key)
    except (PlannerBusy, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if result is None:
        raise click.ClickException(f"{key} was taken by another planner")
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **result.__dict__}))
    else:
        click.echo(_line(result))
    if result.state == "failed":
        ctx.exit(1)


@click.group("run")
def run_group() -> None:
    """DAG runs the planner made."""


@run_group.command("list")
@_root_option
@click.option("--state", type=click.Choice(["planning", "running", "done", "failed", "skipped",
                                            "retrying"]))
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def run_list(ctx: click.Context, root: str | None, state: str | None, limit: int,
             as_json: bool) -> None:
    """Recent runs: alert key, kind, state, reason."""
    store = _store(ctx, root)
    rows = store.runs(limit, state)
    store.close()
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "runs": rows}, indent=2))
        return
    for row in rows:
        click.echo(f"{row['run_id']:<60} {row['kind']:<11} {row['state']:<8} "
                   f"{row['reason'] or ''}")


@run_group.command("show")
@click.argument("run_id")
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def run_show(ctx: click.Context, run_id: str, root: str | None, as_json: bool) -> None:
    """One run with its DAG's node states (from the DAG's own artifacts)."""
    import os

    from ..dagman.progress import dag_progress

    store = _store(ctx, root)
    rows = [r for r in store.runs() if r["run_id"] == run_id]
    store.close()
    if not rows:
        raise click.ClickException(f"no run {run_id}")
    row = dict(rows[0])
    if row.get("dag"):
        try:
            row["status"] = dag_progress(row["dag"],
                                         cwd=os.path.dirname(row["dag"])).document()
        except (OSError, ValueError) as exc:  # an unreadable artifact must not hide the run
            row["status"] = {"error": str(exc)}
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **row}, indent=2,
                              default=str))
        return
    for key, value in row.items():
        click.echo(f"{key:<12} {value}")
