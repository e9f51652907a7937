"""What every source's message becomes: an :class:`Alert`, or :class:`AlertRejected`.

An alert's ``key`` is its idempotency key: the same message twice gets the same
key, two different messages never share one.  It is ``<kind>-<identity>-<digest>``
where ``identity`` is the readable name the message gives itself (IVORN fragment,
GraceDB id, trigger id) made safe for a file name, and ``digest`` is the first 16
hex digits of the SHA-256 of the message's content (canonical JSON for JSON, the
raw bytes otherwise), so an edited re-issue under the same name is a new alert.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Alert", "AlertRejected", "Role", "make_key", "safe_component", "KINDS"]

#: The message formats gwdag reads, by ``Alert.kind``.
KINDS = {
    "voevent": "GCN VOEvent 2.0 notice (XML)",
    "gcn_json": "GCN unified-schema JSON notice",
    "igwn_alert": "IGWN-alert / LVAlert JSON message",
    "coinc_xml": "LIGO-LW coinc.xml pipeline upload",
    "psd_xml": "LIGO-LW PSD file (psd.xml[.gz])",
}

#: Observation, test or utility, as VOEvent's ``role`` (JSON formats map onto it).
Role = str

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_COMPONENT = 64


class AlertRejected(ValueError):
    """A message gwdag will not process; ``reason`` says why in one line."""

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def safe_component(text: str, fallback: str = "x") -> str:
    """``text`` as one safe path component: only ``A-Z a-z 0-9 . _ -``, no leading
    dot (so never ``.`` or ``..``), at most 64 characters."""
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:_MAX_COMPONENT].strip("._-")
    return cleaned or fallback


def make_key(kind: str, identity: str, content: bytes) -> str:
    """The idempotency key of a message (see the module docstring)."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{kind}-{safe_component(identity, 'anon')}-{digest}"


@dataclass
class Alert:
    """One accepted message.

    ``trigger_gps`` is the time of the astrophysical trigger in GPS seconds
    (``None`` for messages about no trigger, such as a PSD file);
    ``received_at`` is the Unix time (seconds) gwdag received it.  ``fields`` holds
    what later steps use, under these names when present: ``mission``,
    ``instrument``, ``packet_type``, ``trigger_id``, ``ra``, ``dec``,
    ``error_radius`` (deg), ``far`` (Hz), ``snr``, ``pipeline``, ``group``,
    ``search``, ``instruments``, ``labels``, ``alert_type``, ``ivorn``, ``uid``.
    """

    kind: str
    key: str
    trigger_gps: float | None
    received_at: float
    role: Role
    fields: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""
    source: str = ""

    def metadata(self) -> dict[str, Any]:
        """Everything but the raw bytes, JSON-ready."""
        return {"key": self.key, "kind": self.kind, "trigger_gps": self.trigger_gps,
                "received_at": self.received_at, "role": self.role,
                "source": self.source, "fields": self.fields}
