"""``gwdag condor ...``: deploy gwdag's daemons on an HTCondor pool."""

from __future__ import annotations

import os

import click

from .common import data_root, root_option


def _tools(dry_run: bool):
    from ..ops.deploy import CondorTools

    return CondorTools(os.getcwd(), echo=click.echo, dry_run=dry_run)


def _description(ctx: click.Context, root: str | None) -> str:
    from ..config import ConfigError, load_config
    from ..ops.deploy import submit_description

    try:
        config = load_config(ctx.obj.get("config_path") if ctx.obj else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    config_path = ctx.obj.get("config_path") if ctx.obj else None
    return submit_description(os.path.abspath(data_root(ctx, root)),
                              config=os.path.abspath(config_path) if config_path else None,
                              accounting_group=config.get("planner", "accounting_group"))


def _finish(ctx: click.Context, action) -> None:
    from ..ops.deploy import DeployError

    try:
        code = action()
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.exit(code)


_dry_run = click.option("--dry-run", is_flag=True,
                        help="Print the commands; run nothing, write nothing.")


@click.group("condor")
def condor_group() -> None:
    """The daemons (listen, plan) as HTCondor local-universe jobs of batch
    "gwdag" in the current directory; several directories, several deployments."""


@condor_group.command("submit")
@root_option
@_dry_run
@click.pass_context
def condor_submit(ctx: click.Context, root: str | None, dry_run: bool) -> None:
    """Write ./gwdag.sub and submit it; refuses when jobs already run here."""
    _finish(ctx, lambda: _tools(dry_run).submit(_description(ctx, root)))


@condor_group.command("resubmit")
@root_option
@_dry_run
@click.option("--wait", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Seconds to wait for the removed jobs to leave the queue.")
@click.pass_context
def condor_resubmit(ctx: click.Context, root: str | None, dry_run: bool, wait: float) -> None:
    """Remove the running jobs, wait until they are gone, submit again."""
    _finish(ctx, lambda: _tools(dry_run).resubmit(_description(ctx, root), wait=wait))


def _verb(name: str, method: str, help_text: str) -> None:
    @_dry_run
    @click.pass_context
    def command(ctx: click.Context, dry_run: bool) -> None:
        _finish(ctx, getattr(_tools(dry_run), method))

    command.__doc__ = help_text
    condor_group.command(name)(command)


_verb("rm", "remove", "Remove this directory's gwdag jobs (condor_rm: SIGTERM, they drain).")
_verb("q", "queue", "Show this directory's gwdag jobs (condor_q -nobatch).")
_verb("hold", "hold", "Hold (stop) this directory's gwdag jobs.")
_verb("release", "release", "Release (start again) this directory's held gwdag jobs.")


@condor_group.command("submit-file")
@root_option
@click.pass_context
def condor_submit_file(ctx: click.Context, root: str | None) -> None:
    """Print the submit description `gwdag condor submit` would write."""
    click.echo(_description(ctx, root), nl=False)
