"""Evaluation designs beyond two counts: interrupted time series, synthetic control, power
and the minimum detectable effect, near-repeat patterns and crime concentration.

Each method returns a typed result (a dataclass) with its statistics and ``params`` as
attributes and a plain-language ``verdict``.
"""

from .series import SeriesResult, evaluate_series, its_from_counts, plot_counterfactual

__all__ = ["SeriesResult", "evaluate_series", "its_from_counts", "plot_counterfactual"]
