"""Bytecode for the gwdag being benchmarked, as ``pip install`` leaves it.

An editable install has no ``__pycache__`` until Python writes one, and with
``PYTHONDONTWRITEBYTECODE`` set (as on our CI machines) it never does: every
``gwdag`` process then compiles each module it imports, ~0.1 s of start-up that
an installed gwdag never pays.  The benchmarks that time whole gwdag processes
compile the package first so that they measure the installed tool.
"""

from __future__ import annotations

import compileall
import os


def compile_gwdag() -> None:
    """Write the ``.pyc`` files of the importable gwdag package (quietly)."""
    import gwdag

    compileall.compile_dir(os.path.dirname(gwdag.__file__), quiet=1)
    print("(gwdag's modules byte-compiled first, as pip install does)")
