"""The builder writes what the parser reads back, and what HTCondor accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gwdag.dagman import DagBuilder, dag_document, load_dag, validate_dag
from gwdag.dagman.model import NodeKind


def _layered(width: int = 4, depth: int = 3) -> DagBuilder:
    dag = DagBuilder("layered.dag")
    dag.submit_description("work", {"executable": "/bin/true", "arguments": "$(i)"})
    previous = None
    for k in range(depth):
        previous = dag.layer(
            f"L{k}", "work", vars=[{"i": str(i), "k": str(k)} for i in range(width)],
            parents=previous, retry=1 if k % 2 else 0, category="work",
            edges=lambda i: (i, (i + 1) % width) if i % 2 == 0 else (i,))
    dag.maxjobs("work", 2)
    return dag


def test_layers_edges_and_options(tmp_path: Path):
    dag = _layered()
    path = tmp_path / "layered.dag"
    dag.write(str(path))
    result = load_dag(path.name, cwd=str(tmp_path))
    assert result.errors == []
    assert len(result.dag.nodes) == 12
    assert result.dag.parents["L1:0"] == {"L0:0": False, "L0:1": False}
    assert result.dag.nodes["L1:3"].retry == 1
    assert result.dag.nodes["L2:2"].vars["k"].value == "2"
    assert result.dag.maxjobs == {"work": 2}
    assert dag_document(result.dag)["nodes"] == dag_document(dag.build())["nodes"]


def test_maxjobs_is_written_as_maxjobs_not_category():
    text = _layered().text()
    assert "MAXJOBS work 2" in text
    assert "CATEGORY work 2" not in text


def test_htcondor_dags_category_bug_is_flagged(tmp_path: Path):
    """htcondor2.dags writes MAXJOBS as 'CATEGORY cat N': our lint says so."""
    import htcondor2
    from htcondor2 import dags

    dag = dags.DAG(max_jobs_by_category={"heavy": 3})
    dag.layer(name="A", submit_description=htcondor2.Submit({"executable": "/bin/true"}),
              vars=[{}, {}])
    dags.write_dag(dag, tmp_path, dag_file_name="bug.dag")
    report = validate_dag("bug.dag", cwd=str(tmp_path))
    assert not report.ok
    assert any(e.reason == "References to undefined nodes: heavy" for e in report.errors)


def test_all_to_all_uses_one_join_node():
    dag = DagBuilder()
    first = dag.layer("a", "x.sub", vars=3)
    second = dag.layer("b", "x.sub", vars=3, parents=first)
    built = dag.build()
    joins = [n for n in built.nodes.values() if n.join]
    assert len(joins) == 1 and built.num_edges() == 6
    assert set(built.parents[second[0]]) == {joins[0].name}


def test_special_nodes_and_scripts(tmp_path: Path):
    dag = DagBuilder()
    a = dag.node("A", "a.sub", pre="pre.sh $JOB", post="post.sh $RETURN", pre_skip=3,
                 abort_dag_on=5, abort_return=1, priority=10)
    dag.node("B", "b.sub", weak_parents=[a], append_vars={"x": 'say "hi"'})
    dag.final("F", "f.sub")
    dag.service("S", "s.sub")
    dag.subdag("D", "inner.dag", parents=["B"])
    path = tmp_path / "x.dag"
    dag.write(str(path))
    result = load_dag(path.name, cwd=str(tmp_path))
    assert result.errors == []
    nodes = result.dag.nodes
    assert nodes["A"].scripts["POST"].command == "post.sh $RETURN"
    assert nodes["A"].abort_dag_on.return_value == 1 and nodes["A"].pre_skip == 3
    assert nodes["B"].vars["x"].value == 'say "hi"' and nodes["B"].vars["x"].append
    assert result.dag.parents["B"] == {"A": True}
    assert nodes["F"].kind is NodeKind.FINAL and nodes["D"].kind is NodeKind.SUBDAG


def test_unknown_parent_is_refused():
    dag = DagBuilder()
    with pytest.raises(KeyError):
        dag.node("B", "b.sub", parents=["nope"])


def test_columns_write_what_build_models(tmp_path: Path):
    """Layers are written from columns; the text reads back to build()'s DAG."""
    dag = DagBuilder("cols.dag")
    dag.submit_description("work", {"executable": "/bin/true"})
    start = dag.node("start", "work", post="post.sh $RETURN")
    first = dag.layer("a", "work", vars=[{"x": 'say "hi"', "y": "c:\\tmp"}, {"x": "2"}, {}],
                      parents=[start], pre="pre.sh $JOB", retry=3, unless_exit=4,
                      append_vars={"z": "late"}, priority=5, category="c")
    second = dag.layer("b", "INLINE", vars=3, parents=first,
                       inline="executable = /bin/true\nqueue\n")
    third = dag.layer("c", "work", vars=3, parents=second, edges="one_to_one")
    dag.connect(third.names, ["start"], edges=lambda i: ())
    dag.node("end", "work", weak_parents=third.names)
    dag.final("F", "work")
    path = tmp_path / "cols.dag"
    dag.write(str(path))
    result = load_dag(path.name, cwd=str(tmp_path))
    assert result.errors == []
    built = dag.build()
    assert dag_document(result.dag)["nodes"] == dag_document(built)["nodes"]
    assert set(map(tuple, dag_document(result.dag)["edges"])) == {
        (p, c) for p, c, _ in built.edges()}
    assert result.dag.nodes["a:0"].vars["x"].value == 'say "hi"'
    assert result.dag.nodes["a:0"].vars["y"].value == "c:\\tmp"
    assert result.dag.parents["end"] == {name: True for name in third.names}
    assert sum(n.join for n in result.dag.nodes.values()) == 1


def test_layers_sharing_keys_are_written_a_column_at_a_time(tmp_path: Path):
    """Layers whose nodes share their keys take the column writer; others (keys in
    another order, a value to escape, a node without macros) the per-node one.
    Either way the text reads back to build()'s DAG."""
    dag = DagBuilder("keys.dag")
    dag.submit_description("work", {"executable": "/bin/true"})
    dag.layer("ints", "work", vars=[{"k": i, "j": f"x{i}"} for i in range(3)])
    dag.layer("order", "work", vars=[{"k": "1", "j": "2"}, {"j": "2", "k": "1"}])
    dag.layer("quote", "work", vars=[{"k": "1"}, {"k": 'a "b"'}])
    dag.layer("gap", "work", vars=[{"k": "1"}, {}])
    text = dag.text()
    assert 'VARS ints:0 k="0" j="x0"\nVARS ints:1 k="1" j="x1"\nVARS ints:2 k="2" j="x2"\n' in text
    assert 'VARS order:1 j="2" k="1"\n' in text
    path = tmp_path / "keys.dag"
    dag.write(str(path))
    result = load_dag(path.name, cwd=str(tmp_path))
    assert result.errors == [] and result.warnings == []
    assert dag_document(result.dag)["nodes"] == dag_document(dag.build())["nodes"]
    assert result.dag.nodes["quote:1"].vars["k"].value == 'a "b"'
    assert result.dag.nodes["gap:1"].vars == {}


def test_layer_names_must_be_new_and_edges_in_range():
    dag = DagBuilder()
    dag.layer("a", "x.sub", vars=2)
    with pytest.raises(ValueError, match="a:0 is already defined"):
        dag.layer("a", "x.sub", vars=2)
    with pytest.raises(ValueError, match="outside the 2 parents"):
        dag.layer("b", "x.sub", vars=2, parents=["a:0", "a:1"], edges=lambda i: (i + 1,))
