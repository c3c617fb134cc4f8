"""The whole pipeline on one set of layers and incidents, as the demo runs it.

The CLI's ``impactzones demo`` is a thin shell over :func:`run_demo`; a notebook can call
the same function, or the stages one by one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from .assign import assign, count_incidents, keep_labels
from .core.change import format_pct
from .core.collect import fewer_collections, no_collection_at_exit
from .core.compat import renamed_keyword
from .core.defaults import RING
from .core.drawing import draw_here
from .core.errors import InputError
from .core.files import writes_into
from .core.geo import Layers, no_point, st_louis
from .core.geometry import share_inside
from .core.results import column_label
from .core.schema import is_sensitive
from .hotspots import registry as _registry
from .io.incidents import LoadResult, read_incidents
from .io.layers import read_layer
from .io.safety import Slugs, slugify, source_label
from .io.writers import write_json, write_table, write_text, write_vector

__all__ = [
    "DEFAULT_METHODS",
    "HOTSPOT_METHODS",
    "DemoResult",
    "blank_sensitive",
    "check_zones",
    "existing_zones",
    "fill_missing_layers",
    "guard_folder",
    "hotspot_params",
    "load_layers",
    "run_demo",
    "run_hotspots",
]


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
    hotspots: dict = field(default_factory=dict)
    comparisons: dict = field(default_factory=dict)
    proposals: gpd.GeoDataFrame | None = None
    backtest: pd.DataFrame | None = None
    #: zone name -> :class:`impactzones.evaluate.run.ZoneEvaluation` (time series,
    #: synthetic control and power, with the counterfactual PNG among its files)
    evaluations: dict = field(default_factory=dict)


def fill_missing_layers(layers: Layers) -> tuple[Layers, list[str]]:
    """Stand-ins for the layers another city's run may lack, and one line for each.

    Without districts, the study area is one district (``district`` 1, named after the
    boundary), so that counts by district are the citywide counts; without zones, an empty
    zone layer, so that zone comparisons and commander maps are skipped (nothing to compare)
    and the hot spots, citywide and analyst maps and proposals are still made.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> base = st_louis()
    >>> filled, lines = fill_missing_layers(Layers(base.boundary, None, None, None))
    >>> len(filled.districts), len(filled.zones), len(lines)
    (1, 0, 2)
    """
    lines = []
    districts, zones = layers.districts, layers.zones
    if districts is None:
        name = str(layers.boundary["name"].iloc[0]) if "name" in layers.boundary else "Study area"
        districts = gpd.GeoDataFrame(
            {"district": [1], "name": [name]},
            geometry=[layers.study_area],
            crs=layers.boundary.crs,
        )
        lines.append(
            "No districts given (--districts): counts by district are for the whole study area."
        )
    if zones is None:
        zones = gpd.GeoDataFrame(
            {
                "name": pd.Series([], dtype=str),
                "start": pd.Series([], dtype="datetime64[ns]"),
                "description": pd.Series([], dtype=str),
            },
            geometry=[],
            crs=layers.boundary.crs,
        )
        lines.append(
            "No Impact Zones given (--zones): zone comparisons and commander maps are skipped."
        )
    return Layers(layers.boundary, districts, layers.neighborhoods, zones), lines


def blank_sensitive(
    incidents: gpd.GeoDataFrame, layers: Layers | None = None, *, ring: float = RING.default
):
    """Private incidents without their points, their areas kept so that counts add up.

    Every row is kept. Rows that :func:`impactzones.core.schema.is_sensitive` marks private get
    an empty geometry; before the points go, every row gets the areas the layers give (those
    the layers have), so that counts by area from the file still add up:
    ``district``, ``neighborhood``, ``zone`` (the first zone holding the point), ``zones``
    (every zone holding it, ``;``-separated), ``ring_zones`` (every zone whose buffer of
    ``ring`` metres holds it), ``ring_m`` (that width, metres) and ``area_type``
    (:func:`impactzones.assign.assign`). A comparison with the same ring width then places
    a private row in any zone, ring or control area by name, with no point.

    Returns
    -------
    (GeoDataFrame, int)
        The incidents, and the number of points blanked.

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.core.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> out, n = blank_sensitive(inc, st_louis())
    >>> n == int(is_sensitive(inc).sum()) == int(out.geometry.is_empty.sum())
    True
    >>> bool(out["district"].notna().all()), float(out["ring_m"].iloc[0])
    (True, 400.0)
    """
    return _blank(incidents, layers, ring, assigned=False)


def _blank(incidents, layers: Layers | None, ring: float, *, assigned: bool):
    """:func:`blank_sensitive`; ``assigned``: the incidents already carry
    :func:`impactzones.assign.assign`'s columns for these layers and ring (the demo's)."""
    import shapely

    out = incidents.copy()
    if layers is not None:
        labelled = _area_labels(out, layers, ring, assigned=assigned)
        out = keep_labels(labelled, incidents, no_point(incidents))  # every row without a point
    private = is_sensitive(out).to_numpy()
    geoms = out.geometry.array.to_numpy().copy()
    geoms[private] = shapely.Point()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    return out, int(private.sum())


def _area_labels(
    inc: gpd.GeoDataFrame, layers: Layers, ring: float, *, assigned: bool = False
) -> gpd.GeoDataFrame:
    """Every area a point is in, as labels (see :func:`blank_sensitive`); ``assigned``:
    ``inc`` already has :func:`impactzones.assign.assign`'s columns for these layers."""
    import shapely

    from .core.geo import xy
    from .core.geometry import locate_all, locate_districts, polygon_ids

    x, y = xy(inc)
    if layers.zones is not None and layers.districts is not None:
        if not assigned:
            inc = assign(inc, layers, ring=ring)
        zones = layers.zones
        names = zones["name"].astype(str).to_numpy()
        buffers = [shapely.buffer(g, ring) for g in zones.geometry]
        hits = locate_all(x, y, buffers) if len(buffers) else np.zeros((len(x), 0), bool)
        inc["ring_zones"] = _joined_names(hits, names)
        inc["ring_m"] = float(ring)
        return inc
    if layers.districts is not None:
        found = locate_districts(x, y, layers.districts.geometry, layers.study_area)
        inc["district"] = polygon_ids(layers.districts, "district", x, y, pos=found)
    if layers.neighborhoods is not None and "neighborhood" in layers.neighborhoods:
        inc["neighborhood"] = polygon_ids(layers.neighborhoods, "neighborhood", x, y)
    return inc


def _joined_names(hits: np.ndarray, names: np.ndarray) -> list[str]:
    """For each row of ``hits`` (points x zones), the names of the zones it hits joined by
    ``;`` (each distinct row joined once)."""
    if hits.shape[1] == 0:
        return [""] * len(hits)
    if hits.shape[1] > 20:  # too many zones for one number per pattern of hits
        rows, which = np.unique(hits, axis=0, return_inverse=True)
        text = np.array([";".join(names[r]) for r in rows], dtype=object)
        return text[which.ravel()].tolist()
    bits = 1 << np.arange(hits.shape[1])
    codes, which = np.unique(hits.astype(np.int64) @ bits, return_inverse=True)
    text = np.array([";".join(names[(code & bits) > 0]) for code in codes], dtype=object)
    return text[which.ravel()].tolist()


def guard_folder(inputs, out: Path) -> None:
    """Refuse an output folder that holds any of the inputs (outputs never go over one).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "in.csv").write_text("x")
    >>> guard_folder([d / "in.csv"], d / "out")  # fine
    >>> guard_folder([d / "in.csv"], d)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: The output folder ... holds the input ...
    """
    from .io.tables import expand_paths

    out = Path(out).resolve()
    paths = [p for p in inputs if p]
    if not paths:
        return
    for f in expand_paths(paths):
        f = f.resolve()
        if f == out or out in f.parents:
            raise InputError(
                f"The output folder {out} holds the input {f}; write the outputs "
                "to another folder (--out)."
            )


def load_layers(
    boundary: str | Path | None = None,
    districts: str | Path | None = None,
    zones: str | Path | None = None,
    neighborhoods: str | Path | None = None,
    *,
    strict: bool = True,
    layer_crs=None,
) -> Layers:
    """The bundled St. Louis layers, with any of them replaced by a user's file.

    With a user's boundary, the working CRS is the UTM zone of that boundary, and a bundled
    layer is kept only where it overlaps the boundary: neighborhoods are otherwise dropped,
    and districts and zones must then be given (an error), or are left out when
    ``strict=False`` (for commands that need only the study area). ``layer_crs`` (the CLI's
    ``--crs``) is the CRS of a user's layer that names none, or that names WGS 84 with
    coordinates that cannot be degrees (GeoJSON in feet without a ``crs`` member).

    Examples
    --------
    >>> len(load_layers().districts)
    6
    """
    from .core.geo import WGS84, utm_crs_for

    crs = None
    if boundary:
        b = read_layer(boundary, kind="boundary", work_crs=WGS84, crs=layer_crs)
        crs = utm_crs_for(b)
    base = st_louis(crs)
    b_layer = (
        read_layer(boundary, kind="boundary", work_crs=crs, crs=layer_crs)
        if boundary
        else base.boundary
    )
    area = b_layer.geometry.union_all()

    def bundled(layer, kind: str, required: bool):
        overlap = layer.geometry.union_all().intersection(area).area
        if overlap >= 0.5 * layer.geometry.union_all().area:
            return layer
        if required and strict:
            raise InputError(
                f"The bundled St. Louis {kind} do not lie in your boundary; give your own "
                f"with --{kind}."
            )
        return None

    district_layer = (
        read_layer(districts, kind="districts", work_crs=crs, crs=layer_crs)
        if districts
        else bundled(base.districts, "districts", True)
    )
    zone_layer = (
        read_layer(zones, kind="zones", work_crs=crs, crs=layer_crs)
        if zones
        else bundled(base.zones, "zones", True)
    )
    if zones and zone_layer is not None:
        check_zones(zone_layer, area)
    return Layers(
        boundary=b_layer,
        districts=district_layer,
        neighborhoods=(
            read_layer(neighborhoods, kind="neighborhoods", work_crs=crs, crs=layer_crs)
            if neighborhoods
            else bundled(base.neighborhoods, "neighborhoods", False)
        ),
        zones=zone_layer,
    )


def check_zones(zones: gpd.GeoDataFrame, area) -> None:
    """Refuse zones that lie wholly outside the study area and warn, by name, about zones
    partly outside it, zones that overlap, and zones without a readable start date.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> layers = st_louis()
    >>> check_zones(layers.zones, layers.study_area)  # the bundled zones are fine
    """
    import warnings

    names = zones["name"].astype(str).tolist()
    geoms = zones.geometry.to_numpy()
    cover = share_inside(zones, area)  # refuses zones wholly outside, by name
    partly = [f"{n} ({1 - c:.0%})" for n, c in zip(names, cover, strict=True) if c < 0.99]
    if partly:
        warnings.warn(
            f"Zone(s) {', '.join(partly)} lie partly outside the study area; only the part "
            "inside is analysed.",
            stacklevel=2,
        )
    pairs = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            shared = geoms[i].intersection(geoms[j]).area
            if shared > 0.01 * min(geoms[i].area, geoms[j].area):
                pairs.append(f"{names[i]} and {names[j]}")
    if pairs:
        warnings.warn(
            f"Zones {'; '.join(pairs)} overlap; an incident in both counts for the first "
            "zone only.",
            stacklevel=2,
        )
    if "start" in zones:
        missing = [n for n, s in zip(names, zones["start"], strict=True) if pd.isna(s)]
        if missing:
            warnings.warn(
                f"Zone(s) {', '.join(missing)} have no readable start date (give start "
                "as YYYY-MM-DD): a comparison needs its windows given (--before, --after) "
                "and the demo draws no commander map for them.",
                stacklevel=2,
            )


@writes_into("out")
@fewer_collections()  # half a million objects: walking them all costs seconds
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
    ring: float = RING.default,
    online_tiles: bool = False,
    basemap=None,
    self_contained: bool | None = None,
    progress=None,
    evaluate: bool = True,
    evaluate_model: str = "quasipoisson",
    evaluate_freq: str = "M",
    nearrepeat_category: str | None = None,
    nearrepeat_permutations: int = 99,
    concentration: bool = True,
    read_options: dict | None = None,
    harm=None,
    pictures: bool = True,
    parallel: bool = True,
    png_maps: bool = False,
    explore: bool = True,
    compstat: bool = True,
) -> DemoResult:
    """Run the pipeline on the bundled (or given) layers and synthetic (or given) incidents.

    Writes into ``out``: ``incidents.parquet`` (every incident; rape, sexual-assault and
    domestic-violence ones without their points, their areas kept, as ``load`` writes them),
    ``counts_by_year_district.csv``, ``summary.json``, the planted truth (synthetic runs) or
    the rejects table (real runs), the comparison tables, the hot-spot outputs, and the maps
    (``index.html`` links them). ``png_maps=True`` adds a static PNG picture of each web
    map (commander, citywide, analyst: about 0.3 s of matplotlib each, so not drawn unless
    asked); ``pictures=False`` skips every static picture of a map, the PDF briefs too
    (the web maps, the evaluation plots and every table are written either way). The
    matplotlib pictures are drawn by a worker process while the rest goes on
    (``parallel=False``, or one CPU: here, in turn); each is drawn by the same function
    either way, so the files are the same bytes. ``explore=False`` skips the proposal page
    (``explore.html``), ``compstat=False`` the CompStat report (``compstat.*``).

    Examples
    --------
    A minute of work, so doctest skips it; ``tests/test_demo.py`` checks these figures on
    the test session's one demo run.

    >>> import tempfile
    >>> res = run_demo(tempfile.mkdtemp(), seed=2018)  # doctest: +SKIP
    >>> res.headline["zone_change"]["display"], res.headline["citywide_change"]["display"]
    ... # doctest: +SKIP
    ('-20.0%', '-14.5%')
    """
    _check_evaluation(evaluate_model, evaluate_freq)
    settings = {k: v for k, v in locals().items() if k not in ("progress", "out", "parallel")}
    for page in ("explore", "compstat"):  # recorded when switched off (manifests unchanged)
        if settings[page]:
            del settings[page]
    step = progress or (lambda _msg: None)
    out = Path(out)
    weights = _demo_start(out, harm, [incidents, boundary, districts, zones, basemap, harm])
    with _Pictures(parallel) as draw:  # matplotlib's PNGs and PDFs, in a worker
        layers = _demo_layers(boundary, districts, zones, crs, step)
        # read before any output is written (a bad file refused first); the stages draw it
        streets = read_layer(basemap, kind="basemap", work_crs=layers.crs) if basemap else None
        inc, load, truth, source = _demo_incidents(
            layers, incidents, columns, crs, read_options, seed, scale, ring, step,
            boundary_given=boundary is not None,
        )
        from .evaluate.compare import reuse_memberships

        with reuse_memberships():  # where each incident is: found once, for every analysis
            res = _demo_stages(inc, layers, out, {**settings, "basemap": streets}, step, draw,
                               load, truth, source, weights)  # fmt: skip
        step("Finishing the pictures")
        draw.finish()  # every file complete before the manifest lists it
    from .io.manifest import write_manifest

    res.files.append(write_manifest(out, res.files, settings))  # last: the run is complete
    return res


def _demo_stages(inc, layers: Layers, out: Path, settings: dict, step, draw, load, truth,
                 source: str, weights) -> DemoResult:  # fmt: skip
    """The demo's stages on the incidents read or made: assignment, comparisons, hot
    spots, proposals, tables, evaluations, CompStat and the maps (see :func:`run_demo`).
    The outputs no later stage reads (the CompStat report, the concentration table and
    plot, the proposal page) are handed to ``draw``'s worker as soon as their inputs
    exist; what they add to the summary and the index is collected where it goes."""
    ring, seed = settings["ring"], settings["seed"]
    step("Assigning incidents to districts and zones")
    inc = assign(inc, layers, ring=ring)
    # private rows of a clean file have labels but no point: counted, never located
    located = ~no_point(inc)
    pts = inc if located.all() else inc[located]
    counts = count_incidents(inc, by=["year", "district", "group"])
    headline = _demo_headline(inc, source)
    headline.update(_districts_by_reach(pts, layers))
    shared = _hand_over_early(draw, inc, pts, layers, out, settings, source)
    step("Comparing the zones before and after")
    comparisons = _demo_comparisons(inc, layers, ring)
    headline.update(_headline_change(comparisons))
    harm = settings["harm"]
    harm_tables = _demo_harm(inc, layers, ring, weights, harm) if weights is not None else {}
    step("Finding hot spots (violent crime, the latest full year)")
    hotspots, files = _demo_hotspots(pts, layers, out, seed, headline)
    step("Proposing new zones and backtesting them")
    proposals, backtest_table = _demo_proposals(pts, layers)
    capture, capture_drawn, proposal_files = _demo_proposal_files(
        pts, layers, out, proposals, backtest_table, draw
    )
    files += proposal_files
    if proposals is not None:
        headline["proposals"] = proposals["summary"].tolist()
    step("Evaluating the zones over time (time series, synthetic control)")
    skipped = _skipped_tables(comparisons, proposals, backtest_table)
    soon = draw.preferring(_counterfactual_plot())  # the maps wait for these first
    evaluations = _demo_evaluations(inc, layers, ring, out, settings["evaluate_model"],
                                    settings["evaluate_freq"], settings["evaluate"],
                                    skipped=skipped, draw=soon)  # fmt: skip
    if settings.get("explore", True):
        files.append(out / "explore.html")  # written by the worker: handed over below
    step("Writing outputs")  # while the worker draws the counterfactuals the maps embed
    files += _demo_tables(inc, out, headline, counts, comparisons, harm_tables, truth, load,
                          incidents_file=shared["incidents"])  # fmt: skip
    files += _demo_patterns(pts, layers, out, headline, shared["concentration"],
                            settings["nearrepeat_category"], settings["nearrepeat_permutations"],
                            seed, draw)  # fmt: skip
    files += _evaluation_files(evaluations, headline)
    compstat_files, extra = [], []
    if shared["compstat"] is not None:
        step("Writing the CompStat report")
        compstat_files, extra = draw.result(shared["compstat"])
    files += compstat_files
    extra += _index_entries(headline, evaluations)
    if settings.get("explore", True):
        extra.append(_explore_entry(backtest_table, capture is not None))
    step("Drawing the maps")
    window_hotspots = _window_hotspots(pts, layers, comparisons, headline, seed)
    capture_png = draw.result(capture_drawn)  # capture_curve.png's bytes: explore, analyst map
    if settings.get("explore", True):  # last in the worker's line: HTML, no matplotlib
        shared["hand"](_demo_explore, shared["inc"], layers, out, proposals, ring, capture,
                  capture_png)  # fmt: skip
    for ev in evaluations.values():  # the counterfactual PNG's bytes go into the maps
        ev.png = draw.result(ev.png)
    files += _demo_maps(
        inc, layers, out, comparisons, hotspots, proposals, backtest_table, evaluations,
        source=source, ring=ring, online_tiles=settings["online_tiles"],
        basemap=settings["basemap"], extra=extra, capture=capture, capture_png=capture_png,
        pictures=settings["pictures"], png_maps=settings["png_maps"],
        hotspots_year=headline.get("hotspots", {}).get("year"),
        window_hotspots=window_hotspots, skipped=skipped, draw=draw.preferring(_brief()),
    )  # fmt: skip
    headline["sensitive_not_exported"] = draw.result(shared["incidents"])[1]
    if skipped:
        headline["skipped"] = skipped  # each map not drawn, and why
    files.append(write_json(headline, out / "summary.json"))
    return DemoResult(inc, layers, counts, headline, files, load, truth, hotspots, comparisons,
                      proposals, backtest_table, evaluations=evaluations)  # fmt: skip


#: Above this many incidents the demo keeps the incidents file, the CompStat report, the
#: concentration table and the proposal page in its own process rather than send the
#: worker a copy of the incidents (about 0.45 kB an incident in the worker: 1M incidents
#: took the two processes' peak together from 1.7 to 2.2 GB); below it, the worker writes
#: them while this process computes.
SHARE_MAX_ROWS = 400_000


def _hand_over_early(draw, inc, pts, layers: Layers, out: Path, settings: dict, source: str):
    """Hand the worker, once the incidents are assigned, the incidents themselves (sent
    once for every call that reads them) and the outputs that need nothing more: the
    incidents file, the CompStat report and the concentration table and plot; above
    :data:`SHARE_MAX_ROWS` incidents, those run here. Returns the incidents' stand-in
    (``"inc"``), the way to hand over the proposal page (``"hand"``: last in the worker's
    line, or here) and the futures of the three."""
    if len(inc) > SHARE_MAX_ROWS:  # a copy in the worker would cost more memory than it saves
        hand, located = draw.here, pts
        handed: dict[str, Any] = {"inc": inc, "hand": draw.here}
    else:
        hand = draw
        handed = {"inc": draw.share(inc), "hand": draw.last}
        located = handed["inc"] if pts is inc else draw.share(pts)
    handed["incidents"] = hand(_write_incidents, handed["inc"], layers, settings["ring"], out)
    handed["compstat"] = (
        hand(_demo_compstat, handed["inc"], layers, out, source, settings["online_tiles"])
        if settings.get("compstat", True)
        else None
    )
    handed["concentration"] = (
        hand(_demo_concentration, located, layers, out) if settings["concentration"] else None
    )
    return handed


def _draw_pickled(blob: bytes):
    """Call the function pickled in ``blob`` (a picture handed to :class:`_Pictures`, drawn
    here when the worker did not draw it)."""
    import pickle

    fn, args, kwargs = pickle.loads(blob)
    return fn(*args, **kwargs)


def _warm_worker() -> None:
    """Import what the pictures need while the demo's first stages run (the modules of
    every function the demo hands over, and of the results it pickles), and draw a word
    in the fonts they use to a PNG and a PDF (loading the fonts, the PDF backend and
    fontTools once, before the first picture waits for them)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    from matplotlib.figure import Figure

    from .evaluate import concentration, series, synthetic_control  # noqa: F401
    from .maps import brief, webmap  # noqa: F401
    from .propose import capture  # noqa: F401

    fig = Figure(figsize=(1, 1), dpi=20)
    fig.text(0.1, 0.5, "Warm 1", fontsize=8)
    fig.text(0.1, 0.2, "Warm 2", fontsize=8, fontweight="bold")
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        for fmt in ("png", "pdf"):
            fig.savefig(io.BytesIO(), format=fmt)
    no_collection_at_exit()  # the worker's exit is waited for: no collection walks its objects


@dataclass
class _Picture:
    """One picture handed to the worker: its job (future, pickled call, times) and, once
    known, its result."""

    job: Any
    known: bool = False
    value: Any = None

    def outcome(self) -> Any:
        """The picture's result: the worker's (waited for, once begun), or drawn here
        (taken back before the worker began it, or left by a dead worker)."""
        from .core.worker import Unshared, WorkerLost

        if not self.known:
            future = self.job.future
            if future.cancel() or future.cancelled():  # not begun: drawn here, now
                self.value = self.here()
            else:
                try:
                    self.value = future.result()
                except (WorkerLost, Unshared):  # the worker died, or lost a shared object
                    self.value = self.here()
            self.known = True
        return self.value

    def here(self) -> Any:
        """Draw the picture in this process, on its pickled arguments, and time it."""
        self.job.where, self.job.begun = "here", time.perf_counter()
        value = _draw_pickled(self.job.blob)
        self.job.done = time.perf_counter()
        return value


class _Pictures:
    """Draws the demo's matplotlib pictures (PNGs, PDF briefs) and writes the pages no
    later stage reads, in one worker process while the demo goes on, or here, in turn,
    when not ``parallel`` or with one CPU.

    ``draw(function, *args, **kwargs)`` hands the call over (its arguments pickled at once,
    so later changes to them do not reach it) and returns a future of its result;
    :meth:`share` sends a large argument once for many calls. The worker is fed one call
    at a time (:class:`~impactzones.core.worker.Worker`), so every call it has not begun
    is still ours: :meth:`result` draws such a call here rather than wait for it, and
    :meth:`finish` (once the demo's own work is done) draws here those the worker has not
    begun, the latest first, while the worker draws the earlier ones: both cores draw.
    Either way the same function runs on the same pickled arguments, so the files are the
    same bytes. Should the worker fail to start or die, its pictures are drawn here.
    ``jobs`` lists every call with its times (``benchmarks/bench_demo.py --timeline``).
    """

    def __init__(self, parallel: bool) -> None:
        import os

        self.worker = _picture_worker(parallel and (os.cpu_count() or 1) > 1)
        self.pictures: list[_Picture] = []  # those handed to the worker, in order
        self.jobs: list[Any] = list(self.worker.jobs) if self.worker else []  # + the warm-up

    def __call__(self, fn, *args, **kwargs):
        return self._hand(fn, args, kwargs)

    def preferring(self, *functions):
        """A ``draw`` like this one that hands calls of ``functions`` to the worker before
        the calls waiting (after the earlier such calls): for results the demo waits for
        soon (the counterfactual PNGs the maps embed)."""

        def draw(fn, *args, **kwargs):
            return self._hand(fn, args, kwargs, lane=0 if fn in functions else 1)

        return draw

    def last(self, fn, *args, **kwargs):
        """Hand a call over after every other not begun, now or later: the first this
        process takes back at :meth:`finish` (a page, which needs no matplotlib here)."""
        return self._hand(fn, args, kwargs, lane=2)

    def _hand(self, fn, args, kwargs, lane: int = 1):
        """Hand a call to the worker (or run it here): the future of its result."""
        if self.worker is not None:
            job = self._submit(fn, args, kwargs, lane=lane)
            if job is not None:
                self.pictures.append(_Picture(job))
                return job.future
        return self.here(fn, *args, **kwargs)

    def here(self, fn, *args, **kwargs):
        """Run a call in this process now (listed with the others): its done future."""
        from concurrent.futures import Future

        from .core.worker import Job, Shared

        job = Job(Future(), b"", _name(fn), where="here")
        self.jobs.append(job)
        job.begun = job.submitted
        # shared before the worker died: the stand-ins are this process's own objects
        def own(value):
            return value.get() if isinstance(value, Shared) else value

        job.future.set_result(fn(*map(own, args), **{k: own(v) for k, v in kwargs.items()}))
        job.done = time.perf_counter()
        return job.future

    def _submit(self, fn, args, kwargs, lane: int = 1):
        """Hand a call to the worker: its job, or None (drawn here) if the worker is gone."""
        import pickle

        blob = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        return self._ask("submit", blob, _name(fn), lane=lane)

    def share(self, obj):
        """``obj`` for the calls handed over from now on: sent to the worker once (a
        GeoDataFrame of points packed as coordinates), each call naming it by a key. The
        object must not change afterwards (calls drawn here read it as it is)."""
        sent = self._ask("share", obj) if self.worker is not None else None
        return obj if sent is None else sent[0]

    def _ask(self, method: str, *args, **kwargs):
        """The worker's ``submit`` (a job) or ``share`` (a stand-in and its job) called,
        the job listed: its answer, or None if the worker died (everything is drawn here
        from then on)."""
        try:
            answer = getattr(self.worker, method)(*args, **kwargs)
        except RuntimeError:  # the worker died: draw here from now on
            self.worker = None
            return None
        self.jobs.append(answer[1] if method == "share" else answer)
        return answer

    def result(self, value):
        """A future's result, or ``value``: drawn here if the worker has other calls to
        draw before it (or died), else waited for (it is the worker's next call: it begins
        it as soon as the one it is drawing is done, sooner than this process could, whose
        first picture costs the import of matplotlib)."""
        for picture in self.pictures:
            if picture.job.future is value:
                queued = self._queued()
                if queued and queued[0] is picture:
                    from concurrent.futures import wait

                    wait([picture.job.future])
                return picture.outcome()
        return value.result() if hasattr(value, "result") else value

    def finish(self) -> None:
        """Once the demo's own work is done: draw here the calls the worker would reach
        last, one at a time, while it has more than one not begun (the worker takes them
        from the front, this process from the back: both cores draw, and the next one is
        left to the worker, which begins it as soon as it is free), then wait for the
        rest (drawing here any a dead worker left); raise the first error."""
        while len(queued := self._queued()) > 1:
            if queued[-1].job.future.cancel():  # still not begun: the worker never draws it
                queued[-1].outcome()
        for picture in self.pictures:
            picture.outcome()

    def _queued(self) -> list[_Picture]:
        """The pictures the worker has not begun, in the order it will take them."""
        if self.worker is None:
            return []
        mine = {id(p.job): p for p in self.pictures}
        return [mine[id(j)] for j in self.worker.queued() if id(j) in mine]

    def __enter__(self) -> _Pictures:
        return self

    def __exit__(self, *exc) -> None:
        if self.worker is not None:  # its exit (memory given back) overlaps what follows
            self.worker.close(cancel=exc[0] is not None, wait=False)


def _brief():
    """The function that draws a zone's PDF brief: the worker's longest call, handed
    over first so the calls left for the end (and taken back) are the short ones."""
    from .maps.brief import write_brief

    return write_brief


def _counterfactual_plot():
    """The function that draws a zone's counterfactual PNG (the maps embed its bytes)."""
    from .evaluate.series import plot_counterfactual

    return plot_counterfactual


def _name(fn) -> str:
    """A call's name in the timeline: its function's."""
    return getattr(fn, "__qualname__", None) or repr(fn)


#: what the picture worker does first: import what the pictures need (:func:`_warm_worker`)
PICTURE_WARM_UP = "impactzones.pipeline:_warm_worker"


def _picture_worker(parallel: bool = True):
    """One worker process (:class:`~impactzones.core.worker.Worker`: a fresh interpreter
    that runs only impactzones' own code, never the caller's script, whatever its
    ``__main__``), importing matplotlib while the demo's first stages run: the one the
    command started before its imports (:func:`~impactzones.core.worker.prestart`), else
    one started now; None when not ``parallel`` or when no process can be started here
    (the pictures are then drawn in turn)."""
    from .core.worker import end_spares, take_worker

    if not parallel:
        end_spares()  # one started ahead for a run that draws in turn after all
        return None
    try:
        return take_worker(PICTURE_WARM_UP)
    except OSError:
        return None


def _demo_maps(inc, layers, out, comparisons, hotspots, proposals, backtest_table, evaluations,
               *, source, ring, online_tiles, basemap, extra, capture, capture_png=None,
               pictures=True, png_maps=False, hotspots_year=None, window_hotspots=None,
               skipped=None, draw=None, cache=None) -> list:  # fmt: skip
    """The commander, citywide and analyst maps, their PDF briefs (``pictures``), their PNG
    pictures (``pictures`` and ``png_maps``) and the index page (``cache``: a
    :class:`~impactzones.maps.cache.MapCache` shared with other maps drawn in this process;
    by default these maps share one of their own)."""
    from .maps.build import build_maps

    return build_maps(
        inc,
        layers,
        out,
        comparisons=comparisons,
        hotspots=hotspots,
        hotspots_year=hotspots_year,
        window_hotspots=window_hotspots,
        proposals=proposals,
        source=source,
        ring=ring,
        backtest=backtest_table,
        capture=capture,
        capture_png=capture_png,
        online_tiles=online_tiles,
        basemap=basemap,
        extra=extra,
        counterfactuals={
            name: (ev.png, ev.series.verdict) for name, ev in evaluations.items() if ev.png
        },
        evaluations={name: ev.series for name, ev in evaluations.items()},
        static=pictures and png_maps,
        brief=pictures,
        skipped=skipped,
        draw=draw,
        cache=cache,
    )


def _demo_layers(boundary, districts, zones, crs, step) -> Layers:
    """The bundled layers, any replaced by a user's file; a user's boundary alone is enough
    (stand-ins for the rest, each named in a progress line)."""
    step("Loading layers")
    layers = load_layers(boundary, districts, zones, layer_crs=crs, strict=not boundary)
    layers, skipped = fill_missing_layers(layers)
    for line in skipped:
        step(line)
    return layers


def _demo_explore(inc, layers: Layers, out: Path, proposals, ring: float, capture,
                  capture_png=None) -> Path:  # fmt: skip
    """The offline proposal page, with the demo's proposals and capture curve (its plot:
    the bytes of ``capture_curve.png``, or a function waiting for the worker's)."""
    from .maps.explore import write_explore

    return write_explore(inc, layers, out / "explore.html", proposals=proposals, ring=ring,
                         capture=capture, capture_png=capture_png)  # fmt: skip


def _demo_start(out: Path, harm, inputs: list):
    """Before any work: no output folder holding an input (the layers, the base map and
    the harm weights too), the harm weights read (a bad file is refused), and a killed
    run's temporaries and stale manifest cleaned away."""
    from .io.manifest import clean_temporaries

    incidents, *layer_files = inputs
    listed = incidents if isinstance(incidents, (list, tuple)) else [incidents]
    guard_folder([*listed, *layer_files], out)
    weights = None
    if harm is not None:
        from .evaluate.harm import read_harm_weights

        weights = read_harm_weights(harm)
    clean_temporaries(out)
    return weights


def _demo_incidents(layers, incidents, columns, crs, read_options, seed, scale, ring, step,
                    boundary_given: bool = False):  # fmt: skip
    """The incidents: read from the files given (every row used or rejected with a reason),
    or synthetic ones with their planted truth. Returns ``(incidents, load, truth, source)``.
    ``boundary_given``: the study area is the user's (a refusal then says to check it)."""
    load = truth = None
    if incidents:
        step("Reading incidents")
        inputs = [incidents] if isinstance(incidents, (str, Path)) else list(incidents)
        load = read_incidents(
            inputs,
            keep_private=True,  # a clean file's private rows: no point, their areas kept
            columns=columns,
            crs=crs,
            study_area=layers.study_area,
            work_crs=layers.crs,
            **(read_options or {}),
        )
        load.require_incidents(boundary_given)  # one sentence: no rows, or all rejected
        inc = load.incidents
        source = source_label(inputs)  # the files' names, never the machine's paths
        if no_point(inc).all():  # only a clean file's private rows: nothing to place
            raise InputError(
                f"All {len(inc):,} incidents read are private rows kept without their points "
                "(as `load` writes them): maps and hot spots need incidents with points; "
                "give the whole clean file, or count these by area with compare or compstat."
            )
    else:
        from .datasets.synth import synthesize

        step("Generating synthetic incidents")
        truth = synthesize(seed=seed, scale=scale, layers=layers, ring=ring)
        inc = truth.incidents
        source = f"synthetic (seed {seed}, scale {scale:g})"
    if len(inc) == 0:
        raise InputError("No incidents are left to analyse; see the rejects table for why.")
    return inc, load, truth, source


def _demo_headline(inc, source: str) -> dict:
    """The summary's first keys: the source, the version, and the data's own stamp; and
    how many incidents in the study area are in no district (beyond DISTRICT_REACH of
    every district polygon: counted citywide, in no district's row), when any are."""
    years = sorted(inc["occurred_at"].dt.year.unique())
    headline = {
        "source": source,
        "version": __version__,
        # a stamp from the data, never the clock: same inputs, same bytes, any day
        "data_through": f"{inc['occurred_at'].max():%Y-%m-%d}",
        "incidents": len(inc),
        "years": [int(y) for y in years],
    }
    if "district" in inc and "area_type" in inc:
        none = int((inc["district"].isna() & inc["area_type"].ne("outside")).sum())
        if none:
            headline["in_no_district"] = none
    return headline


def _districts_by_reach(pts, layers: Layers) -> dict:
    """``{"district_by_reach": n}`` when ``n`` located incidents lie in no district polygon
    but were given the nearest district (within DISTRICT_REACH: a bridge or a riverbank
    past the layer's edge), so the summary says so; else ``{}``."""
    from .core.geo import xy
    from .core.geometry import locate

    if "district" not in pts or layers.districts is None or not len(pts):
        return {}
    inside = locate(*xy(pts), list(layers.districts.geometry)) >= 0
    reached = int((~inside & pts["district"].notna().to_numpy()).sum())
    return {"district_by_reach": reached} if reached else {}


def _demo_hotspots(inc, layers: Layers, out: Path, seed: int, headline: dict):
    """Violent crime's hot spots in the latest full year (when there are 10 incidents or
    more), their files, and their line in the headline."""
    hs_year = _latest_full_year(inc)
    violent = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == hs_year)]
    if len(violent) < 10:
        return {}, []
    hotspots, files = run_hotspots(
        violent, layers.land, out, kde_cell_size=50, seed=seed, prefix="hotspots_"
    )
    headline["hotspots"] = {"year": hs_year, **_registry.headline(hotspots)}
    return hotspots, list(files)


def _window_hotspots(inc, layers: Layers, comparisons: dict, headline: dict, seed: int) -> dict:
    """The commander maps' hot spots (the methods drawn there) of each comparison's after
    window other than the hot-spot year, by the window's label: a map titled "2017 vs
    2018" draws 2018's density, not the latest year's."""
    names = [n for n, m in _registry.REGISTRY.items() if "commander" in m.maps]
    year = str(headline.get("hotspots", {}).get("year", ""))
    out: dict = {}
    for table in comparisons.values():
        after = table.windows[1]
        if not names or after.label in out or after.label == year:
            continue
        t = inc["occurred_at"]
        end = pd.Timestamp(after.end) + pd.Timedelta(days=1)
        inside = (t >= pd.Timestamp(after.start)) & (t < end)
        violent = inc[inside & (inc["group"] == "violent")]
        if len(violent) >= 10:
            out[after.label], _ = run_hotspots(violent, layers.land, methods=names,
                                               kde_cell_size=50, seed=seed)  # fmt: skip
    return out


def _demo_proposal_files(inc, layers: Layers, out: Path, proposals, backtest_table, draw=None):
    """The proposals, their backtest and capture curves, written. Returns
    ``(capture curve or None, its PNG's bytes (or their future) or None, files)``."""
    files: list[Path] = []
    capture = png = None
    if proposals is not None:
        files.append(write_vector(proposals, out / "proposals.geojson"))
        if backtest_table is not None:
            files.append(write_table(backtest_table, out / "proposals_backtest.csv"))
            capture_files, capture, png = _demo_capture(inc, layers, backtest_table, out, draw)
            files.extend(capture_files)
    return capture, png, files


def _demo_tables(inc, out: Path, headline: dict, counts, comparisons, harm_tables, truth, load,
                 incidents_file=None):  # fmt: skip
    """The tables: counts, the planted truth or the rejects, and each comparison in CSV,
    JSON and Markdown; ``incidents_file`` (the future of :func:`_write_incidents`) writes
    the incidents, whose count of points left out goes in the headline once known."""
    from .evaluate.compare import to_markdown, to_records

    files = [
        out / "incidents.parquet",
        write_table(counts, out / "counts_by_year_district.csv"),
        write_table(count_incidents(inc, by=["year", "category"]), out / "counts_by_year.csv"),
    ]
    headline["sensitive_not_exported"] = None  # its place in the summary; counted by the worker
    if truth is not None:
        from .datasets.synth import write_truth

        files.extend(write_truth(truth, out))
    for key, table in comparisons.items():
        files.append(write_table(table, out / f"compare_{key}.csv"))
        files.append(write_json(to_records(table), out / f"compare_{key}.json"))
        files.append(write_text(to_markdown(table), out / f"compare_{key}.md"))
    for key, table in harm_tables.items():
        files.append(write_table(table, out / f"harm_{key}.csv"))
        headline.setdefault("harm", {})[key] = to_records(table)
    if load is not None:
        files.append(write_table(_named_sources(load.rejects), out / "rejects.csv"))
        headline["load"] = _named_keys(load.tally)
    return files


def _write_incidents(inc, layers: Layers, ring: float, out: Path) -> tuple[Path, int]:
    """``incidents.parquet``: every incident, the private ones without their points, as
    ``load`` writes them (:func:`blank_sensitive`; ``inc`` assigned), sources as file
    names. Returns the file and the number of points left out."""
    export, blanked = _blank(inc, layers, ring, assigned=True)
    return write_vector(_named_sources(export), out / "incidents.parquet"), blanked


def _named_sources(frame):
    """``frame`` with its ``source`` column (the file each row came from) as file names."""
    if "source" not in frame.columns:
        return frame
    names = {s: source_label([s]) for s in frame["source"].astype(str).unique()}
    return frame.assign(source=frame["source"].astype(str).map(names))


def _named_keys(tally):
    """The load tally with every file path (keys of its per-file parts) as a file name."""
    if isinstance(tally, dict):
        paths = {k for k in tally if isinstance(k, str) and ("/" in k or "\\" in k)}
        return {(source_label([k]) if k in paths else k): _named_keys(v) for k, v in tally.items()}
    return tally


def _evaluation_files(evaluations: dict, headline: dict) -> list:
    """The zones' evaluation files, and each zone's verdicts in the headline."""
    files = [f for ev in evaluations.values() for f in ev.files]
    if evaluations:
        headline["evaluation"] = {
            name: {
                "verdict": ev.series.verdict,
                "counterfactual_png": ev.summary.get("counterfactual_png"),
                "synthetic_control": ev.synthetic.verdict if ev.synthetic is not None else None,
                "power": ev.power.verdict,
            }
            for name, ev in evaluations.items()
        }
    return files


def _demo_compstat(inc, layers: Layers, out: Path, source: str, online_tiles: bool, cache=None):
    """The CompStat report to the data's last day, and its entry on the index page (its map
    shares ``cache`` with the maps drawn after it)."""
    from .maps.compstat import write_compstat

    as_of = inc["occurred_at"].max()
    cs, files = write_compstat(
        inc, layers, as_of, out, source=source, online_tiles=online_tiles, cache=cache
    )
    city = cs[(cs["area"] == "Citywide") & (cs["crime"] == "violent")].iloc[0]
    links = [("table (CSV)", "compstat.csv")]
    if any(p.name == "compstat_hotspots.html" for p in files):
        links.append(("28-day hot spots map", "compstat_hotspots.html"))
    entry = (
        "CompStat report",
        "compstat.html",
        f"7 days, 28 days and the year to {as_of:%d %B %Y}, each vs a year earlier",
        f"Violent crime citywide in the last 28 days: {city['28 days']:,} against "
        f"{city['28 days, year before']:,} a year earlier; by district and zone, per "
        "group and Part I category.",
        links,
    )
    return list(files), [entry]


def _index_entries(headline: dict, evaluations: dict) -> list:
    """The index page's entries for the concentration plot and each zone's counterfactual."""
    extra: list = []
    if "concentration" in headline:  # the law of crime concentration, linked from the index
        extra.append(
            (
                "Crime concentration (Lorenz curve)",
                "concentration_lorenz.png",
                f"{headline['concentration']['year']}, 150 m cells, city and districts",
                headline["concentration"]["city"],
                [("table (CSV)", "concentration.csv")],
            )
        )
    for name, ev in evaluations.items():  # the counterfactual plots, linked from the index
        if not ev.summary.get("counterfactual_png"):
            continue
        p = ev.series.params
        links = [
            (label, ev.summary[key])
            for label, key in (
                ("synthetic control", "synthetic_control_png"),
                ("donor weights map", "donor_weights_png"),
            )
            if ev.summary.get(key)
        ]
        extra.append(
            (
                f"{name} zone over time: observed against expected",
                ev.summary["counterfactual_png"],
                f"{p['first_period'][:7]} to {p['last_period'][:7]}, by "
                + ("month" if p["freq"] == "M" else "week"),
                ev.series.verdict,
                links,
            )
        )
    return extra


def _check_evaluation(model: str, freq: str) -> None:
    from .evaluate.series import MODELS

    if model not in MODELS or freq not in ("M", "W"):
        raise InputError(
            f"evaluate_model must be one of {', '.join(MODELS)} and evaluate_freq M or W; "
            f"got {model!r} and {freq!r}."
        )


def _demo_patterns(inc, layers, out, headline, concentration, nr_category, nr_perms, seed,
                   draw=None):  # fmt: skip
    """Concentration (``concentration``: the future of :func:`_demo_concentration`, or
    None) and, when a category is named, its near-repeat table (the latest full year);
    both written to ``out``, their lines in the headline."""
    files: list[Path] = []
    if concentration is not None:
        files, line = draw.result(concentration) if draw else concentration.result()
        if line:
            headline["concentration"] = line
    if nr_category:
        from .evaluate.nearrepeat import near_repeat_incidents
        from .evaluate.run import write_near_repeat

        year = _latest_full_year(inc)
        this_year = inc[inc["occurred_at"].dt.year == year]
        sel = this_year[this_year["category"] == nr_category]
        if len(sel) < 2:
            raise InputError(f"No {nr_category} incidents in {year} for the near-repeat table.")
        r = near_repeat_incidents(sel, permutations=nr_perms, seed=seed)
        files.extend(write_near_repeat(r, out, stem=f"nearrepeat_{slugify(nr_category)}"))
        headline["nearrepeat"] = {"year": year, "category": nr_category, "verdict": r.verdict}
    return files


def _demo_concentration(inc, layers: Layers, out: Path) -> tuple[list[Path], dict | None]:
    """Concentration in the latest full year (city and districts, 150 m cells): its table
    and Lorenz curve written to ``out``, and its line in the headline (None, and no file,
    when that year has no incidents)."""
    from .evaluate.concentration import concentration_report, plot_lorenz

    year = _latest_full_year(inc)
    this_year = inc[inc["occurred_at"].dt.year == year]
    if not len(this_year):
        return [], None
    table = concentration_report(this_year, layers.land, districts=layers.districts)
    files = [write_table(table, out / "concentration.csv"), out / "concentration_lorenz.png"]
    plot_lorenz(table.results, files[1])
    return files, {"year": year, "city": table.loc[0, "verdict"]}


def _demo_evaluations(
    inc, layers: Layers, ring: float, out: Path, model="quasipoisson", freq="M", run=True,
    skipped: list | None = None, draw=None,
) -> dict:
    """Interrupted time series, synthetic control and power for each zone with a start
    date inside the data (the North zone from 2018 in the bundled story); a zone the data
    cannot evaluate (too few months before or after) is left out, and why goes in
    ``skipped``; none when not ``run``."""
    from .evaluate.run import evaluate_zone

    _check_evaluation(model, freq)
    zones = layers.zones
    if not run or "start" not in zones:
        return {}
    slugs = Slugs()
    done = {}
    for name, start in zip(zones["name"].astype(str), zones["start"], strict=True):
        if pd.isna(start):
            continue
        try:
            done[name] = evaluate_zone(
                inc, layers, name, ring=ring, out=out, slug=slugs(name), model=model, freq=freq,
                draw=draw,
            )
        except InputError as exc:
            if skipped is not None:
                skipped.append(f"No evaluation over time for the {name} zone: {exc}")
            continue
    return done


def _skipped_tables(comparisons: dict, proposals, backtest_table) -> list[str]:
    """One sentence per table the demo could not make, saying why."""
    lines = []
    if not comparisons:
        lines.append(
            "No zone comparison (compare_*): no zone has a start date with data in the year "
            "before it began and the year it began."
        )
    if proposals is None:
        lines.append(
            "No proposed zones (proposals.geojson): they come from the year before the newest "
            "zone began, which the data do not cover (or no zone has a start date)."
        )
    elif backtest_table is None:
        lines.append(
            "No proposal backtest (proposals_backtest.csv): the data do not reach the year "
            "the newest zone began, after the proposals' year, to test them on."
        )
    return lines


def existing_zones(
    zones: gpd.GeoDataFrame,
    *,
    by=None,
    names: str | Sequence[str] | None = None,
    extra: str | Path | None = None,
    crs=None,
) -> gpd.GeoDataFrame:
    """The zones that count as existing when proposing new ones (kept clear of).

    Those ``names`` when given (each matched exactly; a string that is no zone's name is
    read as comma-separated names: :func:`impactzones.core.options.pick_names`); else the
    zones that had begun by the day ``by`` (a zone without a start date counts as existing;
    ``by=None``: every zone); plus the zones in the file ``extra`` (e.g. one drawn on the
    ``explore`` page). A zone of ``extra`` that repeats one already counted (the same shape,
    whatever its name) is counted once; a different shape under a name already counted is
    named ``NAME (FILE)``.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> zones = st_louis().zones
    >>> existing_zones(zones, by=pd.Timestamp("2018-12-31"))["name"].tolist()
    ['North']
    >>> existing_zones(zones, names="South, Central")["name"].tolist()
    ['Central', 'South']
    >>> existing_zones(zones, names="Nowhere")
    Traceback (most recent call last):
    impactzones.core.errors.InputError: No zone named 'Nowhere'; the zones are North, ...
    """
    kept = zones
    if names:
        from .core.options import pick_names

        wanted = pick_names(names, zones["name"].astype(str).tolist())
        kept = zones[zones["name"].astype(str).isin(wanted)]
    elif by is not None and "start" in zones:
        kept = zones[zones["start"].isna() | (zones["start"] <= pd.Timestamp(by))]
    if extra:
        more = read_layer(extra, kind="zones", work_crs=crs if crs is not None else zones.crs)
        more = _not_repeated(kept, more, Path(extra).name)
        kept = pd.concat([kept, more], ignore_index=True)
    return kept


def _not_repeated(kept: gpd.GeoDataFrame, more: gpd.GeoDataFrame, source: str):
    """The zones of ``more`` that repeat none of ``kept`` nor an earlier one of ``more``
    (the same shape: their symmetric difference under a millionth of the larger area);
    one under a name already counted is renamed ``NAME (source)``."""
    shapes = list(kept.geometry)
    rows = []
    for i, shape in enumerate(more.geometry):
        if not any(_same_shape(shape, other) for other in shapes):
            shapes.append(shape)
            rows.append(i)
    more = more.iloc[rows].copy()
    names = more["name"].astype(str)
    clash = names.isin(set(kept["name"].astype(str))).to_numpy()
    more.loc[clash, "name"] = names[clash] + f" ({source})"
    return more


def _same_shape(a, b) -> bool:
    """Whether two zone shapes are the same area on the ground (to a millionth of it)."""
    import shapely.errors

    try:
        return a.symmetric_difference(b).area <= 1e-6 * max(a.area, b.area)
    except shapely.errors.GEOSException:
        return False


def _demo_proposals(inc, layers: Layers):
    """Zones proposed (the tuned defaults) from the year before the newest zones began, away
    from the zones that had begun by then, backtested on the next year (same calendar days)."""
    from .propose import backtest, propose_zones

    zones = layers.zones
    if "start" not in zones or zones["start"].isna().all():
        return None, None
    newest = int(zones["start"].dt.year.max())
    year = newest - 1
    years = set(inc["occurred_at"].dt.year.unique())
    if year not in years:
        return None, None
    existing = existing_zones(zones, by=f"{year}-12-31")
    try:
        props = propose_zones(inc, period=year, exclude=existing, layers=layers)
    except InputError:
        return None, None
    bt = None
    if newest in years:
        bt = backtest(props, inc, period=newest, before=year, existing=existing, layers=layers)
    return props, bt


def _explore_entry(bt, with_capture: bool) -> tuple:
    """The index's line for the proposal page, with the backtest in one sentence."""
    from .propose import COMPACT, NAIVE, RANDOM

    finding = "Draw or edit a zone and read its counts, share, PAI and ring at once."
    links = []
    if bt is not None:
        r = bt.set_index("name")
        ours = r.loc["all proposals"]
        finding = (
            f"Zones proposed from {column_label(bt, 'before')} held {ours['hit_rate']:.1%} of "
            f"{column_label(bt, 'period')}'s violent crime on {ours['area_km2']:.1f} km^2 (PAI "
            f"{ours['pai']:.1f}; at the same area the naive top cells {r.loc[NAIVE, 'pai']:.1f}, "
            f"compact discs {r.loc[COMPACT, 'pai']:.1f}, random placements "
            f"{r.loc[RANDOM, 'pai']:.1f}). " + finding
        )
        links.append(("backtest (CSV)", "proposals_backtest.csv"))
    if with_capture:
        links += [
            ("capture curve (PNG)", "capture_curve.png"),
            ("capture table (CSV)", "capture_table.csv"),
        ]
    return ("Propose a zone (draw and test it)", "explore.html", "", finding, links)


def _demo_capture(inc, layers: Layers, bt, out: Path, draw=None):
    """The capture curves of the demo's backtest (same periods, same existing zones) as a
    table, a summary table at a few area shares and a plot. Returns ``(files, curve,
    the plot's bytes or their future)`` (``([], None, None)`` without a curve)."""
    from .propose import capture_curve, capture_curve_png, capture_table

    before, after = column_label(bt, "before"), column_label(bt, "period")
    year = int(before[:4])
    existing = existing_zones(layers.zones, by=f"{year}-12-31")
    try:
        curve = capture_curve(
            inc, period=int(after[:4]), before=year, existing=existing, layers=layers, draws=20
        )
    except InputError:
        return [], None, None
    title = f"Violent crime captured in {after} by zones chosen from {before}"
    png = out / "capture_curve.png"
    drawn = (draw or draw_here)(capture_curve_png, curve, png, title=title)
    return [
        write_table(curve, out / "capture_curve.csv"),
        write_table(capture_table(curve), out / "capture_table.csv"),
        png,
    ], curve, drawn


def _headline_change(comparisons: dict) -> dict:
    """The first zone's violent-crime change beside the citywide one, read from its
    comparison table (the numbers the tables and maps show)."""
    if not comparisons:
        return {}
    table = next(iter(comparisons.values()))
    violent = table[table["crime"] == "violent"].set_index("zone")
    zone = next(z for z in violent.index if z != "Citywide")

    def change(row) -> dict:
        pct = float(row["zone_pct_change"])
        return {
            "before": int(row["zone_before"]),
            "after": int(row["zone_after"]),
            "percent_change": pct,
            "display": format_pct(pct),
        }

    from .maps.build import zone_headline

    return {
        "zone": zone,
        "headline": zone_headline(table, zone),
        "windows": [table.before.label, table.after.label],
        "zone_change": change(violent.loc[zone]),
        "citywide_change": change(violent.loc["Citywide"]),
    }


def _demo_comparisons(inc, layers: Layers, ring: float) -> dict:
    """Each zone against the year before it started (same calendar days when the data
    stop early): the North zone 2017 vs 2018, the Central and South zones 2018 vs 2019."""
    from .evaluate.compare import compare_zones

    return {
        key: compare_zones(inc, group, y - 1, y, ring=ring, study_area=layers.study_area)
        for key, group, y in _zone_start_years(inc, layers.zones)
    }


def _zone_start_years(inc, zones):
    """``(key, zones, year)`` for each start year of the zones with data in it and the
    year before; ``key`` names the comparison's files (compare_<key>.csv: safe and unique
    whatever the names)."""
    if "start" not in zones:
        return
    years = set(inc["occurred_at"].dt.year.unique())
    slugs = Slugs()
    for start_year, group in zones.groupby(zones["start"].dt.year):
        if not pd.isna(start_year) and {int(start_year) - 1, int(start_year)} <= years:
            yield slugs("_".join(str(n) for n in group["name"])), group, int(start_year)


def _demo_harm(inc, layers: Layers, ring: float, weights: dict, source) -> dict:
    """Harm-weighted WDD (ptools' ``wdd_harm``) of each demo comparison: the same zones and
    years, by category, the categories weighted by the study's ``harm`` weights."""
    from .evaluate.compare import compare_zones
    from .evaluate.harm import check_harm_categories, harm_table

    check_harm_categories(weights, inc["category"].unique(), str(source))
    out: dict = {}
    for key, group, y in _zone_start_years(inc, layers.zones):  # _demo_comparisons' keys
        table = compare_zones(
            inc, group, y - 1, y, by="category", crimes=sorted(weights), ring=ring,
            study_area=layers.study_area,
        )  # fmt: skip
        out[key] = harm_table(table[table["crime"].isin(list(weights))], weights)
    return out


def _latest_full_year(inc: pd.DataFrame) -> int:
    """The latest year with incidents in December (else the latest year)."""
    t = inc["occurred_at"]
    years = sorted(t.dt.year.unique())
    for y in reversed(years):
        if ((t.dt.year == y) & (t.dt.month == 12)).any():
            return int(y)
    return int(years[-1])


#: Every hot-spot method's name: a live view of :data:`impactzones.hotspots.registry.REGISTRY`.
HOTSPOT_METHODS = _registry.NAMES
#: What runs unless asked otherwise (emerging needs a span of months, not one period).
DEFAULT_METHODS = _registry.DEFAULTS


@renamed_keyword("mask", "study_area")
@writes_into("out")
def run_hotspots(
    incidents: gpd.GeoDataFrame,
    study_area,
    out: str | Path | None = None,
    *,
    methods=DEFAULT_METHODS,
    cell_size: float | None = None,
    kde_cell_size: float | None = None,
    bandwidth: float | None = None,
    kernel: str = "quartic",
    top: float = 0.05,
    eps: float | None = None,
    min_samples: float | None = None,
    dbscan_method: str = "dbscan",
    distance: float | None = None,
    permutations: int | None = None,
    inference: str = "exact",
    seed: int = 0,
    prefix: str = "",
    options: dict | None = None,
) -> tuple[dict, list[Path]]:
    """Run the chosen hot-spot methods and (given ``out``) write their outputs.

    Each method is an entry of :mod:`impactzones.hotspots.registry`: its runner takes the
    settings it understands from the keywords here (and ``options``, for settings of
    methods registered later), and its entry names the files it writes. KDE and Gi* share
    one grid alignment: Gi* runs at ``cell_size`` (default by the grid rule) and the KDE at
    ``kde_cell_size`` (default the same); sizes that divide one another give cells that
    line up. The built-in methods write ``kde.tif``, ``kde_hotspots.geojson``,
    ``dbscan_clusters.geojson``, ``dbscan_labels.csv`` (no rape or domestic-violence rows),
    ``gistar.geojson``, ``gistar.csv`` (``emerging.geojson``, ``emerging.csv``), and the run
    writes ``params.json`` (every parameter and rule). ``mask=`` is the old name of
    ``study_area=``.

    Returns
    -------
    results : dict
        Method name -> its result (a :class:`~impactzones.core.results.Result`).
    files : list of Path

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> results, files = run_hotspots(inc[inc["group"] == "violent"], st_louis().land,
    ...                               permutations=99)
    >>> sorted(results), files
    (['dbscan', 'gistar', 'kde'], [])
    """
    from .hotspots import prepare_points

    chosen = _registry.check_methods(methods)
    if len(incidents) < 2:
        raise InputError("Fewer than two incidents match; widen the period or the categories.")
    settings = dict(
        cell_size=cell_size,
        kde_cell_size=kde_cell_size,
        bandwidth=bandwidth,
        kernel=kernel,
        top=top,
        eps=eps,
        min_samples=min_samples,
        dbscan_method=dbscan_method,
        distance=distance,
        permutations=permutations,
        inference=inference,
        seed=seed,
    ) | (options or {})
    # the coordinates and the study-area test, once for every method
    context = _registry.RunContext(
        incidents, prepare_points(incidents, study_area), study_area, settings
    )
    results = {name: _registry.run_method(name, context) for name in chosen}
    files: list[Path] = []
    if out is not None:
        for name, result in results.items():
            files.extend(_registry.write_outputs(name, result, context, out, prefix))
        files.append(write_json(hotspot_params(results), Path(out) / f"{prefix}params.json"))
    return results, files


def hotspot_params(results: dict) -> dict:
    """Every parameter and rule of a :func:`run_hotspots` run, for the record.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> results, _ = run_hotspots(inc, st_louis().land, methods=["kde"])
    >>> sorted(hotspot_params(results))
    ['kde']
    """
    return {name: _registry.record(name, result) for name, result in results.items()}
