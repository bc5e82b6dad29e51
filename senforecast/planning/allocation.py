"""Allocation of projected specialist demand to local bases, with overflow out of county.

Each year is a transportation problem: demand groups (area, ncy, need) send children to local
bases that can take them (designation includes the need, age range includes the NCY, open
that year) up to each base's capacity; whoever is left goes out of county. The objective puts
as many children locally as possible and, among those solutions, the fewest outside their own
area (cost 1 per child placed, plus ``area_penalty`` or a distance when the base is in another
area; an overflow child costs more than any rerouting can save, so local placements are
maximised first).

Speed and exactness: groups with the same area and the same set of eligible bases are
interchangeable, so the problem is solved on these *classes* (a handful) rather than on every
(area, ncy, need) cell, and all draws of a year are solved at once as one block-diagonal LP
with HiGHS (blocks are independent, so the joint optimum is the per-draw optimum). The
transportation matrix is totally unimodular, so a simplex vertex is integral for integer
demand; this is checked and a MILP with integrality is used if it ever fails. Within a class,
the class's places and overflow are shared in proportion to each group's demand (the expected
result of placing interchangeable children at random), so group-level numbers can be
fractional while base loads and class overflows are exact integers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ..core.provision import need_match
from ..core.errors import SenForecastError
from ..projection import quantile_label

REASON_NO_NEED = "no base takes this need"
REASON_NO_AGE = "no base for this age"
REASON_FULL = "bases full"


def eligibility(groups: pd.DataFrame, bases: pd.DataFrame) -> np.ndarray:
    """Which bases can take which demand groups: designation includes the need and the age
    range includes the NCY.

    Parameters
    ----------
    groups : DataFrame
        ``need`` and ``ncy`` per demand group (need ``"ALL"`` matches any designation).
    bases : DataFrame
        ``designation``, ``min_ncy``, ``max_ncy`` per base.

    Returns
    -------
    ndarray of bool, shape (n_groups, n_bases)

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"need": ["ASD", "ASD", "SLD"], "ncy": [3, 9, 3]})
    >>> b = pd.DataFrame({"designation": ["ASD", "*"], "min_ncy": [0, 0], "max_ncy": [6, 13]})
    >>> eligibility(g, b).tolist()
    [[True, True], [False, True], [False, True]]
    """
    need_ok = _need_match(groups, bases)
    ncy = groups["ncy"].to_numpy(dtype=float)[:, None]
    age_ok = (bases["min_ncy"].to_numpy(dtype=float)[None, :] <= ncy) & (
        ncy <= bases["max_ncy"].to_numpy(dtype=float)[None, :]
    )
    return need_ok & age_ok


def _need_match(groups: pd.DataFrame, bases: pd.DataFrame) -> np.ndarray:
    return need_match(bases["designation"].tolist(), groups["need"].astype(str).tolist())


def placement_cost(
    groups: pd.DataFrame,
    bases: pd.DataFrame,
    *,
    area_penalty: float = 1.0,
    distance: pd.DataFrame | None = None,
) -> np.ndarray:
    """Cost of placing one child of each group in each base: 1, plus ``area_penalty`` when
    the base is in another area, or plus ``distance`` (columns ``area_from, area_to,
    distance``) when given.

    Examples
    --------
    >>> import pandas as pd
    >>> placement_cost(pd.DataFrame({"area": ["N", "S"]}), pd.DataFrame({"area": ["N"]})).tolist()
    [[1.0], [2.0]]
    """
    ga = groups["area"].astype(str).to_numpy()[:, None]
    ba = bases["area"].astype(str).to_numpy()[None, :]
    if distance is None:
        return 1.0 + area_penalty * (ga != ba)
    d = distance.set_index(["area_from", "area_to"])["distance"]
    cost = np.ones((len(groups), len(bases)))
    for i, a in enumerate(ga[:, 0]):
        for j, b in enumerate(ba[0]):
            if a == b:
                continue
            if (a, b) not in d.index:
                raise SenForecastError(
                    f"distance table has no row for area_from={a!r}, area_to={b!r}; add it "
                    "(or leave distance=None to use a flat area_penalty)"
                )
            cost[i, j] += float(d.loc[(a, b)])
    return cost


def solve_transport(
    demand: np.ndarray,
    capacity: np.ndarray,
    eligible: np.ndarray,
    cost: np.ndarray,
    *,
    chunk: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Place demand in bases for many draws at once (exact LP/MILP per draw).

    Minimises placement cost plus an overflow cost per child that exceeds any saving from
    rerouting (so the number placed locally is maximal) subject to
    ``sum_b x[g, b] + overflow[g] = demand[g]`` and ``sum_g x[g, b] <= capacity[b]``.

    Parameters
    ----------
    demand : ndarray, shape (n_draws, n_groups)
        Children per draw and group (non-negative).
    capacity : ndarray, shape (n_bases,)
        Places per base (finite, non-negative).
    eligible : ndarray of bool, shape (n_groups, n_bases)
        Which bases each group may use.
    cost : ndarray, shape (n_groups, n_bases)
        Cost per child (positive).
    chunk : int
        Draws per block LP (bounds memory).

    Returns
    -------
    placed : ndarray, shape (n_draws, n_groups, n_bases)
    overflow : ndarray, shape (n_draws, n_groups)

    Examples
    --------
    >>> import numpy as np
    >>> placed, over = solve_transport(np.array([[3.0, 2.0]]), np.array([4.0]),
    ...                                np.array([[True], [True]]), np.array([[1.0], [2.0]]))
    >>> placed[0, :, 0].tolist(), over[0].tolist()
    ([3.0, 1.0], [0.0, 1.0])
    """
    demand = np.asarray(demand, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    eligible = np.asarray(eligible, dtype=bool)
    n_draws, n_groups = demand.shape
    n_bases = capacity.shape[0]
    if np.any(demand < 0) or np.any(capacity < 0) or not np.all(np.isfinite(capacity)):
        raise SenForecastError("demand and capacity must be finite and non-negative")
    placed = np.zeros((n_draws, n_groups, n_bases))
    overflow = demand.copy()
    gi, bi = np.nonzero(eligible & (capacity[None, :] > 0))
    if len(gi) == 0 or n_draws == 0:
        return placed, overflow
    uniq, inverse = np.unique(demand, axis=0, return_inverse=True)
    if len(uniq) < n_draws:
        # draws with the same demand have the same optimum: solve each distinct one once
        p_u, o_u = solve_transport(uniq, capacity, eligible, cost, chunk=chunk)
        inverse = inverse.reshape(-1)
        return p_u[inverse], o_u[inverse]
    arc_cost = np.asarray(cost, dtype=float)[gi, bi]
    big = (n_bases + 1) * arc_cost.max() + 1.0  # exceeds any augmenting-path saving
    n_arcs = len(gi)
    n_var = n_arcs + n_groups
    c1 = np.r_[arc_cost, np.full(n_groups, big)]
    a_eq1 = sparse.csr_matrix(
        (np.ones(n_var), (np.r_[gi, np.arange(n_groups)], np.arange(n_var))), shape=(n_groups, n_var)
    )
    a_ub1 = sparse.csr_matrix((np.ones(n_arcs), (bi, np.arange(n_arcs))), shape=(n_bases, n_var))
    integer = np.allclose(demand, np.round(demand)) and np.allclose(capacity, np.round(capacity))
    for start in range(0, n_draws, chunk):
        sl = slice(start, min(start + chunk, n_draws))
        k = sl.stop - sl.start
        a_eq = _repeat_block(a_eq1, k)
        a_ub = _repeat_block(a_ub1, k)
        c = np.tile(c1, k)
        b_eq = demand[sl].reshape(-1)
        b_ub = np.tile(capacity, k)
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs-ds")
        x = res.x if res.status == 0 else None
        if integer and (x is None or np.abs(x - np.round(x)).max() > 1e-6):
            # a simplex vertex should be integral (total unimodularity); enforce it if not
            res = milp(c, constraints=[LinearConstraint(a_eq, b_eq, b_eq), LinearConstraint(a_ub, -np.inf, b_ub)],
                       integrality=np.ones_like(c), bounds=Bounds(0, np.inf))
            x = res.x
        if x is None:
            raise SenForecastError(f"allocation LP failed: {res.message}")
        if integer:
            x = np.round(x)
        x = np.clip(x.reshape(k, n_var), 0, None)
        placed[sl][:, gi, bi] = x[:, :n_arcs]
        overflow[sl] = x[:, n_arcs:]
    return placed, overflow


def _repeat_block(block: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Block-diagonal matrix of ``k`` copies of ``block`` (built directly; faster than block_diag)."""
    coo = block.tocoo()
    r, c = block.shape
    off = np.arange(k)[:, None]
    rows = (coo.row[None, :] + off * r).ravel()
    cols = (coo.col[None, :] + off * c).ravel()
    data = np.tile(coo.data, k)
    return sparse.csr_matrix((data, (rows, cols)), shape=(k * r, k * c))


def _classes(eligible: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of interchangeable groups (same eligible bases, same costs) and one
    representative row per class."""
    key = np.concatenate([eligible.astype(float), np.where(eligible, cost, 0.0)], axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


@dataclass
class Allocation:
    """Result of :func:`allocate`: base loads and out-of-county overflow per draw and year.

    Attributes
    ----------
    years : ndarray
        Years allocated.
    groups : DataFrame
        Demand groups (``area, ncy, need``), one per column of ``demand``.
    bases : DataFrame
        Local bases (``setting, name, area, designation, min_ncy, max_ncy``).
    capacity : ndarray, shape (n_years, n_bases)
        Places per base and year (0 when closed).
    demand : ndarray, shape (n_draws, n_years, n_groups)
    load : ndarray, shape (n_draws, n_years, n_bases)
        Children placed in each base (integers).
    overflow : ndarray, shape (n_draws, n_years, n_groups)
        Children of each group not placed locally (shared within a class in proportion to demand).
    reason : ndarray of object, shape (n_years, n_groups)
        Why a group's children go out of county when they do: no base takes the need, no base
        for the age, or bases full.
    cross_area : ndarray, shape (n_draws, n_years)
        Children placed in a base outside their own area.
    class_of, class_placed : list or None
        Per year, the class of each group (groups with the same eligible bases and costs)
        and the places given to each class, shape (n_draws, n_classes, n_bases); used by
        :meth:`placed`.
    meta : dict
        Settings of the run (``area_penalty``, whether distances were given).

    Examples
    --------
    Two bases, three demand groups, two draws:

    >>> from senforecast.planning.capacity import capacity_timeline
    >>> reg = pd.DataFrame({"setting": ["RB1", "RB2"], "kind": ["resource_base"] * 2,
    ...     "capacity": [5, 4], "area": ["N", "S"], "designation": ["ASD", "SLD"],
    ...     "min_ncy": [0, 7], "max_ncy": [6, 11]})
    >>> groups = pd.DataFrame({"area": ["N", "S", "S"], "ncy": [3, 9, 4], "need": ["ASD", "SLD", "ASD"]})
    >>> demand = np.array([[[4, 3, 2]], [[6, 5, 0]]])  # (draws, years, groups)
    >>> a = allocate(demand, groups, capacity_timeline(reg, [2026]), [2026])
    >>> bool((a.load <= a.capacity).all())
    True
    >>> bool((a.placed_locally + a.overflow == a.demand).all())
    True
    >>> bool(np.allclose(a.placed(2026).sum(axis=1), a.load[:, 0]))  # by group, summing to base loads
    True
    >>> a.unplaced()[["area", "need", "reason"]].iloc[0].tolist()
    ['N', 'ASD', 'bases full']
    """

    years: np.ndarray
    groups: pd.DataFrame
    bases: pd.DataFrame
    capacity: np.ndarray
    demand: np.ndarray
    load: np.ndarray
    overflow: np.ndarray
    reason: np.ndarray
    cross_area: np.ndarray
    class_of: np.ndarray | None = None
    class_placed: list | None = None
    meta: dict = field(default_factory=dict)

    def placed(self, year: int) -> np.ndarray:
        """Children of each group placed in each base in ``year``, shape (n_draws, n_groups,
        n_bases); a class's places are shared in proportion to its groups' demand."""
        t = int(np.flatnonzero(self.years == year)[0]) if np.any(self.years == year) else None
        if t is None:
            raise SenForecastError(f"year {year} was not allocated; years are {self.years.tolist()}")
        d, _, g = self.demand.shape
        out = np.zeros((d, g, len(self.bases)))
        if self.class_placed is None or self.class_placed[t] is None:
            return out
        cls = self.class_of[t]
        dc = np.zeros((d, self.class_placed[t].shape[1]))
        np.add.at(dc, (slice(None), cls), self.demand[:, t, :])
        share = np.divide(self.demand[:, t, :], dc[:, cls], out=np.zeros((d, g)), where=dc[:, cls] > 0)
        return self.class_placed[t][:, cls, :] * share[:, :, None]

    def cost(self, unit: np.ndarray) -> np.ndarray:
        """Cost of the local places used, per draw and year.

        Parameters
        ----------
        unit : ndarray, shape (n_years, n_bases) or (n_years, n_groups, n_bases)
            Cost of a place per year and base, or per year, group (its need) and base
            (:meth:`senforecast.core.costs.CostModel.matrix`). NaN = missing: a base with a
            missing cost and children placed there makes that draw's cost missing, never 0.

        Returns
        -------
        ndarray, shape (n_draws, n_years)

        Examples
        --------
        >>> a = Allocation(np.array([2026]), pd.DataFrame({"need": ["ASD"]}), pd.DataFrame({"setting": ["B1", "B2"]}),
        ...                np.array([[5.0, 5.0]]), np.ones((1, 1, 1)), np.array([[[3.0, 0.0]]]), np.zeros((1, 1, 1)),
        ...                np.empty((1, 1), dtype=object), np.zeros((1, 1)))
        >>> a.cost(np.array([[20000.0, np.nan]])).tolist()  # nobody in B2, so its missing cost does not count
        [[60000.0]]
        """
        unit = np.asarray(unit, dtype=float)
        if unit.ndim == 2:
            unit = unit[:, None, :]
        out = np.zeros(self.load.shape[:2])
        for t, year in enumerate(self.years):
            u = unit[t]
            if u.shape[0] == 1 or np.array_equal(u, np.broadcast_to(u[:1], u.shape), equal_nan=True):
                load = self.load[:, t, :]
                out[:, t] = np.where(load > 0, load * u[0][None, :], 0.0).sum(axis=1)
            else:  # costs differ by need: cost each group's share of the places
                placed = self.placed(int(year))
                out[:, t] = np.where(placed > 0, placed * u[None], 0.0).sum(axis=(1, 2))
        return out

    @property
    def placed_locally(self) -> np.ndarray:
        """Children placed locally per draw, year and group (demand - overflow)."""
        return self.demand - self.overflow

    def unplaced(
        self,
        quantiles: Sequence[float] = (0.05, 0.5, 0.95),
        by: Sequence[str] = ("area", "ncy", "need"),
        labels: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Who cannot be placed locally and why, by year, ``by`` and reason.

        Parameters
        ----------
        quantiles : sequence of float
            Quantiles of the number unplaced over draws.
        by : sequence of str
            Columns of ``groups`` (or of ``labels``) to break down by.
        labels : DataFrame, optional
            Extra columns per group (e.g. ``phase``).

        Returns
        -------
        DataFrame
            ``year, by..., reason, mean, pXX...``; rows where no draw overflows are left out.
        """
        return unplaced_table(self.overflow, self.reason, self.groups, self.years,
                              quantiles=quantiles, by=by, labels=labels)


def unplaced_table(
    overflow: np.ndarray,
    reason: np.ndarray,
    groups: pd.DataFrame,
    years: Sequence[int],
    *,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    by: Sequence[str] = ("area", "ncy", "need"),
    labels: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Tidy table of children out of county by year, ``by`` and reason (see
    :meth:`Allocation.unplaced`); ``reason`` is (n_years, n_groups) or one string.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = pd.DataFrame({"area": ["N", "S"], "ncy": [3, 3], "need": ["ASD", "ASD"]})
    >>> t = unplaced_table(np.array([[[1.0, 0.0]], [[3.0, 0.0]]]), "bases full", g, [2026], by=["need"])
    >>> t[["need", "reason", "mean"]].values.tolist()
    [['ASD', 'bases full', 2.0]]
    """
    years = np.asarray(list(years))
    if isinstance(reason, str):
        reason = np.full((len(years), len(groups)), reason, dtype=object)
    by = list(by)
    g = groups.reset_index(drop=True)
    if labels is not None:
        g = pd.concat([g, labels.reset_index(drop=True)], axis=1)
    missing = [c for c in by if c not in g.columns]
    if missing:
        raise SenForecastError(f"cannot break down by {missing}; use some of {list(g.columns)}")
    frames = []
    for t, year in enumerate(years):
        keys = g[by].assign(reason=reason[t])
        codes = keys.groupby(by + ["reason"], sort=True, dropna=False).ngroup().to_numpy()
        lab = keys.assign(_c=codes).drop_duplicates("_c").sort_values("_c").drop(columns="_c")
        arr = np.zeros((overflow.shape[0], codes.max() + 1))
        np.add.at(arr, (slice(None), codes), overflow[:, t, :])
        keep = arr.max(axis=0) > 1e-9
        f = lab.reset_index(drop=True)[keep]
        f.insert(0, "year", int(year))
        f["mean"] = arr.mean(axis=0)[keep]
        for q, v in zip(quantiles, np.quantile(arr, quantiles, axis=0)):
            f[quantile_label(q)] = v[keep]
        frames.append(f)
    cols = ["year", *by, "reason", "mean", *[quantile_label(q) for q in quantiles]]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def allocate(
    demand: np.ndarray,
    groups: pd.DataFrame,
    timeline: pd.DataFrame,
    years: Sequence[int],
    *,
    area_penalty: float = 1.0,
    distance: pd.DataFrame | None = None,
) -> Allocation:
    """Allocate demand draws to local bases year by year, overflow out of county.

    Parameters
    ----------
    demand : ndarray, shape (n_draws, n_years, n_groups)
        Children needing a specialist place per draw, year and group.
    groups : DataFrame
        ``area, ncy, need`` per group.
    timeline : DataFrame
        Local bases' capacity timeline (:func:`senforecast.planning.capacity.capacity_timeline`
        restricted to :func:`~senforecast.planning.capacity.local_bases`); unlimited rows are ignored.
    years : sequence of int
        Years of ``demand``'s second axis.
    area_penalty : float
        Extra cost of placing a child outside their own area.
    distance : DataFrame, optional
        ``area_from, area_to, distance`` used instead of the flat penalty.

    Returns
    -------
    Allocation

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast.planning.capacity import capacity_timeline
    >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "capacity": [5],
    ...                     "area": ["N"], "designation": ["ASD"], "min_ncy": [0], "max_ncy": [6]})
    >>> groups = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 9], "need": ["ASD", "ASD"]})
    >>> a = allocate(np.array([[[7, 2]]]), groups, capacity_timeline(reg, [2026]), [2026])
    >>> a.load[0, 0].tolist(), a.overflow[0, 0].tolist(), a.reason[0].tolist()
    ([5.0], [2.0, 2.0], ['bases full', 'no base for this age'])
    """
    demand = np.asarray(demand, dtype=float)
    years = np.asarray(list(years), dtype=int)
    if demand.ndim != 3 or demand.shape[1] != len(years) or demand.shape[2] != len(groups):
        raise SenForecastError(
            f"demand shape {demand.shape} does not match (draws, {len(years)} years, {len(groups)} groups)"
        )
    groups = groups.reset_index(drop=True)
    tl = timeline[timeline["capacity"].notna()]
    settings = sorted(tl["setting"].unique())
    first = tl.sort_values("year").drop_duplicates("setting", keep="last").set_index("setting")
    bases = first.loc[settings, ["name", "kind", "area", "designation", "min_ncy", "max_ncy", "cost_per_place"]]
    bases = bases.reset_index()
    n_draws, n_years, n_groups = demand.shape
    n_bases = len(bases)
    capacity = np.zeros((n_years, n_bases))
    load = np.zeros((n_draws, n_years, n_bases))
    overflow = demand.copy()
    reason = np.empty((n_years, n_groups), dtype=object)
    cross = np.zeros((n_draws, n_years))
    class_of = np.zeros((n_years, n_groups), dtype=int)
    class_placed: list = [None] * n_years
    for t, year in enumerate(years):
        yb = tl[tl["year"] == year].set_index("setting").reindex(settings)
        cap = yb["capacity"].fillna(0.0).to_numpy(float)
        capacity[t] = cap
        yb = yb.reset_index()
        # attributes can change between periods (e.g. a re-designated base), so use this year's
        attrs = yb.fillna({"designation": "", "min_ncy": 99, "max_ncy": -99, "area": ""})
        open_ = cap > 0
        need_ok = _need_match(groups, attrs) & open_[None, :]
        elig = eligibility(groups, attrs) & open_[None, :]
        reason[t] = np.where(~need_ok.any(axis=1), REASON_NO_NEED,
                             np.where(~elig.any(axis=1), REASON_NO_AGE, REASON_FULL))
        if n_bases == 0 or not elig.any():
            continue
        cost = placement_cost(groups, attrs, area_penalty=area_penalty, distance=distance)
        cls, rep = _classes(elig, cost)
        member = sparse.csr_matrix((np.ones(n_groups), (np.arange(n_groups), cls)), shape=(n_groups, len(rep)))
        dc = np.asarray(demand[:, t, :] @ member)
        placed_c, over_c = solve_transport(dc, cap, elig[rep], cost[rep])
        class_of[t], class_placed[t] = cls, placed_c
        load[:, t, :] = placed_c.sum(axis=1)
        # share a class's overflow among its groups in proportion to their demand
        share = np.divide(demand[:, t, :], dc[:, cls], out=np.zeros_like(demand[:, t, :]), where=dc[:, cls] > 0)
        overflow[:, t, :] = over_c[:, cls] * share
        mismatch = (groups["area"].astype(str).to_numpy()[rep][:, None] != attrs["area"].astype(str).to_numpy()[None, :])
        cross[:, t] = (placed_c * mismatch[None]).sum(axis=(1, 2))
    return Allocation(years=years, groups=groups, bases=bases, capacity=capacity, demand=demand,
                      load=load, overflow=overflow, reason=reason, cross_area=cross,
                      class_of=class_of, class_placed=class_placed,
                      meta={"area_penalty": area_penalty, "distance": distance is not None})
