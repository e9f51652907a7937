"""Options and helpers the command modules share."""

from __future__ import annotations

import click

__all__ = ["data_root", "root_option", "start_sentry"]


def root_option(func):
    return click.option("--root", metavar="DIR",
                        help="Data root (default: [paths] root, ./gwdag-data).")(func)


def data_root(ctx: click.Context, root: str | None) -> str:
    """``--root`` if given, else the configured ``[paths] root``."""
    if root:
        return root
    from ..config import ConfigError, load_config

    try:
        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return config.get("paths", "root")


def start_sentry(ctx: click.Context) -> None:
    """Sentry (and its cron check-ins) when [sentry] dsn or $SENTRY_DSN is set."""
    from ..config import ConfigError, load_config
    from ..ops.sentry import init_sentry

    try:
        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    init_sentry(config.get("sentry", "dsn"), config.get("sentry", "environment"))
