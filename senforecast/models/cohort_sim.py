"""Vectorised Monte Carlo of the cohort model: all draws, areas and states at once.

One Python iteration per projected year. The children are held sparsely as *entries*
(draw, area, cell, count) for every occupied combination, where a *cell* is a possible
(NCY, state). Inside a year every operation is one numpy call over all entries: leavers and
movers are binomial draws, mover destinations and joiner states are categorical draws made
for every child at once (inverse CDF with one ``searchsorted`` over all rows), and Dirichlet
and Beta rates come from the Generator's gamma and beta samplers.

Nobody disappears: a child whose next state is not valid (aged out of the setting's range,
setting closed, need not taken) is *routed*: moved to a valid destination drawn from the
state's destination distribution, or made a leaver if there is none. Routed children are
counted in the ``routed`` flow (and in ``movers`` or ``leavers``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimPlan:
    """Arrays the simulation runs on (built by :class:`~senforecast.models.cohort.CohortModel`).

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
        As in :class:`~senforecast.models.cohort_fit.CohortParameters`; ``trend_offset``
        is ``(Y,)`` years from the trend's reference year.

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


def odds_year_effect(rng: np.random.Generator, p: np.ndarray, var: float, row: np.ndarray,
                     col: np.ndarray, shape: tuple[int, int], persistent: np.ndarray | None = None) -> np.ndarray:
    """Rates ``p`` with their odds multiplied by a Gamma(mean 1, variance ``var``) year effect.

    One factor is drawn per ``shape`` (draw, NCY), times ``persistent`` (the same shape, the
    draw's error in the mean rate, fixed over the years) when given, and applied to entry
    ``i`` as ``factor[row[i], col[i]]``; on the odds scale a rate stays within [0, 1] (and
    0 and 1 stay put). ``var == 0`` returns ``p`` unchanged without touching the generator.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = np.array([0.0, 0.1, 1.0])
    >>> q = odds_year_effect(rng, p, 0.1, np.zeros(3, int), np.zeros(3, int), (1, 1))
    >>> q[0], q[2], bool(0 < q[1] < 1)
    (np.float64(0.0), np.float64(1.0), True)
    """
    if var <= 0:
        return p
    f = rng.gamma(1.0 / var, var, size=shape)
    if persistent is not None:
        f *= persistent
    f = f[row, col]
    return p * f / (1.0 - p + p * f)


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


def beta_where(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, row: np.ndarray,
               draw: np.ndarray) -> np.ndarray:
    """Rate of each entry ``i`` from Beta(``a[row[i]]``, ``b[row[i]]``): a draw where ``draw``
    is True, the Beta mean elsewhere (``a == 0``: 0, ``b == 0``: 1).

    A beta-binomial with one trial is a Bernoulli with the Beta's mean, so entries of one
    child (or none) need no Beta draw: same distribution, a fraction of the cost.

    Examples
    --------
    >>> p = beta_where(np.random.default_rng(0), np.array([1.0, 0.0, 2.0, 3.0]), np.array([3.0, 1.0, 0.0, 1.0]),
    ...                np.arange(4), np.array([False, False, False, True]))
    >>> p[:3].tolist(), bool(0 < p[3] < 1)
    ([0.25, 0.0, 1.0], True)
    """
    tot = a + b
    p = np.divide(a, tot, out=np.zeros_like(tot, dtype=float), where=tot > 0)
    p = np.where(b > 0, p, np.where(a > 0, 1.0, 0.0))[row]  # means per row, then gathered
    i = np.flatnonzero(draw)
    if i.size:
        r = row[i]
        p[i] = sample_beta(rng, a[r], b[r], (i.size,))
    return p


def dirichlet_rows(rng: np.random.Generator, n: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Category probabilities for Dirichlet-multinomial rows with ``n`` children each.

    A row with one child needs no Dirichlet draw: its category distribution is exactly the
    alpha proportions (most rows hold a single child, so this saves most gamma draws).

    Examples
    --------
    >>> dirichlet_rows(np.random.default_rng(0), np.array([1]), np.array([[1.0, 3.0]])).tolist()
    [[0.25, 0.75]]
    """
    tot = alpha.sum(-1)
    probs = alpha / np.where(tot > 0, tot, 1.0)[:, None]
    many = n > 1
    if many.any():
        probs[many] = sample_dirichlet(rng, alpha[many])
    return probs


def categorical(rng: np.random.Generator, child_row: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category of every child, child ``i`` drawn from ``probs[child_row[i]]``.

    Exact inverse-CDF sampling for all children with one ``searchsorted``: each row's CDF is
    offset by its row number so the rows form one increasing sequence. Rows used must have
    positive total probability.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    >>> slot = categorical(rng, np.array([0, 0, 1, 1, 1]), probs)
    >>> slot[:2].tolist(), bool(np.isin(slot[2:], [0, 2]).all())
    ([1, 1], True)
    """
    if child_row.size == 0:
        return child_row.copy()
    return categorical_from_cdf(rng, child_row, cdf_table(probs), probs.shape[1])


def cdf_table(probs: np.ndarray) -> np.ndarray:
    """Row CDFs of ``probs`` (rows, k), each offset by its row number, flattened.

    Examples
    --------
    >>> cdf_table(np.array([[1.0, 1.0], [0.0, 2.0]])).tolist()
    [0.5, 1.0, 1.0, 2.0]
    """
    cum = np.cumsum(probs, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    cum[:, -1] = 1.0
    return (cum + np.arange(probs.shape[0])[:, None]).ravel()


def categorical_from_cdf(rng: np.random.Generator, child_row: np.ndarray, flat: np.ndarray, k: int) -> np.ndarray:
    """Categories for children given a table from :func:`cdf_table` with ``k`` categories.

    Examples
    --------
    >>> flat = cdf_table(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> categorical_from_cdf(np.random.default_rng(1), np.array([0, 1, 1]), flat, 2).tolist()
    [1, 0, 0]
    """
    pos = np.searchsorted(flat, rng.random(child_row.size) + child_row, side="right")
    return np.clip(pos - child_row * k, 0, k - 1)


_COUNT_BITS = 20  # counts below 2**20 share an int64 with their key (keys below 2**43)


def guide_table(flat: np.ndarray, n_rows: int, g: int) -> np.ndarray:
    """Guide table for :func:`categorical_from_guide`: for each row and each of ``g`` equal
    slices of [0, 1), the first position of ``flat`` (from :func:`cdf_table`) above the slice's start.

    Examples
    --------
    >>> guide_table(cdf_table(np.array([[1.0, 3.0]])), 1, 4).tolist()
    [0, 1, 1, 1]
    """
    starts = np.arange(n_rows)[:, None] + np.arange(g)[None, :] / g
    return np.searchsorted(flat, starts.ravel(), side="right")


def categorical_from_guide(rng: np.random.Generator, child_row: np.ndarray, flat: np.ndarray, guide: np.ndarray,
                           g: int, k: int) -> np.ndarray:
    """As :func:`categorical_from_cdf` (the same uniforms, the same categories) for many children.

    The guide table (``g`` a power of two, so ``u * g`` is exact) puts each child at most a
    step or two below its category, which a few vectorised steps reach, instead of a binary
    search through the whole table (the search was most of the time of large authorities).

    Examples
    --------
    >>> flat = cdf_table(np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))
    >>> rows = np.array([0, 0, 0, 1, 1])
    >>> a = categorical_from_guide(np.random.default_rng(2), rows, flat, guide_table(flat, 2, 4), 4, 3)
    >>> b = categorical_from_cdf(np.random.default_rng(2), rows, flat, 3)
    >>> a.tolist() == b.tolist(), a[3:].tolist()
    (True, [0, 0])
    """
    u = rng.random(child_row.size)
    key = u + child_row
    pos = guide[child_row * g + (u * g).astype(np.int64)]
    last = flat.size - 1
    # step up to the first table entry above the child's key (what searchsorted finds)
    idx = np.flatnonzero(flat[np.minimum(pos, last)] <= key)
    idx = idx[pos[idx] <= last]
    while idx.size:
        pos[idx] += 1
        p = pos[idx]
        idx = idx[p <= last]
        idx = idx[flat[pos[idx]] <= key[idx]]
    return np.clip(pos - child_row * k, 0, k - 1)


def sum_by_key_dense(keys: np.ndarray, counts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`sum_by_key` for non-negative keys below a small ``size``: one bincount, no sort.

    Examples
    --------
    >>> k, n = sum_by_key_dense(np.array([7, 3, 7, 5]), np.array([1, 2, 3, 0]), 8)
    >>> k.tolist(), n.tolist()
    ([3, 7], [2, 4])
    """
    tot = np.bincount(keys, weights=counts, minlength=size)
    k = np.flatnonzero(tot > 0)
    return k, tot[k].astype(np.int64)


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


def sum_by_key(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum counts by integer key; return keys with positive totals, sorted.

    Key and count are packed into one int64 (key in the high bits) and sorted with one
    ``np.sort``, about twice as fast as an ``argsort`` and two gathers; keys or counts too
    big to pack fall back to the ``argsort``.

    Examples
    --------
    >>> k, n = sum_by_key(np.array([7, 3, 7, 5]), np.array([1, 2, 3, 0]))
    >>> k.tolist(), n.tolist()
    ([3, 7], [2, 4])
    """
    if keys.size == 0:
        return keys.astype(np.int64), counts.astype(np.int64)
    if counts.max() < 2 ** _COUNT_BITS and counts.min() >= 0 and keys.max() < 2 ** (62 - _COUNT_BITS):
        packed = np.sort((keys.astype(np.int64) << _COUNT_BITS) | counts.astype(np.int64))
        k, c = packed >> _COUNT_BITS, packed & (2 ** _COUNT_BITS - 1)
    else:
        order = np.argsort(keys)
        k, c = keys[order], counts[order].astype(np.int64)
    start = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    tot = np.add.reduceat(c, start)
    keep = tot > 0
    return k[start][keep], tot[keep]


def binomial_counts(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial draws where most ``n`` are 1: those are Bernoulli draws from uniforms.

    A uniform and a comparison cost far less than a binomial draw, and most entries of the
    simulation hold one child.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = binomial_counts(rng, np.array([1] * 4000 + [5] * 4000), np.full(8000, 0.3))
    >>> round(float(x[:4000].mean()), 1), round(float(x[4000:].mean()), 1), int(x.min()), int(x.max()) <= 5
    (0.3, 1.5, 0, True)
    """
    # a uniform for every entry (cheaper than selecting the ones first); n == 0 gives 0
    out = ((rng.random(n.size) < p) & (n == 1)).astype(np.int64)
    many = np.flatnonzero(n > 1)
    if many.size:
        out[many] = rng.binomial(n[many], p[many])
    return out


FLOWS: tuple[str, ...] = ("joiners", "leavers", "movers", "routed", "redirected")
"""Flows the simulation can record (``redirected`` only when a scenario redirects)."""


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
    Y, C = plan.cell_valid.shape
    Ar = plan.stock0.shape[0]
    A = plan.join_cell.shape[0]
    D = n_draws
    AC = Ar * C
    size = D * AC
    has_redirects = any(len(r) for r in plan.redirects) if plan.redirects else False
    names = ("stock",) + tuple(f for f in FLOWS if f in flows and (f != "redirected" or has_redirects))
    has_next = plan.next_cell >= 0
    nxt = np.where(has_next, plan.next_cell, 0)
    dcell = np.where(plan.dest_cell >= 0, plan.dest_cell, 0)
    jcell = np.where(plan.join_cell >= 0, plan.join_cell, 0)
    joiner_rate_changes = bool((plan.joiner_weight != 1).any())
    j_guide = int(min(128, 2 ** np.ceil(np.log2(max(plan.join_cell.shape[1], 2)))))  # guide slices per joiner row

    # entries: one per occupied (draw, area, cell); key = draw * AC + area * C + cell
    ac0 = np.flatnonzero(plan.stock0.ravel())
    key = (np.arange(D)[:, None] * AC + ac0[None, :]).ravel()
    n = np.tile(plan.stock0.ravel()[ac0], D).astype(np.int64)
    most = int(plan.stock0.sum())  # largest draw-year total, to choose the output dtype
    # outputs over every area-cell, written year by year (keeping every year's entries to the
    # end made peak memory several times the output); every flow in a year is at most the
    # stock before or after it, so one bound serves all: flows int16 while every draw-year
    # total fits (widened the first year one does not), the stock (the draws analysts do
    # arithmetic with) int32
    out: dict[str, np.ndarray] = {}
    for k in names:
        # zero-filled in order: scattered first writes into fresh pages fault in a slow, erratic order
        out[k] = np.empty((D, Y, AC), dtype=np.int32 if k == "stock" or most >= 2**15 else np.int16)
        out[k].fill(0)
    seen = np.zeros(AC, dtype=bool)

    # joiner-rate trend and area factors, drawn once per draw (parameter uncertainty)
    b, se = plan.joiner_trend
    trend = b + se * rng.standard_normal(D) if (b != 0 or se > 0) else np.zeros(D)
    offset = plan.trend_offset if plan.trend_offset is not None else np.zeros(Y)
    if plan.area_factor is not None:
        shape, rate = plan.area_factor
        area_f = rng.gamma(shape[None, :], 1.0 / rate[None, :], size=(D, Ar))
    else:
        area_f = np.ones((D, Ar))

    if not plan.resample_each_year:
        # rates drawn once per draw: parameter uncertainty carried through every year
        pL_all = sample_beta(rng, *plan.leaver_ab, (D, C))
        pM_all = sample_beta(rng, *plan.mover_ab, (D, C))
        mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        qJ = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))
        mean_err_l = mean_error_factor(rng, plan.leaver_year_var, plan.year_effect_years, (D, A))
        mean_err_m = mean_error_factor(rng, plan.mover_year_var, plan.year_effect_years, (D, A))
        mean_err_j = mean_error_factor(rng, plan.joiner_year_var, plan.year_effect_years, (D, A))

    j_cache = None
    K = dcell.shape[1]
    dcell_flat = dcell.ravel()
    draw, ac = key // AC, key % AC
    for yi in range(Y):
        cell = ac % C
        base = draw * AC + (ac - cell)  # the entry's (draw, area) part of the key
        if plan.resample_each_year:
            # witan.send samples the rates afresh for every cohort every year (beta-binomial)
            # (a one-child entry needs no Beta draw: its Bernoulli has the Beta's mean)
            pl = beta_where(rng, *plan.leaver_ab, cell, n > 1)
            pm = None  # drawn below, once the children left to move are known
            mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        else:
            dc = draw * C + cell  # flat (draw, cell) index: one gather instead of a 2-d one
            pl, pm = pL_all.ravel()[dc], pM_all.ravel()[dc]
            # rates vary between years beyond parameter uncertainty: a year effect per (draw, NCY)
            if plan.leaver_year_var > 0 or plan.mover_year_var > 0:
                da = draw * A + plan.cell_ncy[cell]
                zero = np.zeros_like(da)
                pl = odds_year_effect(rng, pl, plan.leaver_year_var, zero, da, (1, D * A),
                                      None if mean_err_l is None else mean_err_l.reshape(1, -1))
                pm = odds_year_effect(rng, pm, plan.mover_year_var, zero, da, (1, D * A),
                                      None if mean_err_m is None else mean_err_m.reshape(1, -1))
        if np.isfinite(plan.joiner_kappa):
            # year-to-year variation of the joiner rate around the draw's mean
            k = plan.joiner_kappa
            pJ = sample_beta(rng, mu_j * k, (1 - mu_j) * k * (mu_j > 0), (D, A))
        else:
            pJ = mu_j
        if plan.joiner_year_var > 0 and not plan.resample_each_year:
            # joiner rates vary between years like leaver rates: a year effect per (draw, NCY)
            pJ = odds_year_effect(rng, pJ, plan.joiner_year_var, np.arange(D)[:, None], np.arange(A)[None, :],
                                  (D, A), mean_err_j)
        valid = plan.cell_valid[yi]
        valid_next_c = has_next & valid[nxt]
        dest_alpha_c = np.where((plan.dest_cell >= 0) & valid[dcell], plan.dest_alpha, 0.0)
        has_dest_c = dest_alpha_c.sum(1) > 0

        # scenario multipliers (skipped when all 1); a cell with no open destination has no movers
        lm, mm = plan.leaver_mult[yi], plan.mover_mult[yi] * has_dest_c
        if (lm != 1).any():
            pl = np.clip(pl * lm[cell], 0.0, 1.0)
        leave = binomial_counts(rng, n, pl)
        remain = n - leave
        if pm is None:
            pm = beta_where(rng, *plan.mover_ab, cell, remain > 1)
        pm = pm * mm[cell]
        if (mm > 1).any():
            pm = np.clip(pm, 0.0, 1.0)
        move = binomial_counts(rng, remain, pm)
        stay = remain - move
        # routing: stayers whose state is not valid next year must move; no destination -> leave
        forced = np.where(valid_next_c[cell], 0, stay)
        stay -= forced
        move += forced
        stranded = np.where(has_dest_c[cell], 0, move)
        move -= stranded
        leave += stranded

        s_ok = stay > 0
        in_keys = [base[s_ok] + nxt[cell[s_ok]]]
        in_counts = [stay[s_ok]]
        in_kind = [np.zeros(int(s_ok.sum()), np.int8)]  # 0 stayer, 1 mover, 2 joiner

        m_rows = np.flatnonzero(move)
        if m_rows.size:
            probs = dirichlet_rows(rng, move[m_rows], dest_alpha_c[cell[m_rows]])
            child = np.repeat(np.arange(m_rows.size), move[m_rows])
            slot = categorical(rng, child, probs)
            r = m_rows[child]
            in_keys.append(base[r] + dcell_flat[cell[r] * K + slot])
            in_counts.append(np.ones(child.size, np.int64))
            in_kind.append(np.ones(child.size, np.int8))

        # joiners: rate x population for every (draw, area, NCY), then a state for each joiner
        j_ok = (plan.join_cell >= 0) & valid[jcell]
        w = plan.joiner_weight[yi]
        if joiner_rate_changes or not plan.resample_each_year:
            if plan.resample_each_year:
                qJ = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))
                j_cache = None
            if j_cache is None or not (np.array_equal(j_cache[0], j_ok) and np.array_equal(j_cache[1], w)):
                q_rate = qJ * w[None]
                rate_factor = q_rate.sum(-1)  # rate changes of some joiner states change the total
                q = q_rate * j_ok[None]
                q_any = q.sum(-1) > 0
                # one CDF row per (draw, NCY), reused while the mix does not change
                j_flat = cdf_table(q.reshape(D * A, -1))
                j_cache = (j_ok, w, rate_factor, q_any, j_flat, guide_table(j_flat, D * A, j_guide))
            rate_factor, q_any, j_cdf, j_gt = j_cache[2], j_cache[3], j_cache[4], j_cache[5]
        else:
            rate_factor = 1.0
            q_any = ((plan.join_alpha > 0) & j_ok).any(-1)[None]
        pj = pJ * plan.joiner_mult[yi][None] * rate_factor * q_any  # (draw, NCY)
        pj = pj[:, None, :] * (np.exp(trend * offset[yi])[:, None] * area_f)[:, :, None]
        n_join = rng.binomial(plan.population[yi][None].astype(np.int64), np.clip(pj, 0.0, 1.0))
        # ordered by (draw, NCY, area): the joiners' CDF rows (draw, NCY) are then read in order
        d_j, n_j, a_j = np.nonzero(n_join.transpose(0, 2, 1))
        if d_j.size:
            cnt = n_join[d_j, a_j, n_j]
            child = np.repeat(np.arange(d_j.size), cnt)
            if joiner_rate_changes or not plan.resample_each_year:
                slot = categorical_from_guide(rng, (d_j * A + n_j)[child], j_cdf, j_gt, j_guide, plan.join_cell.shape[1])
            else:
                # witan: a fresh Dirichlet for each (draw, NCY) with joiners, shared by its areas
                pair, inv = np.unique(d_j * A + n_j, return_inverse=True)
                inv = inv.ravel()
                n_pair = np.bincount(inv, weights=cnt, minlength=pair.size)
                probs = dirichlet_rows(rng, n_pair, plan.join_alpha[pair % A] * j_ok[pair % A])
                slot = categorical(rng, inv[child], probs)
            in_keys.append(d_j[child] * AC + a_j[child] * C + jcell[n_j[child], slot])
            in_counts.append(np.ones(child.size, np.int64))
            in_kind.append(np.full(child.size, 2, np.int8))

        keys_in = np.concatenate(in_keys)
        counts_in = np.concatenate(in_counts)
        kind_in = np.concatenate(in_kind)
        redirected = None
        for from_cells, to_cells, share, joiners, stayers in (plan.redirects[yi] if plan.redirects else []):
            to_of = np.full(C, -1, dtype=np.int64)
            open_now = valid[to_cells]  # only into a target that takes children this year
            to_of[from_cells[open_now]] = to_cells[open_now]
            c_in = keys_in % C
            eligible = (to_of[c_in] >= 0) & ((kind_in == 1) | (joiners & (kind_in == 2)) | (stayers & (kind_in == 0)))
            idx = np.flatnonzero(eligible)
            k = rng.binomial(counts_in[idx], share)
            counts_in[idx] -= k
            moved = k > 0
            new_keys = keys_in[idx[moved]] - c_in[idx[moved]] + to_of[c_in[idx[moved]]]
            keys_in = np.concatenate([keys_in, new_keys])
            counts_in = np.concatenate([counts_in, k[moved]])
            kind_in = np.concatenate([kind_in, kind_in[idx[moved]]])
            red = (new_keys, k[moved])
            redirected = red if redirected is None else (np.concatenate([redirected[0], red[0]]),
                                                         np.concatenate([redirected[1], red[1]]))

        # few possible keys: a bincount beats the sort
        key, n = (sum_by_key_dense(keys_in, counts_in, size) if size <= 4 * keys_in.size + 2**20
                  else sum_by_key(keys_in, counts_in))
        new_draw, new_ac = key // AC, key % AC
        most = max(most, int(np.bincount(new_draw, weights=n, minlength=D).max()) if key.size else 0)
        joined = kind_in == 2
        def split(kv: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return kv[0] // AC, kv[0] % AC, kv[1]

        rec = {}
        for name, arr in (("leavers", leave), ("movers", move), ("routed", forced)):
            if name in names:
                nz = arr > 0
                rec[name] = (draw[nz], ac[nz], arr[nz])
        if "joiners" in names:
            joined = kind_in == 2
            rec["joiners"] = split(sum_by_key(keys_in[joined], counts_in[joined]))
        if "redirected" in names:
            rec["redirected"] = split(sum_by_key(*redirected) if redirected is not None
                                      else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        draw, ac = new_draw, new_ac  # the new stock's entries, for the next year
        rec["stock"] = (draw, ac, n)
        if most >= 2**15:
            for k in names:
                if out[k].dtype == np.int16:
                    out[k] = out[k].astype(np.int32)
        for k, (dd, aa, vv) in rec.items():
            out[k].reshape(-1)[dd * (Y * AC) + yi * AC + aa] = vv  # one flat index: ~4x faster than 3-d
            seen[aa] = True

    used = np.flatnonzero(seen)
    if used.size < AC:
        out = {k: compact_columns(v, used) for k, v in out.items()}
    return used, out
