"""Alert intake: message formats, the spool, sources and the listener daemon.

This layer imports no other gwdag layer (only :mod:`gwdag.config`): every source
hands bytes to :func:`gwdag.intake.formats.parse_alert`, and every accepted,
duplicate or rejected message ends in the :class:`~gwdag.intake.spool.Spool`
before its source is acknowledged.
"""

from .alert import Alert, AlertRejected
from .formats import parse_alert
from .spool import Spool, SpoolResult

__all__ = ["Alert", "AlertRejected", "parse_alert", "Spool", "SpoolResult"]
