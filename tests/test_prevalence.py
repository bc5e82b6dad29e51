"""Statistical and property tests of the prevalence-rate model and change decomposition."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core.data import LocalAreaData
from senforecast.core.errors import ModelError
from senforecast.models.prevalence import PrevalenceModel, decompose_change
from senforecast.core.scenarios import Scenario

AREAS = ("N", "S", "E")
NEEDS = ("ASD", "SEMH", "SLD", "MLD")
BASE_RATE = {"ASD": 0.012, "SEMH": 0.008, "SLD": 0.002, "MLD": 0.0006}
GROWTH = {"ASD": 0.08, "SEMH": 0.05, "SLD": 0.0, "MLD": -0.03}  # log-rate change per year
AREA_FACTOR = {"N": 1.0, "S": 1.3, "E": 0.7}


def simulate(seed, hist=range(2015, 2025), last=2030, ncys=range(0, 12), overdisp=0.0, pop_scale=1.0,
             extra_growth=None):
    """Census counts from known rates: rate = base(need) * area * (1 + 0.05 ncy) * exp(g(need) t)."""
    rng = np.random.default_rng(seed)
    years = range(min(hist), last + 1)
    pop = pd.DataFrame([(y, a, k, int(pop_scale * (900 + 100 * i) * (1 + 0.01 * (y - 2015))))
                        for y in years for i, a in enumerate(AREAS) for k in ncys],
                       columns=["year", "area", "ncy", "count"])
    P = pop.set_index(["year", "area", "ncy"])["count"]
    rows = []
    for y in years:
        for a in AREAS:
            for k in ncys:
                for n in NEEDS:
                    g = GROWTH[n] + (extra_growth or {}).get((a, n), 0.0)
                    mu = P[(y, a, k)] * BASE_RATE[n] * AREA_FACTOR[a] * (1 + 0.05 * k) \
                        * np.exp(g * (y - 2024))
                    if overdisp:
                        mu = rng.gamma(1 / overdisp, overdisp * mu)
                    rows.append((y, a, k, n, rng.poisson(mu), mu))
    frame = pd.DataFrame(rows, columns=["year", "area", "ncy", "need", "count", "mu"])
    past = frame[frame["year"].isin(list(hist))].drop(columns="mu")
    future = frame[~frame["year"].isin(list(hist))]
    return LocalAreaData(census=past, population=pop, name="synthetic"), future


def _need_trend(model, need):
    names = model.parent_names_
    i = names.index("trend")
    g = model.parent_params_[i]
    var = model.parent_cov_[i, i]
    j = f"trend:need[{need}]"
    if j in names:
        jj = names.index(j)
        g += model.parent_params_[jj]
        var += model.parent_cov_[jj, jj] + 2 * model.parent_cov_[i, jj]
    return g, np.sqrt(var)


@pytest.mark.parametrize("family", ["poisson", "negbin"])
def test_known_trends_recovered_within_intervals(family):
    data, _ = simulate(seed=1, pop_scale=4.0, overdisp=0.02 if family == "negbin" else 0.0)
    m = PrevalenceModel(family=family).fit(data)
    for need, g in GROWTH.items():
        est, se = _need_trend(m, need)
        assert abs(est - g) < 2.58 * se, (need, est, se, g)  # inside the 99% interval
    # level: fitted rate at the last year vs the true rate, authority-wide per need
    fit = m.rates_[m.rates_["year"] == 2024]
    for need in NEEDS:
        f = fit[fit["need"] == need]
        truth = sum(BASE_RATE[need] * AREA_FACTOR[a] * (1 + 0.05 * k) * p for a, k, p in
                    zip(f["area"], f["ncy"], f["population"]))
        assert (f["fitted_rate"] * f["population"]).sum() == pytest.approx(truth, rel=0.1)
    if family == "negbin":
        assert 0.005 < m.alpha_ < 0.06  # over-dispersion 0.02 recovered roughly


def test_interval_coverage_over_simulated_futures():
    """80% intervals of need totals and of cells cover 70-90% of simulated futures."""
    hit_need, hit_cell = [], []
    for rep in range(16):
        data, future = simulate(seed=100 + rep)
        p = PrevalenceModel().fit(data).project(years=[2025, 2026, 2027], n_draws=300, seed=rep)
        s = p.summary(by="need", quantiles=[0.1, 0.9])
        j = s.merge(future.groupby(["need", "year"], as_index=False)["count"].sum(), on=["need", "year"])
        hit_need += ((j["count"] >= j["p10"]) & (j["count"] <= j["p90"])).tolist()
        c = p.summary(by=["area", "ncy", "need"], quantiles=[0.1, 0.9])
        j = c.merge(future, on=["area", "ncy", "need", "year"])
        hit_cell += ((j["count"] >= j["p10"]) & (j["count"] <= j["p90"])).tolist()
    assert 0.70 <= np.mean(hit_need) <= 0.90, np.mean(hit_need)
    # cells are small discrete counts: a closed interval covers a bit more than nominal
    assert 0.75 <= np.mean(hit_cell) <= 0.93, np.mean(hit_cell)


def test_negbin_intervals_cover_overdispersed_data_better_than_poisson():
    hits = {"poisson": [], "negbin": []}
    for rep in range(8):
        data, future = simulate(seed=200 + rep, overdisp=0.15)
        for fam in hits:
            p = PrevalenceModel(family=fam).fit(data).project(years=[2025, 2026], n_draws=300, seed=rep)
            c = p.summary(by=["area", "ncy", "need"], quantiles=[0.1, 0.9])
            j = c.merge(future, on=["area", "ncy", "need", "year"])
            hits[fam] += ((j["count"] >= j["p10"]) & (j["count"] <= j["p90"])).tolist()
    assert np.mean(hits["negbin"]) > np.mean(hits["poisson"]) + 0.03
    assert 0.72 <= np.mean(hits["negbin"]) <= 0.92


def _small_data(cell_counts, other=40):
    """One tiny area x need cell with the given history, plus a bigger parent cell."""
    years = list(range(2019, 2019 + len(cell_counts)))
    rows = [(y, "TINY", 5, "RARE", c) for y, c in zip(years, cell_counts)]
    rows += [(y, a, 5, n, other) for y in years for a in ("TINY", "BIG") for n in ("ASD", "RARE")
             if not (a == "TINY" and n == "RARE")]
    pop = pd.DataFrame([(y, a, 5, 800) for y in range(2019, 2040) for a in ("TINY", "BIG")],
                       columns=["year", "area", "ncy", "count"])
    census = pd.DataFrame(rows, columns=["year", "area", "ncy", "need", "count"])
    return LocalAreaData(census=census, population=pop)


@pytest.mark.parametrize("trend", ["loglinear", "linear", "damped", "none"])
@pytest.mark.parametrize("family", ["poisson", "negbin"])
def test_tiny_cell_never_negative_or_exploding(trend, family):
    data = _small_data([0, 0, 0, 1, 3])  # 0-3 children, steep-looking growth
    p = PrevalenceModel(family=family, trend=trend).fit(data).project(years=10, n_draws=500, seed=3)
    tiny = p.sel(area="TINY", need="RARE")
    assert (tiny.draws >= 0).all()
    assert np.isfinite(tiny.draws).all()
    s = tiny.summary(quantiles=[0.95])
    # a cell that has never had more than 3 children stays within a sane range in 10 years
    assert s["p95"].max() <= 20
    assert s["median"].max() <= 10


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hist=st.lists(st.integers(0, 3), min_size=3, max_size=7), seed=st.integers(0, 2**16),
       trend=st.sampled_from(["loglinear", "linear", "damped", "none"]),
       pooling=st.sampled_from(["partial", "none", "full"]), cell_trends=st.booleans(),
       family=st.sampled_from(["poisson", "negbin"]))
def test_small_counts_property(hist, seed, trend, pooling, cell_trends, family):
    data = _small_data(hist, other=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = PrevalenceModel(family=family, trend=trend, pooling=pooling, cell_trends=cell_trends).fit(data)
        p = m.project(years=8, n_draws=100, seed=seed)
    assert (p.draws >= 0).all() and np.isfinite(p.draws).all()
    # growth capped at max_growth a year: the expected count never exceeds the cap path
    cap = max(hist + [3]) * (1 + m.max_growth) ** 8 * 3 + 10
    assert p.draws.mean(axis=0).max() <= cap
    assert (p.draws <= 800).all()  # never more children with plans than children (max_rate=1)


def test_cell_trends_pick_up_a_local_trend_and_shrink_it():
    # area E's ASD rate grows 12 points a year faster than the authority's ASD
    data, future = simulate(seed=12, pop_scale=3.0, extra_growth={("E", "ASD"): 0.12})
    m = PrevalenceModel(cell_trends=True, trend_by=("need",)).fit(data)
    e_asd = ((m.cells_["area"] == "E") & (m.cells_["need"] == "ASD")).to_numpy()
    parent_asd = _need_trend(m, "ASD")[0]
    cell_slope = parent_asd + m.cell_effects_[e_asd, 1]
    # the cells move towards their true trend (0.20) from the parent's, but are shrunk
    assert 0.08 < parent_asd < 0.14
    assert parent_asd + 0.02 < cell_slope.mean() < 0.20
    others = ((m.cells_["area"] != "E") & (m.cells_["need"] == "ASD")).to_numpy()
    # the other areas' cells stay near the authority-wide ASD trend of 0.08
    assert abs(parent_asd + m.cell_effects_[others, 1].mean() - 0.08) < 0.03
    # and their projections follow the faster growth, unlike a model without cell trends
    grow = {}
    for ct in (True, False):
        p = PrevalenceModel(cell_trends=ct).fit(data).project(years=[2027], n_draws=300, seed=0)
        grow[ct] = p.sel(area="E", need="ASD").total().mean()
    actual = future[(future["year"] == 2027) & (future["area"] == "E") & (future["need"] == "ASD")]["count"].sum()
    assert abs(grow[True] - actual) < abs(grow[False] - actual)


def test_seed_reproduces_draws_and_differs_otherwise():
    data, _ = simulate(seed=5)
    m = PrevalenceModel(family="negbin").fit(data)
    a = m.project(years=3, n_draws=50, seed=42).draws
    b = m.project(years=3, n_draws=50, seed=42).draws
    c = m.project(years=3, n_draws=50, seed=43).draws
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_projection_face_and_cells():
    data, _ = simulate(seed=6)
    p = PrevalenceModel(by=("need", "area")).fit(data).project(years=[2026, 2028], n_draws=20, seed=0)
    assert p.years.tolist() == [2026, 2028]
    assert set(p.cells["ncy"]) == {"ALL"} and set(p.cells["setting"]) == {"ALL"}
    assert len(p.cells) == len(AREAS) * len(NEEDS)
    assert p.history is not None and "count" in p.history


def test_population_drives_counts():
    data, _ = simulate(seed=7)
    m = PrevalenceModel().fit(data)
    pop = data.population.copy()
    doubled = pop.assign(count=pop["count"] * 2)
    base = m.project(years=2, n_draws=400, seed=1).total().mean()
    more = m.project(years=2, population=doubled, n_draws=400, seed=1).total().mean()
    assert more / base == pytest.approx(2.0, rel=0.03)


def test_trend_shapes_order_for_growing_rates():
    data, _ = simulate(seed=8)
    means = {}
    for trend in ["loglinear", "linear", "damped", "none"]:
        p = PrevalenceModel(trend=trend).fit(data).project(years=6, n_draws=300, seed=2)
        means[trend] = p.sel(need="ASD").total().mean(axis=0)[-1]
    # ASD grows 8% a year: compounding > straight line > damped > flat
    assert means["loglinear"] > means["linear"] > means["damped"] > means["none"]


def test_joiner_multiplier_scales_rate_growth():
    data, _ = simulate(seed=9)
    m = PrevalenceModel().fit(data)
    asd = lambda s: m.project(years=5, scenario=s, n_draws=400, seed=4).sel(need="ASD").total().mean(axis=0)
    base, faster, frozen = asd(None), asd(Scenario(joiner_multiplier=1.5)), asd(Scenario(joiner_multiplier=0.0))
    assert faster[-1] > base[-1] > frozen[-1]
    # frozen rates: the count moves only with population (1% a year here)
    last = m.rates_[(m.rates_["year"] == 2024) & (m.rates_["need"] == "ASD")]
    assert frozen[-1] == pytest.approx((last["fitted_rate"] * last["population"]).sum() * 1.01**5 / 1.0,
                                       rel=0.08)


def test_decompose_change_adds_up_and_splits_sensibly():
    data, _ = simulate(seed=10, pop_scale=3.0)
    m = PrevalenceModel().fit(data)
    d = decompose_change(m, years=5, by="need")
    assert np.allclose(d["population_effect"] + d["rate_effect"], d["change"])
    # population grows ~1%/yr, so population effect ~ base * (P_f/P_b - 1) for every need
    asd = d[(d["need"] == "ASD") & (d["year"] == 2029)].iloc[0]
    assert asd["population_effect"] == pytest.approx(asd["base_count"] * (1.14 / 1.09 - 1), rel=0.05)
    assert asd["rate_effect"] > 0  # ASD rate grows
    # the rate effect's share follows the true growth of each need's rate
    end = d[d["year"] == 2029].set_index("need")
    share = end["rate_effect"] / end["base_count"]
    assert share["ASD"] > share["SEMH"] > share["MLD"]
    # from a projection: same identity
    p = m.project(years=3, n_draws=200, seed=0)
    dp = decompose_change(p, population=data.population)
    assert np.allclose(dp["population_effect"] + dp["rate_effect"], dp["change"])


def test_errors_are_plain():
    with pytest.raises(ModelError, match="not fitted"):
        PrevalenceModel().project(years=2)
    data, _ = simulate(seed=11)
    with pytest.raises(ModelError, match="family"):
        PrevalenceModel(family="gaussian").fit(data)
    with pytest.raises(ModelError, match="setting"):
        PrevalenceModel(by=("need", "setting")).fit(data)
    with pytest.raises(ModelError, match="after the last observed census"):
        PrevalenceModel().fit(data).project(years=[2020])


def test_decompose_projection_counts_cells_that_empty_out():
    from senforecast.projection import Projection

    # base year: 10 children in NCY 5 and 4 in NCY 11 (who leave: no NCY 11 cell projected)
    hist = pd.DataFrame({"year": [2024, 2024], "area": "N", "ncy": [5, 11], "count": [10, 4]})
    pop = pd.DataFrame({"year": [2024, 2024, 2025, 2025], "area": "N", "ncy": [5, 11, 5, 11],
                        "count": [100, 100, 120, 100]})
    proj = Projection(np.full((3, 1, 1), 15), [2025], pd.DataFrame({"area": ["N"], "ncy": [5]}), history=hist)
    d = decompose_change(proj, population=pop).iloc[0]
    assert d["base_count"] == 14 and d["projected"] == 15 and d["change"] == 1
    assert d["population_effect"] == pytest.approx(2.0)  # NCY 5: 0.1 * 20; NCY 11: 0.04 * 0
    assert d["rate_effect"] == pytest.approx(-1.0)  # +3 in NCY 5, -4 in NCY 11
