"""Schemas and validate_table: typed canonical tables, every problem collected, rows as in Excel."""
from __future__ import annotations

import warnings

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.codes import SETTING_KINDS
from senforecast.core.errors import InputValidationError, InputWarning, SenForecastError, ValidationReport
from senforecast.core.schema import TABLE_COLUMNS, TABLES, column_names, parse_year_label, table_schema, validate_table

NEEDS = ["ASD", "MLD", "SLD", "SEMH"]


def problems(frame, table, **kw):
    with pytest.raises(InputValidationError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            validate_table(frame, table, **kw)
    assert isinstance(info.value, SenForecastError)
    return info.value.problems


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_a_pandera_schema_with_its_columns(table):
    schema = table_schema(table)
    assert isinstance(schema, pa.DataFrameSchema)
    assert set(schema.columns) == {s.name for s in TABLE_COLUMNS[table]} == set(column_names(table))


def test_unknown_table_is_refused():
    with pytest.raises(ValueError, match="unknown table"):
        table_schema("pupils")


def test_all_problems_are_collected_not_only_the_first():
    raw = pd.DataFrame({
        "setting": ["A", "B", "C", "D"], "kind": ["special_school", "castle", "unit", "unit"],
        "area": ["N", "N", None, "N"], "min_ncy": [0, 12, 3, "x"], "max_ncy": [6, 4, 3, 6],
        "capacity": [10, -1, "", 5], "designation": ["ASD", "ASD;ZZZ", "*", "SLD, MLD"],
        "opens": [None, "2027", 2026, "soon"], "closes": [None, "2026", None, None],
    })
    found = problems(raw, "provision", needs=NEEDS, file="register.xlsx")
    got = {(p.row, p.column) for p in found}
    assert got == {(3, "kind"), (3, "min_ncy"), (3, "capacity"), (3, "designation"), (3, "closes"),
                   (4, "area"), (5, "min_ncy"), (5, "opens")}
    assert all(p.file == "register.xlsx" for p in found)
    assert not any("failed the check" in p.message for p in found)  # every message is plain English
    kind = next(p for p in found if p.column == "kind")
    assert all(k in kind.message for k in SETTING_KINDS) and kind.value == "castle"


def test_error_text_lists_each_problem_with_file_row_and_column():
    raw = pd.DataFrame({"pupil_id": ["a", "b"], "year": [2024, 2024], "ncy": [3, 99],
                        "need": ["ASD", "XX"], "setting": ["S", "S"], "area": ["N", "N"]})
    with pytest.raises(InputValidationError) as info:
        validate_table(raw, "plans", needs=NEEDS, file="plans.csv")
    text = str(info.value)
    assert "2 problem(s)" in text
    assert "plans.csv, row 3, column 'ncy'" in text and "plans.csv, row 3, column 'need'" in text
    assert "ASD, MLD, SEMH, SLD" in text  # says what was expected


def test_rows_argument_gives_real_sheet_rows():
    raw = pd.DataFrame({"setting": ["A", "B"], "cost_per_place": [100, -5]})
    (p,) = problems(raw, "costs", rows=[7, 9])
    assert (p.row, p.column) == (9, "cost_per_place")


def test_pupil_ids_never_appear_in_problems():
    raw = pd.DataFrame({"pupil_id": ["SECRET1", "SECRET1", ""], "year": [2024, 2024, 2024],
                        "ncy": [1, 2, 3], "need": ["ASD"] * 3, "setting": ["S"] * 3, "area": ["N"] * 3})
    found = problems(raw, "plans")
    assert {(p.row, p.column) for p in found} == {(2, None), (3, None), (4, "pupil_id")}
    assert all("SECRET1" not in str(p) and p.value != "SECRET1" for p in found)


def test_case_slips_in_codes_are_corrected_with_warning_and_count():
    raw = pd.DataFrame({"year": [2024, 2024], "area": ["N", "N"], "ncy": [1, 1], "need": ["asd", " S E M H"],
                        "count": [3, 4]})
    report = ValidationReport()
    with pytest.warns(InputWarning, match="corrected"):
        out = validate_table(raw, "census", needs=NEEDS, report=report)
    assert out["need"].tolist() == ["ASD", "SEMH"]
    assert report.counts["need_codes_corrected"] == 2 and len(report.warnings) == 1


@settings(max_examples=30, deadline=None)
@given(st.integers(1990, 2098))
def test_academic_year_labels_are_the_january_census_inside(start):
    end = start + 1
    assert parse_year_label(f"{start}/{end % 100:02d}") == (end, True)
    assert parse_year_label(f"{start}-{end}") == (end, True)
    assert parse_year_label(f"{start}{end % 100:02d}") == (end, True)
    frame = pd.DataFrame({"year": [f"{start}{end % 100:02d}", end], "area": "N", "ncy": [1, 2], "count": 1})
    with pytest.warns(InputWarning, match="academic-year"):
        assert validate_table(frame, "census")["year"].tolist() == [end, end]
    assert parse_year_label(str(end)) == (end, False)
    assert parse_year_label(f"{start}/{(end + 1) % 100:02d}")[0] is None  # not one school year


plan_rows = st.lists(
    st.tuples(st.integers(-5, 25), st.sampled_from(NEEDS), st.sampled_from(["RB1", "SS1", "mainstream"]),
              st.sampled_from(["N", "S"]), st.integers(2015, 2030)),
    min_size=1, max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(rows=plan_rows, as_text=st.booleans())
def test_valid_plans_keep_every_row_and_value(rows, as_text):
    raw = pd.DataFrame(rows, columns=["ncy", "need", "setting", "area", "year"])
    raw.insert(0, "pupil_id", [f"p{i}" for i in range(len(raw))])
    given_frame = raw.astype(str) if as_text else raw
    out = validate_table(given_frame, "plans", needs=NEEDS)
    assert len(out) == len(raw)  # nothing dropped
    assert out["ncy"].tolist() == raw["ncy"].tolist()
    assert out["year"].tolist() == raw["year"].tolist()
    assert out["pupil_id"].tolist() == raw["pupil_id"].tolist()
    assert out["ncy"].between(-5, 25).all()


@settings(max_examples=40, deadline=None)
@given(rows=plan_rows, data=st.data())
def test_one_bad_cell_is_reported_at_its_row_and_column(rows, data):
    raw = pd.DataFrame(rows, columns=["ncy", "need", "setting", "area", "year"]).astype(object)
    raw.insert(0, "pupil_id", [f"p{i}" for i in range(len(raw))])
    pos = data.draw(st.integers(0, len(raw) - 1))
    column, bad = data.draw(st.sampled_from([("ncy", 26), ("ncy", "Y"), ("ncy", -6), ("need", "NOPE"),
                                             ("year", "last year"), ("year", 1800), ("area", "")]))
    raw.loc[pos, column] = bad
    (p,) = problems(raw, "plans", needs=NEEDS)
    assert (p.row, p.column) == (pos + 2, column)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.one_of(st.integers(0, 10**6), st.integers(-10**6, -1)), min_size=1, max_size=20))
def test_negative_counts_are_exactly_the_rows_reported(counts):
    raw = pd.DataFrame({"year": 2024, "area": "N", "ncy": range(len(counts)), "count": counts})
    raw["ncy"] = raw["ncy"] % 25
    raw["need"] = [f"n{i}" for i in range(len(counts))]
    negative = {i + 2 for i, c in enumerate(counts) if c < 0}
    if not negative:
        assert validate_table(raw, "census")["count"].tolist() == counts
        return
    found = problems(raw, "census")
    assert {p.row for p in found} == negative and {p.column for p in found} == {"count"}


def _reference_cell(v, kind):
    """The cell-by-cell rules, written out plainly, as the reference for the vectorised parser."""
    import math

    from senforecast.core.schema import _as_number, _is_blank, parse_ncy

    if _is_blank(v):
        return None
    if kind in ("year", "opt_year"):
        y, _ = parse_year_label(v)
        return None if y is None or abs(y) > 2**53 else y
    if kind == "ncy":
        return parse_ncy(v)
    x = _as_number(v)
    if x is None or not math.isfinite(x) or abs(x) > 2**53:
        return None
    if kind == "count" and not float(x).is_integer():
        return None
    return x


cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " 7 ", "7.0", "1,204", "£3.50", "90+", "2023/24", "202324", "R", "Year 9", "N1",
                     "1e999", "nan", "-inf", "0x10", "1_000", "twelve", "2.5", "-3", "\u00a012"]),
    st.integers(-100, 3000).map(str), st.text(max_size=5),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(cells, min_size=1, max_size=25),
       kind=st.sampled_from(["year", "opt_year", "ncy", "count", "amount"]))
def test_vectorised_parsing_matches_the_cell_rules(values, kind):
    from senforecast.core.schema import _parse_column

    parsed = _parse_column(pd.Series(values, dtype=object), kind)
    bad_positions = {i for i, _ in parsed.bad}
    for i, v in enumerate(values):
        want = _reference_cell(v, kind)
        got = parsed.series.iloc[i]
        if want is None:
            assert pd.isna(got)
            from senforecast.core.schema import _is_blank

            assert (i in bad_positions) != _is_blank(v)
        else:
            assert got == want and i not in bad_positions


def test_a_blank_max_ncy_is_reported_once_not_also_as_min_above_max():
    raw = pd.DataFrame({"setting": ["A"], "kind": ["unit"], "area": ["N"], "min_ncy": [3], "max_ncy": [None],
                        "capacity": [8]})
    (p,) = problems(raw, "provision")
    assert (p.row, p.column) == (2, "max_ncy") and "blank" in p.message
