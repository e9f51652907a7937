"""Multi-order FITS sky maps as ligo.skymap writes and reads them.

HDU 1 is a binary table ``UNIQ`` (int64), ``PROBDENSITY`` (sr⁻¹), ``DISTMU``,
``DISTSIGMA`` (Mpc), ``DISTNORM`` (Mpc⁻²) with the header keys of
``reference/gw-pipeline.md`` §6 (``PIXTYPE='HEALPIX'``, ``ORDERING='NUNIQ'``, ...).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from .. import __version__
from ..intake.gpstime import gps_to_utc
from ..pipeline.localize import SkyMap

__all__ = ["SkyMapFile", "read_sky_map", "write_sky_map"]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def write_sky_map(path: str | Path, sky_map: SkyMap, *, object_name: str = "",
                  creator: str = "gwdag") -> Path:
    """Write ``sky_map`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    columns = [
        fits.Column("UNIQ", "K", array=sky_map.uniq.astype(np.int64)),
        fits.Column("PROBDENSITY", "D", unit="sr-1", array=sky_map.probdensity),
        fits.Column("DISTMU", "D", unit="Mpc", array=sky_map.distmu),
        fits.Column("DISTSIGMA", "D", unit="Mpc", array=sky_map.distsigma),
        fits.Column("DISTNORM", "D", unit="Mpc-2", array=sky_map.distnorm),
    ]
    table = fits.BinTableHDU.from_columns(columns)
    observed = gps_to_utc(sky_map.gps_time)
    order = int(np.floor(np.log2(sky_map.uniq.max()) / 2) - 1)
    header = table.header
    for key, value, comment in (
            ("MOC", True, ""),
            ("PIXTYPE", "HEALPIX", "HEALPIX pixelisation"),
            ("ORDERING", "NUNIQ", "Pixel ordering scheme: RING, NESTED, or NUNIQ"),
            ("COORDSYS", "C", "Ecliptic, Galactic or Celestial (equatorial)"),
            ("MOCORDER", order, "MOC resolution (best order)"),
            ("INDXSCHM", "EXPLICIT", "Indexing: IMPLICIT or EXPLICIT"),
            ("OBJECT", object_name or "unknown", "Unique identifier for this event"),
            ("INSTRUME", ",".join(sky_map.instruments),
             "Instruments that triggered this event"),
            ("DATE-OBS", _iso(observed), "UTC date of the observation"),
            ("MJD-OBS", observed.timestamp() / 86400.0 + 40587.0,
             "modified Julian date of the observation"),
            ("DATE", _iso(datetime.now(UTC)), "UTC date of file creation"),
            ("CREATOR", creator, "Program that created this file"),
            ("ORIGIN", "gwdag", "Organization responsible for this FITS file"),
            ("RUNTIME", float(sky_map.runtime), "Runtime in seconds of the CREATOR program"),
            ("DISTMEAN", float(sky_map.distmean), "Posterior mean distance (Mpc)"),
            ("DISTSTD", float(sky_map.diststd),
             "Posterior standard deviation of distance (Mpc)"),
            ("VCSVERS", f"gwdag {__version__}", "Software version")):
        header[key] = (value, comment)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        fits.HDUList([fits.PrimaryHDU(), table]).writeto(temporary, overwrite=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@dataclass
class SkyMapFile:
    """A multi-order sky map read back: columns as arrays, header as a dict."""

    uniq: np.ndarray
    probdensity: np.ndarray
    distmu: np.ndarray | None
    distsigma: np.ndarray | None
    distnorm: np.ndarray | None
    header: dict[str, Any] = field(default_factory=dict)


def _flat_to_multiorder(path: str | Path, hdu: fits.BinTableHDU) -> SkyMapFile:
    """A flat (RING or NESTED, one resolution) map as NUNIQ pixels; its first
    column read as probability per pixel (``PROB``), as GCN's maps carry it."""
    from astropy_healpix import healpy as hp

    values = np.asarray(hdu.data[hdu.data.columns.names[0]], dtype=float).reshape(-1)
    nside = int(hdu.header.get("NSIDE") or round(np.sqrt(values.size / 12)))
    if 12 * nside * nside != values.size:
        raise ValueError(f"{path}: {values.size} pixels is not a full-sky map of "
                         f"NSIDE {nside}")
    ipix = np.arange(values.size)
    if str(hdu.header.get("ORDERING", "RING")).upper() == "RING":
        ipix = hp.ring2nest(nside, ipix)
    order = int(round(np.log2(nside)))
    area = 4 * np.pi / values.size
    total = values.sum()
    if not total > 0:
        raise ValueError(f"{path}: the map holds no probability")
    uniq = 4 * nside * nside + ipix.astype(np.int64)
    sort = np.argsort(uniq)
    header = {key: hdu.header[key] for key in hdu.header
              if key and not key.startswith(("TTYPE", "TFORM", "TUNIT", "NAXIS"))}
    header.setdefault("MOCORDER", order)
    return SkyMapFile(uniq=uniq[sort], probdensity=(values / total / area)[sort],
                      distmu=None, distsigma=None, distnorm=None, header=header)


def read_sky_map(path: str | Path) -> SkyMapFile:
    """Read a FITS sky map: multi-order (NUNIQ, BAYESTAR's and ours) or flat
    HEALPix (RING or NESTED, GCN's), always returned as NUNIQ pixels."""
    try:
        with fits.open(path, memmap=False) as hdus:
            if len(hdus) < 2 or not isinstance(hdus[1], fits.BinTableHDU):
                raise ValueError(f"{path}: not a HEALPix sky map (no binary table)")
            hdu = hdus[1]
            ordering = str(hdu.header.get("ORDERING", "")).upper()
            if ordering in ("RING", "NESTED"):
                return _flat_to_multiorder(path, hdu)
            if ordering != "NUNIQ":
                raise ValueError(f"{path}: ORDERING is {hdu.header.get('ORDERING')!r}, "
                                 "expected NUNIQ, RING or NESTED")
            data = hdu.data
            names = set(data.columns.names)

            def column(name: str) -> np.ndarray | None:
                return np.array(data[name], dtype=float) if name in names else None

            return SkyMapFile(
                uniq=np.array(data["UNIQ"], dtype=np.int64),
                probdensity=np.array(data["PROBDENSITY"], dtype=float),
                distmu=column("DISTMU"), distsigma=column("DISTSIGMA"),
                distnorm=column("DISTNORM"),
                header={key: hdu.header[key] for key in hdu.header
                        if key and not key.startswith(("TTYPE", "TFORM", "TUNIT", "NAXIS"))})
    except OSError as exc:
        raise ValueError(f"{path}: not a readable FITS file ({exc})") from None
