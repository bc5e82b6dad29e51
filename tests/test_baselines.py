"""Tests of the naive count baselines and of reading observed counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.data import NO_PLAN, LocalAreaData
from senforecast.core.errors import ModelError
from senforecast.models.baselines import LastValue, LinearTrend, LogLinearTrend, observed_counts


def census_data(series: dict[tuple[str, str], list[int]], start=2015) -> LocalAreaData:
    rows = [(start + i, area, 5, need, c) for (area, need), cs in series.items() for i, c in enumerate(cs)]
    return LocalAreaData(census=pd.DataFrame(rows, columns=["year", "area", "ncy", "need", "count"]))


def test_point_forecasts_hand_checked():
    data = census_data({("N", "ASD"): [10, 12, 15, 14, 16], ("S", "ASD"): [4, 4, 2, 1, 0]})
    lv = LastValue().fit(data)
    assert lv._point(lv.counts_, lv.years_, np.array([1.0, 3.0])).tolist() == [[16, 0], [16, 0]]
    lt = LinearTrend(window=3).fit(data)
    # N: last three 15, 14, 16 -> slope 0.5, fitted at last year 15.5; S: 2, 1, 0 -> slope -1
    y, t = lt._window_slice(lt.counts_, lt.years_)
    pt = lt._point(y, t, np.array([1.0, 2.0]))
    assert pt[:, 0].tolist() == pytest.approx([16.0, 16.5])
    assert pt[:, 1].tolist() == pytest.approx([-1.0, -2.0])
    # ... and projections floor that at zero
    p = lt.project(years=2, n_draws=50, seed=0)
    assert (p.sel(area="S").draws == 0).all()
    ll = LogLinearTrend(window=5, max_growth=0.25).fit(census_data({("N", "ASD"): [1, 2, 4, 8, 16]}))
    y, t = ll._window_slice(ll.counts_, ll.years_)
    # doubling every year is capped at +25% a year
    assert ll._point(y, t, np.array([1.0]))[0, 0] < 16 * 1.25 + 1


def test_observed_counts_from_transitions_uses_last_to_side():
    tr = pd.DataFrame({
        "year": [2020, 2020, 2021, 2021],
        "area": "ALL", "ncy_from": [3, -1, 4, 4], "need_from": ["A", NO_PLAN, "A", "A"],
        "setting_from": ["X", NO_PLAN, "X", "X"], "ncy_to": [4, 0, 5, 5],
        "need_to": ["A", "B", "A", NO_PLAN], "setting_to": ["X", "Y", "X", NO_PLAN],
        "kind": ["stayer", "joiner", "stayer", "leaver"], "count": [5, 2, 6, 1],
    })
    c = observed_counts(LocalAreaData(transitions=tr), ["need"])
    assert c.values.tolist() == [[2020, "A", 5], [2021, "A", 7], [2022, "A", 6]]
    with pytest.raises(ModelError, match="no counts"):
        observed_counts(LocalAreaData(), ["need"])


def _random_walk_data(seed, n_years=12, sd=0.06, level=400):
    rng = np.random.default_rng(seed)
    log_level = np.log(level) + np.cumsum(rng.normal(0, sd, n_years + 3))
    counts = rng.poisson(np.exp(log_level))
    return census_data({("N", "ASD"): counts[:n_years].tolist()}), counts[n_years:]


def test_last_value_intervals_cover_random_walk_futures():
    hits = []
    for rep in range(60):
        data, future = _random_walk_data(rep)
        s = LastValue().fit(data).project(years=3, n_draws=400, seed=rep).summary(quantiles=[0.1, 0.9])
        hits += ((future >= s["p10"].to_numpy()) & (future <= s["p90"].to_numpy())).tolist()
    assert 0.70 <= np.mean(hits) <= 0.92, np.mean(hits)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(0, 5), min_size=3, max_size=8), seed=st.integers(0, 1000),
       cls=st.sampled_from([LastValue, LinearTrend, LogLinearTrend]))
def test_baselines_sane_and_reproducible(counts, seed, cls):
    data = census_data({("N", "RARE"): counts, ("N", "ASD"): [30] * len(counts)})
    m = cls().fit(data)
    a = m.project(years=5, n_draws=50, seed=seed)
    b = m.project(years=5, n_draws=50, seed=seed)
    assert np.array_equal(a.draws, b.draws)
    assert (a.draws >= 0).all()
    assert a.sel(need="RARE").draws.mean() <= 5 * 1.25**5 + 10
    assert set(a.cells["setting"]) == {"ALL"}


def test_errors():
    with pytest.raises(ModelError, match="not fitted"):
        LastValue().project(years=2)
    with pytest.raises(ModelError, match="at least 2"):
        LinearTrend().fit(census_data({("N", "ASD"): [3]}))


def test_trend_baselines_reconcile_to_the_trend_of_the_total():
    # N grows 10, 12, 14; S falls 4, 2, 0: the total is flat at 14, the floored cell lines add to 16
    data = census_data({("N", "ASD"): [10, 12, 14], ("S", "ASD"): [4, 2, 0]})
    rec = LinearTrend(window=3).fit(data).project(years=1, n_draws=4000, seed=0)
    raw = LinearTrend(window=3, reconcile=False).fit(data).project(years=1, n_draws=4000, seed=0)
    assert rec.total().mean() == pytest.approx(14, rel=0.03)
    assert raw.total().mean() == pytest.approx(16, rel=0.03)
    assert rec.sel(area="S").draws.max() == 0  # a cell going to zero stays at zero
