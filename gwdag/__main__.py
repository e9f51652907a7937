"""``python -m gwdag`` and the ``gwdag`` console script."""

import atexit
import os
import sys
import time
from collections.abc import Callable
from typing import NoReturn

# DAG nodes run ``python -m gwdag step ...``: their reported wall time starts here,
# before the imports, so it is what the node costs.
PROCESS_STARTED = time.time()


def main() -> None:
    """Run the command line; the two groups that are run as many short processes
    (``step`` in every DAG node, ``dag`` by scripts and sub-DAGs) load only their
    own modules, not every command's (0.1 s instead of 0.3 s per process).

    A command's modules are imported with the garbage collector paused and are
    then set aside from it: they live as long as the process, and collecting
    them while young was ~7 ms of every ``gwdag dag run``.
    """
    from gwdag.dagman.gcpause import paused_gc

    if sys.argv[1:2] == ["step"]:
        with paused_gc(keep=True):
            from gwdag.cli.gw import step_group

        step_group(args=sys.argv[2:], prog_name="gwdag step", obj={})
    elif sys.argv[1:2] == ["dag"]:
        with paused_gc(keep=True):
            from gwdag.cli.dag import dag_group

        if sys.argv[2:3] == ["run"]:
            _exit_without_teardown(lambda: dag_group(args=sys.argv[2:], prog_name="gwdag dag",
                                                     obj={}))
        dag_group(args=sys.argv[2:], prog_name="gwdag dag", obj={})
    else:
        with paused_gc(keep=True):
            from gwdag.cli import main as full

        full(prog_name="gwdag")


def _exit_without_teardown(command: Callable[[], object]) -> NoReturn:
    """Run a click command (standalone) and end the process when it is done,
    skipping the interpreter's teardown: after a DAG of thousands of nodes that
    frees every object one by one and unloads HTCondor's libraries (~20 ms of
    every ``gwdag dag run``).  Only for a command that closes every file it
    writes; atexit handlers and the standard streams run and flush first, as at
    a normal exit, and ``sys.exit`` codes and messages mean what they always do."""
    try:
        command()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe, a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
