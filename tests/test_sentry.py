"""Sentry: cron check-ins of ``gwdag cleanup`` / ``gwdag metrics`` and the release,
sent by the real sentry-sdk to a local HTTP endpoint that plays Sentry's ingest."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gwdag import __version__
from gwdag.intake import Spool


class _Ingest(BaseHTTPRequestHandler):
    items: list[tuple[dict, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        lines = body.split(b"\n")
        # an envelope: header line, then (item header, payload) pairs
        for index in range(1, len(lines) - 1, 2):
            if lines[index].strip():
                header = json.loads(lines[index])
                try:
                    payload = json.loads(lines[index + 1])
                except ValueError:
                    payload = {}
                type(self).items.append((header, payload))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def sentry_dsn():
    _Ingest.items = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{server.server_address[1]}/42"
    server.shutdown()


def _gwdag(dsn: str, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SENTRY_DSN": dsn}
    return subprocess.run([sys.executable, "-m", "gwdag", *args], capture_output=True,
                          text=True, env=environment, timeout=60)


def _check_ins(slug: str) -> list[dict]:
    return [payload for header, payload in _Ingest.items
            if header.get("type") == "check_in" and payload.get("monitor_slug") == slug]


def test_cleanup_sends_one_in_progress_and_one_ok(sentry_dsn: str, tmp_path: Path) -> None:
    Spool(str(tmp_path))
    result = _gwdag(sentry_dsn, "cleanup", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    check_ins = _check_ins("gwdag-cleanup")
    assert [c["status"] for c in check_ins] == ["in_progress", "ok"]
    assert check_ins[0]["check_in_id"] == check_ins[1]["check_in_id"]
    assert check_ins[1]["duration"] >= 0
    assert check_ins[0]["monitor_config"]["schedule"] == {"type": "crontab",
                                                          "value": "17 3 * * *"}
    assert check_ins[0]["release"] == f"gwdag-{__version__}"


def test_failed_metrics_run_sends_error(sentry_dsn: str, tmp_path: Path) -> None:
    Spool(str(tmp_path))
    result = _gwdag(sentry_dsn, "metrics", "--root", str(tmp_path),
                    "--textfile", str(tmp_path / "no such dir" / "gwdag.prom"))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert [c["status"] for c in _check_ins("gwdag-metrics")] == ["in_progress", "error"]
    ok = _gwdag(sentry_dsn, "metrics", "--root", str(tmp_path))
    assert ok.returncode == 0
    assert [c["status"] for c in _check_ins("gwdag-metrics")][-2:] == ["in_progress", "ok"]


def test_off_without_a_dsn(tmp_path: Path) -> None:
    Spool(str(tmp_path))
    environment = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    result = subprocess.run([sys.executable, "-m", "gwdag", "cleanup", "--root",
                             str(tmp_path)], capture_output=True, text=True, env=environment,
                            timeout=60)
    assert result.returncode == 0 and "Sentry" not in result.stderr
