"""Recognise a message's format and turn it into an :class:`~gwdag.intake.alert.Alert`.

:func:`parse_alert` sniffs the bytes (gzip, XML root element, JSON shape), checks
size limits first, and dispatches to one module per format.  Anything it cannot
accept raises :class:`~gwdag.intake.alert.AlertRejected` with a one-line reason.
"""

from __future__ import annotations

import time
from typing import Any

from lxml import etree

from ..alert import Alert, AlertRejected
from .gcn_json import looks_like_gcn_json, parse_gcn_json
from .igwn import looks_like_igwn_alert, parse_igwn_alert
from .ligolw import parse_ligolw
from .safety import DEFAULT_LIMITS, Limits, describe_start, gunzip, parse_json, parse_xml
from .voevent import parse_voevent

__all__ = ["parse_alert", "Limits", "DEFAULT_LIMITS"]

_BOM = b"\xef\xbb\xbf"


def _classify_json(value: Any, raw: bytes, received_at: float, source: str) -> Alert:
    if not isinstance(value, dict):
        raise AlertRejected(f"JSON message is a {type(value).__name__}, not an object")
    if looks_like_igwn_alert(value):
        return parse_igwn_alert(value, raw, received_at, source)
    if looks_like_gcn_json(value):
        return parse_gcn_json(value, raw, received_at, source)
    if "superevent_id" in value or "graceid" in value:
        raise AlertRejected("GraceDB API object, not an alert (no uid/alert_type)")
    raise AlertRejected("JSON is neither a GCN notice (no $schema .../gcn/notices/..., "
                        "no mission + trigger_time) nor an IGWN alert (no uid + alert_type)")


def parse_alert(data: bytes, *, received_at: float | None = None, source: str = "",
                limits: Limits = DEFAULT_LIMITS) -> Alert:
    """The :class:`Alert` of one message ``data`` (bytes as received).

    ``received_at`` is a Unix time in seconds (default: now); ``source`` says where
    the message came from (``vtp://...``, ``file:...``).  Raises
    :class:`AlertRejected` when the message is not one gwdag accepts.
    """
    if received_at is None:
        received_at = time.time()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AlertRejected(f"message is {type(data).__name__}, not bytes")
    raw = bytes(data)
    if len(raw) > limits.max_bytes:
        raise AlertRejected(f"message of {len(raw)} bytes exceeds the "
                            f"{limits.max_bytes} byte limit")
    body = raw
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, limits)
    body = body.removeprefix(_BOM).lstrip()
    if not body:
        raise AlertRejected("empty message")
    if body[:1] == b"<":
        root = parse_xml(body, huge=True)
        tag = etree.QName(root).localname
        if tag == "VOEvent":
            return parse_voevent(root, raw, received_at, source)
        if tag == "LIGO_LW":
            return parse_ligolw(root, raw, received_at, source)
        if tag == "Transport":
            raise AlertRejected("VOEvent Transport message (iamalive/ack), not an alert")
        raise AlertRejected(f"unknown XML document <{tag[:40]}> (expected VOEvent or LIGO_LW)")
    if body[:1] in (b"{", b"["):
        return _classify_json(parse_json(body), raw, received_at, source)
    if body.startswith(b"SIMPLE  ="):
        raise AlertRejected("FITS file (a sky map?), not an alert")
    raise AlertRejected(f"not XML or JSON (starts with {describe_start(body)})")
