"""External triggers (GRB, sub-threshold GRB, neutrino, FRB, supernova notices):
which notices count, what they are, and how updates combine
(``reference/gw-pipeline.md`` §4).

Works on the plain ``fields`` intake extracts from a GCN VOEvent or JSON notice;
times are GPS seconds, positions degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["ExternalDecision", "ExternalTrigger", "classify_notice", "merge_trigger"]

NOT_GRB = "NOT_GRB"
_SEARCH_BY_MISSION = {"snews": "Supernova", "chime": "FRB", "icecube": "HEN"}


@dataclass(frozen=True)
class ExternalTrigger:
    """One external trigger, identified by (pipeline, trigger_id)."""

    pipeline: str               # the mission: Fermi, Swift, SVOM, IceCube, CHIME, ...
    trigger_id: str
    search: str                 # GRB, SubGRB, SubGRBTargeted, MDC, Supernova, FRB, HEN
    group: str                  # External or Test
    trigger_gps: float
    ra: float | None = None
    dec: float | None = None
    error_radius: float | None = None
    far: float | None = None
    labels: frozenset[str] = frozenset()
    notice: str = ""            # the notice type or alert type it came from

    @property
    def key(self) -> tuple[str, str]:
        return self.pipeline, self.trigger_id


@dataclass(frozen=True)
class ExternalDecision:
    """``accept`` with the trigger, or ``drop`` with the reason."""

    action: str
    trigger: ExternalTrigger | None
    reason: str


def _number(fields: dict[str, Any], key: str) -> float | None:
    value = fields.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _search(mission: str, instrument: str, ivorn: str, fields: dict[str, Any]) -> str:
    lowered = ivorn.lower()
    if "mdc" in lowered or "replay" in lowered:
        return "MDC"
    if mission.lower() in _SEARCH_BY_MISSION:
        return _SEARCH_BY_MISSION[mission.lower()]
    if "targeted" in lowered or "targeted" in instrument.lower() or "guano" in instrument.lower():
        return "SubGRBTargeted"
    if fields.get("subthreshold"):
        return "SubGRB"
    return "GRB"


def _not_grb_reasons(mission: str, instrument: str, search: str,
                     fields: dict[str, Any]) -> list[str]:
    reasons = []
    name = mission.lower()
    if name == "fermi" and search == "GRB":
        index = _number(fields, "most_likely_index")
        probability = _number(fields, "most_likely_prob")
        if index is not None and index != 4:
            reasons.append(f"Fermi classifies it as source {index:g}, not a GRB (4)")
        if probability is not None and probability < 50:
            reasons.append(f"Fermi classification probability {probability:g}% < 50%")
        if fields.get("packet_type") == 110 or (
                fields.get("alert_type") == "initial" and instrument.upper() == "GBM"):
            reasons.append("Fermi initial alert (no classification yet)")
        classification = fields.get("classification")
        if isinstance(classification, dict) and instrument.upper() == "GBM" \
                and float(classification.get("GRB", 0.0)) < 0.5:
            reasons.append("Fermi classification gives a GRB probability below 0.5")
    if name == "swift" and fields.get("star_tracker_lost_lock"):
        reasons.append("Swift star tracker lost lock")
    p_astro = _number(fields, "p_astro")
    if name == "icecube" and p_astro is not None and p_astro < 0.5:
        reasons.append(f"IceCube p_astro {p_astro:g} < 0.5")
    importance = _number(fields, "importance")
    if name == "chime" and importance is not None and importance < 0.5:
        reasons.append(f"CHIME importance {importance:g} < 0.5")
    if name == "chime" and fields.get("known_source"):
        reasons.append("CHIME known repeater")
    if fields.get("alert_type") == "retraction":
        reasons.append("retracted")
    return reasons


def classify_notice(fields: dict[str, Any], trigger_gps: float | None,
                    role: str = "observation") -> ExternalDecision:
    """What a GCN notice (intake ``fields`` of a ``voevent`` or ``gcn_json``
    alert) is as an external trigger, or why it is not one."""
    mission = str(fields.get("mission") or "")
    instrument = str(fields.get("instrument") or "")
    ivorn = str(fields.get("ivorn") or "")
    if not mission or mission in ("LVC", "LVK"):
        return ExternalDecision("drop", None, "not an external trigger "
                                f"({mission or 'unknown mission'} notice)")
    if trigger_gps is None:
        return ExternalDecision("drop", None, "notice has no trigger time")
    trigger_id = fields.get("trigger_id")
    if trigger_id in (None, ""):
        return ExternalDecision("drop", None, "notice has no trigger id")
    reliability = _number(fields, "reliability")
    if reliability is not None and reliability <= 4:
        return ExternalDecision("drop", None, f"Reliability {reliability:g} ≤ 4")
    packet = fields.get("packet_type")
    if mission == "SVOM" and packet is not None and packet != 202:
        return ExternalDecision("drop", None, f"SVOM packet {packet}: only 202 is used")
    search = _search(mission, instrument, ivorn, fields)
    reasons = _not_grb_reasons(mission, instrument, search, fields)
    trigger = ExternalTrigger(
        pipeline=mission, trigger_id=str(trigger_id), search=search,
        group="Test" if role == "test" else "External", trigger_gps=trigger_gps,
        ra=_number(fields, "ra"), dec=_number(fields, "dec"),
        error_radius=_number(fields, "error_radius") or _number(fields, "ra_dec_error"),
        far=_number(fields, "far"), labels=frozenset({NOT_GRB}) if reasons else frozenset(),
        notice=str(fields.get("notice_type") or fields.get("alert_type") or ""))
    return ExternalDecision("accept", trigger, "; ".join(reasons) or f"{search} trigger")


def merge_trigger(existing: ExternalTrigger | None, notice: ExternalTrigger
                  ) -> tuple[ExternalTrigger, str]:
    """The trigger after ``notice`` arrives, and ``created``, ``updated`` or
    ``kept``: a sub-threshold notice never overwrites a GRB one; NOT_GRB follows
    the latest notice (a classification can arrive after an initial alert),
    except after a retraction, which is final."""
    if existing is None:
        return notice, "created"
    if existing.search == "GRB" and notice.search == "SubGRB":
        return existing, "kept"
    position = {key: getattr(notice, key) if getattr(notice, key) is not None
                else getattr(existing, key) for key in ("ra", "dec", "error_radius", "far")}
    retracted = existing.notice == "retraction"
    labels = (existing.labels - {NOT_GRB}) | notice.labels | (
        {NOT_GRB} if retracted else set())
    merged = replace(notice, labels=frozenset(labels),
                     notice="retraction" if retracted else notice.notice, **position)
    return merged, "updated"
