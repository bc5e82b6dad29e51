"""Projection summaries are exact sample quantiles of the outcome and aggregation conserves counts."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import Projection, SenForecastError


def _proj(seed=0, d=200, y=3, areas=("N", "S"), needs=("ASD", "SLD", "MLD")):
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame(
        [(a, n, s) for a in areas for n in needs for s in ("MS", "RB")],
        columns=["area", "need", "setting"],
    )
    draws = rng.poisson(5, size=(d, y, len(cells)))
    return Projection(draws, np.arange(2030, 2030 + y), cells)


def test_summary_quantiles_are_exact_sample_quantiles():
    p = _proj()
    s = p.summary(by="area", quantiles=[0.05, 0.95])
    north = p.draws[:, :, (p.cells["area"] == "N").to_numpy()].sum(axis=2)
    got = s[s["area"] == "N"].sort_values("year")
    np.testing.assert_allclose(got["p05"], np.quantile(north, 0.05, axis=0))
    np.testing.assert_allclose(got["p95"], np.quantile(north, 0.95, axis=0))
    np.testing.assert_allclose(got["median"], np.median(north, axis=0))
    np.testing.assert_allclose(got["mean"], north.mean(axis=0))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["area", "need", "setting"]), unique=True), st.integers(0, 10_000))
def test_aggregation_conserves_totals_per_draw(by, seed):
    p = _proj(seed=seed, d=20)
    agg = p.aggregate(by)
    np.testing.assert_array_equal(agg.total(), p.total())
    assert list(agg.cells.columns) == by
    assert not agg.cells.duplicated().any()


def test_weighted_requires_cost_for_every_cell():
    p = _proj(d=5)
    costs = pd.DataFrame({"setting": ["MS"], "cost": [1.0]})
    with pytest.raises(SenForecastError, match="RB"):
        p.weighted(costs)


def test_unknown_dimension_is_a_clear_error():
    with pytest.raises(SenForecastError, match="cannot group by"):
        _proj(d=5).summary(by="ncy")


@settings(max_examples=60, deadline=None)
@given(d=st.integers(1, 4), y=st.integers(1, 3), c=st.integers(1, 300), groups=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(["int16", "int32", "float64"]))
def test_group_sum_equals_a_loop_over_groups(d, y, c, groups, seed, kind):
    from senforecast.projection import group_sum
    rng = np.random.default_rng(seed)
    arr = (rng.integers(0, 50, (d, y, c)) if kind != "float64" else rng.random((d, y, c)) * 1e3).astype(kind)
    codes = rng.integers(-1, groups, c)  # -1: left out
    want = np.stack([arr[..., codes == g].sum(-1) for g in range(groups)], axis=-1)
    got = group_sum(arr, codes, groups)
    assert got.dtype == arr.dtype
    assert np.allclose(got, want, rtol=1e-12, atol=0) if kind == "float64" else (got == want).all()
    assert np.allclose(group_sum(arr, codes, groups, dtype=np.float64), want)
