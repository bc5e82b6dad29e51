"""Rolling-origin backtest over every authority, with naive baselines computed in the same run.

For each origin T (last census used), every model forecasts T+1..T+H from data up to T only;
its 80% and 95% intervals come from errors at origins before T (see
:mod:`senforecast.models.panel.intervals`), for baselines and models alike. Scores are pooled over
authorities and origins per target (total, age group, setting type) and horizon.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .engine import RESULT_COLUMNS, rolling_origin, score, skill_vs_naive
from ..core.errors import SenForecastError
from ..models.panel.flow import AgeFlowModel
from ..models.panel.intervals import GroupedCalibration
from ..models.panel.pooled import PooledTrendModel, calibration_errors, last_known
from ..io.england import SPECIALIST_SETTINGS
from ..models.panel.breaks import SERIES_BREAKS
from ..models.panel.frozen import FROZEN_SHOCK_ORIGINS, FROZEN_VARIANTS
from ..models.panel.series import SeriesPanel
from ..models.panel.shared import SharedShockCalibration

Forecaster = Callable[[np.ndarray, int, int], np.ndarray]


def _linear(Y: np.ndarray, t: int, horizon: int, k: int, log: bool = False) -> np.ndarray:
    k = max(2, min(k, t + 1))  # shorter line when the history is shorter (calibration origins)
    seg = Y[:, t - k + 1: t + 1]
    if log:
        seg = np.log(seg + 1.0)
    x = np.arange(k) - (k - 1) / 2
    mean = seg.mean(axis=1)
    slope = (seg - mean[:, None]) @ x / (x @ x)
    f = mean[:, None] + slope[:, None] * ((k - 1) / 2 + np.arange(1, horizon + 1))[None]
    if log:
        f = np.exp(f) - 1.0
    return np.maximum(f, 0.0)


def last_value(Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """Naive: the last census repeated.

    Examples
    --------
    >>> last_value(np.array([[1.0, 2, 3]]), 2, 2).tolist()
    [[3.0, 3.0]]
    """
    return np.repeat(Y[:, t: t + 1], horizon, axis=1)


def linear_trend_3(Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """Naive: least-squares line through the last 3 censuses, extrapolated (floored at 0).

    Examples
    --------
    >>> linear_trend_3(np.array([[5.0, 1, 2, 3]]), 3, 2).tolist()
    [[4.0, 5.0]]
    """
    return _linear(Y, t, horizon, 3)


def linear_trend_5(Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """Naive: least-squares line through the last 5 censuses, extrapolated (floored at 0).

    Parameters
    ----------
    Y : ndarray, shape (n_series, n_years)
        Counts by series and census.
    t : int
        Column of the origin (last census used).
    horizon : int
        Years ahead to forecast.

    Returns
    -------
    ndarray, shape (n_series, horizon)

    Examples
    --------
    >>> linear_trend_5(np.array([[9.0, 2, 4, 6, 8, 10], [0.0, 10, 8, 6, 4, 2]]), 5, 2).tolist()
    [[12.0, 14.0], [0.0, 0.0]]
    """
    return _linear(Y, t, horizon, 5)


def log_linear_trend_5(Y: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """Naive: least-squares line through log(count + 1) of the last 5 censuses.

    Examples
    --------
    >>> np.round(log_linear_trend_5(np.array([[1.0, 3, 7, 15, 31]]), 4, 1), 6).tolist()
    [[63.0]]
    """
    return _linear(Y, t, horizon, 5, log=True)


BASELINES: dict[str, Forecaster] = {
    "last_value": last_value,
    "linear_3": linear_trend_3,
    "linear_5": linear_trend_5,
    "log_linear_5": log_linear_trend_5,
}


@dataclass
class BacktestResult:
    """Scores and forecasts of a backtest.

    Attributes
    ----------
    scores : DataFrame
        ``target, horizon, model, n, wape, bias, coverage80, coverage95, interval_score80``.
    forecasts : DataFrame
        ``origin, horizon, area, target, model, actual, forecast, lo80, hi80, lo95, hi95``.
    totals : DataFrame
        Region and England sums (see :func:`backtest_levels`); empty when not computed.

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> r = run_england_backtest(load_england_ehcp().age, origins=[2018], horizons=[1])
    >>> total = r.scores[r.scores["target"] == "total"]
    >>> bool((total["n"] == r.forecasts["area"].nunique()).all())  # every authority scored
    True
    >>> bool(total[["coverage80", "coverage95"]].stack().between(0, 1).all())
    True
    >>> r.versus_best_naive(["pooled_trend"])[["target", "model", "best_naive"]].columns.tolist()
    ['target', 'model', 'best_naive']
    """

    scores: pd.DataFrame
    forecasts: pd.DataFrame
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def results(self) -> pd.DataFrame:
        """Authorities and the region and England totals (shared shocks) as the one result frame
        of every backtest (:data:`~senforecast.evaluation.engine.RESULT_COLUMNS`): ``level``
        authority / region / national, ``group`` the authority code, region name or England;
        ``crps`` NaN (no draws are kept).

        Examples
        --------
        >>> from senforecast.england import load_england_ehcp
        >>> r = run_england_backtest(load_england_ehcp().age, origins=[2018], horizons=[1], n_draws=100)
        >>> res = r.results
        >>> sorted(res["level"].unique()), sorted(res.loc[res["level"] == "national", "model"].unique())
        (['authority', 'national', 'region'], ['age_flow', 'own_trend', 'pooled_trend'])
        """
        a = self.forecasts.assign(level="authority", group=self.forecasts["area"])
        parts = [a]
        if len(self.totals):
            t = self.totals[self.totals["dependence"] == "shared"]
            parts.append(t.assign(group=t["area"]))
        out = pd.concat([p_.assign(crps=np.nan)[list(RESULT_COLUMNS)] for p_ in parts], ignore_index=True)
        return out

    def coverage_by_level(self, dependence: str = "shared", models: Sequence[str] | None = None,
                          pool_horizons: bool = False, confidence: float = 0.9) -> pd.DataFrame:
        """Interval coverage of authorities, region totals and England totals.

        Parameters
        ----------
        dependence : {"shared", "independent"}
            How the totals' draws combine authorities (authority rows do not depend on it).
        models : sequence of str, optional
            Models kept (default all).
        pool_horizons : bool
            One row per target, model and level over all horizons (``horizon`` = 0).
        confidence : float
            Level of the binomial (Clopper-Pearson) interval of the 80% coverage.

        Returns
        -------
        DataFrame
            ``target, model, horizon, level, n, covered80, coverage80, coverage80_lo,
            coverage80_hi, coverage95``. ``n`` counts authorities (or regions, or England) x
            origins; the binomial interval treats them as independent, which they are not
            (the same year's shock hits every region), so it is optimistic.

        Examples
        --------
        >>> from senforecast.england import load_england_ehcp
        >>> r = run_england_backtest(load_england_ehcp().age, origins=[2018], horizons=[1], n_draws=200)
        >>> c = r.coverage_by_level(models=["pooled_trend"])
        >>> c[c["target"] == "total"][["level", "n"]].values.tolist()
        [['authority', 150], ['region', 9], ['national', 1]]
        """
        if dependence not in DEPENDENCE:
            raise SenForecastError(f"dependence must be one of {DEPENDENCE}, not {dependence!r}")
        a = self.forecasts.assign(level="authority")
        parts = [a]
        if len(self.totals):
            parts.append(self.totals[self.totals["dependence"] == dependence])
        cols = ["target", "model", "horizon", "level", "actual", "lo80", "hi80", "lo95", "hi95"]
        d = pd.concat([p[cols] for p in parts], ignore_index=True)
        if models is not None:
            d = d[d["model"].isin(models)]
        if pool_horizons:
            d = d.assign(horizon=0)
        d["in80"] = (d["actual"] >= d["lo80"]) & (d["actual"] <= d["hi80"])
        d["in95"] = (d["actual"] >= d["lo95"]) & (d["actual"] <= d["hi95"])
        out = d.groupby(["target", "model", "horizon", "level"], sort=False).agg(
            n=("in80", "size"), covered80=("in80", "sum"), coverage95=("in95", "mean")).reset_index()
        out["coverage80"] = out["covered80"] / out["n"]
        out["coverage80_lo"], out["coverage80_hi"] = binomial_interval(out["covered80"], out["n"], confidence)
        order = {"authority": 0, "region": 1, "national": 2}
        out = out.sort_values(["target", "model", "horizon", "level"], key=lambda c: c.map(order) if c.name == "level"
                              else c, kind="stable")
        return out[["target", "model", "horizon", "level", "n", "covered80", "coverage80", "coverage80_lo",
                    "coverage80_hi", "coverage95"]].reset_index(drop=True)

    def versus_best_naive(self, models: Sequence[str] | None = None) -> pd.DataFrame:
        """Each model's WAPE against the best naive baseline per target and horizon.

        Returns
        -------
        DataFrame
            ``target, horizon, model, wape, best_naive, best_naive_wape, improvement``
            (relative: 0.15 = 15% lower WAPE than the best baseline), ``coverage80``, ``coverage95``.
        """
        out = skill_vs_naive(self.scores, list(BASELINES), ["target", "horizon"], "wape", skill="improvement")
        out = out[~out["model"].isin(BASELINES) & out["best_naive"].notna()]
        if models is not None:
            out = out[out["model"].isin(models)]
        return out[["target", "horizon", "model", "n", "wape", "best_naive", "best_naive_wape", "improvement",
                    "bias", "coverage80", "coverage95"]].reset_index(drop=True)


def binomial_interval(k, n, confidence: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of a proportion ``k / n``.

    Examples
    --------
    >>> lo, hi = binomial_interval([8], [10], 0.9)  # exact 90% interval of 8 out of 10
    >>> round(float(lo[0]), 2), round(float(hi[0]), 2)
    (0.49, 0.96)
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    a = (1.0 - confidence) / 2
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, n - k), 1.0)
    return lo, hi


SCORE_COLUMNS = ["target", "horizon", "model", "n", "wape", "bias", "coverage80", "coverage95", "interval_score80"]


def _score(forecasts: pd.DataFrame) -> pd.DataFrame:
    """The engine's scores of authority forecasts, per target, horizon and model."""
    return score(forecasts, ["target", "horizon", "model"])[SCORE_COLUMNS]


def _intervals(cal: GroupedCalibration | SharedShockCalibration, point: np.ndarray,
               size: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for name, lo_q, hi_q in (("80", 0.10, 0.90), ("95", 0.025, 0.975)):
        out["lo" + name], out["hi" + name] = cal.bounds(point, size, lo_q, hi_q)
    return out


def specialist_total(setting: pd.DataFrame) -> pd.DataFrame:
    """Special schools + resourced provision/units + independent as one ``specialist`` series.

    Examples
    --------
    >>> t = pd.DataFrame({"year": 2020, "area": "A", "setting": ["special_school", "independent",
    ...                   "resourced_provision_unit", "mainstream"], "count": [10.0, 2, 3, 50]})
    >>> specialist_total(t)[["setting", "count"]].values.tolist()
    [['specialist', 15.0]]
    """
    part = setting[setting["setting"].isin(SPECIALIST_SETTINGS)]
    keys = [c for c in part.columns if c not in {"setting", "count"}]
    g = part.assign(_ok=part["count"].notna()).groupby(keys, sort=True, dropna=False)
    out = g["count"].sum().reset_index()
    complete = (g["_ok"].sum() == len(SPECIALIST_SETTINGS)).to_numpy()  # every part present
    out.loc[~complete, "count"] = np.nan
    out.insert(len(keys), "setting", "specialist")
    return out[[*keys[:2], "setting", "count", *keys[2:]]] if len(keys) > 2 else out[[*keys, "setting", "count"]]


def backtest_panel(panel: SeriesPanel, forecasters: Mapping[str, Forecaster], origins: Sequence[int],
                   horizons: Sequence[int] = (1, 2, 3), calibration_origins: int = 4) -> pd.DataFrame:
    """Forecast every series of a panel from each origin with each forecaster (long table).

    Only data up to the origin is used for both the forecast and its interval calibration.

    Parameters
    ----------
    panel : SeriesPanel
        The series (one per area and target).
    forecasters : mapping of str to callable
        Name -> ``f(Y, t, horizon)`` returning ``(n_series, horizon)`` point forecasts
        (e.g. :data:`BASELINES`).
    origins : sequence of int
        Census years forecast from (years not in the panel are skipped).
    horizons : sequence of int
        Years ahead kept (forecasts past the panel's last year are dropped).
    calibration_origins : int
        Earlier origins per horizon whose errors calibrate the intervals.

    Returns
    -------
    DataFrame
        ``origin, horizon, area, target, model, actual, forecast, lo80, hi80, lo95, hi95``.

    Examples
    --------
    Straight-line series: a line through the last three censuses is exact (and so are its
    calibrated intervals), the last value lags behind:

    >>> rows = [{"year": y, "area": a, "setting": "total", "count": float(b + s * (y - 2012))}
    ...         for a, b, s in [("A", 10, 2), ("B", 50, 5), ("C", 30, -1)] for y in range(2012, 2022)]
    >>> panel = SeriesPanel.from_table(pd.DataFrame(rows), "setting")
    >>> fc = backtest_panel(panel, {"last_value": last_value, "linear_3": linear_trend_3},
    ...                     origins=[2019, 2020], horizons=[1, 2])
    >>> len(fc)  # 3 areas x 2 models x (2 horizons from 2019 + 1 from 2020)
    18
    >>> err = (fc["forecast"] - fc["actual"]).abs().groupby(fc["model"]).max()
    >>> float(err["linear_3"]) < 1e-9, float(err["last_value"]) > 0
    (True, True)
    """
    return backtest_levels(panel, forecasters, origins, horizons, calibration_origins, n_draws=0)[0]


DEPENDENCE = ("independent", "shared")
"""How draws of different authorities relate when summed: independently (before shared shocks)
or through shared national and regional shocks (:mod:`senforecast.models.panel.shared`)."""


def backtest_levels(panel: SeriesPanel, forecasters: Mapping[str, Forecaster], origins: Sequence[int],
                    horizons: Sequence[int] = (1, 2, 3), calibration_origins: int = 4, n_draws: int = 1000,
                    seed: int = 0, totals_for: Sequence[str] | None = None,
                    shock_origins: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest every series and the sums of series by region and for England.

    Authorities are scored as in :func:`backtest_panel`; region and England totals (sums of the
    authorities' forecasts) get intervals from ``n_draws`` joint draws, once with independent
    authorities and once with shared national and regional shocks (the same random numbers).

    Parameters
    ----------
    panel, forecasters, origins, horizons, calibration_origins
        As for :func:`backtest_panel`.
    n_draws : int
        Joint draws per origin and model (0: authorities only).
    seed : int
        Seed of the draws (each origin and model gets its own stream).
    totals_for : sequence of str, optional
        Forecasters whose totals are computed (default all).
    shock_origins : int, optional
        Earlier origins per horizon whose errors estimate the shared shocks (default
        ``calibration_origins``; each series' own distribution always uses ``calibration_origins``).

    Returns
    -------
    authorities : DataFrame
        As :func:`backtest_panel`.
    totals : DataFrame
        ``origin, horizon, level`` (region / national), ``area`` (region name or England),
        ``target, model, dependence`` (independent / shared), ``n_areas, actual, forecast,
        lo80, hi80, lo95, hi95``. A sum covers the authorities with an actual and a forecast.

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp().age
    >>> panel = SeriesPanel.from_table(t[t["age_group"] == "total"], "age_group")
    >>> _, totals = backtest_levels(panel, {"last_value": last_value}, origins=[2018], horizons=[1], n_draws=200)
    >>> totals.groupby(["level", "dependence"]).size().to_dict()  # 9 regions + England
    {('national', 'independent'): 1, ('national', 'shared'): 1, ('region', 'independent'): 9, ('region', 'shared'): 9}
    >>> w = (totals["hi80"] - totals["lo80"]).groupby(totals["dependence"]).sum()
    >>> bool(w["shared"] > w["independent"])  # shared shocks widen the totals' intervals
    True
    """
    Y = panel.values
    years = list(panel.years)
    H = max(horizons)
    regions = np.asarray(pd.factorize(panel.keys["region"], sort=True)[1])
    group_names = np.asarray(pd.factorize(panel.keys[panel.dim], sort=True)[1])
    totals: list[pd.DataFrame] = []

    def step(_: int, origin: int, kept: list[int]) -> list[pd.DataFrame]:
        # the panel's censuses are consecutive years, so the horizon h is the column t + h
        t = years.index(origin)
        frames = []
        for k, (name, fc) in enumerate(forecasters.items()):
            point = fc(Y, t, H)
            if not np.isfinite(point).any():  # e.g. the age-flow model on a panel without age groups
                continue
            n_cal = max(calibration_origins, shock_origins or 0)
            errs = calibration_errors(fc, Y, t, H, n_cal, with_origin=True)
            cal = SharedShockCalibration.fit(errs, panel.group, panel.region, H, marginal_origins=calibration_origins)
            iv = _intervals(cal, point, last_known(Y, t)[0])
            for h in kept:
                if t + h >= len(years):
                    continue
                f = pd.DataFrame({"origin": origin, "horizon": h, "area": panel.keys["area"].to_numpy(),
                                  "target": panel.keys[panel.dim].to_numpy(), "model": name,
                                  "actual": Y[:, t + h], "forecast": point[:, h - 1]})
                for key, v in iv.items():
                    f[key] = v[:, h - 1]
                frames.append(f)
            if n_draws <= 0 or (totals_for is not None and name not in totals_for):
                continue
            for dep in DEPENDENCE:
                rng = np.random.default_rng([seed, origin, k])  # same numbers for both: paired
                draws = cal.draws(point, Y[:, t], n_draws, rng, shared=dep == "shared")
                tot = _sum_levels(Y, t, point, draws, horizons, panel.group, panel.region, group_names, regions)
                if len(tot):
                    totals.append(tot.assign(origin=origin, model=name, dependence=dep))
        return frames

    frames = rolling_origin([o for o in origins if o in years], horizons, int(years[-1]), step)
    out = pd.concat(frames, ignore_index=True)
    out = out[np.isfinite(out["actual"]) & np.isfinite(out["forecast"])].reset_index(drop=True)
    cols = ["origin", "horizon", "level", "area", "target", "model", "dependence", "n_areas", "actual", "forecast",
            "lo80", "hi80", "lo95", "hi95"]
    tot = pd.concat(totals, ignore_index=True)[cols] if totals else pd.DataFrame(columns=cols)
    return out, tot


def _sum_levels(Y, t, point, draws, horizons, group, region, group_names, regions) -> pd.DataFrame:
    """Region and England sums of actuals, point forecasts and draws (quantiles) per group."""
    n_regions = len(regions)
    rows = []
    for h in horizons:
        if t + h >= Y.shape[1]:
            continue
        ok = np.isfinite(Y[:, t + h]) & np.isfinite(point[:, h - 1])
        for level, cell in (("region", group * n_regions + region), ("national", group)):
            idx = np.flatnonzero(ok)
            order = idx[np.argsort(cell[idx], kind="stable")]
            cells, starts, n_in = np.unique(cell[order], return_index=True, return_counts=True)
            S = np.add.reduceat(draws[:, h - 1, order], starts, axis=1)  # (n_draws, cells): one sum per draw
            q = np.quantile(S, [0.1, 0.9, 0.025, 0.975], axis=0)
            act = np.add.reduceat(Y[order, t + h], starts)
            pt = np.add.reduceat(point[order, h - 1], starts)
            for j, c in enumerate(cells):
                g = c // n_regions if level == "region" else c
                area = regions[c % n_regions] if level == "region" else "England"
                rows.append((h, level, area, group_names[g], int(n_in[j]), act[j], pt[j], *q[:, j]))
    return pd.DataFrame(rows, columns=["horizon", "level", "area", "target", "n_areas", "actual", "forecast",
                                       "lo80", "hi80", "lo95", "hi95"])


def run_england_backtest(
    age: pd.DataFrame, setting: pd.DataFrame | None = None, origins: Sequence[int] = (2016, 2017, 2018, 2019),
    horizons: Sequence[int] = (1, 2, 3), settings: Sequence[str] | None = ("total", "special_school",
    "resourced_provision_unit", "independent"), window: int = 3, calibration_origins: int = 4,
    n_draws: int = 1000, seed: int = 0, variants: Mapping[str, Mapping] | None = FROZEN_VARIANTS,
    breaks: pd.DataFrame | None = SERIES_BREAKS, shock_origins: int | None = FROZEN_SHOCK_ORIGINS,
) -> BacktestResult:
    """Backtest the pooled trend and age-flow models against naive baselines on every authority.

    Parameters
    ----------
    age : DataFrame
        ``year, area, age_group, count`` (+ ``region``), e.g. ``load_england_ehcp().age``.
    setting : DataFrame, optional
        ``year, area, setting, count`` (+ ``region``).
    origins : sequence of int
        Last census year of each training window.
    horizons : sequence of int
        Years ahead scored.
    settings : sequence of str, optional
        Setting types to score (``total`` included as a check; None = all).
    window : int
        Recent years averaged by the pooled models.
    calibration_origins : int
        Earlier origins per horizon whose errors calibrate the intervals.
    n_draws : int
        Joint draws per origin and model (not the baselines) for the region and England
        totals' intervals (0: authorities only, no ``totals``).
    seed : int
        Seed of those draws.
    variants : mapping of str to mapping, optional
        More :class:`PooledTrendModel` set-ups to backtest: name -> keyword arguments (e.g.
        ``{"pooled_trend_mean": {"growth": "mean"}}``). One with ``share_of`` is run on the
        settings only; the others on age groups and settings. ``pooled_trend``, ``pooled_share``
        and ``own_trend`` are always run as originally defined (latest growth, no breaks).
        Default: the frozen choice (:mod:`~senforecast.models.panel.frozen`), ``pooled_share_mean_breaks``.
    breaks : DataFrame, optional
        Series breaks (default :data:`~senforecast.models.panel.breaks.SERIES_BREAKS`), used by
        variants that respect them.
    shock_origins : int, optional
        Earlier origins per horizon whose errors estimate the shared shocks (default 6, the
        frozen choice; None = ``calibration_origins``).

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp()
    >>> r = run_england_backtest(t.age, origins=[2018], horizons=[1])
    >>> sorted(r.scores["model"].unique())[:3]
    ['age_flow', 'last_value', 'linear_3']
    """
    frames = []
    age_panel = SeriesPanel.from_table(age, "age_group")
    pooled = PooledTrendModel(dim="age_group", window=window)
    pooled.panel_ = age_panel
    flow = AgeFlowModel(window=window).for_panel(age_panel)
    unpooled = PooledTrendModel(dim="age_group", window=window, pooling="none")
    unpooled.panel_ = age_panel
    f_age = dict(BASELINES, pooled_trend=pooled.forecast_array, age_flow=flow.forecast_array,
                 own_trend=unpooled.forecast_array)
    variants = dict(variants or {})
    for name, kw in variants.items():
        if kw.get("share_of") is None:
            m = PooledTrendModel(dim="age_group", **{"window": window, **kw})
            m.panel_ = age_panel
            f_age[name] = m.forecast_array
    fr, tot = backtest_levels(age_panel, f_age, origins, horizons, calibration_origins, n_draws, seed,
                              totals_for=[m for m in f_age if m not in BASELINES], shock_origins=shock_origins)
    frames.append(fr)
    totals = [tot]
    if setting is not None:
        s = setting if settings is None else setting[setting["setting"].isin(settings)]
        if set(SPECIALIST_SETTINGS) <= set(s["setting"]):
            s = pd.concat([s, specialist_total(s)], ignore_index=True)
        s_panel = SeriesPanel.from_table(s, "setting", breaks=breaks)
        sp = PooledTrendModel(dim="setting", window=window, breaks=False)
        sp.panel_ = s_panel
        su = PooledTrendModel(dim="setting", window=window, pooling="none", breaks=False)
        su.panel_ = s_panel
        models = dict(BASELINES, pooled_trend=sp.forecast_array, own_trend=su.forecast_array)
        if "total" in set(s_panel.keys["setting"]):
            ss = PooledTrendModel(dim="setting", window=window, share_of="total", breaks=False)
            ss.panel_ = s_panel
            models["pooled_share"] = ss.forecast_array
        for name, kw in variants.items():
            if kw.get("share_of") is not None and kw["share_of"] not in set(s_panel.keys["setting"]):
                continue
            m = PooledTrendModel(dim="setting", **{"window": window, **kw})
            m.panel_ = s_panel
            models[name] = m.forecast_array
        fr, tot = backtest_levels(s_panel, models, origins, horizons, calibration_origins, n_draws, seed,
                                  totals_for=[m for m in models if m not in BASELINES], shock_origins=shock_origins)
        fr["target"] = "setting:" + fr["target"]
        tot["target"] = "setting:" + tot["target"]
        frames.append(fr)
        totals.append(tot)
    fc = pd.concat(frames, ignore_index=True)
    scores = _score(fc)
    return BacktestResult(scores=scores, forecasts=fc, totals=pd.concat(totals, ignore_index=True))
