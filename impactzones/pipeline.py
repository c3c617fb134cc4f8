"""The whole pipeline on one set of layers and incidents, as the demo runs it.

The CLI's ``impactzones demo`` is a thin shell over :func:`run_demo`; a notebook can call
the same function, or the stages one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import __version__
from .assign import assign, count_incidents
from .change import format_pct, percent_change
from .errors import InputError
from .geo import Layers, st_louis
from .io import LoadResult, read_incidents, read_layer, write_json, write_table, write_vector
from .schema import is_sensitive


@dataclass
class DemoResult:
    """What the demo made: assigned incidents, tables, headline figures and files written."""

    incidents: gpd.GeoDataFrame
    layers: Layers
    counts: pd.DataFrame
    headline: dict
    files: list[Path] = field(default_factory=list)
    load: LoadResult | None = None
    truth: object | None = None


def load_layers(
    boundary: str | Path | None = None,
    districts: str | Path | None = None,
    zones: str | Path | None = None,
    neighborhoods: str | Path | None = None,
) -> Layers:
    """The bundled St. Louis layers, with any of them replaced by a user's file."""
    base = st_louis()
    return Layers(
        boundary=read_layer(boundary, kind="boundary") if boundary else base.boundary,
        districts=read_layer(districts, kind="districts") if districts else base.districts,
        neighborhoods=(
            read_layer(neighborhoods, kind="neighborhoods") if neighborhoods else base.neighborhoods
        ),
        zones=read_layer(zones, kind="zones") if zones else base.zones,
    )


def change_in(incidents: pd.DataFrame, mask, group: str, before: int, after: int) -> dict:
    """Counts of ``group`` in two calendar years where ``mask`` holds, and the change."""
    sel = incidents[mask & (incidents["group"] == group)]
    years = sel["occurred_at"].dt.year
    b = int((years == before).sum())
    a = int((years == after).sum())
    pct = percent_change(b, a)
    return {"before": b, "after": a, "percent_change": pct, "display": format_pct(pct)}


def run_demo(
    out: str | Path = "maps",
    *,
    seed: int = 2018,
    scale: float = 1.0,
    boundary=None,
    districts=None,
    zones=None,
    incidents=None,
    columns=None,
    crs=None,
    ring: float = 400.0,
    progress=None,
) -> DemoResult:
    """Run the pipeline on the bundled (or given) layers and synthetic (or given) incidents.

    Writes into ``out``: ``incidents.parquet`` (non-sensitive incidents as points; rape and
    domestic-violence incidents are counted in the tables but never exported as points),
    ``counts_by_year_district.csv``, ``summary.json``, the planted truth (synthetic runs) or
    the rejects table (real runs), and ``overview.html``.
    """
    from .webmap import overview_map, save_map

    step = progress or (lambda _msg: None)
    out = Path(out)
    step("Loading layers")
    layers = load_layers(boundary, districts, zones)
    load = truth = None
    if incidents:
        step("Reading incidents")
        inputs = [incidents] if isinstance(incidents, (str, Path)) else list(incidents)
        load = read_incidents(inputs, columns=columns, crs=crs, study_area=layers.study_area)
        inc = load.incidents
        source = ", ".join(str(p) for p in inputs)
    else:
        from .synth import synthesize

        step("Generating synthetic incidents")
        truth = synthesize(seed=seed, scale=scale, layers=layers, ring=ring)
        inc = truth.incidents
        source = f"synthetic (seed {seed}, scale {scale:g})"
    if len(inc) == 0:
        raise InputError("No incidents are left to analyse; see the rejects table for why.")
    step("Assigning incidents to districts and zones")
    inc = assign(inc, layers, ring=ring)
    counts = count_incidents(inc, by=["year", "district", "group"])
    years = sorted(inc["occurred_at"].dt.year.unique())
    headline: dict = {
        "source": source,
        "version": __version__,
        "run_date": dt.date.today().isoformat(),
        "incidents": len(inc),
        "years": [int(y) for y in years],
    }
    if {2017, 2018} <= set(years):
        first = layers.zones.iloc[0]
        headline["zone"] = str(first["name"])
        headline["zone_change"] = change_in(
            inc, inc["zone"] == first["name"], "violent", 2017, 2018
        )
        headline["citywide_change"] = change_in(
            inc, inc["area_type"] != "outside", "violent", 2017, 2018
        )
    step("Writing outputs")
    files = []
    sensitive = is_sensitive(inc)
    export = inc[~sensitive].drop(columns=["zones"])
    files.append(write_vector(export, out / "incidents.parquet"))
    files.append(write_table(counts, out / "counts_by_year_district.csv"))
    files.append(
        write_table(count_incidents(inc, by=["year", "category"]), out / "counts_by_year.csv")
    )
    headline["sensitive_not_exported"] = int(sensitive.sum())
    if truth is not None:
        from .synth import write_truth

        files.extend(write_truth(truth, out))
    if load is not None:
        files.append(write_table(load.rejects, out / "rejects.csv"))
        headline["load"] = load.tally
    lines = [f"Data: {source}", f"Run: {headline['run_date']}, impactzones {__version__}"]
    if "zone_change" in headline:
        zc, cc = headline["zone_change"], headline["citywide_change"]
        lines.insert(
            0,
            f"Violent crime 2017 to 2018: {headline['zone']} zone {zc['display']}, "
            f"citywide {cc['display']}",
        )
    m = overview_map(
        layers, inc, title="Patrol districts and Impact Zones", lines=lines, ring=ring, seed=seed
    )
    files.append(save_map(m, out / "overview.html"))
    files.append(write_json(headline, out / "summary.json"))
    return DemoResult(inc, layers, counts, headline, files, load, truth)
