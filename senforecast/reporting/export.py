"""Publishable tables: Excel workbooks and CSV files with suppression, rounding and safe cells.

* :func:`to_excel` writes one formatted sheet per table (numbers stored as numbers, frozen
  header row, column widths, number formats) plus a *Notes* sheet of assumptions.
* :func:`to_csv` writes the same tables as CSV files.
* :func:`suppression_mask` / :func:`suppress` hide small counts ("<5") with secondary
  suppression, so that no hidden count can be worked out from totals; :func:`round_counts`
  rounds to a base such as 5.
* :func:`neutralise` stops text from input files being read as a spreadsheet formula
  (``=``, ``+``, ``-``, ``@``, tab, carriage return at the start get a leading ``'``).
* Pupil ids are never written: a table with a ``pupil_id`` column is refused.

Suppression model
-----------------
A table is seen as cells of counts labelled by *key* columns (e.g. ``need`` and ``year``),
or, when several count columns are given, by the row keys and the count column. Every
*line* of cells that differ in one key only is assumed to have a published total (the
strictest assumption: totals may be printed in this table or another). Each small count is
hidden together with the other corners of a box of hidden cells (one other value per key:
a rectangle in a two-way table, a cube in a three-way one), so no hidden count can be
computed from the shown cells and those totals; the box that hides least is chosen.
"""
from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.errors import InputWarning, SenForecastError

FORBIDDEN_COLUMNS: frozenset[str] = frozenset({"pupil_id", "pupilid", "upn", "pupil_ref", "child_id"})
"""Column names (compared in lower case, spaces as underscores) that hold pupil-level ids."""

COUNT_COLUMNS: tuple[str, ...] = ("count", "on_roll", "actual", "children", "placements")
"""Columns treated as counts of children when ``count_columns`` is not given."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# ------------------------------------------------------------------------- safety
def neutralise(value: object) -> object:
    """Make a text value safe to open in a spreadsheet (no formula injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe so a spreadsheet shows it as text instead of running it. Other values are
    returned unchanged (numbers stay numbers).

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-5 pupils"), neutralise("ASD"), neutralise(-5)
    ('\\'=HYPERLINK("http://x")', "'-5 pupils", 'ASD', -5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _check_no_ids(name: str, table: pd.DataFrame) -> None:
    cols = [str(c) for c in table.columns] + [str(n) for n in table.index.names if n is not None]
    bad = [c for c in cols if c.strip().lower().replace(" ", "_") in FORBIDDEN_COLUMNS]
    if bad:
        raise SenForecastError(
            f"table {name!r} has column(s) {bad} holding pupil-level ids, which must never be exported; "
            "aggregate to counts first (e.g. table.groupby([...]).size())"
        )


def _prepare(name: str, table: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        if isinstance(table, pd.Series):
            table = table.to_frame()
        else:
            raise SenForecastError(f"table {name!r} must be a pandas DataFrame; got {type(table).__name__}")
    _check_no_ids(name, table)
    if not isinstance(table.index, pd.RangeIndex) or any(n is not None for n in table.index.names):
        table = table.reset_index()
    if isinstance(table.columns, pd.MultiIndex):
        table = table.copy()
        table.columns = [" ".join(str(p) for p in c if str(p) != "") for c in table.columns]
    return table


# -------------------------------------------------------------------- suppression
def _count_columns(table: pd.DataFrame, count_columns: Sequence[str] | None) -> list[str]:
    if count_columns is None:
        return [c for c in table.columns if str(c) in COUNT_COLUMNS]
    missing = [c for c in count_columns if c not in table.columns]
    if missing:
        raise SenForecastError(f"count column(s) {missing} are not in the table (it has {list(table.columns)})")
    return list(count_columns)


def _key_columns(table: pd.DataFrame, counts: list[str], keys: Sequence[str] | None) -> list[str]:
    if keys is not None:
        return list(keys)
    stats = {"mean", "median"} | {c for c in table.columns if re.fullmatch(r"p\d+(\.\d+)?", str(c))}
    return [c for c in table.columns if c not in counts and c not in stats
            and not pd.api.types.is_float_dtype(table[c])]


def _row_dims(table: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One code column per key; the row number when the keys do not identify rows."""
    if keys:
        dims = np.column_stack([pd.factorize(table[k].astype(str))[0] for k in keys])
        if len(np.unique(dims, axis=0)) == len(dims):
            return dims
    return np.arange(len(table))[:, None]


def _suppress_cells(values: np.ndarray, dims: np.ndarray, threshold: float, suppress_zeros: bool) -> np.ndarray:
    """Hide small cells, each inside a hypercube of hidden cells (the "hypercube method").

    For a hidden cell, pick one other value in each dimension: the 2^d cells at the
    corners of that box, with alternating signs, change no line total, so none of them
    can be worked out from shown cells and totals. The box chosen hides the least extra
    (smallest counts, preferring cells already hidden).
    """
    n = len(values)
    primary = np.isfinite(values) & (values < threshold) & ((values > 0) | suppress_zeros)
    hidden = primary.copy()
    if not primary.any():
        return hidden
    varying = [d for d in range(dims.shape[1]) if len(np.unique(dims[:, d])) > 1]
    if not varying:  # a single cell is its own total
        warnings.warn("a table of one small count cannot be protected by suppression; do not publish its total",
                      InputWarning, stacklevel=3)
        return hidden
    codes = np.column_stack([pd.factorize(dims[:, d])[0] for d in varying])
    shape = tuple(int(codes[:, k].max()) + 1 for k in range(codes.shape[1]))
    grid = np.full(shape, -1, dtype=np.int64)
    grid[tuple(codes.T)] = np.arange(n)
    cost = np.where(np.isfinite(values), values, 0.0)
    corners = np.array(list(np.ndindex(*(2,) * len(shape))), dtype=bool)  # (2^d, d)
    protected = np.zeros(n, dtype=bool)
    unprotected = 0
    for p in np.flatnonzero(primary):
        if protected[p]:
            continue
        c = codes[p]
        alts = [np.delete(np.arange(m), c[k]) for k, m in enumerate(shape)]
        combos = np.stack(np.meshgrid(*alts, indexing="ij"), axis=-1).reshape(-1, len(shape))
        # coordinates of every corner of every candidate box: (n_combos, 2^d, d)
        coords = np.where(corners[None, :, :], combos[:, None, :], c[None, None, :])
        cells = grid[tuple(np.moveaxis(coords, -1, 0))]
        ok = (cells >= 0).all(axis=1)
        if not ok.any():
            unprotected += 1
            continue
        cells = cells[ok]
        extra = np.where(hidden[cells], 0.0, cost[cells])
        new = (~hidden[cells]).sum(axis=1)
        best = np.lexsort((new, extra.sum(axis=1)))[0]
        hidden[cells[best]] = True
        protected[cells[best]] = True
    if unprotected:
        warnings.warn(
            f"{unprotected} small count(s) could not be protected because the table lacks some combinations "
            "of its keys; add the missing combinations as zero counts, or do not publish totals",
            InputWarning, stacklevel=3,
        )
    return hidden


def suppression_mask(
    table: pd.DataFrame,
    *,
    threshold: float = 5,
    count_columns: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    wide: bool | None = None,
    suppress_zeros: bool = False,
) -> pd.DataFrame:
    """Which count cells to hide: small counts and enough others that none can be recomputed.

    Parameters
    ----------
    table : DataFrame
        Tidy (``need, year, count``) or wide (``need, 2024, 2025, ...``) table of counts.
    threshold : float
        Counts from 1 to ``threshold`` - 1 (below ``threshold``) are hidden.
    count_columns : list of str, optional
        Columns holding counts; default those named in :data:`COUNT_COLUMNS`.
    keys : list of str, optional
        Columns labelling the cells; default every other column that is not a float
        statistic (``mean``, ``median``, ``pXX``).
    wide : bool, optional
        Treat the count columns as one more dimension whose row totals are published
        (default: True when there are several count columns).
    suppress_zeros : bool
        Also hide zero counts as primary suppression (default: zeros are shown).

    Returns
    -------
    DataFrame of bool
        Same shape as ``table[count_columns]``; True = hide.

    Examples
    --------
    >>> t = pd.DataFrame({"need": ["ASD", "SLD", "VI"], "count": [40, 12, 3]})
    >>> suppression_mask(t)["count"].tolist()   # VI alone would follow from the total
    [False, True, True]
    """
    counts = _count_columns(table, count_columns)
    mask = pd.DataFrame(False, index=table.index, columns=counts)
    if not counts or table.empty:
        return mask
    wide = len(counts) > 1 if wide is None else wide
    key_cols = _key_columns(table, counts, keys)
    rows = _row_dims(table, key_cols)
    if keys is not None and rows.shape[1] == 1 and len(key_cols) != 1:
        raise SenForecastError(
            f"the key columns {key_cols} do not identify each row of the table; pass keys=[...] naming "
            "the columns that do (e.g. need and year)"
        )
    if wide:
        # the count columns are one more dimension: cells (row, column), rows have totals too
        values = np.concatenate([pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in counts])
        dims = np.vstack([np.column_stack([rows, np.full(len(table), j)]) for j in range(len(counts))])
        hidden = _suppress_cells(values, dims, threshold, suppress_zeros)
        for j, c in enumerate(counts):
            mask[c] = hidden[j * len(table):(j + 1) * len(table)]
        return mask
    for c in counts:
        values = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
        mask[c] = _suppress_cells(values, rows, threshold, suppress_zeros)
    return mask


def round_counts(table: pd.DataFrame, base: int = 5, *, count_columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Round count columns to the nearest multiple of ``base`` (halves round up).

    Examples
    --------
    >>> round_counts(pd.DataFrame({"count": [2, 3, 12, 17.5]}))["count"].tolist()
    [0, 5, 10, 20]
    """
    out = table.copy()
    for c in _count_columns(table, count_columns):
        v = pd.to_numeric(out[c], errors="coerce")
        r = np.floor(v / base + 0.5) * base
        out[c] = r.astype("Int64") if float(base).is_integer() else r
    return out


def suppress(
    table: pd.DataFrame,
    *,
    threshold: float = 5,
    round_to: int | None = None,
    count_columns: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    wide: bool | None = None,
    marker: str | None = None,
    secondary_marker: str = "c",
    suppress_zeros: bool = False,
) -> pd.DataFrame:
    """Table for publication: small counts (and secondary cells) replaced by a marker, the
    rest optionally rounded.

    Parameters
    ----------
    threshold, count_columns, keys, wide, suppress_zeros
        See :func:`suppression_mask`.
    round_to : int, optional
        Round shown counts to this base (after deciding suppression on the true counts).
    marker : str, optional
        Text shown in cells hidden because they are small; default ``"<{threshold}"``, e.g. ``"<5"``.
    secondary_marker : str
        Text shown in cells hidden only to protect a small one (default ``"c"``, as in DfE
        releases), so a reader is never told a large count is below the threshold.

    Returns
    -------
    DataFrame
        Count columns hold numbers, or the marker text in hidden cells.

    Examples
    --------
    >>> t = pd.DataFrame({"need": ["ASD", "SLD", "VI", "HI"], "count": [40, 12, 3, 0]})
    >>> suppress(t)["count"].tolist()   # HI (0) is hidden too, or VI = total - shown
    [40, 12, '<5', 'c']
    """
    marker = f"<{threshold:g}" if marker is None else marker
    mask = suppression_mask(table, threshold=threshold, count_columns=count_columns, keys=keys,
                            wide=wide, suppress_zeros=suppress_zeros)
    out = round_counts(table, round_to, count_columns=list(mask.columns)) if round_to else table.copy()
    for c in mask.columns:
        v = pd.to_numeric(table[c], errors="coerce")
        primary = ((v < threshold) & ((v > 0) | suppress_zeros)).to_numpy()
        hide = mask[c].to_numpy()
        cells = [x.item() if isinstance(x, np.generic) else (None if x is pd.NA else x) for x in out[c].tolist()]
        cells = [marker if h and p else secondary_marker if h else x for x, h, p in zip(cells, hide, primary)]
        out[c] = pd.Series(cells, index=out.index, dtype=object)
    return out


# -------------------------------------------------------------------------- writers
def _publishable(name: str, table: pd.DataFrame, suppress_below, round_to, count_columns) -> pd.DataFrame:
    table = _prepare(name, table)
    cols = count_columns.get(name) if isinstance(count_columns, Mapping) else count_columns
    if suppress_below:
        table = suppress(table, threshold=suppress_below, round_to=round_to, count_columns=cols)
    elif round_to:
        table = round_counts(table, round_to, count_columns=cols)
    return table


def _sheet_names(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        s = _BAD_SHEET_CHARS.sub("_", str(n)).strip("'") or "Sheet"
        s = s[:31]
        base, k = s, 2
        while s.lower() in {o.lower() for o in out} or s.lower() == "notes":
            suffix = f" ({k})"
            s = base[: 31 - len(suffix)] + suffix
            k += 1
        out.append(s)
    return out


def _number_format(column: str, series: pd.Series) -> str | None:
    name = str(column).lower()
    if name in {"year", "origin", "ncy", "min_ncy", "max_ncy", "opens", "closes", "horizon", "first_year_exceeded"} \
            or name.endswith("_year"):
        return "0"
    if "prob" in name or "share" in name or name.endswith("_rate") or name == "rate" or "coverage" in name:
        return "0.0%"
    if "cost" in name or "gbp" in name or name.endswith("_£"):
        return '"£"#,##0'
    numeric = pd.to_numeric(series, errors="coerce").dropna()
    if numeric.empty:
        return None
    if np.allclose(numeric, np.round(numeric)):
        return "#,##0"
    return "#,##0.0"


def _cell_value(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, str):
        return neutralise(v)
    if isinstance(v, (int, float, bool)):
        return v
    return neutralise(str(v))


def _notes_rows(notes, suppress_below, round_to, sheets: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if isinstance(notes, Mapping):
        rows += [(str(k), str(v)) for k, v in notes.items()]
    elif isinstance(notes, str):
        rows += [("Note", line) for line in notes.splitlines() if line.strip()]
    elif notes is not None:
        rows += [("Note", str(n)) for n in notes]
    if suppress_below:
        rows.append(("Suppression", f"Counts from 1 to {suppress_below - 1:g} are shown as \"<{suppress_below:g}\"; "
                     "cells shown as \"c\" are hidden so that no small count can be worked out from totals."))
    if round_to:
        rows.append(("Rounding", f"Counts are rounded to the nearest {round_to}; totals may not add up."))
    rows.append(("Pupil ids", "No pupil-level identifiers are included in this workbook."))
    for sheet, original, n in sheets:
        rows.append((f"Sheet: {sheet}", f"{original} ({n} rows)"))
    return rows


def to_excel(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    suppress_below: float | None = None,
    round_to: int | None = None,
    notes: str | Sequence[str] | Mapping[str, object] | None = None,
    count_columns: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    title: str = "senforecast tables",
) -> Path:
    """Write tables to an Excel workbook: one formatted sheet each, plus a Notes sheet.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Sheet name -> table (names are shortened to Excel's 31 characters and made unique).
    path : str or Path
        Output ``.xlsx`` file.
    suppress_below : float, optional
        Hide counts below this (e.g. 5 shows ``"<5"``) with secondary suppression.
    round_to : int, optional
        Round counts to this base (e.g. 5).
    notes : str, list of str or dict, optional
        Assumptions and sources for the Notes sheet (a dict gives two columns).
    count_columns : list of str or dict of sheet -> list, optional
        Which columns are counts for suppression and rounding (default ``count``,
        ``on_roll``, ``actual``...).
    title : str
        Heading of the Notes sheet.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, openpyxl, os
    >>> t = pd.DataFrame({"need": ["ASD", "SLD"], "year": [2026, 2026], "count": [40, 12]})
    >>> path = to_excel({"By need": t}, os.path.join(tempfile.mkdtemp(), "t.xlsx"))
    >>> openpyxl.load_workbook(path).sheetnames
    ['Notes', 'By need']
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if not isinstance(tables, Mapping) or not tables:
        raise SenForecastError("to_excel needs a dict of sheet name -> DataFrame with at least one table")
    prepared = {n: _publishable(n, t, suppress_below, round_to, count_columns) for n, t in tables.items()}
    names = _sheet_names(prepared)
    wb = Workbook()
    notes_ws = wb.active
    notes_ws.title = "Notes"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    sheets_info = []
    for sheet, (orig, table) in zip(names, prepared.items()):
        ws = wb.create_sheet(sheet)
        cc = count_columns.get(orig) if isinstance(count_columns, Mapping) else count_columns
        suppressed_cols = {str(c) for c in _count_columns(table, cc)} if suppress_below else set()
        sheets_info.append((sheet, str(orig), len(table)))
        columns = [str(c) for c in table.columns]
        ws.append([neutralise(c) for c in columns])
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.data_type = "s"
        for row in table.itertuples(index=False, name=None):
            ws.append([_cell_value(v) for v in row])
        for j, col in enumerate(table.columns, start=1):
            fmt = _number_format(col, table[col])
            letter = get_column_letter(j)
            texts = [len(str(columns[j - 1]))] + [len(f"{v:,.1f}") if isinstance(v, float) else len(str(v))
                                                   for v in table[col].head(500).tolist()]
            ws.column_dimensions[letter].width = min(max(texts) + 3, 50)
            for cell in ws[letter][1:]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
                    if suppress_below and str(col) in suppressed_cols:
                        cell.alignment = Alignment(horizontal="right")  # markers line up with numbers
                elif fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
        if len(table):
            ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{len(table) + 1}"
    notes_ws.append([neutralise(title)])
    notes_ws["A1"].font = Font(bold=True, size=14)
    notes_ws.append([])
    for k, v in _notes_rows(notes, suppress_below, round_to, sheets_info):
        notes_ws.append([neutralise(k), neutralise(v)])
        notes_ws.cell(notes_ws.max_row, 1).font = Font(bold=True)
        notes_ws.cell(notes_ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    notes_ws.column_dimensions["A"].width = 28
    notes_ws.column_dimensions["B"].width = 100
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_whole(path, wb.save)
    return path


def _write_whole(path: Path, write) -> None:
    """Write a file through a temporary file beside it, renamed over ``path`` at the end: an
    interrupted write (Ctrl-C, full disk) leaves an earlier file untouched, never a torn one."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return stem or "table"


def to_csv(
    tables: Mapping[str, pd.DataFrame] | pd.DataFrame,
    path: str | Path,
    *,
    suppress_below: float | None = None,
    round_to: int | None = None,
    notes: str | Sequence[str] | Mapping[str, object] | None = None,
    count_columns: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Write tables as CSV (UTF-8 with a byte-order mark so Excel reads £ correctly).

    Parameters
    ----------
    tables : DataFrame or dict of str to DataFrame
        One table (``path`` is the file) or several (``path`` is a folder; one
        ``<name>.csv`` each, plus ``notes.txt``).
    path : str or Path
    suppress_below, round_to, notes, count_columns
        As :func:`to_excel`.

    Returns
    -------
    list of Path
        Files written.

    Examples
    --------
    >>> import tempfile, os
    >>> t = pd.DataFrame({"need": ["=cmd", "SLD"], "count": [40, 2]})
    >>> [p] = to_csv(t, os.path.join(tempfile.mkdtemp(), "t.csv"), suppress_below=5)
    >>> p.read_text(encoding="utf-8-sig").splitlines()
    ['need,count', "'=cmd,c", 'SLD,<5']
    """
    single = isinstance(tables, (pd.DataFrame, pd.Series))
    items = {"table": tables} if single else dict(tables)
    if not items:
        raise SenForecastError("to_csv needs at least one table")
    path = Path(path)
    written = []
    if not single:
        path.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for name, table in items.items():
        out = _publishable(name, table, suppress_below, round_to, count_columns)
        out = out.rename(columns=lambda c: neutralise(str(c)))
        for c in out.columns:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].map(neutralise)
        if single:
            target = path
            target.parent.mkdir(parents=True, exist_ok=True)
        else:
            stem, k = _file_stem(name), 2
            while stem.lower() in used:
                stem, k = f"{_file_stem(name)}_{k}", k + 1
            used.add(stem.lower())
            target = path / f"{stem}.csv"
        # CRLF rows (RFC 4180) also make the writer quote any field holding a CR or LF
        _write_whole(target, lambda tmp: out.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n"))
        written.append(target)
    if not single:
        rows = _notes_rows(notes, suppress_below, round_to,
                           [(p.name, str(n), len(t)) for p, (n, t) in zip(written, items.items())])
        notes_path = path / "notes.txt"
        body = "\n".join(f"{k}: {v}" for k, v in rows) + "\n"
        _write_whole(notes_path, lambda tmp: tmp.write_text(body, encoding="utf-8"))
        written.append(notes_path)
    return written
