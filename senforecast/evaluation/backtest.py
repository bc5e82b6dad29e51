"""Rolling-origin backtests and model comparison by skill (ensembles: :mod:`senforecast.models.ensemble`).

A backtest pretends it is an earlier January: for each *origin* year it keeps only the data up
to that census, refits a fresh copy of the model, projects the following years and scores the
projection against what actually happened. Any object with ``fit(data)`` and
``project(years=..., n_draws=..., seed=...)`` works (the cohort model, the prevalence model,
the naive baselines, a user's own model).

Population: the backtest keeps the *whole* population table, so the refitted model sees the
true population of the years it projects (a perfect population forecast). Errors measured here
are therefore the model's own errors, not population-projection errors, which a real forecast
also carries.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .engine import INTERVALS, RESULT_COLUMNS, interval_columns, rolling_origin, score, skill_vs_naive
from ..core.data import LocalAreaData
from ..core.errors import ModelError
from ..models.baselines import CountBaseline, LastValue, LinearTrend, observed_counts
from ..models.ensemble import EnsembleModel, ensemble, group_labels
from ..projection import DIMS, Projection, summarise

__all__ = ["backtest", "BacktestResult", "truncate_data", "compare_models", "ensemble", "EnsembleModel"]

GROUPINGS: tuple[str, ...] = ("total", "need", "setting", "ncy", "area")
# the interval ends of the engine's intervals, named by the projection's rule (p2.5, p10, p90, p97.5)
_QUANTILES = sorted(q for pair in INTERVALS.values() for q in pair)
_BOUNDS = interval_columns("quantiles")
# metrics where lower is better, used for skill and ranking
_LOWER_BETTER = ("mae", "wape", "mape", "crps", "interval_score80", "interval_score95")


def truncate_data(data: LocalAreaData, origin: int) -> LocalAreaData:
    """The data as it stood after the January census of ``origin``
    (:meth:`LocalAreaData.truncate <senforecast.core.data.LocalAreaData.truncate>`).

    Examples
    --------
    >>> import pandas as pd
    >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "a"], "year": [2022, 2023, 2024], "ncy": [1, 2, 3],
    ...     "need": "ASD", "setting": "MS", "area": "N"})
    >>> truncate_data(LocalAreaData(plans=plans), 2023).plans["year"].tolist()
    [2022, 2023]
    """
    return data.truncate(origin)


@dataclasses.dataclass
class BacktestResult:
    """Scores and the projections-versus-actuals of one model's rolling-origin backtest.

    Attributes
    ----------
    model : str
        Name of the model.
    scores : DataFrame
        One row per ``grouping`` (total, need, ...) and ``horizon`` (years after the origin):
        ``n`` (cells x origins scored), ``mae``, ``wape``, ``mape``, ``bias``, ``coverage80``,
        ``coverage95``, ``interval_score80``, ``interval_score95``, ``crps``.
    scores_by_origin : DataFrame
        The same by ``origin`` as well.
    forecasts : DataFrame
        ``model, grouping, group, origin, year, horizon, actual, mean, median, p2.5, p10, p90,
        p97.5, crps``: every projection next to the actual, for charts (quantiles named by
        :func:`senforecast.projection.summarise`; before 2026-12-04 ``p025``/``p975``).
    skipped : list of str
        Groupings not scored: the model does not break that dimension down (e.g. ``setting``
        for the prevalence model), or the data has only one level of it (it equals the total).
    origins, horizons : list of int
        Census years projected from, and years ahead scored.

    Examples
    --------
    On a steadily growing series the last-value baseline projects too low, more so two
    years ahead than one:

    >>> from senforecast.models.baselines import LastValue
    >>> census = pd.DataFrame({"year": range(2015, 2021), "area": "N", "ncy": 5, "need": "ASD",
    ...                        "count": [10, 12, 14, 16, 18, 20]})
    >>> res = backtest(LastValue(), LocalAreaData(census=census), horizons=[1, 2], by=["total"])
    >>> t = res.table()
    >>> t["horizon"].tolist(), t["n"].tolist()  # origins 2017-2019; only two reach 2 years ahead
    ([1, 2], [3, 2])
    >>> bool((t["bias"] < 0).all() and t["wape"].is_monotonic_increasing)
    True
    >>> first = res.forecasts.iloc[0]
    >>> int(first["origin"]), int(first["year"]), float(first["actual"])
    (2017, 2018, 16.0)
    """

    model: str
    scores: pd.DataFrame
    scores_by_origin: pd.DataFrame
    forecasts: pd.DataFrame
    skipped: list[str]
    origins: list[int]
    horizons: list[int]

    @property
    def results(self) -> pd.DataFrame:
        """The forecasts as the one result frame of every backtest
        (:data:`~senforecast.evaluation.engine.RESULT_COLUMNS`; point forecast the mean)."""
        return result_frame(self.forecasts)

    def table(self, grouping: str = "total",
              metrics_: Sequence[str] = ("wape", "bias", "coverage80", "coverage95", "crps")) -> pd.DataFrame:
        """Scores of one grouping, one row per horizon."""
        s = self.scores[self.scores["grouping"] == grouping]
        return s[["horizon", "n", *metrics_]].reset_index(drop=True)

    def plot(self, grouping: str = "total", group: str = "total", **kwargs):
        """Chart of projections from each origin against the actuals of one group.

        Parameters
        ----------
        grouping : str
            ``total`` or a dimension scored (``need``, ``ncy`` ...).
        group : str
            The group within it, e.g. ``"ASD"`` (``"total"`` for the total).
        **kwargs
            Passed to :func:`senforecast.plotting.evaluation.backtest_chart`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..plotting.evaluation import backtest_chart  # lazy: matplotlib loads only when a chart is drawn

        f = self.forecasts[(self.forecasts["grouping"] == grouping) & (self.forecasts["group"] == group)]
        if f.empty:
            raise ModelError(f"no backtest rows for {grouping} = {group!r}; groups are "
                             f"{sorted(self.forecasts.loc[self.forecasts['grouping'] == grouping, 'group'].unique())}")
        kwargs.setdefault("title", f"Backtest of {self.model}: {group if group != 'total' else 'all children'}")
        return backtest_chart(f, **kwargs)


def _crps_each(actual: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """CRPS per column (same formula as :func:`senforecast.evaluation.metrics.crps_draws`, not averaged)."""
    x = np.sort(draws, axis=0).astype(float)
    m = x.shape[0]
    term1 = np.mean(np.abs(x - actual[None]), axis=0)
    w = (2 * np.arange(1, m + 1) - m - 1)[:, None]
    term2 = np.sum(w * x, axis=0) * 2 / m**2
    return term1 - 0.5 * term2


def _resolves(proj: Projection, key: str, actual_levels: int) -> bool:
    """Does the projection break the dimension down (not just 'ALL') where actuals do?"""
    if key not in proj.dims:
        return False
    levels = set(proj.cells[key].astype(str))
    return not (levels == {"ALL"} and actual_levels > 1)


def _scores(forecasts: pd.DataFrame, keys: list[str], point: str) -> pd.DataFrame:
    return score(forecasts, keys, point=point, bounds=_BOUNDS)


def result_frame(forecasts: pd.DataFrame, point: str = "mean") -> pd.DataFrame:
    """A local backtest's ``forecasts`` as the engine's one result frame
    (:data:`~senforecast.evaluation.engine.RESULT_COLUMNS`; ``level`` is the grouping, ``target``
    ``count``).

    Examples
    --------
    >>> from senforecast.models.baselines import LastValue
    >>> census = pd.DataFrame({"year": range(2015, 2021), "area": "N", "ncy": 5, "need": "ASD",
    ...                        "count": [10, 12, 14, 16, 18, 20]})
    >>> r = backtest(LastValue(), LocalAreaData(census=census), horizons=[1], by=["total"])
    >>> list(r.results.columns) == list(RESULT_COLUMNS)
    True
    """
    f = forecasts
    (lo80, hi80), (lo95, hi95) = _BOUNDS["80"], _BOUNDS["95"]
    out = pd.DataFrame({"origin": f["origin"], "horizon": f["horizon"], "level": f["grouping"], "group": f["group"],
                        "target": "count", "model": f["model"], "actual": f["actual"], "forecast": f[point],
                        "lo80": f[lo80], "hi80": f[hi80], "lo95": f[lo95], "hi95": f[hi95], "crps": f["crps"]})
    return out[list(RESULT_COLUMNS)].reset_index(drop=True)


def backtest(
    model,
    data: LocalAreaData,
    origins: Sequence[int] | None = None,
    horizons: Sequence[int] = (1, 2, 3),
    by: Sequence[str] = GROUPINGS,
    *,
    n_draws: int = 500,
    seed: int = 0,
    name: str | None = None,
    min_history: int = 3,
    point: str = "mean",
) -> BacktestResult:
    """Rolling-origin evaluation of a model on held-out census years.

    Parameters
    ----------
    model : object with ``fit`` and ``project``
        Copied (``copy.deepcopy``) and refitted at each origin; the original is not changed.
    data : LocalAreaData
    origins : sequence of int, optional
        Last census year the model may see, one backtest per origin. Default: every year
        with at least ``min_history`` censuses up to it and at least one later census.
    horizons : sequence of int
        Years after the origin to score (1 = the next January).
    by : sequence of str
        Groupings to score: ``"total"`` and any of ``need, setting, ncy, area``. A model that
        does not resolve a dimension (e.g. the prevalence model and ``setting``) is not scored
        on it (listed in ``skipped``).
    n_draws : int
        Draws per projection.
    seed : int
        Seed of the first origin's projection (origin i uses ``seed + i``).
    name : str, optional
        Model name in tables (default the class name).
    min_history : int
        Fewest censuses before a default origin.
    point : {"mean", "median"}
        Point forecast scored by MAE, WAPE, MAPE and bias.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.models.baselines import LastValue
    >>> census = pd.DataFrame({"year": range(2015, 2021), "area": "N", "ncy": 5, "need": "ASD",
    ...                        "count": [10, 12, 14, 16, 18, 20]})
    >>> res = backtest(LastValue(), LocalAreaData(census=census), horizons=[1], by=["total"])
    >>> res.origins, res.table()["wape"].round(2).tolist()  # errors 2+2+2 over 16+18+20
    ([2017, 2018, 2019], [0.11])
    """
    name = name or type(model).__name__
    bad = [b for b in by if b != "total" and b not in DIMS]
    if bad:
        raise ModelError(f"backtest groupings must be 'total' or in {list(DIMS)} (got {bad})")
    if point not in ("mean", "median"):
        raise ModelError(f"point must be 'mean' or 'median' (got {point!r})")
    actuals = observed_counts(data, DIMS)
    years = np.sort(actuals["year"].unique())
    horizons = sorted(int(h) for h in horizons)
    if origins is None:
        origins = [int(y) for y in years[min_history - 1:] if y + horizons[0] <= years[-1]]
    origins = [int(o) for o in origins]
    if not origins:
        raise ModelError(
            f"{data.name}: no origin leaves {min_history} censuses to fit and a later one to score "
            f"(census years {years.tolist()})"
        )
    levels = {d: actuals[d].astype(str).nunique() for d in DIMS}
    skipped: set[str] = set()

    def step(i: int, origin: int, kept: list[int]) -> list[pd.DataFrame]:
        target = [origin + h for h in kept]
        fitted = copy.deepcopy(model).fit(truncate_data(data, origin))
        proj = fitted.project(years=target, n_draws=n_draws, seed=seed + i)
        act = actuals[actuals["year"].isin(target)]
        out = []
        for grouping in by:
            keys = [] if grouping == "total" else [grouping]
            # a dimension with one level in the data repeats the total; a model that does
            # not break a dimension down cannot be scored on it
            if keys and (levels[grouping] < 2 or not _resolves(proj, grouping, levels[grouping])):
                skipped.add(grouping)
                continue
            out.append(_compare(proj, act, keys, origin, grouping))
        return out

    frames = rolling_origin(origins, horizons, int(years[-1]), step)
    if not frames:
        raise ModelError(f"{name}: nothing could be scored (groupings {list(by)})")
    forecasts = pd.concat(frames, ignore_index=True)
    forecasts.insert(0, "model", name)
    scores = _scores(forecasts, ["grouping", "horizon"], point)
    by_origin = _scores(forecasts, ["grouping", "origin", "horizon"], point)
    order = {g: i for i, g in enumerate(by)}
    scores = scores.sort_values(["grouping", "horizon"], key=lambda s: s.map(order) if s.name == "grouping" else s)
    scores.insert(0, "model", name)
    by_origin.insert(0, "model", name)
    return BacktestResult(name, scores.reset_index(drop=True), by_origin, forecasts,
                          sorted(skipped, key=lambda g: order[g]), origins, horizons)


def _compare(proj: Projection, act: pd.DataFrame, keys: list[str], origin: int, grouping: str) -> pd.DataFrame:
    """Projection summaries next to actuals for one grouping (outer join: a group missing on
    one side counts as zero there)."""
    agg = proj.aggregate(keys)
    draws = agg.draws  # (d, y, g)
    labels = group_labels(agg.cells, keys).to_numpy()
    a = act.groupby(["year", *keys], as_index=False)["count"].sum()
    a["group"] = group_labels(a, keys).to_numpy()
    groups = np.array(sorted(set(labels) | set(a["group"])), dtype=object)
    gi = {g: j for j, g in enumerate(groups)}
    full = np.zeros((draws.shape[0], draws.shape[1], len(groups)))
    for j, g in enumerate(labels):
        full[:, :, gi[g]] += draws[:, :, j]
    actual = np.zeros((len(proj.years), len(groups)))
    yi = {int(y): i for i, y in enumerate(proj.years)}
    for y, g, c in zip(a["year"], a["group"], a["count"]):
        actual[yi[int(y)], gi[g]] += c
    summary = summarise(full, _QUANTILES)  # mean, median, p2.5, p10, p90, p97.5: (y, g) each
    out = pd.DataFrame({
        "grouping": grouping,
        "group": np.tile(groups, len(proj.years)),
        "origin": origin,
        "year": np.repeat(proj.years, len(groups)),
        "horizon": np.repeat(proj.years - origin, len(groups)),
        "actual": actual.reshape(-1),
    })
    for lab, v in summary.items():
        out[lab] = v.reshape(-1)
    out["crps"] = _crps_each(actual.reshape(-1), full.reshape(full.shape[0], -1))
    return out


def _is_naive(model) -> bool:
    return isinstance(model, CountBaseline)


def compare_models(
    models: Mapping[str, object],
    data: LocalAreaData | None = None,
    origins: Sequence[int] | None = None,
    horizons: Sequence[int] = (1, 2, 3),
    by: Sequence[str] = ("total",),
    *,
    metric: str = "crps",
    naive: Sequence[str] | None = None,
    add_baselines: bool = True,
    n_draws: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Backtest several models and rank them by skill at each horizon.

    Parameters
    ----------
    models : mapping of name to model or BacktestResult
        Models are backtested here; a ``BacktestResult`` is used as it is (so a slow model is
        backtested once).
    data : LocalAreaData
        Needed unless every entry is a ``BacktestResult``.
    origins, horizons, n_draws, seed
        Passed to :func:`backtest`.
    by : sequence of str
        Groupings to rank within (default the total).
    metric : str
        Score to rank on: ``crps`` (default), ``wape``, ``mae``, ``mape``, ``interval_score80``,
        ``interval_score95``; lower is better.
    naive : sequence of str, optional
        Names of the naive models skill is measured against; default every baseline model
        (:class:`~senforecast.models.baselines.LastValue` etc.) in ``models``.
    add_baselines : bool
        Add "last value" and "linear trend (3)" baselines when ``models`` has none.

    Returns
    -------
    DataFrame
        ``grouping, horizon, rank, model, <metric>, skill`` and the other scores, where
        ``skill = 1 - metric / metric of the best naive model`` at that grouping and horizon
        (above 0 beats every naive forecast; 0.2 = 20% better).

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.models.baselines import LastValue, LinearTrend
    >>> census = pd.DataFrame({"year": range(2012, 2021), "area": "N", "ncy": 5, "need": "ASD",
    ...                        "count": [100, 110, 120, 130, 140, 150, 160, 170, 180]})
    >>> t = compare_models({"last": LastValue(), "trend": LinearTrend(3)},
    ...                    LocalAreaData(census=census), horizons=[1], n_draws=200)
    >>> t[["model", "rank"]].values.tolist()
    [['trend', 1], ['last', 2]]
    """
    if metric not in _LOWER_BETTER:
        raise ModelError(f"metric must be one of {_LOWER_BETTER} (got {metric!r})")
    entries = dict(models)
    naive_names = list(naive) if naive is not None else [k for k, m in entries.items() if _is_naive(m)]
    if not naive_names and add_baselines:
        entries["naive: last value"] = LastValue()
        entries["naive: linear trend (3)"] = LinearTrend(window=3)
        naive_names = ["naive: last value", "naive: linear trend (3)"]
    results = []
    for nm, m in entries.items():
        if isinstance(m, BacktestResult):
            results.append(m.scores.assign(model=nm))
        else:
            if data is None:
                raise ModelError("compare_models needs data to backtest models")
            results.append(backtest(m, data, origins, horizons, by, n_draws=n_draws, seed=seed,
                                    name=nm).scores)
    scores = pd.concat(results, ignore_index=True)
    scores = scores[scores["grouping"].isin(list(by))]
    scores = skill_vs_naive(scores, naive_names, ["grouping", "horizon"], metric)
    scores = scores.drop(columns=["best_naive", f"best_naive_{metric}"])
    scores["rank"] = scores.groupby(["grouping", "horizon"])[metric].rank(method="min").astype(int)
    order = {g: i for i, g in enumerate(by)}
    scores = scores.sort_values(["grouping", "horizon", "rank"],
                                key=lambda s: s.map(order) if s.name == "grouping" else s)
    lead = ["grouping", "horizon", "rank", "model", metric, "skill"]
    return scores[lead + [c for c in scores.columns if c not in lead]].reset_index(drop=True)
