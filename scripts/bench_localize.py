#!/usr/bin/env python
"""Benchmark ``gwdag step localize`` against the truth and against BAYESTAR.

Datasets: the 250 injections of ``first2years_gstlal.xml.gz`` (fixtures) and
events drawn by ``gwdag simulate``.  For each: median searched area, median 90%
area, the fraction of true positions inside the 10%, 20%, ..., 90% credible
regions (P–P), median runtime per event on ``--threads`` threads.  When BAYESTAR
(ligo.skymap) is importable here, or ``--bayestar-python`` names an interpreter
that has it, BAYESTAR localizes the first ``--bayestar-events`` events of each
dataset in the same run (binary neutron stars only for the simulated set: its
heavier templates need ROM data files the lalsuite wheels lack) and the ratios
are printed.

    python scripts/bench_localize.py [--limit 250] [--sim-events 100]
        [--bayestar-python /path/to/python] [--bayestar-events 20]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gwdag.intake.ligolw import read_ligolw  # noqa: E402
from gwdag.pipeline.localize import SNR_RESCALE, localize  # noqa: E402
from gwdag.pipeline.simulate import F_LOW as SIMULATOR_F_LOW  # noqa: E402
from gwdag.pipeline.skymap import credible_area, searched  # noqa: E402
from gwdag.steps.localize import load_coinc  # noqa: E402
from gwdag.steps.simulate import write_simulation  # noqa: E402
from gwdag.steps.skymap_file import read_sky_map  # noqa: E402

FIXTURES = Path(os.environ.get("GWDAG_FIXTURES",
                               Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
FIRST2YEARS = FIXTURES / "gwcelery" / "ligolw" / "first2years_gstlal.xml.gz"
LEVELS = np.arange(0.1, 1.0, 0.1)


def first2years_events(limit: int) -> list[dict]:
    """(coinc id, true ra, dec) of the first ``limit`` coincs with injections."""
    doc = read_ligolw(FIRST2YEARS)
    truth = doc.injections()
    events = []
    for row in doc.table("coinc_inspiral")[:limit]:
        sim = truth[row["coinc_event_id"]]
        events.append({"id": row["coinc_event_id"].rsplit(":", 1)[-1], "ra": sim["longitude"],
                       "dec": sim["latitude"], "distance": sim["distance"],
                       "coinc": str(FIRST2YEARS), "document": doc})
    return events


def simulated_events(count: int, seed: int, out: Path) -> list[dict]:
    truth = write_simulation(out, count, seed=seed)
    return [{"id": "0", "ra": np.radians(t["ra_deg"]), "dec": np.radians(t["dec_deg"]),
             "distance": t["distance_mpc"], "coinc": t["coinc"], "document": None,
             "mtotal": t["mass1"] + t["mass2"]} for t in truth]


def run_gwdag(events: list[dict], f_low: float, threads: int,
              rescale: float | None) -> list[dict]:
    results = []
    for number, event in enumerate(events):
        candidate = load_coinc(event["coinc"], coinc_event_id=event["id"], f_low=f_low,
                               document=event["document"])
        started = time.perf_counter()
        sky_map = localize(candidate.triggers, threads=threads,
                           snr_rescale=rescale or candidate.snr_rescale,
                           timing_scale=candidate.timing_scale)
        elapsed = time.perf_counter() - started
        area, probability = searched(sky_map.uniq, sky_map.probdensity, event["ra"],
                                     event["dec"])
        results.append({"searched": area, "prob": probability, "seconds": elapsed,
                        "a90": credible_area(sky_map.uniq, sky_map.probdensity, 0.9),
                        "distance": sky_map.distmean / event["distance"]})
        if (number + 1) % 50 == 0:
            print(f"  gwdag: {number + 1}/{len(events)}", file=sys.stderr)
    return results


def bayestar_python(option: str | None) -> str | None:
    if option:
        return option
    try:
        import ligo.skymap  # noqa: F401
    except ImportError:
        return os.environ.get("GWDAG_BAYESTAR_PYTHON")
    return sys.executable


def _bayestar_copy(coinc: str, workdir: Path) -> Path:
    """A copy BAYESTAR reads: PSDs in a file named by ``--reference-psd`` and a
    process program whose phase convention it knows (gstlal's, which gwdag's
    simulator and the fixture use)."""
    workdir.mkdir(parents=True, exist_ok=True)
    raw = Path(coinc).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                             load_dtd=False)
    root = etree.fromstring(raw, parser)
    psd_root = etree.Element("LIGO_LW")
    holder = etree.SubElement(psd_root, "LIGO_LW", Name="psd")
    for element in list(root.iter("LIGO_LW")):
        if element.get("Name") == "REAL8FrequencySeries":
            holder.append(element)
    (workdir / "psd.xml").write_bytes(etree.tostring(psd_root, xml_declaration=True,
                                                     encoding="utf-8"))
    text = etree.tostring(root, xml_declaration=True, encoding="utf-8").decode()
    text = text.replace('"gwdag_simulate"', '"gstlal_inspiral"')
    # point every --reference-psd at the extracted file
    for row in read_ligolw(raw).table("process_params"):
        if row.get("param") == "--reference-psd":
            text = text.replace(f'"{row["value"]}"', '"psd.xml"')
    if "--reference-psd" not in text:
        raise SystemExit(f"{coinc}: no --reference-psd process param to point at the PSDs")
    target = workdir / "coinc.xml"
    target.write_text(text)
    return target


def run_bayestar(python: str, events: list[dict], f_low: float, threads: int,
                 workdir: Path) -> list[dict]:
    results = []
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    copies: dict[str, Path] = {}
    for number, event in enumerate(events):
        if event["coinc"] not in copies:
            copies[event["coinc"]] = _bayestar_copy(event["coinc"],
                                                    workdir / f"input-{len(copies)}")
        coinc = copies[event["coinc"]]
        out = workdir / f"out-{number}"
        started = time.perf_counter()
        subprocess.run([python, "-c", "import sys; from ligo.skymap.tool."
                        "bayestar_localize_coincs import main; sys.exit(main(sys.argv[1:]))",
                        str(coinc), "--f-low", str(f_low), "--coinc-event-id", event["id"],
                        "-o", str(out)], check=True, env=environment,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        sky_map = read_sky_map(out / f"{event['id']}.fits")
        area, probability = searched(sky_map.uniq, sky_map.probdensity, event["ra"],
                                     event["dec"])
        results.append({"searched": area, "prob": probability, "wall": wall,
                        "seconds": float(sky_map.header["RUNTIME"]),
                        "a90": credible_area(sky_map.uniq, sky_map.probdensity, 0.9),
                        "distance": float(sky_map.header["DISTMEAN"]) / event["distance"]})
        print(f"  BAYESTAR: {number + 1}/{len(events)} ({wall:.1f} s)", file=sys.stderr)
    return results


def summary(name: str, results: list[dict]) -> dict:
    probs = np.array([r["prob"] for r in results])
    row = {
        "n": len(results),
        "searched": float(np.median([r["searched"] for r in results])),
        "a90": float(np.median([r["a90"] for r in results])),
        "seconds": float(np.median([r["seconds"] for r in results])),
        "pp": [float(np.mean(probs <= level)) for level in LEVELS],
        "distance": float(np.median([r["distance"] for r in results])),
    }
    pp = " ".join(f"{value:.2f}" for value in row["pp"])
    print(f"{name:<28} n={row['n']:<4} searched {row['searched']:8.1f} deg²  "
          f"90% {row['a90']:8.1f} deg²  in 90%: {row['pp'][-1]:.2f}  "
          f"median {row['seconds']:.3f} s  dist/true {row['distance']:.2f}")
    print(f"{'':<28} P–P at 10..90%: {pp}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=250, help="first2years coincs to use")
    parser.add_argument("--sim-events", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--f-low", type=float, default=30.0,
                        help="low-frequency cutoff for both codes on first2years (Hz; "
                             "BAYESTAR's default); simulated events use the simulator's")
    parser.add_argument("--snr-rescale", type=float,
                        help="override the per-pipeline SNR calibration (default: "
                             f"{SNR_RESCALE} for search pipelines, 1 for the simulator)")
    parser.add_argument("--bayestar-python", help="interpreter with ligo.skymap")
    parser.add_argument("--bayestar-events", type=int, default=20)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not FIRST2YEARS.is_file():
        raise SystemExit(f"{FIRST2YEARS} not found: set GWDAG_FIXTURES")
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-localize-"))
    python = bayestar_python(args.bayestar_python)
    report: dict = {}
    try:
        datasets = {
            "first2years": first2years_events(args.limit),
            "simulated": simulated_events(args.sim_events, args.seed, work / "sim"),
        }
        f_lows = {"first2years": args.f_low, "simulated": SIMULATOR_F_LOW}
        for name, events in datasets.items():
            if not events:
                continue   # --sim-events 0 / --limit 0: that dataset is not wanted
            f_low = f_lows[name]
            print(f"\n== {name}: {len(events)} events, f_low {f_low:g} Hz, "
                  f"{args.threads} threads")
            mine = run_gwdag(events, f_low, args.threads, args.snr_rescale)
            report[name] = {"gwdag": summary("gwdag (all)", mine)}
            if python is None:
                print("BAYESTAR: ligo.skymap not importable; pass --bayestar-python")
                continue
            # BAYESTAR's templates above 4 M_sun are ROM waveforms whose data files
            # the lalsuite wheels lack: compare on binaries it can model.
            chosen = [i for i, e in enumerate(events) if e.get("mtotal", 0.0) < 4.0]
            chosen = chosen[:args.bayestar_events]
            count = len(chosen)
            theirs = run_bayestar(python, [events[i] for i in chosen], f_low, args.threads,
                                  work / f"bayestar-{name}")
            subset = [mine[i] for i in chosen]
            ours = summary(f"gwdag (same {count})", subset)
            base = summary(f"BAYESTAR (same {count})", theirs)
            pairs = list(zip(subset, theirs, strict=True))
            ratios = {"searched": ours["searched"] / base["searched"],
                      "a90": ours["a90"] / base["a90"],
                      "speedup": base["seconds"] / ours["seconds"],
                      "searched_paired": float(np.median(
                          [a["searched"] / b["searched"] for a, b in pairs])),
                      "a90_paired": float(np.median(
                          [a["a90"] / b["a90"] for a, b in pairs]))}
            report[name].update({"gwdag_subset": ours, "bayestar": base, "ratios": ratios})
            print(f"ratios gwdag/BAYESTAR: searched area {ratios['searched']:.2f}x, "
                  f"90% area {ratios['a90']:.2f}x (medians); per-event median "
                  f"{ratios['searched_paired']:.2f}x and {ratios['a90_paired']:.2f}x; "
                  f"speed {ratios['speedup']:.0f}x faster")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
