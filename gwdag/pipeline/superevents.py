"""Superevents: grouping G-events in time and choosing the preferred one
(``reference/gw-pipeline.md`` §2).

Pure functions over plain dataclasses: the planner loads the superevents near a
new event, calls :func:`add_event`, and stores what it returns in one
transaction.  Times are GPS seconds, FARs Hz, durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from .thresholds import passes_less_significant, passes_significant

__all__ = ["GEvent", "GroupingDecision", "Superevent", "add_event", "category",
           "groupable", "preferred_key", "segment", "superevent_id"]

GROUPING_FAR = 1.0 / 3600.0         # Hz: only events at least this significant group
NEIGHBOURHOOD = 100.0               # s: how far around an event superevents are searched
CBC_PIPELINES = ("gstlal", "pycbc", "mbta", "spiir", "sgnl", "aframe")
BURST_DURATION_PIPELINES = ("cwb", "mly")
JOINT_ALERT_LABELS = frozenset({"RAVEN_ALERT"})
UNPUBLISHED_LABELS = frozenset({"DQV", "INJ"})


@dataclass(frozen=True)
class GEvent:
    """A candidate from one search pipeline."""

    graceid: str
    pipeline: str
    group: str                  # CBC, Burst, Test
    search: str                 # AllSky, EarlyWarning, SSM, BBH, MDC, ...
    gpstime: float
    far: float
    instruments: tuple[str, ...] = ()
    snr: float | None = None
    duration: float | None = None   # s, for cWB / MLy
    offline: bool = False
    labels: frozenset[str] = frozenset()
    complete: bool = False      # every product the pipeline expects (the sky map) is ready


@dataclass(frozen=True)
class Superevent:
    """A group of G-events that are one astrophysical candidate."""

    superevent_id: str
    category: str               # production, test, mdc
    t_start: float
    t_0: float
    t_end: float
    preferred_event: str
    gw_events: tuple[str, ...]
    far: float
    labels: frozenset[str] = frozenset()
    em_events: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupingDecision:
    """What :func:`add_event` did: ``action`` is ``created``, ``added``,
    ``updated`` (a known event changed, the preferred event re-chosen),
    ``duplicate`` or ``skipped``; ``superevent`` is the new state (None when
    skipped) and ``reason`` says why in words."""

    action: str
    superevent: Superevent | None
    reason: str
    previous_preferred: str | None = None


def segment(event: GEvent) -> tuple[float, float]:
    """The event's time segment: ±1 s for CBC and unknown pipelines,
    ±4 × duration for cWB and MLy."""
    if event.pipeline.lower() in BURST_DURATION_PIPELINES and event.duration:
        half = 4.0 * event.duration
    else:
        half = 1.0
    return event.gpstime - half, event.gpstime + half


def category(event: GEvent) -> str:
    """``test`` for the Test group, ``mdc`` for the MDC search, else ``production``."""
    if event.group.lower() == "test":
        return "test"
    if event.search.lower() == "mdc":
        return "mdc"
    return "production"


def groupable(event: GEvent) -> tuple[bool, str]:
    """Whether ``event`` may form or join a superevent, and why not."""
    if event.far is None or not event.far <= GROUPING_FAR:
        return False, f"FAR {event.far:.3g} Hz is above the grouping bar 1/hour"
    if event.offline:
        return False, "offline event"
    if category(event) == "production":
        if "K1" in event.instruments:
            return False, "production events involving KAGRA are not grouped"
        if event.search.lower() == "vtinjection":
            return False, "VT injection"
    return True, "groupable"


def _group_rank(event: GEvent) -> int:
    group, search = event.group.lower(), event.search.lower()
    if group == "cbc":
        if search == "allsky":
            return 2
        if search in ("earlywarning", "ssm", "mdc"):
            return 1
        return -1
    if group == "burst":
        return 0
    return -1


def preferred_key(event: GEvent) -> tuple:
    """The key the preferred event maximises, compared left to right."""
    joint = bool(event.labels & JOINT_ALERT_LABELS)
    is_cbc = event.group.lower() == "cbc"
    return (
        event.complete,
        joint or passes_significant(event.group, event.search, event.far),
        joint or passes_less_significant(event.group, event.search, event.far),
        _group_rank(event),
        len(event.instruments) if is_cbc else -1,
        (event.snr or 0.0) if is_cbc else -event.far,
    )


def _suffix(number: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, ... (bijective base 26)."""
    letters = ""
    number += 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def superevent_id(day: date, category_name: str, taken: set[str]) -> str:
    """The next free ID for a superevent whose t_0 falls on UTC ``day``:
    ``S<YYMMDD><suffix>``, ``MS...`` for MDC, ``TS...`` for test."""
    prefix = {"mdc": "MS", "test": "TS"}.get(category_name, "S") + day.strftime("%y%m%d")
    number = 0
    while prefix + _suffix(number) in taken:
        number += 1
    return prefix + _suffix(number)


def _overlaps(superevent: Superevent, start: float, end: float) -> bool:
    return superevent.t_start <= end and start <= superevent.t_end


def _with_preferred(superevent: Superevent, events: dict[str, GEvent]) -> Superevent:
    members = [events[g] for g in superevent.gw_events if g in events]
    best = max(members, key=lambda e: (preferred_key(e), -e.gpstime, e.graceid))
    return replace(superevent, preferred_event=best.graceid, t_0=best.gpstime, far=best.far)


def add_event(event: GEvent, nearby: list[Superevent], events: dict[str, GEvent],
              new_id: str) -> GroupingDecision:
    """Group ``event`` with the ``nearby`` superevents (those within
    :data:`NEIGHBOURHOOD` seconds); ``events`` maps every member graceid
    (including ``event``'s previous version, if any) to its event; ``new_id`` is
    the ID a new superevent would get."""
    ok, reason = groupable(event)
    if not ok:
        return GroupingDecision("skipped", None, reason)
    start, end = segment(event)
    kind = category(event)
    holding = [s for s in nearby if event.graceid in s.gw_events]
    if holding:
        superevent = holding[0]
        previous = events.get(event.graceid)
        if previous == event:
            return GroupingDecision("duplicate", superevent,
                                    f"{event.graceid} is already in {superevent.superevent_id}")
        merged = dict(events, **{event.graceid: event})
        widened = replace(superevent, t_start=min(superevent.t_start, start),
                          t_end=max(superevent.t_end, end))
        updated = _with_preferred(widened, merged)
        return GroupingDecision("updated", updated,
                                f"{event.graceid} changed; preferred event re-chosen",
                                previous_preferred=superevent.preferred_event)
    candidates = sorted((s for s in nearby if s.category == kind and _overlaps(s, start, end)),
                        key=lambda s: (s.t_start, s.superevent_id))
    merged = dict(events, **{event.graceid: event})
    if candidates:
        superevent = candidates[0]
        widened = replace(superevent, t_start=min(superevent.t_start, start),
                          t_end=max(superevent.t_end, end),
                          gw_events=superevent.gw_events + (event.graceid,))
        updated = _with_preferred(widened, merged)
        return GroupingDecision("added", updated,
                                f"{event.graceid} overlaps {superevent.superevent_id}",
                                previous_preferred=superevent.preferred_event)
    created = Superevent(new_id, kind, start, event.gpstime, end, event.graceid,
                         (event.graceid,), event.far)
    return GroupingDecision("created", created, f"no {kind} superevent overlaps "
                            f"[{start:.3f}, {end:.3f}]")


def publishable(superevent: Superevent) -> bool:
    """Superevents labelled DQV or INJ are never published."""
    return not (superevent.labels & UNPUBLISHED_LABELS)
