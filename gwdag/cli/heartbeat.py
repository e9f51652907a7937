"""``gwdag heartbeat``: send the end-to-end heartbeat event (from cron)."""

from __future__ import annotations

import json

import click

from .common import data_root, root_option


@click.command("heartbeat")
@root_option
@click.option("--status", "show_status", is_flag=True,
              help="Send nothing; report what the heartbeats did.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def heartbeat(ctx: click.Context, root: str | None, show_status: bool, as_json: bool) -> None:
    """Spool a simulated MDC G-event that must travel through the whole pipeline;
    `gwdag nagios` checks it arrived when [heartbeat] enabled = true."""
    from ..ops.e2e_heartbeat import heartbeat_state, send_heartbeat

    where = data_root(ctx, root)
    try:
        document = heartbeat_state(where) if show_status else send_heartbeat(where)
    except (OSError, RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"schema_version": 1, **document}, indent=2))
    elif show_status:
        through = document["last_through_at"]
        click.echo(f"{document['sent']} heartbeats sent; last through the pipeline: "
                   + ("never" if through is None else
                      f"{through:.0f} (latency {document['latency_s']:.1f} s)")
                   + f"; {document['not_through']} not through, {document['failed']} failed")
    else:
        click.echo(f"heartbeat {document['graceid']} spooled as {document['key']}")
