"""The measures a proposal is scored by: PAI, RRI and the best any cells could do (PEI).

* **hit rate**: the share of the period's incidents inside;
* **PAI** (Chainey, Tompson & Uhlig 2008): hit rate / area share of the study area;
* **PEI** (Hunt 2016): PAI / the best PAI any set of grid cells with the same total area
  could have had in that period (cells ranked by their count; ties at the cut do not matter,
  the cut takes whole cells and the best total is unique);
* **RRI** (Levine 2008, the Recapture Rate Index): (hits after / hits before) / (all after /
  all before); above 1, the area held more of the city's crime than before.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["best_hits", "best_hits_curve", "pai", "rri"]


def pai(hits: int, total: int, area_km2: float, study_km2: float) -> float:
    """Predictive Accuracy Index: (hits / total) / (area / study area).

    Examples
    --------
    >>> pai(20, 100, 2.0, 100.0)
    10.0
    """
    if total <= 0 or area_km2 <= 0:
        return math.nan
    return (hits / total) / (area_km2 / study_km2)


def rri(hits_after: int, hits_before: int, total_after: int, total_before: int) -> float:
    """Levine's Recapture Rate Index: (hits after / before) / (total after / before).

    Examples
    --------
    >>> round(rri(20, 25, 100, 120), 4)
    0.96
    """
    if hits_before <= 0 or total_before <= 0 or total_after <= 0:
        return math.nan
    return (hits_after / hits_before) / (total_after / total_before)


def best_hits(counts: np.ndarray, n_cells: int) -> int:
    """The most incidents any ``n_cells`` grid cells held (the PEI's best case).

    Examples
    --------
    >>> best_hits(np.array([[5, 0, 3], [3, 1, 0]]), 2)
    8
    """
    return best_hits_curve(counts)(n_cells)


def best_hits_curve(counts: np.ndarray):
    """:func:`best_hits` of ``counts`` for any number of cells, sorted once: a function of
    ``n_cells`` (for scoring many areas against the same counts).

    Examples
    --------
    >>> best = best_hits_curve(np.array([[5, 0, 3], [3, 1, 0]]))
    >>> best(0), best(2), best(3), best(99), best(-1)
    (0, 8, 11, 12, 0)
    """
    top = np.sort(np.asarray(counts).ravel())[::-1]
    running = np.concatenate([[0], np.cumsum(top)])
    return lambda n_cells: int(running[min(max(int(n_cells), 0), len(running) - 1)])
