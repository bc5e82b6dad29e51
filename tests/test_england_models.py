"""Pooled trend and age-flow models on simulated panels; backtest metrics by hand."""
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from senforecast.england import AgeFlowModel, PooledTrendModel, run_england_backtest
from senforecast.evaluation.england import BASELINES, backtest_panel, last_value, linear_trend_3
from senforecast.models.panel.flow import flow_rates
from senforecast.models.panel.pooled import pooled_growth_forecast, shrinkage_weight
from senforecast.models.panel.series import SeriesPanel


def simulate(n_areas=300, n_years=12, tau=0.04, sigma=0.04, seed=0, size=(200, 3000)):
    """Counts whose log growth = national + region + persistent own + noise (known parameters)."""
    rng = np.random.default_rng(seed)
    nat = rng.normal(0.06, 0.02, n_years - 1)
    region = rng.integers(0, 9, n_areas)
    reg_dev = rng.normal(0, 0.02, 9)
    own = rng.normal(0, tau, n_areas)
    g = nat[None] + reg_dev[region][:, None] + own[:, None] + rng.normal(0, sigma, (n_areas, n_years - 1))
    L0 = np.log(rng.uniform(*size, n_areas))
    Y = np.exp(np.concatenate([L0[:, None], L0[:, None] + np.cumsum(g, axis=1)], axis=1))
    return Y, region, own, reg_dev, nat


def to_table(Y, region, first_year=2010):
    n, y = Y.shape
    return pd.DataFrame({"year": np.tile(np.arange(first_year, first_year + y), n),
                         "area": np.repeat([f"A{i:03d}" for i in range(n)], y),
                         "region": np.repeat([f"R{r}" for r in region], y),
                         "setting": "total", "count": np.round(Y.reshape(-1))})


def test_shrinkage_weight_recovers_signal_share():
    rng = np.random.default_rng(3)
    for tau, sigma in [(0.05, 0.05), (0.02, 0.06), (0.06, 0.02)]:
        dev = rng.normal(0, tau, (2000, 1)) + rng.normal(0, sigma, (2000, 6))
        expected = tau**2 / (tau**2 + sigma**2 / 3)
        assert abs(shrinkage_weight(dev, window=3) - expected) < 0.06


def test_pooled_growth_recovers_true_growth_better_than_own_trend():
    Y, region, own, reg_dev, nat = simulate(tau=0.03, sigma=0.06, seed=1)
    t = Y.shape[1] - 2
    group = np.zeros(len(Y), int)
    pooled = pooled_growth_forecast(Y, t, 1, group, region)[:, 0]
    unpooled = pooled_growth_forecast(Y, t, 1, group, region, pooling="none")[:, 0]
    # the expected log growth next year given the truth (noise has mean 0)
    true_g = nat[t] + reg_dev[region] + own
    err_p = np.log(pooled + 1) - np.log(Y[:, t] + 1) - true_g
    err_u = np.log(unpooled + 1) - np.log(Y[:, t] + 1) - true_g
    # both use the latest national growth; pooled removes most of the noise in own deviations
    common = np.mean(err_p)
    assert np.sqrt(np.mean((err_p - common) ** 2)) < 0.7 * np.sqrt(np.mean((err_u - np.mean(err_u)) ** 2))
    # regional deviations are recovered: mean error by region near the common offset
    by_region = pd.Series(err_p - common).groupby(region).mean()
    assert by_region.abs().max() < 0.02


def test_pooled_intervals_cover_at_nominal_rates_on_simulated_data():
    covered80, covered95, n = 0, 0, 0
    for seed in range(3):
        Y, region, *_ = simulate(n_areas=400, n_years=13, seed=10 + seed)
        table = to_table(Y, region)
        hist = table[table["year"] <= 2021]
        m = PooledTrendModel(dim="setting").fit(hist)
        p = m.project(years=1, n_draws=1000, seed=seed)
        s = p.summary(by="area", quantiles=[0.025, 0.1, 0.9, 0.975])
        actual = table[table["year"] == 2022].set_index("area")["count"].reindex(s["area"]).to_numpy()
        covered80 += np.sum((actual >= s["p10"]) & (actual <= s["p90"]))
        covered95 += np.sum((actual >= s["p2.5"]) & (actual <= s["p97.5"]))
        n += len(actual)
    assert 0.74 <= covered80 / n <= 0.86
    assert 0.91 <= covered95 / n <= 0.985


def test_flow_rates_and_bulge_reaches_next_group():
    rng = np.random.default_rng(5)
    n, years = 200, 10
    stay = np.array([0.7, 0.8, 0.75])
    up = np.array([0.0, 0.12, 0.15])
    N = np.zeros((n, 3, years))
    N[:, :, 0] = rng.uniform(50, 300, (n, 3))
    for y in range(years - 1):
        inflow = rng.uniform(20, 80, (n, 3)) * np.array([1.0, 0.4, 0.3])  # new plans, area-specific
        N[:, :, y + 1] = stay * N[:, :, y] + up * np.concatenate([np.zeros((n, 1)), N[:, :-1, y]], axis=1)
        N[:, 0, y + 1] += inflow[:, 0]
        N[:, 1:, y + 1] += inflow[:, 1:] * 0.2
    s_hat, u_hat = flow_rates(N, years - 2)
    assert abs(u_hat[1] - 0.12) < 0.08 and abs(u_hat[2] - 0.15) < 0.08
    # a bulge: areas with many young children this year get more in the next group later
    groups = ["0-4", "5-10", "11-15"]
    rows = []
    for i in range(n):
        for gi, g in enumerate(groups):
            for y in range(years):
                rows.append((2010 + y, f"A{i}", g, N[i, gi, y]))
    table = pd.DataFrame(rows, columns=["year", "area", "age_group", "count"])
    m = AgeFlowModel().fit(table)
    p = m.project(years=2, n_draws=50, seed=0).summary(by=["area", "age_group"])
    f = p[(p["age_group"] == "11-15") & (p["year"] == 2021)].set_index("area")["mean"]
    young = pd.Series(N[:, 1, -1] / N[:, 2, -1], index=[f"A{i}" for i in range(n)])
    growth = f / pd.Series(N[:, 2, -1], index=young.index)
    assert np.corrcoef(young.reindex(growth.index), growth)[0, 1] > 0.3


def test_backtest_metrics_match_hand_computation():
    # two authorities, 6 years; origin 2014 with horizon 1 -> target 2015
    table = pd.DataFrame({"year": list(range(2010, 2016)) * 2, "area": ["A"] * 6 + ["B"] * 6,
                          "setting": "total", "count": [10, 12, 14, 16, 18, 21, 100, 100, 100, 100, 100, 90.0]})
    panel = SeriesPanel.from_table(table, "setting")
    fc = backtest_panel(panel, {"last_value": last_value, "linear_3": linear_trend_3}, origins=[2014], horizons=[1])
    lv = fc[fc["model"] == "last_value"].set_index("area")
    assert lv.loc["A", "forecast"] == 18 and lv.loc["B", "forecast"] == 100
    l3 = fc[fc["model"] == "linear_3"].set_index("area")
    assert l3.loc["A", "forecast"] == 20 and l3.loc["B", "forecast"] == 100
    # WAPE by hand: last value |21-18| + |90-100| = 13 over 111; linear 3: 1 + 10 = 11 over 111
    from senforecast.evaluation.engine import score
    s_lv, s_l3 = score(lv, ["model"]).iloc[0], score(l3, ["model"]).iloc[0]
    assert abs(s_lv["wape"] - 13 / 111) < 1e-12 and abs(s_l3["wape"] - 11 / 111) < 1e-12
    assert abs(s_lv["bias"] - (18 + 100 - 111) / 111) < 1e-12


def test_england_backtest_runs_and_pooled_beats_naive_on_total():
    from senforecast.england import load_england_ehcp
    t = load_england_ehcp()
    r = run_england_backtest(t.age, t.setting, n_draws=0)  # totals are checked in test_england_calibration
    v = r.versus_best_naive(["pooled_trend"])
    total = v[v["target"] == "total"].set_index("horizon")
    assert set(total.index) == {1, 2, 3}
    assert (total["n"] == 600).all()  # 150 areas x 4 origins
    assert (total["improvement"] > 0).all()
    assert set(BASELINES) <= set(r.scores["model"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), h=st.integers(1, 4))
def test_forecasts_nonnegative_and_seeded_draws_reproduce(seed, h):
    rng = np.random.default_rng(seed)
    Y = rng.poisson(rng.uniform(0, 30, (40, 1)) * rng.uniform(0.3, 2, (40, 8))).astype(float)
    region = rng.integers(0, 3, 40)
    f = pooled_growth_forecast(Y, 7, h, np.zeros(40, int), region)
    assert np.all(f >= 0) and np.all(np.isfinite(f))
    table = to_table(Y, region)
    m = PooledTrendModel(dim="setting").fit(table)
    a = m.project(years=h, n_draws=20, seed=seed).draws
    b = m.project(years=h, n_draws=20, seed=seed).draws
    assert np.array_equal(a, b) and np.all(a >= 0)


def test_backtest_uses_nothing_after_the_origin():
    Y, region, *_ = simulate(n_areas=60, n_years=10, seed=7)
    table = to_table(Y, region)
    changed = table.copy()
    late = changed["year"] > 2015
    changed.loc[late, "count"] = changed.loc[late, "count"] * 3 + 7  # rewrite the future
    cols = ["forecast", "lo80", "hi80", "lo95", "hi95"]
    runs = []
    for tab in (table, changed):
        panel = SeriesPanel.from_table(tab, "setting")
        m = PooledTrendModel(dim="setting")
        m.panel_ = panel
        runs.append(backtest_panel(panel, dict(BASELINES, pooled=m.forecast_array), origins=[2015], horizons=[1, 2]))
    assert np.array_equal(runs[0][cols].to_numpy(), runs[1][cols].to_numpy())
    assert not np.array_equal(runs[0]["actual"].to_numpy(), runs[1]["actual"].to_numpy())


def test_share_of_total_keeps_parts_consistent_with_the_total():
    # parts with constant shares of a growing total: the share model reproduces the total's growth
    rng = np.random.default_rng(2)
    n, years = 80, 8
    total = rng.uniform(500, 3000, (n, 1)) * np.exp(0.08 * np.arange(years))[None]
    share = rng.uniform(0.1, 0.4, (n, 1))
    rows = []
    for name, vals in (("total", total), ("special_school", total * share)):
        for i in range(n):
            for y in range(years):
                rows.append((2010 + y, f"A{i}", f"R{i % 4}", name, vals[i, y]))
    table = pd.DataFrame(rows, columns=["year", "area", "region", "setting", "count"])
    m = PooledTrendModel(dim="setting", share_of="total").fit(table)
    f = m.forecast_array(m.panel_.values, years - 1, 2)
    keys = m.panel_.keys
    is_part = (keys["setting"] == "special_school").to_numpy()
    part, whole = f[is_part], f[(keys["setting"] == "total").to_numpy()]
    order = [int(a[1:]) for a in keys.loc[is_part, "area"]]  # panel rows are sorted by area name
    assert np.allclose(part / whole, share[order], rtol=0.01)
    assert np.allclose(whole[:, 0] / total[order, -1], np.exp(0.08), rtol=0.005)


def test_specialist_total_adds_the_three_specialist_settings():
    from senforecast.evaluation.england import specialist_total
    from senforecast.england import load_england_ehcp
    s = load_england_ehcp().setting
    spec = specialist_total(s).set_index(["year", "area"])["count"]
    parts = s[s["setting"].isin(["special_school", "resourced_provision_unit", "independent"])]
    by_hand = parts.groupby(["year", "area"])["count"].sum()
    assert np.allclose(spec.reindex(by_hand.index), by_hand)


def test_population_turns_the_trend_into_prevalence_times_projection():
    # prevalence grows 5% a year everywhere; population is flat, then jumps 20% in the projection
    rng = np.random.default_rng(4)
    n, years = 50, 8
    pop_hist = rng.uniform(20_000, 80_000, (n, 1)) * np.ones((1, years))
    rate = rng.uniform(2, 6, (n, 1)) / 1000 * np.exp(0.05 * np.arange(years))[None]
    count = rate * pop_hist
    areas = [f"A{i:02d}" for i in range(n)]
    table = pd.DataFrame({"year": np.tile(np.arange(2010, 2010 + years), n), "area": np.repeat(areas, years),
                          "setting": "total", "count": count.reshape(-1)})
    pop = pd.DataFrame({"year": np.tile(np.arange(2010, 2010 + years + 1), n), "area": np.repeat(areas, years + 1),
                        "count": np.concatenate([pop_hist, pop_hist[:, :1] * 1.2], axis=1).reshape(-1)})
    m = PooledTrendModel(dim="setting").fit(table, population=pop)
    s = m.project(years=1, n_draws=400, seed=0).summary(by="area").set_index("area")["median"]
    expected = pd.Series(count[:, -1] * np.exp(0.05) * 1.2, index=areas)
    assert np.allclose(s.reindex(areas), expected, rtol=0.02)
    without = PooledTrendModel(dim="setting").fit(table).project(years=1, n_draws=400, seed=0)
    ratio = s.sum() / without.summary()["median"].iloc[0]
    assert abs(ratio - 1.2) < 0.03  # the population jump is only seen when population is given


def test_england_facade_keeps_the_public_names_and_points_at_the_layers():
    import senforecast.england as facade
    from senforecast.datasets import england as datasets_england
    from senforecast.evaluation import england as evaluation_england
    from senforecast.io import england as io_england
    from senforecast.models import panel

    # every name the package exported before it moved into the layers
    before = {"AGE_GROUPS", "SINGLE_AGES", "NEEDS", "CODE_FIXES", "SETTINGS", "SPECIALIST_SETTINGS", "EHCPTables",
              "detect_layout", "read_ehcp", "find_code_changes", "harmonise_areas", "stable_area_map",
              "build_extract", "load_england_ehcp", "PooledTrendModel", "AgeFlowModel", "BASELINES",
              "BacktestResult", "run_england_backtest", "SERIES_BREAKS", "GROWTH_MODELS", "SharedShockCalibration"}
    assert before <= set(facade.__all__)
    assert all(hasattr(facade, n) for n in facade.__all__)
    assert facade.read_ehcp is io_england.read_ehcp
    assert facade.load_england_ehcp is datasets_england.load_england_ehcp
    assert facade.PooledTrendModel is panel.PooledTrendModel and facade.AgeFlowModel is panel.AgeFlowModel
    assert facade.run_england_backtest is evaluation_england.run_england_backtest
