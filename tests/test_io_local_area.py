"""read_local_area: all tables read together, cross-table checks, every row accounted for."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

from senforecast.core.data import LocalAreaData
from senforecast.core.errors import InputValidationError, InputWarning
from senforecast.io import read_local_area

NEEDS = ["ASD", "MLD", "SLCN"]


def provision():
    return pd.DataFrame({
        "setting": ["RB1", "RB2", "RB2"], "kind": ["resource_base", "unit", "unit"], "area": ["N", "S", "S"],
        "min_ncy": [0, 7, 7], "max_ncy": [6, 11, 13], "capacity": [20, 8, 16], "designation": ["ASD", "*", "*"],
        "opens": [None, None, 2025], "closes": [None, 2025, None],
    })


def plans(rows):
    return pd.DataFrame(rows, columns=["pupil_id", "year", "ncy", "need", "setting", "area"])


def test_plan_setting_not_in_register_is_an_error_naming_the_row(tmp_path):
    f = tmp_path / "plans.csv"
    plans([("a", 2024, 3, "ASD", "RB1", "N"), ("b", 2024, 3, "ASD", "RB9", "N")]).to_csv(f, index=False)
    with pytest.raises(InputValidationError) as info:
        read_local_area(plans=f, provision=provision(), need_scheme=NEEDS)
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.value) == ("plans.csv", 3, "setting", "RB9")


def test_problems_of_several_tables_are_reported_together(tmp_path):
    f = tmp_path / "plans.csv"
    plans([("a", 2024, 3, "QQ", "RB1", "N")]).to_csv(f, index=False)
    g = tmp_path / "population.csv"
    g.write_text("year,area,ncy,count\n2024,N,3,-4\n")
    with pytest.raises(InputValidationError) as info:
        read_local_area(plans=f, population=g, provision=provision(), need_scheme=NEEDS)
    assert {(p.file, p.row, p.column) for p in info.value.problems} == {
        ("plans.csv", 2, "need"), ("population.csv", 2, "count")}


def test_age_range_designation_and_ncy_advance_are_warned_and_kept():
    rows = [
        ("a", 2023, 5, "ASD", "RB1", "N"), ("a", 2024, 6, "ASD", "RB1", "N"),  # fine
        ("b", 2023, 6, "ASD", "RB1", "N"), ("b", 2024, 7, "ASD", "RB1", "N"),  # 7 outside RB1 (0-6)
        ("c", 2023, 3, "MLD", "RB1", "N"), ("c", 2024, 3, "MLD", "RB1", "N"),  # not ASD x2, held back
        ("d", 2024, 12, "ASD", "RB2", "S"),  # RB2 in 2024 is the 7-11 period: outside
        ("e", 2025, 12, "ASD", "RB2", "S"),  # RB2 from 2025 takes 7-13: fine
    ]
    with pytest.warns(InputWarning) as record:
        data = read_local_area(plans=plans(rows), provision=provision(), need_scheme=NEEDS, name="X")
    assert isinstance(data, LocalAreaData) and data.name == "X"
    assert len(data.plans) == len(rows)  # nobody dropped
    c = data.report.counts
    assert c["plans.outside_age_range"] == 2
    assert c["plans.outside_designation"] == 2
    assert c["plans.ncy_not_advancing"] == 1
    assert c["plans.rows_read"] == c["plans.rows_kept"] == len(rows)
    messages = " ".join(str(w.message) for w in record)
    assert "RB1: 1" in messages and "RB2: 1" in messages and "1 stayed in the same year group" in messages
    assert all("'a'" not in str(w.message) for w in record)


def test_per_table_column_mapping():
    pop = pd.DataFrame({"Yr": [2024], "Ward": ["N"], "NCY": [1], "Kids": [10]})
    data = read_local_area(population=pop, columns={"population": {"Yr": "year", "Ward": "area", "Kids": "count"}})
    assert data.population.iloc[0][["year", "area", "ncy", "count"]].tolist() == [2024, "N", 1, 10.0]
    # and one flat mapping shared by every file
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        data = read_local_area(population=pop, columns={"Yr": "year", "Ward": "area", "Kids": "count",
                                                         "UPN": "pupil_id"})
    assert len(data.population) == 1


def test_plan_areas_without_population_are_warned():
    pop = pd.DataFrame({"year": [2024, 2024], "area": ["N", "S"], "ncy": [3, 3], "count": [100, 90]})
    rows = [("a", 2024, 3, "ASD", "RB1", "N"), ("b", 2024, 3, "ASD", "RB1", "Nrth"), ("c", 2024, 3, "ASD", "RB1", "E")]
    with pytest.warns(InputWarning, match="no population rows"):
        data = read_local_area(plans=plans(rows), population=pop)
    assert data.report.counts["plans.area_without_population"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # a whole-authority population is fine
        read_local_area(plans=plans(rows[:1]), population=pop.assign(area="ALL").iloc[:1])
