"""The ``gwdag`` command line: one click group per layer of work."""

from .main import main

__all__ = ["main"]
