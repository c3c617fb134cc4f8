"""Percent change: hand cases, the published St. Louis figures, and invariants."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impactzones.core.change import format_pct, percent_change, round_half_away
from impactzones.datasets.synth import published_counts


def test_hand_cases():
    assert percent_change(100, 80) == -20.0
    assert percent_change(80, 100) == 25.0
    assert percent_change(5, 5) == 0.0
    assert percent_change(3, 0) == -100.0
    assert math.isnan(percent_change(0, 7))
    assert format_pct(percent_change(0, 7)) == "undefined"
    with pytest.raises(ValueError):
        percent_change(-1, 3)


@pytest.mark.parametrize(
    "category,expected",
    [
        ("violent", "-14.5%"),
        ("aggravated_assault", "-11.0%"),
        ("robbery", "-25.3%"),
        ("homicide", "-8.8%"),
    ],
)
def test_published_citywide_changes_2017_to_2018(category, expected):
    t = published_counts()
    t = t[t["category"] != "carjacking"]
    sel = t[t["group"] == category] if category == "violent" else t[t["category"] == category]
    b = sel.loc[sel["year"] == 2017, "count"].sum()
    a = sel.loc[sel["year"] == 2018, "count"].sum()
    assert format_pct(percent_change(b, a)) == expected


def test_rounding_half_away_from_zero():
    assert round_half_away(-14.45) == -14.5
    assert round_half_away(14.45) == 14.5
    assert round_half_away(-8.75) == -8.8
    assert round_half_away(0.04) == 0.0
    # a fall too small to show keeps its sign; nothing at all has none
    assert format_pct(-0.045) == "-0.0%" and format_pct(0.04) == "+0.0%"
    assert format_pct(0.0) == "0.0%"


@given(st.integers(1, 10**9), st.integers(0, 10**9))
def test_invariants(b, a):
    p = percent_change(b, a)
    assert p >= -100
    assert (p < 0) == (a < b) and (p == 0) == (a == b)
    # scale invariance and the inverse relation
    assert percent_change(3 * b, 3 * a) == pytest.approx(p, rel=1e-12, abs=1e-12)
    if 0 < a <= 10**6 and b <= 10**6:
        back = percent_change(a, b)
        assert (1 + p / 100) * (1 + back / 100) == pytest.approx(1.0, rel=1e-9)


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_display_rounding_is_within_half_a_unit(v):
    r = round_half_away(v)
    assert abs(r - v) <= 0.05 + 1e-9 * max(1.0, abs(v))


def test_pandas_nan_never_inf():
    s = pd.Series([percent_change(0, 0), percent_change(0, 1)])
    assert s.isna().all()
