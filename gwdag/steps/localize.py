"""``gwdag step localize``: triggers from a pipeline upload, a sky map out.

Inputs are a LIGO-LW ``coinc.xml`` (with ``sngl_inspiral`` rows, PSDs and maybe
SNR time series) or an IGWN-alert G-event JSON (its ``SingleInspiral`` rows).
PSDs come from ``--psd``, else from the coinc file itself, else from the
``--reference-psd`` path in its ``process_params`` (relative to the coinc file's
directory, then the working directory), else — for a G-event — the model noise
curve of :mod:`gwdag.pipeline.noise`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..intake.alert import AlertRejected
from ..intake.ligolw import FrequencySeries, LigolwDocument, TimeSeries, read_ligolw
from ..pipeline.localize import (
    SNR_RESCALE,
    TIMING_SCALE,
    LocalizationError,
    SkyMap,
    Trigger,
    localize,
)
from ..pipeline.noise import model_psd, signal_moments
from .skymap_file import write_sky_map

__all__ = ["LocalizeInputError", "default_threads", "load_coinc", "load_event",
           "run_localize"]

# Pipelines whose phases are the complex conjugate of gstlal's / MBTA's.
CONJUGATE_PHASE_PIPELINES = ("pycbc",)
# SNR calibration per pipeline: search pipelines' SNRs scatter more than the
# Gaussian model says (template mismatch), so BAYESTAR's 0.83 applies; the
# simulator's errors are exactly the model's.
SNR_RESCALE_BY_PIPELINE = {"gwdag_simulate": 1.0}
# Timing calibration likewise: search pipelines' arrival times scatter 1.7 times
# the Cramér–Rao bound (measured on the first2years injections); the simulator's
# exactly as the bound says.
TIMING_SCALE_BY_PIPELINE = {"gwdag_simulate": 1.0}
_MODEL_FREQUENCIES = np.arange(0.0, 4096.0, 0.25)


class LocalizeInputError(ValueError):
    """The inputs cannot be turned into triggers (the message says why)."""


def default_threads() -> int:
    """Threads to use: ``$OMP_NUM_THREADS`` (HTCondor sets it from
    ``request_cpus``), else the CPUs this process may run on."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@dataclass
class Candidate:
    """What the localizer needs from one candidate."""

    name: str
    triggers: list[Trigger]
    pipeline: str
    psd_source: str

    @property
    def snr_rescale(self) -> float:
        return SNR_RESCALE_BY_PIPELINE.get(self.pipeline, SNR_RESCALE)

    @property
    def timing_scale(self) -> float:
        return TIMING_SCALE_BY_PIPELINE.get(self.pipeline, TIMING_SCALE)


def _conjugate(pipeline: str) -> bool:
    return any(pipeline.lower().startswith(p) for p in CONJUGATE_PHASE_PIPELINES)


def _model_psd(instrument: str) -> FrequencySeries:
    return FrequencySeries(instrument, 0.0, 0.25, model_psd(_MODEL_FREQUENCIES, instrument))


def _peak_from_series(series: TimeSeries, time: float, snr: complex
                      ) -> tuple[float, complex]:
    """The SNR series' peak near ``time``: sub-sample time by a parabola through
    |z|² around the loudest sample, complex SNR interpolated there."""
    data = series.data
    if data.size < 3 or series.delta_t <= 0:
        return time, snr
    power = np.abs(data) ** 2
    k = int(np.clip(np.argmax(power), 1, data.size - 2))
    left, centre, right = power[k - 1], power[k], power[k + 1]
    curvature = left - 2 * centre + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    shift = float(np.clip(shift, -0.5, 0.5))
    index = k + shift
    lower = int(np.floor(index))
    fraction = index - lower
    value = data[lower] * (1 - fraction) + data[min(lower + 1, data.size - 1)] * fraction
    return series.epoch + index * series.delta_t, complex(value)


def _trigger(row: dict[str, Any], psd: FrequencySeries, f_low: float,
             conjugate: bool, series: TimeSeries | None) -> Trigger:
    instrument = str(row.get("ifo") or "")
    try:
        snr = float(row["snr"])
        phase = float(row.get("coa_phase") or 0.0)
        time = float(row["end_time"]) + 1e-9 * float(row.get("end_time_ns") or 0)
        eff_distance = float(row["eff_distance"])
        mass1, mass2 = float(row["mass1"]), float(row["mass2"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalizeInputError(f"{instrument or 'a'} trigger lacks a usable value: "
                                 f"{exc}") from None
    complex_snr = snr * np.exp(1j * phase)
    if series is not None:
        time, complex_snr = _peak_from_series(series, time, complex_snr)
    if conjugate:
        complex_snr = np.conj(complex_snr)
    try:
        moments = signal_moments(psd.frequencies, psd.data, mass1, mass2, f_low)
    except ValueError as exc:
        raise LocalizeInputError(f"{instrument} PSD: {exc}") from None
    return Trigger(instrument, time, complex(complex_snr), eff_distance * snr,
                   moments.mean_frequency, moments.frequency_spread)


def _reference_psd(doc: LigolwDocument, coinc_path: Path) -> Path | None:
    for row in doc.table("process_params"):
        if row.get("param") == "--reference-psd" and row.get("value"):
            relative = Path(str(row["value"]))
            for base in (coinc_path.parent, Path.cwd()):
                candidate = base / relative
                if candidate.is_file():
                    return candidate
    return None


def _psds(doc: LigolwDocument, coinc_path: Path, psd_path: Path | None
          ) -> tuple[dict[str, FrequencySeries], str]:
    if psd_path is not None:
        return read_ligolw(psd_path).psds(), str(psd_path)
    embedded = doc.psds()
    if embedded:
        return embedded, f"{coinc_path} (embedded)"
    reference = _reference_psd(doc, coinc_path)
    if reference is not None:
        return read_ligolw(reference).psds(), str(reference)
    raise LocalizeInputError(f"{coinc_path}: no PSD in the file, none given with --psd "
                             "and no --reference-psd file found from its process_params")


def load_coinc(path: str | Path, *, psd: str | Path | None = None,
               coinc_event_id: str | int | None = None, f_low: float = 15.0,
               document: LigolwDocument | None = None) -> Candidate:
    """The candidate ``coinc_event_id`` (default: the first) of a coinc file."""
    path = Path(path)
    try:
        doc = document or read_ligolw(path)
    except (OSError, AlertRejected) as exc:
        raise LocalizeInputError(f"{path}: {exc}") from None
    coincs = doc.table("coinc_inspiral")
    if not coincs:
        raise LocalizeInputError(f"{path}: no coinc_inspiral row")
    if coinc_event_id is None:
        chosen = str(coincs[0]["coinc_event_id"])
    else:
        wanted = str(coinc_event_id)
        matches = [str(c["coinc_event_id"]) for c in coincs
                   if str(c["coinc_event_id"]) == wanted
                   or str(c["coinc_event_id"]).rsplit(":", 1)[-1] == wanted]
        if not matches:
            raise LocalizeInputError(f"{path}: no coinc_event_id {wanted} "
                                     f"({len(coincs)} coincs in the file)")
        chosen = matches[0]
    singles = {str(r.get("event_id")): r for r in doc.table("sngl_inspiral")}
    member_ids = [str(m["event_id"]) for m in doc.table("coinc_event_map")
                  if str(m["coinc_event_id"]) == chosen
                  and m.get("table_name") == "sngl_inspiral"]
    rows = [singles[i] for i in member_ids if i in singles] or (
        list(singles.values()) if len(coincs) == 1 else [])
    if not rows:
        raise LocalizeInputError(f"{path}: coinc {chosen} has no sngl_inspiral rows")
    process = doc.table("process")
    process_by_id = {str(p.get("process_id")): str(p.get("program") or "") for p in process}
    pipeline = process_by_id.get(str(rows[0].get("process_id")),
                                 str(process[0].get("program") or "") if process else "")
    psds, psd_source = _psds(doc, path, Path(psd) if psd else None)
    series = doc.snr_series()
    triggers = []
    for row in rows:
        instrument = str(row.get("ifo") or "")
        if instrument not in psds:
            raise LocalizeInputError(f"{path}: no PSD for {instrument} (have "
                                     f"{', '.join(sorted(psds)) or 'none'}) in {psd_source}")
        triggers.append(_trigger(row, psds[instrument], f_low, _conjugate(pipeline),
                                 series.get(str(row.get("event_id")))))
    return Candidate(chosen.rsplit(":", 1)[-1], triggers, pipeline, psd_source)


def load_event(path: str | Path, *, psd: str | Path | None = None,
               f_low: float = 15.0) -> Candidate:
    """The candidate of an IGWN-alert G-event JSON (or a bare G-event object)."""
    path = Path(path)
    try:
        message = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise LocalizeInputError(f"{path}: not readable JSON ({exc})") from None
    event = message.get("object", message) if isinstance(message, dict) else None
    extra = event.get("extra_attributes") if isinstance(event, dict) else None
    rows = extra.get("SingleInspiral") if isinstance(extra, dict) else None
    if not isinstance(rows, list) or not rows:
        raise LocalizeInputError(f"{path}: no extra_attributes.SingleInspiral rows "
                                 "(only CBC G-events can be localized from JSON)")
    psds = read_ligolw(psd).psds() if psd else {}
    pipeline = str(event.get("pipeline") or "")
    triggers = []
    for row in rows:
        instrument = str(row.get("ifo") or "") if isinstance(row, dict) else ""
        if not instrument:
            raise LocalizeInputError(f"{path}: a SingleInspiral row has no ifo")
        noise = psds.get(instrument) or _model_psd(instrument)
        triggers.append(_trigger(row, noise, f_low, _conjugate(pipeline), None))
    return Candidate(str(event.get("graceid") or path.stem), triggers, pipeline,
                     str(psd) if psd else "model noise curve")


def run_localize(*, out: str | Path, coinc: str | Path | None = None,
                 event: str | Path | None = None, psd: str | Path | None = None,
                 coinc_event_id: str | int | None = None, threads: int | None = None,
                 f_low: float = 15.0) -> tuple[Candidate, SkyMap, Path]:
    """Localize one candidate and write its multi-order FITS sky map to ``out``."""
    if (coinc is None) == (event is None):
        raise LocalizeInputError("give exactly one of --coinc FILE or --event FILE")
    if coinc is not None:
        candidate = load_coinc(coinc, psd=psd, coinc_event_id=coinc_event_id, f_low=f_low)
    else:
        candidate = load_event(event, psd=psd, f_low=f_low)  # type: ignore[arg-type]
    try:
        sky_map = localize(candidate.triggers, threads=threads or default_threads(),
                           snr_rescale=candidate.snr_rescale,
                           timing_scale=candidate.timing_scale)
    except LocalizationError as exc:
        raise LocalizeInputError(str(exc)) from None
    written = write_sky_map(out, sky_map, object_name=candidate.name)
    return candidate, sky_map, written
