"""GCN unified-schema JSON notices (Fermi, Swift, SVOM, Einstein Probe, CHIME, IceCube).

The mission comes from ``mission`` or, for schemas that leave it out (CHIME,
Einstein Probe, SVOM), from the ``$schema`` path (``.../gcn/notices/<mission>/...``).
``trigger_time`` (ISO UTC) is required.  An embedded base64 ``healpix_file`` is
noted (``has_healpix_file``) but not copied into the fields: it stays in the raw
bytes.
"""

from __future__ import annotations

import json
from typing import Any

from ..alert import Alert, AlertRejected, make_key
from ..gpstime import iso_to_gps
from .typed import number, string

__all__ = ["parse_gcn_json", "looks_like_gcn_json"]

_SCHEMA_MISSIONS = {"chime": "CHIME", "einstein_probe": "EinsteinProbe", "svom": "SVOM",
                    "icecube": "IceCube", "fermi": "Fermi", "swift": "Swift",
                    "integral": "INTEGRAL", "lvk": "LVK", "glowbug": "GLOWBUG",
                    "super_kamiokande": "Super-Kamiokande", "dsa110": "DSA-110"}
_NUMBERS = ("ra", "dec", "far", "p_astro", "importance", "snr", "rate_snr", "image_snr",
            "containment_probability", "record_number")


def _schema_mission(schema: str) -> str | None:
    marker = "/notices/"
    if marker not in schema:
        return None
    name = schema.split(marker, 1)[1].split("/", 1)[0].lower()
    return _SCHEMA_MISSIONS.get(name, name or None)


def looks_like_gcn_json(obj: dict[str, Any]) -> bool:
    schema = obj.get("$schema")
    if isinstance(schema, str) and "/gcn/notices/" in schema:
        return True
    return "trigger_time" in obj and ("mission" in obj or "instrument" in obj)


def _first_of(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def parse_gcn_json(obj: dict[str, Any], raw: bytes, received_at: float,
                   source: str = "") -> Alert:
    """The :class:`Alert` of a decoded GCN JSON notice."""
    schema = string(obj, "$schema") or ""
    mission = string(obj, "mission") or _schema_mission(schema)
    if not mission:
        raise AlertRejected("GCN notice names no mission (no 'mission', no "
                            "'$schema' .../notices/<mission>/...)", "gcn_json")
    trigger_time = string(obj, "trigger_time")
    if not trigger_time:
        raise AlertRejected("GCN notice has no trigger_time", "gcn_json")
    try:
        trigger_gps = iso_to_gps(trigger_time)
    except ValueError as exc:
        raise AlertRejected(f"trigger_time: {exc}", "gcn_json") from None
    ids = obj.get("id")
    if ids is not None and not isinstance(ids, str | int | list):
        raise AlertRejected("id: expected a string or a list of strings", "gcn_json")
    trigger_id = _first_of(ids)
    error = obj.get("ra_dec_error")
    if isinstance(error, list):
        error = error[0] if error else None
    error_radius = number({"ra_dec_error": error}, "ra_dec_error")
    fields: dict[str, Any] = {
        "mission": mission,
        "instrument": string(obj, "instrument"),
        "alert_type": string(obj, "alert_type"),
        "subtype": string(obj, "subtype"),
        "trigger_id": None if trigger_id is None else str(trigger_id),
        "error_radius": error_radius,
        "classification": obj.get("classification") if isinstance(
            obj.get("classification"), dict) else None,
        "healpix_url": string(obj, "healpix_url"),
        "has_healpix_file": "healpix_file" in obj or None,
        "pipeline": string(obj, "pipeline"),
        "schema": schema or None,
    }
    for key in _NUMBERS:
        fields[key] = number(obj, key)
    fields = {k: v for k, v in fields.items() if v is not None}
    role = "test" if obj.get("alert_tense") == "test" else "observation"
    identity = f"{mission}-{fields.get('trigger_id', 'noid')}"
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return Alert(kind="gcn_json", key=make_key("gcn_json", identity, canonical),
                 trigger_gps=trigger_gps, received_at=received_at, role=role,
                 fields=fields, raw=raw, source=source)
