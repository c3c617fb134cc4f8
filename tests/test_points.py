"""Points prepared once give the same hot spots as the GeoDataFrame with its mask."""

from __future__ import annotations

import numpy as np
import pytest

from impactzones.core.errors import InputError
from impactzones.hotspots import dbscan, gistar, kde, prepare_points


@pytest.fixture(scope="module")
def violent(synth):
    inc = synth.incidents
    return inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]


def test_points_give_the_same_kde_dbscan_and_gistar(violent, layers):
    pts = prepare_points(violent, layers.land)
    assert len(pts.x) + pts.outside == len(violent)
    a = kde(violent, cell_size=100, bandwidth=400, mask=layers.land)
    b = kde(pts, cell_size=100, bandwidth=400)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.params == b.params
    c = dbscan(violent, eps=150, min_samples=15, mask=layers.land)
    d = dbscan(pts, eps=150, min_samples=15)
    assert c.labels.equals(d.labels) and c.core.equals(d.core)
    assert c.clusters.drop(columns="geometry").equals(d.clusters.drop(columns="geometry"))
    g1 = gistar(violent, cell_size=250, mask=layers.land, permutations=99, seed=1)
    g2 = gistar(pts, cell_size=250, permutations=99, seed=1)
    np.testing.assert_array_equal(g1.Zs, g2.Zs)


def test_points_refuse_a_second_mask(violent, layers):
    pts = prepare_points(violent, layers.land)
    with pytest.raises(InputError, match="without a mask"):
        kde(pts, mask=layers.land)
