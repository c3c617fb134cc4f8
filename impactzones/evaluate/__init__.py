"""Evaluation designs beyond two counts: interrupted time series, synthetic control, power
and the minimum detectable effect, near-repeat patterns and crime concentration.

Each method returns a typed result (a dataclass) with its statistics and ``params`` as
attributes and a plain-language ``verdict``.
"""

from .concentration import Concentration, concentration, concentration_report, gini
from .nearrepeat import NearRepeat, near_repeat, near_repeat_incidents
from .power import PowerResult, minimum_detectable_effect, power_for, zone_power
from .series import SeriesResult, evaluate_series, its_from_counts, plot_counterfactual
from .synthetic_control import SyntheticControl, synthetic_control

__all__ = [
    "Concentration",
    "NearRepeat",
    "PowerResult",
    "SeriesResult",
    "SyntheticControl",
    "concentration",
    "concentration_report",
    "evaluate_series",
    "gini",
    "its_from_counts",
    "minimum_detectable_effect",
    "near_repeat",
    "near_repeat_incidents",
    "plot_counterfactual",
    "power_for",
    "synthetic_control",
    "zone_power",
]
