"""A straightforward per-cohort Python loop implementation of the cohort model's projection.

The yardstick for :func:`senforecast.models.cohort.sim.simulate`: the same model (rates drawn
once per draw, joiner rates varying between years around a trend with area factors drawn
once per draw, leaver, mover and joiner odds varying between years by NCY, Dirichlet-multinomial
destinations and joiner states, routing of children whose state is not valid next year),
written the obvious
way - a loop over draws, years, areas and occupied cohorts (area, NCY, need, setting) with
one binomial / multinomial call per cohort. Baseline scenario only (no redirects).

It runs on the fitted model's own :class:`~senforecast.models.cohort.sim.SimPlan` (built by
the private ``CohortModel._plan``), so both implementations see identical parameters.
"""
from __future__ import annotations

import numpy as np

from senforecast.models.cohort.model import CohortModel
from senforecast.models.cohort.sim import SimPlan
from senforecast.core.scenarios import BASELINE


def plan_for(model: CohortModel, years: int) -> SimPlan:
    """The simulation plan of a fitted ``model`` for ``years`` after its seed census."""
    sim_years = np.arange(model.seed_year_ + 1, model.seed_year_ + 1 + years)
    try:
        plan, _ = model._plan(model.index_, model.params_, sim_years, model.population_, BASELINE,
                              model.valid_states_)
    except TypeError:  # older signature without valid_states
        plan, _ = model._plan(model.index_, model.params_, sim_years, model.population_, BASELINE)
    return plan


def _beta(rng, a: float, b: float) -> float:
    if a <= 0:
        return 0.0
    if b <= 0:
        return 1.0
    return rng.beta(a, b)


def _dirichlet(rng, alpha: np.ndarray) -> np.ndarray:
    g = np.zeros_like(alpha)
    pos = alpha > 0
    g[pos] = rng.standard_gamma(alpha[pos])
    tot = g.sum()
    if tot <= 0:
        return alpha / alpha.sum()
    return g / tot


def naive_simulate(plan: SimPlan, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Stock draws, shape (draw, year, area, cell), by loops over draws, years and cohorts."""
    Y, C = plan.cell_valid.shape
    Ar = plan.stock0.shape[0]
    A, Kj = plan.join_cell.shape
    out = np.zeros((n_draws, Y, Ar, C), dtype=np.int64)
    trend_b, trend_se = getattr(plan, "joiner_trend", (0.0, 0.0))
    offset = getattr(plan, "trend_offset", None)
    offset = np.zeros(Y) if offset is None else offset
    area_factor = getattr(plan, "area_factor", None)
    for d in range(n_draws):
        # parameters of this draw: joiner trend, area factors, rates
        trend = trend_b + trend_se * rng.standard_normal() if (trend_b != 0 or trend_se > 0) else 0.0
        area_f = (np.ones(Ar) if area_factor is None
                  else np.array([rng.gamma(area_factor[0][ar], 1.0 / area_factor[1][ar]) for ar in range(Ar)]))
        pL = np.array([_beta(rng, plan.leaver_ab[0][c], plan.leaver_ab[1][c]) for c in range(C)])
        pM = np.array([_beta(rng, plan.mover_ab[0][c], plan.mover_ab[1][c]) for c in range(C)])
        mu = np.array([_beta(rng, plan.joiner_ab[0][a], plan.joiner_ab[1][a]) for a in range(A)])
        qJ = np.array([_dirichlet(rng, plan.join_alpha[a]) if plan.join_alpha[a].sum() > 0
                       else np.zeros(Kj) for a in range(A)])
        # leaver / mover odds vary between years: a Gamma(mean 1, var) factor per NCY and year,
        # times this draw's error in the mean rate (variance var / historic years) per NCY
        lvar, mvar = getattr(plan, "leaver_year_var", 0.0), getattr(plan, "mover_year_var", 0.0)
        hist_years = getattr(plan, "year_effect_years", 0)
        mean_err = {}
        jvar = getattr(plan, "joiner_year_var", 0.0)
        for name, var in (("leaver", lvar), ("mover", mvar), ("joiner", jvar)):
            v = var / hist_years if var > 0 and hist_years >= 1 else 0.0
            mean_err[name] = np.array([rng.gamma(1.0 / v, v) for _ in range(A)]) if v > 0 else np.ones(A)
        stock = plan.stock0.copy()
        for y in range(Y):
            valid = plan.cell_valid[y]
            f_leave = np.array([rng.gamma(1.0 / lvar, lvar) for _ in range(A)]) * mean_err["leaver"] if lvar > 0 else None
            f_move = np.array([rng.gamma(1.0 / mvar, mvar) for _ in range(A)]) * mean_err["mover"] if mvar > 0 else None
            f_join = np.array([rng.gamma(1.0 / jvar, jvar) for _ in range(A)]) * mean_err["joiner"] if jvar > 0 else None
            # this year's joiner rate by NCY, shared by the areas
            pj_year = np.zeros(A)
            for a in range(A):
                if np.isfinite(plan.joiner_kappa) and mu[a] > 0:
                    k = plan.joiner_kappa
                    pj_year[a] = rng.beta(mu[a] * k, (1 - mu[a]) * k)
                else:
                    pj_year[a] = mu[a]
                if f_join is not None:  # the year's odds factor for joining at this NCY
                    pj_year[a] = pj_year[a] * f_join[a] / (1.0 - pj_year[a] + pj_year[a] * f_join[a])
            new = np.zeros_like(stock)
            for ar in range(Ar):
                for c in np.flatnonzero(stock[ar]):  # one occupied cohort at a time
                    n = stock[ar, c]
                    dests = plan.dest_cell[c]
                    ok = (dests >= 0) & valid[np.maximum(dests, 0)]
                    alpha = np.where(ok, plan.dest_alpha[c], 0.0)
                    has_dest = alpha.sum() > 0
                    pl, pm = pL[c], pM[c]
                    a_c = plan.cell_ncy[c]
                    if f_leave is not None:  # odds x factor keeps the rate in [0, 1]
                        pl = pl * f_leave[a_c] / (1.0 - pl + pl * f_leave[a_c])
                    if f_move is not None:
                        pm = pm * f_move[a_c] / (1.0 - pm + pm * f_move[a_c])
                    pl = min(1.0, pl * plan.leaver_mult[y, c])
                    pm = min(1.0, pm * plan.mover_mult[y, c]) if has_dest else 0.0
                    leave = rng.binomial(n, pl)
                    move = rng.binomial(n - leave, pm)
                    stay = n - leave - move
                    nxt = plan.next_cell[c]
                    if nxt < 0 or not valid[nxt]:
                        move, stay = move + stay, 0  # must move on
                    if not has_dest:
                        move = 0  # nowhere to go: leaves
                    if stay:
                        new[ar, nxt] += stay
                    if move:
                        probs = _dirichlet(rng, alpha) if move > 1 else alpha / alpha.sum()
                        for k, m in enumerate(rng.multinomial(move, probs)):
                            if m:
                                new[ar, dests[k]] += m
                # joiners by NCY
                for a in range(A):
                    pj = pj_year[a]
                    cells = plan.join_cell[a]
                    ok = (cells >= 0) & valid[np.maximum(cells, 0)]
                    q = qJ[a] * plan.joiner_weight[y, a] * ok
                    if q.sum() <= 0:
                        continue
                    factor = (qJ[a] * plan.joiner_weight[y, a]).sum()
                    rate = pj * plan.joiner_mult[y, a] * factor * np.exp(trend * offset[y]) * area_f[ar]
                    nj = rng.binomial(int(plan.population[y, ar, a]), min(1.0, rate))
                    if nj:
                        for k, m in enumerate(rng.multinomial(nj, q / q.sum())):
                            if m:
                                new[ar, cells[k]] += m
            stock = new
            out[d, y] = stock
    return out
