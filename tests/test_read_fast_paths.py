"""The fast paths of reading a plans file give exactly what the plain, cell-by-cell reading gives.

Reading a 1M-row CSV is fast because (1) a CSV without quote characters is split by pandas' C
parser instead of :mod:`csv`, and (2) the cell rules run once per *distinct* text of a column
and are taken back to the cells. Each is checked here against a straightforward reference kept
in this file: :func:`csv.reader` itself, and a loop that applies the cell rules to every cell.
"""
from __future__ import annotations

import csv
import io
import math
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core import schema
from senforecast.core.errors import InputValidationError, SenForecastError, ValidationReport
from senforecast.io import read_plans
from senforecast.io._source import _HEAD_ROWS, _plain_csv_grid, read_raw
from senforecast.core.schema import TABLE_COLUMNS, _as_number, _Parsed, parse_ncy, parse_year_label

# --- reference: the cell rules applied to one cell at a time ------------------------------------


def _blank(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def _reference_parse_column(raw: pd.Series, kind: str) -> _Parsed:
    """What ``schema._parse_column`` must return for a column of text and blank cells."""
    values = list(raw.astype(object))
    if kind in ("id", "code", "text"):
        return _Parsed(pd.Series([None if _blank(v) else v.strip() for v in values], index=raw.index,
                                 dtype="str"), [], [])
    out, bad, converted = [], [], []
    for i, v in enumerate(values):
        if _blank(v):
            out.append(None)
            continue
        # first try: a plain number as pandas reads it ('1e3', '+7'); whole where a whole number is due
        x = pd.to_numeric(pd.Series([v.strip()], dtype=object), errors="coerce").astype(float).iloc[0]
        if math.isfinite(x) and abs(x) <= 2**53 and (kind == "amount" or x.is_integer()) \
                and (kind not in ("year", "opt_year") or abs(x) < 10_000):
            out.append(x)
            continue
        if kind in ("year", "opt_year"):
            x, conv = parse_year_label(v)
            ok = x is not None and abs(x) <= 2**53
            if ok and conv:
                converted.append(i)
        elif kind == "ncy":
            x = parse_ncy(v)
            ok = x is not None
        else:
            x = _as_number(v)
            ok = x is not None and math.isfinite(x) and abs(x) <= 2**53
            ok = ok and (kind == "amount" or float(x).is_integer())
        out.append(x if ok else None)
        if not ok:
            bad.append((i, v))
    if kind == "amount":
        series = pd.Series([np.nan if x is None else x for x in out], index=raw.index, dtype="float64")
    else:
        series = pd.Series(pd.array([None if x is None else int(x) for x in out], dtype="Int64"), index=raw.index)
    return _Parsed(series, bad, converted)


TEXTS = st.sampled_from([
    "", " ", "   ", "\t", "7", " 7 ", "07", "7.0", "7.5", "-3", "-0", "1e3", "1,204", "£3.50", "90+", "2023/24",
    "2023-2024", "1999/00", "202324", "2024", " 2024", "2024 ", "R", "r", "Reception", "Y7", "year 9", "N1",
    "nursery 2", "ASD", " asd ", "é", "Ünïcödé ", "\u00a012", "12\u2003", "nan", "NaN", "inf", "-inf", "1e999",
    "0x10", "1_000", "twelve", "None", "TRUE", "٣", "p1", "p1 ",
])
MISSING = st.sampled_from([None, float("nan"), np.nan, pd.NA, pd.NaT])
NUMBERS_AS_TEXT = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.integers(-10**17, 10**17).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.floats(-1e6, 1e6).map(lambda x: f" {x:.2f} "),
)
TEXT_CELL = st.one_of(TEXTS, MISSING, NUMBERS_AS_TEXT, st.text(max_size=6))
KINDS = ["id", "code", "text", "year", "opt_year", "ncy", "count", "amount"]


@settings(max_examples=150, deadline=None)
@given(values=st.lists(TEXT_CELL, max_size=40), kind=st.sampled_from(KINDS), offset=st.integers(0, 5))
def test_a_text_column_parses_as_the_cell_by_cell_loop(values, kind, offset):
    raw = pd.Series(values, index=range(offset, offset + len(values)), dtype=object)
    got = schema._parse_column(raw, kind)
    want = _reference_parse_column(raw, kind)
    pd.testing.assert_series_equal(got.series, want.series)
    assert repr(got.bad) == repr(want.bad)  # positions and raw values (pd.NA etc. compare badly)
    assert got.converted == want.converted


def test_columns_of_other_cells_still_take_the_cell_rules():
    # numbers and booleans are not merged with the text they equal (1 == 1.0 == True)
    raw = pd.Series(["1", 1, 1.0, True, " 1 ", None, np.int64(1)], dtype=object)
    parsed = schema._parse_column(raw, "count")
    assert parsed.series.tolist()[:3] == [1, 1, 1] and [i for i, _ in parsed.bad] == [3]
    assert parsed.series.tolist()[4] == 1 and pd.isna(parsed.series.iloc[5])


def _outcome(frame: pd.DataFrame, table: str, kw: dict) -> tuple:
    report = ValidationReport()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = schema.validate_table(frame, table, file="f.csv", report=report, **kw)
            result = ("ok", out)
        except InputValidationError as exc:
            result = ("error", [repr(p) for p in exc.problems])
    return result, _ours(caught), [repr(p) for p in report.warnings], report.counts


def _ours(caught) -> list[str]:
    # a ResourceWarning is the garbage collector closing some other test's file at a random moment
    return [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), table=st.sampled_from(list(TABLE_COLUMNS)), n=st.integers(0, 25),
       codes=st.sampled_from([{}, {"needs": ["ASD", "MLD"]}, {"needs": ["ASD", "MLD"], "settings": ["RB1"]}]))
def test_a_table_of_text_validates_as_with_the_cell_by_cell_loop(data, table, n, codes):
    # few distinct values per column, as in a real file: duplicates, case slips, academic years
    pools = {"id": ["p1", "p2", " p1", "p3", ""], "code": ["ASD", " asd", "MLD", "RB1", "rb1", "mainstream", "",
                                                      "resource base", "special"],
             "text": ["ASD;MLD", "*", "ASD / SLD", "", "Hill School"], "year": ["2024", "2023/24", " 2025 ", "2024.0"],
             "opt_year": ["", "2026", "2030", "2025/26"], "ncy": ["R", "Y7", "3", " 11", "N1"],
             "count": ["0", "3", " 12 ", "2.0"], "amount": ["12,000", "£9500", "20", "0.5", ""]}
    frame = pd.DataFrame(index=range(n))
    for spec in TABLE_COLUMNS[table]:
        if not spec.required and data.draw(st.booleans()):
            continue
        cell = st.one_of(st.sampled_from(pools[spec.kind]), TEXT_CELL) if data.draw(st.booleans()) \
            else st.sampled_from(pools[spec.kind])
        frame[spec.name] = pd.Series(data.draw(st.lists(cell, min_size=n, max_size=n)), dtype=object)
    got = _outcome(frame, table, codes)
    with mock.patch.object(schema, "_parse_column", _reference_parse_column):
        want = _outcome(frame, table, codes)
    if got[0][0] == "ok" and want[0][0] == "ok":
        pd.testing.assert_frame_equal(got[0][1], want[0][1])
    else:
        assert got[0] == want[0]
    assert got[1:] == want[1:]


# --- reference: csv.reader ---------------------------------------------------------------------

PIECES = st.sampled_from(list("ab 7,;\t|\n#'\\=") + ["\r\n", "\x0b", "\x0c", "\x1a", "\x85", "\u2028", "é", "€",
                                                     " \n", "NA", "null", "1.5", "\ufeff", "\r"])


@settings(max_examples=300, deadline=None)
@given(text=st.lists(PIECES, max_size=40).map("".join), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_the_c_parser_splits_a_quote_free_csv_as_the_csv_module(text, delimiter):
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    grid = _plain_csv_grid(text, delimiter)
    if grid is None:  # left to csv.reader: only these files, or an empty one
        assert text.startswith("\ufeff") or text.count("\r") != text.count("\r\n") or not records
        return
    assert grid.rownums == list(range(1, len(records) + 1))
    assert grid.records == records[:_HEAD_ROWS]
    width = grid.table.shape[1]
    assert grid.table.to_numpy().tolist() == [r + [""] * (width - len(r)) for r in records]


def _read_both(plain: str, quoted: str, **kw):
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate((plain, quoted)):
            path = Path(tmp) / "plans.csv"
            path.write_text(text, encoding="utf-8", newline="")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    raw = read_raw(path, table="plans", skip_title_rows=True)
                    raw_out = (raw.headers, raw.cells.to_numpy().tolist(), list(raw.cells.dtypes), raw.rows,
                               raw.notes)
                except SenForecastError as exc:
                    raw_out = str(exc)
                try:
                    table = read_plans(path, **kw)
                    result = ("ok", table)
                except SenForecastError as exc:
                    result = ("error", str(exc))
            out.append((raw_out, result, sorted(_ours(caught))))
    return out


ROW_CELLS = st.sampled_from(["p1", "p2", " p3 ", "", " ", "2024", "2023/24", "R", "Y7", "3", "ASD", "asd", "MLD",
                             "RB1", "mainstream", "N", "é", "x y", "Plans at January census"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(ROW_CELLS, min_size=0, max_size=7), max_size=15),
       newline=st.sampled_from(["\n", "\r\n"]), title=st.booleans(), end=st.sampled_from(["", "\n", "\n\n"]))
def test_a_plain_csv_reads_as_the_same_file_quoted(rows, newline, title, end):
    # quoting every field sends the file through csv.reader; the cells are the same. (Commas
    # only: quotes can change the separator the sniffer guesses, which is not at issue here.)
    delimiter = ","
    header = ["pupil_id", "year", "ncy", "need", "setting", "area"]
    lines = ([["Plans at January census"]] if title else []) + [header] + rows
    plain = newline.join(delimiter.join(r) for r in lines) + end.replace("\n", newline)
    quoted = newline.join(delimiter.join(f'"{c}"' for c in r) if r else "" for r in lines) + end.replace("\n", newline)
    assert _plain_csv_grid(plain, delimiter) is not None and _plain_csv_grid(quoted, delimiter) is None
    fast, slow = _read_both(plain, quoted, needs=["ASD", "MLD"])
    assert fast[0] == slow[0] and fast[2] == slow[2]
    if fast[1][0] == "ok" and slow[1][0] == "ok":
        pd.testing.assert_frame_equal(fast[1][1], slow[1][1])
    else:
        assert fast[1] == slow[1]


def test_blank_and_short_cells_of_a_plain_csv_are_none(tmp_path):
    path = tmp_path / "plans.csv"
    path.write_text("pupil_id,year,age,need,setting,area\np1,2024,11,ASD,RB1,N\np2,2024, ,ASD,RB1,N\n"
                    "p3,2024\n", encoding="utf-8")
    raw = read_raw(path, table="plans")
    assert raw.cells.to_numpy().tolist()[1:] == [["p2", "2024", None, "ASD", "RB1", "N"],
                                                 ["p3", "2024", None, None, None, None]]
    assert all(dtype == object for dtype in raw.cells.dtypes)
    with pytest.raises(InputValidationError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_plans(path)
    assert [(p.row, p.column, p.message) for p in info.value.problems if p.column == "age"] == [
        (3, "age", "is blank; a value is required here"), (4, "age", "is blank; a value is required here")]
