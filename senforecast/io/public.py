"""Readers of published aggregate tables: DfE (explore-education-statistics) and StatsWales.

Which reader for which StatsWales table: the two ALN/SEN tables (pupils by local authority and
type of provision; needs by local authority and provision) are read by
:func:`senforecast.io.statswales.read_aln_provision` and :func:`~senforecast.io.statswales.read_aln_needs`
(plan-type and need codes, published totals and rounding checked, needs marked as reports
from 2017). :func:`read_statswales` reads any other StatsWales table (by age, school type,
year group ...) generically, keeping the labels as published; its cells, header notes and
nested labels are parsed by :mod:`senforecast.io.statswales` (one parser for both), and it
points at the ALN readers when it is given one of their tables.

Both return a tidy table ``year, area, [ncy | age_group], [need], [setting], [stage], [other
breakdowns], count`` with ``count`` a float and NaN where the publisher put a suppression or
'not available' marker (``c``, ``x``, ``z``, ``*``, ``..``, ``:`` ...). The number of such
cells is warned about and counted in ``report.counts["suppressed"]``; rows are never dropped
silently (dropped total rows and other geographic levels are warned about and counted).

Years: an academic-year label (``2023/24``, DfE ``time_period`` ``202324``) is the January
census inside it (2024); a plain ``2024`` is taken as the census year.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import replace
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, Problem, ValidationReport
from ..core.schema import YEAR_MAX, YEAR_MIN, parse_ncy, parse_year_label
from .markers import parse_counts, SUPPRESSION_MARKERS
from ._source import RawTable, Source, _warn, read_raw
from .columns import normalise
from .statswales import HEADER_NOTE, MARKERS, fill_nested_labels, parse_cells, split_shorthand
from ..core.plan_types import plan_type_code

BREAKDOWNS: dict[str, frozenset[str]] = {
    "area": frozenset({"area", "local_authority", "la_name", "la", "local_authority_name", "authority",
                       "planning_area", "region", "local_authorities"}),
    "ncy": frozenset({"ncy", "nc_year", "ncyear", "national_curriculum_year", "year_group", "nc_year_group",
                      "national_curriculum_year_group"}),
    "age_group": frozenset({"age", "age_group", "characteristic_age", "age_band", "age_range", "ages"}),
    "need": frozenset({"need", "primary_need", "sen_primary_need", "primary_need_type", "type_of_need",
                       "major_need", "major_need_category", "sen_type", "need_type", "primary_sen_type",
                       "aln_category", "special_educational_need", "major_special_educational_need"}),
    "setting": frozenset({"setting", "establishment_type", "establishment_group", "type_of_establishment",
                          "school_type", "phase_type_grouping", "setting_type", "type_of_school",
                          "placement", "establishment"}),
    "stage": frozenset({"stage", "sen_provision", "sen_status", "provision_type", "sen_stage",
                        "type_of_provision", "provision"}),
}
"""Header spellings (normalised) recognised as each canonical breakdown."""

_DFE_META = frozenset({
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
    "region_name", "old_la_code", "new_la_code", "la_code", "la_name", "lad_code", "lad_name",
    "english_devolved_area_code", "english_devolved_area_name", "opportunity_area_code",
    "opportunity_area_name", "ward_code", "ward_name", "pcon_code", "pcon_name", "school_urn",
    "school_laestab", "school_name", "trust_name", "trust_id", "sponsor_id", "sponsor_name",
    "provider_ukprn", "provider_name", "rsc_region_lead_name", "local_enterprise_partnership_code",
    "local_enterprise_partnership_name", "lsip_code", "lsip_name", "institution_name",
})

_VALUE_PREFERENCE = ("total_all", "number_of_pupils", "headcount", "count", "number", "value", "pupils",
                     "total_ehc", "ehc_plans", "total", "number_of_children", "population")

_TOTAL_WORDS = frozenset({"total", "all", "all pupils", "all ages", "all needs", "all schools",
                          "all settings", "all categories", "all local authorities", "all major needs",
                          "all types", "all establishments", "all year groups", "wales", "england",
                          "all areas", "grand total", "all pupils with sen"})


def _is_grand_total(value: object) -> bool:
    return isinstance(value, str) and re.sub(r"\s+", " ", value.strip().lower()) in _TOTAL_WORDS


def is_total_label(value: object) -> bool:
    """Whether a breakdown label denotes a total (``Total``, ``All``, ``Wales``, ``... - total``).

    Examples
    --------
    >>> [is_total_label(v) for v in ["Total", "Awaiting provision - total", "ASD", "All pupils", "Wales"]]
    [True, True, False, True, True]
    """
    if not isinstance(value, str):
        return False
    v = re.sub(r"\s+", " ", value.strip().lower())
    return v in _TOTAL_WORDS or v.startswith("total ") or v.endswith(" total") or v.endswith("- total")


def _plausible_year(value: object) -> int | None:
    """A census year from a label, or None (numbers outside 1990-2100 are not years here)."""
    y = parse_year_label(value)[0]
    return y if y is not None and YEAR_MIN <= y <= YEAR_MAX else None


def _canonical_breakdowns(names: Sequence[str]) -> dict[str, str]:
    """Normalised header -> output column name; the first header of a kind gets the canonical name."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        kind = next((k for k, al in BREAKDOWNS.items() if n in al), None)
        out[n] = kind if kind is not None and kind not in used else n
        if kind is not None:
            used.add(kind)
    return out


def _is_numeric_column(values: pd.Series, markers: frozenset[str] = SUPPRESSION_MARKERS) -> bool:
    vals = values.dropna()
    if vals.empty:
        return False
    text = vals.astype(str).str.strip()
    markers = text.str.lower().isin(markers)
    nums = pd.to_numeric(text[~markers].str.replace(",", "", regex=False), errors="coerce")
    return bool(nums.notna().all())  # a column of markers only is a number column with no numbers


def _parse_values(values: pd.Series, rows: Sequence[int], file: str, column: str):
    """parse_counts with real spreadsheet rows; returns counts, a suppressed mask and errors."""
    counts, suppressed, invalid = parse_counts(values.reset_index(drop=True), file=file, column=column,
                                               first_row=0)
    mask = np.zeros(len(values), dtype=bool)
    mask[[p.row for p in suppressed]] = True
    fix = lambda p: replace(p, row=int(rows[p.row]))  # noqa: E731
    return counts.to_numpy(), mask, [fix(p) for p in invalid]


def _finish(tidy: pd.DataFrame, dims: list[str], file: str, report: ValidationReport | None,
            keep_totals: bool) -> pd.DataFrame:
    """Drop total rows, parse NCY, add area, order columns, check uniqueness."""
    problems: list[Problem] = []
    if report is not None:
        report.count("public.values_read", len(tidy))
    if not keep_totals:
        total_mask = np.zeros(len(tidy), dtype=bool)
        for d in dims:
            is_tot = tidy[d].map(is_total_label).to_numpy(bool)
            if is_tot.any() and not is_tot.all():
                total_mask |= is_tot
        for d in dims:  # a breakdown that only ever says "Total" is not a breakdown
            if tidy[d].map(is_total_label).all():
                tidy = tidy.drop(columns=d)
        dims = [d for d in dims if d in tidy.columns]
        if total_mask.any():
            n = int(total_mask.sum())
            _warn(report, Problem(file, None, None, f"dropped {n} total row(s) (labels such as 'Total', "
                                  "'All', 'Wales') so that the rows add up; pass keep_totals=True to keep them"),
                  "total_rows_dropped", n)
            tidy = tidy[~total_mask]
    if "ncy" in tidy.columns:
        parsed = tidy["ncy"].map(lambda v: None if v is None else parse_ncy(v))
        bad = parsed.isna() & tidy["ncy"].notna()
        for r, v in zip(tidy.loc[bad, "_row"], tidy.loc[bad, "ncy"]):
            problems.append(Problem(file, int(r), "ncy", "expected a national curriculum year such as "
                                    "'Year 7', 'Reception' or 7", v))
        tidy = tidy.assign(ncy=parsed.astype("Int64"))
    if "area" not in tidy.columns:
        tidy = tidy.assign(area="ALL")
        _warn(report, Problem(file, None, "area", "no area in the table; every row is put in area 'ALL'"),
              "area_missing")
    order = ["year", "area"] + [c for c in ("ncy", "age_group", "need", "setting", "stage") if c in tidy.columns]
    order += [d for d in dims if d not in order] + ["count"]
    key = [c for c in order if c != "count"]
    dup = tidy.duplicated(key, keep=False)
    if dup.any():
        rows = tidy.loc[dup, "_row"].tolist()
        problems.append(Problem(file, int(rows[0]), None,
                                f"{int(dup.sum())} rows repeat the same {', '.join(key)} (rows "
                                f"{', '.join(map(str, rows[:6]))}...); the table has a breakdown this reader "
                                "did not recognise, or repeated rows"))
    if problems:
        raise InputValidationError(problems)
    n_suppressed = int(tidy["_suppressed"].sum())  # in the rows kept
    if n_suppressed:
        _warn(report, Problem(file, None, "count", f"{n_suppressed} suppressed or unavailable cell(s) "
                              "(markers such as c, x, z, *, ..) were read as missing (NaN)"),
              "suppressed", n_suppressed)
    out = tidy[order].reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    if report is not None:
        report.count("public.rows_kept", len(out))
    return out


def read_sen_england(
    path: Source,
    *,
    level: str | None = None,
    area: str = "name",
    value: str | None = None,
    breakdowns: Iterable[str] | None = None,
    keep_totals: bool = False,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read a DfE "Special educational needs in England" / SEN2 style CSV as a tidy table.

    The file has ``time_period``, ``geographic_level`` and the geography columns of
    explore-education-statistics (``country_name``, ``region_name``, ``la_name``, codes ...),
    breakdown columns (e.g. ``characteristic_age``, ``establishment_type``, ``primary_need``)
    and one or more number columns.

    Parameters
    ----------
    path : str, Path or DataFrame
    level : str, optional
        ``geographic_level`` to keep (``"National"``, ``"Regional"``, ``"Local authority"``).
        Default: the most detailed level present; rows of other levels are counted and dropped.
    area : {"name", "code"}
        Label areas by name (``la_name``) or code (``new_la_code``).
    value : str, optional
        The number column to read (e.g. ``"Total_ehc"``); default: a column named like
        ``Total_all``, ``number_of_pupils``, ``headcount``, or the only number column that is
        not a percentage.
    breakdowns : iterable of str, optional
        Breakdown columns to keep (default: all). For a breakdown left out, only its
        ``Total`` rows are kept (so a hierarchy like establishment group / type can be read
        at the group level).
    keep_totals : bool
        Keep total rows of the kept breakdowns (default: drop them, with a warning).
    sheet : str or int, optional
        Sheet, for an Excel file.
    report : ValidationReport, optional
        Receives warnings and counts (``suppressed``, ``total_rows_dropped`` ...).

    Returns
    -------
    DataFrame
        ``year, area, [ncy|age_group], [need], [setting], [stage], [others], count``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "time_period": [2022] * 4, "time_identifier": ["Calendar year"] * 4,
    ...     "geographic_level": ["National", "Local authority", "Local authority", "Local authority"],
    ...     "country_name": ["England"] * 4, "la_name": ["", "Cumbria", "Cumbria", "Cumbria"],
    ...     "characteristic_age": ["Total", "Total", "Under 5", "Age 5 to 10"],
    ...     "Total_all": [473255, 4292, "c", 1403], "Total_all_pc": [100, 100, "c", 32.7]})
    >>> rep = ValidationReport()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = read_sen_england(df, report=rep)
    >>> out.to_dict("list")
    {'year': [2022, 2022], 'area': ['Cumbria', 'Cumbria'], 'age_group': ['Under 5', 'Age 5 to 10'], 'count': [nan, 1403.0]}
    >>> rep.counts["suppressed"], rep.counts["rows_other_geographic_level"], rep.counts["total_rows_dropped"]
    (1, 1, 1)
    """
    raw = read_raw(path, table="sen_england", sheet=sheet, report=report)
    file = raw.file
    names = [normalise(h[0]) for h in raw.headers]
    cells = raw.cells.copy()
    cells.columns = names
    rows = np.asarray(raw.rows)
    if report is not None:
        report.count("public.rows_read", len(cells))
    year_col = next((n for n in ("time_period", "year", "census_year", "academic_year") if n in names), None)
    if year_col is None:
        raise InputValidationError([Problem(file, None, "time_period", "no time_period (or year) column; "
                                            "this does not look like a DfE statistics file")])
    keep = np.ones(len(cells), dtype=bool)
    lvl_col = "geographic_level" if "geographic_level" in names else None
    if lvl_col:
        levels = cells[lvl_col].fillna("")
        present = list(dict.fromkeys(levels))
        if level is None:
            rank = ["school", "local authority district", "local authority", "regional", "national"]
            present_l = [p.lower() for p in present]
            level = next((present[present_l.index(r)] for r in rank if r in present_l), present[0] if present else "")
        elif level not in present:
            raise InputValidationError([Problem(file, None, "geographic_level", f"no rows at level {level!r}; "
                                                f"the file has {', '.join(map(repr, present))}")])
        keep = np.array(levels == level, dtype=bool)
        if (~keep).any():
            _warn(report, Problem(file, None, "geographic_level",
                                  f"kept the {level!r} rows; {int((~keep).sum())} row(s) at other levels "
                                  "were left out (pass level= to choose)"),
                  "rows_other_geographic_level", int((~keep).sum()))
    # area column from the level
    lvl = (level or "").lower()
    area_cols = {"name": {"national": "country_name", "regional": "region_name"},
                 "code": {"national": "country_code", "regional": "region_code"}}
    if area not in area_cols:
        raise ValueError("area must be 'name' or 'code'")
    default_area = "la_name" if area == "name" else ("new_la_code" if "new_la_code" in names else "old_la_code")
    area_col = area_cols[area].get(lvl, default_area)
    if area_col not in names:
        area_col = None
    # number columns
    meta = _DFE_META | {year_col}
    candidates = [n for n in names if n not in meta and
                  (n in _VALUE_PREFERENCE or _is_numeric_column(cells.loc[keep, n]))]
    not_pct = [n for n in candidates if not re.search(r"(_pc|pct|percent|percentage|_rate|rate_)$", n)]
    if value is not None:
        value_n = normalise(value)
        if value_n not in names:
            raise InputValidationError([Problem(file, None, value, f"no column {value!r}; number columns "
                                                f"are {', '.join(candidates) or '(none)'}")])
    else:
        pref = [p for p in _VALUE_PREFERENCE if p in not_pct]
        if pref:
            value_n = pref[0]
        elif len(not_pct) == 1:
            value_n = not_pct[0]
        else:
            raise InputValidationError([Problem(file, None, None, "could not tell which column holds the counts "
                                                f"({', '.join(not_pct) or 'no number columns found'}); "
                                                "pass value='<column>'")])
    candidates = [c for c in candidates if c != value_n] + [value_n]
    dims_all = [n for n in names if n not in meta and n not in candidates]
    chosen = dims_all if breakdowns is None else [normalise(b) for b in breakdowns]
    unknown = [b for b in chosen if b not in dims_all]
    if unknown:
        raise InputValidationError([Problem(file, None, b, f"not a breakdown column of this file; breakdowns "
                                            f"are {', '.join(dims_all)}") for b in unknown])
    for d in dims_all:
        if d in chosen:
            continue
        is_tot = cells[d].map(_is_grand_total).to_numpy(bool)
        if not (is_tot & keep).any():
            raise InputValidationError([Problem(file, None, d, "cannot leave out this breakdown: it has no "
                                                "'Total' rows to use instead")])
        n_out = int((keep & ~is_tot).sum())
        keep = keep & is_tot
        if report is not None:
            report.count("rows_other_breakdown_level", n_out)
    sub = cells[keep]
    sub_rows = rows[keep]
    years = sub[year_col].map(_plausible_year)
    problems = [Problem(file, int(r), year_col, "expected a year such as 2024 or 202324", v)
                for r, v, y in zip(sub_rows, sub[year_col], years) if pd.isna(y)]
    counts, suppressed, invalid = _parse_values(sub[value_n], sub_rows, file, raw.headers[names.index(value_n)][0])
    tidy_supp = suppressed
    problems += invalid
    if problems:
        raise InputValidationError(problems)
    rename = _canonical_breakdowns(chosen)
    tidy = pd.DataFrame({"year": years.to_numpy(), "_row": sub_rows})
    if area_col:
        tidy["area"] = sub[area_col].fillna("").to_numpy()
    for d in chosen:
        tidy[rename[d]] = sub[d].to_numpy()
    tidy["count"] = counts
    tidy["_suppressed"] = tidy_supp
    dims = [rename[d] for d in chosen]
    return _finish(tidy, [d for d in dims if d != "area"], file, report, keep_totals)


def _statswales_values(values: pd.Series, rows: np.ndarray, file: str, column: str):
    """StatsWales cells through the StatsWales parser: counts, a missing-marker mask, errors."""
    counts, sup, not_applicable, _total, bad = parse_cells(values, None, rows, file, column)
    return counts, sup | not_applicable, bad


def _is_statswales_numbers(values: pd.Series) -> bool:
    return _is_numeric_column(values.map(lambda v: split_shorthand(v)[0]), markers=MARKERS)


def _point_to_aln_readers(out: pd.DataFrame, file: str, report: ValidationReport | None) -> None:
    """read_statswales reads the ALN tables too, but without what their own readers add."""
    if "stage" in out.columns and len(out) and out["stage"].map(plan_type_code).notna().all():
        _warn(report, Problem(file, None, "stage", "this is the StatsWales ALN provision table: "
                              "senforecast.io.read_aln_provision reads it with plan-type codes and checks its "
                              "totals and rounding, and senforecast.core.plan_types.ehcp_equivalent forms the "
                              "EHC-plan equivalent (statement or LA-maintained IDP) from it"))
    if "need" in out.columns and len(out) and (out["year"] >= 2017).any():
        _warn(report, Problem(file, None, "need", "StatsWales need figures from January 2017 count reports of "
                              "needs, not pupils (a pupil with two needs is counted twice); "
                              "senforecast.io.read_aln_needs marks the unit of each row"))


def read_statswales(
    path: Source,
    *,
    columns_are: str | None = None,
    keep_totals: bool = False,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read a StatsWales-style table (wide; years as columns or as rows) as a tidy table.

    Title rows above the table are skipped; label columns (local authority, major need, age,
    setting ...) are matched to canonical names, and blank label cells under a group label are
    filled from above (as StatsWales exports nest labels). Markers ``..``, ``*``, ``:``, ``c``
    are read as missing and counted.

    Parameters
    ----------
    path : str, Path or DataFrame
    columns_are : str, optional
        When the years are rows, what the value columns are (``"need"``, ``"setting"``,
        ``"area"``, ``"age_group"`` ...); default ``"category"``.
    keep_totals : bool
        Keep total rows such as ``Wales``, ``Total``, ``All pupils`` (default: drop, with a warning).
    sheet : str or int, optional
    report : ValidationReport, optional
        Receives warnings and counts (``suppressed``, ``total_rows_dropped``, ``labels_filled``).

    Returns
    -------
    DataFrame
        ``year, area, [ncy|age_group], [need], [setting], [others], count``.

    Examples
    --------
    >>> df = pd.DataFrame({"Local authority": ["Powys", "", "Wales"],
    ...                    "Major need": ["ASD", "SLD", "Total"],
    ...                    "2019/20": ["120", "..", "5,400"], "2020/21": ["131", "14", "5,611"]})
    >>> rep = ValidationReport()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = read_statswales(df, report=rep)
    >>> out.values.tolist()
    [[2020, 'Powys', 'ASD', 120.0], [2020, 'Powys', 'SLD', nan], [2021, 'Powys', 'ASD', 131.0], [2021, 'Powys', 'SLD', 14.0]]
    >>> rep.counts["suppressed"], rep.counts["labels_filled"], rep.counts["total_rows_dropped"]
    (1, 1, 2)
    """
    raw = read_raw(path, table="statswales", sheet=sheet, report=report, skip_title_rows=True)
    file = raw.file
    headers = [HEADER_NOTE.sub("", h[0]) for h in raw.headers]
    rows = np.asarray(raw.rows)
    if report is not None:
        report.count("public.rows_read", len(raw.cells))
    year_of = [_plausible_year(h) for h in headers]
    year_cols = [i for i, y in enumerate(year_of) if y is not None]
    problems: list[Problem] = []
    if year_cols:
        label_cols = [i for i in range(len(headers)) if i not in year_cols]
        labels = _labels(raw, label_cols, headers, report)
        parts = []
        for i in year_cols:
            counts, sup, bad = _statswales_values(raw.cells[i], rows, file, raw.headers[i][0])
            problems += bad
            part = labels.copy()
            part.insert(0, "year", year_of[i])
            part["_row"] = rows
            part["count"] = counts
            part["_suppressed"] = sup
            parts.append(part)
        tidy = pd.concat(parts, ignore_index=True)
        dims = list(labels.columns)
    else:
        norm = [normalise(h) for h in headers]
        ycol = next((i for i, n in enumerate(norm) if n in ("year", "census_year", "academic_year", "period",
                                                              "date", "time_period", "school_year")), None)
        if ycol is None:
            ycol = next((i for i in range(len(headers))
                         if raw.cells[i].dropna().map(lambda v: _plausible_year(v) is not None).all()
                         and raw.cells[i].notna().any()), None)
        if ycol is None:
            raise InputValidationError([Problem(file, None, None, "could not find the years: no column header "
                                                "is a year (such as 2019/20) and no column holds years")])
        value_cols = [i for i in range(len(headers)) if i != ycol and _is_statswales_numbers(raw.cells[i])]
        label_cols = [i for i in range(len(headers)) if i != ycol and i not in value_cols]
        if not value_cols:
            raise InputValidationError([Problem(file, None, None, "no columns of numbers found")])
        labels = _labels(raw, label_cols, headers, report)
        years = raw.cells[ycol].map(lambda v: None if v is None else _plausible_year(v))
        problems += [Problem(file, int(r), headers[ycol], "expected a year such as 2024 or 2019/20", v)
                     for r, v, y in zip(rows, raw.cells[ycol], years) if pd.isna(y)]
        dim_name = columns_are or "category"
        parts = []
        for i in value_cols:
            counts, sup, bad = _statswales_values(raw.cells[i], rows, file, raw.headers[i][0])
            problems += bad
            part = labels.copy()
            part.insert(0, "year", years.to_numpy())
            part[dim_name] = headers[i]
            part["_row"] = rows
            part["count"] = counts
            part["_suppressed"] = sup
            parts.append(part)
        tidy = pd.concat(parts, ignore_index=True)
        dims = list(labels.columns) + [dim_name]
    if problems:
        raise InputValidationError(problems)
    out = _finish(tidy, [d for d in dims if d != "year"], file, report, keep_totals)
    _point_to_aln_readers(out, file, report)
    return out


def _labels(raw: RawTable, label_cols: list[int], headers: list[str],
            report: ValidationReport | None) -> pd.DataFrame:
    norm = [normalise(headers[i]) or f"label_{i + 1}" for i in label_cols]
    rename = _canonical_breakdowns(norm)
    filled = fill_nested_labels(raw, label_cols, report)
    out = pd.DataFrame(index=range(len(raw.cells)))
    for i, n in zip(label_cols, norm):
        out[rename[n]] = filled[i].to_numpy()
    return out
