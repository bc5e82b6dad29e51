"""Estimation of the cohort model's rates from transitions (Bayesian and witan.send rules).

Everything is held in dense numpy arrays over NCY and state, where a state is a
(need, setting) pair numbered ``need_index * n_settings + setting_index`` (see
:class:`CohortIndex`). Rates are indexed by the NCY the child is in *before* the transition
(leavers, movers, destinations) or *after* it (joiners, which have no NCY before).

Two estimation modes:

``"witan"``
    witan.send's rules (``witan.send.params``), reproduced exactly: leaver and mover Beta
    parameters are the state's counts plus a prior ``(L + 0.5, N - L + 0.5)`` pooled over
    all states at the NCY and rescaled to sum to 1 (``0.5, 0.5`` for leavers and ``1, 1``
    for movers at an NCY with no data); mover destinations get a prior spreading 1 over
    the settings valid for the need and NCY and allowed from the setting, plus the NCY's
    observed destination settings (or the previous NCY's), rescaled to sum to 1, plus the
    state's own moves; joiner rates add ``j / n`` to alpha and ``(p - j) / n`` to beta for
    each of the ``n`` historic years with joiners (``0.001`` and ``p / n`` for a year
    without), where ``p`` is the population at the NCY in the transition's first year;
    joiner states get ``1 / k`` on each of the ``k`` valid states plus observed joiners.

``"bayes"``
    Beta-binomial leaver and mover rates and Dirichlet-multinomial destinations whose
    priors pool the states at the same NCY, with the prior strength chosen by empirical
    Bayes (marginal likelihood over all states); joiner rates with a posterior for the mean
    rate per NCY and a between-year dispersion fitted by empirical Bayes, so projections
    carry both parameter uncertainty and year-to-year variation. Leaver and mover rates get
    a random year effect on their odds per NCY too, its variance estimated by pooled moments
    (:func:`year_effect_variance`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
import warnings

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln

from ...core.data import NO_PLAN
from ...core.errors import InputWarning, ModelError
from .states import ValidStates

KAPPA_GRID = np.logspace(-1, 4, 41)
JOINER_KAPPA_GRID = np.logspace(1, 7, 49)


@dataclass
class CohortIndex:
    """Labels of the model's arrays: needs, settings, NCY range, validity and moves.

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> ix.needs, ix.n_states, (ix.ncy_min, ix.ncy_max)
    (['T', 'U', 'V', 'W', 'X', 'Y'], 114, (-4, 20))
    """

    needs: list[str]
    settings: list[str]
    ncy_min: int
    ncy_max: int
    valid: np.ndarray  # (n_ncy, n_states) bool
    moves: np.ndarray  # (n_settings, n_settings) bool: allowed setting-to-setting moves

    @property
    def n_ncy(self) -> int:
        return self.ncy_max - self.ncy_min + 1

    @property
    def n_states(self) -> int:
        return len(self.needs) * len(self.settings)

    @property
    def ncys(self) -> np.ndarray:
        return np.arange(self.ncy_min, self.ncy_max + 1)

    def state_need(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.needs)), len(self.settings))

    def state_setting(self) -> np.ndarray:
        return np.tile(np.arange(len(self.settings)), len(self.needs))

    def state_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(need, setting) code of every state, as object arrays."""
        return (np.asarray(self.needs, dtype=object)[self.state_need()],
                np.asarray(self.settings, dtype=object)[self.state_setting()])

    @classmethod
    def build(cls, transitions: pd.DataFrame, valid_states: ValidStates,
              extra_ncy: tuple[int, int] | None = None) -> "CohortIndex":
        t = transitions
        needs = sorted((set(t["need_from"]) | set(t["need_to"])) - {NO_PLAN})
        for rule in valid_states.rules.values():
            if rule.needs is not None:
                needs = sorted(set(needs) | set(rule.needs))
        settings = sorted((set(t["setting_from"]) | set(t["setting_to"]) | set(valid_states.rules)) - {NO_PLAN})
        ncy = np.concatenate([t["ncy_from"].to_numpy(), t["ncy_to"].to_numpy(),
                              [r.min_ncy for r in valid_states.rules.values()],
                              [r.max_ncy for r in valid_states.rules.values()]])
        lo, hi = int(ncy.min()), int(ncy.max())
        if extra_ncy is not None:
            lo, hi = min(lo, extra_ncy[0]), max(hi, extra_ncy[1])
        n_set = len(settings)
        need_lab = np.repeat(np.asarray(needs, dtype=object), n_set)
        set_lab = np.tile(np.asarray(settings, dtype=object), len(needs))
        ncys = np.arange(lo, hi + 1)
        valid = valid_states.is_valid(
            np.repeat(ncys, len(need_lab)), np.tile(need_lab, len(ncys)), np.tile(set_lab, len(ncys))
        ).reshape(len(ncys), len(need_lab))
        return cls(needs, settings, lo, hi, valid, valid_states.move_matrix(settings))


@dataclass
class TransitionCounts:
    """Counts of the historic transitions on the index's arrays.

    Built by :func:`count_transitions`; arrays are indexed by transition year (first
    census of each pair), NCY offset from ``index.ncy_min`` and state (see :class:`CohortIndex`).

    Attributes
    ----------
    years : numpy.ndarray
        Transition years (first census of each pair).
    n, leavers, movers : numpy.ndarray
        ``(n_ncy, n_states)`` children in each state before the transition, those who
        left SEN, and those who changed setting (or state, with need changes).
    destinations : numpy.ndarray
        ``(n_ncy, n_states, n_states)`` movers by destination state.
    joiners : numpy.ndarray
        ``(n_years, n_ncy, n_states)`` joiners by year, NCY after the transition and state joined.
    population : numpy.ndarray
        ``(n_years, n_ncy)`` population in year ``+ pop_offset`` (NaN: missing).
    areas, joiners_area, population_area : list, numpy.ndarray or None
        Area labels and joiners / population by ``(year, area, ncy)``.
    pop_offset : int
        Joiners of transition year ``y`` are rated against the population of ``y + pop_offset``.
    n_year, leavers_year, movers_year : numpy.ndarray or None
        ``n``, ``leavers`` and ``movers`` by transition year, ``(n_years, n_ncy, n_states)``.

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> c = count_transitions(d.transitions, ix, d.population)
    >>> c.n.shape == (ix.n_ncy, ix.n_states), c.joiners.shape[0] == len(c.years)
    (True, True)
    >>> bool((c.leavers <= c.n).all() and (c.n_year.sum(0) == c.n).all())
    True
    """

    years: np.ndarray  # transition years (first census of each pair)
    n: np.ndarray  # (n_ncy, S) children in the state before the transition
    leavers: np.ndarray  # (n_ncy, S)
    movers: np.ndarray  # (n_ncy, S) children who changed setting (or state, with need changes)
    destinations: np.ndarray  # (n_ncy, S, S) movers by destination state
    joiners: np.ndarray  # (n_years, n_ncy, S) joiners by year, NCY after and state joined
    population: np.ndarray  # (n_years, n_ncy) population in year + pop_offset (NaN: missing)
    areas: list = field(default_factory=list)
    joiners_area: np.ndarray | None = None  # (n_years, n_areas, n_ncy)
    population_area: np.ndarray | None = None  # (n_years, n_areas, n_ncy), NaN: missing
    pop_offset: int = 0  # joiners of transition year y are rated against population of y + offset
    n_year: np.ndarray | None = None  # (n_years, n_ncy, S) ``n`` by transition year
    leavers_year: np.ndarray | None = None  # (n_years, n_ncy, S)
    movers_year: np.ndarray | None = None  # (n_years, n_ncy, S)


def count_transitions(transitions: pd.DataFrame, index: CohortIndex, population: pd.DataFrame | None,
                      need_changes: bool = False, areas: list[str] | None = None,
                      pop_offset: int = 0) -> TransitionCounts:
    """Tally transitions on the index (vectorised; every row is used).

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> c = count_transitions(d.transitions, ix, d.population)
    >>> int(c.n.sum() + c.joiners.sum()) == int(d.transitions["count"].sum())
    True
    """
    t = transitions
    years = np.sort(t["year"].unique())
    n_set, S, A = len(index.settings), index.n_states, index.n_ncy
    need_pos = {k: i for i, k in enumerate(index.needs)}
    set_pos = {k: i for i, k in enumerate(index.settings)}
    cnt = t["count"].to_numpy(dtype=float)
    from_send = (t["setting_from"] != NO_PLAN).to_numpy()
    to_send = (t["setting_to"] != NO_PLAN).to_numpy()

    def state(side: str, mask: np.ndarray) -> np.ndarray:
        nd = t[f"need_{side}"].map(need_pos).to_numpy()
        st = t[f"setting_{side}"].map(set_pos).to_numpy()
        out = np.full(len(t), -1, dtype=np.int64)
        out[mask] = (nd[mask] * n_set + st[mask]).astype(np.int64)
        return out

    s_from, s_to = state("from", from_send), state("to", to_send)
    a_from = t["ncy_from"].to_numpy() - index.ncy_min
    a_to = t["ncy_to"].to_numpy() - index.ncy_min

    y_pos = np.searchsorted(years, t["year"].to_numpy())
    n_year = np.zeros((len(years), A, S))
    np.add.at(n_year, (y_pos[from_send], a_from[from_send], s_from[from_send]), cnt[from_send])
    n = n_year.sum(0)
    leave = from_send & ~to_send
    leavers_year = np.zeros((len(years), A, S))
    np.add.at(leavers_year, (y_pos[leave], a_from[leave], s_from[leave]), cnt[leave])
    leavers = leavers_year.sum(0)
    stay = from_send & to_send
    set_change = t["setting_from"].to_numpy() != t["setting_to"].to_numpy()
    move = stay & (set_change | ((t["need_from"].to_numpy() != t["need_to"].to_numpy()) if need_changes else False))
    movers_year = np.zeros((len(years), A, S))
    np.add.at(movers_year, (y_pos[move], a_from[move], s_from[move]), cnt[move])
    movers = movers_year.sum(0)
    dest = np.zeros((A, S, S))
    d_state = s_to.copy()
    if not need_changes:
        # need changes are not modelled: a mover keeps the need it had
        nd_from = s_from // n_set
        d_state = np.where(move, nd_from * n_set + (s_to % n_set), s_to)
    np.add.at(dest, (a_from[move], s_from[move], d_state[move]), cnt[move])

    join = ~from_send & to_send
    joiners = np.zeros((len(years), A, S))
    np.add.at(joiners, (y_pos[join], a_to[join], s_to[join]), cnt[join])

    areas = list(areas) if areas is not None else sorted(t["area"].astype(str).unique())
    area_pos = {k: i for i, k in enumerate(areas)}
    j_area = np.zeros((len(years), len(areas), A))
    ar = t["area"].astype(str).map(area_pos).to_numpy()
    ok = join & ~pd.isna(ar)
    np.add.at(j_area, (y_pos[ok], ar[ok].astype(np.int64), a_to[ok]), cnt[ok])

    pop = np.full((len(years), A), np.nan)
    pop_area = np.full((len(years), len(areas), A), np.nan)
    if population is not None and len(population):
        want = years + pop_offset
        p = population[population["year"].isin(want) & population["ncy"].between(index.ncy_min, index.ncy_max)]
        tot = p.groupby(["year", "ncy"], as_index=False)["count"].sum()
        pop[np.searchsorted(want, tot["year"].to_numpy()), tot["ncy"].to_numpy() - index.ncy_min] = tot["count"].to_numpy()
        if "area" in p.columns:
            pa = p[p["area"].astype(str).isin(areas)].groupby(["year", "area", "ncy"], as_index=False)["count"].sum()
            if pa.empty:
                # e.g. plans without an area column (area 'ALL') and a population by areas:
                # the authority's total population is used, with no area factors
                warnings.warn(
                    f"the population's areas ({', '.join(sorted(p['area'].astype(str).unique())[:6])}) share none "
                    f"with the plans' areas ({', '.join(areas[:6])}): joiner rates use the authority's total "
                    "population, with no area differences. Add an 'area' column to the plans with the "
                    "population's area names (or give the population as one area 'ALL') to model areas",
                    InputWarning, stacklevel=2)
                pa = None
        if "area" in p.columns and pa is not None:
            pop_area[np.searchsorted(want, pa["year"].to_numpy()), pa["area"].astype(str).map(area_pos).to_numpy(),
                     pa["ncy"].to_numpy() - index.ncy_min] = pa["count"].to_numpy()
    return TransitionCounts(years, n, leavers, movers, dest, joiners, pop, areas, j_area, pop_area, pop_offset,
                            n_year=n_year, leavers_year=leavers_year, movers_year=movers_year)


@dataclass
class CohortParameters:
    """Posterior (or witan.send) distribution parameters of every rate.

    Leaver and mover arrays are indexed ``[ncy_before - ncy_min, state]``; destination
    alphas ``[ncy_before, state_from, state_to]``; joiner arrays by NCY after the transition.
    ``joiner_kappa`` is the between-year concentration of joiner rates (inf: none).
    ``resample_each_year`` redraws rates every projected year (witan.send's beta-binomial
    sampling) instead of once per draw. ``leaver_year_var`` and ``mover_year_var`` are the
    variances of a random year effect on the odds of leaving and moving (a Gamma factor with
    mean 1, shared by every state and area at an NCY, drawn afresh each projected year;
    0: none), estimated by :func:`year_effect_variance` from ``year_effect_years`` years
    (whose mean rates are then off by a shared factor with variance ``var / years``).
    Built by :func:`fit_witan` or :func:`fit_bayes`.

    Attributes
    ----------
    leaver_alpha, leaver_beta, mover_alpha, mover_beta : numpy.ndarray
        ``(n_ncy, n_states)`` Beta parameters of the leaving and moving rates.
    destination_alpha : numpy.ndarray
        ``(n_ncy, n_states, n_states)`` Dirichlet parameters of movers' destinations.
    joiner_alpha, joiner_beta : numpy.ndarray
        ``(n_ncy,)`` Beta parameters of the joining rate per head of population.
    joiner_state_alpha : numpy.ndarray
        ``(n_ncy, n_states)`` Dirichlet parameters of the state joiners enter.
    joiner_kappa : float
        Between-year concentration of joiner rates (inf: none).
    resample_each_year : bool
        Redraw rates every projected year instead of once per draw.
    kappas : dict
        Empirical-Bayes prior strengths chosen by :func:`fit_bayes`, by rate.
    joiner_trend : tuple of float
        Yearly log growth of joiner rates: estimate and standard error.
    trend_ref_year : float
        Transition year the joiner alpha / beta describe.
    area_factor : tuple of numpy.ndarray or None
        Gamma shape and rate of each area's joiner factor.
    areas : list
        Area labels of ``area_factor``.
    pop_offset : int
        As in :class:`TransitionCounts`.
    leaver_year_var, mover_year_var : float
        Variance of the random year effect on the odds of leaving and moving (0: none).
    joiner_year_var : float
        The same for the joining rate per head of population, by NCY (0: none; when
        positive it replaces ``joiner_kappa``).
    year_effect_years : int
        Transition years those variances were estimated from.
    joiner_need_trend : tuple of numpy.ndarray or None
        Joiner trends by need (``joiner_trend="need"``): each need's own estimate, its
        standard error and its shrinkage weight ``B = se**2 / (se**2 + tau2)`` towards the
        overall trend (see :func:`need_trends`); None: one trend for all needs.
    joiner_need_tau2 : float
        Between-need variance of the trends (empirical Bayes; 0: no differences found).

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> p = fit_witan(count_transitions(d.transitions, ix, d.population), ix)
    >>> p.leaver_alpha.shape == (ix.n_ncy, ix.n_states)
    True
    >>> mean_leave = p.leaver_alpha / (p.leaver_alpha + p.leaver_beta)
    >>> bool(((mean_leave >= 0) & (mean_leave <= 1)).all())
    True
    >>> q = p.copy()
    >>> q.leaver_alpha[:] = 0
    >>> bool(p.leaver_alpha.sum() > 0)
    True
    """

    leaver_alpha: np.ndarray
    leaver_beta: np.ndarray
    mover_alpha: np.ndarray
    mover_beta: np.ndarray
    destination_alpha: np.ndarray
    joiner_alpha: np.ndarray
    joiner_beta: np.ndarray
    joiner_state_alpha: np.ndarray
    joiner_kappa: float = np.inf
    resample_each_year: bool = False
    kappas: dict = field(default_factory=dict)
    joiner_trend: tuple[float, float] = (0.0, 0.0)  # yearly log growth of joiner rates: estimate, s.e.
    trend_ref_year: float = 0.0  # (mean) transition year the joiner alpha/beta describe
    area_factor: tuple[np.ndarray, np.ndarray] | None = None  # Gamma shape, rate of each area's factor
    areas: list = field(default_factory=list)
    pop_offset: int = 0
    leaver_year_var: float = 0.0
    mover_year_var: float = 0.0
    year_effect_years: int = 0  # transition years the year-effect variances were estimated from
    joiner_year_var: float = 0.0  # year effect on the odds of joining, per NCY
    joiner_need_trend: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # by need: estimate, s.e., shrinkage
    joiner_need_tau2: float = 0.0  # between-need variance of the joiner trends (empirical Bayes)

    def copy(self) -> "CohortParameters":
        return replace(self, **{k: np.array(v) for k, v in self.__dict__.items() if isinstance(v, np.ndarray)})


# ---------------------------------------------------------------------------- witan rules
def fit_witan(c: TransitionCounts, index: CohortIndex) -> CohortParameters:
    """witan.send's estimation rules (see the module docstring).

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> p = fit_witan(count_transitions(d.transitions, ix, d.population), ix)
    >>> float(p.joiner_alpha[5 - ix.ncy_min]), float(p.joiner_beta[5 - ix.ncy_min] * 4)
    (12.0, 26189.0)
    """
    A, S = c.n.shape
    n_set, n_need = len(index.settings), len(index.needs)
    valid_ay = index.valid.any(axis=1)  # NCYs at which some state is valid

    def pooled_prior(k: np.ndarray, n: np.ndarray, unobserved: float) -> tuple[np.ndarray, np.ndarray]:
        ka, na = k.sum(1), n.sum(1)
        seen = na > 0
        denom = np.where(seen, na + 1.0, 1.0)
        return (np.where(seen, (ka + 0.5) / denom, unobserved), np.where(seen, (na - ka + 0.5) / denom, unobserved))

    pa, pb = pooled_prior(c.leavers, c.n, 0.5)
    leaver_alpha = c.leavers + pa[:, None]
    leaver_beta = c.n - c.leavers + pb[:, None]

    remain = c.n - c.leavers
    qa, qb = pooled_prior(c.movers, remain, 1.0)
    can_move = (index.moves.sum(1) > 1)[index.state_setting()]  # "any-valid-transitions?"
    mover_alpha = np.where(can_move, c.movers + qa[:, None], 0.0)
    mover_beta = np.where(can_move, remain - c.movers + qb[:, None], 1.0)

    # destination settings observed at each NCY (any need), or at the NCY before if none
    ay_obs = c.destinations.reshape(A, S, n_need, n_set).sum(axis=(1, 2))
    for a in np.flatnonzero(valid_ay):
        if ay_obs[a].sum() == 0 and a > 0 and ay_obs[a - 1].sum() > 0:
            ay_obs[a] = ay_obs[a - 1]
    dest = np.zeros((A, S, S))
    for a in range(A):  # loop over NCY only
        valid_ns = index.valid[a].reshape(n_need, n_set)
        allowed = valid_ns[:, None, :] & index.moves[None, :, :]  # (need, from setting, to setting)
        k = allowed.sum(-1, keepdims=True)
        prior = np.where(k > 0, allowed / np.maximum(k, 1), 0.0) + ay_obs[a][None, None, :]
        prior[:, np.arange(n_set), np.arange(n_set)] = 0.0  # no "move" to the same setting
        total = prior.sum(-1, keepdims=True)
        prior = np.where(total > 0, prior / np.where(total > 0, total, 1.0), 0.0)
        block = np.zeros((n_need, n_set, n_need, n_set))
        block[np.arange(n_need), :, np.arange(n_need), :] = prior  # same need, new setting
        dest[a] = block.reshape(S, S)
    dest += c.destinations

    n_years = len(c.years)
    jy = c.joiners.sum(-1)  # (years, ncy)
    pop = np.nan_to_num(c.population)
    has = jy > 0
    joiner_alpha = np.where(has, jy / n_years, 0.001).sum(0)
    joiner_beta = np.where(has, (pop - jy) / n_years, pop / n_years).sum(0)
    joiner_alpha = np.where(valid_ay, joiner_alpha, 0.0)
    joiner_beta = np.where(valid_ay, joiner_beta, 1.0)

    k = index.valid.sum(1, keepdims=True)
    joiner_state_alpha = np.where(index.valid, 1.0 / np.maximum(k, 1), 0.0) + c.joiners.sum(0)
    joiner_state_alpha[~valid_ay] = 0.0
    return CohortParameters(leaver_alpha, leaver_beta, mover_alpha, mover_beta, dest,
                            joiner_alpha, joiner_beta, joiner_state_alpha,
                            joiner_kappa=np.inf, resample_each_year=True,
                            trend_ref_year=int(c.years.max()), areas=list(c.areas), pop_offset=c.pop_offset)


# ---------------------------------------------------------------------------- Bayesian
KAPPA_PRIOR_SLOPE = 1.5
"""Hyperprior p(kappa) proportional to kappa ** -2.5 (Gelman et al., BDA ch. 5), i.e. slope -1.5
on the log-spaced grid: when the data cannot tell how alike states are, favour weaker pooling."""


def _kappa_weights(ll: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Posterior weights of the prior strengths on the (log-spaced) grid."""
    ll = ll - KAPPA_PRIOR_SLOPE * np.log(grid)
    w = np.exp(ll - ll.max())
    return w / w.sum()


def _beta_mixture(k: np.ndarray, n: np.ndarray, m: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Beta posteriors of rates k/n with prior mean m, averaged over the prior strength.

    The strength kappa of the pooled prior Beta(kappa m, kappa (1 - m)) is not fixed at a
    point estimate (which sits at the grid edge when the data cannot tell, making intervals
    too narrow) but averaged over its posterior on the grid; the mixture of Beta posteriors
    is matched by mean and variance to one Beta per unit. Returns alpha, beta and the
    posterior mean strength (for reporting).
    """
    m = np.clip(m, 1e-9, 1 - 1e-9)
    use = n > 0
    g = grid[:, None]
    if use.sum() >= 2:
        ku, nu, mu = k[use], n[use], m[use]
        ll = (betaln(g * mu + ku, g * (1 - mu) + nu - ku) - betaln(g * mu, g * (1 - mu))).sum(1)
        w = _kappa_weights(ll, grid)
    else:
        w = np.full(grid.size, 1.0 / grid.size)
    a = g * m[None] + k[None]
    b = g * (1 - m[None]) + (n - k)[None]
    mean_g = a / (a + b)
    var_g = a * b / ((a + b) ** 2 * (a + b + 1))
    mean = (w[:, None] * mean_g).sum(0)
    var = (w[:, None] * (var_g + mean_g ** 2)).sum(0) - mean ** 2
    var = np.clip(var, 1e-15, mean * (1 - mean) * (1 - 1e-9))
    conc = mean * (1 - mean) / var - 1
    return mean * conc, (1 - mean) * conc, float((w * grid).sum())


def _dirichlet_mixture(x: np.ndarray, m: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """Dirichlet posteriors of rows x with prior means m, averaged over the prior strength.

    As :func:`_beta_mixture`: the mixture over the strength's posterior is matched to one
    Dirichlet per row by its mean and the total variance of its components.
    """
    n = x.sum(1)
    use = n > 0
    if use.sum() >= 2:
        xu, mu, nu = x[use], m[use], n[use]
        ll = []
        for g in grid:
            a = g * mu
            pos = a > 0
            term = np.where(pos, gammaln(np.where(pos, a + xu, 1.0)) - gammaln(np.where(pos, a, 1.0)), 0.0)
            ll.append((gammaln(g) - gammaln(g + nu) + term.sum(1)).sum())
        w = _kappa_weights(np.asarray(ll), grid)
    else:
        w = np.full(grid.size, 1.0 / grid.size)
    mean = np.zeros_like(m)
    second = np.zeros(len(m))
    for wg, g in zip(w, grid):
        a = g * m + x
        a0 = a.sum(1, keepdims=True)
        p = np.divide(a, a0, out=np.zeros_like(a), where=a0 > 0)
        var = p * (1 - p) / (a0 + 1)
        mean += wg * p
        second += wg * (var + p ** 2).sum(1)
    total_var = second - (mean ** 2).sum(1)
    spread = (mean * (1 - mean)).sum(1)
    conc = np.where(total_var > 0, spread / np.maximum(total_var, 1e-15) - 1, grid[-1])
    return mean * np.maximum(conc, 1e-6)[:, None], float((w * grid).sum())


def year_effect_variance(k_year: np.ndarray, n_year: np.ndarray, iterations: int = 25) -> float:
    """Variance of a random year effect on the odds of a rate, by moments, pooled over NCYs.

    Real leaver and mover rates vary between years more than binomial noise allows. The
    model: in year y every state at NCY a has odds ``odds_s * f_ya`` with ``E f = 1`` and
    ``Var f = tau2``; then the NCY's count ``O_ya = sum_s k_yas`` has variance about
    ``V + tau2 V^2`` with ``V = sum_s n_yas r_s (1 - r_s)``. Each (year, NCY) gives an
    unbiased estimate ``((O - E)^2 Y/(Y-1) - V) / V^2`` (``Y/(Y-1)``: the state rates
    ``r_s`` come from the same years), and these are pooled over NCYs with weights
    ``1 / (1/V + tau2)^2`` (the inverse of their sampling variance), iterated to a fixed
    point and truncated at 0. Pooling over NCYs is the shrinkage: a handful of years per NCY
    could not tell one NCY's variance from another's.

    Parameters
    ----------
    k_year, n_year : ndarray
        Events (leavers or movers) and children at risk by (transition year, NCY, state).

    Returns
    -------
    float
        ``tau2`` (0 with fewer than two years, or no variation beyond binomial noise).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = np.full((6, 20, 3), 400.0)
    >>> f = rng.gamma(1 / 0.04, 0.04, size=(6, 20, 1))  # a year effect with variance 0.04
    >>> p = np.broadcast_to(0.1 * f / (1 - 0.1 + 0.1 * f), n.shape)
    >>> 0.03 < year_effect_variance(rng.binomial(400, p).astype(float), n) < 0.05
    True
    >>> year_effect_variance(rng.binomial(400, np.full((6, 20, 3), 0.1)).astype(float), n) < 0.003
    True
    """
    n_years = k_year.shape[0]
    if n_years < 2:
        return 0.0
    K, N = k_year.sum(0), n_year.sum(0)
    r = np.divide(K, N, out=np.zeros_like(K, dtype=float), where=N > 0)
    O = k_year.sum(-1)
    E = (n_year * r).sum(-1)
    V = (n_year * r * (1 - r)).sum(-1)
    years_seen = (V > 0).sum(0)  # years with any binomial variance, per NCY
    ok = (V > 0) & (years_seen >= 2)[None, :]
    if not ok.any():
        return 0.0
    c = (years_seen / np.maximum(years_seen - 1, 1))[None, :]
    Vo = V[ok]
    z = (((O - E) ** 2 * c)[ok] - Vo) / Vo ** 2
    tau2 = 0.0
    for _ in range(iterations):
        w = 1.0 / (1.0 / Vo + tau2) ** 2
        new = max(0.0, float((w * z).sum() / w.sum()))
        if abs(new - tau2) < 1e-9:
            break
        tau2 = new
    return tau2


AREA_PRIOR = 30.0
"""Strength (in joiners) of the prior pulling each area's joiner-rate factor towards 1."""


def fit_bayes(c: TransitionCounts, index: CohortIndex, need_changes: bool = False,
              joiner_trend: bool | str = True) -> CohortParameters:
    """Beta-binomial / Dirichlet-multinomial rates with priors pooled at each NCY.

    For each state the prior mean is the pooled rate of the *other* states at the same NCY
    (so no data are used twice) and the prior strength is averaged over its posterior
    (hyperprior ``p(kappa) ~ kappa ** -2.5``); destinations likewise, over the settings a
    child may move to that are valid one NCY on. ``joiner_trend``: False (none), True or
    ``"total"`` (one yearly trend of joiner rates) or ``"need"`` (that trend plus each need's
    own, shrunk towards it by :func:`need_trends`).

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.states import ValidStates
    >>> d = load_witan_demo()
    >>> ix = CohortIndex.build(d.transitions, ValidStates.from_provision(d.provision))
    >>> p = fit_bayes(count_transitions(d.transitions, ix, d.population), ix)
    >>> bool((p.leaver_alpha[ix.valid] > 0).all() and (p.leaver_beta[ix.valid] > 0).all())
    True
    """
    A, S = c.n.shape
    n_set, n_need = len(index.settings), len(index.needs)
    kappas: dict[str, float] = {}

    def pooled_beta(k: np.ndarray, n: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        ka, na = k.sum(1), n.sum(1)
        overall = (ka.sum() + 0.5) / (na.sum() + 1.0)
        # prior mean: the NCY's pooled rate from the *other* states (no double use of data)
        ko, no = ka[:, None] - k, na[:, None] - n
        m = np.where(no > 0, (ko + 0.5) / (no + 1.0), overall)
        a, b, kappa = _beta_mixture(k.ravel(), n.ravel(), m.ravel(), KAPPA_GRID)
        kappas[name] = kappa
        return a.reshape(k.shape), b.reshape(k.shape)

    leaver_alpha, leaver_beta = pooled_beta(c.leavers, c.n, "leaver")
    remain = c.n - c.leavers
    mover_alpha, mover_beta = pooled_beta(c.movers, remain, "mover")
    # between-year variation of leaver and mover rates beyond binomial noise
    leaver_var = mover_var = 0.0
    if c.n_year is not None:
        leaver_var = year_effect_variance(c.leavers_year, c.n_year)
        mover_var = year_effect_variance(c.movers_year, c.n_year - c.leavers_year)

    # allowed destinations: valid at the next NCY, allowed move, a different state
    s_need, s_set = index.state_need(), index.state_setting()
    valid_next = np.vstack([index.valid[1:], np.zeros((1, S), bool)])
    allowed = valid_next[:, None, :] & index.moves[s_set][:, s_set][None, :, :]
    allowed &= ~np.eye(S, dtype=bool)[None]
    # prior mean: destinations of movers from the *other* states at the NCY
    if need_changes:
        pool = c.destinations.sum(1)  # (A, S) by destination state
        pool_for = pool[:, None, :] - c.destinations
    else:
        allowed &= (s_need[:, None] == s_need[None, :])[None]
        pool = c.destinations.reshape(A, S, n_need, n_set).sum(axis=(1, 2))  # by destination setting
        own = c.destinations.reshape(A, S, n_need, n_set).sum(axis=2)  # (A, S, setting)
        pool_for = (pool[:, None, :] - own)[:, :, s_set]
    m = allowed * (pool_for + 0.5)
    tot = m.sum(-1, keepdims=True)
    m = np.where(tot > 0, m / np.where(tot > 0, tot, 1.0), 0.0)
    x = c.destinations * allowed
    dest, kappa_d = _dirichlet_mixture(x.reshape(A * S, S), m.reshape(A * S, S), KAPPA_GRID)
    dest = dest.reshape(A, S, S) + c.destinations * ~allowed  # moves outside the rules kept as seen
    kappas["destination"] = kappa_d

    # joiners: a yearly trend (Poisson GLM with NCY effects), a posterior for each NCY's
    # rate in the last history year, area factors, and between-year dispersion by EB
    jy = c.joiners.sum(-1)
    pop = c.population
    valid_ay = index.valid.any(axis=1)
    seen = ~np.isnan(pop) & (pop > 0) & valid_ay[None, :]
    # centre the trend on the middle of the history so the rate there and the slope are
    # (nearly) uncorrelated; projecting then adds slope uncertainty x distance from the middle
    ref = float(c.years.mean())
    dt = (c.years - ref).astype(float)
    beta_t, se_t = (_joiner_trend(jy, pop, seen, dt) if joiner_trend else (0.0, 0.0))
    growth = np.exp(beta_t * dt)[:, None]  # rate of year y relative to the reference year
    J = np.where(seen, jy, 0).sum(0)
    P = np.where(seen, pop * growth, 0).sum(0)  # exposure in reference-year terms
    joiner_alpha = np.where(valid_ay & (P > 0), J + 0.5, 0.0)
    joiner_beta = np.where(valid_ay & (P > 0), np.maximum(P - J, 0) + 0.5, 1.0)
    mu = np.where(P > 0, (J + 0.5) / (P + 1.0), 0.0)
    use = seen & (mu[None, :] > 0)
    kj, nj = jy[use], pop[use]
    mj = (mu[None, :] * growth)[use]
    kappa_j = np.inf
    if use.sum() >= 2:
        mj_ = np.clip(mj, 1e-12, 1 - 1e-9)
        g = JOINER_KAPPA_GRID[:, None]
        ll = (betaln(g * mj_ + kj, g * (1 - mj_) + nj - kj) - betaln(g * mj_, g * (1 - mj_))).sum(1)
        ll_inf = (kj * np.log(mj_) + (nj - kj) * np.log1p(-mj_)).sum()
        best = int(np.argmax(ll))
        # a finite dispersion only if it beats the binomial limit by a clear margin
        kappa_j = float(JOINER_KAPPA_GRID[best]) if ll[best] > ll_inf + 1.0 else np.inf
    # joiner rates vary between years beyond binomial noise too (witan demo: chi2/df 1.9, see
    # docs/cohort_coverage.md): the leavers' year effect by moments, on exposure scaled by the
    # trend so that the trend is not counted as variation; it replaces the Beta dispersion
    joiner_var = 0.0
    if use.sum() >= 2:
        exposure = np.where(use, np.nan_to_num(pop) * growth, 0.0)
        joiner_var = year_effect_variance(np.where(use, jy, 0).astype(float)[:, :, None], exposure[:, :, None])
    if joiner_var > 0:
        kappa_j = np.inf
    kappas["joiner"] = kappa_j
    need_trend, tau2 = None, 0.0
    if joiner_trend == "need" and se_t > 0:
        need_trend, tau2 = need_trends(c.joiners, pop, seen, dt, len(index.needs), len(index.settings))

    area_factor = None
    if c.population_area is not None and len(c.areas) > 1:
        pa = c.population_area
        ok = ~np.isnan(pa) & seen[:, None, :]
        expected = np.where(ok, np.nan_to_num(pa) * (mu[None, :] * growth)[:, None, :], 0).sum(axis=(0, 2))
        observed = np.where(ok, c.joiners_area, 0).sum(axis=(0, 2))
        if (expected > 0).all():
            # Gamma(prior + joiners, prior + expected): areas pulled towards 1 by AREA_PRIOR joiners
            area_factor = (AREA_PRIOR + observed, AREA_PRIOR + expected)

    # joiner states: Dirichlet with a prior from the neighbouring NCYs' joiners
    xj = c.joiners.sum(0)
    neigh = xj.copy()
    neigh[1:] += xj[:-1]
    neigh[:-1] += xj[1:]
    mj_state = index.valid * (neigh + 0.5)
    tot = mj_state.sum(1, keepdims=True)
    mj_state = np.where(tot > 0, mj_state / np.where(tot > 0, tot, 1.0), 0.0)
    joiner_state_alpha = 2.0 * mj_state + xj
    joiner_state_alpha[~valid_ay] = 0.0
    return CohortParameters(leaver_alpha, leaver_beta, mover_alpha, mover_beta, dest,
                            joiner_alpha, joiner_beta, joiner_state_alpha,
                            joiner_kappa=kappa_j, resample_each_year=False, kappas=kappas,
                            joiner_trend=(beta_t, se_t), trend_ref_year=ref, area_factor=area_factor,
                            areas=list(c.areas), pop_offset=c.pop_offset,
                            leaver_year_var=leaver_var, mover_year_var=mover_var,
                            year_effect_years=len(c.years), joiner_year_var=joiner_var,
                            joiner_need_trend=need_trend, joiner_need_tau2=tau2)


def need_trends(joiners: np.ndarray, pop: np.ndarray, seen: np.ndarray, dt: np.ndarray, n_needs: int,
                n_settings: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, float]:
    """Joiner-rate trends by need, partially pooled towards their common mean (empirical Bayes).

    Each need's yearly log growth ``b_n`` and standard error ``s_n`` come from its own
    Poisson GLM (:func:`_joiner_trend` on that need's joiners). The needs' true trends are
    taken as drawn from ``N(mu, tau2)``; ``tau2`` is the DerSimonian-Laird moment estimate
    (0 when the estimates differ no more than their standard errors allow). Given the
    overall trend ``mu`` (drawn per simulation draw with its own uncertainty), need ``n``'s
    trend is ``N(B mu + (1 - B) b_n, (1 - B) s_n**2)`` with ``B = s_n**2 / (s_n**2 + tau2)``:
    a need with a noisy estimate, or needs that do not differ, keep the overall trend.

    Parameters
    ----------
    joiners : ndarray
        ``(n_years, n_ncy, n_states)`` joiners by transition year, NCY after and state joined.
    pop, seen : ndarray
        ``(n_years, n_ncy)`` population (exposure) and which cells to use.
    dt : ndarray
        Transition years relative to the trend's reference year.
    n_needs, n_settings : int
        States are numbered ``need * n_settings + setting``.

    Returns
    -------
    (estimate, se, shrinkage) or None, tau2
        Per need (a need with no usable estimate gets shrinkage 1); None when fewer than
        two needs have estimates.

    Examples
    --------
    Two needs whose joiner rates grow 10% and 0% a year (one NCY, one setting each):

    >>> rng = np.random.default_rng(1)
    >>> dt = np.arange(6) - 2.5
    >>> pop = np.full((6, 4), 20000.0)
    >>> lam = np.stack([0.01 * np.exp(0.10 * dt), 0.01 * np.exp(0.0 * dt)], -1)  # (year, need)
    >>> j = rng.poisson(pop[:, :, None] * lam[:, None, :])
    >>> (b, se, B), tau2 = need_trends(j, pop, pop > 0, dt, 2, 1)
    >>> bool(np.abs(b - [0.10, 0.0]).max() < 3 * se.max()), bool(tau2 > 0), bool((B < 0.5).all())
    (True, True, True)
    """
    est = np.zeros(n_needs)
    se = np.zeros(n_needs)
    for n in range(n_needs):
        jn = joiners[:, :, n * n_settings:(n + 1) * n_settings].sum(-1)
        use = seen & (jn.sum(0) > 0)[None, :]  # an NCY with none of the need's joiners says nothing
        est[n], se[n] = _joiner_trend(jn, pop, use, dt) if use.any() else (0.0, 0.0)
    ok = se > 0
    if ok.sum() < 2:
        return None, 0.0
    w = 1.0 / se[ok] ** 2
    centre = (w * est[ok]).sum() / w.sum()
    q = (w * (est[ok] - centre) ** 2).sum()
    tau2 = max(0.0, float((q - (ok.sum() - 1)) / (w.sum() - (w ** 2).sum() / w.sum())))
    shrink = np.where(ok, se ** 2 / np.maximum(se ** 2 + tau2, 1e-300), 1.0)
    return (est, se, shrink), tau2


def _joiner_trend(jy: np.ndarray, pop: np.ndarray, seen: np.ndarray, dt: np.ndarray) -> tuple[float, float]:
    """Yearly log growth of joiner rates: Poisson GLM ``joiners ~ NCY + year`` with the
    population as exposure; standard error scaled by the Pearson dispersion (at least 1)."""
    if len(dt) < 3:
        return 0.0, 0.0
    yi, ai = np.nonzero(seen)
    cols = np.unique(ai)
    if yi.size <= cols.size + 1 or jy[yi, ai].sum() == 0:
        return 0.0, 0.0
    import statsmodels.api as sm

    X = np.zeros((yi.size, cols.size + 1))
    X[np.arange(yi.size), np.searchsorted(cols, ai)] = 1.0
    X[:, -1] = dt[yi]
    try:
        res = sm.GLM(jy[yi, ai], X, family=sm.families.Poisson(), offset=np.log(pop[yi, ai])).fit()
    except Exception:  # noqa: BLE001 - a failed trend fit means no trend, not no model
        return 0.0, 0.0
    dispersion = max(1.0, float(res.pearson_chi2 / max(res.df_resid, 1)))
    b, se = float(res.params[-1]), float(res.bse[-1]) * np.sqrt(dispersion)
    if not (np.isfinite(b) and np.isfinite(se)):
        return 0.0, 0.0
    return b, se
