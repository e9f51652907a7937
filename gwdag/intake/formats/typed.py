"""Typed access to message fields: a wrong type is a rejection naming the field."""

from __future__ import annotations

import math
from typing import Any

from ..alert import AlertRejected

__all__ = ["number", "string", "string_list", "boolean"]


def number(obj: dict[str, Any], key: str, where: str = "") -> float | None:
    """``obj[key]`` as a finite float; ``None`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AlertRejected(f"{where}{key}: expected a number, got {type(value).__name__}")
    try:
        result = float(value)
    except ValueError:
        raise AlertRejected(f"{where}{key}: expected a number, got {str(value)[:30]!r}") from None
    if not math.isfinite(result):
        raise AlertRejected(f"{where}{key}: not a finite number ({value!r})")
    return result


def string(obj: dict[str, Any], key: str, where: str = "") -> str | None:
    """``obj[key]`` as a string; numbers are turned into strings; ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise AlertRejected(f"{where}{key}: expected a string, got {type(value).__name__}")
    return str(value)


def string_list(obj: dict[str, Any], key: str, where: str = "") -> list[str]:
    """``obj[key]`` as a list of strings (a single string or a comma list accepted)."""
    value = obj.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, dict):  # old LVAlert messages give labels as {} when empty
        return [str(k) for k in value]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise AlertRejected(f"{where}{key}: expected a list of strings")


def boolean(value: Any) -> bool | None:
    """A VOEvent/JSON flag (``true``/``false`` strings, booleans) or ``None``."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None
