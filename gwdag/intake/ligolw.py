"""Reading LIGO-LW XML documents: tables, parameters and arrays.

One reader for everything that takes LIGO-LW apart: the intake format
(:mod:`gwdag.intake.formats.ligolw`) reads a few fields of ``coinc.xml`` with it,
the localization step reads whole tables, PSDs and SNR time series.

The rules (``reference/gw-pipeline.md``, "Reading LIGO-LW with lxml"): a table
stream is one comma-separated token list (newlines are cosmetic), strings are
double-quoted with backslash escapes, an empty token is NULL; a column name may
carry a ``table:`` prefix; an array's numpy shape is the reversed list of its
``Dim`` elements, a base64 stream holds the raw little-endian C-order bytes and a
text stream is written one line per first-``Dim`` index.
"""

from __future__ import annotations

import base64
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from .alert import AlertRejected

__all__ = ["FrequencySeries", "LigolwDocument", "TimeSeries", "column_name", "element_name",
           "write_ligolw",
           "read_ligolw", "table_rows"]

_INT_TYPES = {"int_2s", "int_2u", "int_4s", "int_4u", "int_8s", "int_8u"}
_FLOAT_TYPES = {"real_4", "real_8"}
_ARRAY_DTYPES = {"real_4": "<f4", "real_8": "<f8", "complex_8": "<c8",
                 "complex_16": "<c16", "int_4s": "<i4", "int_8s": "<i8"}


def element_name(element: etree._Element) -> str:
    """The ``Name`` of a Table, Param, Array or Time without the ``:table``-style
    suffix older writers add."""
    name = element.get("Name") or ""
    for suffix in (":table", ":param", ":array"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def column_name(element: etree._Element) -> str:
    """A ``Column``'s name without the ``table:`` prefix older writers add."""
    return (element.get("Name") or "").rsplit(":", 1)[-1]


def _tokens(stream: etree._Element, what: str) -> list[str]:
    # Rows are indented with tabs; the csv module only skips spaces before a quote.
    text = " ".join(line.strip() for line in (stream.text or "").splitlines())
    delimiter = stream.get("Delimiter", ",")
    try:
        tokens = next(csv.reader([text], delimiter=delimiter, quotechar='"',
                                 escapechar="\\", skipinitialspace=True))
    except csv.Error as exc:
        raise AlertRejected(f"LIGO-LW {what}: bad stream ({exc})") from None
    except StopIteration:
        return []
    tokens = [t.strip() for t in tokens]
    if tokens and tokens[-1] == "":  # a trailing delimiter ends many streams
        tokens.pop()
    return tokens


def table_rows(table: etree._Element, limit: int | None = None) -> list[dict[str, str]]:
    """Rows of a LIGO-LW ``Table`` as column -> token text (``limit`` rows at most)."""
    columns = [column_name(c) for c in table.findall("Column")]
    stream = table.find("Stream")
    if not columns or stream is None or not stream.text:
        return []
    tokens = _tokens(stream, f"table {element_name(table)}")
    width = len(columns)
    count = len(tokens) // width
    if limit is not None:
        count = min(count, limit)
    return [dict(zip(columns, tokens[i * width:(i + 1) * width], strict=True))
            for i in range(count)]


def _typed(token: str, kind: str, where: str) -> Any:
    if token == "":
        return None
    for types, convert, expected in ((_INT_TYPES, int, "an integer"),
                                     (_FLOAT_TYPES, float, "a number")):
        if kind in types:
            try:
                return convert(token)
            except ValueError:
                raise AlertRejected(f"LIGO-LW {where}: expected {expected}, got "
                                    f"{token[:30]!r}") from None
    return token


def _array(element: etree._Element) -> np.ndarray:
    """The numpy value of an ``Array`` element (shape: reversed ``Dim`` list)."""
    kind = element.get("Type", "real_8")
    dims = [int((d.text or "0").strip()) for d in element.findall("Dim")]
    shape = tuple(reversed(dims))
    stream = element.find("Stream")
    if kind not in _ARRAY_DTYPES or stream is None:
        raise AlertRejected(f"LIGO-LW array {element_name(element)}: unsupported "
                            f"type {kind!r} or no stream")
    expected = int(np.prod(shape)) if shape else 0
    if stream.get("Encoding", "").lower().startswith("base64"):
        data = np.frombuffer(base64.b64decode(stream.text or ""),
                             dtype=_ARRAY_DTYPES[kind])
    else:
        text = (stream.text or "").replace(stream.get("Delimiter", " "), " ")
        values = text.split()
        if kind.startswith("complex"):
            raise AlertRejected(f"LIGO-LW array {element_name(element)}: complex "
                                "arrays must be base64 encoded")
        data = np.array(values, dtype=float)
        if data.size == expected:
            # text streams run one line per first-Dim index: Fortran order
            return data.reshape(tuple(dims)).T
    if data.size != expected:
        raise AlertRejected(f"LIGO-LW array {element_name(element)}: {data.size} "
                            f"values for shape {shape}")
    return data.reshape(shape)


@dataclass(frozen=True)
class FrequencySeries:
    """A one-sided PSD: ``data[k]`` at ``f0 + k * deltaF`` (strain²/Hz)."""

    instrument: str
    f0: float
    delta_f: float
    data: np.ndarray

    @property
    def frequencies(self) -> np.ndarray:
        return self.f0 + self.delta_f * np.arange(self.data.size)


@dataclass(frozen=True)
class TimeSeries:
    """A complex SNR time series: ``data[k]`` at ``epoch + k * delta_t`` (GPS s)."""

    event_id: str | None
    epoch: float
    delta_t: float
    data: np.ndarray


def _params(element: etree._Element) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in element.findall("Param"):
        params[element_name(param)] = _typed((param.text or "").strip().strip('"'),
                                             param.get("Type", ""), element_name(param))
    for time in element.findall("Time"):
        text = (time.text or "").strip()
        try:
            params[element_name(time)] = float(text)
        except ValueError:
            raise AlertRejected(f"LIGO-LW time {element_name(time)}: not a GPS time "
                                f"({text[:30]!r})") from None
    return params


@dataclass
class LigolwDocument:
    """A parsed LIGO-LW document with typed tables, PSDs and SNR series."""

    root: etree._Element
    _tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def table_names(self) -> list[str]:
        return [element_name(t) for t in self.root.iter("Table")]

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of table ``name`` with values typed from the column types
        (``None`` for NULL); an absent table is an empty list."""
        if name not in self._tables:
            rows: list[dict[str, Any]] = []
            for element in self.root.iter("Table"):
                if element_name(element) != name:
                    continue
                types = {column_name(c): c.get("Type", "")
                         for c in element.findall("Column")}
                for raw in table_rows(element):
                    rows.append({key: _typed(value, types[key], f"{name}.{key}")
                                 for key, value in raw.items()})
            self._tables[name] = rows
        return self._tables[name]

    def injections(self) -> dict[str, dict[str, Any]]:
        """The ``sim_inspiral`` row matched to each ``coinc_event_id`` by the
        "sim_inspiral<-->coinc_event" coincidences of a search on injections."""
        definers = {r["coinc_def_id"]: str(r["description"])
                    for r in self.table("coinc_definer")}
        kinds = {r["coinc_event_id"]: definers.get(r["coinc_def_id"], "")
                 for r in self.table("coinc_event")}
        sims = {r["simulation_id"]: r for r in self.table("sim_inspiral")}
        groups: dict[Any, list[dict[str, Any]]] = {}
        for row in self.table("coinc_event_map"):
            groups.setdefault(row["coinc_event_id"], []).append(row)
        matched: dict[str, dict[str, Any]] = {}
        for coinc_id, rows in groups.items():
            if "sim_inspiral<-->coinc_event" not in kinds.get(coinc_id, ""):
                continue
            sim = [r["event_id"] for r in rows if r["table_name"] == "sim_inspiral"]
            for row in rows:
                if row["table_name"] == "coinc_event" and sim and sim[0] in sims:
                    matched[str(row["event_id"])] = sims[sim[0]]
        return matched

    def _series(self, kind: str):
        """(params, values, first Dim's Scale) of each ``LIGO_LW Name=kind``."""
        for element in self.root.iter("LIGO_LW"):
            if element.get("Name") != kind:
                continue
            array = element.find("Array")
            if array is None:
                continue
            dims = array.findall("Dim")
            yield _params(element), _array(array), float(dims[0].get("Scale", "0")) \
                if dims else 0.0

    def psds(self) -> dict[str, FrequencySeries]:
        """The ``REAL8FrequencySeries`` of the document, by instrument."""
        result: dict[str, FrequencySeries] = {}
        for params, values, delta_f in self._series("REAL8FrequencySeries"):
            instrument = str(params.get("instrument") or "")
            if not instrument:
                continue
            data = values[-1] if values.ndim == 2 else values  # row 0 holds f
            result[instrument] = FrequencySeries(
                instrument, float(params.get("f0") or 0.0), delta_f or 1.0,
                np.asarray(data, dtype=float))
        return result

    def snr_series(self) -> dict[str, TimeSeries]:
        """The ``COMPLEX8TimeSeries`` of the document, keyed by their ``event_id``
        (the ``sngl_inspiral`` row they belong to)."""
        result: dict[str, TimeSeries] = {}
        for params, values, delta_t in self._series("COMPLEX8TimeSeries"):
            if values.ndim == 2 and values.shape[0] == 3:  # time, real, imaginary
                data = values[1] + 1j * values[2]
            else:
                data = values.reshape(-1)
            event_id = params.get("event_id")
            key = str(event_id) if event_id is not None else str(len(result))
            result[key] = TimeSeries(key, float(params.get("epoch") or 0.0), delta_t,
                                     np.asarray(data, dtype=complex))
        return result


def read_ligolw(source: str | Path | bytes, max_bytes: int = 1 << 30) -> LigolwDocument:
    """Parse a LIGO-LW file (gzip or not) or its bytes, entities and network off."""
    from .formats.safety import Limits, gunzip, parse_xml

    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, Limits(max_bytes=max_bytes, max_unzipped=max_bytes))
    return LigolwDocument(parse_xml(raw, huge=True))



# --- writing ---------------------------------------------------------------------

_WRITE_TYPES = {int: "int_8s", float: "real_8", str: "lstring"}

# Column types of the standard tables gwdag writes, as LIGO-LW readers that
# validate them (igwn_ligolw) require.
STANDARD_COLUMN_TYPES: dict[str, dict[str, str]] = {
    "process": {"process_id": "int_8s", "program": "lstring", "ifos": "lstring",
                "comment": "lstring"},
    "process_params": {"process_id": "int_8s", "program": "lstring", "param": "lstring",
                       "type": "lstring", "value": "lstring"},
    "sngl_inspiral": {
        "process_id": "int_8s", "event_id": "int_8s", "ifo": "lstring",
        "search": "lstring", "channel": "lstring", "end_time": "int_4s",
        "end_time_ns": "int_4s", "snr": "real_4", "coa_phase": "real_4",
        "eff_distance": "real_4", "sigmasq": "real_8", "mass1": "real_4",
        "mass2": "real_4", "mchirp": "real_4", "mtotal": "real_4", "eta": "real_4",
        "chisq": "real_4", "chisq_dof": "int_4s", "template_duration": "real_8",
        "f_final": "real_4", "spin1x": "real_4", "spin1y": "real_4", "spin1z": "real_4",
        "spin2x": "real_4", "spin2y": "real_4", "spin2z": "real_4"},
    "coinc_definer": {"coinc_def_id": "int_8s", "search": "lstring",
                      "search_coinc_type": "int_4u", "description": "lstring"},
    "coinc_event": {"coinc_event_id": "int_8s", "coinc_def_id": "int_8s",
                    "process_id": "int_8s", "time_slide_id": "int_8s",
                    "instruments": "lstring", "nevents": "int_4u", "likelihood": "real_8"},
    "coinc_event_map": {"coinc_event_id": "int_8s", "table_name": "char_v",
                        "event_id": "int_8s"},
    "coinc_inspiral": {"coinc_event_id": "int_8s", "ifos": "lstring", "end_time": "int_4s",
                       "end_time_ns": "int_4s", "snr": "real_8", "combined_far": "real_8",
                       "false_alarm_rate": "real_8", "mchirp": "real_8", "mass": "real_8",
                       "minimum_duration": "real_8"},
}


def _token(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("lstring", "char_v", "char_s"):
        escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if kind.startswith("real"):
        return repr(float(value))
    return str(int(value))


def write_ligolw(tables: dict[str, list[dict[str, Any]]],
                 psds: dict[str, FrequencySeries] | None = None,
                 column_types: dict[str, dict[str, str]] | None = None,
                 epoch: float = 0.0) -> bytes:
    """A LIGO-LW document holding ``tables`` (name -> rows; column types from
    ``column_types``, else :data:`STANDARD_COLUMN_TYPES`, else the values' Python
    types) and ``psds`` (inside a ``LIGO_LW Name="psd"`` element, as LAL's PSD
    reader expects)."""
    root = etree.Element("LIGO_LW")
    for name, rows in tables.items():
        known = STANDARD_COLUMN_TYPES.get(name, {})
        present = {key for row in rows for key in row}
        # old-style string ids ("process:process_id:0") stay strings
        textual = {key for row in rows for key, value in row.items() if isinstance(value, str)}
        types = {key: ("lstring" if key in textual and not kind.startswith(("lstring", "char"))
                       else kind) for key, kind in known.items() if key in present}
        types.update((column_types or {}).get(name, {}))
        for row in rows:
            for key, value in row.items():
                if key not in types and value is not None:
                    types[key] = _WRITE_TYPES.get(type(value), "lstring")
        table = etree.SubElement(root, "Table", Name=name)
        for key, kind in types.items():
            etree.SubElement(table, "Column", Name=key, Type=kind)
        stream = etree.SubElement(table, "Stream", Name=name, Type="Local", Delimiter=",")
        lines = [",".join(_token(row.get(key), kind) for key, kind in types.items())
                 for row in rows]
        # every token ends with the delimiter, so a NULL last column stays visible
        stream.text = "\n" + "".join(line + ",\n" for line in lines)
    if psds:
        holder = etree.SubElement(root, "LIGO_LW", Name="psd")
        for instrument, series in psds.items():
            element = etree.SubElement(holder, "LIGO_LW", Name="REAL8FrequencySeries")
            etree.SubElement(element, "Time", Name="epoch", Type="GPS").text = f"{epoch:.9f}"
            etree.SubElement(element, "Param", Name="f0", Type="real_8",
                             Unit="s^-1").text = repr(float(series.f0))
            array = etree.SubElement(element, "Array", Name="PSD", Type="real_8",
                                     Unit="strain^2 s")
            etree.SubElement(array, "Dim", Name="Frequency", Start=repr(float(series.f0)),
                             Scale=repr(float(series.delta_f)),
                             Unit="s^-1").text = str(series.data.size)
            etree.SubElement(array, "Dim", Name="Frequency,Real").text = "2"
            data = etree.SubElement(array, "Stream", Type="Local", Delimiter=" ")
            finite = np.where(np.isfinite(series.data), series.data, 0.0)
            # every token is followed by the delimiter; newlines are cosmetic
            data.text = "\n" + " \n".join(
                f"{f!r} {v!r}" for f, v in zip(series.frequencies.tolist(),
                                               finite.tolist(), strict=True)) + "\n"
            etree.SubElement(element, "Param", Name="instrument",
                             Type="lstring").text = instrument
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
