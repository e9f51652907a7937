"""``gwdag ctl ...``: the MAUS / Celery control verbs for gwdag's daemons."""

from __future__ import annotations

import json
from typing import Any

import click

from .common import data_root, root_option

SCHEMA_VERSION = 1


def _common(func):
    func = root_option(func)
    func = click.option("--destination", "-d", type=click.Choice(["listen", "plan"]),
                        help="Only this daemon (default: every daemon of the root).")(func)
    func = click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0,
                        show_default=True, help="Seconds to wait for each reply.")(func)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _text(verb: str, result: Any) -> str:
    if verb == "ping":
        return str(result)
    if verb == "status":
        current = result.get("current")
        extra = f", working on {current['key']}" if current else ""
        sources = result.get("sources")
        if sources is not None:
            extra += f", sources: {', '.join(sources) or 'none'}"
        return (f"up {result.get('uptime_s', 0):.0f} s, gwdag {result.get('version')}"
                f"{', stopping' if result.get('stopping') else ''}{extra}")
    if verb == "purge":
        verb_text = "would move" if result.get("dry_run") else "moved"
        return f"{verb_text} {result['purged']} unprocessed entries to {result['moved_to']}"
    if verb == "shutdown":
        draining = result.get("draining")
        return "stopping" + (f" after {draining}" if draining else "")
    return json.dumps(result, indent=2, default=str).replace("\n", "\n    ")


def _send(ctx: click.Context, verb: str, args: dict[str, Any], root: str | None,
          destination: str | None, timeout: float, as_json: bool) -> None:
    from ..ops.control import send_verb

    try:
        replies = send_verb(data_root(ctx, root), verb, args, destination=destination,
                            timeout=timeout)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "verb": verb,
                               "replies": [r.document() for r in replies]}, indent=2,
                              default=str))
    else:
        for reply in replies:
            who = f"{reply.daemon} (pid {reply.pid})" if reply.pid else reply.daemon
            if reply.ok:
                click.echo(f"-> {who}: {_text(verb, reply.result)}")
            else:
                click.echo(f"-> {who}: {'ERROR: ' if reply.replied else ''}{reply.error}")
        if not any(r.replied for r in replies):
            click.echo("No daemon replied: is gwdag listen / gwdag plan running on this "
                       "root?", err=True)
    # fail when nobody answered, when an addressed daemon was down, or a verb failed
    if not any(r.replied for r in replies) or any(r.replied and not r.ok for r in replies) \
            or (destination and not replies[0].replied):
        ctx.exit(1)


@click.group("ctl")
def ctl_group() -> None:
    """Control verbs answered by the running daemons (listener, planner) over
    their local control sockets."""


def _simple(verb: str, help_text: str) -> click.Command:
    @click.pass_context
    def command(ctx: click.Context, root, destination, timeout, as_json) -> None:
        _send(ctx, verb, {}, root, destination, timeout, as_json)

    command.__doc__ = help_text
    return ctl_group.command(verb)(_common(command))


_simple("ping", "Is each daemon alive and answering?")
_simple("status", "Each daemon's pid, uptime, version and what it is doing.")
_simple("stats", "Counters, settings, spool counts and per-source figures.")
_simple("active", "What each daemon works on now (the planner's alert and its DAG "
                  "progress; the listener's sources).")
_simple("reserved", "Alerts received but not started (the planner's incoming queue).")
_simple("reload", "Re-read the configuration (listener sources, planner settings).")


@ctl_group.command("result")
@click.argument("key")
@_common
@click.pass_context
def ctl_result(ctx: click.Context, key: str, root, destination, timeout, as_json) -> None:
    """Where alert KEY is and what its run did."""
    _send(ctx, "result", {"key": key}, root, destination or "plan", timeout, as_json)


@ctl_group.command("purge")
@click.option("--yes", is_flag=True, help="Really move the unprocessed entries aside.")
@click.option("--dry-run", is_flag=True, help="Count what would be moved; move nothing.")
@_common
@click.pass_context
def ctl_purge(ctx: click.Context, yes: bool, dry_run: bool, root, destination, timeout,
              as_json) -> None:
    """Move every unprocessed (incoming) entry aside to spool/purged/<stamp>/;
    nothing is deleted."""
    if not (yes or dry_run):
        raise click.UsageError("purge moves every unprocessed alert aside: "
                               "add --yes (or --dry-run to count them)")
    _send(ctx, "purge", {"dry_run": dry_run}, root, destination, timeout, as_json)


@ctl_group.command("shutdown")
@_common
@click.pass_context
def ctl_shutdown(ctx: click.Context, root, destination, timeout, as_json) -> None:
    """Finish the work in hand, then exit 0."""
    _send(ctx, "shutdown", {}, root, destination, timeout, as_json)
