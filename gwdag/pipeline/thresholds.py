"""Alert thresholds: which G-events deserve a significant or a less-significant
preliminary alert (``reference/gw-pipeline.md`` §3).

An event passes a bar when FAR × trials ≤ threshold.  FARs and thresholds in Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DAY", "YEAR", "Bar", "THRESHOLDS", "less_significant_far",
           "passes_less_significant",
           "passes_significant", "thresholds_for"]

DAY = 86400.0
YEAR = 365.25 * DAY


@dataclass(frozen=True)
class Bar:
    """A threshold (Hz) and the trials factor it is applied with."""

    threshold: float
    trials: int

    def passes(self, far: float | None) -> bool:
        return far is not None and far * self.trials <= self.threshold


# (group, search) -> (significant bar, less-significant bar or None)
THRESHOLDS: dict[tuple[str, str], tuple[Bar, Bar | None]] = {
    ("CBC", "AllSky"): (Bar(1 / (30 * DAY), 7), Bar(16 / DAY, 8)),
    ("CBC", "EarlyWarning"): (Bar(1 / (30 * DAY), 4), None),
    ("CBC", "SSM"): (Bar(1 / YEAR, 3), None),
    ("CBC", "MDC"): (Bar(1 / (30 * DAY), 7), None),
    ("Burst", "AllSky"): (Bar(1 / YEAR, 3), Bar(16 / DAY, 8)),
    ("Burst", "BBH"): (Bar(1 / (30 * DAY), 7), Bar(16 / DAY, 8)),
}


def thresholds_for(group: str, search: str) -> tuple[Bar, Bar | None] | None:
    """The bars of a (group, search), matched case-insensitively; None when the
    pair has no alert rule (then nothing is published)."""
    for (known_group, known_search), bars in THRESHOLDS.items():
        if (known_group.lower(), known_search.lower()) == (group.lower(), search.lower()):
            return bars
    return None


def less_significant_far(group: str = "CBC", search: str = "AllSky") -> float | None:
    """The FAR (Hz) at the less-significant bar of a (group, search): its
    threshold divided by its trials; None without such a bar."""
    bars = thresholds_for(group, search)
    if bars is None or bars[1] is None:
        return None
    return bars[1].threshold / bars[1].trials


def passes_significant(group: str, search: str, far: float | None) -> bool:
    bars = thresholds_for(group, search)
    return bars is not None and bars[0].passes(far)


def passes_less_significant(group: str, search: str, far: float | None) -> bool:
    bars = thresholds_for(group, search)
    return bars is not None and bars[1] is not None and bars[1].passes(far)
