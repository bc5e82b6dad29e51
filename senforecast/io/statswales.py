"""Read the StatsWales ALN/SEN tables as an analyst downloads them (CSV or Excel).

Two tables from the Pupil Level Annual School Census (PLASC):

* pupils by local authority and type of provision (plan type): Statement, School Action,
  School Action Plus, school-maintained IDP, LA-maintained IDP (:func:`read_aln_provision`);
* needs by local authority (and provision, sector): :func:`read_aln_needs`. Since January
  2017 schools record every need of a pupil, so these are counts of *reported needs*, not
  of pupils: the output says so in a ``unit`` column (``"reports"`` from 2017, ``"pupils"``
  before) and :func:`sum_pupils` warns when reports are added up as pupils.

Layouts read (see ``docs/public_data.md``): the StatsWales export with title rows above a
header of years (``2022/23``) and nested labels (local authority, then provision or need,
blank where repeated); the same with the provision or need types as columns and the years
(or one year named in the title) as rows; and the tidy download of the new StatsWales
service (``Data values, Data description, Year, Local Authority, Provision``) where
shorthand such as ``[c]`` (confidential) and ``[t]`` (total) sits beside the number.

Counts are rounded to 5 by the publisher (``attrs["rounded_to"]``). Markers ``[c]``,
``[x]``, ``[z]``, ``[w]``, ``[k]``, ``.``, ``..``, ``*``, ``-`` are read as missing (NaN),
never 0, and counted in ``report.counts["suppressed"]``. A label the reader does not know
(a provision, need or area) is an error that names the labels found.
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import replace
from typing import Sequence

import numpy as np
import pandas as pd

from ..core.codes import get_scheme
from ..core.errors import InputValidationError, InputWarning, Problem, ValidationReport
from ..core.schema import YEAR_MAX, YEAR_MIN, parse_year_label
from .markers import SUPPRESSION_MARKERS, parse_counts
from ._source import RawTable, Source, _warn, read_raw
from .columns import normalise
from ..core.plan_types import PLAN_TYPES, TOTAL, exists_in, plan_type_code

# --- local authorities ---------------------------------------------------------------------------

WELSH_AUTHORITIES: dict[str, tuple[str, str]] = {
    "W06000001": ("Isle of Anglesey", "Ynys Môn"),
    "W06000002": ("Gwynedd", "Gwynedd"),
    "W06000003": ("Conwy", "Conwy"),
    "W06000004": ("Denbighshire", "Sir Ddinbych"),
    "W06000005": ("Flintshire", "Sir y Fflint"),
    "W06000006": ("Wrexham", "Wrecsam"),
    "W06000008": ("Ceredigion", "Ceredigion"),
    "W06000009": ("Pembrokeshire", "Sir Benfro"),
    "W06000010": ("Carmarthenshire", "Sir Gaerfyrddin"),
    "W06000011": ("Swansea", "Abertawe"),
    "W06000012": ("Neath Port Talbot", "Castell-nedd Port Talbot"),
    "W06000013": ("Bridgend", "Pen-y-bont ar Ogwr"),
    "W06000014": ("Vale of Glamorgan", "Bro Morgannwg"),
    "W06000015": ("Cardiff", "Caerdydd"),
    "W06000016": ("Rhondda Cynon Taf", "Rhondda Cynon Taf"),
    "W06000018": ("Caerphilly", "Caerffili"),
    "W06000019": ("Blaenau Gwent", "Blaenau Gwent"),
    "W06000020": ("Torfaen", "Tor-faen"),
    "W06000021": ("Monmouthshire", "Sir Fynwy"),
    "W06000022": ("Newport", "Casnewydd"),
    "W06000023": ("Powys", "Powys"),
    "W06000024": ("Merthyr Tydfil", "Merthyr Tudful"),
}
"""The 22 Welsh local authorities: ONS code -> (English name, Welsh name)."""

WALES_CODE = "W92000004"

_REGIONS = {"north wales", "mid wales", "south west wales", "south east wales", "south west and mid wales",
            "central south wales", "central south", "south central", "mid and west wales", "gwe", "erw",
            "eas", "central south consortium", "education through regional working",
            "education achievement service", "partneriaeth", "cardiff capital region",
            "swansea bay city region", "north wales economic ambition board", "growing mid wales"}


def _key(text: object) -> str:
    """Label key: accents dropped, case folded, '&' as 'and', hyphens and spaces collapsed."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    s = s.casefold().replace("&", " and ").replace("-", " ")
    s = re.sub(r"[^a-z0-9/+ ]+", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s[4:] if s.startswith("the ") else s


_AREA_LOOKUP: dict[str, str] = {}
for _code, (_en, _cy) in WELSH_AUTHORITIES.items():
    for _name in (_code, _en, _cy):
        _AREA_LOOKUP[_key(_name)] = _code
_AREA_LOOKUP.update({_key("Anglesey"): "W06000001", _key("Rhondda Cynon Taff"): "W06000016",
                     _key("Neath and Port Talbot"): "W06000012", _key("Merthyr"): "W06000024"})
for _name in ("Wales", "Cymru", WALES_CODE, "All Wales", "Wales total", "All local authorities"):
    _AREA_LOOKUP[_key(_name)] = "Wales"


def welsh_area(label: object) -> str | None:
    """ONS code of a Welsh authority name (English or Welsh), ``"Wales"``, ``"region"`` or None.

    Examples
    --------
    >>> welsh_area("Ynys Môn"), welsh_area("The Vale of Glamorgan"), welsh_area("Cymru")
    ('W06000001', 'W06000014', 'Wales')
    >>> welsh_area("North Wales"), welsh_area("Atlantis")
    ('region', None)
    """
    if label is None:
        return None
    k = _key(label)
    if k in _AREA_LOOKUP:
        return _AREA_LOOKUP[k]
    if k in _REGIONS or (k.endswith(" wales") and k != "wales") or k.endswith(" consortium") \
            or k.endswith(" region"):
        return "region"
    return None


# --- needs ----------------------------------------------------------------------------------------

_NEED_TOTALS = ("total", "all needs", "all types of need", "all sen types", "all aln/sen types",
                "all special educational needs", "all major needs", "all sen", "all aln or sen",
                "all aln/sen", "all reports", "all types", "all categories", "all")


def _need_lookup() -> dict[str, str]:
    scheme = get_scheme("wales_plasc")
    table = scheme.table
    out: dict[str, str] = {}
    aliases = table["aliases"] if "aliases" in table.columns else [""] * len(table)
    for code, label, al in zip(table["code"], table["label"], aliases):
        for name in (code, label, *str(al).split(";")):
            if str(name).strip() and str(name) != "nan":
                out[_key(name)] = code
    # spellings StatsWales uses that differ from the scheme's labels
    out.update({_key("Speech, language and communication difficulties"): "SLCD",
                _key("Speech language and communication"): "SLCD",
                _key("Physical and medical difficulties"): "PMED",
                _key("Autistic spectrum disorder"): "ASD",
                _key("Attention deficit hyperactivity disorder"): "ADHD",
                _key("Attention deficit disorder"): "ADHD"})
    for name in _NEED_TOTALS:
        out[_key(name)] = TOTAL
    return out


def need_code(label: object) -> str | None:
    """Wales PLASC need code of a StatsWales need label (``"total"`` for totals, None if unknown).

    Examples
    --------
    >>> need_code("Profound & multiple learning difficulties"), need_code("Autistic Spectrum Disorders")
    ('PMLD', 'ASD')
    >>> need_code("All needs"), need_code("Gifted")
    ('total', None)
    """
    if label is None:
        return None
    return _need_lookup().get(_key(label))


# --- markers and shorthand -----------------------------------------------------------------------

MARKERS: frozenset[str] = SUPPRESSION_MARKERS | frozenset({".", "[w]", "[k]", "w", "k", "[u]"})
"""Cell texts read as missing: DfE/ONS markers plus StatsWales' ``.`` (not applicable),
``..`` (not available), ``*`` (disclosive, 1-4), ``-`` (rounds to zero) and the new service's
shorthand ``[c] [x] [z] [w] [k]``."""

_NO_NUMBER_CODES = {"c", "x", "z", "w", "k"}
_NOT_APPLICABLE = {".", "[z]", "z"}  # no number can exist here (e.g. IDPs before the reform)  # shorthand that means the number is not there
_SHORTHAND = re.compile(r"^(.*?)\s*((?:\[\s*[a-z]{1,3}\s*\]\s*|\(\s*[a-z]{1,2}\s*\)\s*)+)$", re.I)
HEADER_NOTE = re.compile(r"\s*(\[[a-z0-9 ,]+\]|\([a-z]\))\s*$", re.I)
"""A note after a header, such as ``2022/23 (r)`` or ``2019/20 [note 3]`` (removed before reading)."""


def split_shorthand(text: object) -> tuple[object, frozenset[str]]:
    """A cell's number text and the shorthand codes written beside it.

    Examples
    --------
    >>> split_shorthand("14,830 [t]"), split_shorthand("[c]"), split_shorthand("5,611 (r)")
    (('14,830', frozenset({'t'})), ('', frozenset({'c'})), ('5,611', frozenset({'r'})))
    >>> split_shorthand("305")
    ('305', frozenset())
    """
    if not isinstance(text, str):
        return text, frozenset()
    m = _SHORTHAND.match(text.strip())
    if not m:
        return text, frozenset()
    codes = frozenset(c.lower() for c in re.findall(r"[a-z]{1,3}", m.group(2), re.I))
    return m.group(1).strip(), codes


# --- header roles ---------------------------------------------------------------------------------

_ROLES: dict[str, frozenset[str]] = {
    "area": frozenset({"local_authority", "local_authorities", "area", "la", "la_name", "authority",
                       "local_authority_name", "area_name", "local_authority_region", "region_and_local_authority",
                       "awdurdod_lleol", "ardal"}),
    "area_code": frozenset({"area_code", "la_code", "local_authority_code", "code", "ons_code", "areacode"}),
    "plan_type": frozenset({"provision", "sen_provision", "aln_provision", "aln_sen_provision", "type_of_provision",
                            "provision_type", "plan_type", "sen_aln_provision", "type_of_sen_provision",
                            "provision_of_sen", "provision_of_aln"}),
    "need": frozenset({"need", "type_of_need", "sen", "aln", "sen_type", "aln_type", "major_need",
                       "type_of_sen", "sen_type_of_need", "aln_sen", "aln_sen_type", "type_of_aln",
                       "major_need_category", "special_educational_need"}),
    "sector": frozenset({"sector", "school_sector", "type_of_school", "school_type"}),
    "measure": frozenset({"data_description", "measure", "measures", "data_type", "measure_or_data_type"}),
    "year": frozenset({"year", "academic_year", "school_year", "yearcode", "year_code", "time_period", "period"}),
    "value": frozenset({"data_values", "data_value", "data", "value", "values", "number", "count"}),
    "notes": frozenset({"note_codes", "notecodes", "notes", "note_code", "shorthand", "data_notes", "flags"}),
}


def _role(header: str) -> str | None:
    n = normalise(header)
    return next((r for r, names in _ROLES.items() if n in names), None)


def _year_of(label: object) -> int | None:
    y, _ = parse_year_label(label)
    return y if y is not None and YEAR_MIN <= y <= YEAR_MAX else None


# --- reading ---------------------------------------------------------------------------------------


def parse_cells(values: pd.Series, notes: pd.Series | None, rows: np.ndarray, file: str, column: str):
    """Read a column of StatsWales cells: the one place their numbers, markers and shorthand are parsed.

    Thousands separators, the markers of :data:`MARKERS`, and shorthand beside a number
    (``14,830 [t]``) or in a note-codes column are understood; a number marked as not there
    (``[c]``, ``[k]`` ...) is missing, never its face value. Used by :func:`read_aln_provision`,
    :func:`read_aln_needs` and :func:`senforecast.io.public.read_statswales`.

    Parameters
    ----------
    values : Series
        Raw cells.
    notes : Series, optional
        A note-codes column beside them.
    rows : ndarray
        Spreadsheet row of each cell (for messages).
    file, column : str
        Where the cells came from.

    Returns
    -------
    counts : ndarray of float
        NaN where a marker stood.
    suppressed : ndarray of bool
        Markers of a number withheld or not available.
    not_applicable : ndarray of bool
        ``.`` / ``[z]``: no number can exist there.
    total : ndarray of bool
        Cells marked ``[t]`` (a total).
    problems : list of Problem
        Cells that are neither a number nor a marker.

    Examples
    --------
    >>> counts, sup, na, tot, bad = parse_cells(pd.Series(["1,205", "[c]", ".", "14,830 [t]", "12 [k]"]), None,
    ...                                         np.arange(2, 7), "f.csv", "2023/24")
    >>> counts.tolist(), sup.tolist(), na.tolist(), tot.tolist(), bad
    ([1205.0, nan, nan, 14830.0, nan], [False, True, False, False, True], [False, False, True, False, False], [False, False, False, True, False], [])
    """
    split = [split_shorthand(v) for v in values]
    text = [t for t, _ in split]
    codes = [c for _, c in split]
    if notes is not None:
        codes = [c | frozenset(re.findall(r"[a-z]{1,3}", str(n).lower())) if n is not None else c
                 for c, n in zip(codes, notes)]
    # a number marked 'not there' (low figure, confidential...) is missing, never its face value
    text = [("[" + sorted(c & _NO_NUMBER_CODES)[0] + "]") if c & _NO_NUMBER_CODES else t
            for t, c in zip(text, codes)]
    counts, suppressed, invalid = parse_counts(pd.Series(text, dtype=object), file=file, column=column,
                                               first_row=0, markers=MARKERS)
    sup = np.zeros(len(values), dtype=bool)
    sup[[p.row for p in suppressed]] = True
    not_applicable = np.array([isinstance(t, str) and t.strip().lower() in _NOT_APPLICABLE for t in text], dtype=bool)
    total = np.array(["t" in c for c in codes], dtype=bool)
    bad = [replace(p, row=int(rows[p.row]), value=values.iloc[p.row]) for p in invalid]
    return counts.to_numpy(float), sup & ~not_applicable, not_applicable, total, bad


def fill_nested_labels(raw: RawTable, cols: list[int], report: ValidationReport | None) -> dict[int, pd.Series]:
    """Label columns with blanks under a group label filled from above, as StatsWales nests them.

    Parameters
    ----------
    raw : RawTable
        The table as read (``senforecast.io._source.read_raw``).
    cols : list of int
        Positions of the label columns.
    report : ValidationReport, optional
        Counts the cells filled (``labels_filled``) and gets a warning.

    Returns
    -------
    dict of int to Series

    Examples
    --------
    >>> from senforecast.io._source import read_raw
    >>> raw = read_raw(pd.DataFrame({"Local authority": ["Powys", None, "Conwy"], "2024": [1, 2, 3]}),
    ...                table="statswales")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fill_nested_labels(raw, [0], None)[0].tolist()
    ['Powys', 'Powys', 'Conwy']
    """
    out = {}
    filled = 0
    for i in cols:
        col = raw.cells[i].reset_index(drop=True)
        if col.isna().any() and col.notna().any():
            before = col.isna()
            col = col.ffill()
            filled += int((before & col.notna()).sum())
        out[i] = col
    if filled:
        _warn(report, Problem(raw.file, None, None, f"filled {filled} blank label cell(s) from the row above "
                              "(nested labels, as StatsWales exports them)"), "labels_filled", filled)
    return out


def _long(raw: RawTable, kind: str, year: int | None, report: ValidationReport | None) -> pd.DataFrame:
    """The table as long rows: ``_row, year, <roles...>, count, _suppressed, _total_flag``."""
    file = raw.file
    headers = [HEADER_NOTE.sub("", h[0]) for h in raw.headers]
    rows = np.asarray(raw.rows)
    roles = [_role(h) for h in headers]
    year_cols = [i for i, h in enumerate(headers) if _year_of(h) is not None and roles[i] is None]
    problems: list[Problem] = []
    category = "plan_type" if kind == "provision" else "need"

    def label_col(i: int) -> str:
        return roles[i] or normalise(headers[i]) or f"label_{i + 1}"

    parts = []
    if year_cols:  # years across the top
        label_cols = [i for i in range(len(headers)) if i not in year_cols]
        labels = fill_nested_labels(raw, label_cols, report)
        for i in year_cols:
            counts, sup, na, tot, bad = parse_cells(raw.cells[i], None, rows, file, raw.headers[i][0])
            problems += bad
            part = pd.DataFrame({label_col(j): labels[j].to_numpy() for j in label_cols})
            part.insert(0, "year", _year_of(headers[i]))
            parts.append(part.assign(_row=rows, count=counts, _suppressed=sup, _not_applicable=na, _total_flag=tot))
    elif "value" in roles:  # tidy download: one value column
        vcol = roles.index("value")
        ncol = roles.index("notes") if "notes" in roles else None
        if "year" not in roles:
            raise InputValidationError([Problem(file, None, None, "this table has a value column "
                                                f"({headers[vcol]!r}) but no Year column; columns are "
                                                f"{', '.join(map(repr, headers))}")])
        label_cols = [i for i in range(len(headers)) if i not in (vcol, ncol)]
        labels = fill_nested_labels(raw, label_cols, report)
        counts, sup, na, tot, bad = parse_cells(raw.cells[vcol], raw.cells[ncol] if ncol is not None else None,
                                             rows, file, raw.headers[vcol][0])
        problems += bad
        part = pd.DataFrame({label_col(j): labels[j].to_numpy() for j in label_cols})
        parts.append(part.assign(_row=rows, count=counts, _suppressed=sup, _not_applicable=na, _total_flag=tot))
    else:  # provision or need types across the top, years (or one year) down the side
        code_of = plan_type_code if kind == "provision" else need_code
        value_cols = [i for i, h in enumerate(headers) if roles[i] is None and code_of(h) is not None]
        if not value_cols:
            raise InputValidationError([Problem(file, None, None, "could not find the numbers: no column header "
                                                "is a year (such as 2022/23) or a "
                                                f"{'provision type' if kind == 'provision' else 'type of need'}, "
                                                "and there is no 'Data values' column; the headers are "
                                                f"{', '.join(map(repr, headers))}")])
        label_cols = [i for i in range(len(headers)) if i not in value_cols]
        labels = fill_nested_labels(raw, label_cols, report)
        for i in value_cols:
            counts, sup, na, tot, bad = parse_cells(raw.cells[i], None, rows, file, raw.headers[i][0])
            problems += bad
            part = pd.DataFrame({label_col(j): labels[j].to_numpy() for j in label_cols})
            part[category] = headers[i]
            parts.append(part.assign(_row=rows, count=counts, _suppressed=sup, _not_applicable=na, _total_flag=tot))
    if problems:
        raise InputValidationError(problems)
    tidy = pd.concat(parts, ignore_index=True)
    tidy.attrs["headers"] = {label_col(i): headers[i] for i in range(len(headers)) if roles[i] not in ("value", "notes")}
    if "year" in tidy.columns and not pd.api.types.is_integer_dtype(tidy["year"]):
        years = tidy["year"].map(lambda v: None if v is None else _year_of(v))
        bad_year = years.isna() & tidy["year"].notna()
        if bad_year.any():
            raise InputValidationError([Problem(file, int(r), "Year", "expected a year such as 2022/23", v)
                                        for r, v in zip(tidy.loc[bad_year, "_row"], tidy.loc[bad_year, "year"])])
        tidy["year"] = years
    if "year" not in tidy.columns or tidy["year"].isna().all():
        if year is None:
            found = sorted({y for note in raw.notes for y in (_year_of(t) for t in
                            re.findall(r"\d{4}\s*[/-]\s*\d{2,4}", note)) if y is not None})
            if len(found) == 1:
                year = found[0]
                _warn(report, Problem(file, None, None, f"the table has no year column; took census year {year} "
                                      "from the title rows (pass year= to choose)"))
            else:
                raise InputValidationError([Problem(file, None, None, "the table has no year column and the title "
                                                    "rows do not name one school year; pass year=2024 "
                                                    "(the census year, 2023/24 -> 2024)")])
        tidy["year"] = year
    return tidy


def _map_labels(tidy: pd.DataFrame, file: str, kind: str, report: ValidationReport | None) -> pd.DataFrame:
    """Labels to codes; unknown labels collected into one error that names what was found."""
    problems: list[Problem] = []
    headers = dict(tidy.attrs.get("headers", {}))
    if "area" not in tidy.columns and "area_code" in tidy.columns:
        tidy = tidy.rename(columns={"area_code": "area"})
        headers["area"] = headers.get("area_code", "area")
    required = ["area", "plan_type"] if kind == "provision" else ["area", "need"]
    missing = [r for r in required if r not in tidy.columns]
    if missing:
        names = {"area": "local authority", "plan_type": "provision", "need": "type of need"}
        found = [headers.get(c, c) for c in tidy.columns if not c.startswith("_") and c not in ("year", "count")]
        raise InputValidationError([Problem(file, None, None, f"no {names[m]} column found; the label columns are "
                                            f"{', '.join(map(repr, found)) or '(none)'}") for m in missing])

    def check(col: str, mapper, what: str, known: str) -> pd.Series:
        labels = tidy[col]
        mapped = labels.map(lambda v: None if v is None else mapper(v))
        bad = mapped.isna()
        if bad.any():
            unknown = list(dict.fromkeys(labels[bad].map(str)))
            found = list(dict.fromkeys(labels.dropna().map(str)))
            first_row = int(tidy.loc[bad, "_row"].iloc[0])
            problems.append(Problem(file, first_row, headers.get(col, col), f"unknown {what} label(s) "
                                    f"{', '.join(map(repr, unknown[:10]))}{' ...' if len(unknown) > 10 else ''}; "
                                    f"the labels found in this column are {', '.join(map(repr, found[:30]))}"
                                    f"{' ...' if len(found) > 30 else ''}. Known: {known}"))
        return mapped

    area = check("area", welsh_area, "local authority",
                 "the 22 Welsh authorities (English or Welsh names), 'Wales', consortium regions")
    tidy = tidy.assign(_area_code=area)
    if "plan_type" in tidy.columns:
        tidy["plan_type"] = check("plan_type", plan_type_code, "provision",
                                  ", ".join(repr(p.label) for p in PLAN_TYPES.values()) + ", 'All Provisions'")
    if "need" in tidy.columns:
        tidy["need"] = check("need", need_code, "need",
                             "the Wales PLASC needs (e.g. 'Moderate learning difficulties', "
                             "'Autistic Spectrum Disorders') and 'All needs'")
    if problems:
        raise InputValidationError(problems)
    return tidy


def _check_totals(tidy: pd.DataFrame, dims: list[str], file: str, rounded_to: int | None,
                  report: ValidationReport | None) -> None:
    """Compare each published total with the sum of its parts (within rounding); warn on gaps.

    A total is checked only when all its parts are in the table (all 22 authorities, every
    plan type that existed that year, all 15 needs) and none is suppressed; other breakdowns
    are not checked, as the reader cannot tell whether their parts are complete.
    """
    all_needs = set(get_scheme("wales_plasc").codes)
    mismatches = []
    n_checked = 0
    for d in dims:
        if d not in ("area", "plan_type", "need"):
            continue
        others = [o for o in dims if o != d]
        ok = np.ones(len(tidy), dtype=bool)
        for o in others:
            ok &= ~tidy[f"_tot_{o}"].to_numpy(bool)
        if d == "area":
            ok &= (tidy["_area_code"] != "region").to_numpy()
        sub = tidy[ok]
        for key, g in sub.groupby(["year"] + others, dropna=False, sort=False):
            year = int(key[0] if isinstance(key, tuple) else key)
            tot = g[g[f"_tot_{d}"]]
            parts = g[~g[f"_tot_{d}"]]
            if d == "area":
                complete = parts["_area_code"].nunique() == len(WELSH_AUTHORITIES)
            elif d == "plan_type":
                parts = parts[parts["plan_type"].map(lambda c: exists_in(c, year))]
                complete = set(parts["plan_type"]) == {c for c in PLAN_TYPES if exists_in(c, year)}
            else:
                complete = set(parts["need"]) >= all_needs
            if len(tot) != 1 or not complete or parts["count"].isna().any() or tot["count"].isna().any():
                continue
            n_checked += 1
            gap = float(tot["count"].iloc[0] - parts["count"].sum())
            tol = (rounded_to / 2.0) * (len(parts) + 1) if rounded_to else 1e-6
            if abs(gap) > tol:
                mismatches.append((int(tot["_row"].iloc[0]), d, gap, tol))
    if report is not None:
        report.count("statswales.totals_checked", n_checked)
    if mismatches:
        shown = "; ".join(f"row {r} ({d} total differs from the sum of its parts by {g:+g}, more than rounding "
                          f"allows, {t:g})" for r, d, g, t in mismatches[:3])
        _warn(report, Problem(file, None, None, f"{len(mismatches)} published total(s) do not match their parts: "
                              f"{shown}. Check the download is complete and not filtered"),
              "statswales.totals_mismatched", len(mismatches))


def _read(path: Source, kind: str, *, area: str, keep_totals: bool, sheet, year: int | None,
          report: ValidationReport | None) -> pd.DataFrame:
    if area not in ("name", "code"):
        raise ValueError("area must be 'name' or 'code'")
    raw = read_raw(path, table="statswales", sheet=sheet, report=report, skip_title_rows=True)
    file = raw.file
    if report is not None:
        report.count("statswales.rows_read", len(raw.cells))
    tidy = _long(raw, kind, year, report)
    # keep counts, not percentages (the new service puts both in one file)
    if "measure" in tidy.columns:
        m = tidy["measure"].fillna("").map(_key)
        is_count = m.str.startswith("number") | m.isin({"count", "pupils", "reports", ""})
        if not is_count.any():
            found = list(dict.fromkeys(tidy["measure"].dropna().map(str)))
            raise InputValidationError([Problem(file, None, "measure", "no rows of counts ('Number of pupils'); "
                                                f"the measures found are {', '.join(map(repr, found))}")])
        if (~is_count).any():
            dropped = list(dict.fromkeys(tidy.loc[~is_count, "measure"].map(str)))
            _warn(report, Problem(file, None, "measure", f"kept the counts; left out {int((~is_count).sum())} row(s) "
                                  f"of {', '.join(map(repr, dropped))}"), "statswales.rows_not_counts",
                  int((~is_count).sum()))
        tidy = tidy[is_count].drop(columns="measure")
    tidy = _map_labels(tidy.reset_index(drop=True), file, kind, report)
    if "area_code" in tidy.columns:
        tidy = tidy.drop(columns="area_code")  # codes come from the names, which were checked
    cat = [c for c in ("plan_type", "need") if c in tidy.columns]
    extra = [c for c in tidy.columns if not c.startswith("_") and c not in ("year", "area", "count", *cat)]
    # totals: a total label in any breakdown, a 'Wales' row, or a value marked [t]
    tidy["_tot_area"] = (tidy["_area_code"] == "Wales").to_numpy()
    for c in cat:
        tidy[f"_tot_{c}"] = (tidy[c] == TOTAL).to_numpy()
    for c in extra:
        tidy[f"_tot_{c}"] = tidy[c].map(lambda v: isinstance(v, str) and bool(
            re.fullmatch(r"(all( .*)?|total|.* total)", _key(v))))
    dims = ["area", *cat, *extra]
    flagged = tidy["_total_flag"].to_numpy(bool) & ~np.any([tidy[f"_tot_{d}"] for d in dims], axis=0)
    if flagged.any():
        raise InputValidationError([Problem(file, int(r), None, "this value is marked [t] (a total) but none of "
                                            "its labels is a total; the table has a breakdown this reader does not "
                                            "know") for r in tidy.loc[flagged, "_row"][:5]])
    vals = tidy["count"].dropna().to_numpy()
    rounded_to = 5 if vals.size and np.all(np.mod(vals, 5) == 0) else None
    if rounded_to is None and vals.size and np.mean(np.mod(vals, 5) == 0) >= 0.5:
        odd = tidy.loc[tidy["count"].notna() & (np.mod(tidy["count"].fillna(0), 5) != 0), "_row"].tolist()
        _warn(report, Problem(file, int(odd[0]), None, f"{len(odd)} count(s) are not multiples of 5 although "
                              "StatsWales rounds to 5; was the file edited?"), "statswales.not_rounded", len(odd))
    _check_totals(tidy, dims, file, rounded_to, report)
    if "plan_type" in tidy.columns:  # IDPs before the reform, statements after it: not rows of data
        gone = tidy["_not_applicable"].to_numpy(bool) & ~np.array(
            [c == TOTAL or exists_in(c, int(y)) for c, y in zip(tidy["plan_type"], tidy["year"])], dtype=bool)
        if gone.any() and report is not None:
            report.count("statswales.not_applicable_dropped", int(gone.sum()))
        tidy = tidy[~gone]
    regions = (tidy["_area_code"] == "region").to_numpy()
    if regions.any():
        names = list(dict.fromkeys(tidy.loc[regions, "area"]))
        _warn(report, Problem(file, None, "area", f"left out {int(regions.sum())} row(s) of regions "
                              f"({', '.join(map(repr, names[:4]))}), which add up authorities"),
              "statswales.region_rows_dropped", int(regions.sum()))
        tidy = tidy[~regions]
    if not keep_totals:
        is_tot = np.any([tidy[f"_tot_{d}"] for d in dims], axis=0)
        if is_tot.any():
            labels = [v for d in dims for v in dict.fromkeys(tidy.loc[tidy[f"_tot_{d}"], d].astype(str))
                      if v != TOTAL] + [lab for d, lab in (("plan_type", "All Provisions"), ("need", "All needs"))
                                        if d in dims and tidy[f"_tot_{d}"].any()]
            _warn(report, Problem(file, None, None, f"dropped {int(is_tot.sum())} total row(s) "
                                  f"({', '.join(map(repr, labels[:4]))}) so that rows add up; pass "
                                  "keep_totals=True to keep them"), "total_rows_dropped", int(is_tot.sum()))
            tidy = tidy[~is_tot]
    if area == "code":
        tidy["area"] = tidy["_area_code"].replace({"Wales": WALES_CODE})
    else:
        tidy["area"] = tidy["_area_code"].map(lambda c: "Wales" if c == "Wales" else WELSH_AUTHORITIES[c][0])
    key = ["year", "area", *cat, *extra]
    dup = tidy.duplicated(key, keep=False)
    if dup.any():
        rows = tidy.loc[dup, "_row"].tolist()
        raise InputValidationError([Problem(file, int(rows[0]), None, f"{int(dup.sum())} rows repeat the same "
                                            f"{', '.join(key)} (rows {', '.join(map(str, rows[:6]))}); two labels "
                                            "mean the same thing, or the table has a breakdown this reader does "
                                            "not know")])
    n_sup = int(tidy["_suppressed"].sum())
    if n_sup:
        _warn(report, Problem(file, None, "count", f"{n_sup} suppressed or unavailable cell(s) ([c], *, .., [x] "
                              "...) were read as missing (NaN), not 0"), "suppressed", n_sup)
    n_na = int(tidy["_not_applicable"].sum())
    if n_na:
        _warn(report, Problem(file, None, "count", f"{n_na} cell(s) marked not applicable ('.', [z]) were read as "
                              "missing (NaN)"), "statswales.not_applicable", n_na)
    out = tidy[key + ["count"]].sort_values(key).reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out.attrs = {"source": file, "rounded_to": rounded_to, "unit": "pupils"}
    if report is not None:
        report.count("statswales.rows_kept", len(out))
    return out


def read_aln_provision(
    path: Source,
    *,
    area: str = "name",
    keep_totals: bool = False,
    year: int | None = None,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read StatsWales "pupils with ALN or SEN by local authority and type of provision".

    Parameters
    ----------
    path : str, Path or DataFrame
        The CSV or Excel file as downloaded (title rows, nested labels and markers are fine).
    area : {"name", "code"}
        Label authorities by English name (Welsh names are read too) or ONS code (``W06...``).
    keep_totals : bool
        Keep the ``Wales`` rows and ``All Provisions`` (plan type ``"total"``) rows
        (default: drop them, with a warning, after checking them against their parts).
    year : int, optional
        Census year, for a table of one year with no year in it (2023/24 -> 2024).
    sheet : str or int, optional
        Sheet of an Excel file.
    report : ValidationReport, optional
        Receives warnings and counts (``suppressed``, ``total_rows_dropped``,
        ``statswales.totals_checked``, ...).

    Returns
    -------
    DataFrame
        ``year, area, plan_type, [sector ...], count`` with plan-type codes (see
        :mod:`senforecast.core.plan_types`); ``count`` NaN where the publisher put a marker.
        ``attrs``: ``unit`` ("pupils"), ``rounded_to`` (5 when every count is a multiple of
        5), ``source``.

    Examples
    --------
    >>> raw = pd.DataFrame({"Local authority": ["Powys", "", "", "Wales"],
    ...                     "Provision": ["Statemented", "School Action", "Local authority maintained "
    ...                                   "individual development plan", "All Provisions"],
    ...                     "2021/22": ["610", "1,520", "[c]", "9,000"], "2022/23": ["455", "1,105", "160", "8,200"]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = read_aln_provision(raw)
    >>> out.values.tolist()
    [[2022, 'Powys', 'la_idp', nan], [2022, 'Powys', 'school_action', 1520.0], [2022, 'Powys', 'statement', 610.0], [2023, 'Powys', 'la_idp', 160.0], [2023, 'Powys', 'school_action', 1105.0], [2023, 'Powys', 'statement', 455.0]]
    >>> out.attrs["unit"], out.attrs["rounded_to"]
    ('pupils', 5)
    """
    return _read(path, "provision", area=area, keep_totals=keep_totals, sheet=sheet, year=year, report=report)


REPORTS_FROM = 2017
"""First census year (January 2017) in which need figures count reports, not pupils."""


def read_aln_needs(
    path: Source,
    *,
    area: str = "name",
    keep_totals: bool = False,
    year: int | None = None,
    sheet: str | int | None = None,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read StatsWales needs tables (by local authority, and provision or sector if given).

    From January 2017 a pupil's every need is recorded, so a need figure counts *reports*:
    a pupil with dyslexia and ADHD is counted under both, and the needs add up to more than
    the pupils. Each row's ``unit`` says ``"reports"`` (2017 on) or ``"pupils"`` (before,
    one major need per pupil), and reading a table with reports warns. Add needs up with
    :func:`sum_pupils` to be warned when reports would be read as pupils; for numbers of
    pupils use :func:`read_aln_provision`.

    Parameters
    ----------
    path, area, keep_totals, year, sheet, report
        As :func:`read_aln_provision`.

    Returns
    -------
    DataFrame
        ``year, area, [plan_type], need, [sector ...], count, unit`` with Wales PLASC need
        codes (``MLD``, ``ASD`` ...; ``total`` kept only with ``keep_totals``).

    Examples
    --------
    >>> raw = pd.DataFrame({"Local Authority": ["Cardiff", "", "", "Cardiff"],
    ...                     "Type of need": ["Dyslexia", "Autistic Spectrum Disorders", "Total", "Dyslexia"],
    ...                     "2016/17": ["410", "385", "795", ""], "2017/18": ["..", "390", "1,210", ""]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = read_aln_needs(raw.iloc[:3])
    >>> out[["year", "need", "count", "unit"]].values.tolist()
    [[2017, 'ASD', 385.0, 'reports'], [2017, 'DYSL', 410.0, 'reports'], [2018, 'ASD', 390.0, 'reports'], [2018, 'DYSL', nan, 'reports']]
    """
    out = _read(path, "needs", area=area, keep_totals=keep_totals, sheet=sheet, year=year, report=report)
    attrs = dict(out.attrs)
    out["unit"] = np.where(out["year"] >= REPORTS_FROM, "reports", "pupils")
    attrs["unit"] = "reports" if (out["unit"] == "reports").any() else "pupils"
    out.attrs = attrs
    if attrs["unit"] == "reports":
        _warn(report, Problem(attrs["source"], None, "count", f"need figures from {REPORTS_FROM} count reports of a "
                              "need, not pupils (a pupil with two needs is counted twice): do not add them up as "
                              "pupils; the unit column says which rows are reports"), "statswales.need_reports")
    return out


class CountUnitWarning(InputWarning):
    """Counts of reported needs were added up as if they were pupils.

    Examples
    --------
    >>> issubclass(CountUnitWarning, InputWarning)
    True
    """


def sum_pupils(table: pd.DataFrame, by: Sequence[str] = ("year", "area")) -> pd.DataFrame:
    """Add counts up by ``by``, warning when the counts are reports of needs, not pupils.

    Missing counts stay missing: a group with a suppressed cell sums to NaN.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`read_aln_provision` or :func:`read_aln_needs`.
    by : sequence of str
        Columns to keep.

    Returns
    -------
    DataFrame
        ``by..., count``.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2024, 2024], "area": "Conwy", "need": ["ASD", "DYSL"],
    ...                   "count": [120.0, 85.0], "unit": "reports"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s = sum_pupils(t)
    >>> s["count"].tolist(), caught[0].category.__name__
    ([205.0], 'CountUnitWarning')
    """
    by = list(by)
    if "unit" in table.columns and (table["unit"] == "reports").any():
        years = sorted(table.loc[table["unit"] == "reports", "year"].unique().tolist()) if "year" in table else []
        warnings.warn(f"these counts are reports of needs, not pupils ({'years ' + ', '.join(map(str, years)) if years else ''}):"
                      " a pupil with several needs is counted once for each, so the sum overstates pupils. Use "
                      "read_aln_provision for numbers of pupils", CountUnitWarning, stacklevel=2)
    groups = table.groupby(by, sort=True)["count"]
    return groups.sum(min_count=1).where(groups.count() == groups.size()).reset_index()
