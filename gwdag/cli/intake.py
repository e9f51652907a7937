"""``gwdag ingest``, ``gwdag listen``, ``gwdag replay`` and ``gwdag spool ...``."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from datetime import UTC, datetime

import click

from ..config import ConfigError, load_config
from ..intake.formats import Limits
from ..intake.spool import STATES, Spool, SpoolError

SCHEMA_VERSION = 1


def _config(ctx: click.Context):
    try:
        return load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _root(ctx: click.Context, root: str | None) -> str:
    return root or _config(ctx).get("paths", "root")


def _limits(ctx: click.Context) -> Limits:
    config = _config(ctx)
    return Limits(config.get("intake", "max_bytes"), config.get("intake", "max_unzipped"))


def _root_option(func):
    return click.option("--root", metavar="DIR",
                        help="Data root (default: [paths] root, ./gwdag-data).")(func)


def _when(unix: float | None) -> str:
    if unix is None:
        return "-"
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- ingest ------------------------------------------------------------------------------
@click.command("ingest")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per file.")
@click.option("--dry-run", is_flag=True, help="Parse and check for duplicates; write nothing.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[str, ...], root: str | None, as_json: bool,
           dry_run: bool) -> None:
    """Put alert files into the spool (``-`` reads one message from stdin).

    Each file is accepted (new), a duplicate (its key is already in the spool) or
    rejected (kept in spool/rejected/ with the reason).  Exit 0 when every file
    was accepted or a duplicate, 1 when any was rejected.
    """
    spool = Spool(_root(ctx, root), limits=_limits(ctx), create=not dry_run)
    documents = []
    for name in files:
        if name == "-":
            raw, source = sys.stdin.buffer.read(), "stdin"
        else:
            with open(name, "rb") as handle:
                raw = handle.read()
            source = "file:" + os.path.abspath(name)
        result = spool.check(raw, source) if dry_run else spool.ingest(raw, source)
        documents.append({"file": name, **result.document()})
        if not as_json:
            detail = result.reason if result.status == "rejected" else (
                f"{result.kind} gps={result.trigger_gps}")
            click.echo(f"{result.status:9s} {result.key}  {detail}  ({name})")
    if as_json:
        click.echo(json.dumps(documents, indent=2))
    ctx.exit(1 if any(d["status"] == "rejected" for d in documents) else 0)


# -- listen ------------------------------------------------------------------------------
@click.command("listen")
@_root_option
@click.option("--source", "sources", multiple=True, metavar="URL",
              help="vtp://HOST:PORT, redis://HOST:PORT/DB?stream=NAME&group=GROUP or "
                   "dir:///path; repeat for several (default: [intake] sources).")
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: [log] level).")
@click.option("--log-json", is_flag=True, help="Log JSON lines instead of text.")
@click.pass_context
def listen(ctx: click.Context, root: str | None, sources: tuple[str, ...],
           log_level: str | None, log_json: bool) -> None:
    """Receive alerts from every source into the spool until SIGTERM/SIGINT.

    Each message is fsync'd in the spool before its source is acknowledged.
    SIGHUP reloads the sources from the configuration file.  One listener per
    data root; heartbeats go to <root>/spool/heartbeat/.
    """
    from ..intake.listener import Listener, ListenerLocked
    from .common import start_sentry
    from .logsetup import setup_logging

    config = _config(ctx)
    setup_logging(log_level or config.get("log", "level"),
                  "json" if log_json else config.get("log", "format"))
    start_sentry(ctx)
    urls = list(sources) or list(config.get("intake", "sources"))
    reload = None
    if not sources:
        def reload() -> list[str]:
            return list(_config(ctx).get("intake", "sources"))
    try:
        listener = Listener(_root(ctx, root), urls, reload=reload)
        listener.spool.limits = _limits(ctx)
        ctx.exit(listener.run())
    except (ValueError, ListenerLocked) as exc:
        raise click.ClickException(str(exc)) from None


# -- replay ------------------------------------------------------------------------------
@click.command("replay")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", required=True, metavar="URL",
              help="redis://HOST:PORT/DB?stream=NAME (append to the stream) or "
                   "vtp://HOST:PORT (serve the files to a VTP client on that port).")
@click.option("--rate", type=float, default=None, help="Messages per second (default: max).")
@click.option("--repeat", type=int, default=1, show_default=True,
              help="Send the files this many times each.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def replay(paths: tuple[str, ...], target: str, rate: float | None, repeat: int,
           as_json: bool) -> None:
    """Publish alert files to a Redis stream or serve them over VTP (demos, load tests)."""
    from urllib.parse import urlsplit

    from ..intake.replay import publish_redis, serve_vtp

    payloads = []
    for path in paths:
        with open(path, "rb") as handle:
            payloads.append(handle.read())
    payloads = payloads * max(1, repeat)
    parts = urlsplit(target)
    if parts.scheme in ("redis", "rediss", "unix"):
        try:
            count = publish_redis(target, payloads, rate)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        report = {"schema_version": SCHEMA_VERSION, "to": target, "published": count}
    elif parts.scheme == "vtp":
        if not parts.port:
            raise click.ClickException(f"--to {target}: need vtp://HOST:PORT")
        click.echo(f"serving {len(payloads)} messages on {parts.hostname}:{parts.port}",
                   err=True)
        served = serve_vtp(parts.hostname or "127.0.0.1", parts.port, payloads, rate=rate)
        report = {"schema_version": SCHEMA_VERSION, "to": target, "sent": served.sent,
                  "acked": served.acked, "connections": served.connections}
    else:
        raise click.ClickException(f"--to {target}: use redis://... or vtp://HOST:PORT")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in report.items() if k != "schema_version"))


# -- spool ---------------------------------------------------------------------------------
@click.group("spool")
def spool_group() -> None:
    """Inspect the spool: what arrived, what is waiting, what was rejected."""


@spool_group.command("ls")
@_root_option
@click.option("--state", type=click.Choice(STATES), help="Only entries in this state.")
@click.option("--limit", type=int, default=None, help="At most this many (newest last).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
@click.pass_context
def spool_ls(ctx: click.Context, root: str | None, state: str | None, limit: int | None,
             as_json: bool) -> None:
    """List spool entries: key, kind, state, received time and reason."""
    spool = Spool(_root(ctx, root), create=False)
    entries = list(spool.entries(state))
    if limit is not None:
        entries = entries[-limit:]
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "root": spool.root,
                               "entries": [e.document() for e in entries]}, indent=2))
        return
    if not entries:
        click.echo(f"no entries{' in ' + state if state else ''} under {spool.path}")
        return
    if not sys.stdout.isatty():  # pipes and logs: one plain line per entry
        for entry in entries:
            click.echo(f"{entry.state}\t{entry.kind or '-'}\t{entry.key}\t"
                       f"{_when(entry.received_at)}\t{entry.reason or ''}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("state", "kind", "key", "received (UTC)", "reason"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(entry.state, entry.kind or "-", entry.key, _when(entry.received_at),
                      entry.reason or "")
    Console().print(table)


@spool_group.command("show")
@click.argument("key")
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
@click.option("--raw", is_flag=True, help="Write the message's bytes, exactly as received.")
@click.pass_context
def spool_show(ctx: click.Context, key: str, root: str | None, as_json: bool,
               raw: bool) -> None:
    """Show one entry: its metadata (state, kind, times, fields, reason)."""
    spool = Spool(_root(ctx, root), create=False)
    try:
        meta, data = spool.read(key)
    except SpoolError as exc:
        raise click.ClickException(str(exc)) from None
    if raw:
        sys.stdout.buffer.write(data)
        return
    meta["size"] = len(data)
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **meta}, indent=2))
        return
    for name in ("key", "state", "kind", "role", "source", "trigger_gps", "size", "reason"):
        if meta.get(name) is not None:
            click.echo(f"{name:12s} {meta[name]}")
    click.echo(f"{'received':12s} {_when(meta.get('received_at'))}")
    for name, value in (meta.get("fields") or {}).items():
        click.echo(f"  {name:20s} {value}")


@spool_group.command("stats")
@_root_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
@click.pass_context
def spool_stats(ctx: click.Context, root: str | None, as_json: bool) -> None:
    """Counts per state, the age of the oldest waiting entry, duplicates, heartbeats."""
    from ..intake.heartbeat import read_heartbeats

    spool = Spool(_root(ctx, root), create=False)
    stats = spool.stats()
    stats["sources"] = read_heartbeats(spool.root)
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **stats}, indent=2))
        return
    click.echo("  ".join(f"{state} {count}" for state, count in stats["counts"].items())
               + f"  duplicates {stats['duplicates']}")
    age = stats["oldest_incoming_age"]
    click.echo(f"oldest incoming: {'-' if age is None else f'{age:.1f} s'}")
    for beat in stats["sources"]:
        counts = " ".join(f"{k} {v}" for k, v in beat["counts"].items())
        click.echo(f"source {beat['source']}: {beat['status']}, {counts}, last message "
                   f"{_when(beat.get('last_message_at'))}")


@spool_group.command("recover")
@_root_option
@click.pass_context
def spool_recover(ctx: click.Context, root: str | None) -> None:
    """Replay a crashed listener's journal and return stale claims (claimed/
    after a planner crash) to incoming/.

    Takes the planner's lock, so it refuses while a planner runs; journal
    segments of a running listener are left to it.
    """
    spool = Spool(_root(ctx, root))
    replayed = spool.recover_journal()
    click.echo(f"replayed {replayed} journalled messages")
    path = os.path.join(spool.path, "planner.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise click.ClickException(f"a planner holds {path}; stop it first") from None
        moved = spool.requeue_claims()
    click.echo(f"returned {len(moved)} claimed entries to incoming/")
