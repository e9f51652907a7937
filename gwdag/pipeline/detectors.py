"""Ground-based detectors: positions, response tensors, antenna patterns, delays.

Positions (metres, Earth-fixed) and response tensors are the LAL values restated in
``reference/gw-pipeline.md`` §6.  Angles are radians, times GPS seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DETECTORS", "SPEED_OF_LIGHT", "Detector", "antenna_patterns",
           "geocentric_delays", "gmst", "light_travel_time", "unit_vectors"]

SPEED_OF_LIGHT = 299792458.0
"""Metres per second."""

@dataclass(frozen=True)
class Detector:
    """One interferometer: vertex (m) and the symmetric response tensor D."""

    name: str
    vertex: np.ndarray
    response: np.ndarray


def _detector(name: str, vertex: tuple[float, float, float],
              response: tuple[float, ...]) -> Detector:
    return Detector(name, np.array(vertex), np.array(response).reshape(3, 3))


DETECTORS: dict[str, Detector] = {d.name: d for d in (
    _detector("H1", (-2161414.926, -3834695.179, 4600350.227),
              (-0.392614, -0.077613, -0.247389, -0.077613, 0.319524, 0.227998,
               -0.247389, 0.227998, 0.073090)),
    _detector("L1", (-74276.045, -5496283.720, 3224257.017),
              (0.411281, 0.140210, 0.247295, 0.140210, -0.109006, -0.181616,
               0.247295, -0.181616, -0.302275)),
    _detector("V1", (4546374.099, 842989.698, 4378576.962),
              (0.243874, -0.099084, -0.232576, -0.099084, -0.447826, 0.187833,
               -0.232576, 0.187833, 0.203952)),
    _detector("K1", (-3777336.024, 3484898.411, 3765313.697),
              (-0.185990, 0.153167, -0.324951, 0.153167, 0.349518, -0.170874,
               -0.324951, -0.170874, -0.163529)),
)}


def light_travel_time(a: str, b: str) -> float:
    """Seconds light needs between the vertices of detectors ``a`` and ``b``."""
    return float(np.linalg.norm(DETECTORS[a].vertex - DETECTORS[b].vertex)
                 / SPEED_OF_LIGHT)


# (first GPS second at which it holds, GPS - UTC), newest first.
_LEAP_STEPS = ((1167264018.0, 18), (1119744017.0, 17), (1025136016.0, 16),
               (914803215.0, 15))


def _gps_minus_utc(gps: float) -> int:
    """Leap seconds between GPS and UTC at ``gps`` (valid from 2006 on)."""
    for start, leap in _LEAP_STEPS:
        if gps >= start:
            return leap
    return 14


def gmst(gps: float) -> float:
    """Greenwich mean sidereal time (radians) at GPS time ``gps`` (IAU 1982,
    UT1 taken as UTC)."""
    unix = gps + 315964800.0 - _gps_minus_utc(gps)
    julian_date = unix / 86400.0 + 2440587.5
    t = (julian_date - 2451545.0) / 36525.0
    seconds = (67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t
               + 0.093104 * t * t - 6.2e-6 * t * t * t)
    return 2.0 * np.pi * (seconds % 86400.0) / 86400.0


def unit_vectors(ra: np.ndarray, dec: np.ndarray, gmst_rad: float) -> np.ndarray:
    """Earth-fixed unit vectors (shape ``(..., 3)``) toward right ascension
    ``ra`` and declination ``dec`` (radians) at sidereal time ``gmst_rad``."""
    hour_angle = gmst_rad - np.asarray(ra)
    cos_dec = np.cos(dec)
    # Earth-fixed longitude of the source is -hour_angle.
    return np.stack([cos_dec * np.cos(hour_angle), -cos_dec * np.sin(hour_angle),
                     np.sin(dec) * np.ones_like(hour_angle)], axis=-1)


def antenna_patterns(detector: Detector, ra: np.ndarray, dec: np.ndarray,
                     psi: np.ndarray | float, gmst_rad: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """F+ and F× of ``detector`` toward (``ra``, ``dec``) with polarisation
    angle ``psi`` (radians), all broadcast together."""
    gha = gmst_rad - np.asarray(ra)
    sin_gha, cos_gha = np.sin(gha), np.cos(gha)
    sin_dec, cos_dec = np.sin(dec), np.cos(dec)
    sin_psi, cos_psi = np.sin(psi), np.cos(psi)
    x = np.stack(np.broadcast_arrays(
        -cos_psi * sin_gha - sin_psi * cos_gha * sin_dec,
        -cos_psi * cos_gha + sin_psi * sin_gha * sin_dec,
        sin_psi * cos_dec), axis=-1)
    y = np.stack(np.broadcast_arrays(
        sin_psi * sin_gha - cos_psi * cos_gha * sin_dec,
        sin_psi * cos_gha + cos_psi * sin_gha * sin_dec,
        cos_psi * cos_dec), axis=-1)
    dx = x @ detector.response
    dy = y @ detector.response
    f_plus = np.einsum("...i,...i->...", dx, x) - np.einsum("...i,...i->...", dy, y)
    f_cross = np.einsum("...i,...i->...", dx, y) + np.einsum("...i,...i->...", dy, x)
    return f_plus, f_cross


def geocentric_delays(detector: Detector, directions: np.ndarray) -> np.ndarray:
    """Arrival time at ``detector`` minus arrival at the geocentre (seconds) for
    sources along the Earth-fixed unit vectors ``directions`` (``(..., 3)``)."""
    return -(directions @ detector.vertex) / SPEED_OF_LIGHT
