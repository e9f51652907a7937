"""The GW pipeline's state steps: ``gwdag step superevent``, ``external``,
``coinc`` and ``alert``.

Each reads its inputs from explicit files and the state store, decides with the
pure rules of :mod:`gwdag.pipeline`, and writes its result in one store
transaction, so a step that crashes leaves nothing half done and a step run twice
changes nothing the second time.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..intake.alert import AlertRejected
from ..intake.formats import parse_alert
from ..intake.gpstime import gps_to_utc
from ..pipeline import coincidence as co
from ..pipeline.external import classify_notice, merge_trigger
from ..pipeline.superevents import (
    NEIGHBOURHOOD,
    GEvent,
    add_event,
    category,
    publishable,
    superevent_id,
)
from ..pipeline.thresholds import (
    less_significant_far,
    passes_less_significant,
    passes_significant,
)
from ..planner.store import StateStore

__all__ = ["StepError", "gevent_from_message", "run_alert", "run_coinc", "run_external",
           "run_superevent"]

SEARCH_SPAN = 600.0   # s: the widest coincidence window on either side


class StepError(ValueError):
    """A step's input is unusable (the message says why, in one line)."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def gevent_from_message(message: dict[str, Any]) -> GEvent:
    """A :class:`GEvent` from an IGWN-alert message or a bare G-event object."""
    obj = message.get("object", message) if isinstance(message, dict) else None
    if not isinstance(obj, dict) or not obj.get("graceid"):
        raise StepError("not a G-event: no object.graceid")
    extra = obj.get("extra_attributes") if isinstance(obj.get("extra_attributes"), dict) \
        else {}
    snr = duration = None
    for table, snr_key in (("CoincInspiral", "snr"), ("MultiBurst", "snr"),
                           ("MLyBurst", "SNR")):
        row = extra.get(table)
        if isinstance(row, dict):
            snr = _number(row.get(snr_key))
            duration = _number(row.get("duration"))
            break
    instruments = obj.get("instruments") or ""
    if isinstance(instruments, str):
        instruments = [i for i in instruments.split(",") if i]
    gpstime, far = _number(obj.get("gpstime")), _number(obj.get("far"))
    if gpstime is None or far is None:
        raise StepError(f"G-event {obj['graceid']}: gpstime and far must be numbers")
    labels = obj.get("labels") if isinstance(obj.get("labels"), list) else []
    return GEvent(str(obj["graceid"]), str(obj.get("pipeline") or ""),
                  str(obj.get("group") or ""), str(obj.get("search") or ""), gpstime, far,
                  tuple(str(i) for i in instruments), snr, duration,
                  bool(obj.get("offline")), frozenset(str(x) for x in labels))


def _load_json(path: str | Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise StepError(f"{path}: not readable JSON ({exc})") from None


def run_superevent(root: str | Path, event_path: str | Path,
                   skymap: str | Path | None = None) -> dict[str, Any]:
    """Group the G-event of ``event_path`` into a superevent (a sky map marks
    it complete, which counts first for the preferred event)."""
    event = gevent_from_message(_load_json(event_path))
    if skymap is not None:
        if not Path(skymap).is_file():
            raise StepError(f"{skymap}: sky map not found")
        event = GEvent(**{**event.__dict__, "complete": True})
    store = StateStore(root)
    try:
        with store.transaction():
            previous = store.event(event.graceid)
            nearby = store.superevents_between(event.gpstime - NEIGHBOURHOOD,
                                               event.gpstime + NEIGHBOURHOOD)
            members = store.events([g for s in nearby for g in s.gw_events])
            if previous is not None:
                members[event.graceid] = previous
                if skymap is None and previous.complete:
                    event = GEvent(**{**event.__dict__, "complete": True})
            new_id = superevent_id(gps_to_utc(event.gpstime).date(), category(event),
                                   store.superevent_ids())
            decision = add_event(event, nearby, members, new_id)
            target = decision.superevent
            if target is not None and decision.action != "duplicate":
                store.put_superevent(target)
            row = store.event_row(event.graceid)
            keep_map = str(skymap) if skymap else (row or {}).get("skymap")
            store.put_event(event, target.superevent_id if target else None, keep_map)
    finally:
        store.close()
    return {"graceid": event.graceid, "action": decision.action, "reason": decision.reason,
            "superevent_id": target.superevent_id if target else None,
            "preferred_event": target.preferred_event if target else None}


def run_external(root: str | Path, notice_path: str | Path) -> dict[str, Any]:
    """Record the external trigger of a GCN notice (VOEvent or JSON)."""
    try:
        alert = parse_alert(Path(notice_path).read_bytes())
    except (OSError, AlertRejected) as exc:
        raise StepError(f"{notice_path}: {exc}") from None
    if alert.kind not in ("voevent", "gcn_json"):
        raise StepError(f"{notice_path}: a {alert.kind} alert is not a GCN notice")
    decision = classify_notice(alert.fields, alert.trigger_gps, alert.role)
    if decision.trigger is None:
        return {"action": "dropped", "reason": decision.reason, "event_id": None}
    store = StateStore(root)
    try:
        with store.transaction():
            found = store.external(decision.trigger.pipeline, decision.trigger.trigger_id)
            merged, action = merge_trigger(found[1] if found else None, decision.trigger)
            event_id = found[0] if found else store.next_external_id()
            if action != "kept":
                skymap = _embedded_sky_map(alert.raw, Path(root) / "external" / event_id)
                store.put_external(event_id, merged,
                                   **({"skymap": str(skymap)} if skymap else {}))
    finally:
        store.close()
    return {"action": action, "reason": decision.reason, "event_id": event_id,
            "search": merged.search, "labels": sorted(merged.labels)}


def _embedded_sky_map(raw: bytes, stem: Path) -> Path | None:
    """Save the sky map a GCN JSON notice carries (base64 ``healpix_file``) as
    ``<stem>.fits``; None when there is none.  (``healpix_url`` maps are not
    fetched: the steps never reach out to the network.)"""
    import base64
    import gzip

    try:
        notice = json.loads(raw)
    except ValueError:
        return None
    encoded = notice.get("healpix_file") if isinstance(notice, dict) else None
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        data = base64.b64decode(encoded, validate=False)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (ValueError, OSError) as exc:
        raise StepError(f"notice's healpix_file is not base64 FITS: {exc}") from None
    path = stem.with_suffix(".fits")
    _atomic_write(path, data)
    return path


def _overlap(skymap: str | None, row: dict[str, Any]) -> float | None:
    """Sky overlap of a GW sky map with the external event's own map when it has
    one, else with its position and error radius; None without both."""
    if not skymap:
        return None
    from .skymap_file import read_sky_map  # astropy.io.fits: only with a sky map

    try:
        gw = read_sky_map(skymap)
        if row.get("skymap"):
            external = read_sky_map(row["skymap"])
            return co.overlap_maps(gw.uniq, gw.probdensity, external.uniq,
                                   external.probdensity)
    except ValueError:
        return None
    if row.get("ra") is None or row.get("dec") is None:
        return None
    radius = math.radians(row["error_radius"]) if row.get("error_radius") else 0.0
    return co.overlap_circle(gw.uniq, gw.probdensity, math.radians(row["ra"]),
                             math.radians(row["dec"]), radius)


def _coincidence(store: StateStore, superevent, row: dict[str, Any]
                 ) -> dict[str, Any] | None:
    """Joint FARs of a superevent with one external event row, or None when the
    external time is outside their window."""
    preferred = store.event(superevent.preferred_event)
    if preferred is None:
        return None
    window = co.coincidence_window(row["search"], preferred.group, row["pipeline"])
    if window is None:
        return None
    low, high = co.superevent_search_window(superevent.t_0, window)
    if not low <= row["trigger_gps"] <= high:
        return None
    if row["search"] == "SubGRBTargeted" and row.get("far"):
        temporal = co.targeted_far(window, row["far"], superevent.far,
                                   co.TARGETED_FAR_THRESHOLDS.get(row["pipeline"], 1e-4),
                                   less_significant_far(preferred.group, preferred.search)
                                   or less_significant_far())
    else:
        temporal = co.temporal_far(window, row["search"], superevent.far)
    skymap = (store.event_row(superevent.preferred_event) or {}).get("skymap")
    overlap = _overlap(skymap, row)
    return {"superevent_id": superevent.superevent_id, "external": row["event_id"],
            "temporal_coinc_far": temporal,
            "spatiotemporal_coinc_far": None if overlap is None
            else co.spacetime_far(temporal, overlap), "overlap": overlap}


def _notice_key(notice: str | Path) -> tuple[str, str]:
    try:
        alert = parse_alert(Path(notice).read_bytes())
    except (OSError, AlertRejected) as exc:
        raise StepError(f"{notice}: {exc}") from None
    decision = classify_notice(alert.fields, alert.trigger_gps, alert.role)
    if decision.trigger is None:
        raise StepError(f"{notice}: not an external trigger ({decision.reason})")
    return decision.trigger.key


def resolve_targets(store: StateStore, *, event_id: str | None = None,
                    notice: str | Path | None = None) -> tuple[str | None, str | None]:
    """(superevent ID, external event ID) of a G-event or a notice file, as the
    earlier steps of the same DAG recorded them; either may be None."""
    if event_id is not None:
        row = store.event_row(event_id)
        return (row or {}).get("superevent_id"), None
    if notice is not None:
        found = store.external(*_notice_key(notice))
        if found is None:
            return None, None
        return found[2].get("superevent_id"), found[0]
    return None, None


def run_coinc(root: str | Path, *, superevent: str | None = None,
              external: str | None = None, event_id: str | None = None,
              notice: str | Path | None = None) -> dict[str, Any]:
    """Search for coincidences from a superevent or from an external event (or
    from the superevent of a G-event, or the external event of a notice) and
    record the associations with their joint FARs."""
    given = [x is not None for x in (superevent, external, event_id, notice)]
    if sum(given) != 1:
        raise StepError("give exactly one of --superevent, --external, --event-id, --notice")
    if event_id is not None or notice is not None:
        store = StateStore(root)
        try:
            found_superevent, found_external = resolve_targets(store, event_id=event_id,
                                                               notice=notice)
        finally:
            store.close()
        if notice is not None and found_external is not None:
            return run_coinc(root, external=found_external)
        if found_superevent is not None and event_id is not None:
            return run_coinc(root, superevent=found_superevent)
        return {"coincidences": [], "reason": "nothing to search from (not grouped or "
                                              "dropped)"}
    store = StateStore(root)
    found: list[dict[str, Any]] = []
    try:
        with store.transaction():
            if superevent is not None:
                target = store.superevent(superevent)
                if target is None:
                    raise StepError(f"no superevent {superevent}")
                pairs = [(target, row) for row in store.externals_between(
                    target.t_0 - SEARCH_SPAN, target.t_0 + SEARCH_SPAN)]
            else:
                rows = [r for r in store.external_rows() if r["event_id"] == external]
                if not rows:
                    raise StepError(f"no external event {external}")
                row = rows[0]
                pairs = [(s, row) for s in store.superevents_between(
                    row["trigger_gps"] - SEARCH_SPAN, row["trigger_gps"] + SEARCH_SPAN)]
            by_external: dict[str, list[dict[str, Any]]] = {}
            for target, row in pairs:
                result = _coincidence(store, target, row)
                if result is not None:
                    by_external.setdefault(row["event_id"], []).append(result)
            for event_id, results in by_external.items():
                row = next(r for _, r in pairs if r["event_id"] == event_id)
                chosen_id = co.preferred_coincidence(
                    [(r["superevent_id"], r["temporal_coinc_far"]) for r in results],
                    row.get("superevent_id"))
                chosen = next((r for r in results if r["superevent_id"] == chosen_id), None)
                if chosen is None:
                    continue
                trigger = store.external(row["pipeline"], row["trigger_id"])
                store.put_external(event_id, trigger[1], superevent_id=chosen_id,
                                   temporal_coinc_far=chosen["temporal_coinc_far"],
                                   spatiotemporal_coinc_far=chosen["spatiotemporal_coinc_far"])
                target = store.superevent(chosen_id)
                if event_id not in target.em_events:
                    store.put_superevent(target.__class__(**{
                        **target.__dict__, "em_events": target.em_events + (event_id,)}))
                found.append(chosen)
    finally:
        store.close()
    return {"coincidences": found}


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _alert_document(store: StateStore, target, sequence: int) -> dict[str, Any] | None:
    """The preliminary alert for ``target`` now, or None when it does not pass."""
    event = store.event(target.preferred_event)
    row = store.event_row(target.preferred_event) or {}
    if event is None or not publishable(target):
        return None
    externals = [r for r in store.external_rows() if r["event_id"] in target.em_events]
    joint = None
    for ext in externals:
        not_grb = "NOT_GRB" in json.loads(ext["labels"] or "[]")
        far = ext["spatiotemporal_coinc_far"]
        if co.joint_alert(far, event.group, event.search, ext["search"], not_grb):
            joint = ext
            break
    significant = passes_significant(event.group, event.search, event.far)
    if not (significant or joint or passes_less_significant(event.group, event.search,
                                                            event.far)):
        return None
    return {
        "superevent_id": target.superevent_id, "alert_type": "preliminary",
        "sequence": sequence,
        "time_created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "significant": bool(significant or joint),
        "event": {"time": event.gpstime, "far": event.far,
                  "instruments": list(event.instruments), "group": event.group,
                  "pipeline": event.pipeline, "search": event.search,
                  "skymap": row.get("skymap")},
        "external_coinc": None if joint is None else {
            "external_event": joint["event_id"], "search": joint["search"],
            "pipeline": joint["pipeline"], "time_difference": joint["trigger_gps"] - target.t_0,
            "time_coincidence_far": joint["temporal_coinc_far"],
            "time_sky_position_coincidence_far": joint["spatiotemporal_coinc_far"]},
    }


def _publisher(stream: str | None):
    """A function that adds an alert to the Redis stream ``stream`` (a URL with
    ``?stream=NAME``), or one that does nothing."""
    if not stream:
        return lambda document: None
    import redis

    from ..intake.sources.redis_stream import parse_stream_url

    try:
        connection, options = parse_stream_url(stream)
    except ValueError as exc:
        raise StepError(f"--stream: {exc}") from None
    client = redis.Redis.from_url(connection, socket_timeout=10)

    def publish(document: dict[str, Any]) -> None:
        try:
            client.xadd(options["stream"], {"superevent_id": document["superevent_id"],
                                            "alert_type": document["alert_type"],
                                            "alert": json.dumps(document)})
        except redis.RedisError as exc:
            raise StepError(f"cannot publish on {stream}: {exc}") from None

    return publish


def run_alert(root: str | Path, superevent: str | None = None, *,
              outbox: str | Path | None = None, second_after: float = 270.0,
              event_id: str | None = None, notice: str | Path | None = None,
              stream: str | None = None) -> dict[str, Any]:
    """Send the superevent's preliminary alerts: the first now when its preferred
    event passes a bar, the second ``second_after`` seconds later with the
    preferred event re-read; a joint coincidence found after them is sent as an
    ``update``.  Each alert is a JSON file in ``<outbox>/<superevent_id>/``;
    re-running sends nothing twice.  The superevent may be given through one of
    its G-events (``event_id``) or an associated external notice (``notice``).
    With ``stream`` every alert is also added to that Redis stream, before it
    is recorded as sent (so a failed publish is retried, never skipped)."""
    if superevent is None:
        store = StateStore(root)
        try:
            superevent, _ = resolve_targets(store, event_id=event_id, notice=notice)
        finally:
            store.close()
        if superevent is None:
            return {"superevent_id": None, "sent": [],
                    "reason": "no superevent to alert for (not grouped or not coincident)"}
    outbox = Path(outbox) if outbox else Path(root) / "outbox"
    publish = _publisher(stream)
    sent: list[str] = []
    for sequence in (1, 2):
        store = StateStore(root)
        try:
            with store.transaction():
                target = store.superevent(superevent)
                if target is None:
                    raise StepError(f"no superevent {superevent}")
                already = {a["sequence"] for a in store.sent_alerts(superevent)
                           if a["alert_type"] == "preliminary"}
                if sequence in already:
                    continue
                document = _alert_document(store, target, sequence)
                if document is None:
                    reason = ("not published (DQV/INJ label)" if not publishable(target)
                              else "preferred event below the alert thresholds")
                    return {"superevent_id": superevent, "sent": sent, "reason": reason}
                path = outbox / superevent / f"{superevent}-{sequence}-preliminary.json"
                _atomic_write(path, json.dumps(document, indent=1).encode())
                publish(document)
                store.record_alert(superevent, "preliminary", document["significant"],
                                   sequence, str(path), time.time())
                sent.append(str(path))
        finally:
            store.close()
        if sequence == 1 and second_after > 0:
            time.sleep(second_after)
    update = _joint_update(root, superevent, outbox, publish)
    if update:
        sent.append(update)
    return {"superevent_id": superevent, "sent": sent, "reason": "sent" if sent
            else "already sent"}


def _joint_update(root: str | Path, superevent: str, outbox: Path, publish) -> str | None:
    """An ``update`` alert when a joint coincidence exists that no sent alert
    carried yet."""
    store = StateStore(root)
    try:
        with store.transaction():
            target = store.superevent(superevent)
            alerts = store.sent_alerts(superevent)
            carried = False
            for alert in alerts:
                try:
                    carried |= json.loads(Path(alert["path"]).read_text()).get(
                        "external_coinc") is not None
                except (OSError, ValueError):
                    continue
            if target is None or carried:
                return None
            sequence = len(alerts) + 1
            document = _alert_document(store, target, sequence)
            if document is None or document["external_coinc"] is None:
                return None
            document["alert_type"] = "update"
            path = outbox / superevent / f"{superevent}-{sequence}-update.json"
            _atomic_write(path, json.dumps(document, indent=1).encode())
            publish(document)
            store.record_alert(superevent, "update", True, sequence, str(path), time.time())
            return str(path)
    finally:
        store.close()
