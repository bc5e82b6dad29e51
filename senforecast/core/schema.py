"""Schemas of the canonical input tables and their validation.

Each table of ``docs/contracts.md`` (plans, census, population, provision, placements, costs)
has a list of :class:`ColumnSpec` and a pandera ``DataFrameSchema`` built from it.
:func:`validate_table` turns raw cell values (text or numbers, as read from a CSV or Excel
sheet) into a typed canonical table. It works in two passes and collects every problem before
raising:

1. *parsing*: each cell is read as its column's type (whole number, year, NCY, amount, code);
   a cell that cannot be read becomes a :class:`~senforecast.core.errors.Problem`;
2. *rules*: the pandera schema checks the typed table with ``lazy=True`` (required values,
   ranges, allowed codes, uniqueness, ``min_ncy <= max_ncy`` ...), and its failure cases are
   translated into problems with spreadsheet row numbers.

All problems of both passes are raised together as one
:class:`~senforecast.core.errors.InputValidationError`. Recoverable issues (e.g. ``"asd"`` written
for ``"ASD"``, academic years such as ``2023/24``) are fixed, counted in the report and warned
about with :class:`~senforecast.core.errors.InputWarning`.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .codes import SETTING_KINDS
from .plan_types import PLAN_TYPES, plan_type_code
from .errors import InputValidationError, InputWarning, Problem, ValidationReport
from .ncy import NCY_MAX, NCY_MIN
from .provision import split_codes

TABLES: tuple[str, ...] = ("plans", "census", "population", "provision", "placements", "costs")
"""Names of the canonical input tables."""

YEAR_MIN, YEAR_MAX = 1990, 2100
_BIG = 2.0**53  # beyond this a float no longer holds a whole number exactly


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is read and checked.

    Parameters
    ----------
    name : str
        Canonical column name.
    kind : str
        ``"id"`` (pseudonymised id, text), ``"code"`` (a code such as a need or setting),
        ``"text"``, ``"year"`` (census year; ``2023/24`` is read as 2024), ``"ncy"`` (NCY;
        ``R``, ``Y7``, ``N1`` are understood), ``"count"`` (whole number >= 0),
        ``"amount"`` (number >= 0, e.g. population, capacity, cost), ``"opt_year"`` (year or blank).
    required : bool
        The column must be in the file (otherwise ``default`` fills it).
    nullable : bool
        Blank cells are allowed.
    default : object
        Value used when an optional column is absent.

    Examples
    --------
    >>> [s.name for s in TABLE_COLUMNS["costs"] if s.required]
    ['setting', 'cost_per_place']
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    default: object = None


def _c(name, kind, required=True, nullable=False, default=None) -> ColumnSpec:
    return ColumnSpec(name, kind, required, nullable, default)


TABLE_COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "plans": (
        _c("pupil_id", "id"), _c("year", "year"), _c("ncy", "ncy"), _c("need", "code"),
        _c("setting", "code"), _c("area", "code"),
        # before 'stage', whose header aliases include 'plan_type' (census files)
        _c("plan_type", "code", required=False, nullable=True),
        _c("stage", "code", required=False, nullable=True),
    ),
    "census": (
        _c("year", "year"), _c("area", "code"), _c("ncy", "ncy"),
        _c("stage", "code", required=False, nullable=True),
        _c("need", "code", required=False, nullable=True), _c("count", "count"),
    ),
    "population": (_c("year", "year"), _c("area", "code"), _c("ncy", "ncy"), _c("count", "amount")),
    "provision": (
        _c("setting", "code"), _c("name", "text", required=False), _c("kind", "code"),
        _c("area", "code"), _c("min_ncy", "ncy"), _c("max_ncy", "ncy"),
        _c("capacity", "amount", nullable=True), _c("designation", "text", required=False, default="*"),
        _c("opens", "opt_year", required=False, nullable=True),
        _c("closes", "opt_year", required=False, nullable=True),
        _c("cost_per_place", "amount", required=False, nullable=True),
    ),
    "placements": (
        _c("year", "year"), _c("setting", "code"), _c("need", "code"), _c("ncy", "ncy"),
        _c("area", "code"), _c("count", "count"),
        _c("cost_per_place", "amount", required=False, nullable=True),
    ),
    "costs": (
        _c("setting", "code"), _c("need", "code", required=False, nullable=True),
        _c("cost_per_place", "amount"),
    ),
}
"""Column specifications of every canonical table, in canonical order."""

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "plans": ("pupil_id", "year"),
    "census": ("year", "area", "ncy", "stage", "need"),
    "population": ("year", "area", "ncy"),
    "provision": ("setting", "opens"),
    "placements": ("year", "setting", "need", "ncy", "area"),
    "costs": ("setting", "need"),
}
"""Columns that together identify a row (duplicates are errors)."""

_DTYPES = {"id": str, "code": str, "text": str, "year": "int64", "ncy": "int64", "count": "int64",
           "amount": "float64", "opt_year": "Int64"}

_EXPECTED = {
    "id": "an identifier",
    "code": "a code",
    "text": "text",
    "year": f"a census year such as 2024 (or an academic year such as 2023/24), {YEAR_MIN}-{YEAR_MAX}",
    "ncy": f"a national curriculum year from {NCY_MIN} to {NCY_MAX} (Reception = 0, Year 7 = 7)",
    "count": "a whole number of children, 0 or more",
    "amount": "a number, 0 or more",
    "opt_year": f"a year such as 2026, or blank ({YEAR_MIN}-{YEAR_MAX})",
}

# Messages of the pandera checks, keyed by check name.
_MESSAGES = {
    "ncy_range": f"expected a national curriculum year from {NCY_MIN} to {NCY_MAX}",
    "year_range": f"expected a census year from {YEAR_MIN} to {YEAR_MAX}",
    "non_negative": "cannot be negative; expected 0 or more",
    "finite": "expected a finite number",
    "need_code": "unknown need code; expected one of {allowed}",
    "setting_code": "unknown setting code; it is not in the provision register. Add it to the "
                    "register or use one of {allowed}",
    "setting_kind": "unknown kind of setting; expected one of {allowed}",
    "designation": "unknown need code(s) in the designation; list need codes separated by ';' "
                   "(or ',', '|', '/'; '*' for all needs), from {allowed}",
    "min_le_max": "min_ncy is greater than max_ncy; the age range must run from low to high",
    "opens_before_closes": "closes must be a later year than opens (closes is the first year closed)",
    "plan_type_code": "unknown plan type; expected one of {allowed} (see senforecast.core.plan_types)",
    "not_nullable": "is blank; a value is required here",
    "not_blank": "is blank; a value is required here",
}


def _fmt_allowed(values: Iterable[str], limit: int = 12) -> str:
    vals = sorted(set(map(str, values)))
    shown = ", ".join(vals[:limit])
    return shown + (f" ... ({len(vals)} codes)" if len(vals) > limit else "")


def table_schema(
    table: str,
    *,
    needs: Iterable[str] | None = None,
    settings: Iterable[str] | None = None,
) -> pa.DataFrameSchema:
    """The pandera schema of a canonical table.

    Parameters
    ----------
    table : str
        One of :data:`TABLES`.
    needs : iterable of str, optional
        Allowed need codes (checked in ``need`` and in ``provision.designation``).
    settings : iterable of str, optional
        Allowed setting codes (checked in ``setting`` of plans, placements and costs).

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> s = table_schema("plans", needs=["ASD", "MLD"])
    >>> sorted(s.columns)[:3]
    ['area', 'ncy', 'need']
    """
    if table not in TABLE_COLUMNS:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    needs_set = None if needs is None else frozenset(map(str, needs))
    settings_set = None if settings is None else frozenset(map(str, settings))
    columns: dict[str, pa.Column] = {}
    for spec in TABLE_COLUMNS[table]:
        checks: list[pa.Check] = []
        if spec.kind == "ncy":
            checks.append(pa.Check.in_range(NCY_MIN, NCY_MAX, name="ncy_range", error="ncy_range"))
        elif spec.kind in ("year", "opt_year"):
            checks.append(pa.Check.in_range(YEAR_MIN, YEAR_MAX, name="year_range", error="year_range"))
        elif spec.kind in ("count", "amount"):
            checks.append(pa.Check.ge(0, name="non_negative", error="non_negative"))
        if spec.kind == "amount":
            checks.append(pa.Check(lambda s: np.isfinite(s), name="finite", error="finite"))
        if spec.kind in ("id", "code", "text") and not spec.nullable:
            checks.append(pa.Check(lambda s: s.str.len() > 0, name="not_blank", error="not_blank"))
        if spec.name == "plan_type":
            checks.append(pa.Check.isin(frozenset(PLAN_TYPES), name="plan_type_code", error="plan_type_code"))
        if spec.name == "need" and needs_set is not None:
            checks.append(pa.Check.isin(needs_set, name="need_code", error="need_code"))
        if spec.name == "setting" and settings_set is not None and table != "provision":
            checks.append(pa.Check.isin(settings_set, name="setting_code", error="setting_code"))
        if table == "provision" and spec.name == "kind":
            checks.append(pa.Check.isin(SETTING_KINDS, name="setting_kind", error="setting_kind"))
        if table == "provision" and spec.name == "designation" and needs_set is not None:
            ok = needs_set | {"*"}
            checks.append(pa.Check(lambda v: all(c in ok for c in split_codes(v)),
                                   element_wise=True, name="designation", error="designation"))
        columns[spec.name] = pa.Column(_DTYPES[spec.kind], checks, nullable=spec.nullable,
                                       required=True)
    frame_checks = []
    if table == "provision":
        frame_checks.append(pa.Check(lambda d: d["min_ncy"] <= d["max_ncy"], name="min_le_max", error="min_le_max"))
        frame_checks.append(pa.Check(
            lambda d: (d["opens"].isna() | d["closes"].isna() | (d["closes"] > d["opens"])).fillna(True),
            name="opens_before_closes", error="opens_before_closes"))
    return pa.DataFrameSchema(columns, checks=frame_checks, name=table, strict=False,
                              ordered=False, coerce=False)


# ---------------------------------------------------------------------------------------------
# pass 1: parsing cells


_ACADEMIC = re.compile(r"^\s*(\d{4})\s*[/\-]\s*(\d{2}|\d{4})\s*$")
_DFE_PERIOD = re.compile(r"^\s*(\d{4})(\d{2})\s*$")
_NCY_WORDS = {"r": 0, "reception": 0, "rec": 0, "n1": -2, "n2": -1, "nursery": -1,
              "nursery 1": -2, "nursery 2": -1}
_NCY_PATTERN = re.compile(r"^(?:y|yr|year|ncy|nc|nc year)\s*(-?\d+)$")


def parse_year_label(value: object) -> tuple[int | None, bool]:
    """Census year of a year label.

    An academic year ``2023/24``, ``2023-24``, ``2023/2024`` or DfE ``time_period`` ``202324``
    is read as the January census inside it (2024). A plain ``2024`` is the census year.

    Returns
    -------
    year : int or None
        None when the value is not a year label.
    converted : bool
        True when an academic-year label was converted.

    Examples
    --------
    >>> parse_year_label("2023/24"), parse_year_label(2024), parse_year_label("202324")
    ((2024, True), (2024, False), (2024, True))
    >>> parse_year_label("Y7")
    (None, False)
    """
    if value is None or isinstance(value, bool):
        return None, False
    if isinstance(value, (int, np.integer)):
        return int(value), False
    if isinstance(value, (float, np.floating)):
        return (int(value), False) if math.isfinite(value) and float(value).is_integer() else (None, False)
    text = str(value).strip()
    m = _ACADEMIC.match(text) or _DFE_PERIOD.match(text)
    if m:
        start, end = int(m.group(1)), m.group(2)
        end_full = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        if end_full < start:  # 1999/00
            end_full += 100
        if end_full == start + 1:
            return end_full, True
    if re.fullmatch(r"[+-]?\d{1,16}(\.0+)?", text):  # any other whole number; the range is checked later
        return int(float(text)), False
    return None, False


# How a number's separators read. UK: comma thousands, decimal point ("1,234.50"); EU: dot
# thousands, decimal comma ("1.234,50", "7500,00"). "1,234" and "1.234" (one separator then
# exactly three digits after one to three) read either way: ambiguous.
_UK_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+(\.\d+)?|\d*\.\d+|\d+\.)$")
_EU_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+(,\d+)?|\d*,\d+)$")
_AMBIGUOUS_NUMBER = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")


def _number_text(value: object) -> str:
    text = str(value).strip().replace("\u00a3", "").replace(" ", "").replace("\u00a0", "")
    return text[:-1] if text.endswith("+") else text  # '90+' in population tables


def number_style(value: object) -> str:
    """How a cell writes its number: ``"uk"`` (decimal point, comma thousands), ``"eu"``
    (decimal comma, dot thousands), ``"either"`` (``1,234`` or ``1.234``: one separator then
    three digits), ``"plain"`` (no separator) or ``"none"`` (not a number).

    Examples
    --------
    >>> [number_style(v) for v in ["7500,00", "1.234,50", "1,234.5", "10.5", "1,234", "21000", "£1,234,567"]]
    ['eu', 'eu', 'uk', 'uk', 'either', 'plain', 'uk']
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return "plain"
    text = _number_text(value)
    if _AMBIGUOUS_NUMBER.match(text):
        return "either"
    if re.fullmatch(r"[+-]?\d+", text):
        return "plain"
    if _UK_NUMBER.match(text):
        return "uk"
    if _EU_NUMBER.match(text):
        return "eu"
    return "none"


def _as_number(value: object) -> float | None:
    """A float from a cell, or None when it is not a number (NaN/inf are returned as is).

    Thousands separators and a pound sign are dropped; a decimal comma (``7500,00``,
    ``1.234,50``) is read as such. A cell that reads either way (``1,234``) is read the UK way
    here; :func:`_comma_conflicts` refuses it in a column that uses decimal commas.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = _number_text(value)
    if number_style(text) == "eu":
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return float(text)
    except (ValueError, OverflowError):
        return None


def _comma_conflicts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Cells of one column read with a decimal comma, and cells that cannot be read safely
    because the column mixes decimal commas with decimal points or with numbers that read
    either way (``1,234``: 1234 or 1.234?). Returns (eu mask, conflict mask, an example)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float",
                                                          "boolean", "empty"):
        none = np.zeros(len(values), dtype=bool)
        return none, none, None
    texts = [v if isinstance(v, str) else None for v in values]
    styles = np.array([number_style(t) if t is not None and ("," in t or "." in t) else "plain" for t in texts],
                      dtype=object)
    eu = styles == "eu"
    if not eu.any():
        return eu, np.zeros(len(values), dtype=bool), None
    conflict = (styles == "uk") | (styles == "either")
    return eu, conflict, str(texts[int(np.flatnonzero(eu)[0])])


def parse_ncy(value: object) -> int | None:
    """National curriculum year (NCY) of a cell, or None when it cannot be read as one.

    Understands ``R``/``Reception`` (0), nursery years ``N1``/``N2`` (-2, -1), labels such as
    ``Y7``, ``Year 7`` or ``NC Year 7``, and whole numbers (``7``, ``7.0``, ``'90+'``). The NCY
    range is *not* checked here (the schema does that, so an out-of-range year is reported as
    such); a number too large to hold exactly (beyond 2**53) is unreadable.

    Parameters
    ----------
    value : object
        A cell as read from a file: text or a number.

    Returns
    -------
    int or None

    Examples
    --------
    >>> parse_ncy("Reception"), parse_ncy(" Year 11 "), parse_ncy("N1"), parse_ncy(7.0)
    (0, 11, -2, 7)
    >>> parse_ncy("Y31"), parse_ncy("Y99999999999999999999"), parse_ncy("seven")
    (31, None, None)
    """
    if isinstance(value, str):
        key = re.sub(r"\s+", " ", value.strip().lower())
        if key in _NCY_WORDS:
            return _NCY_WORDS[key]
        m = _NCY_PATTERN.match(key)
        if m:
            # the number of a label is read like a plain number, size limit included: int() of
            # 'Y999...' gave a Python int that overflowed int64 in the table (or raised ValueError
            # beyond 4,300 digits)
            value = m.group(1)
    x = _as_number(value)
    if x is None or not math.isfinite(x) or not x.is_integer() or abs(x) > _BIG:
        return None
    return int(x)


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


@dataclass
class _Parsed:
    series: pd.Series
    bad: list[tuple[int, object]]  # (position, raw value) of cells that could not be read
    converted: list[int]  # positions of recoverable conversions (academic years)
    decimal_comma: list[int] = None  # positions of numbers read with a decimal comma
    reasons: dict = None  # position -> why a bad cell could not be read (default: expected ...)


def _distinct_text(raw: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes and distinct values of a column of text and blanks; None for any other column.

    A column read from a file repeats a few values (years, NCYs, codes) a million times, so the
    cell rules run once per distinct value and are taken back to the cells by code (-1: a
    missing cell). Only all-text columns qualify: factorising a mixed column would merge
    ``1``, ``1.0`` and ``True``, which the rules read differently.
    """
    values = raw.to_numpy(dtype=object)
    missing = pd.isna(values)  # None, NaN, pd.NA, NaT ...: blank cells
    present = values[~missing] if missing.any() else values
    if pd.api.types.infer_dtype(present, skipna=False) not in ("string", "empty"):
        return None
    if present is values:
        return pd.factorize(values)
    codes = np.full(len(values), -1, dtype=np.intp)
    codes[~missing], uniques = pd.factorize(present)
    return codes, uniques


def _spread(per_value: np.ndarray, codes: np.ndarray, missing: object) -> np.ndarray:
    """One value per cell from one per distinct value (``missing`` where the code is -1)."""
    return np.append(per_value, np.array([missing], dtype=per_value.dtype))[codes]


def _text_column(raw: pd.Series) -> pd.Series:
    """Stripped text, None for blanks (an object Series on the index of ``raw``)."""
    distinct = _distinct_text(raw)
    if distinct is not None:
        codes, uniques = distinct
        stripped = np.array([u.strip() or None for u in uniques], dtype=object)
        return pd.Series(_spread(stripped, codes, None), index=raw.index, dtype=object)
    return raw.astype(object).map(lambda v: None if _is_blank(v) else _cell_text(v))


def _parse_column(raw: pd.Series, kind: str) -> _Parsed:
    if kind in ("id", "code", "text"):
        return _Parsed(pd.Series(_text_column(raw).to_numpy(), index=raw.index, dtype="str"), [], [])
    values = raw.to_numpy(dtype=object)
    distinct = _distinct_text(raw)
    if distinct is None:
        out, bad_pos, conv_pos = _parse_numbers(values, kind)
        eu, conflict, example = _comma_conflicts(values)
    else:  # the rules once per distinct text, then back to the cells
        codes, uniques = distinct
        u_out, u_bad, u_conv = _parse_numbers(uniques, kind)
        out = _spread(u_out, codes, np.nan)
        flags = np.zeros(len(uniques), dtype=bool)
        flags[u_bad] = True
        bad_pos = np.flatnonzero(_spread(flags, codes, False))
        flags[:] = False
        flags[u_conv] = True
        conv_pos = np.flatnonzero(_spread(flags, codes, False))
        u_eu, u_conflict, example = _comma_conflicts(uniques)
        eu, conflict = _spread(u_eu, codes, False), _spread(u_conflict, codes, False)
    reasons = {}
    if conflict.any():
        # a column with decimal commas: '1,234' or '10.5' beside them cannot be read safely
        for i in np.flatnonzero(conflict):
            reasons[int(i)] = (f"is ambiguous: this column writes numbers with a decimal comma (e.g. {example!r}), "
                               "so a comma or point here could mean thousands or decimals; write every number "
                               "of the column the same way (e.g. 1234,5 or 1234.5, without thousands separators)")
        out = np.where(conflict, np.nan, out)
        bad_pos = np.union1d(bad_pos, np.flatnonzero(conflict)).astype(np.intp)
    bad = [(int(i), values[i]) for i in bad_pos]
    converted = [int(i) for i in conv_pos]
    commas = [int(i) for i in np.flatnonzero(eu & ~np.isin(np.arange(len(values)), bad_pos))]
    if kind == "amount":
        series = pd.Series(out, index=raw.index, dtype="float64")
    else:
        series = pd.Series(pd.array(out, dtype="Float64"), index=raw.index).astype("Int64")
    return _Parsed(series, bad, converted, commas, reasons)


def _parse_numbers(values: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers of a column's cells (NaN for blank or unreadable) and the positions of the
    unreadable cells and of the converted academic years."""
    # fast path: plain numbers (most cells); anything else goes through the cell-by-cell rules
    obj = pd.Series(values, dtype=object)
    text = _text_column(obj)
    blank = text.isna().to_numpy(bool)
    is_bool = obj.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
    nums = pd.to_numeric(text.where(~blank & ~is_bool, None), errors="coerce").astype(float).to_numpy()
    finite = np.isfinite(nums) & (np.abs(np.nan_to_num(nums, nan=0.0, posinf=0.0, neginf=0.0)) <= _BIG)
    whole = finite & (np.mod(np.where(finite, nums, 0.0), 1.0) == 0.0)
    fast = whole if kind in ("ncy", "count") else finite
    if kind in ("year", "opt_year"):  # 6-digit DfE periods (202324) take the slow path
        fast = whole & (np.abs(np.where(whole, nums, 0.0)) < 10_000)
    out = np.where(fast, nums, np.nan)
    bad: list[int] = []
    converted: list[int] = []
    for i in np.flatnonzero(~fast & ~blank):
        v = values[i]
        if kind in ("year", "opt_year"):
            y, conv = parse_year_label(v)
            if y is None or abs(y) > _BIG:
                bad.append(int(i))
            else:
                out[i] = y
                if conv:
                    converted.append(int(i))
        elif kind == "ncy":
            n = parse_ncy(v)
            if n is None:
                bad.append(int(i))
            else:
                out[i] = n
        else:
            x = _as_number(v)
            ok = x is not None and math.isfinite(x) and abs(x) <= _BIG
            if ok and kind == "count" and not float(x).is_integer():
                ok = False
            if ok:
                out[i] = x
            else:
                bad.append(int(i))
    return out, np.array(bad, dtype=np.intp), np.array(converted, dtype=np.intp)


def _cell_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v).strip()


# ---------------------------------------------------------------------------------------------
# pass 2: translating pandera failure cases


def _translate(fc: pd.DataFrame, file: str, context: dict[str, str], skip: set[tuple[int, str]],
               frame: pd.DataFrame, hide: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[int | None, str | None, str]] = set()
    for rec in fc.to_dict("records"):
        check = str(rec.get("check"))
        col = rec.get("column")
        col = None if col is None or (isinstance(col, float) and math.isnan(col)) else str(col)
        idx = rec.get("index")
        row = None if idx is None or (isinstance(idx, float) and math.isnan(idx)) else int(idx)
        value = rec.get("failure_case")
        if check == "column_in_dataframe":
            problems.append(Problem(file, None, str(value), "required column is missing"))
            continue
        if check in ("min_le_max", "opens_before_closes"):
            col = "min_ncy" if check == "min_le_max" else "closes"
            value = None if row is None else frame.at[row, col] if row in frame.index else None
        key = (row, col, check)
        if key in seen or (row is not None and col is not None and (row, col) in skip):
            continue
        if check == "min_le_max" and ((row, "max_ncy") in skip or (row, "min_ncy") in skip):
            continue  # one side is unreadable or blank: already reported
        seen.add(key)
        base = check.split("(")[0]
        message = _MESSAGES.get(base)
        if message is None:
            message = f"failed the check {check}"
        message = message.format(**context) if "{" in message else message
        if base in ("not_nullable", "not_blank"):
            value = None
        if col in hide:
            value = None
        if isinstance(value, (np.integer, np.floating)):
            value = value.item()
        problems.append(Problem(file, row, col, message, value))
    return problems


def _duplicate_problems(frame: pd.DataFrame, keys: Sequence[str], file: str, table: str,
                        skip: set[tuple[int, str]] = frozenset()) -> list[Problem]:
    keys = [k for k in keys if k in frame.columns]
    # a key cell that could not be read holds a placeholder: reported once already, and two
    # placeholders would otherwise look like the same key (e.g. every census of a child)
    unreadable = {r for r, c in skip if c in keys}
    if unreadable:
        frame = frame[~frame.index.isin(list(unreadable))]
    key_frame = frame[keys].astype(object).where(frame[keys].notna(), "\x00NA")
    dup = key_frame.duplicated(keep=False)
    if not dup.any():
        return []
    hint = {"population": " (if the file is split by sex or another breakdown, add the rows up first)",
            "census": " (if the file has another breakdown, add the rows up first)",
            "plans": " (a child can have only one row per census)"}.get(table, "")
    problems = []
    groups = key_frame[dup].groupby(keys, sort=False, dropna=False).groups
    for rows in groups.values():
        rows = sorted(int(r) for r in rows)
        for r in rows:
            others = ", ".join(str(o) for o in rows if o != r)
            problems.append(Problem(file, r, None,
                                    f"duplicate row: the same {' and '.join(keys)} as row(s) {others}; "
                                    f"each {table} row must be unique on ({', '.join(keys)}){hint}"))
    return problems


# ---------------------------------------------------------------------------------------------


def _notify(report: ValidationReport | None, problem: Problem, count_key: str | None = None,
            n: int = 1) -> None:
    warnings.warn(str(problem), InputWarning, stacklevel=3)
    if report is not None:
        report.warn(problem)
        if count_key:
            report.count(count_key, n)


def _rows_text(rows: Sequence[int], limit: int = 5) -> str:
    rows = list(rows)
    shown = ", ".join(map(str, rows[:limit]))
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def validate_table(
    frame: pd.DataFrame,
    table: str,
    *,
    file: str | None = None,
    rows: Sequence[int] | None = None,
    needs: Iterable[str] | None = None,
    settings: Iterable[str] | None = None,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read raw cells as a canonical table, check every rule, raise all problems at once.

    Parameters
    ----------
    frame : DataFrame
        Raw values (text or numbers) under canonical column names.
    table : str
        One of :data:`TABLES`.
    file : str, optional
        File name for messages (default: ``"<table> table"``).
    rows : sequence of int, optional
        Spreadsheet row number of each row of ``frame`` (default: 2, 3, ... as if the header
        were row 1).
    needs, settings : iterable of str, optional
        Allowed need and setting codes. A code that differs from an allowed one only in case
        or spacing is corrected, with a warning.
    report : ValidationReport, optional
        Receives warnings and counts.

    Returns
    -------
    DataFrame
        Canonical columns in canonical order (optional columns added with their default),
        then any extra columns; a fresh RangeIndex.

    Raises
    ------
    InputValidationError
        With every problem found (file, row, column, what was expected).

    Examples
    --------
    >>> raw = pd.DataFrame({"pupil_id": ["p1", "p2"], "year": ["2024", "2024"], "ncy": ["R", "Y7"],
    ...                     "need": ["ASD", "MLD"], "setting": ["MS", "MS"], "area": ["N", "S"]})
    >>> validate_table(raw, "plans", needs=["ASD", "MLD"])[["ncy", "need"]].to_dict("list")
    {'ncy': [0, 7], 'need': ['ASD', 'MLD']}
    >>> raw.loc[1, "ncy"] = "31"
    >>> try:
    ...     validate_table(raw, "plans", file="plans.csv")
    ... except InputValidationError as err:
    ...     print(err.problems[0])
    plans.csv, row 3, column 'ncy': expected a national curriculum year from -5 to 25 (found 31)
    """
    specs = TABLE_COLUMNS[table]
    file = file or f"{table} table"
    rows = list(range(2, len(frame) + 2)) if rows is None else [int(r) for r in rows]
    if len(rows) != len(frame):
        raise ValueError("rows must give one row number per row of frame")
    frame = frame.copy()
    frame.index = pd.Index(rows)
    problems: list[Problem] = []
    missing = [s.name for s in specs if s.required and s.name not in frame.columns]
    for name in missing:
        problems.append(Problem(file, None, name,
                                f"required column is missing; the file has columns "
                                f"{', '.join(map(str, frame.columns)) or '(none)'}. Rename the "
                                f"column or pass columns={{'<header in file>': '{name}'}}"))
    if problems:
        raise InputValidationError(problems)

    hide = frozenset({"pupil_id"})  # pupil ids never appear in messages
    skip: set[tuple[int, str]] = set()
    out = pd.DataFrame(index=frame.index)
    for spec in specs:
        if spec.name not in frame.columns:
            if spec.name == "name" and table == "provision":
                out["name"] = out["setting"]
            elif spec.default is not None:
                out[spec.name] = pd.Series(spec.default, index=frame.index, dtype="str")
            else:
                out[spec.name] = _parse_column(pd.Series([None] * len(frame), index=frame.index,
                                                         dtype=object), spec.kind).series
            continue
        parsed = _parse_column(frame[spec.name], spec.kind)
        for pos, value in parsed.bad:
            row = rows[pos]
            skip.add((row, spec.name))
            why = (parsed.reasons or {}).get(pos, f"expected {_EXPECTED[spec.kind]}")
            problems.append(Problem(file, row, spec.name, why, None if spec.name in hide else value))
        if parsed.decimal_comma:
            comma_rows = [rows[p] for p in parsed.decimal_comma]
            first = frame[spec.name].iloc[parsed.decimal_comma[0]]
            _notify(report, Problem(file, comma_rows[0], spec.name,
                                    f"{len(comma_rows)} number(s) written with a decimal comma were read as such "
                                    f"(e.g. {first!r} as {parsed.series.iloc[parsed.decimal_comma[0]]:,.10g}) in rows "
                                    f"{_rows_text(comma_rows)}"),
                    "decimal_commas_read", len(comma_rows))
        if parsed.converted:
            conv_rows = [rows[p] for p in parsed.converted]
            _notify(report, Problem(file, conv_rows[0], spec.name,
                                    f"{len(conv_rows)} academic-year label(s) such as 2023/24 read as "
                                    f"the January census year (2024) in rows {_rows_text(conv_rows)}"),
                    "academic_years_converted", len(conv_rows))
        out[spec.name] = parsed.series
    extras = [c for c in frame.columns if c not in out.columns]
    for c in extras:
        out[c] = frame[c]

    if table == "provision":
        kinds = out["kind"].str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
        out["kind"] = kinds.astype("str")
        # canonical text, codes joined by ';' (core.provision has the one parser of designations)
        out["designation"] = out["designation"].map(
            lambda v: v if v is None or (isinstance(v, float) and math.isnan(v))
            else (";".join(split_codes(v)) if split_codes(v) else "")).astype("str")
    if table == "plans" and "plan_type" in frame.columns:
        problems += _plan_type_codes(out, file, report, skip)
    _fix_case(out, "need", needs, file, report)
    if table != "provision":
        _fix_case(out, "setting", settings, file, report)

    # Int64 columns that must be complete become plain int64 for the rules pass.
    for spec in specs:
        if _DTYPES[spec.kind] == "int64":
            col = out[spec.name]
            if col.isna().any():
                bad_rows = col.index[col.isna()]
                for r in bad_rows:
                    if (int(r), spec.name) not in skip:
                        problems.append(Problem(file, int(r), spec.name, _MESSAGES["not_nullable"]))
                    skip.add((int(r), spec.name))
                out[spec.name] = col.fillna(0).astype("int64")  # placeholders; errors are raised below
            else:
                out[spec.name] = col.astype("int64")

    # each code check lists its own allowed codes in the message
    allowed = {
        "plan_type_code": ", ".join(PLAN_TYPES),
        "need_code": _fmt_allowed(needs) if needs is not None else "",
        "designation": _fmt_allowed(needs) if needs is not None else "",
        "setting_code": _fmt_allowed(settings) if settings is not None else "",
        "setting_kind": _fmt_allowed(SETTING_KINDS),
    }
    schema = table_schema(table, needs=needs, settings=settings)
    try:
        schema.validate(out, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        checks = fc["check"].astype(str)
        for check_name, codes in allowed.items():
            sub = fc[checks == check_name]
            if len(sub):
                problems += _translate(sub, file, {"allowed": codes}, skip, out, hide)
        problems += _translate(fc[~checks.isin(list(allowed))], file, {}, skip, out, hide)
    problems += _duplicate_problems(out, TABLE_KEYS[table], file, table, skip)
    if problems:
        problems.sort(key=lambda p: (p.row if p.row is not None else 0, p.column or ""))
        raise InputValidationError(problems)
    return out.reset_index(drop=True)


def _plan_type_codes(out: pd.DataFrame, file: str, report: ValidationReport | None,
                     skip: set[tuple[int, str]]) -> list[Problem]:
    """Plan-type labels (``Statemented``, ``LA maintained IDP`` ...) to codes, with a warning;
    a blank cell in a plan_type column that is there is an error: which series a child
    belongs to cannot be guessed."""
    col = out["plan_type"]
    blank = col.isna() | (col.astype(str).str.strip() == "")
    problems = []
    for r in out.index[blank][:50]:
        skip.add((int(r), "plan_type"))
        problems.append(Problem(file, int(r), "plan_type", "is blank; every row needs a plan type when the "
                                f"column is there (one of {', '.join(PLAN_TYPES)})"))
    fixes = {}
    for v in pd.unique(col[~blank]):
        if v not in PLAN_TYPES:
            code = plan_type_code(v)
            if code in PLAN_TYPES:
                fixes[v] = code
    if fixes:
        mask = col.isin(list(fixes))
        out["plan_type"] = col.map(lambda v: fixes.get(v, v))
        fixed_rows = [int(r) for r in out.index[mask]]
        examples = ", ".join(f"{k!r} -> {v!r}" for k, v in list(fixes.items())[:4])
        _notify(report, Problem(file, fixed_rows[0], "plan_type",
                                f"{len(fixed_rows)} plan type label(s) read as codes ({examples}); rows "
                                f"{_rows_text(fixed_rows)}"),
                "plan_type_labels_read", len(fixed_rows))
    out["plan_type"] = out["plan_type"].where(~blank, None)
    return problems


def _fix_case(out: pd.DataFrame, column: str, allowed: Iterable[str] | None, file: str,
              report: ValidationReport | None) -> None:
    """Correct codes that match an allowed code except for case and spacing, with a warning."""
    if allowed is None or column not in out.columns:
        return
    allowed = [str(a) for a in allowed]
    allowed_set = set(allowed)
    folded = {}
    for a in allowed:
        folded.setdefault(re.sub(r"\s+", "", a).lower(), a)
    col = out[column]
    fixes = {}
    for v in pd.unique(col.dropna()):
        if v not in allowed_set:
            hit = folded.get(re.sub(r"\s+", "", str(v)).lower())
            if hit is not None:
                fixes[v] = hit
    if not fixes:
        return
    mask = col.isin(list(fixes))
    out[column] = col.map(lambda v: fixes.get(v, v)).astype("str")
    fixed_rows = [int(r) for r in out.index[mask]]
    examples = ", ".join(f"{k!r} -> {v!r}" for k, v in list(fixes.items())[:4])
    _notify(report, Problem(file, fixed_rows[0], column,
                            f"{len(fixed_rows)} {column} code(s) differed from a known code only in "
                            f"case or spacing and were corrected ({examples}); rows "
                            f"{_rows_text(fixed_rows)}"),
            f"{column}_codes_corrected", len(fixed_rows))


def column_names(table: str) -> list[str]:
    """Canonical column names of a table, required first.

    Examples
    --------
    >>> column_names("costs")
    ['setting', 'cost_per_place', 'need']
    """
    specs = TABLE_COLUMNS[table]
    return [s.name for s in specs if s.required] + [s.name for s in specs if not s.required]
