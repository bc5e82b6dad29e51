"""LocalAreaData: transitions are built and cached, the summary adds up and hides pupil ids."""
import warnings

import numpy as np
import pandas as pd
import pytest

from senforecast import LocalAreaData
from senforecast.core.errors import InputWarning, SenForecastError
from senforecast.core.transitions import build_transitions


def make_plans(seed=0, n=300):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        start = int(rng.integers(2020, 2024))
        stay = int(rng.integers(1, 5))
        ncy0 = int(rng.integers(0, 10))
        need = rng.choice(["ASD", "MLD", "SLD"])
        area = rng.choice(["N", "S"])
        for k, y in enumerate(range(start, min(start + stay, 2025))):
            rows.append((f"child{i:04d}", y, ncy0 + k, need, rng.choice(["MS", "RB1", "SS1"], p=[.7, .1, .2]), area))
    return pd.DataFrame(rows, columns=["pupil_id", "year", "ncy", "need", "setting", "area"])


PROVISION = pd.DataFrame({
    "setting": ["MS", "RB1", "SS1", "RB2"], "name": ["Mainstream", "Base", "Special", "New base"],
    "kind": ["mainstream", "resource_base", "special_school", "resource_base"], "area": ["N", "N", "S", "S"],
    "min_ncy": [-1, 0, -1, 0], "max_ncy": [13, 6, 13, 6], "capacity": [np.nan, 12.0, 60.0, 10.0],
    "designation": ["*", "ASD", "*", "ASD"], "opens": pd.array([pd.NA, pd.NA, pd.NA, 2030], "Int64"),
    "closes": pd.array([pd.NA] * 4, "Int64"), "cost_per_place": [7000.0, 20000.0, 30000.0, 20000.0]})


def test_get_transitions_builds_once_and_matches_the_builder():
    d = LocalAreaData(plans=make_plans(), name="T")
    t1 = d.get_transitions()
    assert t1 is d.get_transitions()  # cached
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        pd.testing.assert_frame_equal(t1, build_transitions(d.plans))
    assert d.report.counts["transitions.joiner"] == int(t1.loc[t1["kind"] == "joiner", "count"].sum())
    assert set(d.get_transitions(years=[2022])["year"]) == {2022}


def test_given_transitions_are_returned_unless_rebuilt():
    given = pd.DataFrame({"year": [2020], "area": ["ALL"], "ncy_from": [1], "need_from": ["X"],
                          "setting_from": ["A"], "ncy_to": [2], "need_to": ["X"], "setting_to": ["A"],
                          "kind": ["stayer"], "count": [5]})
    d = LocalAreaData(transitions=given)
    assert d.get_transitions() is given
    with pytest.raises(SenForecastError, match="plans"):
        d.get_transitions(rebuild=True)


def test_summary_tables_add_up():
    plans = make_plans(1)
    d = LocalAreaData(plans=plans, provision=PROVISION, name="Testshire")
    s = d.summary()
    per_year = s["children per year"].set_index("year")["children"]
    assert per_year.to_dict() == plans.groupby("year").size().to_dict()
    for name, col in (("by need", "need"), ("by area", "area"), ("by setting kind", "kind")):
        t = s[name]
        for y in plans["year"].unique():
            assert t[str(y)].sum() == (plans["year"] == y).sum(), (name, y)
    t = d.get_transitions()
    flows = s["children per year"].set_index("year")
    for y in sorted(plans["year"].unique())[1:]:
        j = t[(t["year"] == y - 1) & (t["kind"] == "joiner")]["count"].sum()
        lv = t[(t["year"] == y - 1) & (t["kind"] == "leaver")]["count"].sum()
        assert flows.loc[y, "joiners"] == j and flows.loc[y, "leavers"] == lv
        assert flows.loc[y, "children"] - flows.loc[y - 1, "children"] == j - lv
    roll = s["places and children on roll"].set_index("setting")
    last = plans[plans["year"] == plans["year"].max()]
    assert roll.loc["RB1", "on_roll"] == (last["setting"] == "RB1").sum()
    assert roll.loc["RB1", "spare"] == 12 - roll.loc["RB1", "on_roll"]
    assert roll.loc["RB2", "status"] == "planned/closed" and roll.loc["RB2", "on_roll"] == 0
    assert "MS" not in roll.index  # unlimited mainstream places are not listed


def test_summary_text_and_html_show_no_pupil_ids():
    d = LocalAreaData(plans=make_plans(2), provision=PROVISION, name="Testshire", need_scheme="wales_plasc")
    s = d.summary()
    text, page = str(s), s._repr_html_()
    assert "Testshire" in text and "Children per year" in text and "<table" in page
    assert "child0" not in text and "child0" not in page
    assert "Severe learning difficulties" in text  # labels from the need scheme


def test_summary_counts_anomalies_and_copes_with_partial_data():
    plans = make_plans(3)
    plans.loc[plans["setting"] == "RB1", "ncy"] += 10  # children above the base's age range
    d = LocalAreaData(plans=plans, provision=PROVISION)
    checks = d.summary()["checks"].set_index("check")["count"]
    assert checks["anomaly: ncy_outside_setting_range"] == int((plans["setting"] == "RB1").sum())
    assert "checks" in LocalAreaData().summary().tables
    pop = pd.DataFrame({"year": [2024, 2030], "area": ["N", "N"], "ncy": [1, 1], "count": [100, 90]})
    s = LocalAreaData(plans=plans, population=pop).summary()
    assert s["population"]["part"].tolist() == ["history", "projection"]


def test_summary_from_transitions_only_counts_the_same_children():
    plans = make_plans(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        t = build_transitions(plans)
    from_plans = LocalAreaData(plans=plans).summary()
    from_trans = LocalAreaData(transitions=t).summary()
    pd.testing.assert_frame_equal(from_plans["children per year"], from_trans["children per year"])
    pd.testing.assert_frame_equal(from_plans["by need"], from_trans["by need"])
    pd.testing.assert_frame_equal(from_plans["by area"], from_trans["by area"])


def test_summary_flags_transitions_that_do_not_chain():
    t = pd.DataFrame({"year": [2020, 2021], "area": ["ALL"] * 2, "ncy_from": [1, 2], "need_from": ["X"] * 2,
                      "setting_from": ["A"] * 2, "ncy_to": [2, 3], "need_to": ["X"] * 2, "setting_to": ["A"] * 2,
                      "kind": ["stayer"] * 2, "count": [10, 8]})  # 10 at the end of 2020, 8 at the start of 2021
    checks = LocalAreaData(transitions=t).summary()["checks"].set_index("check")["count"]
    assert checks["years whose end stock differs from the next year's start"] == 1
