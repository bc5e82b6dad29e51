"""Read the DfE "Education, health and care plans" release into tidy aggregate tables.

Two layouts are recognised from the header row:

* the 2010-2022 release files (``sen2_age_caseload.csv`` with ``characteristic_age`` and
  ``sen2_estab_caseload.csv`` with ``establishment_group``/``establishment_type``), counts in
  ``Total_st`` (statements), ``Total_ehc`` (EHC plans) and ``Total_all`` (both);
* the publisher's later layout (2023 onwards), one wide row per authority, year and
  ``breakdown``, with a total ``ehcplans`` and one column per placement such as
  ``special_total`` or ``mainstream_la_maintained_resourced_provision``.

Both become two tidy tables of local-authority rows (national and regional rows are left
out and counted): ``age`` (year, area, age_group, count) and ``setting`` (year, area,
setting, count), where ``area`` is the authority's ``new_la_code``. An ``areas`` table
holds each code's name, old (3-digit) code, region and first/last year.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, Problem, ValidationReport
from ..io.markers import parse_counts

AGE_GROUPS: tuple[str, ...] = ("0-4", "5-10", "11-15", "16-19", "20-25")
"""Age groups of the release (age at 31 August), youngest first; ``total`` is all ages."""

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


def _age_group(label: str) -> str | None:
    """Map a publisher's age label to an age group ('Age 5 to 10' -> '5-10')."""
    text = str(label).strip().lower()
    if text in {"total", "all ages", "all"}:
        return "total"
    if "under" in text and "5" in text:
        return "0-4"
    nums = re.findall(r"\d+", text)
    if len(nums) >= 2:
        key = f"{int(nums[0])}-{int(nums[1])}"
        if key in AGE_GROUPS:
            return key
        if key in {"0-4", "0-5"}:
            return "0-4"
    return None


def _census_year(values: pd.Series) -> pd.Series:
    """'2022' -> 2022; an academic-year code '202425' -> 2025 (the January census year)."""
    text = values.astype(str).str.strip()
    six = text.str.fullmatch(r"\d{6}")
    out = text.where(~six, "20" + text.str[-2:])
    return pd.to_numeric(out, errors="coerce").astype("Int64")


def _counts(raw: pd.DataFrame, col: str, file: str, report: ValidationReport) -> pd.Series:
    """Parse one count column, counting each marker (z, x, c ...) in the report."""
    vals, suppressed, invalid = parse_counts(raw[col], file=file, column=col)
    for p in suppressed:
        report.count(f"{col}={str(p.value).strip().lower()}")
    for p in invalid:
        report.error(p)
    return vals


def _plans_all(raw: pd.DataFrame, file: str, report: ValidationReport) -> pd.Series:
    """Statements + EHC plans as one series: Total_all, or Total_st + Total_ehc where it is a marker."""
    total = _counts(raw, "Total_all", file, report)
    if "Total_st" in raw and "Total_ehc" in raw:
        st = _counts(raw, "Total_st", file, report)
        ehc = _counts(raw, "Total_ehc", file, report)
        # 'z' (not applicable, e.g. statements after 2018) is a true zero for the sum
        st_z = raw["Total_st"].astype(str).str.strip().str.lower().eq("z")
        ehc_z = raw["Total_ehc"].astype(str).str.strip().str.lower().eq("z")
        st = st.where(~st_z, 0.0)
        ehc = ehc.where(~ehc_z, 0.0)
        fill = total.isna() & ~(st_z & ehc_z)
        summed = st + ehc
        n_fill = int((fill & summed.notna()).sum())
        if n_fill:
            report.count("Total_all from Total_st + Total_ehc", n_fill)
        total = total.where(~fill, summed)
    return total


def _la_rows(raw: pd.DataFrame, file: str, report: ValidationReport) -> pd.DataFrame:
    level = raw["geographic_level"].astype(str).str.strip()
    la = level.eq("Local authority")
    report.count(f"{file}: national/regional rows left out", int((~la).sum()))
    return raw.loc[la]


def _geo(raw: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=raw.index)
    out["year"] = _census_year(raw["time_period"])
    out["area"] = raw["new_la_code"].astype(str).str.strip()
    out["la_name"] = raw["la_name"].astype(str).str.strip()
    out["old_la_code"] = raw["old_la_code"].astype(str).str.strip()
    out["region"] = raw["region_name"].astype(str).str.strip() if "region_name" in raw else ""
    return out


def _check_columns(raw: pd.DataFrame, needed: list[str], file: str) -> None:
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise InputValidationError(
            [Problem(file, 1, c, "column missing from the header; is this an EHC plans release file?") for c in missing]
        )


# ------------------------------------------------------------------ 2010-2022 layout
def _read_age_release(raw: pd.DataFrame, file: str, report: ValidationReport) -> pd.DataFrame:
    _check_columns(raw, _GEO_COLS + ["characteristic_age", "Total_all"], file)
    raw = _la_rows(raw, file, report)
    out = _geo(raw)
    out["age_group"] = raw["characteristic_age"].map(_age_group)
    unknown = out["age_group"].isna()
    for row in np.flatnonzero(unknown.to_numpy())[:20]:
        report.warn(Problem(file, int(raw.index[row]) + 2, "characteristic_age", "unknown age group, row left out",
                            raw["characteristic_age"].iloc[row]))
    out["count"] = _plans_all(raw, file, report)
    return out.loc[~unknown]


_MAIN_RP = re.compile(r"resourced provision|sen unit", re.I)
_SPECIAL_STATE = {"special - la maintained", "special - academy", "special - academy/free",
                  "special - free school", "special - non-maintained"}


def _estab_setting(group: str, etype: str) -> str | None:
    """Setting type of one (group, type) row of the 2010-2022 file; None = not a detail row used."""
    g, t = group.strip().lower(), etype.strip().lower()
    if g == "total" and t == "total":
        return "total"
    if g == "mainstream school":
        if t == "total":
            return "_mainstream_total"
        return "resourced_provision_unit" if _MAIN_RP.search(t) else None
    if g == "special school":
        if t in _SPECIAL_STATE:
            return "special_school"
        if t == "special - independent":
            return "independent"
        return None
    if t == "total" and g.startswith("alternative provision"):
        return "alternative_provision"
    if t == "total" and g == "further education":
        return "further_education"
    return None


def _read_estab_release(raw: pd.DataFrame, file: str, report: ValidationReport) -> pd.DataFrame:
    _check_columns(raw, _GEO_COLS + ["establishment_group", "establishment_type", "Total_all"], file)
    raw = _la_rows(raw, file, report)
    geo = _geo(raw)
    geo["setting"] = [_estab_setting(g, t) for g, t in zip(raw["establishment_group"], raw["establishment_type"])]
    geo["count"] = _plans_all(raw, file, report)
    used = geo.loc[geo["setting"].notna()]
    # sum detail rows per authority-year and setting (a missing detail makes the sum missing)
    summed = used.groupby(["year", "area", "setting"], sort=False)["count"].agg(
        lambda s: s.sum() if s.notna().all() else float("nan"))
    wide = summed.unstack("setting")
    info = geo.drop_duplicates(["year", "area"]).set_index(["year", "area"])[["la_name", "old_la_code", "region"]]
    wide = wide.join(info, how="left").set_index(["la_name", "old_la_code", "region"], append=True)
    for c in ["_mainstream_total", "resourced_provision_unit", "special_school", "independent",
              "alternative_provision", "further_education"]:
        if c not in wide:
            wide[c] = np.nan
    wide["mainstream"] = wide["_mainstream_total"] - wide["resourced_provision_unit"].fillna(0)
    return _wide_settings_to_long(wide.drop(columns="_mainstream_total").reset_index(), file, report)


def _wide_settings_to_long(wide: pd.DataFrame, file: str, report: ValidationReport) -> pd.DataFrame:
    named = [s for s in SETTINGS if s != "other"]
    wide = wide.copy()
    wide["other"] = wide["total"] - wide[named].fillna(0).sum(axis=1)
    neg = wide["other"] < -0.5
    if neg.any():
        report.count(f"{file}: setting types summing to more than the total", int(neg.sum()))
        for _, r in wide.loc[neg].head(10).iterrows():
            report.warn(Problem(file, None, "other", f"setting types add up to more than the total in {r['year']} "
                                f"for {r['area']}; 'other' set to 0", float(r["other"])))
        wide.loc[neg, "other"] = 0.0
    keys = ["year", "area", "la_name", "old_la_code", "region"]
    long = wide.melt(id_vars=keys, value_vars=["total", *SETTINGS], var_name="setting", value_name="count")
    return long


# ------------------------------------------------------------------ later layout
_LATER_SETTINGS = {
    "resourced_provision_unit": r"^mainstream_.*(resourced_provision|senunit|sen_unit)$",
    "special_school": r"^special_(la_maintained|academy_free|academy|free_school|non_maintained)$",
    "independent": r"^special_independent$",
    "alternative_provision": r"^ap_pru_total$",
    "further_education": r"^fe_total$",
}


def _read_later_layout(raw: pd.DataFrame, file: str, report: ValidationReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    total_col = "ehcplans" if "ehcplans" in raw.columns else "ehc_plans"
    _check_columns(raw, _GEO_COLS + ["breakdown", total_col], file)
    raw = _la_rows(raw, file, report)
    geo = _geo(raw)
    topic = raw["breakdown_topic"].astype(str).str.strip().str.lower() if "breakdown_topic" in raw else ""
    geo["age_group"] = raw["breakdown"].map(_age_group)
    is_total = geo["age_group"].eq("total") & (pd.Series(topic, index=raw.index).astype(str).str.contains("total")
                                               if "breakdown_topic" in raw else True)
    is_age = geo["age_group"].isin(AGE_GROUPS) & (pd.Series(topic, index=raw.index).astype(str).str.contains("age")
                                                  if "breakdown_topic" in raw else True)
    geo["count"] = _counts(raw, total_col, file, report)
    age = geo.loc[is_total | is_age, ["year", "area", "la_name", "old_la_code", "region", "age_group", "count"]]
    age = age.drop_duplicates(["year", "area", "age_group"])

    rows = raw.loc[is_total]
    wide = geo.loc[is_total, ["year", "area", "la_name", "old_la_code", "region"]].copy()
    wide["total"] = geo.loc[is_total, "count"]
    for setting, pattern in _LATER_SETTINGS.items():
        cols = [c for c in raw.columns if re.match(pattern, c)]
        if cols:
            wide[setting] = sum(_counts(rows, c, file, report).fillna(0) for c in cols)
        else:
            wide[setting] = np.nan
            report.warn(Problem(file, 1, None, f"no column for setting type {setting!r}; left as missing"))
    if "mainstream_total" in raw:
        wide["mainstream"] = _counts(rows, "mainstream_total", file, report) - wide["resourced_provision_unit"].fillna(0)
    else:
        wide["mainstream"] = np.nan
    wide = wide.drop_duplicates(["year", "area"])
    return age, _wide_settings_to_long(wide, file, report)


# ------------------------------------------------------------------ public API
def _read_raw(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def detect_layout(columns) -> str:
    """Which release layout a header belongs to: ``'age'``, ``'estab'`` or ``'later'``.

    Examples
    --------
    >>> detect_layout(["time_period", "characteristic_age", "Total_all"])
    'age'
    >>> detect_layout(["time_period", "breakdown", "ehcplans", "special_total"])
    'later'
    """
    cols = set(columns)
    if "characteristic_age" in cols:
        return "age"
    if "establishment_type" in cols:
        return "estab"
    if "breakdown" in cols and ({"ehcplans", "ehc_plans"} & cols):
        return "later"
    raise InputValidationError([Problem("header", 1, None,
        "not an EHC plans release file: expected a 'characteristic_age', 'establishment_type' "
        "or 'breakdown' + 'ehcplans' column", sorted(cols)[:12])])


def read_ehcp(*paths: str | Path, frames: dict[str, pd.DataFrame] | None = None) -> EHCPTables:
    """Read EHC plans release files (either layout) into tidy tables.

    Parameters
    ----------
    *paths : path
        CSV or Excel files; each file's layout is detected from its header.
    frames : dict of str to DataFrame, optional
        Already-loaded raw tables (all columns as text) keyed by a name used in messages.

    Returns
    -------
    EHCPTables
        ``age``, ``setting`` and ``areas`` tables, with a report of markers and left-out rows.

    Raises
    ------
    InputValidationError
        A file is not an EHC plans release, or a count cell is neither a number nor a marker.

    Examples
    --------
    >>> raw = pd.DataFrame({"time_period": ["2021", "2021"], "geographic_level": ["Local authority"] * 2,
    ...     "region_name": ["North East"] * 2, "old_la_code": ["390"] * 2, "new_la_code": ["E08000037"] * 2,
    ...     "la_name": ["Gateshead"] * 2, "characteristic_age": ["Total", "Age 5 to 10"],
    ...     "Total_st": ["z", "z"], "Total_ehc": ["1200", "400"], "Total_all": ["x", "400"]})
    >>> t = read_ehcp(frames={"age.csv": raw})
    >>> t.age[["age_group", "count"]].values.tolist()
    [['total', 1200.0], ['5-10', 400.0]]
    """
    report = ValidationReport()
    ages, settings = [], []
    items = [(str(p), _read_raw(p)) for p in paths] + list((frames or {}).items())
    for name, raw in items:
        file = Path(name).name
        try:
            layout = detect_layout(raw.columns)
        except InputValidationError as err:
            raise InputValidationError([Problem(file, 1, None, p.message, p.value) for p in err.problems]) from None
        if layout == "age":
            ages.append(_read_age_release(raw, file, report))
        elif layout == "estab":
            settings.append(_read_estab_release(raw, file, report))
        else:
            a, s = _read_later_layout(raw, file, report)
            ages.append(a)
            settings.append(s)
    report.raise_if_errors()
    geo_cols = ["year", "area", "la_name", "old_la_code", "region"]
    age = pd.concat(ages, ignore_index=True) if ages else pd.DataFrame(columns=[*geo_cols, "age_group", "count"])
    setting = pd.concat(settings, ignore_index=True) if settings else pd.DataFrame(columns=[*geo_cols, "setting", "count"])
    areas = _areas_table(pd.concat([age[geo_cols], setting[geo_cols]], ignore_index=True))
    age = age.drop(columns=["la_name", "old_la_code", "region"])
    setting = setting.drop(columns=["la_name", "old_la_code", "region"])
    for tab, col in ((age, "age_group"), (setting, "setting")):
        n_missing = int(tab["count"].isna().sum())
        if n_missing:
            report.count(f"{col} counts missing (suppressed or not available)", n_missing)
    age = age.astype({"year": int}).sort_values(["area", "year"], kind="stable").reset_index(drop=True)
    setting = setting.astype({"year": int}).sort_values(["area", "year"], kind="stable").reset_index(drop=True)
    _compare_totals(age, setting, report)
    return EHCPTables(age=age, setting=setting, areas=areas, report=report)


def _areas_table(geo: pd.DataFrame) -> pd.DataFrame:
    geo = geo.dropna(subset=["year"])
    agg = geo.groupby("area", sort=True).agg(
        la_name=("la_name", "last"), old_la_code=("old_la_code", "last"), region=("region", "last"),
        first_year=("year", "min"), last_year=("year", "max"))
    return agg.reset_index().astype({"first_year": int, "last_year": int})


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
