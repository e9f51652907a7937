"""Statistics of multi-order (NUNIQ) sky maps.

A map is its pixels' NUNIQ indices and probability densities (sr⁻¹); pixel
``uniq = 4·nside² + ipix`` (NESTED) has order ⌊log2(uniq)/2⌋ − 1 and area
4π/(12·4^order) sr.  Areas are reported in deg², angles in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SkyMapStatistics", "credible_area", "pixel_orders", "pixel_positions",
           "searched", "sky_map_statistics"]

SQUARE_DEGREES_PER_STERADIAN = (180.0 / np.pi) ** 2


def pixel_orders(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HEALPix order and NESTED index of each NUNIQ pixel."""
    uniq = np.asarray(uniq, dtype=np.int64)
    order = (np.floor(np.log2(uniq) / 2) - 1).astype(np.int64)
    return order, uniq - 4 * (np.int64(4) ** order)


def pixel_areas(uniq: np.ndarray) -> np.ndarray:
    """Area of each pixel (sr)."""
    order, _ = pixel_orders(uniq)
    return 4 * np.pi / (12 * 4.0 ** order)


def pixel_positions(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right ascension and declination (radians) of each pixel's centre."""
    from astropy_healpix import healpy as hp  # 0.3 s to import: only when needed

    order, ipix = pixel_orders(uniq)
    ra = np.empty(order.size)
    dec = np.empty(order.size)
    for level in np.unique(order):
        chosen = order == level
        theta, phi = hp.pix2ang(2 ** int(level), ipix[chosen], nest=True)
        ra[chosen], dec[chosen] = phi, 0.5 * np.pi - theta
    return ra, dec


def _ranked(uniq: np.ndarray, probdensity: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel indices by falling density, their cumulative area (sr) and
    cumulative probability."""
    area = pixel_areas(uniq)
    rank = np.argsort(-np.asarray(probdensity), kind="stable")
    return rank, np.cumsum(area[rank]), np.cumsum((probdensity * area)[rank])


def credible_area(uniq: np.ndarray, probdensity: np.ndarray, level: float) -> float:
    """Area (deg²) of the smallest region holding probability ``level``."""
    _, area, probability = _ranked(uniq, probdensity)
    index = min(int(np.searchsorted(probability, level * probability[-1])), area.size - 1)
    return float(area[index] * SQUARE_DEGREES_PER_STERADIAN)


def _pixel_of(uniq: np.ndarray, ra: float, dec: float) -> int:
    from astropy_healpix import healpy as hp

    order, _ = pixel_orders(uniq)
    for level in np.unique(order):
        candidate = 4 * 4 ** int(level) + int(hp.ang2pix(
            2 ** int(level), 0.5 * np.pi - dec, ra, nest=True))
        found = np.nonzero(uniq == candidate)[0]
        if found.size:
            return int(found[0])
    raise ValueError("the sky map does not cover the position (not a full-sky map)")


def searched(uniq: np.ndarray, probdensity: np.ndarray, ra: float, dec: float
             ) -> tuple[float, float]:
    """Searched area (deg²) and searched probability for the position
    (``ra``, ``dec`` in radians): the area and probability of the pixels at least
    as dense as the one holding the position."""
    rank, area, probability = _ranked(uniq, probdensity)
    where = int(np.nonzero(rank == _pixel_of(uniq, ra, dec))[0][0])
    return (float(area[where] * SQUARE_DEGREES_PER_STERADIAN),
            float(probability[where] / probability[-1]))


@dataclass(frozen=True)
class SkyMapStatistics:
    """Summary of a sky map (areas deg², angles deg, distances Mpc)."""

    area_50: float
    area_90: float
    max_ra: float
    max_dec: float
    distmean: float | None
    diststd: float | None
    searched_area: float | None = None
    searched_prob: float | None = None


def sky_map_statistics(uniq: np.ndarray, probdensity: np.ndarray, *,
                       distmean: float | None = None, diststd: float | None = None,
                       ra: float | None = None, dec: float | None = None
                       ) -> SkyMapStatistics:
    """Credible areas, the most probable position and, when a position is given
    (radians), its searched area and probability."""
    uniq = np.asarray(uniq, dtype=np.int64)
    densest = int(np.argmax(probdensity))
    max_ra, max_dec = pixel_positions(uniq[densest:densest + 1])
    found: tuple[float | None, float | None] = (None, None)
    if ra is not None and dec is not None:
        found = searched(uniq, probdensity, ra, dec)
    return SkyMapStatistics(
        area_50=credible_area(uniq, probdensity, 0.5),
        area_90=credible_area(uniq, probdensity, 0.9),
        max_ra=float(np.degrees(max_ra[0])), max_dec=float(np.degrees(max_dec[0])),
        distmean=distmean, diststd=diststd,
        searched_area=found[0], searched_prob=found[1])
