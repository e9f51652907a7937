"""``python -m gwdag``: the ``gwdag`` command."""

import sys
import time

# DAG nodes run ``python -m gwdag step ...``: their reported wall time starts here,
# before the imports, so it is what the node costs.
PROCESS_STARTED = time.time()


def _run() -> None:
    if sys.argv[1:2] == ["step"]:
        # a DAG node: load only the step commands, not every command module
        from gwdag.cli.gw import step_group

        step_group(args=sys.argv[2:], prog_name="gwdag step")
    else:
        from gwdag.cli import main

        main(prog_name="gwdag")


if __name__ == "__main__":
    _run()
