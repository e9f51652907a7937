"""The distance integrals of the localization likelihood and the distance ansatz.

With u = 1/r and a prior r² dr, the phase-marginal likelihood
exp(-P u²/2) I0(|Z| u) integrates to P^((3+k)/2) ∫ v^(-4-k) e^(-v²/2) I0(ρ v) dv
(moment k of r; ρ = |Z|/√P, v from √P/r_max).  The integral depends on two
numbers only, so it is tabulated once: G_k(ρ, log v_min) = log(integral) - ρ²/2.
Per pixel, the posterior mean and spread of distance become ligo.skymap's ansatz
p(r|n) ∝ r² DISTNORM N(r; DISTMU, DISTSIGMA).  Distances in Mpc.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["distance_ansatz", "log_distance_integrals", "log_i0"]

_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813)
_I0_LARGE = (0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281,
             -0.02057706, 0.02635537, -0.01647633, 0.00392377)


def log_i0(x: np.ndarray) -> np.ndarray:
    """log I0(x) for x ≥ 0 without overflow: the polynomial approximations of
    Abramowitz & Stegun 9.8.1–9.8.2 (relative error below 2e-7)."""
    x = np.asarray(x, dtype=float)
    small = x <= 3.75
    t2 = (np.minimum(x, 3.75) / 3.75) ** 2
    inner = np.polynomial.polynomial.polyval(t2, _I0_SMALL)
    u = 3.75 / np.maximum(x, 3.75)
    outer = np.polynomial.polynomial.polyval(u, _I0_LARGE)
    big = np.maximum(x, 3.75)
    return np.where(small, np.log(inner), big - 0.5 * np.log(big) + np.log(outer))


_RHO_STEP = 0.2
_RHO_MAX = 100.0
_LOGV = np.linspace(np.log(1e-4), np.log(60.0), 181)


@lru_cache(maxsize=1)
def _distance_tables() -> np.ndarray:
    """G_k for k = 0, 1, 2, shape (3, ρ samples, log v_min samples)."""
    rho = np.arange(0.0, _RHO_MAX + 2 * _RHO_STEP, _RHO_STEP)[:, None]
    log_v = np.linspace(_LOGV[0], np.log(_RHO_MAX + 12.0), 2000)
    v = np.exp(log_v)[None, :]
    dlog = log_v[1] - log_v[0]
    # integrand in d(log v) for k = 0: v^-3 e^(-v²/2) I0(ρ v), scaled by e^(-ρ²/2)
    base = -3.0 * log_v[None, :] - 0.5 * v * v + log_i0(rho * v) - 0.5 * rho * rho
    tables = np.empty((3, rho.size, _LOGV.size))
    for k in range(3):
        log_f = base - k * log_v[None, :]
        top = log_f.max(axis=1, keepdims=True)
        tail = np.cumsum(np.exp(log_f - top)[:, ::-1], axis=1)[:, ::-1] * dlog
        log_tail = np.log(np.maximum(tail, 1e-300)) + top
        for i in range(rho.size):
            tables[k, i] = np.interp(_LOGV, log_v, log_tail[i])
    return tables


def log_distance_integrals(rho: np.ndarray, log_vmin: np.ndarray, moments: int = 1
                            ) -> list[np.ndarray]:
    """log ∫ v^(-4-k) e^(-v²/2) I0(ρ v) dv from v_min for k < ``moments``, by
    bilinear interpolation in the tables (indices computed once for all k)."""
    tables = _distance_tables()
    # Beyond the table the integral goes as e^(ρ²/2) ρ^-(5+k).
    quadratic = 0.5 * rho * rho
    beyond = np.log(np.maximum(rho, _RHO_MAX) / _RHO_MAX)
    rho = np.minimum(rho, _RHO_MAX)
    fi = rho * (1.0 / _RHO_STEP)
    i = fi.astype(np.intp)
    wi = fi - i
    fj = (log_vmin - _LOGV[0]) * (1.0 / (_LOGV[1] - _LOGV[0]))
    np.clip(fj, 0.0, _LOGV.size - 1.000001, out=fj)
    j = fj.astype(np.intp)
    wj = fj - j
    flat = i * _LOGV.size + j
    w00 = (1 - wi) * (1 - wj)
    w01 = (1 - wi) * wj
    w10 = wi * (1 - wj)
    w11 = wi * wj
    step = _LOGV.size
    results = []
    for k in range(moments):
        table = tables[k].reshape(-1)
        results.append(w00 * table[flat] + w01 * table[flat + 1]
                       + w10 * table[flat + step] + w11 * table[flat + step + 1]
                       + quadratic - (5 + k) * beyond)
    return results


@lru_cache(maxsize=1)
def _ansatz_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For x = μ/σ on a grid: mean/σ, std/σ and ∫r²N(r;μ,σ)dr/σ² of the ansatz
    p(r) ∝ r² N(r; μ, σ), r > 0, from the closed-form truncated-normal moments
    M_n = ∫₀^∞ rⁿ φ(r − x) dr."""
    x = np.linspace(-4.0, 80.0, 8401)
    cdf = 0.5 * np.array([math.erfc(-value / math.sqrt(2.0)) for value in x])
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    m2 = (1 + x * x) * cdf + x * pdf
    m3 = (x ** 3 + 3 * x) * cdf + (x * x + 2) * pdf
    m4 = (x ** 4 + 6 * x * x + 3) * cdf + (x ** 3 + 5 * x) * pdf
    mean = m3 / m2
    return x, mean, np.sqrt(m4 / m2 - mean ** 2), m2


def distance_ansatz(mean: np.ndarray, std: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DISTMU, DISTSIGMA (Mpc) and DISTNORM (Mpc⁻²) whose ansatz
    r² DISTNORM N(r; DISTMU, DISTSIGMA) has the given mean and std (Mpc)."""
    x, m1, s1, m0 = _ansatz_table()
    ratio = s1 / m1                       # falls as x grows
    wanted = np.clip(std / np.maximum(mean, 1e-300), ratio[-1], ratio[0])
    xs = np.interp(wanted, ratio[::-1], x[::-1])
    sigma = mean / np.interp(xs, x, m1)
    mu = xs * sigma
    norm = 1.0 / (np.interp(xs, x, m0) * sigma ** 2)
    return mu, sigma, norm
