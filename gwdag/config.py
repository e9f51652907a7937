"""gwdag's configuration: one TOML file, environment overrides, command-line flags.

The file is the first that exists of ``--config``, ``$GWDAG_CONFIG``,
``./gwdag.toml``, ``$XDG_CONFIG_HOME/gwdag/gwdag.toml`` (default
``~/.config/gwdag/gwdag.toml``) and ``/etc/gwdag/gwdag.toml``.  Its values override
the defaults below; ``GWDAG_<SECTION>__<KEY>`` environment variables override the
file; flags override everything.  Secrets never live here: they come from the
environment or netrc.

Every default carries the reason for its value, in :data:`DEFAULTS_TOML`, which is
also what ``gwdag config show --defaults`` prints.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULTS_TOML", "Config", "ConfigError", "load_config", "candidate_files",
           "to_toml"]

DEFAULTS_TOML = """\
[paths]
# Everything gwdag writes lives under one data root (spool/, runs/, state/,
# outbox/, log/, metrics/), so a deployment is one directory to back up or wipe.
root = "./gwdag-data"

[dagman]
# DAGMan's own defaults (HTCondor 25.x), so the local executor and a pool behave
# alike unless a site chooses otherwise.
# 0 = unlimited: DAGMAN_MAX_JOBS_SUBMITTED counts submitted node clusters.
max_jobs = 0
# DAGMAN_MAX_JOBS_IDLE: 1000 idle procs before DAGMan stops submitting.
max_idle = 1000
# DAGMAN_MAX_PRE_SCRIPTS / DAGMAN_MAX_POST_SCRIPTS: 20 concurrent scripts each.
max_pre = 20
max_post = 20
# DAGMAN_USE_JOIN_NODES: N x M dependencies go through one NOOP node (N + M edges).
use_join_nodes = true
# DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS: '+' is reserved for splice names.
allow_illegal_chars = false

[executor]
# "local" runs DAGs on this machine with DAGMan's semantics (no pool needed);
# "condor" submits them to an HTCondor schedd through the htcondor2 bindings.
kind = "local"

[planner]
# A directory of jinja2 templates overriding the packaged ones (gwdag/planner/
# templates/): <step>.sub.jinja2 per step and dag.jinja2.  Empty: packaged.
templates = ""
# The localize node's request_cpus (its threads: HTCondor sets OMP_NUM_THREADS).
request_cpus = 2
request_memory = "2 GB"
# Empty: no accounting_group line in the submit files.
accounting_group = ""
# Seconds between a superevent's first and second preliminary alert (GWCelery: 270).
second_alert_delay = 270.0
# Seconds between spool scans when idle.
poll = 0.5
# Also publish every alert on this Redis stream (redis://HOST:PORT/DB?stream=NAME
# or unix:///path/redis.sock?stream=NAME).  Empty: outbox files only.
alert_stream = ""

[intake]
# Sources gwdag listen reads when no --source is given: vtp://HOST:PORT,
# redis://HOST:PORT/DB?stream=NAME&group=GROUP, dir:///path.  Empty: flags only.
sources = []
# A message larger than this (bytes) is rejected before parsing; GCN notices are
# ~10 kB, the largest real inputs (JSON with an embedded sky map, coinc.xml with
# PSDs) about 1 MB.
max_bytes = 16777216
# A gzip file may expand to at most this many bytes (decompression bombs).
max_unzipped = 67108864

[log]
# INFO records every alert and run once; DEBUG adds per-node detail.
level = "INFO"
# "text" (ISO-8601 UTC timestamps) or "json" (one JSON object per line).
format = "text"

[metrics]
# Anomaly flags (gwdag metrics, gwdag nagios): a series is flagged when its last
# complete 10-minute bucket is more than this factor above or below a window's
# moving average (QMonit's "suspicious" view, with the threshold in code).
anomaly_factor = 3.0
# Added to both sides before comparing (events per hour or counts), so a series
# going from 0 to 1 is not an anomaly.
anomaly_floor = 1.0

[heartbeat]
# The end-to-end heartbeat: `gwdag heartbeat` (from cron) spools a simulated
# G-event; `gwdag nagios` goes CRITICAL when none has made it through the whole
# pipeline (run done) within interval + grace seconds.  Off by default.
enabled = false
interval = 3600.0
grace = 600.0

[sentry]
# Sentry DSN; empty = off.  Prefer $SENTRY_DSN (secrets never live in the repo).
dsn = ""
environment = "production"
"""

DEFAULTS: dict[str, dict[str, Any]] = tomllib.loads(DEFAULTS_TOML)
ENV_PREFIX = "GWDAG_"


class ConfigError(Exception):
    """A configuration problem, stated in one line."""


@dataclass
class Config:
    """The effective configuration and where each value came from."""

    values: dict[str, dict[str, Any]]
    sources: dict[str, str] = field(default_factory=dict)
    file: str | None = None

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def document(self) -> dict[str, Any]:
        return {"schema_version": 1, "file": self.file, "config": self.values,
                "sources": self.sources}


def candidate_files(explicit: str | None = None) -> list[str]:
    """Config file locations in the order they are tried."""
    files = []
    if explicit:
        files.append(explicit)
    if os.environ.get("GWDAG_CONFIG"):
        files.append(os.environ["GWDAG_CONFIG"])
    files.append(os.path.join(os.getcwd(), "gwdag.toml"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    files.append(os.path.join(xdg, "gwdag", "gwdag.toml"))
    files.append("/etc/gwdag/gwdag.toml")
    return files


def _check_type(where: str, default: Any, value: Any) -> Any:
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)   # "0" is a fine number of seconds
    if default is None or isinstance(value, type(default)):
        if isinstance(default, bool) is isinstance(value, bool):
            return value
    raise ConfigError(f"{where} must be a {type(default).__name__}, not {value!r}")


def _parse_env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_config(explicit: str | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """Build the effective configuration (see the module docstring for the order).

    Raises :class:`ConfigError` for an explicit file that does not exist, a file that
    is not valid TOML, an unknown section or key, or a value of the wrong type.
    """
    values = {section: dict(keys) for section, keys in DEFAULTS.items()}
    sources = {f"{s}.{k}": "default" for s, keys in DEFAULTS.items() for k in keys}
    chosen = None
    for index, path in enumerate(candidate_files(explicit)):
        if os.path.isfile(path):
            chosen = path
            break
        if index == 0 and explicit:
            raise ConfigError(f"config file {explicit} does not exist")
    if chosen is not None:
        try:
            with open(chosen, "rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: not valid TOML: {exc}") from None
        for section, keys in data.items():
            if section not in DEFAULTS or not isinstance(keys, dict):
                raise ConfigError(f"{chosen}: unknown section [{section}]")
            for key, value in keys.items():
                if key not in DEFAULTS[section]:
                    raise ConfigError(f"{chosen}: unknown key {section}.{key}")
                where = f"{chosen}: {section}.{key}"
                values[section][key] = _check_type(where, DEFAULTS[section][key], value)
                sources[f"{section}.{key}"] = chosen
    for name, text in os.environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        if section not in DEFAULTS or key not in DEFAULTS[section]:
            continue
        value = _parse_env_value(text)
        if isinstance(DEFAULTS[section][key], str):
            value = text
        values[section][key] = _check_type(f"${name}", DEFAULTS[section][key], value)
        sources[f"{section}.{key}"] = f"${name}"
    for section, keys in (overrides or {}).items():
        for key, value in keys.items():
            if value is not None:
                values[section][key] = value
                sources[f"{section}.{key}"] = "command line"
    return Config(values, sources, chosen)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: Config) -> str:
    """The effective configuration as TOML, each value commented with its source."""
    lines: list[str] = []
    for section, keys in config.values.items():
        if lines:
            lines.append("")
        lines.append(f"[{section}]")
        for key, value in keys.items():
            lines.append(f"{key} = {_toml_value(value)}  # {config.sources[f'{section}.{key}']}")
    return "\n".join(lines) + "\n"
