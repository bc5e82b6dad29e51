"""The cost model: yearly cost of a place by need x setting and year, in real terms and in cash.

One owner for every cost figure of the package (gap analysis, allocation, scenarios, report).

Precedence
----------
The cost of a place for a child with need *n* in setting *s* in year *y* is the first of:

1. the costs table's row for (*s*, *n*) (``costs.csv`` with a ``need`` column);
2. the costs table's row for *s* with a blank need (the setting's cost for every need);
3. the provision register's ``cost_per_place`` of the period of *s* in force in *y* (a
   scenario's ``ProvisionChange(cost_per_place=...)`` for a new base lands here);
4. the mean of the costs table's need rows for *s*;
5. the average of the settings of the same kind in *y* (from 1-4), with a warning naming the
   settings;
6. nothing: the cost is missing (NaN), with a warning naming the settings. A missing cost is
   never counted as 0; totals that need it are missing too.

When the costs table and the register both give a setting's cost and they differ, the costs
table is used and a warning names the settings.

Out of county
-------------
A child who is not placed locally goes to an out-of-county setting (kind ``independent`` or
``other_la``) designated for their need. The cost of such a child is the average over those
settings of the cost for the need, weighted by the children with that need on roll there at
the last census (all children on roll there when none have the need; equal weights when
there are none). When no out-of-county setting is designated for the need, all of them are
used, with a warning.

Prices
------
Costs are at the prices of ``base_year`` (real terms; by default the last census year).
Cash figures add ``inflation`` a year: cash = real x (1 + inflation) ** (year - base_year).

Amounts written with decimal commas (``7500,00``, ``1.234,50``) are read by the table readers
(:mod:`senforecast.core.schema`); this module receives numbers.
"""
from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .codes import OUT_OF_COUNTY_KINDS
from .errors import InputWarning, SenForecastError
from .provision import ANY_NEED, ProvisionRegister, need_match, validate_costs

SOURCES: tuple[str, ...] = ("costs table (need)", "costs table", "provision register",
                            "costs table (mean over needs)", "average of kind", "missing")
"""Where a cost per place came from, in order of precedence (``source`` column)."""

_LATEST = 10**5  # a year after every period: the period in force is each setting's latest


def _gbp(x: float) -> str:
    return "missing" if not np.isfinite(x) else f"{x:,.0f}"


class CostModel:
    """Cost per place by need x setting and year, with a documented precedence (module docs).

    Parameters
    ----------
    register : ProvisionRegister or DataFrame
        The provision register (its ``cost_per_place`` and its ``costs`` table).
    costs : DataFrame, optional
        Costs table ``setting, [need], cost_per_place``; default: the register's own.
    inflation : float
        Yearly inflation for cash figures (0.02 = 2% a year).
    base_year : int, optional
        Price base of the costs (real terms). Default: set by the caller, usually the last
        census year (:meth:`with_base_year`).

    Examples
    --------
    >>> reg = pd.DataFrame({"setting": ["RB1", "RB2", "IND"],
    ...     "kind": ["resource_base", "resource_base", "independent"], "capacity": [10, 8, None],
    ...     "designation": ["ASD", "SLD", "*"], "cost_per_place": [20000, None, 60000]})
    >>> costs = pd.DataFrame({"setting": ["IND"], "need": ["ASD"], "cost_per_place": [80000]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cm = CostModel(reg, costs, inflation=0.02, base_year=2025)
    ...     m = cm.matrix(["ASD", "SLD"], ["RB1", "RB2", "IND"], [2026])
    >>> m[0].tolist()  # RB2 has no cost: the average of resource bases (RB1's 20,000)
    [[20000.0, 20000.0, 80000.0], [20000.0, 20000.0, 60000.0]]
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    no cost per place for setting(s) RB2 (resource_base) ...: costed at the average of their kind ...
    >>> cm.cash_factor([2025, 2027]).round(4).tolist()
    [1.0, 1.0404]
    """

    def __init__(self, register: ProvisionRegister | pd.DataFrame, costs: pd.DataFrame | None = None, *,
                 inflation: float = 0.0, base_year: int | None = None) -> None:
        self._setup(register, costs, inflation, base_year, set())

    def _setup(self, register, costs, inflation, base_year, warned: set[str]) -> None:
        self.register = ProvisionRegister.of(register)
        table = costs if costs is not None else self.register.costs
        self.table = validate_costs(table) if table is not None else validate_costs(
            pd.DataFrame({"setting": [], "cost_per_place": []}))
        if isinstance(inflation, bool) or not isinstance(inflation, (int, float)) or not math.isfinite(inflation) \
                or not -1 < inflation <= 1:
            raise SenForecastError(f"inflation must be a yearly rate such as 0.02 (2% a year), above -1 "
                                   f"(found {inflation!r})")
        if base_year is not None and (isinstance(base_year, bool) or int(base_year) != base_year):
            raise SenForecastError(f"base_year must be a year such as 2025 (found {base_year!r})")
        self.inflation = float(inflation)
        self.base_year = None if base_year is None else int(base_year)
        self._warned = warned  # shared with copies, so a copy does not repeat a warning
        self._cache: dict[tuple, pd.DataFrame] = {}
        self._check_tables()

    def __repr__(self) -> str:
        return (f"CostModel({len(self.table)} costs table rows, inflation {self.inflation:.1%}, "
                f"prices of {self.base_year if self.base_year is not None else 'the base year'})")

    # ---------------------------------------------------------------- copies
    def for_register(self, register: ProvisionRegister | pd.DataFrame) -> "CostModel":
        """The same costs table, inflation and base year over another register (e.g. the
        register after a scenario's changes)."""
        return self._copy(register, self.base_year)

    def _copy(self, register, base_year) -> "CostModel":
        new = CostModel.__new__(CostModel)
        new._setup(register, self.table, self.inflation, base_year, self._warned)
        return new

    def with_base_year(self, year: int) -> "CostModel":
        """This model with ``base_year`` set to ``year`` when it has none.

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["unit"], "capacity": [5], "cost_per_place": [1.0]})
        >>> CostModel(reg).with_base_year(2025).base_year, CostModel(reg, base_year=2020).with_base_year(2025).base_year
        (2025, 2020)
        """
        if self.base_year is not None:
            return self
        return self._copy(self.register, int(year))

    # ---------------------------------------------------------------- warnings
    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, InputWarning, stacklevel=3)

    def _check_tables(self) -> None:
        t = self.table
        known = set(self.register.settings)
        unknown = sorted(set(t["setting"]) - known)
        if unknown:
            self._warn(f"the costs table names setting(s) {', '.join(unknown[:10])} that are not in the provision "
                       "register; those rows are not used")
        level = t[t["need"].isna()].set_index("setting")["cost_per_place"]
        reg = self.register.table.dropna(subset=["cost_per_place"])
        clash = []
        for s, c in level.items():
            theirs = reg.loc[reg["setting"] == s, "cost_per_place"].unique()
            if len(theirs) and not np.any(np.isclose(theirs, c)):
                clash.append(f"{s} ({_gbp(c)} vs {_gbp(theirs[0])})")
        if clash:
            self._warn(f"the costs table and the provision register give different costs per place for "
                       f"{len(clash)} setting(s): {', '.join(clash[:8])} (costs table vs register); the costs "
                       "table is used")

    # ---------------------------------------------------------------- setting level
    def setting_costs(self, years: Sequence[int], settings: Sequence[str] | None = None, *,
                      warn: bool = True) -> pd.DataFrame:
        """Cost per place of each setting and year for every need (precedence steps 2-6).

        Parameters
        ----------
        years : sequence of int
        settings : sequence of str, optional
            Settings wanted (default: all in the register). Only these are warned about.
        warn : bool
            Warn (once per message) about settings costed at their kind's average or missing.

        Returns
        -------
        DataFrame
            ``setting, year, kind, cost_per_place, source`` (real terms, at ``base_year`` prices).

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
        ...                     "capacity": [10, None], "cost_per_place": [20000, 60000]})
        >>> costs = pd.DataFrame({"setting": ["IND"], "cost_per_place": [65000]})
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # the two tables disagree about IND
        ...     t = CostModel(reg, costs).setting_costs([2026])
        >>> t[["setting", "cost_per_place", "source"]].values.tolist()
        [['IND', 65000.0, 'costs table'], ['RB1', 20000.0, 'provision register']]
        """
        years = tuple(int(y) for y in years)
        key = years
        if key not in self._cache:
            self._cache[key] = self._all_setting_costs(years)
        out = self._cache[key]
        if settings is not None:
            wanted = [str(s) for s in settings]
            unknown = sorted(set(wanted) - set(self.register.settings))
            if unknown:
                raise SenForecastError(f"setting(s) {unknown} are not in the provision register, so they have no cost")
            out = out[out["setting"].isin(wanted)].reset_index(drop=True)
        if warn:
            self._warn_filled(out)
        return out

    def _all_setting_costs(self, years: tuple[int, ...]) -> pd.DataFrame:
        tl = self.register.timeline(years)[["setting", "year", "kind", "cost_per_place"]].copy()
        t = self.table
        level = t[t["need"].isna()].set_index("setting")["cost_per_place"]
        need_mean = t[t["need"].notna()].groupby("setting")["cost_per_place"].mean()
        from_level = tl["setting"].map(level)
        from_reg = tl["cost_per_place"]
        from_mean = tl["setting"].map(need_mean)
        cost = from_level.fillna(from_reg).fillna(from_mean)
        source = np.select([from_level.notna(), from_reg.notna(), from_mean.notna()],
                           ["costs table", "provision register", "costs table (mean over needs)"], "missing")
        tl["cost_per_place"] = cost.astype(float)
        tl["source"] = source
        avg = tl[tl["cost_per_place"].notna()].groupby(["year", "kind"])["cost_per_place"].mean()
        fill = pd.Series(list(zip(tl["year"], tl["kind"])), index=tl.index).map(avg)
        use = tl["cost_per_place"].isna() & fill.notna()
        tl.loc[use, "cost_per_place"] = fill[use].astype(float)
        tl.loc[use, "source"] = "average of kind"
        return tl.reset_index(drop=True)

    def _warn_filled(self, t: pd.DataFrame) -> None:
        for source, what in (("average of kind", "costed at the average of their kind"),
                             ("missing", "no other setting of the same kind has a cost either, so their "
                                         "places are left out of the cost figures (shown blank, never as 0)")):
            sub = t[t["source"] == source].drop_duplicates("setting")
            if sub.empty:
                continue
            names = ", ".join(f"{s} ({k})" for s, k in zip(sub["setting"].head(10), sub["kind"].head(10)))
            extra = f" and {len(sub) - 10} more" if len(sub) > 10 else ""
            if source == "average of kind":
                avg = t[t["source"] == source].groupby("kind")["cost_per_place"].first()
                what += " (" + ", ".join(f"{k} {_gbp(v)}" for k, v in avg.items()) + " a year)"
            self._warn(f"no cost per place for setting(s) {names}{extra} in the provision register or the costs "
                       f"table: {what}; add cost_per_place to the register or a row to the costs table (costs.csv)")

    # ---------------------------------------------------------------- need x setting
    def matrix(self, needs: Sequence[str], settings: Sequence[str], years: Sequence[int], *,
               warn: bool = True) -> np.ndarray:
        """Real cost per place, shape ``(len(years), len(needs), len(settings))`` (NaN = missing).

        The costs table's (setting, need) rows win; need ``"ALL"`` (a projection without
        needs) takes the setting's cost.

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["IND"], "kind": ["independent"], "capacity": [None],
        ...                     "cost_per_place": [60000]})
        >>> costs = pd.DataFrame({"setting": ["IND"], "need": ["ASD"], "cost_per_place": [75000]})
        >>> CostModel(reg, costs).matrix(["ASD", "MLD", "ALL"], ["IND"], [2026])[0, :, 0].tolist()
        [75000.0, 60000.0, 60000.0]
        """
        settings = [str(s) for s in settings]
        years = [int(y) for y in years]
        sc = self.setting_costs(years, settings, warn=warn)
        wide = sc.pivot(index="year", columns="setting", values="cost_per_place").reindex(index=years, columns=settings)
        m = np.repeat(wide.to_numpy(dtype=float)[:, None, :], len(needs), axis=1)
        rows = self.table[self.table["need"].notna()]
        n_pos = {str(n): i for i, n in enumerate(needs)}
        s_pos = {s: j for j, s in enumerate(settings)}
        for s, n, c in zip(rows["setting"], rows["need"], rows["cost_per_place"]):
            if s in s_pos and n in n_pos and n != ANY_NEED:
                m[:, n_pos[n], s_pos[s]] = c
        return m

    def cash_factor(self, years: Sequence[int]) -> np.ndarray:
        """Cash / real for each year: ``(1 + inflation) ** (year - base_year)``."""
        if self.base_year is None:
            raise SenForecastError("the cost model has no base_year (price base); set one with with_base_year()")
        return (1.0 + self.inflation) ** (np.asarray(years, dtype=float) - self.base_year)

    # ---------------------------------------------------------------- out of county
    def out_of_county(self, needs: Sequence[str], years: Sequence[int], on_roll: pd.DataFrame | None = None,
                      *, warn: bool = True) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Where out-of-county children of each need go, and their real cost per child.

        Parameters
        ----------
        needs : sequence of str
        years : sequence of int
        on_roll : DataFrame, optional
            Children on roll at the last census: ``setting, [need], count``.
        warn : bool
            Warn about settings without a cost and needs no setting is designated for.

        Returns
        -------
        settings : list of str
            Out-of-county settings (kinds ``independent``, ``other_la``).
        shares : ndarray (n_years, n_needs, n_settings)
            Share of a need's out-of-county children in each setting (rows add to 1, or 0 when
            no setting has a cost).
        unit : ndarray (n_years, n_needs)
            Real cost per out-of-county child (NaN when no setting has a cost).

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["IND-ASD", "IND-SEMH", "OLA"],
        ...     "kind": ["independent", "independent", "other_la"], "capacity": [None] * 3,
        ...     "designation": ["ASD", "SEMH", "*"], "cost_per_place": [70000, 98000, 46000]})
        >>> roll = pd.DataFrame({"setting": ["IND-ASD", "OLA", "IND-SEMH"], "need": ["ASD", "ASD", "SEMH"],
        ...                      "count": [3, 1, 2]})
        >>> settings, shares, unit = CostModel(reg).out_of_county(["ASD", "SEMH"], [2026], roll)
        >>> shares[0].round(2).tolist(), unit[0].tolist()  # ASD: 3 of 4 at 70k, 1 at 46k
        ([[0.75, 0.0, 0.25], [0.0, 1.0, 0.0]], [64000.0, 98000.0])
        """
        ooc = self.register.of_kinds(OUT_OF_COUNTY_KINDS)
        needs = [str(n) for n in needs]
        years = [int(y) for y in years]
        if not ooc:
            return [], np.zeros((len(years), len(needs), 0)), np.full((len(years), len(needs)), np.nan)
        takes = need_match([self.register.needs_of(s) for s in ooc], needs)
        none = [n for n, row in zip(needs, takes) if not row.any()]
        if none and warn:
            self._warn(f"no out-of-county setting is designated for need(s) {', '.join(none[:10])}: children with "
                       "them who cannot be placed locally are costed at the average of all out-of-county settings")
            takes[~takes.any(axis=1)] = True
        weights = self._roll_weights(needs, ooc, takes, on_roll)
        cost = self.matrix(needs, ooc, years, warn=warn)
        ok = np.isfinite(cost) & (weights[None] > 0)
        w = np.where(ok, weights[None], 0.0)
        tot = w.sum(axis=2, keepdims=True)
        shares = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
        unit = np.where(tot[..., 0] > 0, (shares * np.nan_to_num(cost)).sum(axis=2), np.nan)
        return ooc, shares, unit

    @staticmethod
    def _roll_weights(needs: list[str], settings: list[str], takes: np.ndarray,
                      on_roll: pd.DataFrame | None) -> np.ndarray:
        """Weight of each (need, setting): children with the need on roll there, else all
        children on roll there, else 1 - over the settings designated for the need."""
        out = takes.astype(float)
        if on_roll is None or on_roll.empty:
            return out
        by_setting = on_roll.groupby(on_roll["setting"].astype(str))["count"].sum().reindex(settings).fillna(0)
        by_setting = by_setting.to_numpy(float)
        by_need = None
        if "need" in on_roll.columns:
            by_need = (on_roll.assign(setting=on_roll["setting"].astype(str), need=on_roll["need"].astype(str))
                       .pivot_table(index="need", columns="setting", values="count", aggfunc="sum")
                       .reindex(index=needs, columns=settings).fillna(0).to_numpy(float))
        for i, n in enumerate(needs):
            for w in ((None if by_need is None or n == ANY_NEED else by_need[i]), by_setting):
                if w is not None and (w * takes[i]).sum() > 0:
                    out[i] = w * takes[i]
                    break
        return out

    def average_out_of_county_cost(self, weights: pd.Series | Mapping[str, float] | None = None,
                                   year: int | None = None) -> float:
        """Average cost per place of the out-of-county settings, weighted by ``weights``
        (children on roll per setting; default equal), as one number for summaries.

        Raises
        ------
        SenForecastError
            No independent / other-LA setting has a cost in the register or the costs table.

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["IND", "OLA"], "kind": ["independent", "other_la"],
        ...                     "capacity": [None, None], "cost_per_place": [60000, 40000]})
        >>> CostModel(reg).average_out_of_county_cost(), CostModel(reg).average_out_of_county_cost({"IND": 3, "OLA": 1})
        (50000.0, 55000.0)
        """
        ooc = self.register.of_kinds(OUT_OF_COUNTY_KINDS)
        y = self.base_year if year is None and self.base_year is not None else (year or _LATEST)
        sc = self.setting_costs([y], ooc, warn=False).dropna(subset=["cost_per_place"]) if ooc else pd.DataFrame()
        if sc.empty:
            raise SenForecastError(
                "no independent / other-LA setting has a cost per place in the provision register or the costs "
                "table, so out-of-county places cannot be costed: add cost_per_place for them to the register or "
                "rows to the costs table (costs.csv)"
            )
        w = np.ones(len(sc)) if weights is None else sc["setting"].map(pd.Series(weights, dtype=float)).fillna(0)
        w = np.asarray(w, dtype=float)
        if w.sum() <= 0:
            w = np.ones(len(sc))
        return float(np.average(sc["cost_per_place"].to_numpy(float), weights=w))

    def describe(self) -> str:
        """The cost assumptions in one paragraph (for a report's assumptions table).

        Examples
        --------
        >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["unit"], "capacity": [5], "cost_per_place": [1.0]})
        >>> CostModel(reg, inflation=0.02, base_year=2025).describe()[:60]
        'cost per place by need and setting: the costs table row for '
        """
        prices = f"{self.base_year} prices" if self.base_year is not None else "base-year prices"
        return ("cost per place by need and setting: the costs table row for the need and setting, else its row "
                "for the setting, else the provision register's cost_per_place, else the average of the setting's "
                "kind (warned; a missing cost is never counted as 0). Out of county: the average of the "
                "out-of-county settings designated for the need, weighted by children with the need on roll there "
                f"at the last census. Costs in real terms are at {prices}; cash figures add "
                f"{self.inflation:.1%} a year")
