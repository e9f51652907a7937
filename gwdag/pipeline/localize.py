"""Rapid sky localization of a compact-binary candidate from its triggers.

The likelihood of a sky position uses everything a matched-filter trigger says
about the signal: arrival times (Gaussian, σ_t = 1/(2π σ_f ρ) per detector, the
geocentric arrival time marginalised analytically), complex SNRs (amplitude and
phase, the phase moved to the best-fit arrival time by the mean angular
frequency, which decorrelates phase from time), and each detector's sensitivity
σ_i through the antenna patterns F+, F×.  The coalescence phase is marginalised
analytically (a Bessel I0), distance under a volume prior r² up to the SNR-4
horizon of the most sensitive detector through a precomputed table, polarisation
and inclination on a small quadrature grid.  The product is evaluated on an
adaptive HEALPix grid as BAYESTAR does (Singer & Price 2016): nside 16, then seven
times the most probable quarter of the pixels is split in four, down to nside 2048.

Units: times GPS seconds, angles radians, distances Mpc, densities per steradian.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from .detectors import DETECTORS, antenna_patterns, geocentric_delays, gmst, unit_vectors
from .distance import distance_ansatz, log_distance_integrals
from .skymap import pixel_areas, pixel_orders, pixel_positions

__all__ = ["LocalizationError", "SkyMap", "Trigger", "localize", "SNR_RESCALE",
           "TIMING_SCALE"]

BASE_ORDER = 4          # nside 16: 3072 pixels
REFINEMENTS = 7         # deepest order 11: nside 2048
SNR_RESCALE = 0.83      # BAYESTAR's calibration of measured SNRs
#: Arrival-time errors of search-pipeline triggers in units of the Cramér–Rao
#: bound 1/(2π σ_f ρ): the robust standard deviation of the inter-detector
#: time-difference residuals of the 250 first2years gstlal injections
#: (tests/test_localize.py measures it; 1.85 and 1.56 on the two halves).
TIMING_SCALE = 1.7
HORIZON_SNR = 4.0       # distance prior ends where the best detector sees SNR 4
OUTLIER_PRIOR = 0.05    # chance that the weakest of 3+ triggers is a noise peak


class LocalizationError(ValueError):
    """The triggers cannot be localized (unknown detector, bad values)."""


@dataclass(frozen=True)
class Trigger:
    """One detector's trigger.

    ``time``: arrival (GPS s); ``snr``: complex matched-filter SNR with the
    gstlal / MBTA phase convention; ``sigma``: SNR of an optimally oriented source
    at 1 Mpc (``eff_distance × snr``, Mpc); ``mean_frequency`` and
    ``frequency_spread``: the signal's SNR-weighted frequency moments (Hz)."""

    instrument: str
    time: float
    snr: complex
    sigma: float
    mean_frequency: float
    frequency_spread: float


@dataclass
class SkyMap:
    """A multi-order sky map: per pixel its NUNIQ index, probability density
    (sr⁻¹) and distance ansatz (DISTMU, DISTSIGMA in Mpc, DISTNORM in Mpc⁻²)."""

    uniq: np.ndarray
    probdensity: np.ndarray
    distmu: np.ndarray
    distsigma: np.ndarray
    distnorm: np.ndarray
    instruments: list[str]
    gps_time: float
    distmean: float
    diststd: float
    runtime: float
    meta: dict[str, float] = field(default_factory=dict)

    @property
    def order(self) -> np.ndarray:
        return pixel_orders(self.uniq)[0]

    @property
    def pixel_area(self) -> np.ndarray:
        """Area of each pixel in steradians."""
        return pixel_areas(self.uniq)

    @property
    def probability(self) -> np.ndarray:
        return self.probdensity * self.pixel_area


# --- the likelihood on a set of pixels -------------------------------------------

@dataclass(frozen=True)
class _Network:
    """Triggers as arrays (index i over detectors), prepared once per event."""

    detectors: list
    times: np.ndarray          # s, relative to t_ref
    snr: np.ndarray            # complex, rescaled
    sigma: np.ndarray          # Mpc, rescaled
    weight: np.ndarray         # 1/σ_t² (s⁻²)
    omega: np.ndarray          # 2π × mean frequency (rad/s)
    gmst: float
    log_rmax: float
    cos2psi: np.ndarray
    sin2psi: np.ndarray
    cosi: np.ndarray
    log_grid_weight: np.ndarray
    log_constant: float = 0.0   # terms of the evidence that do not depend on the sky

    def without(self, index: int, log_prior: float) -> _Network:
        """The network without detector ``index``, its trigger explained as a
        noise peak (prior ``log_prior``)."""
        keep = np.arange(self.times.size) != index
        reduced = replace(self, detectors=[d for i, d in enumerate(self.detectors)
                                           if i != index],
                          times=self.times[keep], snr=self.snr[keep],
                          sigma=self.sigma[keep], weight=self.weight[keep],
                          omega=self.omega[keep])
        # noise density of the dropped trigger: |x|² Gaussian per quadrature,
        # arrival uniform, ~2σ_f independent trials per second of search window
        noise = (-0.5 * abs(self.snr[index]) ** 2 - np.log(2 * np.pi)
                 + np.log(2 * self.omega[index] / (2 * np.pi)))
        return replace(reduced, log_constant=_evidence_constant(reduced) + noise + log_prior)


def _evidence_constant(network: _Network) -> float:
    """log of the likelihood factors shared by all sky positions: the Gaussian
    normalisation of each complex SNR and of the arrival times after
    marginalising the geocentric time."""
    count = network.times.size
    return float(-0.5 * np.sum(np.abs(network.snr) ** 2) - count * np.log(2 * np.pi)
                 - 0.5 * (count - 1) * np.log(2 * np.pi) + 0.5 * np.sum(np.log(network.weight))
                 - 0.5 * np.log(np.sum(network.weight)))


def _prepare(triggers: list[Trigger], psi_points: int, cosi_points: int,
             snr_rescale: float, timing_scale: float) -> tuple[_Network, float]:
    for trigger in triggers:
        if trigger.instrument not in DETECTORS:
            raise LocalizationError(f"unknown detector {trigger.instrument!r} (known: "
                                    f"{', '.join(DETECTORS)})")
        values = (trigger.time, abs(trigger.snr), trigger.sigma, trigger.frequency_spread)
        if not all(math.isfinite(v) for v in values) or trigger.sigma <= 0 \
                or trigger.frequency_spread <= 0 or abs(trigger.snr) <= 0:
            raise LocalizationError(f"{trigger.instrument}: SNR, sigma and frequency "
                                    "spread must be finite and positive")
    if len({t.instrument for t in triggers}) != len(triggers):
        raise LocalizationError("two triggers from one detector")
    snr = np.array([t.snr for t in triggers], dtype=complex)
    sigma = np.array([t.sigma for t in triggers])
    spread = np.array([t.frequency_spread for t in triggers])
    timing = timing_scale / (2 * np.pi * spread * np.abs(snr))   # s
    weight = 1.0 / timing ** 2
    times = np.array([t.time for t in triggers])
    t_ref = float(np.sum(weight * times) / np.sum(weight))
    psi = (np.arange(psi_points) + 0.5) * (np.pi / 2) / psi_points
    nodes, weights = np.polynomial.legendre.leggauss(cosi_points)
    network = _Network(
        detectors=[DETECTORS[t.instrument] for t in triggers],
        times=times - t_ref, snr=snr * snr_rescale, sigma=sigma * snr_rescale,
        weight=weight, omega=2 * np.pi * np.array([t.mean_frequency for t in triggers]),
        gmst=gmst(t_ref), log_rmax=float(np.log(sigma.max() / HORIZON_SNR)),
        cos2psi=np.cos(2 * psi)[:, None], sin2psi=np.sin(2 * psi)[:, None],
        cosi=nodes[None, :],
        log_grid_weight=np.log(weights / weights.sum() / psi_points)[None, :])
    return replace(network, log_constant=_evidence_constant(network)), t_ref


def _models(network: _Network, outlier_prior: float) -> list[_Network]:
    """The hypotheses the map averages over: every trigger is the signal, or
    (with three or more detectors) the weakest one is a noise peak."""
    if network.times.size < 3 or outlier_prior <= 0:
        return [network]
    weakest = int(np.argmin(np.abs(network.snr)))
    everything = replace(network, log_constant=network.log_constant
                         + float(np.log1p(-outlier_prior)))
    return [everything, network.without(weakest, float(np.log(outlier_prior)))]


def _grid_terms(network: _Network, ra: np.ndarray, dec: np.ndarray,
                phase_sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: the timing log-likelihood, and for every (ψ, cos ι) grid point
    ρ = |Z|/√P and log √P (the network's response)."""
    directions = unit_vectors(ra, dec, network.gmst)
    count = len(network.detectors)
    f_plus = np.empty((ra.size, count))
    f_cross = np.empty((ra.size, count))
    delays = np.empty((ra.size, count))
    for i, detector in enumerate(network.detectors):
        f_plus[:, i], f_cross[:, i] = antenna_patterns(detector, ra, dec, 0.0, network.gmst)
        delays[:, i] = geocentric_delays(detector, directions)
    arrival = network.times[None, :] - delays            # geocentric arrival per ifo
    mean = (arrival * network.weight).sum(axis=1, keepdims=True) / network.weight.sum()
    residual = arrival - mean
    log_timing = -0.5 * (network.weight * residual ** 2).sum(axis=1)
    # phase at the model arrival time rather than at the measured peak
    snr = network.snr[None, :] * np.exp(-1j * phase_sign * network.omega * residual)
    weighted = np.conj(snr) * network.sigma
    za = (weighted * f_plus).sum(axis=1)[:, None, None]
    zb = (weighted * f_cross).sum(axis=1)[:, None, None]
    s2 = network.sigma ** 2
    saa = (s2 * f_plus ** 2).sum(axis=1)[:, None, None]
    sab = (s2 * f_plus * f_cross).sum(axis=1)[:, None, None]
    sbb = (s2 * f_cross ** 2).sum(axis=1)[:, None, None]
    c, s = network.cos2psi, network.sin2psi
    cosi = network.cosi
    plus_factor = 0.5 * (1 + cosi ** 2)
    z = plus_factor * (c * za + s * zb) + 1j * cosi * (c * zb - s * za)
    power = (plus_factor ** 2 * (c * c * saa + 2 * c * s * sab + s * s * sbb)
             + cosi ** 2 * (s * s * saa - 2 * c * s * sab + c * c * sbb))
    root = np.sqrt(np.maximum(power, 1e-300))
    return log_timing, np.abs(z) / root, np.log(root)


def _log_posterior(network: _Network, ra: np.ndarray, dec: np.ndarray,
                   phase_sign: float) -> np.ndarray:
    log_timing, rho, log_root = _grid_terms(network, ra, dec, phase_sign)
    (log_integral,) = log_distance_integrals(rho, log_root - network.log_rmax)
    log_distance = log_integral + 3.0 * log_root + network.log_grid_weight
    top = log_distance.max(axis=(1, 2))
    summed = np.log(np.exp(log_distance - top[:, None, None]).sum(axis=(1, 2))) + top
    return log_timing + summed + network.log_constant


def _log_mixture(models: list[_Network], ra: np.ndarray, dec: np.ndarray,
                 phase_sign: float) -> np.ndarray:
    """log Σ_m posterior_m per pixel."""
    logs = np.array([_log_posterior(m, ra, dec, phase_sign) for m in models])
    return np.logaddexp.reduce(logs, axis=0)


def _distance_moments(models: list[_Network], ra: np.ndarray, dec: np.ndarray,
                      phase_sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of distance (Mpc) per pixel,
    averaged over the hypotheses with their posterior weights."""
    weights, means, seconds = [], [], []
    for network in models:
        log_timing, rho, log_root = _grid_terms(network, ra, dec, phase_sign)
        integrals = log_distance_integrals(rho, log_root - network.log_rmax, 3)
        logs = [value + (3.0 + k) * log_root + network.log_grid_weight
                for k, value in enumerate(integrals)]
        top = logs[0].max(axis=(1, 2), keepdims=True)
        sums = [np.exp(v - top).sum(axis=(1, 2)) for v in logs]
        weights.append(log_timing + np.log(sums[0]) + top[:, 0, 0] + network.log_constant)
        means.append(sums[1] / sums[0])
        seconds.append(sums[2] / sums[0])
    share = np.exp(np.array(weights) - np.max(weights, axis=0))
    share /= share.sum(axis=0)
    mean = (share * np.array(means)).sum(axis=0)
    second = (share * np.array(seconds)).sum(axis=0)
    return mean, np.sqrt(np.maximum(second - mean ** 2, 0.0))


def _in_chunks(function, threads: int, *arrays: np.ndarray) -> np.ndarray | tuple:
    size = arrays[0].size
    if threads <= 1 or size < 512:
        return function(*arrays)
    bounds = np.linspace(0, size, threads * 2 + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda s: function(*(a[s] for a in arrays)), slices))
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))
    return np.concatenate(parts)


# --- the adaptive grid -------------------------------------------------------------

def localize(triggers: list[Trigger], *, threads: int = 1, psi_points: int = 4,
             cosi_points: int = 8, snr_rescale: float = SNR_RESCALE,
             timing_scale: float = TIMING_SCALE, phase_sign: float = -1.0,
             refinements: int = REFINEMENTS, outlier_prior: float = OUTLIER_PRIOR
             ) -> SkyMap:
    """The sky map of a candidate seen as ``triggers`` (two or more detectors
    give a ring or better; one detector gives its antenna pattern).

    ``phase_sign`` is the direction in which a trigger's phase drifts with time
    for the gstlal / MBTA phase convention of :class:`Trigger` (-1; measured on
    the first2years injections, where +1 puts only 40% of them in their 90%
    regions); ``psi_points`` × ``cosi_points`` is the polarisation × inclination
    quadrature (4 × 8 moves searched areas by under 1% against 16 × 32).

    ``snr_rescale`` multiplies measured SNRs and horizons (BAYESTAR's 0.83);
    ``timing_scale`` is each trigger's arrival-time uncertainty in units of
    1/(2π σ_f ρ) — 1 for triggers whose times scatter as the Gaussian model says
    (the simulator's), :data:`TIMING_SCALE` for a search pipeline's.

    With three or more triggers the map averages two hypotheses, weighted by
    their evidence: all triggers are the signal (prior 1 − ``outlier_prior``),
    or the weakest trigger is a noise peak (its SNR Gaussian noise, its time
    uniform), which keeps one displaced weak trigger from pulling the map off
    the source."""
    if not triggers:
        raise LocalizationError("no triggers to localize")
    started = time.perf_counter()
    network, t_ref = _prepare(triggers, psi_points, cosi_points, snr_rescale, timing_scale)
    models = _models(network, outlier_prior)

    def evaluate(order: np.ndarray, ipix: np.ndarray) -> np.ndarray:
        ra, dec = pixel_positions(4 * 4 ** order.astype(np.int64) + ipix)
        return _in_chunks(lambda a, d: _log_mixture(models, a, d, phase_sign),
                          threads, ra, dec)

    order = np.full(12 * 4 ** BASE_ORDER, BASE_ORDER)
    ipix = np.arange(order.size)
    log_post = evaluate(order, ipix)
    split_count = order.size // 4
    for _ in range(refinements):
        log_prob = log_post + np.log(4 * np.pi / (12 * 4.0 ** order))
        top = np.argpartition(-log_prob, split_count)[:split_count]
        keep = np.ones(order.size, bool)
        keep[top] = False
        child_order = np.repeat(order[top] + 1, 4)
        child_ipix = (ipix[top][:, None] * 4 + np.arange(4)).reshape(-1)
        child_post = evaluate(child_order, child_ipix)
        order = np.concatenate([order[keep], child_order])
        ipix = np.concatenate([ipix[keep], child_ipix])
        log_post = np.concatenate([log_post[keep], child_post])

    area = 4 * np.pi / (12 * 4.0 ** order)
    density = np.exp(log_post - log_post.max())
    density /= (density * area).sum()
    uniq = 4 * (4 ** order.astype(np.int64)) + ipix
    sort = np.argsort(uniq)
    uniq, density = uniq[sort], density[sort]

    ra, dec = pixel_positions(uniq)
    mean, std = _in_chunks(lambda a, d: _distance_moments(models, a, d, phase_sign),
                           threads, ra, dec)
    # the σ_i were rescaled with the SNRs, so distances need no correction
    probability = density * area[sort]
    distmean = float((probability * mean).sum())
    diststd = float(np.sqrt(max((probability * (std ** 2 + mean ** 2)).sum()
                                - distmean ** 2, 0.0)))
    mu, sigma, norm = distance_ansatz(mean, std)
    return SkyMap(uniq=uniq, probdensity=density, distmu=mu, distsigma=sigma,
                  distnorm=norm, instruments=sorted(t.instrument for t in triggers),
                  gps_time=t_ref, distmean=distmean, diststd=diststd,
                  runtime=time.perf_counter() - started)
