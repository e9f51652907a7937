"""The top-level ``gwdag`` group and its shared options."""

from __future__ import annotations

import json
import sys

import click

from .. import __version__
from ..config import ConfigError, load_config, to_toml
from .cleanup import cleanup, crontab
from .condor import condor_group
from .ctl import ctl_group
from .dag import dag_group
from .demo import demo
from .gw import external_group, superevent_group
from .heartbeat import heartbeat
from .intake import ingest, listen, replay, spool_group
from .metrics import metrics
from .nagios import nagios
from .plan import plan_group, run_group
from .science import simulate, skymap_group, step_group
from .status import status
from .watch import q, watch


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gwdag")
@click.option("--config", "config_path", metavar="FILE",
              help="Configuration file (default: $GWDAG_CONFIG, ./gwdag.toml, "
                   "$XDG_CONFIG_HOME/gwdag/gwdag.toml, /etc/gwdag/gwdag.toml).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """gwdag turns a stream of astronomical alerts into HTCondor DAGs and runs them."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


@main.group("config")
def config_group() -> None:
    """Inspect gwdag's configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
@click.option("--defaults", is_flag=True, help="Print the commented defaults only.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool, defaults: bool) -> None:
    """Print the effective configuration, each value with its source."""
    from ..config import DEFAULTS_TOML

    if defaults:
        click.echo(DEFAULTS_TOML, nl=False)
        return
    try:
        config = load_config(ctx.obj.get("config_path"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(config.document(), indent=2))
        return
    click.echo(f"# config file: {config.file or 'none (defaults)'}")
    click.echo(to_toml(config), nl=False)


main.add_command(dag_group)
for _command in (ingest, listen, replay, spool_group, step_group, skymap_group, simulate,
                 superevent_group, external_group, plan_group, run_group, demo, nagios,
                 status, metrics, cleanup, crontab, ctl_group,
                 condor_group, heartbeat, q, watch):
    main.add_command(_command)


def run() -> None:  # pragma: no cover - console-script shim
    main(prog_name="gwdag")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
