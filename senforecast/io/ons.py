"""Read population projections and turn single years of age into national curriculum years.

* :func:`read_snpp`: the ONS subnational population projections for England (2018-based and
  2022-based CSV: ``AREA_CODE, AREA_NAME, COMPONENT, SEX, AGE_GROUP`` and one column per
  mid-year, ages ``0``..``89`` and ``90 and over`` plus ``All ages``), as the CSV files, the
  zip as downloaded, or the males and females files together.
* :func:`read_wales_projection`: the Welsh Government's local authority projections as
  StatsWales exports them (title rows, nested ``Area / Gender / Age`` labels, one column per
  year), or as a tidy download (``Data values, Year, Area, Age, Sex``).
* :func:`ages_to_ncy`: single years of age at mid-year to the canonical population table
  ``year, area, ncy, count``; :func:`extend_population` carries a projection past its end.

Ages to NCY. The projections count people by age at 30 June of each year. The library's
convention is ``ncy = age - 5`` with age at 31 August at the *end* of the school year, so
``align="end"`` (default) reads mid-year ``Y`` as the end of school year ``(Y-1)/Y`` and gives
its January census year ``Y``, with ``ncy = age - 5``. ``align="start"`` reads mid-year ``Y``
as the start of school year ``Y/(Y+1)``: census year ``Y + 1`` with ``ncy = age - 4``. Both
follow the same cohort; they differ by which projection year stands for a census (half a year
later or earlier than the January census). Children born in July or August are a year older
on 31 August than on 30 June; ``summer_born_share`` (about 0.17) moves that share of each
age up one NCY; the default 0 keeps every child of an age together, so the total of the
children mapped is the total of the ages mapped.
"""
from __future__ import annotations

import difflib
import re
import tempfile
import warnings  # noqa: F401 - the doctests use it
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping, Sequence, Union

import numpy as np
import pandas as pd

from ..core.errors import InputValidationError, Problem, ValidationReport
from ..core.ncy import NCY_MAX, NCY_MIN
from .markers import parse_counts
from ._source import RawTable, Source, _warn, read_raw
from .columns import normalise
from .statswales import MARKERS, WELSH_AUTHORITIES, welsh_area

POST16_MAX_NCY = 20
"""Highest NCY of the 0-25 range (age 25)."""

Areas = Union[None, str, Sequence[str], Mapping[str, Sequence[str]]]

_SEX = {"persons": "persons", "person": "persons", "all persons": "persons", "all people": "persons",
        "people": "persons", "all": "persons", "total": "persons", "both sexes": "persons",
        "male": "male", "males": "male", "m": "male", "men": "male",
        "female": "female", "females": "female", "f": "female", "women": "female"}
_AGE_TOTAL = {"all ages", "all", "total", "all age groups", "total all ages"}
_AGE_SINGLE = re.compile(r"^(?:age[sd]?\s*)?(\d{1,3})(?:\s*years?)?$")
_AGE_OPEN = re.compile(r"^(?:age[sd]?\s*)?(\d{1,3})\s*(?:\+|and over|or over|& over|plus|and older|years and over)$")
_YEAR_HEADER = re.compile(r"^(?:mid[\s_-]?)?(\d{4})$", re.I)


def _label_key(v: object) -> str:
    return re.sub(r"\s+", " ", str(v).strip().casefold())


def parse_age(label: object) -> tuple[int | None, bool, bool]:
    """Age of a projection's age label: ``(age, open_ended, is_total)``.

    Examples
    --------
    >>> parse_age("7"), parse_age("Age 12"), parse_age("90 and over"), parse_age("Age 90+"), parse_age("All ages")
    ((7, False, False), (12, False, False), (90, True, False), (90, True, False), (None, False, True))
    >>> parse_age("Under 1")
    (None, False, False)
    """
    k = _label_key(label)
    if k in _AGE_TOTAL:
        return None, False, True
    m = _AGE_SINGLE.match(k)
    if m:
        return int(m.group(1)), False, False
    m = _AGE_OPEN.match(k)
    if m:
        return int(m.group(1)), True, False
    return None, False, False


# --- ages to NCY -----------------------------------------------------------------------------------


def ages_to_ncy(
    ages: pd.DataFrame,
    *,
    align: str = "end",
    summer_born_share: float = 0.0,
    ncy: tuple[int, int] | None = None,
    file: str = "population",
) -> pd.DataFrame:
    """Single years of age at mid-year to ``year, area, ncy, count``.

    Parameters
    ----------
    ages : DataFrame
        ``year`` (mid-year), ``area``, ``age`` (int), ``count``; an optional bool column
        ``open`` marks an open top age (``90 and over``), which is never mapped.
    align : {"end", "start"}
        ``"end"``: mid-year ``Y`` is the end of school year ``(Y-1)/Y``, census year ``Y``,
        ``ncy = age - 5``. ``"start"``: the start of school year ``Y/(Y+1)``, census year
        ``Y + 1``, ``ncy = age - 4``.
    summer_born_share : float
        Share of each age born in July or August (one NCY higher than the rest); 0 keeps an
        age together.
    ncy : (int, int), optional
        NCY range to return (default: every NCY the ages give, up to 20, the 0-25 range).
    file : str
        Name for messages.

    Returns
    -------
    DataFrame
        ``year, area, ncy, count``.

    Examples
    --------
    >>> ages = pd.DataFrame({"year": 2030, "area": "A", "age": [4, 5, 6], "count": [100.0, 110.0, 120.0]})
    >>> ages_to_ncy(ages).values.tolist()
    [[2030, 'A', -1, 100.0], [2030, 'A', 0, 110.0], [2030, 'A', 1, 120.0]]
    >>> ages_to_ncy(ages, align="start", summer_born_share=0.2).values.tolist()  # 0.8 * 110 + 0.2 * 100 ...
    [[2031, 'A', 1, 108.0], [2031, 'A', 2, 118.0]]
    """
    if align not in ("end", "start"):
        raise ValueError("align must be 'end' (census year = mid-year, ncy = age - 5) or 'start' "
                         "(census year = mid-year + 1, ncy = age - 4)")
    if not 0.0 <= summer_born_share < 1.0:
        raise ValueError("summer_born_share must be in [0, 1) (about 0.17 for July-August births)")
    offset, shift = (5, 0) if align == "end" else (4, 1)
    single = ages[~ages["open"].astype(bool)] if "open" in ages.columns else ages
    groups = single.groupby(["year", "area", "age"], sort=True)["count"]
    # a missing count stays missing (pivot_table's sum would make it 0)
    summed = groups.sum(min_count=1).where(groups.count() == groups.size())
    table = summed.unstack("age")
    have = sorted(int(a) for a in table.columns)
    s = summer_born_share

    def available(n: int) -> bool:
        return (n + offset) in have and (s == 0 or (n + offset - 1) in have)

    possible = [a - offset for a in have if available(a - offset)]
    if ncy is None:
        lo = max(NCY_MIN, min(possible)) if possible else 0
        hi = min(POST16_MAX_NCY, max(possible)) if possible else -1
    else:
        lo, hi = int(ncy[0]), int(ncy[1])
        if lo > hi or lo < NCY_MIN or hi > NCY_MAX:
            raise ValueError(f"ncy must be a range within {NCY_MIN}..{NCY_MAX}, low first (got {ncy})")
    wanted = list(range(lo, hi + 1))
    missing = [n for n in wanted if not available(n)]
    if missing:
        need = sorted({n + offset for n in missing} | ({n + offset - 1 for n in missing} if s else set()))
        raise InputValidationError([Problem(file, None, "age", f"NCY {missing[0]}..{missing[-1]} need single years of "
                                            f"age {need[0]}..{need[-1]} (align={align!r}); the table has ages "
                                            f"{have[0] if have else '-'}..{have[-1] if have else '-'}")])
    parts = []
    for n in wanted:
        vals = table[n + offset].to_numpy(float) * (1.0 - s)
        if s:
            vals = vals + s * table[n + offset - 1].to_numpy(float)
        parts.append(pd.DataFrame({"year": table.index.get_level_values("year").astype("int64") + shift,
                                   "area": table.index.get_level_values("area"), "ncy": n, "count": vals}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["year", "area", "ncy", "count"])
    out["ncy"] = out["ncy"].astype("int64")
    return out.sort_values(["year", "area", "ncy"]).reset_index(drop=True)


# --- horizon ---------------------------------------------------------------------------------------


def extend_population(
    population: pd.DataFrame,
    *,
    to: int,
    method: str = "hold",
    trend_years: int = 5,
    file: str = "population",
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Carry a population projection past its last year, with a warning.

    Parameters
    ----------
    population : DataFrame
        ``year, area, ncy, count``.
    to : int
        Last year wanted.
    method : {"hold", "trend"}
        ``"hold"``: every area and NCY keeps its last year's count. ``"trend"``: a straight
        line fitted by least squares to each area and NCY's last ``trend_years`` years,
        never below 0.
    trend_years : int
        Years the trend is fitted to.
    file : str
        Name for the warning.
    report : ValidationReport, optional
        Receives the warning and ``population.years_extended``.

    Returns
    -------
    DataFrame
        The table with the added years; ``attrs["extended_years"]`` lists them.

    Examples
    --------
    >>> pop = pd.DataFrame({"year": [2030, 2031, 2032], "area": "A", "ncy": 3, "count": [100.0, 104.0, 108.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     held = extend_population(pop, to=2034)
    ...     trended = extend_population(pop, to=2034, method="trend", trend_years=3)
    >>> held["count"].tolist()[-2:], trended["count"].tolist()[-2:], trended.attrs["extended_years"]
    ([108.0, 108.0], [112.0, 116.0], [2033, 2034])
    """
    if method not in ("hold", "trend"):
        raise ValueError("method must be 'hold' (keep the last year) or 'trend' (straight line through the "
                         "last years)")
    last = int(population["year"].max())
    attrs = dict(population.attrs)
    if to <= last:
        return population
    if method == "trend" and trend_years < 2:
        raise ValueError("trend_years must be at least 2")
    new_years = list(range(last + 1, to + 1))
    parts = [population]
    recent = population[population["year"] > last - (trend_years if method == "trend" else 1)]
    for (area, n), g in recent.groupby(["area", "ncy"], sort=True):
        if method == "hold":
            vals = np.repeat(float(g.loc[g["year"] == last, "count"].iloc[0]) if (g["year"] == last).any()
                             else np.nan, len(new_years))
        else:
            x, y = g["year"].to_numpy(float), g["count"].to_numpy(float)
            ok = np.isfinite(y)
            if ok.sum() >= 2:  # least squares line, centred so that whole numbers stay whole
                xm, ym = x[ok].mean(), y[ok].mean()
                slope = ((x[ok] - xm) * (y[ok] - ym)).sum() / ((x[ok] - xm) ** 2).sum()
                vals = np.maximum(0.0, ym + slope * (np.asarray(new_years, float) - xm))
            else:
                vals = np.full(len(new_years), np.nan)
        parts.append(pd.DataFrame({"year": new_years, "area": area, "ncy": n, "count": vals}))
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype("int64")
    out["ncy"] = out["ncy"].astype("int64")
    out = out.sort_values(["year", "area", "ncy"]).reset_index(drop=True)
    what = ("each area and NCY keeps its last year's count" if method == "hold"
            else f"a straight line through each area and NCY's last {trend_years} years")
    _warn(report, Problem(file, None, None, f"the projection ends in {last}; years {new_years[0]}-{new_years[-1]} "
                          f"are an extension ({method}: {what}), not published figures"),
          "population.years_extended", len(new_years))
    attrs["extended_years"] = list(attrs.get("extended_years", [])) + new_years
    attrs["extension_method"] = method
    out.attrs = attrs
    return out


def _horizon(pop: pd.DataFrame, file: str, horizon: int | None, extend_to: int | None, method: str,
             trend_years: int, report: ValidationReport | None) -> pd.DataFrame:
    first, last = int(pop["year"].min()), int(pop["year"].max())
    if horizon is not None and horizon > last and (extend_to is None or extend_to < horizon):
        raise InputValidationError([Problem(file, None, None, f"the projection gives census years {first}-{last} but "
                                            f"the forecast needs {horizon}; use a projection that runs to {horizon}, "
                                            f"or pass extend_to={horizon} with method='hold' (keep {last}) or "
                                            "'trend' to extend it explicitly")])
    if extend_to is not None and extend_to > last:
        pop = extend_population(pop, to=extend_to, method=method, trend_years=trend_years, file=file, report=report)
    return pop


# --- shared reading --------------------------------------------------------------------------------


def _sexes(long: pd.DataFrame, file: str, report: ValidationReport | None) -> pd.DataFrame:
    """Persons rows where given (checked against males + females), else males + females."""
    keys = ["area", "age", "open", "year"]
    labels = _map_unique(long["sex"], lambda v: _SEX.get(_label_key(v)) if v is not None else None)
    bad = labels.isna()
    if bad.any():
        found = list(dict.fromkeys(long["sex"].map(str)))
        raise InputValidationError([Problem(file, int(long.loc[bad, "_row"].iloc[0]), "sex",
                                            f"unknown sex label(s) {', '.join(map(repr, dict.fromkeys(long.loc[bad, 'sex'].map(str))))}; "
                                            f"the labels found are {', '.join(map(repr, found))}; expected persons, "
                                            "males, females")])
    long = long.assign(sex=labels)
    present = set(long["sex"])
    if "persons" in present:
        persons = long[long["sex"] == "persons"]
        if {"male", "female"} <= present:
            both = long[long["sex"] != "persons"].groupby(keys, sort=False)["count"].sum(min_count=2)
            p = persons.set_index(keys)["count"]
            gap = (p - both.reindex(p.index)).abs()
            tol = np.maximum(1.0, 1e-3 * p.abs())
            off = gap > tol
            if off.any():
                first = gap[off].index[0]
                _warn(report, Problem(file, None, "sex", f"{int(off.sum())} persons count(s) differ from males + "
                                      f"females by more than rounding (e.g. {dict(zip(keys, first))}: "
                                      f"{float(p[first]):g} vs {float(both[first]):g}); used the persons counts"),
                      "population.sex_mismatch", int(off.sum()))
        return persons.drop(columns="sex")
    if not {"male", "female"} <= present:
        raise InputValidationError([Problem(file, None, "sex", f"only {', '.join(sorted(present))} found; need persons, "
                                            "or both males and females (pass the males and females files together)")])
    summed = long.groupby(keys, sort=False).agg(count=("count", lambda s: s.sum(min_count=1) if s.notna().all()
                                                        else np.nan), _row=("_row", "min")).reset_index()
    n_sex = long.groupby(keys, sort=False)["sex"].nunique()
    if (n_sex < 2).any():
        first = n_sex[n_sex < 2].index[0]
        raise InputValidationError([Problem(file, None, "sex", f"males or females missing for {dict(zip(keys, first))}; "
                                            "the two files must cover the same areas, ages and years")])
    return summed


def _ages(long: pd.DataFrame, file: str, report: ValidationReport | None) -> pd.DataFrame:
    codes, uniques = pd.factorize(long["age"].to_numpy(dtype=object), use_na_sentinel=True)
    parsed = [parse_age(u) for u in uniques] + [(None, False, False)]  # once per label; -1 (blank) last
    age = pd.Series(np.array([np.nan if a is None else a for a, _, _ in parsed], dtype=float)[codes],
                    index=long.index)
    is_open = pd.Series(np.array([o for _, o, _ in parsed], dtype=bool)[codes], index=long.index)
    is_total = pd.Series(np.array([t for _, _, t in parsed], dtype=bool)[codes], index=long.index)
    bad = age.isna() & ~is_total
    if bad.any():
        unknown = list(dict.fromkeys(long.loc[bad, "age"].map(str)))
        found = list(dict.fromkeys(long["age"].map(str)))
        raise InputValidationError([Problem(file, int(long.loc[bad, "_row"].iloc[0]), "age",
                                            f"unknown age label(s) {', '.join(map(repr, unknown[:10]))}; the labels "
                                            f"found are {', '.join(map(repr, found[:12]))}{' ...' if len(found) > 12 else ''}; "
                                            "expected single years ('0', 'Age 7'), an open top age ('90 and over') "
                                            "and 'All ages'")])
    totals = long[is_total]
    single = long[~is_total].assign(age=age[~is_total].astype("int64"), open=is_open[~is_total])
    if not totals.empty:  # the published total of all ages should match the sum of the ages
        s = single.groupby(["area", "sex", "year"], sort=False)["count"].sum(min_count=1)
        t = totals.groupby(["area", "sex", "year"], sort=False)["count"].sum(min_count=1)
        gap = (t - s.reindex(t.index)).abs()
        off = gap > np.maximum(1.0, 1e-4 * t.abs()) * (1 + single["age"].nunique() * 0.5)
        if report is not None:
            report.count("population.age_totals_checked", int(gap.notna().sum()))
        if off.any():
            _warn(report, Problem(file, None, "age", f"{int(off.sum())} 'All ages' total(s) differ from the sum of the "
                                  "single ages; the file may be incomplete"), "population.age_total_mismatch",
                  int(off.sum()))
    return single


def _area_groups(codes: pd.Series, names: pd.Series, areas: Areas, area: str, file: str) -> dict[str, str]:
    """Area code -> output label for the requested areas (codes or names; a mapping groups them)."""
    if area not in ("code", "name"):
        raise ValueError("area must be 'code' or 'name'")
    pairs = dict(zip(codes, names))
    if areas is None:
        return {c: (c if area == "code" else n) for c, n in pairs.items()}
    if isinstance(areas, Mapping):
        groups = {str(k): ([v] if isinstance(v, str) else list(v)) for k, v in areas.items()}
    else:
        groups = {None: [areas] if isinstance(areas, str) else list(areas)}
    index = {}
    for c, n in pairs.items():
        index.setdefault(str(c).casefold(), c)
        index.setdefault(str(n).casefold(), c)
    out, unknown = {}, []
    for label, members in groups.items():
        for m in members:
            c = index.get(str(m).strip().casefold())
            if c is None:
                unknown.append(str(m))
            else:
                out[c] = label if label is not None else (c if area == "code" else pairs[c])
    if unknown:
        known = list(dict.fromkeys(list(pairs) + list(pairs.values())))
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, known, n=2, cutoff=0.6)
            hints.append(f"{u!r} (did you mean {', '.join(map(repr, close))}?)" if close else repr(u))
        raise InputValidationError([Problem(file, None, "area", f"area(s) not in the file: {', '.join(hints)}; "
                                            f"the file has {len(pairs)} areas, e.g. "
                                            f"{', '.join(map(repr, list(pairs.values())[:8]))}")])
    return out


def _finish(long: pd.DataFrame, file: str, *, align: str, summer_born_share: float, ncy, horizon, extend_to,
            method: str, trend_years: int, source: str, report: ValidationReport | None) -> pd.DataFrame:
    missing = long["count"].isna()
    if missing.any():
        _warn(report, Problem(file, int(long.loc[missing, "_row"].iloc[0]), "count", f"{int(missing.sum())} "
                              "population count(s) are missing (markers or blanks) and stay missing"),
              "population.missing", int(missing.sum()))
    long = _ages(long, file, report)
    long = _sexes(long, file, report)
    pop = ages_to_ncy(long, align=align, summer_born_share=summer_born_share, ncy=ncy, file=file)
    pop.attrs = {"source": source, "mid_years": [int(long["year"].min()), int(long["year"].max())],
                 "align": align, "summer_born_share": summer_born_share}
    attrs = pop.attrs
    pop = _horizon(pop, file, horizon, extend_to, method, trend_years, report)
    pop.attrs = {**attrs, **pop.attrs}
    if report is not None:
        report.count("population.rows_kept", len(pop))
    return pop


def _parse_values(cells: pd.Series, rows: np.ndarray, file: str, column: str) -> tuple[np.ndarray, list[Problem]]:
    """Counts of one column: plain numbers parsed at once, the rest (markers, commas) by parse_counts."""
    cells = cells.reset_index(drop=True)
    out = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float, copy=True)
    hard = (np.isnan(out) | ~np.isfinite(out)) & cells.notna().to_numpy()
    problems: list[Problem] = []
    if hard.any():
        counts, _sup, invalid = parse_counts(cells[hard].reset_index(drop=True), file=file, column=column,
                                             first_row=0, markers=MARKERS)
        out[hard] = counts.to_numpy(float)
        hard_rows = rows[hard]
        problems += [replace(p, row=int(hard_rows[p.row])) for p in invalid]
    neg = ~hard & (out < 0)
    problems += [Problem(file, int(r), column, "counts cannot be negative", v)
                 for r, v in zip(rows[neg], cells[neg])]
    return out, problems


def _map_unique(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)`` computed once per distinct value (a projection repeats few labels)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [fn(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


# --- ONS SNPP --------------------------------------------------------------------------------------

_SNPP_MEMBER = re.compile(r"population\s*(persons|males|females)\.csv$", re.I)


def _snpp_raw_tables(paths: Iterable, report: ValidationReport | None) -> Iterable[RawTable]:
    """Raw tables of the files; a downloaded zip gives its population CSVs (its persons file when it has one)."""
    for p in paths:
        if isinstance(p, pd.DataFrame):
            yield read_raw(p, table="snpp", report=report)
            continue
        path = Path(p)
        if not (path.suffix.lower() == ".zip" or (path.is_file() and path.suffix.lower() not in (".xlsx", ".xlsm")
                                                  and zipfile.is_zipfile(path))):
            yield read_raw(path, table="snpp", report=report)
            continue
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if _SNPP_MEMBER.search(Path(m).name)]
            if not members:
                raise InputValidationError([Problem(path.name, None, None, "no '... Population persons.csv' (or "
                                                    "males/females) file in this zip; it holds "
                                                    f"{', '.join(z.namelist()[:8])}")])
            persons = [m for m in members if "persons" in m.lower()]
            with tempfile.TemporaryDirectory(prefix="snpp_") as tmp:
                for m in (persons or members):
                    target = Path(tmp) / Path(m).name
                    target.write_bytes(z.read(m))
                    yield read_raw(target, table="snpp", report=report)


def read_snpp(
    *paths: Source,
    areas: Areas = None,
    area: str = "code",
    component: str = "Population",
    ncy: tuple[int, int] | None = None,
    align: str = "end",
    summer_born_share: float = 0.0,
    horizon: int | None = None,
    extend_to: int | None = None,
    method: str = "hold",
    trend_years: int = 5,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read ONS subnational population projections (2018- or 2022-based) as the population table.

    Parameters
    ----------
    *paths : str, Path or DataFrame
        ``2022 SNPP Population persons.csv``, or the males and females files together, or
        the zip as downloaded (its persons file is used when it has one).
    areas : str, list or dict, optional
        Areas to keep, by code or name (``"E10000020"``, ``["Norfolk"]``); a dict
        ``{"Norfolk": [district codes...]}`` adds districts up into one area. Default: all.
    area : {"code", "name"}
        Label areas by ``AREA_CODE`` or ``AREA_NAME`` (a dict's keys are used as given).
    component : str
        ``COMPONENT`` rows to read (the population files hold only ``Population``).
    ncy : (int, int), optional
        NCY range (default: ages 0-25, NCY up to 20).
    align : {"end", "start"}
        How mid-years become census years (see the module notes); default ``"end"``:
        census year = mid-year, ``ncy = age - 5``.
    summer_born_share : float
        Share of each age moved up one NCY for July-August birthdays (default 0).
    horizon : int, optional
        Last census year the forecast needs: a projection that stops earlier is an error,
        unless ``extend_to`` reaches it.
    extend_to : int, optional
        Extend the projection to this census year with ``method`` (with a warning).
    method : {"hold", "trend"}
        How to extend (see :func:`extend_population`).
    trend_years : int
        Years the trend is fitted to.
    report : ValidationReport, optional
        Receives warnings and counts.

    Returns
    -------
    DataFrame
        ``year, area, ncy, count`` (census year; count a float). ``attrs``: ``source``,
        ``mid_years``, ``align``, ``extended_years`` when extended.

    Examples
    --------
    >>> years = [str(y) for y in range(2022, 2048)]
    >>> snpp = pd.DataFrame([["E06000047", "County Durham", "Population", "persons", str(a)]
    ...                      + [100.0 + a] * len(years) for a in range(0, 27)],
    ...                     columns=["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"] + years)
    >>> pop = read_snpp(snpp, horizon=2035)
    >>> float(pop.groupby("year")["count"].sum().iloc[0]) == sum(100.0 + a for a in range(0, 26))
    True
    >>> int(pop["ncy"].min()), int(pop["ncy"].max()), int(pop["year"].max())
    (-5, 20, 2047)
    >>> try:
    ...     read_snpp(snpp, horizon=2050)
    ... except InputValidationError as err:
    ...     print(str(err.problems[0])[:83])
    snpp table: the projection gives census years 2022-2047 but the forecast needs 2050
    """
    if not paths:
        raise TypeError("read_snpp() needs at least one file (the persons CSV, the males and females CSVs, or the zip)")
    longs, files = [], []
    for raw in _snpp_raw_tables(paths, report):
        files.append(raw.file)
        longs.append(_snpp_long(raw, areas, area, component, report))
    long = pd.concat(longs, ignore_index=True)
    file = " + ".join(files)
    dup = long.duplicated(["area", "sex", "age", "year"], keep=False)
    if dup.any() and not isinstance(areas, Mapping):
        first = long[dup].iloc[0]
        raise InputValidationError([Problem(file, int(first["_row"]), None, "the same area, sex, age and year appear "
                                            f"twice ({first['area']}, {first['sex']}, age {first['age']}, "
                                            f"{first['year']}); pass each file once")])
    return _finish(long, file, align=align, summer_born_share=summer_born_share, ncy=ncy, horizon=horizon,
                   extend_to=extend_to, method=method, trend_years=trend_years, source=file, report=report)


def _snpp_long(raw: RawTable, areas: Areas, area: str, component: str,
               report: ValidationReport | None) -> pd.DataFrame:
    file = raw.file
    names = [normalise(h[0]) for h in raw.headers]
    required = ["area_code", "area_name", "sex", "age_group"]
    missing = [r for r in required if r not in names]
    year_cols = [i for i, h in enumerate(raw.headers) if _YEAR_HEADER.match(str(h[0]).strip())]
    if missing or not year_cols:
        raise InputValidationError([Problem(file, 1, None, "this is not an ONS SNPP file: expected columns AREA_CODE, "
                                            "AREA_NAME, COMPONENT, SEX, AGE_GROUP and one column per year; missing "
                                            f"{', '.join(m.upper() for m in missing) or 'the year columns'} (columns "
                                            f"are {', '.join(h[0] for h in raw.headers[:8])}...)")])
    cells = raw.cells
    rows = np.asarray(raw.rows)
    if report is not None:
        report.count("population.rows_read", len(cells))
    keep = np.ones(len(cells), dtype=bool)
    if "component" in names:
        comp = cells[names.index("component")].fillna("").map(_label_key)
        keep = (comp == component.casefold()).to_numpy()
        if not keep.any():
            found = list(dict.fromkeys(cells[names.index("component")].map(str)))
            raise InputValidationError([Problem(file, None, "COMPONENT", f"no {component!r} rows; the components "
                                                f"found are {', '.join(map(repr, found))}")])
        if (~keep).any():
            others = list(dict.fromkeys(cells.loc[~keep, names.index("component")].map(str)))
            _warn(report, Problem(file, None, "COMPONENT", f"read the {component!r} rows; left out {int((~keep).sum())} "
                                  f"row(s) of {', '.join(map(repr, others[:4]))}"), "population.other_components",
                  int((~keep).sum()))
    sub = cells[keep]
    sub_rows = rows[keep]
    codes = sub[names.index("area_code")].astype(str)
    groups = _area_groups(codes, sub[names.index("area_name")].astype(str), areas, area, file)
    # a national file has 300+ areas and 26 years: parse only the rows kept
    pick = codes.isin(set(groups)).to_numpy()
    chosen, chosen_rows = sub[pick], sub_rows[pick]
    labels = codes[pick].map(groups).to_numpy()
    sexes = chosen[names.index("sex")].to_numpy()
    ages = chosen[names.index("age_group")].to_numpy()
    parts, problems = [], []
    for i in year_cols:
        counts, bad = _parse_values(chosen[i], chosen_rows, file, raw.headers[i][0])
        problems += bad
        parts.append(pd.DataFrame({"area": labels, "sex": sexes, "age": ages,
                                   "year": int(_YEAR_HEADER.match(str(raw.headers[i][0]).strip()).group(1)),
                                   "count": counts, "_row": chosen_rows}))
    if problems:
        raise InputValidationError(problems)
    long = pd.concat(parts, ignore_index=True)
    if isinstance(areas, Mapping):  # districts added up into their group
        long = long.groupby(["area", "sex", "age", "year"], sort=False).agg(
            count=("count", lambda x: x.sum() if x.notna().all() else np.nan), _row=("_row", "min")).reset_index()
    return long


# --- Welsh Government LA projections (StatsWales) ---------------------------------------------------

_WALES_ROLES = {
    "area": {"area", "local_authority", "la", "authority", "local_authority_name", "area_name", "ardal"},
    "area_code": {"area_code", "la_code", "code", "ons_code"},
    "age": {"age", "age_group", "single_year_of_age", "oedran"},
    "sex": {"gender", "sex", "rhyw"},
    "variant": {"variant", "projection", "projection_variant", "amrywiolyn"},
    "measure": {"data_description", "measure"},
    "year": {"year", "mid_year", "blwyddyn"},
    "value": {"data_values", "data_value", "value", "values", "data", "population", "count"},
    "notes": {"note_codes", "notecodes", "notes", "shorthand"},
}


def read_wales_projection(
    path: Source,
    *,
    areas: Sequence[str] | str | None = None,
    area: str = "name",
    variant: str | None = None,
    sheet: str | int | None = None,
    ncy: tuple[int, int] | None = None,
    align: str = "end",
    summer_born_share: float = 0.0,
    horizon: int | None = None,
    extend_to: int | None = None,
    method: str = "hold",
    trend_years: int = 5,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read the Welsh Government's local authority population projections (StatsWales) as the population table.

    Parameters
    ----------
    path : str, Path or DataFrame
        The StatsWales export (title rows, ``Area``, ``Gender``, ``Age`` labels nested and
        one column per year) or a tidy download (``Data values, Year, Area, Age, Sex``).
    areas : str or list of str, optional
        Authorities to keep (English or Welsh names, or ``W06`` codes; ``"Wales"`` for the
        total). Default: the 22 authorities in the file; other rows (Wales, national parks,
        regions) are left out with a warning.
    area : {"name", "code"}
        Label authorities by English name or ONS code.
    variant : str, optional
        Projection variant when the file has several (default: the principal projection).
    sheet : str or int, optional
        Sheet of an Excel file.
    ncy, align, summer_born_share, horizon, extend_to, method, trend_years, report
        As :func:`read_snpp`.

    Returns
    -------
    DataFrame
        ``year, area, ncy, count``.

    Examples
    --------
    >>> raw = pd.DataFrame({"Area": ["Powys"] + [""] * 27, "Age": ["All Ages"] + [f"Age {a}" for a in range(27)],
    ...                     "2018": ["2,700"] + ["100"] * 27, "2019": ["2,727"] + ["101"] * 27})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     pop = read_wales_projection(raw)
    >>> pop.groupby("year")["count"].sum().tolist(), pop["ncy"].agg(["min", "max"]).tolist()
    ([2600.0, 2626.0], [-5, 20])
    """
    if area not in ("name", "code"):
        raise ValueError("area must be 'name' or 'code'")
    raw = read_raw(path, table="population", sheet=sheet, report=report, skip_title_rows=True)
    file = raw.file
    headers = [str(h[0]) for h in raw.headers]
    roles = [next((r for r, names in _WALES_ROLES.items() if normalise(h) in names), None) for h in headers]
    rows = np.asarray(raw.rows)
    if report is not None:
        report.count("population.rows_read", len(raw.cells))
    year_cols = [i for i, h in enumerate(headers) if _YEAR_HEADER.match(h.strip()) and roles[i] is None]
    label_cols = [i for i in range(len(headers)) if i not in year_cols and roles[i] not in ("value", "notes")]
    labels = {}
    for i in label_cols:
        col = raw.cells[i].reset_index(drop=True)
        labels[roles[i] or normalise(headers[i])] = col.ffill() if col.isna().any() and col.notna().any() else col
    problems: list[Problem] = []
    parts = []
    if year_cols:
        for i in year_cols:
            counts, bad = _parse_values(raw.cells[i], rows, file, headers[i])
            problems += bad
            parts.append(pd.DataFrame({**{k: v.to_numpy() for k, v in labels.items()},
                                       "year": int(_YEAR_HEADER.match(headers[i].strip()).group(1)),
                                       "count": counts, "_row": rows}))
    elif "value" in roles and "year" in roles:
        i = roles.index("value")
        counts, bad = _parse_values(raw.cells[i], rows, file, headers[i])
        problems += bad
        frame = pd.DataFrame({**{k: v.to_numpy() for k, v in labels.items()}, "count": counts, "_row": rows})
        years = frame["year"].map(lambda v: int(m.group(1)) if (m := _YEAR_HEADER.match(str(v).strip())) else None)
        for r, v, y in zip(rows, frame["year"], years):
            if y is None:
                problems.append(Problem(file, int(r), headers[roles.index("year")], "expected a year such as 2030", v))
        frame["year"] = years
        parts.append(frame)
    else:
        raise InputValidationError([Problem(file, None, None, "could not find the numbers: no column header is a year "
                                            "(such as 2030) and there is no Year and 'Data values' column; the "
                                            f"headers are {', '.join(map(repr, headers))}")])
    if problems:
        raise InputValidationError(problems)
    long = pd.concat(parts, ignore_index=True)
    for need in ("area", "age"):
        if need not in long.columns:
            raise InputValidationError([Problem(file, None, None, f"no {need} column found; the label columns are "
                                                f"{', '.join(repr(headers[i]) for i in label_cols)}")])
    if "measure" in long.columns:
        m = long["measure"].fillna("").map(_label_key)
        pct = m.str.contains("percent|rate|change", regex=True)
        long = long[~pct.to_numpy()]
    if "variant" in long.columns:
        variants = list(dict.fromkeys(long["variant"].dropna().map(str)))
        if variant is None:
            principal = [v for v in variants if "principal" in v.casefold()]
            if len(variants) > 1 and not principal:
                raise InputValidationError([Problem(file, None, "variant", "the file has several projection variants ("
                                                    f"{', '.join(map(repr, variants))}); pass variant='...'")])
            variant = principal[0] if principal else (variants[0] if variants else None)
        elif variant not in variants:
            raise InputValidationError([Problem(file, None, "variant", f"no variant {variant!r}; the variants are "
                                                f"{', '.join(map(repr, variants))}")])
        if len(variants) > 1:
            _warn(report, Problem(file, None, "variant", f"read the {variant!r} projection (of {len(variants)} variants)"))
        long = long[long["variant"].map(str) == variant]
    if "sex" not in long.columns:
        _warn(report, Problem(file, None, None, "no Gender/Sex column: the counts are read as persons"))
        long = long.assign(sex="Persons")
    # areas: Welsh authorities by name or code, Wales, others (national parks, regions)
    codes = long["area"].map(lambda v: welsh_area(v) if v is not None else None)
    if areas is not None:
        want = [areas] if isinstance(areas, str) else list(areas)
        want_codes = {w: welsh_area(w) for w in want}
        unknown = [w for w, c in want_codes.items() if c in (None, "region") or
                   (c is not None and not (codes == c).any())]
        if unknown:
            found = list(dict.fromkeys(long["area"].dropna().map(str)))
            raise InputValidationError([Problem(file, None, "area", f"area(s) not in the file: "
                                                f"{', '.join(map(repr, unknown))}; the file has "
                                                f"{', '.join(map(repr, found[:12]))}")])
        keep = codes.isin(set(want_codes.values())).to_numpy()
    else:
        keep = codes.map(lambda c: c is not None and c.startswith("W06")).to_numpy(bool)
        others = list(dict.fromkeys(long.loc[~keep, "area"].dropna().map(str)))
        if others:
            _warn(report, Problem(file, None, "area", f"read the {len(set(codes[keep]))} local authorities; left out "
                                  f"{', '.join(map(repr, others[:5]))} (pass areas= to choose)"),
                  "population.other_areas_dropped", int((~keep).sum()))
        if not keep.any():
            raise InputValidationError([Problem(file, None, "area", "no Welsh local authority found; the areas are "
                                                f"{', '.join(map(repr, others[:12]))}")])
    long = long[keep].assign(_code=codes[keep].to_numpy())
    if area == "code":
        long["area"] = long["_code"].replace({"Wales": "W92000004"})
    else:
        long["area"] = long["_code"].map(lambda c: "Wales" if c == "Wales" else WELSH_AUTHORITIES[c][0])
    long = long[["area", "sex", "age", "year", "count", "_row"]]
    dup = long.duplicated(["area", "sex", "age", "year"], keep=False)
    if dup.any():
        first = long[dup].iloc[0]
        raise InputValidationError([Problem(file, int(first["_row"]), None, f"{int(dup.sum())} rows repeat the same area, "
                                            "sex, age and year; the table has a breakdown this reader does not know")])
    return _finish(long, file, align=align, summer_born_share=summer_born_share, ncy=ncy, horizon=horizon,
                   extend_to=extend_to, method=method, trend_years=trend_years, source=file, report=report)
