"""The names that lived here before the package was split, kept for code that imports them
from ``impactzones.propose.proposals``: import them from :mod:`impactzones.propose`.

* :mod:`~impactzones.propose.surfaces`: the priority surfaces zones grow on;
* :mod:`~impactzones.propose.shapes`: growing one zone and its outline under the constraints;
* :mod:`~impactzones.propose.zones`: :func:`propose_zones` and its result, :class:`Proposals`;
* :mod:`~impactzones.propose.metrics`: PAI, PEI and RRI;
* :mod:`~impactzones.propose.baselines`: naive cells, compact discs, random placements;
* :mod:`~impactzones.propose.backtests`: :func:`backtest`, :func:`rolling_backtest`;
* :mod:`~impactzones.propose.capture`: capture curves, their table and plot.
"""

from __future__ import annotations

from .backtests import COMPACT, NAIVE, RANDOM, backtest, rolling_backtest
from .baselines import compact_baseline, naive_cells, random_placements
from .capture import CAPTURE_SHARES, HINDSIGHT, capture_curve, capture_table, plot_capture_curve
from .metrics import best_hits, pai, rri
from .shapes import Constraints
from .surfaces import METHODS
from .zones import Proposals, propose_zones

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
