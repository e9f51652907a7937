"""``gwdag metrics``: Prometheus text or Influx line protocol."""

from __future__ import annotations

import click

from .common import data_root, start_sentry


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
    """Spool entries by state and kind, alerts planned by kind and role, DAG runs
    by state, superevents, alerts issued, step wall times, end-to-end latency,
    and moving averages with anomaly flags, for Prometheus or InfluxDB.  Records
    one sample of the live counts under <root>/metrics/ (the moving averages'
    history); with $SENTRY_DSN, one cron check-in pair per run."""
    from ..config import ConfigError, load_config
    from ..ops.metrics import collect_samples, to_influx, to_prometheus, write_textfile
    from ..ops.sentry import cron_monitor

    where = data_root(ctx, root)
    try:
        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    start_sentry(ctx)
    try:
        with cron_monitor("gwdag-metrics"):
            samples = collect_samples(where,
                                      factor=float(config.get("metrics", "anomaly_factor")),
                                      floor=float(config.get("metrics", "anomaly_floor")))
            text = to_prometheus(samples) if output_format == "prometheus" else \
                to_influx(samples, interval=interval)
            if textfile:
                write_textfile(textfile, text)
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if not textfile:
        click.echo(text, nl=False)
