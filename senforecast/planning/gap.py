"""Gap analysis: projected demand for specialist places against the capacity timeline.

Demand for specialist places is the projected number of children in local specialist
settings (resource bases, special schools, units) and out-of-county settings (independent,
other LA) - where they *would* be placed is decided afresh by the allocation, so a child now
out of county comes back when a local place that can take them exists. A projection without
settings (setting ``"ALL"``) needs a ``specialist_share``.

Tables (all tidy, one row per year and group):

* :meth:`GapAnalysis.by_year` - the whole authority;
* :meth:`GapAnalysis.by_group` - designation x phase x area. Each need is counted under the
  most specific designation of a local base that takes it (``ASD`` before ``*``), and a base
  that spans phases has its places split across phases in proportion to the year groups it
  covers, so groups partition both demand and places: their gaps add up to the total gap;
* :meth:`GapAnalysis.by_base` - each base: capacity, projected roll (when the projection
  has the base as a setting) and the children the allocation places there;
* :meth:`GapAnalysis.starting_point` - on roll against capacity in the last census year;
* :meth:`GapAnalysis.unplaced` - who goes out of county and why.

Scenarios: the supply side (``provision_changes`` and ``closures``) is applied here, to the
register (:meth:`senforecast.core.provision.ProvisionRegister.apply`), whatever the model. A
closed specialist or out-of-county setting keeps its projected children in demand (by area,
NCY and need) while its places are gone, so the allocation re-places them in other bases that
take their need and age, or out of county: closing a full school raises places short and out
of county, never lowers them. Where they go is decided here rather than in the cohort
simulation because only the allocation knows which bases have room. Capacity changes dated in
or before the last census, closures of unknown settings and kind overrides of unknown settings
are errors.

"Spare" is capacity minus demand (negative = places short); the probability of shortfall is
the share of draws in which demand exceeds capacity.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .allocation import Allocation, allocate, unplaced_table
from .capacity import local_bases
from ..core.codes import OUT_OF_COUNTY_KINDS, SETTING_KINDS, SPECIALIST_KINDS
from ..core.costs import CostModel
from ..core.errors import InputWarning, SenForecastError
from ..core.provision import ALL_NEEDS, ProvisionRegister, designation_label, kind_map, kind_of, parse_designation
from ..core.ncy import PHASES, phase
from ..projection import Projection, group_sum, quantile_label
from ..core.scenarios import ProvisionChange, Scenario, SettingClosure

DEMAND_KINDS = SPECIALIST_KINDS | OUT_OF_COUNTY_KINDS
NO_DESIGNATION = "(no base)"
REASON_PROJECTED_OOC = "projected out of county"


def closure_kinds(scenario: Scenario | None, register: ProvisionRegister,
                  kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """Kind of each setting a scenario closes (``kinds`` overrides the register)."""
    if scenario is None:
        return {}
    return {c.setting: (kinds or {}).get(c.setting, register.kind_of(c.setting)) for c in scenario.closures}


def demand_scenario(scenario: Scenario, provision: ProvisionRegister | pd.DataFrame,
                    kinds: Mapping[str, str] | None = None) -> Scenario:
    """The part of ``scenario`` a model should project before :func:`gap_analysis` applies the rest.

    Closing a specialist or out-of-county setting is *supply side*: its places are gone from
    the closure year, but its children still need a specialist place of their need and age.
    The model keeps them in demand (it does not route them anywhere) and the gap analysis
    removes the places and lets the allocation re-place the children in other suitable bases,
    or out of county when none has room. Those closures are therefore dropped here; every
    other part (including the closure of a mainstream setting) is left for the model.

    Parameters
    ----------
    scenario : Scenario
    provision : ProvisionRegister or DataFrame
        Says which settings are specialist or out of county.
    kinds : mapping, optional
        Kind overrides, as given to :func:`gap_analysis`.

    Returns
    -------
    Scenario
        Same name; the closures of specialist and out-of-county settings removed.

    Examples
    --------
    >>> reg = pd.DataFrame({"setting": ["SS1", "MS1"], "kind": ["special_school", "mainstream"],
    ...                     "capacity": [40, None]})
    >>> s = Scenario("shut", closures=(SettingClosure("SS1", 2027), SettingClosure("MS1", 2027)))
    >>> [c.setting for c in demand_scenario(s, reg).closures]
    ['MS1']
    """
    register = ProvisionRegister.of(provision)
    ck = closure_kinds(scenario, register, kinds)
    keep = tuple(c for c in scenario.closures if ck[c.setting] not in DEMAND_KINDS)
    if len(keep) == len(scenario.closures):
        return scenario
    return dataclasses.replace(scenario, closures=keep)


def check_supply_side(scenario: Scenario | None, register: ProvisionRegister, last_census: int | None,
                      settings: Sequence[str] = ()) -> None:
    """Raise a clear error for a supply-side change the gap analysis cannot honestly apply.

    * a closure of a setting neither in the register, nor in ``settings`` (the projection's),
      nor opened by the scenario;
    * a capacity change or closure dated in or before the last census year: the census already
      shows that year's places and rolls, so the change would rewrite history.

    Examples
    --------
    >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["SS1"], "kind": ["special_school"],
    ...                                       "capacity": [40]}))
    >>> check_supply_side(Scenario("old", closures=(SettingClosure("SS1", 2020),)), reg, 2025)
    Traceback (most recent call last):
    ...
    senforecast.core.errors.SenForecastError: scenario 'old': SettingClosure of 'SS1' from 2020 is dated in or before the last census (2025), so it would rewrite observed capacity; date it from 2026 or later (the first projected year)
    """
    if scenario is None:
        return
    problems = []
    opened = {p.setting for p in scenario.provision_changes}
    known = sorted(set(register.settings) | {str(x) for x in settings})
    for c in scenario.closures:
        if c.setting not in known and c.setting not in opened:
            problems.append(f"SettingClosure setting {c.setting!r} is not in the provision register or the "
                            f"projection (known settings: {', '.join(known)})")
    if last_census is not None:
        for ch in (*scenario.provision_changes, *scenario.closures):
            if int(ch.from_year) <= int(last_census):
                problems.append(
                    f"{type(ch).__name__} of {ch.setting!r} from {ch.from_year} is dated in or before the last "
                    f"census ({last_census}), so it would rewrite observed capacity; date it from "
                    f"{last_census + 1} or later (the first projected year)")
    if problems:
        raise SenForecastError(f"scenario {scenario.name!r}: " + "; ".join(problems))


def check_kinds(kinds: Mapping[str, str] | None, register: ProvisionRegister, projection: Projection) -> None:
    """Raise when a kind override names a setting neither the register nor the projection has.

    Examples
    --------
    >>> reg = ProvisionRegister(pd.DataFrame({"setting": ["OLA"], "kind": ["other_la"], "capacity": [None]}))
    >>> p = Projection(np.ones((1, 1, 1)), [2026], pd.DataFrame({"setting": ["OLA"]}))
    >>> check_kinds({"OLA-X": "mainstream"}, reg, p)
    Traceback (most recent call last):
    ...
    senforecast.core.errors.SenForecastError: [gap] kinds names setting(s) 'OLA-X' that are not in the provision register or the projection; known settings: OLA
    """
    if not kinds:
        return
    known = set(register.settings)
    if "setting" in projection.cells.columns:
        known |= set(projection.cells["setting"].astype(str))
    bad = [k for k in kinds if str(k) not in known]
    if bad:
        raise SenForecastError(
            f"[gap] kinds names setting(s) {', '.join(repr(b) for b in bad)} that are not in the provision "
            f"register or the projection; known settings: {', '.join(sorted(known))}")


def _interval(confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise SenForecastError(f"confidence must be between 0 and 1 (got {confidence})")
    lo = (1 - confidence) / 2
    return lo, 1 - lo


def setting_kinds(projection: Projection, provision: ProvisionRegister | pd.DataFrame,
                  extra: Mapping[str, str] | None = None) -> pd.Series:
    """Kind of each setting in a projection: from the provision register, a kind name used
    as a setting, or ``extra``; unknown settings get ``"unknown"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> p = Projection(np.ones((1, 1, 3)), [2026], pd.DataFrame({"setting": ["RB1", "independent", "MS"]}))
    >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "capacity": [10]})
    >>> setting_kinds(p, reg, {"MS": "mainstream"}).to_dict()
    {'RB1': 'resource_base', 'independent': 'independent', 'MS': 'mainstream'}
    """
    if "setting" not in projection.cells.columns:
        return pd.Series({"ALL": "ALL"})
    kinds = kind_map(provision)  # a register, or any table with setting and kind
    out = {}
    for s in projection.cells["setting"].astype(str).unique():
        out[s] = extra[s] if extra and s in extra else kind_of(kinds, s)
    return pd.Series(out)


def specialist_demand(
    projection: Projection,
    provision: ProvisionRegister | pd.DataFrame,
    *,
    specialist_share: float | pd.DataFrame | None = None,
    kinds: Mapping[str, str] | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Draws of the children needing a specialist place, by (area, ncy, need).

    Parameters
    ----------
    projection : Projection
        With dimensions ``ncy`` and ideally ``area``, ``need``, ``setting``.
    provision : ProvisionRegister or DataFrame
        The register; it tells which settings are specialist or out of county.
    specialist_share : float or DataFrame, optional
        For cells with setting ``"ALL"``: share of children needing a specialist place
        (a DataFrame has some of ``area, ncy, need`` and a ``share`` column). Each child is
        counted in with this probability (binomial thinning), so the intervals carry it.
    kinds : mapping, optional
        Kind of setting codes that are not in the register (e.g. ``{"MS": "mainstream"}``).
    seed : int, optional
        Seed of the thinning.

    Returns
    -------
    demand : ndarray (n_draws, n_years, n_groups)
    groups : DataFrame with ``area, ncy, need``

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> cells = pd.DataFrame({"area": ["N"] * 3, "ncy": [3] * 3, "need": ["ASD"] * 3,
    ...                       "setting": ["RB1", "OOC", "MS"]})
    >>> p = Projection(np.array([[[4, 2, 30]]]), [2026], cells)
    >>> reg = pd.DataFrame({"setting": ["RB1", "OOC"], "kind": ["resource_base", "independent"],
    ...                     "capacity": [10, None]})
    >>> d, g = specialist_demand(p, reg, kinds={"MS": "mainstream"})
    >>> d.tolist(), g.to_dict("records")
    ([[[6.0]]], [{'area': 'N', 'ncy': 3, 'need': 'ASD'}])
    """
    local, ooc, groups = _demand_parts(projection, provision, specialist_share=specialist_share,
                                       kinds=kinds, seed=seed)
    return local + ooc, groups


def _demand_parts(projection: Projection, provision: ProvisionRegister | pd.DataFrame, *, specialist_share=None,
                  kinds=None, seed=None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Specialist demand split into children projected in local settings (or with no
    setting) and children projected out of county, by (area, ncy, need)."""
    cells = projection.cells.copy()
    if "ncy" not in cells.columns or (cells["ncy"].astype(str) == "ALL").any():
        raise SenForecastError(
            "the gap analysis needs projections by NCY (age ranges of bases are by NCY); "
            "project with a model that keeps the ncy dimension"
        )
    for dim in ("area", "need", "setting"):
        if dim not in cells.columns:
            cells[dim] = "ALL"
    if (cells["need"].astype(str) == "ALL").any():
        warnings.warn("projection has no need dimension: every base is treated as able to take every "
                      "child, whatever its designation", InputWarning, stacklevel=2)
    kind_of = setting_kinds(Projection(projection.draws[:1, :1], projection.years[:1], cells[["setting"]]),
                            provision, kinds)
    unknown = sorted(kind_of[kind_of == "unknown"].index)
    if unknown:
        warnings.warn(
            f"settings {unknown} are not in the provision register and are not a setting kind; "
            "they are counted as not needing a specialist place (pass kinds={...} to say what they are)",
            InputWarning, stacklevel=2)
    cell_kind = cells["setting"].astype(str).map(kind_of).to_numpy()
    all_cells = cell_kind == "ALL"
    keep = np.isin(cell_kind, list(DEMAND_KINDS)) | all_cells
    if not keep.any():
        raise SenForecastError(
            "no projected children are in specialist or out-of-county settings: check the provision "
            "register's kinds match the projection's setting codes"
        )
    keys_k = cells.loc[keep, ["area", "ncy", "need"]].astype({"area": str, "need": str}).reset_index(drop=True)
    codes_k = keys_k.groupby(["area", "ncy", "need"], sort=True).ngroup().to_numpy()
    groups = keys_k.assign(_g=codes_k).drop_duplicates("_g").sort_values("_g").drop(columns="_g")
    groups = groups.reset_index(drop=True)
    groups["ncy"] = groups["ncy"].astype(int)
    codes = np.full(len(cells), -1)
    codes[keep] = codes_k
    is_ooc = np.isin(cell_kind, list(OUT_OF_COUNTY_KINDS))
    local = keep & ~all_cells & ~is_ooc
    # sum only the counted cells, without a float copy of the whole draws array
    demand = _collapse(projection.draws, np.where(local, codes, -1), len(groups))
    ooc = _collapse(projection.draws, np.where(is_ooc, codes, -1), len(groups))
    if all_cells.any():
        if specialist_share is None:
            raise SenForecastError(
                "the projection has no settings (setting 'ALL'): pass specialist_share=0.3 (or a table "
                "with a 'share' column by need/ncy/area) to say what share need a specialist place"
            )
        share = _share_per_cell(cells[all_cells].reset_index(drop=True), specialist_share)
        rng = np.random.default_rng(seed)
        part = projection.draws[:, :, all_cells].astype(float)
        if np.allclose(part, np.round(part)):
            part = rng.binomial(np.round(part).astype(np.int64), share[None, None, :]).astype(float)
        else:
            part = part * share[None, None, :]
        demand += _collapse(part, codes[all_cells], len(groups))
    return demand, ooc, groups


def _collapse(arr: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the last axis of ``arr`` into ``n_groups`` groups (codes -1 are left out), as floats."""
    return group_sum(arr, codes, n_groups, dtype=np.float64)


def _share_per_cell(cells: pd.DataFrame, share: float | pd.DataFrame) -> np.ndarray:
    if not isinstance(share, pd.DataFrame):
        s = float(share)
        if not 0 <= s <= 1:
            raise SenForecastError(f"specialist_share must be between 0 and 1 (got {s})")
        return np.full(len(cells), s)
    keys = [c for c in ("area", "ncy", "need") if c in share.columns]
    if "share" not in share.columns or not keys:
        raise SenForecastError("a specialist_share table needs a 'share' column and some of area, ncy, need")
    m = cells[keys].merge(share[keys + ["share"]], on=keys, how="left")["share"]
    if m.isna().any():
        miss = cells.loc[m.isna().to_numpy(), keys].drop_duplicates().head(5).to_dict("records")
        raise SenForecastError(f"specialist_share has no row for {miss}; add them")
    return m.to_numpy(float)


def designation_groups(bases: pd.DataFrame) -> np.ndarray:
    """Designation group of each base, as used by :meth:`GapAnalysis.by_group`.

    Bases that take a common need at a common age compete for the same children, so they are
    joined into one group (transitively); its label is the union of their need codes. Bases
    taking every need (``*``) form the group ``"*"``. Groups partition the bases, so their
    places add up to the total.

    Examples
    --------
    >>> import pandas as pd
    >>> bases = pd.DataFrame({"designation": ["ASD;SLCD", "ASD;SLD", "SLD;PMLD", "ASD", "*"],
    ...                       "min_ncy": [0, 0, 2, 7, 0], "max_ncy": [6, 6, 6, 11, 13]})
    >>> designation_groups(bases).tolist()
    ['ASD;PMLD;SLCD;SLD', 'ASD;PMLD;SLCD;SLD', 'ASD;PMLD;SLCD;SLD', 'ASD', '*']
    """
    codes = [parse_designation(d) for d in bases["designation"]]
    lo = bases["min_ncy"].to_numpy(int)
    hi = bases["max_ncy"].to_numpy(int)
    parent = list(range(len(codes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            if codes[i] is None or codes[j] is None:
                continue
            if codes[i] & codes[j] and lo[i] <= hi[j] and lo[j] <= hi[i]:
                parent[root(i)] = root(j)
    needs: dict[int, set[str]] = {}
    for i, c in enumerate(codes):
        if c is not None:
            needs.setdefault(root(i), set()).update(c)
    return np.array([ALL_NEEDS if c is None else ";".join(sorted(needs[root(i)])) for i, c in enumerate(codes)],
                    dtype=object)


def group_designations(groups: pd.DataFrame, bases: pd.DataFrame) -> np.ndarray:
    """Designation group each demand group (need, ncy) is counted under.

    The group of the bases that take the need at that NCY (unique: such bases are joined by
    :func:`designation_groups`); otherwise ``"*"`` when an all-needs base covers the age; else
    the group of a base that takes the need at another age; else ``"(no base)"``.

    Examples
    --------
    >>> import pandas as pd
    >>> bases = pd.DataFrame({"designation": ["ASD", "*"], "min_ncy": [0, 7], "max_ncy": [6, 13]})
    >>> groups = pd.DataFrame({"need": ["ASD", "ASD", "SLD", "SLD"], "ncy": [3, 9, 3, 9]})
    >>> group_designations(groups, bases).tolist()
    ['ASD', '*', '(no base)', '*']
    """
    labels = designation_groups(bases)
    codes = [parse_designation(d) for d in bases["designation"]]
    lo = bases["min_ncy"].to_numpy(int)
    hi = bases["max_ncy"].to_numpy(int)
    out = np.empty(len(groups), dtype=object)
    cache: dict[tuple[str, int], str] = {}
    for k, (need, ncy) in enumerate(zip(groups["need"].astype(str), groups["ncy"].astype(int))):
        if (need, ncy) not in cache:
            age = (lo <= ncy) & (ncy <= hi)
            takes = np.array([c is not None and (need in c or need == "ALL") for c in codes], dtype=bool)
            star = np.array([c is None for c in codes], dtype=bool)
            if (takes & age).any():
                cache[need, ncy] = labels[np.flatnonzero(takes & age)[0]]
            elif (star & age).any():
                cache[need, ncy] = ALL_NEEDS
            elif takes.any():
                cache[need, ncy] = labels[np.flatnonzero(takes)[0]]
            else:
                cache[need, ncy] = NO_DESIGNATION
        out[k] = cache[need, ncy]
    return out


def _phase_fractions(min_ncy: int, max_ncy: int) -> dict[str, float]:
    ph = phase(np.arange(int(min_ncy), int(max_ncy) + 1))
    names, counts = np.unique(ph, return_counts=True)
    return {str(n): c / counts.sum() for n, c in zip(names, counts)}


class GapAnalysis:
    """Projected demand for specialist places against capacity, allocation and costs.

    Built by :func:`gap_analysis`; see the module docstring for the tables. Arrays are
    kept so the plots (``gap.plot``) and custom summaries can use the draws.

    Attributes
    ----------
    years : ndarray
    demand : ndarray, shape (n_draws, n_years, n_groups)
    groups : DataFrame
        ``area, ncy, need, phase, designation`` of each demand group.
    timeline : DataFrame
        Capacity timeline of every setting (local and out of county), history year included.
    allocation : Allocation or None
    projected_ooc : ndarray or None
        With ``ooc_placements="stay"``: children the projection keeps out of county, shape
        like ``demand`` (they are not offered local places).
    ooc_cost_per_place : float
    confidence : float
    scenario : Scenario or None
    meta : dict
        The projection's meta plus scenario name, confidence and out-of-county cost.

    Examples
    --------
    One group of primary ASD children, a 10-place base and an independent school, two
    draws over two years:

    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...     "area": ["N", "N"], "capacity": [10, None], "designation": ["ASD", "*"],
    ...     "min_ncy": [0, 0], "max_ncy": [6, 13], "cost_per_place": [20000, 60000]})
    >>> cells = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 3], "need": ["ASD", "ASD"],
    ...                       "setting": ["RB1", "IND"]})
    >>> draws = np.array([[[8, 4], [9, 5]], [[7, 1], [8, 2]]])  # (draws, years, cells)
    >>> gap = gap_analysis(Projection(draws, [2026, 2027], cells), reg)
    >>> gap.demand[:, :, 0].tolist()  # specialist demand per draw and year
    [[12.0, 14.0], [8.0, 10.0]]
    >>> gap.ooc_total.tolist()  # what the base cannot take goes out of county
    [[2.0, 4.0], [0.0, 0.0]]
    >>> bool((gap.ooc_cost == gap.ooc_total * gap.ooc_cost_per_place).all())
    True
    >>> gap.groups[["need", "phase"]].values.tolist()
    [['ASD', 'primary']]
    """

    def __init__(self, *, projection: Projection, demand: np.ndarray, groups: pd.DataFrame,
                 timeline: pd.DataFrame, allocation: Allocation | None, ooc_cost_per_place: float,
                 confidence: float, scenario: Scenario | None, history: pd.DataFrame | None,
                 base_roll: np.ndarray | None, projected_ooc: np.ndarray | None = None,
                 cost_model: CostModel, ooc_costs: dict) -> None:
        self.projection = projection
        self.years = np.asarray(projection.years, dtype=int)
        self.demand = demand
        self.groups = groups
        self.timeline = timeline
        self.allocation = allocation
        self.ooc_cost_per_place = float(ooc_cost_per_place)
        self.confidence = confidence
        self.scenario = scenario
        self.history = history
        self._base_roll = base_roll
        self.projected_ooc = projected_ooc
        self.name = scenario.name if scenario is not None else "baseline"
        self.costs = cost_model
        self._ooc_costs = ooc_costs
        self.meta = {**projection.meta, "scenario": self.name, "confidence": confidence,
                     "ooc_cost_per_place": self.ooc_cost_per_place, "inflation": cost_model.inflation,
                     "price_base_year": cost_model.base_year}
        bases = local_bases(timeline)
        self.bases = (bases.sort_values("year").drop_duplicates("setting", keep="last")
                      .sort_values("setting").reset_index(drop=True)
                      [["setting", "name", "kind", "area", "designation", "min_ncy", "max_ncy", "cost_per_place"]])
        if len(self.bases):  # the cost model's cost per place (costs table first), in the last year
            sc = cost_model.setting_costs([int(self.years.max())], self.bases["setting"].tolist(), warn=False)
            self.bases["cost_per_place"] = self.bases["setting"].map(sc.set_index("setting")["cost_per_place"])
        self.bases["designation_group"] = designation_groups(self.bases)
        self.groups = self.groups.assign(designation=group_designations(self.groups, self.bases))
        cap = bases.pivot_table(index="year", columns="setting", values="capacity", aggfunc="sum")
        self.capacity = cap.reindex(index=self.years, columns=self.bases["setting"]).fillna(0.0).to_numpy()

    def __repr__(self) -> str:
        return (f"GapAnalysis({self.name!r}, years {self.years.min()}-{self.years.max()}, "
                f"{self.demand.shape[0]} draws, {len(self.bases)} local bases)")

    # ---------------------------------------------------------------- helpers
    @property
    def quantiles(self) -> tuple[float, float]:
        """Lower and upper quantile of the interval at ``confidence``."""
        return _interval(self.confidence)

    def _stats(self, arr: np.ndarray, prefix: str, full: bool = False) -> dict[str, np.ndarray]:
        lo, hi = self.quantiles
        qs = sorted({0.05, 0.25, 0.5, 0.75, 0.95, lo, hi}) if full else [lo, 0.5, hi]
        vals = np.quantile(arr, qs, axis=0)
        out = {f"{prefix}_mean": arr.mean(axis=0)} if full or prefix in ("ooc", "ooc_cost") else {}
        for q, v in zip(qs, vals):
            out[f"{prefix}_{'median' if q == 0.5 else quantile_label(q)}"] = v
        return out

    def _ooc_draws(self) -> np.ndarray | None:
        """Children out of county per draw, year and group (overflow + kept out of county)."""
        if self.allocation is None:
            return None
        if self.projected_ooc is None:
            return self.allocation.overflow
        return self.allocation.overflow + self.projected_ooc

    @property
    def ooc_total(self) -> np.ndarray:
        """Draws of children placed out of county, shape (n_draws, n_years)."""
        if self.allocation is None:
            raise SenForecastError("run gap_analysis(..., allocate=True) to get out-of-county numbers")
        return self._ooc_draws().sum(axis=2)

    def _ooc_unit(self) -> np.ndarray:
        """Real cost per out-of-county child, per year and demand group (n_years, n_groups)."""
        return self._ooc_costs["unit"][:, self._ooc_costs["need_idx"]]

    @property
    def ooc_cost(self) -> np.ndarray:
        """Draws of the out-of-county cost, shape (n_draws, n_years), in real terms (prices of
        ``costs.base_year``): each child costs the out-of-county average for their need."""
        over = self._ooc_draws()
        if over is None:
            raise SenForecastError("run gap_analysis(..., allocate=True) to get out-of-county numbers")
        unit = self._ooc_unit()
        return np.where(over > 0, over * unit[None], 0.0).sum(axis=2)

    def _local_unit(self) -> np.ndarray:
        """Real cost of a place per year, demand group (its need) and local base."""
        a = self.allocation
        needs = self._ooc_costs["needs"]
        m = self.costs.matrix(needs, a.bases["setting"].tolist(), self.years, warn=False)  # (Y, N, B)
        return m[:, self._ooc_costs["need_idx"], :]

    @property
    def local_cost(self) -> np.ndarray:
        """Draws of the cost of the local places used, shape (n_draws, n_years), in real terms
        (a base with no cost anywhere is costed at its kind's average, with a warning; missing
        costs are never counted as 0)."""
        if self.allocation is None:
            raise SenForecastError("run gap_analysis(..., allocate=True) to get costs")
        if not len(self.allocation.bases):
            return np.zeros(self.allocation.load.shape[:2])
        return self.allocation.cost(self._local_unit())

    def cost_table(self) -> pd.DataFrame:
        """Cost of specialist places by year, place (local / out of county), need and setting.

        Means over draws (they add up: the out-of-county rows of a year sum to ``by_year()``'s
        ``ooc_cost_mean``, the local rows to the mean of :attr:`local_cost`). Out-of-county
        children of a need are shared over the out-of-county settings designated for it in
        proportion to the children with that need on roll there at the last census.

        Returns
        -------
        DataFrame
            ``year, place, need, setting, kind, children_mean, cost_per_place_real,
            cost_per_place_cash, cost_real_mean, cost_cash_mean``; real terms at the prices of
            ``costs.base_year``, cash with ``costs.inflation`` a year. Rows with no children
            are left out.
        """
        if self.allocation is None:
            raise SenForecastError("run gap_analysis(..., allocate=True) to get costs")
        needs = self._ooc_costs["needs"]
        need_idx = self._ooc_costs["need_idx"]
        cash = self.costs.cash_factor(self.years)
        rows: list[pd.DataFrame] = []

        def add(t: int, place: str, settings: list[str], kinds: list[str], children: np.ndarray,
                unit: np.ndarray) -> None:
            n_i, s_i = np.nonzero(children > 1e-12)
            if not len(n_i):
                return
            ch = children[n_i, s_i]
            u = unit[n_i, s_i]
            rows.append(pd.DataFrame({
                "year": int(self.years[t]), "place": place, "need": np.asarray(needs, dtype=object)[n_i],
                "setting": np.asarray(settings, dtype=object)[s_i], "kind": np.asarray(kinds, dtype=object)[s_i],
                "children_mean": ch, "cost_per_place_real": u, "cost_per_place_cash": u * cash[t],
                "cost_real_mean": ch * u, "cost_cash_mean": ch * u * cash[t]}))

        a = self.allocation
        member = np.zeros((len(needs), len(self.groups)))
        member[need_idx, np.arange(len(self.groups))] = 1.0
        if len(a.bases):
            local_unit = self.costs.matrix(needs, a.bases["setting"].tolist(), self.years, warn=False)
            for t, year in enumerate(self.years):
                children = member @ a.placed(int(year)).mean(axis=0)  # (needs, bases)
                add(t, "local", a.bases["setting"].tolist(), a.bases["kind"].astype(str).tolist(), children,
                    local_unit[t])
        over = member @ self._ooc_draws().mean(axis=0).T  # (needs, years)
        oc = self._ooc_costs
        for t in range(len(self.years)):
            if oc["shares"] is None:  # one cost given for every out-of-county place
                add(t, "out of county", ["(any)"], ["out_of_county"], over[:, t:t + 1], oc["unit"][t][:, None])
            elif len(oc["settings"]):
                kinds = [self.costs.register.kind_of(s) for s in oc["settings"]]
                shares = oc["shares"][t]
                unit = self.costs.matrix(needs, oc["settings"], [int(self.years[t])], warn=False)[0]
                add(t, "out of county", oc["settings"], kinds, over[:, t:t + 1] * shares, unit)
        cols = ["year", "place", "need", "setting", "kind", "children_mean", "cost_per_place_real",
                "cost_per_place_cash", "cost_real_mean", "cost_cash_mean"]
        if not rows:
            return pd.DataFrame(columns=cols)
        return pd.concat(rows, ignore_index=True)[cols]

    # ----------------------------------------------------------------- tables
    def by_year(self) -> pd.DataFrame:
        """Whole-authority table per year.

        Columns: ``year``, ``demand_*`` (mean, median, quantiles), ``capacity`` (local
        specialist places), ``spare_*`` (capacity - demand; negative = short),
        ``prob_shortfall``, ``first_year_exceeded`` (same in every row), and with an
        allocation ``ooc_*`` (children out of county), ``ooc_cost_*``, ``local_cost_median``,
        ``cross_area_mean`` (placed outside their area).
        """
        total = self.demand.sum(axis=2)
        cap = self.capacity.sum(axis=1)
        frame = pd.DataFrame({"year": self.years, **self._stats(total, "demand", full=True), "capacity": cap})
        frame = frame.assign(**self._stats(cap[None, :] - total, "spare"))
        frame["prob_shortfall"] = (total > cap[None, :]).mean(axis=0)
        frame["first_year_exceeded"] = _first_year(frame["prob_shortfall"].to_numpy()[:, None], self.years,
                                                   self.confidence, len(self.years))
        if self.allocation is not None:
            frame = frame.assign(**self._stats(self.ooc_total, "ooc"), **self._stats(self.ooc_cost, "ooc_cost"))
            frame["local_cost_median"] = np.median(self.local_cost, axis=0)
            frame["cross_area_mean"] = self.allocation.cross_area.mean(axis=0)
        return frame

    def _group_arrays(self, by_area: bool = True) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
        """Partition keys, demand draws (D, Y, K), capacity (Y, K) and overflow draws."""
        single_area = not by_area or set(self.groups["area"]) == {"ALL"}
        gkey = self.groups[["designation", "phase", "area"]].astype(str)
        if single_area:
            gkey = gkey.assign(area="ALL")
        cap_rows = []
        for b, base in self.bases.iterrows():
            area = "ALL" if single_area else str(base["area"])
            for ph, frac in _phase_fractions(base["min_ncy"], base["max_ncy"]).items():
                cap_rows.append((self.bases["designation_group"].iloc[b], ph, area, b, frac))
        ckey = pd.DataFrame(cap_rows, columns=["designation", "phase", "area", "base", "frac"])
        keys = pd.concat([gkey, ckey[["designation", "phase", "area"]]]).drop_duplicates()
        order = {p: i for i, p in enumerate(PHASES)}
        keys = keys.assign(_p=keys["phase"].map(order)).sort_values(["designation", "_p", "area"])
        keys = keys.drop(columns="_p").reset_index(drop=True)
        idx = {tuple(r): i for i, r in enumerate(keys.itertuples(index=False))}
        gk = np.array([idx[tuple(r)] for r in gkey.itertuples(index=False)], dtype=int)
        d, y, _ = self.demand.shape
        dem = np.zeros((d, y, len(keys)))
        np.add.at(dem, (slice(None), slice(None), gk), self.demand)
        cap = np.zeros((y, len(keys)))
        for r in ckey.itertuples(index=False):
            cap[:, idx[(r.designation, r.phase, r.area)]] += self.capacity[:, r.base] * r.frac
        over = None
        if self.allocation is not None:
            over = np.zeros_like(dem)
            np.add.at(over, (slice(None), slice(None), gk), self._ooc_draws())
        return keys, dem, cap, over

    def by_group(self, by_area: bool = True) -> pd.DataFrame:
        """Table by designation x phase x area and year (``by_area=False``: the whole
        authority, area ``"ALL"``).

        Columns: ``designation, phase, area, year``, ``demand_*``, ``capacity``, ``spare_*``,
        ``prob_shortfall``, ``first_year_exceeded`` (first year when the probability of
        shortfall reaches ``confidence``), and with an allocation ``ooc_*`` and ``ooc_cost_*``
        (children of the group placed out of county; they may have been displaced by
        children of other groups sharing a base).
        """
        keys, dem, cap, over = self._group_arrays(by_area)
        n_years, k = cap.shape
        frame = keys.loc[np.tile(np.arange(k), n_years)].reset_index(drop=True)
        frame["year"] = np.repeat(self.years, k)
        flat = lambda a: a.reshape(a.shape[0], -1)  # (D, Y*K) in year-major order
        cols = self._stats(flat(dem), "demand", full=True)
        cols["capacity"] = cap.reshape(-1)
        cols.update(self._stats(flat(cap[None] - dem), "spare"))
        prob = (dem > cap[None]).mean(axis=0)
        cols["prob_shortfall"] = prob.reshape(-1)
        if over is not None:
            cols.update(self._stats(flat(over), "ooc"))
            cols.update(self._stats(flat(over * self.ooc_cost_per_place), "ooc_cost"))
        frame = frame.assign(**cols)
        frame["first_year_exceeded"] = _first_year(prob, self.years, self.confidence, n_years)
        return frame

    def by_base(self) -> pd.DataFrame:
        """Table per local base and year.

        Columns: ``setting, name, area, designation, min_ncy, max_ncy, year, capacity``;
        ``roll_*`` and ``spare_*``, ``prob_shortfall`` from the projected roll of the base
        when the projection has it as a setting (else missing); ``allocated_*`` children the
        allocation places there and ``allocated_spare_median``.
        """
        b = len(self.bases)
        n_years = len(self.years)
        frame = self.bases.loc[np.tile(np.arange(b), n_years)].reset_index(drop=True)
        frame["year"] = np.repeat(self.years, b)
        frame["capacity"] = self.capacity.reshape(-1)
        cols: dict[str, np.ndarray] = {}
        if self._base_roll is not None:
            roll = self._base_roll.reshape(self._base_roll.shape[0], -1)
            cols.update(self._stats(roll, "roll", full=True))
            cols.update(self._stats(self.capacity.reshape(1, -1) - roll, "spare"))
            prob = (self._base_roll > self.capacity[None]).mean(axis=0)
            cols["prob_shortfall"] = prob.reshape(-1)
            cols["first_year_exceeded"] = _first_year(prob, self.years, self.confidence, n_years)
        if self.allocation is not None:
            load = self.allocation.load.reshape(self.allocation.load.shape[0], -1)
            cols.update(self._stats(load, "allocated"))
            cols["allocated_spare_median"] = self.capacity.reshape(-1) - np.median(load, axis=0)
        return frame.assign(**cols)

    def starting_point(self, out_of_county: bool = False) -> pd.DataFrame:
        """On roll against capacity in the last census year, per local base.

        Parameters
        ----------
        out_of_county : bool
            Also list the out-of-county settings (capacity unlimited, so ``spare`` is
            missing) with children on roll there; ``yearly_cost`` = on roll x cost per place.

        Returns
        -------
        DataFrame
            ``setting, name, kind, area, designation, year, capacity, on_roll, spare``
            (capacity - on roll), ``cost_per_place``, ``yearly_cost``. Needs
            ``projection.history`` with a ``setting`` column.
        """
        h = self.history
        if h is None or "setting" not in h.columns or h.empty:
            raise SenForecastError(
                "the projection has no history by setting, so the starting point (on roll vs capacity "
                "today) cannot be shown; fit the model on plans with a setting column"
            )
        last = int(h["year"].max())
        roll = h[h["year"] == last].groupby("setting")["count"].sum()
        tl = self.timeline[self.timeline["year"] == last]
        keep = tl["kind"].isin(SPECIALIST_KINDS)
        if out_of_county:
            keep |= tl["kind"].isin(OUT_OF_COUNTY_KINDS) & tl["setting"].isin(roll.index)
        tl = tl[keep].reset_index(drop=True)
        out = tl[["setting", "name", "kind", "area", "designation", "year", "capacity"]].copy()
        out["on_roll"] = out["setting"].map(roll).fillna(0).to_numpy()
        out["spare"] = out["capacity"] - out["on_roll"]
        # the cost model's cost per place (costs table first); by need where the history has needs
        settings = out["setting"].tolist()
        sc = self.costs.setting_costs([last], settings, warn=False).set_index("setting")["cost_per_place"]
        out["cost_per_place"] = out["setting"].map(sc).to_numpy(float)
        if "need" in h.columns and len(out):
            by_need = h[h["year"] == last].groupby(["need", "setting"])["count"].sum().unstack(fill_value=0)
            by_need = by_need.reindex(columns=settings, fill_value=0)
            m = self.costs.matrix(by_need.index.astype(str).tolist(), settings, [last], warn=False)[0]
            w = by_need.to_numpy(float)
            out["yearly_cost"] = np.where(w > 0, w * m, 0.0).sum(axis=0)
        else:
            out["yearly_cost"] = out["on_roll"] * out["cost_per_place"]
        local = out["kind"].isin(SPECIALIST_KINDS)
        # local bases first (as in by_base), then out-of-county settings
        return pd.concat([out[local].sort_values("setting"), out[~local].sort_values("setting")],
                         ignore_index=True)

    def unplaced(self, by: Sequence[str] = ("area", "ncy", "need")) -> pd.DataFrame:
        """Children who cannot be placed locally, by year, ``by`` (any of area, ncy, need,
        phase) and reason (no base takes the need / no base for the age / bases full, and with
        ``ooc_placements="stay"`` projected out of county by the model)."""
        if self.allocation is None:
            raise SenForecastError("run gap_analysis(..., allocate=True) to see who is unplaced")
        lo, hi = self.quantiles
        out = self.allocation.unplaced(quantiles=(lo, 0.5, hi), by=by, labels=self.groups[["phase"]])
        if self.projected_ooc is not None:
            kept = unplaced_table(self.projected_ooc, REASON_PROJECTED_OOC, self.allocation.groups, self.years,
                                  quantiles=(lo, 0.5, hi), by=by, labels=self.groups[["phase"]])
            out = pd.concat([out, kept], ignore_index=True).sort_values(["year", *by, "reason"], kind="stable")
            out = out.reset_index(drop=True)
        return out

    def summary(self) -> pd.DataFrame:
        """Short per-year table for a paper: demand, places, short, out of county, cost."""
        t = self.by_year()
        cols = ["year", "demand_median", "capacity", "spare_median", "prob_shortfall"]
        if self.allocation is not None:
            cols += ["ooc_median", "ooc_cost_median"]
        return t[cols]

    @property
    def plot(self):
        """Charts of this gap analysis (see :mod:`senforecast.plotting`)."""
        from ..plotting.accessors import GapPlots  # lazy: matplotlib loads only when a chart is drawn

        return GapPlots(self)


def _first_year(prob: np.ndarray, years: np.ndarray, confidence: float, repeat: int = 1) -> pd.arrays.IntegerArray:
    """First year (per column) with probability >= confidence, as nullable ints, the row
    tiled ``repeat`` times (one per year of a tidy table)."""
    hit = prob >= confidence
    first = np.tile(np.where(hit.any(axis=0), years[hit.argmax(axis=0)], -1), repeat)
    return pd.array([None if f < 0 else int(f) for f in first], dtype="Int64")


def gap_analysis(
    projection: Projection,
    provision: ProvisionRegister | pd.DataFrame,
    *,
    scenario: Scenario | Sequence[ProvisionChange] | None = None,
    confidence: float = 0.9,
    allocate: bool = True,
    ooc_placements: str = "reallocate",
    specialist_share: float | pd.DataFrame | None = None,
    kinds: Mapping[str, str] | None = None,
    ooc_cost_per_place: float | None = None,
    costs: CostModel | pd.DataFrame | None = None,
    area_penalty: float = 1.0,
    distance: pd.DataFrame | None = None,
    seed: int | None = 0,
) -> GapAnalysis:
    """Compare projected demand for specialist places with the capacity timeline.

    Parameters
    ----------
    projection : Projection
        From any model (``model.project(..., scenario=...)`` applies the demand side of a
        scenario).
    provision : ProvisionRegister or DataFrame
        The provision register (``docs/contracts.md``); a DataFrame is validated into one.
    scenario : Scenario or list of ProvisionChange / SettingClosure, optional
        Its supply side is applied to the register: ``provision_changes`` and ``closures`` (a
        closed setting's places are gone from its closure year).
    confidence : float
        Width of the intervals (0.9 gives p05-p95) and the probability at which capacity
        counts as exceeded in ``first_year_exceeded``.
    allocate : bool
        Run the allocation LP (out-of-county numbers, costs, who is unplaced and why).
    ooc_placements : {"reallocate", "stay"}
        ``"reallocate"`` (the planning view): every child needing a specialist place, including
        those the projection has out of county, is offered a suitable local place before
        anyone goes out of county. ``"stay"``: children the projection has out of county stay
        there (the model carries their moves, e.g. a scenario's redirects back at Year 6->7);
        only children projected in local settings are allocated, and those who do not fit
        join them out of county.
    specialist_share : float or DataFrame, optional
        For projections without settings, the share needing a specialist place.
    kinds : mapping, optional
        Kind of setting codes missing from the register (e.g. ``{"MS": "mainstream"}``).
    ooc_cost_per_place : float, optional
        One yearly cost for every out-of-county place. Default: per need, the average cost of
        the out-of-county settings designated for it, weighted by children with that need on
        roll there in the last census (:meth:`senforecast.core.costs.CostModel.out_of_county`).
    costs : CostModel or DataFrame, optional
        The cost model (:class:`senforecast.core.costs.CostModel`: precedence of the costs table
        over the register, inflation, price base), or a costs table ``setting, [need],
        cost_per_place`` for one with no inflation. Default: the register's own costs. Prices
        default to the last census year.
    area_penalty, distance
        Preference for the child's own area in the allocation (see
        :func:`senforecast.planning.allocation.placement_cost`).
    seed : int, optional
        Seed for ``specialist_share`` thinning.

    Returns
    -------
    GapAnalysis

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...     "area": ["N", "N"], "capacity": [10, None], "designation": ["ASD", "*"],
    ...     "min_ncy": [0, 0], "max_ncy": [6, 13], "cost_per_place": [20000, 60000]})
    >>> cells = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 3], "need": ["ASD", "ASD"],
    ...                       "setting": ["RB1", "IND"]})
    >>> draws = np.array([[[8, 4]], [[7, 1]]])  # 2 draws, 1 year: 12 and 8 children
    >>> gap = gap_analysis(Projection(draws, [2026], cells), reg)
    >>> gap.by_year()[["demand_median", "capacity", "prob_shortfall", "ooc_median"]].values.tolist()
    [[10.0, 10.0, 0.5, 1.0]]
    """
    register = ProvisionRegister.of(provision, costs=costs if isinstance(costs, pd.DataFrame) else None)
    check_kinds(kinds, register, projection)
    # an override applies everywhere, e.g. to the out-of-county cost as well as to demand
    register = register.with_kinds(kinds)
    prov = register.table
    looks_mainstream = prov["kind"].isin(OUT_OF_COUNTY_KINDS) & prov["name"].str.contains("mainstream", case=False)
    if looks_mainstream.any():
        codes = prov.loc[looks_mainstream, "setting"].unique().tolist()
        warnings.warn(
            f"out-of-county settings {codes} look like mainstream schools; their children are counted as "
            f"needing a specialist place. If they do not, pass kinds={{{codes[0]!r}: 'mainstream', ...}}",
            InputWarning, stacklevel=2)
    if scenario is not None and not isinstance(scenario, Scenario):
        items = tuple(scenario)
        scenario = Scenario("provision changes",
                            provision_changes=tuple(c for c in items if not isinstance(c, SettingClosure)),
                            closures=tuple(c for c in items if isinstance(c, SettingClosure)))
    made_under = projection.meta.get("scenario")
    hist = projection.history
    last_census = int(hist["year"].max()) if hist is not None and len(hist) else int(min(projection.years)) - 1
    check_supply_side(scenario, register, last_census,
                      projection.cells["setting"].astype(str).unique() if "setting" in projection.cells else ())
    closed_kinds = closure_kinds(scenario, register)
    # closures of specialist / out-of-county settings are supply side (see demand_scenario)
    specialist_closed = {c: k for c, k in closed_kinds.items() if k in DEMAND_KINDS}
    model_part = demand_scenario(scenario, register) if scenario is not None else None
    demand_side = model_part is not None and (model_part.joiner_multiplier != 1.0 or model_part.rate_changes
                                              or model_part.redirects or model_part.closures)
    if demand_side and isinstance(made_under, str) and made_under != scenario.name:
        warnings.warn(
            f"scenario {scenario.name!r} changes demand, but the projection was made under {made_under!r}: "
            "only its provision changes and closures are applied here; project with "
            "model.project(..., scenario=demand_scenario(scenario, provision)) first",
            InputWarning, stacklevel=2)
    if specialist_closed and made_under == scenario.name and model_part is not None \
            and len(model_part.closures) < len(scenario.closures) and projection.has_dim("setting") \
            and _routed_away(projection, scenario, specialist_closed):
        warnings.warn(
            f"the projection for scenario {scenario.name!r} was made with the closure of "
            f"{sorted(specialist_closed)} applied by the model, which routed those children by its own rates "
            "(some out of specialist provision). Project model.project(..., scenario=demand_scenario(scenario, "
            "provision)) so that the gap analysis re-places them", InputWarning, stacklevel=2)
    years = list(projection.years)
    if hist is not None and len(hist):
        years = sorted({int(hist["year"].max()), *years})
    # supply side: provision changes and closures (a closed setting's places are gone)
    changed = register.apply(scenario)
    timeline = changed.timeline(years)
    if ooc_placements not in ("reallocate", "stay"):
        raise SenForecastError(f"ooc_placements must be 'reallocate' or 'stay' (got {ooc_placements!r})")
    local_demand, ooc_demand, groups = _demand_parts(projection, register, specialist_share=specialist_share,
                                                     kinds=kinds, seed=seed)
    if specialist_closed and ooc_placements == "stay":
        # children of a closed out-of-county setting cannot stay there: they are allocated afresh
        moved = _closed_part(projection, scenario, {c for c, k in specialist_closed.items()
                                                    if k in OUT_OF_COUNTY_KINDS}, groups)
        local_demand, ooc_demand = local_demand + moved, ooc_demand - moved
    demand = local_demand + ooc_demand
    to_allocate = demand if ooc_placements == "reallocate" else local_demand
    local = local_bases(timeline)
    groups = groups.assign(phase=phase(groups["ncy"].to_numpy()))
    cost_model = (costs if isinstance(costs, CostModel) else CostModel(register)).for_register(changed)
    cost_model = cost_model.with_base_year(last_census)
    on_roll = None
    if hist is not None and "setting" in hist.columns and len(hist):
        keys = ["setting", "need"] if "need" in hist.columns else ["setting"]
        on_roll = hist[hist["year"] == hist["year"].max()].groupby(keys, as_index=False)["count"].sum()
    ooc_costs = _ooc_costs(cost_model, groups, projection.years, on_roll, ooc_cost_per_place, allocate)
    if allocate:  # warn now, once, about the local bases costed at their kind's average or not at all
        cost_model.setting_costs(projection.years, sorted(local["setting"].unique()))
    base_roll = None
    if "setting" in projection.cells.columns:
        settings = sorted(local["setting"].unique())
        sc = projection.cells["setting"].astype(str).to_numpy()
        if np.isin(settings, sc).any():
            pos = {s: i for i, s in enumerate(settings)}
            mine = np.isin(sc, settings)
            codes = np.array([pos[s] for s in sc[mine]], dtype=int)
            codes_all = np.full(len(sc), -1)
            codes_all[mine] = codes
            base_roll = _collapse(projection.draws, codes_all, len(settings))
            # a closed base has no roll: its projected children are re-placed by the allocation
            for c in (scenario.closures if scenario is not None else ()):
                if c.setting in pos:
                    base_roll[:, np.asarray(projection.years) >= c.from_year, pos[c.setting]] = 0.0
    alloc = None
    if allocate:
        alloc = _allocate(to_allocate, groups[["area", "ncy", "need"]], local, projection.years,
                          area_penalty=area_penalty, distance=distance)
    return GapAnalysis(projection=projection, demand=demand, groups=groups, timeline=timeline,
                       allocation=alloc, ooc_cost_per_place=ooc_costs["average"], confidence=confidence,
                       scenario=scenario, history=hist, base_roll=base_roll,
                       projected_ooc=ooc_demand if ooc_placements == "stay" else None,
                       cost_model=cost_model, ooc_costs=ooc_costs)


def _closed_mask(projection: Projection, scenario: Scenario, settings: set[str]) -> np.ndarray:
    """(n_years, n_cells): cell is in one of ``settings`` in a year it is closed."""
    sc = projection.cells["setting"].astype(str).to_numpy()
    years = np.asarray(projection.years)
    mask = np.zeros((len(years), len(sc)), dtype=bool)
    for c in scenario.closures:
        if c.setting in settings:
            mask |= (years >= c.from_year)[:, None] & (sc == c.setting)[None, :]
    return mask


def _routed_away(projection: Projection, scenario: Scenario, closed: Mapping[str, str]) -> bool:
    """Did the model empty the closed settings (route their children) in their closed years?"""
    mask = _closed_mask(projection, scenario, set(closed))
    if not mask.any():
        return True  # not even a cell left: the model closed them
    return bool(projection.draws[:, mask].sum() == 0)


def _closed_part(projection: Projection, scenario: Scenario, settings: set[str], groups: pd.DataFrame) -> np.ndarray:
    """Draws of the children projected in closed ``settings``, by (draw, year, demand group)."""
    out = np.zeros((projection.draws.shape[0], len(projection.years), len(groups)))
    if not settings or "setting" not in projection.cells.columns:
        return out
    mask = _closed_mask(projection, scenario, settings)
    cells = projection.cells
    key = pd.MultiIndex.from_frame(groups[["area", "ncy", "need"]].astype({"area": str, "need": str}))
    cell_key = pd.MultiIndex.from_arrays([
        cells["area"].astype(str) if "area" in cells else np.full(len(cells), "ALL"),
        cells["ncy"].astype(int), cells["need"].astype(str) if "need" in cells else np.full(len(cells), "ALL")])
    code = key.get_indexer(cell_key)
    for yi in range(len(projection.years)):
        cols = np.flatnonzero(mask[yi] & (code >= 0))
        if len(cols):
            out[:, yi] = _collapse(projection.draws[:, yi:yi + 1, cols], code[cols], len(groups))[:, 0]
    return out


def _ooc_costs(cost_model: CostModel, groups: pd.DataFrame, years: Sequence[int], on_roll: pd.DataFrame | None,
               flat: float | None, allocate: bool) -> dict:
    """Cost per out-of-county child per year and group, where such children go (settings and
    shares per need), and the roll-weighted average for summaries."""
    needs = sorted(groups["need"].astype(str).unique())
    need_idx = np.searchsorted(needs, groups["need"].astype(str).to_numpy())
    weights = None if on_roll is None else on_roll.groupby("setting")["count"].sum()
    if flat is not None:
        unit = np.full((len(years), len(needs)), float(flat))
        return {"needs": needs, "need_idx": need_idx, "settings": [], "shares": None, "unit": unit,
                "average": float(flat)}
    try:
        average = cost_model.average_out_of_county_cost(weights)
    except SenForecastError:
        if allocate:
            raise
        average = np.nan
    settings, shares, unit = cost_model.out_of_county(needs, years, on_roll, warn=allocate)
    return {"needs": needs, "need_idx": need_idx, "settings": settings, "shares": shares, "unit": unit,
            "average": average}


_allocate = allocate  # the keyword argument `allocate` shadows the function inside gap_analysis

