"""The allocation LP is exact: it matches brute force on small cases, conserves every child,
respects designation, age range and capacity, and class aggregation changes nothing."""
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.planning.allocation import (
    REASON_FULL, REASON_NO_AGE, REASON_NO_NEED, allocate, eligibility, placement_cost, solve_transport,
)
from senforecast.planning.capacity import capacity_timeline


def _brute_force(demand, capacity, eligible, cost):
    """Best (fewest out of county, then cheapest) integer allocation by enumeration."""
    n_g, n_b = eligible.shape
    options = []
    for g in range(n_g):
        arcs = [b for b in range(n_b) if eligible[g, b]]
        rows = []
        for split in itertools.product(range(int(demand[g]) + 1), repeat=len(arcs)):
            if sum(split) <= demand[g]:
                row = np.zeros(n_b)
                row[arcs] = split
                rows.append(row)
        options.append(rows)
    best = None
    for combo in itertools.product(*options):
        x = np.array(combo)
        if np.any(x.sum(axis=0) > capacity):
            continue
        key = (demand.sum() - x.sum(), float((x * cost).sum()))
        if best is None or key < best:
            best = key
    return best


@st.composite
def small_case(draw):
    n_g = draw(st.integers(1, 3))
    n_b = draw(st.integers(1, 2 if n_g == 3 else 3))
    demand = np.array(draw(st.lists(st.integers(0, 3), min_size=n_g, max_size=n_g)), float)
    capacity = np.array(draw(st.lists(st.integers(0, 4), min_size=n_b, max_size=n_b)), float)
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n_g * n_b, max_size=n_g * n_b))).reshape(n_g, n_b)
    cost = np.array(draw(st.lists(st.integers(1, 4), min_size=n_g * n_b, max_size=n_g * n_b)), float)
    return demand, capacity, eligible, cost.reshape(n_g, n_b)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(small_case())
def test_lp_matches_brute_force(case):
    demand, capacity, eligible, cost = case
    placed, overflow = solve_transport(demand[None], capacity, eligible, cost)
    x = placed[0]
    np.testing.assert_allclose(x.sum(axis=1) + overflow[0], demand)  # every child accounted for
    assert np.all(x[~eligible] == 0)
    assert np.all(x.sum(axis=0) <= capacity + 1e-9)
    assert np.all(x >= 0) and np.all(overflow >= 0)
    assert np.allclose(x, np.round(x))  # integral
    n_out, best_cost = _brute_force(demand, capacity, eligible, cost)
    assert overflow.sum() == pytest.approx(n_out)
    assert float((x * cost).sum()) == pytest.approx(best_cost)


def _register():
    return pd.DataFrame({
        "setting": ["RB_ASD_N", "RB_ASD_S", "RB_SLD", "SS", "IND"],
        "kind": ["resource_base", "resource_base", "resource_base", "special_school", "independent"],
        "area": ["N", "S", "N", "S", "X"],
        "capacity": [6, 4, 5, 12, None],
        "designation": ["ASD", "ASD;SLCN", "SLD;PMLD", "*", "*"],
        "min_ncy": [0, 7, 0, 0, 0],
        "max_ncy": [6, 11, 11, 13, 13],
        "opens": [None, None, None, None, None],
        "closes": [None, None, 2028, None, None],
    })


def _groups():
    rows = [(a, n, need) for a in ("N", "S") for n in (2, 5, 8, 12, 15) for need in ("ASD", "SLD", "HI", "SLCN")]
    return pd.DataFrame(rows, columns=["area", "ncy", "need"])


def _local_timeline(years):
    tl = capacity_timeline(_register(), years)
    return tl[tl["kind"] != "independent"]


def test_allocate_conserves_and_respects_designation_age_and_capacity():
    rng = np.random.default_rng(1)
    years = [2026, 2027, 2028]
    groups = _groups()
    demand = rng.poisson(0.8, size=(200, len(years), len(groups)))
    a = allocate(demand, groups, _local_timeline(years), years)
    # allocated + overflow = demand for every draw and year
    np.testing.assert_allclose(a.load.sum(axis=2) + a.overflow.sum(axis=2), demand.sum(axis=2))
    assert np.all(a.overflow >= -1e-9) and np.all(a.load >= 0)
    assert np.all(a.load <= a.capacity[None] + 1e-9)
    bases = a.bases.set_index("setting")
    for t, year in enumerate(years):
        placed = a.placed(year)
        np.testing.assert_allclose(placed.sum(axis=1), a.load[:, t, :], atol=1e-9)
        np.testing.assert_allclose(placed.sum(axis=2) + a.overflow[:, t, :], demand[:, t, :], atol=1e-9)
        elig = eligibility(groups, bases.reset_index()) & (a.capacity[t] > 0)[None, :]
        assert placed[:, ~elig].max(initial=0) == 0, "a child was placed where designation/age/open excludes them"
    # the SLD base closes in 2028
    assert a.capacity[2, list(a.bases["setting"]).index("RB_SLD")] == 0


def test_class_aggregation_gives_per_draw_optimum():
    """Solving on classes of interchangeable groups equals solving on every group, per draw."""
    rng = np.random.default_rng(7)
    years = [2026]
    groups = _groups()
    demand = rng.poisson(1.2, size=(40, 1, len(groups))).astype(float)
    tl = _local_timeline(years)
    a = allocate(demand, groups, tl, years)
    bases = a.bases
    elig = eligibility(groups, bases)
    cost = placement_cost(groups, bases)
    full_placed, full_over = solve_transport(demand[:, 0, :], a.capacity[0], elig, cost)
    np.testing.assert_allclose(a.overflow[:, 0, :].sum(axis=1), full_over.sum(axis=1))
    agg_cost = (a.placed(2026) * cost[None]).sum(axis=(1, 2))
    np.testing.assert_allclose(agg_cost, (full_placed * cost[None]).sum(axis=(1, 2)))


def test_reasons_for_out_of_county():
    years = [2026]
    groups = pd.DataFrame({"area": ["N", "N", "N"], "ncy": [3, 3, 15], "need": ["HI", "ASD", "ASD"]})
    reg = _register().iloc[:3]  # no all-needs school: HI has no base
    a = allocate(np.array([[[2, 20, 1]]]), groups, capacity_timeline(reg, years), years)
    assert a.reason[0].tolist() == [REASON_NO_NEED, REASON_FULL, REASON_NO_AGE]
    un = a.unplaced()
    assert set(un["reason"]) == {REASON_NO_NEED, REASON_FULL, REASON_NO_AGE}
    assert un["mean"].sum() == pytest.approx(a.overflow.sum())


def test_prefers_own_area():
    years = [2026]
    reg = pd.DataFrame({"setting": ["BN", "BS"], "kind": ["resource_base"] * 2, "area": ["N", "S"],
                        "capacity": [3, 3], "designation": ["*", "*"], "min_ncy": [0, 0], "max_ncy": [11, 11]})
    groups = pd.DataFrame({"area": ["N", "S"], "ncy": [4, 4], "need": ["ASD", "ASD"]})
    a = allocate(np.array([[[3, 3]], [[5, 1]]]), groups, capacity_timeline(reg, years), years)
    assert a.cross_area[0, 0] == 0  # everyone fits at home
    assert a.cross_area[1, 0] == 2  # two northern children use the spare southern places
    assert a.overflow[1].sum() == 0


def test_many_draws_solved_together_equal_one_by_one():
    """The block LP over draws (with repeated draws solved once) gives each draw its own optimum."""
    rng = np.random.default_rng(3)
    eligible = rng.random((6, 3)) < 0.6
    cost = rng.integers(1, 4, size=(6, 3)).astype(float)
    capacity = np.array([4.0, 2.0, 5.0])
    demand = rng.poisson(1.5, size=(30, 6)).astype(float)
    demand[10:15] = demand[0]  # repeated draws
    placed, over = solve_transport(demand, capacity, eligible, cost, chunk=7)
    for d in range(len(demand)):
        p1, o1 = solve_transport(demand[d:d + 1], capacity, eligible, cost)
        assert over[d].sum() == pytest.approx(o1.sum())
        assert (placed[d] * cost).sum() == pytest.approx((p1[0] * cost).sum())
