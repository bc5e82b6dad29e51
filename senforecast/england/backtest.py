"""Rolling-origin backtest over every authority, with naive baselines computed in the same run.

For each origin T (last census used), every model forecasts T+1..T+H from data up to T only;
its 80% and 95% intervals come from errors at origins before T (see
:mod:`senforecast.england.intervals`), for baselines and models alike. Scores are pooled over
authorities and origins per target (total, age group, setting type) and horizon.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..evaluation import metrics
from .flow import AgeFlowModel
from .intervals import GroupedCalibration
from .pooled import PooledTrendModel, calibration_errors, last_known
from .reader import SPECIALIST_SETTINGS
from .series import SeriesPanel

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

    def versus_best_naive(self, models: Sequence[str] | None = None) -> pd.DataFrame:
        """Each model's WAPE against the best naive baseline per target and horizon.

        Returns
        -------
        DataFrame
            ``target, horizon, model, wape, best_naive, best_naive_wape, improvement``
            (relative: 0.15 = 15% lower WAPE than the best baseline), ``coverage80``, ``coverage95``.
        """
        s = self.scores
        naive = s[s["model"].isin(BASELINES)]
        best = naive.loc[naive.groupby(["target", "horizon"])["wape"].idxmin(), ["target", "horizon", "model", "wape"]]
        best = best.rename(columns={"model": "best_naive", "wape": "best_naive_wape"})
        mod = s[~s["model"].isin(BASELINES)]
        if models is not None:
            mod = mod[mod["model"].isin(models)]
        out = mod.merge(best, on=["target", "horizon"])
        out["improvement"] = 1.0 - out["wape"] / out["best_naive_wape"]
        return out[["target", "horizon", "model", "n", "wape", "best_naive", "best_naive_wape", "improvement",
                    "bias", "coverage80", "coverage95"]].reset_index(drop=True)


def _score(group: pd.DataFrame) -> pd.Series:
    a, f = group["actual"].to_numpy(), group["forecast"].to_numpy()
    return pd.Series({
        "n": len(group),
        "wape": metrics.wape(a, f),
        "bias": metrics.bias(a, f),
        "coverage80": metrics.coverage(a, group["lo80"], group["hi80"]),
        "coverage95": metrics.coverage(a, group["lo95"], group["hi95"]),
        "interval_score80": metrics.interval_score(a, group["lo80"], group["hi80"], alpha=0.2),
    })


def _intervals(cal: GroupedCalibration, point: np.ndarray, size: np.ndarray) -> dict[str, np.ndarray]:
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
    Y = panel.values
    years = list(panel.years)
    H = max(horizons)
    frames = []
    for origin in origins:
        if origin not in years:
            continue
        t = years.index(origin)
        for name, fc in forecasters.items():
            point = fc(Y, t, H)
            errs = calibration_errors(fc, Y, t, H, calibration_origins)
            cal = GroupedCalibration(errs, panel.group, H)
            iv = _intervals(cal, point, last_known(Y, t)[0])
            for h in horizons:
                if t + h >= len(years):
                    continue
                f = pd.DataFrame({"origin": origin, "horizon": h, "area": panel.keys["area"].to_numpy(),
                                  "target": panel.keys[panel.dim].to_numpy(), "model": name,
                                  "actual": Y[:, t + h], "forecast": point[:, h - 1]})
                for k, v in iv.items():
                    f[k] = v[:, h - 1]
                frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    return out[np.isfinite(out["actual"]) & np.isfinite(out["forecast"])].reset_index(drop=True)


def run_england_backtest(
    age: pd.DataFrame, setting: pd.DataFrame | None = None, origins: Sequence[int] = (2016, 2017, 2018, 2019),
    horizons: Sequence[int] = (1, 2, 3), settings: Sequence[str] | None = ("total", "special_school",
    "resourced_provision_unit", "independent"), window: int = 3, calibration_origins: int = 4,
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
    frames.append(backtest_panel(age_panel, f_age, origins, horizons, calibration_origins))
    if setting is not None:
        s = setting if settings is None else setting[setting["setting"].isin(settings)]
        if set(SPECIALIST_SETTINGS) <= set(s["setting"]):
            s = pd.concat([s, specialist_total(s)], ignore_index=True)
        s_panel = SeriesPanel.from_table(s, "setting")
        sp = PooledTrendModel(dim="setting", window=window)
        sp.panel_ = s_panel
        su = PooledTrendModel(dim="setting", window=window, pooling="none")
        su.panel_ = s_panel
        models = dict(BASELINES, pooled_trend=sp.forecast_array, own_trend=su.forecast_array)
        if "total" in set(s_panel.keys["setting"]):
            ss = PooledTrendModel(dim="setting", window=window, share_of="total")
            ss.panel_ = s_panel
            models["pooled_share"] = ss.forecast_array
        fr = backtest_panel(s_panel, models, origins, horizons, calibration_origins)
        fr["target"] = "setting:" + fr["target"]
        frames.append(fr)
    fc = pd.concat(frames, ignore_index=True)
    scores = (fc.groupby(["target", "horizon", "model"], sort=True)[["actual", "forecast", "lo80", "hi80", "lo95", "hi95"]]
              .apply(_score).reset_index())
    scores["n"] = scores["n"].astype(int)
    return BacktestResult(scores=scores, forecasts=fc)
