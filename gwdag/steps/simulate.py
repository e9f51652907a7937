"""``gwdag simulate``: write what search pipelines and GCN would send for
simulated events, plus the truth.

Per event ``<out>/<name>/``: ``coinc.xml`` (LIGO-LW with ``process``,
``sngl_inspiral``, ``coinc_event``, ``coinc_event_map``, ``coinc_inspiral`` and the
PSDs), ``event.json`` (an IGWN-alert ``new`` message for the G-event) and, for a
fraction of events, ``grb.xml`` (a Fermi GBM VOEvent in coincidence); and
``<out>/truth.json`` with every event's true parameters.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..intake.gpstime import gps_to_utc
from ..intake.ligolw import FrequencySeries, write_ligolw
from ..intake.samples import synthetic_voevent
from ..pipeline.noise import model_psd
from ..pipeline.simulate import SimulatedEvent, simulate_events

__all__ = ["coinc_document", "gevent_message", "write_simulation"]

PROGRAM = "gwdag_simulate"


def _chirp_mass(m1: float, m2: float) -> float:
    return (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2


def _singles(event: SimulatedEvent) -> list[dict[str, Any]]:
    rows = []
    for index, trigger in enumerate(event.triggers):
        seconds = int(np.floor(trigger.time))
        snr = abs(trigger.snr)
        rows.append({
            "process_id": 0, "event_id": index, "ifo": trigger.instrument,
            "search": "gwdag_simulate", "channel": "SIMULATED",
            "end_time": seconds,
            "end_time_ns": int(round((trigger.time - seconds) * 1e9)),
            "snr": float(snr), "coa_phase": float(np.angle(trigger.snr)),
            "eff_distance": float(trigger.sigma / snr),
            "sigmasq": float(trigger.sigma ** 2),
            "mass1": event.mass1, "mass2": event.mass2,
            "mchirp": _chirp_mass(event.mass1, event.mass2),
            "mtotal": event.mass1 + event.mass2,
            "eta": event.mass1 * event.mass2 / (event.mass1 + event.mass2) ** 2,
            "chisq": 1.0, "chisq_dof": 1,
            "template_duration": 0.0, "f_final": 2048.0,
            **{f"spin{body}{axis}": 0.0 for body in (1, 2) for axis in "xyz"},
        })
    return rows


def coinc_document(event: SimulatedEvent, frequencies: np.ndarray) -> bytes:
    """LIGO-LW ``coinc.xml`` of ``event`` with the model PSDs it was drawn with."""
    singles = _singles(event)
    ifos = ",".join(sorted(t.instrument for t in event.triggers))
    best = max(singles, key=lambda row: row["snr"])
    tables: dict[str, list[dict[str, Any]]] = {
        "process": [{"process_id": 0, "program": PROGRAM, "ifos": ifos,
                     "comment": "simulated; gstlal phase convention"}],
        # the PSDs are in this very file; say so for readers that only look there
        "process_params": [{"process_id": 0, "program": PROGRAM, "param": "--reference-psd",
                            "type": "lstring", "value": "coinc.xml"}],
        "sngl_inspiral": singles,
        "coinc_definer": [{"coinc_def_id": 0, "search": "inspiral", "search_coinc_type": 0,
                           "description": "sngl_inspiral<-->sngl_inspiral coincidences"}],
        "coinc_event": [{"coinc_event_id": 0, "coinc_def_id": 0, "process_id": 0,
                         "time_slide_id": 0, "instruments": ifos,
                         "nevents": len(singles)}],
        "coinc_event_map": [{"coinc_event_id": 0, "table_name": "sngl_inspiral",
                             "event_id": row["event_id"]} for row in singles],
        "coinc_inspiral": [{"coinc_event_id": 0, "ifos": ifos,
                            "end_time": best["end_time"], "end_time_ns": best["end_time_ns"],
                            "snr": event.network_snr, "combined_far": event.far,
                            "false_alarm_rate": event.far,
                            "mchirp": best["mchirp"], "mass": best["mtotal"]}],
    }
    psds = {t.instrument: FrequencySeries(t.instrument, float(frequencies[0]),
                                          float(frequencies[1] - frequencies[0]),
                                          model_psd(frequencies, t.instrument))
            for t in event.triggers}
    return write_ligolw(tables, psds, epoch=float(np.floor(event.geocent_time)))


def gevent_message(event: SimulatedEvent, graceid: str, pipeline: str = PROGRAM
                   ) -> dict[str, Any]:
    """The IGWN-alert ``new`` message GraceDB would send for ``event``."""
    singles = _singles(event)
    best = max(singles, key=lambda row: row["snr"])
    gpstime = best["end_time"] + 1e-9 * best["end_time_ns"]
    instruments = ",".join(sorted(t.instrument for t in event.triggers))
    created = gps_to_utc(event.geocent_time + 2.0).strftime("%Y-%m-%d %H:%M:%S UTC")
    gevent = {
        "graceid": graceid, "group": "CBC", "pipeline": pipeline, "search": "AllSky",
        "gpstime": gpstime, "far": event.far, "far_is_upper_limit": False,
        "instruments": instruments, "nevents": len(singles), "offline": False,
        "labels": [], "created": created, "submitter": "gwdag-simulate",
        "extra_attributes": {
            "CoincInspiral": {"ifos": instruments, "end_time": best["end_time"],
                              "end_time_ns": best["end_time_ns"],
                              "snr": event.network_snr, "combined_far": event.far,
                              "false_alarm_rate": event.far, "mchirp": best["mchirp"],
                              "mass": best["mtotal"]},
            "SingleInspiral": [{k: v for k, v in row.items()
                                if k not in ("process_id", "event_id")}
                               for row in singles],
        },
    }
    return {"uid": graceid, "alert_type": "new", "object": gevent, "data": gevent}


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_simulation(out: str | Path, count: int, *, detectors: tuple[str, ...] =
                     ("H1", "L1", "V1"), seed: int | None = None,
                     grb_fraction: float = 0.0, start_gps: float = 1400000000.0,
                     spacing: float = 1000.0, pipeline: str = PROGRAM,
                     grb_offset: tuple[float, float] = (-1.0, 5.0),
                     grb_error_deg: float = 5.0) -> list[dict[str, Any]]:
    """Simulate ``count`` detected events into ``out``; returns the truth rows."""
    if not 0.0 <= grb_fraction <= 1.0:
        raise ValueError(f"--grb-fraction must be between 0 and 1, got {grb_fraction}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    events = simulate_events(count, detectors=detectors, seed=seed, start_gps=start_gps,
                             spacing=spacing)
    rng = np.random.default_rng(None if seed is None else seed + 1)
    frequencies = np.arange(10.0, 2048.0, 0.25)
    truth = []
    for event in events:
        graceid = f"G{900000 + int(event.geocent_time) % 100000:06d}{event.number}"
        folder = out / f"event-{event.number:04d}"
        folder.mkdir(exist_ok=True)
        _atomic_write(folder / "coinc.xml", coinc_document(event, frequencies))
        message = gevent_message(event, graceid, pipeline)
        _atomic_write(folder / "event.json", json.dumps(message, indent=1).encode())
        row: dict[str, Any] = {
            "number": event.number, "graceid": graceid, "category": event.category,
            "mass1": event.mass1, "mass2": event.mass2,
            "ra_deg": float(np.degrees(event.ra)), "dec_deg": float(np.degrees(event.dec)),
            "distance_mpc": event.distance,
            "inclination": event.inclination, "polarization": event.polarization,
            "geocent_time": event.geocent_time, "network_snr": event.network_snr,
            "far": event.far,
            "snr": {t.instrument: abs(t.true_snr) for t in event.triggers},
            "coinc": str(folder / "coinc.xml"), "event": str(folder / "event.json"),
            "grb": None,
        }
        if rng.uniform() < grb_fraction:
            offset = float(rng.uniform(*grb_offset))
            error = np.radians(grb_error_deg)
            grb_ra = event.ra + rng.normal(0, error) / max(np.cos(event.dec), 1e-3)
            grb_dec = float(np.clip(event.dec + rng.normal(0, error), -np.pi / 2, np.pi / 2))
            notice = synthetic_voevent(
                800000 + event.number, role="observation",
                ra=float(np.degrees(grb_ra) % 360.0), dec=float(np.degrees(grb_dec)),
                error_deg=grb_error_deg, when=gps_to_utc(event.geocent_time + offset))
            _atomic_write(folder / "grb.xml", notice)
            row["grb"] = {"path": str(folder / "grb.xml"), "offset_s": offset}
        truth.append(row)
    _atomic_write(out / "truth.json", json.dumps(truth, indent=1).encode())
    return truth
