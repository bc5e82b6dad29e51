"""Compiled inner loop of the cohort simulation: one pass per draw, year and occupied cell.

:func:`~senforecast.models.cohort_sim.simulate` draws everything that is shared by a
draw's cells in numpy first (rates per draw, year effects, joiner rates per draw, year and
NCY), then :func:`run_draws` moves the children: per draw, year, area and occupied cell one
binomial for leavers and one for movers, a categorical for each mover's destination and
each joiner's state, all taken from the caller's :class:`numpy.random.Generator` (so a seed
reproduces the run). Compiled with numba and cached on disk; the children are held as a
dense (area, cell) count vector per draw, small enough (a few thousand) to stay in cache.

Why compiled: the vectorised numpy version spent most of its time on ~40 whole-array passes
a year over a million (draw, area, cell) entries and on sorting them back into cells; a loop
touches each occupied cell once.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# flows the kernel records, in the order of its ``flow_out`` arrays
KERNEL_FLOWS: tuple[str, ...] = ("joiners", "leavers", "movers", "routed", "redirected")


@njit(cache=True, inline="always")
def _binomial(rng, n, p):
    # guards keep the edge cases exact; a few children are a few Bernoulli trials, ~2 ns a
    # uniform against ~25 ns for a binomial draw (most cells hold one to three children)
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n <= 12:
        k = 0
        for _ in range(n):
            if rng.random() < p:
                k += 1
        return k
    return rng.binomial(n, p)


@njit(cache=True, inline="always")
def _beta(rng, a, b):
    # a == 0: rate 0; b == 0: rate 1 (as senforecast.models.cohort_sim.sample_beta)
    if a <= 0.0:
        return 0.0
    if b <= 0.0:
        return 1.0
    return rng.beta(a, b)


@njit(cache=True, inline="always")
def _beta_mean(a, b):
    if b <= 0.0:
        return 1.0 if a > 0.0 else 0.0
    return a / (a + b)


@njit(cache=True)
def _probs(rng, alpha, draw, out):
    """Category probabilities into ``out``: a Dirichlet draw if ``draw``, else alpha's proportions.

    A Dirichlet-multinomial with one trial is a categorical with the alpha proportions,
    so one-child groups need no gamma draws. Gammas that all underflow (tiny alphas) fall
    back to the proportions. Returns the total (0: no category possible).
    """
    tot = 0.0
    for k in range(alpha.size):
        a = alpha[k]
        g = 0.0
        if a > 0.0:
            g = rng.standard_gamma(a) if draw else a
        out[k] = g
        tot += g
    if draw and tot <= 0.0:
        for k in range(alpha.size):
            out[k] = alpha[k] if alpha[k] > 0.0 else 0.0
            tot += out[k]
    return tot


@njit(cache=True, inline="always")
def _pick(rng, probs, tot):
    # inverse CDF by a linear scan: lists are short and the first slots hold most mass
    u = rng.random() * tot
    last = 0
    acc = 0.0
    for k in range(probs.size):
        if probs[k] > 0.0:
            last = k
            acc += probs[k]
            if u < acc:
                return k
    return last


@njit(cache=True, inline="always")
def _pick_cum(rng, cum, tot):
    # inverse CDF by bisection over a cumulative row (joiners choose among ~50 states);
    # the first slot whose cumulative sum passes u has positive probability
    u = rng.random() * tot
    lo, hi = 0, cum.size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    while lo > 0 and cum[lo] == cum[lo - 1]:  # u rounded up to the total: last positive slot
        lo -= 1
    return lo


@njit(cache=True, inline="always")
def _odds(p, f):
    # multiply the odds of rate p by f; 0 and 1 stay put
    return p * f / (1.0 - p + p * f)


@njit(cache=True)
def run_draws(rng, d0, d1, stock0, resample, p_leave, p_move, leave_ab, move_ab, leave_f, move_f, use_leave_f,
              use_move_f, cell_ncy, nxt, valid_next, dest_cell, dest_alpha, has_dest, leave_mult, move_mult,
              p_join, join_mult, trend_f, area_f, population, join_cell, join_alpha, join_ok, join_w, q_join,
              fresh_join_mix, red_n, red_to, red_share, red_join, red_stay, stock_out, flow_out, record,
              seen, limit):
    """Move the children of draws ``d0`` to ``d1 - 1`` through every year; write stock and flows.

    The caller gives each draw its own generator (one call per draw), so a draw's
    randomness does not depend on what other draws consumed: two scenarios run with the
    same seed share a draw's random numbers until a count differs.

    Shapes: D draws, Y years, Ar areas, C cells, A NCYs, K destination and Kj joiner
    slots, R redirects, AC = Ar * C. ``stock0 (AC,)``; ``p_leave, p_move (D, C)`` rates of
    each draw (unused when ``resample``: then each cohort draws them from ``leave_ab,
    move_ab (2, C)`` every year, as witan.send does); ``leave_f, move_f (Y, D, A)`` odds
    factors (year effects); ``cell_ncy, nxt (C,)``; ``valid_next, has_dest (Y, C)``;
    ``dest_cell (C, K)``; ``dest_alpha (Y, C, K)`` (zero where the destination is closed);
    ``leave_mult, move_mult (Y, C)``; ``p_join (Y, D, A)``; ``join_mult (Y, A)``;
    ``trend_f (Y, D)``; ``area_f (D, Ar)``; ``population (Y, Ar, A)``; ``join_cell,
    join_alpha (A, Kj)``; ``join_ok, join_w (Y, A, Kj)``; ``q_join (D, A, Kj)`` each draw's
    joiner mix (unused when ``fresh_join_mix``: then drawn each year); redirects ``red_n
    (Y,)``, ``red_to (Y, R, C)``, ``red_share, red_join, red_stay (Y, R)``; outputs
    ``stock_out (D, Y, AC)``, ``flow_out`` a tuple of five (D, Y, AC) arrays in
    :data:`KERNEL_FLOWS` order written where ``record`` is True; ``seen (AC,)`` set where
    anything is written. Returns the largest draw-year stock, stopping early (returning
    it) once it passes ``limit``.
    """
    Y, AC = stock_out.shape[1], stock_out.shape[2]
    C = cell_ncy.size
    Ar = AC // C
    A, Kj = join_cell.shape
    K = dest_cell.shape[1]
    cur = np.empty(AC, np.int64)
    new_kind = np.zeros((3, AC), np.int64)  # children arriving: 0 stayers, 1 movers, 2 joiners
    delta = np.zeros((3, AC), np.int64)
    leave_a = np.zeros(AC, np.int64)
    move_a = np.zeros(AC, np.int64)
    routed_a = np.zeros(AC, np.int64)
    red_a = np.zeros(AC, np.int64)
    probs = np.empty(max(K, Kj), np.float64)
    alpha = np.empty(Kj, np.float64)
    mix = np.empty(Kj, np.float64)
    cum = np.empty(Kj, np.float64)
    n_join = np.zeros(Ar, np.int64)
    most = 0
    for d in range(d0, d1):
        cur[:] = stock0
        for y in range(Y):
            new_kind[:] = 0
            leave_a[:] = 0
            move_a[:] = 0
            routed_a[:] = 0
            for ar in range(Ar):
                off = ar * C
                for c in range(C):
                    n = cur[off + c]
                    if n == 0:
                        continue
                    a_ncy = cell_ncy[c]
                    if resample:
                        pl = _beta(rng, leave_ab[0, c], leave_ab[1, c]) if n > 1 else _beta_mean(leave_ab[0, c], leave_ab[1, c])
                    else:
                        pl = p_leave[d, c]
                        if use_leave_f:
                            pl = _odds(pl, leave_f[y, d, a_ncy])
                    lm = leave_mult[y, c]
                    if lm != 1.0:
                        pl = min(max(pl * lm, 0.0), 1.0)
                    if resample:
                        leave = _binomial(rng, n, pl)
                        remain = n - leave
                        # the cohort's moving rate is drawn only if two or more children remain
                        pm = _beta(rng, move_ab[0, c], move_ab[1, c]) if remain > 1 else _beta_mean(move_ab[0, c], move_ab[1, c])
                        pm = min(max(pm * move_mult[y, c], 0.0), 1.0)
                        move = _binomial(rng, remain, pm)
                    else:
                        pm = p_move[d, c]
                        if use_move_f:
                            pm = _odds(pm, move_f[y, d, a_ncy])
                        pm = min(max(pm * move_mult[y, c], 0.0), 1.0)
                        if n <= 12:
                            # one uniform per child decides leave / move / stay (the same
                            # law as a binomial for leavers, then one for movers among the rest)
                            cut = pl + (1.0 - pl) * pm
                            leave = 0
                            move = 0
                            for _ in range(n):
                                u = rng.random()
                                if u < pl:
                                    leave += 1
                                elif u < cut:
                                    move += 1
                        else:
                            leave = _binomial(rng, n, pl)
                            move = _binomial(rng, n - leave, pm)
                        remain = n - leave
                    stay = remain - move
                    # routing: stayers whose state is not valid next year must move; no destination -> leave
                    forced = 0
                    if not valid_next[y, c]:
                        forced = stay
                        stay = 0
                        move += forced
                    if not has_dest[y, c]:
                        leave += move
                        move = 0
                    leave_a[off + c] = leave
                    move_a[off + c] = move
                    routed_a[off + c] = forced
                    if stay > 0:
                        new_kind[0, off + nxt[c]] += stay
                    if move > 0:
                        tot = _probs(rng, dest_alpha[y, c], move > 1, probs[:K])
                        for _ in range(move):
                            new_kind[1, off + dest_cell[c, _pick(rng, probs[:K], tot)]] += 1

            # joiners: a count per (area, NCY) from the population, then a state for each
            for a in range(A):
                w_changes = False
                for k in range(Kj):
                    if join_w[y, a, k] != 1.0:
                        w_changes = True
                fresh = fresh_join_mix and w_changes
                rf = 0.0
                tot = 0.0
                if fresh_join_mix and not w_changes:
                    # witan.send: the mix is drawn below once the NCY's joiners are known
                    for k in range(Kj):
                        if join_alpha[a, k] > 0.0 and join_ok[y, a, k]:
                            tot = 1.0
                    rf = 1.0
                else:
                    g_tot = 1.0
                    if fresh:
                        g_tot = _probs(rng, join_alpha[a], True, probs[:Kj])
                        if g_tot <= 0.0:
                            g_tot = 1.0
                    for k in range(Kj):
                        q = probs[k] / g_tot if fresh else q_join[d, a, k]
                        q = q * join_w[y, a, k]
                        rf += q
                        if not join_ok[y, a, k]:
                            q = 0.0
                        mix[k] = q
                        tot += q
                base = p_join[y, d, a] * join_mult[y, a] * rf * trend_f[y, d] if tot > 0.0 else 0.0
                n_all = 0
                for ar in range(Ar):
                    n_join[ar] = _binomial(rng, population[y, ar, a], min(max(base * area_f[d, ar], 0.0), 1.0))
                    n_all += n_join[ar]
                if n_all == 0:
                    continue
                if fresh_join_mix and not w_changes:
                    for k in range(Kj):
                        alpha[k] = join_alpha[a, k] if join_ok[y, a, k] else 0.0
                    _probs(rng, alpha, n_all > 1, mix)
                acc = 0.0
                for k in range(Kj):
                    acc += mix[k]
                    cum[k] = acc
                for ar in range(Ar):
                    for _ in range(n_join[ar]):
                        k = _pick_cum(rng, cum, acc)
                        new_kind[2, ar * C + join_cell[a, k]] += 1

            # redirects: a share of the arriving children of some cells go to another setting
            red_a[:] = 0
            for r in range(red_n[y]):
                share = red_share[y, r]
                delta[:] = 0
                for ac in range(AC):
                    to = red_to[y, r, ac % C]
                    if to < 0:
                        continue
                    to_ac = ac - ac % C + to
                    for kind in range(3):
                        if kind == 1 or (kind == 2 and red_join[y, r]) or (kind == 0 and red_stay[y, r]):
                            k = _binomial(rng, new_kind[kind, ac], share)
                            if k > 0:
                                delta[kind, ac] -= k
                                delta[kind, to_ac] += k
                                red_a[to_ac] += k
                new_kind += delta

            total = 0
            for ac in range(AC):
                s = new_kind[0, ac] + new_kind[1, ac] + new_kind[2, ac]
                cur[ac] = s
                total += s
                stock_out[d, y, ac] = s
                any_ = s > 0
                if record[0]:
                    flow_out[0][d, y, ac] = new_kind[2, ac]
                if record[1]:
                    flow_out[1][d, y, ac] = leave_a[ac]
                    any_ = any_ or leave_a[ac] > 0
                if record[2]:
                    flow_out[2][d, y, ac] = move_a[ac]
                    any_ = any_ or move_a[ac] > 0
                if record[3]:
                    flow_out[3][d, y, ac] = routed_a[ac]
                    any_ = any_ or routed_a[ac] > 0
                if record[4]:
                    flow_out[4][d, y, ac] = red_a[ac]
                if any_:
                    seen[ac] = True
            if total > most:
                most = total
                if most > limit:
                    return most
    return most
