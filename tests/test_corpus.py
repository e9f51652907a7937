"""Every case of HTCondor's DAG corpus: validation, statistics, round trips, from_dag."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gwdag.dagman import (
    LoadOptions,
    dag_document,
    dag_text,
    flatten_dag,
    graph_stats,
    load_dag,
    validate_dag,
)

from .conftest import DAG_CORPUS, corpus_cases, require_corpus

CASES = corpus_cases()
# Cases whose expected result is about run time or the parser alone: their DAG files
# must still load cleanly (parser-unit-successful is a syntax-only file, see test_syntax).
LOADS_CLEANLY = {"success", "failure", "valid", "removed", "aborted"}


def _options(case: dict, **knobs) -> LoadOptions:
    return LoadOptions(use_dag_dir="-usedagdir" in case["condor_submit_dag_args"], **knobs)


def _reports(case: dict):
    cwd = DAG_CORPUS / case["dir"]
    return [validate_dag(top, cwd=str(cwd), options=_options(case)) for top in case["top_dags"]]


def test_corpus_is_complete():
    require_corpus()
    assert len(CASES) == 117


# parser-unit-successful is a syntax-only file (REJECT, absent files): see test_syntax.
@pytest.mark.parametrize("case", [c for c in CASES if c["expected"]["dag_result"] != "syntax_ok"],
                         ids=lambda c: c["id"])
def test_validation_matches_expected_result(case):
    require_corpus()
    expected = case["expected"]
    result = expected["dag_result"]
    reports = _reports(case)
    if result in LOADS_CLEANLY:
        for report in reports:
            if "cycle" in case["features"]:
                # DAGMan only finds a cycle at run time (then FINAL may still rescue
                # the DAG); validate names it as the one error.
                assert [e.message.split(":")[0] for e in report.errors] == ["Cycle detected"]
                continue
            assert report.errors == [], [str(e) for e in report.errors]
    elif result == "parse_error":
        assert not all(r.ok for r in reports)
        messages = [e.message for r in reports for e in r.errors]
        for message in expected.get("errors_in_order", []):
            assert message in messages
        if "errors" in expected:
            got = {(os.path.basename(e.file), e.line, e.reason)
                   for r in reports for e in r.errors}
            want = {(e.get("file", case["top_dags"][0]), e["line"], e["reason"])
                    for e in expected["errors"]}
            assert got == want
    elif result == "cycle":
        (report,) = reports
        assert not report.ok
        assert any(e.message.startswith("Cycle detected: ") for e in report.errors)
        stats = graph_stats(report.result.dag)
        assert stats["IsCyclic"] is True
        assert stats["DetectedCycle"] == expected["checker_detected_cycle"]
    else:  # pragma: no cover - a new kind of expectation in the manifest
        pytest.fail(f"unknown dag_result {result}")


def _expected_stats(case: dict) -> list[tuple[bool, dict]]:
    stats = case["expected"].get("graph_stats")
    if stats is None:
        return []
    if "with_join_nodes" in stats:
        return [(True, stats["with_join_nodes"]), (False, stats["without_join_nodes"])]
    return [(True, stats)]


@pytest.mark.parametrize("case", [c for c in CASES if "graph_stats" in c["expected"]],
                         ids=lambda c: c["id"])
def test_graph_statistics_match_condor_dag_checker(case):
    require_corpus()
    for joins, expected in _expected_stats(case):
        result = load_dag(case["top_dags"][0], cwd=str(DAG_CORPUS / case["dir"]),
                          options=_options(case, use_join_nodes=joins))
        stats = graph_stats(result.dag)
        assert {k: stats.get(k) for k in expected} == expected


def _loadable(case: dict) -> bool:
    return case["expected"]["dag_result"] in LOADS_CLEANLY or case["id"].startswith("checker-cycle")


def _comparable(document: dict) -> dict:
    """What must survive a round trip; a node's submit is compared by its text."""
    document = dict(document)
    descriptions = document.pop("submit_descriptions")
    for key in ("dag", "splices", "config"):
        document.pop(key)
    nodes = []
    for node in document["nodes"]:
        node = dict(node)
        inline = node.pop("inline_submit")
        if inline is not None:
            node["submit"] = ("text", inline)
        elif node["submit"] in descriptions:
            node["submit"] = ("text", descriptions[node["submit"]])
        nodes.append(node)
    document["nodes"] = nodes
    document["stats"] = {k: v for k, v in document["stats"].items() if k != "NumSplices"}
    return document


@pytest.fixture
def scratch_case(tmp_path: Path):
    """A scratch copy of a case directory (from_dag writes next to the DAG)."""
    def copy(case: dict) -> Path:
        target = tmp_path / case["dir"]
        shutil.copytree(DAG_CORPUS / case["dir"], target)
        return target
    return copy


@pytest.mark.parametrize("case", [c for c in CASES if _loadable(c)], ids=lambda c: c["id"])
def test_round_trip_and_htcondor_accepts_what_we_write(case, scratch_case, stub_condor_dagman,
                                                       monkeypatch):
    require_corpus()
    import htcondor2

    workdir = scratch_case(case)
    # CONFIG paths are relative to the DAG working directory, as for condor_submit_dag.
    monkeypatch.chdir(workdir if "-usedagdir" not in case["condor_submit_dag_args"]
                      else (workdir / case["top_dags"][0]).parent)
    for top in case["top_dags"]:
        original = load_dag(top, cwd=str(workdir), options=_options(case))
        assert original.errors == []
        # parse -> write -> parse gives the same DAG (flatten adds the CONFIG knob that
        # lets DAGMan read spliced names S+N back).
        out = Path(original.cwd) / (Path(top).name + ".gwdag-flat.dag")
        flatten_dag(original, str(out))
        again = load_dag(out.name, cwd=original.cwd)
        assert again.errors == [], [str(e) for e in again.errors]
        assert _comparable(dag_document(again.dag)) == _comparable(dag_document(original.dag))
        # writing twice gives the same text
        assert dag_text(again.dag).splitlines()[1:] == \
            dag_text(original.dag).splitlines()[1:] or again.dag.config != original.dag.config
        # HTCondor's own DAG reader accepts the file we wrote
        htcondor2.Submit.from_dag(os.path.relpath(out), {})
        assert Path(str(out) + ".condor.sub").is_file()
