"""Reader of witan.send inputs: canonical tables, conservation, clear errors."""
from pathlib import Path

import pandas as pd
import pytest

from senforecast import NO_PLAN
from senforecast.core.errors import InputValidationError
from senforecast.io.witan import (
    load_witan_demo,
    read_witan_population,
    read_witan_transitions,
    read_witan_valid_states,
)

SHARED = Path("/work/shared/anchors/witan-send-demo")


@pytest.fixture(scope="module")
def demo():
    return load_witan_demo()


def test_demo_tables_follow_contract(demo):
    t = demo.transitions
    assert list(t.columns) == ["year", "area", "ncy_from", "need_from", "setting_from",
                               "ncy_to", "need_to", "setting_to", "kind", "count"]
    assert (t["area"] == "ALL").all()
    assert (t["ncy_to"] == t["ncy_from"] + 1).all()
    joiners = t["kind"] == "joiner"
    assert (t.loc[joiners, ["need_from", "setting_from"]] == NO_PLAN).all().all()
    leavers = t["kind"] == "leaver"
    assert (t.loc[leavers, ["need_to", "setting_to"]] == NO_PLAN).all().all()
    assert list(demo.population.columns) == ["year", "area", "ncy", "count"]
    assert set(demo.provision["setting"]) == set("ABCDEFGHIJKLMNOPQRS")


def test_every_child_row_is_counted(demo):
    raw = pd.read_csv(Path(__file__).parents[1] / "senforecast/datasets/data/witan_demo/transitions.csv")
    t = demo.transitions
    assert t["count"].sum() == len(raw)
    for year, n in raw.groupby("calendar-year").size().items():
        assert t.loc[t["year"] == year, "count"].sum() == n


def test_seed_year_population_is_2153_children_in_378_states(demo):
    t = demo.transitions
    last = t[(t["year"] == t["year"].max()) & (t["setting_to"] != NO_PLAN)]
    assert last["count"].sum() == 2153
    assert len(last.groupby(["ncy_to", "need_to", "setting_to"])) == 378


@pytest.mark.skipif(not SHARED.exists(), reason="shared anchors not mounted")
def test_bundled_copy_matches_the_source():
    bundled = Path(__file__).parents[1] / "senforecast/datasets/data/witan_demo"
    for name in ("transitions.csv", "population.csv", "valid-states.csv", "costs.csv"):
        assert (bundled / name).read_bytes() == (SHARED / name).read_bytes()


def test_valid_states_keep_needs_and_moves(demo):
    m = demo.provision.set_index("setting")
    assert m.loc["P", "min_ncy"] == -3 and m.loc["P", "max_ncy"] == -1
    assert m.loc["A", "designation"].split(";") == list("TUVWXY")
    assert "M" not in m.loc["A", "moves_to"].split(";")


def test_bad_rows_are_reported_with_row_and_column():
    raw = pd.DataFrame({"calendar-year": ["2016", "x"], "setting-1": ["A", "A"], "need-1": ["X", "X"],
                        "academic-year-1": ["3", "3"], "setting-2": ["A", "A"], "need-2": ["X", "X"],
                        "academic-year-2": ["5", "4"]})
    with pytest.raises(InputValidationError) as err:
        read_witan_transitions(raw)
    msg = str(err.value)
    assert "row 3, column 'calendar-year'" in msg
    with pytest.raises(InputValidationError, match="academic-year-1 \\+ 1"):
        read_witan_transitions(raw.iloc[:1])


def test_missing_column_is_named():
    with pytest.raises(InputValidationError, match="population"):
        read_witan_population(pd.DataFrame({"calendar-year": [2017], "academic-year": [1]}))
    with pytest.raises(InputValidationError, match="below min-academic-year"):
        read_witan_valid_states(pd.DataFrame({"setting": ["A"], "min-academic-year": [5],
                                              "max-academic-year": [1], "needs": ["X"]}))
