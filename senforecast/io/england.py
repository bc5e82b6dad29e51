"""Read the DfE "Education, health and care plans" release into tidy aggregate tables.

Every layout the publisher has used since the 2022 release is recognised from each file's
header (whatever the file is called), from single files, a folder or the release's zip as
downloaded ("Download all data"):

=====================  ====================================  =====================================
layout                 file (release)                        what is read
=====================  ====================================  =====================================
``age``                sen2_age_caseload.csv (2022)          January 2010-2022, plans by age band
``estab``              sen2_estab_caseload.csv (2022)        January 2010-2022, by establishment
``new_age``            sen2_age_new_plans.csv (2022)         new plans by age band, calendar years
``new_estab``          sen2_estab_new_plans.csv (2022)       new plans by establishment
``caseload``           caseload.csv (2023 onwards)           January 2019-, totals, single-year
                                                             ages and placement columns
``newplans``           newplans.csv (2023 onwards)           new plans: totals, age at start,
                                                             placement columns
``needs``              sen_needs_all_plans.csv (2025)        January 2025, primary need x type of
                                                             placement
``new_needs``          sen_need_newplans.csv (2025)          new plans, need x type of placement
=====================  ====================================  =====================================

The 2010-2022 files count statements and EHC plans (``Total_st``, ``Total_ehc``, ``Total_all``);
the 2023+ files (the person-level collection) one wide row per authority, year, breakdown
topic and breakdown, with the total in ``ehcplans`` / ``ehc_plans`` / ``new_ehc_plans``.
Totals are the rows labelled ``All EHC plans`` (or ``New EHC plans``, or ``Total`` in older
files); single-year ages ``under 3``, ``age 3`` ... ``age 25`` are kept (``single_age``) and
summed into the age bands of the older files (``0-4`` = under 3 + 3 + 4, ``5-10``, ``11-15``,
``16-19``, ``20-25``). Placements become the setting types of :data:`SETTINGS`.

Markers (``x`` not available, ``c`` suppressed, ``z`` not applicable, ...) are read as
missing, never as 0. When parts are added up (single years into a band, placement columns
into a setting type) a ``z`` part counts as nothing applicable (0) but an ``x`` or ``c`` part
makes the sum missing; a breakdown label, topic or placement the reader does not know is an
error naming the labels found, and so is a file that would give no rows.

Authority codes: Buckinghamshire's rows published under the former county code E10000002
for years after it became a unitary authority (E06000060, April 2020) are read as E06000060
(the 2025 release does this for 2024 and 2025) and listed in ``code_fixes``; other code
changes (e.g. Cumbria split into Cumberland and Westmorland and Furness from January 2024)
are found by :func:`~senforecast.io.england_areas.find_code_changes` and listed in ``changes``;
both raise an :class:`~senforecast.core.errors.InputWarning`. ``harmonise=True`` re-expresses
every table on stable areas so that series run through the changes.

When two releases cover the same authority and year (the 2022 release and the 2025 release
both hold 2019-2022), the later release is kept and the overlap counted in the report.
The pre-2019 Excel tables of the older statistical first releases are not read: the 2022
release's tidy files hold every year from 2010.
"""
from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, InputWarning, Problem, ValidationReport
from ..io.markers import SUPPRESSION_MARKERS
from .england_areas import find_code_changes, harmonise_areas

AGE_GROUPS: tuple[str, ...] = ("0-4", "5-10", "11-15", "16-19", "20-25")
"""Age groups of the release (age at 31 August), youngest first; ``total`` is all ages."""

SINGLE_AGES: tuple[str, ...] = ("0-2",) + tuple(str(a) for a in range(3, 26))
"""Single-year ages of the 2023+ files: ``0-2`` is the publisher's ``under 3``."""

NEEDS: tuple[str, ...] = ("ASD", "HI", "MLD", "MSI", "OTH", "PD", "PMLD", "SEMH", "SLCN", "SLD", "SPLD", "VI",
                          "unknown")
"""Primary needs of ``sen_needs_all_plans.csv`` as ``england_sen2`` codes; ``unknown`` = not
recorded (``number_need_unknown``); ``total`` is all needs."""

SETTINGS: tuple[str, ...] = (
    "mainstream",
    "resourced_provision_unit",
    "special_school",
    "independent",
    "alternative_provision",
    "further_education",
    "other",
)
"""Setting types. ``special_school`` = state-funded and non-maintained special schools;
``independent`` = independent special schools; ``resourced_provision_unit`` = resourced
provision and SEN units in mainstream schools; ``other`` = everything else (educated
elsewhere, NEET, early years, hospital schools, awaiting provision, not recorded), computed
as total minus the named types so that every plan is counted exactly once."""

SPECIALIST_SETTINGS: tuple[str, ...] = ("special_school", "resourced_provision_unit", "independent")

_GEO_COLS = ["time_period", "geographic_level", "region_name", "old_la_code", "new_la_code", "la_name"]
_GEO_OUT = ["year", "area", "la_name", "old_la_code", "region"]
_NOT_APPLICABLE = frozenset({"z", "[z]"})
_TABLES = ("age", "single_age", "setting", "need", "new_age", "new_setting", "new_need")
_CENSUS_TABLES = ("age", "single_age", "setting", "need")
_DIMS = {"age": ["age_group"], "single_age": ["age"], "setting": ["setting"], "need": ["need", "setting"],
         "new_age": ["age_group"], "new_setting": ["setting"], "new_need": ["need", "setting"]}

_NEED_COLUMNS = {"number_asd": "ASD", "number_hi": "HI", "number_mld": "MLD", "number_msi": "MSI",
                 "number_oth": "OTH", "number_pd": "PD", "number_pmld": "PMLD", "number_semh": "SEMH",
                 "number_slcn": "SLCN", "number_sld": "SLD", "number_spld": "SPLD", "number_vi": "VI",
                 "number_need_unknown": "unknown"}

CODE_FIXES: tuple[dict, ...] = (
    dict(published="E10000002", code="E06000060", from_year=2021, name="Buckinghamshire",
         reason="Buckinghamshire Council has been the unitary authority E06000060 since April 2020; "
                "rows for later years published under the former county code E10000002 (the 2025 "
                "release does this for 2024 and 2025) are read as E06000060"),
)
"""Known misuses of authority codes, corrected on reading (and listed in ``code_fixes``)."""


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame(columns=["year", "area", *_DIMS[table], "count"])


@dataclass
class EHCPTables:
    """Tidy tables read from an EHC plans release.

    Attributes
    ----------
    age : DataFrame
        ``year, area, age_group, count`` (``age_group`` in :data:`AGE_GROUPS` or ``total``).
    setting : DataFrame
        ``year, area, setting, count`` (``setting`` in :data:`SETTINGS` or ``total``).
    areas : DataFrame
        ``area, la_name, old_la_code, region, first_year, last_year``.
    report : ValidationReport
        Marker counts (``z``/``x``/``c``), rows left out, totals that disagree.
    single_age : DataFrame
        ``year, area, age, count`` (``age`` in :data:`SINGLE_AGES`; 2023+ files only).
    need : DataFrame
        ``year, area, need, setting, count``: primary need (:data:`NEEDS` or ``total``) by
        setting type (:data:`SETTINGS` or ``total``), from ``sen_needs_all_plans.csv``.
    new_age, new_setting, new_need : DataFrame
        The same for plans *started* in a calendar year (``year`` = that calendar year); the
        2023+ ages are the age when the plan started.
    changes : DataFrame
        Authority code changes found (see :func:`~senforecast.io.england_areas.find_code_changes`).
    code_fixes : DataFrame
        ``file, published_code, code, la_name, years, rows, reason``: codes corrected on reading.
    sources : DataFrame
        ``file, layout, first_year, last_year, rows``: what was read (``layout`` = ``not used``
        for files of a folder or zip that are not EHC plans tables).

    Examples
    --------
    >>> raw = pd.DataFrame({"time_period": ["2021", "2021"], "geographic_level": ["Local authority"] * 2,
    ...     "region_name": ["North East"] * 2, "old_la_code": ["390"] * 2, "new_la_code": ["E08000037"] * 2,
    ...     "la_name": ["Gateshead"] * 2, "characteristic_age": ["Total", "Age 5 to 10"],
    ...     "Total_st": ["z", "z"], "Total_ehc": ["1200", "400"], "Total_all": ["x", "400"]})
    >>> t = read_ehcp(frames={"age.csv": raw})
    >>> t.age.columns.tolist(), t.setting.empty
    (['year', 'area', 'age_group', 'count'], True)
    >>> t.areas[["area", "la_name", "region"]].values.tolist()
    [['E08000037', 'Gateshead', 'North East']]
    >>> t.report.counts["Total_st=z"]  # markers are counted, not dropped silently
    2
    """

    age: pd.DataFrame
    setting: pd.DataFrame
    areas: pd.DataFrame
    report: ValidationReport = field(default_factory=ValidationReport)
    single_age: pd.DataFrame = field(default_factory=lambda: _empty("single_age"))
    need: pd.DataFrame = field(default_factory=lambda: _empty("need"))
    new_age: pd.DataFrame = field(default_factory=lambda: _empty("new_age"))
    new_setting: pd.DataFrame = field(default_factory=lambda: _empty("new_setting"))
    new_need: pd.DataFrame = field(default_factory=lambda: _empty("new_need"))
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["kind", "year", "old_codes", "new_codes", "old_names", "new_names", "stable_area", "stable_name"]))
    code_fixes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["file", "published_code", "code", "la_name", "years", "rows", "reason"]))
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["file", "layout", "first_year", "last_year", "rows"]))


# ------------------------------------------------------------------ labels
def _norm(text: object) -> str:
    """Lower case, one space, plain hyphens: 'Mainstream – academy ' -> 'mainstream - academy'."""
    t = str(text).replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return re.sub(r"\s+", " ", t).strip().lower()


_TOTAL_LABELS = frozenset({"total", "all", "all ages", "all ehc plans", "all plans", "new ehc plans",
                           "all new ehc plans"})


def _age_group(label: str) -> str | None:
    """Map a publisher's age-band label to an age group ('Age 5 to 10' -> '5-10')."""
    text = _norm(label)
    if text in _TOTAL_LABELS:
        return "total"
    if "under" in text and re.search(r"\b5\b", text):
        return "0-4"
    nums = re.findall(r"\d+", text)
    if len(nums) >= 2:
        key = f"{int(nums[0])}-{int(nums[1])}"
        if key in AGE_GROUPS:
            return key
        if key in {"0-4", "0-5"}:
            return "0-4"
    return None


def _single_age(label: str) -> str | None:
    """'under 3' -> '0-2', 'age 7' -> '7', 'age 2 and under' -> '0-2', 'age 20 and over' -> '20+',
    'unknown' -> 'unknown'; None for anything else."""
    text = _norm(label)
    if text in {"unknown", "age unknown", "not known", "not recorded"}:
        return "unknown"
    if text in {"under 3", "under age 3", "age 2 and under", "2 and under", "aged 2 and under"}:
        return "0-2"
    if m := re.fullmatch(r"(?:age|aged)?\s*(\d+) and over", text):
        return f"{int(m.group(1))}+"
    if m := re.fullmatch(r"(?:age|aged)?\s*(\d+)", text):
        return str(int(m.group(1)))
    return None


def _band_of_single(age: str) -> str | None:
    """Age group of a single-year label ('0-2' -> '0-4', '17' -> '16-19', '20+' -> '20-25')."""
    if age == "0-2":
        return "0-4"
    if age == "20+":
        return "20-25"
    if not age.isdigit():
        return None
    a = int(age)
    for g in AGE_GROUPS:
        lo, hi = (int(x) for x in g.split("-"))
        if lo <= a <= hi:
            return g
    return None


_BAND_MEMBERS = {
    "age": {"0-4": {"0-2", "3", "4"}, "5-10": {str(a) for a in range(5, 11)},
            "11-15": {str(a) for a in range(11, 16)}, "16-19": {str(a) for a in range(16, 20)},
            "20-25": {str(a) for a in range(20, 26)}},
    "age_start": {"0-4": {"0-2", "3", "4"}, "5-10": {str(a) for a in range(5, 11)},
                  "11-15": {str(a) for a in range(11, 16)}, "16-19": {str(a) for a in range(16, 20)},
                  "20-25": {"20+"}},
}
"""Single years that make up each band: a band is only summed when every one is published."""

_TOPICS = {
    "total": {"all ehc plans", "total", "new ehc plans", "all new ehc plans", "all plans", "all"},
    "age": {"child or young persons age", "child or young person's age", "child or young person age",
            "age", "age group", "current age"},
    "age_start": {"age when plan started", "age plan started", "age at start of plan"},
    "placement": {"type of placement", "placement", "placement type"},
    "ignored": {"sex", "gender", "ethnicity", "years ehc plan in place", "years plan held", "years plan in place",
                "length of plan"},
}


def _placement_kind(label: str) -> tuple[str, str] | None:
    """(setting, role) of a 'Type of placement' label; role 'leaf' or 'total' (a subtotal)."""
    t = _norm(label)
    head = t.split(" - ")[0].strip()
    is_total = t.endswith("- total") or t.endswith("total")
    if head.startswith("mainstream"):
        if is_total:
            return ("mainstream", "total")
        return ("resourced_provision_unit", "leaf") if re.search(r"resourced provision|sen unit", t) \
            else ("mainstream", "leaf")
    if head.startswith("special"):
        if is_total:
            return ("special", "total")
        if "independent" in t:
            return ("independent", "leaf")
        if re.search(r"la maintained|academy|free school|non-maintained|non maintained", t):
            return ("special_school", "leaf")
        return None
    if head.startswith("ap/pru") or head.startswith("alternative provision") or head.startswith("pru"):
        return ("alternative_provision", "total" if is_total else "leaf")
    if head in {"fe", "further education"} or head.startswith("fe "):
        return ("further_education", "total" if is_total else "leaf")
    if head.startswith("educated elsewhere"):
        return ("other", "total" if is_total else "leaf")
    if t in {"non-maintained early years", "non maintained early years", "placement not recorded",
             "neet", "not in education, employment or training", "other", "awaiting provision",
             "permanently excluded", "welsh establishment", "hospital school"}:
        return ("other", "leaf")
    return None


_OTHER_COLUMNS = frozenset({
    "elective_home_education", "other_arrangements_la", "other_arrangements_parents", "online_provider",
    "w_settings", "other_schools", "other_placement_settings", "neet", "neet_ntci", "neet_other",
    "neet_other_csa", "nm_early_years", "placement_unknown", "await_prov_2022", "perm_ex_2022"})
_FE_COLUMNS = frozenset({"general_fe_tertiary_colleges", "specialist_post_16_institutions", "ukrlp_provider"})
_META_COLUMNS = frozenset({"time_period", "time_identifier", "geographic_level", "country_code", "country_name",
                           "region_code", "region_name", "new_la_code", "old_la_code", "la_name",
                           "breakdown_topic", "breakdown", "ehcplans", "ehc_plans", "new_ehc_plans"})


def _column_kind(col: str) -> tuple[str, str] | str:
    """(setting, role) of a placement column of caseload.csv / newplans.csv; 'ignore' (meta,
    percentages), 'unknown' (a placement column the reader does not know) or 'unrecognised'."""
    c = col.strip().lower()
    if c in _META_COLUMNS or c.endswith("_pc"):
        return "ignore"
    if c == "mainstream_total":
        return ("mainstream", "total")
    if c.startswith("mainstream_"):
        if re.search(r"(resourced_provision|senunit|sen_unit)$", c):
            return ("resourced_provision_unit", "leaf")
        if re.fullmatch(r"mainstream_(la_maintained|academy|free_school|independent)", c):
            return ("mainstream", "leaf")
        return "unknown"
    if c == "special_total":
        return ("special", "total")
    if c == "special_independent":
        return ("independent", "leaf")
    if c.startswith("special_"):
        if re.fullmatch(r"special_(la_maintained|academy_free|academy|free_school|free|non_maintained)", c):
            return ("special_school", "leaf")
        return "unknown"
    if c == "ap_pru_total":
        return ("alternative_provision", "total")
    if c.startswith("ap_pru_"):
        return ("alternative_provision", "leaf")
    if c == "fe_total":
        return ("further_education", "total")
    if c in _FE_COLUMNS or c.startswith("fe_"):
        return ("further_education", "leaf")
    if c == "ed_elsewhere":
        return ("other", "total")
    if c in _OTHER_COLUMNS:
        return ("other", "leaf")
    return "unrecognised"


# ------------------------------------------------------------------ cells and rows
class _Ctx:
    """What one read accumulates: the report and the codes corrected."""

    def __init__(self) -> None:
        self.report = ValidationReport()
        self.fixes: list[dict] = []


def _cells_block(raw: pd.DataFrame, cols: list[str], file: str, ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse count columns at once: (values with markers as NaN, is 'z' not applicable).

    The same rules as :func:`senforecast.io.markers.parse_counts` (markers of
    ``SUPPRESSION_MARKERS`` are missing, thousands separators allowed, anything else or a
    negative number is an error naming its file row), vectorised over the whole block;
    markers are counted in the report as ``column=marker``.
    """
    if not cols or raw.empty:
        empty = pd.DataFrame(np.nan, index=raw.index, columns=cols)
        return empty, empty.notna()
    block = raw[cols]
    arr = block.astype(object).where(block.notna(), "").to_numpy(dtype=str)
    low = np.char.lower(np.char.strip(arr))
    is_marker = np.isin(low, list(SUPPRESSION_MARKERS))
    blank = (low == "") | (low == "nan")
    cleaned = np.where(is_marker | blank, "", np.char.replace(low, ",", ""))
    nums = pd.to_numeric(pd.Series(cleaned.ravel()), errors="coerce").to_numpy(dtype=float).reshape(arr.shape)
    bad = np.isnan(nums) & ~is_marker & ~blank
    neg = nums < 0
    rows = raw["_row"].to_numpy()
    for j, col in enumerate(cols):
        if is_marker[:, j].any():
            marks, n = np.unique(low[is_marker[:, j], j], return_counts=True)
            for m, k in zip(marks, n):
                ctx.report.count(f"{col}={m}", int(k))
        for i in np.flatnonzero(bad[:, j])[:50]:
            ctx.report.error(Problem(file, int(rows[i]), col, "expected a count or a suppression marker", arr[i, j]))
        for i in np.flatnonzero(neg[:, j])[:50]:
            ctx.report.error(Problem(file, int(rows[i]), col, "counts cannot be negative", arr[i, j]))
    vals = pd.DataFrame(np.where(neg, np.nan, nums), index=raw.index, columns=cols)
    return vals, pd.DataFrame(np.isin(low, list(_NOT_APPLICABLE)), index=raw.index, columns=cols)


def _cells(raw: pd.DataFrame, col: str, file: str, ctx: _Ctx) -> tuple[pd.Series, pd.Series]:
    """One count column: (values with markers as NaN, is 'z' not applicable)."""
    vals, z = _cells_block(raw, [col], file, ctx)
    return vals[col], z[col]


def _sum_parts(vals: pd.DataFrame, is_z: pd.DataFrame) -> pd.Series:
    """Row sums where 'z' parts count 0 and any other missing part makes the sum missing
    (all parts 'z', or no parts, is missing too)."""
    if vals.shape[1] == 0:
        return pd.Series(np.nan, index=vals.index)
    known = vals.notna() | is_z
    out = vals.where(~is_z, 0.0).sum(axis=1, min_count=1)
    out[~known.all(axis=1) | is_z.all(axis=1)] = np.nan
    return out.astype(float)


def _check_columns(raw: pd.DataFrame, needed: list[str], file: str) -> None:
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise InputValidationError(
            [Problem(file, 1, c, "column missing from the header; is this an EHC plans release file?") for c in missing]
        )


def _census_year(values: pd.Series) -> pd.Series:
    """'2022' -> 2022; an academic-year code '202425' (or '2024/25') -> 2025, the January census."""
    text = values.astype(str).str.strip().str.replace("/", "", regex=False)
    six = text.str.fullmatch(r"\d{6}")
    out = text.where(~six, text.str[:2] + text.str[-2:])
    return pd.to_numeric(out, errors="coerce").astype("Int64")


def _la_rows(raw: pd.DataFrame, file: str, ctx: _Ctx) -> pd.DataFrame:
    level = raw["geographic_level"].astype(str).str.strip()
    la = level.str.lower().eq("local authority")
    if not la.any():
        raise InputValidationError([Problem(file, None, "geographic_level",
                                            "no 'Local authority' rows, so nothing to read; values found: "
                                            + ", ".join(repr(v) for v in sorted(set(level))[:10]))])
    if (~la).any():
        ctx.report.count(f"{file}: national/regional rows left out", int((~la).sum()))
    return raw.loc[la]


def _geo(raw: pd.DataFrame, file: str, ctx: _Ctx) -> pd.DataFrame:
    out = pd.DataFrame(index=raw.index)
    out["year"] = _census_year(raw["time_period"])
    out["area"] = raw["new_la_code"].astype(str).str.strip()
    out["la_name"] = raw["la_name"].astype(str).str.strip()
    out["old_la_code"] = raw["old_la_code"].astype(str).str.strip()
    out["region"] = raw["region_name"].astype(str).str.strip() if "region_name" in raw else ""
    problems = []
    for col, bad in (("time_period", out["year"].isna()), ("new_la_code", out["area"].isin(["", "nan"]))):
        for i in np.flatnonzero(bad.to_numpy())[:10]:
            problems.append(Problem(file, int(raw["_row"].iloc[i]), col,
                                    "expected a year (e.g. 2022 or 202425) or an authority code", raw[col].iloc[i]))
    if problems:
        raise InputValidationError(problems)
    for fix in CODE_FIXES:
        hit = out["area"].eq(fix["published"]) & (out["year"] >= fix["from_year"])
        if hit.any():
            yrs = sorted(int(y) for y in out.loc[hit, "year"].unique())
            ctx.fixes.append(dict(file=file, published_code=fix["published"], code=fix["code"],
                                  la_name=out.loc[hit, "la_name"].iloc[0],
                                  years=f"{yrs[0]}-{yrs[-1]}" if len(yrs) > 1 else str(yrs[0]),
                                  rows=int(hit.sum()), reason=fix["reason"]))
            out.loc[hit, "area"] = fix["code"]
    out["year"] = out["year"].astype(int)
    return out


def _label_error(file: str, column: str, unknown: pd.Series, rows: pd.Series, found: list[str], what: str,
                 known: str) -> InputValidationError:
    """One problem per unknown label, naming the labels found in the file and the known ones."""
    problems = []
    for label in pd.unique(unknown)[:20]:
        row = int(rows[unknown == label].iloc[0])
        problems.append(Problem(file, row, column, f"unknown {what}; labels found in this file: "
                                f"{', '.join(repr(v) for v in found[:40])}; known: {known}", label))
    return InputValidationError(problems)


# ------------------------------------------------------------------ 2010-2022 layout
def _plans_all(raw: pd.DataFrame, prefix: str, file: str, ctx: _Ctx) -> pd.Series:
    """Statements + EHC plans as one series: ``<prefix>_all``, or ``_st + _ehc`` where it is a marker."""
    total, _ = _cells(raw, f"{prefix}_all", file, ctx)
    st_col, ehc_col = f"{prefix}_st", f"{prefix}_ehc"
    if st_col in raw and ehc_col in raw:
        st, st_z = _cells(raw, st_col, file, ctx)
        ehc, ehc_z = _cells(raw, ehc_col, file, ctx)
        # 'z' (not applicable, e.g. statements after 2018) is a true zero for the sum
        summed = st.where(~st_z, 0.0) + ehc.where(~ehc_z, 0.0)
        fill = total.isna() & ~(st_z & ehc_z)
        n_fill = int((fill & summed.notna()).sum())
        if n_fill:
            ctx.report.count(f"{prefix}_all from {st_col} + {ehc_col}", n_fill)
        total = total.where(~fill, summed)
    return total


def _read_age_release(raw: pd.DataFrame, file: str, ctx: _Ctx, prefix: str = "Total") -> pd.DataFrame:
    _check_columns(raw, _GEO_COLS + ["characteristic_age", f"{prefix}_all"], file)
    raw = _la_rows(raw, file, ctx)
    out = _geo(raw, file, ctx)
    out["age_group"] = raw["characteristic_age"].map(_age_group)
    unknown = out["age_group"].isna()
    if unknown.any():
        raise _label_error(file, "characteristic_age", raw.loc[unknown, "characteristic_age"], raw.loc[unknown, "_row"],
                           sorted(raw["characteristic_age"].unique()), "age group label",
                           "'Total', 'Under 5', 'Age 5 to 10', 'Age 11 to 15', 'Age 16 to 19', 'Age 20 to 25'")
    out["count"] = _plans_all(raw, prefix, file, ctx)
    return out


_MAIN_RP = re.compile(r"resourced provision|sen unit", re.I)
_SPECIAL_STATE = {"special - la maintained", "special - academy", "special - academy/free",
                  "special - free school", "special - non-maintained"}
_ESTAB_OTHER_GROUPS = {"educated elsewhere", "neet", "non-maintained early years", "other", "unknown"}


def _estab_setting(group: str, etype: str) -> str | None:
    """Setting type of one (group, type) row of the 2010-2022 file: a setting, ``'_mainstream_total'``,
    ``''`` (a detail row not used: it is inside a total or in 'other'), or None (unknown)."""
    g, t = _norm(group), _norm(etype)
    if g == "total":
        return "total" if t == "total" else None
    if g == "mainstream school":
        if t == "total":
            return "_mainstream_total"
        return "resourced_provision_unit" if _MAIN_RP.search(t) else ""
    if g == "special school":
        if t in _SPECIAL_STATE:
            return "special_school"
        if t == "special - independent":
            return "independent"
        return "" if t in {"total", "hospital school"} else None
    if g.startswith("alternative provision"):
        return "alternative_provision" if t == "total" else ""
    if g == "further education":
        return "further_education" if t == "total" else ""
    if g in _ESTAB_OTHER_GROUPS:
        return ""
    return None


def _read_estab_release(raw: pd.DataFrame, file: str, ctx: _Ctx, prefix: str = "Total") -> pd.DataFrame:
    _check_columns(raw, _GEO_COLS + ["establishment_group", "establishment_type", f"{prefix}_all"], file)
    raw = _la_rows(raw, file, ctx)
    geo = _geo(raw, file, ctx)
    pairs = pd.MultiIndex.from_arrays([raw["establishment_group"], raw["establishment_type"]])
    kinds = {pair: _estab_setting(*pair) for pair in pairs.unique()}
    geo["setting"] = [kinds[pair] for pair in pairs]
    unknown = geo["setting"].isna()
    if unknown.any():
        pair = raw["establishment_group"].astype(str) + " / " + raw["establishment_type"].astype(str)
        raise _label_error(file, "establishment_group", pair[unknown], raw.loc[unknown, "_row"],
                           sorted(raw["establishment_group"].unique()), "establishment group / type",
                           "Total, Mainstream school, Special school (LA maintained, academy, free, "
                           "non-maintained, independent, hospital), Alternative provision/Pupil referral unit, "
                           "Further education, Educated elsewhere, NEET, Non-maintained early years, Other, Unknown")
    geo["count"] = _plans_all(raw, prefix, file, ctx)
    used = geo.loc[geo["setting"] != ""]
    # sum detail rows per authority-year and setting (a missing detail makes the sum missing)
    grp = used.groupby(["year", "area", "setting"], sort=False)["count"]
    summed = grp.sum().where(grp.count() == grp.size())
    wide = summed.unstack("setting")
    info = geo.drop_duplicates(["year", "area"]).set_index(["year", "area"])[["la_name", "old_la_code", "region"]]
    wide = wide.join(info, how="left")
    for c in ["total", "_mainstream_total", *[s for s in SETTINGS if s not in {"mainstream", "other"}]]:
        if c not in wide:
            wide[c] = np.nan
    # a setting with no rows for an authority-year is not in that year's layout (e.g. further
    # education before 2015) and counts 0 in 'other'; a row with a marker makes 'other' unknown
    present = used.groupby(["year", "area", "setting"]).size().unstack("setting")
    unknown_mask = wide.isna() & present.reindex_like(wide).notna()
    rp = wide["resourced_provision_unit"]
    wide["mainstream"] = wide["_mainstream_total"] - rp.where(unknown_mask["resourced_provision_unit"], rp.fillna(0))
    unknown_mask["mainstream"] = wide["mainstream"].isna() & (
        unknown_mask["_mainstream_total"] | unknown_mask["resourced_provision_unit"])
    return _wide_settings_to_long(wide.drop(columns="_mainstream_total").reset_index(), file, ctx,
                                  unknown_mask.reset_index(drop=True))


def _wide_settings_to_long(wide: pd.DataFrame, file: str, ctx: _Ctx, unknown: pd.DataFrame | None = None,
                           extra_keys: list[str] | None = None) -> pd.DataFrame:
    """Add ``other`` = total - named setting types and melt. ``unknown`` marks named cells that
    are missing because of a marker (then ``other`` is missing too); other missing named cells
    are not in the layout and count 0."""
    named = [s for s in SETTINGS if s != "other"]
    wide = wide.copy()
    wide["other"] = wide["total"] - wide[named].fillna(0).sum(axis=1)
    if unknown is not None:
        any_unknown = unknown.reindex(columns=named, fill_value=False).fillna(False).astype(bool).any(axis=1)
        wide.loc[any_unknown.to_numpy(), "other"] = np.nan
    neg = wide["other"] < -0.5
    if neg.any():
        ctx.report.count(f"{file}: setting types summing to more than the total", int(neg.sum()))
        for _, r in wide.loc[neg].head(10).iterrows():
            ctx.report.warn(Problem(file, None, "other", f"setting types add up to more than the total in {r['year']} "
                                    f"for {r['area']}; 'other' set to 0", float(r["other"])))
        wide.loc[neg, "other"] = 0.0
    keys = ["year", "area", *(extra_keys or []), "la_name", "old_la_code", "region"]
    return wide.melt(id_vars=keys, value_vars=["total", *SETTINGS], var_name="setting", value_name="count")


# ------------------------------------------------------------------ 2023+ layout
def _topics(raw: pd.DataFrame, file: str, allowed: set[str]) -> pd.Series:
    """Kind of each row's breakdown topic (total / age / age_start / placement / ignored).

    A topic the reader does not know, or one this file should not have, is an error."""
    if "breakdown_topic" in raw:
        topic = raw["breakdown_topic"].map(_norm)
        kinds = {t: k for k, ts in _TOPICS.items() for t in ts}
        kind = topic.map(kinds)
        bad = kind.isna() | ~kind.isin(allowed | {"ignored"})
        column, labels = "breakdown_topic", raw["breakdown_topic"]
    else:  # no topic column: tell totals and ages apart by the label
        lab = raw["breakdown"].map(_norm)
        kind = pd.Series(np.where(lab.isin(_TOTAL_LABELS), "total",
                                  np.where(lab.map(_single_age).notna() | raw["breakdown"].map(_age_group).notna(),
                                           "age", None)), index=raw.index)
        bad = kind.isna() | ~kind.isin(allowed)
        column, labels = "breakdown", raw["breakdown"]
    if bad.any():
        raise _label_error(file, column, labels[bad], raw.loc[bad, "_row"], sorted(labels.unique()),
                           "breakdown topic", "'All EHC plans' / 'New EHC plans' / 'Total', "
                           "'Child or young persons age', 'Age when plan started', 'Type of placement', "
                           "'Sex', 'Ethnicity', 'Years EHC plan in place'")
    total = kind.eq("total")
    not_total = total & ~raw["breakdown"].map(_norm).isin(_TOTAL_LABELS)
    if not_total.any():
        raise _label_error(file, "breakdown", raw.loc[not_total, "breakdown"], raw.loc[not_total, "_row"],
                           sorted(raw.loc[total, "breakdown"].unique()), "label for the totals",
                           "'All EHC plans', 'New EHC plans', 'Total'")
    if not total.any():
        found = sorted(raw["breakdown_topic"].unique()) if "breakdown_topic" in raw else sorted(raw["breakdown"].unique())
        raise InputValidationError([Problem(file, None, column, "no rows of totals ('All EHC plans', 'New EHC plans' "
                                            "or 'Total'), so the tables would be empty; topics found: "
                                            + ", ".join(repr(v) for v in found[:30]))])
    return kind


def _age_rows(raw: pd.DataFrame, geo: pd.DataFrame, counts: pd.Series, z: pd.Series, kind: str, file: str,
              ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Age rows -> (age groups, single years). Bands are read directly; single years are kept
    and summed into bands (a band is missing unless every one of its years is known)."""
    labels = raw["breakdown"]
    single = labels.map(_single_age)
    band = labels.map(_age_group).where(single.isna())
    bad = single.isna() & band.isna() | band.eq("total")
    if kind == "age":
        bad |= single.str.endswith("+", na=False)
    if bad.any():
        raise _label_error(file, "breakdown", labels[bad], raw.loc[bad, "_row"], sorted(labels.unique()),
                           "age label", "'under 3', 'age 3' ... 'age 25' (or bands such as 'Age 5 to 10'); "
                           "'age 2 and under' ... 'age 20 and over', 'unknown' for the age when the plan started")
    base = geo[_GEO_OUT].assign(count=counts, _z=z)
    groups = base[band.notna()].assign(age_group=band[band.notna()])
    singles = base[single.notna()].assign(age=single[single.notna()])
    if singles.empty:
        return groups.drop(columns="_z"), singles.drop(columns="_z")
    n_unknown = int(singles["age"].eq("unknown").sum())
    if n_unknown:
        ctx.report.count(f"{file}: rows of unknown age (in the total, not in an age group)", n_unknown)
    singles = singles[singles["age"] != "unknown"]
    over = singles["age"].map(_band_of_single).isna()
    if over.any():
        raise _label_error(file, "breakdown", labels[singles.index[over]], raw.loc[singles.index[over], "_row"],
                           sorted(labels.unique()), "age label (outside 0-25)", "ages 0 to 25")
    members = _BAND_MEMBERS[kind]
    singles = singles.assign(age_group=singles["age"].map(_band_of_single))
    key = ["year", "area", "age_group"]
    if singles.duplicated([*key, "age"]).any():
        d = singles[singles.duplicated([*key, "age"])].iloc[0]
        raise InputValidationError([Problem(file, None, "breakdown", f"more than one row for age {d['age']!r} in "
                                            f"{d['year']} for {d['area']}")])
    vals = singles.set_index([*key, "age"])["count"].unstack("age")
    zs = singles.set_index([*key, "age"])["_z"].unstack("age")
    rows = []
    for g, need in members.items():
        cols = sorted(need)
        sub_idx = vals.index.get_level_values("age_group") == g
        if not sub_idx.any():
            continue
        v = vals.loc[sub_idx].reindex(columns=cols)
        zz = zs.loc[sub_idx].reindex(columns=cols).eq(True)
        absent = [c for c in cols if c not in vals.columns]
        if absent:
            ctx.report.warn(Problem(file, None, "breakdown", f"age group {g} left missing: no rows for ages "
                                    + ", ".join(absent)))
        s = _sum_parts(v, zz)
        rows.append(s.rename("count").reset_index())
    band_sums = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=[*key, "count"])
    n_missing = int(band_sums["count"].isna().sum())
    if n_missing:
        ctx.report.count(f"{file}: age groups missing because a single year is not available", n_missing)
    info = geo.drop_duplicates(["year", "area"]).set_index(["year", "area"])[["la_name", "old_la_code", "region"]]
    band_sums = band_sums.join(info, on=["year", "area"])
    groups = pd.concat([groups.drop(columns="_z"), band_sums], ignore_index=True)
    singles = singles.drop(columns=["_z", "age_group"])
    return groups, singles[singles["age"].isin(SINGLE_AGES)] if kind == "age" else singles.iloc[0:0]


def _settings_from_parts(vals: pd.DataFrame, is_z: pd.DataFrame, kinds: dict[str, tuple[str, str]],
                         total: pd.Series, file: str, ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Setting types from placement parts (columns of ``vals``, each with a (setting, role)).

    Returns the wide table (``total`` + :data:`SETTINGS` except ``other``) and a mask of
    cells missing because a part is not available (not because the layout lacks the setting).
    """
    def cols(setting: str, role: str) -> list[str]:
        return [c for c, k in kinds.items() if k == (setting, role) and c in vals.columns]

    def add(cs: list[str]) -> pd.Series:
        return _sum_parts(vals[cs], is_z[cs].astype(bool))

    out = pd.DataFrame(index=vals.index)
    unknown = pd.DataFrame(False, index=vals.index, columns=[s for s in SETTINGS if s != "other"])
    out["total"] = total.reindex(vals.index)
    absent = []
    rp_cols = cols("resourced_provision_unit", "leaf")
    rp = add(rp_cols)
    out["resourced_provision_unit"] = rp
    unknown["resourced_provision_unit"] = rp.isna() & bool(rp_cols)
    if not rp_cols:
        absent.append("resourced_provision_unit")
    if cols("mainstream", "total"):
        whole = add(cols("mainstream", "total"))
        out["mainstream"] = whole - (rp if rp_cols else 0.0)
    else:
        whole = add(cols("mainstream", "leaf"))
        out["mainstream"] = whole
        if not cols("mainstream", "leaf"):
            absent.append("mainstream")
    unknown["mainstream"] = out["mainstream"].isna() & ("mainstream" not in absent)
    for setting in ("special_school", "independent"):
        cs = cols(setting, "leaf")
        out[setting] = add(cs)
        unknown[setting] = out[setting].isna() & bool(cs)
        if not cs:
            absent.append(setting)
    for setting in ("alternative_provision", "further_education"):
        cs = cols(setting, "total") or cols(setting, "leaf")
        out[setting] = add(cs)
        unknown[setting] = out[setting].isna() & bool(cs)
        if not cs:
            absent.append(setting)
    if absent:
        ctx.report.warn(Problem(file, 1, None, "no placement for setting type(s) " + ", ".join(absent)
                                + "; left missing and counted in 'other'"))
    special_total = cols("special", "total")
    if special_total and not absent:
        st = add(special_total)
        off = (st - out["special_school"] - out["independent"]).abs() > 0.5
        if off.any():
            ctx.report.count(f"{file}: rows whose special-school total differs from its parts", int(off.sum()))
    return out, unknown


def _read_caseload(raw: pd.DataFrame, file: str, ctx: _Ctx, new: bool = False) -> dict[str, pd.DataFrame]:
    """caseload.csv (January census) or newplans.csv (plans started in a calendar year)."""
    total_col = "new_ehc_plans" if new else next(c for c in ("ehcplans", "ehc_plans") if c in raw.columns)
    _check_columns(raw, _GEO_COLS + ["breakdown", total_col], file)
    kinds = {c: _column_kind(c) for c in raw.columns}
    bad = [c for c, k in kinds.items() if k == "unknown"]
    if bad:
        raise InputValidationError([Problem(file, 1, c, "placement column not known to the reader (it would be "
                                            "left out of its setting type)") for c in bad])
    unrec = [c for c, k in kinds.items() if k == "unrecognised" and not c.startswith("_")]
    if unrec:
        ctx.report.warn(Problem(file, 1, None, "columns not recognised as placements; their plans are counted in "
                                "'other': " + ", ".join(unrec)))
    raw = _la_rows(raw, file, ctx)
    age_kind = "age_start" if new else "age"
    topic = _topics(raw, file, {"total", age_kind} | ({"age_start"} if not new else set()))
    geo = _geo(raw, file, ctx)
    use = topic.isin(["total", age_kind])
    counts, z = _cells(raw.loc[use], total_col, file, ctx)
    counts, z = counts.reindex(raw.index), z.reindex(raw.index, fill_value=False)
    is_total = topic.eq("total")
    tot = geo.loc[is_total, _GEO_OUT].assign(age_group="total", count=counts[is_total])
    dup = tot.duplicated(["year", "area"])
    if dup.any():
        raise InputValidationError([Problem(file, int(raw.loc[i, "_row"]), "breakdown", "a second row of totals for "
                                            f"{tot.loc[i, 'area']} in {tot.loc[i, 'year']}") for i in tot.index[dup][:10]])
    age_idx = topic.index[topic.eq(age_kind)]
    groups, singles = _age_rows(raw.loc[age_idx], geo.loc[age_idx], counts.reindex(age_idx), z.reindex(age_idx),
                                age_kind, file, ctx)
    age = pd.concat([tot, groups], ignore_index=True)
    if not singles.empty:
        known = singles.groupby(["year", "area"])["count"].agg(lambda s: s.sum() if s.notna().all() else np.nan)
        both = pd.concat([known.rename("s"), tot.set_index(["year", "area"])["count"].rename("t")], axis=1).dropna()
        off = (both["s"] - both["t"]).abs() > 0.5
        if off.any():
            ctx.report.count(f"{file}: authority-years whose single-year ages do not add up to the total", int(off.sum()))

    # setting types from the placement columns of the rows of totals
    place_cols = [c for c, k in kinds.items() if isinstance(k, tuple)]
    age_table = "new_age" if new else "age"
    if not place_cols:
        ctx.report.warn(Problem(file, 1, None, "no placement columns (special_total, mainstream_total, ...): "
                                "setting types not read"))
        return {age_table: age} if new else {age_table: age, "single_age": singles}
    vals, zs = _cells_block(raw.loc[is_total], place_cols, file, ctx)
    wide, unknown = _settings_from_parts(vals, zs, {c: kinds[c] for c in place_cols}, tot["count"].set_axis(tot.index),
                                         file, ctx)
    wide = pd.concat([geo.loc[is_total, _GEO_OUT], wide], axis=1).reset_index(drop=True)
    setting = _wide_settings_to_long(wide, file, ctx, unknown.reset_index(drop=True))
    if new:
        return {"new_age": age, "new_setting": setting}
    return {"age": age, "single_age": singles, "setting": setting}


def _read_needs(raw: pd.DataFrame, file: str, ctx: _Ctx, new: bool = False) -> dict[str, pd.DataFrame]:
    """sen_needs_all_plans.csv / sen_need_newplans.csv: primary need by type of placement."""
    total_col = "ehc_plans"
    _check_columns(raw, _GEO_COLS + ["breakdown", total_col], file)
    need_cols = [c for c in raw.columns if c in _NEED_COLUMNS]
    odd = [c for c in raw.columns if c.startswith("number_") and c not in _NEED_COLUMNS]
    if odd or not need_cols:
        raise InputValidationError([Problem(file, 1, c, "need column not known to the reader; known: "
                                            + ", ".join(_NEED_COLUMNS)) for c in (odd or ["number_*"])])
    raw = _la_rows(raw, file, ctx)
    topic = _topics(raw, file, {"total", "placement", "age", "age_start"})
    geo = _geo(raw, file, ctx)
    use = topic.isin(["total", "placement"])
    rows, g = raw.loc[use], geo.loc[use]
    is_total = topic[use].eq("total")
    labels = rows["breakdown"].where(~is_total, "__total__")
    place = rows.loc[~is_total, "breakdown"]
    pkinds = {lab: _placement_kind(lab) for lab in place.unique()}
    unknown_lab = place[place.map(lambda v: pkinds[v] is None)]
    if len(unknown_lab):
        raise _label_error(file, "breakdown", unknown_lab, rows.loc[unknown_lab.index, "_row"], sorted(place.unique()),
                           "type of placement", "'Mainstream - ...', 'Special - ...', 'AP/PRU - ...', 'FE - ...', "
                           "'Educated elsewhere - ...', 'Non-maintained early years', 'Placement not recorded'")
    if place.empty:
        ctx.report.warn(Problem(file, None, "breakdown_topic", "no 'Type of placement' rows: needs read for the "
                                "total only"))
    longs = []
    for col, need in {total_col: "total", **{c: _NEED_COLUMNS[c] for c in need_cols}}.items():
        v, z = _cells(rows, col, file, ctx)
        longs.append(pd.DataFrame({"year": g["year"], "area": g["area"], "need": need, "label": labels,
                                   "count": v, "_z": z}))
    long = pd.concat(longs, ignore_index=True)
    key = ["year", "area", "need"]
    if long.duplicated([*key, "label"]).any():
        d = long[long.duplicated([*key, "label"])].iloc[0]
        raise InputValidationError([Problem(file, None, "breakdown", f"more than one row for {d['label']!r} in "
                                            f"{d['year']} for {d['area']}")])
    vals = long.pivot(index=key, columns="label", values="count")
    zs = long.pivot(index=key, columns="label", values="_z").eq(True)
    total = vals.pop("__total__") if "__total__" in vals else pd.Series(np.nan, index=vals.index)
    zs = zs.drop(columns="__total__", errors="ignore")
    wide, unknown = _settings_from_parts(vals, zs, pkinds, total, file, ctx)
    info = geo.drop_duplicates(["year", "area"]).set_index(["year", "area"])[["la_name", "old_la_code", "region"]]
    wide = wide.reset_index().join(info, on=["year", "area"])
    out = _wide_settings_to_long(wide, file, ctx, unknown.reset_index(drop=True), extra_keys=["need"])
    if place.empty:
        out = out[out["setting"] == "total"]
    return {"new_need" if new else "need": out}


# ------------------------------------------------------------------ files, folders, zips
def _read_raw(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def detect_layout(columns, name: str | None = None, periods=None) -> str:
    """Which release layout a header belongs to (see the module notes for the list).

    Parameters
    ----------
    columns : iterable of str
        The header.
    name : str, optional
        File name, used to tell ``sen_need_newplans.csv`` from ``sen_needs_all_plans.csv``.
    periods : iterable, optional
        ``time_period`` values, used the same way when there is no name (``2024`` is a
        calendar year of new plans, ``202425`` a January census).

    Examples
    --------
    >>> detect_layout(["time_period", "characteristic_age", "Total_all"])
    'age'
    >>> detect_layout(["time_period", "breakdown", "ehcplans", "special_total"])
    'caseload'
    >>> detect_layout(["breakdown", "ehc_plans", "number_asd"], name="sen_need_newplans.csv")
    'new_needs'
    """
    cols = {str(c).strip() for c in columns}
    if "characteristic_age" in cols:
        return "new_age" if "Total_new_all" in cols else "age"
    if "establishment_type" in cols:
        return "new_estab" if "Total_new_all" in cols else "estab"
    if "breakdown" in cols:
        if "new_ehc_plans" in cols:
            return "newplans"
        if "ehcplans" in cols:
            return "caseload"
        if "ehc_plans" in cols:
            if not any(c.startswith("number_") for c in cols):
                return "caseload"
            if name is not None and "new" in Path(name).name.lower():
                return "new_needs"
            if name is None and periods is not None:
                p = pd.Series(list(periods), dtype=str).str.strip()
                if len(p) and p.str.fullmatch(r"\d{4}").all():
                    return "new_needs"
            return "needs"
    raise InputValidationError([Problem("header", 1, None,
        "not an EHC plans release file: expected a 'characteristic_age' or 'establishment_type' column "
        "(2010-2022 files) or 'breakdown' with 'ehcplans', 'ehc_plans' or 'new_ehc_plans' (2023 onwards)",
        sorted(cols)[:12])])


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" or (path.is_file() and zipfile.is_zipfile(path))


def _wanted(member: str) -> bool:
    low = member.lower()
    return low.endswith(".csv") and not low.endswith(".meta.csv") and "__macosx" not in low


def _release_members(path: Path) -> list[tuple[str, Callable[..., pd.DataFrame]]]:
    """(name, reader) of every CSV in a folder (recursively) or a zip, as downloaded."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p.name))
        return [(f"{path.name}/{f.relative_to(path).as_posix()}",
                 lambda f=f, **kw: pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kw))
                for f in files]
    zf = zipfile.ZipFile(path)
    out = []
    for m in sorted(zf.namelist()):
        if not _wanted(m):
            continue

        def read(m=m, **kw):
            with zf.open(m) as fh:
                return pd.read_csv(io.BytesIO(fh.read()), dtype=str, keep_default_na=False, encoding="utf-8-sig", **kw)
        out.append((f"{path.name}/{m}", read))
    return out


def _collect(paths, frames, ctx: _Ctx) -> tuple[list[tuple[str, pd.DataFrame, str]], list[dict]]:
    """Every table to read as (name, raw, layout); files of a folder or zip that are not EHC
    plans tables are listed as not used. A named file that is not one is an error."""
    items, skipped = [], []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise InputValidationError([Problem(str(p), None, None, "file or folder not found")])
        if p.is_dir() or _is_zip(p):
            members = _release_members(p)
            found = []
            for name, read in members:
                try:
                    layout = detect_layout(read(nrows=0).columns, name=name)
                except InputValidationError:
                    skipped.append(dict(file=name, layout="not used", first_year=np.nan, last_year=np.nan, rows=0))
                    continue
                found.append((name, read(), layout))
            if not found:
                raise InputValidationError([Problem(p.name, None, None, "no EHC plans tables (caseload.csv, "
                                                    "sen_needs_all_plans.csv, sen2_age_caseload.csv, ...) in it; CSV "
                                                    "files found: " + (", ".join(n for n, _ in members[:30]) or "none"))])
            items += found
        else:
            raw = _read_raw(p)
            items.append((p.name, raw, _layout_or_error(raw, p.name)))
    for name, raw in (frames or {}).items():
        items.append((Path(name).name, raw, _layout_or_error(raw, name)))
    return items, skipped


def _layout_or_error(raw: pd.DataFrame, name: str) -> str:
    try:
        periods = raw["time_period"].head(50) if "time_period" in raw else None
        return detect_layout(raw.columns, name=name if name.lower().endswith(".csv") else None, periods=periods)
    except InputValidationError as err:
        raise InputValidationError([Problem(Path(name).name, 1, None, p.message, p.value) for p in err.problems]) from None


_READERS: dict[str, Callable[[pd.DataFrame, str, _Ctx], dict[str, pd.DataFrame]]] = {
    "age": lambda raw, f, c: {"age": _read_age_release(raw, f, c)},
    "estab": lambda raw, f, c: {"setting": _read_estab_release(raw, f, c)},
    "new_age": lambda raw, f, c: {"new_age": _read_age_release(raw, f, c, "Total_new")},
    "new_estab": lambda raw, f, c: {"new_setting": _read_estab_release(raw, f, c, "Total_new")},
    "caseload": lambda raw, f, c: _read_caseload(raw, f, c),
    "newplans": lambda raw, f, c: _read_caseload(raw, f, c, new=True),
    "needs": lambda raw, f, c: _read_needs(raw, f, c),
    "new_needs": lambda raw, f, c: _read_needs(raw, f, c, new=True),
}


# ------------------------------------------------------------------ public API
def read_ehcp(*paths: str | Path, frames: dict[str, pd.DataFrame] | None = None,
              harmonise: bool = False) -> EHCPTables:
    """Read EHC plans release files (any layout from 2010 to the 2025 release) into tidy tables.

    Parameters
    ----------
    *paths : path
        CSV or Excel files, folders, or release zips as downloaded; each file's layout is
        detected from its header. In a folder or zip, CSV files that are not EHC plans
        tables (requests, assessments, ...) are listed in ``sources`` as not used.
    frames : dict of str to DataFrame, optional
        Already-loaded raw tables (all columns as text) keyed by a name used in messages.
    harmonise : bool
        False (default): authority codes as published (after the fixes in :data:`CODE_FIXES`).
        True: every table re-expressed on stable areas (see
        :func:`~senforecast.io.england_areas.harmonise_areas`), with ``la_name`` and ``region``.

    Returns
    -------
    EHCPTables
        ``age``, ``setting``, ``single_age``, ``need``, ``new_age``, ``new_setting``,
        ``new_need``, ``areas``, ``changes``, ``code_fixes``, ``sources`` and a report of
        markers, overlaps and left-out rows. Missing counts are NaN, never 0.

    Raises
    ------
    InputValidationError
        A named file is not an EHC plans release table; a count cell is neither a number nor
        a marker; a breakdown topic, label or placement is unknown; a file would give no rows.

    Warns
    -----
    InputWarning
        When authority codes were corrected or code changes were found (listed in
        ``code_fixes`` and ``changes``).

    Examples
    --------
    >>> raw = pd.DataFrame({"time_period": ["2021", "2021"], "geographic_level": ["Local authority"] * 2,
    ...     "region_name": ["North East"] * 2, "old_la_code": ["390"] * 2, "new_la_code": ["E08000037"] * 2,
    ...     "la_name": ["Gateshead"] * 2, "characteristic_age": ["Total", "Age 5 to 10"],
    ...     "Total_st": ["z", "z"], "Total_ehc": ["1200", "400"], "Total_all": ["x", "400"]})
    >>> t = read_ehcp(frames={"age.csv": raw})
    >>> t.age[["age_group", "count"]].values.tolist()
    [['total', 1200.0], ['5-10', 400.0]]

    The 2025 layout: totals are labelled 'All EHC plans', ages are single years, and ``x``
    stays missing:

    >>> geo = dict(time_period="202425", geographic_level="Local authority", region_name="North East",
    ...            old_la_code="390", new_la_code="E08000037", la_name="Gateshead")
    >>> rows = [dict(geo, breakdown_topic="All EHC plans", breakdown="All EHC plans", ehcplans="40")]
    >>> rows += [dict(geo, breakdown_topic="Child or young persons age", breakdown=b, ehcplans=n)
    ...          for b, n in [("under 3", "1"), ("age 3", "x"), ("age 4", "2"), ("age 5", "6")]]
    >>> t = read_ehcp(frames={"caseload.csv": pd.DataFrame(rows)})
    >>> t.single_age[["age", "count"]].values.tolist()
    [['0-2', 1.0], ['3', nan], ['4', 2.0], ['5', 6.0]]
    >>> t.age.set_index("age_group")["count"].to_dict()  # 0-4 is unknown; 5-10 lacks ages 6-10
    {'total': 40.0, '0-4': nan, '5-10': nan}
    """
    ctx = _Ctx()
    items, skipped = _collect(paths, frames, ctx)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in _TABLES}
    problems: list[Problem] = []
    sources = list(skipped)
    for name, raw, layout in items:
        raw = raw.copy()
        raw.columns = [str(c).strip() for c in raw.columns]
        raw["_row"] = np.arange(len(raw)) + 2  # spreadsheet row (header is row 1)
        try:
            out = _READERS[layout](raw, name, ctx)
        except InputValidationError as err:
            problems += err.problems
            continue
        years = pd.concat([f["year"] for f in out.values() if len(f)], ignore_index=True) \
            if any(len(f) for f in out.values()) else pd.Series([], dtype=float)
        if years.empty:
            problems.append(Problem(name, None, None, "no rows read from this file"))
            continue
        rank = int(years.max())
        for table, frame in out.items():
            parts[table].append(frame.assign(_rank=rank))
        sources.append(dict(file=name, layout=layout, first_year=int(years.min()), last_year=rank,
                            rows=int(sum(len(f) for f in out.values()))))
    ctx.report.errors[:0] = problems
    ctx.report.raise_if_errors()

    tables = {t: _prefer_latest(parts[t], t, ctx) for t in _TABLES}
    if all(tables[t].empty for t in _TABLES):
        raise InputValidationError([Problem(", ".join(n for n, _, _ in items) or "input", None, None,
                                            "no local-authority counts read")])
    areas = _areas_table(tables)
    for t in _TABLES:
        tab = tables[t].drop(columns=["la_name", "old_la_code", "region"])
        n_missing = int(tab["count"].isna().sum())
        if n_missing:
            ctx.report.count(f"{t} counts missing (suppressed or not available)", n_missing)
        dims = _DIMS[t]
        tab = tab.astype({"year": int})[["year", "area", *dims, "count"]]
        tables[t] = tab.sort_values(["area", "year"], kind="stable").reset_index(drop=True)
    _compare_totals(tables["age"], tables["setting"], ctx.report)

    changes = find_code_changes(areas)
    if len(changes):
        ctx.report.count("authority code changes", len(changes))
    fixes = _fixes_table(ctx.fixes)
    _warn_codes(fixes, changes)
    if harmonise:
        for t in _TABLES:
            if not tables[t].empty:
                tables[t] = harmonise_areas(tables[t], areas, changes)
    src = pd.DataFrame(sources, columns=["file", "layout", "first_year", "last_year", "rows"]).astype(
        {"first_year": "Int64", "last_year": "Int64"})
    return EHCPTables(age=tables["age"], setting=tables["setting"], areas=areas, report=ctx.report,
                      single_age=tables["single_age"], need=tables["need"], new_age=tables["new_age"],
                      new_setting=tables["new_setting"], new_need=tables["new_need"], changes=changes,
                      code_fixes=fixes, sources=src)


def _prefer_latest(frames: list[pd.DataFrame], table: str, ctx: _Ctx) -> pd.DataFrame:
    """One table from every file's part: where releases overlap, the latest release's rows, a
    count it lacks (a marker) taken from the latest earlier release that has one (counted)."""
    if not frames:
        return _empty(table).assign(la_name="", old_la_code="", region="").iloc[0:0]
    f = pd.concat(frames, ignore_index=True)
    key, cell = ["year", "area"], ["year", "area", *_DIMS[table]]
    overlap = f[[*key, "_rank"]].drop_duplicates().duplicated(key)
    if overlap.any():
        ctx.report.count(f"{table}: authority-years in more than one release (the latest release kept)",
                         int(overlap.sum()))
    best = f.groupby(key)["_rank"].transform("max")
    latest, older = f[f["_rank"] == best], f[f["_rank"] < best]
    dup = latest.duplicated(cell)
    if dup.any():
        ctx.report.count(f"{table}: repeated rows left out", int(dup.sum()))
        latest = latest[~dup]
    if not older.empty:
        older = older[older["count"].notna()].sort_values("_rank", ascending=False, kind="stable")
        older = older.drop_duplicates(cell).set_index(cell)["count"]
        prev = pd.Series(older.reindex(pd.MultiIndex.from_frame(latest[cell])).to_numpy(), index=latest.index)
        fill = latest["count"].isna() & prev.notna()
        if fill.any():
            ctx.report.count(f"{table}: counts missing in the latest release taken from an earlier release",
                             int(fill.sum()))
            latest = latest.assign(count=latest["count"].where(~fill, prev))
        if _DIMS[table][-1] in {"age_group", "setting"}:
            tot = latest[_DIMS[table][-1]].eq("total") & (prev - latest["count"]).abs().gt(0.5)
            if tot.any():
                ctx.report.count(f"{table}: authority-years whose total was revised between releases", int(tot.sum()))
    return latest.drop(columns="_rank")


def _areas_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each code's name, old code, region and first/last January census (codes seen only in
    new-plans tables get their calendar years)."""
    cols = ["year", *(_GEO_OUT[1:])]
    census = pd.concat([tables[t][cols] for t in _CENSUS_TABLES if not tables[t].empty] or
                       [pd.DataFrame(columns=cols)], ignore_index=True)
    new = pd.concat([tables[t][cols] for t in ("new_age", "new_setting", "new_need") if not tables[t].empty] or
                    [pd.DataFrame(columns=cols)], ignore_index=True)
    geo = pd.concat([census, new[~new["area"].isin(census["area"])]], ignore_index=True).dropna(subset=["year"])
    geo = geo.sort_values("year", kind="stable")
    agg = geo.groupby("area", sort=True).agg(
        la_name=("la_name", "last"), old_la_code=("old_la_code", "last"), region=("region", "last"),
        first_year=("year", "min"), last_year=("year", "max"))
    return agg.reset_index().astype({"first_year": int, "last_year": int})


def _fixes_table(fixes: list[dict]) -> pd.DataFrame:
    cols = ["file", "published_code", "code", "la_name", "years", "rows", "reason"]
    return pd.DataFrame(fixes, columns=cols)


def _warn_codes(fixes: pd.DataFrame, changes: pd.DataFrame) -> None:
    """One warning naming the codes corrected and the code changes found."""
    lines = [f"{r.published_code} ({r.la_name}) in {r.years} of {r.file} read as {r.code}"
             for r in fixes.itertuples()]
    lines += [f"{r.kind} {r.year}: {r.old_codes} ({r.old_names}) -> {r.new_codes} ({r.new_names})"
              for r in changes.itertuples()]
    if lines:
        shown = "; ".join(lines[:8]) + (f"; and {len(lines) - 8} more" if len(lines) > 8 else "")
        warnings.warn(f"EHC plans release: authority codes: {shown}. See .code_fixes and .changes; "
                      "read_ehcp(..., harmonise=True) gives series on stable areas.", InputWarning, stacklevel=3)


def _compare_totals(age: pd.DataFrame, setting: pd.DataFrame, report: ValidationReport) -> None:
    """Count authority-years where the age file and the setting file disagree on the total."""
    if age.empty or setting.empty:
        return
    a = age[age["age_group"] == "total"].set_index(["year", "area"])["count"]
    s = setting[setting["setting"] == "total"].set_index(["year", "area"])["count"]
    both = pd.concat([a.rename("age"), s.rename("setting")], axis=1, join="inner").dropna()
    differ = (both["age"] - both["setting"]).abs() > 0.5
    if differ.any():
        report.count("authority-years whose age-file total differs from the setting-file total", int(differ.sum()))
