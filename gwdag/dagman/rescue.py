"""Rescue DAGs and save-point files: writing them in DAGMan's format and finding the
one a rerun starts from (``shared/reference/dagman.md`` §6).

A rescue DAG lists the nodes that finished successfully as ``DONE <node>`` lines
under a commented header; ``condor_submit_dag x.dag`` reads ``x.dag`` and then the
newest ``x.dag.rescueNNN``.  Retry counts are reset on rescue (DAGMan's default
``DAGMAN_RESET_RETRIES_UPON_RESCUE = True``), so no RETRY lines are written.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable

from .syntax import parse_dag_text

__all__ = [
    "RESCUE_VERSION",
    "MAX_RESCUE_NUM",
    "rescue_path",
    "rescue_files",
    "newest_rescue",
    "next_rescue_path",
    "rescue_text",
    "save_point_text",
    "done_nodes_in",
]

RESCUE_VERSION = "2.1.0"
#: DAGMAN_MAX_RESCUE_NUM: the highest rescue number; later rescues overwrite it.
MAX_RESCUE_NUM = 100
_RESCUE_NAME = re.compile(r"\.rescue(\d{3})$")


def rescue_path(dag_path: str, number: int) -> str:
    """``<dag>.rescueNNN``."""
    return f"{dag_path}.rescue{number:03d}"


def rescue_files(dag_path: str) -> list[tuple[int, str]]:
    """The existing rescue DAGs of ``dag_path`` as ``(number, path)``, oldest first."""
    directory = os.path.dirname(os.path.abspath(dag_path))
    base = os.path.basename(dag_path)
    found = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        if name.startswith(base + ".rescue"):
            match = _RESCUE_NAME.search(name)
            if match and name == f"{base}.rescue{match.group(1)}":
                found.append((int(match.group(1)), os.path.join(os.path.dirname(dag_path),
                                                                name)))
    return sorted(found)


def newest_rescue(dag_path: str) -> tuple[int, str] | None:
    """The rescue DAG a rerun uses (DAGMAN_AUTO_RESCUE), or ``None``."""
    files = rescue_files(dag_path)
    return files[-1] if files else None


def next_rescue_path(dag_path: str) -> tuple[int, str]:
    """Where the next rescue DAG goes: highest existing number + 1, capped."""
    newest = newest_rescue(dag_path)
    number = min((newest[0] + 1) if newest else 1, MAX_RESCUE_NUM)
    return number, rescue_path(dag_path, number)


def _created(when: float) -> str:
    t = time.gmtime(when)
    return (f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC")


def _body(total: int, done: list[str], failed: list[str],
          weak_only_failed: Iterable[str] = ()) -> list[str]:
    lines = [
        "#",
        f"# Total number of Nodes: {total}",
        f"# Nodes premarked DONE: {len(done)}",
        f"# Nodes that failed: {len(failed)}",
        "#   " + "".join(f"{name}," for name in failed) + "<ENDLIST>",
    ]
    weak_only = list(weak_only_failed)
    if weak_only:
        lines.append("# Failed node with only weak child dependencies: "
                     + ",".join(weak_only))
    lines.append("")
    lines.extend(f"DONE {name}" for name in done)
    return lines


def rescue_text(dag_file: str, total: int, done: list[str], failed: list[str], *,
                weak_only_failed: Iterable[str] = (), when: float | None = None) -> str:
    """A rescue DAG: ``done`` nodes (DAG order, never FINAL) get ``DONE`` lines;
    ``failed`` are the ERROR nodes in DAG order; ``total`` counts every node."""
    lines = [
        "# Rescue DAG file, created after running",
        f"#   the {os.path.basename(dag_file)} DAG file",
        f"# Created {_created(time.time() if when is None else when)}",
        f"# Rescue DAG version: {RESCUE_VERSION}",
        *_body(total, done, failed, weak_only_failed),
    ]
    return "\n".join(lines) + "\n"


def save_point_text(node: str, total: int, done: list[str], failed: list[str]) -> str:
    """A save-point file, written the first time ``node`` starts."""
    lines = [f"# Save file written at Start Node {node}",
             f"# Rescue DAG version: {RESCUE_VERSION}", *_body(total, done, failed)]
    return "\n".join(lines) + "\n"


def done_nodes_in(path: str) -> list[str]:
    """The nodes a rescue (or save) file marks DONE."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        commands, _ = parse_dag_text(handle.read(), path)
    return [c.fields["node"] for c in commands if c.keyword == "DONE"]
