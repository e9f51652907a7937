"""LIGO-LW XML pipeline uploads: ``coinc.xml`` (with or without PSDs and SNR time
series) and ``psd.xml[.gz]``.

Table streams are one comma-separated token list (newlines are cosmetic), strings
double-quoted with backslash escapes; column names may carry a ``table:`` prefix.
Only what intake needs is read: the first ``coinc_inspiral`` row (end time, SNR,
combined FAR, ifos), the ``process`` program (the pipeline), the detectors of the
``sngl_inspiral`` rows, and which PSDs / SNR series the file carries.  The full
read for localization lives with the localization step.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..alert import Alert, AlertRejected, make_key
from ..ligolw import element_name as _name
from ..ligolw import table_rows

__all__ = ["parse_ligolw"]


def _float(row: dict[str, str], key: str, table: str) -> float | None:
    text = row.get(key, "")
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise AlertRejected(f"LIGO-LW {table}.{key}: expected a number, got "
                            f"{text[:30]!r}") from None


def parse_ligolw(root: etree._Element, raw: bytes, received_at: float,
                 source: str = "") -> Alert:
    """The :class:`Alert` of a parsed LIGO-LW document (coinc or PSD file)."""
    tables = {_name(t): t for t in root.iter("Table")}
    series = [_name(s) for s in root.iter("LIGO_LW") if s.get("Name")]
    psd_count = series.count("REAL8FrequencySeries")
    snr_series = series.count("COMPLEX8TimeSeries")
    psd_instruments = []
    for element in root.iter("LIGO_LW"):
        if element.get("Name") == "REAL8FrequencySeries":
            for param in element.iter("Param"):
                if _name(param) == "instrument" and param.text:
                    psd_instruments.append(param.text.strip())
    fields: dict[str, Any] = {"psd_count": psd_count, "snr_series": snr_series}
    if "coinc_inspiral" not in tables:
        if not psd_count:
            raise AlertRejected("LIGO-LW file has neither a coinc_inspiral table nor "
                                "PSDs (REAL8FrequencySeries)", "coinc_xml")
        fields["instruments"] = sorted(psd_instruments)
        return Alert(kind="psd_xml",
                     key=make_key("psd_xml", "psd-" + "".join(sorted(psd_instruments)), raw),
                     trigger_gps=None, received_at=received_at, role="observation",
                     fields=fields, raw=raw, source=source)
    coinc_table = tables["coinc_inspiral"]
    coincs = table_rows(coinc_table)
    if not coincs:
        raise AlertRejected("LIGO-LW coinc_inspiral table is empty", "coinc_xml")
    coinc = coincs[0]
    seconds = _float(coinc, "end_time", "coinc_inspiral")
    if seconds is None:
        raise AlertRejected("LIGO-LW coinc_inspiral row has no end_time", "coinc_xml")
    nanoseconds = _float(coinc, "end_time_ns", "coinc_inspiral") or 0.0
    trigger_gps = seconds + nanoseconds * 1e-9
    programs = [row.get("program", "").strip('"') for row in
                table_rows(tables["process"], 5)] if "process" in tables else []
    singles = table_rows(tables["sngl_inspiral"]) if "sngl_inspiral" in tables else []
    fields.update({
        "pipeline": programs[0] if programs else None,
        "snr": _float(coinc, "snr", "coinc_inspiral"),
        "far": _float(coinc, "combined_far", "coinc_inspiral"),
        "mchirp": _float(coinc, "mchirp", "coinc_inspiral"),
        "instruments": sorted({r.get("ifo", "").strip('"') for r in singles} - {""}) or
        [i for i in coinc.get("ifos", "").strip('"').split(",") if i],
        "coinc_count": len(coincs),
    })
    fields = {k: v for k, v in fields.items() if v is not None}
    identity = f"{fields.get('pipeline', 'coinc')}-{seconds:.0f}"
    return Alert(kind="coinc_xml", key=make_key("coinc_xml", identity, raw),
                 trigger_gps=trigger_gps, received_at=received_at, role="observation",
                 fields=fields, raw=raw, source=source)
