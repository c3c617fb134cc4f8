"""A printable one-page brief per zone (PDF, US letter): what goes on the table at a
CompStat meeting.

The page holds the headline (the change in the zone, the rest of the city and the ring,
and whether that is more than chance), the map, the monthly trend with the zone's start
marked, the comparison table with a glossary of its terms, and a data note. It is drawn
with matplotlib (no browser), with TrueType fonts so that its text can be searched and
copied, and without a creation date so that the same inputs give the same bytes.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pandas as pd

from ..core.drawing import picture_fonts

__all__ = ["BRIEF_COLUMNS", "BRIEF_GLOSSARY", "CAPTION", "LETTER", "write_brief"]

#: US letter, in inches.
LETTER = (8.5, 11.0)
#: The comparison table's columns on the brief (all fit a letter page's width).
BRIEF_COLUMNS = [
    "Crime",
    "Before",
    "After",
    "Change",
    "E-test p",
    "p",
    "Ring",
    "Control",
    "vs control (95% CI)",
    "WDQ",
    "WDD (p)",
]
#: The caption under the counterfactual plot on the brief.
CAPTION = (
    "Over time: observed against expected without the zone (interrupted time "
    "series; its reading is the last note under the table)."
)
BRIEF_GLOSSARY = (
    "Change: after vs before, in the zone. p (E-test): the chance of a change this big if the "
    "rate had not changed. Ring, Control: the change in the displacement ring and in the rest "
    "of the city. vs control: the zone's change divided by the rest of the city's, with its "
    "95% interval (below 1: the zone did better; an interval across 1: within chance). WDQ: "
    "Weighted Displacement Quotient, the ring's change over the zone's, both relative to the "
    "control (below 0: displacement; above 0: diffusion of benefits). WDD: Weighted "
    "Displacement Difference, incidents prevented in zone and ring together relative to the "
    "control (negative is fewer)."
)


def _trend_axes(ax, series: pd.Series | None, start, title: str) -> None:
    """A monthly line chart with axes, years marked and the zone's start as a dashed line."""
    if series is None or len(series) < 2:
        ax.set_axis_off()
        return
    x = pd.DatetimeIndex(series.index)
    ax.plot(x, series.to_numpy(float), color="#222222", lw=1.2)
    if start is not None and x[0] < pd.Timestamp(start) <= x[-1]:
        ax.axvline(pd.Timestamp(start), color="#7b1fa2", ls="--", lw=1.2)
        ax.text(
            pd.Timestamp(start),
            ax.get_ylim()[1],
            " zone began",
            color="#7b1fa2",
            fontsize=7,
            va="top",
        )
    ax.set_ylim(0, None)
    ax.set_title(title, fontsize=8, loc="left")
    ax.tick_params(labelsize=7)
    ax.set_ylabel("incidents a month", fontsize=7)
    ax.grid(axis="y", color="#dddddd", lw=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def _counterfactual_axes(fig, result, rect) -> str:
    """The zone's counterfactual plot (``result``: its interrupted time series, a
    :class:`~impactzones.evaluate.series.SeriesResult`) drawn in ``rect`` as the PNG is,
    sized for the page, with :data:`CAPTION` under it; returns the verdict for the notes
    under the table ('' when there is none)."""
    if result is None:
        return ""
    from ..evaluate.series import draw_counterfactual

    ax = fig.add_axes(rect)
    draw_counterfactual(ax, result, fontsize=6.0)
    ax.tick_params(labelsize=6)
    import matplotlib.dates as mdates

    # years only: month ticks crowd a plot this small
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    # the legend below the axes, off the data
    ax.legend(fontsize=5.5, loc="upper center", bbox_to_anchor=(0.45, -0.2), ncol=2, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    left, bottom, _, _ = rect
    fig.text(left - 0.04, bottom - 0.047, textwrap.fill(CAPTION, 66), fontsize=6.5, va="top")
    return str(result.verdict or "")


def _table_axes(ax, table: pd.DataFrame, zone: str) -> None:
    from ..evaluate.compare import display_table

    rows = table[table["zone"] == zone]
    d = display_table(rows)
    d = d[[c for c in BRIEF_COLUMNS if c in d.columns]]
    ax.set_axis_off()
    t = ax.table(
        cellText=d.to_numpy().tolist(),
        colLabels=list(d.columns),
        loc="upper left",
        cellLoc="right",
        colLoc="right",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.auto_set_column_width(list(range(len(d.columns))))
    t.scale(1, 1.3)
    for (r, _c), cell in t.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if r == 0:
            cell.set_facecolor("#eeeeee")


def write_brief(
    data,
    table: pd.DataFrame,
    path: str | Path,
    *,
    series: pd.Series | None = None,
    counterfactual=None,
) -> Path:
    """Write the one-page PDF brief for the zone of ``data`` (a :class:`MapData`) and its
    comparison ``table`` (from :func:`impactzones.evaluate.compare.compare_zones`).

    ``series`` is the zone's monthly count (the trend chart); ``counterfactual`` is the
    zone's interrupted time series (a :class:`~impactzones.evaluate.series.SeriesResult`):
    its counterfactual plot (as in :func:`~impactzones.evaluate.series.plot_counterfactual`)
    goes beside the map with :data:`CAPTION` under it, and its verdict among the notes
    under the table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.evaluate.compare import compare_zones
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.maps import zone_headline
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.maps.webmap import MapData
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> data = MapData(layers=layers, title="North Impact Zone: 2017 vs 2018", zone="North",
    ...                headline=zone_headline(t, "North"))
    >>> p = write_brief(data, t, pathlib.Path(tempfile.mkdtemp()) / "north.pdf")
    >>> p.read_bytes()[:5]
    b'%PDF-'
    """
    import matplotlib
    from matplotlib.figure import Figure

    from .webmap import _texts

    # TrueType fonts keep the text searchable; a "$" in a user's name is text, not maths
    # a name in a script DejaVu Sans lacks: an installed CJK font, or one warning (not one
    # for each glyph)
    fonts = picture_fonts([*_texts(data), *table.get("zone", pd.Series(dtype=str)).astype(str)])
    rc: dict = {"pdf.fonttype": 42, "text.parse_math": False, **fonts}
    with warnings.catch_warnings(), matplotlib.rc_context(rc):
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig = Figure(figsize=LETTER)  # no pyplot: nothing to import or close
        _page_head(fig, data)
        its = _map_and_charts(fig, data, series, counterfactual)
        _comparison_and_notes(fig, data, table, its)
        return _save_pdf(fig, Path(path))


def _page_head(fig, data) -> None:
    """The title and the headline lines."""
    fig.text(0.06, 0.965, data.title, fontsize=15, fontweight="bold", va="top")
    head = "\n".join(textwrap.fill(line, 95) for line in data.headline)
    fig.text(0.06, 0.935, head, fontsize=9, va="top", linespacing=1.45)


def _map_and_charts(fig, data, series, counterfactual) -> str:
    """The map with its legend and scales, the counterfactual plot (when there is one) and
    the monthly trend; returns the counterfactual's verdict ('' without one)."""
    from .webmap import _draw_map, _draw_scales

    ax = fig.add_axes((0.05, 0.36, 0.52, 0.5))
    handles = _draw_map(ax, data, label_size=8)
    its = _counterfactual_axes(fig, counterfactual, (0.65, 0.585, 0.31, 0.1))
    fig.legend(
        handles=handles[:8],
        loc="upper left",
        bbox_to_anchor=(0.6, 0.495 if its else 0.62),
        ncol=2 if its else 1,
        fontsize=6.5,
        frameon=False,
    )
    _draw_scales(fig, data, (0.61, 0.36, 0.33, 0.1))
    cax = fig.add_axes((0.62, 0.725, 0.34, 0.11) if its else (0.62, 0.66, 0.34, 0.16))
    zone = data.zone or ""
    _trend_axes(
        cax,
        series,
        data.trend_start,
        f"Violent crimes a month, {zone} zone" if zone else "Violent crimes a month",
    )
    return its


def _comparison_and_notes(fig, data, table, its: str) -> None:
    """The zone's comparison table, its verdicts (and the time series'), the glossary and
    the data note."""
    zone = data.zone or ""
    tax = fig.add_axes((0.06, 0.235, 0.88, 0.1))
    if zone and len(table):
        _table_axes(tax, table, zone)
    verdicts = table.loc[table["zone"] == zone, "verdict"].tolist()[:2] if zone else []
    if its:
        verdicts.append(f"Over time (interrupted time series): {its}")
    text = "\n".join(textwrap.fill(f"- {v}", 140) for v in verdicts)
    fig.text(0.06, 0.235, text, fontsize=6.5, va="top", color="#222222")
    fig.text(
        0.06,
        0.135 if its else 0.15,
        textwrap.fill("Glossary. " + BRIEF_GLOSSARY, 140),
        fontsize=6,
        va="top",
        color="#333333",
    )
    if data.data_note:
        fig.text(0.06, 0.03, textwrap.fill(data.data_note, 150), fontsize=6, color="#555")


def _save_pdf(fig, path: Path) -> Path:
    """The page as a PDF, atomically, without a creation date (the same bytes each run)."""
    from ..core.drawing import lean_font_subsets, lean_pdf_text, shared_font_subsets
    from ..core.files import atomic_write

    def write(p):
        # the fonts without the tables no PDF viewer reads, each subset made once for the
        # briefs of a run; the text laid out without loading outlines the PDF never draws
        with lean_font_subsets(), shared_font_subsets(), lean_pdf_text():
            fig.savefig(
                p,
                format="pdf",
                metadata={"CreationDate": None, "Creator": "impactzones", "Producer": None},
            )

    return atomic_write(path, write)
