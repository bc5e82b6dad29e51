"""Fuzzed malformed inputs never raise anything but senforecast's own errors.

Random bytes, wrong encodings, empty and header-only files, huge numbers, NaN/inf and Excel
sheets with merged header rows go through every reader: each call either returns a table or
raises a SenForecastError subclass (about 100 generated examples in all).
"""
from __future__ import annotations

import io
import os
import uuid
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core.errors import SenForecastError
from senforecast.io import (
    read_census,
    read_costs,
    read_placements,
    read_plans,
    read_population,
    read_provision,
    read_sen_england,
    read_statswales,
)

READERS = {
    "plans": lambda p: read_plans(p, needs=["ASD", "MLD"], settings=["RB1"]),
    "census": read_census,
    "population": read_population,
    "provision": lambda p: read_provision(p, needs=["ASD"]),
    "placements": read_placements,
    "costs": read_costs,
    "sen_england": read_sen_england,
    "statswales": read_statswales,
}

HEADERS = {
    "plans": ["pupil_id", "year", "ncy", "need", "setting", "area"],
    "census": ["year", "area", "ncy", "need", "count"],
    "population": ["year", "area", "age", "count"],
    "provision": ["setting", "kind", "area", "min_ncy", "max_ncy", "capacity", "designation", "opens", "closes"],
    "placements": ["year", "setting", "need", "ncy", "area", "count", "cost_per_place"],
    "costs": ["setting", "need", "cost_per_place"],
    "sen_england": ["time_period", "geographic_level", "country_name", "la_name", "primary_need",
                    "number_of_pupils"],
    "statswales": ["Local authority", "Major need", "2019/20", "2020/21"],
}

# SENFORECAST_FUZZ_EXAMPLES=500 fuzzes harder (random, not derandomized) when run by hand
_DEEP = int(os.environ.get("SENFORECAST_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_DEEP or 15, deadline=None, derandomize=not _DEEP,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NASTY = st.sampled_from([
    "", " ", "1e308", "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "9" * 40, "-" + "9" * 30, "0x1F",
    "1_000", "1,2,3", "2023/24", "202324", "R", "Y7", "N1", "-0", "00012", "3.0", "2.5", "c", "..", "*", ":",
    "Total", "ASD", "RB1", "resource_base", "\u00e9\u00e8", "\u2603", '"', "'", "\t", "=1+1", "NULL", "None",
    "TRUE", "2024-01-17", "\ufeff", "\x0b",
])
CELL = st.one_of(NASTY, st.integers(-10**30, 10**30).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=8))


def call(reader, path):
    """Run a reader; pass if it returns a DataFrame or raises one of the library's errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = reader(path)
        except SenForecastError:
            return None
    assert isinstance(out, pd.DataFrame)
    return out


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


def fresh(workdir: Path, suffix: str) -> Path:
    return workdir / f"{uuid.uuid4().hex}{suffix}"


@FUZZ
@given(data=st.binary(max_size=400), table=st.sampled_from(sorted(READERS)),
       suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_random_bytes(workdir, data, table, suffix):
    f = fresh(workdir, suffix)
    f.write_bytes(data)
    call(READERS[table], f)


@FUZZ
@given(table=st.sampled_from(sorted(READERS)),
       cells=st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le"]),
       sep=st.sampled_from([",", ";", "\t"]))
def test_nasty_cells_in_any_encoding(workdir, table, cells, encoding, sep):
    lines = [sep.join(HEADERS[table])] + [sep.join(row) for row in cells]
    f = fresh(workdir, ".csv")
    f.write_bytes("\n".join(lines).encode(encoding, errors="replace"))
    call(READERS[table], f)


@FUZZ
@given(table=st.sampled_from(sorted(READERS)),
       rows=st.lists(st.lists(st.one_of(st.none(), st.integers(-10**20, 10**20),
                                        st.floats(allow_nan=True, allow_infinity=True), CELL),
                              min_size=1, max_size=9), max_size=5),
       merges=st.lists(st.tuples(st.integers(1, 2), st.integers(1, 6), st.integers(0, 3), st.integers(0, 1)),
                       max_size=3))
def test_excel_with_merged_header_rows(workdir, table, rows, merges):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Title"] + [None] * 5)
    ws.append(HEADERS[table])
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def storable(v):  # what Excel can hold: no control characters, no NaN/inf numbers
        if isinstance(v, str):
            return ILLEGAL_CHARACTERS_RE.sub("", v)
        if isinstance(v, float) and (v != v or abs(v) == float("inf")):
            return str(v)
        return v

    for r in rows:
        ws.append([storable(v) for v in r])
    taken: set[tuple[int, int]] = set()
    for row, col, width, height in merges:
        cells = {(r, c) for r in range(row, row + height + 1) for c in range(col, col + width + 1)}
        if len(cells) > 1 and not cells & taken:
            taken |= cells
            ws.merge_cells(start_row=row, start_column=col, end_row=row + height, end_column=col + width)
    f = fresh(workdir, ".xlsx")
    wb.save(f)
    call(READERS[table], f)


@FUZZ
@given(table=st.sampled_from(sorted(READERS)),
       frame=st.lists(st.lists(st.one_of(st.none(), st.just(pd.NA), st.just(pd.NaT), st.integers(-10**25, 10**25),
                                         st.floats(allow_nan=True, allow_infinity=True), CELL),
                               min_size=1, max_size=9), min_size=1, max_size=5))
def test_dataframes_with_huge_numbers_and_nan(table, frame):
    width = len(HEADERS[table])
    rows = [(r + [None] * width)[:width] for r in frame]
    df = pd.DataFrame(rows, columns=HEADERS[table])
    call(READERS[table], df)


@pytest.mark.parametrize("table", sorted(READERS))
@pytest.mark.parametrize("content", [b"", b"\n\n\n", b"\xef\xbb\xbf", b",,,\n,,,\n"])
def test_empty_files(tmp_path, table, content):
    f = tmp_path / "empty.csv"
    f.write_bytes(content)
    with pytest.raises(SenForecastError, match="empty"):
        READERS[table](f)


@pytest.mark.parametrize("table", sorted(READERS))
def test_header_only_files(tmp_path, table):
    f = tmp_path / "header.csv"
    f.write_text(",".join(HEADERS[table]) + "\n")
    out = call(READERS[table], f)
    if out is not None:
        assert len(out) == 0


def test_excel_that_is_not_a_workbook(tmp_path):
    f = tmp_path / "broken.xlsx"
    f.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SenForecastError, match="Excel"):
        read_plans(f)
    g = tmp_path / "old.xls"
    g.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(SenForecastError, match="xlsx"):
        read_plans(g)


def test_wrong_sheet_names_are_library_errors(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(HEADERS["costs"])
    f = tmp_path / "c.xlsx"
    wb.save(f)
    for sheet in ("nope", 3):
        with pytest.raises(SenForecastError, match="sheet"):
            read_costs(f, sheet=sheet)


def test_not_a_path():
    with pytest.raises(SenForecastError):
        read_plans(io.BytesIO(b"abc"))  # type: ignore[arg-type]
