"""The operations tools' read-only view of the state store, while it is created."""

from __future__ import annotations

import sqlite3

from gwdag.ops.nagios import run_checks
from gwdag.ops.status import collect_status
from gwdag.ops.store_reader import open_store
from gwdag.ops.watch import collect_runs
from gwdag.planner.store import StateStore


def _half_made_store(root):
    # What a reader can meet while the planner starts: the file exists (sqlite
    # creates it on connect) but the schema's transaction has not committed.
    (root / "state").mkdir(parents=True)
    (root / "state" / "gwdag.sqlite").touch()


def test_no_store_and_a_store_without_its_tables_read_as_none(tmp_path):
    assert open_store(tmp_path) is None
    _half_made_store(tmp_path)
    assert open_store(tmp_path) is None
    db = sqlite3.connect(tmp_path / "state" / "gwdag.sqlite")
    db.execute("CREATE TABLE unrelated (x)")
    db.commit()
    db.close()
    assert open_store(tmp_path) is None


def test_a_created_store_opens_read_only(tmp_path):
    StateStore(tmp_path).close()
    db = open_store(tmp_path)
    assert db is not None
    try:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
        try:
            db.execute("DELETE FROM runs")
        except sqlite3.OperationalError as exc:
            assert "readonly" in str(exc)
        else:
            raise AssertionError("the store was opened for writing")
    finally:
        db.close()


def test_tools_see_no_runs_while_the_store_is_being_created(tmp_path):
    # Before: "no such table: runs" from collect_runs made `gwdag watch` exit 1
    # when it scanned between the planner's connect and its schema (seen in CI).
    _half_made_store(tmp_path)
    assert collect_runs(tmp_path) == []
    assert collect_status(tmp_path)["runs"]["by_state"] == {}
    report = run_checks(tmp_path)       # before: sqlite3.OperationalError
    assert report.lines()[0].startswith("GWDAG ")
