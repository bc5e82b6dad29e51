"""The compiled cohort simulation draws from the distributions the model states.

Small plans with known rates: one cell's leavers and movers follow the multinomial (or the
beta-binomial when rates are redrawn each year), destinations and joiner states follow their
mixes, redirects take their share, and recording flows never changes the draws. A plain-Python
reference of the kernel, run on a small plan with every feature, gives the same draws child for
child. The
counter-based samplers follow their distributions, and keyed streams give common random
numbers: a scenario with more joiners has at least as many joiners in every draw.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from senforecast.models.cohort import kernel as ck
from senforecast.models.cohort.sim import (SimPlan, compact_columns, sample_beta, sample_dirichlet, simulate,
                                          year_factor)

FIXED = 1e7  # Beta(p * FIXED, (1 - p) * FIXED): a rate known to ~1e-4


def one_state_plan(n0, p_leave, p_move, *, dest_alpha=(1.0,), years=1, resample=False, leaver_ab=None,
                   population=0.0, join_alpha=(1.0,), redirects=None):
    """Cells 0..2 at NCY 0 (state 0 and destinations 1, 2 of the next NCY: cells 3..5)."""
    K = len(dest_alpha)
    C = 6
    cell_ncy = np.array([0, 0, 0, 1, 1, 1])
    next_cell = np.array([3, 4, 5, -1, -1, -1])
    dest_cell = np.full((C, K), -1)
    dest_cell[0] = [4, 5][:K]
    d_alpha = np.zeros((C, K))
    d_alpha[0] = dest_alpha
    Kj = len(join_alpha)
    return SimPlan(
        cell_ncy=cell_ncy, next_cell=next_cell,
        leaver_ab=leaver_ab or (np.full(C, p_leave * FIXED), np.full(C, (1 - p_leave) * FIXED)),
        mover_ab=(np.full(C, p_move * FIXED), np.full(C, (1 - p_move) * FIXED)),
        dest_cell=dest_cell, dest_alpha=d_alpha,
        joiner_ab=(np.full(2, 0.05 * FIXED), np.full(2, 0.95 * FIXED)), joiner_kappa=np.inf,
        join_cell=np.array([[3, 4, 5][:Kj], [3, 4, 5][:Kj]]), join_alpha=np.array([join_alpha, join_alpha]),
        cell_valid=np.ones((years, C), bool), population=np.full((years, 1, 2), population),
        stock0=np.array([[n0, 0, 0, 0, 0, 0]]), leaver_mult=np.ones((years, C)), mover_mult=np.ones((years, C)),
        joiner_mult=np.ones((years, 2)), joiner_weight=np.ones((years, 2, Kj)),
        redirects=redirects or [], resample_each_year=resample)


def pooled_chisquare_p(observed, expected):
    """Chi-square p-value with outcomes expected fewer than 5 times pooled into one cell."""
    big = expected >= 5
    obs, exp = observed[big], expected[big]
    if expected[~big].sum() > 0:
        obs, exp = np.r_[obs, observed[~big].sum()], np.r_[exp, expected[~big].sum()]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def full_columns(used, arr, n_cols=6):
    out = np.zeros(arr.shape[:-1] + (n_cols,), dtype=np.int64)
    out[..., used] = arr
    return out


@pytest.mark.parametrize("n0", [5, 30])  # the one-uniform-per-child path and the binomial path
def test_leavers_and_movers_of_a_cell_follow_the_multinomial(n0):
    pl, pm = 0.2, 0.3
    used, out = simulate(one_state_plan(n0, pl, pm), 20_000, np.random.default_rng(1))
    leave = full_columns(used, out["leavers"])[:, 0, 0]
    move = full_columns(used, out["movers"])[:, 0, 0]
    stock = full_columns(used, out["stock"])[:, 0]
    assert (stock[:, 3] + move + leave == n0).all()  # stayers age on, nobody lost
    assert (stock[:, 4:6].sum(1) == move).all()
    # leavers ~ Binomial(n, pl); movers given leavers ~ Binomial(n - leavers, pm)
    x = leave * (n0 + 1) + move
    probs = np.zeros((n0 + 1) * (n0 + 1))
    for l_ in range(n0 + 1):
        for m_ in range(n0 - l_ + 1):
            probs[l_ * (n0 + 1) + m_] = stats.binom.pmf(l_, n0, pl) * stats.binom.pmf(m_, n0 - l_, pm)
    assert pooled_chisquare_p(np.bincount(x, minlength=probs.size), probs * x.size) > 0.001


def test_rates_redrawn_each_year_give_beta_binomial_leavers():
    a, b = 2.0, 6.0
    n0 = 6
    plan = one_state_plan(n0, 0.0, 0.0, resample=True, leaver_ab=(np.full(6, a), np.full(6, b)))
    used, out = simulate(plan, 20_000, np.random.default_rng(2))
    leave = full_columns(used, out["leavers"])[:, 0, 0]
    observed = np.bincount(leave, minlength=n0 + 1)
    expected = stats.betabinom.pmf(np.arange(n0 + 1), n0, a, b) * leave.size
    assert stats.chisquare(observed, expected).pvalue > 0.001
    # a plain binomial with the same mean would be far too narrow
    assert leave.var() > 1.5 * n0 * (a / (a + b)) * (b / (a + b))


def test_movers_destinations_follow_the_dirichlet_multinomial():
    alpha = np.array([1.0, 3.0])
    n0 = 8
    used, out = simulate(one_state_plan(n0, 0.0, 1.0 - 1e-9, dest_alpha=tuple(alpha)), 20_000,
                         np.random.default_rng(3))
    stock = full_columns(used, out["stock"])[:, 0]
    assert (stock[:, 4] + stock[:, 5] == n0).all()
    observed = np.bincount(stock[:, 5], minlength=n0 + 1)
    expected = stats.betabinom.pmf(np.arange(n0 + 1), n0, alpha[1], alpha[0]) * stock.shape[0]
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_joiners_scale_with_population_and_take_states_by_their_mix():
    used, out = simulate(one_state_plan(0, 0.0, 0.0, population=400.0, join_alpha=(1e6, 3e6)), 4_000,
                         np.random.default_rng(4))
    j = full_columns(used, out["joiners"])[:, 0]
    total = j.sum(1)
    assert abs(total.mean() - 0.05 * 400 * 2) < 4 * np.sqrt(0.05 * 0.95 * 800 / total.size)
    # joiners of both NCYs land in cells 3 and 4 with shares 1:3
    share = j[:, 4].sum() / (j[:, 3].sum() + j[:, 4].sum())
    assert abs(share - 0.75) < 0.02


def test_redirects_take_their_share_of_movers_and_record_it():
    # every child moves to cell 4; half of the movers arriving there are redirected to cell 5
    red = [[(np.array([4]), np.array([5]), 0.5, False, False)]]
    plan = one_state_plan(40, 0.0, 1.0 - 1e-9, dest_alpha=(1.0, 0.0), redirects=red)
    used, out = simulate(plan, 5_000, np.random.default_rng(5))
    stock = full_columns(used, out["stock"])[:, 0]
    red_flow = full_columns(used, out["redirected"])[:, 0]
    assert (stock[:, 4] + stock[:, 5] == 40).all()
    assert (red_flow[:, 5] == stock[:, 5]).all()
    assert abs(stock[:, 5].mean() - 20) < 4 * np.sqrt(10 / 5_000)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n0=st.integers(0, 60), resample=st.booleans())
def test_recording_flows_never_changes_the_draws(seed, n0, resample):
    plan = one_state_plan(n0, 0.1, 0.2, dest_alpha=(1.0, 2.0), years=3, population=50.0, resample=resample)
    u1, with_flows = simulate(plan, 50, np.random.default_rng(seed))
    u2, without = simulate(plan, 50, np.random.default_rng(seed), flows=())
    assert set(without) == {"stock"}
    a, b = full_columns(u1, with_flows["stock"]), full_columns(u2, without["stock"])
    assert (a == b).all() and (a >= 0).all()


def test_flows_widen_to_int32_when_a_year_total_passes_int16_and_the_draws_stay_the_same():
    plan = one_state_plan(40_000, 0.1, 0.2, dest_alpha=(1.0, 2.0), years=2, population=1_000.0)
    u1, out = simulate(plan, 3, np.random.default_rng(6))
    u2, stock_only = simulate(plan, 3, np.random.default_rng(6), flows=())
    assert out["leavers"].dtype == np.int32 and out["stock"].dtype == np.int32
    assert (full_columns(u1, out["stock"]) == full_columns(u2, stock_only["stock"])).all()
    small = simulate(one_state_plan(40, 0.1, 0.2), 3, np.random.default_rng(6))[1]
    assert small["leavers"].dtype == np.int16


def stream(seed):
    return np.array([ck._mix(np.uint64(seed))], dtype=np.uint64)


@pytest.mark.parametrize("n,p", [(1, 0.07), (4, 0.3), (13, 0.45), (500, 0.01), (3000, 0.6), (200_000, 0.004)])
def test_binomial_by_inversion_follows_the_binomial(n, p):
    st = stream(7)
    x = np.array([ck.binomial(st, n, p) for _ in range(20_000)])
    assert x.min() >= 0 and x.max() <= n
    k = np.arange(n + 1)
    assert pooled_chisquare_p(np.bincount(x, minlength=n + 1), stats.binom.pmf(k, n, p) * x.size) > 0.001
    assert ck.binomial(st, n, 0.0) == 0 and ck.binomial(st, n, 1.0) == n and ck.binomial(st, 0, p) == 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**62), n=st.integers(0, 5000), p=st.floats(0.0, 1.0), dn=st.integers(0, 300),
       dp=st.floats(0.0, 0.2))
def test_binomial_counts_never_fall_as_n_or_p_rise_on_the_same_stream(seed, n, p, dn, dp):
    # the coupling behind common random numbers (chunks of ~400 expected successes aside)
    p2 = min(1.0, p + dp)
    if n * min(p2, 1 - p2) > 300:
        return
    a = ck.binomial(stream(seed), n, p)
    b = ck.binomial(stream(seed), n + dn, p2)
    assert b >= a


def test_uniform_gamma_and_beta_samplers_follow_their_distributions():
    st_ = stream(11)
    u = np.array([ck.uniform(st_) for _ in range(50_000)])
    assert stats.kstest(u, "uniform").pvalue > 0.001
    for a in (0.3, 1.0, 4.5):
        g = np.array([ck.gamma(st_, a) for _ in range(20_000)])
        assert stats.kstest(g, stats.gamma(a).cdf).pvalue > 0.001
    b = np.array([ck.beta(st_, 2.0, 6.0) for _ in range(20_000)])
    assert stats.kstest(b, stats.beta(2.0, 6.0).cdf).pvalue > 0.001
    assert ck.beta(st_, 0.0, 3.0) == 0.0 and ck.beta(st_, 3.0, 0.0) == 1.0


def test_streams_with_different_keys_are_uncorrelated():
    n = 20_000
    a, b = stream(1), np.array([ck.stream_key(np.uint64(12345), 1)], dtype=np.uint64)
    c = np.array([ck.stream_key(np.uint64(12345), 2)], dtype=np.uint64)
    x = np.array([ck.uniform(a) for _ in range(n)])
    y = np.array([ck.uniform(b) for _ in range(n)])
    z = np.array([ck.uniform(c) for _ in range(n)])
    for r in (np.corrcoef(x, y)[0, 1], np.corrcoef(y, z)[0, 1], np.corrcoef(y[1:], y[:-1])[0, 1]):
        assert abs(r) < 4 / np.sqrt(n)


def test_categorical_picker_skips_zero_slots_and_matches_the_probabilities():
    st_ = stream(8)
    probs = np.array([0.0, 0.2, 0.0, 0.5, 0.3, 0.0])
    x = np.array([ck.pick(st_, probs, 1.0) for _ in range(20_000)])
    observed = np.bincount(x, minlength=probs.size)
    assert observed[probs == 0].sum() == 0
    assert stats.chisquare(observed[probs > 0], probs[probs > 0] * x.size).pvalue > 0.001


def test_dirichlet_helper_has_the_dirichlet_mean_and_variance_and_keeps_zeros():
    st_ = stream(9)
    alpha = np.array([2.0, 0.0, 6.0])
    out = np.empty(3)
    draws = np.empty((20_000, 3))
    for i in range(draws.shape[0]):
        tot = ck.dirichlet_weights(st_, alpha, True, out)
        draws[i] = out / tot
    assert (draws[:, 1] == 0).all()
    a0 = alpha.sum()
    assert abs(draws[:, 0].mean() - 0.25) < 0.005
    assert abs(draws[:, 0].var() / (0.25 * 0.75 / (a0 + 1)) - 1) < 0.05
    tot = ck.dirichlet_weights(st_, alpha, False, out)  # one child: the alpha proportions, no draw
    assert (out / tot).tolist() == [0.25, 0.0, 0.75]


def test_year_factor_has_mean_one_and_the_asked_variance():
    f = year_factor(np.random.default_rng(10), 0.2, (50_000,))
    assert abs(f.mean() - 1) < 0.01 and abs(f.var() - 0.2) < 0.01
    p = 0.1
    q = p * f / (1 - p + p * f)
    assert ((q > 0) & (q < 1)).all()
    persistent = np.full(50_000, 2.0)
    assert abs(year_factor(np.random.default_rng(10), 0.2, (50_000,), persistent).mean() - 2) < 0.02
    assert year_factor(np.random.default_rng(10), 0.0, (3,)) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**32 - 1),
       st.sampled_from([np.int16, np.int32]))
def test_compact_columns_equals_fancy_indexing(d, y, cols, seed, dtype):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(d, y, cols)).astype(dtype)
    used = np.flatnonzero(rng.random(cols) < 0.7)
    expected = a[:, :, used].copy()
    got = compact_columns(a.copy(), used)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert (got == expected).all() and got.flags.c_contiguous


# ----------------------------------------------------------------------------- reference
# A plain-Python statement of what the kernel draws from which keyed stream (the layout its
# docstring gives), run on a small plan with every feature; the compiled kernel must match it
# child for child. It pins the streams each (draw, year, area, cell, purpose) uses, so a
# refactor of the kernel or of how simulate() hands it its arrays cannot change the draws.

def _ref_start(key):
    return np.array([ck._mix(np.uint64(key))], dtype=np.uint64)


def _ref_key(dkey, *parts):
    k = np.uint64(dkey)
    for p in parts:
        k = np.uint64(ck.stream_key(k, p))  # numba hands back a Python int
    return k


def reference_simulate(plan, n_draws, rng):
    """(stock, flows) as full (D, Y, Ar * C) arrays; trend, area factors and year effects off."""
    Y, C = plan.cell_valid.shape
    Ar, A = plan.stock0.shape[0], plan.join_cell.shape[0]
    valid = plan.cell_valid
    resample = plan.resample_each_year
    # what simulate() draws with numpy, in its order
    dkeys = rng.integers(0, 2**63, size=n_draws, dtype=np.int64).astype(np.uint64)
    if not resample:
        mu_j = sample_beta(rng, *plan.joiner_ab, (n_draws, A))
        q_join = sample_dirichlet(rng, np.broadcast_to(plan.join_alpha, (n_draws, *plan.join_alpha.shape)))
    p_join = [sample_beta(rng, *plan.joiner_ab, (n_draws, A)) if resample else mu_j for _ in range(Y)]
    ckeys = plan.cell_key
    (la, lb), (ma, mb) = plan.leaver_ab, plan.mover_ab
    stock = np.zeros((n_draws, Y, Ar * C), np.int64)
    flows = {k: np.zeros_like(stock) for k in ("joiners", "leavers", "movers", "routed", "redirected")}
    probs = np.empty(plan.dest_cell.shape[1])
    for d, dk in enumerate(dkeys):
        if not resample:
            p_leave = [ck.beta(_ref_start(_ref_key(dk, ck.LEAVE_RATE) ^ ckeys[c]), la[c], lb[c]) for c in range(C)]
            p_move = [ck.beta(_ref_start(_ref_key(dk, ck.MOVE_RATE) ^ ckeys[c]), ma[c], mb[c]) for c in range(C)]
        cur = plan.stock0.astype(np.int64).copy()
        for y in range(Y):
            arrive = np.zeros((3, Ar, C), np.int64)  # stayers, movers, joiners
            for ar in range(Ar):
                for c in range(C):
                    n = cur[ar, c]
                    if n == 0:
                        continue
                    st_ = _ref_start(_ref_key(dk, y, ar, ck.TRANSITION) ^ ckeys[c])
                    alpha = np.where((plan.dest_cell[c] >= 0) & valid[y, plan.dest_cell[c]], plan.dest_alpha[c], 0.0)
                    mm = plan.mover_mult[y, c] if alpha.sum() > 0 else 0.0  # nowhere to move: nobody chooses to
                    clip = lambda p: min(max(p, 0.0), 1.0)  # noqa: E731
                    if resample:
                        pl = ck.beta(st_, la[c], lb[c]) if n > 1 else la[c] / (la[c] + lb[c])
                        pl = clip(pl * plan.leaver_mult[y, c]) if plan.leaver_mult[y, c] != 1 else pl
                        leave = ck.bernoulli_count(st_, n, pl)
                        pm = ck.beta(st_, ma[c], mb[c]) if n - leave > 1 else ma[c] / (ma[c] + mb[c])
                        move = ck.bernoulli_count(st_, n - leave, clip(pm * mm))
                    else:
                        pl = p_leave[c]
                        pl = clip(pl * plan.leaver_mult[y, c]) if plan.leaver_mult[y, c] != 1 else pl
                        pm = clip(p_move[c] * mm)
                        u = np.array([ck.uniform(st_) for _ in range(n)])
                        leave, move = int((u < pl).sum()), int(((u >= pl) & (u < pl + (1 - pl) * pm)).sum())
                    stay = n - leave - move
                    nxt = plan.next_cell[c]
                    routed = stay if nxt < 0 or not valid[y, nxt] else 0
                    stay, move = stay - routed, move + routed
                    if alpha.sum() == 0:  # routed with nowhere to go: they leave
                        leave, move = leave + move, 0
                    i = ar * C + c
                    flows["leavers"][d, y, i], flows["movers"][d, y, i], flows["routed"][d, y, i] = leave, move, routed
                    if stay:
                        arrive[0, ar, nxt] += stay
                    if move:
                        st_ = _ref_start(_ref_key(dk, y, ar, ck.DESTINATION) ^ ckeys[c])
                        tot = ck.dirichlet_weights(st_, alpha, move > 1, probs)
                        for _ in range(move):
                            arrive[1, ar, plan.dest_cell[c, ck.pick(st_, probs, tot)]] += 1
            for a in range(A):
                ok = (plan.join_cell[a] >= 0) & valid[y, plan.join_cell[a]]
                w = plan.joiner_weight[y, a]
                if resample and (w == 1).all():  # witan.send: the mix drawn each year, once the count is known
                    rf, tot = 1.0, float(((plan.join_alpha[a] > 0) & ok).any())
                else:
                    if resample:  # a rate change by joiner state: this year's mix drawn first, then weighted
                        g = np.empty(len(ok))
                        g_tot = ck.dirichlet_weights(_ref_start(_ref_key(dk, y, a, ck.JOINER_MIX)), plan.join_alpha[a],
                                                     True, g)
                        q = g / (g_tot if g_tot > 0 else 1.0) * w
                    else:
                        q = q_join[d, a] * w
                    rf, mix = q.sum(), np.where(ok, q, 0.0)
                    tot = mix.sum()
                base = p_join[y][d, a] * plan.joiner_mult[y, a] * rf * 1.0 if tot > 0 else 0.0
                n_join = [ck.binomial(_ref_start(_ref_key(dk, y, ar, a, ck.JOINERS)), int(plan.population[y, ar, a]),
                                      min(max(base * 1.0, 0.0), 1.0)) for ar in range(Ar)]
                if sum(n_join) == 0:
                    continue
                if resample and (w == 1).all():
                    mix = np.empty(len(ok))
                    ck.dirichlet_weights(_ref_start(_ref_key(dk, y, a, ck.JOINER_MIX)),
                                         np.where(ok, plan.join_alpha[a], 0.0), sum(n_join) > 1, mix)
                for ar in range(Ar):
                    st_ = _ref_start(_ref_key(dk, y, ar, a, ck.JOINER_STATES))
                    for _ in range(n_join[ar]):
                        arrive[2, ar, plan.join_cell[a, ck.pick(st_, mix, mix.sum())]] += 1
            for r, (frm, to, share, with_joiners, with_stayers) in enumerate(plan.redirects[y]):
                delta = np.zeros_like(arrive)
                for f, t in zip(frm, to):
                    if not valid[y, t]:
                        continue
                    for ar in range(Ar):
                        for kind in (0, 1, 2):
                            if kind == 1 or (kind == 2 and with_joiners) or (kind == 0 and with_stayers):
                                st_ = _ref_start(_ref_key(dk, y, ar, ck.REDIRECT + 3 * r + kind) ^ ckeys[f])
                                k = ck.bernoulli_count(st_, arrive[kind, ar, f], share)
                                delta[kind, ar, f] -= k
                                delta[kind, ar, t] += k
                                flows["redirected"][d, y, ar * C + t] += k
                arrive += delta
            flows["joiners"][d, y] = arrive[2].ravel()  # where they arrive, after redirects
            cur = arrive.sum(0)
            stock[d, y] = cur.ravel()
    return stock, flows


def three_ncy_plan(resample, years=3):
    """Two areas; NCYs 0-2 x states s, t (cell 2 * ncy + state); a redirect, a closure, a rate change."""
    rng = np.random.default_rng(0)
    C = 6
    nxt = np.array([2, 3, 4, 5, -1, -1])
    dest_cell = np.array([[2, 3], [2, 3], [4, 5], [4, 5], [-1, -1], [-1, -1]])
    valid = np.ones((years, C), bool)
    valid[2, 5] = False  # state t closes at NCY 2 in the third year: children there are routed
    leaver_mult = np.ones((years, C))
    leaver_mult[1, 2] = 1.5
    mover_mult = np.ones((years, C))
    mover_mult[0, 1] = 0.5
    joiner_weight = np.ones((years, 3, 2))
    joiner_weight[2, 1] = [1.0, 2.0]
    return SimPlan(
        cell_ncy=np.repeat(np.arange(3), 2), next_cell=nxt,
        leaver_ab=(np.full(C, 2.0), np.full(C, 8.0)), mover_ab=(np.full(C, 3.0), np.full(C, 7.0)),
        dest_cell=dest_cell, dest_alpha=np.tile([1.0, 2.0], (C, 1)),
        joiner_ab=(np.full(3, 5.0), np.full(3, 95.0)), joiner_kappa=np.inf,
        join_cell=np.array([[0, 1], [2, 3], [4, 5]]), join_alpha=np.tile([1.0, 3.0], (3, 1)),
        cell_valid=valid, population=rng.integers(20, 60, size=(years, 2, 3)).astype(float),
        stock0=rng.integers(0, 9, size=(2, C)), leaver_mult=leaver_mult, mover_mult=mover_mult,
        joiner_mult=np.full((years, 3), 1.2), joiner_weight=joiner_weight,
        redirects=[[], [(np.array([3]), np.array([2]), 0.5, True, True)], []],
        resample_each_year=resample, cell_key=rng.integers(0, 2**63, size=C).astype(np.uint64))


@pytest.mark.parametrize("resample", [False, True])
def test_kernel_draws_match_the_plain_python_reference_child_for_child(resample):
    plan = three_ncy_plan(resample)
    used, out = simulate(plan, 25, np.random.default_rng(12))
    stock, flows = reference_simulate(plan, 25, np.random.default_rng(12))
    assert stock.sum() > 0 and flows["redirected"].sum() > 0 and flows["routed"][:, 2].sum() > 0
    assert (full_columns(used, out["stock"], 12) == stock).all()
    for name, ref in flows.items():
        assert (full_columns(used, out[name], 12) == ref).all(), name


_FIRST_PROJECTION = """
from senforecast.io.witan import load_witan_demo
from senforecast.models.cohort import kernel
from senforecast.models.cohort.model import CohortModel
CohortModel().fit(load_witan_demo()).project(years=1, n_draws=2, seed=0)
s = kernel.run_draws.stats
print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))
"""


@pytest.mark.slow
def test_the_compiled_kernel_is_cached_on_disk_and_loaded_by_the_next_process(tmp_path):
    # the kernel's named-tuple arguments must not stop numba caching it: compiling costs ~8 s
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}

    def hits_misses():
        run = subprocess.run([sys.executable, "-c", _FIRST_PROJECTION], env=env, capture_output=True, text=True,
                             check=True, cwd=root)
        return tuple(int(x) for x in run.stdout.split()[-2:])

    assert hits_misses() == (0, 1)  # compiled and written to the empty cache
    assert any(tmp_path.rglob("kernel.run_draws-*.nbi"))
    assert hits_misses() == (1, 0)  # loaded, not compiled again
