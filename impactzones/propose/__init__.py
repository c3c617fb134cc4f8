"""Proposed Impact Zones under a commander's constraints, and their backtests.

The modules: :mod:`~impactzones.propose.surfaces` (where zones grow),
:mod:`~impactzones.propose.shapes` (one zone under the constraints),
:mod:`~impactzones.propose.zones` (:func:`propose_zones`, :class:`Proposals`),
:mod:`~impactzones.propose.metrics` (PAI, PEI, RRI), :mod:`~impactzones.propose.baselines`,
:mod:`~impactzones.propose.backtests` and :mod:`~impactzones.propose.capture`.
"""

from .backtests import (
    COMPACT,
    NAIVE,
    RANDOM,
    Backtest,
    RollingBacktest,
    backtest,
    rolling_backtest,
)
from .baselines import compact_baseline, naive_cells, random_placements
from .capture import (
    CAPTURE_SHARES,
    HINDSIGHT,
    HINDSIGHT_ZONES,
    CaptureCurve,
    capture_curve,
    capture_curve_png,
    capture_table,
    plot_capture_curve,
)
from .metrics import best_hits, best_hits_curve, pai, rri
from .shapes import Constraints
from .surfaces import METHODS
from .zones import Proposals, propose_zones

__all__ = [
    "CAPTURE_SHARES",
    "COMPACT",
    "HINDSIGHT",
    "HINDSIGHT_ZONES",
    "METHODS",
    "NAIVE",
    "RANDOM",
    "Backtest",
    "CaptureCurve",
    "Constraints",
    "Proposals",
    "RollingBacktest",
    "backtest",
    "best_hits",
    "best_hits_curve",
    "capture_curve",
    "capture_curve_png",
    "capture_table",
    "compact_baseline",
    "naive_cells",
    "pai",
    "plot_capture_curve",
    "propose_zones",
    "random_placements",
    "rolling_backtest",
    "rri",
]
