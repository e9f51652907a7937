"""The GW state steps against the state store: superevents from real G-event
messages, external triggers from real notices, coincidences and alerts for
simulated events, idempotence and transactions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from gwdag.cli import main
from gwdag.pipeline.coincidence import temporal_far
from gwdag.planner.store import StateStore, StoreError
from gwdag.steps.gw import (
    StepError,
    run_alert,
    run_coinc,
    run_external,
    run_superevent,
)
from gwdag.steps.localize import run_localize
from gwdag.steps.simulate import write_simulation

from .conftest import require_gwcelery


def _igwn(name: str) -> Path:
    return require_gwcelery() / "igwn_alert" / name


def _notice(name: str) -> Path:
    return require_gwcelery() / "gcn_voevent" / name


def test_real_gevents_group_into_superevents(tmp_path):
    first = run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000001_cbc.json"))
    second = run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000002.json"))
    assert first["action"] == "created" and second["action"] == "added"
    assert first["superevent_id"] == second["superevent_id"] == "S201014a"
    again = run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000002.json"))
    assert again["action"] == "duplicate"
    other = run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000000_cbc.json"))
    assert other["action"] == "created" and other["superevent_id"] == "S161123a"
    mdc = run_superevent(tmp_path, _igwn("lvalert_event_creation.json"))
    assert mdc["superevent_id"].startswith("MS")
    store = StateStore(tmp_path, create=False)
    superevent = store.superevent("S201014a")
    assert superevent.gw_events == ("G000001", "G000002")
    assert superevent.t_start == pytest.approx(1286741860.52678)
    assert superevent.t_end == pytest.approx(1286741863.52678)
    store.close()


def test_a_sky_map_makes_an_event_preferred(tmp_path):
    run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000001_cbc.json"))
    run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000002.json"))
    store = StateStore(tmp_path)
    before = store.superevent("S201014a").preferred_event
    store.close()
    other = "G000002" if before == "G000001" else "G000001"
    name = {"G000001": "git_mock_trigger_new_G000001_cbc.json",
            "G000002": "git_mock_trigger_new_G000002.json"}[other]
    skymap = tmp_path / "map.fits"
    skymap.write_bytes(b"placeholder")   # only its existence counts for completeness
    report = run_superevent(tmp_path, _igwn(name), skymap)
    assert report["action"] == "updated" and report["preferred_event"] == other
    # the same message again, without the sky map, keeps the event complete
    assert run_superevent(tmp_path, _igwn(name))["action"] == "duplicate"


def test_external_notices_and_their_updates(tmp_path):
    assert run_external(tmp_path, _notice("fermi_grb_gcn.xml"))["action"] == "created"
    assert run_external(tmp_path, _notice("fermi_grb_gcn.xml"))["action"] == "updated"
    dropped = run_external(tmp_path, _notice("G298048-1-Initial.xml"))
    assert dropped["action"] == "dropped" and "LVC" in dropped["reason"]
    noise = run_external(tmp_path, _notice("fermi_noise_gcn.xml"))
    assert noise["labels"] == ["NOT_GRB"]
    with pytest.raises(StepError, match="not a GCN notice"):
        run_external(tmp_path, _igwn("lvalert_event_creation.json"))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Two simulated events, each with a coincident GRB, localized."""
    out = tmp_path_factory.mktemp("sim")
    truth = write_simulation(out, 2, seed=2, grb_fraction=1.0)
    for row in truth:
        run_localize(out=Path(row["coinc"]).with_name("skymap.fits"), coinc=row["coinc"],
                     threads=2)
    return truth


def test_coincidence_from_either_side_with_joint_fars(tmp_path, simulated):
    row = simulated[0]
    folder = Path(row["coinc"]).parent
    run_superevent(tmp_path, folder / "event.json", folder / "skymap.fits")
    external = run_external(tmp_path, row["grb"]["path"])
    store = StateStore(tmp_path)
    superevent_id = store.superevents()[0].superevent_id
    store.close()
    report = run_coinc(tmp_path, external=external["event_id"])
    (found,) = report["coincidences"]
    assert found["superevent_id"] == superevent_id
    assert found["temporal_coinc_far"] == pytest.approx(
        temporal_far((-1.0, 5.0), "GRB", row["far"]))
    # the GRB position lies on the GW map: the space-time FAR is the lower one
    assert found["overlap"] > 1.0
    assert found["spatiotemporal_coinc_far"] < found["temporal_coinc_far"]
    again = run_coinc(tmp_path, superevent=superevent_id)["coincidences"]
    assert [c["external"] for c in again] == [external["event_id"]]
    result = CliRunner().invoke(main, ["external", "list", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.output)["external"]
    assert set(document) >= {"event_id", "pipeline", "search", "trigger_gps", "labels",
                             "superevent_id", "temporal_coinc_far",
                             "spatiotemporal_coinc_far"}
    assert document["superevent_id"] == superevent_id


def test_a_grb_outside_the_window_is_not_coincident(tmp_path, simulated):
    row = simulated[1]
    folder = Path(row["coinc"]).parent
    run_superevent(tmp_path, folder / "event.json")
    # the other event's GRB is ~1000 s away
    external = run_external(tmp_path, simulated[0]["grb"]["path"])
    assert run_coinc(tmp_path, external=external["event_id"])["coincidences"] == []


def test_alerts_are_sent_once_each(tmp_path, simulated):
    row = simulated[0]
    folder = Path(row["coinc"]).parent
    report = run_superevent(tmp_path, folder / "event.json", folder / "skymap.fits")
    sent = run_alert(tmp_path, report["superevent_id"], second_after=0)
    assert len(sent["sent"]) == 2
    first = json.loads(Path(sent["sent"][0]).read_text())
    assert first["superevent_id"] == report["superevent_id"]
    assert first["alert_type"] == "preliminary" and first["significant"] is True
    assert first["event"]["skymap"] == str(folder / "skymap.fits")
    assert first["external_coinc"] is None
    assert set(first["event"]) == {"time", "far", "instruments", "group", "pipeline",
                                   "search", "skymap"}
    assert run_alert(tmp_path, report["superevent_id"], second_after=0)["sent"] == []


def test_quiet_and_vetoed_superevents_send_nothing(tmp_path):
    message = json.loads(_igwn("lvalert_event_creation.json").read_text())
    message["object"].update(graceid="G1", search="AllSky", far=1e-3 / 3600 * 100)
    path = tmp_path / "quiet.json"
    path.write_text(json.dumps(message))
    report = run_superevent(tmp_path / "root", path)
    result = run_alert(tmp_path / "root", report["superevent_id"], second_after=0)
    assert result["sent"] == [] and "below the alert thresholds" in result["reason"]
    store = StateStore(tmp_path / "root")
    superevent = store.superevent(report["superevent_id"])
    store.put_superevent(superevent.__class__(**{**superevent.__dict__,
                                                 "labels": frozenset({"DQV"}), "far": 1e-20}))
    store.close()
    assert "DQV" in run_alert(tmp_path / "root", report["superevent_id"],
                              second_after=0)["reason"]


def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = StateStore(tmp_path)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_alert("S1", "preliminary", True, 1, "x", 0.0)
            raise RuntimeError("crash between two writes")
    assert store.sent_alerts("S1") == []
    assert store.record_alert("S1", "preliminary", True, 1, "x", 0.0)
    assert not store.record_alert("S1", "preliminary", True, 1, "x", 0.0)
    store.close()
    assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_schema_version_is_checked(tmp_path):
    StateStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / "state" / "gwdag.sqlite")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema version 99"):
        StateStore(tmp_path)
    with pytest.raises(StoreError, match="nothing planned yet"):
        StateStore(tmp_path / "empty", create=False)


def test_read_commands(tmp_path):
    run_superevent(tmp_path, _igwn("git_mock_trigger_new_G000001_cbc.json"))
    runner = CliRunner()
    result = runner.invoke(main, ["superevent", "list", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.output)["superevents"]
    assert set(document) >= {"superevent_id", "t_start", "t_0", "t_end", "preferred_event",
                             "gw_events", "em_events", "far", "labels"}
    result = runner.invoke(main, ["superevent", "show", "S201014a", "--root", str(tmp_path),
                                  "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["gw_events"] == ["G000001"]
    result = runner.invoke(main, ["superevent", "show", "S000000z", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "no superevent" in result.output
    result = runner.invoke(main, ["superevent", "list", "--root", str(tmp_path / "none")])
    assert result.exit_code == 1 and "nothing planned yet" in result.output
    result = runner.invoke(main, ["step", "coinc", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "exactly one" in result.output


def test_flat_gcn_sky_maps_read_as_multiorder():
    from gwdag.pipeline.skymap import pixel_areas, pixel_orders
    from gwdag.steps.skymap_file import read_sky_map

    fermi = read_sky_map(require_gwcelery() / "skymaps" / "fermi_skymap.fits.gz")
    orders, ipix = pixel_orders(fermi.uniq)
    assert fermi.uniq.size == 768 and set(orders) == {3}        # NSIDE 8, RING on disk
    assert sorted(ipix) == list(range(768))
    assert float((fermi.probdensity * pixel_areas(fermi.uniq)).sum()) == pytest.approx(1.0)


def test_an_external_sky_map_in_the_notice_is_used_for_the_overlap(tmp_path, simulated):
    import base64

    from gwdag.intake.gpstime import gps_to_utc

    row = simulated[0]
    folder = Path(row["coinc"]).parent
    run_superevent(tmp_path, folder / "event.json", folder / "skymap.fits")
    notice = json.loads((require_gwcelery() / "gcn_kafka_json" /
                         "kafka_alert_fermi_targeted.json").read_text())
    notice["trigger_time"] = gps_to_utc(row["geocent_time"] + 2.0).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    notice["healpix_file"] = base64.b64encode(
        (folder / "skymap.fits").read_bytes()).decode()      # the same sky: overlap > 1
    path = tmp_path / "targeted.json"
    path.write_text(json.dumps(notice))
    external = run_external(tmp_path, path)
    assert external["search"] == "SubGRBTargeted"
    saved = tmp_path / "external" / f"{external['event_id']}.fits"
    assert saved.read_bytes() == (folder / "skymap.fits").read_bytes()
    (found,) = run_coinc(tmp_path, notice=path)["coincidences"]
    assert found["overlap"] > 10.0
    assert found["spatiotemporal_coinc_far"] == pytest.approx(
        found["temporal_coinc_far"] / found["overlap"])
