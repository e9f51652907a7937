"""Options and helpers the command modules share."""

from __future__ import annotations

import click

__all__ = ["data_root", "root_option"]


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
