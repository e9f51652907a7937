"""Every real message in the GWCelery fixtures, the hostile corpus, GPS times."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest

from gwdag.intake import AlertRejected, parse_alert
from gwdag.intake.alert import safe_component
from gwdag.intake.formats import Limits
from gwdag.intake.gpstime import gps_to_utc, iso_to_gps

from .conftest import require_gwcelery

#: file -> (kind, trigger GPS or None, a field that must be there) for accepted
#: files, or the start of the rejection reason.
EXPECTED = {
    "gcn_voevent/G298048-1-Initial.xml": ("voevent", 1187008882.44571, ("mission", "LVC")),
    "gcn_voevent/externaltrigger_original_data.xml":
        ("voevent", 1187008884.47, ("packet_type", 112)),
    "gcn_voevent/fermi_grb_gcn.xml": ("voevent", 1211191124.31, ("most_likely_index", 4.0)),
    "gcn_voevent/fermi_subthresh_grb_gcn.xml": ("voevent", 1241021806.22, ("subthreshold", True)),
    "gcn_voevent/swift_grb_gcn.xml": ("voevent", 1346594743.76, ("mission", "Swift")),
    "gcn_voevent/svom_grb_gcn.xml": ("voevent", 1424015464.036, ("trigger_id", "sb25021904")),
    "gcn_voevent/snews_gcn.xml": ("voevent", 1221321619.0, ("packet_type", 149)),
    "gcn_voevent/agile_grb_gcn.xml": ("voevent", 1235850051.67, ("mission", "AGILE")),
    "gcn_voevent/integral_grb_gcn.xml": ("voevent", 1179576221.68, ("mission", "INTEGRAL")),
    "gcn_voevent/einsteinprobe_grb_template.xml":
        ("voevent", 1406538451.799, ("mission", "EinsteinProbe")),
    "gcn_kafka_json/kafka_alert_chime_detection.json":
        ("gcn_json", 1410679168.765268, ("mission", "CHIME")),
    "gcn_kafka_json/kafka_alert_einteinprobe.json":
        ("gcn_json", 1406538451.799, ("mission", "EinsteinProbe")),
    "gcn_kafka_json/kafka_alert_icecube_bronze.json":
        ("gcn_json", 1365657764.150574, ("p_astro", 0.74064)),
    "gcn_kafka_json/kafka_alert_fermi_targeted.json":
        ("gcn_json", 1348958107.0, ("has_healpix_file", True)),
    "gcn_kafka_json/kafka_alert_svom_wakeup.json": ("gcn_json", 1392627109.32, ("mission", "SVOM")),
    "igwn_alert/lvalert_event_creation.json":
        ("igwn_alert", 1338924113.077977, ("snr", 15.1563299467438)),
    "igwn_alert/igwn_alert_superevent_creation.json":
        ("igwn_alert", 1213205532.24, ("object_type", "superevent")),
    "igwn_alert/igwn_alert_superevent_label.json":
        ("igwn_alert", None, ("alert_type", "label_added")),
    "igwn_alert/igwn_alert_exttrig_creation.json":
        ("igwn_alert", 1218097368.31, ("object_type", "external")),
    "igwn_alert/git_mock_trigger_new_G000005_burst.json":
        ("igwn_alert", 1163905214.4, ("group", "Burst")),
    "ligolw/coinc.xml": ("coinc_xml", 1358062124.7423375, ("psd_count", 3)),
    "ligolw/psd.xml.gz": ("psd_xml", None, ("instruments", ["H1", "L1", "V1"])),
    "ligolw/first2years_gstlal.xml.gz": ("coinc_xml", 970976257.4808338, ("coinc_count", 250)),
    "gcn_kafka_json/kafka_alert_rubin.json": "JSON is neither a GCN notice",
    "gracedb_objects/S230413b.json": "GraceDB API object, not an alert",
    "gracedb_objects/G298048_log.json": "JSON message is a list",
    "skymaps/bayestar.multiorder.fits": "FITS file",
    "skymaps/fermi_skymap.fits.gz": "FITS file",
}
GRACEDB_REASONS = ("GraceDB API object", "JSON message is a list", "JSON is neither")
ROLES = {"gcn_kafka_json/kafka_alert_fermi_test.json": "test",
         "gcn_voevent/einsteinprobe_grb_template.xml": "test",
         "gcn_voevent/fermi_subgrbtargeted_template.xml": "test",
         "igwn_alert/lvalert_snews_test_creation.json": "test"}


def _all_files(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*") if p.is_file() and p.name != "README.md")


def test_every_fixture_is_accepted_or_rejected_with_a_reason():
    base = require_gwcelery()
    keys: dict[str, str] = {}
    checked = 0
    for path in _all_files(base):
        name = str(path.relative_to(base))
        raw = path.read_bytes()
        expected = EXPECTED.get(name)
        try:
            alert = parse_alert(raw, received_at=1.0)
        except AlertRejected as exc:
            if expected is None and name.startswith("gracedb_objects/"):
                # REST API objects, not messages: every one is refused as such
                assert exc.reason.startswith(GRACEDB_REASONS), (name, exc.reason)
                continue
            assert isinstance(expected, str), f"{name} rejected: {exc.reason}"
            assert exc.reason.startswith(expected), (name, exc.reason)
            checked += 1
            continue
        assert not isinstance(expected, str), f"{name} accepted but should be rejected"
        assert alert.key == parse_alert(raw).key, "same bytes, same key"
        assert alert.key not in keys, f"{name} and {keys.get(alert.key)} share a key"
        keys[alert.key] = name
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", alert.key), alert.key
        assert alert.role == ROLES.get(name, "observation"), name
        if expected:
            kind, gps, (field, value) = expected
            assert alert.kind == kind, name
            assert alert.trigger_gps == pytest.approx(gps, abs=1e-6) if gps else \
                alert.trigger_gps is None, name
            assert alert.fields[field] == value, (name, field)
            checked += 1
    assert checked == len(EXPECTED)
    assert len(keys) == 59  # 72 files - 13 refused (10 GraceDB objects, 2 FITS, Rubin)


def test_reserialised_json_keeps_its_key_and_an_edit_changes_it():
    base = require_gwcelery()
    raw = (base / "igwn_alert/lvalert_event_creation.json").read_bytes()
    obj = json.loads(raw)
    assert parse_alert(json.dumps(obj, indent=None).encode()).key == parse_alert(raw).key
    obj["object"]["far"] = 1e-3
    assert parse_alert(json.dumps(obj).encode()).key != parse_alert(raw).key


def test_gps_times_agree_with_astropy():
    from astropy.time import Time

    for iso in ("1999-01-01T00:00:00", "2015-06-30T23:59:59.5", "2015-07-01T00:00:00",
                "2017-08-17T12:41:04.4457", "2024-02-22T08:51:31.32", "1981-07-01T00:00:00"):
        expected = Time(iso, scale="utc").gps
        assert iso_to_gps(iso + "Z") == pytest.approx(expected, abs=1e-6), iso
        assert iso_to_gps(iso) == pytest.approx(expected, abs=1e-6)
        back = gps_to_utc(expected).strftime("%Y-%m-%dT%H:%M:%S")
        assert back == iso[:19]
    assert iso_to_gps("2017-08-17T14:41:04.4457+02:00") == pytest.approx(1187008882.4457)
    with pytest.raises(ValueError):
        iso_to_gps("yesterday")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://x/y#z"
 role="observation">&lol3;</voe:VOEvent>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://x/y#z"
 role="observation"><What><Param name="TrigID" value="&xxe;"/></What></voe:VOEvent>"""
VOEVENT = (b'<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" '
           b'ivorn="IVORN" role="ROLE"><What><Param name="Packet_Type" value="111"/>'
           b'</What><WhereWhen><ISOTime>TIME</ISOTime><C1>RA</C1></WhereWhen></voe:VOEvent>')


def _voevent(ivorn=b"ivo://nasa.gsfc.gcn/Fermi#x_1", role=b"observation",
             when=b"2020-01-01T00:00:00Z", ra=b"10.0") -> bytes:
    return (VOEVENT.replace(b"IVORN", ivorn).replace(b"ROLE", role)
            .replace(b"TIME", when).replace(b"RA", ra))


HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, "XML declares entities"),
    "external entity": (XXE, "XML declares entities"),
    "too big": (b"<" + b"a" * 2000, "message of 2001 bytes exceeds"),
    "truncated XML": (_voevent()[:120], "malformed XML"),
    "binary": (bytes(range(256)), "not XML or JSON"),
    "empty": (b"   \n", "empty message"),
    "non-UTF-8 JSON": (b'{"uid": "G1\xff", "alert_type": "new"}', "JSON is not UTF-8"),
    "NaN in JSON": (b'{"uid": "G1", "alert_type": "new", "object": {"graceid": "G1", '
                    b'"far": NaN}}', "malformed JSON"),
    "deep JSON": (b"[" * 100 + b"]" * 100, "JSON nested deeper"),
    "wrong type": (b'{"uid": "G1", "alert_type": "new", "object": {"graceid": "G1", '
                   b'"gpstime": "soon"}}', "object.gpstime: expected a number"),
    "wrong alert type": (b'{"uid": "G1", "alert_type": "explode"}', "IGWN alert_type"),
    "bad role": (_voevent(role=b"attack"), "VOEvent role"),
    "no ivorn": (_voevent(ivorn=b"none"), "VOEvent has no ivorn"),
    "bad time": (_voevent(when=b"2020-13-45T99:00:00"), "VOEvent ISOTime"),
    "bad position": (_voevent(ra=b"east"), "VOEvent C1: expected a number"),
    "gzip bomb": (gzip.compress(b"\0" * (3 << 20)), "gzip data expands beyond"),
    "corrupt gzip": (gzip.compress(b"hello")[:10] + b"\x07" + b"\0" * 40, "corrupt gzip data"),
    "truncated gzip": (gzip.compress(bytes(range(256)) * 40)[:200], "truncated gzip data"),
    "Transport message": (b'<trn:Transport xmlns:trn="http://telescope-networks.org/schema/'
                          b'Transport/v1.1" role="iamalive"/>', "VOEvent Transport message"),
    "unknown XML": (b"<html><body/></html>", "unknown XML document <html>"),
    "GCN without time": (b'{"$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/'
                         b'fermi/gbm/alert.schema.json", "mission": "Fermi"}',
                         "GCN notice has no trigger_time"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_rejected_fast_with_a_reason(case: str):
    data, reason = HOSTILE[case]
    limits = Limits(max_bytes=2000 if case == "too big" else 16 << 20, max_unzipped=2 << 20)
    start = time.perf_counter()
    with pytest.raises(AlertRejected) as info:
        parse_alert(data, limits=limits)
    assert time.perf_counter() - start < 0.5
    assert info.value.reason.startswith(reason), info.value.reason
    assert "\n" not in info.value.reason


def test_path_characters_never_reach_the_key():
    alert = parse_alert(_voevent(ivorn=b"ivo://nasa.gsfc.gcn/Fermi#../../etc/passwd"))
    assert "/" not in alert.key and ".." not in alert.key
    assert safe_component("..") == "x" and safe_component("a/../b") == "a_.._b".strip("._-")
    assert "/" not in safe_component("/../")
