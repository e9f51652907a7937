"""Plans: the DAG a handler wants, before it is rendered.

A plan is nodes (each runs ``gwdag step <step> <arguments>``) and edges; the
renderer turns it into ``run.dag`` plus one submit file per step from the
templates, so resources live in templates and config, never in handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Plan", "PlanNode"]


@dataclass(frozen=True)
class PlanNode:
    """One DAG node: ``name`` in the DAG, the ``step`` it runs, its arguments
    (file paths and IDs gwdag chose, never raw alert text) and retries."""

    name: str
    step: str
    arguments: tuple[str, ...]
    retries: int = 0


@dataclass
class Plan:
    """The DAG for one alert."""

    alert_key: str
    description: str
    nodes: list[PlanNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def chain(self, *nodes: PlanNode) -> Plan:
        """Append ``nodes`` one after the other (each the parent of the next)."""
        for node in nodes:
            if self.nodes:
                self.edges.append((self.nodes[-1].name, node.name))
            self.nodes.append(node)
        return self
