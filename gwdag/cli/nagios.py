"""``gwdag nagios``: the Monitoring-Plugins check (exit 0/1/2/3)."""

from __future__ import annotations

import signal
import sys

import click

from ..ops.nagios import DEFAULT_THRESHOLDS


def _threshold_options(func):
    for name, (warning, critical) in reversed(DEFAULT_THRESHOLDS.items()):
        flag = name.replace("_", "-")
        func = click.option(f"--{flag}-critical", f"{name}_critical", metavar="RANGE",
                            help=f"Critical range (default {critical or 'from config'}).")(func)
        func = click.option(f"--{flag}-warning", f"{name}_warning", metavar="RANGE",
                            help=f"Warning range (default {warning or 'none'}).")(func)
    return func


@click.command("nagios")
@click.option("--root", metavar="DIR", help="Data root (default: [paths] root).")
@click.option("--timeout", type=click.FloatRange(min=1.0), default=30.0, show_default=True,
              help="Seconds before the check gives up (UNKNOWN).")
@_threshold_options
@click.pass_context
def nagios(ctx: click.Context, root: str | None, timeout: float, **thresholds) -> None:
    """Check listener heartbeats, source contact, spool backlog, failed and
    rejected alerts, DAG runs (failed, stale, held), free disk, rate anomalies,
    Redis and (when enabled) the end-to-end heartbeat, Monitoring-Plugins style:
    first line 'GWDAG <STATE>: text | perfdata', exit 0 OK, 1 WARNING,
    2 CRITICAL, 3 UNKNOWN.  Ranges: 10, 10:, ~:10, 10:20, @10:20."""
    def give_up(*_: object) -> None:
        raise TimeoutError(f"check timed out after {timeout:g} s")

    signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        from ..config import load_config
        from ..ops.nagios import run_checks

        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
        overrides = {name: (thresholds[f"{name}_warning"], thresholds[f"{name}_critical"])
                     for name in DEFAULT_THRESHOLDS
                     if thresholds[f"{name}_warning"] or thresholds[f"{name}_critical"]}
        heartbeat = (float(config.get("heartbeat", "interval")),
                     float(config.get("heartbeat", "grace"))) \
            if config.get("heartbeat", "enabled") else None
        report = run_checks(root or config.get("paths", "root"), overrides=overrides,
                            sources=list(config.get("intake", "sources")),
                            anomaly_factor=float(config.get("metrics", "anomaly_factor")),
                            anomaly_floor=float(config.get("metrics", "anomaly_floor")),
                            heartbeat=heartbeat)
        lines, state = report.lines(), report.state
    except Exception as exc:  # a check must answer UNKNOWN, never a traceback
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        lines, state = [f"GWDAG UNKNOWN: {message}"], 3
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    click.echo("\n".join(lines))
    sys.exit(state)
