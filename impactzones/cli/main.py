"""The ``impactzones`` command: a thin shell over the same functions a notebook calls.

Exit codes: 0 success; 2 a problem with the input or the settings (one sentence says what
and what to do next); 1 an unexpected error (rerun with ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from ..core.errors import ImpactZonesError, InputError
from ..core.options import parse_columns

__all__ = [
    "build_parser",
    "cmd_compare",
    "cmd_compstat",
    "cmd_concentration",
    "cmd_demo",
    "cmd_evaluate",
    "cmd_explore",
    "cmd_hotspots",
    "cmd_load",
    "cmd_map",
    "cmd_nearrepeat",
    "cmd_propose",
    "cmd_run",
    "cmd_synth",
    "main",
    "os_error_sentence",
    "parse_columns",
    "print_comparison",
    "print_compstat",
    "print_proposals",
    "read_options",
]

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT = 0, 1, 2


def os_error_sentence(exc: OSError) -> str:
    """One sentence for a file-system refusal (permissions, a file where a folder must be...).

    Examples
    --------
    >>> os_error_sentence(PermissionError(13, "Permission denied", "/x/y.csv"))
    'Cannot write or read /x/y.csv: permission denied; choose a folder you can write to (--out).'
    """
    import errno

    where = exc.filename or "a file"
    advice = {
        errno.EACCES: "permission denied; choose a folder you can write to (--out)",
        errno.EPERM: "permission denied; choose a folder you can write to (--out)",
        errno.EROFS: "the file system is read-only; choose another folder (--out)",
        errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
        errno.EISDIR: "it is a folder where a file is expected; give a file name",
        errno.EEXIST: "a file is in the way of a folder; choose another path",
        errno.ENOSPC: "the disk is full; free some space or choose another folder",
        errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    }.get(exc.errno or 0, f"{(exc.strerror or str(exc)).lower()}; check the path")
    return f"Cannot write or read {where}: {advice}."


def _console(quiet: bool = False):
    from rich.console import Console

    # Piped output (logs, CI) gets a fixed, readable width instead of 80 columns.
    return Console(quiet=quiet, highlight=False, width=None if sys.stdout.isatty() else 120)


def read_options(args) -> dict:
    """The reading options every command shares (crosswalk, privacy, dates), as keywords
    of :func:`impactzones.io.read_incidents`."""
    extra = getattr(args, "sensitive_categories", None)
    return {
        "categories": getattr(args, "categories", None),
        "sensitive_categories": [s for s in extra.split(",") if s.strip()] if extra else (),
        "domestic_column": getattr(args, "domestic_column", None),
        "profile": getattr(args, "profile", None),
        "timezone": getattr(args, "timezone", None),
        "dayfirst": getattr(args, "dayfirst", None),
        "date_floor": getattr(args, "date_floor", None) or "1970-01-01",
        "as_of": getattr(args, "as_of", None),
    }


@contextmanager
def _steps(console, quiet: bool, total: int = 4):
    """A progress bar that advances and names each step while it runs (a plain line per
    step when the output is not a terminal; nothing with --quiet)."""
    if quiet or not console.is_terminal:
        yield lambda msg: None if quiet else console.print(f"[dim]... {msg}[/dim]")
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<50}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Starting", total=total)
        state = {"n": 0}

        def step(msg: str) -> None:
            if state["n"]:
                progress.advance(task)
            state["n"] += 1
            if state["n"] > (progress.tasks[0].total or 0):
                progress.update(task, total=state["n"])
            progress.update(task, description=msg)

        yield step
        progress.update(task, completed=progress.tasks[0].total)


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from rich.table import Table

    from ..pipeline import run_demo

    con = _console(args.quiet or args.json)
    with _steps(con, args.quiet or args.json, total=8) as step:
        res = run_demo(
            args.out,
            seed=args.seed,
            boundary=args.boundary,
            districts=args.districts,
            zones=args.zones,
            incidents=args.incidents,
            columns=parse_columns(args.columns),
            crs=args.crs,
            read_options=read_options(args),
            ring=args.ring,
            online_tiles=args.online_tiles,
            basemap=getattr(args, "basemap", None),
            progress=step,
        )
    if args.json:
        print(json.dumps(res.headline, indent=2, default=str))
        return EXIT_OK
    if res.load is not None:
        _print_tally(con, res.load.tally)
    pivot = res.counts.pivot_table(index="district", columns="year", values="count", aggfunc="sum")
    # Real exports carry a few old incidents reported late: show the years that matter.
    share = pivot.sum() / pivot.to_numpy().sum()
    shown = [y for y in pivot.columns if share[y] >= 0.01][-8:]
    hidden = int(pivot.drop(columns=shown).to_numpy().sum())
    pivot = pivot[shown]
    title = "Incidents by district and year (all groups)"
    if hidden:
        title += f"; {hidden:,} in other years not shown"
    t = Table(title=title)
    t.add_column("district")
    for y in pivot.columns:
        t.add_column(str(y), justify="right")
    for d, row in pivot.iterrows():
        t.add_row(str(d), *[f"{int(v):,}" for v in row])
    _show(con, t, wide=args.wide)
    h = res.headline
    if "zone_change" in h:
        zc, cc = h["zone_change"], h["citywide_change"]
        con.print(
            f"Violent crime, {h['windows'][0]} to {h['windows'][1]}: "
            f"[bold]{h['zone']} zone {zc['display']}[/bold] "
            f"({zc['before']:,} to {zc['after']:,}); citywide {cc['display']} "
            f"({cc['before']:,} to {cc['after']:,})."
        )
        for line in h.get("headline", []):  # the map's first lines, the same words
            con.print(f"  {line}")
    for table in res.comparisons.values():
        print_comparison(con, table, wide=args.wide)
    if res.proposals is not None:
        print_proposals(con, res.proposals, res.backtest, wide=args.wide)
    if "hotspots" in h:
        hs = h["hotspots"]
        con.print(
            f"Violent hot spots {hs['year']}: {', '.join(hs['findings'])}; parameters in "
            "hotspots_params.json."
        )
    if h.get("sensitive_not_exported"):
        con.print(
            f"{h['sensitive_not_exported']:,} rape and domestic-violence incidents are counted "
            "in the tables but never exported or mapped as points."
        )
    con.print(
        f"Wrote {len(res.files)} files to {Path(args.out)}/; open "
        f"{Path(args.out) / 'index.html'} in a browser for the maps."
    )
    return EXIT_OK


def cmd_map(args) -> int:
    """`impactzones map`: the demo's pipeline and maps on a user's incident files."""
    from ..io.manifest import warn_if_incomplete
    from ..io.writers import guard_outputs

    guard_outputs(args.incidents, [args.out])
    warn_if_incomplete(args.incidents)
    args.seed = 0
    return cmd_demo(args)


def cmd_run(args) -> int:
    """`impactzones run study.toml`: the demo's pipeline with settings kept in a file."""
    from ..core.options import read_study
    from ..io.writers import write_json
    from ..pipeline import run_demo

    path = Path(args.settings)
    settings, flat = read_study(path)  # every key checked against one schema first
    base = path.parent
    for key in ("boundary", "districts", "zones", "basemap", "harm"):
        if flat.get(key):
            flat[key] = str((base / flat[key]).resolve())
    if flat.get("incidents"):
        flat["incidents"] = [str((base / p).resolve()) for p in flat["incidents"]]
    out = Path(args.out or flat.pop("out", "maps"))
    flat.pop("out", None)
    if not out.is_absolute() and not args.out:
        out = base / out
    con = _console(args.quiet or args.json)
    with _steps(con, args.quiet or args.json, total=8) as step:
        res = run_demo(out, progress=step, **flat)
    write_json(
        {"settings_file": str(path), "settings": settings, "version": __version__},
        out / "run_settings.json",
    )
    if args.json:
        print(json.dumps(res.headline, indent=2, default=str))
    else:
        con.print(
            f"Ran {path} (impactzones {__version__}); wrote {len(res.files) + 1} files to "
            f"{out}/ (settings recorded in run_settings.json)."
        )
    return EXIT_OK


def _print_tally(con, tally: dict) -> None:
    con.print(
        f"Read {tally['read']:,} rows: used {tally['used']:,}, rejected {tally['rejected']:,}."
    )
    for reason, n in tally["rejected_by_reason"].items():
        con.print(f"  rejected, {reason.replace('_', ' ')}: {n:,}")
    layouts: dict = {}
    for info in (tally.get("profiles") or {}).values():
        layouts.setdefault((info["profile"], info["why"]), 0)
        layouts[(info["profile"], info["why"])] += 1
    for (name, why), n in sorted(layouts.items()):
        con.print(f"  layout: {name} ({why}; {n} file{'s' if n > 1 else ''})")
    slow = sum(d.get("parsed_row_by_row", 0) for d in (tally.get("dates") or {}).values())
    if slow:
        con.print(f"  {slow:,} dates did not fit their column's format and were read one by one.")
    unmapped = tally.get("unmapped_categories") or {}
    if unmapped:
        top = sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{k!r} ({v:,})" for k, v in top[:8])
        more = f" and {len(top) - 8} more" if len(top) > 8 else ""
        con.print(
            f"  {sum(unmapped.values()):,} rows have offense labels no crosswalk knows, kept "
            f"under their own names (group other): {shown}{more}. Map them with --categories "
            "mapping.csv (columns label,category)."
        )
    if tally.get("code_label_disagreements"):
        con.print(
            f"  {tally['code_label_disagreements']:,} rows had a code and a label that disagree; "
            "the code was used."
        )


def cmd_synth(args) -> int:
    from ..datasets.synth import synthesize, write_truth
    from ..io.writers import guard_outputs, write_vector

    con = _console(args.quiet)
    years = [int(y) for y in args.years.split(",")] if args.years else None
    if args.partitions is not None:
        from ..datasets.synth import write_partitions

        guard_outputs([], [args.out])
        with _steps(con, args.quiet) as step:
            step(f"Generating and writing {args.partitions} partitions")
            files = write_partitions(
                args.out, args.partitions, seed=args.seed, scale=args.scale, years=years
            )
        con.print(
            f"Wrote {len(files)} GeoParquet partitions to {Path(args.out)}/ "
            "(no planted-truth files: each partition has its own draw)."
        )
        con.print(
            "These include rape and domestic-violence incidents as points: keep them private."
        )
        return EXIT_OK
    with _steps(con, args.quiet) as step:
        step("Generating synthetic incidents")
        res = synthesize(seed=args.seed, scale=args.scale, years=years)
        step("Writing")
        guard_outputs([], [args.out])
        path = write_vector(res.incidents, args.out)
        truth_dir = Path(args.truth) if args.truth else path.parent
        written = write_truth(res, truth_dir)
    con.print(
        f"Wrote {len(res.incidents):,} incidents to {path}; planted truth in "
        f"{', '.join(str(p) for p in written)}."
    )
    con.print(
        "These include rape and domestic-violence incidents as points: keep the file private."
    )
    return EXIT_OK


def cmd_load(args) -> int:
    from ..io.incidents import read_incidents
    from ..io.manifest import warn_if_incomplete
    from ..io.writers import guard_outputs, write_table, write_vector
    from ..pipeline import blank_sensitive, load_layers

    con = _console(args.quiet or args.json)
    guard_outputs(args.paths, [args.out, args.rejects])
    warn_if_incomplete(args.paths)
    with _steps(con, args.quiet or args.json) as step:
        step("Loading the study area")
        layers = load_layers(boundary=args.boundary, strict=False, layer_crs=args.crs)
        step("Reading incidents")
        res = read_incidents(
            args.paths,
            columns=parse_columns(args.columns),
            crs=args.crs,
            study_area=None if args.no_boundary else layers.study_area,
            work_crs=layers.crs,
            **read_options(args),
        )
        step("Writing")
        inc, blanked = res.incidents, 0
        if not args.keep_sensitive_points:
            inc, blanked = blank_sensitive(inc, layers)
        write_vector(inc, args.out)
        rejects = args.rejects or str(Path(args.out).with_suffix("")) + "_rejects.csv"
        write_table(res.rejects, rejects)
    tally = res.tally | {
        "out": str(args.out),
        "rejects": str(rejects),
        "sensitive_points_blanked": blanked,
    }
    warn = (
        f"--keep-sensitive-points: {tally['sensitive']:,} rape, sexual-assault and "
        f"domestic-violence incidents are written WITH their points to {args.out}; keep the "
        "file private and never map or share it."
    )
    if args.keep_sensitive_points and tally["sensitive"]:
        print(f"impactzones: warning: {warn}", file=sys.stderr)
    if args.json:
        print(json.dumps(tally, indent=2))
    else:
        _print_tally(con, tally)
        if blanked:
            con.print(
                f"Kept private: {blanked:,} rape, sexual-assault and domestic-violence "
                "incidents are written without their points (empty geometry; district, "
                "neighborhood and zone kept, so counts add up)."
            )
        con.print(f"Wrote {args.out} and the rejects table {rejects}.")
    return EXIT_OK


def _read_any(paths, args):
    """Incidents from files: clean files from `load`/`synth`, or raw exports."""
    from ..io.incidents import read_incidents
    from ..pipeline import fill_missing_layers, load_layers

    boundary = getattr(args, "boundary", None)
    layers = load_layers(
        boundary=boundary,
        zones=getattr(args, "zones", None),
        layer_crs=getattr(args, "crs", None),
        strict=not boundary,  # another city: its boundary alone is enough
    )
    layers, skipped = fill_missing_layers(layers)
    if skipped and not getattr(args, "quiet", False) and not getattr(args, "json", False):
        for line in skipped:
            print(line, file=sys.stderr)
    res = read_incidents(
        paths,
        columns=parse_columns(getattr(args, "columns", None)),
        crs=getattr(args, "crs", None),
        study_area=layers.study_area,
        work_crs=layers.crs,
        **read_options(args),
    )
    return res, layers


def _filter(inc, args):
    from ..core.windows import select

    cats = args.category.split(",") if getattr(args, "category", None) else None
    groups = args.group.split(",") if getattr(args, "group", None) else None
    out = select(
        inc,
        start=getattr(args, "from_", None),
        end=getattr(args, "to", None),
        category=cats,
        group=groups,
    )
    if len(out) == 0:
        raise InputError(
            "No incidents match the period and categories asked for; check "
            "--from/--to and --category/--group."
        )
    return out


def cmd_hotspots(args) -> int:
    from ..pipeline import hotspot_params, run_hotspots

    con = _console(args.quiet or args.json)
    from ..pipeline import guard_folder

    guard_folder([*args.incidents, args.boundary], Path(args.out))
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        inc = _filter(res.incidents, args)
        step(f"Finding hot spots ({', '.join(args.method)})")
        results, files = run_hotspots(
            inc,
            layers.land,
            Path(args.out),
            methods=args.method,
            cell_size=args.cell_size,
            bandwidth=args.bandwidth,
            kernel=args.kernel,
            top=args.top,
            eps=args.eps,
            min_samples=args.min_samples,
            distance=args.distance,
            permutations=args.permutations,
            inference=args.inference,
            seed=args.seed,
        )
    params = hotspot_params(results)
    if args.json:
        print(json.dumps(params | {"files": [str(f) for f in files]}, indent=2, default=str))
        return EXIT_OK
    con.print(f"{len(inc):,} incidents selected (of {res.tally['used']:,} read).")
    from ..hotspots import registry

    for name, p in params.items():
        con.print(f"[bold]{name}[/bold]")
        method = registry.REGISTRY.get(name)
        printed = method.printed if method is not None else ()
        for key, value in p.items():
            if key.endswith("_rule") or key in printed:
                con.print(f"  {key}: {value}")
    con.print(f"Wrote {len(files)} files to {args.out}/.")
    return EXIT_OK


def cmd_compare(args) -> int:
    from ..evaluate.compare import compare_zones, to_markdown, to_records
    from ..io.writers import guard_outputs, write_table, write_text

    con = _console(args.quiet or args.json)
    outs = [Path(args.out).with_suffix(e) for e in (".csv", ".json", ".md")] if args.out else []
    if args.out and args.harm:
        outs.append(_harm_path(args.out))
    guard_outputs([*args.incidents, args.zones, args.boundary, args.harm], outs)
    weights = None
    if args.harm:
        from ..evaluate.harm import read_harm_weights

        weights = read_harm_weights(args.harm)  # refused (exit 2) before any work
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        if weights is not None:
            from ..evaluate.harm import check_harm_categories

            check_harm_categories(weights, res.incidents["category"].unique(), args.harm)
        zones = layers.zones
        if args.zone:
            wanted = [z.strip() for z in args.zone.split(",")]
            missing = set(wanted) - set(zones["name"])
            if missing:
                raise InputError(
                    f"No zone named {', '.join(sorted(missing))}; the zones are "
                    f"{', '.join(zones['name'])}."
                )
            zones = zones[zones["name"].isin(wanted)]
        step("Comparing")
        import pandas as pd

        from ..evaluate.compare import align_windows, check_windows

        times = res.incidents["occurred_at"]
        end = times.max().date() if len(times) and pd.notna(times.max()) else None
        b, a, _ = align_windows(args.before, args.after, end, normalise=args.normalise)
        check_windows(b, a, times, strict=True)  # a window with no data: refused here
        crimes = args.crimes.split(",") if args.crimes else None
        table = compare_zones(
            res.incidents,
            zones,
            args.before,
            args.after,
            by=args.by,
            crimes=crimes,
            ring=args.ring,
            study_area=layers.study_area,
            normalise=args.normalise,
            dispersion=args.dispersion,
        )
        harm = None
        if weights is not None:
            step("Weighting by harm")
            harm = _harm_comparison(res.incidents, zones, layers, args, table, weights)
    if args.out:
        out = Path(args.out)
        write_table(table, out.with_suffix(".csv"))
        write_text(json.dumps(to_records(table), indent=2, default=str), out.with_suffix(".json"))
        write_text(to_markdown(table), out.with_suffix(".md"))
        if harm is not None:
            write_table(harm, _harm_path(out))
    if args.json:
        doc = {
            **{k: table.params[k] for k in ("before", "after", "note")},
            "rows": to_records(table),
        }
        if harm is not None:
            doc["harm"] = to_records(harm)
        print(json.dumps(doc, indent=2, default=str))
        return EXIT_OK
    print_comparison(con, table, wide=args.wide)
    if harm is not None:
        _print_harm(con, harm)
    if args.out:
        extra = f" and {_harm_path(args.out).name}" if harm is not None else ""
        con.print(f"Wrote {Path(args.out).with_suffix('')}.csv, .json and .md{extra}.")
    return EXIT_OK


def _harm_path(out) -> Path:
    """The harm table written beside the comparison: ``OUT_harm.csv``."""
    out = Path(out)
    return out.with_name(out.with_suffix("").name + "_harm.csv")


def _harm_comparison(incidents, zones, layers, args, table, weights):
    """Harm-weighted WDD per zone: the comparison by category (the weighted categories
    only), each category's WDD weighted as ptools' ``wdd_harm`` does."""
    from ..evaluate.compare import compare_zones
    from ..evaluate.harm import harm_table

    by_cat = table
    if args.by != "category" or args.crimes:
        by_cat = compare_zones(
            incidents,
            zones,
            args.before,
            args.after,
            by="category",
            crimes=sorted(weights),
            ring=args.ring,
            study_area=layers.study_area,
            normalise=args.normalise,
            dispersion=args.dispersion,
        )
    return harm_table(by_cat[by_cat["crime"].isin(list(weights))], weights)


def _print_harm(con, harm) -> None:
    """The harm-weighted WDD per zone, for a terminal (within 80 columns)."""
    from rich.table import Table

    t = Table(title="Harm-weighted WDD (weights x WDD per category, ptools' wdd_harm)")
    for col in ("Zone", "Harm WDD", "95% interval", "p"):
        t.add_column(col, justify="left" if col == "Zone" else "right")
    for r in harm.itertuples(index=False):
        t.add_row(
            str(r.zone),
            f"{r.harm_wdd:+,.1f}",
            f"{r.harm_low:+,.1f} to {r.harm_high:+,.1f}",
            f"{r.harm_p:.3f}",
        )
    con.print(t)
    if len(harm) == 0:
        con.print("No zone has incidents in the weighted categories.")


def cmd_compstat(args) -> int:
    """`impactzones compstat`: 7 days, 28 days and the year to date against a year
    earlier, by district and zone, with the 28-day hot spots map."""
    import pandas as pd

    from ..assign import assign
    from ..evaluate.compstat import write_compstat
    from ..io.writers import guard_outputs

    if args.as_of is not None:
        try:
            pd.Timestamp(args.as_of)
        except ValueError:
            raise InputError(f"--as-of expects a date (YYYY-MM-DD); got {args.as_of!r}.") from None
    con = _console(args.quiet or args.json)
    guard_outputs([*args.incidents, args.zones, args.boundary], [args.out])
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        step("Counting the periods")
        inc = assign(res.incidents, layers)
        as_of = args.as_of or f"{inc['occurred_at'].max():%Y-%m-%d}"
        table, files = write_compstat(
            inc,
            layers,
            as_of,
            args.out,
            source=", ".join(map(str, args.incidents)),
            online_tiles=args.online_tiles,
        )
    if args.json:
        from ..evaluate.compare import to_records

        print(
            json.dumps(
                {"windows": table.windows, "rows": to_records(table)},
                indent=2,
                default=str,
            )
        )
        return EXIT_OK
    print_compstat(con, table, wide=args.wide)
    con.print(f"Wrote {', '.join(p.name for p in files)} to {Path(args.out)}/.")
    return EXIT_OK


def print_compstat(con, table, *, wide: bool = False) -> None:
    """The CompStat table for a terminal: within 80 columns the crime groups of each area
    with each period's count and change; ``wide`` adds the Part I categories and the
    year-before counts."""
    import pandas as pd
    from rich.table import Table

    from ..core.change import format_pct
    from ..evaluate.compstat import PERIODS

    rows = table if wide else table[table["level"] == "group"]
    periods = list(PERIODS)
    counts = rows[periods + [f"{p}, year before" for p in periods]].sum(axis=1)
    rows = rows[counts > 0]  # a crime with none in any period says nothing
    w = table.windows
    t = Table(title=f"CompStat to {table.as_of}: each period vs a year earlier")
    t.add_column("Area")
    t.add_column("Crime")
    for p in PERIODS:
        if wide:
            t.add_column(f"{p} before", justify="right")
        t.add_column(p, justify="right")
        t.add_column("chg", justify="right")
    last = None
    for r in rows.to_dict("records"):
        area = "" if r["area"] == last else str(r["area"])
        last = r["area"]
        cells = []
        for p in PERIODS:
            if wide:
                cells.append(f"{r[p + ', year before']:,}")
            pct = r[p + ", change %"]
            cells += [f"{r[p]:,}", format_pct(pct, 0) if pd.notna(pct) else "-"]
        t.add_row(area[:18], str(r["crime"]).replace("_", " "), *cells)
    _show(con, t, wide=wide)
    con.print("; ".join(f"{k}: {a} vs {b}" for k, (a, b) in w.items()))


def cmd_explore(args) -> int:
    """Write the proposal page: draw a zone and read its figures, offline."""
    import pandas as pd

    from ..io.writers import guard_outputs
    from ..maps.explore import write_explore
    from ..propose.proposals import propose_zones

    con = _console(args.quiet)
    guard_outputs(args.incidents, [args.out])
    with _steps(con, args.quiet) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        inc = res.incidents
        if len(inc) == 0:
            raise InputError("No incidents are left to show; see the rejects for why.")
        step("Proposing zones from the latest full year")
        year = int(inc["occurred_at"].dt.year.max())
        if not (inc["occurred_at"].dt.year == year).sum() >= 0.5 * len(inc) / max(
            inc["occurred_at"].dt.year.nunique(), 1
        ):
            year -= 1
        zones = layers.zones
        existing = zones[zones["start"].isna() | (zones["start"] <= pd.Timestamp(f"{year}-12-31"))]
        try:
            props = propose_zones(inc, period=year, exclude=existing, layers=layers)
        except InputError:
            props = None
        curve = None
        if (inc["occurred_at"].dt.year == year - 1).any():
            from ..propose.proposals import capture_curve

            step("Backtesting the proposals' strategy on the year before")
            before = zones[
                zones["start"].isna() | (zones["start"] <= pd.Timestamp(f"{year - 1}-12-31"))
            ]
            try:
                curve = capture_curve(
                    inc, period=year, before=year - 1, existing=before, layers=layers, draws=20
                )
            except InputError:
                curve = None
        step("Writing the page")
        path = write_explore(inc, layers, args.out, proposals=props, cell=args.cell, capture=curve)
    con.print(f"Wrote {path}; open it in a browser (it works offline).")
    return EXIT_OK


def cmd_propose(args) -> int:
    from ..io.writers import guard_outputs, write_table, write_vector
    from ..propose.proposals import backtest, propose_zones

    con = _console(args.quiet or args.json)
    guard_outputs(args.incidents, [args.out])
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        step("Proposing zones")
        existing = layers.zones
        if args.existing:
            keep = [z.strip() for z in args.existing.split(",")]
            existing = existing[existing["name"].isin(keep)]
        elif args.zones is None:
            # the bundled zones that had started by the end of the proposal period
            import pandas as pd

            from ..core.windows import parse_window

            end = pd.Timestamp(parse_window(args.period).end)
            existing = existing[existing["start"].isna() | (existing["start"] <= end)]
        if getattr(args, "exclude", None):
            from ..io.layers import read_layer

            extra = read_layer(args.exclude, kind="zones", work_crs=layers.crs)
            existing = pd.concat([existing, extra], ignore_index=True)
        props = propose_zones(
            res.incidents,
            period=args.period,
            k=args.k,
            max_area_km2=args.max_area_km2,
            min_area_km2=args.min_area_km2,
            exclude=existing,
            method=args.method,
            group=None if args.category else (args.group or "violent"),
            category=args.category.split(",") if args.category else None,
            layers=layers,
            gap=args.gap,
            threshold=args.threshold,
            snap=args.snap,
            stability=args.stability,
            solidity=args.solidity,
        )
        bt = None
        test_period = args.test_period
        if test_period is None and str(args.period).isdigit():
            test_period = int(args.period) + 1
        if test_period is not None:
            step("Backtesting on the next period")
            try:
                bt = backtest(
                    props,
                    res.incidents,
                    period=test_period,
                    before=args.period,
                    existing=existing,
                    layers=layers,
                    group=None if args.category else (args.group or "violent"),
                    category=args.category.split(",") if args.category else None,
                )
            except InputError:
                bt = None
        if args.out:
            write_vector(props, args.out)
            if bt is not None:
                write_table(bt, Path(args.out).with_suffix("").as_posix() + "_backtest.csv")
    if args.json:
        out = {
            "proposals": props.drop(columns="geometry").to_dict("records"),
            "backtest": None if bt is None else bt.to_dict("records"),
        }
        print(json.dumps(out, indent=2, default=str))
        return EXIT_OK
    print_proposals(con, props, bt, wide=args.wide)
    if args.out:
        con.print(f"Wrote {args.out}" + (" and its backtest table." if bt is not None else "."))
    return EXIT_OK


#: Terminal tables fit this many columns unless --wide.
TERMINAL_COLUMNS = 80
#: One line per term for the glossary under a table that uses it.
TERMS = {
    "PAI": "PAI = share of crime caught / share of area",
    "PEI": "PEI = crime caught / the most that area could catch",
    "RRI": "RRI = next period's PAI / this period's",
    "WDQ": "WDQ = ring's change / zone's, both vs the control (<0 displacement, >0 diffusion)",
    "WDD": "WDD = incidents prevented in zone and ring, vs the control (negative is fewer)",
}


def _show(con, t, *, drop: tuple = (), wide: bool = False) -> None:
    """Print a rich table within :data:`TERMINAL_COLUMNS` (dropping the columns named in
    ``drop``, in that order, until it fits; ``wide`` keeps them all), then say what was
    dropped and explain the terms it uses."""
    from rich import box

    t.box = box.SIMPLE_HEAD
    t.pad_edge = False
    t.title_justify = "left"
    dropped = []
    if not wide:
        for name in drop:
            if con.measure(t).maximum < TERMINAL_COLUMNS:
                break
            col = next((c for c in t.columns if str(c.header) == name), None)
            if col is not None:
                t.columns.remove(col)
                for i, c in enumerate(t.columns):
                    c._index = i  # rich looks columns up by their index
                dropped.append(name)
    old = con.width
    need = con.measure(t, options=con.options.update(max_width=1000)).maximum
    con.width = max(need, old) if wide else min(old, TERMINAL_COLUMNS)
    try:
        con.print(t)
    finally:
        con.width = old
    if dropped:
        con.print(
            f"[dim]Not shown in {TERMINAL_COLUMNS} columns: {', '.join(dropped)} "
            "(--wide shows every column).[/dim]"
        )
    headers = " ".join(str(c.header) for c in t.columns)
    used = [v for k, v in TERMS.items() if k in headers]
    if used:
        con.print("[dim]" + "; ".join(used) + ".[/dim]")


def print_proposals(con, props, bt, *, wide: bool = False) -> None:
    from rich.table import Table

    t = Table(title=f"Proposed zones from {props.attrs.get('period', '')}")
    for c in ("Rank", "Name", "km^2", "Incidents", "Share", "PAI", "Neighborhoods"):
        t.add_column(c, justify="left" if c in ("Name", "Neighborhoods") else "right")
    for r in props.itertuples():
        t.add_row(
            str(r.rank),
            r.name,
            f"{r.area_km2:.2f}",
            f"{r.incidents:,}",
            f"{r.share:.1%}",
            f"{r.pai:.1f}",
            r.neighborhoods,
        )
    _show(con, t, drop=("Neighborhoods", "Incidents"), wide=wide)
    for line in props["summary"]:
        con.print(f"- {line}")
    if bt is not None:
        b = Table(
            title=f"Backtest on {bt.attrs.get('period', '')} "
            f"({bt.attrs.get('incidents', 0):,} incidents)"
        )
        for c in ("Set", "Name", "km^2", "Hits", "Hit rate", "PAI", "PEI", "RRI"):
            b.add_column(c, justify="left" if c in ("Set", "Name") else "right")
        for r in bt.itertuples():
            b.add_row(
                r.set,
                r.name,
                f"{r.area_km2:.2f}",
                f"{r.hits:,}",
                f"{r.hit_rate:.1%}",
                f"{r.pai:.1f}",
                f"{r.pei:.2f}",
                f"{r.rri:.2f}",
            )
        _show(con, b, drop=("Hits", "km^2"), wide=wide)


def print_comparison(con, table, *, wide: bool = False) -> None:
    """The comparison table and its verdicts, for a terminal."""
    from rich.table import Table

    from ..evaluate.compare import display_table

    d = display_table(table).drop(columns=["IRR (95% CI)"])
    d["vs control (95% CI)"] = d["vs control (95% CI)"].str.split(" ").str[0]
    d = d.rename(columns={"vs control (95% CI)": "vs control"})
    from ..core.windows import compare_phrase

    t = Table(title=compare_phrase(*table.windows))
    for c in d.columns:
        t.add_column(c, justify="left" if c in ("Zone", "Crime") else "right")
    for row in d.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    _show(
        con,
        t,
        drop=("WDD (p)", "Before", "After", "Dispersion", "E-test p", "WDQ", "p"),
        wide=wide,
    )
    for v in table["verdict"]:
        con.print(f"- {v}")
    if table.note:
        con.print(f"[dim]{table.note}[/dim]")


# --------------------------------------------------------------------------------------
# Parser: built from the declared options (impactzones.core.options)
# --------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one sentence for a bad argument (exit 2), not the whole usage block."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"{self.prog}: {message}; see {self.prog} --help.\n")


def _typed(opt):
    """An argparse ``type`` from a declared option: its parse, with argparse's error."""

    def parse(text: str):
        try:
            return opt.parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _add(p, opt, groups: dict) -> None:
    """One declared option as an argparse argument."""
    kw: dict = {"help": argparse.SUPPRESS if opt.hidden else opt.help_plain().replace("%", "%%")}
    if opt.kind == "bool":
        kw |= {"action": "store_true"} if opt.const is None else {
            "action": "store_const", "const": opt.const, "dest": opt.dest or opt.name}
    else:
        kw |= {"default": opt.default, "metavar": opt.metavar, "nargs": opt.nargs}
        if opt.choices:
            kw["choices"] = opt.choices
        elif opt.kind not in ("path", "paths", "text", "columns"):
            kw["type"] = _typed(opt)
    if not opt.positional:
        kw["dest"] = opt.dest or opt.name
        kw["required"] = opt.required or None
    if opt.exclusive and opt.exclusive not in groups:
        groups[opt.exclusive] = p.add_mutually_exclusive_group()
    target = groups[opt.exclusive] if opt.exclusive else p
    target.add_argument(*opt.flags, **{k: v for k, v in kw.items() if v is not None})


def build_parser() -> argparse.ArgumentParser:
    """The ``impactzones`` parser, built from :data:`impactzones.core.options.COMMANDS`."""
    from ..core.options import COMMANDS, command_options

    parser = _Parser(
        prog="impactzones",
        description="Crime hot spots and Impact Zone evaluation. St. Louis, MO is bundled: "
        "`impactzones demo` runs the whole pipeline on it.",
        epilog="Exit codes: 0 ok; 2 bad input or settings (the message says what to do); "
        "1 unexpected error (rerun with --debug).",
    )
    parser.add_argument("--version", action="version", version=f"impactzones {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.description.replace("%", "%%"))
        groups: dict = {}
        for opt in command_options(name):
            _add(p, opt, groups)
        p.set_defaults(func=globals()[f"cmd_{name}"])
    return parser


# --------------------------------------------------------------------------------------
# Evaluation designs (impactzones.evaluate): evaluate, nearrepeat
# --------------------------------------------------------------------------------------


def cmd_evaluate(args) -> int:
    from ..core.files import output_root
    from ..evaluate.run import evaluate_zone
    from ..pipeline import guard_folder

    con = _console(args.quiet or args.json)
    if args.out:
        guard_folder([*args.incidents, args.zones, args.boundary], Path(args.out))
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        names = layers.zones["name"].astype(str).tolist()
        if args.zone not in names:
            raise InputError(f"No zone named {args.zone!r}; the zones are {', '.join(names)}.")
        step("Fitting the time series and the synthetic control")
        kw = dict(
            start=args.start,
            crime=args.crime,
            by=args.by,
            ring=args.ring,
            freq=args.freq,
            model=args.model,
            seasonality=args.seasonality,
            synthetic=not args.no_synthetic_control,
        )
        if args.out:
            with output_root(args.out):
                ev = evaluate_zone(res.incidents, layers, args.zone, out=args.out, **kw)
        else:
            ev = evaluate_zone(res.incidents, layers, args.zone, **kw)
    if args.json:
        print(json.dumps(ev.summary, indent=2, default=str))
        return EXIT_OK
    con.print(f"- {ev.series.verdict}")
    if ev.synthetic is not None:
        con.print(f"- {ev.synthetic.verdict}")
    con.print(f"- {ev.power.verdict}")
    if ev.files:
        con.print(f"Wrote {', '.join(p.name for p in ev.files)} to {args.out}/.")
    return EXIT_OK


def cmd_nearrepeat(args) -> int:
    from ..core.files import output_root
    from ..evaluate.nearrepeat import near_repeat_incidents
    from ..evaluate.run import write_near_repeat
    from ..pipeline import guard_folder

    con = _console(args.quiet or args.json)
    if args.out:
        guard_folder([*args.incidents, args.boundary], Path(args.out))
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, _ = _read_any(args.incidents, args)
        inc = _filter(res.incidents, args)
        step(f"Counting pairs ({args.permutations} permutations)")
        r = near_repeat_incidents(
            inc,
            spatial_bandwidth=args.distance,
            spatial_bands=args.distance_bands,
            temporal_bandwidth=args.days,
            temporal_bands=args.day_bands,
            same_location=args.same_location,
            permutations=args.permutations,
            seed=args.seed,
        )
        files = []
        if args.out:
            with output_root(args.out):
                files = write_near_repeat(r, args.out)
    if args.json:
        print(
            json.dumps(
                {"params": r.params, "verdict": r.verdict, "cells": r.to_records()},
                indent=2,
                default=str,
            )
        )
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"Knox ratios, {r.incidents:,} incidents (* p <= 0.05)")
    t.add_column("distance")
    for c in r.ratio.columns:
        t.add_column(c, justify="right")
    for s in r.ratio.index:
        cells = []
        for c in r.ratio.columns:
            v, p = float(r.ratio.loc[s, c]), float(r.p_value.loc[s, c])
            cells.append("-" if v != v else f"{v:.2f}" + ("*" if p <= 0.05 else ""))
        t.add_row(s, *cells)
    con.print(t)
    con.print(f"- {r.verdict}")
    if files:
        con.print(f"Wrote {', '.join(p.name for p in files)} to {args.out}/.")
    return EXIT_OK


def cmd_concentration(args) -> int:
    from ..core.files import output_root
    from ..evaluate.concentration import concentration_report, plot_lorenz
    from ..io.writers import write_table
    from ..pipeline import guard_folder

    con = _console(args.quiet or args.json)
    if args.out:
        guard_folder([*args.incidents, args.boundary], Path(args.out))
    with _steps(con, args.quiet or args.json) as step:
        step("Reading incidents")
        res, layers = _read_any(args.incidents, args)
        inc = _filter(res.incidents, args)
        step("Counting incidents per cell")
        table = concentration_report(
            inc, layers.land, cell_size=args.cell_size, districts=layers.districts
        )
        files = []
        if args.out:
            with output_root(args.out):
                out = Path(args.out)
                files.append(write_table(table, out / "concentration.csv"))
                png = out / "concentration_lorenz.png"
                plot_lorenz(table.results, png)
                files.append(png)
    if args.json:
        print(json.dumps(table.to_dict("records"), indent=2, default=str))
        return EXIT_OK
    for row in table.itertuples(index=False):
        con.print(f"- {row.area}: {row.verdict}")
    if files:
        con.print(f"Wrote {', '.join(p.name for p in files)} to {args.out}/.")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    import warnings

    def show(message, category, *_args, **_kwargs):  # one line, no source path
        print(f"impactzones: warning: {message}", file=sys.stderr)

    previous, warnings.showwarning = warnings.showwarning, show
    try:
        return args.func(args)
    except ImpactZonesError as exc:
        if args.debug:
            raise
        print(f"impactzones: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("impactzones: interrupted.", file=sys.stderr)
        return EXIT_UNEXPECTED
    except OSError as exc:  # the file system said no: a setting to change, not a bug
        if args.debug:
            raise
        print(f"impactzones: {os_error_sentence(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # never a bare traceback for a user
        if args.debug:
            raise
        print(
            f"impactzones: unexpected error ({type(exc).__name__}: {exc}); rerun with --debug "
            "for the details and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
    finally:
        warnings.showwarning = previous
