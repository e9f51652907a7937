"""``gwdag demo``: the main job on the embedded defaults."""

from __future__ import annotations

import json

import click

from .science import SCHEMA_VERSION


def _far(value: float | None) -> str:
    return "-" if value is None else f"{value:.2g} Hz"


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Work here instead of a new temporary directory (kept afterwards).")
@click.option("--events", type=click.IntRange(min=3, max=20), default=4, show_default=True,
              help="Simulated events (one gets a GRB, the last is sub-threshold).")
@click.option("--seed", type=int, default=17, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def demo(directory: str | None, events: int, seed: int, as_json: bool) -> None:
    """Simulate events, feed them through gwdag listen, plan and run their DAGs
    locally, and show superevents, sky maps against the truth, coincidences,
    alerts and per-step latencies."""
    from ..ops.demo import run_demo

    progress = (lambda message: None) if as_json else (
        lambda message: click.echo(message, err=True))
    try:
        report = run_demo(directory, events=events, seed=seed, progress=progress)
    except (TimeoutError, OSError) as exc:
        raise click.ClickException(f"demo failed: {exc}") from None
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **report.__dict__},
                              indent=2))
        return
    click.echo(f"\nData root: {report.root}")
    counts = report.spool
    click.echo(f"Spool: {counts.get('done', 0) + counts.get('incoming', 0)} alerts taken in, "
               f"{counts.get('duplicates', 0)} duplicate dropped, "
               f"{counts.get('rejected', 0)} rejected")
    click.echo("\nSuperevents")
    for s in report.superevents:
        click.echo(f"  {s['superevent_id']:<11} preferred {s['preferred_event']:<10} "
                   f"FAR {_far(s['far']):<10} alerts: {', '.join(s['alerts']) or 'none'}")
        if "area_90_deg2" in s:
            click.echo(f"      sky map: 90% area {s['area_90_deg2']:7.1f} deg²; true position "
                       f"RA {s['true_ra_deg']:.1f}° Dec {s['true_dec_deg']:+.1f}° found after "
                       f"{s['searched_area_deg2']:.1f} deg² (in the "
                       f"{100 * s['searched_prob']:.0f}% region); distance "
                       f"{s['distance_mpc']:.0f} Mpc (true {s['true_distance_mpc']:.0f})")
    click.echo("\nCoincidences")
    for c in report.coincidences:
        click.echo(f"  {c['external']} ({c['search']}) ~ {c['superevent_id'] or 'none'}: "
                   f"temporal FAR {_far(c['temporal_coinc_far'])}, space-time FAR "
                   f"{_far(c['spatiotemporal_coinc_far'])}")
    click.echo(f"\nAlerts issued: {len(report.alerts)}")
    click.echo("\nMedian step wall time (s, per DAG node process): " + ", ".join(
        f"{step} {seconds:.2f}" for step, seconds in report.step_seconds.items()))
    if report.run_seconds:
        runs = sorted(report.run_seconds)
        click.echo(f"DAG runs: median {runs[len(runs) // 2]:.2f} s, longest {runs[-1]:.2f} s")
    click.echo(f"Demo finished in {report.seconds:.1f} s")
