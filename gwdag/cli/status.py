"""``gwdag status``: daemons, spool, superevents, alerts and runs at a glance."""

from __future__ import annotations

import json

import click

from .common import data_root


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


@click.command("status")
@click.option("--root", metavar="DIR", help="Data root (default: [paths] root).")
@click.option("--recent", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many superevents, alerts and failed runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, root: str | None, recent: int, as_json: bool) -> None:
    """What runs, what waits, what failed: daemons and their sources, spool
    states, recent superevents and alerts, DAG runs with their failures."""
    from ..ops.status import collect_status

    try:
        document = collect_status(data_root(ctx, root), recent=recent)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    daemons = document["daemons"]
    click.echo(f"Data root {document['root']}")
    for name in ("listener", "planner"):
        daemon = daemons[name]
        state = f"running (pid {daemon['pid']})" if daemon["running"] else "NOT RUNNING"
        click.echo(f"  {name:<9} {state}")
    for source in daemons["listener"]["sources"]:
        counts = source.get("counts") or {}
        click.echo(f"    {source['source']}: {source['status']}, heartbeat "
                   f"{_age(source['heartbeat_age'])} ago, last contact "
                   f"{_age(source['last_contact_age'])} ago, "
                   f"{counts.get('accepted', 0)} accepted / {counts.get('duplicate', 0)} "
                   f"duplicate / {counts.get('rejected', 0)} rejected")
    click.echo("Spool  " + "  ".join(
        f"{state} {info['count']}" + (f" (oldest {_age(info['oldest_age'])})"
                                      if info["oldest_age"] is not None else "")
        for state, info in document["spool"].items()))
    runs = document["runs"]
    click.echo("Runs   " + ("  ".join(f"{k} {v}" for k, v in sorted(runs["by_state"].items()))
                            or "none"))
    for run in runs["failed"]:
        click.echo(f"  FAILED {run['run_id']}: {run['reason']}")
        for node in run["nodes"]:
            click.echo(f"    node {node['node']} exit {node['exit_code']}")
            for line in node["stderr_tail"]:
                click.echo(f"      | {line}")
    for held in runs.get("held", []):
        click.echo(f"  HELD {held['run_id']} node {held['node']}: "
                   f"{held['hold_reason'] or 'no reason given'}")
    click.echo("Superevents")
    for s in document["superevents"]:
        click.echo(f"  {s['superevent_id']:<12} t_0 {s['t_0']:.3f} FAR {s['far']:.3g} Hz "
                   f"preferred {s['preferred_event']}"
                   + (f" EM {','.join(s['em_events'])}" if s["em_events"] else ""))
    click.echo("Alerts")
    for a in document["alerts"]:
        click.echo(f"  {a['superevent_id']:<12} {a['alert_type']} #{a['sequence']} "
                   f"{'significant' if a['significant'] else 'less-significant'}")
