"""``gwdag dag ...``: validate, show, graph, flatten DAG files; the bundled example."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import click

# Only what every command needs: ``dag run`` is started often (by scripts and
# sub-DAGs), so the drawing, flattening and lint code is imported by the
# commands that use it.
from ..dagman.loader import LoadOptions, load_dag


def _load_options(usedagdir: bool, no_join_nodes: bool = False,
                  allow_illegal_chars: bool = False) -> LoadOptions:
    return LoadOptions(allow_illegal_chars=True if allow_illegal_chars else None,
                       use_join_nodes=False if no_join_nodes else None,
                       use_dag_dir=usedagdir)


def _dag_options(func):
    """Options every command that reads a DAG file takes."""
    func = click.option("--allow-illegal-chars", is_flag=True,
                        help="Accept '+' in node names "
                             "(DAGMAN_ALLOW_ANY_NODE_NAME_CHARACTERS).")(func)
    func = click.option("--usedagdir", is_flag=True,
                        help="Resolve relative paths against the DAG file's directory, as "
                             "condor_submit_dag -usedagdir does (default: the current "
                             "directory).")(func)
    return func


@click.group("dag")
def dag_group() -> None:
    """Read, check and draw DAGMan DAG files."""


@dag_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per DAG.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--full", is_flag=True,
              help="Always parse into the full model (skip the bulk check of plain files; "
                   "the answer is the same, only slower).")
@_dag_options
def validate(paths: tuple[str, ...], as_json: bool, strict: bool, full: bool,
             usedagdir: bool, allow_illegal_chars: bool) -> None:
    """Check DAG files as DAGMan would; exit 0 when every one would be accepted.

    Parse errors, REJECT, cycles and references to undefined nodes are errors;
    missing submit files and submit files HTCondor's parser rejects are warnings
    (DAGMan fails those nodes only when it tries to submit them).  Files made only
    of plain JOB, VARS, PARENT and RETRY lines are first checked in bulk; anything
    that check cannot prove valid is parsed in full for DAGMan's exact messages.
    """
    from ..dagman.lint import validate_dag

    options = _load_options(usedagdir, allow_illegal_chars=allow_illegal_chars)
    reports = [validate_dag(path, options=options, model=full) for path in paths]
    all_ok = True
    documents = []
    for report in reports:
        ok = report.ok and not (strict and report.warnings)
        all_ok &= ok
        document = report.document()
        document["ok"] = ok
        documents.append(document)
        if as_json:
            continue
        if ok:
            warned = f", {len(report.warnings)} warnings" if report.warnings else ""
            click.echo(f"{report.path}: OK ({report.nodes} nodes, {report.edges} edges"
                       f"{warned})")
        else:
            click.echo(f"{report.path}: FAILED ({len(report.errors)} errors)")
        for issue in report.errors:
            click.echo(f"  error: {issue}")
        for issue in report.warnings:
            click.echo(f"  warning: {issue}")
    if as_json:
        click.echo(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
    raise SystemExit(0 if all_ok else 1)


def _load_or_fail(path: str, options: LoadOptions):
    result = load_dag(path, options=options)
    if result.errors:
        first = result.errors[0]
        more = f" (and {len(result.errors) - 1} more; see 'gwdag dag validate')" \
            if len(result.errors) > 1 else ""
        raise click.ClickException(f"{first}{more}")
    return result


@dag_group.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the DAG as JSON.")
@click.option("--no-join-nodes", is_flag=True,
              help="Do not insert join nodes (DAGMAN_USE_JOIN_NODES = False).")
@_dag_options
def show(path: str, as_json: bool, no_join_nodes: bool, usedagdir: bool,
         allow_illegal_chars: bool) -> None:
    """Show the DAG as DAGMan sees it after INCLUDE and SPLICE: nodes, edges and
    condor_dag_checker's graph statistics."""
    from ..dagman.describe import dag_document

    result = _load_or_fail(path, _load_options(usedagdir, no_join_nodes, allow_illegal_chars))
    document = dag_document(result.dag, path)
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    stats = document["stats"]
    console.print(f"[bold]{path}[/bold]: {stats['TotalNodes']} nodes, {stats['NumArcs']} "
                  f"edges, height {stats['GraphHeight']}, width {stats['GraphWidth']}")
    table = Table("node", "kind", "submit", "dir", "retry", "category", "priority", "scripts",
                  "parents")
    for node in document["nodes"]:
        kind = "JOIN" if node["join"] else node["kind"] + (" NOOP" if node["noop"] else "")
        parents = result.dag.parents.get(node["name"], {})
        table.add_row(node["name"], kind, node["submit"], node["dir"], str(node["retry"]),
                      node["category"] or "", str(node["priority"]),
                      ",".join(node["scripts"]), ",".join(parents))
    console.print(table)


@dag_group.command("graph")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "text"]),
              default="text", show_default=True, help="Drawing format.")
@click.option("--no-join-nodes", is_flag=True, help="Draw N x M edges without join nodes.")
@_dag_options
def graph(path: str, fmt: str, no_join_nodes: bool, usedagdir: bool,
          allow_illegal_chars: bool) -> None:
    """Draw the dependency graph (Graphviz dot, Mermaid, or plain text)."""
    from ..dagman.describe import to_dot, to_mermaid, to_text

    result = _load_or_fail(path, _load_options(usedagdir, no_join_nodes, allow_illegal_chars))
    drawer = {"dot": to_dot, "mermaid": to_mermaid, "text": to_text}[fmt]
    click.echo(drawer(result.dag), nl=False)


@dag_group.command("flatten")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The flattened DAG file to write.")
@_dag_options
def flatten(path: str, output: str, usedagdir: bool, allow_illegal_chars: bool) -> None:
    """Write one self-contained DAG: splices expanded, includes inlined.

    Paths in the output stay relative to the same DAG working directory.
    """
    from ..dagman.flatten import flatten_dag

    result = _load_or_fail(path, _load_options(usedagdir, allow_illegal_chars=allow_illegal_chars))
    for written in flatten_dag(result, output):
        click.echo(f"wrote {written}")


@dag_group.command("example")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Where to copy the example (default: a new temporary directory).")
def example(directory: str | None) -> None:
    """Copy the bundled example DAG and run the DAG tools on it."""
    from importlib import resources  # only this command needs it (~10 ms to import)

    from ..dagman.describe import dag_document, to_text
    from ..dagman.lint import validate_dag

    source = resources.files("gwdag") / "examples" / "alert-pipeline"
    target = directory or tempfile.mkdtemp(prefix="gwdag-example-")
    os.makedirs(target, exist_ok=True)
    with resources.as_file(source) as src:
        for name in sorted(os.listdir(src)):
            shutil.copy(os.path.join(src, name), os.path.join(target, name))
    click.echo(f"Example DAG copied to {target}\n")
    report = validate_dag("pipeline.dag", options=LoadOptions(), cwd=target)
    status = "OK" if report.ok else "FAILED"
    click.echo(f"$ gwdag dag validate pipeline.dag\npipeline.dag: {status} "
               f"({len(report.result.dag.nodes)} nodes, {report.result.dag.num_edges()} edges)")
    for issue in report.errors + report.warnings:
        click.echo(f"  {issue}")
    click.echo("\n$ gwdag dag graph pipeline.dag --format text")
    click.echo(to_text(report.result.dag), nl=False)
    stats = dag_document(report.result.dag)["stats"]
    click.echo("\n$ gwdag dag show pipeline.dag --json   (statistics)")
    click.echo(json.dumps(stats))
    click.echo(f"\nTry: cd {target} && gwdag dag show pipeline.dag && "
               f"gwdag dag flatten pipeline.dag -o flat.dag")
    if not report.ok:
        raise SystemExit(1)


def _register_run_commands() -> None:
    from . import dagrun

    dagrun.register(dag_group)


_register_run_commands()
