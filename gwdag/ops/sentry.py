"""Sentry for the daemons: on when a DSN is configured, silent otherwise.

The DSN comes from ``$SENTRY_DSN`` or ``[sentry] dsn``; the release is
``gwdag-<version>``.  With the logging integration, INFO records become
breadcrumbs and ERROR records events.
"""

from __future__ import annotations

import logging
import os

from .. import __version__

__all__ = ["init_sentry"]

log = logging.getLogger("gwdag.ops.sentry")


def init_sentry(dsn: str = "", environment: str = "production") -> bool:
    """Start Sentry when a DSN is known; returns whether it is on."""
    dsn = os.environ.get("SENTRY_DSN") or dsn
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(dsn=dsn, environment=environment, release=f"gwdag-{__version__}",
                    integrations=[LoggingIntegration(level=logging.INFO,
                                                     event_level=logging.ERROR)])
    log.info("Sentry reporting on (environment %s)", environment)
    return True
