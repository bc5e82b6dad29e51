"""Reading a CSV or Excel sheet into raw cells with spreadsheet row numbers.

Nothing here knows about the canonical tables: a :class:`RawTable` is the header (one or
more candidate names per column) and the cell values as text, each data row labelled with
the row number the analyst sees in Excel. Anything that cannot be read raises
:class:`~senforecast.core.errors.InputValidationError` naming the file.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import itertools
import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, InputWarning, Problem, ValidationReport

Source = Union[str, os.PathLike, pd.DataFrame]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_MAX_FIELD = 1_000_000


@dataclass
class RawTable:
    """Cells of one table as read from a file.

    Attributes
    ----------
    file : str
        Name used in messages (the file name, plus the sheet for Excel).
    headers : list of list of str
        Candidate names of each column, best first (a two-row header gives the lower cell,
        the upper cell and both joined).
    cells : DataFrame
        One column per header (positional column labels 0..n-1), values str or None.
    rows : list of int
        Spreadsheet row number of each row of ``cells``.
    notes : list of str
        Title rows skipped above the header.
    header_row : int or None
        Spreadsheet row of the header (the lower row of a two-row header).
    sheets : list of str
        Every sheet of the workbook (empty for a CSV or a DataFrame).

    Examples
    --------
    A CSV with a title row and a blank row inside the table; row numbers stay those the
    analyst sees in a spreadsheet:

    >>> import os, tempfile, warnings
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "plans.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("Plans at January census,,\\nUPN,NCY,Need\\na1,3,ASD\\n,,\\nb2,7,SLD\\n")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", InputWarning)  # title and blank rows skipped
    ...     raw = read_raw(path, table="plans", skip_title_rows=True)
    >>> raw.file, raw.headers, raw.rows
    ('plans.csv', [['UPN'], ['NCY'], ['Need']], [3, 5])
    >>> raw.cells.values.tolist(), raw.notes
    ([['a1', '3', 'ASD'], ['b2', '7', 'SLD']], ['Plans at January census'])
    >>> tmp.cleanup()
    """

    file: str
    headers: list[list[str]]
    cells: pd.DataFrame
    rows: list[int]
    notes: list[str] = field(default_factory=list)
    header_row: int | None = None
    sheets: list[str] = field(default_factory=list)


def _fail(file: str, message: str, row: int | None = None) -> InputValidationError:
    return InputValidationError([Problem(file, row, None, message)])


def _warn(report: ValidationReport | None, problem: Problem, key: str | None = None, n: int = 1) -> None:
    warnings.warn(str(problem), InputWarning, stacklevel=4)
    if report is not None:
        report.warn(problem)
        if key:
            report.count(key, n)


def cell_text(v: object) -> str | None:
    """A cell value as stripped text (None for blank); whole floats lose their '.0'.

    Examples
    --------
    >>> cell_text(7.0), cell_text(" ASD "), cell_text(None), cell_text(""), cell_text(2.5)
    ('7', 'ASD', None, None, '2.5')
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) else v.isoformat()
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    text = str(v).strip()
    return text or None


def read_raw(
    source: Source,
    *,
    table: str,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
    skip_title_rows: bool = False,
    score: Callable[[list[list[str]]], float] | None = None,
) -> RawTable:
    """Read a CSV/Excel file (or take a DataFrame) as a :class:`RawTable`.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv`` (any of UTF-8, UTF-8 with BOM, UTF-16, Windows-1252; comma, semicolon, tab
        or pipe separated) or ``.xlsx``/``.xlsm``; the format is recognised from the content.
    table : str
        Table name, used for DataFrame sources and to pick a sheet named like the table.
    sheet : str or int, optional
        Excel sheet name or 0-based index.
    report : ValidationReport, optional
        Receives warnings and counts (blank rows skipped).
    skip_title_rows : bool
        Treat leading rows with fewer than two filled cells as titles, not the header
        (published tables often start with a title).
    score : callable, optional
        For a workbook with several sheets, none named like ``table`` and no ``sheet`` given:
        scores a sheet's header (higher is better, e.g. the number of the table's columns it
        has); the best sheet is read, with a warning naming it. Without it the first is read.

    Examples
    --------
    >>> raw = read_raw(pd.DataFrame({"UPN": ["a1"], "NCY": [3]}), table="plans")
    >>> raw.headers, raw.rows, raw.cells.iloc[0].tolist()
    ([['UPN'], ['NCY']], [2], ['a1', '3'])
    """
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, table)
    if not isinstance(source, (str, os.PathLike)):
        raise _fail(f"{table} input", f"expected a file path or a DataFrame, got {type(source).__name__}")
    path = Path(source)
    file = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(str(path), "file not found; check the path and the working folder "
                    f"({os.getcwd()})") from None
    except IsADirectoryError:
        raise _fail(str(path), "this is a folder, not a file") from None
    except OSError as exc:
        raise _fail(str(path), f"the file could not be opened ({exc.strerror or exc})") from None
    if data.startswith(_OLE_MAGIC) or path.suffix.lower() == ".xls":
        raise _fail(file, "old Excel .xls files are not supported; open it in Excel and save as "
                    ".xlsx or CSV")
    if data.startswith(_ZIP_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        grid, file = _excel_grid(data, file, sheet, table, report, skip_title_rows, score)
    else:
        grid = _csv_grid(data, file, report)
    return _grid_to_raw(grid, file, report, skip_title_rows)


def _from_frame(frame: pd.DataFrame, table: str) -> RawTable:
    file = f"{table} table"
    if frame.columns.duplicated().any():
        dups = sorted(set(map(str, frame.columns[frame.columns.duplicated()])))
        raise _fail(file, f"column name(s) {', '.join(dups)} appear more than once; rename them")
    cells = pd.DataFrame({i: frame.iloc[:, i].astype(object).map(cell_text) for i in range(frame.shape[1])},
                         index=range(len(frame)))
    if frame.shape[1] == 0:
        cells = pd.DataFrame(index=range(len(frame)))
    return RawTable(file, [[str(c)] for c in frame.columns], cells, list(range(2, len(frame) + 2)))


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes, file: str, report: ValidationReport | None) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "cp1252", "latin-1"]
    for i, enc in enumerate(encodings):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if i > 0:
            _warn(report, Problem(file, None, None, f"the file is not UTF-8; read it as {enc}. Check "
                                  "that names with accents look right, or save it as 'CSV UTF-8'"),
                  "files_not_utf8")
        break
    else:
        raise _fail(file, "the file could not be decoded as text; save it as 'CSV UTF-8'")
    if "\x00" in text:
        raise _fail(file, "the file contains binary data (NUL bytes) and is not a text CSV; export "
                    "the table as 'CSV UTF-8' or .xlsx")
    return text


def _csv_grid(data: bytes, file: str, report: ValidationReport | None) -> "_Grid":
    text = _decode(data, file, report)
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    if delimiter != "," and first_line.count(",") > first_line.count(delimiter):
        delimiter = ","
    old_limit = csv.field_size_limit()
    try:
        csv.field_size_limit(_MAX_FIELD)
        grid = _plain_csv_grid(text, delimiter)
        if grid is not None:
            return grid
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        if n_lines == len(records):
            rownums = list(range(1, len(records) + 1))  # no field spans two lines
        else:
            # a quoted field spans lines: a record starts on the line after the previous one ended
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            rownums, prev_end = [], 0
            for _ in reader:
                rownums.append(prev_end + 1)
                prev_end = reader.line_num
    except csv.Error as exc:
        raise _fail(file, f"the file is not a readable CSV table ({exc}); check quotes and "
                    "separators, or export it again from Excel as 'CSV UTF-8'") from None
    finally:
        csv.field_size_limit(old_limit)
    return _Grid(rownums, records, {}, text_only=True)


def _plain_csv_grid(text: str, delimiter: str) -> "_Grid | None":
    """A CSV without quote characters read by pandas' C parser; None for any other file.

    Without quotes :mod:`csv` only splits lines at newlines and fields at the delimiter, which
    the C parser does the same way about four times faster (a 1M-row file: ~0.5 s instead of
    ~2 s; the two are compared in the tests). Files with quotes, carriage returns outside
    CRLF, a second byte-order mark or a field that may exceed csv's size limit keep the csv
    reader, which also words every error.
    """
    if '"' in text or text.startswith("\ufeff") or text.count("\r") != text.count("\r\n"):
        return None
    encoded = text.encode("utf-8")
    raw = np.frombuffer(encoded, dtype=np.uint8)
    bounds = np.concatenate(([0], np.flatnonzero(raw == 10) + 1, [len(raw)]))  # line starts, then the end
    if np.diff(bounds).max() > _MAX_FIELD:  # bytes >= characters: no field can be over the limit
        return None
    # the widest line sets the number of columns (the C parser refuses lines wider than that)
    seps = np.flatnonzero(raw == ord(delimiter))
    width = int(np.diff(np.searchsorted(seps, bounds)).max()) + 1
    del raw
    try:
        table = pd.read_csv(io.BytesIO(encoded), sep=delimiter, header=None, names=range(width),
                            dtype=object, na_filter=False, skip_blank_lines=False,
                            quoting=csv.QUOTE_NONE, encoding="utf-8", engine="c")
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(table) != n_lines:  # not one record per line after all: let csv decide
        return None
    head = list(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), _HEAD_ROWS))
    return _Grid(list(range(1, n_lines + 1)), head, {}, text_only=True, table=table)


# --- Excel -----------------------------------------------------------------------------------


def _excel_grid(data: bytes, file: str, sheet, table: str, report: ValidationReport | None,
                skip_title_rows: bool = False,
                score: Callable[[list[list[str]]], float] | None = None) -> tuple["_Grid", str]:
    import openpyxl  # lazy: openpyxl is only needed for workbooks, and is slow to import

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles/extensions it skips
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open means "not a workbook we can read"
        raise _fail(file, f"the file could not be opened as an Excel .xlsx workbook "
                    f"({type(exc).__name__}); check it opens in Excel and save it again as .xlsx") from None
    names = wb.sheetnames
    if sheet is None:
        match = [n for n in names if n.strip().lower() == table]
        ws = wb[match[0]] if match else _best_sheet(wb, file, skip_title_rows, score)
        if not match and len(names) > 1:
            how = f"the sheet with most of the {table} columns" if score is not None else "the first"
            _warn(report, Problem(f"{file} [{ws.title}]", None, None,
                                  f"the workbook has {len(names)} sheets ({', '.join(map(repr, names))}); "
                                  f"read {ws.title!r}, {how}. To choose the sheet yourself, name "
                                  f"it {table!r}"))
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise _fail(file, f"sheet number {sheet} does not exist; the sheets are {', '.join(names)}")
        ws = wb.worksheets[sheet]
    else:
        if sheet not in names:
            raise _fail(file, f"no sheet called {sheet!r}; the sheets are {', '.join(names)}")
        ws = wb[sheet]
    label = f"{file} [{ws.title}]"
    if not hasattr(ws, "iter_rows"):
        raise _fail(label, "this sheet is a chart, not a table of cells")
    grid = _sheet_grid(ws)
    grid.sheets = list(names)
    if _has_formulas(data) and any(v is None for rec in grid.records for v in rec):
        grid.formulas = _formulas_without_values(data, ws.title, grid)
    return grid, label


def _sheet_grid(ws, max_row: int | None = None) -> "_Grid":
    merged = {}
    for rng in ws.merged_cells.ranges:
        top_left = ws.cell(rng.min_row, rng.min_col).value
        for r in range(rng.min_row, min(rng.max_row, rng.min_row + 50) + 1):
            for c in range(rng.min_col, min(rng.max_col, rng.min_col + 500) + 1):
                merged[(r, c)] = (top_left, rng)
    rownums, records = [], []
    for r, values in enumerate(ws.iter_rows(min_row=1, max_row=max_row, values_only=True), start=1):
        vals = list(values)
        for c in range(len(vals)):
            if (r, c + 1) in merged:
                vals[c] = merged[(r, c + 1)][0]
        rownums.append(r)
        records.append(vals)
    return _Grid(rownums, records, merged, text_only=False)


def _best_sheet(wb, file: str, skip_title_rows: bool, score: Callable[[list[list[str]]], float] | None):
    """The sheet whose header scores best (ties: the earlier sheet); the first without a score."""
    sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
    if score is None or len(sheets) < 2:
        return wb.worksheets[0]
    best, best_score = wb.worksheets[0], float("-inf")
    for ws in sheets:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InputWarning)
                head = _grid_to_raw(_sheet_grid(ws, max_row=_HEAD_ROWS), file, None, skip_title_rows)
            value = score(head.headers)
        except InputValidationError:
            value = float("-inf")  # empty sheet, or a header that cannot be read
        if value > best_score:
            best, best_score = ws, value
    return best


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the .xlsx holds a formula (a ``<f>`` element)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(n.startswith("xl/worksheets/") and b"<f" in z.read(n) for n in z.namelist())
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _formulas_without_values(data: bytes, title: str, grid: "_Grid") -> list[tuple[int, int, str]]:
    """(row, 0-based column, formula) of cells that are blank only because the formula in them
    has no saved result (a workbook written by a program that does not calculate)."""
    import openpyxl  # lazy: as in _excel_grid

    blanks = {(r, c) for r, rec in zip(grid.rownums, grid.records) for c, v in enumerate(rec) if v is None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(io.BytesIO(data), data_only=False)[title]
    found = []
    for r, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        for c, v in enumerate(values):
            if isinstance(v, str) and v.startswith("=") and (r, c) in blanks:
                found.append((r, c, v))
    return found


_HEAD_ROWS = 60  # the header is looked for in the first rows


@dataclass
class _Grid:
    """Records of a sheet with their row numbers and merged ranges.

    With ``table`` (a CSV read by the C parser), ``records`` holds only the first
    ``_HEAD_ROWS`` records, as lists the length of their line, and ``table`` holds every
    record as columns, short records padded with empty strings.
    """

    rownums: list[int]
    records: list[list]
    merged: dict
    text_only: bool  # every cell is a str, or None where a record is short (CSV): faster clean-up
    table: pd.DataFrame | None = None
    sheets: list[str] = field(default_factory=list)
    formulas: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, formula)

    def all_records(self) -> Iterable[Sequence]:
        return self.records if self.table is None else self.table.itertuples(index=False)

    def body(self, start: int) -> pd.DataFrame:
        """Records from position ``start`` on, one positional column per field."""
        if len(self.rownums) <= start:
            return pd.DataFrame()
        if self.table is None:
            # short records padded by hand: pandas deprecates padding lists of unequal length
            records = self.records[start:]
            width = max(map(len, records))
            return pd.DataFrame([r if len(r) == width else list(r) + [None] * (width - len(r))
                                 for r in records], dtype=object)
        return self.table.iloc[start:].reset_index(drop=True)


# --- header and data -------------------------------------------------------------------------


def _clean_cells(frame: pd.DataFrame, text_only: bool) -> pd.DataFrame:
    """Cells as stripped text, None for blanks."""
    if not text_only:
        return frame.map(cell_text)
    out = {}
    for c in frame.columns:
        # str, or missing where a record is short: strip each distinct text once (a column
        # repeats few values), then take the results back to the cells by code (-1: None)
        codes, uniques = pd.factorize(frame[c].to_numpy(dtype=object))
        stripped = np.array([u.strip() or None for u in uniques] + [None], dtype=object)
        out[c] = pd.Series(stripped[codes], index=frame.index, dtype=object)  # object: blanks stay None
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _grid_to_raw(grid: "_Grid", file: str, report: ValidationReport | None, skip_title_rows: bool) -> RawTable:
    merged = grid.merged
    # the header is found among the first filled rows
    head_limit = _HEAD_ROWS
    texts = [(r, [cell_text(v) for v in vals]) for r, vals in zip(grid.rownums[:head_limit], grid.records[:head_limit])]
    filled = [(r, vals) for r, vals in texts if any(v is not None for v in vals)]
    if not filled:
        if len(grid.rownums) > head_limit and any(cell_text(v) is not None for rec in grid.all_records() for v in rec):
            raise _fail(file, f"the first {head_limit} rows are blank; delete them so the header is at the top")
        raise _fail(file, "the file is empty; expected a header row and one row per record")
    start = 0
    notes = []
    if skip_title_rows:
        # a title fills one cell, or one merged range (every filled cell the same text)
        while start < len(filled) - 1 and len({v for v in filled[start][1] if v is not None}) < 2:
            notes.append(next(v for v in filled[start][1] if v is not None))
            start += 1
    if notes:
        _warn(report, Problem(file, filled[0][0], None, f"skipped {len(notes)} title row(s) above the header "
                              f"(e.g. {notes[0][:60]!r}); the header is row {filled[start][0]}"),
              "title_rows_skipped", len(notes))
    header_row, header = filled[start]
    pos = next(i for i, (r, _) in enumerate(texts) if r == header_row)
    header_rows = [header_row]
    two_rows = any(
        r == header_row and (rng.max_col > rng.min_col or rng.max_row > rng.min_row)
        for (r, c), (_, rng) in merged.items()
    )
    if two_rows and pos + 1 < len(texts):
        second_row, second = texts[pos + 1]
        header_rows.append(second_row)
        pos += 1
    else:
        second = []
    width = max(len(header), len(second))
    header = header + [None] * (width - len(header))
    second = second + [None] * (width - len(second))
    headers: list[list[str]] = []
    for top, bottom in zip(header, second):
        cands = []
        if top is not None and bottom is not None and top != bottom:
            cands = [bottom, f"{top} {bottom}", top]
        elif top is not None or bottom is not None:
            cands = [bottom or top]
        headers.append(cands)
    body_rows = np.asarray(grid.rownums[pos + 1:], dtype=np.int64)
    body = grid.body(pos + 1)
    body = _clean_cells(body, grid.text_only) if body.shape[1] else pd.DataFrame(index=range(len(body_rows)))
    filled_row = body.notna().any(axis=1).to_numpy(bool) if body.shape[1] else np.zeros(len(body_rows), bool)
    if body.shape[1] > width:
        extra = body.iloc[:, width:].notna().any(axis=1).to_numpy(bool)
        if extra.any():
            raise InputValidationError([
                Problem(file, int(r), None, f"this row has more values than the header has columns ({width}); "
                        "check for a stray separator or an unquoted comma in a name")
                for r in body_rows[extra]])
        body = body.iloc[:, :width]
    for c in range(body.shape[1], width):
        body[c] = None
    body.columns = range(width)
    if (~filled_row).any() and filled_row.any():
        last = body_rows[filled_row][-1]
        inner = int((~filled_row & (body_rows < last)).sum())
        if inner:
            _warn(report, Problem(file, None, None, f"skipped {inner} blank row(s) inside the table"),
                  "blank_rows_skipped", inner)
    cells = body[filled_row].reset_index(drop=True)
    data_rows = body_rows[filled_row].tolist()  # Python ints
    # columns with no header: ignore when empty, otherwise warn that they are ignored
    keep_cols, keep_headers = [], []
    for i, cands in enumerate(headers):
        if cands:
            keep_cols.append(i)
            keep_headers.append(cands)
        elif cells[i].notna().any():
            _warn(report, Problem(file, header_rows[0], f"column {i + 1}",
                                  "this column has values but no header; it was ignored"),
                  "unnamed_columns_ignored")
    cells = cells[keep_cols]
    cells.columns = range(len(keep_cols))
    names = [h[0] for h in keep_headers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputValidationError([Problem(file, header_rows[-1], n, "this header appears more than "
                                            "once; give each column a different name") for n in dup])
    _raise_unsaved_formulas(grid, file, header_rows[-1], headers)
    return RawTable(file, keep_headers, cells, data_rows, notes, header_rows[-1], list(grid.sheets))


def _raise_unsaved_formulas(grid: "_Grid", file: str, header_row: int, headers: list[list[str]]) -> None:
    """One problem per column for formulas below the header that have no saved result: they
    read as blank cells, and 'is blank' would send the analyst looking for an empty cell."""
    by_column: dict[int, list[tuple[int, str]]] = {}
    for r, c, formula in grid.formulas:
        if r > header_row:
            by_column.setdefault(c, []).append((r, formula))
    problems = []
    for c, cells in sorted(by_column.items()):
        rows = [r for r, _ in cells]
        name = headers[c][0] if c < len(headers) and headers[c] else f"column {c + 1}"
        shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5:,} more" if len(rows) > 5 else "")
        problems.append(Problem(file, rows[0], name,
                                f"{len(rows):,} cell(s) hold a formula with no saved result (rows {shown}), so "
                                "they read as blank: the workbook was saved by a program that does not "
                                "calculate formulas. Open it in Excel or LibreOffice and save it again, or "
                                "copy the column and paste it as values", cells[0][1]))
    if problems:
        raise InputValidationError(problems)
