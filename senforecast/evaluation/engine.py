"""One rolling-origin evaluation engine, for a local authority's data and for published panels.

Both backtests (:func:`senforecast.evaluation.backtest.backtest` on a
:class:`~senforecast.core.data.LocalAreaData`, :func:`senforecast.evaluation.england.run_england_backtest`
on England's published tables) run on the pieces here:

* :func:`rolling_origin`: the loop. For each origin it keeps the horizons whose year is observed
  (``origin + h <= last_year``), skips an origin with none, and calls a ``step(i, origin,
  horizons)`` that truncates the data to the origin, forecasts and returns rows;
* :data:`RESULT_COLUMNS`: the one result frame, ``origin, horizon, level, group, target, model,
  actual, forecast, lo80, hi80, lo95, hi95, crps`` (``crps`` NaN where there are no draws);
  each backtest's result gives it as ``.results``;
* :func:`score`: the one scoring function (n, MAE, WAPE, MAPE, bias, coverage and interval score
  of each interval in :data:`INTERVALS`, and CRPS where the rows carry it);
* :func:`skill_vs_naive`: every model's score against the best naive model of its group.

Interval bounds are named by the projection's rule (:func:`senforecast.projection.quantile_label`:
``p10, p90, p2.5, p97.5``) in a local backtest's ``forecasts``; the result frame and the England
tables call them ``lo80, hi80, lo95, hi95``.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import metrics
from ..projection import quantile_label

__all__ = ["INTERVALS", "RESULT_COLUMNS", "interval_columns", "rolling_origin", "score", "skill_vs_naive"]

INTERVALS: dict[str, tuple[float, float]] = {"80": (0.10, 0.90), "95": (0.025, 0.975)}
"""Central intervals scored: name -> (lower, upper) quantile."""

RESULT_COLUMNS: tuple[str, ...] = ("origin", "horizon", "level", "group", "target", "model", "actual", "forecast",
                                   "lo80", "hi80", "lo95", "hi95", "crps")
"""Columns of the one result frame of every backtest."""

Step = Callable[[int, int, list], "pd.DataFrame | list[pd.DataFrame] | None"]


def interval_columns(style: str = "bounds") -> dict[str, tuple[str, str]]:
    """Columns of each interval's bounds: ``bounds`` (``lo80``, ``hi80``) or ``quantiles``
    (the projection's rule: ``p10``, ``p90``).

    Examples
    --------
    >>> interval_columns("quantiles")
    {'80': ('p10', 'p90'), '95': ('p2.5', 'p97.5')}
    """
    if style == "bounds":
        return {k: (f"lo{k}", f"hi{k}") for k in INTERVALS}
    return {k: (quantile_label(lo), quantile_label(hi)) for k, (lo, hi) in INTERVALS.items()}


def rolling_origin(origins: Sequence[int], horizons: Sequence[int], last_year: int, step: Step) -> list[pd.DataFrame]:
    """Run ``step`` at every origin that has a horizon to score.

    Parameters
    ----------
    origins : sequence of int
        Last census year each forecast may see, in order; the position ``i`` of an origin is
        passed on (for seeds: ``seed + i``), skipped origins included.
    horizons : sequence of int
        Years ahead; an origin keeps those with ``origin + h <= last_year``.
    last_year : int
        Last year with actuals.
    step : callable
        ``step(i, origin, kept_horizons)`` truncates the data to ``origin``, forecasts and
        returns a frame (or a list of frames, or None).

    Returns
    -------
    list of DataFrame
        What the steps returned, in order.

    Examples
    --------
    >>> seen = []
    >>> _ = rolling_origin([2018, 2019, 2020], [1, 2], 2020, lambda i, o, hs: seen.append((i, o, hs)))
    >>> seen  # 2020 has nothing after it
    [(0, 2018, [1, 2]), (1, 2019, [1])]
    """
    frames: list[pd.DataFrame] = []
    for i, origin in enumerate(origins):
        kept = [int(h) for h in horizons if origin + h <= last_year]
        if not kept:
            continue
        out = step(i, int(origin), kept)
        if out is None:
            continue
        frames.extend(out if isinstance(out, list) else [out])
    return frames


def _score_rows(f: pd.DataFrame, point: str, bounds: Mapping[str, tuple[str, str]]) -> dict[str, float]:
    a = f["actual"].to_numpy(float)
    p = f[point].to_numpy(float)
    total = np.abs(a).sum() > 0
    out: dict[str, float] = {"n": len(f), "mae": metrics.mae(a, p)}
    out["wape"] = metrics.wape(a, p) if total else np.nan
    out["mape"] = metrics.mape(a, p) if (a != 0).any() else np.nan
    out["bias"] = metrics.bias(a, p) if total else np.nan
    for name, (lo, hi) in bounds.items():
        out[f"coverage{name}"] = metrics.coverage(a, f[lo], f[hi])
    for name, (lo, hi) in bounds.items():
        alpha = round(INTERVALS[name][0] * 2, 12)
        out[f"interval_score{name}"] = metrics.interval_score(a, f[lo], f[hi], alpha=alpha)
    if "crps" in f.columns:
        out["crps"] = float(f["crps"].mean())
    return out


def score(frame: pd.DataFrame, keys: Sequence[str], *, point: str = "forecast",
          bounds: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Scores of each group of forecast rows (sorted by ``keys``).

    Parameters
    ----------
    frame : DataFrame
        Rows with ``actual``, the ``point`` column, the interval bounds and optionally ``crps``
        (one value per row, from draws).
    keys : sequence of str
        Columns grouped by, e.g. ``["model", "horizon"]``.
    point : str
        Column of the point forecast (scored by MAE, WAPE, MAPE and bias).
    bounds : mapping, optional
        Interval name (in :data:`INTERVALS`) -> (lower, upper) columns; default
        ``interval_columns("bounds")``.

    Returns
    -------
    DataFrame
        ``keys..., n, mae, wape, mape, bias, coverage80, coverage95, interval_score80,
        interval_score95`` and ``crps`` when the rows have it. WAPE and bias are NaN where every
        actual is 0, MAPE where none is non-zero.

    Examples
    --------
    >>> f = pd.DataFrame({"horizon": [1, 1], "actual": [10.0, 20.0], "forecast": [12.0, 18.0],
    ...                   "lo80": [9.0, 19.0], "hi80": [11.0, 21.0], "lo95": [8.0, 15.0], "hi95": [14.0, 25.0]})
    >>> s = score(f, ["horizon"])
    >>> s[["n", "wape", "bias", "coverage80", "coverage95"]].values.tolist()
    [[2.0, 0.13333333333333333, 0.0, 1.0, 1.0]]
    """
    bounds = interval_columns("bounds") if bounds is None else bounds
    keys = list(keys)
    rows = [{**dict(zip(keys, k if isinstance(k, tuple) else (k,))), **_score_rows(g, point, bounds)}
            for k, g in frame.groupby(keys, sort=True)]
    out = pd.DataFrame(rows)
    if len(out):
        out["n"] = out["n"].astype(int)
    return out


def skill_vs_naive(scores: pd.DataFrame, naive: Sequence[str], keys: Sequence[str], metric: str = "crps",
                   skill: str = "skill") -> pd.DataFrame:
    """Every row's ``metric`` against the best (lowest) naive model's in its group.

    Parameters
    ----------
    scores : DataFrame
        Scores with ``model``, ``keys`` and ``metric`` (lower is better).
    naive : sequence of str
        Names of the naive models.
    keys : sequence of str
        Columns that define a group compared within (e.g. ``["grouping", "horizon"]``).
    metric : str
        Score compared.
    skill : str
        Name of the result column.

    Returns
    -------
    DataFrame
        ``scores`` in its order with ``best_naive`` (the naive model with the lowest score, the
        first on ties), ``best_naive_<metric>`` and ``skill = 1 - metric / best naive metric``
        (above 0 beats every naive model). Groups without a naive model get NaN.

    Examples
    --------
    >>> s = pd.DataFrame({"horizon": 1, "model": ["last", "trend", "mine"], "wape": [0.10, 0.08, 0.06]})
    >>> out = skill_vs_naive(s, ["last", "trend"], ["horizon"], "wape")
    >>> out[["model", "best_naive", "skill"]].round(2).values.tolist()
    [['last', 'trend', -0.25], ['trend', 'trend', 0.0], ['mine', 'trend', 0.25]]
    """
    keys = list(keys)
    nv = scores[scores["model"].isin(list(naive)) & scores[metric].notna()]
    best = nv.loc[nv.groupby(keys)[metric].idxmin(), [*keys, "model", metric]]
    best = best.rename(columns={"model": "best_naive", metric: f"best_naive_{metric}"})
    out = scores.merge(best, on=keys, how="left")
    out.index = scores.index
    out[skill] = 1.0 - out[metric] / out[f"best_naive_{metric}"]
    return out
