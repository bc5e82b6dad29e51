"""The provision register: one parser of designations that every module uses, periods, kinds,
scenario changes (closures included) and the capacity timeline."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import Projection, ProvisionChange, Scenario, SettingClosure
from senforecast.core import provision as prov_mod
from senforecast.core.errors import InputValidationError, SenForecastError
from senforecast.core.provision import (
    ProvisionRegister, designation_text, need_match, parse_designation, period_rows, takes_need,
)
from senforecast.core.transitions import transition_anomalies
from senforecast.io import local_area
from senforecast.models.cohort.states import ValidStates
from senforecast.planning import allocation, capacity, gap as gap_mod

PKG = Path(__file__).resolve().parents[1] / "senforecast"
CODES = ("ASD", "SLD", "PMLD", "BESD", "MLD", "VI")


@st.composite
def designations(draw):
    """A designation written the way people write them: any separators, spaces, repeats, '*'."""
    codes = draw(st.lists(st.sampled_from(CODES), max_size=4))
    if draw(st.booleans()) and draw(st.integers(0, 5)) == 0:
        codes = codes + ["*"]
    seps = draw(st.lists(st.sampled_from([";", ",", "|", "/", "; ", " , ", " /"]), min_size=len(codes),
                         max_size=len(codes)))
    text = "".join(f"{' ' * draw(st.integers(0, 1))}{c}{s}" for c, s in zip(codes, seps))
    expected = None if not codes or "*" in codes else frozenset(codes)
    return text, expected


@settings(max_examples=80, deadline=None, derandomize=True)
@given(designations(), st.sampled_from(CODES + ("ALL",)), st.integers(0, 13))
def test_every_module_reads_a_designation_the_same_way(des, need, ncy):
    text, expected = des
    assert parse_designation(text) == expected
    takes = expected is None or need in expected or need == "ALL"
    assert takes_need(text, need) == takes
    assert capacity.parse_designation is parse_designation  # the old home delegates
    # cohort model: the valid states
    rule = ValidStates.from_provision(pd.DataFrame({"setting": ["B"], "min_ncy": [0], "max_ncy": [13],
                                                    "designation": [text]})).rules["B"]
    assert rule.needs == expected
    # allocation and gap analysis
    bases = pd.DataFrame({"designation": [text], "min_ncy": [0], "max_ncy": [13], "area": ["N"]})
    groups = pd.DataFrame({"need": [need], "ncy": [ncy], "area": ["N"]})
    assert bool(allocation.eligibility(groups, bases)[0, 0]) == takes
    label = gap_mod.group_designations(groups, bases)[0]
    assert (label != gap_mod.NO_DESIGNATION) == takes
    if need != "ALL":
        # anomaly checks of the plans (core.transitions and io.local_area)
        plans = pd.DataFrame({"pupil_id": ["a"], "year": [2025], "ncy": [ncy], "need": [need],
                              "setting": ["B"], "area": ["N"]})
        reg = pd.DataFrame({"setting": ["B"], "min_ncy": [0], "max_ncy": [13], "designation": [text],
                            "opens": [pd.NA], "closes": [pd.NA]})
        flagged = "need_not_in_designation" in set(transition_anomalies(plans, reg)["anomaly"])
        assert flagged == (not takes)
        m = local_area._active_provision(reg, plans)
        assert bool(local_area._outside_designation(m)[0]) == (not takes)


def test_no_module_parses_designations_itself():
    """Only core/provision.py splits designation text; everyone else calls it."""
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        if path.relative_to(PKG).as_posix() == "core/provision.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if not re.search(r"\.split\(|re\.split|str\.split", line):
                continue
            window = " ".join(lines[max(0, i - 3): i + 4]).lower()
            if "designation" in window or "moves_to" in window:
                offenders.append(f"{path.relative_to(PKG)}:{i + 1}: {line.strip()}")
    assert not offenders, "designations parsed outside core/provision.py:\n" + "\n".join(offenders)


def test_canonical_text_and_need_matrix():
    assert designation_text(" ASD ,SLD|ASD ") == "ASD;SLD"
    assert designation_text("") == "*" and designation_text(np.nan) == "*"
    m = need_match(["ASD/SLD", None, "MLD"], ["SLD", "MLD"])
    assert m.tolist() == [[True, True, False], [False, True, True]]


def _register():
    return ProvisionRegister(pd.DataFrame({
        "setting": ["RB1", "RB1", "SS", "IND", "OLA-MS"],
        "kind": ["resource_base", "resource_base", "special_school", "independent", "other_la"],
        "area": ["N", "N", "S", "X", "X"], "min_ncy": [0, 0, 2, 0, -1], "max_ncy": [6, 8, 13, 13, 13],
        "capacity": [20, 30, 55, np.nan, np.nan], "designation": ["ASD,SLD", "ASD;SLD;PMLD", "*", "ASD", "*"],
        "opens": pd.array([pd.NA, 2027, pd.NA, pd.NA, pd.NA], dtype="Int64"),
        "closes": pd.array([2027, pd.NA, pd.NA, pd.NA, pd.NA], dtype="Int64"),
        "cost_per_place": [20000, 21000, 30000, 65000, 9000]}))


def test_register_answers_from_one_parse():
    reg = _register()
    assert reg.settings == ["IND", "OLA-MS", "RB1", "SS"]
    assert reg.table["designation"].tolist()[:2] == ["ASD;SLD", "ASD;SLD;PMLD"]
    assert reg.needs_of("RB1") == frozenset({"ASD", "SLD", "PMLD"}) and reg.needs_of("SS") is None
    assert reg.age_range("RB1") == (0, 8)
    assert reg.kind_of("SS") == "special_school" and reg.kind_of("mainstream") == "mainstream"
    assert reg.kind_of("nope") == "unknown"
    assert reg.with_kinds({"OLA-MS": "mainstream"}).kind_of("OLA-MS") == "mainstream"
    with pytest.raises(SenForecastError, match="not setting kinds"):
        reg.with_kinds({"OLA-MS": "mainstrem"})
    assert reg.of_kinds({"independent", "other_la"}) == ["IND", "OLA-MS"]
    assert reg.active_on(2026)["setting"].tolist() == ["RB1", "SS", "IND", "OLA-MS"]
    on = reg.active_on(2027).set_index("setting")
    assert on.loc["RB1", "capacity"] == 30 and len(on) == 4
    with pytest.raises(SenForecastError, match="not in the provision register"):
        reg.needs_of("XX")
    assert ProvisionRegister.of(reg) is reg


def test_register_refuses_bad_tables_with_every_problem():
    bad = _register().table.copy()
    bad.loc[0, "capacity"] = -1
    bad.loc[3, "cost_per_place"] = -5
    bad.loc[2, "kind"] = "academy"
    with pytest.raises(InputValidationError) as err:
        ProvisionRegister(bad)
    found = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "capacity"), (5, "cost_per_place"), (4, "kind")} <= found


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(2018, 2030), st.integers(1, 4)), min_size=1, max_size=4),
       st.lists(st.integers(2015, 2035), min_size=1, max_size=8))
def test_period_rows_follow_the_one_rule(periods, years):
    # consecutive, non-overlapping periods of one setting; the first may be open-ended before
    rows, start = [], periods[0][0]
    for i, (_, length) in enumerate(periods):
        rows.append({"setting": "A", "opens": start if i else pd.NA, "closes": start + length})
        start += length
    frame = pd.DataFrame(rows)
    pos, is_open = period_rows(frame, ["A"] * len(years), years)
    lo = frame["opens"].fillna(-10**6).astype(int).to_numpy()
    hi = frame["closes"].astype(int).to_numpy()
    for y, p, o in zip(years, pos, is_open):
        active = np.flatnonzero((lo <= y) & (y < hi))
        if len(active):
            assert o and p == active[0]
        else:
            before = np.flatnonzero(lo <= y)
            assert not o and p == (before[np.argmax(lo[before])] if len(before) else np.argmin(lo))


def test_closure_removes_places_from_its_year_and_provision_change_adds_them():
    reg = _register()
    sc = Scenario("shut SS", closures=(SettingClosure("SS", 2028),),
                  provision_changes=(ProvisionChange("RB1", 40, 2029),))
    tl = reg.timeline(range(2026, 2031), sc).set_index(["setting", "year"])["capacity"]
    assert tl.loc["SS"].tolist() == [55, 55, 0, 0, 0]
    assert tl.loc["RB1"].tolist() == [20, 30, 30, 40, 40]
    assert reg.timeline(range(2026, 2031)).set_index(["setting", "year"])["capacity"].loc["SS"].tolist() == [55] * 5
    # a closure of a setting the register does not list has no places to remove
    pd.testing.assert_frame_equal(reg.timeline(range(2026, 2031), [SettingClosure("MS", 2027)]),
                                  reg.timeline(range(2026, 2031)))


def test_gap_analysis_removes_a_closed_settings_places():
    reg = _register()
    cells = pd.DataFrame({"area": ["S", "S"], "ncy": [9, 9], "need": ["MLD", "MLD"], "setting": ["SS", "IND"]})
    draws = np.full((5, 3, 2), 10)
    proj = Projection(draws, [2026, 2027, 2028], cells)
    base = gap_mod.gap_analysis(proj, reg)
    shut = gap_mod.gap_analysis(proj, reg, scenario=[SettingClosure("SS", 2027)])
    cap = lambda g: g.by_base().set_index(["setting", "year"])["capacity"].loc["SS"].tolist()  # noqa: E731
    assert cap(base) == [55, 55, 55] and cap(shut) == [55, 0, 0]
    # the 20 children needing a place now go out of county from 2027
    np.testing.assert_allclose(shut.ooc_total, [[0, 20, 20]] * 5)
