"""Noise curves and the inspiral signal's moments in them.

A compact-binary inspiral's strain amplitude falls as f^(-7/6), so its SNR density
is ∝ f^(-7/3)/S(f).  From that density come a detector's sensitivity to a binary
(σ, the SNR of an optimally oriented source at 1 Mpc, in Mpc units) and the mean
and spread of its frequency, which set the timing accuracy
σ_t = 1/(2π σ_f ρ) (``reference/gw-pipeline.md`` §6).  Frequencies in Hz, PSDs in
strain²/Hz, masses in solar masses, distances in Mpc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SignalMoments", "f_isco", "model_psd", "signal_moments"]

_SOLAR_MASS_SECONDS = 4.925490947641267e-6   # G M_sun / c³
_MPC_SECONDS = 1.0292712503e14               # 1 Mpc / c

# Relative noise amplitude of the model curve per detector: Virgo and KAGRA are
# modelled as the LIGO curve scaled to roughly their O4 ranges.
MODEL_PSD_SCALE = {"H1": 1.0, "L1": 1.0, "V1": 4.0, "K1": 25.0}


def model_psd(frequency: np.ndarray, instrument: str = "H1") -> np.ndarray:
    """An analytic Advanced-LIGO-like noise PSD (strain²/Hz), the zero-detuned
    high-power fit of Ajith (2011), scaled per instrument by
    :data:`MODEL_PSD_SCALE`; infinite below 10 Hz."""
    f = np.asarray(frequency, dtype=float)
    x = np.maximum(f, 1e-3) / 215.0
    psd = 1e-49 * (x ** -4.14 - 5.0 * x ** -2
                   + 111.0 * (1.0 - x * x + 0.5 * x ** 4) / (1.0 + 0.5 * x * x))
    psd = psd * MODEL_PSD_SCALE.get(instrument, 1.0)
    return np.where(f >= 10.0, psd, np.inf)


def f_isco(total_mass: float) -> float:
    """Gravitational-wave frequency (Hz) at the innermost stable circular orbit
    of a binary of ``total_mass`` (M_sun)."""
    return 1.0 / (6.0 ** 1.5 * np.pi * total_mass * _SOLAR_MASS_SECONDS)


@dataclass(frozen=True)
class SignalMoments:
    """What a noise curve makes of an inspiral signal.

    ``sigma``: SNR of an optimally oriented source at 1 Mpc (so a source at r Mpc
    has SNR ``sigma / r`` at best); ``mean_frequency`` and ``frequency_spread``
    (Hz): first moment and standard deviation of the SNR density."""

    sigma: float
    mean_frequency: float
    frequency_spread: float

    def timing_uncertainty(self, snr: float | np.ndarray) -> float | np.ndarray:
        """Arrival-time standard deviation (seconds) at SNR ``snr``."""
        return 1.0 / (2.0 * np.pi * self.frequency_spread * np.asarray(snr))


def signal_moments(frequency: np.ndarray, psd: np.ndarray, mass1: float,
                   mass2: float, f_low: float = 20.0) -> SignalMoments:
    """Moments of the SNR density of a (``mass1``, ``mass2``) inspiral over the
    PSD samples ``psd`` at ``frequency``, from ``f_low`` to f_ISCO."""
    f = np.asarray(frequency, dtype=float)
    s = np.asarray(psd, dtype=float)
    total = mass1 + mass2
    chirp_mass = (mass1 * mass2) ** 0.6 / total ** 0.2
    band = (f >= f_low) & (f <= f_isco(total)) & np.isfinite(s) & (s > 0)
    if np.count_nonzero(band) < 2:
        raise ValueError(f"the noise curve has no samples between {f_low:g} Hz and "
                         f"f_ISCO = {f_isco(total):.0f} Hz")
    f, s = f[band], s[band]
    df = np.gradient(f)
    density = f ** (-7.0 / 3.0) / s * df
    # |h(f)|² of an optimally oriented source at 1 Mpc (strain²/Hz² units).
    amplitude2 = (5.0 / 24.0) * np.pi ** (-4.0 / 3.0) \
        * (chirp_mass * _SOLAR_MASS_SECONDS) ** (5.0 / 3.0) / _MPC_SECONDS ** 2
    sigma = float(np.sqrt(4.0 * amplitude2 * density.sum()))
    weights = density / density.sum()
    mean = float((weights * f).sum())
    spread = float(np.sqrt(max((weights * f * f).sum() - mean * mean, 0.0)))
    return SignalMoments(sigma, mean, spread)
