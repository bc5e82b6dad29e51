"""The provision register: one validated home for an authority's settings.

A :class:`ProvisionRegister` wraps the canonical ``provision`` table (``docs/contracts.md``: one
row per setting per capacity period) and answers every question other modules ask of it: the
need codes a setting is designated for (parsed once, to frozensets), its kind, its age range,
which period is in force in a year, and the capacity timeline after a scenario's supply-side
changes. It also carries the optional ``costs`` table (cost per place by setting and need),
which :class:`senforecast.core.costs.CostModel` turns into costs.

Designations
------------
A designation lists the need codes a setting takes. Codes are separated by any of ``;``, ``,``,
``|`` or ``/`` (spaces around codes are ignored), so ``"ASD;SLD"``, ``"ASD, SLD"``,
``"ASD|SLD"`` and ``"ASD/SLD"`` all mean {ASD, SLD}. ``"*"`` (alone or anywhere in the list)
or a blank cell means *every need*. :func:`parse_designation` is the only parser of
designations in the package; every module calls it, directly or through the register.
In the register's table a designation is stored in canonical form: codes joined by ``;`` in
the order given, or ``"*"``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .codes import OUT_OF_COUNTY_KINDS, SETTING_KINDS, SPECIALIST_KINDS
from .errors import InputValidationError, Problem, SenForecastError
from .ncy import NCY_MAX, NCY_MIN
from .scenarios import ProvisionChange, Scenario, SettingClosure

ALL_NEEDS = "*"
"""Designation meaning the setting takes every need."""

ANY_NEED = "ALL"
"""Need code of a projection without a need dimension: any setting takes it."""

DESIGNATION_SEPARATORS: tuple[str, ...] = (";", ",", "|", "/")
"""Characters that separate need codes in a designation."""

PROVISION_COLUMNS: tuple[str, ...] = (
    "setting", "name", "kind", "area", "min_ncy", "max_ncy", "capacity", "designation",
    "opens", "closes", "cost_per_place",
)
"""Canonical columns of the provision table, in order."""

_DESIGNATION_SPLIT = re.compile("[" + re.escape("".join(DESIGNATION_SEPARATORS)) + "]")
_MOVES_SPLIT = re.compile("[;,]")  # setting codes may hold '/' or '|', so moves_to splits on ; and , only
_NEVER = 10**6  # sentinel year: open since / closed from "never"


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def split_codes(value: object) -> tuple[str, ...]:
    """The codes of a designation cell, stripped, in order, each once (``()`` for a blank).

    Examples
    --------
    >>> split_codes(" ASD, SLD |ASD/ PMLD;")
    ('ASD', 'SLD', 'PMLD')
    >>> split_codes(None), split_codes("*")
    ((), ('*',))
    """
    if _missing(value):
        return ()
    return _split_text(str(value))


@lru_cache(maxsize=4096)
def _split_text(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in _DESIGNATION_SPLIT.split(text) if p.strip()))


def parse_designation(value: object) -> frozenset[str] | None:
    """Need codes a setting takes, or None when it takes every need.

    Separators ``;``, ``,``, ``|`` and ``/`` are all accepted; ``"*"`` anywhere, a blank or a
    missing value means every need.

    Parameters
    ----------
    value : str or None
        A designation cell, e.g. ``"ASD;SLD"``.

    Returns
    -------
    frozenset of str or None

    Examples
    --------
    >>> sorted(parse_designation("ASD, SLCN")), sorted(parse_designation("SLD/PMLD"))
    (['ASD', 'SLCN'], ['PMLD', 'SLD'])
    >>> parse_designation("*") is None, parse_designation("") is None, parse_designation(None) is None
    (True, True, True)
    """
    codes = split_codes(value)
    if not codes or ALL_NEEDS in codes:
        return None
    return frozenset(codes)


def designation_text(value: object) -> str:
    """Canonical text of a designation: codes joined by ``;`` in the order given, or ``"*"``.

    Examples
    --------
    >>> designation_text("ASD, SLD"), designation_text(None), designation_text("ASD;*")
    ('ASD;SLD', '*', '*')
    """
    codes = split_codes(value)
    return ALL_NEEDS if not codes or ALL_NEEDS in codes else ";".join(codes)


def designation_label(value: object) -> str:
    """Label of a designation for tables: sorted need codes joined by ``;``, or ``"*"``.

    Examples
    --------
    >>> designation_label("SLD; PMLD"), designation_label(None)
    ('PMLD;SLD', '*')
    """
    codes = parse_designation(value)
    return ALL_NEEDS if codes is None else ";".join(sorted(codes))


def takes_need(designation: object, need: str) -> bool:
    """True when a setting with this designation takes children with ``need`` (need ``"ALL"``,
    a projection without needs, is taken by every setting).

    Examples
    --------
    >>> takes_need("ASD,SLCN", "ASD"), takes_need("SLD", "ASD"), takes_need("*", "ASD")
    (True, False, True)
    """
    codes = parse_designation(designation)
    return codes is None or need in codes or need == ANY_NEED


def need_match(designations: Sequence[object], needs: Sequence[str]) -> np.ndarray:
    """Which designation takes which need: bool array of shape ``(len(needs), len(designations))``.

    A designation may be text or an already parsed frozenset / None (every need); need
    ``"ALL"`` matches every designation.

    Examples
    --------
    >>> need_match(["ASD;SLD", "*", frozenset({"MLD"})], ["ASD", "MLD", "ALL"]).astype(int).tolist()
    [[1, 1, 0], [0, 1, 1], [1, 1, 1]]
    """
    needs = np.asarray([str(n) for n in needs], dtype=object)
    out = np.zeros((len(needs), len(designations)), dtype=bool)
    anything = needs == ANY_NEED
    for j, des in enumerate(designations):
        codes = des if isinstance(des, frozenset) else parse_designation(des)
        out[:, j] = True if codes is None else (np.isin(needs, list(codes)) | anything)
    return out


def parse_moves_to(value: object) -> frozenset[str] | None:
    """Settings listed in the optional ``moves_to`` column (``;`` or ``,`` separated; ``"*"`` or
    blank = any setting). Setting codes may contain ``/`` or ``|``, so only ``;`` and ``,`` split.

    Examples
    --------
    >>> sorted(parse_moves_to("MS; SS,RB/1")), parse_moves_to("*")
    (['MS', 'RB/1', 'SS'], None)
    """
    if _missing(value):
        return None
    parts = [p.strip() for p in _MOVES_SPLIT.split(str(value)) if p.strip()]
    if not parts or ALL_NEEDS in parts:
        return None
    return frozenset(parts)


# ------------------------------------------------------------------------------ periods
def _bounds(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First open year and first closed year of each row (``opens``/``closes``; blank = never)."""
    lo = pd.to_numeric(frame["opens"], errors="coerce").astype(float) if "opens" in frame else None
    hi = pd.to_numeric(frame["closes"], errors="coerce").astype(float) if "closes" in frame else None
    n = len(frame)
    lo = np.full(n, -_NEVER) if lo is None else np.nan_to_num(lo.to_numpy(), nan=-_NEVER).astype(np.int64)
    hi = np.full(n, _NEVER) if hi is None else np.nan_to_num(hi.to_numpy(), nan=_NEVER).astype(np.int64)
    return lo, hi


def period_rows(frame: pd.DataFrame, settings: Sequence[object], years: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The row of ``frame`` in force for each (setting, year) pair, and whether it is open.

    The rule (one for the whole package): the period open in that year; when none is, the
    latest period that opened before the year, else the earliest period. ``-1`` for a setting
    the frame does not list. ``frame`` needs ``setting`` and may have ``opens``/``closes``
    (blank = always open / never closed), so partial registers work too.

    Returns
    -------
    rows : ndarray of int
        Position in ``frame`` (``-1``: unknown setting).
    is_open : ndarray of bool

    Examples
    --------
    >>> reg = pd.DataFrame({"setting": ["A", "A", "B"], "opens": [2020, 2025, None],
    ...                     "closes": [2025, 2027, None]})
    >>> rows, is_open = period_rows(reg, ["A", "A", "A", "B", "C"], [2024, 2026, 2030, 2024, 2024])
    >>> rows.tolist(), is_open.tolist()
    ([0, 1, 1, 2, -1], [True, True, False, True, False])
    """
    settings = np.asarray([str(s) for s in settings], dtype=object)
    years = np.asarray(years, dtype=np.int64)
    rows = np.full(len(settings), -1, dtype=np.int64)
    is_open = np.zeros(len(settings), dtype=bool)
    if not len(settings) or not len(frame):
        return rows, is_open
    lo, hi = _bounds(frame)
    codes = frame["setting"].astype(str).to_numpy()
    # distinct (setting, year) pairs: a million plan rows repeat a few hundred of them
    pairs = pd.MultiIndex.from_arrays([settings, years])
    codes_p, uniq = pairs.factorize()
    u_rows = np.full(len(uniq), -1, dtype=np.int64)
    u_open = np.zeros(len(uniq), dtype=bool)
    groups = pd.Series(np.arange(len(codes))).groupby(codes).indices
    for k, (s, y) in enumerate(uniq):
        idx = groups.get(s)
        if idx is None:
            continue
        active = (lo[idx] <= y) & (y < hi[idx])
        if active.any():
            u_rows[k], u_open[k] = idx[np.argmax(active)], True
            continue
        before = idx[lo[idx] <= y]
        u_rows[k] = before[np.argmax(lo[before])] if len(before) else idx[np.argmin(lo[idx])]
    return u_rows[codes_p], u_open[codes_p]


def kind_map(provision: "ProvisionRegister | pd.DataFrame") -> dict[str, str]:
    """Kind of each setting (of its latest period) from a register or any table with
    ``setting`` and ``kind`` columns (a partial register is enough).

    Examples
    --------
    >>> kind_map(pd.DataFrame({"setting": ["A", "A"], "kind": ["unit", "special_school"], "opens": [None, 2027]}))
    {'A': 'special_school'}
    """
    if isinstance(provision, ProvisionRegister):
        return provision.kinds
    t = provision.assign(_lo=_bounds(provision)[0]).sort_values(["setting", "_lo"], kind="stable")
    return dict(zip(t["setting"].astype(str), t["kind"].astype(str)))


def kind_of(kinds: Mapping[str, str], setting: object, default: str = "unknown") -> str:
    """Kind of a setting given a :func:`kind_map`: its kind there, else a kind name used as a
    setting code (``"mainstream"``, or ``"ALL"`` for no setting), else ``default``.

    Examples
    --------
    >>> kind_of({"RB1": "unit"}, "RB1"), kind_of({}, "mainstream"), kind_of({}, "XX")
    ('unit', 'mainstream', 'unknown')
    """
    s = str(setting)
    if s in kinds:
        return kinds[s]
    return s if s in SETTING_KINDS or s == ANY_NEED else default


# ------------------------------------------------------------------------------ validation
def validate_provision(provision: pd.DataFrame, *, file: str = "provision") -> pd.DataFrame:
    """Check a provision table and return it in canonical form.

    Missing optional columns get defaults (``name`` = setting, ``area`` = "ALL", ages
    -5..25, designation ``*``, always open, no cost). Designations are written in canonical
    form (:func:`designation_text`). Every problem is collected before raising.

    Parameters
    ----------
    provision : DataFrame
        Needs at least ``setting``, ``kind`` and ``capacity``.
    file : str
        Name used in error messages.

    Returns
    -------
    DataFrame
        Columns :data:`PROVISION_COLUMNS` (then any others); ``opens``/``closes`` as nullable Int64.

    Raises
    ------
    InputValidationError
        Unknown kind, negative capacity or cost, min_ncy > max_ncy, opens >= closes, two
        periods of one setting that overlap, or a local specialist setting without capacity.

    Examples
    --------
    >>> p = validate_provision(pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"],
    ...                                      "capacity": [20], "designation": ["ASD, SLD"]}))
    >>> p.loc[0, ["area", "designation"]].tolist(), int(p.loc[0, "min_ncy"]), int(p.loc[0, "max_ncy"])
    (['ALL', 'ASD;SLD'], -5, 25)
    """
    if not isinstance(provision, pd.DataFrame):
        raise SenForecastError("provision must be a pandas DataFrame or a ProvisionRegister "
                               "(see docs/contracts.md)")
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
    p["designation"] = p["designation"].map(designation_text).astype(str)
    problems: list[Problem] = []
    rows = np.arange(len(p)) + 2  # spreadsheet rows: header is row 1
    for col in ("capacity", "cost_per_place", "min_ncy", "max_ncy", "opens", "closes"):
        num = pd.to_numeric(p[col], errors="coerce")
        bad = num.isna() & p[col].notna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(file, int(rows[i]), col, "expected a number", p[col].iloc[i]))
        p[col] = num
    p["capacity"] = p["capacity"].astype(float)
    p["cost_per_place"] = p["cost_per_place"].astype(float)
    for i in np.flatnonzero(~p["kind"].isin(SETTING_KINDS).to_numpy()):
        problems.append(Problem(file, int(rows[i]), "kind", f"unknown kind; use one of {list(SETTING_KINDS)}",
                                p["kind"].iloc[i]))
    for col, what in (("capacity", "capacity cannot be negative (0 = closed)"),
                      ("cost_per_place", "a cost per place cannot be negative")):
        for i in np.flatnonzero((p[col] < 0).to_numpy()):
            problems.append(Problem(file, int(rows[i]), col, what, p[col].iloc[i]))
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
    lo, hi = _bounds(p)
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


def validate_costs(costs: pd.DataFrame, *, file: str = "costs") -> pd.DataFrame:
    """Check a costs table (``setting, [need], cost_per_place``) and return it in canonical form.

    ``cost`` is accepted for ``cost_per_place``; a blank ``need`` means the setting's cost for
    every need. Rows with a blank cost carry no information and are dropped.

    Raises
    ------
    InputValidationError
        Missing columns, a cost that is not a number or is negative, or a (setting, need)
        given twice.

    Examples
    --------
    >>> validate_costs(pd.DataFrame({"setting": ["IND", "IND"], "need": ["ASD", None],
    ...                              "cost": [70000, 60000]})).to_dict("records")
    [{'setting': 'IND', 'need': 'ASD', 'cost_per_place': 70000.0}, {'setting': 'IND', 'need': nan, 'cost_per_place': 60000.0}]
    """
    if not isinstance(costs, pd.DataFrame):
        raise SenForecastError("costs must be a pandas DataFrame with setting, [need], cost_per_place")
    c = costs.reset_index(drop=True)
    if "cost_per_place" not in c.columns and "cost" in c.columns:
        c = c.rename(columns={"cost": "cost_per_place"})
    missing = [col for col in ("setting", "cost_per_place") if col not in c.columns]
    if missing:
        raise InputValidationError([Problem(file, None, col, "required column is missing from the costs table")
                                    for col in missing])
    rows = np.arange(len(c)) + 2
    need = c["need"] if "need" in c.columns else pd.Series(np.nan, index=c.index, dtype=object)
    need = need.map(lambda v: np.nan if _missing(v) or not str(v).strip() else str(v).strip())
    cost = pd.to_numeric(c["cost_per_place"], errors="coerce").astype(float)
    problems = [Problem(file, int(rows[i]), "cost_per_place", "expected a number", c["cost_per_place"].iloc[i])
                for i in np.flatnonzero((cost.isna() & c["cost_per_place"].notna()).to_numpy())]
    problems += [Problem(file, int(rows[i]), "cost_per_place", "a cost per place cannot be negative", cost.iloc[i])
                 for i in np.flatnonzero((cost < 0).to_numpy())]
    out = pd.DataFrame({"setting": c["setting"].astype(str).str.strip(), "need": need.astype(object),
                        "cost_per_place": cost})
    key = out[["setting", "need"]].fillna("\x00")
    for i in np.flatnonzero(key.duplicated(keep="first").to_numpy()):
        problems.append(Problem(file, int(rows[i]), "need", "this setting and need already have a cost "
                                "(each setting and need once; a blank need = every need)", out["need"].iloc[i]))
    if problems:
        raise InputValidationError(problems)
    return out[out["cost_per_place"].notna()].reset_index(drop=True)


def _changes_of(changes) -> list:
    """ProvisionChange and SettingClosure items of a scenario or a list, in order of year."""
    if changes is None:
        return []
    if isinstance(changes, Scenario):
        changes = list(changes.provision_changes) + list(changes.closures)
    items = list(changes)
    for ch in items:
        if not isinstance(ch, (ProvisionChange, SettingClosure)):
            raise SenForecastError(f"provision changes must be ProvisionChange or SettingClosure (got {ch!r})")
    return sorted(items, key=lambda c: c.from_year)


@dataclass(frozen=True, eq=False, repr=False)
class ProvisionRegister:
    """The validated provision register of an authority (and its optional costs table).

    Built from the canonical ``provision`` table (a DataFrame is validated and put in canonical
    form); designations are parsed once. Every module that needs designations, kinds, age
    ranges, periods, the capacity timeline or cost inputs takes a register, and builds one from a
    DataFrame when given one (:meth:`of`).

    Parameters
    ----------
    table : DataFrame
        The provision table (``docs/contracts.md``); at least ``setting, kind, capacity``.
    costs : DataFrame, optional
        Cost per place by ``setting`` and optional ``need`` (``costs.csv``), see
        :func:`validate_costs`; :class:`senforecast.core.costs.CostModel` uses it.
    file : str
        Name used in error messages.

    Examples
    --------
    >>> reg = ProvisionRegister(pd.DataFrame({
    ...     "setting": ["RB1", "RB1", "IND"], "kind": ["resource_base", "resource_base", "independent"],
    ...     "capacity": [20, 30, None], "designation": ["ASD,SLD", "ASD,SLD", "*"],
    ...     "min_ncy": [0, 0, 0], "max_ncy": [6, 6, 13], "opens": [None, 2027, None],
    ...     "closes": [2027, None, None]}))
    >>> reg
    ProvisionRegister(2 settings, 3 periods)
    >>> sorted(reg.needs_of("RB1")), reg.needs_of("IND") is None, reg.kind_of("IND")
    (['ASD', 'SLD'], True, 'independent')
    >>> reg.timeline([2026, 2027]).query("setting == 'RB1'")["capacity"].tolist()
    [20.0, 30.0]
    """

    table: pd.DataFrame
    costs: pd.DataFrame | None = None
    file: str = "provision"

    def __post_init__(self) -> None:
        table = validate_provision(self.table, file=self.file)
        object.__setattr__(self, "table", table)
        if self.costs is not None:
            object.__setattr__(self, "costs", validate_costs(self.costs))
        object.__setattr__(self, "_needs", tuple(parse_designation(d) for d in table["designation"]))
        object.__setattr__(self, "_kinds", kind_map(table))

    @classmethod
    def of(cls, provision: "ProvisionRegister | pd.DataFrame", *, costs: pd.DataFrame | None = None
           ) -> "ProvisionRegister":
        """A register as is, or one built from a provision DataFrame (so old calls keep working).

        Examples
        --------
        >>> reg = ProvisionRegister.of(pd.DataFrame({"setting": ["RB1"], "kind": ["unit"], "capacity": [8]}))
        >>> ProvisionRegister.of(reg) is reg
        True
        """
        if isinstance(provision, cls):
            return provision if costs is None else provision.with_costs(costs)
        if provision is None:
            raise SenForecastError("this step needs the provision register; load it with read_provision")
        return cls(provision, costs)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"ProvisionRegister({len(self.settings)} settings, {len(self.table)} periods)"

    # ---------------------------------------------------------------- lookups
    @property
    def settings(self) -> list[str]:
        """Setting codes, sorted."""
        return sorted(self.table["setting"].unique())

    @property
    def designations(self) -> tuple[frozenset[str] | None, ...]:
        """Need codes taken by each row (None = every need), parsed once."""
        return self._needs  # type: ignore[attr-defined]

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of each setting (of its latest period)."""
        return dict(self._kinds)  # type: ignore[attr-defined]

    def kind_of(self, setting: object, default: str = "unknown") -> str:
        """Kind of a setting: from the register, else a kind name used as a setting code
        (``"mainstream"``), else ``default``.

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1"], "kind": ["unit"], "capacity": [8]}))
        >>> reg.kind_of("RB1"), reg.kind_of("mainstream"), reg.kind_of("XX")
        ('unit', 'mainstream', 'unknown')
        """
        return kind_of(self._kinds, setting, default)  # type: ignore[attr-defined]

    def needs_of(self, setting: object) -> frozenset[str] | None:
        """Need codes a setting takes in any of its periods (None = every need).

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1", "RB1"], "kind": ["unit"] * 2,
        ...     "capacity": [8, 9], "designation": ["ASD", "SLD"], "opens": [None, 2027], "closes": [2027, None]}))
        >>> sorted(reg.needs_of("RB1"))
        ['ASD', 'SLD']
        """
        rows = np.flatnonzero((self.table["setting"] == str(setting)).to_numpy())
        if not len(rows):
            raise SenForecastError(f"setting {setting!r} is not in the provision register")
        out: frozenset[str] = frozenset()
        for i in rows:
            codes = self.designations[i]
            if codes is None:
                return None
            out |= codes
        return out

    def age_range(self, setting: object) -> tuple[int, int]:
        """Widest NCY range of a setting over its periods.

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1"], "kind": ["unit"], "capacity": [8],
        ...                                       "min_ncy": [2], "max_ncy": [6]}))
        >>> reg.age_range("RB1")
        (2, 6)
        """
        rows = self.table[self.table["setting"] == str(setting)]
        if rows.empty:
            raise SenForecastError(f"setting {setting!r} is not in the provision register")
        return int(rows["min_ncy"].min()), int(rows["max_ncy"].max())

    def with_kinds(self, kinds: Mapping[str, str] | None) -> "ProvisionRegister":
        """A copy with some settings' kinds overridden (e.g. ``{"OLA-MS": "mainstream"}``);
        codes the register does not list are left for the caller (projections may use them).

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["OLA"], "kind": ["other_la"], "capacity": [None]}))
        >>> reg.with_kinds({"OLA": "mainstream"}).kind_of("OLA")
        'mainstream'
        """
        if not kinds:
            return self
        bad = {k: v for k, v in kinds.items() if v not in SETTING_KINDS}
        if bad:
            raise SenForecastError(f"kinds {bad} are not setting kinds; use one of {list(SETTING_KINDS)}")
        t = self.table.assign(kind=[kinds.get(s, k) for s, k in zip(self.table["setting"], self.table["kind"])])
        return ProvisionRegister(t, self.costs, self.file)

    def with_costs(self, costs: pd.DataFrame | None) -> "ProvisionRegister":
        """A copy carrying a costs table (``setting, [need], cost_per_place``)."""
        return ProvisionRegister(self.table, costs, self.file)

    def of_kinds(self, kinds: Iterable[str]) -> list[str]:
        """Settings whose (latest) kind is one of ``kinds``, sorted.

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["unit", "independent"],
        ...                                       "capacity": [8, None]}))
        >>> reg.of_kinds(OUT_OF_COUNTY_KINDS), reg.of_kinds(SPECIALIST_KINDS)
        (['IND'], ['RB1'])
        """
        kinds = set(kinds)
        return sorted(s for s, k in self.kinds.items() if k in kinds)

    def active_on(self, year: int) -> pd.DataFrame:
        """Rows (periods) open in ``year``.

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1", "RB2"], "kind": ["unit"] * 2,
        ...                                       "capacity": [8, 9], "opens": [None, 2027]}))
        >>> reg.active_on(2026)["setting"].tolist(), reg.active_on(2027)["setting"].tolist()
        (['RB1'], ['RB1', 'RB2'])
        """
        lo, hi = _bounds(self.table)
        return self.table[(lo <= int(year)) & (int(year) < hi)].reset_index(drop=True)

    def period_rows(self, settings: Sequence[object], years: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Row in force for each (setting, year) and whether it is open (see :func:`period_rows`)."""
        return period_rows(self.table, settings, years)

    # ---------------------------------------------------------------- scenarios
    def apply(self, changes: Scenario | Iterable[ProvisionChange | SettingClosure] | None) -> "ProvisionRegister":
        """The register after a scenario's supply-side changes, in order of year.

        * :class:`ProvisionChange` sets a setting's capacity from ``from_year`` on: its current
          period is closed at ``from_year``, later periods are replaced, and a new period starts
          with the new capacity (and any attributes the change gives). A new setting code opens
          a new base, which needs ``area``, ``designation``, ``min_ncy`` and ``max_ncy``.
        * :class:`SettingClosure` closes the setting from ``from_year``: its places are gone
          from that year (a setting the register does not list has no places to remove).

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"],
        ...     "capacity": [20], "designation": ["ASD"], "min_ncy": [0], "max_ncy": [6]}))
        >>> out = reg.apply([ProvisionChange("RB1", 30, 2027), SettingClosure("RB1", 2030)]).table
        >>> out["capacity"].tolist(), out["opens"].tolist(), out["closes"].tolist()
        ([20.0, 30.0], [<NA>, 2027], [2027, 2030])
        """
        items = _changes_of(changes)
        if not items:
            return self
        p = self.table.copy()
        fields = ("name", "kind", "area", "designation", "min_ncy", "max_ncy", "cost_per_place")
        for ch in items:
            mine = (p["setting"] == ch.setting).to_numpy()
            if isinstance(ch, SettingClosure):
                p = _cut(p, mine, ch.from_year)
                continue
            if ch.capacity is None or ch.capacity < 0:
                raise SenForecastError(
                    f"ProvisionChange for {ch.setting!r}: capacity must be 0 or more (got {ch.capacity})"
                )
            rows = p[mine]
            if len(rows):
                opens = rows["opens"].fillna(-_NEVER).astype("int64")
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
                new = {"setting": ch.setting, "name": ch.setting, "kind": "resource_base", "cost_per_place": np.nan}
            for f in fields:
                if getattr(ch, f) is not None:
                    new[f] = getattr(ch, f)
            new["capacity"] = float(ch.capacity)
            new["opens"], new["closes"] = ch.from_year, pd.NA
            p = _cut(p, mine, ch.from_year)
            p = pd.concat([p, pd.DataFrame([new])], ignore_index=True)
        p = p.sort_values(["setting", "opens"], na_position="first", kind="stable").reset_index(drop=True)
        return ProvisionRegister(p, self.costs, self.file)

    def timeline(self, years: Sequence[int], changes: Scenario | Iterable | None = None) -> pd.DataFrame:
        """Places by setting and year, one row per setting per year, open or not.

        Parameters
        ----------
        years : sequence of int
            Census years wanted.
        changes : Scenario or list of ProvisionChange / SettingClosure, optional
            Supply-side changes applied first (:meth:`apply`).

        Returns
        -------
        DataFrame
            ``setting, year, name, kind, area, min_ncy, max_ncy, designation, cost_per_place,
            is_open, capacity``: the attributes of the period in force (:func:`period_rows`);
            capacity 0 when closed, NaN when unlimited, never negative.

        Examples
        --------
        >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["RB1", "RB1"], "kind": ["resource_base"] * 2,
        ...                     "capacity": [20, 30], "opens": [2024, 2026], "closes": [2026, 2028]}))
        >>> reg.timeline(range(2025, 2029))["capacity"].tolist()
        [20.0, 30.0, 30.0, 0.0]
        """
        p = self.apply(changes).table
        years = np.asarray(list(years), dtype=int)
        attrs = ["name", "kind", "area", "min_ncy", "max_ncy", "designation", "cost_per_place"]
        cols = ["setting", "year", *attrs, "is_open", "capacity"]
        settings = sorted(p["setting"].unique())
        if not settings or not len(years):
            return pd.DataFrame(columns=cols)
        s_all = np.repeat(np.asarray(settings, dtype=object), len(years))
        y_all = np.tile(years, len(settings))
        rows, is_open = period_rows(p, s_all, y_all)
        out = p.iloc[rows][attrs].reset_index(drop=True)
        out.insert(0, "year", y_all)
        out.insert(0, "setting", s_all.astype(str))
        out["is_open"] = is_open
        cap = p["capacity"].to_numpy(dtype=float)[rows]
        out["capacity"] = np.where(is_open, cap, 0.0)
        out["capacity"] = out["capacity"].clip(lower=0)  # NaN (unlimited) passes through
        return out[cols].sort_values(["setting", "year"], kind="stable").reset_index(drop=True)


def _cut(p: pd.DataFrame, mine: np.ndarray, year: int) -> pd.DataFrame:
    """Periods of one setting ended at ``year``: later periods dropped, the current one closed."""
    starts = p["opens"].fillna(-_NEVER).astype("int64").to_numpy()
    p = p[~(mine & (starts >= year))].copy()
    mine = mine[~(mine & (starts >= year))]
    ends = p["closes"].fillna(_NEVER).astype("int64").to_numpy()
    p.loc[mine & (ends > year), "closes"] = year
    return p
