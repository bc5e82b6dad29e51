"""Monte Carlo of the cohort model: draws of every area and state, year by year.

A *cell* is a possible (NCY, state). What a draw shares between its cells is drawn here
with numpy (year effects, joiner rates by draw, year and NCY, joiner mixes, the joiner trend
and area factors); the compiled loop of :mod:`senforecast.models.cohort.kernel` then draws
each cell's leaving and moving rates and moves the children: per draw, year and occupied
cell one uniform per child decides leave / move / stay, and a categorical draw places each
mover and each joiner (Dirichlet-multinomial where the mix is uncertain). The kernel's random
numbers come from streams keyed by draw, year, area and the cell's labels, so runs with the
same seed share them wherever their counts agree (common random numbers across scenarios).

Nobody disappears: a child whose next state is not valid (aged out of the setting's range,
setting closed, need not taken) is *routed*: moved to a valid destination drawn from the
state's destination distribution, or made a leaver if there is none. Routed children are
counted in the ``routed`` flow (and in ``movers`` or ``leavers``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class SimPlan:
    """Arrays the simulation runs on (built by :class:`~senforecast.models.cohort.model.CohortModel`).

    Shapes: C cells, K destination slots, Kj joiner slots, Y years, Ar areas, A NCYs.

    Attributes
    ----------
    cell_ncy, next_cell : numpy.ndarray
        ``(C,)`` NCY position of each cell and the cell of the same state one NCY on (-1: none).
    leaver_ab, mover_ab : tuple of numpy.ndarray
        ``(C,)`` Beta parameters of each cell's leaving and moving rates.
    dest_cell, dest_alpha : numpy.ndarray
        ``(C, K)`` movers' destination cells (-1 padding) and their Dirichlet parameters.
    joiner_ab : tuple of numpy.ndarray
        ``(A,)`` Beta parameters of the joining rate per head of population, by NCY after.
    joiner_kappa : float
        Between-year concentration of joiner rates (inf: none).
    join_cell, join_alpha : numpy.ndarray
        ``(A, Kj)`` cells joiners can join at each NCY (-1 padding) and their Dirichlet parameters.
    cell_valid : numpy.ndarray
        ``(Y, C)`` can a child be in the cell in the year (else it is routed).
    population : numpy.ndarray
        ``(Y, Ar, A)`` population in the transition's first year.
    stock0 : numpy.ndarray
        ``(Ar, C)`` children at the seed census.
    leaver_mult, mover_mult, joiner_mult, joiner_weight : numpy.ndarray
        Scenario multipliers of the rates, ``(Y, C)``, ``(Y, C)``, ``(Y, A)``, ``(Y, A, Kj)``.
    redirects : list
        Per year, ``(from_cells, to_cells, share, joiners, stayers)`` redirections.
    resample_each_year : bool
        Redraw rates every year (witan.send) instead of once per draw.
    joiner_trend, trend_offset, area_factor, leaver_year_var, mover_year_var, year_effect_years, joiner_year_var
        As in :class:`~senforecast.models.cohort.fit.CohortParameters`; ``trend_offset``
        is ``(Y,)`` years from the trend's reference year.
    joiner_need_trend : tuple of numpy.ndarray, optional
        Joiner trends by need: estimate, standard error and shrinkage towards the overall
        trend of each need (see :func:`~senforecast.models.cohort.fit.need_trends`); None: one trend.
    join_need : numpy.ndarray, optional
        ``(A, Kj)`` need of each joiner slot (needed with ``joiner_need_trend``).
    cell_key : numpy.ndarray, optional
        ``(C,)`` uint64 keys of the cells' random streams (see
        :mod:`~senforecast.models.cohort.kernel`), made from the cells' labels so that a
        scenario adding cells leaves the other cells' random numbers unchanged; default
        keys from the cell positions.

    Examples
    --------
    >>> Y = 2  # projected years; one area, two NCYs, one state: cell 0 (NCY 0), cell 1 (NCY 1)
    >>> plan = SimPlan(
    ...     cell_ncy=np.array([0, 1]), next_cell=np.array([1, -1]),
    ...     leaver_ab=(np.array([1.0, 1.0]), np.array([9.0, 9.0])),
    ...     mover_ab=(np.zeros(2), np.ones(2)),
    ...     dest_cell=np.full((2, 1), -1), dest_alpha=np.zeros((2, 1)),
    ...     joiner_ab=(np.array([5.0, 1.0]), np.array([95.0, 99.0])), joiner_kappa=np.inf,
    ...     join_cell=np.array([[0], [1]]), join_alpha=np.ones((2, 1)),
    ...     cell_valid=np.ones((Y, 2), dtype=bool), population=np.full((Y, 1, 2), 200.0),
    ...     stock0=np.array([[10, 10]]), leaver_mult=np.ones((Y, 2)), mover_mult=np.ones((Y, 2)),
    ...     joiner_mult=np.ones((Y, 2)), joiner_weight=np.ones((Y, 2, 1)))
    >>> int(plan.stock0.sum()), plan.cell_valid.shape
    (20, (2, 2))
    """

    cell_ncy: np.ndarray  # (C,) NCY position of each cell
    next_cell: np.ndarray  # (C,) cell of the same state one NCY on, -1 if none
    leaver_ab: tuple[np.ndarray, np.ndarray]  # (C,), (C,)
    mover_ab: tuple[np.ndarray, np.ndarray]  # (C,), (C,)
    dest_cell: np.ndarray  # (C, K) destination cells, -1 padding
    dest_alpha: np.ndarray  # (C, K)
    joiner_ab: tuple[np.ndarray, np.ndarray]  # (A,), (A,) by NCY after
    joiner_kappa: float
    join_cell: np.ndarray  # (A, Kj) cells joiners can join at each NCY, -1 padding
    join_alpha: np.ndarray  # (A, Kj)
    cell_valid: np.ndarray  # (Y, C) can a child be in this cell in this year
    population: np.ndarray  # (Y, Ar, A) population in the transition's first year
    stock0: np.ndarray  # (Ar, C) children at the seed census
    leaver_mult: np.ndarray  # (Y, C)
    mover_mult: np.ndarray  # (Y, C)
    joiner_mult: np.ndarray  # (Y, A)
    joiner_weight: np.ndarray  # (Y, A, Kj) relative change of each joiner state's rate
    redirects: list = field(default_factory=list)  # per year: [(from_cells, to_cells, share, joiners, stayers)]
    resample_each_year: bool = False
    joiner_trend: tuple[float, float] = (0.0, 0.0)  # yearly log growth of joiner rates: estimate, s.e.
    trend_offset: np.ndarray | None = None  # (Y,) years from the trend's reference year
    area_factor: tuple[np.ndarray, np.ndarray] | None = None  # Gamma shape, rate per area
    leaver_year_var: float = 0.0  # variance of the yearly Gamma factor on the odds of leaving, per NCY
    mover_year_var: float = 0.0  # the same for moving
    year_effect_years: int = 0  # historic years the year-effect variances (and mean rates) come from
    joiner_year_var: float = 0.0  # the same for the odds of joining, per NCY (draws' rates only)
    cell_key: np.ndarray | None = None  # (C,) uint64 keys of the cells' random streams, from their labels
    joiner_need_trend: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # by need: estimate, s.e., shrinkage
    join_need: np.ndarray | None = None  # (A, Kj) need of each joiner slot


def year_factor(rng: np.random.Generator, var: float, shape: tuple[int, ...],
                persistent: np.ndarray | None = None) -> np.ndarray | None:
    """Gamma(mean 1, variance ``var``) year effects on the odds of a rate, one per ``shape``.

    Times ``persistent`` (broadcast to ``shape``: the draw's error in the mean rate, fixed over the
    years) when given. Applied to a rate ``p`` as ``p * f / (1 - p + p * f)``: on the odds
    scale a rate stays within [0, 1] (and 0 and 1 stay put). ``var == 0`` gives None
    without touching the generator.

    Examples
    --------
    >>> f = year_factor(np.random.default_rng(0), 0.1, (20000,))
    >>> round(float(f.mean()), 2), round(float(f.var()), 2)
    (1.0, 0.1)
    >>> year_factor(np.random.default_rng(0), 0.0, (3,)) is None
    True
    """
    if var <= 0:
        return None
    f = rng.gamma(1.0 / var, var, size=shape)
    if persistent is not None:
        f *= persistent
    return f


def mean_error_factor(rng: np.random.Generator, var: float, n_years: int, shape: tuple[int, int]) -> np.ndarray | None:
    """Odds factor for the error in a mean rate estimated from ``n_years`` years with year effects.

    The historic rates average ``n_years`` year effects, so their mean is off by a factor
    with variance ``var / n_years`` shared by every state at an NCY (a state's Beta
    posterior cannot carry this: it treats the years as one binomial sample). Drawn once
    per (draw, NCY); None when there is no year effect.

    Examples
    --------
    >>> f = mean_error_factor(np.random.default_rng(0), 0.4, 4, (20000, 1))
    >>> round(float(f.mean()), 2), round(float(f.var()), 2)
    (1.0, 0.1)
    """
    if var <= 0 or n_years < 1:
        return None
    v = var / n_years
    return rng.gamma(1.0 / v, v, size=shape)


def need_factors(rng: np.random.Generator, need_trend: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                 overall: np.ndarray, offset: np.ndarray) -> np.ndarray | None:
    """Each draw's factor on every need's joiner rate relative to the overall trend, ``(Y, D, N)``.

    Need ``n``'s trend in draw ``d`` is drawn given the draw's overall trend ``mu_d``:
    ``N(B mu_d + (1 - B) b_n, (1 - B) s_n**2)`` (``b_n, s_n, B`` from ``need_trend``); the
    factor is ``exp(offset * (trend_dn - mu_d))``, so the overall trend stays in the
    kernel's ``trend_f``. None (without touching the generator) when there is no need trend.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> est, se, B = np.array([0.1, 0.0]), np.array([0.01, 0.01]), np.array([1.0, 0.0])
    >>> f = need_factors(rng, (est, se, B), np.full(4000, 0.05), np.array([1.0]))
    >>> np.round(np.log(f[0]).mean(0), 3).tolist()  # need 0 pooled fully, need 1 its own -0.05
    [0.0, -0.05]
    >>> need_factors(rng, None, np.zeros(3), np.zeros(2)) is None
    True
    """
    if need_trend is None:
        return None
    est, se, shrink = need_trend
    z = rng.standard_normal((overall.size, est.size))
    own = 1.0 - shrink
    dev = own[None, :] * (est[None, :] - overall[:, None]) + np.sqrt(own * se ** 2)[None, :] * z  # (D, N)
    return np.exp(offset[:, None, None] * dev[None, :, :])


def sample_beta(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, size: tuple) -> np.ndarray:
    """Beta draws allowing a == 0 (rate 0) and b == 0 (rate 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample_beta(rng, np.array([0.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0]), (3,))[:2].tolist()
    [0.0, 1.0]
    """
    x = rng.beta(np.where(a > 0, a, 1.0), np.where(b > 0, b, 1.0), size=size)
    return np.where(a > 0, np.where(b > 0, x, 1.0), 0.0)


def sample_dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet draws along the last axis; zero alphas stay zero; rows of all-zero alpha stay zero.

    Gamma variates are drawn in float32 (faster); rows where every variate underflowed
    (tiny alphas) are redrawn in float64, then fall back to the alpha proportions.

    Examples
    --------
    >>> p = sample_dirichlet(np.random.default_rng(0), np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    >>> bool(np.isclose(p[0].sum(), 1.0)), float(p[0, 1]), p[1].tolist()
    (True, 0.0, [0.0, 0.0, 0.0])
    """
    g = rng.standard_gamma(alpha.astype(np.float32), dtype=np.float32).astype(np.float64)
    tot = g.sum(-1)
    redo = (tot <= 0) & (alpha.sum(-1) > 0)
    if redo.any():
        g[redo] = rng.standard_gamma(alpha[redo])
        tot = g.sum(-1)
        still = (tot <= 0) & (alpha.sum(-1) > 0)
        if still.any():
            g[still] = alpha[still]
            tot = g.sum(-1)
    return g / np.where(tot > 0, tot, 1.0)[..., None]


def compact_columns(arr: np.ndarray, used: np.ndarray) -> np.ndarray:
    """``arr[..., used]`` for a C-contiguous array that owns its data, done in place.

    Rows are gathered in blocks and written back to the front of the same buffer (a row's
    compacted copy never reaches rows not yet read), then the buffer is shrunk: no second
    output-sized allocation, whose fresh pages cost more than the copy itself.

    Examples
    --------
    >>> a = np.arange(12).reshape(2, 2, 3)
    >>> compact_columns(a.copy(), np.array([0, 2])).tolist()
    [[[0, 2], [3, 5]], [[6, 8], [9, 11]]]
    """
    *lead, n_col = arr.shape
    rows = int(np.prod(lead))
    u = used.size
    flat = arr.reshape(-1)
    grid = arr.reshape(rows, n_col)
    step = max(1, 2**20 // max(n_col, 1))  # ~1M elements a block
    block = np.empty((step, u), dtype=arr.dtype)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        b = block[:r1 - r0]
        np.take(grid[r0:r1], used, axis=1, out=b)  # C-ordered, unlike grid[r0:r1, used]
        flat[r0 * u:r1 * u] = b.reshape(-1)
    del flat, grid, block
    try:
        arr.resize(rows * u, refcheck=False)  # shrink the buffer in place (realloc)
    except (ValueError, SystemError):  # does not own its data: fall back to a copy
        return np.ascontiguousarray(arr.reshape(-1)[:rows * u]).reshape(*lead, u)
    return arr.reshape(*lead, u)


FLOWS: tuple[str, ...] = ("joiners", "leavers", "movers", "routed", "redirected")
"""Flows the simulation can record (``redirected`` only when a scenario redirects)."""


def _redirect_arrays(plan: SimPlan, C: int) -> tuple[np.ndarray, ...]:
    """Per-year redirects as arrays: count, target cell of each cell (-1: none), share, flags."""
    Y = plan.cell_valid.shape[0]
    per_year = plan.redirects if plan.redirects else [[] for _ in range(Y)]
    R = max([1] + [len(r) for r in per_year])
    n = np.zeros(Y, np.int64)
    to = np.full((Y, R, C), -1, np.int64)
    share = np.zeros((Y, R))
    joiners = np.zeros((Y, R), bool)
    stayers = np.zeros((Y, R), bool)
    for yi, reds in enumerate(per_year):
        n[yi] = len(reds)
        for r, (from_cells, to_cells, sh, j, s) in enumerate(reds):
            open_now = plan.cell_valid[yi][to_cells]  # only into a target that takes children this year
            to[yi, r, from_cells[open_now]] = to_cells[open_now]
            share[yi, r], joiners[yi, r], stayers[yi, r] = sh, j, s
    return n, to, share, joiners, stayers


def simulate(plan: SimPlan, n_draws: int, rng: np.random.Generator,
             flows: tuple[str, ...] = FLOWS) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the projection (see the module docstring); called by ``CohortModel.project``.

    Parameters
    ----------
    plan : SimPlan
        Rates, cells, seed stock and scenario arrays.
    n_draws : int
        Simulation draws.
    rng : numpy.random.Generator
        Source of randomness (a seeded generator reproduces the run).
    flows : tuple of str
        Flows to record, from :data:`FLOWS` (the stock is always recorded).

    Returns
    -------
    cells : ndarray
        Area-cells (``area * n_cells + cell``) that hold children or flows in some draw and year.
    out : dict of ndarray
        ``stock`` (int32) and the flows ``joiners, leavers, movers, routed`` (and
        ``redirected`` when the scenario redirects), each (draw, year, len(cells)); flows
        are int16 when every draw-year total fits (so no sum of them can overflow), else int32.

    Examples
    --------
    A plan of 20 children in two NCYs; the older ones age out (routed to leaving) and
    about 5% + 1% of a population of 200 at each NCY join each year:

    >>> Y = 2  # projected years; one area, two NCYs, one state: cell 0 (NCY 0), cell 1 (NCY 1)
    >>> plan = SimPlan(
    ...     cell_ncy=np.array([0, 1]), next_cell=np.array([1, -1]),
    ...     leaver_ab=(np.array([1.0, 1.0]), np.array([9.0, 9.0])),
    ...     mover_ab=(np.zeros(2), np.ones(2)),
    ...     dest_cell=np.full((2, 1), -1), dest_alpha=np.zeros((2, 1)),
    ...     joiner_ab=(np.array([5.0, 1.0]), np.array([95.0, 99.0])), joiner_kappa=np.inf,
    ...     join_cell=np.array([[0], [1]]), join_alpha=np.ones((2, 1)),
    ...     cell_valid=np.ones((Y, 2), dtype=bool), population=np.full((Y, 1, 2), 200.0),
    ...     stock0=np.array([[10, 10]]), leaver_mult=np.ones((Y, 2)), mover_mult=np.ones((Y, 2)),
    ...     joiner_mult=np.ones((Y, 2)), joiner_weight=np.ones((Y, 2, 1)))
    >>> cells, out = simulate(plan, 200, np.random.default_rng(1))
    >>> cells.tolist(), out["stock"].shape
    ([0, 1], (200, 2, 2))
    >>> s, j, l = out["stock"].sum(2), out["joiners"].sum(2), out["leavers"].sum(2)
    >>> bool((s[:, 0] == 20 + j[:, 0] - l[:, 0]).all())  # nobody disappears
    True
    >>> bool((s[:, 1] == s[:, 0] + j[:, 1] - l[:, 1]).all())
    True
    >>> bool(10 < j.mean() < 14)
    True
    >>> again = simulate(plan, 200, np.random.default_rng(1))[1]["stock"]
    >>> bool((again == out["stock"]).all())  # a seed reproduces
    True
    """
    from .kernel import Adjustments, Cells, Joiners, Outputs, Rates, Streams, run_draws  # lazy: numba on first use

    Y, C = plan.cell_valid.shape
    Ar = plan.stock0.shape[0]
    A = plan.join_cell.shape[0]
    D = n_draws
    AC = Ar * C
    has_redirects = any(len(r) for r in plan.redirects) if plan.redirects else False
    names = tuple(f for f in FLOWS if f in flows and (f != "redirected" or has_redirects))
    valid = plan.cell_valid
    nxt = np.where(plan.next_cell >= 0, plan.next_cell, 0)
    dcell = np.where(plan.dest_cell >= 0, plan.dest_cell, 0)
    jcell = np.where(plan.join_cell >= 0, plan.join_cell, 0)
    valid_next = (plan.next_cell >= 0)[None, :] & valid[:, nxt]  # (Y, C)
    dest_alpha = np.where((plan.dest_cell >= 0)[None] & valid[:, dcell], plan.dest_alpha[None], 0.0)  # (Y, C, K)
    has_dest = dest_alpha.sum(-1) > 0  # a cell with no open destination has no movers
    join_ok = (plan.join_cell >= 0)[None] & valid[:, jcell]  # (Y, A, Kj)

    # keys of the draws' random streams, first: with the same seed every run (a scenario,
    # the baseline) gets the same keys, and only arrays whose shape no scenario changes are
    # drawn from ``rng`` after them
    draw_keys = rng.integers(0, 2**63, size=D, dtype=np.int64).astype(np.uint64)
    cell_keys = (plan.cell_key if plan.cell_key is not None
                 else pd.util.hash_array(np.arange(C, dtype=np.int64))).astype(np.uint64)

    # joiner-rate trend and area factors, drawn once per draw (parameter uncertainty)
    b, se = plan.joiner_trend
    trend = b + se * rng.standard_normal(D) if (b != 0 or se > 0) else np.zeros(D)
    offset = plan.trend_offset if plan.trend_offset is not None else np.zeros(Y)
    trend_f = np.exp(offset[:, None] * trend[None, :])  # (Y, D)
    if plan.area_factor is not None:
        shape, rate = plan.area_factor
        area_f = rng.gamma(shape[None, :], 1.0 / rate[None, :], size=(D, Ar))
    else:
        area_f = np.ones((D, Ar))

    resample = plan.resample_each_year
    leave_f = move_f = None
    if not resample:
        # leaving and moving rates are drawn in the kernel, from the cells' own streams
        mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        q_join = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))
        err = {k: mean_error_factor(rng, v, plan.year_effect_years, (D, A)) for k, v in
               (("l", plan.leaver_year_var), ("m", plan.mover_year_var), ("j", plan.joiner_year_var))}
        # rates vary between years beyond parameter uncertainty: a year effect per (draw, NCY)
        leave_f = year_factor(rng, plan.leaver_year_var, (Y, D, A), err["l"])
        move_f = year_factor(rng, plan.mover_year_var, (Y, D, A), err["m"])
    else:
        q_join = np.zeros((1, 1, 1))
    p_join = np.empty((Y, D, A))
    for yi in range(Y):
        if resample:  # witan.send samples the rates afresh every year
            mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        pj = mu_j
        if np.isfinite(plan.joiner_kappa):  # year-to-year variation of the joiner rate around the draw's mean
            k = plan.joiner_kappa
            pj = sample_beta(rng, mu_j * k, (1 - mu_j) * k * (mu_j > 0), (D, A))
        if not resample:
            fj = year_factor(rng, plan.joiner_year_var, (D, A), err["j"])
            if fj is not None:
                pj = pj * fj / (1.0 - pj + pj * fj)
        p_join[yi] = pj
    need_f = need_factors(rng, plan.joiner_need_trend, trend, offset)

    keys = Streams(draw=draw_keys, cell=cell_keys)
    cells = Cells(stock0=plan.stock0.ravel().astype(np.int64), ncy=plan.cell_ncy.astype(np.int64),
                  next_cell=nxt.astype(np.int64), valid_next=valid_next)
    no_factor = np.ones((1, 1, 1))
    rates = Rates(leave_ab=np.asarray(plan.leaver_ab, float), move_ab=np.asarray(plan.mover_ab, float),
                  resample=resample, leave_f=no_factor if leave_f is None else leave_f,
                  move_f=no_factor if move_f is None else move_f, use_leave_f=leave_f is not None,
                  use_move_f=move_f is not None, dest_cell=dcell.astype(np.int64), dest_alpha=dest_alpha,
                  has_dest=has_dest)
    joiners = Joiners(rate=p_join, trend_f=trend_f, area_f=area_f, population=plan.population.astype(np.int64),
                      cell=jcell.astype(np.int64), alpha=plan.join_alpha.astype(float), ok=join_ok, mix=q_join,
                      fresh_mix=resample,
                      need=(np.zeros((1, 1), np.int64) if need_f is None
                            else np.maximum(plan.join_need, 0).astype(np.int64)),
                      need_f=np.ones((1, 1, 1)) if need_f is None else need_f, use_need_f=need_f is not None)
    red_n, red_to, red_share, red_joiners, red_stayers = _redirect_arrays(plan, C)
    adjust = Adjustments(leave_mult=plan.leaver_mult.astype(float),
                         move_mult=(plan.mover_mult * has_dest).astype(float),
                         join_mult=plan.joiner_mult.astype(float), join_weight=np.asarray(plan.joiner_weight, float),
                         red_n=red_n, red_to=red_to, red_share=red_share, red_joiners=red_joiners,
                         red_stayers=red_stayers)
    record = np.array([k in names for k in FLOWS])
    most = int(plan.stock0.sum())  # largest draw-year total, to choose the output dtype
    for flow_dtype in ((np.int16, np.int32) if most < 2**15 else (np.int32,)):
        # every flow in a year is at most the stock before or after it, so one bound serves
        # all: flows int16 while every draw-year total fits (else the run is redone in int32:
        # the streams are keyed, so the same draws)
        limit = 2**15 - 1 if flow_dtype is np.int16 and names else 2**62
        written = Outputs(stock=np.empty((D, Y, AC), np.int32),
                          flows=tuple(np.empty((D, Y, AC) if k in names else (0, 0, 0), flow_dtype) for k in FLOWS),
                          record=record, seen=np.zeros(AC, bool), limit=limit)
        most = max(most, run_draws(keys, cells, rates, joiners, adjust, written))
        if most <= limit:
            break
    out = {"stock": written.stock, **{k: v for k, v in zip(FLOWS, written.flows) if k in names}}
    used = np.flatnonzero(written.seen)
    if used.size < AC:
        out = {k: compact_columns(v, used) for k, v in out.items()}
    return used, out
