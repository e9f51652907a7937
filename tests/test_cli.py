"""The ``gwdag`` commands, run through click as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gwdag import __version__
from gwdag.cli import main

DIAMOND = """\
JOB A a.sub
JOB B a.sub
JOB C a.sub
JOB D a.sub
PARENT A CHILD B C
PARENT B C CHILD D
RETRY B 2
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sub").write_text("executable = /bin/true\nqueue\n")
    (tmp_path / "diamond.dag").write_text(DIAMOND)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_version_and_help():
    code, out = run("--version")
    assert code == 0 and __version__ in out
    for group in ([], ["dag"], ["dag", "validate"], ["dag", "show"], ["dag", "graph"],
                  ["dag", "flatten"], ["dag", "example"], ["config", "show"]):
        code, out = run(*group, "--help")
        assert code == 0 and "Usage:" in out


def test_validate_json_shape(workdir: Path):
    code, out = run("dag", "validate", "diamond.dag", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc == {"schema_version": 1, "dag": "diamond.dag", "ok": True, "errors": [],
                   "warnings": []}


def test_validate_several_with_errors_and_warnings(workdir: Path):
    (workdir / "bad.dag").write_text("JOB A a.sub\nJOB B missing.sub\nPARENT A CHILD X\n")
    (workdir / "cyclic.dag").write_text("JOB A a.sub\nJOB B a.sub\nPARENT A CHILD B\n"
                                        "PARENT B CHILD A\n")
    code, out = run("dag", "validate", "diamond.dag", "bad.dag", "cyclic.dag", "--json")
    assert code == 1
    docs = json.loads(out)
    assert [d["ok"] for d in docs] == [True, False, False]
    assert docs[1]["errors"][0] == {
        "file": "bad.dag", "line": 3, "command": "PARENT",
        "message": "References to undefined nodes: Children [X]",
        "reason": "References to undefined nodes: Children [X]"}
    assert "missing.sub" in docs[1]["warnings"][0]["message"]
    assert docs[2]["errors"][0]["message"] == "Cycle detected: A -> B -> A"


def test_validate_human_output_and_strict(workdir: Path):
    (workdir / "warn.dag").write_text("JOB A missing.sub\n")
    code, out = run("dag", "validate", "warn.dag")
    assert code == 0 and "1 warnings" in out
    code, _ = run("dag", "validate", "--strict", "warn.dag")
    assert code == 1


def test_validate_bulk_check_and_full_agree(workdir: Path):
    plain = "".join(f"JOB n{i} a.sub\nVARS n{i} i=\"{i}\"\n" for i in range(4))
    (workdir / "plain.dag").write_text(plain + "PARENT n0 n1 CHILD n2\nPARENT n2 CHILD n3\n")
    (workdir / "cycle.dag").write_text(plain + "PARENT n2 CHILD n3\nPARENT n3 CHILD n2\n")
    for name in ("plain.dag", "cycle.dag"):
        quick = run("dag", "validate", name, "--json")
        full = run("dag", "validate", name, "--json", "--full")
        assert quick == full
    assert run("dag", "validate", "plain.dag") == (0, "plain.dag: OK (4 nodes, 3 edges)\n")
    code, out = run("dag", "validate", "cycle.dag")
    assert code == 1 and "Cycle detected: n2 -> n3 -> n2" in out


def test_validate_flags_submit_files_htcondor_rejects(workdir: Path):
    (workdir / "broken.sub").write_text("executable = /bin/true\nthis is not a command\nqueue\n")
    (workdir / "x.dag").write_text("JOB A broken.sub\n")
    code, out = run("dag", "validate", "x.dag", "--json")
    warning = json.loads(out)["warnings"][0]["message"]
    assert "rejects the submit file broken.sub" in warning and "line 2" in warning


def test_show_json(workdir: Path):
    code, out = run("dag", "show", "diamond.dag", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["dag"] == "diamond.dag"
    assert [n["name"] for n in doc["nodes"]] == ["A", "B", "C", "D"]
    assert doc["nodes"][1]["retry"] == 2
    assert doc["edges"] == [["A", "B"], ["A", "C"], ["B", "D"], ["C", "D"]]
    assert doc["stats"] == {"TotalNodes": 4, "NumNodes": 4, "NumArcs": 4, "GraphHeight": 3,
                            "GraphWidth": 2, "WidthByDepth": [1, 2, 1]}


def test_show_human_and_bad_input(workdir: Path):
    code, out = run("dag", "show", "diamond.dag")
    assert code == 0 and "4 nodes" in out
    code, out = run("dag", "show", "nope.dag")
    assert code == 1 and out.startswith("Error: nope.dag:0: Failed to open DAG file")
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt,marker", [("dot", '"A" -> "B";'), ("mermaid", "n0 --> n1"),
                                        ("text", "D [JOB] <- B, C")])
def test_graph_formats(workdir: Path, fmt: str, marker: str):
    code, out = run("dag", "graph", "diamond.dag", "--format", fmt)
    assert code == 0 and marker in out


def test_flatten_keeps_nodes_and_edges(workdir: Path, stub_condor_dagman):
    import htcondor2

    (workdir / "inner.dag").write_text("JOB X a.sub\nJOB Y a.sub\nPARENT X CHILD Y\n")
    (workdir / "outer.dag").write_text("JOB A a.sub\nSPLICE S inner.dag\nPARENT A CHILD S\n"
                                       "INCLUDE more.inc\n")
    (workdir / "more.inc").write_text("JOB Z a.sub\nPARENT S CHILD Z\n")
    code, out = run("dag", "flatten", "outer.dag", "-o", "flat.dag")
    assert code == 0 and "wrote flat.dag" in out
    shows = [json.loads(run("dag", "show", p, "--json")[1]) for p in ("outer.dag", "flat.dag")]
    assert shows[0]["nodes"] == shows[1]["nodes"]
    assert shows[0]["edges"] == shows[1]["edges"] == [["A", "S+X"], ["S+X", "S+Y"], ["S+Y", "Z"]]
    htcondor2.Submit.from_dag("flat.dag", {})


def test_usedagdir(workdir: Path):
    sub = workdir / "sub"
    sub.mkdir()
    (sub / "inner.dag").write_text("JOB A only-here.sub\n")
    (sub / "only-here.sub").write_text("executable = /bin/true\nqueue\n")
    code, out = run("dag", "validate", "sub/inner.dag", "--json")
    assert json.loads(out)["warnings"]
    code, out = run("dag", "validate", "--usedagdir", "sub/inner.dag", "--json")
    assert code == 0 and json.loads(out)["warnings"] == []


def test_example(tmp_path: Path):
    code, out = run("dag", "example", "--dir", str(tmp_path / "ex"))
    assert code == 0, out
    assert "pipeline.dag: OK (7 nodes, 6 edges)" in out
    assert "grb+joint [JOB] <- grb+fermi, grb+swift" in out


def test_config_show_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GWDAG_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "gwdag.toml").write_text('[paths]\nroot = "/data/gw"\n[dagman]\nmax_pre = 5\n')
    monkeypatch.setenv("GWDAG_DAGMAN__MAX_POST", "7")
    code, out = run("config", "show", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["config"]["paths"]["root"] == "/data/gw"
    assert doc["sources"]["paths.root"].endswith("gwdag.toml")
    assert doc["config"]["dagman"]["max_post"] == 7
    assert doc["sources"]["dagman.max_post"] == "$GWDAG_DAGMAN__MAX_POST"
    assert doc["sources"]["executor.kind"] == "default"
    code, out = run("config", "show")
    assert 'root = "/data/gw"  #' in out and "max_post = 7  # $GWDAG_DAGMAN__MAX_POST" in out


@pytest.mark.parametrize("content,message", [
    ("[paths\n", "not valid TOML"),
    ("[nope]\nx = 1\n", "unknown section [nope]"),
    ("[dagman]\nmax_pre = \"many\"\n", "dagman.max_pre must be a int"),
])
def test_config_errors_are_one_line(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    code, out = run("--config", str(path), "config", "show")
    assert code == 1 and message in out and len(out.strip().splitlines()) == 1


def test_config_missing_explicit_file(tmp_path: Path):
    code, out = run("--config", str(tmp_path / "none.toml"), "config", "show")
    assert code == 1 and "does not exist" in out


@pytest.mark.parametrize("body, code, out, err", [
    ("print('done')", 0, "done\natexit ran\n", ""),            # buffered output kept
    ("sys.exit(3)", 3, "atexit ran\n", ""),
    ("sys.exit('no such DAG')", 1, "atexit ran\n", "no such DAG\n"),
])
def test_exit_without_teardown_keeps_exit_codes_output_and_atexit(body, code, out, err):
    """``gwdag dag run`` ends its process without the interpreter's teardown:
    exit codes, sys.exit messages, buffered output and atexit handlers are
    what a normal exit gives."""
    program = ("import atexit, sys\n"
               "from gwdag.__main__ import _exit_without_teardown\n"
               "atexit.register(lambda: print('atexit ran'))\n"
               f"_exit_without_teardown(lambda: {body})\n"
               "print('not reached')\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (code, out, err)
