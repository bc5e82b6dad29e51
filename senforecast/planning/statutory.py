"""Statutory-style tables of specialist place demand for returns to government.

* :func:`scap_table` - England: children with plans who need a specialist place, by provision
  type and NCY group, for 5 years ahead (primary) and 7 years ahead (secondary, including
  post-16 in specialist provision), in the shape the school capacity (SCAP) survey asks for.
* :func:`scap_return` - England: the specialist-places forecast in the layout of the SCAP
  return itself: provision types ``UR`` / ``IN`` / ``SS`` / ``AP``, one row per scholastic year
  (``2026/27``), one column per NCY (Reception-Year 6 five years ahead, Years 7-11 seven years
  ahead), whole numbers (see ``docs/statutory_returns.md`` for what is from DfE's guidance and what
  is inferred).
* :func:`welsh_need_table` - Wales: the same demand by major need (PLASC / ALN categories)
  and NCY group, for the years ahead a place-planning return or strategy needs.

Both take a :class:`~senforecast.projection.Projection` whose cells carry ``setting`` and
``ncy`` (and ``need`` for Wales) and the provision register (``setting -> kind``). Values are
summaries of the simulated outcome: ``mean`` (adds up across rows, so it is the default
figure to return), ``median`` and the 90% prediction interval ``p05``-``p95``. Check the
current year's return guidance for its exact categories; the groupings here are arguments.
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.codes import get_scheme
from ..core.errors import InputWarning, SenForecastError
from ..projection import Projection
from .gap import setting_kinds

NCY_GROUPS: tuple[tuple[str, int, int, str], ...] = (
    ("Reception to Year 6", 0, 6, "primary"),
    ("Year 7 to Year 11", 7, 11, "secondary"),
    ("Year 12 to Year 14", 12, 14, "secondary"),
)
"""(label, first NCY, last NCY, phase) of each NCY group."""

YEARS_AHEAD: Mapping[str, int] = {"primary": 5, "secondary": 7}
"""How many years ahead each phase is forecast (SCAP: 5 primary, 7 secondary)."""

PROVISION_TYPES: Mapping[str, str] = {
    "special_school": "Special schools",
    "resource_base": "SEN units and resourced provision",
    "unit": "SEN units and resourced provision",
    "independent": "Independent and non-maintained special schools",
    "other_la": "Other local authorities' provision",
    "post16": "Post-16 specialist provision",
}
"""Provision ``kind`` -> provision type label (kinds not listed are not specialist places)."""

SCAP_PROVISION_TYPES: Mapping[str, str] = {
    "resource_base": "UR",
    "unit": "UR",
    "independent": "IN",
    "special_school": "SS",
    "other_la": "SS",
    "alternative_provision": "AP",
}
"""Provision ``kind`` -> SCAP provision type code. ``other_la`` (a place in another authority's
provision) is counted as ``SS`` by default: most such placements are in special schools; pass
``provision_types=`` to say otherwise."""

SCAP_TYPE_LABELS: Mapping[str, str] = {
    "UR": "SEN units and resourced provision in mainstream schools",
    "IN": "Independent schools",
    "SS": "State-funded and non-maintained special schools",
    "AP": "Alternative provision (PRUs, AP academies, independent AP)",
}
"""SCAP provision type code -> description."""

SCAP_PHASES: tuple[tuple[str, int, int, int], ...] = (("primary", 0, 6, 5), ("secondary", 7, 11, 7))
"""(phase, first NCY, last NCY, years ahead) of the SCAP specialist-places forecast."""

_STATS = ("mean", "median", "p05", "p95")


def _base_year(projection: Projection) -> int:
    h = projection.history
    if h is not None and len(h):
        return int(h["year"].max())
    return int(projection.years.min()) - 1


def _kinds(projection: Projection, provision: pd.DataFrame, kinds: Mapping[str, str] | None) -> pd.Series:
    for col in ("setting", "kind"):
        if col not in provision.columns:
            raise SenForecastError(f"the provision register needs a {col!r} column (see docs/contracts.md)")
    out = setting_kinds(projection, provision, kinds)
    unknown = sorted(out.index[out == "unknown"])
    if unknown:
        warnings.warn(
            f"settings {unknown} are not in the provision register and are not a setting kind; they are "
            "left out of the specialist place table (pass kinds={...} to say what they are)",
            InputWarning, stacklevel=3,
        )
    return out


def _types_and_ncy(projection: Projection, provision: pd.DataFrame, kinds,
                   provision_types: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Each cell's provision type (NaN where its kind is not counted) and NCY as a number."""
    kind_of = _kinds(projection, provision, kinds)
    cells = projection.cells
    ptype = cells["setting"].astype(str).map(kind_of).map(provision_types)
    return ptype, pd.to_numeric(cells["ncy"], errors="coerce")


def _relabelled(projection: Projection, provision: pd.DataFrame, kinds, groups, keep_need: bool,
                provision_types: Mapping[str, str]) -> Projection:
    """Projection whose ``setting`` is the provision type and ``ncy`` the NCY group label."""
    need_dims = ["setting", "ncy"] + (["need"] if keep_need else [])
    missing = [d for d in need_dims if d not in projection.cells.columns]
    if missing:
        raise SenForecastError(
            f"a specialist place table needs projection cells by {need_dims}; this projection has "
            f"{projection.dims} (missing {missing}). Use a model that projects by setting and NCY."
        )
    cells = projection.cells
    ptype, ncy = _types_and_ncy(projection, provision, kinds, provision_types)
    group = pd.Series(pd.NA, index=cells.index, dtype=object)
    for label, lo, hi, _phase in groups:
        group[(ncy >= lo) & (ncy <= hi)] = label
    keep = (ptype.notna() & group.notna()).to_numpy()
    if not keep.any():
        raise SenForecastError(
            "no projected children are in specialist provision in the NCY groups asked for; check the "
            "provision register's kinds and the projection's settings"
        )
    new_cells = pd.DataFrame({"setting": ptype[keep].to_numpy(), "ncy": group[keep].to_numpy()})
    if keep_need:
        new_cells["need"] = cells.loc[keep, "need"].astype(str).to_numpy()
    return Projection(projection.draws[:, :, keep], projection.years, new_cells, unit=projection.unit,
                      meta=projection.meta)


def _finish(summary: pd.DataFrame, base: int, groups, years_ahead: Mapping[str, int],
            order: Sequence[str], order_col: str) -> pd.DataFrame:
    phase_of = {label: ph for label, _lo, _hi, ph in groups}
    group_order = {label: i for i, (label, *_rest) in enumerate(groups)}
    t = summary.rename(columns={"setting": "provision_type", "ncy": "ncy_group"})
    t["phase"] = t["ncy_group"].map(phase_of)
    t["horizon"] = t["year"] - base
    limit = t["phase"].map(lambda p: years_ahead.get(p, max(years_ahead.values())))
    t = t[(t["horizon"] >= 1) & (t["horizon"] <= limit)]
    short = sorted({ph for ph, n in years_ahead.items() if n > int(summary["year"].max()) - base})
    if short:
        warnings.warn(
            f"the projection runs to {int(summary['year'].max())}, fewer years than asked for {short} "
            f"({dict(years_ahead)} years after {base}); project further to fill the table",
            InputWarning, stacklevel=3,
        )
    rank = {v: i for i, v in enumerate(order)}
    t = t.assign(_o=t[order_col].map(lambda v: rank.get(v, len(rank))), _g=t["ncy_group"].map(group_order))
    t = t.sort_values(["_o", order_col, "_g", "year"]).drop(columns=["_o", "_g"])
    lead = [c for c in (order_col, "ncy_group", "phase", "year", "horizon") if c in t.columns]
    return t[lead + list(_STATS)].reset_index(drop=True)


def scap_table(
    projection: Projection,
    provision: pd.DataFrame,
    *,
    kinds: Mapping[str, str] | None = None,
    groups: Sequence[tuple[str, int, int, str]] = NCY_GROUPS,
    years_ahead: Mapping[str, int] = YEARS_AHEAD,
    provision_types: Mapping[str, str] = PROVISION_TYPES,
) -> pd.DataFrame:
    """Specialist place demand by provision type and NCY group, 5 / 7 years ahead (England).

    Parameters
    ----------
    projection : Projection
        Cells with ``setting`` and ``ncy``; ``history`` (if any) fixes the base year, else
        the year before the first projected year.
    provision : DataFrame
        Provision register with ``setting`` and ``kind``.
    kinds : mapping, optional
        Kind of settings missing from the register (e.g. ``{"MS": "mainstream"}``).
    groups : sequence of (label, first NCY, last NCY, phase)
        NCY groups; default Reception-Year 6, Years 7-11, Years 12-14.
    years_ahead : mapping of phase -> int
        Years forecast per phase (default 5 primary, 7 secondary).
    provision_types : mapping of kind -> label
        Which kinds count as specialist places and what each is called.

    Returns
    -------
    DataFrame
        ``provision_type, ncy_group, phase, year, horizon, mean, median, p05, p95``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast import Projection
    >>> cells = pd.DataFrame({"ncy": [3, 8, 8], "setting": ["SS1", "SS1", "MS"]})
    >>> p = Projection(np.ones((10, 7, 3), int), list(range(2026, 2033)), cells)
    >>> reg = pd.DataFrame({"setting": ["SS1", "MS"], "kind": ["special_school", "mainstream"]})
    >>> t = scap_table(p, reg)
    >>> t.groupby("ncy_group")["year"].agg(["min", "max"]).values.tolist()
    [[2026, 2030], [2026, 2032]]
    """
    rel = _relabelled(projection, provision, kinds, groups, False, provision_types)
    summary = rel.summary(["setting", "ncy"], quantiles=(0.05, 0.95))
    order = list(dict.fromkeys(provision_types.values()))
    return _finish(summary, _base_year(projection), groups, years_ahead, order, "provision_type")


def ncy_column(ncy: int) -> str:
    """Column name of an NCY in a return: ``R`` for Reception, ``Y1`` ... ``Y11``.

    Examples
    --------
    >>> [ncy_column(n) for n in (0, 1, 11)]
    ['R', 'Y1', 'Y11']
    """
    return "R" if int(ncy) == 0 else f"Y{int(ncy)}"


def scholastic_year(census_year: int) -> str:
    """The scholastic year whose January census is ``census_year``: 2027 -> ``"2026/27"``.

    Examples
    --------
    >>> scholastic_year(2027), scholastic_year(2100)
    ('2026/27', '2099/00')
    """
    y = int(census_year)
    return f"{y - 1}/{y % 100:02d}"


def scap_return(
    projection: Projection,
    provision: pd.DataFrame,
    *,
    kinds: Mapping[str, str] | None = None,
    statistic: str = "mean",
    provision_types: Mapping[str, str] = SCAP_PROVISION_TYPES,
    phases: Sequence[tuple[str, int, int, int]] = SCAP_PHASES,
) -> dict[str, pd.DataFrame]:
    """The specialist-places forecast in the layout of England's school capacity (SCAP) return.

    Resident children with an EHC plan who need a specialist place, by provision type (``UR``
    resourced provision and SEN units, ``IN`` independent, ``SS`` special schools, ``AP``
    alternative provision), one row per scholastic year and one column per NCY: Reception to
    Year 6 for the 5 years after the last census, Years 7 to 11 for 7 years. Values are whole
    numbers: the chosen summary of the simulated outcome (the mean by default, which adds up
    across cells) rounded half up.

    Parameters
    ----------
    projection : Projection
        Cells with ``setting`` and ``ncy``; ``history`` (if any) fixes the last census.
    provision : DataFrame
        Provision register with ``setting`` and ``kind``.
    kinds : mapping, optional
        Kind of settings missing from the register.
    statistic : {"mean", "median"}
        Summary of each cell's simulated outcome.
    provision_types : mapping of kind -> SCAP code
        Which kinds the return counts and as which type (default :data:`SCAP_PROVISION_TYPES`).
    phases : sequence of (phase, first NCY, last NCY, years ahead)

    Returns
    -------
    dict of str to DataFrame
        ``{"primary": ..., "secondary": ...}``, each with columns ``provision_type,
        scholastic_year, census_year`` then one column per NCY (``R``, ``Y1`` ...), every
        provision type and year present (0 where nobody is projected).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast import Projection
    >>> cells = pd.DataFrame({"ncy": [0, 3, 8, 8], "setting": ["SS1", "SS1", "RB1", "MS"]})
    >>> p = Projection(np.full((10, 7, 4), 2), list(range(2026, 2033)), cells)
    >>> reg = pd.DataFrame({"setting": ["SS1", "RB1", "MS"],
    ...                     "kind": ["special_school", "resource_base", "mainstream"]})
    >>> r = scap_return(p, reg)
    >>> first = r["primary"].query("provision_type == 'SS'").iloc[0]
    >>> first["scholastic_year"], [int(first[c]) for c in ("R", "Y3", "Y4")]
    ('2025/26', [2, 2, 0])
    >>> r["secondary"]["scholastic_year"].nunique(), r["primary"]["scholastic_year"].nunique()
    (7, 5)
    """
    if statistic not in ("mean", "median"):
        raise SenForecastError(f"statistic must be 'mean' or 'median', not {statistic!r}")
    missing = [d for d in ("setting", "ncy") if d not in projection.cells.columns]
    if missing:
        raise SenForecastError(
            f"the SCAP return needs projection cells by setting and NCY; this projection has {projection.dims} "
            f"(missing {missing}). Use a model that projects by setting, or split it with SettingSplit."
        )
    ptype, ncy = _types_and_ncy(projection, provision, kinds, provision_types)
    base = _base_year(projection)
    codes = list(dict.fromkeys(provision_types.values()))
    out = {}
    for phase, lo, hi, ahead in phases:
        years = [y for y in range(base + 1, base + ahead + 1)]
        have = [y for y in years if y in set(projection.years.tolist())]
        if len(have) < len(years):
            warnings.warn(f"the projection runs to {int(projection.years.max())}; the SCAP {phase} forecast needs "
                          f"{years[0]}-{years[-1]} ({ahead} years after the {base} census): project further "
                          "to fill it", InputWarning, stacklevel=2)
        keep = (ptype.notna() & ncy.between(lo, hi)).to_numpy()
        rows = []
        if keep.any():
            sub = Projection(projection.draws[:, :, keep], projection.years,
                             pd.DataFrame({"setting": ptype[keep].to_numpy(),  # the type, as a setting
                                           "ncy": ncy[keep].astype(int).to_numpy()}), unit=projection.unit)
            s = sub.summary(["setting", "ncy"]).rename(columns={"setting": "provision_type"})
            rows = s[s["year"].isin(have)][["provision_type", "ncy", "year", statistic]]
        grid = pd.MultiIndex.from_product([codes, have, range(lo, hi + 1)], names=["provision_type", "year", "ncy"])
        val = (pd.DataFrame(rows).set_index(["provision_type", "year", "ncy"])[statistic] if len(rows)
               else pd.Series(dtype=float)).reindex(grid, fill_value=0.0)
        # half up, not numpy's half to even: 2.5 children is returned as 3
        whole = np.floor(val.to_numpy(dtype=float) + 0.5).astype(int)
        wide = pd.Series(whole, index=grid).unstack("ncy")
        wide.columns = [ncy_column(c) for c in wide.columns]
        wide = wide.reset_index().rename(columns={"year": "census_year"})
        wide.insert(1, "scholastic_year", wide["census_year"].map(scholastic_year))
        order = {c: i for i, c in enumerate(codes)}
        out[phase] = (wide.sort_values(["provision_type", "census_year"], key=lambda c: c.map(order)
                                       if c.name == "provision_type" else c).reset_index(drop=True))
    return out


def welsh_need_table(
    projection: Projection,
    provision: pd.DataFrame,
    *,
    scheme: str = "wales_plasc",
    kinds: Mapping[str, str] | None = None,
    groups: Sequence[tuple[str, int, int, str]] = NCY_GROUPS,
    years_ahead: Mapping[str, int] = YEARS_AHEAD,
    provision_types: Mapping[str, str] = PROVISION_TYPES,
) -> pd.DataFrame:
    """Specialist place demand by major need and NCY group (Wales, PLASC / ALN categories).

    Parameters
    ----------
    projection : Projection
        Cells with ``setting``, ``ncy`` and ``need`` (major need codes).
    provision : DataFrame
        Provision register with ``setting`` and ``kind``.
    scheme : str
        Need-code scheme whose labels and order are used (codes not in it keep their code).
    kinds, groups, years_ahead, provision_types
        As :func:`scap_table`.

    Returns
    -------
    DataFrame
        ``need, need_label, ncy_group, phase, year, horizon, mean, median, p05, p95``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast import Projection
    >>> cells = pd.DataFrame({"ncy": [3, 3], "need": ["ASD", "SLD"], "setting": ["RB", "RB"]})
    >>> p = Projection(np.full((5, 2, 2), 4), [2026, 2027], cells)
    >>> reg = pd.DataFrame({"setting": ["RB"], "kind": ["resource_base"]})
    >>> welsh_need_table(p, reg, years_ahead={"primary": 2, "secondary": 2})[["need_label", "year", "mean"]].values.tolist()
    [['Severe learning difficulties', 2026, 4.0], ['Severe learning difficulties', 2027, 4.0], ['Autistic spectrum disorders', 2026, 4.0], ['Autistic spectrum disorders', 2027, 4.0]]
    """
    rel = _relabelled(projection, provision, kinds, groups, True, provision_types)
    summary = rel.summary(["need", "ncy"], quantiles=(0.05, 0.95))
    s = get_scheme(scheme)
    t = _finish(summary, _base_year(projection), groups, years_ahead, list(s.codes), "need")
    labels = s.labels
    t.insert(1, "need_label", t["need"].map(lambda c: labels.get(c, c)))
    return t


def to_wide(table: pd.DataFrame, statistic: str = "mean", *, decimals: int | None = 0) -> pd.DataFrame:
    """Return-form layout: one row per provision type (or need) and NCY group, one column
    per year, with a total row (for ``mean``, in years where every row is forecast).

    Examples
    --------
    >>> t = pd.DataFrame({"provision_type": ["Special schools"] * 2, "ncy_group": ["R-6"] * 2,
    ...                   "year": [2026, 2027], "mean": [10.4, 12.6]})
    >>> to_wide(t).values.tolist()
    [['Special schools', 'R-6', 10.0, 13.0], ['Total', '', 10.0, 13.0]]
    """
    if statistic not in table.columns:
        raise SenForecastError(f"no column {statistic!r}; choose one of {[c for c in _STATS if c in table.columns]}")
    row = [c for c in ("provision_type", "need", "need_label") if c in table.columns][:1] + ["ncy_group"]
    wide = table.pivot_table(index=row, columns="year", values=statistic, aggfunc="sum", sort=False)
    if statistic == "mean":  # means add up; medians and quantiles do not, so no total row for them
        # a year where some rows are not forecast (primary beyond 5 years) gets no total
        wide.loc[("Total",) + ("",) * (len(row) - 1), :] = wide.sum(axis=0, min_count=len(wide))
    if decimals is not None:
        wide = wide.round(decimals)
    wide.columns = [int(c) for c in wide.columns]
    return wide.reset_index()
