"""Handlers by alert kind, plugged in with a decorator (the GWCelery pattern).

A handler receives the claimed alert (its spool metadata, the path of its raw
bytes written into the run directory) and returns a :class:`~.plans.Plan`, or
None with nothing to do (or raises :class:`SkipAlert` with the reason).  Kinds
without a handler are logged and marked done with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .plans import Plan

__all__ = ["AlertInput", "HANDLERS", "SkipAlert", "handler", "handler_for"]


class SkipAlert(Exception):
    """Raised by a handler for an alert that needs no run; the message is the
    reason recorded with the skipped run."""


@dataclass(frozen=True)
class AlertInput:
    """What a handler sees: the spool key and metadata, the alert's raw bytes as
    a file in the run directory, the data root, and the planner's options
    (``second_alert_delay`` in seconds, ``alert_stream`` URL or empty)."""

    key: str
    kind: str
    fields: dict[str, Any]
    input_path: Path
    root: Path
    options: dict[str, Any] = field(default_factory=dict)   # [planner] settings
    trigger_gps: float | None = None                       # GPS seconds
    role: str = "observation"                              # observation, test, utility


Handler = Callable[[AlertInput], "Plan | None"]
HANDLERS: dict[str, Handler] = {}


def handler(*kinds: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for the alert ``kinds``."""
    def register(function: Handler) -> Handler:
        for kind in kinds:
            if kind in HANDLERS:
                raise ValueError(f"alert kind {kind!r} already has a handler "
                                 f"({HANDLERS[kind].__name__})")
            HANDLERS[kind] = function
        return function
    return register


def handler_for(kind: str) -> Handler | None:
    from . import handlers  # noqa: F401  (registers the built-in handlers)

    return HANDLERS.get(kind)
