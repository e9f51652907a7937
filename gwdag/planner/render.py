"""Rendering plans into DAG directories with jinja2, and checking the result.

``runs/<run-id>/run.dag`` and one ``<step>.sub`` per step come from the
templates (``gwdag/planner/templates/`` or the directory ``[planner] templates``
names).  Node arguments reach the files only through :func:`condor_arguments`
(HTCondor's quoted argument syntax) inside a DAGMan ``VARS`` value, never raw.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .. import __version__
from ..dagman.lint import validate_dag
from ..dagman.writer import vars_value
from .plans import Plan

__all__ = ["RenderError", "RenderSettings", "condor_arguments", "render_plan"]

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"


class RenderError(RuntimeError):
    """A plan rendered into a DAG that DAGMan would refuse (the message says why)."""


@dataclass(frozen=True)
class RenderSettings:
    """What the templates may use besides the plan."""

    templates: str = ""               # a directory overriding the packaged templates
    request_cpus: int = 2
    request_memory: str = "2 GB"
    accounting_group: str = ""
    second_alert_delay: float = 270.0
    alert_stream: str = ""            # redis://...?stream=NAME: alerts copied there too


def condor_arguments(arguments: tuple[str, ...] | list[str]) -> str:
    """HTCondor's new-syntax ``arguments`` value: each argument in single quotes
    (quotes inside doubled), the whole in double quotes; a ``$`` becomes
    ``$(DOLLAR)`` so nothing in an argument is expanded as a submit macro."""
    quoted = ("'" + a.replace("$", "$(DOLLAR)").replace("'", "''").replace('"', '""') + "'"
              for a in arguments)
    return '"' + " ".join(quoted) + '"'


def _environment(settings: RenderSettings) -> jinja2.Environment:
    search = [settings.templates] if settings.templates else []
    loader = jinja2.FileSystemLoader([*search, str(PACKAGED_TEMPLATES)])
    environment = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, autoescape=False)
    environment.filters["condor_vars"] = lambda args: vars_value(condor_arguments(args))
    return environment


def render_plan(plan: Plan, run_dir: Path, settings: RenderSettings) -> Path:
    """Write ``run.dag`` and the submit files of ``plan`` into ``run_dir`` and
    validate them as DAGMan would; returns the DAG's path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    environment = _environment(settings)
    context = {"version": __version__, "executable": sys.executable,
               "request_cpus": settings.request_cpus,
               "request_memory": settings.request_memory,
               "accounting_group": settings.accounting_group}
    nodes = []
    for node in plan.nodes:
        nodes.append(node.__class__(node.name, node.step,
                                    ("-m", "gwdag", "step", *node.arguments), node.retries))
    rendered = Plan(plan.alert_key, plan.description, nodes, list(plan.edges))
    for step in sorted({node.step for node in nodes}):
        try:
            template = environment.get_template(f"{step}.sub.jinja2")
        except jinja2.TemplateNotFound:
            raise RenderError(f"no submit template {step}.sub.jinja2 in "
                              f"{settings.templates or PACKAGED_TEMPLATES}") from None
        _write(run_dir / f"{step}.sub", template.render(step=step, **context))
    dag = run_dir / "run.dag"
    _write(dag, environment.get_template("dag.jinja2").render(plan=rendered, **context))
    report = validate_dag(str(dag), cwd=str(run_dir))
    if report.errors:
        raise RenderError(f"{dag}: {report.errors[0]}")
    return dag


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
