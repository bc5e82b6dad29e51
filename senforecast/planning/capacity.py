"""Capacity timeline of the provision register: places by setting and year.

The ``provision`` table (see ``docs/contracts.md``) has one row per setting per capacity
period (``opens`` inclusive, ``closes`` = first year closed). This module checks it, applies
the supply side of a :class:`~senforecast.core.scenarios.Scenario` (``ProvisionChange``) and
expands it into a tidy timeline with one row per setting per year. Capacity ``NaN`` means
unlimited (independent and other-LA providers); capacity is never negative.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core.codes import OUT_OF_COUNTY_KINDS, SETTING_KINDS, SPECIALIST_KINDS
from ..core.errors import InputValidationError, Problem, SenForecastError
from ..core.ncy import NCY_MAX, NCY_MIN
from ..core.scenarios import ProvisionChange, Scenario

ALL_NEEDS = "*"
"""Designation meaning the base takes every need."""

PROVISION_COLUMNS: tuple[str, ...] = (
    "setting", "name", "kind", "area", "min_ncy", "max_ncy", "capacity", "designation",
    "opens", "closes", "cost_per_place",
)


def parse_designation(designation: object) -> frozenset[str] | None:
    """Need codes a base takes, from a ``;``-separated designation (``*`` = every need).

    Returns ``None`` for "every need".

    Examples
    --------
    >>> sorted(parse_designation("ASD; SLCN"))
    ['ASD', 'SLCN']
    >>> parse_designation("*") is None
    True
    """
    if designation is None or (isinstance(designation, float) and np.isnan(designation)):
        return None
    parts = [p.strip() for p in str(designation).split(";") if p.strip()]
    if not parts or ALL_NEEDS in parts:
        return None
    return frozenset(parts)


def takes_need(designation: object, need: str) -> bool:
    """True when a base with this designation takes children with ``need``.

    Examples
    --------
    >>> takes_need("ASD;SLCN", "ASD"), takes_need("SLD", "ASD"), takes_need("*", "ASD")
    (True, False, True)
    """
    codes = parse_designation(designation)
    return codes is None or need in codes


def validate_provision(provision: pd.DataFrame, *, file: str = "provision") -> pd.DataFrame:
    """Check a provision register and return it in canonical form.

    Missing optional columns get defaults (``name`` = setting, ``area`` = "ALL", ages
    -5..25, designation ``*``, always open, no cost). Every problem is collected before
    raising.

    Parameters
    ----------
    provision : DataFrame
        Needs at least ``setting``, ``kind`` and ``capacity``.
    file : str
        Name used in error messages.

    Returns
    -------
    DataFrame
        Columns ``PROVISION_COLUMNS``; ``opens``/``closes`` as nullable Int64.

    Raises
    ------
    InputValidationError
        Unknown kind, negative capacity, min_ncy > max_ncy, opens >= closes, or two periods
        of one setting that overlap.

    Examples
    --------
    >>> import pandas as pd
    >>> p = validate_provision(pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"],
    ...                                      "capacity": [20]}))
    >>> p.loc[0, ["area", "designation"]].tolist(), int(p.loc[0, "min_ncy"]), int(p.loc[0, "max_ncy"])
    (['ALL', '*'], -5, 25)
    """
    if not isinstance(provision, pd.DataFrame):
        raise SenForecastError("provision must be a pandas DataFrame (see docs/contracts.md)")
    missing = [c for c in ("setting", "kind", "capacity") if c not in provision.columns]
    if missing:
        raise InputValidationError(
            [Problem(file, None, c, "required column is missing from the provision register") for c in missing]
        )
    p = provision.reset_index(drop=True).copy()
    defaults = {"name": None, "area": "ALL", "min_ncy": NCY_MIN, "max_ncy": NCY_MAX,
                "designation": ALL_NEEDS, "opens": pd.NA, "closes": pd.NA, "cost_per_place": np.nan}
    for col, val in defaults.items():
        if col not in p.columns:
            p[col] = p["setting"] if col == "name" else val
    p["setting"] = p["setting"].astype(str)
    p["name"] = p["name"].fillna(p["setting"]).astype(str)
    p["area"] = p["area"].fillna("ALL").astype(str)
    p["designation"] = p["designation"].fillna(ALL_NEEDS).astype(str)
    problems: list[Problem] = []
    rows = np.arange(len(p)) + 2  # spreadsheet rows: header is row 1
    for col in ("capacity", "cost_per_place", "min_ncy", "max_ncy", "opens", "closes"):
        num = pd.to_numeric(p[col], errors="coerce")
        bad = num.isna() & p[col].notna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(file, int(rows[i]), col, "expected a number", p[col].iloc[i]))
        p[col] = num
    p["capacity"] = p["capacity"].astype(float)
    for i in np.flatnonzero(~p["kind"].isin(SETTING_KINDS).to_numpy()):
        problems.append(Problem(file, int(rows[i]), "kind", f"unknown kind; use one of {list(SETTING_KINDS)}",
                                p["kind"].iloc[i]))
    for i in np.flatnonzero((p["capacity"] < 0).to_numpy()):
        problems.append(Problem(file, int(rows[i]), "capacity", "capacity cannot be negative (0 = closed)",
                                p["capacity"].iloc[i]))
    for i in np.flatnonzero((p["min_ncy"] > p["max_ncy"]).to_numpy()):
        problems.append(Problem(file, int(rows[i]), "min_ncy", "min_ncy is above max_ncy",
                                (p["min_ncy"].iloc[i], p["max_ncy"].iloc[i])))
    local = p["kind"].isin(SPECIALIST_KINDS).to_numpy() & p["capacity"].isna().to_numpy()
    for i in np.flatnonzero(local):
        problems.append(Problem(file, int(rows[i]), "capacity",
                                "a local specialist setting needs a capacity (blank = unlimited is only "
                                "for independent / other-LA providers)", None))
    p["opens"] = p["opens"].astype("Int64")
    p["closes"] = p["closes"].astype("Int64")
    p["min_ncy"] = p["min_ncy"].fillna(NCY_MIN).astype(int)
    p["max_ncy"] = p["max_ncy"].fillna(NCY_MAX).astype(int)
    lo = p["opens"].fillna(-10**6).astype("int64").to_numpy()
    hi = p["closes"].fillna(10**6).astype("int64").to_numpy()
    for i in np.flatnonzero(lo >= hi):
        problems.append(Problem(file, int(rows[i]), "closes", "closes must be after opens",
                                (p["opens"].iloc[i], p["closes"].iloc[i])))
    for setting, idx in p.groupby("setting").indices.items():
        if len(idx) < 2:
            continue
        order = idx[np.argsort(lo[idx], kind="stable")]
        for a, b in zip(order[:-1], order[1:]):
            if hi[a] > lo[b]:
                problems.append(Problem(file, int(rows[b]), "opens",
                                        f"capacity periods of setting {setting!r} overlap (rows {rows[a]} "
                                        f"and {rows[b]}); set closes of the earlier row to opens of the later",
                                        p["opens"].iloc[b]))
    if problems:
        raise InputValidationError(problems)
    return p[list(PROVISION_COLUMNS) + [c for c in p.columns if c not in PROVISION_COLUMNS]]


def apply_provision_changes(
    provision: pd.DataFrame, changes: Scenario | Iterable[ProvisionChange] | None
) -> pd.DataFrame:
    """The provision register after the supply-side changes of a scenario.

    Each :class:`ProvisionChange` sets a setting's capacity from ``from_year`` on: its current
    period is closed at ``from_year``, later periods are replaced, and a new period starts
    with the new capacity (and any attributes the change gives). A new setting code opens a
    new base, which needs ``area``, ``designation``, ``min_ncy`` and ``max_ncy``. Changes
    apply in order of ``from_year``.

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.core.scenarios import ProvisionChange
    >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "capacity": [20],
    ...                     "designation": ["ASD"], "min_ncy": [0], "max_ncy": [6]})
    >>> out = apply_provision_changes(reg, [ProvisionChange("RB1", 30, 2027)])
    >>> out["capacity"].tolist(), out["opens"].tolist(), out["closes"].tolist()
    ([20.0, 30.0], [<NA>, 2027], [2027, <NA>])
    """
    p = validate_provision(provision)
    if changes is None:
        return p
    if isinstance(changes, Scenario):
        changes = changes.provision_changes
    changes = sorted(changes, key=lambda c: c.from_year)
    fields = ("name", "kind", "area", "designation", "min_ncy", "max_ncy", "cost_per_place")
    for ch in changes:
        if ch.capacity is None or ch.capacity < 0:
            raise SenForecastError(
                f"ProvisionChange for {ch.setting!r}: capacity must be 0 or more (got {ch.capacity})"
            )
        rows = p[p["setting"] == ch.setting]
        if len(rows):
            opens = rows["opens"].fillna(-10**6).astype("int64")
            template = rows.loc[opens[opens < ch.from_year].idxmax()] if (opens < ch.from_year).any() \
                else rows.loc[opens.idxmin()]
            new = template.to_dict()
        else:
            need = [f for f in ("area", "designation", "min_ncy", "max_ncy") if getattr(ch, f) is None]
            if need:
                raise SenForecastError(
                    f"ProvisionChange opens a new setting {ch.setting!r} but does not say its "
                    f"{', '.join(need)}; give them in ProvisionChange(...)"
                )
            new = {"setting": ch.setting, "name": ch.setting, "kind": "resource_base",
                   "cost_per_place": np.nan}
        for f in fields:
            if getattr(ch, f) is not None:
                new[f] = getattr(ch, f)
        new["capacity"] = float(ch.capacity)
        new["opens"], new["closes"] = ch.from_year, pd.NA
        mine = (p["setting"] == ch.setting).to_numpy()
        starts = p["opens"].fillna(-10**6).astype("int64").to_numpy()
        p = p[~(mine & (starts >= ch.from_year))].copy()
        mine = (p["setting"] == ch.setting).to_numpy()
        ends = p["closes"].fillna(10**6).astype("int64").to_numpy()
        p.loc[mine & (ends > ch.from_year), "closes"] = ch.from_year
        p = pd.concat([p, pd.DataFrame([new])], ignore_index=True)
    p = p.sort_values(["setting", "opens"], na_position="first", kind="stable").reset_index(drop=True)
    return validate_provision(p)


def capacity_timeline(
    provision: pd.DataFrame,
    years: Sequence[int],
    *,
    changes: Scenario | Iterable[ProvisionChange] | None = None,
) -> pd.DataFrame:
    """Places by setting and year: one row per setting per year, open or not.

    Parameters
    ----------
    provision : DataFrame
        The provision register (``docs/contracts.md``).
    years : sequence of int
        Census years wanted.
    changes : Scenario or list of ProvisionChange, optional
        Supply-side changes applied first (:func:`apply_provision_changes`).

    Returns
    -------
    DataFrame
        ``setting, year, name, kind, area, min_ncy, max_ncy, designation, cost_per_place,
        is_open, capacity`` - capacity 0 when closed, NaN when unlimited, never negative.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "RB1"], "kind": ["resource_base"] * 2,
    ...                     "capacity": [20, 30], "opens": [2024, 2026], "closes": [2026, 2028]})
    >>> capacity_timeline(reg, range(2025, 2029))["capacity"].tolist()
    [20.0, 30.0, 30.0, 0.0]
    """
    p = apply_provision_changes(provision, changes)
    years = np.asarray(list(years), dtype=int)
    lo = p["opens"].fillna(-10**6).astype("int64").to_numpy()
    hi = p["closes"].fillna(10**6).astype("int64").to_numpy()
    frames = []
    attrs = ["name", "kind", "area", "min_ncy", "max_ncy", "designation", "cost_per_place"]
    for setting, idx in p.groupby("setting", sort=True).indices.items():
        # the period open in each year (periods never overlap, checked above)
        active = (lo[idx][None, :] <= years[:, None]) & (years[:, None] < hi[idx][None, :])
        is_open = active.any(axis=1)
        pick = idx[np.where(is_open, active.argmax(axis=1), np.argmax(lo[idx]))]
        # a closed year shows the attributes of the nearest period (latest that opened before)
        for j, y in enumerate(years):
            if not is_open[j]:
                before = idx[lo[idx] <= y]
                pick[j] = before[np.argmax(lo[before])] if len(before) else idx[np.argmin(lo[idx])]
        f = p.loc[pick, attrs].reset_index(drop=True)
        f.insert(0, "year", years)
        f.insert(0, "setting", setting)
        f["is_open"] = is_open
        cap = p.loc[pick, "capacity"].to_numpy(dtype=float)
        f["capacity"] = np.where(is_open, cap, 0.0)
        frames.append(f)
    cols = ["setting", "year", *attrs, "is_open", "capacity"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)[cols]
    out["capacity"] = out["capacity"].clip(lower=0)  # NaN (unlimited) passes through
    return out.sort_values(["setting", "year"], kind="stable").reset_index(drop=True)


def local_bases(timeline: pd.DataFrame) -> pd.DataFrame:
    """Rows of a timeline for local specialist settings (resource bases, special schools, units).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...                     "capacity": [20, None]})
    >>> local_bases(capacity_timeline(reg, [2025]))["setting"].tolist()
    ['RB1']
    """
    return timeline[timeline["kind"].isin(SPECIALIST_KINDS)].reset_index(drop=True)


def out_of_county_cost(provision: pd.DataFrame, weights: pd.Series | None = None) -> float:
    """Average cost per place of out-of-county settings (independent, other LA).

    Parameters
    ----------
    provision : DataFrame
        The register; rows of kind ``independent`` / ``other_la`` with a cost are used.
    weights : Series, optional
        Weight per setting code (e.g. children on roll); default equal weights.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["IND", "OLA"], "kind": ["independent", "other_la"],
    ...                     "capacity": [None, None], "cost_per_place": [60000, 40000]})
    >>> out_of_county_cost(reg)
    50000.0
    """
    p = validate_provision(provision)
    ooc = p[p["kind"].isin(OUT_OF_COUNTY_KINDS) & p["cost_per_place"].notna()]
    if ooc.empty:
        raise SenForecastError(
            "the provision register has no independent / other-LA setting with a cost_per_place; "
            "add one or pass ooc_cost_per_place=..."
        )
    w = np.ones(len(ooc)) if weights is None else ooc["setting"].map(weights).fillna(0).to_numpy(float)
    if w.sum() <= 0:
        w = np.ones(len(ooc))
    return float(np.average(ooc["cost_per_place"].to_numpy(float), weights=w))
