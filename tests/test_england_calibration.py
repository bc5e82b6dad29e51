"""Shared shocks, growth models and series breaks of the England models, checked on simulated panels."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from senforecast.england import PooledTrendModel
from senforecast.evaluation.england import BASELINES, backtest_levels, run_england_backtest
from senforecast.models.panel.breaks import break_matrix
from senforecast.models.panel.growth import growth_path, persistence, smoothing_weight
from senforecast.models.panel.pooled import calibration_errors, pooled_growth_forecast
from senforecast.models.panel.series import SeriesPanel
from senforecast.models.panel.shared import SharedShockCalibration, shared_shock_variances

SD_NAT, SD_REG, SD_OWN = 0.03, 0.02, 0.03


def simulate_shocks(seed, n_areas=150, n_regions=9, n_years=16):
    """Log growth = national year shock + regional year shock + own noise (all iid, known sds)."""
    rng = np.random.default_rng(seed)
    region = np.arange(n_areas) % n_regions
    nat = rng.normal(0.05, SD_NAT, n_years - 1)
    reg = rng.normal(0, SD_REG, (n_regions, n_years - 1))
    g = nat[None] + reg[region] + rng.normal(0, SD_OWN, (n_areas, n_years - 1))
    L0 = np.log(rng.uniform(300, 3000, n_areas))
    Y = np.exp(np.concatenate([L0[:, None], L0[:, None] + np.cumsum(g, axis=1)], axis=1))
    rows = pd.DataFrame({"year": np.tile(np.arange(2005, 2005 + n_years), n_areas),
                         "area": np.repeat([f"A{i:03d}" for i in range(n_areas)], n_years),
                         "region": np.repeat([f"R{r}" for r in region], n_years),
                         "setting": "total", "count": Y.reshape(-1)})
    return rows


def test_national_and_regional_intervals_cover_80pc_with_shared_shocks_and_not_without():
    # 40 simulated Englands x 4 origins: each origin gives one national and 9 regional totals
    inside = {"independent": [], "shared": []}
    inside_reg = {"independent": [], "shared": []}
    vn = []
    for seed in range(40):
        panel = SeriesPanel.from_table(simulate_shocks(seed), "setting")
        m = PooledTrendModel(dim="setting")
        m.panel_ = panel
        _, tot = backtest_levels(panel, {"pooled": m.forecast_array}, origins=[2016, 2017, 2018, 2019],
                                 horizons=[1], n_draws=300, seed=seed, shock_origins=6)
        tot["in80"] = (tot["actual"] >= tot["lo80"]) & (tot["actual"] <= tot["hi80"])
        for dep in inside:
            d = tot[tot["dependence"] == dep]
            inside[dep] += d.loc[d["level"] == "national", "in80"].tolist()
            inside_reg[dep] += d.loc[d["level"] == "region", "in80"].tolist()
        errs = calibration_errors(m.forecast_array, panel.values, panel.values.shape[1] - 1, 1, 6, with_origin=True)
        vn.append(SharedShockCalibration.fit(errs, panel.group, panel.region, 1).national[0, 0])
    nat, reg = np.mean(inside["shared"]), np.mean(inside_reg["shared"])
    assert len(inside["shared"]) == 160
    # binomial sd 0.03 at n = 160; shock variances estimated from 6 origins make normal intervals a
    # little narrow on average (a t with 6 df would cover ~0.76), so the band is centred a bit low
    assert 0.70 <= nat <= 0.88, nat
    assert 0.72 <= reg <= 0.86, reg
    assert np.mean(inside["independent"]) < 0.5  # independent authorities: far too narrow
    # carrying last year's national growth forward: the error is the change of an iid shock, var 2 sd^2
    assert abs(np.mean(vn) / (2 * SD_NAT**2) - 1) < 0.25, np.mean(vn) / (2 * SD_NAT**2)


def test_joint_draws_keep_each_authoritys_calibrated_interval():
    panel = SeriesPanel.from_table(simulate_shocks(3), "setting")
    m = PooledTrendModel(dim="setting")
    m.panel_ = panel
    Y = panel.values
    t = Y.shape[1] - 1
    cal = SharedShockCalibration.fit(calibration_errors(m.forecast_array, Y, t, 2, 6, with_origin=True),
                                     panel.group, panel.region, 2, marginal_origins=4)
    assert cal.national[0, 0] > 0 and cal.regional[0, 0] > 0
    point = m.forecast_array(Y, t, 2)
    lo, hi = cal.bounds(point, Y[:, t], 0.1, 0.9)
    for shared in (True, False):
        d = cal.draws(point, Y[:, t], 4000, np.random.default_rng(0), shared=shared)
        q = np.quantile(d, [0.1, 0.9], axis=0)
        # each authority's draws have the calibrated 10% and 90% points (Monte Carlo error ~1%)
        assert np.median(np.abs(q[0] / lo.T - 1)) < 0.01 and np.median(np.abs(q[1] / hi.T - 1)) < 0.01


def test_shock_variances_recovered_with_unequal_sizes_and_noise():
    rng = np.random.default_rng(5)
    n, n_orig = 200, 300
    region = rng.integers(0, 8, n)
    size = rng.uniform(20, 5000, n)
    own_sd = np.sqrt(0.002 + 2.0 / (size + 1))  # small authorities much noisier
    e = (rng.normal(0, 0.04, (n_orig, 1)) + rng.normal(0, 0.025, (n_orig, 8))[:, region]
         + rng.standard_t(5, (n_orig, n)) * own_sd * np.sqrt(3 / 5))
    errs = {1: (e.ravel(), np.tile(size, n_orig), np.tile(np.arange(n), n_orig), np.repeat(np.arange(n_orig), n))}
    cal = SharedShockCalibration.fit(errs, np.zeros(n, int), region, 2)
    assert abs(np.sqrt(cal.national[0, 0]) - 0.04) < 0.006
    assert abs(np.sqrt(cal.regional[0, 0]) - 0.025) < 0.006
    assert cal.n_origins[0].tolist() == [300, 0]  # horizon 2 is extrapolated
    assert np.isclose(cal.national[0, 1], 4 * cal.national[0, 0])


def test_no_shared_shock_is_found_when_there_is_none():
    rng = np.random.default_rng(8)
    n, n_orig = 150, 200
    region = np.arange(n) % 5
    e = rng.normal(0, 0.1, (n_orig, n)).ravel()
    errs = {1: (e, np.full(e.size, 500.0), np.tile(np.arange(n), n_orig), np.repeat(np.arange(n_orig), n))}
    from senforecast.models.panel.intervals import GroupedCalibration
    vn, vr, _ = shared_shock_variances(errs, GroupedCalibration(errs, np.zeros(n, int), 1), region, 1)
    assert vn[0, 0] < 1e-4 and vr[0, 0] < 1e-4  # both ~0: under 1% of the errors' variance (0.01)


def test_totals_use_nothing_after_the_origin():
    table = simulate_shocks(11, n_areas=60, n_years=12)
    changed = table.copy()
    late = changed["year"] > 2012
    changed.loc[late, "count"] = changed.loc[late, "count"] * 2 + 5  # rewrite the future
    runs = []
    for tab in (table, changed):
        panel = SeriesPanel.from_table(tab, "setting")
        m = PooledTrendModel(dim="setting", growth="mean")
        m.panel_ = panel
        runs.append(backtest_levels(panel, dict(BASELINES, pooled=m.forecast_array), origins=[2012],
                                    horizons=[1, 2], n_draws=200, shock_origins=6))
    cols = ["forecast", "lo80", "hi80", "lo95", "hi95"]
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a[cols].to_numpy(), b[cols].to_numpy())
        assert not np.array_equal(a["actual"].to_numpy(), b["actual"].to_numpy())


def test_smoothing_weight_and_persistence_recover_known_values():
    rng = np.random.default_rng(2)
    for q in (0.25, 1.0, 4.0):
        level = np.cumsum(rng.normal(0, np.sqrt(q) * 0.02, (600, 25)), axis=1)
        lam = smoothing_weight(level + rng.normal(0, 0.02, (600, 25)))
        expected = (-q + np.sqrt(q * q + 4 * q)) / 2
        assert abs(lam - expected) < 0.08, (q, lam, expected)
    g = np.empty((500, 20))
    g[:, 0] = rng.normal(0, 0.05, 500)
    for j in range(1, 20):
        g[:, j] = 0.6 * g[:, j - 1] + rng.normal(0, 0.03, 500)
    assert abs(persistence(g) - 0.6) < 0.05


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["last", "mean", "smoothed", "damped", "accelerating"]),
       h=st.integers(1, 5))
def test_growth_paths_are_finite_and_constant_growth_is_kept(seed, method, h):
    rng = np.random.default_rng(seed)
    G = rng.normal(0.05, 0.03, (4, 8))
    G[rng.random(G.shape) < 0.1] = np.nan
    p = growth_path(G, h, method)
    assert p.shape == (4, h) and np.all(np.isfinite(p))
    const = np.full((3, 8), 0.07)
    expected = 0.07 if method != "damped" else 0.07 * persistence(const) ** np.arange(1, h + 1)
    assert np.allclose(growth_path(const, h, method), expected)


def test_declared_break_is_a_level_shift_not_a_trend():
    # units grow 2% a year, then a reclassification adds 40% in 2017; the total is unaffected
    rng = np.random.default_rng(4)
    n, years = 90, np.arange(2010, 2020)
    base = rng.uniform(50, 400, (n, 1)) * np.exp(0.02 * (years - 2010))[None]
    units = base * np.where(years >= 2017, 1.4, 1.0)[None] * np.exp(rng.normal(0, 0.01, (n, len(years))))
    t = pd.DataFrame({"year": np.tile(years, n), "area": np.repeat([f"A{i:02d}" for i in range(n)], len(years)),
                      "region": np.repeat([f"R{i % 3}" for i in range(n)], len(years)), "setting": "units",
                      "count": units.reshape(-1)})
    brk = pd.DataFrame({"year": [2017], "series": ["units"], "kind": ["reclassification"]})
    panel = SeriesPanel.from_table(t, "setting", breaks=brk)
    assert panel.breaks.sum() == n and panel.breaks[:, list(years).index(2017)].all()
    Y = panel.values
    for origin in (2017, 2018):
        ti = list(years).index(origin)
        with_b = pooled_growth_forecast(Y, ti, 2, panel.group, panel.region, breaks=panel.breaks)
        without = pooled_growth_forecast(Y, ti, 2, panel.group, panel.region, growth="mean")
        g_with = np.log(with_b[:, 1] / Y[:, ti]).mean() / 2
        g_without = np.log(without[:, 1] / Y[:, ti]).mean() / 2
        assert abs(g_with - 0.02) < 0.01  # the 2% trend, not the jump
        assert g_without > 0.07  # fitting through the break carries the jump forward
    # a break in a year outside the panel, or for another series, changes nothing
    other = break_matrix(panel.keys, "setting", panel.years, brk.assign(series="total"))
    assert not other.any()


def test_breaks_table_needs_year_and_series():
    with pytest.raises(Exception, match="year.*series"):
        break_matrix(pd.DataFrame({"area": ["A"], "setting": ["x"]}), "setting", [2017], pd.DataFrame({"y": [1]}))


def test_coverage_by_level_counts_england_and_regions():
    from senforecast.england import load_england_ehcp
    t = load_england_ehcp()
    r = run_england_backtest(t.age[t.age["age_group"] == "total"], origins=[2017, 2018], horizons=[1, 2],
                             n_draws=100)
    c = r.coverage_by_level(models=["pooled_trend"])
    n = c.set_index(["horizon", "level"])["n"]
    assert n[(1, "authority")] == 300 and n[(1, "region")] == 18 and n[(1, "national")] == 2
    # England's total is the sum of the authorities' forecasts and actuals
    tot = r.totals[(r.totals["level"] == "national") & (r.totals["model"] == "pooled_trend")
                   & (r.totals["dependence"] == "shared")]
    f = r.forecasts[r.forecasts["model"] == "pooled_trend"].groupby(["origin", "horizon"])[["actual", "forecast"]].sum()
    merged = tot.set_index(["origin", "horizon"])[["actual", "forecast"]].reindex(f.index)
    assert np.allclose(merged.to_numpy(), f.to_numpy())
    pooled = r.coverage_by_level(models=["pooled_trend"], pool_horizons=True)
    assert set(pooled["horizon"]) == {0} and (pooled["coverage80_lo"] <= pooled["coverage80"]).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), vn=st.floats(0, 0.05), vr=st.floats(0, 0.05), h=st.integers(1, 3))
def test_joint_draws_are_finite_nonnegative_and_seeded(seed, vn, vr, h):
    rng = np.random.default_rng(seed)
    n = 30
    region = rng.integers(0, 4, n)
    size = rng.integers(0, 2000, n).astype(float)
    e = rng.normal(0, 0.1, 5 * n)
    errs = {1: (e, np.tile(size, 5), np.tile(np.arange(n), 5), np.repeat(np.arange(5), n))}
    cal = SharedShockCalibration.fit(errs, np.zeros(n, int), region, 3)
    cal.national[:], cal.regional[:] = vn, vr  # any shock sizes, even above a series' own variance
    point = rng.uniform(0, 500, (n, h))
    a = cal.draws(point, size, 50, np.random.default_rng(seed))
    b = cal.draws(point, size, 50, np.random.default_rng(seed))
    assert a.shape == (50, h, n) and np.array_equal(a, b)
    assert np.all(np.isfinite(a)) and np.all(a >= 0)
