"""The programs DAG nodes run: ``gwdag step <name> ...`` with explicit file
arguments, so a node runs on any execute host that has gwdag installed."""
