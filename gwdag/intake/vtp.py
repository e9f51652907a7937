"""The VOEvent Transport Protocol (GCN classic) framing and Transport messages.

Every message is a 4-byte big-endian length followed by that many bytes of XML.
A server sends VOEvents and ``iamalive`` Transport messages; the client answers
``iamalive`` with ``iamalive`` and each VOEvent with an ``ack`` Transport naming
the event's IVORN.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Callable
from datetime import UTC, datetime

from lxml import etree

from .formats.safety import root_offset

__all__ = ["send_frame", "recv_frame", "transport", "transport_role", "event_ivorn",
           "transport_origin",
           "CLIENT_IVORN", "FrameTooLarge"]

_SIZE = struct.Struct("!I")
TRANSPORT_NS = "http://telescope-networks.org/schema/Transport/v1.1"
CLIENT_IVORN = "ivo://gwdag/listener"
_IVORN = re.compile(rb'\bivorn\s*=\s*["\']([^"\']{1,500})["\']')
_ORIGIN = re.compile(rb"<(?:\w+:)?Origin>\s*([^<]{1,500}?)\s*</(?:\w+:)?Origin>")
_ROLE = re.compile(rb'\brole\s*=\s*["\']([a-z]{1,20})["\']')


class FrameTooLarge(Exception):
    """A frame announced a size beyond the limit: the stream cannot be trusted."""


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_SIZE.pack(len(payload)) + payload)


def _recv_exact(sock: socket.socket, size: int, idle: Callable[[], None]) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        try:
            chunk = sock.recv(min(size - len(chunks), 1 << 20))
        except TimeoutError:
            idle()
            continue
        if not chunk:
            raise ConnectionError("peer closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)


def recv_frame(sock: socket.socket, max_bytes: int,
               idle: Callable[[], None] = lambda: None) -> bytes:
    """One frame's payload.  ``idle`` is called on every socket timeout (it may
    raise to give up); ``FrameTooLarge`` for sizes over ``max_bytes``."""
    (size,) = _SIZE.unpack(_recv_exact(sock, _SIZE.size, idle))
    if size > max_bytes:
        raise FrameTooLarge(f"frame of {size} bytes announced (limit {max_bytes})")
    return _recv_exact(sock, size, idle)


def transport(role: str, origin: str, response: str = CLIENT_IVORN) -> bytes:
    """A Transport message (``ack``, ``iamalive``, ``nak``) built with lxml, so no
    value from a message can break out of its element."""
    root = etree.Element(f"{{{TRANSPORT_NS}}}Transport", nsmap={"trn": TRANSPORT_NS},
                         attrib={"role": role, "version": "1.0"})
    etree.SubElement(root, "Origin").text = origin
    etree.SubElement(root, "Response").text = response
    etree.SubElement(root, "TimeStamp").text = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _root_start(payload: bytes) -> bytes:
    """The root element's start tag."""
    lt = root_offset(payload)
    gt = payload.find(b">", lt)
    return payload[lt:gt + 1 if gt >= 0 else lt + 2000]


def transport_role(payload: bytes) -> str | None:
    """The role of a Transport message, ``None`` for anything else (a VOEvent)."""
    start = _root_start(payload)
    name = start[1:].split(None, 1)[0] if len(start) > 1 else b""
    if not name.split(b":")[-1].startswith(b"Transport"):
        return None
    match = _ROLE.search(start)
    return match.group(1).decode() if match else "unknown"


def event_ivorn(payload: bytes) -> str:
    """The IVORN of a VOEvent (for its ack), or ``""``."""
    match = _IVORN.search(_root_start(payload))
    return match.group(1).decode("utf-8", "replace") if match else ""


def transport_origin(payload: bytes) -> str:
    """The Origin of a Transport message, or ``""``."""
    match = _ORIGIN.search(payload[:4000])
    return match.group(1).decode("utf-8", "replace") if match else ""
