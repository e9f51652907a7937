"""Superevent, threshold and coincidence rules, scenario by scenario, with the
numbers of reference/gw-pipeline.md §2–5."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from gwdag.intake.formats import parse_alert
from gwdag.pipeline import coincidence as co
from gwdag.pipeline.external import classify_notice, merge_trigger
from gwdag.pipeline.superevents import (
    GEvent,
    add_event,
    category,
    preferred_key,
    publishable,
    segment,
    superevent_id,
)
from gwdag.pipeline.thresholds import DAY, YEAR, passes_less_significant, passes_significant

from .conftest import require_gwcelery

SIGNIFICANT_CBC = 1 / (30 * DAY) / 7          # 5.51e-8 Hz
LESS_SIGNIFICANT_CBC = 16 / DAY / 8           # 2 per day


def cbc(graceid: str, gpstime: float, far: float = 1e-9, snr: float = 10.0,
        instruments: tuple[str, ...] = ("H1", "L1"), **changes) -> GEvent:
    event = GEvent(graceid, "gstlal", "CBC", "AllSky", gpstime, far, instruments, snr)
    return replace(event, **changes)


# --- thresholds ---------------------------------------------------------------------

@pytest.mark.parametrize("factor, significant, less", [
    (0.99, True, True), (1.01, False, True)])
def test_significant_bar_boundary(factor, significant, less):
    far = SIGNIFICANT_CBC * factor
    assert passes_significant("CBC", "AllSky", far) is significant
    assert passes_less_significant("CBC", "AllSky", far) is less
    assert SIGNIFICANT_CBC == pytest.approx(1 / (210 * DAY), rel=0.01)


@pytest.mark.parametrize("factor, expected", [(0.99, True), (1.01, False)])
def test_less_significant_bar_boundary(factor, expected):
    assert LESS_SIGNIFICANT_CBC == pytest.approx(2.3e-5, rel=0.01)
    assert passes_less_significant("CBC", "AllSky", LESS_SIGNIFICANT_CBC * factor) is expected


def test_searches_without_a_lower_bar_and_unknown_pairs():
    assert not passes_less_significant("CBC", "EarlyWarning", 1e-12)
    assert passes_significant("CBC", "EarlyWarning", 1 / (30 * DAY) / 4 * 0.99)
    assert passes_significant("Burst", "AllSky", 1 / YEAR / 3 * 0.99)
    assert not passes_significant("Burst", "AllSky", 1 / YEAR / 3 * 1.01)
    assert not passes_significant("Test", "AllSky", 1e-20)
    assert not passes_significant("CBC", "AllSky", None)


# --- superevents -------------------------------------------------------------------------

def test_events_group_by_overlapping_segments_in_any_order():
    events: dict[str, GEvent] = {}
    later = cbc("G2", 1000.8, snr=9.0)
    first = add_event(later, [], events, "S1")
    assert first.action == "created" and first.superevent.t_0 == 1000.8
    events["G2"] = later
    earlier = cbc("G1", 1000.0, snr=12.0)       # arrives second, happened first
    second = add_event(earlier, [first.superevent], events, "S2")
    assert second.action == "added"
    superevent = second.superevent
    assert superevent.gw_events == ("G2", "G1")
    assert (superevent.t_start, superevent.t_end) == (999.0, 1001.8)
    assert superevent.preferred_event == "G1" and superevent.t_0 == 1000.0
    events["G1"] = earlier
    again = add_event(earlier, [superevent], events, "S3")
    assert again.action == "duplicate" and again.superevent == superevent


def test_cwb_windows_are_four_durations():
    burst = GEvent("G9", "cwb", "Burst", "AllSky", 500.0, 1e-9, duration=0.5)
    assert segment(burst) == (498.0, 502.0)
    assert segment(cbc("G1", 500.0)) == (499.0, 501.0)
    created = add_event(burst, [], {}, "S1").superevent
    near = cbc("G3", 502.9)                     # [501.9, 503.9] overlaps [498, 502]
    assert add_event(near, [created], {"G9": burst}, "S2").action == "added"
    far_away = cbc("G4", 503.1)                 # [502.1, 504.1] does not
    assert add_event(far_away, [created], {"G9": burst}, "S2").action == "created"


@pytest.mark.parametrize("event, reason", [
    (cbc("G1", 10.0, far=1 / 3600 * 1.01), "grouping bar"),
    (cbc("G1", 10.0, offline=True), "offline"),
    (cbc("G1", 10.0, instruments=("H1", "K1")), "KAGRA"),
    (cbc("G1", 10.0, search="VTInjection"), "VT injection"),
])
def test_events_that_are_not_grouped(event, reason):
    decision = add_event(event, [], {}, "S1")
    assert decision.action == "skipped" and reason in decision.reason
    assert add_event(cbc("G1", 10.0, far=1 / 3600), [], {}, "S1").action == "created"


def test_categories_never_mix():
    production = add_event(cbc("G1", 10.0), [], {}, "S1").superevent
    test_event = cbc("G2", 10.2, group="Test")
    assert category(test_event) == "test"
    decision = add_event(test_event, [production], {"G1": cbc("G1", 10.0)}, "TS1")
    assert decision.action == "created" and decision.superevent.category == "test"
    mdc = cbc("G3", 10.1, search="MDC")
    assert add_event(mdc, [production], {}, "MS1").superevent.category == "mdc"


def test_first_overlapping_superevent_wins_when_several_are_near():
    events = {"G1": cbc("G1", 100.0), "G2": cbc("G2", 102.5)}
    a = add_event(events["G1"], [], {}, "Sa").superevent            # [99, 101]
    b = add_event(events["G2"], [a], events, "Sb").superevent       # [101.5, 103.5]
    assert b.superevent_id == "Sb"
    bridge = cbc("G3", 101.3)                                       # [100.3, 102.3]
    decision = add_event(bridge, [b, a], events, "Sc")
    assert decision.superevent.superevent_id == "Sa"


def test_preferred_event_key_order():
    two_loud = cbc("A", 0.0, snr=20.0)
    three_quiet = cbc("B", 0.0, snr=9.0, instruments=("H1", "L1", "V1"))
    assert preferred_key(three_quiet) > preferred_key(two_loud)        # detectors first
    significant = cbc("C", 0.0, far=SIGNIFICANT_CBC * 0.5, snr=8.0)
    less = cbc("D", 0.0, far=SIGNIFICANT_CBC * 2, snr=30.0, instruments=("H1", "L1", "V1"))
    assert preferred_key(significant) > preferred_key(less)          # significance first
    complete = replace(less, complete=True)
    assert preferred_key(complete) > preferred_key(significant)      # completeness first
    joint = replace(less, labels=frozenset({"RAVEN_ALERT"}))        # a joint alert counts
    assert preferred_key(joint)[1:3] == (True, True)                 # as significant
    assert preferred_key(joint) > preferred_key(significant)
    burst = GEvent("E", "cwb", "Burst", "AllSky", 0.0, 1e-10)
    assert preferred_key(cbc("F", 0.0, far=1e-10)) > preferred_key(burst)   # group rank
    quieter_burst = replace(burst, graceid="F2", far=1e-12)
    assert preferred_key(quieter_burst) > preferred_key(burst)          # Burst: lower FAR


def test_preferred_event_follows_updates():
    events = {"G1": cbc("G1", 50.0, snr=12.0), "G2": cbc("G2", 50.4, snr=10.0)}
    superevent = add_event(events["G1"], [], {}, "S1").superevent
    superevent = add_event(events["G2"], [superevent], events, "S2").superevent
    assert superevent.preferred_event == "G1"
    with_map = replace(events["G2"], complete=True)
    decision = add_event(with_map, [superevent], events, "S3")
    assert decision.action == "updated" and decision.superevent.preferred_event == "G2"
    assert decision.superevent.t_0 == 50.4 and decision.previous_preferred == "G1"


def test_superevent_ids():
    day = date(2025, 1, 1)
    assert superevent_id(day, "production", set()) == "S250101a"
    taken = {"S250101" + c for c in "abcdefghijklmnopqrstuvwxyz"}
    assert superevent_id(day, "production", taken) == "S250101aa"
    assert superevent_id(day, "production", taken | {"S250101aa"}) == "S250101ab"
    assert superevent_id(day, "mdc", set()) == "MS250101a"
    assert superevent_id(day, "test", set()) == "TS250101a"


def test_dqv_and_inj_superevents_are_not_published():
    superevent = add_event(cbc("G1", 1.0), [], {}, "S1").superevent
    assert publishable(superevent)
    assert not publishable(replace(superevent, labels=frozenset({"DQV"})))
    assert not publishable(replace(superevent, labels=frozenset({"INJ"})))


# --- coincidence -----------------------------------------------------------------------

def test_windows_from_both_sides():
    window = co.coincidence_window("GRB", "CBC")
    assert window == (-1.0, 5.0)
    low, high = co.superevent_search_window(1000.0, window)
    assert (low, high) == (999.0, 1005.0)                      # GRB up to 5 s after
    low, high = co.external_search_window(1004.0, window)
    assert low <= 1000.0 <= high and (low, high) == (999.0, 1005.0)
    assert co.coincidence_window("SubGRB", "CBC", "Swift") == (-10.0, 20.0)
    assert co.coincidence_window("SubGRBTargeted", "CBC", "Fermi") == (-1.0, 11.0)
    assert co.coincidence_window("HEN", "Burst") == (-500.0, 500.0)
    assert co.coincidence_window("Supernova", "CBC") is None


def test_temporal_and_targeted_joint_far():
    gw_far = 1e-9
    far = co.temporal_far((-1.0, 5.0), "GRB", gw_far)
    assert far / gw_far == pytest.approx(6.2e-5, rel=0.01)      # the reference's example
    assert co.temporal_far((-2.0, 10.0), "FRB", gw_far) == pytest.approx(
        12 * 485 / YEAR * gw_far)
    window = (-1.0, 11.0)
    z_max = 12 * 1e-4 * 2.3e-5
    assert co.targeted_far(window, 1e-4, 2.3e-5, 1e-4, 2.3e-5) == pytest.approx(z_max)
    small = co.targeted_far(window, 1e-6, 1e-8, 1e-4, 2.3e-5)
    z = 12 * 1e-6 * 1e-8
    assert small == pytest.approx(z * (1 - math.log(z / z_max)))
    assert co.spacetime_far(1e-10, 4.0) == pytest.approx(2.5e-11)


def _uniform_map(order: int = 3) -> tuple[np.ndarray, np.ndarray]:
    count = 12 * 4 ** order
    return 4 * 4 ** order + np.arange(count), np.full(count, 1 / (4 * np.pi))


def _spot_map(ra: float, dec: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    from gwdag.pipeline.skymap import pixel_areas, pixel_positions
    order = 6
    uniq = 4 * 4 ** order + np.arange(12 * 4 ** order)
    pra, pdec = pixel_positions(uniq)
    cos_angle = np.sin(pdec) * np.sin(dec) + np.cos(pdec) * np.cos(dec) * np.cos(pra - ra)
    density = np.exp((cos_angle - 1) / width ** 2)
    return uniq, density / np.sum(density * pixel_areas(uniq))


def test_sky_overlaps():
    uniq, flat = _uniform_map()
    assert co.overlap_point(uniq, flat, 1.0, 0.3) == pytest.approx(1.0)
    assert co.overlap_circle(uniq, flat, 1.0, 0.3, math.radians(5)) == pytest.approx(
        1.0, rel=1e-3)
    spot_uniq, spot = _spot_map(1.0, 0.3, math.radians(3))
    assert co.overlap_maps(spot_uniq, spot, uniq, flat) == pytest.approx(1.0, rel=1e-3)
    here = co.overlap_circle(spot_uniq, spot, 1.0, 0.3, math.radians(5))
    elsewhere = co.overlap_circle(spot_uniq, spot, 1.0 + math.pi, -0.3, math.radians(5))
    assert here > 50 and elsewhere < 1e-6
    assert co.overlap_point(spot_uniq, spot, 1.0, 0.3) > here     # a point beats a blur
    same = co.overlap_maps(spot_uniq, spot, spot_uniq, spot)
    # Gaussians of widths σ = 3°, R = 5°: I(map, map) = 1/σ², I(map, circle) =
    # 2/(σ² + R²), so their ratio is (σ² + R²)/(2σ²)
    assert same == pytest.approx(here * (3 ** 2 + 5 ** 2) / (2 * 3 ** 2), rel=0.05)


@pytest.mark.parametrize("factor, expected", [(0.99, True), (1.01, False)])
def test_joint_alert_boundary(factor, expected):
    bar = 1 / (30 * DAY) / 42                                  # 42 × FAR ≤ 1/30 days
    assert co.joint_alert(bar * factor, "CBC", "AllSky", "GRB", False) is expected


def test_joint_alerts_never_for_subthreshold_or_not_grb():
    assert not co.joint_alert(1e-20, "CBC", "AllSky", "SubGRB", False)
    assert not co.joint_alert(1e-20, "CBC", "AllSky", "GRB", True)
    assert not co.joint_alert(1e-20, "CBC", "AllSky", "Supernova", False)
    assert not co.joint_alert(None, "CBC", "AllSky", "GRB", False)


def test_several_superevents_in_the_window_and_no_switching():
    candidates = [("S1", 1e-8), ("S2", 1e-10), ("S3", 1e-9)]
    assert co.preferred_coincidence(candidates) == "S2"
    assert co.preferred_coincidence(candidates, associated="S1") == "S1"
    assert co.preferred_coincidence([]) is None


# --- external triggers ------------------------------------------------------------------

# fixture -> (action, search, NOT_GRB?, group) as reference §4 says
NOTICES = {
    "gcn_voevent/fermi_grb_gcn.xml": ("accept", "GRB", False, "External"),
    "gcn_voevent/fermi_initial_grb_gcn.xml": ("accept", "GRB", True, "External"),
    "gcn_voevent/fermi_noise_gcn.xml": ("accept", "GRB", True, "External"),
    "gcn_voevent/fermi_subthresh_grb_gcn.xml": ("accept", "SubGRB", False, "External"),
    "gcn_voevent/fermi_subgrbtargeted_template.xml": ("accept", "SubGRBTargeted", False,
                                                      "Test"),
    "gcn_voevent/swift_grb_gcn.xml": ("accept", "GRB", False, "External"),
    "gcn_voevent/snews_gcn.xml": ("accept", "Supernova", False, "External"),
    "gcn_voevent/integral_mdc_gcn.xml": ("accept", "MDC", False, "External"),
    "gcn_voevent/svom_grb_gcn.xml": ("accept", "GRB", False, "External"),
    "gcn_voevent/G298048-1-Initial.xml": ("drop", None, None, None),
    "gcn_kafka_json/kafka_alert_chime_detection.json": ("accept", "FRB", False, "External"),
    "gcn_kafka_json/kafka_alert_chime_noise.json": ("accept", "FRB", True, "External"),
    "gcn_kafka_json/kafka_alert_icecube_bronze.json": ("accept", "HEN", False, "External"),
    "gcn_kafka_json/kafka_alert_icecube_noise.json": ("accept", "HEN", True, "External"),
    "gcn_kafka_json/kafka_alert_fermi_alert.json": ("accept", "GRB", True, "External"),
    "gcn_kafka_json/kafka_alert_fermi_flight.json": ("accept", "GRB", False, "External"),
    "gcn_kafka_json/kafka_alert_fermi_noise.json": ("accept", "GRB", True, "External"),
    "gcn_kafka_json/kafka_alert_fermi_test.json": ("accept", "GRB", False, "Test"),
    "gcn_kafka_json/kafka_alert_fermi_targeted.json": ("accept", "SubGRBTargeted", False,
                                                       "External"),
    "gcn_kafka_json/kafka_alert_swift_targeted.json": ("accept", "SubGRBTargeted", False,
                                                       "External"),
}


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_real_notices_are_classified(name):
    alert = parse_alert((require_gwcelery() / name).read_bytes())
    decision = classify_notice(alert.fields, alert.trigger_gps, alert.role)
    action, search, not_grb, group = NOTICES[name]
    assert decision.action == action, decision.reason
    if action == "accept":
        trigger = decision.trigger
        assert (trigger.search, "NOT_GRB" in trigger.labels, trigger.group) == (
            search, not_grb, group), decision.reason
        assert trigger.trigger_gps == alert.trigger_gps


def test_low_reliability_and_svom_packets_are_dropped():
    base = {"mission": "Fermi", "instrument": "GBM", "trigger_id": "1", "packet_type": 131,
            "subthreshold": True}
    assert classify_notice({**base, "reliability": 4}, 1e9).action == "drop"
    assert classify_notice({**base, "reliability": 5}, 1e9).action == "accept"
    svom = {"mission": "SVOM", "trigger_id": "sb1", "packet_type": 203}
    assert "only 202" in classify_notice(svom, 1e9).reason
    assert classify_notice({**svom, "packet_type": 202}, 1e9).action == "accept"


def test_updates_and_the_subthreshold_rule():
    grb = classify_notice({"mission": "Fermi", "instrument": "GBM", "trigger_id": "7",
                           "packet_type": 110}, 100.0).trigger
    assert "NOT_GRB" in grb.labels                       # initial alert: no class yet
    flight = classify_notice({"mission": "Fermi", "instrument": "GBM", "trigger_id": "7",
                              "packet_type": 111, "most_likely_index": 4,
                              "most_likely_prob": 97, "ra": 10.0, "dec": 5.0}, 100.0).trigger
    merged, action = merge_trigger(grb, flight)
    assert action == "updated" and "NOT_GRB" not in merged.labels and merged.ra == 10.0
    sub = classify_notice({"mission": "Fermi", "instrument": "GBM", "trigger_id": "7",
                           "packet_type": 131, "subthreshold": True}, 100.0).trigger
    kept, action = merge_trigger(merged, sub)
    assert action == "kept" and kept == merged
    retraction = replace(flight, notice="retraction", labels=frozenset({"NOT_GRB"}))
    retracted, _ = merge_trigger(merged, retraction)
    after, _ = merge_trigger(retracted, flight)
    assert "NOT_GRB" in after.labels                     # a retraction is final
    assert merge_trigger(None, grb) == (grb, "created")


@pytest.mark.parametrize("offset, inside", [(-1.5, False), (-0.5, True), (4.9, True),
                                            (5.1, False)])
def test_grbs_before_and_after_the_merger(offset, inside):
    """A GRB may come up to 1 s before and 5 s after a CBC merger, seen from
    either side of the search."""
    window = co.coincidence_window("GRB", "CBC")
    low, high = co.superevent_search_window(1000.0, window)
    assert (low <= 1000.0 + offset <= high) is inside
    low, high = co.external_search_window(1000.0 + offset, window)
    assert (low <= 1000.0 <= high) is inside
