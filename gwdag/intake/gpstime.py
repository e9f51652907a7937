"""UTC ↔ GPS time with the leap seconds since the GPS epoch.

GPS time started at 1980-01-06T00:00:00 UTC and counts no leap seconds, so it runs
ahead of UTC by the leap seconds inserted since (18 s from 2017-01-01).  The table
is small and changes at most twice a year with six months' notice (IERS Bulletin
C); a hand-kept table converts in ~1 µs where ``astropy.time`` takes ~100 µs per
alert, and the tests check it against astropy.
"""

from __future__ import annotations

import bisect
import calendar
import re
from datetime import UTC, datetime

__all__ = ["utc_to_gps", "iso_to_gps", "gps_to_utc", "GPS_EPOCH_UNIX", "leap_seconds_at"]

#: 1980-01-06T00:00:00 UTC as a Unix time (seconds).
GPS_EPOCH_UNIX = 315964800

#: UTC dates (first instant after the inserted second) of every leap second since
#: the GPS epoch (IERS Bulletin C); none is scheduled through 2026.
_LEAP_DATES = [
    (1981, 7, 1), (1982, 7, 1), (1983, 7, 1), (1985, 7, 1), (1988, 1, 1), (1990, 1, 1),
    (1991, 1, 1), (1992, 7, 1), (1993, 7, 1), (1994, 7, 1), (1996, 1, 1), (1997, 7, 1),
    (1999, 1, 1), (2006, 1, 1), (2009, 1, 1), (2012, 7, 1), (2015, 7, 1), (2017, 1, 1),
]
_LEAP_UNIX = [calendar.timegm((y, m, d, 0, 0, 0)) for y, m, d in _LEAP_DATES]

_ISO = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|UTC)?\s*\Z")


def leap_seconds_at(unix_utc: float) -> int:
    """Leap seconds inserted between the GPS epoch and the Unix time ``unix_utc``."""
    return bisect.bisect_right(_LEAP_UNIX, unix_utc)


def utc_to_gps(moment: datetime) -> float:
    """GPS seconds of an aware (or naive = UTC) datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    unix = moment.timestamp()
    return unix - GPS_EPOCH_UNIX + leap_seconds_at(unix)


def iso_to_gps(text: str) -> float:
    """GPS seconds of an ISO-8601 time (``2017-08-17T12:41:04.4457Z``; no zone = UTC).

    Raises ``ValueError`` with the offending text when it is not such a time.
    """
    match = _ISO.match(text)
    if not match:
        raise ValueError(f"not an ISO-8601 time: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = float(match.group(7)) if match.group(7) else 0.0
    zone = match.group(8)
    offset = 0
    if zone and zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60
            and second <= 60):
        raise ValueError(f"not a valid time: {text[:40]!r}")
    # A leap second (:60) counts as the first instant of the next minute.
    unix = calendar.timegm((year, month, day, hour, minute, 0)) + second - offset
    return unix - GPS_EPOCH_UNIX + leap_seconds_at(unix - (second == 60)) + fraction


def gps_to_utc(gps: float) -> datetime:
    """The UTC datetime of GPS seconds ``gps``."""
    unix = gps + GPS_EPOCH_UNIX
    leaps = 0
    for _ in range(2):  # converge: the leap count depends on the UTC time itself
        leaps = leap_seconds_at(unix - leaps)
    return datetime.fromtimestamp(unix - leaps, tz=UTC)
