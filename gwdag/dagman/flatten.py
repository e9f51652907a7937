"""One self-contained DAG file from a DAG with INCLUDEs and SPLICEs.

Spliced node names keep DAGMan's ``<splice>+<node>`` form so that the flattened
DAG has exactly the nodes and edges of the original.  DAGMan refuses ``+`` in node
names it reads unless ``DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS`` is true, so when
such names are present a per-DAG CONFIG file next to the output sets that knob
(keeping the knobs of the DAG's own CONFIG file, if it had one).
"""

from __future__ import annotations

import copy
import dataclasses
import os

from .loader import LoadResult
from .model import Dag
from .syntax import ILLEGAL_NODE_CHARS
from .writer import write_dag

__all__ = ["flatten_dag"]

ALLOW_KNOB = "DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS"


def _name_inline_descriptions(dag: Dag) -> None:
    """Turn inline descriptions of spliced nodes into named ones.

    ``condor_submit_dag`` (and ``htcondor2.Submit.from_dag``) check node names
    before they consume an inline description, so ``JOB S+A {`` would make them
    read the description's lines as DAG commands.  The node's submit text is the
    same either way.
    """
    dag.nodes = dict(dag.nodes)
    dag.submit_descriptions = dict(dag.submit_descriptions)
    for name, node in dag.nodes.items():
        if node.inline_submit is None or not any(c in name for c in ILLEGAL_NODE_CHARS):
            continue
        label = "gwdag_inline_" + "".join(c if c.isalnum() else "_" for c in name)
        while label in dag.submit_descriptions:
            label += "_"
        dag.submit_descriptions[label] = node.inline_submit
        dag.nodes[name] = dataclasses.replace(node, submit=label, inline_submit=None)


def flatten_dag(result: LoadResult, out_path: str) -> list[str]:
    """Write the DAG of ``result`` to ``out_path`` as one file.

    Relative paths in the output stay relative to the same DAG working directory
    (``result.cwd``).  Returns the files written.
    """
    dag = copy.copy(result.dag)
    written = [out_path]
    if any(c in name for name in dag.nodes for c in ILLEGAL_NODE_CHARS):
        _name_inline_descriptions(dag)
        config_path = out_path + ".config"
        lines: list[str] = []
        if dag.config is not None:
            original = dag.config
            if not os.path.isabs(original):
                original = os.path.join(result.cwd, original)
            with open(original, encoding="utf-8", errors="replace") as handle:
                lines = [line.rstrip("\n") for line in handle
                         if not line.strip().upper().startswith(ALLOW_KNOB)]
        lines.append(f"# spliced node names are written <splice>+<node>\n{ALLOW_KNOB} = True")
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        absolute = os.path.abspath(config_path)
        relative = os.path.relpath(absolute, result.cwd)
        dag.config = absolute if relative.startswith("..") else relative
        written.append(config_path)
    write_dag(dag, out_path, header=f"Flattened by gwdag from {result.dag.path}")
    return written
