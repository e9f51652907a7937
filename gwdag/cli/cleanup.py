"""``gwdag cleanup`` and ``gwdag crontab``."""

from __future__ import annotations

import json
import shutil
import sys

import click

from .common import data_root, start_sentry


@click.command("cleanup")
@click.option("--root", metavar="DIR", help="Data root (default: [paths] root).")
@click.option("--older-than", "older_than", default="30d", show_default=True,
              metavar="AGE", help="Retention: 30d, 12h, 90m, 2w or seconds.")
@click.option("--dry-run", is_flag=True, help="Report what would go; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cleanup(ctx: click.Context, root: str | None, older_than: str, dry_run: bool,
            as_json: bool) -> None:
    """Remove finished spool entries, run directories and outbox alerts older
    than the retention (logs of kept finished runs are gzipped); never incoming,
    claimed or failed entries, nor a running DAG.  Safe to overlap from cron."""
    from ..ops.cleanup import CleanupBusy, parse_age
    from ..ops.cleanup import cleanup as run_cleanup
    from ..ops.sentry import cron_monitor

    try:
        age = parse_age(older_than)
        where = data_root(ctx, root)
        start_sentry(ctx)
        with cron_monitor("gwdag-cleanup"):
            report = run_cleanup(where, older_than=age, dry_run=dry_run)
    except CleanupBusy as exc:
        click.echo(str(exc), err=True)   # the other run does the work: not an error
        return
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    document = report.document()
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    areas = ", ".join(f"{count} from {area} ({document['bytes_freed'][area] / 1e6:.1f} MB)"
                      for area, count in sorted(document["removed"].items())) or "nothing"
    click.echo(f"{verb} {areas}; {document['logs_compressed']} logs "
               f"{'to compress' if dry_run else 'compressed'}; "
               f"{document['kept_running']} running DAGs left alone; "
               f"{document['total_bytes_freed'] / 1e6:.1f} MB in {document['seconds']:.2f} s")


@click.command("crontab")
@click.option("--root", metavar="DIR", default="/var/lib/gwdag", show_default=True)
def crontab(root: str) -> None:
    """Print the recommended crontab lines (cleanup daily, metrics every minute)."""
    from ..ops.sentry import CRON_SCHEDULES

    gwdag = shutil.which("gwdag") or f"{sys.executable} -m gwdag"
    cleanup_at, metrics_at = CRON_SCHEDULES["gwdag-cleanup"], CRON_SCHEDULES["gwdag-metrics"]
    click.echo(f"""# gwdag: retention every night (overlapping runs are harmless: a lock)
{cleanup_at} {gwdag} cleanup --root {root} --older-than 30d --json >> {root}/log/cleanup.log 2>&1
# metrics for node_exporter's textfile collector, every minute
{metrics_at} {gwdag} metrics --root {root} --textfile /var/lib/node_exporter/textfile/gwdag.prom
# the Nagios check runs from your monitoring system: gwdag nagios --root {root}""")
