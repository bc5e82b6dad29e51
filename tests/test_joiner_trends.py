"""Joiner-rate trends by need (``CohortModel(joiner_trend="need")``), checked statistically.

Authorities are simulated from a known process: children age one NCY a year, leave with a
fixed probability, and join from a constant population at a rate by NCY times a need's share
that grows by a known yearly log trend per need. The tests fit the model to the history and
check that (1) the by-need trends are recovered (their 90% intervals cover the truth ~90%),
(2) the projected counts by need are covered by their 90% intervals ~90%, and (3) when the
needs share one trend the by-need model shrinks to it and forecasts as well as one trend.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from senforecast.core.data import NO_PLAN, LocalAreaData
from senforecast.core.errors import ModelError
from senforecast.models.cohort.fit import CohortIndex, count_transitions, fit_bayes, need_trends
from senforecast.models.cohort.model import CohortModel
from senforecast.models.cohort.states import ValidStates

NEEDS = ("N0", "N1", "N2", "N3", "N4")
SHARES = np.array([0.35, 0.2, 0.2, 0.15, 0.1])
NCYS = np.arange(0, 12)
BASE_RATE = np.linspace(0.006, 0.002, NCYS.size)  # joiners per head by NCY (after the transition)
LEAVE = 0.1
SPECIAL = 0.3  # share of joiners placed in the special school


def growing_authority(trends, *, n_census: int = 7, n_future: int = 3, pop: int = 3000, first: int = 2015,
                      seed: int = 0) -> LocalAreaData:
    """Transitions of ``n_census + n_future`` censuses of a simulated authority (one area).

    Need ``n``'s joining rate in transition year ``y`` is ``BASE_RATE * SHARES[n] *
    exp(trends[n] * (y - first))``; backtest origins before the last ``n_future`` censuses
    leave those years to score.
    """
    rng = np.random.default_rng(seed)
    trends = np.asarray(trends, float)
    stock = np.zeros((NCYS.size, len(NEEDS), 2), np.int64)
    for _ in range(12):  # burn in at the first year's rates so the NCY mix settles
        stock = _step(rng, stock, trends * 0, pop)[0]
    rows = []
    for i in range(n_census + n_future - 1):
        year = first + i
        stock, stayers, leavers, joiners = _step(rng, stock, trends * i, pop)
        for (a, n, s), k in np.ndenumerate(stayers):
            if k:
                rows.append((year, a, NEEDS[n], "MS" if s == 0 else "SS", a + 1, NEEDS[n], "MS" if s == 0 else "SS", k))
        for (a, n, s), k in np.ndenumerate(leavers):
            if k:
                rows.append((year, a, NEEDS[n], "MS" if s == 0 else "SS", a + 1, NO_PLAN, NO_PLAN, k))
        for (a, n, s), k in np.ndenumerate(joiners):
            if k:
                rows.append((year, a - 1, NO_PLAN, NO_PLAN, a, NEEDS[n], "MS" if s == 0 else "SS", k))
    t = pd.DataFrame(rows, columns=["year", "ncy_from", "need_from", "setting_from", "ncy_to", "need_to",
                                    "setting_to", "count"])
    t.insert(1, "area", "A")
    years = np.arange(first, first + n_census + n_future + 1)
    population = pd.DataFrame({"year": np.repeat(years, NCYS.size), "area": "A",
                               "ncy": np.tile(NCYS, years.size), "count": pop})
    return LocalAreaData(transitions=t, population=population, name="synthetic growing authority")


def _step(rng, stock, log_growth, pop):
    """One year: leavers, the rest one NCY on (out at the top), joiners by need and NCY."""
    leavers = rng.binomial(stock, LEAVE)
    leavers[-1] = stock[-1]  # the top NCY leaves
    stay = stock - leavers
    lam = pop * BASE_RATE[:, None] * (SHARES * np.exp(log_growth))[None, :]  # (ncy, need)
    n_join = rng.poisson(lam)
    n_join[0] = 0  # joiners arrive at NCY 1 and above (the NCY after the transition)
    special = rng.binomial(n_join, SPECIAL)
    joiners = np.stack([n_join - special, special], -1)
    new = np.zeros_like(stock)
    new[1:] = stay[:-1]
    return new + joiners, stay, leavers, joiners


def _fit_need(data):
    return CohortModel(joiner_trend="need", year_variation=False).fit(data)


def _shrunk(params):
    """Posterior mean and sd of each need's trend (as the simulation draws them)."""
    b, se_b = params.joiner_trend
    est, se, B = params.joiner_need_trend
    return B * b + (1 - B) * est, np.sqrt(B ** 2 * se_b ** 2 + (1 - B) * se ** 2)


def _truncate(data, last_year):
    t = data.transitions
    return LocalAreaData(transitions=t[t["year"] < last_year], population=data.population, name=data.name)


def test_need_trends_recovered_and_intervals_cover():
    """Known trends by need: estimates centre on them and 90% intervals cover ~90%."""
    truth = np.array([0.08, 0.0, -0.04, 0.04, 0.02])
    z, z_raw, err_shrunk, err_overall, tau2 = [], [], [], [], []
    for seed in range(40):
        data = _truncate(growing_authority(truth, pop=12000, seed=seed), 2015 + 6)
        t = data.transitions
        ix = CohortIndex.build(t, ValidStates({}).with_observed(t))
        c = count_transitions(t, ix, data.population, pop_offset=1)
        p = fit_bayes(c, ix, joiner_trend="need")
        mean, sd = _shrunk(p)
        est, se, _ = p.joiner_need_trend
        z.append((mean - truth) / sd)
        z_raw.append((est - truth) / se)
        err_shrunk.append(((mean - truth) ** 2).sum())
        err_overall.append(((p.joiner_trend[0] - truth) ** 2).sum())
        tau2.append(p.joiner_need_tau2)
    z, z_raw = np.array(z), np.array(z_raw)
    cover = (np.abs(z) < stats.norm.ppf(0.95)).mean()
    assert 0.82 <= cover <= 0.97, cover
    # each need's own estimate is unbiased (shrinkage then pulls the extremes in, by design)
    assert (np.abs(z_raw.mean(0)) < 4 / np.sqrt(len(z_raw))).all(), z_raw.mean(0)
    # shrunk trends are much nearer the truth than one trend for all, and tau2 sees the spread
    assert np.sum(err_shrunk) < 0.5 * np.sum(err_overall), (np.sum(err_shrunk), np.sum(err_overall))
    assert 0.3 * truth.var(ddof=1) < np.median(tau2) < 3 * truth.var(ddof=1), (np.median(tau2), truth.var(ddof=1))


def test_no_need_differences_shrinks_to_overall():
    """One true trend for every need: tau2 is usually 0 and the need trends equal the overall."""
    truth = np.full(len(NEEDS), 0.03)
    tau2, gaps = [], []
    for seed in range(30):
        data = _truncate(growing_authority(truth, seed=100 + seed), 2015 + 6)
        p = _fit_need(data).params_
        tau2.append(p.joiner_need_tau2)
        gaps.append(np.abs(_shrunk(p)[0] - p.joiner_trend[0]).max())
    assert np.mean(np.array(tau2) == 0) >= 0.6, tau2
    assert np.median(gaps) < 0.005, gaps


def _coverage_run(truth, seeds, pop=3000, horizon=3):
    """Fit on 7 censuses, project ``horizon`` years; 90% coverage and abs errors by need."""
    hits, err_need, err_total = [], [], []
    for seed in seeds:
        full = growing_authority(truth, n_census=7, n_future=horizon, pop=pop, seed=seed)
        t = full.transitions
        origin = 2015 + 6
        actual = (t[(t["year"] >= origin) & (t["setting_to"] != NO_PLAN)]
                  .assign(year=lambda f: f["year"] + 1).groupby(["year", "need_to"])["count"].sum())
        out = {}
        for jt in ("need", "total"):
            m = CohortModel(joiner_trend=jt, year_variation=False).fit(_truncate(full, origin))
            proj = m.project(years=horizon, n_draws=400, seed=seed, flows=False)
            s = proj.summary(by=["need"], quantiles=(0.05, 0.95)).set_index(["year", "need"])
            out[jt] = s.reindex(actual.index.rename(["year", "need"]))
        s = out["need"]
        hits.append(((actual.to_numpy() >= s["p05"].to_numpy()) & (actual.to_numpy() <= s["p95"].to_numpy())))
        err_need.append([np.abs(out[k]["mean"].to_numpy() - actual.to_numpy()).sum() for k in ("need", "total")])
        err_total.append(actual.sum())
    return np.concatenate(hits), np.array(err_need), np.array(err_total)


@pytest.mark.slow
def test_projected_counts_by_need_cover_90():
    """Growing needs: the by-need model's 90% intervals of counts by need cover ~90%, and its
    errors are smaller than one trend's."""
    truth = np.array([0.10, 0.0, -0.05, 0.03, 0.03])
    hits, err, _ = _coverage_run(truth, range(24))
    assert 0.82 <= hits.mean() <= 0.98, hits.mean()
    assert err[:, 0].sum() < err[:, 1].sum(), err.sum(0)


@pytest.mark.slow
def test_by_need_does_not_hurt_without_differences():
    """Same trend for every need: the by-need model's errors are within 3% of one trend's."""
    hits, err, _ = _coverage_run(np.full(len(NEEDS), 0.03), range(200, 224))
    assert err[:, 0].sum() <= 1.03 * err[:, 1].sum(), err.sum(0)
    assert 0.82 <= hits.mean() <= 0.98, hits.mean()


def test_need_trends_moments_on_pure_noise():
    """DerSimonian-Laird tau2 is zero about half the time or more when the needs share a trend."""
    rng = np.random.default_rng(5)
    dt = np.arange(6) - 2.5
    pop = np.full((6, 5), 5000.0)
    zero = 0
    for _ in range(60):
        lam = 0.004 * np.exp(0.03 * dt)[:, None, None] * np.ones((1, 5, 4))
        (b, se, B), tau2 = need_trends(rng.poisson(pop[:, :, None] * lam), pop, pop > 0, dt, 4, 1)
        zero += tau2 == 0
        assert np.all((B >= 0) & (B <= 1))
    assert zero >= 30


def test_bad_joiner_trend_named():
    with pytest.raises(ModelError, match="joiner_trend"):
        CohortModel(joiner_trend="ncy")


def test_default_path_unchanged_by_need_option():
    """With tau2 == 0 the need model draws the same numbers as one trend (the need factors are 1)."""
    for seed in range(100, 120):  # the first history whose needs show no differences
        data = _truncate(growing_authority(np.full(len(NEEDS), 0.03), seed=seed), 2015 + 6)
        need = CohortModel(joiner_trend="need").fit(data)
        if need.params_.joiner_need_tau2 == 0:
            break
    assert need.params_.joiner_need_tau2 == 0
    total = CohortModel(joiner_trend=True).fit(data)
    a = need.project(years=2, n_draws=50, seed=3, flows=False).draws
    b = total.project(years=2, n_draws=50, seed=3, flows=False).draws
    assert np.array_equal(a, b)
