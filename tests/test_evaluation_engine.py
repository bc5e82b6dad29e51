"""The one evaluation engine: loop, scores, skill against naive models, and both backtests on it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from senforecast.core.data import LocalAreaData
from senforecast.evaluation import metrics
from senforecast.evaluation.backtest import backtest, truncate_data
from senforecast.evaluation.engine import (INTERVALS, RESULT_COLUMNS, interval_columns, rolling_origin, score,
                                           skill_vs_naive)
from senforecast.models.baselines import LastValue, LinearTrend
from senforecast.projection import summarise

# ---------------------------------------------------------------- the loop


@given(origins=st.lists(st.integers(2000, 2030), min_size=1, max_size=6),
       horizons=st.lists(st.integers(1, 5), min_size=1, max_size=4, unique=True),
       last=st.integers(2000, 2035))
def test_rolling_origin_keeps_exactly_the_observed_horizons(origins, horizons, last):
    seen = []
    rolling_origin(origins, horizons, last, lambda i, o, hs: seen.append((i, o, hs)))
    expected = [(i, o, [h for h in horizons if o + h <= last]) for i, o in enumerate(origins)]
    assert seen == [e for e in expected if e[2]]  # positions count skipped origins too (seeds)


def test_rolling_origin_concatenates_what_steps_return():
    out = rolling_origin([1, 2, 3], [1], 3, lambda i, o, hs: [pd.DataFrame({"o": [o]})] if o == 1
                         else (None if o == 2 else pd.DataFrame({"o": [o]})))
    assert [int(f["o"].iloc[0]) for f in out] == [1]  # 3 has no later year; 2 returned nothing


# ---------------------------------------------------------------- scores

rows = st.lists(st.tuples(st.integers(0, 10000).map(float), st.floats(0, 1e4), st.floats(0, 50), st.floats(0, 50)),
                min_size=1, max_size=30)


def _frame(data, groups=1):
    a = np.array([r[0] for r in data]); f = np.array([r[1] for r in data])
    w1 = np.array([r[2] for r in data]); w2 = w1 + np.array([r[3] for r in data])
    return pd.DataFrame({"g": np.arange(len(data)) % groups, "actual": a, "forecast": f, "lo80": f - w1,
                         "hi80": f + w1, "lo95": f - w2, "hi95": f + w2})


@given(rows)
def test_score_matches_the_definitions(data):
    f = _frame(data)
    s = score(f, ["g"]).iloc[0]
    a, p = f["actual"].to_numpy(), f["forecast"].to_numpy()
    assert s["n"] == len(f)
    if a.sum() > 0:
        assert s["wape"] == pytest.approx(np.abs(a - p).sum() / a.sum())
        assert s["bias"] == pytest.approx((p - a).sum() / a.sum())
    else:
        assert np.isnan(s["wape"]) and np.isnan(s["bias"])
    inside80 = (a >= f["lo80"]) & (a <= f["hi80"])
    assert s["coverage80"] == inside80.mean()
    assert s["coverage95"] >= s["coverage80"]  # nested intervals
    assert s["interval_score80"] >= (f["hi80"] - f["lo80"]).mean() - 1e-9  # width plus penalties


@settings(max_examples=30)
@given(rows, st.integers(1, 4), st.randoms(use_true_random=False))
def test_score_of_a_group_does_not_depend_on_row_order_or_other_groups(data, groups, rnd):
    f = _frame(data, groups)
    whole = score(f, ["g"]).set_index("g")
    order = list(range(len(f)))
    rnd.shuffle(order)
    shuffled = score(f.iloc[order], ["g"]).set_index("g")
    pd.testing.assert_frame_equal(whole, shuffled, rtol=1e-9)
    for g, part in f.groupby("g"):
        pd.testing.assert_series_equal(score(part, ["g"]).set_index("g").loc[g], whole.loc[g], rtol=1e-9)


def test_calibrated_intervals_cover_at_their_level_and_score_best():
    # actuals from N(mu, 1); intervals at the true quantiles cover 80% / 95%, and the interval
    # score (a proper score) prefers them to intervals 30% too narrow or too wide
    rng = np.random.default_rng(3)
    n = 20000
    mu = rng.uniform(50, 150, n)
    actual = mu + rng.standard_normal(n)

    def frame(scale):
        out = {"g": 0, "actual": actual, "forecast": mu}
        for name, (lo, hi) in INTERVALS.items():
            out[f"lo{name}"] = mu + scale * stats.norm.ppf(lo)
            out[f"hi{name}"] = mu + scale * stats.norm.ppf(hi)
        return pd.DataFrame(out)

    true = score(frame(1.0), ["g"]).iloc[0]
    tol = 4 * np.sqrt(0.2 * 0.8 / n)
    assert abs(true["coverage80"] - 0.80) < tol
    assert abs(true["coverage95"] - 0.95) < 4 * np.sqrt(0.05 * 0.95 / n)
    for scale in (0.7, 1.3):
        other = score(frame(scale), ["g"]).iloc[0]
        assert other["interval_score80"] > true["interval_score80"]
        assert other["interval_score95"] > true["interval_score95"]


def test_crps_column_is_averaged_when_rows_carry_draws():
    rng = np.random.default_rng(1)
    draws = rng.normal(10, 2, size=(400, 50))
    actual = rng.normal(10, 2, 50)
    crps = [metrics.crps_draws(actual[j], draws[:, j]) for j in range(50)]
    f = pd.DataFrame({"g": 0, "actual": actual, "forecast": draws.mean(0), "crps": crps,
                      **{c: 0.0 for c in ("lo80", "hi80", "lo95", "hi95")}})
    assert score(f, ["g"]).iloc[0]["crps"] == pytest.approx(metrics.crps_draws(actual, draws))
    assert "crps" not in score(f.drop(columns="crps"), ["g"]).columns


def test_interval_columns_follow_the_projection_naming_rule():
    s = summarise(np.arange(101.0), [q for pair in INTERVALS.values() for q in pair])
    for lo, hi in interval_columns("quantiles").values():
        assert lo in s and hi in s


# ---------------------------------------------------------------- skill against naive models

@given(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(["n1", "n2", "m1", "m2"]),
                          st.floats(0.01, 10)), min_size=1, max_size=20))
def test_skill_is_against_the_best_naive_model_of_each_group(data):
    s = pd.DataFrame(data, columns=["horizon", "model", "wape"]).drop_duplicates(["horizon", "model"])
    out = skill_vs_naive(s, ["n1", "n2"], ["horizon"], "wape")
    assert out.index.equals(s.index) and (out["model"] == s["model"]).all()
    for h, g in out.groupby("horizon"):
        naive = g[g["model"].isin(["n1", "n2"])]
        if naive.empty:
            assert g["skill"].isna().all()
            continue
        best = naive["wape"].min()
        assert (g["best_naive_wape"] == best).all()
        assert naive.loc[naive["wape"].idxmin(), "model"] == g["best_naive"].iloc[0]
        assert np.allclose(g["skill"], 1 - g["wape"] / best)
        assert ((g["skill"] > 0) == (g["wape"] < best)).all()  # positive skill: beats every naive model


# ---------------------------------------------------------------- both backtests on the engine

def _census():
    return pd.DataFrame({"year": np.repeat(range(2014, 2021), 2), "area": "N", "ncy": np.tile([5, 6], 7),
                         "need": "ASD", "count": [10, 30, 12, 31, 15, 33, 16, 36, 20, 37, 21, 40, 25, 41]})


def test_local_backtest_results_are_the_engine_frame_and_rescore_to_its_scores():
    r = backtest(LinearTrend(window=3), LocalAreaData(census=_census()), horizons=[1, 2], by=["total", "ncy"],
                 n_draws=200)
    res = r.results
    assert list(res.columns) == list(RESULT_COLUMNS)
    assert {"p2.5", "p10", "p90", "p97.5", "median"} <= set(r.forecasts.columns)
    again = score(res, ["level", "horizon"])
    mine = r.scores.set_index(["grouping", "horizon"]).sort_index()
    again = again.rename(columns={"level": "grouping"}).set_index(["grouping", "horizon"]).sort_index()
    pd.testing.assert_frame_equal(again, mine.drop(columns="model")[again.columns], check_dtype=False)


def test_local_forecast_quantiles_are_the_summarise_of_the_refit_projection():
    data = LocalAreaData(census=_census())
    r = backtest(LastValue(), data, horizons=[1, 2], by=["total"], n_draws=50, seed=4)
    origin = r.origins[0]
    proj = LastValue().fit(truncate_data(data, origin)).project(years=[origin + 1, origin + 2], n_draws=50, seed=4)
    want = summarise(proj.aggregate([]).draws[:, :, 0], [0.025, 0.1, 0.9, 0.975])
    got = r.forecasts[r.forecasts["origin"] == origin].sort_values("year")
    for col, v in want.items():
        assert np.allclose(got[col].to_numpy(), v), col


def test_england_backtest_results_rescore_to_its_scores():
    from senforecast.england import load_england_ehcp, run_england_backtest

    r = run_england_backtest(load_england_ehcp().age, origins=[2017, 2018], horizons=[1, 2], n_draws=100)
    res = r.results
    assert list(res.columns) == list(RESULT_COLUMNS)
    auth = res[res["level"] == "authority"]
    again = score(auth, ["target", "horizon", "model"])[r.scores.columns]
    pd.testing.assert_frame_equal(again, r.scores)
