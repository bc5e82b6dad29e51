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
    """Dirichlet draws along the last axis; zero alphas stay zero; rows of all-zero alpha stay zero."""
    g = rng.gamma(alpha)
    tot = g.sum(-1, keepdims=True)
    # tiny alphas can underflow every gamma draw to 0: fall back to the alpha proportions
    a_tot = alpha.sum(-1, keepdims=True)
    mean = np.divide(alpha, a_tot, out=np.zeros_like(alpha, dtype=float), where=a_tot > 0)
    return np.divide(g, tot, out=mean.copy(), where=tot > 0)


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


def simulate(plan: SimPlan, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Run the projection. Returns ``stock`` and flows, each (draw, year, area, cell) int32."""
    Y, C = plan.cell_valid.shape
    Ar = plan.stock0.shape[0]
    A = plan.join_cell.shape[0]
    D = n_draws
    out = {k: np.zeros((D, Y, Ar, C), dtype=np.int32)
           for k in ("stock", "joiners", "leavers", "movers", "routed", "redirected")}
    X = np.broadcast_to(plan.stock0[None], (D, Ar, C)).astype(np.int64)
    has_next = plan.next_cell >= 0
    nxt = np.where(has_next, plan.next_cell, 0)
    dcell = np.where(plan.dest_cell >= 0, plan.dest_cell, 0)
    jcell = np.where(plan.join_cell >= 0, plan.join_cell, 0)
    size = D * Ar * C

    def scatter(draw: np.ndarray, area: np.ndarray, cell: np.ndarray) -> np.ndarray:
        return np.bincount((draw * Ar + area) * C + cell, minlength=size).reshape(D, Ar, C)

    for yi in range(Y):
        if yi == 0 or plan.resample_each_year:
            pL = sample_beta(rng, *plan.leaver_ab, (D, C))
            pM = sample_beta(rng, *plan.mover_ab, (D, C))
            mu_j = sample_beta(rng, *plan.joiner_ab, (D, A))
            qJ = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (D, *plan.join_alpha.shape)))
        if np.isfinite(plan.joiner_kappa):
            # year-to-year variation of the joiner rate around the draw's mean
            k = plan.joiner_kappa
            pJ = sample_beta(rng, mu_j * k, (1 - mu_j) * k * (mu_j > 0), (D, A))
        else:
            pJ = mu_j
        valid = plan.cell_valid[yi]
        valid_next = has_next & valid[nxt]
        dest_ok = (plan.dest_cell >= 0) & valid[dcell]
        dest_alpha = np.where(dest_ok, plan.dest_alpha, 0.0)
        has_dest = dest_alpha.sum(1) > 0

        pl = np.clip(pL * plan.leaver_mult[yi], 0.0, 1.0)
        pm = np.clip(pM * plan.mover_mult[yi], 0.0, 1.0) * has_dest
        leave = rng.binomial(X, pl[:, None, :])
        remain = X - leave
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
        new[:, :, plan.next_cell[ok]] = stay[:, :, ok]  # (ncy, state) -> (ncy + 1, state) is one-to-one

        d_i, a_i, c_i = np.nonzero(move)
        moved_in = np.zeros_like(new)
        if d_i.size:
            probs = sample_dirichlet(rng, dest_alpha[c_i])
            row, slot = categorical_children(rng, move[d_i, a_i, c_i], probs)
            moved_in = scatter(d_i[row], a_i[row], dcell[c_i[row], slot])

        # joiners: rate x population, then a state for each joiner
        w = plan.joiner_weight[yi]
        q_rate = qJ * w[None]
        rate_factor = q_rate.sum(-1)  # rate changes for some joiner states change the total
        j_ok = (plan.join_cell >= 0) & valid[jcell]
        q = q_rate * j_ok[None]
        q_tot = q.sum(-1)
        pj = np.clip(pJ * plan.joiner_mult[yi][None] * rate_factor, 0.0, 1.0) * (q_tot > 0)
        n_join = rng.binomial(plan.population[yi][None].astype(np.int64), pj[:, None, :])
        d_j, a_j, n_j = np.nonzero(n_join)
        joined = np.zeros_like(new)
        if d_j.size:
            row, slot = categorical_children(rng, n_join[d_j, a_j, n_j], q[d_j, n_j])
            joined = scatter(d_j[row], a_j[row], jcell[n_j[row], slot])

        redirected = np.zeros_like(new)
        for from_cells, to_cells, share, joiners, stayers in plan.redirects[yi] if plan.redirects else []:
            parts = [moved_in] + ([joined] if joiners else []) + ([new] if stayers else [])
            for arr in parts:
                k = rng.binomial(arr[:, :, from_cells], share)
                arr[:, :, from_cells] -= k
                np.add.at(arr, (slice(None), slice(None), to_cells), k)
                np.add.at(redirected, (slice(None), slice(None), to_cells), k)

        new += moved_in + joined
        out["stock"][:, yi] = new
        out["joiners"][:, yi] = joined
        out["leavers"][:, yi] = leave
        out["movers"][:, yi] = move
        out["routed"][:, yi] = forced
        out["redirected"][:, yi] = redirected
        X = new
    return out
