"""Readers of the six canonical input tables (CSV or Excel, or a DataFrame)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, Problem, ValidationReport
from ..core.codes import SETTING_KINDS, get_scheme
from ..core.ncy import NCY_MAX, NCY_MIN, age_to_ncy
from ..core.schema import TABLE_COLUMNS, parse_ncy, validate_table
from ._source import Source, _warn, read_raw
from .columns import resolve_columns

Codes = Iterable[str] | str | None


@dataclass
class ReadResult:
    """A validated table with the spreadsheet row number of each of its rows.

    Examples
    --------
    >>> res = read_table(pd.DataFrame({"setting": ["RB1", "RB2"], "cost_per_place": [9000, 12000]}), "costs")
    >>> res.rows, res.file
    ([2, 3], 'costs table')
    """

    table: pd.DataFrame
    rows: list[int]
    file: str


def scheme_codes(need_scheme) -> list[str] | None:
    """Need codes of a scheme given by name (via ``senforecast.core.codes.get_scheme``) or as codes.

    Returns None when the scheme is None, in which case need codes are not checked.

    Examples
    --------
    >>> scheme_codes(["ASD", "MLD"])
    ['ASD', 'MLD']
    >>> scheme_codes(None) is None
    True
    """
    if need_scheme is None:
        return None
    if isinstance(need_scheme, str):
        return [str(c) for c in get_scheme(need_scheme).codes]
    return [str(c) for c in need_scheme]


def _setting_codes(settings) -> list[str] | None:
    if settings is None:
        return None
    if isinstance(settings, pd.DataFrame):
        settings = settings["setting"]
    # a plan may name a register code or a setting type such as 'mainstream'
    return sorted(set(map(str, settings)) | set(SETTING_KINDS))


def read_table(
    source: Source,
    table: str,
    *,
    columns: Mapping[str, str] | None = None,
    needs: Codes = None,
    settings=None,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
) -> ReadResult:
    """Read, map, parse and validate one canonical table (the engine of the ``read_*`` functions).

    Examples
    --------
    >>> res = read_table(pd.DataFrame({"Setting": ["RB1"], "Cost": ["£12,000"]}), "costs")
    >>> res.table.to_dict("records"), res.rows
    ([{'setting': 'RB1', 'need': nan, 'cost_per_place': 12000.0}], [2])
    """
    if table not in TABLE_COLUMNS:
        raise ValueError(f"unknown table {table!r}")
    wanted = [s.name for s in TABLE_COLUMNS[table]]
    if "ncy" in wanted:
        wanted.append("age")

    def score(headers: list[list[str]]) -> float:
        # a sheet is the table's if its header names the table's columns (required ones first)
        found = set(resolve_columns(headers, wanted, file="", columns=columns)[0].values())
        required = {s.name for s in TABLE_COLUMNS[table] if s.required}
        return len(found & required) + 0.1 * len(found)

    raw = read_raw(source, table=table, sheet=sheet, report=report, skip_title_rows=True, score=score)
    mapping, problems, unused = resolve_columns(raw.headers, wanted, file=raw.file, columns=columns)
    if problems:
        raise InputValidationError(problems)
    if unused and columns and not any(isinstance(v, Mapping) for v in columns.values()):
        _warn(report, Problem(raw.file, None, None, f"columns= names header(s) {', '.join(map(repr, unused))} "
                              f"that are not in the file; the headers are "
                              f"{', '.join(h[0] for h in raw.headers)}"))
    frame = pd.DataFrame({name: raw.cells[i] for i, name in mapping.items()}, index=raw.cells.index)
    ignored = [raw.headers[i][0] for i in range(len(raw.headers)) if i not in mapping]
    if ignored:
        # extra columns are not carried: they may hold names or other personal data
        _warn(report, Problem(raw.file, None, None, f"ignored column(s) not used by the {table} table: "
                              f"{', '.join(map(repr, ignored[:10]))}"
                              + (f" and {len(ignored) - 10} more" if len(ignored) > 10 else "")),
              "columns_ignored", len(ignored))
    rows = list(raw.rows)
    if report is not None:
        report.count(f"{table}.rows_read", len(rows))
    _year_group_hint(frame, mapping, raw.headers, raw.file)
    _check_required_columns(raw, mapping, table, isinstance(source, pd.DataFrame))
    if not raw.rows and not isinstance(source, pd.DataFrame):
        raise InputValidationError([Problem(raw.file, None, None, f"the file has a header row but no data rows, "
                                            f"so the {table} table is empty; check that the right file was "
                                            "saved (an export with a filter that matched nothing looks like this)")])
    _years_from_dates(frame, rows, raw.file, report)
    pre: list[Problem] = []
    if "ncy" not in frame.columns and "age" in frame.columns:
        frame, rows, pre = _ncy_from_age(frame, rows, raw.file, report, table)
    elif "age" in frame.columns:
        frame = frame.drop(columns="age")
    if "area" not in frame.columns and any(s.name == "area" for s in TABLE_COLUMNS[table]):
        frame["area"] = "ALL"
        _warn(report, Problem(raw.file, None, "area", "no area column; every row is put in area 'ALL'. "
                              "Add an area column (or map one with columns=) to plan by area"),
              "area_missing")
    needs_list = scheme_codes(needs)
    settings_list = _setting_codes(settings) if table in ("plans", "placements", "costs") else None
    try:
        out = validate_table(frame, table, file=raw.file, rows=rows, needs=needs_list,
                             settings=settings_list, report=report)
    except InputValidationError as exc:
        bad_age = {p.row for p in pre}
        rest = [p for p in exc.problems if not (p.column == "ncy" and p.row in bad_age)]
        raise InputValidationError(sorted(pre + rest, key=lambda p: (p.row or 0, p.column or ""))) from None
    if pre:
        raise InputValidationError(pre)
    if report is not None:
        report.count(f"{table}.rows_kept", len(out))
    return ReadResult(out, rows, raw.file)


def _check_required_columns(raw, mapping: dict[int, str], table: str, frame_source: bool) -> None:
    """Required columns the file lacks, named against the file's own headers (the ``area``
    column the reader adds when there is none is not one of them)."""
    found = set(mapping.values())
    missing = [s.name for s in TABLE_COLUMNS[table]
               if s.required and s.name not in found and s.name != "area"
               and not (s.name == "ncy" and "age" in found)]
    if not missing:
        return
    what = "table" if frame_source else "file"
    headers = ", ".join(h[0] for h in raw.headers) or "(none)"
    sheets = ""
    if len(raw.sheets) > 1:
        sheets = (f" This is one sheet of a workbook with {len(raw.sheets)} ({', '.join(map(repr, raw.sheets))}); "
                  "none has all the columns, so check the sheet holding the data.")
    raise InputValidationError([
        Problem(raw.file, None, name, f"required column is missing; the {what} has columns {headers}. Rename "
                f"the column or pass columns={{'<header in file>': '{name}'}}.{sheets if i == 0 else ''}")
        for i, name in enumerate(missing)])


_ISO_DATE = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$"
_DAY_FIRST = r"^\d{1,2}[/.\-](\d{1,2})[/.\-](\d{4})(?: [\d:.]+)?$"
_YEAR_FIRST = r"^(\d{4})[/.](\d{1,2})[/.]\d{1,2}$"


def _date_year(text: str) -> int | None:
    """The census year of a date: the January census of the school year it falls in (a date
    from September counts for the January after it), as academic years such as 2023/24 are."""
    for pattern, y, m in ((_ISO_DATE, 1, 2), (_DAY_FIRST, 2, 1), (_YEAR_FIRST, 1, 2)):
        hit = re.match(pattern, text)
        if hit:
            year, month = int(hit.group(y)), int(hit.group(m))
            if not 1 <= month <= 12:  # a US-style m/d/y date: the month is the other number
                return year
            return year + 1 if month >= 9 else year
    return None


def _years_from_dates(frame: pd.DataFrame, rows: list[int], file: str, report: ValidationReport | None) -> None:
    """A census-year column of dates (Excel date cells, '18/01/2019') read as census years, with
    one warning; every cell gets its own error otherwise, and the years come out blank."""
    if "year" not in frame.columns:
        return
    col = frame["year"]
    values = pd.unique(col.dropna())
    years = {v: _date_year(str(v)) for v in values}
    dates = {v: y for v, y in years.items() if y is not None}
    if not dates:
        return
    mask = col.isin(list(dates)).to_numpy(bool)
    frame["year"] = col.map(lambda v: str(dates[v]) if v in dates else v)
    shown = "; ".join(f"{k} -> {v}" for k, v in list(dates.items())[:3])
    hit_rows = [r for r, m in zip(rows, mask) if m]
    _warn(report, Problem(file, hit_rows[0], "year",
                          f"{len(hit_rows):,} date(s) in the census-year column read as the January census "
                          f"of their school year ({shown}; a date from September counts for the next "
                          "January). Check these are census dates; better, give the year as a number"),
          "dates_read_as_years", len(hit_rows))


def _year_group_hint(frame: pd.DataFrame, mapping: dict[int, str], headers: list[list[str]], file: str) -> None:
    """A 'Year' column of year groups (7, 8, R ...) with no NCY column: say so, once."""
    if "year" not in frame.columns or "ncy" in frame.columns or "age" in frame.columns:
        return
    vals = frame["year"].dropna()
    if len(vals) and vals.map(lambda v: (n := parse_ncy(v)) is not None and NCY_MIN <= n <= NCY_MAX).all():
        header = next(headers[i][0] for i, name in mapping.items() if name == "year")
        raise InputValidationError([Problem(file, None, header, f"this column looks like year groups (NCY), "
                                            "not census years, and there is no census-year column. Map it with "
                                            f"columns={{{header!r}: 'ncy'}} and add the census year")])


def _ncy_from_age(frame: pd.DataFrame, rows: list[int], file: str, report: ValidationReport | None,
                  table: str) -> tuple[pd.DataFrame, list[int], list[Problem]]:
    """Convert ages at 31 August to NCY.

    Population tables usually cover all ages: rows outside school range are dropped with a
    warning and a count. In other tables such an age is an error (reported as a bad NCY).
    """
    ncy: list[object] = []
    problems: list[Problem] = []
    outside = np.zeros(len(frame), dtype=bool)
    for i, (v, r) in enumerate(zip(frame["age"], rows)):
        a = None if v is None else parse_ncy(v)  # whole-number rules shared with NCY ('90+' reads as 90)
        if a is None:
            ncy.append(None)
            problems.append(Problem(file, r, "age", "is blank; a value is required here" if v is None
                                    else "expected an age in whole years", v))
            continue
        n = int(age_to_ncy(a))
        outside[i] = not (NCY_MIN <= n <= NCY_MAX)
        if outside[i] and table != "population":
            problems.append(Problem(file, r, "age", f"expected an age from {NCY_MIN + 5} to {NCY_MAX + 5} "
                                    f"(NCY {NCY_MIN} to {NCY_MAX})", v))
        ncy.append(n)
    frame = frame.drop(columns="age")
    frame["ncy"] = pd.Series(ncy, index=frame.index, dtype=object)
    if outside.any() and table == "population":
        dropped = [r for r, o in zip(rows, outside) if o]
        _warn(report, Problem(file, dropped[0], "age",
                              f"{len(dropped)} row(s) with ages outside school range "
                              f"({NCY_MIN + 5}-{NCY_MAX + 5}) were dropped"),
              "population.rows_dropped_age_out_of_range", len(dropped))
        frame = frame[~outside]
        rows = [r for r, o in zip(rows, outside) if not o]
    return frame, rows, problems


_EXAMPLES = {
    "plans": """>>> df = pd.DataFrame({"UPN": ["p1", "p2"], "Census year": [2024, 2024], "NC Year": ["Y7", "R"],
    ...                    "Primary need": ["ASD", "SLCN"], "Setting": ["RB1", "mainstream"], "Area": ["N", "N"]})
    >>> read_plans(df, needs=["ASD", "SLCN"], settings=["RB1"])[["ncy", "need", "setting"]].values.tolist()
    [[7, 'ASD', 'RB1'], [0, 'SLCN', 'mainstream']]""",
    "census": """>>> df = pd.DataFrame({"year": [2024], "area": ["N"], "NCY": [3], "count": [412]})
    >>> read_census(df).loc[0, "count"]
    np.int64(412)""",
    "population": """>>> df = pd.DataFrame({"Year": [2030, 2030], "Age": [4, 11], "Population": [1203.5, 1187.0]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 'no area column' warning
    ...     read_population(df)[["ncy", "area", "count"]].values.tolist()
    [[-1, 'ALL', 1203.5], [6, 'ALL', 1187.0]]""",
    "provision": """>>> df = pd.DataFrame({"setting": ["RB1"], "kind": ["Resource base"], "area": ["N"],
    ...                    "min_ncy": ["R"], "max_ncy": ["Y6"], "places": [20], "designation": ["ASD; SLCN"]})
    >>> read_provision(df)[["kind", "min_ncy", "max_ncy", "capacity", "designation"]].to_dict("records")
    [{'kind': 'resource_base', 'min_ncy': 0, 'max_ncy': 6, 'capacity': 20.0, 'designation': 'ASD;SLCN'}]""",
    "placements": """>>> df = pd.DataFrame({"year": [2024], "setting": ["IND1"], "need": ["ASD"], "ncy": [9],
    ...                    "area": ["N"], "count": [3], "cost": [65000]})
    >>> read_placements(df)[["count", "cost_per_place"]].to_dict("records")
    [{'count': 3, 'cost_per_place': 65000.0}]""",
    "costs": """>>> read_costs(pd.DataFrame({"setting": ["RB1"], "need": ["ASD"], "cost_per_place": ["18,500"]}))
      setting need  cost_per_place
    0     RB1  ASD         18500.0""",
}


def _doc_reader(table: str):
    cols = ", ".join(s.name + ("" if s.required else " (optional)") for s in TABLE_COLUMNS[table])

    def reader(path: Source, *, columns: Mapping[str, str] | None = None, needs: Codes = None,
               settings=None, sheet: str | int | None = None,
               report: ValidationReport | None = None) -> pd.DataFrame:
        return read_table(path, table, columns=columns, needs=needs, settings=settings, sheet=sheet,
                          report=report).table

    reader.__name__ = reader.__qualname__ = f"read_{table}"
    reader.__doc__ = f"""Read and validate the ``{table}`` table from a CSV or Excel file.

    Columns: {cols}. Headers are matched case-insensitively to canonical names and common
    aliases (see :data:`senforecast.io.columns.ALIASES`).

    Parameters
    ----------
    path : str, Path or DataFrame
        ``.csv`` or ``.xlsx`` file, or a DataFrame already in memory.
    columns : dict, optional
        ``{{header in file: canonical name}}`` for headers that are not recognised.
    needs : iterable of str or str, optional
        Allowed need codes, or the name of a need-code scheme.
    settings : iterable of str or provision DataFrame, optional
        Allowed setting codes (setting kinds such as ``mainstream`` are always allowed).
    sheet : str or int, optional
        Excel sheet (default: a sheet named ``{table}``, else the first).
    report : ValidationReport, optional
        Collects warnings and row counts.

    Returns
    -------
    DataFrame
        The canonical ``{table}`` table.

    Raises
    ------
    InputValidationError
        Listing every problem with its file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.io import read_{table}
    {_EXAMPLES[table]}
    """
    return reader


read_plans = _doc_reader("plans")
read_census = _doc_reader("census")
read_population = _doc_reader("population")
read_provision = _doc_reader("provision")
read_placements = _doc_reader("placements")
read_costs = _doc_reader("costs")
