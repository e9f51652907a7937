"""Shared fixtures: the real-data corpus (``GWDAG_FIXTURES``), HTCondor stubs, and
gwdag daemons started as processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
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


GWCELERY = FIXTURES / "gwcelery"


def require_gwcelery() -> Path:
    """The GWCelery fixture directory, or a skip (a fail in CI) when it is absent."""
    if not GWCELERY.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the GWCelery fixtures are missing at {GWCELERY} (set GWDAG_FIXTURES)")
        pytest.skip(f"GWCelery fixtures not found at {GWCELERY}; set GWDAG_FIXTURES")
    return GWCELERY


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A real redis-server on a unix socket for the session; yields its URL base."""
    import shutil
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs it with apt-get)")
        pytest.skip("redis-server not installed")
    directory = tmp_path_factory.mktemp("redis")
    sock = directory / "redis.sock"
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", str(sock),
                             "--save", "", "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.02)
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait(5)


_DAEMONS: list[subprocess.Popen] = []


def start_gwdag(*args: str, log_dir: Path, config: Path | None = None) -> subprocess.Popen:
    """``python -m gwdag [--config F] ARGS...`` as a process; its stderr goes to a
    file (``proc.log``: a full pipe would block the daemon's logging).  Killed at
    the end of the test if still running."""
    command = [sys.executable, "-m", "gwdag"] + (["--config", str(config)] if config else [])
    log = open(log_dir / f"{args[0]}-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen([*command, *args], stdout=subprocess.DEVNULL, stderr=log,
                            text=True)
    proc.log = log  # type: ignore[attr-defined]
    _DAEMONS.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_daemon_outlives_its_test():
    yield
    while _DAEMONS:
        proc = _DAEMONS.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
