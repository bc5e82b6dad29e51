"""Pooled trend model: each authority's growth shrunk towards its region's and England's.

For every series (authority x age group or setting type) the log growth rate
``g = log(y_t + 1) - log(y_{t-1} + 1)`` is split into

    g[i, t] = national[t] + region[r(i), t] + own[i, t]

(national = growth of the England total of that age group / setting; region = the region's
growth less national). The forecast growth is the latest national growth plus the region's and
the authority's recent mean deviations, each *shrunk* by an empirical-Bayes weight
``tau^2 / (tau^2 + sigma^2 / k)``: ``tau^2`` (the persistent part of deviations) is their lag-1
covariance across authorities and ``sigma^2`` the rest, so an authority whose past deviations
do not persist borrows almost all of its trend from its region and England.

With a ``population`` the same is done on prevalence (plans per resident) and multiplied by
the population projection. Intervals come from :mod:`senforecast.models.panel.intervals`.

Missing counts (a suppressed or unavailable cell, a group not yet published) are never read as
0: England's and a region's growth from one year to the next are those of the series known in
both years, and a series whose latest census is missing is carried forward from its last
known count (growth applied over the years since); a series never known stays missing.
All authorities are fitted at once with numpy (the 150-authority backtest takes seconds).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from ...core.errors import ModelError, SenForecastError
from ..base import BaseModel
from ..registry import register
from ...projection import Projection
from .examples import example_setting_table
from .frozen import FROZEN_SHOCK_ORIGINS
from .growth import GROWTH_MODELS, growth_path
from .series import SeriesPanel
from .shared import SharedShockCalibration


MAX_LOG_GROWTH = 0.3
"""Cap on yearly log growth carried forward (about -26% to +35% a year)."""


def shrinkage_weight(dev: np.ndarray, window: int, max_lags: int = 4) -> float:
    """Empirical-Bayes weight of an authority's own mean deviation over ``window`` years.

    Parameters
    ----------
    dev : ndarray, shape (n_series, n_years)
        Deviations of growth from the level above (NaN allowed).
    window : int
        Years averaged.

    Returns
    -------
    float in [0, 1]
        ``tau^2 / (tau^2 + sigma^2 / window)`` with ``tau^2`` the mean lag-1 covariance across
        series of the last ``max_lags`` year pairs and ``sigma^2`` the variance minus it.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> persistent = rng.normal(0, 0.05, (400, 1)) + rng.normal(0, 0.05, (400, 8))
    >>> abs(shrinkage_weight(persistent, window=3) - 0.75) < 0.1  # tau2 = sigma2 -> 3/4
    True
    >>> round(shrinkage_weight(rng.normal(0, 0.05, (400, 8)), window=3), 1)  # no persistence
    0.0
    """
    n_years = dev.shape[1]
    lags = min(max_lags, n_years - 1)
    if lags < 1:
        return 0.5
    covs, vs = [], []
    for j in range(1, lags + 1):
        a, b = dev[:, n_years - j], dev[:, n_years - j - 1]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 3:
            continue
        covs.append(np.cov(a[ok], b[ok])[0, 1])
        vs.append(0.5 * (np.var(a[ok], ddof=1) + np.var(b[ok], ddof=1)))
    if not covs:
        return 0.5
    tau2 = max(float(np.mean(covs)), 0.0)
    sigma2 = max(float(np.mean(vs)) - tau2, 1e-9)
    return tau2 / (tau2 + sigma2 / window)


def _group_growth(Y: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Log growth of the sum of series per group from each year to the next, shape (n, years - 1).

    Only series known in both years are added up (a missing count is not a 0: an authority
    whose count is suppressed one year would otherwise look like a fall and a rise); NaN where
    no series of the group is known in both years.

    Examples
    --------
    >>> Y = np.array([[10.0, 12.0, 14.0], [100.0, np.nan, 130.0]])
    >>> np.round(np.exp(_group_growth(Y, np.zeros(2, int), 1)), 3).tolist()  # (12 + 1) / (10 + 1), ...
    [[1.182, 1.154]]
    """
    both = np.isfinite(Y[:, :-1]) & np.isfinite(Y[:, 1:])
    before = np.zeros((n, Y.shape[1] - 1))
    after = np.zeros((n, Y.shape[1] - 1))
    np.add.at(before, idx, np.where(both, Y[:, :-1], 0.0))
    np.add.at(after, idx, np.where(both, Y[:, 1:], 0.0))
    known = np.zeros((n, Y.shape[1] - 1), dtype=int)
    np.add.at(known, idx, both.astype(int))
    return np.where(known > 0, np.log(after + 1.0) - np.log(before + 1.0), np.nan)


def last_known(Y: np.ndarray, t: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each series' latest known count up to column ``t`` and how many years before ``t`` it is.

    Returns
    -------
    value : ndarray, shape (n_series,)
        NaN for a series never known.
    age : ndarray of int, shape (n_series,)
        0 when column ``t`` itself is known.

    Examples
    --------
    >>> v, a = last_known(np.array([[1.0, 2.0, np.nan], [4.0, 5.0, 6.0], [np.nan] * 3]))
    >>> v.tolist(), a.tolist()
    ([2.0, 6.0, nan], [1, 0, 0])
    """
    t = Y.shape[1] - 1 if t is None else t
    ok = np.isfinite(Y[:, : t + 1])
    rev = np.argmax(ok[:, ::-1], axis=1)  # years back to the latest known column
    idx = t - rev
    value = np.where(ok.any(axis=1), Y[np.arange(len(Y)), idx], np.nan)
    return value, np.where(ok.any(axis=1), rev, 0)


def level_noise_adjustment(dev: np.ndarray, size: np.ndarray, drift: np.ndarray | None = None,
                           max_lags: int = 4) -> np.ndarray:
    """Log correction that removes each series' estimated one-off noise from its last level.

    The cumulative deviation ``C`` of a series from the level above is taken as a random walk
    (variance ``s_eta^2`` a year, the persistent part) observed with one-off noise of variance
    ``s_eps^2 = b / (size + 1)`` (a placement that ends next year; smaller series are noisier).
    Yearly changes then have lag-1 covariance ``-s_eps^2`` and variance ``s_eta^2 + 2 s_eps^2``,
    which give ``b`` and ``s_eta^2`` pooled across series; a Kalman filter with these variances
    then estimates each series' last level.

    Parameters
    ----------
    dev : ndarray, shape (n_series, n_years)
        Yearly log-growth deviations from the level above (NaN allowed).
    size : ndarray, shape (n_series,)
        Count at the origin.
    drift : ndarray, optional
        Expected yearly deviation of each series (its shrunk trend), used between years.

    Returns
    -------
    ndarray, shape (n_series,)
        Filtered minus observed last level (0 where no noise is found: changes do not revert).

    Examples
    --------
    Levels that are a flat truth plus one-off noise: the correction undoes most of the last
    year's noise.

    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0, 0.1, (3000, 8))
    >>> adj = level_noise_adjustment(np.diff(noise, axis=1), np.full(3000, 100.0))
    >>> err_before = noise[:, -1]                  # the observed level's error
    >>> err_after = noise[:, -1] + adj             # the filtered level's error
    >>> bool(np.std(err_after) < 0.6 * np.std(err_before))
    True
    """
    n_years = dev.shape[1]
    lags = min(max_lags, n_years - 1)
    out = np.zeros(len(dev))
    if lags < 1:
        return out
    x = 1.0 / (np.asarray(size, float) + 1.0)
    prods, sqs, xs = [], [], []
    for j in range(1, lags + 1):
        a, b = dev[:, n_years - j], dev[:, n_years - j - 1]
        ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(x)
        prods.append(a[ok] * b[ok])
        sqs.append(0.5 * (a[ok] ** 2 + b[ok] ** 2))
        xs.append(x[ok])
    p, q2, xx = np.concatenate(prods), np.concatenate(sqs), np.concatenate(xs)
    if len(p) < 3 or not np.any(xx):
        return out
    b_noise = max(-float(np.sum(xx * p) / np.sum(xx * xx)), 0.0)  # -E[d_t d_t-1] = b / (size + 1)
    if b_noise == 0.0:
        return out
    s_eta2 = max(float(np.mean(q2 - 2 * b_noise * xx)), 0.0)
    s_eps2 = b_noise * np.nan_to_num(x, nan=0.0)
    # Kalman filter of the level C (0 in the first year, which is itself observed with noise)
    C = np.concatenate([np.zeros((len(dev), 1)), np.cumsum(np.nan_to_num(dev), axis=1)], axis=1)
    drift = np.zeros(len(dev)) if drift is None else drift
    ell, P = np.zeros(len(dev)), s_eps2.copy()
    for j in range(1, n_years + 1):
        P = P + s_eta2
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = np.where(P + s_eps2 > 0, P / (P + s_eps2), 1.0)
        ell = ell + drift + gain * (C[:, j] - ell - drift)
        P = (1 - gain) * P
    return np.where(np.isfinite(dev[:, -1]), ell - C[:, -1], 0.0)


def pooled_growth_forecast(
    Y: np.ndarray, t: int, horizon: int, group: np.ndarray, region: np.ndarray | None,
    window: int = 3, pooling: str = "region", max_growth: float = MAX_LOG_GROWTH, growth: str = "last",
    level: str = "last", breaks: np.ndarray | None = None,
) -> np.ndarray:
    """Point forecasts of every series from data up to column ``t`` (vectorised core).

    Parameters
    ----------
    Y : ndarray, shape (n_series, n_years)
        Counts (or rates); NaN = missing.
    t : int
        Index of the origin (last year used).
    horizon : int
        Years ahead.
    group : ndarray of int, shape (n_series,)
        Which England total (age group / setting) each series belongs to.
    region : ndarray of int or None
        Region index of each series (None: no region level).
    window : int
        Years of recent deviation averaged.
    pooling : {"region", "england", "none"}
        ``none`` uses each authority's own recent mean growth unshrunk.
    max_growth : float
        Cap on the absolute yearly log growth carried forward.
    growth : str
        How England's growth is carried forward (:data:`~.growth.GROWTH_MODELS`; ``last`` = the
        latest year's, the original behaviour).
    level : {"last", "filtered"}
        Start from the last census (original) or from each authority's level with its estimated
        one-off noise filtered out (:func:`level_noise_adjustment`).
    breaks : ndarray of bool, shape (n_series, n_years), optional
        Years not comparable with the year before (:mod:`.breaks`): growth into them is left
        out of every level (authority, region, England), so trends are fitted across comparable
        years only and the break is a level shift.

    Returns
    -------
    ndarray, shape (n_series, horizon)

    Examples
    --------
    >>> Y = np.array([[100, 110, 121, 133.1], [50, 55, 60.5, 66.55]])
    >>> f = pooled_growth_forecast(Y, 3, 2, np.zeros(2, int), None)
    >>> np.round(f[:, 0] / Y[:, 3], 2).tolist()  # both grow 10% a year
    [1.1, 1.1]
    """
    Yt = Y[:, : t + 1]
    L = np.log(Yt + 1.0)
    G = np.diff(L, axis=1)
    last, gap = last_known(Yt)  # a series missing at the origin starts from its latest known count
    n_groups = int(group.max()) + 1
    nat = _group_growth(Yt, group, n_groups)  # (groups, years-1); NaN where nothing is known
    brk = None
    if breaks is not None and breaks[:, 1: t + 1].any():
        brk = breaks[:, 1: t + 1]  # growth columns that cross a break
        G = np.where(brk, np.nan, G)
        grp_brk = np.zeros(nat.shape, bool)
        np.logical_or.at(grp_brk, group, brk)
        nat = np.where(grp_brk, np.nan, nat)
    k = max(1, min(window, G.shape[1]))
    if pooling == "none":
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dev = np.nanmean(G[:, -k:], axis=1)
        path = np.zeros((len(Y), horizon))
        start = np.log(last + 1.0)
    else:
        # England's growth path (``last``: the latest known year's; a group first published at the
        # origin has none: 0)
        path = growth_path(nat, horizon, growth, window)[group]
        start = np.log(last + 1.0)
        dev = np.zeros(len(Y))  # region's and authority's shrunk deviations from England's growth
        D = G - nat[group]
        for gi in range(n_groups):
            sel = group == gi
            if not sel.any():
                continue
            Dg = D[sel]
            if pooling == "region" and region is not None:
                rg = region[sel]
                n_r = int(rg.max()) + 1
                R = _group_growth(Yt[sel], rg, n_r) - nat[gi][None]
                if brk is not None:
                    reg_brk = np.zeros(R.shape, bool)
                    np.logical_or.at(reg_brk, rg, brk[sel])
                    R = np.where(reg_brk, np.nan, R)
                wr = shrinkage_weight(R, k)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a window inside a break, or a region never known
                    r_dev = wr * np.nan_to_num(np.nanmean(R[:, -k:], axis=1))
                dev[sel] += r_dev[rg]
                Dg = Dg - R[rg]
            w = shrinkage_weight(Dg, k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows stay NaN -> 0
                own = np.nanmean(Dg[:, -k:], axis=1)
            dev[sel] += w * np.nan_to_num(own)
            if level == "filtered":
                start[sel] += level_noise_adjustment(Dg, Yt[sel, -1], w * np.nan_to_num(own))
    # a series that is new or tiny (e.g. 20-25s just after the 2014 reform) can show growth of
    # several hundred per cent; carrying that forward compounds absurdly, so cap it
    yearly = np.clip(path + dev[:, None], -max_growth, max_growth)
    # a series missing at the origin grows over the gap at the first year's rate
    return np.maximum(np.exp(start[:, None] + gap[:, None] * yearly[:, :1] + np.cumsum(yearly, axis=1)) - 1.0,
                      0.0)


def calibration_errors(forecaster, Y: np.ndarray, t: int, max_horizon: int, n_origins: int = 4,
                       min_history: int = 3, with_origin: bool = False) -> dict[int, tuple[np.ndarray, ...]]:
    """Log errors of ``forecaster(Y, origin, H)`` at earlier origins whose targets are <= ``t``.

    Returns ``{h: (errors, sizes, series_index)}`` pooling the latest ``n_origins`` origins per
    horizon (only data up to ``t`` is touched).

    Parameters
    ----------
    forecaster : callable
        ``f(Y, origin, horizon)`` -> ``(n_series, horizon)`` point forecasts.
    Y : ndarray, shape (n_series, n_years)
        Counts by series and year.
    t : int
        Year index of the forecast origin being calibrated.
    max_horizon : int
        Longest horizon.
    n_origins : int
        Latest earlier origins used per horizon.
    min_history : int
        Years of data an origin needs.
    with_origin : bool
        Also return the origin (year index) of every error, as a fourth array: errors of one
        origin share that year's national and regional shocks (see :mod:`.shared`).

    Returns
    -------
    dict of int to tuple of ndarray
        ``errors`` = ``log(actual + 1) - log(forecast + 1)``, ``sizes`` = count at the origin,
        ``series_index`` (and ``origin`` if asked), pooled over origins (latest first).

    Examples
    --------
    >>> last = lambda Y, t, H: np.repeat(Y[:, t:t + 1], H, axis=1)  # last value repeated
    >>> Y = np.array([[1.0, 2, 3, 4, 5, 6, np.nan]])  # the last year lies after the origin
    >>> errs = calibration_errors(last, Y, t=5, max_horizon=2)
    >>> sorted(errs)
    [1, 2]
    >>> np.round(np.exp(errs[1][0]), 3).tolist()  # (actual + 1) / (forecast + 1), origins 4, 3, 2
    [1.167, 1.2, 1.25]
    >>> errs[2][1].tolist()  # sizes: the count at origins 3 and 2
    [4.0, 3.0]
    >>> calibration_errors(last, Y, t=5, max_horizon=2, with_origin=True)[2][3].tolist()
    [3, 2]
    """
    out: dict[int, tuple[list, list, list, list]] = {}
    first = min_history - 1
    idx = np.arange(len(Y))
    for o in range(t - 1, first - 1, -1):
        H = min(max_horizon, t - o)
        f = forecaster(Y[:, : t + 1], o, H)
        for h in range(1, H + 1):
            e_list, s_list, i_list, o_list = out.setdefault(h, ([], [], [], []))
            if len(e_list) >= n_origins:
                continue
            a = Y[:, o + h]
            e_list.append(np.log(a + 1.0) - np.log(f[:, h - 1] + 1.0))
            s_list.append(Y[:, o])
            i_list.append(idx)
            o_list.append(np.full(len(Y), o))
    keep = 4 if with_origin else 3
    return {h: tuple(np.concatenate(v) for v in lists[:keep]) for h, lists in out.items() if lists[0]}


@register("pooled_trend", data="panel", example=example_setting_table)
class PooledTrendModel(BaseModel):
    """Trend model for every authority at once, pooled towards region and England.

    Parameters
    ----------
    dim : {"setting", "age_group"}
        Column of the input table that splits each authority's plans; it is a dimension of
        the Projection of the same name. A ``"total"`` series is forecast (``share_of`` uses
        it) but is not a cell of the projection: its total is the sum of its cells.
    window : int
        Recent years whose growth deviations are averaged (default 3).
    pooling : {"region", "england", "none"}
        Shrink towards region and England (default), England only, or not at all.
    max_horizon : int
        Longest horizon intervals are calibrated for.
    calibration_origins : int
        Earlier origins per horizon whose errors calibrate the intervals.
    share_of : str, optional
        A value of ``dim`` that is every authority's total (e.g. ``"total"``): the other series
        are then forecast as the pooled total times the pooled trend of their share of it.
    growth : str
        How England's growth is carried forward, one of :data:`~.growth.GROWTH_MODELS`
        (default ``last``: the latest year's growth, as before).
    level : {"last", "filtered"}
        Start from the last census (default, as before) or from each authority's last level with
        its estimated one-off noise filtered out (:func:`level_noise_adjustment`).
    breaks : bool
        Respect the series breaks given to :meth:`fit` (growth across a break is left out);
        without a breaks table this has no effect.
    shared_shocks : bool
        Draws share national and regional shocks (:mod:`~.shared`), so sums of authorities
        (``Projection.aggregate``) have calibrated intervals; each authority's own distribution
        is the same either way. False draws authorities independently (the behaviour before).
    shock_origins : int
        Earlier origins whose errors estimate the shared shocks (default 6, chosen by backtest).

    Attributes
    ----------
    panel_ : SeriesPanel
        The series (area x group) by year.
    calibration_ : SharedShockCalibration
        Interval calibration from held-out years before the origin (each authority's error
        distribution and the national and regional shock variances).

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp()
    >>> total = t.age[(t.age["age_group"] == "total") & (t.age["year"] <= 2019)]
    >>> m = PooledTrendModel(dim="age_group").fit(total)
    >>> p = m.project(years=2, n_draws=200, seed=1)
    >>> p.draws.shape, p.dims  # a panel of totals only: one cell per authority
    ((200, 2, 150), ['area'])
    >>> bool(p.summary()["mean"].iloc[0] > total[total["year"] == 2019]["count"].sum())
    True
    """

    def __init__(self, dim: str = "setting", window: int = 3, pooling: str = "region",
                 max_horizon: int = 5, calibration_origins: int = 4, share_of: str | None = None,
                 growth: str = "last", level: str = "last", breaks: bool = True, shared_shocks: bool = True,
                 shock_origins: int = FROZEN_SHOCK_ORIGINS) -> None:
        if pooling not in {"region", "england", "none"}:
            raise ModelError(f"pooling must be 'region', 'england' or 'none', not {pooling!r}")
        if growth not in GROWTH_MODELS:
            raise ModelError(f"growth must be one of {GROWTH_MODELS}, not {growth!r}")
        if level not in {"last", "filtered"}:
            raise ModelError(f"level must be 'last' or 'filtered', not {level!r}")
        self.growth = growth
        self.level = level
        self.breaks = breaks
        self.shared_shocks = shared_shocks
        self.shock_origins = shock_origins
        self.share_of = share_of
        self.dim = dim
        self.window = window
        self.pooling = pooling
        self.max_horizon = max_horizon
        self.calibration_origins = calibration_origins

    name = "pooled_trend"

    @property
    def display_name(self) -> str:
        return self.name

    def forecast_array(self, Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
        """Point forecasts from an array (used by the backtest and the calibration)."""
        p = self.panel_
        region = p.region if self.pooling == "region" else None
        brk = p.breaks if self.breaks else None
        f = pooled_growth_forecast(Y, t, horizon, p.group, region, self.window, self.pooling, growth=self.growth,
                                   level=self.level, breaks=brk)
        if self.share_of is None:
            return f
        # a part (e.g. special schools) = forecast of the whole x pooled trend of its share of it:
        # the share moves slowly and the whole is forecast well, so the part borrows both
        whole = self._whole_index()
        has = whole >= 0
        share = (Y[has] + 1.0) / (Y[whole[has]] + 1.0) * 1000.0
        fs = pooled_growth_forecast(share, t, horizon, p.group[has], None if region is None else region[has],
                                    self.window, self.pooling, growth=self.growth, level=self.level,
                                    breaks=None if brk is None else brk[has] | brk[whole[has]])
        out = f.copy()
        out[has] = np.maximum(fs / 1000.0 * (f[whole[has]] + 1.0) - 1.0, 0.0)
        return out

    def _whole_index(self) -> np.ndarray:
        """Row of each series' authority total (the ``share_of`` value); -1 for the totals themselves."""
        keys = self.panel_.keys
        rows = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["area", self.dim]]))
        look = pd.MultiIndex.from_arrays([keys["area"], np.full(len(keys), self.share_of)])
        whole = rows.reindex(look).to_numpy()
        if np.isnan(whole).any():
            raise SenForecastError(f"share_of={self.share_of!r}: some authorities have no {self.share_of!r} row "
                                   f"in column {self.dim!r}")
        whole = whole.astype(int)
        whole[keys[self.dim].to_numpy() == self.share_of] = -1
        return whole

    def fit(self, table: pd.DataFrame, population: pd.DataFrame | None = None,
            breaks: pd.DataFrame | None = None) -> "PooledTrendModel":
        """Fit on a tidy table ``year, area, <dim>, count`` (+ optional ``region``).

        Parameters
        ----------
        table : DataFrame
            History of every authority; ``region`` (if present) defines the middle level.
        population : DataFrame, optional
            ``year, area, count`` (history and projection): then prevalence is trended and
            multiplied by the projected population.
        breaks : DataFrame, optional
            Series breaks ``year, series, kind`` (e.g. :data:`~.breaks.SERIES_BREAKS`).
        """
        self.panel_ = SeriesPanel.from_table(table, self.dim, population=population, breaks=breaks)
        self.last_census_ = int(self.panel_.years[-1])
        Y = self.panel_.values
        t = Y.shape[1] - 1
        self.calibration_ = SharedShockCalibration.fit(
            calibration_errors(self.forecast_array, Y, t, self.max_horizon,
                               max(self.calibration_origins, self.shock_origins), with_origin=True),
            self.panel_.group, self.panel_.region, self.max_horizon, marginal_origins=self.calibration_origins)
        return self

    def project(self, years: int | Sequence[int] = 3, population: pd.DataFrame | None = None,
                scenario=None, n_draws: int = 1000, seed: int | None = None) -> Projection:
        """Simulate the next ``years`` censuses for every authority and group.

        Returns
        -------
        Projection
            Cells ``area`` and ``dim`` (``setting`` or ``age_group``; no ``"total"`` cell);
            history attached. The model applies no scenario (aggregate trends only).
        """
        yrs = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        p = self.panel_
        H = int(yrs[-1]) - self.last_census_
        if H > self.max_horizon:
            raise ModelError(f"intervals are calibrated up to {self.max_horizon} years ahead; "
                             f"set max_horizon={H} when creating the model")
        Y = p.values
        point = self.forecast_array(Y, Y.shape[1] - 1, H)
        rng = np.random.default_rng(seed)
        draws = self.calibration_.draws(point, last_known(Y)[0], n_draws, rng, shared=self.shared_shocks)
        draws = p.to_counts(draws, np.arange(self.last_census_ + 1, int(yrs[-1]) + 1), population)
        keep = p.part_rows()
        draws = draws[:, yrs - self.last_census_ - 1][:, :, keep]
        return Projection(draws, yrs, p.cells(keep), history=p.history(keep),
                          meta=self._meta(seed=seed, n_draws=n_draws, scenario=scenario, window=self.window,
                                          pooling=self.pooling, growth=self.growth, level=self.level,
                                          shared_shocks=self.shared_shocks))
