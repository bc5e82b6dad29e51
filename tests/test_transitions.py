"""Transitions builder: every child accounted for, flows match stock changes, anomalies counted."""
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import NO_PLAN
from senforecast.core.errors import InputValidationError, InputWarning, ValidationReport
from senforecast.core.transitions import (TRANSITION_COLUMNS, build_transitions, stocks_from_transitions,
                                     transition_anomalies)

YEARS = list(range(2019, 2024))


@st.composite
def histories(draw, max_pupils=25, allow_area_moves=True, allow_gaps=False):
    """Random plan histories: each child is present in some censuses, NCY mostly advancing."""
    n = draw(st.integers(0, max_pupils))
    rows = []
    for i in range(n):
        present = draw(st.lists(st.sampled_from(YEARS), min_size=1, max_size=len(YEARS), unique=True))
        ncy0 = draw(st.integers(-2, 12))
        area0 = draw(st.sampled_from(["N", "S"]))
        for y in sorted(present):
            jitter = draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
            area = draw(st.sampled_from(["N", "S"])) if allow_area_moves else area0
            rows.append({"pupil_id": f"p{i}", "year": y, "ncy": ncy0 + (y - YEARS[0]) + jitter,
                         "need": draw(st.sampled_from(["ASD", "MLD", "SLD"])),
                         "setting": draw(st.sampled_from(["MS", "RB", "SS"])), "area": area})
    df = pd.DataFrame(rows, columns=["pupil_id", "year", "ncy", "need", "setting", "area"])
    order = draw(st.permutations(range(len(df))))  # file order should not matter
    return df.iloc[list(order)].reset_index(drop=True)


def reference_kinds(plans: pd.DataFrame) -> Counter:
    """Slow, obvious per-child oracle: Counter of (year, kind) and NCY anomalies."""
    by = {(r.pupil_id, r.year): r for r in plans.itertuples()}
    years = set(plans["year"])
    out = Counter()
    for (pid, y), r in by.items():
        if y + 1 in years:
            nxt = by.get((pid, y + 1))
            if nxt is None:
                out[(y, "leaver")] += 1
            else:
                kind = ("mover" if nxt.setting != r.setting else
                        "need_change" if nxt.need != r.need else "stayer")
                out[(y, kind)] += 1
                if nxt.ncy != r.ncy + 1:
                    out[(y, "ncy_not_advancing")] += 1
        if y - 1 in years and (pid, y - 1) not in by:
            out[(y - 1, "joiner")] += 1
    return out


@settings(max_examples=80, deadline=None, derandomize=True)
@given(histories())
def test_builder_matches_per_child_oracle(plans):
    with _quiet():
        t = build_transitions(plans)
        anomalies = transition_anomalies(plans)
    got = Counter()
    for (y, k), n in t.groupby(["year", "kind"])["count"].sum().items():
        got[(y, k)] += int(n)
    for y, n in anomalies[anomalies["anomaly"] == "ncy_not_advancing"].groupby("year").size().items():
        got[(y, "ncy_not_advancing")] += int(n)
    assert got == reference_kinds(plans)
    assert list(t.columns) == list(TRANSITION_COLUMNS)
    assert (t["ncy_to"] == t["ncy_from"] + 1).all()
    assert (t["count"] > 0).all()


@settings(max_examples=80, deadline=None, derandomize=True)
@given(histories())
def test_every_plan_row_is_one_from_and_one_to(plans):
    with _quiet():
        t = build_transitions(plans, aggregate=False)
    years = set(plans["year"])
    rows = np.arange(len(plans)) + 2
    has_next = plans["year"].map(lambda y: y + 1 in years).to_numpy(dtype=bool)
    has_prev = plans["year"].map(lambda y: y - 1 in years).to_numpy(dtype=bool)
    assert sorted(t["row_from"].dropna().astype(int)) == sorted(rows[has_next])
    assert sorted(t["row_to"].dropna().astype(int)) == sorted(rows[has_prev])
    assert t.loc[t["kind"] == "joiner", "row_from"].isna().all()
    assert t.loc[t["kind"] == "leaver", "row_to"].isna().all()
    # joiners come from, and leavers go to, the no-plan state
    j, lv = t[t["kind"] == "joiner"], t[t["kind"] == "leaver"]
    assert (j["need_from"] == NO_PLAN).all() and (j["setting_from"] == NO_PLAN).all()
    assert (lv["need_to"] == NO_PLAN).all() and (lv["setting_to"] == NO_PLAN).all()
    assert "pupil_id" not in t.columns


@settings(max_examples=80, deadline=None, derandomize=True)
@given(histories(allow_area_moves=False))
def test_joiners_minus_leavers_is_change_in_stock_per_year_and_area(plans):
    with _quiet():
        t = build_transitions(plans)
    s = stocks_from_transitions(t)
    counts = plans.groupby(["year", "area"]).size()
    for r in s.itertuples():
        assert r.stock_from == counts.get((r.year, r.area), 0)
        assert r.stock_to == counts.get((r.year + 1, r.area), 0)
        assert r.stock_to - r.stock_from == r.joiners - r.leavers


@settings(max_examples=50, deadline=None, derandomize=True)
@given(histories(allow_area_moves=True))
def test_children_moving_area_are_counted_in_their_first_area_and_totals_conserve(plans):
    with _quiet():
        t = build_transitions(plans)
    s = stocks_from_transitions(t, by=())
    counts = plans.groupby("year").size()
    for r in s.itertuples():
        assert r.stock_from == counts.get(r.year, 0)
        assert r.stock_to == counts.get(r.year + 1, 0)
    per_area = stocks_from_transitions(t)
    from_counts = plans.groupby(["year", "area"]).size()
    for r in per_area.itertuples():
        assert r.stock_from == from_counts.get((r.year, r.area), 0)


def test_keep_mode_records_observed_ncy_and_report_counts():
    plans = pd.DataFrame({"pupil_id": ["a", "a", "b", "b", "c"], "year": [2024, 2025] * 2 + [2025],
                          "ncy": [5, 5, 2, 3, 0], "need": ["ASD"] * 5,
                          "setting": ["MS", "MS", "MS", "RB", "MS"], "area": ["N", "N", "N", "S", "N"]})
    rep = ValidationReport()
    with pytest.warns(InputWarning, match="did not go up by one"):
        t = build_transitions(plans, ncy_anomalies="keep", report=rep)
    held = t[(t["kind"] == "stayer")]
    assert held[["ncy_from", "ncy_to"]].values.tolist() == [[5, 5]]
    assert rep.counts["transitions.ncy_not_advancing"] == 1
    assert rep.counts["transitions.area_changed"] == 1
    assert rep.counts["transitions.joiner"] == 1 and rep.counts["transitions.mover"] == 1


def test_provision_anomalies_are_listed_with_rows_not_ids():
    plans = pd.DataFrame({"pupil_id": ["secret1", "secret2", "secret3", "secret4"],
                          "year": [2024] * 4, "ncy": [3, 9, 4, 4],
                          "need": ["ASD", "ASD", "SLD", "ASD"], "setting": ["RB", "RB", "RB", "ZZ"],
                          "area": ["N"] * 4})
    prov = pd.DataFrame({"setting": ["RB", "RB"], "min_ncy": [0, 0], "max_ncy": [6, 6],
                         "designation": ["ASD;SLCD", "ASD;SLCD"], "opens": pd.array([pd.NA, 2026], "Int64"),
                         "closes": pd.array([2026, pd.NA], "Int64")})
    a = transition_anomalies(plans, prov)
    assert dict(a.groupby("anomaly").size()) == {
        "ncy_outside_setting_range": 1, "need_not_in_designation": 1, "setting_not_in_provision": 1}
    assert a.set_index("anomaly").loc["ncy_outside_setting_range", "row"] == 3
    assert a.set_index("anomaly").loc["need_not_in_designation", "row"] == 4
    assert not a.astype(str).apply(lambda c: c.str.contains("secret")).any().any()
    # a base that only opens later is flagged as not open
    plans2 = plans.assign(year=2020)
    prov2 = prov.assign(opens=pd.array([2022, 2026], "Int64"))
    assert "setting_not_open" in set(transition_anomalies(plans2, prov2)["anomaly"])


def test_duplicates_and_missing_columns_raise_with_rows():
    plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2024, 2024], "ncy": [1, 1],
                          "need": ["ASD"] * 2, "setting": ["MS"] * 2, "area": ["N"] * 2})
    with pytest.raises(InputValidationError, match="row 3") as e:
        build_transitions(plans)
    assert {p.row for p in e.value.problems} == {2, 3}
    with pytest.raises(InputValidationError, match="'setting'"):
        build_transitions(plans.drop(columns="setting"))


def test_census_gap_is_warned_and_not_paired():
    plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2022, 2024], "ncy": [1, 3],
                          "need": ["ASD"] * 2, "setting": ["MS"] * 2, "area": ["N"] * 2})
    with pytest.warns(InputWarning, match="no census for year"):
        t = build_transitions(plans)
    assert t.empty and list(t.columns) == list(TRANSITION_COLUMNS)


def test_years_argument_selects_pairs():
    rng = np.random.default_rng(3)
    plans = pd.DataFrame({"pupil_id": np.repeat([f"p{i}" for i in range(50)], 3),
                          "year": np.tile([2020, 2021, 2022], 50), "ncy": np.tile([1, 2, 3], 50),
                          "need": rng.choice(["ASD", "MLD"], 150), "setting": "MS", "area": "N"})
    t = build_transitions(plans, years=[2021])
    assert set(t["year"]) == {2021} and t["count"].sum() == 50


class _quiet:
    """Silence InputWarning inside property tests (random data is full of anomalies)."""

    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", InputWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_setting_kinds_are_accepted_as_settings_without_register_rows():
    plans = pd.DataFrame({"pupil_id": ["a", "b"], "year": [2024, 2024], "ncy": [3, 3],
                          "need": ["ASD", "ASD"], "setting": ["mainstream", "NOWHERE"], "area": ["N", "N"]})
    prov = pd.DataFrame({"setting": ["RB"], "min_ncy": [0], "max_ncy": [6], "designation": ["ASD"],
                         "opens": pd.array([pd.NA], "Int64"), "closes": pd.array([pd.NA], "Int64")})
    a = transition_anomalies(plans, prov)
    assert a[["anomaly", "row"]].values.tolist() == [["setting_not_in_provision", 3]]
