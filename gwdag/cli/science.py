"""``gwdag step localize``, ``gwdag skymap stats`` and ``gwdag simulate``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

SCHEMA_VERSION = 1


STEP_TIMING_PREFIX = "gwdag step timing:"


@click.group("step")
def step_group() -> None:
    """The programs DAG nodes run, each with explicit file arguments."""


@step_group.result_callback()
def _report_step_time(*_: object, **__: object) -> None:
    """A last stderr line with the step's wall time (s) since the process
    started, so a node's cost shows in its .err file (and gwdag demo's table)."""
    import sys
    import time

    main_module = sys.modules.get("__main__")
    started = getattr(main_module, "PROCESS_STARTED", None)
    context = click.get_current_context()
    name = context.invoked_subcommand or "?"
    if started is not None:
        click.echo(f"{STEP_TIMING_PREFIX} {name} {time.time() - started:.3f} s", err=True)


@step_group.command("localize")
@click.option("--coinc", type=click.Path(exists=True, dir_okay=False),
              help="LIGO-LW coinc.xml[.gz] with sngl_inspiral rows (and PSDs).")
@click.option("--event", type=click.Path(exists=True, dir_okay=False),
              help="IGWN-alert G-event JSON with SingleInspiral rows.")
@click.option("--psd", type=click.Path(exists=True, dir_okay=False),
              help="LIGO-LW psd.xml[.gz] (default: the coinc file's own PSDs, then its "
                   "--reference-psd, then — for --event — a model noise curve).")
@click.option("--coinc-event-id", help="Which coinc of a multi-coinc file (default: first).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Multi-order FITS sky map to write.")
@click.option("--threads", type=click.IntRange(min=1),
              help="Threads (default: $OMP_NUM_THREADS, else every CPU available).")
@click.option("--f-low", type=click.FloatRange(min=1.0), default=15.0, show_default=True,
              help="Template low-frequency cutoff (Hz).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def step_localize(coinc: str | None, event: str | None, psd: str | None,
                  coinc_event_id: str | None, out: str, threads: int | None,
                  f_low: float, as_json: bool) -> None:
    """Localize one candidate and write its multi-order FITS sky map."""
    from ..pipeline.skymap import credible_area
    from ..steps.localize import LocalizeInputError, run_localize

    try:
        candidate, sky_map, written = run_localize(
            out=out, coinc=coinc, event=event, psd=psd, coinc_event_id=coinc_event_id,
            threads=threads, f_low=f_low)
    except LocalizeInputError as exc:
        raise click.ClickException(str(exc)) from None
    summary = {
        "schema_version": SCHEMA_VERSION, "candidate": candidate.name,
        "pipeline": candidate.pipeline, "psd": candidate.psd_source,
        "instruments": sky_map.instruments, "skymap": str(written),
        "area_90_deg2": credible_area(sky_map.uniq, sky_map.probdensity, 0.9),
        "distmean_mpc": sky_map.distmean, "diststd_mpc": sky_map.diststd,
        "runtime_s": sky_map.runtime, "pixels": int(sky_map.uniq.size),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{written}: {','.join(sky_map.instruments)} 90% area "
               f"{summary['area_90_deg2']:.1f} deg², distance {sky_map.distmean:.0f} ± "
               f"{sky_map.diststd:.0f} Mpc, {sky_map.runtime:.2f} s")


@click.group("skymap")
def skymap_group() -> None:
    """Inspect multi-order FITS sky maps."""


@skymap_group.command("stats")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@click.option("--ra", type=click.FloatRange(0.0, 360.0), help="Position to search for (deg).")
@click.option("--dec", type=click.FloatRange(-90.0, 90.0), help="Position to search for (deg).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def skymap_stats(files: tuple[str, ...], ra: float | None, dec: float | None,
                 as_json: bool) -> None:
    """50%/90% areas, most probable position, distance and — with --ra/--dec —
    the searched area and probability of a position."""
    from ..pipeline.skymap import sky_map_statistics
    from ..steps.skymap_file import read_sky_map

    if (ra is None) != (dec is None):
        raise click.UsageError("give both --ra and --dec, or neither")
    rows = []
    for path in files:
        try:
            sky_map = read_sky_map(path)
            stats = sky_map_statistics(
                sky_map.uniq, sky_map.probdensity,
                distmean=sky_map.header.get("DISTMEAN"), diststd=sky_map.header.get("DISTSTD"),
                ra=None if ra is None else math.radians(ra),
                dec=None if dec is None else math.radians(dec))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        rows.append({"file": path, "object": sky_map.header.get("OBJECT"),
                     "instruments": sky_map.header.get("INSTRUME"),
                     "area_50_deg2": stats.area_50, "area_90_deg2": stats.area_90,
                     "max_ra_deg": stats.max_ra, "max_dec_deg": stats.max_dec,
                     "distmean_mpc": stats.distmean, "diststd_mpc": stats.diststd,
                     "searched_area_deg2": stats.searched_area,
                     "searched_prob": stats.searched_prob})
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "skymaps": rows}, indent=2))
        return
    for row in rows:
        line = (f"{row['file']}: 50% {row['area_50_deg2']:.1f} deg², 90% "
                f"{row['area_90_deg2']:.1f} deg², max at RA {row['max_ra_deg']:.2f}° "
                f"Dec {row['max_dec_deg']:+.2f}°")
        if row["distmean_mpc"] is not None:
            line += f", distance {row['distmean_mpc']:.0f} ± {row['diststd_mpc']:.0f} Mpc"
        if row["searched_area_deg2"] is not None:
            line += (f"; position found after {row['searched_area_deg2']:.1f} deg² "
                     f"(probability {row['searched_prob']:.3f})")
        click.echo(line)


@click.command("simulate")
@click.option("--n", "count", type=click.IntRange(min=1), required=True,
              help="Detected events to write.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory.")
@click.option("--detectors", default="H1,L1,V1", show_default=True,
              help="Comma-separated detectors (H1, L1, V1, K1).")
@click.option("--seed", type=int, help="Random seed (same seed, same events).")
@click.option("--grb-fraction", type=click.FloatRange(0.0, 1.0), default=0.0,
              show_default=True, help="Fraction of events with a coincident GRB notice.")
@click.option("--start-gps", type=float, default=1400000000.0, show_default=True,
              help="GPS time of the first event.")
@click.option("--spacing", type=click.FloatRange(min=1.0), default=1000.0,
              show_default=True, help="Seconds between events.")
@click.option("--json", "as_json", is_flag=True, help="Print the truth as JSON.")
def simulate(count: int, out: str, detectors: str, seed: int | None, grb_fraction: float,
             start_gps: float, spacing: float, as_json: bool) -> None:
    """Simulate detected compact-binary events: coinc.xml, G-event JSON, optional
    GRB VOEvent per event, and truth.json."""
    from ..steps.simulate import write_simulation

    names = tuple(d.strip() for d in detectors.split(",") if d.strip())
    try:
        truth = write_simulation(out, count, detectors=names, seed=seed,
                                 grb_fraction=grb_fraction, start_gps=start_gps,
                                 spacing=spacing)
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "out": out,
                               "events": truth}, indent=2))
        return
    for row in truth:
        grb = f", GRB {row['grb']['offset_s']:+.1f} s" if row["grb"] else ""
        click.echo(f"{row['graceid']} {row['category']:<4} network SNR "
                   f"{row['network_snr']:5.1f} at RA {row['ra_deg']:6.2f}° Dec "
                   f"{row['dec_deg']:+6.2f}°, {row['distance_mpc']:5.0f} Mpc{grb}")
    click.echo(f"{len(truth)} events in {Path(out) / 'truth.json'}")
