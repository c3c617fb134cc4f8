"""Each ``impactzones`` command as one library call: read, select, analyse, write.

Every function here takes plain Python values (the keywords are the names declared in
:mod:`impactzones.core.options`, so the CLI passes its parsed options straight through) and
returns an :class:`Outcome`: the document ``--json`` prints, the report a terminal shows
(sentences and :class:`~impactzones.summaries.TextTable` values), the files written and the
notes for stderr. Every analytical decision lives here or below, none in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import summaries
from .core.defaults import RING
from .core.errors import InputError
from .core.options import parse_columns

__all__ = [
    "Outcome",
    "compare",
    "compstat",
    "concentration",
    "cube",
    "demo",
    "evaluate",
    "explore",
    "hotspots",
    "load",
    "map_files",
    "nearrepeat",
    "proposal_year",
    "propose",
    "read_for_command",
    "reading_options",
    "run_study",
    "select_incidents",
    "synth",
]

Progress = Callable[[str], None] | None


@dataclass
class Outcome:
    """What a command did.

    Attributes
    ----------
    data : object
        The JSON-able document ``--json`` prints.
    report : callable
        ``report(wide)`` -> the lines (str) and tables
        (:class:`~impactzones.summaries.TextTable`) a terminal shows; ``wide``: every column.
    files : list of Path
        The files written.
    notes : list of str
        Lines for stderr (layers filled in...), unless the user asked for quiet.
    warnings : list of str
        Warnings for stderr, always shown.
    value : object
        The library result itself (a :class:`~impactzones.pipeline.DemoResult`, a table...).

    Examples
    --------
    >>> Outcome({"n": 1}, lambda wide: ["one line"]).report(False)
    ['one line']
    """

    data: Any
    report: Callable[[bool], list] = lambda wide: []
    files: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    value: Any = None
    warnings: list = field(default_factory=list)


def _step(progress: Progress) -> Callable[[str], None]:
    return progress or (lambda _msg: None)


READING_KEYS = ("categories", "domestic_column", "profile", "timezone", "dayfirst", "as_of")


def reading_options(
    sensitive_categories: str | Sequence[str] | None = None,
    date_floor: str | None = None,
    **kwargs: Any,
) -> dict:
    """The reading options (crosswalk, privacy, dates) as keywords of
    :func:`impactzones.io.read_incidents`; a comma-separated ``sensitive_categories`` is split.
    Any other keyword is refused (an option no step reads is a bug, not a setting to drop).

    Examples
    --------
    >>> reading_options("stalking, ,harassment")["sensitive_categories"]
    ['stalking', 'harassment']
    >>> reading_options()["date_floor"]
    '1970-01-01'
    >>> reading_options(colour="red")
    Traceback (most recent call last):
    ...
    TypeError: options no step reads: colour
    """
    unknown = sorted(set(kwargs) - set(READING_KEYS))
    if unknown:
        raise TypeError(f"options no step reads: {', '.join(unknown)}")
    extra = sensitive_categories or ()
    if isinstance(extra, str):
        extra = [s.strip() for s in extra.split(",")]
    return {k: kwargs.get(k) for k in READING_KEYS} | {
        "sensitive_categories": [s for s in extra if s.strip()],
        "date_floor": date_floor or "1970-01-01",
    }


def read_for_command(
    paths: Sequence[str | Path],
    *,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    columns: str | dict | None = None,
    crs: str | None = None,
    keep_private: bool = False,
    **reading: Any,
):
    """Incidents from files (clean files from ``load``/``synth``, or raw exports) inside
    the study area, and the layers, with stand-ins for missing ones. ``keep_private``: the
    private rows a clean file holds without their points are kept, with their area labels
    (for the commands that count by area; see :func:`impactzones.io.read_incidents`).

    Returns ``(LoadResult, Layers, notes)``: ``notes`` says which layers were filled in.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("id,date,category,lat,lon\\n1,2018-03-01,robbery,38.63,-90.2\\n")
    >>> res, layers, notes = read_for_command([p])
    >>> res.tally["used"], len(layers.zones), notes
    (1, 3, [])
    """
    from .io.incidents import read_incidents
    from .pipeline import fill_missing_layers, load_layers

    layers = load_layers(boundary=boundary, zones=zones, layer_crs=crs, strict=not boundary)
    layers, notes = fill_missing_layers(layers)  # another city: its boundary alone is enough
    res = read_incidents(
        list(paths),
        columns=parse_columns(columns),
        crs=crs,
        study_area=layers.study_area,
        work_crs=layers.crs,
        keep_private=keep_private,
        **reading_options(**reading),
    )
    _check_some_left(res, reading.get("as_of"), boundary_given=boundary is not None)
    blank = res.tally["rejected_by_reason"].get("sensitive_no_point", 0)
    if blank:  # a clean file's private rows: this command works on points
        notes = [*notes, f"{blank:,} private incidents have no point in the input (as `load` "
                 "writes them) and are left out here: this command works on points."]  # fmt: skip
    return res, layers, notes


def select_incidents(
    incidents,
    from_: str | None = None,
    to: str | None = None,
    category: str | None = None,
    group: str | None = None,
):
    """The incidents of a period and of some categories or groups (comma-separated);
    refused in one sentence when none match.

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> len(select_incidents(inc, "2018-01-01", "2018-01-31", group="violent")) > 0
    True
    """
    from .core.windows import select

    out = select(
        incidents,
        start=from_,
        end=to,
        category=category.split(",") if category else None,
        group=group.split(",") if group else None,
    )
    if len(out) == 0:
        raise InputError(
            "No incidents match the period and categories asked for; check "
            "--from/--to and --category/--group."
        )
    return out


def _guard(inputs: Sequence, outputs: Sequence, folder: bool = False) -> None:
    """Refuse outputs that would land on an input (a folder that holds one, for ``folder``)."""
    if folder:
        from .pipeline import guard_folder

        for out in outputs:
            if out:
                guard_folder(list(inputs), Path(out))
        return
    from .io.writers import guard_outputs

    guard_outputs(list(inputs), list(outputs))


def _inside(out, write: Callable[[], list]) -> list:
    """Run ``write`` with every path fenced inside the folder ``out`` (nothing without)."""
    if not out:
        return []
    from .core.files import output_root

    with output_root(out):
        return write()


def _pop_cli(kwargs: dict) -> dict:
    """Drop keywords that are the CLI's own (printing), if a caller passed them through."""
    for key in ("json", "quiet", "debug", "wide", "self_contained"):
        kwargs.pop(key, None)
    return kwargs


# ----------------------------------------------------------------------------------------
# The whole pipeline: demo, map, run
# ----------------------------------------------------------------------------------------


#: the picture worker's warm-up (``pipeline.PICTURE_WARM_UP``, named here without importing
#: the pipeline, so the worker starts before that import)
PICTURE_WARM_UP = "impactzones.pipeline:_warm_worker"


def demo(
    out: str | Path = "maps",
    *,
    seed: int = 2018,
    incidents: Sequence[str | Path] | None = None,
    columns: str | dict | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones demo``: :func:`impactzones.pipeline.run_demo` on the bundled layers
    and synthetic incidents (or the files given), with its printed summary.

    ``kwargs``: the layers (``boundary``, ``districts``, ``zones``, ``basemap``), ``ring``,
    ``crs``, ``online_tiles``, ``no_explore`` and ``no_compstat`` (skip the proposal page,
    the CompStat report) and the reading options of :func:`reading_options`.

    Examples
    --------
    A minute of work, so doctest skips it (``tests/test_cli.py`` runs it).

    >>> demo("maps").data["zone_change"]["display"]  # doctest: +SKIP
    '-20.0%'
    """
    from .core.worker import prestart

    prestart(PICTURE_WARM_UP)  # the pictures' worker imports while the pipeline is imported
    from . import pipeline

    kwargs = _pop_cli(kwargs)
    layer_keys = ("boundary", "districts", "zones", "crs", "ring", "online_tiles", "basemap",
                  "png_maps")
    run = {k: kwargs.pop(k) for k in layer_keys if k in kwargs}
    for page in ("explore", "compstat"):  # --no-explore, --no-compstat
        if kwargs.pop(f"no_{page}", False):
            run[page] = False
    res = pipeline.run_demo(
        out, seed=seed, incidents=incidents, columns=parse_columns(columns),
        read_options=reading_options(**kwargs), progress=progress, **run,
    )  # fmt: skip
    return Outcome(res.headline, lambda wide: summaries.demo_summary(res, out), res.files,
                   value=res)  # fmt: skip


def map_files(incidents: Sequence[str | Path], out: str | Path = "maps", **kwargs: Any) -> Outcome:
    """``impactzones map``: the demo's pipeline and maps on a user's incident files.

    Examples
    --------
    >>> map_files(["incidents.csv"], "maps")  # doctest: +SKIP
    """
    from .io.manifest import warn_if_incomplete

    _guard(incidents, [out], folder=True)  # a folder, as the CLI declares it
    warn_if_incomplete(incidents)
    # a clean file's private rows (no point, their areas kept) count like compare's
    return demo(out, seed=0, incidents=incidents, **kwargs)


def run_study(
    settings: str | Path, out: str | Path | None = None, *, progress: Progress = None
) -> Outcome:
    """``impactzones run study.toml``: the demo's pipeline with the settings kept in a file,
    checked against the declared options first; the settings and the version are recorded
    in ``run_settings.json``. Paths in the file are read relative to it.

    Examples
    --------
    >>> run_study("study.toml")  # doctest: +SKIP
    """
    from . import __version__
    from .core.options import read_study
    from .core.worker import prestart

    prestart(PICTURE_WARM_UP)  # the pictures' worker imports while the pipeline is imported
    from .io.writers import write_json
    from .pipeline import run_demo

    path = Path(settings)
    written, flat = read_study(path)  # every key checked against one schema first
    base = path.parent
    for key in ("boundary", "districts", "zones", "basemap", "harm"):
        if flat.get(key):
            flat[key] = str((base / flat[key]).resolve())
    if flat.get("incidents"):
        flat["incidents"] = [str((base / p).resolve()) for p in flat["incidents"]]
    folder = Path(out or flat.pop("out", "maps"))
    flat.pop("out", None)
    if not folder.is_absolute() and not out:
        folder = base / folder
    res = run_demo(folder, progress=progress, **flat)
    import os

    # the record travels with the folder: the settings file relative to it, not the machine
    where = Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    record = {"settings_file": where, "settings": written, "version": __version__}
    files = [*res.files, write_json(record, folder / "run_settings.json")]
    line = (f"Ran {path} (impactzones {__version__}); wrote {len(files)} files to {folder}/ "
            f"(settings recorded in run_settings.json); open {folder / 'index.html'} in a "
            "browser for the maps.")  # fmt: skip
    return Outcome(res.headline, lambda wide: [*summaries.demo_summary(res, folder)[:-1], line],
                   files, value=res)  # fmt: skip


# ----------------------------------------------------------------------------------------
# Incident files: synth, load
# ----------------------------------------------------------------------------------------


def synth(
    out: str | Path,
    *,
    seed: int = 2018,
    scale: float = 1.0,
    years: str | list[int] | None = None,
    truth: str | Path | None = None,
    partitions: int | None = None,
    progress: Progress = None,
) -> Outcome:
    """``impactzones synth``: synthetic St. Louis incidents with their planted truth (or
    ``partitions`` GeoParquet partitions, one at a time, for data past memory).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> synth(d / "inc.parquet", seed=1, scale=0.01, years="2018").data["incidents"] > 0
    True
    """
    from .datasets.synth import synthesize, write_partitions, write_truth
    from .io.writers import write_vector

    step = _step(progress)
    chosen = [int(y) for y in str(years).split(",")] if isinstance(years, str) else years
    years = list(chosen) if chosen is not None else None
    private = "These include rape and domestic-violence incidents as points: keep "
    _guard([], [out])
    if partitions is not None:
        step(f"Generating and writing {partitions} partitions")
        files = write_partitions(out, partitions, seed=seed, scale=scale, years=years)
        lines = [
            f"Wrote {len(files)} GeoParquet partitions to {Path(out)}/ (no planted-truth "
            "files: each partition has its own draw).",
            private + "them private.",
        ]
        return Outcome({"files": [str(f) for f in files]}, lambda wide: lines, list(files))
    step("Generating synthetic incidents")
    res = synthesize(seed=seed, scale=scale, years=years)
    step("Writing")
    path = write_vector(res.incidents, out)
    written = write_truth(res, Path(truth) if truth else path.parent)
    lines = [
        f"Wrote {len(res.incidents):,} incidents to {path}; planted truth in "
        f"{', '.join(str(p) for p in written)}.",
        private + "the file private.",
    ]
    files = [path, *written]
    data = {"incidents": len(res.incidents), "files": [str(f) for f in files]}
    return Outcome(data, lambda wide: lines, files, value=res)


def load(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    rejects: str | Path | None = None,
    boundary: str | Path | None = None,
    no_boundary: bool = False,
    keep_sensitive_points: bool = False,
    columns: str | dict | None = None,
    crs: str | None = None,
    progress: Progress = None,
    **reading: Any,
) -> Outcome:
    """``impactzones load``: incident files into one clean file and a rejects table; private
    incidents lose their points unless ``keep_sensitive_points`` (with a warning).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> row = "1,2018-03-01,robbery,38.63,-90.2"
    >>> _ = (d / "a.csv").write_text(f"id,date,category,lat,lon\\n{row}\\n")
    >>> load([d / "a.csv"], d / "clean.parquet").data["used"]
    1
    """
    from .io.incidents import read_incidents
    from .io.manifest import warn_if_incomplete
    from .io.writers import write_table, write_vector
    from .pipeline import blank_sensitive, load_layers

    step = _step(progress)
    options = reading_options(**_pop_cli(reading))
    rejects = rejects or str(Path(out).with_suffix("")) + "_rejects.csv"
    _guard([*paths, boundary], [out, rejects])  # the default rejects file too
    warn_if_incomplete(paths)
    step("Loading the study area")
    layers = load_layers(boundary=boundary, strict=False, layer_crs=crs)
    step("Reading incidents")
    res = read_incidents(
        list(paths), columns=parse_columns(columns), crs=crs, work_crs=layers.crs,
        study_area=None if no_boundary else layers.study_area,
        **options,
    )  # fmt: skip
    if not len(res.incidents):
        _refuse_all_rejected(res, rejects, boundary is not None and not no_boundary)
    warn = [f"{res.swapped_hint()}."] if res.swapped_hint() else []  # most swapped: said
    step("Writing")
    inc, blanked = res.incidents, 0
    if not keep_sensitive_points:
        inc, blanked = blank_sensitive(inc, layers)
    write_vector(inc, out)
    write_table(res.rejects, rejects)
    tally = res.tally | {
        "out": str(out),
        "rejects": str(rejects),
        "sensitive_points_blanked": blanked,
    }
    if keep_sensitive_points and tally["sensitive"]:
        warn.append(
            f"--keep-sensitive-points: {tally['sensitive']:,} rape, sexual-assault and "
            f"domestic-violence incidents are written WITH their points to {out}; keep the "
            "file private and never map or share it."
        )
    lines = summaries.tally_lines(tally)
    if blanked:
        lines.append(
            f"Kept private: {blanked:,} rape, sexual-assault and domestic-violence incidents "
            "are written without their points (empty geometry; district, neighborhood and "
            "zone kept, so counts add up)."
        )
    lines.append(f"Wrote {out} and the rejects table {rejects}.")
    files = [Path(out), Path(rejects)]
    return Outcome(tally, lambda wide: lines, files, value=res, warnings=warn)


def _refuse_all_rejected(res, rejects: str | Path, boundary_given: bool) -> None:
    """Refuse a ``load`` that left no incidents, in one sentence: the most common reasons
    and what to check. When rows were read, the rejects table (what the user needs to fix
    the file) is written first and named; no empty clean file is written. The refusal
    carries the tally (``out`` None, the sentence as ``error``) for ``--json``."""
    from .io.writers import write_table

    try:
        res.require_incidents(boundary_given=boundary_given)
    except InputError as exc:
        data = res.tally | {"out": None, "rejects": None, "sensitive_points_blanked": 0}
        if not res.read:  # no rows at all: nothing to write
            exc.data = data | {"error": str(exc)}  # what --json prints, with the exit 2
            raise
        write_table(res.rejects, rejects)
        message = (f"{str(exc).rstrip('.')}; the rejects table {rejects} gives each row's "
                   "reason, and no clean file was written.")  # fmt: skip
        data |= {"rejects": str(rejects), "error": message}
        raise InputError(message, data=data) from None


# ----------------------------------------------------------------------------------------
# Analyses of incident files: hotspots, compare, propose, compstat, explore
# ----------------------------------------------------------------------------------------

#: The hot-spot parameters passed through to :func:`impactzones.pipeline.run_hotspots`.
HOTSPOT_PARAMS = ("cell_size", "bandwidth", "kernel", "top", "eps", "min_samples", "distance",
                  "permutations", "inference", "seed")  # fmt: skip


def hotspots(
    incidents: Sequence[str | Path],
    out: str | Path,
    *,
    method: Sequence[str] | None = None,
    from_: str | None = None,
    to: str | None = None,
    category: str | None = None,
    group: str | None = None,
    boundary: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones hotspots``: the selected incidents' hot spots by each method asked
    for, written to ``out``, every parameter reported with the rule behind it.

    ``kwargs``: the method parameters (``cell_size``, ``bandwidth``, ``kernel``, ``top``,
    ``eps``, ``min_samples``, ``distance``, ``permutations``, ``inference``, ``seed``) and
    the reading options.

    Examples
    --------
    >>> hotspots(["incidents.csv"], "out", method=["kde"])  # doctest: +SKIP
    """
    from .core.options import hotspot_methods
    from .pipeline import hotspot_params, run_hotspots

    step = _step(progress)
    methods = list(method or hotspot_methods()[1])
    _guard([*incidents, boundary], [out], folder=True)
    params = {k: kwargs.pop(k) for k in HOTSPOT_PARAMS if k in kwargs}
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, **_pop_cli(kwargs))
    inc = select_incidents(res.incidents, from_, to, category, group)
    step(f"Finding hot spots ({', '.join(methods)})")
    results, files = run_hotspots(inc, layers.land, Path(out), methods=methods, **params)
    found = hotspot_params(results)
    lines = [
        f"{len(inc):,} incidents selected (of {res.tally['used']:,} read).",
        *summaries.hotspot_summary(found),
        f"Wrote {len(files)} files to {out}/.",
    ]
    data = found | {"files": [str(f) for f in files]}
    return Outcome(data, lambda wide: lines, list(files), notes, value=results)


def _harm_path(out: str | Path) -> Path:
    """The harm table written beside the comparison: ``OUT_harm.csv``."""
    out = Path(out)
    return out.with_name(out.with_suffix("").name + "_harm.csv")


def _only_zones(zones, names: str | Sequence[str] | None):
    """The zones named (each ``--zone`` exactly, or comma-separated: see
    :func:`impactzones.core.options.pick_names`), or all; an unknown name is refused."""
    if not names:
        return zones
    from .core.options import pick_names

    wanted = pick_names(names, zones["name"].astype(str).tolist(), option="--zone")
    return zones[zones["name"].astype(str).isin(wanted)]


def _check_windows(inc, before: str, after: str, normalise: str | None = None) -> None:
    """Refuse windows the data cannot fill (a window with no data, or unequal lengths)."""
    import pandas as pd

    from .cube import cube_span, is_cube
    from .evaluate.compare import align_windows, check_windows

    times = pd.Series(pd.to_datetime(cube_span(inc))) if is_cube(inc) else inc["occurred_at"]
    end = times.max().date() if len(times) and pd.notna(times.max()) else None
    b, a, _ = align_windows(before, after, end, normalise=normalise)
    check_windows(b, a, times, strict=True)


def cube(
    incidents: Sequence[str | Path],
    *,
    out: str | Path = "cube.nc",
    freq: str = "month",
    cell_size: float | None = None,
    ring: float = RING.default,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones cube``: the count cube of the incidents (cells, and each incident
    exactly in its zone, ring, control area and district: :func:`impactzones.cube.build_cube`
    with the layers), written to ``out`` (``.nc``).

    Examples
    --------
    >>> cube(["inc.parquet"], out="cube.nc", freq="day").data["periods"]  # doctest: +SKIP
    """
    from .cube import build_cube, cube_span, write_cube

    step = _step(progress)
    _guard([*incidents, zones, boundary], [out])
    if Path(out).suffix.lower() not in (".nc", ".nc4"):
        raise InputError(f"Write the cube to a .nc file (NetCDF-4), not {Path(out).name}.")
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                          keep_private=True, **_pop_cli(kwargs))  # fmt: skip
    step("Counting")
    built = build_cube(res.incidents, study_area=layers.study_area, cell_size=cell_size,
                       freq=freq, zones=layers.zones, ring=ring,
                       districts=layers.districts)  # fmt: skip
    path = write_cube(built, out)
    first, last = cube_span(built)
    data = {"file": str(path), "freq": freq, "cell_size_m": float(built.attrs["cell_size_m"]),
            "periods": int(built.sizes["time"]), "first_day": first.isoformat(),
            "last_day": last.isoformat(), "incidents_in_cells": int(built["count"].sum()),
            "incidents_in_city": int(built["area_count"].sel(area="city").sum()),
            "ring_m": float(ring)}  # fmt: skip
    lines = [
        f"Counted {data['incidents_in_city']:,} incidents ({data['incidents_in_cells']:,} with "
        f"a point, in {data['cell_size_m']:g} m cells) by {freq}, {data['first_day']} to "
        f"{data['last_day']}, and each one in its zone, {ring:g} m ring, control area and "
        f"district.",
        f"Wrote {path}.",
    ]
    return Outcome(data, lambda wide: lines, [path], notes, value=built)


def _cube_file(paths: Sequence[str | Path]):
    """The count cube when the input is one NetCDF file (``.nc``, from
    :func:`impactzones.cube.write_cube`), else None."""
    cubes = [p for p in paths if Path(p).suffix.lower() in (".nc", ".nc4")]
    if not cubes:
        return None
    if len(paths) != 1:
        raise InputError("Give a count cube (.nc) alone, not together with incident files.")
    from .cube import read_cube

    return read_cube(cubes[0])


def _layers_for_cube(boundary, zones, crs) -> tuple:
    """The layers (and the notes on stand-ins) for a command fed a count cube."""
    from .pipeline import fill_missing_layers, load_layers

    layers = load_layers(boundary=boundary, zones=zones, layer_crs=crs, strict=not boundary)
    return fill_missing_layers(layers)


def compare(
    incidents: Sequence[str | Path],
    *,
    before: str,
    after: str,
    zone: str | Sequence[str] | None = None,
    by: str = "group",
    crimes: str | None = None,
    harm: str | Path | None = None,
    out: str | Path | None = None,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones compare``: each zone, its ring and the control area between two
    windows (``ring``, ``normalise``, ``dispersion`` in ``kwargs``), with the harm-weighted
    WDD when ``harm`` weights are given; ``out`` writes OUT.csv, .json, .md (+ OUT_harm.csv).

    Examples
    --------
    >>> compare(["inc.parquet"], before="2017", after="2018").data["rows"]  # doctest: +SKIP
    """
    from .evaluate.compare import compare_zones, to_markdown, to_records
    from .evaluate.harm import check_harm_categories, harm_table, read_harm_weights
    from .io.writers import write_table, write_text

    step = _step(progress)
    outs = [Path(out).with_suffix(e) for e in (".csv", ".json", ".md")] if out else []
    outs += [_harm_path(out)] if out and harm else []
    _guard([*incidents, zones, boundary, harm], outs)
    weights = read_harm_weights(harm) if harm else None  # refused before any work
    from .core.windows import parse_window

    parse_window(before), parse_window(after)  # a date that cannot be read: before reading
    cmp: dict[str, Any] = {
        k: kwargs.pop(k) for k in ("ring", "normalise", "dispersion") if k in kwargs
    }
    step("Reading incidents")
    cube = _cube_file(incidents)  # a count cube in place of the incidents
    if cube is not None:
        if weights is not None:
            raise InputError("--harm weighs categories, and a count cube counts crime groups "
                             "only; give the incidents.")  # fmt: skip
        layers, notes = _layers_for_cube(boundary, zones, kwargs.get("crs"))
        inc = cube
    else:
        res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                              keep_private=True, **_pop_cli(kwargs))  # fmt: skip
        inc = res.incidents  # with the private rows a clean file holds without their points
    if weights is not None:
        check_harm_categories(weights, inc["category"].unique(), str(harm))
    chosen = _only_zones(layers.zones, zone)
    step("Comparing")
    _check_windows(inc, before, after, cmp.get("normalise"))
    cmp["study_area"] = layers.study_area
    table = compare_zones(inc, chosen, before, after, by=by,
                          crimes=crimes.split(",") if crimes else None, **cmp)  # fmt: skip
    harm_t = None
    if weights is not None:
        step("Weighting by harm")
        by_cat = table  # the weighted categories, each one's WDD (ptools' wdd_harm)
        if by != "category" or crimes:
            by_cat = compare_zones(inc, chosen, before, after, by="category",
                                   crimes=sorted(weights), **cmp)  # fmt: skip
        harm_t = harm_table(by_cat[by_cat["crime"].isin(list(weights))], weights)
    data = {k: table.params[k] for k in ("before", "after", "note")} | {"rows": to_records(table)}
    if harm_t is not None:
        data["harm"] = to_records(harm_t)
    files = []
    if out:  # OUT.json is the document --json prints
        files = [write_table(table, outs[0]), write_text(_json(data), outs[1]),
                 write_text(to_markdown(table), outs[2])]  # fmt: skip
        files += [write_table(harm_t, outs[3])] if harm_t is not None else []

    def report(wide: bool) -> list:
        blocks = summaries.comparison_summary(table)
        blocks += summaries.harm_summary(harm_t) if harm_t is not None else []
        if out:
            extra = f" and {_harm_path(out).name}" if harm_t is not None else ""
            blocks.append(f"Wrote {Path(out).with_suffix('')}.csv, .json and .md{extra}.")
        return blocks

    return Outcome(data, report, files, notes, value=table)


def _json(value: Any) -> str:
    from .core.files import json_text

    return json_text(value)


def _period_end(period: str | int):
    import pandas as pd

    from .core.windows import parse_window

    return pd.Timestamp(parse_window(period).end)


def _no_data_in(incidents, test_period, asked: bool) -> str:
    """Why there is nothing to backtest on (the test period starts after the data's last
    date): a note when the test period was the default, an error when it was asked for;
    ``""`` when there is data."""
    import pandas as pd

    from .core.windows import parse_window

    if test_period is None or not len(incidents):
        return ""
    window = parse_window(test_period)
    last = incidents["occurred_at"].max()
    if pd.isna(last) or last.date() >= window.start:
        return ""
    sentence = (f"No backtest: the data end on {last:%Y-%m-%d}, so there is no data in "
                f"{window.label} to backtest on")  # fmt: skip
    if asked:
        raise InputError(f"{sentence}; give a --test-period the data cover.")
    return f"{sentence}; give --test-period to backtest on a period the data cover."


def propose(
    incidents: Sequence[str | Path],
    *,
    period: str,
    test_period: str | int | None = None,
    zones: str | Path | None = None,
    existing: str | Sequence[str] | None = None,
    exclude: str | Path | None = None,
    group: str | None = None,
    category: str | None = None,
    out: str | Path | None = None,
    boundary: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones propose``: new zones from the hot spots of ``period``, kept clear of
    the existing zones (:func:`impactzones.pipeline.existing_zones`: those named, else all
    given, else the bundled zones begun by the end of the period, plus ``exclude``), and
    their backtest on ``test_period`` (default: the next year).

    ``kwargs``: the :func:`impactzones.propose.propose_zones` settings (``k``,
    ``budget_km2``, ``max_area_km2``, ``min_area_km2``, ``gap``, ``method``, ``threshold``,
    ``snap``, ``stability``, ``history``, ``solidity``, ``min_pai``, ``min_incidents``) and
    the reading options.

    Examples
    --------
    >>> propose(["inc.parquet"], period="2018", k=2)  # doctest: +SKIP
    """
    from .io.writers import check_vector_path, write_table, write_vector
    from .pipeline import existing_zones
    from .propose import backtest, propose_zones

    step = _step(progress)
    backtest_file = Path(out).with_suffix("").as_posix() + "_backtest.csv" if out else None
    _guard([*incidents, zones, exclude, boundary], [out, backtest_file])
    if out:
        check_vector_path(out)  # refused before reading, not after the backtest
    keys = ("k", "budget_km2", "max_area_km2", "min_area_km2", "gap", "method", "threshold",
            "snap", "stability", "history", "solidity", "min_pai", "min_incidents")  # fmt: skip
    settings = {k: kwargs.pop(k) for k in keys if k in kwargs}
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                          **_pop_cli(kwargs))  # fmt: skip
    asked = test_period is not None
    if test_period is None and str(period).isdigit():
        test_period = int(period) + 1
    no_test = _no_data_in(res.incidents, test_period, asked)  # refused before any work
    if no_test:
        notes, test_period = [*notes, no_test], None
    step("Proposing zones")
    kept = existing_zones(
        layers.zones, names=existing, by=None if zones else _period_end(period),
        extra=exclude, crs=layers.crs,
    )  # fmt: skip
    crimes: dict[str, Any] = {"group": None if category else (group or "violent"),
              "category": category.split(",") if category else None}  # fmt: skip
    props = propose_zones(res.incidents, period=period, exclude=kept, layers=layers,
                          **crimes, **settings)  # fmt: skip
    bt = None
    if test_period is not None:
        step("Backtesting on the next period")
        try:
            bt = backtest(props, res.incidents, period=test_period, before=period,
                          existing=kept, layers=layers, **crimes)  # fmt: skip
        except InputError:
            bt = None
    files = []
    if out:
        files.append(write_vector(props, out))
        if bt is not None:
            files.append(write_table(bt, str(backtest_file)))
    data = {"proposals": props.drop(columns="geometry").to_dict("records"),
            "backtest": None if bt is None else bt.to_dict("records"),
            "headline": props.headline(), "stopped": props.params["stopped"]}  # fmt: skip
    wrote = (
        [f"Wrote {out}" + (" and its backtest table." if bt is not None else ".")] if out else []
    )
    return Outcome(data, lambda wide: summaries.proposal_summary(props, bt) + wrote, files,
                   notes, value=props)  # fmt: skip


def compstat(
    incidents: Sequence[str | Path],
    *,
    as_of: str | None = None,
    out: str | Path = "compstat",
    online_tiles: bool = False,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones compstat``: 7 days, 28 days and the year to ``as_of`` (default: the
    data's last day) against a year earlier, by district and zone, with the 28-day hot
    spots map; later dates are rejected as future_date.

    Examples
    --------
    >>> compstat(["inc.parquet"], as_of="2019-06-30")  # doctest: +SKIP
    """
    import pandas as pd

    from .assign import assign
    from .evaluate.compare import to_records
    from .io.safety import source_label
    from .maps.compstat import write_compstat

    if as_of is not None:
        try:
            pd.Timestamp(as_of)
        except ValueError:
            raise InputError(f"--as-of expects a date (YYYY-MM-DD); got {as_of!r}.") from None
    step = _step(progress)
    _guard([*incidents, zones, boundary], [out], folder=True)
    step("Reading incidents")
    cube = _cube_file(incidents)  # a daily count cube in place of the incidents
    if cube is not None:
        from .cube import cube_span

        layers, notes = _layers_for_cube(boundary, zones, kwargs.get("crs"))
        inc, day = cube, as_of or cube_span(cube)[1].isoformat()
    else:
        res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                              as_of=as_of, keep_private=True,
                                              **_pop_cli(kwargs))  # fmt: skip
        inc = assign(res.incidents, layers)  # private rows placed by the labels they kept
        day = as_of or f"{inc['occurred_at'].max():%Y-%m-%d}"
    step("Counting the periods")
    table, files = write_compstat(inc, layers, day, out, online_tiles=online_tiles,
                                  source=source_label(incidents))  # fmt: skip
    data = {"windows": table.windows, "rows": to_records(table)}
    wrote = f"Wrote {', '.join(p.name for p in files)} to {Path(out)}/."
    return Outcome(data, lambda wide: [*summaries.compstat_summary(table, wide), wrote],
                   list(files), notes, value=table)  # fmt: skip


def _check_some_left(res, as_of, boundary_given: bool = False) -> None:
    """Refuse, naming the cause, a read that left no incidents (the commands that analyse
    write no rejects file): files with no rows, an ``--as-of`` before every incident, or
    the rejection reasons."""
    import pandas as pd

    if len(res.incidents):
        return
    by = res.tally["rejected_by_reason"]
    if as_of is not None and by.get("future_date", 0):
        raise InputError(
            f"--as-of {pd.Timestamp(as_of):%Y-%m-%d} is before the data: all "
            f"{by['future_date']:,} incidents with a readable date come after it; give a day "
            "within the data."
        )
    res.require_incidents(boundary_given=boundary_given)


def proposal_year(incidents) -> int:
    """The year to propose zones from: the latest, unless it holds less than half an
    average year's incidents (a year just begun), then the one before.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2017-05-01"] * 10 + ["2018-05-01"] * 10 + ["2019-01-02"])
    >>> proposal_year(pd.DataFrame({"occurred_at": t}))
    2018
    """
    years = incidents["occurred_at"].dt.year
    year = int(years.max())
    if (years == year).sum() < 0.5 * len(incidents) / max(years.nunique(), 1):
        year -= 1
    return year


def explore(
    incidents: Sequence[str | Path],
    out: str | Path = "explore.html",
    *,
    cell: float = 100.0,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones explore``: the offline proposal page, with zones proposed from
    :func:`proposal_year` away from the zones begun by then, and the capture curve of
    that strategy backtested on the year before.

    Examples
    --------
    >>> explore(["inc.parquet"], "explore.html")  # doctest: +SKIP
    """
    import pandas as pd

    from .maps.explore import write_explore
    from .pipeline import existing_zones
    from .propose import capture_curve, propose_zones

    step = _step(progress)
    _guard([*incidents, zones, boundary], [out])
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                          keep_private=True, **_pop_cli(kwargs))  # fmt: skip
    everything = res.incidents  # private rows without points: counted by district only
    inc = everything[~everything.geometry.is_empty.to_numpy()]
    step("Proposing zones from the latest full year")
    year = proposal_year(inc)
    try:
        by_then = existing_zones(layers.zones, by=pd.Timestamp(f"{year}-12-31"))
        props = propose_zones(inc, period=year, exclude=by_then, layers=layers)
    except InputError:
        props = None
    curve = None
    if (inc["occurred_at"].dt.year == year - 1).any():
        step("Backtesting the proposals' strategy on the year before")
        before = existing_zones(layers.zones, by=pd.Timestamp(f"{year - 1}-12-31"))
        try:
            curve = capture_curve(inc, period=year, before=year - 1, existing=before,
                                  layers=layers, draws=20)  # fmt: skip
        except InputError:
            curve = None
    step("Writing the page")
    path = write_explore(everything, layers, out, proposals=props, cell=cell, capture=curve)
    line = f"Wrote {path}; open it in a browser (it works offline)."
    return Outcome({"file": str(path)}, lambda wide: [line], [path], notes, value=props)


# ----------------------------------------------------------------------------------------
# Evaluation designs: evaluate, concentration, nearrepeat
# ----------------------------------------------------------------------------------------


def evaluate(
    incidents: Sequence[str | Path],
    *,
    zone: str,
    out: str | Path | None = None,
    no_synthetic_control: bool = False,
    boundary: str | Path | None = None,
    zones: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones evaluate``: one zone's interrupted time series, synthetic control and
    power (:func:`impactzones.evaluate.run.evaluate_zone`; ``start``, ``crime``, ``by``,
    ``ring``, ``freq``, ``model``, ``seasonality`` in ``kwargs``), written to ``out``.

    Examples
    --------
    >>> evaluate(["inc.parquet"], zone="North").data["series"]  # doctest: +SKIP
    """
    from .evaluate.run import evaluate_zone

    step = _step(progress)
    _guard([*incidents, zones, boundary], [out], folder=True)
    keys = ("start", "crime", "by", "ring", "freq", "model", "seasonality")
    kw = {k: kwargs.pop(k) for k in keys if k in kwargs}
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, zones=zones,
                                          keep_private=True, **_pop_cli(kwargs))  # fmt: skip
    known = layers.zones["name"].astype(str).tolist()
    if zone not in known:
        from .core.options import unknown_names

        raise unknown_names([zone], known)
    step("Fitting the time series and the synthetic control")
    kw["synthetic"] = not no_synthetic_control
    done = _inside(out, lambda: [evaluate_zone(res.incidents, layers, zone, out=out, **kw)])
    ev = done[0] if done else evaluate_zone(res.incidents, layers, zone, **kw)
    lines = [f"- {ev.series.verdict}"]
    lines += [f"- {ev.synthetic.verdict}"] if ev.synthetic is not None else []
    lines.append(f"- {ev.power.verdict}")
    if ev.files:
        lines.append(f"Wrote {', '.join(p.name for p in ev.files)} to {out}/.")
    return Outcome(ev.summary, lambda wide: lines, list(ev.files), notes, value=ev)


def concentration(
    incidents: Sequence[str | Path],
    *,
    cell_size: float = 150.0,
    out: str | Path | None = None,
    from_: str | None = None,
    to: str | None = None,
    category: str | None = None,
    group: str | None = None,
    boundary: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones concentration``: the share of crime in the top 1, 5 and 10% of cells,
    the Lorenz curve and the Gini coefficient, for the city and each district.

    Examples
    --------
    >>> concentration(["inc.parquet"], group="violent").data[0]["area"]  # doctest: +SKIP
    'City'
    """
    from .evaluate.concentration import concentration_report, plot_lorenz
    from .io.writers import write_table

    step = _step(progress)
    _guard([*incidents, boundary], [out], folder=True)
    step("Reading incidents")
    res, layers, notes = read_for_command(incidents, boundary=boundary, **_pop_cli(kwargs))
    inc = select_incidents(res.incidents, from_, to, category, group)
    step("Counting incidents per cell")
    table = concentration_report(inc, layers.land, cell_size=cell_size, districts=layers.districts)

    def write() -> list:
        folder = Path(str(out))
        csv = write_table(table, folder / "concentration.csv")
        plot_lorenz(table.results, folder / "concentration_lorenz.png")
        return [csv, folder / "concentration_lorenz.png"]

    files = _inside(out, write)
    lines = [f"- {row.area}: {row.verdict}" for row in table.itertuples(index=False)]
    lines += [f"Wrote {', '.join(p.name for p in files)} to {out}/."] if files else []
    return Outcome(table.to_dict("records"), lambda wide: lines, files, notes, value=table)


def nearrepeat(
    incidents: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    from_: str | None = None,
    to: str | None = None,
    category: str | None = None,
    group: str | None = None,
    boundary: str | Path | None = None,
    progress: Progress = None,
    **kwargs: Any,
) -> Outcome:
    """``impactzones nearrepeat``: the Knox test and the near-repeat table (``distance``,
    ``distance_bands``, ``days``, ``day_bands``, ``same_location``, ``permutations``,
    ``seed`` in ``kwargs``), written to ``out``.

    Examples
    --------
    >>> nearrepeat(["inc.parquet"], category="burglary").data["verdict"]  # doctest: +SKIP
    """
    from .evaluate.nearrepeat import near_repeat_incidents
    from .evaluate.run import write_near_repeat

    step = _step(progress)
    _guard([*incidents, boundary], [out], folder=True)
    names = {
        "distance": "spatial_bandwidth",
        "distance_bands": "spatial_bands",
        "days": "temporal_bandwidth",
        "day_bands": "temporal_bands",
        "same_location": "same_location",
        "permutations": "permutations",
        "seed": "seed",
    }
    kw = {names[k]: kwargs.pop(k) for k in list(names) if k in kwargs}
    step("Reading incidents")
    res, _, notes = read_for_command(incidents, boundary=boundary, **_pop_cli(kwargs))
    inc = select_incidents(res.incidents, from_, to, category, group)
    step(f"Counting pairs ({kw.get('permutations', 99)} permutations)")
    r = near_repeat_incidents(inc, **kw)
    files = _inside(out, lambda: write_near_repeat(r, str(out)))
    lines = summaries.knox_summary(r)
    lines += [f"Wrote {', '.join(p.name for p in files)} to {out}/."] if files else []
    data = {"params": r.params, "verdict": r.verdict, "cells": r.to_records()}
    return Outcome(data, lambda wide: lines, list(files), notes, value=r)
