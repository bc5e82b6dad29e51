"""Capacity timeline: periods, provision changes, validation; capacity is never negative."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import InputValidationError, ProvisionChange, Scenario, SenForecastError
from senforecast.planning.capacity import (
    apply_provision_changes, capacity_timeline, local_bases, out_of_county_cost, parse_designation, takes_need,
)


def _reg():
    return pd.DataFrame({
        "setting": ["RB1", "RB1", "SS", "IND"],
        "name": ["North ASD base", "North ASD base", "Special school", "Independent"],
        "kind": ["resource_base", "resource_base", "special_school", "independent"],
        "area": ["N", "N", "S", "X"],
        "min_ncy": [0, 0, 0, 0], "max_ncy": [6, 6, 13, 13],
        "capacity": [20, 30, 55, np.nan],
        "designation": ["ASD", "ASD", "*", "*"],
        "opens": pd.array([2024, 2027, pd.NA, pd.NA], dtype="Int64"),
        "closes": pd.array([2027, 2030, pd.NA, pd.NA], dtype="Int64"),
        "cost_per_place": [20000, 20000, 30000, 65000],
    })


def test_timeline_follows_periods():
    tl = capacity_timeline(_reg(), range(2023, 2032)).set_index(["setting", "year"])
    rb = tl.loc["RB1", "capacity"]
    assert rb.tolist() == [0, 20, 20, 20, 30, 30, 30, 0, 0]  # opens 2024, expands 2027, closes 2030
    assert tl.loc["RB1", "is_open"].tolist() == [False] + [True] * 6 + [False, False]
    assert (tl.loc["SS", "capacity"] == 55).all()
    assert tl.loc["IND", "capacity"].isna().all()  # unlimited stays NaN
    assert set(local_bases(tl.reset_index())["setting"]) == {"RB1", "SS"}


def test_provision_change_expands_opens_and_closes():
    sc = Scenario("plan", provision_changes=(
        ProvisionChange("SS", 70, 2028),
        ProvisionChange("RB9", 12, 2029, name="New ASD base", area="S", designation="ASD",
                        min_ncy=0, max_ncy=6, cost_per_place=25000),
        ProvisionChange("RB1", 0, 2026),
    ))
    tl = capacity_timeline(_reg(), range(2025, 2031), changes=sc).set_index(["setting", "year"])
    assert tl.loc["SS", "capacity"].tolist() == [55, 55, 55, 70, 70, 70]
    assert tl.loc["RB9", "capacity"].tolist() == [0, 0, 0, 0, 12, 12]
    assert tl.loc[("RB9", 2030), "designation"] == "ASD"
    assert tl.loc["RB1", "capacity"].tolist() == [20, 0, 0, 0, 0, 0]  # the 2027 expansion is replaced


def test_new_base_needs_its_details():
    with pytest.raises(SenForecastError, match="designation"):
        apply_provision_changes(_reg(), [ProvisionChange("RB9", 12, 2029, area="S", min_ncy=0, max_ncy=6)])
    with pytest.raises(SenForecastError, match="0 or more"):
        apply_provision_changes(_reg(), [ProvisionChange("RB1", -5, 2029)])


def test_validation_collects_every_problem_with_rows():
    bad = _reg()
    bad.loc[0, "capacity"] = -3
    bad.loc[2, "kind"] = "academy"
    bad.loc[1, "opens"] = 2026  # overlaps the 2024-2027 period
    with pytest.raises(InputValidationError) as err:
        capacity_timeline(bad, [2026])
    found = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "capacity"), (4, "kind"), (3, "opens")} <= found


def test_designation_parsing():
    assert parse_designation("ASD;SLCN") == frozenset({"ASD", "SLCN"})
    assert parse_designation(" * ") is None and parse_designation("") is None
    assert takes_need("SLD; PMLD", "PMLD") and not takes_need("SLD;PMLD", "ASD")


def test_ooc_cost_is_weighted_by_roll():
    assert out_of_county_cost(_reg()) == 65000
    reg = pd.concat([_reg(), pd.DataFrame({"setting": ["OLA"], "kind": ["other_la"], "capacity": [np.nan],
                                           "cost_per_place": [45000]})], ignore_index=True)
    assert out_of_county_cost(reg, pd.Series({"IND": 1, "OLA": 3})) == pytest.approx(50000)


@st.composite
def register_and_changes(draw):
    n = draw(st.integers(1, 4))
    rows = []
    for i in range(n):
        opens = draw(st.one_of(st.none(), st.integers(2020, 2030)))
        closes = draw(st.one_of(st.none(), st.integers(2021, 2035)))
        if opens is not None and closes is not None and closes <= opens:
            closes = opens + 1
        rows.append({"setting": f"B{i}", "kind": "resource_base", "capacity": draw(st.integers(0, 60)),
                     "opens": opens, "closes": closes})
    changes = [ProvisionChange(f"B{draw(st.integers(0, n - 1))}", draw(st.integers(0, 40)),
                               draw(st.integers(2018, 2034))) for _ in range(draw(st.integers(0, 4)))]
    return pd.DataFrame(rows).astype({"opens": "Int64", "closes": "Int64"}), changes


@settings(max_examples=60, deadline=None, derandomize=True)
@given(register_and_changes())
def test_capacity_never_negative_and_changes_take_effect(case):
    reg, changes = case
    years = list(range(2018, 2036))
    tl = capacity_timeline(reg, years, changes=changes)
    assert len(tl) == len(years) * reg["setting"].nunique()
    assert (tl["capacity"] >= 0).all()
    assert (tl.loc[~tl["is_open"], "capacity"] == 0).all()
    # the last change of a setting (by from_year, stable) decides its capacity from then on
    last = {}
    for ch in sorted(changes, key=lambda c: c.from_year):
        last[ch.setting] = ch
    for s, ch in last.items():
        after = tl[(tl["setting"] == s) & (tl["year"] >= ch.from_year)]
        assert (after["capacity"] == ch.capacity).all()
