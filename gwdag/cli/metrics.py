"""``gwdag metrics``: Prometheus text or Influx line protocol."""

from __future__ import annotations

import click

from .common import data_root


@click.command("metrics")
@click.option("--root", metavar="DIR", help="Data root (default: [paths] root).")
@click.option("--format", "output_format", type=click.Choice(["prometheus", "influx"]),
              default="prometheus", show_default=True)
@click.option("--textfile", type=click.Path(dir_okay=False),
              help="Write atomically to this file (node_exporter textfile collector).")
@click.option("--interval", type=click.FloatRange(min=1.0), default=60.0, show_default=True,
              help="Influx timestamps are snapped down to multiples of this (s).")
@click.pass_context
def metrics(ctx: click.Context, root: str | None, output_format: str, textfile: str | None,
            interval: float) -> None:
    """Spool entries by state and kind, DAG runs by state, superevents, alerts
    issued and step wall times, for Prometheus or InfluxDB."""
    from ..ops.metrics import collect_samples, to_influx, to_prometheus, write_textfile

    try:
        samples = collect_samples(data_root(ctx, root))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    text = to_prometheus(samples) if output_format == "prometheus" else \
        to_influx(samples, interval=interval)
    if textfile:
        write_textfile(textfile, text)
    else:
        click.echo(text, nl=False)
