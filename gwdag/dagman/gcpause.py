"""Pausing Python's cyclic garbage collector around bulk work on large DAGs."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Run a block with the cyclic garbage collector off.

    Reading a large DAG allocates hundreds of thousands of small objects that form
    no reference cycles; the collector's repeated passes over the growing heap
    would otherwise take as long as the reading itself.  Reference counting still
    frees everything; the collector is switched back on (if it was on) on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
