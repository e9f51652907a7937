"""The bulk validity proof (``gwdag.dagman.quickcheck``) against the full path.

``validate_dag(model=False)`` may answer from the bulk proof; whatever it answers
must be exactly what the full path (load + lint) answers.  The proof must also
*abstain* on every kind of damage it claims to send to the full path, and it must
actually decide the plain DAGs it is for (else the fast path is dead code).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from gwdag.dagman import LoadOptions, validate_dag
from gwdag.dagman.lint import submit_problem
from gwdag.dagman.quickcheck import prove_valid

from .conftest import DAG_CORPUS, corpus_cases, require_corpus

SUBMIT = "universe = vanilla\nexecutable = /bin/true\narguments = $(layer)\nqueue\n"


def _both(path: str, cwd: str, options: LoadOptions | None = None):
    quick = validate_dag(path, cwd=cwd, options=options, model=False)
    full = validate_dag(path, cwd=cwd, options=options, model=True)
    assert full.result is not None
    return quick, full


def _assert_same(quick, full) -> None:
    assert quick.document() == full.document()
    assert (quick.nodes, quick.edges) == (full.nodes, full.edges)
    assert (full.nodes, full.edges) == (len(full.result.dag.nodes), full.result.dag.num_edges())


def _layered(width: int, depth: int, *, retry_every: int = 10) -> list[str]:
    """The benchmark's shape: VARS on every node, RETRY on some, node i of a layer
    depending on nodes i and i+1 of the layer above when i % 3 == 0."""
    lines = []
    for k in range(depth):
        for i in range(width):
            lines.append(f"JOB L{k}_{i} work.sub")
            lines.append(f'VARS L{k}_{i} layer="{k}" index="{i}"')
            if i % retry_every == 0:
                lines.append(f"RETRY L{k}_{i} 2")
    for k in range(1, depth):
        for i in range(width):
            parents = [f"L{k - 1}_{i}"] + ([f"L{k - 1}_{(i + 1) % width}"] if i % 3 == 0 else [])
            lines.append(f"PARENT {' '.join(parents)} CHILD L{k}_{i}")
    return lines


def _write(tmp_path: Path, lines: list[str], *, newline: str = "\n") -> str:
    (tmp_path / "work.sub").write_text(SUBMIT)
    (tmp_path / "t.dag").write_bytes((newline.join(lines) + newline).encode())
    return str(tmp_path / "t.dag")


def test_plain_dag_is_decided_by_the_bulk_proof(tmp_path):
    _write(tmp_path, _layered(30, 6))
    quick, full = _both("t.dag", str(tmp_path))
    assert quick.result is None, "the bulk proof did not decide a plain DAG"
    assert full.ok and quick.ok
    _assert_same(quick, full)
    assert quick.nodes == 180


@pytest.mark.parametrize("name, edit", [
    ("CRLF line ends", lambda lines: ("\r\n", lines)),
    ("comments and blank lines", lambda lines: ("\n", ["# generated", ""] + lines[:5]
                                                + ["  // note", "\t"] + lines[5:])),
    ("RETRY ALL_NODES", lambda lines: ("\n", lines + ["RETRY all_nodes 3"])),
    ("trailing blanks", lambda lines: ("\n", [line + " \t" for line in lines])),
    ("fan-out lines", lambda lines: ("\n", lines + ["PARENT L0_0 CHILD L5_1 L5_2 L4_7"])),
    ("repeated edge", lambda lines: ("\n", lines + ["PARENT L0_0 CHILD L1_0"])),
    ("a parent named twice", lambda lines: ("\n", lines + ["PARENT L0_4 L0_4 CHILD L2_9"])),
    ("tab-separated parents", lambda lines: ("\n", lines + ["PARENT L0_4\tL0_5 CHILD L2_9"])),
    ("an empty submit file (lint has nothing to check)",
     lambda lines: ("\n", lines + ["JOB blank empty.sub"])),
])
def test_benign_variants_are_still_decided(tmp_path, name, edit):
    newline, lines = edit(_layered(10, 6))
    _write(tmp_path, lines, newline=newline)
    (tmp_path / "empty.sub").write_text("")
    quick, full = _both("t.dag", str(tmp_path))
    assert quick.result is None, f"{name}: not decided"
    assert full.ok
    _assert_same(quick, full)


DAMAGE = {
    "node defined twice": lambda lines: lines + ["JOB L0_0 work.sub"],
    "reserved node name": lambda lines: lines + ["JOB Parent work.sub"],
    "VARS of an undefined node": lambda lines: lines + ['VARS nobody x="1"'],
    "key twice on a line": lambda lines: lines + ['JOB extra work.sub', 'VARS extra a="1" a="2"'],
    "key twice across lines": lambda lines: lines + ['VARS L0_0 layer="9"'],
    "VARS on two lines": lambda lines: lines + ['VARS L0_0 other="9"'],
    "VARS ALL_NODES": lambda lines: lines + ['VARS ALL_NODES extra="1"'],
    "VARS key starting with queue": lambda lines: lines + ['JOB q work.sub',
                                                           'VARS q queue_x="1"'],
    "RETRY of an undefined node": lambda lines: lines + ["RETRY nobody 2"],
    "PARENT of an undefined node": lambda lines: lines + ["PARENT nobody CHILD L1_1"],
    "CHILD undefined": lambda lines: lines + ["PARENT L1_1 CHILD nobody"],
    "self edge": lambda lines: lines + ["PARENT L1_1 CHILD L1_1"],
    "cycle": lambda lines: lines + ["PARENT L5_0 CHILD L0_0"],
    "backward edge without a cycle": lambda lines: lines + ["PARENT L5_0 CHILD L4_3"],
    "join node": lambda lines: lines + ["PARENT L0_1 L0_2 CHILD L3_1 L3_2"],
    "missing submit file": lambda lines: lines + ["JOB lost nowhere.sub"],
    "submit file HTCondor rejects": lambda lines: lines + ["JOB bad bad.sub"],
    "DAGMan submit file": lambda lines: lines + ["JOB sub inner.dag.condor.sub"],
    "lower-case keyword": lambda lines: lines + ["job lower work.sub"],
    "continuation line": lambda lines: lines + ["JOB cont \\", "work.sub"],
    "CHILD twice": lambda lines: lines + ["PARENT L0_1 CHILD L2_1 CHILD L3_1"],
    "node named like CHILD": lambda lines: lines + ["JOB mychild work.sub",
                                                    "PARENT L0_1 CHILD mychild"],
    "other command": lambda lines: lines + ["CATEGORY L0_0 heavy", "MAXJOBS heavy 2"],
    "quoted file name": lambda lines: lines + ['JOB quoted "work.sub"'],
    "non-ASCII name": lambda lines: lines + ["JOB caf\u00e9 work.sub"],
    "form feed": lambda lines: lines + ["JOB ff work.sub\x0c"],
    "no nodes": lambda lines: ["# nothing here"],
    "PARENT without CHILD": lambda lines: lines + ["PARENT L0_1 L0_2"],
    "REJECT": lambda lines: lines + ["REJECT"],
    # A tab on one line and a double blank on another: counting blanks alone would
    # pair parents with the wrong children and miss the cycle b -> c -> b.
    "blanks that cancel out": lambda lines: lines + [
        "JOB a work.sub", "JOB c work.sub", "JOB b work.sub", "JOB d work.sub",
        "JOB e work.sub", "PARENT a\tb CHILD c", "PARENT d  CHILD e", "PARENT c CHILD b"],
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_damage_goes_to_the_full_path(tmp_path, name):
    lines = DAMAGE[name](_layered(10, 6))
    path = _write(tmp_path, lines)
    (tmp_path / "bad.sub").write_text("executable = /bin/true\nthis is not a command\nqueue\n")
    (tmp_path / "inner.dag.condor.sub").write_text(SUBMIT)
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    assert prove_valid(text, str(tmp_path), submit_problem) is None, name
    quick, full = _both("t.dag", str(tmp_path))
    assert quick.result is not None
    _assert_same(quick, full)


def _random_dag(rng: random.Random) -> list[str]:
    """A small DAG of plain lines, sometimes damaged in one of many small ways:
    edges mostly forward in file order, some backward (cycles among them)."""
    count = rng.randint(1, 12)
    names = [f"n{i}" for i in range(count)]
    lines = [f"JOB {name} work.sub" for name in names]
    for name in names:
        if rng.random() < 0.6:
            keys = rng.sample(["a", "b", "c", "d"], rng.randint(1, 3))
            lines.append(f"VARS {name} " + " ".join(f'{key}="{rng.randint(0, 9)}"'
                                                     for key in keys))
    for _ in range(rng.randint(0, 2 * count) if count > 1 else 0):
        split = rng.randint(1, count - 1)
        ups = rng.sample(names[:split], rng.randint(1, min(3, split)))
        downs = rng.sample(names[split:], min(rng.choice((1, 1, 1, 1, 2)), count - split))
        if rng.random() < 0.05:
            ups, downs = downs, ups
        lines.append(f"PARENT {' '.join(ups)} CHILD {' '.join(downs)}")
    for name in rng.sample(names, rng.randint(0, count)):
        lines.append(f"RETRY {name} {rng.randint(0, 3)}")
    damage = rng.random()
    if damage < 0.05:
        lines.append(f"JOB {rng.choice(names)} work.sub")
    elif damage < 0.1:
        lines.append(f"RETRY n{count + 1} 1")
    elif damage < 0.15:
        lines.append(f'VARS {rng.choice(names)} a="x"')
    elif damage < 0.2:
        lines.append("JOB gone missing.sub")
    elif damage < 0.25:
        lines.append(f'VARS {rng.choice(names)} queue_size="1"')
    # Commands other than JOB may stand anywhere: DAGMan reads the file twice.
    head, tail = lines[:count], lines[count:]
    rng.shuffle(tail)
    for line in tail:
        head.insert(rng.randint(0, len(head)), line)
    return head


def test_random_plain_dags_agree_with_the_full_path(tmp_path):
    rng = random.Random(20261121)
    decided = 0
    for case in range(300):
        directory = tmp_path / str(case)
        directory.mkdir()
        _write(directory, _random_dag(rng))
        quick, full = _both("t.dag", str(directory))
        _assert_same(quick, full)
        decided += quick.result is None
    # Both paths are taken: damage, "queue" keys and join nodes go the full path.
    assert 100 < decided < 250, decided


def test_corpus_agrees_with_the_full_path():
    require_corpus()
    decided = 0
    for case in corpus_cases():
        cwd = str(DAG_CORPUS / case["dir"])
        options = LoadOptions(use_dag_dir="-usedagdir" in case["condor_submit_dag_args"])
        for top in case["top_dags"]:
            if not os.path.isfile(os.path.join(cwd, top)):
                continue
            quick, full = _both(top, cwd, options)
            _assert_same(quick, full)
            decided += quick.result is None
    assert decided >= 1
