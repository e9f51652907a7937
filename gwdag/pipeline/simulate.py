"""Simulated compact-binary detections with known answers.

Sources are drawn isotropically on the sky with isotropic orientation, uniform
in volume, with BNS / NSBH / BBH masses.  Each detector's complex SNR follows the
same signal model the localizer uses (``reference/gw-pipeline.md`` §6),
``z_i = (σ_i/r) e^{iφ} [½(1+cos²ι) F+_i + i cos ι F×_i]``, plus unit Gaussian
noise in each quadrature; the measured arrival time scatters by
σ_t = 1/(2π σ_f |z_i|) and drags the measured phase with it by the mean angular
frequency, as a matched filter's peak does.  A detector reports a trigger above
SNR 4; an event is detected with two triggers and a network SNR of 12 or more.

Units: GPS seconds, radians, Mpc, Hz, solar masses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detectors import DETECTORS, antenna_patterns, geocentric_delays, gmst, unit_vectors
from .noise import SignalMoments, model_psd, signal_moments

__all__ = ["DetectorTrigger", "SimulatedEvent", "false_alarm_rate", "simulate_events"]

SINGLE_THRESHOLD = 4.0
NETWORK_THRESHOLD = 12.0
F_LOW = 15.0              # Hz: where the simulated templates start
PHASE_DRIFT_SIGN = -1.0   # as the localizer's default (gstlal phase convention)
MASS_CLASSES = {          # name: (probability, (m1 range), (m2 range))
    "BNS": (0.5, (1.1, 2.0), (1.1, 2.0)),
    "NSBH": (0.2, (5.0, 20.0), (1.1, 2.0)),
    "BBH": (0.3, (5.0, 50.0), (5.0, 50.0)),
}


@dataclass(frozen=True)
class DetectorTrigger:
    """What one detector's search reports (measured values) and the truth."""

    instrument: str
    time: float            # measured arrival, GPS s
    snr: complex           # measured complex SNR (gstlal convention)
    sigma: float           # Mpc: SNR of an optimal source at 1 Mpc
    true_time: float
    true_snr: complex


@dataclass
class SimulatedEvent:
    """A detected simulated source with its triggers."""

    number: int
    category: str
    mass1: float
    mass2: float
    ra: float
    dec: float
    distance: float
    inclination: float
    polarization: float
    phase: float
    geocent_time: float
    triggers: list[DetectorTrigger] = field(default_factory=list)
    moments: dict[str, SignalMoments] = field(default_factory=dict)

    @property
    def network_snr(self) -> float:
        return float(np.sqrt(sum(abs(t.snr) ** 2 for t in self.triggers)))

    @property
    def far(self) -> float:
        return false_alarm_rate(self.network_snr)


def false_alarm_rate(network_snr: float) -> float:
    """A toy significance model (Hz): 1e-2 Hz at network SNR 8, falling a
    factor 10^1.5 per unit of SNR (1e-8 Hz ≈ 1 per 3 years at SNR 12)."""
    return float(10.0 ** (-2.0 - 1.5 * (network_snr - 8.0)))


def _draw_masses(rng: np.random.Generator) -> tuple[str, float, float]:
    names = list(MASS_CLASSES)
    weights = np.array([MASS_CLASSES[n][0] for n in names])
    name = names[rng.choice(len(names), p=weights / weights.sum())]
    _, first, second = MASS_CLASSES[name]
    m1, m2 = rng.uniform(*first), rng.uniform(*second)
    return name, float(max(m1, m2)), float(min(m1, m2))


def simulate_events(count: int, *, detectors: tuple[str, ...] = ("H1", "L1", "V1"),
                    seed: int | None = None, start_gps: float = 1400000000.0,
                    spacing: float = 1000.0, f_low: float = F_LOW,
                    max_draws: int = 100000) -> list[SimulatedEvent]:
    """``count`` detected events, the k-th at ``start_gps + k * spacing`` plus a
    random offset of up to a tenth of ``spacing``."""
    for name in detectors:
        if name not in DETECTORS:
            raise ValueError(f"unknown detector {name!r} (known: {', '.join(DETECTORS)})")
    if len(detectors) < 2:
        raise ValueError("a detection needs at least two detectors")
    rng = np.random.default_rng(seed)
    frequencies = np.arange(10.0, 4096.0, 0.25)
    psds = {name: model_psd(frequencies, name) for name in detectors}
    events: list[SimulatedEvent] = []
    draws = 0
    while len(events) < count:
        draws += 1
        if draws > max_draws:
            raise RuntimeError(f"only {len(events)} of {count} events detected in "
                               f"{max_draws} draws")
        category, mass1, mass2 = _draw_masses(rng)
        moments = {name: signal_moments(frequencies, psds[name], mass1, mass2, f_low)
                   for name in detectors}
        sigmas = np.array([moments[n].sigma for n in detectors])
        horizon = float(np.sqrt((sigmas ** 2).sum())) / NETWORK_THRESHOLD
        distance = horizon * rng.uniform() ** (1.0 / 3.0)
        ra = rng.uniform(0.0, 2.0 * np.pi)
        dec = float(np.arcsin(rng.uniform(-1.0, 1.0)))
        cos_inclination = rng.uniform(-1.0, 1.0)
        polarization = rng.uniform(0.0, np.pi)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        geocent = start_gps + len(events) * spacing + rng.uniform(0.0, 0.1 * spacing)
        sidereal = gmst(geocent)
        direction = unit_vectors(np.array(ra), np.array(dec), sidereal)
        triggers = []
        for name, sigma in zip(detectors, sigmas, strict=True):
            detector = DETECTORS[name]
            f_plus, f_cross = antenna_patterns(detector, ra, dec, polarization, sidereal)
            response = (0.5 * (1 + cos_inclination ** 2) * f_plus
                        + 1j * cos_inclination * f_cross)
            true_snr = complex(sigma / distance * np.exp(1j * phase) * response)
            noisy = true_snr + complex(rng.normal(), rng.normal())
            if abs(noisy) < SINGLE_THRESHOLD:
                continue
            true_time = geocent + float(geocentric_delays(detector, direction))
            shift = rng.normal(0.0, moments[name].timing_uncertainty(abs(true_snr)))
            measured = noisy * np.exp(1j * PHASE_DRIFT_SIGN * 2 * np.pi
                                      * moments[name].mean_frequency * shift)
            triggers.append(DetectorTrigger(name, true_time + shift, complex(measured),
                                            float(sigma), true_time, true_snr))
        event = SimulatedEvent(len(events), category, mass1, mass2, float(ra), dec,
                               float(distance), float(np.arccos(cos_inclination)),
                               float(polarization), float(phase), float(geocent),
                               triggers, moments)
        if len(triggers) >= 2 and event.network_snr >= NETWORK_THRESHOLD:
            events.append(event)
    return events
