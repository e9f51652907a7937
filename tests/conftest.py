"""Shared fixtures: the real-data corpus (``GWDAG_FIXTURES``) and HTCondor stubs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The one setting that locates ../shared/fixtures (a fresh clone may not have it).
FIXTURES = Path(os.environ.get("GWDAG_FIXTURES", REPO.parent / "shared" / "fixtures"))
DAG_CORPUS = FIXTURES / "htcondor-dags"


def corpus_cases() -> list[dict]:
    """The cases of the DAGMan corpus manifest ([] when the corpus is absent)."""
    manifest = DAG_CORPUS / "manifest.json"
    if not manifest.is_file():
        return []
    return json.loads(manifest.read_text())["cases"]


def require_corpus() -> None:
    if not (DAG_CORPUS / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the DAGMan corpus is missing at {DAG_CORPUS} (set GWDAG_FIXTURES)")
        pytest.skip(f"DAGMan corpus not found at {DAG_CORPUS}; set GWDAG_FIXTURES to "
                    "the shared fixtures directory")


@pytest.fixture
def stub_condor_dagman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``condor_dagman`` that exits 0, first on PATH, as htcondor2.Submit.from_dag needs."""
    bindir = tmp_path / "stub-bin"
    bindir.mkdir()
    stub = bindir / "condor_dagman"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return stub
