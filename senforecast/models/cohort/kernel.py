"""Compiled inner loop of the cohort simulation: one pass per draw, year and occupied cell.

:func:`~senforecast.models.cohort.sim.simulate` draws what a draw shares between its cells
with numpy (year effects, joiner rates by draw, year and NCY, joiner mixes); :func:`run_draws`
then draws each draw's leaving and moving rates and moves the children: one uniform per
child decides leave / move / stay, a categorical draw places each mover and each joiner, and
joiner counts are binomial draws by inversion. Compiled with numba and cached on disk; the
children are held as a dense (area, cell) count vector per draw. Its inputs come in named
groups that follow the model: the random-stream keys (:class:`Streams`), the cells and their
children (:class:`Cells`), leaving and moving (:class:`Rates`), joining (:class:`Joiners`),
a scenario's adjustments (:class:`Adjustments`) and where it writes (:class:`Outputs`).

Random numbers are *counter-based*: every (draw, year, area, cell, purpose) has its own
stream, keyed by hashing the draw's key with a label-derived key of the cell (SplitMix64
mixing; a stream is the SplitMix64 sequence from its key). So the numbers a cell uses do not
depend on what any other cell, year or draw used, and two runs with the same seed - a
baseline and a scenario - give child ``j`` of a cell the same uniform wherever their counts
agree (common random numbers): a scenario's difference from the baseline is its effect, not
simulation noise. Joiner counts by inversion rise with the rate for the same uniform, so a
scenario with more joiners has at least as many in every draw.

Why compiled: the vectorised numpy version spent most of its time on ~40 whole-array passes
a year over a million (draw, area, cell) entries and on sorting them back into cells; a loop
touches each occupied cell once.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# stream purposes (part of each stream's key)
LEAVE_RATE, MOVE_RATE, TRANSITION, DESTINATION, JOINERS, JOINER_STATES, JOINER_MIX, REDIRECT = range(8)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _mix(z):
    # SplitMix64's finaliser: a bijection of 64-bit words that spreads every input bit
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key(key, part):
    """The key of the sub-stream ``part`` (a non-negative int) of stream ``key``."""
    return _mix(key ^ _mix(np.uint64(part) + _GOLDEN))


@njit(cache=True, inline="always")
def _start(st, key):
    st[0] = _mix(key)


@njit(cache=True, inline="always")
def uniform(st):
    """Next uniform in [0, 1) of the stream whose state is ``st[0]`` (SplitMix64)."""
    st[0] += _GOLDEN
    return np.float64(_mix(st[0]) >> _S11) * _UNIT


@njit(cache=True)
def _normal(st):
    # Box-Muller, one of the pair (simple; normals are only needed inside gamma draws)
    u1 = 1.0 - uniform(st)  # (0, 1]
    u2 = uniform(st)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True)
def gamma(st, a):
    """Gamma(a, 1) (Marsaglia-Tsang; a < 1 through a + 1 and a power of a uniform); 0 if a <= 0."""
    if a <= 0.0:
        return 0.0
    boost = a < 1.0
    aa = a + 1.0 if boost else a
    dd = aa - 1.0 / 3.0
    cc = 1.0 / np.sqrt(9.0 * dd)
    while True:
        x = _normal(st)
        v = 1.0 + cc * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(st)
        if u < 1.0 - 0.0331 * x * x * x * x or np.log(u) < 0.5 * x * x + dd * (1.0 - v + np.log(v)):
            g = dd * v
            break
    if boost:
        g *= (1.0 - uniform(st)) ** (1.0 / a)
    return g


@njit(cache=True)
def beta(st, a, b):
    """Beta(a, b); a == 0: 0, b == 0: 1 (as senforecast.models.cohort.sim.sample_beta)."""
    if a <= 0.0:
        return 0.0
    if b <= 0.0:
        return 1.0
    x = gamma(st, a)
    y = gamma(st, b)
    if x + y <= 0.0:  # both underflowed (tiny parameters): the mean
        return a / (a + b)
    return x / (x + y)


@njit(cache=True, inline="always")
def _beta_mean(a, b):
    if b <= 0.0:
        return 1.0 if a > 0.0 else 0.0
    return a / (a + b)


@njit(cache=True)
def _binomial_inversion(st, n, p):
    # 0 < p <= 0.5 and n * p small enough that (1 - p)**n does not underflow
    f = np.exp(n * np.log1p(-p))
    u = uniform(st)
    r = p / (1.0 - p)
    k = 0
    cdf = f
    while u > cdf and k < n:
        f *= (n - k) / (k + 1.0) * r
        k += 1
        cdf += f
    return k


@njit(cache=True)
def binomial(st, n, p):
    """Binomial(n, p) by inversion: for the same stream, the count never falls as n or p rise.

    Large ``n * p`` is split into chunks of at most ~400 expected successes (a sum of
    binomials with the same p is binomial), which keeps the inversion exact and short.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    q = 1.0 - p if flip else p
    chunk = max(1, int(400.0 / q))
    k = 0
    left = n
    while left > 0:
        m = min(chunk, left)
        k += _binomial_inversion(st, m, q)
        left -= m
    return n - k if flip else k


@njit(cache=True)
def bernoulli_count(st, n, p):
    """Successes among ``n`` children, one uniform each (child ``j`` always uses the ``j``-th)."""
    k = 0
    for _ in range(n):
        if uniform(st) < p:
            k += 1
    return k


@njit(cache=True)
def dirichlet_weights(st, alpha, draw, out):
    """Category weights into ``out``: Dirichlet gammas if ``draw``, else the alpha proportions.

    A Dirichlet-multinomial with one trial is a categorical with the alpha proportions,
    so one-child groups need no gamma draws. Gammas that all underflow (tiny alphas) fall
    back to the proportions. Returns the total weight (0: no category possible).
    """
    tot = 0.0
    for k in range(alpha.size):
        a = alpha[k]
        g = 0.0
        if a > 0.0:
            g = gamma(st, a) if draw else a
        out[k] = g
        tot += g
    if draw and tot <= 0.0:
        for k in range(alpha.size):
            out[k] = alpha[k] if alpha[k] > 0.0 else 0.0
            tot += out[k]
    return tot


@njit(cache=True)
def pick(st, weights, tot):
    """A category drawn with probability ``weights / tot`` (linear inverse CDF; zero weights never)."""
    u = uniform(st) * tot
    last = 0
    acc = 0.0
    for k in range(weights.size):
        if weights[k] > 0.0:
            last = k
            acc += weights[k]
            if u < acc:
                return k
    return last


@njit(cache=True, inline="always")
def _odds(p, f):
    # multiply the odds of rate p by f; 0 and 1 stay put
    return p * f / (1.0 - p + p * f)


@njit(cache=True)
def _cell_stream(st, dkey, y, ar, ckey, purpose):
    _start(st, stream_key(stream_key(stream_key(dkey, y), ar), purpose) ^ ckey)


class Streams(NamedTuple):
    """Keys of the random streams: ``draw (D,)`` and ``cell (C,)`` uint64.

    A cell's key comes from its labels, so a scenario that adds cells leaves the other
    cells' streams alone.

    Examples
    --------
    >>> Streams._fields
    ('draw', 'cell')
    """

    draw: np.ndarray
    cell: np.ndarray


class Cells(NamedTuple):
    """The cells, the children in them at the start and where a child who stays goes.

    ``stock0 (AC,)`` children per area-cell (``area * C + cell``) at the seed census;
    ``ncy (C,)`` each cell's NCY position; ``next_cell (C,)`` the cell of the same state one
    NCY on (0 where there is none: then ``valid_next`` is False); ``valid_next (Y, C)`` can a
    child who stays be in the next cell in the year (else it is routed: made to move).

    Examples
    --------
    >>> Cells._fields
    ('stock0', 'ncy', 'next_cell', 'valid_next')
    """

    stock0: np.ndarray
    ncy: np.ndarray
    next_cell: np.ndarray
    valid_next: np.ndarray


class Rates(NamedTuple):
    """Leaving and moving: the rates' laws, their year effects and movers' destinations.

    ``leave_ab, move_ab (2, C)`` Beta parameters of each cell's rates, drawn once per draw,
    or per cohort every year when ``resample`` (witan.send); ``leave_f, move_f (Y, D, A)``
    odds factors (year effects), used only when ``use_leave_f`` / ``use_move_f``;
    ``dest_cell (C, K)`` movers' destination cells (0 padding); ``dest_alpha (Y, C, K)``
    their Dirichlet parameters (zero where the destination is closed or padding);
    ``has_dest (Y, C)`` some destination is open (else movers leave).

    Examples
    --------
    >>> len(Rates._fields)
    10
    """

    leave_ab: np.ndarray
    move_ab: np.ndarray
    resample: bool
    leave_f: np.ndarray
    move_f: np.ndarray
    use_leave_f: bool
    use_move_f: bool
    dest_cell: np.ndarray
    dest_alpha: np.ndarray
    has_dest: np.ndarray


class Joiners(NamedTuple):
    """Joining: rates per head of population and the states joiners take.

    ``rate (Y, D, A)`` joining rate per head by year, draw and NCY; ``trend_f (Y, D)``
    the draw's trend factor; ``area_f (D, Ar)`` the draw's area factors; ``population
    (Y, Ar, A)``; ``cell, alpha (A, Kj)`` the cells joiners can join at each NCY (0
    padding) and their Dirichlet parameters; ``ok (Y, A, Kj)`` the slot takes children in
    the year; ``mix (D, A, Kj)`` each draw's joiner mix, unused when ``fresh_mix`` (then
    drawn every year, witan.send); ``need (A, Kj)`` each slot's need and ``need_f (Y, D,
    N)`` the draw's factor on that need's rate (joiner trends by need), used only when
    ``use_need_f``.

    Examples
    --------
    >>> len(Joiners._fields)
    12
    """

    rate: np.ndarray
    trend_f: np.ndarray
    area_f: np.ndarray
    population: np.ndarray
    cell: np.ndarray
    alpha: np.ndarray
    ok: np.ndarray
    mix: np.ndarray
    fresh_mix: bool
    need: np.ndarray
    need_f: np.ndarray
    use_need_f: bool


class Adjustments(NamedTuple):
    """A scenario's changes to the rates and its redirects (all ones and none: the baseline).

    ``leave_mult, move_mult (Y, C)`` multipliers of the rates (``move_mult`` zero where a
    cell has no open destination); ``join_mult (Y, A)``; ``join_weight (Y, A, Kj)``
    relative change of each joiner slot's rate; redirects, up to R a year: ``red_n (Y,)``
    how many, ``red_to (Y, R, C)`` each cell's target cell (-1: not redirected),
    ``red_share, red_joiners, red_stayers (Y, R)`` the share redirected and whether it
    applies to joiners and to stayers as well as movers.

    Examples
    --------
    >>> len(Adjustments._fields)
    9
    """

    leave_mult: np.ndarray
    move_mult: np.ndarray
    join_mult: np.ndarray
    join_weight: np.ndarray
    red_n: np.ndarray
    red_to: np.ndarray
    red_share: np.ndarray
    red_joiners: np.ndarray
    red_stayers: np.ndarray


class Outputs(NamedTuple):
    """Where the kernel writes: ``stock (D, Y, AC)``, ``flows`` five (D, Y, AC) arrays.

    ``flows`` are in the order of :data:`senforecast.models.cohort.sim.FLOWS` (joiners,
    leavers, movers, routed, redirected) and written where ``record (5,)`` is True (the
    others may be empty); ``seen (AC,)`` is set where anything is written; the run stops
    early once a draw-year total passes ``limit`` (the flows' dtype would overflow).

    Examples
    --------
    >>> Outputs._fields
    ('stock', 'flows', 'record', 'seen', 'limit')
    """

    stock: np.ndarray
    flows: tuple
    record: np.ndarray
    seen: np.ndarray
    limit: int


@njit(cache=True)
def run_draws(keys, cells, rates, joiners, adjust, out):
    """Move the children of every draw through every year; write stock and flows.

    Shapes: D draws, Y years, Ar areas, C cells, A NCYs, K destination and Kj joiner
    slots, R redirects, AC = Ar * C. Arguments: ``keys`` :class:`Streams`, ``cells``
    :class:`Cells`, ``rates`` :class:`Rates`, ``joiners`` :class:`Joiners`, ``adjust``
    :class:`Adjustments`, ``out`` :class:`Outputs`. Returns the largest draw-year stock,
    stopping early (returning it) once it passes ``out.limit``.
    """
    D, Y, AC = out.stock.shape
    C = cells.ncy.size
    Ar = AC // C
    A, Kj = joiners.cell.shape
    K = rates.dest_cell.shape[1]
    leave_ab, move_ab = rates.leave_ab, rates.move_ab
    st = np.zeros(1, np.uint64)
    cur = np.empty(AC, np.int64)
    new_kind = np.zeros((3, AC), np.int64)  # children arriving: 0 stayers, 1 movers, 2 joiners
    delta = np.zeros((3, AC), np.int64)
    leave_a = np.zeros(AC, np.int64)
    move_a = np.zeros(AC, np.int64)
    routed_a = np.zeros(AC, np.int64)
    red_a = np.zeros(AC, np.int64)
    p_leave = np.zeros(C)
    p_move = np.zeros(C)
    probs = np.empty(max(K, Kj), np.float64)
    alpha = np.empty(Kj, np.float64)
    mix = np.empty(Kj, np.float64)
    cum = np.empty(Kj, np.float64)
    n_join = np.zeros(Ar, np.int64)
    most = 0
    for d in range(D):
        dkey = keys.draw[d]
        if not rates.resample:
            # the draw's rates (parameter uncertainty, carried through every year)
            for c in range(C):
                _start(st, stream_key(dkey, LEAVE_RATE) ^ keys.cell[c])
                p_leave[c] = beta(st, leave_ab[0, c], leave_ab[1, c])
                _start(st, stream_key(dkey, MOVE_RATE) ^ keys.cell[c])
                p_move[c] = beta(st, move_ab[0, c], move_ab[1, c])
        cur[:] = cells.stock0
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
                    _cell_stream(st, dkey, y, ar, keys.cell[c], TRANSITION)
                    lm = adjust.leave_mult[y, c]
                    if rates.resample:
                        # witan.send: the cohort's rates drawn afresh (a one-child cohort's
                        # Bernoulli has the Beta's mean, so no draw is needed)
                        pl = beta(st, leave_ab[0, c], leave_ab[1, c]) if n > 1 else _beta_mean(leave_ab[0, c], leave_ab[1, c])
                        if lm != 1.0:
                            pl = min(max(pl * lm, 0.0), 1.0)
                        leave = bernoulli_count(st, n, pl)
                        remain = n - leave
                        pm = beta(st, move_ab[0, c], move_ab[1, c]) if remain > 1 else _beta_mean(move_ab[0, c], move_ab[1, c])
                        pm = min(max(pm * adjust.move_mult[y, c], 0.0), 1.0)
                        move = bernoulli_count(st, remain, pm)
                    else:
                        pl = p_leave[c]
                        if rates.use_leave_f:
                            pl = _odds(pl, rates.leave_f[y, d, cells.ncy[c]])
                        if lm != 1.0:
                            pl = min(max(pl * lm, 0.0), 1.0)
                        pm = p_move[c]
                        if rates.use_move_f:
                            pm = _odds(pm, rates.move_f[y, d, cells.ncy[c]])
                        pm = min(max(pm * adjust.move_mult[y, c], 0.0), 1.0)
                        # one uniform per child decides leave / move / stay (the same law as
                        # a binomial for leavers, then one for movers among the rest)
                        cut = pl + (1.0 - pl) * pm
                        leave = 0
                        move = 0
                        for _ in range(n):
                            u = uniform(st)
                            if u < pl:
                                leave += 1
                            elif u < cut:
                                move += 1
                        remain = n - leave
                    stay = remain - move
                    # routing: stayers whose state is not valid next year must move; no destination -> leave
                    forced = 0
                    if not cells.valid_next[y, c]:
                        forced = stay
                        stay = 0
                        move += forced
                    if not rates.has_dest[y, c]:
                        leave += move
                        move = 0
                    leave_a[off + c] = leave
                    move_a[off + c] = move
                    routed_a[off + c] = forced
                    if stay > 0:
                        new_kind[0, off + cells.next_cell[c]] += stay
                    if move > 0:
                        _cell_stream(st, dkey, y, ar, keys.cell[c], DESTINATION)
                        tot = dirichlet_weights(st, rates.dest_alpha[y, c], move > 1, probs[:K])
                        for _ in range(move):
                            new_kind[1, off + rates.dest_cell[c, pick(st, probs[:K], tot)]] += 1

            # joiners: a count per (area, NCY) from the population, then a state for each
            for a in range(A):
                w_changes = joiners.use_need_f
                for k in range(Kj):
                    if adjust.join_weight[y, a, k] != 1.0:
                        w_changes = True
                rf = 0.0
                tot = 0.0
                if joiners.fresh_mix and not w_changes:
                    # witan.send: the mix is drawn below once the NCY's joiners are known
                    for k in range(Kj):
                        if joiners.alpha[a, k] > 0.0 and joiners.ok[y, a, k]:
                            tot = 1.0
                    rf = 1.0
                else:
                    g_tot = 1.0
                    if joiners.fresh_mix:
                        _start(st, stream_key(stream_key(stream_key(dkey, y), a), JOINER_MIX))
                        g_tot = dirichlet_weights(st, joiners.alpha[a], True, probs[:Kj])
                        if g_tot <= 0.0:
                            g_tot = 1.0
                    for k in range(Kj):
                        q = probs[k] / g_tot if joiners.fresh_mix else joiners.mix[d, a, k]
                        q = q * adjust.join_weight[y, a, k]
                        if joiners.use_need_f:
                            q = q * joiners.need_f[y, d, joiners.need[a, k]]
                        rf += q
                        if not joiners.ok[y, a, k]:
                            q = 0.0
                        mix[k] = q
                        tot += q
                base = (joiners.rate[y, d, a] * adjust.join_mult[y, a] * rf * joiners.trend_f[y, d]
                        if tot > 0.0 else 0.0)
                n_all = 0
                for ar in range(Ar):
                    _start(st, stream_key(stream_key(stream_key(stream_key(dkey, y), ar), a), JOINERS))
                    n_join[ar] = binomial(st, joiners.population[y, ar, a],
                                          min(max(base * joiners.area_f[d, ar], 0.0), 1.0))
                    n_all += n_join[ar]
                if n_all == 0:
                    continue
                if joiners.fresh_mix and not w_changes:
                    for k in range(Kj):
                        alpha[k] = joiners.alpha[a, k] if joiners.ok[y, a, k] else 0.0
                    _start(st, stream_key(stream_key(stream_key(dkey, y), a), JOINER_MIX))
                    dirichlet_weights(st, alpha, n_all > 1, mix)
                acc = 0.0
                for k in range(Kj):
                    acc += mix[k]
                    cum[k] = acc
                for ar in range(Ar):
                    _start(st, stream_key(stream_key(stream_key(stream_key(dkey, y), ar), a), JOINER_STATES))
                    for _ in range(n_join[ar]):
                        k = pick(st, mix, acc)
                        new_kind[2, ar * C + joiners.cell[a, k]] += 1

            # redirects: a share of the arriving children of some cells go to another setting
            red_a[:] = 0
            for r in range(adjust.red_n[y]):
                share = adjust.red_share[y, r]
                delta[:] = 0
                for ac in range(AC):
                    c = ac % C
                    to = adjust.red_to[y, r, c]
                    if to < 0:
                        continue
                    to_ac = ac - c + to
                    for kind in range(3):
                        if (kind == 1 or (kind == 2 and adjust.red_joiners[y, r])
                                or (kind == 0 and adjust.red_stayers[y, r])):
                            _cell_stream(st, dkey, y, ac // C, keys.cell[c], REDIRECT + 3 * r + kind)
                            k = bernoulli_count(st, new_kind[kind, ac], share)
                            if k > 0:
                                delta[kind, ac] -= k
                                delta[kind, to_ac] += k
                                red_a[to_ac] += k
                new_kind += delta

            total = 0
            record = out.record
            for ac in range(AC):
                s = new_kind[0, ac] + new_kind[1, ac] + new_kind[2, ac]
                cur[ac] = s
                total += s
                out.stock[d, y, ac] = s
                any_ = s > 0
                if record[0]:
                    out.flows[0][d, y, ac] = new_kind[2, ac]
                if record[1]:
                    out.flows[1][d, y, ac] = leave_a[ac]
                    any_ = any_ or leave_a[ac] > 0
                if record[2]:
                    out.flows[2][d, y, ac] = move_a[ac]
                    any_ = any_ or move_a[ac] > 0
                if record[3]:
                    out.flows[3][d, y, ac] = routed_a[ac]
                    any_ = any_ or routed_a[ac] > 0
                if record[4]:
                    out.flows[4][d, y, ac] = red_a[ac]
                if any_:
                    out.seen[ac] = True
            if total > most:
                most = total
                if most > out.limit:
                    return most
    return most
