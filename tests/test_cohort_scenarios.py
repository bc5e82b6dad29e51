"""Scenario hooks of the cohort model go the right way and keep every child accounted for."""
import numpy as np
import pytest

from senforecast import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure
from senforecast.core.errors import SenForecastError
from senforecast.models.cohort.model import CohortModel
from senforecast.io.witan import load_witan_demo

N = 300


@pytest.fixture(scope="module")
def model():
    return CohortModel(mode="witan").fit(load_witan_demo())


@pytest.fixture(scope="module")
def base(model):
    return model.project(years=3, n_draws=N, seed=11)


def _conserved(proj, seed_total=2153):
    tot = proj.total().astype(np.int64)
    start = np.concatenate([np.full((proj.n_draws, 1), seed_total), tot[:, :-1]], axis=1)
    j = proj.flows["joiners"].sum(axis=2, dtype=np.int64)
    lv = proj.flows["leavers"].sum(axis=2, dtype=np.int64)
    return np.array_equal(start + j - lv, tot)


def test_joiner_multiplier_scales_new_plans(model, base):
    grown = model.project(years=3, n_draws=N, seed=11, scenario=Scenario("growth", joiner_multiplier=1.5))
    ratio = grown.flows["joiners"].sum() / base.flows["joiners"].sum()
    assert 1.4 < ratio < 1.6
    assert grown.total().mean() > base.total().mean()
    assert _conserved(grown)


def test_joiner_rate_change_for_one_need(model, base):
    sc = Scenario("more Y", rate_changes=(RateChange("joiner", 2.0, need="Y"),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)

    def joiners(proj, need):
        return proj.sel(need=need).flows["joiners"].sum()

    assert 1.8 < joiners(p, "Y") / joiners(base, "Y") < 2.2
    assert 0.9 < joiners(p, "T") / joiners(base, "T") < 1.1


def test_leaver_rate_change_raises_leavers_from_the_setting(model, base):
    sc = Scenario("B leavers x2", rate_changes=(RateChange("leaver", 2.0, setting="B", from_year=2018, to_year=2018),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)
    first = lambda proj: proj.sel(setting="B").flows["leavers"][:, 0].sum()  # noqa: E731
    assert 1.7 < first(p) / first(base) < 2.3
    assert p.sel(setting="B").draws[:, 0].mean() < base.sel(setting="B").draws[:, 0].mean()
    assert _conserved(p)


def test_mover_rate_zero_stops_voluntary_moves(model):
    sc = Scenario("no moves from A", rate_changes=(RateChange("mover", 0.0, setting="A"),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc).sel(setting="A")
    # only children whose state becomes invalid still move (they are routed)
    assert np.array_equal(p.flows["movers"], p.flows["routed"])


def test_closing_a_setting_routes_its_children(model, base):
    sc = Scenario("close F", closures=(SettingClosure("F", from_year=2019),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)
    f = p.sel(setting="F")
    assert f.draws[:, 0].sum() > 0  # still open in 2018
    assert f.draws[:, 1:].sum() == 0  # nobody in F from 2019
    assert f.flows["routed"][:, 1].sum() > 0
    assert _conserved(p)
    # children are not lost: totals stay close to the baseline
    assert abs(p.total()[:, 1:].mean() - base.total()[:, 1:].mean()) < 0.03 * base.total().mean()


def test_redirect_moves_children_into_a_new_base(model, base):
    sc = Scenario("new base", redirects=(Redirect("S", "NB", share=1.0, from_year=2018),),
                  provision_changes=(ProvisionChange("NB", 30, 2018, kind="resource_base", designation="*",
                                                     min_ncy=11, max_ncy=19),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)
    assert _conserved(p)
    nb = p.sel(setting="NB").draws[:, 0].sum(axis=1).astype(int)
    s_base = base.sel(setting="S").draws[:, 0].sum(axis=1).astype(int)
    s_new = p.sel(setting="S").draws[:, 0].sum(axis=1).astype(int)
    # same seed: in the first year the only difference is the redirect, child for child
    assert np.array_equal(s_base - s_new, nb)
    assert nb.sum() > 0
    assert np.array_equal(p.total()[:, 0], base.total()[:, 0])
    assert p.flows["redirected"].sum() > 0


def test_redirect_share_is_respected(model, base):
    sc = Scenario("half", redirects=(Redirect(("A", "B"), "J", share=0.5, include_joiners=True),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)
    moved = p.flows["redirected"][:, 0].sum()
    arrivals = (base.sel(setting=["A", "B"]).flows["joiners"][:, 0].sum())
    assert moved > 0.35 * arrivals  # at least half the joiners (plus movers) were redirected
    assert _conserved(p)


def test_unknown_settings_in_a_scenario_are_named(model):
    with pytest.raises(SenForecastError, match="'ZZ'"):
        model.project(years=1, n_draws=10, scenario=Scenario("x", closures=(SettingClosure("ZZ", 2018),)))
    with pytest.raises(SenForecastError, match="ProvisionChange"):
        model.project(years=1, n_draws=10, scenario=Scenario("x", redirects=(Redirect("S", "NEW", 0.5),)))
    with pytest.raises(SenForecastError, match="need 'Q'"):
        model.project(years=1, n_draws=10, scenario=Scenario("x", rate_changes=(RateChange("leaver", 2, need="Q"),)))


def test_cost_projection_has_intervals(model):
    costs = load_witan_demo().costs
    p = model.project(years=2, n_draws=200, seed=3)
    cost = model.project_cost(costs, years=2, n_draws=200, seed=3)
    s = cost.summary()
    assert (s["p05"] < s["mean"]).all() and (s["mean"] < s["p95"]).all()
    # every demo place costs 1000
    assert np.allclose(cost.total(), p.total() * 1000.0)


def test_redirect_waits_for_the_new_base_to_open(model, base):
    sc = Scenario("late base", redirects=(Redirect("S", "NB", share=1.0),),
                  provision_changes=(ProvisionChange("NB", 30, 2019, designation="*", min_ncy=11, max_ncy=19),))
    p = model.project(years=3, n_draws=N, seed=11, scenario=sc)
    nb = p.sel(setting="NB")
    assert nb.draws[:, 0].sum() == 0  # 2018: not open yet, nobody redirected
    assert nb.draws[:, 1].sum() > 0
    assert np.array_equal(p.total()[:, 0], base.total()[:, 0])
    assert _conserved(p)


def test_scenarios_share_random_numbers_with_the_baseline(model, base):
    # common random numbers: the same seed gives a scenario the baseline's draws wherever its
    # counts agree, so its difference from the baseline is its effect, not simulation noise
    p = model.project(years=3, n_draws=N, seed=11, scenario=Scenario("more", joiner_multiplier=1.1))
    j_base, j_more = base.flows["joiners"][:, 0].sum(1), p.flows["joiners"][:, 0].sum(1)
    assert (j_more >= j_base).all()  # joiner counts by inversion: a higher rate never gives fewer
    diff = p.total()[:, -1].astype(int) - base.total()[:, -1].astype(int)
    assert (diff >= 0).mean() > 0.97
    # paired differences far narrower than the spread of either run
    assert diff.std() < 0.4 * base.total()[:, -1].std()
    same = model.project(years=3, n_draws=N, seed=11, scenario=Scenario("same"))
    assert np.array_equal(same.draws, base.draws)
