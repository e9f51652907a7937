"""Reading untrusted bytes safely: size limits, bounded gunzip, hardened XML and JSON.

Every check fails fast with :class:`~gwdag.intake.alert.AlertRejected` and a
one-line reason.  XML is parsed with entity resolution, DTD loading and network
access off; a document that declares entities is refused outright (that is how
"billion laughs" and XXE payloads start), before lxml sees it.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from lxml import etree

from ..alert import AlertRejected

__all__ = ["Limits", "DEFAULT_LIMITS", "gunzip", "parse_xml", "parse_json", "describe_start",
           "root_offset"]


class Limits:
    """Size limits in bytes: ``max_bytes`` for a message as received,
    ``max_unzipped`` for a gzip-compressed one once expanded."""

    def __init__(self, max_bytes: int = 16 << 20, max_unzipped: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.max_unzipped = max_unzipped


DEFAULT_LIMITS = Limits()
_JSON_MAX_DEPTH = 64


def describe_start(data: bytes) -> str:
    """The first bytes of ``data`` as a short printable hint for error messages."""
    head = data[:16]
    if all(32 <= b < 127 for b in head):
        return repr(head.decode("ascii"))
    return head.hex(" ", 2)


def gunzip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Expand gzip ``data`` without ever holding more than ``limits.max_unzipped``."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limits.max_unzipped + 1)
    except zlib.error as exc:
        raise AlertRejected(f"corrupt gzip data: {exc}") from None
    if len(out) > limits.max_unzipped:
        raise AlertRejected(f"gzip data expands beyond {limits.max_unzipped >> 20} MiB "
                            "(refused as a decompression bomb)")
    if not inflater.eof:
        raise AlertRejected("truncated gzip data")
    return out


def root_offset(data: bytes) -> int:
    """Where the root element starts: after the XML declaration, comments,
    processing instructions and the DOCTYPE (whose ``[...]`` subset may hold ``>``);
    ``len(data)`` when there is none."""
    start = 0
    while True:
        lt = data.find(b"<", start)
        if lt < 0:
            return len(data)
        if data[lt + 1:lt + 2] not in (b"?", b"!"):
            return lt
        end = data.find(b">", lt)
        if data.startswith(b"<!DOCTYPE", lt) and b"[" in data[lt:end if end >= 0 else None]:
            end = data.find(b"]>", lt) + 1 or -1
        start = end + 1 if end >= 0 else len(data)


def parse_xml(data: bytes, *, huge: bool = False) -> etree._Element:
    """The root element of XML ``data``; ``huge`` allows text nodes over 10 MB
    (LIGO-LW streams).  Entities and DTDs are never resolved or fetched."""
    if b"<!ENTITY" in data[:root_offset(data)].upper():
        raise AlertRejected("XML declares entities (refused: entity expansion and "
                            "external entities are not allowed)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=huge, remove_comments=True,
                             remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise AlertRejected(f"malformed XML: {exc}") from None
    if root is None:
        raise AlertRejected("malformed XML: no root element")
    return root


def _depth(value: Any, depth: int = 0) -> int:
    if depth > _JSON_MAX_DEPTH:
        return depth
    if isinstance(value, dict):
        return max((_depth(v, depth + 1) for v in value.values()), default=depth + 1)
    if isinstance(value, list):
        return max((_depth(v, depth + 1) for v in value), default=depth + 1)
    return depth


def parse_json(data: bytes) -> Any:
    """Decoded JSON ``data``: strict UTF-8, no NaN/Infinity, bounded nesting."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertRejected(f"JSON is not UTF-8 (byte {exc.start}: "
                            f"{data[exc.start:exc.start + 1].hex()})") from None

    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise AlertRejected(f"JSON nested deeper than {_JSON_MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise AlertRejected(f"malformed JSON: {exc}") from None
    if _depth(value) > _JSON_MAX_DEPTH:
        raise AlertRejected(f"JSON nested deeper than {_JSON_MAX_DEPTH} levels")
    return value
