"""Sky localization, the LIGO-LW reader behind it, sky-map files and the
simulator: physics against reference values, maps against the truth."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.intake.formats import parse_alert
from gwdag.intake.ligolw import read_ligolw, write_ligolw
from gwdag.pipeline import distance
from gwdag.pipeline import localize as loc
from gwdag.pipeline.detectors import (
    DETECTORS,
    antenna_patterns,
    geocentric_delays,
    gmst,
    light_travel_time,
    unit_vectors,
)
from gwdag.pipeline.noise import signal_moments
from gwdag.pipeline.simulate import simulate_events
from gwdag.pipeline.skymap import credible_area, pixel_areas, searched
from gwdag.steps.localize import (
    LocalizeInputError,
    _peak_from_series,
    load_coinc,
    load_event,
    run_localize,
)
from gwdag.steps.simulate import write_simulation
from gwdag.steps.skymap_file import read_sky_map

from .conftest import require_gwcelery

# --- physics against reference values ------------------------------------------------

# gw-pipeline.md §6: light travel times between the vertices (ms).
LIGHT_TRAVEL_MS = {("H1", "L1"): 10.01, ("H1", "V1"): 27.29, ("L1", "V1"): 26.45,
                   ("H1", "K1"): 25.16, ("L1", "K1"): 32.46, ("V1", "K1"): 29.20}

# Computed with LAL (lalsuite 7.26: GreenwichMeanSiderealTime modulo 2π,
# ComputeDetAMResponse and TimeDelayFromEarthCenter) for RA 3.44616, Dec -0.408084,
# psi 0.3 at GPS 1187008882.43 (GW170817's direction and time).
LAL_GMST = {1000000000.0: 0.3368773437160115, 1187008882.43: 2.7289086267580274,
            970976257.48: 1.3253957436074373}
LAL_RESPONSE = {"H1": (-0.43459927774449647, -0.775652943343193, 0.018794311470018813),
                "L1": (0.5258638185846094, 0.5357567358575961, 0.015500895333166436),
                "V1": (-0.2782900422504823, -0.12204505438249197, -0.0063905210671863204),
                "K1": (0.05900199550966741, -0.5041497375503017, 0.00668660621062749)}


@pytest.mark.parametrize("pair", sorted(LIGHT_TRAVEL_MS))
def test_light_travel_times_match_the_reference_table(pair):
    assert light_travel_time(*pair) * 1e3 == pytest.approx(LIGHT_TRAVEL_MS[pair], abs=0.006)


@pytest.mark.parametrize("gps", sorted(LAL_GMST))
def test_gmst_matches_lal(gps):
    assert gmst(gps) == pytest.approx(LAL_GMST[gps], abs=1e-8)


@pytest.mark.parametrize("name", sorted(LAL_RESPONSE))
def test_antenna_patterns_and_delays_match_lal(name):
    ra, dec, psi, gps = 3.44616, -0.408084, 0.3, 1187008882.43
    f_plus, f_cross = antenna_patterns(DETECTORS[name], ra, dec, psi, gmst(gps))
    delay = geocentric_delays(DETECTORS[name], unit_vectors(np.array(ra), np.array(dec),
                                                            gmst(gps)))
    expected = LAL_RESPONSE[name]
    assert float(f_plus) == pytest.approx(expected[0], abs=2e-6)
    assert float(f_cross) == pytest.approx(expected[1], abs=2e-6)
    assert float(delay) == pytest.approx(expected[2], abs=1e-9)


def test_signal_moments_of_white_noise_match_the_closed_form():
    # S(f) = 1: density f^(-7/3) on [30, f_isco]; moments in closed form.
    f = np.arange(0.0, 4096.0, 0.01)
    moments = signal_moments(f, np.ones_like(f), 1.4, 1.4, f_low=30.0)
    top = 1.0 / (6.0 ** 1.5 * np.pi * 2.8 * 4.925490947641267e-6)

    def integral(power: float) -> float:  # ∫ f^power df from 30 to top
        return (top ** (power + 1) - 30.0 ** (power + 1)) / (power + 1)

    mean = integral(-4 / 3) / integral(-7 / 3)
    spread = math.sqrt(integral(-1 / 3) / integral(-7 / 3) - mean ** 2)
    assert moments.mean_frequency == pytest.approx(mean, rel=1e-3)
    assert moments.frequency_spread == pytest.approx(spread, rel=1e-3)
    assert moments.timing_uncertainty(10.0) == pytest.approx(1 / (2 * np.pi * spread * 10),
                                                             rel=1e-3)


def test_log_i0_and_the_distance_table_are_accurate():
    x = np.array([0.0, 0.3, 2.0, 3.75, 5.0, 19.0, 40.0, 300.0])
    exact = np.log(np.i0(np.minimum(x, 700)))
    assert np.allclose(distance.log_i0(x), exact, rtol=1e-6, atol=1e-6)
    for rho, vmin in ((8.3, 1.7), (12.1, 3.3), (25.5, 0.02), (130.0, 2.0)):
        v = np.linspace(vmin, rho + 15, 200001)
        for k, value in enumerate(distance.log_distance_integrals(
                np.array([rho]), np.array([np.log(vmin)]), 3)):
            brute = np.log(np.trapezoid(
                v ** (-4.0 - k) * np.exp(-v * v / 2 + distance.log_i0(rho * v) - rho * rho / 2),
                v)) + rho * rho / 2
            assert float(value[0]) == pytest.approx(brute, abs=0.01)


def test_distance_ansatz_reproduces_the_moments():
    mean = np.array([40.0, 150.0, 800.0, 100.0])
    std = np.array([10.0, 60.0, 400.0, 45.0])
    mu, sigma, norm = distance.distance_ansatz(mean, std)
    r = np.linspace(0, 5000, 400001)
    for i in range(mean.size):
        density = norm[i] * r ** 2 * np.exp(-0.5 * ((r - mu[i]) / sigma[i]) ** 2) \
            / (np.sqrt(2 * np.pi) * sigma[i])
        assert np.trapezoid(density, r) == pytest.approx(1.0, rel=1e-4)
        first = np.trapezoid(density * r, r)
        second = np.trapezoid(density * r * r, r)
        assert first == pytest.approx(mean[i], rel=1e-3)
        assert math.sqrt(second - first ** 2) == pytest.approx(std[i], rel=2e-3)
    # a spread the ansatz cannot reach gets its widest shape, never NaN
    mu, sigma, norm = distance.distance_ansatz(np.array([100.0]), np.array([90.0]))
    assert np.all(np.isfinite([mu, sigma, norm])) and sigma[0] > 0


# --- LIGO-LW --------------------------------------------------------------------------

def test_psd_arrays_read_in_the_files_order():
    coinc = require_gwcelery() / "ligolw" / "coinc.xml"
    psd = read_ligolw(coinc).psds()["H1"]
    # the file's first lines: "0 2.065285390988419e-43", "0.25 3.701870511883409e-42"
    assert (psd.f0, psd.delta_f, psd.data.size) == (0.0, 0.25, 8095)
    assert psd.data[:2].tolist() == [2.065285390988419e-43, 3.701870511883409e-42]


def test_snr_series_are_read_and_their_peak_interpolated():
    times = np.arange(-20, 21) / 4096.0
    true_peak = 0.3 / 4096.0
    series = 10 * np.exp(-0.5 * ((times - true_peak) / 0.0008) ** 2) * np.exp(0.7j)
    raw = np.stack([series.real, series.imag], axis=0).astype("<f4")
    xml = f"""<?xml version='1.0'?><LIGO_LW><LIGO_LW Name="COMPLEX8TimeSeries">
      <Time Name="epoch" Type="GPS">{float(1e9 + times[0])!r}</Time>
      <Param Name="event_id:param" Type="int_8s">7</Param>
      <Array Name="snr:array" Type="complex_8">
        <Dim Name="Time" Scale="{1 / 4096.0!r}" Start="0">41</Dim>
        <Stream Type="Local" Encoding="base64,LittleEndian">{base64.b64encode(
            raw.T.copy().tobytes()).decode()}</Stream></Array></LIGO_LW></LIGO_LW>"""
    found = read_ligolw(xml.encode()).snr_series()["7"]
    assert found.data.size == 41 and found.delta_t == pytest.approx(1 / 4096)
    assert np.allclose(found.data, series, atol=1e-5)
    time, snr = _peak_from_series(found, 0.0, 0j)
    assert abs(time - (1e9 + true_peak)) < 0.05 / 4096
    assert abs(snr) == pytest.approx(10.0, rel=0.01)
    assert np.angle(snr) == pytest.approx(0.7, abs=1e-4)


# --- localizing the fixtures ----------------------------------------------------------

def test_coinc_fixture_localizes_to_a_valid_multi_order_fits(tmp_path):
    coinc = require_gwcelery() / "ligolw" / "coinc.xml"
    candidate, sky_map, path = run_localize(out=tmp_path / "map.fits", coinc=coinc,
                                            threads=2)
    assert candidate.psd_source.endswith("(embedded)")
    assert sky_map.uniq.size == 19200 and np.all(np.diff(sky_map.uniq) > 0)
    with fits.open(path) as hdus:
        header, data = hdus[1].header, hdus[1].data
        assert (header["PIXTYPE"], header["ORDERING"], header["COORDSYS"],
                header["INDXSCHM"]) == ("HEALPIX", "NUNIQ", "C", "EXPLICIT")
        assert header["INSTRUME"] == "H1,L1"
        for key in ("OBJECT", "DATE-OBS", "MJD-OBS", "DATE", "CREATOR", "ORIGIN",
                    "RUNTIME", "DISTMEAN", "DISTSTD"):
            assert key in header
        assert data.columns.names == ["UNIQ", "PROBDENSITY", "DISTMU", "DISTSIGMA",
                                      "DISTNORM"]
        assert data.columns["PROBDENSITY"].unit == "sr-1"
        order = np.floor(np.log2(data["UNIQ"]) / 2) - 1
        # refinement goes as deep as the probability is concentrated (≤ nside 2048)
        assert order.min() == 4 and 5 <= order.max() <= 11
        assert header["MOCORDER"] == order.max()
        total = np.sum(data["PROBDENSITY"] * 4 * np.pi / (12 * 4.0 ** order))
        assert total == pytest.approx(1.0, abs=1e-9)
        # covers the whole sky exactly once
        assert np.sum(4 * np.pi / (12 * 4.0 ** order)) == pytest.approx(4 * np.pi)
    assert 1.0 < header["DISTMEAN"] < 1000.0


def test_threads_do_not_change_the_map():
    coinc = require_gwcelery() / "ligolw" / "coinc.xml"
    candidate = load_coinc(coinc)
    one = loc.localize(candidate.triggers, threads=1)
    two = loc.localize(candidate.triggers, threads=2)
    assert np.array_equal(one.uniq, two.uniq)
    assert np.allclose(one.probdensity, two.probdensity, rtol=1e-12)


@pytest.fixture(scope="module")
def first2years():
    path = require_gwcelery() / "ligolw" / "first2years_gstlal.xml.gz"
    doc = read_ligolw(path)
    truth = doc.injections()
    assert len(truth) == 250
    return path, doc, truth


def test_first2years_injections_are_found(first2years):
    path, doc, truth = first2years
    coincs = [r["coinc_event_id"] for r in doc.table("coinc_inspiral")][:20]
    areas, inside = [], 0
    for coinc_id in coincs:
        candidate = load_coinc(path, coinc_event_id=coinc_id, f_low=30.0, document=doc)
        sky_map = loc.localize(candidate.triggers, threads=2)
        sim = truth[coinc_id]
        area, probability = searched(sky_map.uniq, sky_map.probdensity, sim["longitude"],
                                     sim["latitude"])
        areas.append(area)
        inside += probability <= 0.9
    # BAYESTAR on the same 20 events: median searched area 148 deg², 15 inside 90%.
    assert np.median(areas) < 250.0
    assert inside >= 13


def test_timing_scale_is_what_the_first2years_arrival_times_show(first2years):
    """TIMING_SCALE is a measurement: inter-detector arrival-time differences of
    the 250 injections, minus the true ones, in units of the model's uncertainty
    with that scale, scatter with a robust standard deviation of one."""
    path, doc, truth = first2years
    residuals = []
    for coinc_id, sim in truth.items():
        candidate = load_coinc(path, coinc_event_id=coinc_id, f_low=30.0, document=doc)
        assert candidate.timing_scale == loc.TIMING_SCALE
        true = {ifo: sim[f"{ifo[0].lower()}_end_time"]
                + 1e-9 * sim[f"{ifo[0].lower()}_end_time_ns"] for ifo in ("H1", "L1", "V1")}
        sigma = {t.instrument: loc.TIMING_SCALE / (2 * np.pi * t.frequency_spread
                                                   * abs(t.snr))
                 for t in candidate.triggers}
        triggers = candidate.triggers
        for i, first in enumerate(triggers):
            for second in triggers[i + 1:]:
                error = ((first.time - second.time)
                         - (true[first.instrument] - true[second.instrument]))
                residuals.append(error / math.hypot(sigma[first.instrument],
                                                    sigma[second.instrument]))
    residuals = np.array(residuals)
    robust = 1.4826 * np.median(np.abs(residuals - np.median(residuals)))
    assert len(residuals) > 300
    assert 0.9 < robust < 1.1


def test_reference_psd_is_found_next_to_the_coinc(tmp_path, first2years):
    _, doc, _ = first2years
    first = doc.table("coinc_inspiral")[0]["coinc_event_id"]
    members = {m["event_id"] for m in doc.table("coinc_event_map")
               if m["coinc_event_id"] == first}
    singles = [r for r in doc.table("sngl_inspiral") if r["event_id"] in members]
    tables = {
        "process": doc.table("process")[:1],
        "process_params": [{"process_id": doc.table("process")[0]["process_id"],
                            "program": "gstlal_inspiral", "type": "lstring",
                            "param": "--reference-psd", "value": "ref/psd.xml"}],
        "sngl_inspiral": singles,
        "coinc_event_map": [m for m in doc.table("coinc_event_map")
                            if m["coinc_event_id"] == first],
        "coinc_inspiral": doc.table("coinc_inspiral")[:1],
    }
    (tmp_path / "coinc.xml").write_bytes(write_ligolw(tables))
    with pytest.raises(LocalizeInputError, match="no PSD in the file"):
        load_coinc(tmp_path / "coinc.xml")
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "psd.xml").write_bytes(write_ligolw({}, doc.psds()))
    candidate = load_coinc(tmp_path / "coinc.xml")
    assert candidate.psd_source == str(tmp_path / "ref" / "psd.xml")
    assert sorted(t.instrument for t in candidate.triggers) == sorted(
        r["ifo"] for r in singles)


def test_gevent_json_fixture_localizes_with_the_model_noise_curve(tmp_path):
    event = require_gwcelery() / "igwn_alert" / "lvalert_event_creation.json"
    candidate, sky_map, _ = run_localize(out=tmp_path / "m.fits", event=event, threads=1)
    assert candidate.psd_source == "model noise curve"
    assert sky_map.instruments == ["H1", "L1"]
    assert np.sum(sky_map.probability) == pytest.approx(1.0)


def test_bad_inputs_get_one_line_errors(tmp_path):
    with pytest.raises(LocalizeInputError, match="exactly one"):
        run_localize(out=tmp_path / "x.fits")
    burst = require_gwcelery() / "igwn_alert" / "git_mock_trigger_new_G000005_burst.json"
    with pytest.raises(LocalizeInputError, match="SingleInspiral"):
        load_event(burst)
    with pytest.raises(loc.LocalizationError, match="unknown detector"):
        loc.localize([loc.Trigger("X9", 0.0, 5 + 0j, 100.0, 100.0, 80.0),
                      loc.Trigger("H1", 0.0, 5 + 0j, 100.0, 100.0, 80.0)])


# --- the simulator ----------------------------------------------------------------------

def test_simulated_files_are_what_intake_and_bayestar_expect(tmp_path):
    truth = write_simulation(tmp_path, 4, seed=11, grb_fraction=1.0)
    assert json.loads((tmp_path / "truth.json").read_text()) == truth
    for row in truth:
        assert row["network_snr"] >= 12.0 and len(row["snr"]) >= 2
        coinc = parse_alert(Path(row["coinc"]).read_bytes())
        assert coinc.kind == "coinc_xml"
        assert coinc.trigger_gps == pytest.approx(row["geocent_time"], abs=0.05)
        event = parse_alert(Path(row["event"]).read_bytes())
        assert event.kind == "igwn_alert" and event.fields["far"] == pytest.approx(row["far"])
        grb = parse_alert(Path(row["grb"]["path"]).read_bytes())
        assert grb.kind == "voevent"
        assert grb.trigger_gps - row["geocent_time"] == pytest.approx(
            row["grb"]["offset_s"], abs=0.02)
    doc = read_ligolw(Path(truth[0]["coinc"]))
    assert doc.table("process")[0]["program"] == "gwdag_simulate"
    assert {r["param"] for r in doc.table("process_params")} == {"--reference-psd"}


def test_simulated_events_are_localized_and_calibrated(tmp_path):
    truth = write_simulation(tmp_path, 12, seed=5)
    inside = 0
    for row in truth:
        candidate, sky_map, _ = run_localize(out=tmp_path / f"{row['number']}.fits",
                                             coinc=row["coinc"], threads=2)
        assert candidate.snr_rescale == 1.0
        _, probability = searched(sky_map.uniq, sky_map.probdensity,
                                  math.radians(row["ra_deg"]), math.radians(row["dec_deg"]))
        inside += probability <= 0.9
    assert inside >= 9


def test_one_impossible_outlier_trigger_does_not_lose_the_source():
    """The weakest of three triggers moved 45 ms (more than any light travel
    time): the mixture keeps the source in most 90% regions, the all-signal
    model alone in none."""
    events = [e for e in simulate_events(12, seed=7) if len(e.triggers) == 3]
    rescued = 0
    for event in events:
        triggers = [loc.Trigger(t.instrument, t.time, t.snr, t.sigma,
                                event.moments[t.instrument].mean_frequency,
                                event.moments[t.instrument].frequency_spread)
                    for t in event.triggers]
        weakest = int(np.argmin([abs(t.snr) for t in triggers]))
        triggers[weakest] = replace(triggers[weakest], time=triggers[weakest].time + 0.045,
                                    snr=4.9 * np.exp(2j))
        plain = loc.localize(triggers, snr_rescale=1.0, outlier_prior=0.0)
        robust = loc.localize(triggers, snr_rescale=1.0)
        assert searched(plain.uniq, plain.probdensity, event.ra, event.dec)[1] > 0.99
        rescued += searched(robust.uniq, robust.probdensity, event.ra, event.dec)[1] <= 0.9
    assert len(events) >= 6 and rescued >= len(events) // 2


# --- command line -----------------------------------------------------------------------

def test_cli_simulate_localize_and_stats(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", "--n", "2", "--out", str(tmp_path / "sim"),
                                  "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    truth = json.loads(result.output)
    assert truth["schema_version"] == 1 and len(truth["events"]) == 2
    row = truth["events"][0]
    result = runner.invoke(main, ["step", "localize", "--coinc", row["coinc"], "--out",
                                  str(tmp_path / "a.fits"), "--threads", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["pixels"] == 19200 and summary["pipeline"] == "gwdag_simulate"
    result = runner.invoke(main, ["skymap", "stats", str(tmp_path / "a.fits"), "--ra",
                                  str(row["ra_deg"]), "--dec", str(row["dec_deg"]), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)["skymaps"][0]
    assert stats["area_50_deg2"] < stats["area_90_deg2"]
    sky_map = read_sky_map(tmp_path / "a.fits")
    assert stats["area_90_deg2"] == pytest.approx(
        credible_area(sky_map.uniq, sky_map.probdensity, 0.9))
    assert 0.0 <= stats["searched_prob"] <= 1.0
    # the BAYESTAR fixture reads too
    bayestar = require_gwcelery() / "skymaps" / "bayestar.multiorder.fits"
    result = runner.invoke(main, ["skymap", "stats", str(bayestar), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["skymaps"][0]["instruments"] == "H1,L1"


def test_cli_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["step", "localize", "--out", str(tmp_path / "x.fits")])
    assert result.exit_code == 1 and "exactly one" in result.output
    assert len(result.output.strip().splitlines()) == 1
    fermi = require_gwcelery() / "skymaps" / "fermi_skymap.fits.gz"
    result = runner.invoke(main, ["skymap", "stats", str(fermi)])
    assert result.exit_code == 0 and "90%" in result.output      # flat maps read too
    image = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(image)
    result = runner.invoke(main, ["skymap", "stats", str(image)])
    assert result.exit_code == 1 and "not a HEALPix sky map" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(main, ["simulate", "--n", "1", "--out", str(tmp_path / "s"),
                                  "--detectors", "H1,Q7"])
    assert result.exit_code == 1 and "unknown detector" in result.output


def test_pixel_areas_sum_to_the_sphere():
    uniq = np.concatenate([4 * 4 ** 4 + np.arange(3072 - 1),
                           4 * 4 ** 5 + (3071 * 4 + np.arange(4))])
    assert pixel_areas(uniq).sum() == pytest.approx(4 * np.pi)


