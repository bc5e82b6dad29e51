"""NCY cells too large to hold: reported like any other bad NCY (file, row, column, the cell's
own text and the valid range), never as an overflowed number or a crash."""
from __future__ import annotations

import pandas as pd
import pytest

from senforecast.io import read_plans, read_sen_england
from senforecast.core.ncy import NCY_MAX, NCY_MIN
from senforecast.core.schema import parse_ncy
from test_io_tables import problems_of  # tests/ is on the path (no __init__.py)

NEEDS = ["ASD", "MLD"]
BIG = 2**53
HUGE = {
    3: "Y99999999999999999999",
    4: "Year -99999999999999999999",
    5: "NC Year 12345678901234567890123",
    6: "Y" + "9" * 5000,  # beyond Python's 4,300-digit limit of int()
    7: "99999999999999999999",
}


def test_huge_ncy_in_a_csv_names_the_cell_text_and_the_range(tmp_path):
    f = tmp_path / "plans.csv"
    lines = ["pupil_id,year,ncy,need,setting,area", "p1,2024,Y7,ASD,MS,N"]
    lines += [f"p{row},2024,{cell},ASD,MS,N" for row, cell in HUGE.items()]
    lines += ["p8,2024,Y31,MLD,MS,N"]  # an ordinary out-of-range NCY, for comparison
    f.write_text("\n".join(lines) + "\n")
    found = {(p.row, p.column): p for p in problems_of(lambda: read_plans(f, needs=NEEDS))}
    assert set(found) == {(row, "ncy") for row in HUGE} | {(8, "ncy")}
    for row, cell in HUGE.items():
        p = found[(row, "ncy")]
        assert p.file == "plans.csv" and p.value == cell
        text = str(p)
        assert text.startswith(f"plans.csv, row {row}, column 'ncy':")
        assert f"from {NCY_MIN} to {NCY_MAX}" in text and repr(cell) in text
        assert "-9223372036854775808" not in text
    assert f"from {NCY_MIN} to {NCY_MAX}" in found[(8, "ncy")].message and found[(8, "ncy")].value == 31


@pytest.mark.parametrize("number", [0, 7, -2, BIG - 1, BIG, BIG + 1, -(BIG + 1), 2 * BIG, 10**20, -(10**30)])
def test_a_labelled_ncy_is_read_like_a_plain_number(number):
    plain = parse_ncy(str(number))
    assert parse_ncy(f"Y{number}") == plain == parse_ncy(f"Year {number}") == parse_ncy(f"ncy {number}")
    if abs(number) <= BIG:  # held exactly
        assert plain == number
    elif abs(number) >= 2 * BIG:  # too large to hold: unreadable (in between, floats round)
        assert plain is None


def test_huge_year_group_in_a_published_table_is_an_input_error():
    df = pd.DataFrame({
        "time_period": ["2024"] * 2, "time_identifier": ["Calendar year"] * 2,
        "geographic_level": ["Local authority"] * 2, "country_name": ["England"] * 2,
        "la_name": ["Cumbria"] * 2, "nc_year": ["Year 7", "Year 99999999999999999999"],
        "Total_all": ["10", "3"]})
    (p,) = problems_of(lambda: read_sen_england(df))
    assert (p.row, p.column, p.value) == (3, "ncy", "Year 99999999999999999999")
