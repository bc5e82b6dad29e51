"""Gap analysis: probabilities are direct counts over draws, groups partition demand and places,
out-of-county overflow is consistent with capacity, scenarios that add places help."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import InputWarning, Projection, ProvisionChange, Scenario, SenForecastError
from senforecast.planning.gap import designation_groups, gap_analysis, group_designations, specialist_demand
from senforecast.core.ncy import phase
from senforecast.planning.scenario_compare import compare_scenarios

YEARS = list(range(2026, 2031))
NEEDS = ("ASD", "SLD", "SEMH")
SETTINGS = ("MS", "RB_ASD_N", "RB_SLD_S", "SS", "IND")


def _register():
    return pd.DataFrame({
        "setting": ["RB_ASD_N", "RB_SLD_S", "SS", "IND", "OLA"],
        "name": ["North ASD base", "South SLD base", "All-needs special school", "Independent", "Other LA"],
        "kind": ["resource_base", "resource_base", "special_school", "independent", "other_la"],
        "area": ["N", "S", "S", "X", "X"],
        "min_ncy": [0, 0, 0, 0, 0], "max_ncy": [6, 11, 13, 13, 13],
        "capacity": [20, 15, 55, np.nan, np.nan],
        "designation": ["ASD", "SLD;PMLD", "*", "*", "*"],
        "cost_per_place": [22000, 25000, 35000, 70000, 50000],
    })


def _projection(n_draws=300, seed=3, growth=0.06):
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame([(a, n, need, s) for a in ("N", "S") for n in range(0, 14) for need in NEEDS
                          for s in SETTINGS], columns=["area", "ncy", "need", "setting"])
    base = np.where(cells["setting"] == "MS", 3.0, 0.35)
    base = base * np.where((cells["need"] == "ASD") & (cells["ncy"] <= 6) & (cells["area"] == "N"), 3.0, 1.0)
    mean = base[None, :] * (1 + growth) ** np.arange(len(YEARS))[:, None]
    draws = rng.poisson(mean[None], size=(n_draws, len(YEARS), len(cells)))
    hist = pd.DataFrame({"year": 2025, "setting": ["SS", "RB_ASD_N", "IND", "OLA"], "count": [25, 18, 9, 3]})
    return Projection(draws, YEARS, cells, history=hist)


def _gap(**kw):
    return gap_analysis(_projection(), _register(), kinds={"MS": "mainstream"}, **kw)


@pytest.fixture(scope="module")
def gap():
    return _gap()


def _specialist(proj):
    keep = proj.cells["setting"].isin(["RB_ASD_N", "RB_SLD_S", "SS", "IND"]).to_numpy()
    return proj.draws[:, :, keep], proj.cells[keep].reset_index(drop=True)


def test_probability_of_shortfall_is_a_direct_count(gap):
    draws, cells = _specialist(gap.projection)
    total = draws.sum(axis=2)
    by_year = gap.by_year()
    np.testing.assert_allclose(by_year["capacity"], 90)
    np.testing.assert_allclose(by_year["prob_shortfall"], (total > 90).mean(axis=0))
    np.testing.assert_allclose(by_year["demand_p95"], np.quantile(total, 0.95, axis=0))
    hit = [y for y, p in zip(YEARS, (total > 90).mean(axis=0)) if p >= 0.9]
    assert (by_year["first_year_exceeded"] == hit[0]).all()
    # ASD primary in the north is the ASD designation group with the North base's 20 places
    sel = ((cells["need"] == "ASD") & (cells["ncy"] <= 6) & (cells["area"] == "N")).to_numpy()
    asd = draws[:, :, sel].sum(axis=2)
    row = gap.by_group().query("designation == 'ASD' and phase == 'primary' and area == 'N'")
    np.testing.assert_allclose(row["capacity"], 20)
    np.testing.assert_allclose(row["prob_shortfall"], (asd > 20).mean(axis=0))
    np.testing.assert_allclose(row["spare_median"], np.median(20 - asd, axis=0))
    first = row["first_year_exceeded"].iloc[0]
    hit = [y for y, p in zip(YEARS, (asd > 20).mean(axis=0)) if p >= 0.9]
    assert (pd.isna(first) and not hit) or first == hit[0]


def test_groups_partition_demand_and_places(gap):
    g = gap.by_group().groupby("year")[["demand_mean", "capacity"]].sum()
    t = gap.by_year().set_index("year")
    np.testing.assert_allclose(g["demand_mean"], t["demand_mean"])
    np.testing.assert_allclose(g["capacity"], t["capacity"])
    whole = gap.by_group(by_area=False)
    assert set(whole["area"]) == {"ALL"}
    np.testing.assert_allclose(whole.groupby("year")["demand_mean"].sum(), t["demand_mean"])
    np.testing.assert_allclose(whole.groupby("year")["capacity"].sum(), t["capacity"])
    # SEMH has no specific base, so it is counted under the all-needs special school, and so
    # are ASD children older than the ASD base's age range
    assert designation_groups(_register().iloc[:3]).tolist() == ["ASD", "PMLD;SLD", "*"]
    kids = pd.DataFrame({"need": ["ASD", "ASD", "SLD", "SLD", "SEMH"], "ncy": [4, 9, 9, 13, 2]})
    assert group_designations(kids, _register().iloc[:3]).tolist() == ["ASD", "*", "PMLD;SLD", "*", "*"]


def test_overflow_accounts_for_every_child_and_respects_capacity(gap):
    a = gap.allocation
    total = gap.demand.sum(axis=2)
    np.testing.assert_allclose(a.load.sum(axis=2) + gap.ooc_total, total)
    short = np.clip(total - gap.capacity.sum(axis=1)[None], 0, None)
    assert np.all(gap.ooc_total >= short - 1e-9)  # can't place more than there are places
    np.testing.assert_allclose(gap.ooc_cost, gap.ooc_total * gap.ooc_cost_per_place)
    # roll-weighted out-of-county cost: 9 in IND at 70k, 3 in OLA at 50k
    assert gap.ooc_cost_per_place == pytest.approx((9 * 70000 + 3 * 50000) / 12)
    un = gap.unplaced()
    assert set(un["reason"]) <= {"bases full", "no base for this age", "no base takes this need"}
    assert not (un["ncy"] > 13).any()


def test_starting_point_is_roll_against_capacity(gap):
    sp = gap.starting_point().set_index("setting")
    assert sp.loc["SS", ["capacity", "on_roll", "spare"]].tolist() == [55, 25, 30]
    assert sp.loc["RB_ASD_N", "spare"] == 2 and sp.loc["RB_SLD_S", "on_roll"] == 0
    full = gap.starting_point(out_of_county=True).set_index("setting")
    assert full.loc["IND", "on_roll"] == 9 and np.isnan(full.loc["IND", "spare"])
    assert full.loc["OLA", "yearly_cost"] == 3 * 50000
    assert full.index[:3].tolist() == sp.index.tolist()  # local bases first


def test_base_table_uses_projected_roll(gap):
    b = gap.by_base().query("setting == 'RB_ASD_N'")
    roll = gap.projection.draws[:, :, (gap.projection.cells["setting"] == "RB_ASD_N").to_numpy()].sum(axis=2)
    np.testing.assert_allclose(b["prob_shortfall"], (roll > 20).mean(axis=0))
    np.testing.assert_allclose(b["roll_median"], np.median(roll, axis=0))
    assert (b["allocated_p95"] <= 20).all()


def test_opening_a_base_lowers_out_of_county_and_cost(gap):
    new = ProvisionChange("RB_NEW", 12, 2028, name="New ASD primary", kind="resource_base", area="N",
                          designation="ASD", min_ncy=0, max_ncy=6, cost_per_place=22000)
    better = _gap(scenario=Scenario("new base", provision_changes=(new,)))
    before, after = gap.ooc_total, better.ooc_total
    assert np.all(after <= before + 1e-9)  # adding places never sends more children away
    np.testing.assert_allclose(after[:, :2], before[:, :2], atol=1e-9)  # nothing changes before it opens
    assert after[:, 2:].mean() < before[:, 2:].mean()
    cost_before = gap.ooc_cost + gap.local_cost
    cost_after = better.ooc_cost + better.local_cost
    assert cost_after[:, 2:].mean() < cost_before[:, 2:].mean()
    t = compare_scenarios({"baseline": gap, "new base": better})
    assert set(t["scenario"]) == {"baseline", "new base"}
    nb = t[t["scenario"] == "new base"]
    assert (nb["ooc_change"] <= 0).all() and (nb["ooc_change"].iloc[2:] < 0).any()
    # the change's interval is of the per-draw differences: it holds the median, and adding
    # places never raises anyone's out-of-county count, so even its upper end is not above 0
    lo, hi = (f"ooc_change_p{round(q * 100):02d}" for q in gap.quantiles)
    assert (nb[lo] <= nb["ooc_change"]).all() and (nb["ooc_change"] <= nb[hi]).all() and (nb[hi] <= 0).all()
    d = (better.ooc_total - gap.ooc_total)[:, -1]
    assert nb[lo].iloc[-1] == pytest.approx(np.quantile(d, gap.quantiles[0]))


def test_specialist_share_thins_binomially_and_reproduces():
    n, share, d = 400, 0.3, 2000
    cells = pd.DataFrame({"area": ["ALL"], "ncy": [5], "need": ["ASD"], "setting": ["ALL"]})
    proj = Projection(np.full((d, 1, 1), n), [2027], cells)
    reg = _register()
    demand, _ = specialist_demand(proj, reg, specialist_share=share, seed=11)
    x = demand[:, 0, 0]
    se = np.sqrt(n * share * (1 - share) / d)
    assert abs(x.mean() - n * share) < 4 * se
    assert np.var(x) == pytest.approx(n * share * (1 - share), rel=0.15)
    again, _ = specialist_demand(proj, reg, specialist_share=share, seed=11)
    np.testing.assert_array_equal(demand, again)
    with pytest.raises(SenForecastError, match="specialist_share"):
        specialist_demand(proj, reg)


def test_intervals_cover_about_ninety_percent():
    """p05-p95 of the projected demand is a prediction interval: fresh outcomes from the same
    process fall inside it about 90% of the time."""
    gap = gap_analysis(_projection(n_draws=400, seed=5), _register(), kinds={"MS": "mainstream"},
                       allocate=False)
    truth, cells = _specialist(_projection(n_draws=200, seed=99))
    groups = gap.by_group()
    designation = group_designations(cells, _register().iloc[:3])
    inside = []
    for (des, ph, area), rows in groups.groupby(["designation", "phase", "area"]):
        sel = ((designation == des) & (phase(cells["ncy"].to_numpy()) == ph) & (cells["area"] == area)).to_numpy()
        if not sel.any():
            continue
        t = truth[:, :, sel].sum(axis=2)
        rows = rows.sort_values("year")
        inside.append((t >= rows["demand_p05"].to_numpy()) & (t <= rows["demand_p95"].to_numpy()))
    cover = np.concatenate([i.ravel() for i in inside]).mean()
    assert 0.86 < cover < 0.97  # integer counts make the interval slightly conservative


def test_unknown_settings_warn_and_missing_ncy_raises():
    cells = pd.DataFrame({"area": ["N"], "ncy": [3], "need": ["ASD"], "setting": ["ZZZ"]})
    proj = Projection(np.ones((2, 1, 2)), [2026], pd.concat([cells, cells.assign(setting="SS")]))
    with pytest.warns(InputWarning, match="ZZZ"):
        specialist_demand(proj, _register())
    with pytest.raises(SenForecastError, match="NCY"):
        specialist_demand(Projection(np.ones((2, 1, 1)), [2026], cells[["area", "need", "setting"]]), _register())


def test_children_out_of_county_can_stay_there(gap):
    stay = _gap(ooc_placements="stay")
    draws, cells = _specialist(stay.projection)
    projected_ooc = draws[:, :, (cells["setting"] == "IND").to_numpy()].sum(axis=2)
    np.testing.assert_allclose(stay.allocation.load.sum(axis=2) + stay.ooc_total, stay.demand.sum(axis=2))
    assert np.all(stay.ooc_total >= projected_ooc - 1e-9)
    # offering every child a local place can only lower the number out of county (max flow grows)
    assert np.all(gap.ooc_total <= stay.ooc_total + 1e-9)
    un = stay.unplaced(by=["need"])
    kept = un[un["reason"] == "projected out of county"].groupby("year")["mean"].sum()
    np.testing.assert_allclose(kept.to_numpy(), projected_ooc.mean(axis=0))


@st.composite
def random_register(draw):
    needs = ["ASD", "SLD", "PMLD", "BESD"]
    n = draw(st.integers(1, 5))
    rows = []
    for i in range(n):
        lo = draw(st.integers(0, 10))
        des = draw(st.one_of(st.just("*"), st.lists(st.sampled_from(needs), min_size=1, max_size=3, unique=True)
                             .map(";".join)))
        rows.append({"setting": f"B{i}", "kind": "resource_base", "area": draw(st.sampled_from(["N", "S"])),
                     "capacity": draw(st.integers(0, 30)), "designation": des,
                     "min_ncy": lo, "max_ncy": lo + draw(st.integers(0, 6))})
    return pd.DataFrame(rows)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(random_register())
def test_designation_groups_partition_places_and_children(reg):
    rng = np.random.default_rng(0)
    cells = pd.DataFrame([(a, n, need, "B0") for a in ("N", "S") for n in range(0, 14)
                          for need in ("ASD", "SLD", "PMLD", "BESD", "HI")], columns=["area", "ncy", "need", "setting"])
    proj = Projection(rng.poisson(1.0, size=(20, 2, len(cells))), [2026, 2027], cells)
    gap = gap_analysis(proj, reg, allocate=False)
    t = gap.by_year().set_index("year")
    for by_area in (True, False):
        g = gap.by_group(by_area=by_area).groupby("year")[["demand_mean", "capacity"]].sum()
        np.testing.assert_allclose(g["demand_mean"], t["demand_mean"])
        np.testing.assert_allclose(g["capacity"], t["capacity"])
    # a child is counted under the group of the bases that can take them, when there are any
    from senforecast.planning.allocation import eligibility
    elig = eligibility(gap.groups, gap.bases)
    labels = gap.bases["designation_group"].to_numpy()
    for k in np.flatnonzero(elig.any(axis=1)):
        assert gap.groups["designation"].iloc[k] in set(labels[elig[k]])


def test_kinds_override_applies_to_demand_and_cost():
    reg = pd.concat([_register(), pd.DataFrame({"setting": ["OLA-MS"], "name": ["Mainstream schools in other LAs"],
                                                 "kind": ["other_la"], "capacity": [np.nan],
                                                 "cost_per_place": [9000]})], ignore_index=True)
    proj = _projection(n_draws=50)
    hist = pd.concat([proj.history, pd.DataFrame({"year": [2025], "setting": ["OLA-MS"], "count": [30]})])
    proj = Projection(proj.draws, proj.years, proj.cells, history=hist)
    with pytest.warns(InputWarning, match="OLA-MS"):
        gap_analysis(proj, reg, kinds={"MS": "mainstream"}, allocate=False)
    g = gap_analysis(proj, reg, kinds={"MS": "mainstream", "OLA-MS": "mainstream"})
    assert g.ooc_cost_per_place == pytest.approx((9 * 70000 + 3 * 50000) / 12)  # OLA-MS not in the average


class _GrowthModel:
    """Stand-in for a fitted model: projects more children under a scenario's joiner growth."""

    def __init__(self):
        self.calls = []

    def project(self, years, scenario=None, n_draws=100, seed=None):
        self.calls.append((years, scenario.name, n_draws, seed))
        rng = np.random.default_rng(seed)
        cells = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 3], "need": ["ASD", "ASD"],
                              "setting": ["RB_ASD_N", "IND"]})
        lam = np.array([50.0, 30.0]) * scenario.joiner_multiplier  # 75 places can take them
        return Projection(rng.poisson(lam, size=(n_draws, years, 2)), list(range(2026, 2026 + years)), cells)


def test_compare_scenarios_runs_each_scenario_through_the_model():
    model = _GrowthModel()
    growth = Scenario("growth", joiner_multiplier=1.5)
    more = Scenario("more places", provision_changes=(ProvisionChange("RB_ASD_N", 30, 2027),))
    t = compare_scenarios([Scenario(), growth, more], _register(), model=model, years=3, n_draws=200, seed=4)
    assert [c[1] for c in model.calls] == ["baseline", "growth", "more places"]
    assert all(c[3] == 4 for c in model.calls)  # same seed: paired draws
    by = t.set_index(["scenario", "year"])
    assert (by.loc["growth", "ooc_median"] > by.loc["baseline", "ooc_median"]).all()
    assert (by.loc["more places", "ooc_change"].loc[2027:] < 0).all()
    assert (by.loc["more places", "ooc_change"].loc[2026] == 0)
    wide = compare_scenarios([Scenario(), growth], _register(), model=model, years=3, n_draws=50, wide=True)
    assert ("ooc_median", "growth") in wide.columns
    with pytest.raises(SenForecastError, match="renamed"):
        compare_scenarios([Scenario(), Scenario()], _register(), model=model, years=3)


def test_warns_when_demand_side_scenario_was_not_projected():
    proj = _projection(n_draws=20)
    proj = Projection(proj.draws, proj.years, proj.cells, history=proj.history, meta={"scenario": "baseline"})
    growth = Scenario("growth", joiner_multiplier=1.2)
    with pytest.warns(InputWarning, match="changes demand"):
        gap_analysis(proj, _register(), kinds={"MS": "mainstream"}, scenario=growth, allocate=False)


def test_small_integer_draws_do_not_overflow():
    """Models may store draws as int16; sums over cells must not wrap around."""
    cells = pd.DataFrame({"area": ["N"] * 3, "ncy": [3] * 3, "need": ["ASD"] * 3, "setting": ["SS"] * 3})
    proj = Projection(np.full((2, 1, 3), 30000, dtype=np.int16), [2026], cells)
    demand, _ = specialist_demand(proj, _register())
    assert demand.sum() == 2 * 90000
