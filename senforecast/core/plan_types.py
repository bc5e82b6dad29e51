"""Welsh plan types and the ALN transfer: the series that stands for an EHC plan in Wales.

Wales had the SEN code's three stages (School Action, School Action Plus, a statement of SEN)
until the Additional Learning Needs and Education Tribunal (Wales) Act 2018 came into force on
1 September 2021. Children then moved to individual development plans (IDPs), kept by the
school or, for the most complex needs, by the local authority, over a transfer period that
runs, in census years, from 2022 (school year 2021/22) to 2025 (2024/25).

Statements fall to nothing over the transfer while IDPs rise: a forecast of statements alone
reads the reform as falling demand. The nearest equivalent of an English EHC plan (a
statutory plan the local authority keeps, and the children who need specialist places) is
"statement or LA-maintained IDP"; :func:`ehcp_equivalent` forms that series and
:func:`break_years` says where its make-up changes.

Plan-type codes: ``statement``, ``school_action``, ``school_action_plus``, ``school_idp``,
``la_idp`` (and ``total`` for the publisher's "All provisions" rows).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PlanType:
    """One Welsh plan type (provision type in StatsWales).

    Parameters
    ----------
    code : str
        Code used in tidy tables.
    label : str
        The label StatsWales uses.
    statutory : bool
        A statutory plan (statement, IDP) rather than a school-based stage.
    maintained_by : {"la", "school"}
        Who keeps the plan.
    regime : {"sen", "aln"}
        The SEN code (Education Act 1996), ended by the transfer, or the ALN Act (2018).
    aliases : tuple of str
        Other spellings accepted (compared case-insensitively, '&' read as 'and').

    Examples
    --------
    >>> PLAN_TYPES["la_idp"].label
    'Local authority maintained individual development plan'
    """

    code: str
    label: str
    statutory: bool
    maintained_by: str
    regime: str
    aliases: tuple[str, ...] = ()


PLAN_TYPES: dict[str, PlanType] = {p.code: p for p in (
    PlanType("statement", "Statemented", True, "la", "sen",
             ("statement", "statements", "statement of sen", "statement of special educational needs",
              "pupils with statements", "statemented pupils")),
    PlanType("school_action", "School Action", False, "school", "sen", ("sa",)),
    PlanType("school_action_plus", "School Action Plus", False, "school", "sen", ("sa+", "sap")),
    PlanType("school_idp", "School maintained individual development plan", True, "school", "aln",
             ("school maintained idp", "school-maintained idp", "school-maintained individual development plan",
              "idp maintained by the school", "idp (school)", "school idp")),
    PlanType("la_idp", "Local authority maintained individual development plan", True, "la", "aln",
             ("la maintained idp", "la-maintained idp", "local authority maintained idp",
              "local authority-maintained individual development plan",
              "la-maintained individual development plan", "idp maintained by the local authority",
              "idp (la)", "la idp")),
)}
"""The five Welsh plan types by code, in StatsWales order."""

TOTAL = "total"
"""Code of the publisher's all-provision total rows."""

_TOTAL_LABELS = ("all provisions", "all provision", "all provision types", "total", "all pupils",
                 "all pupils with sen", "all pupils with aln or sen", "all pupils with aln/sen",
                 "all sen provision", "all aln/sen provision", "all types of provision")

EHCP_EQUIVALENT: tuple[str, ...] = ("statement", "la_idp")
"""Plan types that together are the nearest Welsh equivalent of an EHC plan."""

TRANSFER: tuple[int, int] = (2022, 2025)
"""First and last census year of the ALN transfer (school years 2021/22 to 2024/25)."""


def _key(text: object) -> str:
    s = str(text).strip().casefold().replace("&", "and")
    return re.sub(r"\s+", " ", s)


_LOOKUP: dict[str, str] = {}
for _p in PLAN_TYPES.values():
    for _name in (_p.code, _p.label, *_p.aliases):
        _LOOKUP[_key(_name)] = _p.code
for _name in _TOTAL_LABELS:
    _LOOKUP[_key(_name)] = TOTAL


def plan_type_code(label: object) -> str | None:
    """Code of a plan-type label (``None`` when it is not one).

    Examples
    --------
    >>> plan_type_code("Statemented"), plan_type_code(" school action plus "), plan_type_code("All Provisions")
    ('statement', 'school_action_plus', 'total')
    >>> plan_type_code("Local authority maintained individual development plan"), plan_type_code("EHC plan")
    ('la_idp', None)
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return None
    return _LOOKUP.get(_key(label))


def exists_in(code: str, year: int, transfer: tuple[int, int] = TRANSFER) -> bool:
    """Whether a plan type could be recorded at the January census of ``year``.

    SEN-code stages run to the end of the transfer; IDPs from its start.

    Examples
    --------
    >>> exists_in("statement", 2025), exists_in("statement", 2026), exists_in("la_idp", 2021)
    (True, False, False)
    """
    regime = PLAN_TYPES[code].regime
    return year <= transfer[1] if regime == "sen" else year >= transfer[0]


def period(year: int, transfer: tuple[int, int] = TRANSFER) -> str:
    """``"sen"`` before the transfer, ``"transfer"`` during it, ``"aln"`` after.

    Examples
    --------
    >>> [period(y) for y in (2021, 2022, 2025, 2026)]
    ['sen', 'transfer', 'transfer', 'aln']
    """
    if year < transfer[0]:
        return "sen"
    return "transfer" if year <= transfer[1] else "aln"


def _groups(counts: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    if by is not None:
        return list(by)
    skip = {"year", "plan_type", "count", "unit"}
    return [c for c in counts.columns if c not in skip]


def _check(counts: pd.DataFrame, plan_types: Iterable[str]) -> None:
    missing = [c for c in ("year", "plan_type", "count") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts need columns year, plan_type, count; missing {', '.join(missing)} "
                         f"(columns are {', '.join(map(str, counts.columns))})")
    unknown = sorted(set(counts["plan_type"].dropna().astype(str)) - set(PLAN_TYPES) - {TOTAL})
    if unknown:
        raise ValueError(f"unknown plan type code(s) {', '.join(map(repr, unknown))}; codes are "
                         f"{', '.join(PLAN_TYPES)} (read the table with senforecast.io.statswales.read_aln_provision, "
                         "or map labels with plan_type_code)")


def _wide(counts: pd.DataFrame, keys: list[str], codes: Sequence[str]) -> pd.DataFrame:
    """One row per keys + year, one column per plan type (NaN: suppressed or no row), and a
    ``<code>_row`` column saying whether the table had a row (a number or a marker)."""
    sub = counts[counts["plan_type"].isin(codes)]
    dup = sub.duplicated(keys + ["year", "plan_type"], keep=False)
    if dup.any():
        first = sub[dup].iloc[0]
        raise ValueError(f"counts repeat {', '.join(keys + ['year', 'plan_type'])} (e.g. "
                         f"{first[keys + ['year', 'plan_type']].to_dict()}); pass by= the columns that "
                         "tell rows apart")
    index = keys + ["year"]
    wide = counts[index].drop_duplicates().set_index(index)
    for c in codes:
        part = sub[sub["plan_type"] == c].set_index(index)["count"]
        wide[c] = part.reindex(wide.index).astype(float)
        wide[f"{c}_row"] = wide.index.isin(part.index)
    return wide.reset_index().sort_values(index).reset_index(drop=True)


def _structural_zero(wide: pd.DataFrame, keys: list[str], code: str, transfer: tuple[int, int]) -> np.ndarray:
    """Rows where a plan type is 0 because it did not exist, not because it is unknown.

    Outside its years (:func:`exists_in`) a plan type with no number is 0. Inside them, a
    year with no row at all is 0 when it lies beyond the series' recorded run of that type
    (after the last statement, before the first IDP): the type has ended or not begun there.
    """
    years = wide["year"].astype(int).to_numpy()
    vals = wide[code].to_numpy(float)
    has_row = wide[f"{code}_row"].to_numpy(bool)
    live = np.array([exists_in(code, int(y), transfer) for y in years], dtype=bool)
    zero = ~live & np.isnan(vals)
    sen = PLAN_TYPES[code].regime == "sen"
    group_ids = wide.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if keys else np.zeros(len(wide), int)
    for gid in np.unique(group_ids):
        m = group_ids == gid
        recorded = years[m & has_row]
        if recorded.size == 0:
            continue
        beyond = years > recorded.max() if sen else years < recorded.min()
        zero |= m & beyond & ~has_row
    return zero


def ehcp_equivalent(
    counts: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    transfer: tuple[int, int] = TRANSFER,
    rounded_to: int | None = None,
) -> pd.DataFrame:
    """The "statement or LA-maintained IDP" series, the nearest Welsh equivalent of an EHC plan.

    A plan type counts as 0 in a year it could not be recorded (IDPs before the transfer,
    statements after it) when the table has no number for it; inside its years a missing
    or suppressed count leaves the sum unknown (NaN, ``complete`` False), never a
    partial sum.

    Parameters
    ----------
    counts : DataFrame
        ``year, [area, ...], plan_type, count`` with plan-type codes (as
        :func:`senforecast.io.statswales.read_aln_provision` returns).
    by : sequence of str, optional
        Columns that identify a series (default: every column but ``year, plan_type,
        count, unit``).
    transfer : (int, int)
        First and last census year of the transfer.
    rounded_to : int, optional
        Rounding base of the published counts (default ``counts.attrs["rounded_to"]``);
        gives ``max_rounding_error``.

    Returns
    -------
    DataFrame
        ``[by...], year, count, statement, la_idp, complete, period, max_rounding_error``;
        ``attrs["break_years"]`` lists the years :func:`break_years` reports and
        ``attrs["series"]`` names the series.

    Examples
    --------
    >>> counts = pd.DataFrame({
    ...     "year": [2021, 2022, 2022, 2023, 2023, 2026],
    ...     "area": "Powys",
    ...     "plan_type": ["statement", "statement", "la_idp", "statement", "la_idp", "la_idp"],
    ...     "count": [600.0, 450.0, 160.0, float("nan"), 420.0, 640.0]})
    >>> out = ehcp_equivalent(counts, rounded_to=5)
    >>> out[["year", "count", "complete", "period", "max_rounding_error"]].values.tolist()
    [[2021, 600.0, True, 'sen', 2.5], [2022, 610.0, True, 'transfer', 5.0], [2023, nan, False, 'transfer', 5.0], [2026, 640.0, True, 'aln', 2.5]]
    >>> out.attrs["break_years"]
    [2022, 2026]
    """
    _check(counts, EHCP_EQUIVALENT)
    keys = _groups(counts, by)
    wide = _wide(counts, keys, EHCP_EQUIVALENT)
    years = wide["year"].astype(int).to_numpy()
    total = np.zeros(len(wide))
    complete = np.ones(len(wide), dtype=bool)
    n_parts = np.zeros(len(wide))
    parts = {}
    for code in EHCP_EQUIVALENT:
        zero = _structural_zero(wide, keys, code, transfer)
        vals = np.where(zero, 0.0, wide[code].to_numpy(float))
        parts[code] = vals
        complete &= ~np.isnan(vals)
        total = total + np.nan_to_num(vals)
        n_parts += ~zero
    if rounded_to is None:
        rounded_to = counts.attrs.get("rounded_to")
    out = wide[keys + ["year"]].copy()
    out["count"] = np.where(complete, total, np.nan)
    out["statement"] = parts["statement"]
    out["la_idp"] = parts["la_idp"]
    out["complete"] = complete
    out["period"] = [period(int(y), transfer) for y in years]
    out["max_rounding_error"] = n_parts * (rounded_to / 2.0) if rounded_to else 0.0
    breaks = break_years(counts, by=keys, transfer=transfer)
    out.attrs = {"series": "statement or LA-maintained IDP", "plan_types": list(EHCP_EQUIVALENT),
                 "break_years": sorted(set(int(y) for y in breaks["year"])), "transfer": transfer,
                 "rounded_to": rounded_to}
    return out


def break_years(
    counts: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    transfer: tuple[int, int] = TRANSFER,
) -> pd.DataFrame:
    """Years in which the make-up of "statement or LA-maintained IDP" changes.

    Two kinds: ``idp_starts`` (the first census year with LA-maintained IDPs recorded, a
    number or a suppressed cell) and ``statements_end`` (the first year after the last
    one with statements recorded, when it is inside the table). With each, the
    year-on-year change of statements, LA-maintained IDPs and their sum: a sum that moves
    much less than its parts is the transfer, not a change in demand.

    Parameters
    ----------
    counts : DataFrame
        ``year, [area, ...], plan_type, count`` with plan-type codes.
    by : sequence of str, optional
        Columns that identify a series (default as :func:`ehcp_equivalent`).
    transfer : (int, int)
        First and last census year of the transfer (used for years the table does not show).

    Returns
    -------
    DataFrame
        ``[by...], year, kind, statement_change, la_idp_change, combined_change`` (changes
        NaN when a count is missing or the year before is not in the table).

    Examples
    --------
    >>> counts = pd.DataFrame({
    ...     "year": [2021, 2022, 2022, 2023, 2023, 2024],
    ...     "plan_type": ["statement", "statement", "la_idp", "statement", "la_idp", "la_idp"],
    ...     "count": [600.0, 450.0, 160.0, 200.0, 420.0, 640.0]})
    >>> break_years(counts).values.tolist()
    [[2022, 'idp_starts', -150.0, 160.0, 10.0], [2024, 'statements_end', -200.0, 220.0, 20.0]]
    """
    _check(counts, EHCP_EQUIVALENT)
    keys = _groups(counts, by)
    wide = _wide(counts, keys, EHCP_EQUIVALENT)
    for code in EHCP_EQUIVALENT:  # counts that are 0 because the type had ended or not begun
        zero = _structural_zero(wide, keys, code, transfer)
        wide[f"{code}_value"] = np.where(zero, 0.0, wide[code].to_numpy(float))
    rows = []
    groups = wide.groupby(keys, sort=True, dropna=False) if keys else [((), wide)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        years = g["year"].astype(int).tolist()
        found = []
        # recorded: a row with a positive number or a suppressed cell
        for code, kind in (("la_idp", "idp_starts"), ("statement", "statements_end")):
            raw = g[code].to_numpy(float)
            rec = [y for y, v, r in zip(years, raw, g[f"{code}_row"]) if r and (np.isnan(v) or v > 0)]
            if not rec:
                continue
            if kind == "idp_starts" and rec[0] > years[0]:
                found.append((rec[0], kind))
            if kind == "statements_end" and rec[-1] < years[-1]:
                found.append((min(y for y in years if y > rec[-1]), kind))
        for year, kind in found:
            i = years.index(year)
            prev = i - 1 if i > 0 and years[i - 1] == year - 1 else None
            ch = {}
            for code in EHCP_EQUIVALENT:
                v = g[f"{code}_value"].to_numpy(float)
                ch[code] = float(v[i] - v[prev]) if prev is not None else np.nan
            rows.append((*key, year, kind, ch["statement"], ch["la_idp"], ch["statement"] + ch["la_idp"]))
    cols = keys + ["year", "kind", "statement_change", "la_idp_change", "combined_change"]
    return pd.DataFrame(rows, columns=cols).sort_values(keys + ["year"]).reset_index(drop=True)
