"""Sentry for the daemons and cron jobs: on when a DSN is configured, silent otherwise.

The DSN comes from ``$SENTRY_DSN`` or ``[sentry] dsn``; the release is
``gwdag-<version>``.  With the logging integration, INFO records become
breadcrumbs and ERROR records events.  :func:`cron_monitor` wraps one cron run
(``gwdag cleanup``, ``gwdag metrics``) in exactly one ``in_progress`` and one
final (``ok`` or ``error``) check-in, also when the run fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator

from .. import __version__

__all__ = ["CRON_SCHEDULES", "cron_monitor", "init_sentry"]

log = logging.getLogger("gwdag.ops.sentry")

#: monitor slug -> crontab schedule; ``gwdag crontab`` prints the same schedules
CRON_SCHEDULES = {"gwdag-cleanup": "17 3 * * *", "gwdag-metrics": "* * * * *"}
#: loggers whose records are noise in Sentry (inotify buffer chatter)
_IGNORED_LOGGERS = ("watchdog.observers.inotify_buffer",)
_enabled = False


def init_sentry(dsn: str = "", environment: str = "production") -> bool:
    """Start Sentry when a DSN is known; returns whether it is on."""
    global _enabled
    dsn = os.environ.get("SENTRY_DSN") or dsn
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger

    sentry_sdk.init(dsn=dsn, environment=environment, release=f"gwdag-{__version__}",
                    integrations=[LoggingIntegration(level=logging.INFO,
                                                     event_level=logging.ERROR)])
    for name in _IGNORED_LOGGERS:
        ignore_logger(name)
    _enabled = True
    log.info("Sentry reporting on (environment %s)", environment)
    return True


@contextlib.contextmanager
def cron_monitor(slug: str, *, margin_minutes: int = 5,
                 max_runtime_minutes: int = 30) -> Iterator[None]:
    """One in-progress and one final check-in for the monitor ``slug`` (its
    schedule from :data:`CRON_SCHEDULES`) around the block; nothing when
    Sentry is off.  An exception in the block is reported as ``error`` and
    re-raised."""
    if not _enabled:
        yield
        return
    from sentry_sdk.crons import capture_checkin
    from sentry_sdk.crons.consts import MonitorStatus

    config = {"schedule": {"type": "crontab", "value": CRON_SCHEDULES[slug]},
              "checkin_margin": margin_minutes, "max_runtime": max_runtime_minutes,
              "timezone": "UTC"}
    check_in_id = capture_checkin(monitor_slug=slug, status=MonitorStatus.IN_PROGRESS,
                                  monitor_config=config)
    started = time.monotonic()
    status = MonitorStatus.ERROR
    try:
        yield
        status = MonitorStatus.OK
    except SystemExit as exc:        # click's ctx.exit(0) is a success
        if exc.code in (0, None):
            status = MonitorStatus.OK
        raise
    finally:
        capture_checkin(monitor_slug=slug, check_in_id=check_in_id, status=status,
                        duration=time.monotonic() - started, monitor_config=config)
