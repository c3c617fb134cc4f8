"""Proposed Impact Zones under a commander's constraints, and their backtests.

The modules: :mod:`~impactzones.propose.surfaces` (where zones grow),
:mod:`~impactzones.propose.shapes` (one zone under the constraints),
:mod:`~impactzones.propose.zones` (:func:`propose_zones`, :class:`Proposals`),
:mod:`~impactzones.propose.metrics` (PAI, PEI, RRI), :mod:`~impactzones.propose.baselines`,
:mod:`~impactzones.propose.backtests` and :mod:`~impactzones.propose.capture`.
"""

from .proposals import (
    CAPTURE_SHARES,
    COMPACT,
    HINDSIGHT,
    METHODS,
    NAIVE,
    RANDOM,
    Constraints,
    Proposals,
    backtest,
    best_hits,
    capture_curve,
    capture_table,
    compact_baseline,
    naive_cells,
    pai,
    plot_capture_curve,
    propose_zones,
    random_placements,
    rolling_backtest,
    rri,
)

__all__ = [
    "CAPTURE_SHARES",
    "COMPACT",
    "HINDSIGHT",
    "METHODS",
    "NAIVE",
    "RANDOM",
    "Constraints",
    "Proposals",
    "backtest",
    "best_hits",
    "capture_curve",
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
