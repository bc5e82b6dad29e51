"""Age-structured flow model on aggregate counts: a bulge in one age group reaches the next.

With only counts by age group (0-4, 5-10, 11-15, 16-19, 20-25) each year, the plans in group g
next January are modelled as

    N[g, t+1] = stay[g] * N[g, t] + move_up[g] * N[g-1, t]

``move_up[g]`` is the continuation rate from the group below (children in its oldest year
who keep their plan and move up, per child in that group) and ``stay[g]`` the rate at which
the group keeps its own plans plus its new plans (inflow) relative to its size. Both are
estimated every year by a cross-sectional regression across all authorities of the growth
ratio ``N[g, t+1] / N[g, t]`` on the ratio ``N[g-1, t] / N[g, t]`` (intercept = stay,
slope = move_up, both kept non-negative), which is what separates a bulge from a trend:
an authority with many 5-10s for its 11-15s sees its 11-15s grow faster. Forecasts use the
latest year's rates; each authority's persistent departure from them is shrunk towards zero
with the same empirical-Bayes weight as the pooled trend model. Total = sum of age groups.

Missing counts are not zeros: rates are estimated from authorities known in both years; an
age group missing at the origin starts from its last known count; a group whose group below
is unknown (and has a continuation rate) is unknown too; a group never known stays missing.
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
from .examples import example_age_table
from .frozen import FROZEN_SHOCK_ORIGINS
from .shared import SharedShockCalibration
from .pooled import MAX_LOG_GROWTH, calibration_errors, last_known, shrinkage_weight
from ...io.england import AGE_GROUPS
from .series import SeriesPanel

AGE_WIDTH = {"0-4": 5, "5-10": 6, "11-15": 5, "16-19": 4, "20-25": 6}


def flow_rates(N: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group (stay, move_up) from year index ``s`` to ``s + 1`` across authorities.

    Parameters
    ----------
    N : ndarray, shape (n_areas, n_groups, n_years)
        Counts by age group, youngest first; NaN = missing.

    Returns
    -------
    stay, move_up : ndarray, shape (n_groups,)  (move_up[0] = 0; NaN where not estimable)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> young = rng.uniform(50, 150, 300); old = rng.uniform(50, 150, 300)
    >>> N = np.zeros((300, 2, 2))  # areas x groups x years
    >>> N[:, 0, 0] = N[:, 0, 1] = young
    >>> N[:, 1, 0], N[:, 1, 1] = old, 0.8 * old + 0.15 * young
    >>> stay, up = flow_rates(N, 0)
    >>> np.round([stay[1], up[1]], 3).tolist()
    [0.8, 0.15]
    """
    n_areas, n_groups, _ = N.shape
    stay = np.full(n_groups, np.nan)
    up = np.zeros(n_groups)
    for g in range(n_groups):
        cur, nxt = N[:, g, s], N[:, g, s + 1]
        ok = np.isfinite(cur) & np.isfinite(nxt) & (cur > 0)
        if g > 0:
            below = N[:, g - 1, s]
            ok &= np.isfinite(below)
        if ok.sum() < 5:
            continue
        wts = np.sqrt(cur[ok])  # big authorities' ratios are less noisy
        ratio = nxt[ok] / cur[ok]
        if g == 0:
            stay[g] = np.average(ratio, weights=wts**2)
            continue
        x = below[ok] / cur[ok]
        X = np.column_stack([np.ones(ok.sum()), x]) * wts[:, None]
        coef, *_ = np.linalg.lstsq(X, ratio * wts, rcond=None)
        if coef[1] < 0:  # no detectable continuation this year: all growth from the group itself
            coef = np.array([np.average(ratio, weights=wts**2), 0.0])
        elif coef[0] < 0:
            coef = np.array([0.0, np.sum(x * ratio * wts**2) / np.sum(x**2 * wts**2)])
        stay[g], up[g] = coef
    return stay, up


def origin_state(N: np.ndarray, t: int) -> np.ndarray:
    """Counts by area and age group at year index ``t``, a missing cell replaced by its last
    known count (never by 0); cells never known stay NaN.

    Examples
    --------
    >>> N = np.array([[[5.0, 6.0], [7.0, np.nan]]])  # 1 area, 2 groups, 2 years
    >>> origin_state(N, 1).tolist()
    [[6.0, 7.0]]
    """
    n_areas, n_groups, _ = N.shape
    flat = N[:, :, : t + 1].reshape(n_areas * n_groups, t + 1)
    return last_known(flat)[0].reshape(n_areas, n_groups)


def flow_forecast_cube(N: np.ndarray, t: int, horizon: int, window: int = 3, rate_years: int = 1) -> np.ndarray:
    """Forecast counts by age group (n_areas, n_groups, horizon) from data up to year index ``t``.

    Parameters
    ----------
    N : ndarray, shape (n_areas, n_groups, n_years)
        Counts by age group, youngest first; NaN = missing.
    t : int
        Year index of the origin (last census used; later years are ignored).
    horizon : int
        Years ahead.
    window : int
        Recent years whose residuals give each authority's shrunk departure from the rates.
    rate_years : int
        Latest years whose (stay, move_up) rates are averaged.

    Returns
    -------
    ndarray, shape (n_areas, n_groups, horizon)
        Non-negative forecasts.

    Examples
    --------
    Counts that follow the flow equation exactly (young group grows 5% a year; the older
    keeps 80% of itself and takes 15% of the young) are forecast exactly:

    >>> rng = np.random.default_rng(0)
    >>> N = np.zeros((200, 2, 6))  # areas x groups x years
    >>> N[:, :, 0] = rng.uniform(50, 150, (200, 2))
    >>> for s in range(5):
    ...     N[:, 0, s + 1] = 1.05 * N[:, 0, s]
    ...     N[:, 1, s + 1] = 0.8 * N[:, 1, s] + 0.15 * N[:, 0, s]
    >>> f = flow_forecast_cube(N, t=4, horizon=1)
    >>> f.shape, bool(np.allclose(f[:, :, 0], N[:, :, 5]))
    ((200, 2, 1), True)
    """
    n_areas, n_groups, _ = N.shape
    first = max(0, t - window - rate_years)
    rates = {s: flow_rates(N, s) for s in range(first, t)}
    # latest rates (mean over the last rate_years), falling back to older years where missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group not yet published (20-25 pre-2015)
        stay = np.nanmean([rates[s][0] for s in range(t - rate_years, t)], axis=0)
        up = np.nanmean([rates[s][1] for s in range(t - rate_years, t)], axis=0)
    stay = np.where(np.isfinite(stay), stay, 1.0)
    # each authority's log residual from the flow prediction in recent years, shrunk (EB)
    resid = np.full((n_areas, n_groups, t - first), np.nan)
    for j, s in enumerate(range(first, t)):
        st, mu = rates[s]
        pred = np.where(np.isfinite(st), st, 1.0)[None] * N[:, :, s]
        pred[:, 1:] += mu[None, 1:] * N[:, :-1, s]
        resid[:, :, j] = np.log(N[:, :, s + 1] + 1.0) - np.log(pred + 1.0)
    adj = np.zeros((n_areas, n_groups))
    for g in range(n_groups):
        R = resid[:, g, :]
        if np.isfinite(R).sum() == 0:
            continue
        w = shrinkage_weight(R, window)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an area with no known residual: no departure
            adj[:, g] = w * np.nan_to_num(np.nanmean(R[:, -window:], axis=1))
    out = np.empty((n_areas, n_groups, horizon))
    cur = origin_state(N, t)
    for h in range(horizon):
        nxt = stay[None] * cur
        # an unknown group below adds an unknown inflow (not 0), unless nothing moves up from it
        nxt[:, 1:] += np.where(up[None, 1:] == 0, 0.0, up[None, 1:] * cur[:, :-1])
        nxt = np.maximum((nxt + 1.0) * np.exp(adj) - 1.0, 0.0)
        # same guard as the trend model: new, tiny groups (20-25s after 2014) cannot compound
        lo, hi = (cur + 1.0) * np.exp(-MAX_LOG_GROWTH) - 1.0, (cur + 1.0) * np.exp(MAX_LOG_GROWTH) - 1.0
        nxt = np.where(np.isfinite(cur), np.clip(nxt, np.maximum(lo, 0.0), hi), nxt)
        out[:, :, h] = nxt
        cur = nxt
    return out


@register("age_flow", data="panel", example=example_age_table)
class AgeFlowModel(BaseModel):
    """Age-structured flow model for every authority at once (see module notes).

    Parameters
    ----------
    window : int
        Years of each authority's departure from the flow rates that are averaged (shrunk).
    rate_years : int
        Latest years whose flow rates are averaged for the projection (default 1: the latest).
    max_horizon, calibration_origins : int
        As for :class:`PooledTrendModel`.
    shared_shocks : bool
        Draws share national and regional shocks, as for :class:`PooledTrendModel`.
    shock_origins : int
        Earlier origins whose errors estimate the shared shocks.

    Attributes
    ----------
    stay_, move_up_ : Series
        Latest flow rates by age group.
    calibration_ : SharedShockCalibration

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp()
    >>> m = AgeFlowModel().fit(t.age[t.age["year"] <= 2019])
    >>> bool(m.move_up_["11-15"] > 0)
    True
    >>> m.project(years=3, n_draws=100, seed=0).aggregate("age_group").cells["age_group"].tolist()
    ['0-4', '11-15', '16-19', '20-25', '5-10']
    """

    name = "age_flow"

    @property
    def display_name(self) -> str:
        return self.name

    def __init__(self, window: int = 3, rate_years: int = 1, max_horizon: int = 5, calibration_origins: int = 4,
                 shared_shocks: bool = True, shock_origins: int = FROZEN_SHOCK_ORIGINS):
        self.shared_shocks = shared_shocks
        self.shock_origins = shock_origins
        self.window = window
        self.rate_years = rate_years
        self.max_horizon = max_horizon
        self.calibration_origins = calibration_origins

    def _cube_index(self, panel: SeriesPanel) -> tuple[np.ndarray, np.ndarray, list[str]]:
        areas = pd.Index(pd.unique(panel.keys["area"]))
        groups = [g for g in AGE_GROUPS if g in set(panel.keys[panel.dim])]
        gi = panel.keys[panel.dim].map({g: i for i, g in enumerate(groups)})
        return areas.get_indexer(panel.keys["area"]), gi.to_numpy(), groups

    def for_panel(self, panel: SeriesPanel) -> "AgeFlowModel":
        """Set the panel whose rows :meth:`forecast_array` forecasts, without fitting rates
        (a backtest forecasts from many origins of one panel); returns self.

        Examples
        --------
        >>> from senforecast.england import load_england_ehcp
        >>> panel = SeriesPanel.from_table(load_england_ehcp().age, "age_group")
        >>> m = AgeFlowModel().for_panel(panel)
        >>> m.forecast_array(panel.values, 5, 2).shape == (len(panel.values), 2)
        True
        """
        self.panel_ = panel
        self._index = self._cube_index(panel)
        return self

    def forecast_array(self, Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
        """Point forecasts of every panel row (age groups, and 'total' as their scaled sum)."""
        ai, gi, groups = self._index
        n_areas = ai.max() + 1
        is_group = ~np.isnan(gi.astype(float))
        N = np.full((n_areas, len(groups), Y.shape[1]), np.nan)
        N[ai[is_group], gi[is_group].astype(int)] = Y[is_group]
        cube = flow_forecast_cube(N, t, horizon, self.window, self.rate_years)
        out = np.full((len(Y), horizon), np.nan)
        out[is_group] = cube[ai[is_group], gi[is_group].astype(int)]
        tot_rows = np.flatnonzero(~is_group)
        if len(tot_rows):
            # published totals can differ from the sum of age groups: grow the total like the sum
            # of the groups that have a forecast (the same groups now and ahead)
            has = np.isfinite(cube[:, :, :1])
            parts_now = np.where(has[:, :, 0], origin_state(N, t), 0.0).sum(axis=1)
            parts_fc = np.where(has, cube, 0.0).sum(axis=1)
            growth = (parts_fc + 1.0) / (parts_now[:, None] + 1.0)
            growth[~has.any(axis=(1, 2))] = np.nan
            out[tot_rows] = last_known(Y, t)[0][tot_rows][:, None] * growth[ai[tot_rows]]
        return out

    def fit(self, table: pd.DataFrame) -> "AgeFlowModel":
        """Fit on a tidy ``year, area, age_group, count`` table (all age groups, optionally ``total``)."""
        if "age_group" not in table.columns:
            raise SenForecastError("AgeFlowModel needs an 'age_group' column (0-4, 5-10, 11-15, 16-19, 20-25)")
        self.for_panel(SeriesPanel.from_table(table, "age_group"))
        self.last_census_ = int(self.panel_.years[-1])
        Y = self.panel_.values
        t = Y.shape[1] - 1
        ai, gi, groups = self._index
        N = np.full((ai.max() + 1, len(groups), Y.shape[1]), np.nan)
        ok = ~np.isnan(gi.astype(float))
        N[ai[ok], gi[ok].astype(int)] = Y[ok]
        stay, up = flow_rates(N, t - 1)
        self.stay_ = pd.Series(stay, index=groups, name="stay")
        self.move_up_ = pd.Series(up, index=groups, name="move_up")
        self.calibration_ = SharedShockCalibration.fit(
            calibration_errors(self.forecast_array, Y, t, self.max_horizon,
                               max(self.calibration_origins, self.shock_origins), with_origin=True),
            self.panel_.group, self.panel_.region, self.max_horizon, marginal_origins=self.calibration_origins)
        return self

    def project(self, years: int | Sequence[int] = 3, population=None, scenario=None, n_draws: int = 1000,
                seed: int | None = None) -> Projection:
        """Simulate census ``years``; cells ``area`` x ``age_group`` (no ``"total"`` cell: the
        total is the sum of the age groups). The model applies no scenario and no population."""
        yrs = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        if population is not None:
            raise SenForecastError("AgeFlowModel works on counts only: it takes no population")
        p = self.panel_
        H = int(yrs[-1]) - self.last_census_
        if H > self.max_horizon:
            raise ModelError(f"intervals are calibrated up to {self.max_horizon} years ahead")
        point = self.forecast_array(p.values, p.values.shape[1] - 1, H)
        draws = self.calibration_.draws(point, last_known(p.values)[0], n_draws, np.random.default_rng(seed),
                                        shared=self.shared_shocks)
        keep = p.part_rows()
        draws = draws[:, yrs - self.last_census_ - 1][:, :, keep]
        return Projection(draws, yrs, p.cells(keep), history=p.history(keep),
                          meta=self._meta(seed=seed, n_draws=n_draws, scenario=scenario, window=self.window,
                                          shared_shocks=self.shared_shocks))
