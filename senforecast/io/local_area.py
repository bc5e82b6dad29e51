"""Reading all the tables of one authority and checking them against each other."""
from __future__ import annotations

import warnings
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..core.data import LocalAreaData
from ..core.errors import InputValidationError, InputWarning, Problem, ValidationReport
from ..core.provision import period_rows, takes_need
from ._source import Source
from .tables import ReadResult, read_table, scheme_codes

_ORDER = ("provision", "plans", "census", "population", "placements", "costs")


def _warn(report: ValidationReport, problem: Problem, key: str, n: int) -> None:
    warnings.warn(str(problem), InputWarning, stacklevel=3)
    report.warn(problem)
    report.count(key, n)


def _rows_text(rows, limit: int = 5) -> str:
    rows = list(rows)
    return ", ".join(map(str, rows[:limit])) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def read_local_area(
    *,
    plans: Source | None = None,
    population: Source | None = None,
    provision: Source | None = None,
    census: Source | None = None,
    placements: Source | None = None,
    costs: Source | None = None,
    need_scheme: str | Iterable[str] | None = None,
    columns: Mapping | None = None,
    name: str = "local authority",
) -> LocalAreaData:
    """Read and validate every input table of an authority into a :class:`LocalAreaData`.

    Each table is read from a path (CSV or Excel) or taken as a DataFrame, validated against
    its schema, then the tables are checked against each other:

    * a plan's setting must be in the provision register (or be a setting kind such as
      ``mainstream``): an error naming the row;
    * a child in a setting whose age range excludes their NCY, or whose designation excludes
      their need: a warning with counts (the child is kept);
    * a child whose NCY does not go up by one from one census to the next: a warning with
      counts (the rows are kept);
    * plan areas with no population rows (unless the population is for the whole authority,
      area ``ALL``): a warning with counts.

    Problems of all tables are collected and raised together.

    Parameters
    ----------
    plans, population, provision, census, placements, costs : path or DataFrame, optional
        The tables to read (see ``docs/contracts.md``).
    need_scheme : str or iterable of str, optional
        Name of a need-code scheme (``senforecast.core.codes.get_scheme``) or the allowed need codes.
        Without it need codes are not checked.
    columns : dict, optional
        Header mapping ``{header in file: canonical name}`` used for every file, or
        ``{table: {header: canonical name}}`` per table.
    name : str
        Authority name used in reports.

    Returns
    -------
    LocalAreaData
        With ``report`` holding every warning and the counts of rows read, kept and flagged.

    Raises
    ------
    InputValidationError
        With the problems of every table.

    Examples
    --------
    >>> import pandas as pd
    >>> prov = pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "area": ["N"],
    ...                      "min_ncy": [0], "max_ncy": [6], "capacity": [20], "designation": ["ASD"]})
    >>> plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2023, 2024], "ncy": [2, 3],
    ...                       "need": ["ASD", "ASD"], "setting": ["RB1", "RB1"], "area": ["N", "N"]})
    >>> data = read_local_area(plans=plans, provision=prov, need_scheme=["ASD", "MLD"], name="Demo")
    >>> len(data.plans), data.report.counts["plans.rows_kept"]
    (2, 2)
    """
    report = ValidationReport()
    sources = {"plans": plans, "population": population, "provision": provision, "census": census,
               "placements": placements, "costs": costs}
    needs = scheme_codes(need_scheme)
    scheme_name = need_scheme if isinstance(need_scheme, str) else None
    results: dict[str, ReadResult] = {}
    problems: list[Problem] = []
    for table in _ORDER:
        source = sources[table]
        if source is None:
            continue
        cols = columns
        if columns and any(isinstance(v, Mapping) for v in columns.values()):
            cols = columns.get(table)
        settings = None
        if table == "plans" and "provision" in results:
            settings = results["provision"].table
        elif table == "plans" and provision is not None:
            settings = None  # the register did not read; its problems are reported already
        try:
            results[table] = read_table(source, table, columns=cols, needs=needs, settings=settings,
                                        report=report)
        except InputValidationError as exc:
            problems += exc.problems
    if problems:
        raise InputValidationError(problems)
    if "plans" in results and "provision" in results:
        _check_plans_against_provision(results["plans"], results["provision"].table, report)
    if "plans" in results:
        _check_ncy_advances(results["plans"], report)
    for table in ("plans", "census"):
        if table in results:
            _check_census_years(results[table], table, report)
    if "plans" in results and "population" in results:
        _check_population_covers_plans(results["plans"], results["population"], report)
    tables = {t: r.table for t, r in results.items()}
    return LocalAreaData(**tables, need_scheme=scheme_name, name=name, report=report)


def _active_provision(provision: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """The provision row of each plan's setting in force in the plan's year
    (:func:`senforecast.core.provision.period_rows`); plans in unknown settings are left out."""
    prov = provision[["setting", "min_ncy", "max_ncy", "designation"]].reset_index(drop=True)
    pos, _ = period_rows(provision, plans["setting"].astype(str).to_numpy(), plans["year"].to_numpy())
    left = plans[["setting", "year", "ncy", "need"]].reset_index(names="_plan")
    keep = pos >= 0
    m = left[keep].reset_index(drop=True)
    m[["min_ncy", "max_ncy", "designation"]] = prov.iloc[pos[keep]][["min_ncy", "max_ncy", "designation"]].to_numpy()
    return m.set_index("_plan")


def _warn_rows_by_setting(report: ValidationReport, plans: ReadResult, rows: np.ndarray,
                          bad: pd.DataFrame, column: str, what: str, fix: str, key: str) -> None:
    """One warning for plan rows kept despite a register mismatch, counted per setting."""
    if not len(bad):
        return
    by_setting = bad.groupby("setting").size().sort_values(ascending=False)
    detail = "; ".join(f"{s}: {n}" for s, n in by_setting.head(5).items())
    _warn(report, Problem(plans.file, None, column,
                          f"{len(bad)} plan row(s) are in a setting whose {what} ({detail}); "
                          f"rows {_rows_text(rows[bad.index])}. The children are kept; {fix}"),
          key, len(bad))


def _outside_designation(m: pd.DataFrame) -> np.ndarray:
    """Rows whose need is not in their setting's designation (blank or ``*`` takes all),
    decided once per distinct (designation, need) pair rather than row by row."""
    des = m["designation"].astype(object).where(m["designation"].notna(), "").astype(str)
    codes, pairs = pd.MultiIndex.from_arrays([des, m["need"].astype(str)]).factorize()
    excluded = np.array([not takes_need(d, n) for d, n in pairs], dtype=bool)
    return excluded[codes]


def _check_plans_against_provision(plans: ReadResult, provision: pd.DataFrame,
                                   report: ValidationReport) -> None:
    m = _active_provision(provision, plans.table)
    if m.empty:
        return
    rows = np.asarray(plans.rows)
    _warn_rows_by_setting(report, plans, rows, m[(m["ncy"] < m["min_ncy"]) | (m["ncy"] > m["max_ncy"])],
                          "ncy", "age range does not include the child's NCY",
                          "check the register's min_ncy/max_ncy or the NCY", "plans.outside_age_range")
    _warn_rows_by_setting(report, plans, rows, m[_outside_designation(m)],
                          "need", "designation does not include the child's need",
                          "check the register's designation", "plans.outside_designation")


def _check_ncy_advances(plans: ReadResult, report: ValidationReport) -> None:
    t = plans.table[["pupil_id", "year", "ncy"]].copy()
    t["_row"] = plans.rows
    t = t.sort_values(["pupil_id", "year"], kind="stable")
    same = t["pupil_id"].eq(t["pupil_id"].shift())
    d_year = t["year"] - t["year"].shift()
    d_ncy = t["ncy"] - t["ncy"].shift()
    consecutive = same & d_year.eq(1)
    bad = consecutive & d_ncy.ne(1)
    n = int(bad.sum())
    if n:
        held = int((bad & d_ncy.eq(0)).sum())
        back = int((bad & d_ncy.lt(0)).sum())
        skipped = n - held - back
        _warn(report, Problem(plans.file, None, "ncy",
                              f"{n} child(ren)'s NCY did not go up by one between consecutive censuses "
                              f"({held} stayed in the same year group, {skipped} jumped ahead, {back} went "
                              f"back); rows {_rows_text(t.loc[bad, '_row'])}. The rows are kept"),
              "plans.ncy_not_advancing", n)


def _check_census_years(result: ReadResult, table: str, report: ValidationReport) -> None:
    """Warn about a census missing between the first and the last: the moves across the gap
    are two years long, so the cohort model cannot learn from them."""
    years = sorted(int(y) for y in pd.unique(result.table["year"]))
    if len(years) < 2:
        return
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if not gaps:
        return
    around = [f"{max(y for y in years if y < g)} to {min(y for y in years if y > g)}" for g in gaps]
    spans = list(dict.fromkeys(around))
    _warn(report, Problem(result.file, None, "year",
                          f"no {table} rows for census year(s) {', '.join(map(str, gaps))}, between "
                          f"{years[0]} and {years[-1]}: the children's moves from {'; '.join(spans)} span two "
                          "years, so the cohort model does not learn from them (it has fewer years to fit). "
                          "Add the missing census if you have it"),
          f"{table}.census_years_missing", len(gaps))


def _check_population_covers_plans(plans: ReadResult, population: ReadResult, report: ValidationReport) -> None:
    """Warn about plan areas with no population (rates per head cannot be formed there); when
    no plan area has any, the population cannot be used at all: an error."""
    pop_areas = set(population.table["area"])
    if pop_areas == {"ALL"}:
        return  # one population for the whole authority
    plan_areas = set(plans.table["area"])
    if not plan_areas & pop_areas:
        shown = ", ".join(map(repr, sorted(pop_areas)[:8])) + (" ..." if len(pop_areas) > 8 else "")
        if plan_areas == {"ALL"}:
            msg = (f"the plans have no area column (every child was put in area 'ALL'), but the population "
                   f"is by area ({shown}). Add an area column to {plans.file}, or give the population for "
                   "the whole authority (no area column, or area 'ALL')")
        else:
            mine = ", ".join(map(repr, sorted(plan_areas)[:8])) + (" ..." if len(plan_areas) > 8 else "")
            msg = (f"none of the plans' areas ({mine}) has population rows; the population's areas are "
                   f"{shown}. Use the same area names in both files")
        raise InputValidationError([Problem(population.file, None, "area", msg)])
    missing = plans.table["area"][~plans.table["area"].isin(pop_areas)]
    if len(missing):
        names = ", ".join(map(repr, sorted(set(missing))[:8]))
        _warn(report, Problem(population.file, None, "area",
                              f"{len(missing)} plan row(s) are in area(s) with no population rows ({names}); "
                              "use the same area names in both files"),
              "plans.area_without_population", len(missing))
