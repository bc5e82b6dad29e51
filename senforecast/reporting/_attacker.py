"""The attacker's linear programmes behind disclosure control (private helpers).

An attacker who reads a publication knows the shown values, the linear relations among
all cells (``R @ x == 0``: totals are sums of parts, within and across tables) and bounds
on each hidden cell (``x >= 0``, what a marker such as ``"<5"`` says, or what a published
derived value such as a cost pins down). The range the attacker can infer for a hidden
cell is ``[min x_j, max x_j]`` over that polytope (the "attacker problem" of tau-Argus and
sdcTable). Only the hidden cells connected to ``j`` through relations matter, so each LP
is solved on one connected component of the hidden cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

_TOL = 1e-9


@dataclass
class Component:
    """Hidden cells (``cells``) joined by the relation rows ``rows``; ``A`` is ``R[rows][:, cells]``."""

    cells: np.ndarray
    rows: np.ndarray
    A: sp.csr_matrix


def components(R: sp.csr_matrix, hidden: np.ndarray) -> tuple[list[Component], np.ndarray]:
    """Connected components of the hidden cells in the bipartite graph cells - relations.

    Returns the components and, for every cell, the index of its component (-1 if shown).
    Cells and rows are sorted within each component.
    """
    n = R.shape[1]
    where = np.full(n, -1, dtype=np.int64)
    H = np.flatnonzero(hidden)
    if H.size == 0:
        return [], where
    coo = R.tocoo()
    keep = hidden[coo.col]
    r, j, x = coo.row[keep], coo.col[keep], coo.data[keep]
    h = H.size
    hpos = np.full(n, -1, dtype=np.int64)
    hpos[H] = np.arange(h)
    used, r_loc = np.unique(r, return_inverse=True)
    m = used.size
    graph = sp.coo_matrix((np.ones(r.size), (hpos[j], h + r_loc)), shape=(h + m, h + m))
    n_comp, labels = connected_components(graph, directed=False)
    var_lab, row_lab = labels[:h], labels[h:]
    # positions of cells and rows inside their component (both kept in ascending order)
    order_v = np.argsort(var_lab, kind="stable")
    order_r = np.argsort(row_lab, kind="stable")
    v_count = np.bincount(var_lab, minlength=n_comp)
    r_count = np.bincount(row_lab, minlength=n_comp)
    v_start = np.concatenate([[0], np.cumsum(v_count)[:-1]])
    r_start = np.concatenate([[0], np.cumsum(r_count)[:-1]])
    v_local = np.empty(h, dtype=np.int64)
    v_local[order_v] = np.arange(h) - v_start[var_lab[order_v]]
    r_local = np.empty(m, dtype=np.int64)
    r_local[order_r] = np.arange(m) - r_start[row_lab[order_r]]
    e_comp = row_lab[r_loc]
    e_order = np.argsort(e_comp, kind="stable")
    e_count = np.bincount(e_comp, minlength=n_comp)
    e_start = np.concatenate([[0], np.cumsum(e_count)])
    comps = []
    for k in range(n_comp):
        cells = H[order_v[v_start[k]:v_start[k] + v_count[k]]]
        rows = used[order_r[r_start[k]:r_start[k] + r_count[k]]]
        e = e_order[e_start[k]:e_start[k + 1]]
        A = sp.csr_matrix((x[e], (r_local[r_loc[e]], v_local[hpos[j[e]]])), shape=(rows.size, cells.size))
        comps.append(Component(cells=cells, rows=rows, A=A))
        where[cells] = k
    return comps, where


def solve(A: sp.csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: int, sense: int,
          integer: bool = False) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Maximise ``sense * x[k]`` subject to ``A x = b``, ``lo <= x <= hi``.

    Returns the optimum (``inf`` when unbounded), the equality duals ``lambda`` in
    scipy/HiGHS convention (``d = c - A.T @ lambda`` are the reduced costs of the
    minimisation of ``c = -sense * e_k``; None when unbounded or ``integer``) and the
    optimal ``x`` (None when unbounded).
    """
    c = np.zeros(A.shape[1])
    c[k] = -float(sense)
    if integer:
        cons = [LinearConstraint(A, b, b)] if A.shape[0] else []
        res = milp(c, integrality=np.ones_like(c), bounds=Bounds(lo, hi), constraints=cons)
        if res.status == 3:
            return np.inf, None, None
        if res.status != 0:
            raise RuntimeError(f"attacker integer programme failed: {res.message}")
        return -float(res.fun), None, res.x
    kw = {"A_eq": A, "b_eq": b} if A.shape[0] else {}
    res = linprog(c, bounds=np.column_stack([lo, hi]), method="highs", **kw)
    if res.status == 3:
        return np.inf, None, None
    if res.status != 0:
        raise RuntimeError(f"attacker linear programme failed: {res.message}")
    lam = np.asarray(res.eqlin.marginals) if A.shape[0] else np.zeros(0)
    return -float(res.fun), lam, res.x


def ranges(R: sp.csr_matrix, hidden: np.ndarray, values: np.ndarray, lower: np.ndarray,
           upper: np.ndarray, targets: np.ndarray, integer: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Attacker's [min, max] of each target (a hidden cell) given the shown ``values``.

    ``lower``/``upper`` bound every hidden cell; relations are ``R @ x == 0``. The LPs of one
    component are solved several at a time as one block-diagonal LP (the blocks are
    independent, so each block's optimum is its own LP's optimum), which saves most of the
    per-call overhead; an unbounded maximum is found as reaching a cap far above any count.
    """
    comps, where = components(R, hidden)
    shown = ~hidden
    xs = np.where(shown, values, 0.0)
    cap = 100.0 * (np.abs(xs).sum() + np.abs(lower[np.isfinite(lower)]).sum()
                   + np.abs(upper[np.isfinite(upper)]).sum() + 1.0)
    lo_out = np.full(targets.size, np.nan)
    hi_out = np.full(targets.size, np.nan)
    by_comp: dict[int, list[int]] = {}
    for i, t in enumerate(targets):
        if not hidden[t]:
            raise ValueError(f"cell {t} is shown; only hidden cells are attacked")
        by_comp.setdefault(int(where[t]), []).append(i)
    b_all = -(R @ xs)
    for k, idx in by_comp.items():
        comp = comps[k]
        b = b_all[comp.rows]
        lo, hi = lower[comp.cells], upper[comp.cells]
        where_in = np.searchsorted(comp.cells, targets[idx])  # component cells are sorted
        jobs = [(i, int(j), s) for i, j in zip(idx, where_in) for s in (+1, -1)]
        if integer:
            for i, j, s in jobs:
                val = solve(comp.A, b, lo, hi, j, s, integer=True)[0]
                (hi_out if s > 0 else lo_out)[i] = s * val
            continue
        per = max(1, min(64, 4000 // max(comp.cells.size, 1)))
        for start in range(0, len(jobs), per):
            chunk = jobs[start:start + per]
            vals = _block_solve(comp.A, b, lo, np.minimum(hi, cap), [(j, s) for _, j, s in chunk])
            for (i, _, s), val in zip(chunk, vals):
                if s > 0:
                    hi_out[i] = np.inf if val > cap / 2 else val
                else:
                    lo_out[i] = -val
    return lo_out, hi_out


def _block_solve(A: sp.csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 jobs: list[tuple[int, int]]) -> np.ndarray:
    """max ``sense * x[j]`` over ``A x = b, lo <= x <= hi`` for each ``(j, sense)``, in one LP."""
    m = len(jobs)
    nv = A.shape[1]
    if m == 1:
        return np.array([solve(A, b, lo, hi, jobs[0][0], jobs[0][1])[0]])
    c = np.zeros(nv * m)
    for q, (j, s) in enumerate(jobs):
        c[q * nv + j] = -float(s)
    kw = {"A_eq": sp.block_diag([A] * m, format="csr"), "b_eq": np.tile(b, m)} if A.shape[0] else {}
    res = linprog(c, bounds=np.column_stack([np.tile(lo, m), np.tile(hi, m)]), method="highs", **kw)
    if res.status != 0:
        raise RuntimeError(f"attacker linear programme failed: {res.message}")
    x = res.x.reshape(m, nv)
    return np.array([s * x[q, j] for q, (j, s) in enumerate(jobs)])


def cut(R: sp.csr_matrix, rows: np.ndarray, lam: np.ndarray, p: int, sense: int, room_down: np.ndarray,
        room_up: np.ndarray, need: float) -> np.ndarray:
    """Coefficients ``a`` of the cut ``sum_j a_j y_j >= need`` from equality duals ``lam`` on ``rows``.

    With ``z = x - v`` and hidden cells free in ``[-room_down, room_up]``, weak duality gives
    ``max sense * z_p <= sum_j (max(d_j, 0) room_down_j + max(-d_j, 0) room_up_j) y_j`` for
    every 0/1 pattern ``y`` (Fischetti and Salazar's capacity constraints), where
    ``d = -sense * e_p - R.T @ lam``. Coefficients are capped at ``need``, which leaves the
    0/1 solutions of the cut unchanged and keeps the master problem well scaled.
    """
    lam_all = np.zeros(R.shape[0])
    lam_all[rows] = lam
    d = -np.asarray(R.T @ lam_all, dtype=float).ravel()
    d[p] -= float(sense)
    d[np.abs(d) < _TOL] = 0.0
    pos, neg = np.maximum(d, 0.0), np.maximum(-d, 0.0)
    with np.errstate(invalid="ignore"):
        a = np.where(pos > 0, pos * room_down, 0.0) + np.where(neg > 0, neg * room_up, 0.0)
    return np.minimum(a, need)
