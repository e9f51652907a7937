"""IGWN-alert / LVAlert JSON messages from GraceDB.

``{uid, alert_type, object, data}``: ``alert_type`` is ``new``, ``update``,
``label_added``, ``label_removed`` or ``log``.  ``object`` is a G-event
(``graceid``, ``gpstime``, ``pipeline``, ``group``, ``search``, ``far``,
``instruments``, ``labels``, ``extra_attributes``), a superevent
(``superevent_id``, ``t_0``, ...), an external event (group ``External``) or a log
entry; label messages carry the label in ``data.name``.
"""

from __future__ import annotations

import json
from typing import Any

from ..alert import Alert, AlertRejected, make_key
from .typed import number, string, string_list

__all__ = ["parse_igwn_alert", "looks_like_igwn_alert", "ALERT_TYPES"]

ALERT_TYPES = ("new", "update", "label_added", "label_removed", "log", "signoff_created",
               "signoff_updated", "signoff_deleted", "emobservation_added", "voevent_added",
               "embb_event_log", "exposure_removed")


def looks_like_igwn_alert(obj: dict[str, Any]) -> bool:
    return "uid" in obj and "alert_type" in obj


def _snr(extra: Any) -> float | None:
    if not isinstance(extra, dict):
        return None
    for table, key in (("CoincInspiral", "snr"), ("MultiBurst", "snr"),
                       ("MLyBurst", "SNR"), ("LalInferenceBurst", "snr")):
        row = extra.get(table)
        if isinstance(row, dict) and row.get(key) is not None:
            return number(row, key, f"extra_attributes.{table}.")
    return None


def parse_igwn_alert(obj: dict[str, Any], raw: bytes, received_at: float,
                     source: str = "") -> Alert:
    """The :class:`Alert` of a decoded IGWN-alert message."""
    uid = string(obj, "uid")
    alert_type = string(obj, "alert_type")
    if not uid or not alert_type:
        raise AlertRejected("IGWN alert needs a non-empty uid and alert_type", "igwn_alert")
    if alert_type not in ALERT_TYPES:
        raise AlertRejected(f"IGWN alert_type {alert_type[:30]!r} is not one of "
                            f"{', '.join(ALERT_TYPES[:5])}, ...", "igwn_alert")
    body = obj.get("object")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise AlertRejected("IGWN alert object: expected a JSON object", "igwn_alert")
    data = obj.get("data")
    data = data if isinstance(data, dict) else {}
    where = "object."
    fields: dict[str, Any] = {"uid": uid, "alert_type": alert_type}
    trigger_gps = None
    if "superevent_id" in body:
        fields["object_type"] = "superevent"
        fields["superevent_id"] = string(body, "superevent_id", where)
        fields["preferred_event"] = string(body, "preferred_event", where)
        trigger_gps = number(body, "t_0", where)
        fields["t_start"] = number(body, "t_start", where)
        fields["t_end"] = number(body, "t_end", where)
        fields["category"] = string(body, "category", where)
        preferred = body.get("preferred_event_data")
        if isinstance(preferred, dict):
            fields["far"] = number(preferred, "far", where + "preferred_event_data.")
            fields["group"] = string(preferred, "group", where + "preferred_event_data.")
            fields["pipeline"] = string(preferred, "pipeline", where + "preferred_event_data.")
    elif "graceid" in body:
        fields["graceid"] = string(body, "graceid", where)
        trigger_gps = number(body, "gpstime", where)
        fields["pipeline"] = string(body, "pipeline", where)
        fields["group"] = string(body, "group", where)
        fields["search"] = string(body, "search", where)
        fields["far"] = number(body, "far", where)
        fields["instruments"] = string_list(body, "instruments", where)
        fields["offline"] = body.get("offline") if isinstance(body.get("offline"), bool) else None
        fields["snr"] = _snr(body.get("extra_attributes"))
        fields["object_type"] = "external" if fields["group"] == "External" else "event"
    elif body:
        fields["object_type"] = "log"
        fields["filename"] = string(body, "filename", where) or string(body, "file", where)
        fields["comment"] = string(body, "comment", where)
    labels = string_list(body, "labels", where) if "labels" in body else string_list(
        obj, "labels")
    if alert_type.startswith("label") and data.get("name"):
        fields["label"] = string(data, "name", "data.")
    if alert_type == "log" and data:
        fields["filename"] = fields.get("filename") or string(data, "filename", "data.")
        fields["comment"] = fields.get("comment") or string(data, "comment", "data.")
    fields["labels"] = labels
    fields = {k: v for k, v in fields.items() if v is not None and v != []}
    role = "test" if fields.get("group") == "Test" or fields.get("category") == "Test" \
        else "observation"
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return Alert(kind="igwn_alert",
                 key=make_key("igwn_alert", f"{uid}-{alert_type}", canonical),
                 trigger_gps=trigger_gps, received_at=received_at, role=role,
                 fields=fields, raw=raw, source=source)
