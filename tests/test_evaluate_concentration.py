"""Crime concentration: Gini against hand-worked cases and lorenzgini's documented examples."""

from __future__ import annotations

import numpy as np
import pytest

from impactzones.core.errors import InputError
from impactzones.evaluate.concentration import (
    cell_counts,
    concentration,
    concentration_report,
    gini,
    plot_lorenz,
    top_share,
)


@pytest.mark.parametrize(
    "counts,standard,generalized,gen_unbiased",
    [
        # the examples in the documentation of Steenbeek & Bernasco's R package lorenzgini
        ([10, 8, 2] + [0] * 7, 0.78, 0.78, 0.78 * 10 / 9),
        ([5, 2, 1] + [0] * 7, 0.80, 0.75, 0.75 * 8 / 7),
        ([10] + [0] * 9, 0.90, 0.90, 1.0),
        ([10] + [0] * 99, 0.99, 0.90, 1.0),
    ],
)
def test_published_examples(counts, standard, generalized, gen_unbiased):
    assert gini(counts, generalized=False) == pytest.approx(standard, abs=1e-12)
    assert gini(counts) == pytest.approx(generalized, abs=1e-12)
    assert gini(counts, unbiased=True) == pytest.approx(gen_unbiased, abs=1e-12)


def test_gini_equals_the_mean_absolute_difference_form():
    rng = np.random.default_rng(4)
    x = rng.negative_binomial(1, 0.3, size=300)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x, generalized=False) == pytest.approx(mad, rel=1e-12)


def test_maximal_equality_given_sparse_counts_is_zero():
    # 30 crimes in 100 places, one each: the standard Gini says 0.7, the generalized 0
    x = [1] * 30 + [0] * 70
    assert gini(x, generalized=False) == pytest.approx(0.7)
    assert gini(x) == pytest.approx(0.0, abs=1e-12)
    assert gini([3] * 10) == pytest.approx(0.0)


def test_top_shares_by_hand():
    x = np.arange(100)  # 4950 in all; the top 10 places hold 90..99 = 945
    assert top_share(x, 0.10) == pytest.approx(945 / 4950)
    assert top_share(x, 0.01) == pytest.approx(99 / 4950)
    c = concentration(x)
    assert c.top["5%"] == pytest.approx(sum(range(95, 100)) / 4950)
    assert "top 5% of 100 cells" in c.verdict


def test_cell_counts_and_report(synth, layers):
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year == 2018]
    counts, _, _ = cell_counts(inc, layers.land, 250)
    assert counts.sum() <= len(inc) and counts.sum() > 0.95 * len(inc)
    t = concentration_report(inc, layers.land, cell_size=250, districts=layers.districts)
    city = t.iloc[0]
    k = int(round(0.05 * len(counts)))
    top_k = np.sort(counts)[::-1][:k].sum() / counts.sum()
    assert city["top_5"] == pytest.approx(top_k, abs=0.01)
    assert t["crimes"].iloc[1:].sum() == city["crimes"]  # every cell is in one district
    assert t.results["City"].places == len(counts)
    assert t.table.attrs == {}  # the results are an attribute, not DataFrame.attrs
    assert t.attrs["results"] is t.results  # as earlier versions gave them
    assert t.params["cell_size_m"] == 250 and t.params["cell_rule"] == "given"
    assert plot_lorenz(t.results)[:4] == b"\x89PNG"


def test_bad_counts():
    with pytest.raises(InputError):
        gini([1, -1])
    with pytest.raises(InputError):
        cell_counts(None, None, 0)
