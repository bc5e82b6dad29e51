"""Tests of the rolling-origin backtest, model comparison and ensembles."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from senforecast.evaluation import metrics
from senforecast.evaluation.backtest import BacktestResult, backtest, compare_models, ensemble, truncate_data
from senforecast.core.data import NO_PLAN, LocalAreaData
from senforecast.core.errors import ModelError
from senforecast.models.baselines import LastValue, LinearTrend, observed_counts
from senforecast.models.prevalence import PrevalenceModel
from senforecast.projection import Projection


class ConstantModel:
    """A user model with the common face: always projects ``value`` children (no noise)."""

    def __init__(self, value: float, spread: float = 0.0):
        self.value = value
        self.spread = spread

    def fit(self, data):
        self.last_year_ = int(observed_counts(data, ["need"])["year"].max())
        return self

    def project(self, years=3, population=None, scenario=None, n_draws=100, seed=None):
        ys = list(years) if not isinstance(years, int) else list(range(self.last_year_ + 1, self.last_year_ + 1 + years))
        # draws evenly spread over value +- spread, identical each year
        d = np.linspace(self.value - self.spread, self.value + self.spread, n_draws)
        draws = np.broadcast_to(d[:, None, None], (n_draws, len(ys), 1)).copy()
        return Projection(draws, ys, pd.DataFrame({"need": ["ASD"]}))


def one_cell(counts, start=2015):
    return LocalAreaData(census=pd.DataFrame({"year": range(start, start + len(counts)), "area": "N",
                                              "ncy": 5, "need": "ASD", "count": counts}))


def test_truncate_data_keeps_only_the_past():
    plans = pd.DataFrame({"pupil_id": ["a"] * 4, "year": [2020, 2021, 2022, 2023], "ncy": [1, 2, 3, 4],
                          "need": "ASD", "setting": "MS", "area": "N"})
    tr = pd.DataFrame({"year": [2020, 2021, 2022], "area": "N", "ncy_from": [1, 2, 3], "need_from": "ASD",
                       "setting_from": "MS", "ncy_to": [2, 3, 4], "need_to": "ASD", "setting_to": "MS",
                       "kind": "stayer", "count": 1})
    pop = pd.DataFrame({"year": [2020, 2030], "area": "N", "ncy": 1, "count": [10, 20]})
    d = truncate_data(LocalAreaData(plans=plans, transitions=tr, population=pop), 2021)
    assert d.plans["year"].max() == 2021
    assert d.transitions["year"].tolist() == [2020]  # 2020 -> 2021 is known at the 2021 census
    assert d.population["year"].max() == 2030  # population kept whole (documented)


def test_metrics_hand_checked_with_a_constant_model():
    data = one_cell([10, 12, 14, 16, 18, 20])
    res = backtest(ConstantModel(15.0), data, origins=[2017, 2018], horizons=[1, 2], by=["total", "need"],
                   n_draws=101)
    assert res.skipped == ["need"]  # one need in the data: it equals the total
    s = res.scores.set_index("horizon")
    # horizon 1: actuals 16 (2018) and 18 (2019) vs 15 -> errors 1, 3
    assert s.loc[1, "mae"] == pytest.approx(2.0)
    assert s.loc[1, "wape"] == pytest.approx(4 / 34)
    assert s.loc[1, "bias"] == pytest.approx((30 - 34) / 34)
    assert s.loc[1, "mape"] == pytest.approx((1 / 16 + 3 / 18) / 2)
    # horizon 2: actuals 18 (2019), 20 (2020)
    assert s.loc[2, "mae"] == pytest.approx(4.0)
    # a point forecast has CRPS = absolute error, and no coverage unless exact
    assert s.loc[1, "crps"] == pytest.approx(2.0)
    assert s.loc[1, "coverage80"] == 0.0
    # with spread +-5 the 80% interval (11..19) covers 16 and 18 but not 20 at horizon 2
    wide = backtest(ConstantModel(15.0, spread=5.0), data, origins=[2017, 2018], horizons=[1, 2],
                    by=["total"], n_draws=1001).scores.set_index("horizon")
    assert wide.loc[1, "coverage80"] == 1.0 and wide.loc[2, "coverage80"] == 0.5
    # and crps matches the library metric on the same draws
    f = res.forecasts
    assert f["crps"].iloc[0] == pytest.approx(metrics.crps_draws([f["actual"].iloc[0]], np.full((101, 1), 15.0)))


def test_backtest_leaves_the_model_unfitted_and_lists_origins():
    data = one_cell([10, 12, 14, 16, 18, 20])
    m = LastValue()
    res = backtest(m, data, horizons=[1, 2], by=["total"], n_draws=50)
    assert not hasattr(m, "counts_")
    assert res.origins == [2017, 2018, 2019]
    assert isinstance(res, BacktestResult)
    assert set(res.forecasts["origin"]) == {2017, 2018, 2019}
    # the last origin only has a horizon-1 actual
    assert len(res.forecasts[res.forecasts["origin"] == 2019]) == 1
    with pytest.raises(ModelError, match="no origin"):
        backtest(m, one_cell([1, 2]), by=["total"])


def synthetic_growth(seed, n_years=13, growth=0.08, scale=3):
    """Plans data where the rate per head grows log-linearly and cohorts of population swing."""
    rng = np.random.default_rng(seed)
    rows, pop = [], []
    for i, y in enumerate(range(2012, 2012 + n_years)):
        for area, base in (("N", 1200 * scale), ("S", 800 * scale)):
            for k in range(0, 12):
                # big and small cohorts move up the years, and the whole population swings
                P = int(base * (1 + 0.15 * np.sin(0.8 * i - 0.8 * k)) * (1 + 0.1 * np.sin(0.7 * i)))
                pop.append((y, area, k, P))
                for need, r in (("ASD", 0.01), ("SEMH", 0.006)):
                    c = rng.poisson(P * r * np.exp(growth * (i - n_years + 1)))
                    setting = "MS" if k < 7 else "SS"
                    rows += [(f"{area}{k}{need}{y}-{j}", y, k, need, setting, area) for j in range(c)]
    plans = pd.DataFrame(rows, columns=["pupil_id", "year", "ncy", "need", "setting", "area"])
    return LocalAreaData(plans=plans, population=pd.DataFrame(pop, columns=["year", "area", "ncy", "count"]))


def test_compare_models_ranks_the_true_model_first():
    data = synthetic_growth(seed=1)
    table = compare_models(
        {"prevalence (log-linear)": PrevalenceModel(),
         "prevalence (flat)": PrevalenceModel(trend="none"),
         "last value": LastValue(), "linear trend": LinearTrend(3)},
        data, horizons=[1, 3], by=["total", "need"], n_draws=300, metric="crps",
        origins=[2018, 2019, 2020, 2021])
    for (grouping, h), t in table.groupby(["grouping", "horizon"]):
        assert t.iloc[0]["model"] == "prevalence (log-linear)", (grouping, h, t[["model", "crps"]])
        assert t.iloc[0]["skill"] > 0
    assert set(table["model"]) == {"prevalence (log-linear)", "prevalence (flat)", "last value", "linear trend"}


def test_prevalence_backtest_coverage_and_skipped_setting():
    data = synthetic_growth(seed=2)
    res = backtest(PrevalenceModel(), data, horizons=[1, 2], n_draws=300)
    assert res.skipped == ["setting"]
    cells = res.scores[res.scores["grouping"] == "ncy"]
    assert ((cells["coverage80"] > 0.6) & (cells["coverage80"] <= 1.0)).all()
    # the setting grouping is scored for a model that has settings
    assert "setting" in set(backtest(LastValue(), data, horizons=[1], n_draws=50).scores["grouping"])


def test_compare_accepts_results_and_adds_baselines():
    data = one_cell([100, 110, 120, 130, 140, 150, 160, 170])
    res = backtest(ConstantModel(150.0, 5.0), data, horizons=[1], by=["total"], name="mine")
    t = compare_models({"mine": res}, data, horizons=[1], n_draws=100)
    assert set(t["model"]) == {"mine", "naive: last value", "naive: linear trend (3)"}
    assert t.loc[t["model"] == "naive: linear trend (3)", "rank"].iloc[0] == 1
    with pytest.raises(ModelError, match="metric"):
        compare_models({"mine": res}, metric="coverage80")


def test_ensemble_is_a_weighted_mixture_of_whole_draws():
    cells_a = pd.DataFrame({"area": ["N", "N"], "ncy": [1, 1], "need": ["ASD", "SLD"], "setting": ["MS", "SS"]})
    cells_b = pd.DataFrame({"area": ["N"], "ncy": [1], "need": ["ASD"], "setting": ["ALL"]})
    rng = np.random.default_rng(0)
    a = Projection(rng.poisson(10, (200, 2, 2)), [2025, 2026], cells_a)
    b = Projection(rng.poisson(30, (100, 3, 1)), [2025, 2026, 2027], cells_b)
    e = ensemble({"a": a, "b": b}, weights={"a": 1, "b": 3}, n_draws=4000, seed=1)
    assert e.years.tolist() == [2025, 2026]  # shared years
    assert set(e.cells["setting"]) == {"ALL"}  # b has no settings, so the mixture neither
    asd = e.sel(need="ASD").draws[:, 0, 0]
    assert asd.mean() == pytest.approx(0.25 * 10 + 0.75 * 30, rel=0.03)
    # every ensemble draw is a whole draw of one member: SLD is zero exactly when from b
    sld = e.sel(need="SLD").draws[:, 0, 0]
    from_b = sld == 0
    assert from_b.mean() == pytest.approx(0.75, abs=0.03)
    assert asd[from_b].mean() == pytest.approx(30, rel=0.03)
    again = ensemble({"a": a, "b": b}, weights={"a": 1, "b": 3}, n_draws=4000, seed=1)
    assert np.array_equal(e.draws, again.draws)
    with pytest.raises(ModelError, match="weight"):
        ensemble([a, b], weights=[1, -1])


def test_backtest_on_transitions_data():
    # a witan-like table: stock comes from the 'from' side, last census from the 'to' side
    rows = []
    for y in range(2014, 2020):
        for k in range(3, 8):
            n = 10 + (y - 2014)
            rows.append((y, "ALL", k, "T", "A", k + 1, "T", "A", "stayer", n))
            rows.append((y, "ALL", k, NO_PLAN, NO_PLAN, k + 1, "T", "A", "joiner", 1))
    tr = pd.DataFrame(rows, columns=["year", "area", "ncy_from", "need_from", "setting_from", "ncy_to",
                                     "need_to", "setting_to", "kind", "count"])
    res = backtest(LinearTrend(3), LocalAreaData(transitions=tr), horizons=[1], by=["total"], n_draws=50)
    assert res.origins == [2016, 2017, 2018, 2019]
    assert (res.forecasts["actual"] > 0).all()


def test_backtest_result_plots_with_agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = one_cell([10, 12, 14, 16, 18, 20])
    res = backtest(LinearTrend(3), data, horizons=[1, 2], by=["total"], n_draws=50)
    fig = res.plot()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "Actual" and len(labels) == 1 + len(res.origins)
    plt.close(fig)
    with pytest.raises(ModelError, match="no backtest rows"):
        res.plot("need", "ASD")


def test_ensemble_model_backtests_like_any_model():
    from senforecast.evaluation.backtest import EnsembleModel

    data = synthetic_growth(seed=3, n_years=8)
    ens = EnsembleModel({"prev": PrevalenceModel(), "last": LastValue()}, weights={"prev": 1, "last": 1})
    res = backtest(ens, data, horizons=[1], by=["total", "need"], n_draws=200)
    assert res.skipped == []
    f = res.forecasts[res.forecasts["grouping"] == "total"]
    # the mixture's mean lies between its members' means
    parts = [backtest(m, data, horizons=[1], by=["total"], n_draws=200).forecasts for m in
             (PrevalenceModel(), LastValue())]
    lo = np.minimum(parts[0]["mean"].to_numpy(), parts[1]["mean"].to_numpy())
    hi = np.maximum(parts[0]["mean"].to_numpy(), parts[1]["mean"].to_numpy())
    assert ((f["mean"].to_numpy() >= lo - 0.05 * hi) & (f["mean"].to_numpy() <= hi * 1.05)).all()
