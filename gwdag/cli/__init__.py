"""The ``gwdag`` command line: one click group per layer of work."""

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    # ``main`` is loaded on first use, so ``python -m gwdag step ...`` in a DAG node
    # does not import every command module.
    if name == "main":
        from .root import main

        globals()["main"] = main
        return main
    raise AttributeError(name)
