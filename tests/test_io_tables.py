"""Readers of the canonical tables: every schema rule rejects a crafted bad file with a message
naming the file, the spreadsheet row and the column; every problem is reported at once."""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from senforecast.core.errors import InputValidationError, InputWarning, ValidationReport
from senforecast.io import (
    read_census,
    read_costs,
    read_placements,
    read_plans,
    read_population,
    read_provision,
)

DATA = Path(__file__).parent / "data"
NEEDS = ["ASD", "MLD", "SLCN", "SEMH"]


def problems_of(call):
    with pytest.raises(InputValidationError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            call()
    return info.value.problems


def where(problems):
    return {(p.row, p.column) for p in problems}


# (reader call, {(row, column): words the message must contain}) - rows as seen in Excel
CASES = {
    "plans": (
        lambda: read_plans(DATA / "plans_bad.csv", needs=NEEDS, settings=["RB1"]),
        {
            (3, "need"): "unknown need code",
            (4, "ncy"): "national curriculum year",
            (5, "year"): "census year",
            (6, "setting"): "not in the provision register",
            (7, "area"): "blank",
            (2, None): "duplicate",
            (8, None): "duplicate",
            (9, "ncy"): "national curriculum year",
        },
    ),
    "provision": (
        lambda: read_provision(DATA / "provision_bad.csv", needs=NEEDS),
        {
            (3, "kind"): "kind of setting",
            (4, "min_ncy"): "min_ncy is greater than max_ncy",
            (5, "capacity"): "negative",
            (6, "designation"): "designation",
            (7, "closes"): "later year than opens",
            (8, "cost_per_place"): "a number",
        },
    ),
    "census": (
        lambda: read_census(DATA / "census_bad.csv", needs=NEEDS),
        {(3, "count"): "negative", (4, "count"): "whole number", (4, None): "duplicate",
         (5, None): "duplicate"},
    ),
    "population": (
        lambda: read_population(DATA / "population_bad.csv"),
        {(3, "count"): "negative", (4, "count"): "a number", (5, "ncy"): "blank"},
    ),
    "placements": (
        lambda: read_placements(DATA / "placements_bad.csv", needs=NEEDS),
        {(3, "ncy"): "national curriculum year", (4, "count"): "whole number",
         (5, "cost_per_place"): "negative"},
    ),
    "costs": (
        lambda: read_costs(DATA / "costs_bad.csv"),
        {(2, None): "duplicate", (3, None): "duplicate", (4, "cost_per_place"): "blank",
         (5, "cost_per_place"): "a number"},
    ),
}


@pytest.mark.parametrize("table", list(CASES))
def test_each_rule_names_file_row_and_column(table):
    call, expected = CASES[table]
    problems = problems_of(call)
    found = {(p.row, p.column): p for p in problems}
    for (row, column), words in expected.items():
        assert (row, column) in found, f"no problem reported at row {row}, column {column}: {problems}"
        p = found[(row, column)]
        assert p.file == f"{table}_bad.csv"
        assert words in p.message, p.message
        text = str(p)
        assert f"{table}_bad.csv" in text and f"row {row}" in text
        if column:
            assert repr(column) in text
    # all problems of the file at once, and nothing reported on the good rows
    assert where(problems) == set(expected)


def test_duplicate_message_names_the_other_row_but_never_the_pupil_id():
    problems = problems_of(lambda: read_plans(DATA / "plans_bad.csv", needs=NEEDS, settings=["RB1"]))
    dup = [p for p in problems if "duplicate" in p.message]
    assert {p.row for p in dup} == {2, 8}
    assert "row(s) 8" in next(p.message for p in dup if p.row == 2)
    assert all("A001" not in str(p) for p in problems)


def test_good_file_reads_with_canonical_types(tmp_path):
    f = tmp_path / "plans.csv"
    f.write_text("pupil_id,year,ncy,need,setting,area\n007,2024,R,asd,RB1,N\n008,2023/24,Year 11,MLD,RB1,N\n")
    report = ValidationReport()
    with pytest.warns(InputWarning):
        plans = read_plans(f, needs=NEEDS, settings=["RB1"], report=report)
    assert list(plans.columns[:6]) == ["pupil_id", "year", "ncy", "need", "setting", "area"]
    assert plans["pupil_id"].tolist() == ["007", "008"]  # leading zeros kept
    assert plans["year"].tolist() == [2024, 2024]
    assert plans["ncy"].tolist() == [0, 11]
    assert plans["need"].tolist() == ["ASD", "MLD"]  # case corrected, with a warning
    assert str(plans["ncy"].dtype) == "int64" and str(plans["year"].dtype) == "int64"
    assert report.counts["plans.rows_read"] == 2 and report.counts["plans.rows_kept"] == 2
    assert report.counts["need_codes_corrected"] == 1
    assert report.counts["academic_years_converted"] == 1


def test_column_mapping_and_aliases(tmp_path):
    f = tmp_path / "extract.csv"
    f.write_text("Child Ref,Census,Year Group,SEN Type,Base,Cluster,Surname\nx1,2024,5,ASD,RB1,N,Smith\n")
    with pytest.warns(InputWarning, match="ignored column"):
        plans = read_plans(f, columns={"Child Ref": "pupil_id", "SEN Type": "need"})
    assert plans.iloc[0][["pupil_id", "year", "ncy", "need", "setting", "area"]].tolist() == \
        ["x1", 2024, 5, "ASD", "RB1", "N"]
    assert "Surname" not in plans.columns  # extra columns are not carried


def test_missing_column_says_how_to_map_it(tmp_path):
    f = tmp_path / "plans.csv"
    f.write_text("pupil_id,year,ncy,need,area\nx,2024,3,ASD,N\n")
    (p,) = problems_of(lambda: read_plans(f))
    assert p.column == "setting" and p.row is None
    assert "columns=" in p.message and "plans.csv" in str(p)


def test_missing_area_becomes_all_with_warning(tmp_path):
    f = tmp_path / "pop.csv"
    f.write_text("year,ncy,count\n2024,3,1000\n")
    report = ValidationReport()
    with pytest.warns(InputWarning, match="ALL"):
        pop = read_population(f, report=report)
    assert pop["area"].tolist() == ["ALL"]
    assert report.counts["area_missing"] == 1


def test_population_by_age_converts_and_counts_dropped_rows(tmp_path):
    f = tmp_path / "pop.csv"
    f.write_text("year,area,age,count\n2030,N,4,100\n2030,N,11,90.5\n2030,N,40,80\n2030,N,90+,5\n")
    report = ValidationReport()
    with pytest.warns(InputWarning, match="ages outside school range"):
        pop = read_population(f, report=report)
    assert pop["ncy"].tolist() == [-1, 6]
    # every row read is either kept or counted as dropped
    assert report.counts["population.rows_read"] == 4
    assert report.counts["population.rows_kept"] + report.counts["population.rows_dropped_age_out_of_range"] == 4


def test_settings_can_be_a_provision_table_and_kinds_are_allowed():
    prov = read_provision(pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "area": ["N"],
                                        "min_ncy": [0], "max_ncy": [6], "capacity": [20]}))
    assert prov.loc[0, "designation"] == "*" and prov.loc[0, "name"] == "RB1"
    plans = read_plans(pd.DataFrame({"pupil_id": ["a", "b"], "year": [2024, 2024], "ncy": [1, 2],
                                     "need": ["ASD", "ASD"], "setting": ["RB1", "mainstream"],
                                     "area": ["N", "N"]}), settings=prov)
    assert len(plans) == 2


def test_unknown_file_and_folder_are_library_errors(tmp_path):
    for path in (tmp_path / "nope.csv", tmp_path):
        (p,) = problems_of(lambda: read_plans(path))
        assert str(path) in p.file or path.name in p.file


def test_excel_reads_with_real_sheet_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Intro"
    ws["A1"] = "read me"
    ws2 = wb.create_sheet("plans")
    ws2.append(["Local authority plans extract"])  # a title row above the table
    ws2.append([])
    ws2.append(["UPN", "Year", "NCY", "Need", "Setting", "Area"])
    ws2.append(["a", 2024, 3, "ASD", "RB1", "N"])
    ws2.append(["b", 2024, 3.0, "ASD", "RB1", "N"])
    ws2.append(["c", 2024, 40, "ASD", "RB1", "N"])
    f = tmp_path / "plans.xlsx"
    wb.save(f)
    # the title row is skipped with a warning; rows are the sheet's own (header 3, data 4-6)
    with pytest.warns(InputWarning, match="title row"):
        with pytest.raises(InputValidationError) as info:
            read_plans(f)
    assert {(p.file, p.row, p.column) for p in info.value.problems} == {("plans.xlsx [plans]", 6, "ncy")}
    ws2.delete_rows(1, 2)
    ws2.insert_rows(1)
    wb.save(f)
    problems = problems_of(lambda: read_plans(f))  # header now in row 2, data rows 3-5
    assert where(problems) == {(5, "ncy")}


def test_excel_two_row_merged_header_is_handled(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Pupil", None, "Placement", None, None, "Where"])
    ws.merge_cells("A1:B1")
    ws.merge_cells("C1:E1")
    ws.append(["UPN", "Census year", "NC Year", "Need", "Setting", "Area"])
    ws.append(["a", 2024, 3, "ASD", "RB1", "N"])
    ws.append(["b", 2024, "x", "ASD", "RB1", "N"])
    f = tmp_path / "merged.xlsx"
    wb.save(f)
    problems = problems_of(lambda: read_plans(f))
    assert where(problems) == {(4, "ncy")}  # data start in sheet row 3
    ws.delete_rows(4)
    wb.save(f)
    plans = read_plans(f)
    assert plans.iloc[0][["pupil_id", "ncy", "area"]].tolist() == ["a", 3, "N"]


def test_dataframe_input_with_pandas_missing_values():
    df = pd.DataFrame({"year": pd.array([2024, None], dtype="Int64"), "area": ["N", "N"],
                       "ncy": pd.array([3, 4], dtype="Int64"), "count": [10.0, 12.0]})
    (p,) = problems_of(lambda: read_population(df))
    assert (p.row, p.column) == (3, "year") and "blank" in p.message


def test_plans_by_age_convert_to_ncy_and_bad_ages_are_errors():
    df = pd.DataFrame({"pupil_id": ["a", "b", "c"], "year": [2024] * 3, "Age": [5, 16, 40],
                       "need": ["ASD"] * 3, "setting": ["S"] * 3, "area": ["N"] * 3})
    (p,) = problems_of(lambda: read_plans(df))
    assert (p.row, p.column, p.value) == (4, "age", "40")  # out of range: an error, not dropped
    assert read_plans(df.iloc[:2])["ncy"].tolist() == [0, 11]


def test_a_year_column_of_year_groups_gets_one_clear_message():
    df = pd.DataFrame({"UPN": ["a", "b"], "Year": ["7", "R"], "Need": ["ASD"] * 2, "Setting": ["S"] * 2,
                       "Area": ["N"] * 2})
    (p,) = problems_of(lambda: read_plans(df))
    assert p.column == "Year" and "year groups" in p.message and "columns={'Year': 'ncy'}" in p.message
