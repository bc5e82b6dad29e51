"""Between-year variation of joiner rates in the cohort model (bayes mode).

Histories come from a small vectorised cohort process in which each year the odds of joining
at every NCY are multiplied by a Gamma year effect of known variance (0: binomial joiners).
The model is fitted to the history and its NCY-level 90% intervals are checked against
simulated futures of the same process (see docs/cohort_coverage.md for why joiners matter).
"""
import numpy as np
import pandas as pd
import pytest

from senforecast import LocalAreaData
from senforecast.core.data import NO_PLAN
from senforecast.models.cohort.model import CohortModel

SETTINGS = ["MS", "SS"]
NCYS = np.arange(0, 6)  # at the last NCY everyone ages out
VALID = pd.DataFrame({"setting": SETTINGS, "min_ncy": 0, "max_ncy": int(NCYS[-1]), "designation": "*"})
POP = 20000
LEAVER, MOVER, JOINER = 0.08, 0.05, 0.004  # ~80 joiners per NCY a year


def _odds(p, f):
    return p * f / (1 - p + p * f)


def step(stock, rng, year, var):
    """One census to the next (one need, two settings); returns the new stock and rows."""
    A, S = stock.shape
    f = rng.gamma(1 / var, var, size=A) if var > 0 else np.ones(A)
    new = np.zeros_like(stock)
    rows = []
    for a in range(A):
        ncy = int(NCYS[a])
        for s in range(S):
            n = int(stock[a, s])
            if n == 0:
                continue
            if a == A - 1:
                rows.append((year, ncy, "X", SETTINGS[s], ncy + 1, NO_PLAN, NO_PLAN, n))
                continue
            lv = rng.binomial(n, LEAVER)
            mv = rng.binomial(n - lv, MOVER)
            stay = n - lv - mv
            new[a + 1, s] += stay
            new[a + 1, 1 - s] += mv
            for k, need_to, set_to in ((lv, NO_PLAN, NO_PLAN), (stay, "X", SETTINGS[s]), (mv, "X", SETTINGS[1 - s])):
                if k:
                    rows.append((year, ncy, "X", SETTINGS[s], ncy + 1, need_to, set_to, k))
    for a in range(A):
        joiners = rng.multinomial(rng.binomial(POP, _odds(JOINER, f[a])), [0.7, 0.3])
        new[a] += joiners
        for s in np.flatnonzero(joiners):
            rows.append((year, int(NCYS[a]) - 1, NO_PLAN, NO_PLAN, int(NCYS[a]), "X", SETTINGS[s], int(joiners[s])))
    return new, rows


def history(seed, var, n_history=6, burn_in=7, first_year=2010):
    rng = np.random.default_rng(seed)
    stock = np.zeros((len(NCYS), len(SETTINGS)), dtype=np.int64)
    rows = []
    year = first_year - burn_in
    for k in range(burn_in + n_history):
        stock, r = step(stock, rng, year, var)
        if k >= burn_in:
            rows += r
        year += 1
    cols = ["year", "ncy_from", "need_from", "setting_from", "ncy_to", "need_to", "setting_to", "count"]
    t = pd.DataFrame(rows, columns=cols).assign(area="ALL")
    pop = pd.DataFrame([(y, "ALL", int(ncy), POP) for y in range(first_year - burn_in - 1, year + 5)
                        for ncy in range(int(NCYS[0]) - 1, int(NCYS[-1]) + 1)],
                       columns=["year", "area", "ncy", "count"])
    return LocalAreaData(transitions=t, population=pop, name="synthetic"), stock, rng, year


def ncy_intervals(seed, var, year_variation, horizon=2, n_draws=300):
    """Hits and widths of 90% NCY intervals against one simulated future."""
    data, stock, rng, year = history(seed, var)
    m = CohortModel(valid_states=VALID, joiner_trend=False, year_variation=year_variation).fit(data)
    by = m.project(years=horizon, n_draws=n_draws, seed=seed, flows=False).summary(by="ncy")
    by = by.set_index(["year", "ncy"])
    hits, widths = [], []
    for h in range(horizon):
        stock, _ = step(stock, rng, year + h, var)
        for a, ncy in enumerate(NCYS):
            row = by.loc[(year + h + 1, int(ncy))]
            hits.append(row["p05"] <= stock[a].sum() <= row["p95"])
            widths.append(row["p95"] - row["p05"])
    return hits, widths


def test_joiner_year_effect_variance_is_recovered_from_histories():
    est = {0.0: [], 0.1: []}
    for var in est:
        for rep in range(8):
            data, *_ = history(700 + rep, var)
            m = CohortModel(valid_states=VALID, joiner_trend=False).fit(data)
            est[var].append(m.params_.joiner_year_var)
    # moment estimates from six years x six NCYs are noisy, but centred on the truth
    assert np.mean(est[0.0]) < 0.01, est[0.0]
    assert 0.06 < np.mean(est[0.1]) < 0.15, est[0.1]
    assert min(est[0.0]) >= 0.0  # truncated at zero, never negative


def test_over_dispersed_joiners_ncy_intervals_cover_about_90_percent():
    var = 0.1  # odds sd ~0.3 a year; the witan.send demo's joiners give 0.07
    hits_on, hits_off = [], []
    for rep in range(24):
        hits_on += ncy_intervals(rep, var, year_variation=True)[0]
        hits_off += ncy_intervals(rep, var, year_variation=False)[0]
    # 24 histories x 2 years x 6 NCYs (NCYs of a run share a history, so allow slack)
    assert 0.83 <= np.mean(hits_on) <= 0.97, np.mean(hits_on)
    # binomial joiners alone give intervals that are too narrow
    assert np.mean(hits_off) < np.mean(hits_on) - 0.05, (np.mean(hits_off), np.mean(hits_on))


def test_binomial_joiners_intervals_do_not_get_materially_wider():
    w_on, w_off, hits = [], [], []
    for rep in range(10):
        h, w = ncy_intervals(200 + rep, 0.0, year_variation=True)
        hits += h
        w_on += w
        w_off += ncy_intervals(200 + rep, 0.0, year_variation=False)[1]
    assert np.mean(w_on) / np.mean(w_off) < 1.10, (np.mean(w_on), np.mean(w_off))
    assert np.mean(hits) >= 0.83, np.mean(hits)


def test_witan_mode_and_no_year_variation_have_no_joiner_year_effect():
    data, *_ = history(7, 0.1)
    assert CohortModel(mode="witan", valid_states=VALID).fit(data).params_.joiner_year_var == 0.0
    assert CohortModel(valid_states=VALID, year_variation=False).fit(data).params_.joiner_year_var == 0.0


def test_joiner_year_effect_keeps_counts_whole_and_seeds_reproduce():
    data, *_ = history(3, 0.1)
    m = CohortModel(valid_states=VALID, joiner_trend=False).fit(data)
    assert m.params_.joiner_year_var > 0
    a = m.project(years=3, n_draws=60, seed=11)
    b = m.project(years=3, n_draws=60, seed=11)
    assert np.array_equal(a.draws, b.draws)
    assert (a.draws >= 0).all()
    # every child is accounted for: stock(y) = stock(y-1) + joiners - leavers, per draw
    s = a.draws.sum(2).astype(np.int64)
    j, l = a.flows["joiners"].sum(2).astype(np.int64), a.flows["leavers"].sum(2).astype(np.int64)
    start = int(m.history_[m.history_["year"] == m.seed_year_]["count"].sum())
    assert np.array_equal(s[:, 0], start + j[:, 0] - l[:, 0])
    assert np.array_equal(s[:, 1:], s[:, :-1] + j[:, 1:] - l[:, 1:])


@pytest.mark.parametrize("var", [0.0, 0.1])
def test_joiner_means_are_not_shifted_by_the_year_effect(var):
    # a Gamma factor of mean 1 on the odds leaves the mean joiners (almost) unchanged
    data, *_ = history(11, var)
    on = CohortModel(valid_states=VALID, joiner_trend=False).fit(data)
    off = CohortModel(valid_states=VALID, joiner_trend=False, year_variation=False).fit(data)
    j_on = on.project(years=2, n_draws=800, seed=1).flows["joiners"].sum(2).mean()
    j_off = off.project(years=2, n_draws=800, seed=1).flows["joiners"].sum(2).mean()
    assert abs(j_on / j_off - 1) < 0.03, (j_on, j_off)
