"""Coincidences between superevents and external triggers, RAVEN-style
(``reference/gw-pipeline.md`` §5).

Windows are (t_low, t_high) in seconds of external time minus GW time.  FARs in
Hz, rates per year, sky densities per steradian, angles in radians.
"""

from __future__ import annotations

import math

import numpy as np

from .skymap import pixel_areas, pixel_orders, pixel_positions
from .thresholds import YEAR, thresholds_for

__all__ = ["RATES_PER_YEAR", "TARGETED_FAR_THRESHOLDS", "WINDOWS", "coincidence_window",
           "external_search_window", "joint_alert", "overlap_circle", "overlap_maps",
           "overlap_point", "preferred_coincidence", "spacetime_far",
           "superevent_search_window", "targeted_far", "temporal_far"]

# (external kind, GW group) -> (t_low, t_high), external minus GW time (s)
WINDOWS: dict[tuple[str, str], tuple[float, float]] = {
    ("GRB", "CBC"): (-1.0, 5.0),
    ("GRB", "Burst"): (-60.0, 600.0),
    ("SubGRB-Fermi", "CBC"): (-1.0, 11.0),
    ("SubGRB-Swift", "CBC"): (-10.0, 20.0),
    ("FRB", "CBC"): (-2.0, 10.0),
    ("FRB", "Burst"): (-120.0, 600.0),
    ("HEN", "CBC"): (-10.0, 10.0),
    ("HEN", "Burst"): (-500.0, 500.0),
    ("Supernova", "Burst"): (-10.0, 10.0),
}
RATES_PER_YEAR = {"GRB": 325.0, "SubGRB": 390.0, "SubGRBTargeted": 390.0, "FRB": 485.0,
                  "HEN": 15.0, "MDC": 325.0}
TARGETED_FAR_THRESHOLDS = {"Fermi": 1e-4, "Swift": 1e-3}   # Hz, external side


def coincidence_window(search: str, gw_group: str, mission: str = ""
                       ) -> tuple[float, float] | None:
    """The window for an external trigger of ``search`` (GRB, SubGRB,
    SubGRBTargeted, FRB, HEN, Supernova, MDC) against a ``gw_group`` superevent;
    None when that pair is never coincident."""
    kind = search
    if search in ("SubGRB", "SubGRBTargeted"):
        kind = f"SubGRB-{'Swift' if mission.lower() == 'swift' else 'Fermi'}"
    elif search == "MDC":
        kind = "GRB"
    return WINDOWS.get((kind, gw_group))


def superevent_search_window(t_0: float, window: tuple[float, float]) -> tuple[float, float]:
    """External trigger times to look for around a superevent at ``t_0``."""
    return t_0 + window[0], t_0 + window[1]


def external_search_window(t_ext: float, window: tuple[float, float]
                           ) -> tuple[float, float]:
    """Superevent ``t_0`` values to look for around an external trigger at ``t_ext``."""
    return t_ext - window[1], t_ext - window[0]


def temporal_far(window: tuple[float, float], search: str, gw_far: float) -> float:
    """(t_high − t_low) × R_ext × FAR_gw (Hz)."""
    rate = RATES_PER_YEAR.get(search, RATES_PER_YEAR["GRB"]) / YEAR
    return (window[1] - window[0]) * rate * gw_far


def targeted_far(window: tuple[float, float], ext_far: float, gw_far: float,
                 ext_threshold: float, gw_threshold: float) -> float:
    """The joint FAR of a targeted sub-threshold search:
    z (1 − ln(z / z_max)) with z = Δt FAR_ext FAR_gw and z_max the same at the
    two thresholds (Hz)."""
    width = window[1] - window[0]
    z = width * ext_far * gw_far
    z_max = width * ext_threshold * gw_threshold
    if z <= 0:
        return 0.0
    return z * (1.0 - math.log(z / z_max)) if z < z_max else z


def spacetime_far(temporal: float, overlap: float) -> float:
    """The temporal FAR divided by the sky-map overlap integral."""
    return temporal / overlap if overlap > 0 else math.inf


def _density_at(uniq: np.ndarray, probdensity: np.ndarray, ra: np.ndarray,
                dec: np.ndarray) -> np.ndarray:
    """A multi-order map's density (sr⁻¹) at the given positions (radians)."""
    from astropy_healpix import healpy as hp  # 0.3 s to import: only when maps meet

    order, _ = pixel_orders(uniq)
    sort = np.argsort(uniq)
    ordered = uniq[sort]
    result = np.zeros(np.size(ra))
    for level in np.unique(order):
        candidate = 4 * 4 ** int(level) + hp.ang2pix(2 ** int(level), 0.5 * np.pi - dec,
                                                      ra, nest=True).astype(np.int64)
        index = np.minimum(np.searchsorted(ordered, candidate), ordered.size - 1)
        hit = ordered[index] == candidate
        result[hit] = probdensity[sort[index[hit]]]
    return result


def overlap_maps(uniq_gw: np.ndarray, density_gw: np.ndarray, uniq_ext: np.ndarray,
                 density_ext: np.ndarray) -> float:
    """I = 4π ∫ p_gw p_ext dΩ, on the GW map's pixels."""
    ra, dec = pixel_positions(uniq_gw)
    ext = _density_at(np.asarray(uniq_ext), np.asarray(density_ext), ra, dec)
    return float(4 * np.pi * np.sum(density_gw * ext * pixel_areas(uniq_gw)))


def overlap_point(uniq_gw: np.ndarray, density_gw: np.ndarray, ra: float, dec: float
                  ) -> float:
    """I for a point-like external position: 4π p_gw(ra, dec)."""
    value = _density_at(np.asarray(uniq_gw), np.asarray(density_gw), np.array([ra]),
                        np.array([dec]))
    return float(4 * np.pi * value[0])


def overlap_circle(uniq_gw: np.ndarray, density_gw: np.ndarray, ra: float, dec: float,
                   radius: float) -> float:
    """I for an external position with a 1σ error radius (radians), modelled as
    a Fisher–von Mises density on the sphere; a point below 0.1°."""
    if radius < math.radians(0.1):
        return overlap_point(uniq_gw, density_gw, ra, dec)
    pra, pdec = pixel_positions(uniq_gw)
    cos_angle = (np.sin(pdec) * math.sin(dec)
                 + np.cos(pdec) * math.cos(dec) * np.cos(pra - ra))
    kappa = 1.0 / radius ** 2
    # normalised on the sphere: κ / (2π (1 − e^(−2κ))) e^(κ (cos θ − 1))
    ext = kappa / (2 * np.pi * -np.expm1(-2 * kappa)) * np.exp(kappa * (cos_angle - 1.0))
    return float(4 * np.pi * np.sum(density_gw * ext * pixel_areas(uniq_gw)))


def joint_alert(joint_far: float | None, gw_group: str, gw_search: str, ext_search: str,
                not_grb: bool) -> bool:
    """Whether a coincidence earns a joint alert: FAR × trials × (trials − 1)
    within the GW significant bar; never for sub-threshold GRBs or NOT_GRB
    triggers; SNEWS (Supernova) has no joint FAR and never uses this test."""
    if joint_far is None or not_grb or ext_search in ("SubGRB", "SubGRBTargeted",
                                                      "Supernova"):
        return False
    bars = thresholds_for(gw_group, gw_search)
    if bars is None:
        return False
    significant = bars[0]
    return joint_far * significant.trials * (significant.trials - 1) <= significant.threshold


def preferred_coincidence(candidates: list[tuple[str, float]],
                          associated: str | None = None) -> str | None:
    """Of (superevent_id, FAR) pairs in an external trigger's window, the one to
    associate: the current association if any (it never switches), else the
    lowest FAR."""
    if associated is not None:
        return associated
    if not candidates:
        return None
    return min(candidates, key=lambda pair: (pair[1], pair[0]))[0]
