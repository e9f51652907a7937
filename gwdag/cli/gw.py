"""``gwdag step superevent|external|coinc|alert`` and the read commands
``gwdag superevent list|show`` and ``gwdag external list``."""

from __future__ import annotations

import json
from typing import Any

import click

from .common import data_root as _root
from .common import root_option as _root_option
from .science import SCHEMA_VERSION, step_group


def _run(function, *args, **kwargs) -> dict[str, Any]:
    from ..planner.store import StoreError
    from ..steps.gw import StepError

    try:
        return function(*args, **kwargs)
    except (StepError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


def _echo(report: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **report}, indent=2))
    else:
        click.echo(line)


@step_group.command("superevent")
@_root_option
@click.option("--event", "event_path", required=True,
              type=click.Path(exists=True, dir_okay=False), help="G-event JSON.")
@click.option("--skymap", type=click.Path(exists=True, dir_okay=False),
              help="The event's sky map (marks it complete).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def step_superevent(ctx: click.Context, root: str | None, event_path: str,
                    skymap: str | None, as_json: bool) -> None:
    """Group a G-event into a superevent (one store transaction)."""
    from ..steps.gw import run_superevent

    report = _run(run_superevent, _root(ctx, root), event_path, skymap)
    _echo(report, as_json, f"{report['graceid']}: {report['action']} "
          f"{report['superevent_id'] or ''} ({report['reason']})")


@step_group.command("external")
@_root_option
@click.option("--notice", required=True, type=click.Path(exists=True, dir_okay=False),
              help="GCN VOEvent or JSON notice.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def step_external(ctx: click.Context, root: str | None, notice: str, as_json: bool) -> None:
    """Record an external trigger from a GCN notice."""
    from ..steps.gw import run_external

    report = _run(run_external, _root(ctx, root), notice)
    _echo(report, as_json, f"{report['event_id'] or '-'}: {report['action']} "
          f"({report['reason']})")


@step_group.command("coinc")
@_root_option
@click.option("--superevent", help="Search from this superevent.")
@click.option("--external", help="Search from this external event.")
@click.option("--event-id", help="Search from the superevent of this G-event.")
@click.option("--notice", type=click.Path(exists=True, dir_okay=False),
              help="Search from the external event of this GCN notice.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def step_coinc(ctx: click.Context, root: str | None, superevent: str | None,
               external: str | None, event_id: str | None, notice: str | None,
               as_json: bool) -> None:
    """Find coincidences and record their joint FARs."""
    from ..steps.gw import run_coinc

    report = _run(run_coinc, _root(ctx, root), superevent=superevent, external=external,
                  event_id=event_id, notice=notice)
    lines = [f"{c['superevent_id']} ~ {c['external']}: temporal FAR "
             f"{c['temporal_coinc_far']:.3g} Hz, space-time FAR "
             f"{c['spatiotemporal_coinc_far'] if c['spatiotemporal_coinc_far'] is None else format(c['spatiotemporal_coinc_far'], '.3g')}"  # noqa: E501
             for c in report["coincidences"]] or ["no coincidence"]
    _echo(report, as_json, "\n".join(lines))


@step_group.command("alert")
@_root_option
@click.option("--superevent", help="Superevent ID.")
@click.option("--event-id", help="Alert for the superevent of this G-event.")
@click.option("--notice", type=click.Path(exists=True, dir_okay=False),
              help="Alert for the superevent associated with this GCN notice.")
@click.option("--outbox", type=click.Path(file_okay=False),
              help="Alert directory (default: <root>/outbox).")
@click.option("--second-after", type=click.FloatRange(min=0.0), default=270.0,
              show_default=True, help="Seconds between the two preliminary alerts.")
@click.option("--stream", metavar="URL",
              help="Also add each alert to this Redis stream (redis://...?stream=NAME).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def step_alert(ctx: click.Context, root: str | None, superevent: str | None,
               event_id: str | None, notice: str | None, outbox: str | None,
               second_after: float, stream: str | None, as_json: bool) -> None:
    """Send a superevent's preliminary alerts to the outbox."""
    from ..steps.gw import run_alert

    report = _run(run_alert, _root(ctx, root), superevent, outbox=outbox,
                  second_after=second_after, event_id=event_id, notice=notice,
                  stream=stream)
    _echo(report, as_json, f"{report['superevent_id'] or '-'}: {len(report['sent'])} "
          f"alert(s) sent ({report['reason']})")


def _superevent_document(store, superevent) -> dict[str, Any]:
    return {"superevent_id": superevent.superevent_id, "category": superevent.category,
            "t_start": superevent.t_start, "t_0": superevent.t_0, "t_end": superevent.t_end,
            "preferred_event": superevent.preferred_event,
            "gw_events": list(superevent.gw_events), "em_events": list(superevent.em_events),
            "far": superevent.far, "labels": sorted(superevent.labels),
            "alerts": [{k: a[k] for k in ("alert_type", "sequence", "significant", "path")}
                       for a in store.sent_alerts(superevent.superevent_id)]}


def _store(ctx: click.Context, root: str | None):
    from ..planner.store import StateStore, StoreError

    try:
        return StateStore(_root(ctx, root), create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("superevent")
def superevent_group() -> None:
    """Superevents in the state store."""


@superevent_group.command("list")
@_root_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def superevent_list(ctx: click.Context, root: str | None, limit: int, as_json: bool) -> None:
    """The most recent superevents."""
    store = _store(ctx, root)
    documents = [_superevent_document(store, s) for s in store.superevents(limit)]
    store.close()
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "superevents": documents},
                              indent=2))
        return
    for d in documents:
        click.echo(f"{d['superevent_id']:<12} t_0 {d['t_0']:.3f}  FAR {d['far']:.3g} Hz  "
                   f"preferred {d['preferred_event']}  events {','.join(d['gw_events'])}"
                   + (f"  EM {','.join(d['em_events'])}" if d["em_events"] else ""))


@superevent_group.command("show")
@click.argument("superevent_id")
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def superevent_show(ctx: click.Context, superevent_id: str, root: str | None,
                    as_json: bool) -> None:
    """One superevent with its events and alerts."""
    store = _store(ctx, root)
    superevent = store.superevent(superevent_id)
    if superevent is None:
        store.close()
        raise click.ClickException(f"no superevent {superevent_id}")
    document = _superevent_document(store, superevent)
    store.close()
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **document}, indent=2))
        return
    for key, value in document.items():
        click.echo(f"{key:<16} {value}")


@click.group("external")
def external_group() -> None:
    """External events (GRB, neutrino, FRB, supernova triggers) in the state store."""


@external_group.command("list")
@_root_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def external_list(ctx: click.Context, root: str | None, limit: int, as_json: bool) -> None:
    """The most recent external events with their coincidences."""
    store = _store(ctx, root)
    rows = store.external_rows(limit)
    store.close()
    documents = [{"event_id": r["event_id"], "pipeline": r["pipeline"],
                  "trigger_id": r["trigger_id"], "search": r["search"], "group": r["grp"],
                  "trigger_gps": r["trigger_gps"], "labels": json.loads(r["labels"] or "[]"),
                  "superevent_id": r["superevent_id"],
                  "temporal_coinc_far": r["temporal_coinc_far"],
                  "spatiotemporal_coinc_far": r["spatiotemporal_coinc_far"]} for r in rows]
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "external": documents},
                              indent=2))
        return
    for d in documents:
        click.echo(f"{d['event_id']:<6} {d['pipeline']:<8} {d['search']:<14} "
                   f"{d['trigger_gps']:.2f}  {','.join(d['labels']) or '-':<8} "
                   f"{d['superevent_id'] or ''}")
