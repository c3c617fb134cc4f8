"""What a command says: the sentences and terminal tables of each result, as plain values.

The library decides what a result means in words (verdicts, tallies, the demo's headline);
this module lays those words and figures out as :class:`TextTable` values and lines of text,
which the CLI prints (fitting 80 columns, explaining the terms it shows) and a notebook can
print as they are. Nothing here imports a terminal library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .core.defaults import DISTRICT_REACH
from .core.results import column_label

__all__ = [
    "TERMS",
    "Note",
    "TextTable",
    "comparison_summary",
    "compstat_summary",
    "demo_summary",
    "harm_summary",
    "hotspot_summary",
    "knox_summary",
    "proposal_summary",
    "tally_lines",
    "wrap_prose",
]

#: One line per term, for the glossary under a table that shows it.
TERMS = {
    "PAI": "PAI = share of crime caught / share of area",
    "PEI": "PEI = crime caught / the most that area could catch",
    "RRI": "RRI = next period's PAI / this period's",
    "WDQ": "WDQ = ring's change / zone's, both vs the control (<0 displacement, >0 diffusion)",
    "WDD": "WDD = incidents prevented in zone and ring, vs the control (negative is fewer)",
}


def wrap_prose(text: str, width: int = 80) -> str:
    """Prose wrapped between words to ``width`` columns: a bullet's ("- ") continuation
    lines under its text, an indented line's under its start; a word longer than the
    width (a path) is kept whole.

    Examples
    --------
    >>> print(wrap_prose("- Violent crime fell 20.0% in the North zone (740 to 592).", 30))
    - Violent crime fell 20.0% in
      the North zone (740 to 592).
    """
    import textwrap

    out = []
    for line in text.split("\n"):
        lead = len(line) - len(line.lstrip(" "))
        hang = lead + 2 if line[lead:].startswith("- ") else lead
        out.append(
            textwrap.fill(line, max(width, 20), subsequent_indent=" " * hang,
                          break_long_words=False, break_on_hyphens=False)
            if line.strip() else line
        )  # fmt: skip
    return "\n".join(out)


class Note(str):
    """A quieter line (a note under a table), shown dimmed on a terminal."""


@dataclass
class TextTable:
    """A table of text for a terminal.

    ``left`` names the left-justified columns (the others are numbers, right-justified);
    ``drop`` names columns that may be left out, in that order, to fit a narrow terminal.

    Examples
    --------
    >>> t = TextTable("Counts", ["Area", "n"], [["North", "12"]], left=("Area",))
    >>> t.columns, t.rows
    (['Area', 'n'], [['North', '12']])
    """

    title: str
    columns: list[str]
    rows: list[list[str]]
    left: tuple[str, ...] = ()
    drop: tuple[str, ...] = field(default=())


def tally_lines(tally: dict) -> list[str]:
    """The reading tally of :func:`impactzones.io.read_incidents` in sentences.

    Examples
    --------
    >>> tally_lines({"read": 10, "used": 8, "rejected": 2,
    ...              "rejected_by_reason": {"no_date": 2}})
    ['Read 10 rows: used 8, rejected 2.', '  rejected, no date: 2']
    """
    lines = [
        f"Read {tally['read']:,} rows: used {tally['used']:,}, rejected {tally['rejected']:,}."
    ]
    lines += [
        f"  rejected, {r.replace('_', ' ')}: {n:,}" for r, n in tally["rejected_by_reason"].items()
    ]
    layouts: dict = {}
    for info in (tally.get("profiles") or {}).values():
        key = (info["profile"], info["why"])
        layouts[key] = layouts.get(key, 0) + 1
    for (name, why), n in sorted(layouts.items()):
        lines.append(f"  layout: {name} ({why}; {n} file{'s' if n > 1 else ''})")
    slow = sum(d.get("parsed_row_by_row", 0) for d in (tally.get("dates") or {}).values())
    if slow:
        lines.append(
            f"  {slow:,} dates did not fit their column's format and were read one by one."
        )
    unmapped = tally.get("unmapped_categories") or {}
    if unmapped:
        top = sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{k!r} ({v:,})" for k, v in top[:8])
        more = f" and {len(top) - 8} more" if len(top) > 8 else ""
        lines.append(
            f"  {sum(unmapped.values()):,} rows have offense labels no crosswalk knows, kept "
            f"under their own names (group other): {shown}{more}. Map them with --categories "
            "mapping.csv (columns label,category)."
        )
    if tally.get("code_label_disagreements"):
        lines.append(
            f"  {tally['code_label_disagreements']:,} rows had a code and a label that "
            "disagree; the code was used."
        )
    return lines


def comparison_summary(table) -> list:
    """The comparison table (:func:`impactzones.evaluate.compare.compare_zones`) and its
    verdicts: a :class:`TextTable`, one line per verdict and the table's note.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.evaluate.compare import compare_zones
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> blocks = comparison_summary(t)
    >>> blocks[0].columns[:3], blocks[1].startswith("- Violent crime fell 20.0%")
    (['Zone', 'Crime', 'Before'], True)
    """
    from .core.windows import compare_phrase
    from .evaluate.compare import display_table

    d = display_table(table).drop(columns=["IRR (95% CI)"])
    d["vs control (95% CI)"] = d["vs control (95% CI)"].str.split(" ").str[0]
    d = d.rename(columns={"vs control (95% CI)": "vs control"})
    t = TextTable(
        compare_phrase(*table.windows),
        list(d.columns),
        [[str(v) for v in row] for row in d.itertuples(index=False)],
        left=("Zone", "Crime"),
        drop=("WDD (p)", "Before", "After", "Dispersion", "E-test p", "WDQ", "p"),
    )
    blocks: list = [t, *(f"- {v}" for v in table["verdict"])]
    if table.note:
        blocks.append(Note(table.note))
    return blocks


def harm_summary(harm) -> list:
    """The harm-weighted WDD per zone (:func:`impactzones.evaluate.harm.harm_table`).

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"zone": ["North"], "harm_wdd": [-155.0], "harm_low": [-350.0],
    ...                   "harm_high": [40.0], "harm_p": [0.12]})
    >>> harm_summary(h)[0].rows
    [['North', '-155.0', '-350.0 to +40.0', '0.120']]
    """
    t = TextTable(
        "Harm-weighted WDD (weights x WDD per category, ptools' wdd_harm)",
        ["Zone", "Harm WDD", "95% interval", "p"],
        [
            [
                str(r.zone),
                f"{r.harm_wdd:+,.1f}",
                f"{r.harm_low:+,.1f} to {r.harm_high:+,.1f}",
                f"{r.harm_p:.3f}",
            ]
            for r in harm.itertuples(index=False)
        ],
        left=("Zone",),
    )
    return [t] if len(harm) else [t, "No zone has incidents in the weighted categories."]


#: Proposed zones described in a sentence each in a summary; the rest get one line together.
SUMMARY_ZONES = 8


def proposal_summary(props, bt) -> list:
    """The proposed zones (:func:`impactzones.propose.propose_zones`), their summary lines
    and, when given, the backtest table.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"rank": [1], "name": ["Proposal A"], "area_km2": [1.5],
    ...                   "incidents": [120], "share": [0.05], "pai": [6.1],
    ...                   "neighborhoods": ["Downtown"], "summary": ["A: 5% of crime"]})
    >>> blocks = proposal_summary(p, None)
    >>> blocks[0].rows, blocks[1]
    ([['1', 'Proposal A', '1.50', '120', '5.0%', '6.1', 'Downtown']], '- A: 5% of crime')
    """
    t = TextTable(
        f"Proposed zones from {column_label(props, 'period')}",
        ["Rank", "Name", "km^2", "Incidents", "Share", "PAI", "Neighborhoods"],
        [
            [
                str(r.rank),
                r.name,
                f"{r.area_km2:.2f}",
                f"{r.incidents:,}",
                f"{r.share:.1%}",
                f"{r.pai:.1f}",
                r.neighborhoods,
            ]
            for r in props.itertuples()
        ],
        left=("Name", "Neighborhoods"),
        drop=("Neighborhoods", "Incidents"),
    )
    blocks: list = [t]
    if hasattr(type(props), "headline"):  # a Proposals result: what the budget bought, and why
        blocks.append(props.headline())
    lines = list(props["summary"])
    blocks += [f"- {line}" for line in lines[:SUMMARY_ZONES]]
    if len(lines) > SUMMARY_ZONES:
        rest = props.iloc[SUMMARY_ZONES:]
        blocks.append(
            f"- {len(rest)} more zones ({rest.iloc[0]['name']} to {rest.iloc[-1]['name']}), "
            f"{rest['area_km2'].sum():.2f} km^2 together, held {rest['share'].sum():.1%} "
            f"(PAI {rest['pai'].min():.1f} to {rest['pai'].max():.1f}); each zone's summary "
            "is in the proposals' summary column."
        )
    if bt is not None:
        blocks += _backtest_blocks(bt, list(props["name"])[SUMMARY_ZONES:])
    return blocks


def _backtest_blocks(bt, hidden: list) -> list:
    """The backtest table without the rows of the ``hidden`` proposals (beyond the first
    few), and a line saying where they are."""
    frame = getattr(bt, "table", bt)
    shown = frame[~((frame["set"] == "proposals") & frame["name"].isin(hidden))]
    tested = int(column_label(bt, "period_incidents", "0"))
    blocks: list = [
        TextTable(
            f"Backtest on {column_label(bt, 'period')} ({tested:,} incidents)",
            ["Set", "Name", "km^2", "Hits", "Hit rate", "PAI", "PEI", "RRI"],
            [
                [
                    r.set,
                    r.name,
                    f"{r.area_km2:.2f}",
                    f"{r.hits:,}",
                    f"{r.hit_rate:.1%}",
                    f"{r.pai:.1f}",
                    f"{r.pei:.2f}",
                    f"{r.rri:.2f}",
                ]
                for r in shown.itertuples()
            ],
            left=("Set", "Name"),
            drop=("Hits", "km^2"),
        )
    ]
    if hidden:
        blocks.append(
            f"The other {len(hidden)} proposals' rows ({hidden[0]} to {hidden[-1]}) are in "
            "the backtest table (--json, or the _backtest.csv file)."
        )
    return blocks


def compstat_summary(table, wide: bool = False) -> list:
    """The CompStat table (:func:`impactzones.evaluate.compstat.compstat`): within 80
    columns the crime groups of each area with each period's count and change; ``wide``
    adds the Part I categories and the year-before counts.

    Examples
    --------
    >>> import pandas as pd
    >>> from impactzones.evaluate.compstat import PERIODS, CompStat
    >>> row = {"area": "Citywide", "level": "group", "crime": "violent"}
    >>> for p in PERIODS:
    ...     row |= {p: 10, f"{p}, year before": 8, f"{p}, change %": 25.0}
    >>> t = CompStat(pd.DataFrame([row]), as_of="2019-06-30", windows={})
    >>> compstat_summary(t)[0].rows[0][:4]
    ['Citywide', 'violent', '10', '+25%']
    """
    import pandas as pd

    from .core.change import format_pct
    from .evaluate.compstat import PERIODS

    frame = table.table
    rows = frame if wide else frame[frame["level"] == "group"]
    periods = list(PERIODS)
    counts = rows[periods + [f"{p}, year before" for p in periods]].sum(axis=1)
    rows = rows[counts > 0]  # a crime with none in any period says nothing
    columns = ["Area", "Crime"]
    for p in periods:
        columns += ([f"{p} before"] if wide else []) + [p, "chg"]
    body, last = [], None
    for r in rows.to_dict("records"):
        area = "" if r["area"] == last else str(r["area"])
        last = r["area"]
        cells = []
        for p in periods:
            pct = r[p + ", change %"]
            cells += ([f"{r[p + ', year before']:,}"] if wide else []) + [
                f"{r[p]:,}",
                format_pct(pct, 0) if pd.notna(pct) else "-",
            ]
        body.append([area[:18], str(r["crime"]).replace("_", " "), *cells])
    title = f"CompStat to {table.as_of}: each period vs a year earlier"
    w = table.windows
    return [
        TextTable(title, columns, body, left=("Area", "Crime")),
        "; ".join(f"{k}: {a} vs {b}" for k, (a, b) in w.items()),
    ]


def knox_summary(result) -> list:
    """The near-repeat table (:func:`impactzones.evaluate.nearrepeat.near_repeat_incidents`):
    Knox ratios by distance and day band, starred where p <= 0.05, and the verdict.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(incidents=50, verdict="No near-repeat pattern.",
    ...     ratio=pd.DataFrame({"0-7 days": [1.8]}, index=["0-100 m"]),
    ...     p_value=pd.DataFrame({"0-7 days": [0.01]}, index=["0-100 m"]))
    >>> knox_summary(r)[0].rows
    [['0-100 m', '1.80*']]
    """
    rows = []
    for s in result.ratio.index:
        cells = []
        for c in result.ratio.columns:
            v, p = float(result.ratio.loc[s, c]), float(result.p_value.loc[s, c])
            cells.append("-" if v != v else f"{v:.2f}" + ("*" if p <= 0.05 else ""))
        rows.append([s, *cells])
    title = f"Knox ratios, {result.incidents:,} incidents (* p <= 0.05)"
    return [
        TextTable(title, ["distance", *result.ratio.columns], rows, left=("distance",)),
        f"- {result.verdict}",
    ]


def hotspot_summary(params: dict) -> list[str]:
    """Each hot-spot method's parameters and the rule behind each, a line apiece: every
    ``*_rule`` and the parameters its registry entry names (``Method.printed``; all go to
    --json).

    Examples
    --------
    >>> hotspot_summary({"kde": {"bandwidth_m": 500, "bandwidth_rule": "ArcGIS", "n": 3}})
    ['kde', '  bandwidth_m: 500', '  bandwidth_rule: ArcGIS']

    Numbers are rounded for reading (the params files keep full precision):

    >>> hotspot_summary({"dbscan": {"eps_m": 930.179311340121, "min_samples": 56.0,
    ...                             "eps_rule": "x"}})
    ['dbscan', '  eps_m: 930.2', '  min_samples: 56', '  eps_rule: x']
    """
    from .hotspots import registry

    lines = []
    for name, p in params.items():
        method = registry.REGISTRY.get(name)
        printed = method.printed if method is not None else ()
        lines.append(name)
        lines += [
            f"  {k}: {_shown(v)}" for k, v in p.items() if k.endswith("_rule") or k in printed
        ]
    return lines


def _shown(value):
    """A parameter as a reader wants it: a whole float as an integer (``56.0`` -> ``56``),
    others to one decimal from 100 up, else four significant digits; counts by class
    (a dict) as ``class count`` pairs, the empty classes left out; the rest as it is.

    Examples
    --------
    >>> _shown({"Hot spot, 99% confidence": 27, "Cold spot, 99% confidence": 0})
    'Hot spot, 99% confidence 27 (the others 0)'
    """
    if isinstance(value, dict):
        some = [f"{k} {_shown(v)}" for k, v in value.items() if v]
        rest = " (the others 0)" if len(some) < len(value) else ""
        return "; ".join(some) + rest if some else "none"
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if value.is_integer():
        return int(value)
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4g}"


def demo_summary(res, out: str | Path) -> list:
    """What ``impactzones demo`` (:func:`impactzones.pipeline.run_demo`) says: the reading
    tally, incidents by district and year, the zone's change beside the city's, the
    comparisons, proposals and hot spots, and where the files went.

    Examples
    --------
    A minute of work (the demo), so doctest skips it; ``tests/test_cli.py`` reads these
    words from the session's demo run.

    >>> demo_summary(run_demo(tmp), tmp)[-1]  # doctest: +SKIP
    'Wrote 96 files to /tmp/...; open /tmp/.../index.html in a browser for the maps.'
    """
    blocks: list = tally_lines(res.load.tally) if res.load is not None else []
    blocks.append(_counts_table(res.counts))
    h = res.headline
    if "zone_change" in h:
        zc, cc = h["zone_change"], h["citywide_change"]
        blocks.append(
            f"Violent crime, {h['windows'][0]} to {h['windows'][1]}: {h['zone']} zone "
            f"{zc['display']} ({zc['before']:,} to {zc['after']:,}); citywide "
            f"{cc['display']} ({cc['before']:,} to {cc['after']:,})."
        )
        blocks += [f"  {line}" for line in h.get("headline", [])]  # the map's first lines
    for table in res.comparisons.values():
        blocks += comparison_summary(table)
    if res.proposals is not None:
        blocks += proposal_summary(res.proposals, res.backtest)
    if "hotspots" in h:
        hs = h["hotspots"]
        blocks.append(  # each method's finding, in its registry entry's words
            f"Violent hot spots {hs['year']}: {', '.join(hs['findings'])}; parameters in "
            "hotspots_params.json."
        )
    if h.get("sensitive_not_exported"):
        blocks.append(
            f"{h['sensitive_not_exported']:,} rape and domestic-violence incidents are counted "
            "in the tables but never exported or mapped as points."
        )
    if h.get("district_by_reach"):
        blocks.append(
            f"{h['district_by_reach']:,} incidents in the study area lie just outside every "
            f"district polygon (within {DISTRICT_REACH.default:g} m: a bridge or a riverbank "
            "past the layer's edge) and are counted in the nearest district."
        )
    if h.get("in_no_district"):
        blocks.append(
            f"{h['in_no_district']:,} incidents in the study area lie in no district (more "
            f"than {DISTRICT_REACH.default:g} m from every district polygon): counted "
            "citywide and in the zones, in no district's row; check the districts layer "
            "(--districts)."
        )
    blocks += [f"Skipped: {line}" for line in h.get("skipped", [])]
    blocks.append(
        f"Wrote {len(res.files)} files to {Path(out)}/; open {Path(out) / 'index.html'} in a "
        "browser for the maps."
    )
    return blocks


def _counts_table(counts) -> TextTable:
    """Incidents by district and year; real exports carry a few old incidents reported
    late, so only the years holding at least 1% of them are shown (at most 8)."""
    pivot = counts.pivot_table(index="district", columns="year", values="count", aggfunc="sum")
    share = pivot.sum() / pivot.to_numpy().sum()
    shown = [y for y in pivot.columns if share[y] >= 0.01][-8:]
    hidden = int(pivot.drop(columns=shown).to_numpy().sum())
    pivot = pivot[shown]
    title = "Incidents by district and year (all groups)"
    if hidden:
        title += f"; {hidden:,} in other years not shown"
    rows = [[str(d), *(f"{int(v):,}" for v in row)] for d, row in pivot.iterrows()]
    return TextTable(title, ["district", *map(str, pivot.columns)], rows, left=("district",))
