"""Keeping Python's cyclic garbage collector off large, long-lived structures
(a DAG being read or run, the modules a command imports)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc", "set_aside_from_gc"]


@contextlib.contextmanager
def paused_gc(*, keep: bool = False) -> Iterator[None]:
    """Run a block with the cyclic garbage collector off.

    Reading a large DAG allocates hundreds of thousands of small objects that form
    no reference cycles; the collector's repeated passes over the growing heap
    would otherwise take as long as the reading itself.  Reference counting still
    frees everything; the collector is switched back on (if it was on) on exit.

    ``keep``: what the block created is meant to live on (imported modules, a
    run's state), so it is set aside from the collector (``gc.freeze``) before
    the collector resumes; else its first pass would look at all of it at once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def set_aside_from_gc() -> Iterator[None]:
    """Run a block with every object that exists when it starts (or that is set
    aside during it) kept from the cyclic garbage collector's passes
    (``gc.freeze``), and put back under the collector on exit.

    For a loop that holds a large structure for its whole life (a DAG being
    run): the collector's passes then look only at what the loop allocates, not
    again and again at the structure.  Nothing is lost: reference counting frees
    set-aside objects as usual, and any cycle among them is collected after the
    block.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
