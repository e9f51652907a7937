"""Node and DAG states with DAGMan's numeric values (``shared/reference/dagman.md``
§4–5): what the node status file, ``$DAG_STATUS`` and the metrics file report."""

from __future__ import annotations

import enum

__all__ = ["NodeStatus", "DagStatus"]


class NodeStatus(enum.IntEnum):
    """A node's state; values as in the node status file."""

    NOT_READY = 0
    READY = 1
    PRERUN = 2
    SUBMITTED = 3
    POSTRUN = 4
    DONE = 5
    ERROR = 6
    FUTILE = 7

    @property
    def label(self) -> str:
        return f"STATUS_{self.name}"

    @property
    def finished(self) -> bool:
        return self in (NodeStatus.DONE, NodeStatus.ERROR, NodeStatus.FUTILE)


class DagStatus(enum.IntEnum):
    """``$DAG_STATUS``; the first non-OK value sticks."""

    OK = 0
    ERROR = 1
    NODE_FAILED = 2
    ABORT = 3
    RM = 4
    CYCLE = 5
    HALTED = 6

    @property
    def label(self) -> str:
        return f"DAG_STATUS_{self.name}"
