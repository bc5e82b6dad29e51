"""Vectorised Monte Carlo of the cohort model: all draws, areas and states at once.

One Python iteration per projected year. Inside a year every operation is a numpy call over
arrays shaped (draw, area, cell), where a *cell* is a possible (NCY, state): leavers and
movers are binomial draws, mover destinations and joiner states are categorical draws made
for every child at once (inverse-CDF with one ``searchsorted`` over all rows), and Dirichlet
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


def sample_beta(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, size: tuple) -> np.ndarray:
    """Beta draws allowing a == 0 (rate 0) and b == 0 (rate 1)."""
    x = rng.beta(np.where(a > 0, a, 1.0), np.where(b > 0, b, 1.0), size=size)
    return np.where(a > 0, np.where(b > 0, x, 1.0), 0.0)


def sample_dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet draws along the last axis; zero alphas stay zero; rows of all-zero alpha stay zero.

    Gamma variates are drawn in float32 (faster); rows where every variate underflowed
    (tiny alphas) are redrawn in float64, then fall back to the alpha proportions.
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


def sample_beta_where(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Beta draws of shape ``need.shape`` (draw, cell) made only where ``need`` is true (else 0)."""
    out = np.zeros(need.shape)
    d, c = np.nonzero(need)
    if d.size:
        out[d, c] = sample_beta(rng, a[c], b[c], (d.size,))
    return out


def dirichlet_multinomial_children(rng: np.random.Generator, n: np.ndarray,
                                   alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet-multinomial draw for every row, returned per child (row, category).

    A row with one child needs no Dirichlet draw: its category distribution is exactly the
    alpha proportions (most mover rows hold a single child, so this saves most gamma draws).
    """
    probs = alpha / np.where(alpha.sum(-1) > 0, alpha.sum(-1), 1.0)[:, None]
    many = n > 1
    if many.any():
        probs[many] = sample_dirichlet(rng, alpha[many])
    return categorical_children(rng, n, probs)


def categorical_children(rng: np.random.Generator, n: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw a category for every child: ``n[r]`` children in row ``r`` with ``probs[r]``.

    Returns the row and the category of each child. Rows must have positive total
    probability. Exact multinomial sampling (inverse CDF), one ``searchsorted`` for all rows.
    """
    rows, k = probs.shape
    n = n.astype(np.int64)
    row = np.repeat(np.arange(rows), n)
    if row.size == 0:
        return row, row.copy()
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    cum[:, -1] = 1.0
    # offset each row by its number so the rows form one increasing sequence
    flat = (cum + np.arange(rows)[:, None]).ravel()
    pos = np.searchsorted(flat, rng.random(row.size) + row, side="right")
    slot = np.clip(pos - row * k, 0, k - 1)
    return row, slot


def simulate(plan: SimPlan, n_draws: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the projection.

    Returns
    -------
    cells : ndarray
        Cells that hold children or flows in some draw and year.
    out : dict of ndarray
        ``stock`` and the flows ``joiners, leavers, movers, routed, redirected``, each
        (draw, year, area, len(cells)) int32.
    """
    Y, C = plan.cell_valid.shape
    Ar = plan.stock0.shape[0]
    A = plan.join_cell.shape[0]
    D = n_draws
    names = ("stock", "joiners", "leavers", "movers", "routed", "redirected")
    records: list[dict[str, tuple[np.ndarray, np.ndarray]]] = []
    X = np.broadcast_to(plan.stock0[None], (D, Ar, C)).astype(np.int64)
    has_next = plan.next_cell >= 0
    nxt = np.where(has_next, plan.next_cell, 0)
    dcell = np.where(plan.dest_cell >= 0, plan.dest_cell, 0)
    jcell = np.where(plan.join_cell >= 0, plan.join_cell, 0)
    size = D * Ar * C
    joiner_rate_changes = bool((plan.joiner_weight != 1).any())

    def scatter(draw: np.ndarray, area: np.ndarray, cell: np.ndarray) -> np.ndarray:
        return np.bincount((draw * Ar + area) * C + cell, minlength=size).reshape(D, Ar, C)

    def compact(arr: np.ndarray, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if cells is None:
            cells = np.flatnonzero(arr.any(axis=(0, 1)))
            arr = arr[:, :, cells]
        return cells, arr.astype(np.int32)

    if not plan.resample_each_year:
        # rates drawn once per draw: parameter uncertainty carried through every year
        pL_all = sample_beta(rng, *plan.leaver_ab, (D, C))
        pM_all = sample_beta(rng, *plan.mover_ab, (D, C))
        mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        qJ = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))

    for yi in range(Y):
        act = np.flatnonzero(X.any(axis=(0, 1)))  # cells holding children in some draw
        Xa = X[:, :, act]
        if plan.resample_each_year:
            # witan.send samples every rate afresh each year (beta-binomial draws)
            # only where a draw has children in the cell (the rest would multiply zero)
            occupied = Xa.any(axis=1)
            pL = sample_beta_where(rng, plan.leaver_ab[0][act], plan.leaver_ab[1][act], occupied)
            pM = sample_beta_where(rng, plan.mover_ab[0][act], plan.mover_ab[1][act], occupied)
            mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
        else:
            pL, pM = pL_all[:, act], pM_all[:, act]
        if np.isfinite(plan.joiner_kappa):
            # year-to-year variation of the joiner rate around the draw's mean
            k = plan.joiner_kappa
            pJ = sample_beta(rng, mu_j * k, (1 - mu_j) * k * (mu_j > 0), (D, A))
        else:
            pJ = mu_j
        valid = plan.cell_valid[yi]
        valid_next = (has_next & valid[nxt])[act]
        dest_ok = (plan.dest_cell[act] >= 0) & valid[dcell[act]]
        dest_alpha = np.where(dest_ok, plan.dest_alpha[act], 0.0)
        has_dest = dest_alpha.sum(1) > 0

        pl = np.clip(pL * plan.leaver_mult[yi][act], 0.0, 1.0)
        pm = np.clip(pM * plan.mover_mult[yi][act], 0.0, 1.0) * has_dest
        leave = rng.binomial(Xa, pl[:, None, :])
        remain = Xa - leave
        move = rng.binomial(remain, pm[:, None, :])
        stay = remain - move
        # routing: stayers whose state is not valid next year must move; no destination -> leave
        forced = np.where(valid_next, 0, stay)
        stay -= forced
        move += forced
        stranded = np.where(has_dest, 0, move)
        move -= stranded
        leave += stranded

        new = np.zeros((D, Ar, C), dtype=np.int64)
        ok = np.flatnonzero(valid_next)
        new[:, :, plan.next_cell[act[ok]]] = stay[:, :, ok]  # (ncy, state) -> (ncy + 1, state) is one-to-one

        d_i, a_i, c_i = np.nonzero(move)
        moved_in = np.zeros_like(new)
        if d_i.size:
            row, slot = dirichlet_multinomial_children(rng, move[d_i, a_i, c_i], dest_alpha[c_i])
            moved_in = scatter(d_i[row], a_i[row], dcell[act[c_i[row]], slot])

        # joiners: rate x population, then a state for each joiner
        j_ok = (plan.join_cell >= 0) & valid[jcell]
        w = plan.joiner_weight[yi]
        if joiner_rate_changes or not plan.resample_each_year:
            if plan.resample_each_year:
                qJ = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))
            q_rate = qJ * w[None]
            rate_factor = q_rate.sum(-1)  # rate changes for some joiner states change the total
            q = q_rate * j_ok[None]
            q_any = q.sum(-1) > 0
        else:
            rate_factor = 1.0
            q_any = ((plan.join_alpha > 0) & j_ok).any(-1)[None]
        pj = np.clip(pJ * plan.joiner_mult[yi][None] * rate_factor, 0.0, 1.0) * q_any
        n_join = rng.binomial(plan.population[yi][None].astype(np.int64), pj[:, None, :])
        d_j, a_j, n_j = np.nonzero(n_join)
        joined = np.zeros_like(new)
        if d_j.size:
            if joiner_rate_changes or not plan.resample_each_year:
                probs = q[d_j, n_j]
            else:
                # Dirichlet draws only for the (draw, NCY) pairs that have joiners
                pairs, inv = np.unique(d_j * A + n_j, return_inverse=True)
                alpha = plan.join_alpha[pairs % A] * j_ok[pairs % A]
                n_pair = np.bincount(inv.ravel(), weights=n_join[d_j, a_j, n_j], minlength=pairs.size)
                probs = alpha / np.where(alpha.sum(-1) > 0, alpha.sum(-1), 1.0)[:, None]
                many = n_pair > 1
                if many.any():
                    probs[many] = sample_dirichlet(rng, alpha[many])
                probs = probs[inv.ravel()]
            row, slot = categorical_children(rng, n_join[d_j, a_j, n_j], probs)
            joined = scatter(d_j[row], a_j[row], jcell[n_j[row], slot])

        redirected = np.zeros_like(new) if plan.redirects and plan.redirects[yi] else None
        for from_cells, to_cells, share, joiners, stayers in plan.redirects[yi] if plan.redirects else []:
            parts = [moved_in] + ([joined] if joiners else []) + ([new] if stayers else [])
            for arr in parts:
                k = rng.binomial(arr[:, :, from_cells], share)
                arr[:, :, from_cells] -= k
                np.add.at(arr, (slice(None), slice(None), to_cells), k)
                np.add.at(redirected, (slice(None), slice(None), to_cells), k)

        new += moved_in + joined
        rec = {"stock": compact(new), "joiners": compact(joined), "leavers": compact(leave, act),
               "movers": compact(move, act), "routed": compact(forced, act)}
        rec["redirected"] = compact(redirected) if redirected is not None else (np.zeros(0, np.int64), None)
        records.append(rec)
        X = new

    cells = np.unique(np.concatenate([r[k][0] for r in records for k in names]))
    pos = np.full(C, -1, dtype=np.int64)
    pos[cells] = np.arange(cells.size)
    out = {k: np.zeros((D, Y, Ar, cells.size), dtype=np.int32) for k in names}
    for yi, rec in enumerate(records):
        for k in names:
            idx, arr = rec[k]
            if idx.size:
                out[k][:, yi][:, :, pos[idx]] = arr
    return cells, out
