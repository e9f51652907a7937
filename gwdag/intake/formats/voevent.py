"""GCN VOEvent 2.0 notices (Fermi GBM, Swift BAT, INTEGRAL, AGILE, SVOM, SNEWS, LVC).

Facts read: the root's ``ivorn`` and ``role``; ``<What>`` Params (``Packet_Type``,
``TrigID`` or ``Trans_Num`` (sub-threshold) or ``Burst_Id`` (SVOM) or ``GraceID``
(LVC), Fermi ``Most_Likely_Index``/``Most_Likely_Prob``, Swift
``StarTrack_Lost_Lock``, ``Reliability``, ``HealPix_URL``, LVC ``FAR``/``Group``);
``<WhereWhen>``'s ISOTime (the trigger time) and Position2D C1/C2 with
Error2Radius (degrees).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..alert import Alert, AlertRejected, make_key
from ..gpstime import iso_to_gps
from .typed import boolean

__all__ = ["parse_voevent", "PACKET_TYPES", "ROLES"]

ROLES = ("observation", "test", "utility")

#: GCN packet type -> (mission, instrument, notice type).
PACKET_TYPES: dict[int, tuple[str, str, str]] = {
    53: ("INTEGRAL", "IBAS", "Wakeup_Pos"), 54: ("INTEGRAL", "IBAS", "Refined_Pos"),
    55: ("INTEGRAL", "IBAS", "Offline_Pos"),
    60: ("Swift", "BAT", "BAT_GRB_Alert"), 61: ("Swift", "BAT", "BAT_GRB_Pos"),
    105: ("AGILE", "MCAL", "MCAL_Alert"),
    110: ("Fermi", "GBM", "GBM_Alert"), 111: ("Fermi", "GBM", "GBM_Flt_Pos"),
    112: ("Fermi", "GBM", "GBM_Gnd_Pos"), 115: ("Fermi", "GBM", "GBM_Fin_Pos"),
    131: ("Fermi", "GBM", "GBM_SubThresh"),
    149: ("SNEWS", "SNEWS", "SNEWS"),
    150: ("LVC", "LVK", "Preliminary"), 151: ("LVC", "LVK", "Initial"),
    152: ("LVC", "LVK", "Update"), 164: ("LVC", "LVK", "Retraction"),
    202: ("SVOM", "ECLAIRs", "ECLAIRs_Wakeup"), 203: ("SVOM", "ECLAIRs", "ECLAIRs_Pos"),
}

#: IVORN stream name (lower case) -> mission, for notices without a known packet type.
_STREAMS = {"fermi": "Fermi", "swift": "Swift", "integral": "INTEGRAL", "agile": "AGILE",
            "snews": "SNEWS", "fsc": "SVOM", "svom": "SVOM", "einsteinprobe": "EinsteinProbe",
            "gcn_sender": "LVC", "lvc_internal": "LVC", "icecube": "IceCube",
            "amon": "AMON", "chime": "CHIME"}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _params(root: etree._Element) -> dict[str, str]:
    """Param name -> value, the first of each name in document order."""
    params: dict[str, str] = {}
    for element in root.iter():
        if _local(element.tag) == "Param":
            name = element.get("name")
            if name and name not in params:
                value = element.get("value")
                if value is None:  # <Param name="x"><Value>...</Value></Param>
                    value = "".join(element.itertext()).strip()
                params[name] = value
    return params


def _first_text(root: etree._Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name and element.text and element.text.strip():
            return element.text.strip()
    return None


def _float(params: dict[str, str], name: str) -> float | None:
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise AlertRejected(f"VOEvent Param {name}: expected a number, got "
                            f"{value[:30]!r}") from None


def _mission(ivorn: str, packet: tuple[str, str, str] | None) -> str | None:
    if packet:
        return packet[0]
    stream = ivorn.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    return _STREAMS.get(stream)


def parse_voevent(root: etree._Element, raw: bytes, received_at: float,
                  source: str = "") -> Alert:
    """The :class:`Alert` of a parsed VOEvent document."""
    ivorn = root.get("ivorn") or ""
    if not ivorn.startswith("ivo://"):
        raise AlertRejected("VOEvent has no ivorn attribute (ivo://...)", "voevent")
    role = root.get("role") or "observation"
    if role not in ROLES:
        raise AlertRejected(f"VOEvent role {role[:20]!r} is not one of {', '.join(ROLES)}",
                            "voevent")
    params = _params(root)
    packet_type = _float(params, "Packet_Type")
    packet = PACKET_TYPES.get(int(packet_type)) if packet_type is not None else None
    iso = _first_text(root, "ISOTime")
    try:
        trigger_gps = iso_to_gps(iso) if iso else None
    except ValueError as exc:
        raise AlertRejected(f"VOEvent ISOTime: {exc}", "voevent") from None
    trigger_id = next((params[n] for n in ("TrigID", "Trans_Num", "Burst_Id", "GraceID")
                       if params.get(n)), None)
    fields: dict[str, Any] = {
        "ivorn": ivorn,
        "mission": _mission(ivorn, packet),
        "instrument": packet[1] if packet else None,
        "notice_type": packet[2] if packet else None,
        "packet_type": int(packet_type) if packet_type is not None else None,
        "trigger_id": trigger_id,
        "subthreshold": "Trans_Num" in params or "SubThresh" in ivorn,
        "ra": _float_text(root, "C1"),
        "dec": _float_text(root, "C2"),
        "error_radius": _float_text(root, "Error2Radius"),
        "reliability": _float(params, "Reliability"),
        "most_likely_index": _float(params, "Most_Likely_Index"),
        "most_likely_prob": _float(params, "Most_Likely_Prob"),
        "star_tracker_lost_lock": boolean(params.get("StarTrack_Lost_Lock")),
        "healpix_url": params.get("HealPix_URL") or params.get("skymap_fits"),
        "far": _float(params, "FAR"),
        "group": params.get("Group"),
        "search": params.get("Search"),
        "pipeline": params.get("Pipeline"),
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    identity = ivorn.split("#", 1)[-1]
    return Alert(kind="voevent", key=make_key("voevent", identity, raw),
                 trigger_gps=trigger_gps, received_at=received_at, role=role,
                 fields=fields, raw=raw, source=source)


def _float_text(root: etree._Element, name: str) -> float | None:
    text = _first_text(root, name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise AlertRejected(f"VOEvent {name}: expected a number, got {text[:30]!r}",
                            "voevent") from None
