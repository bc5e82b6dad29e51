"""Naive baseline forecasts of counts, and the helper that reads observed counts from data.

Every serious model should beat these before anyone trusts it. They have the same face as
the real models: ``fit(data)`` returns the model, ``project(years=...)`` returns a
:class:`~senforecast.projection.Projection` with prediction intervals.

* :class:`LastValue` - next year's count equals this year's (a random walk).
* :class:`LinearTrend` - a straight line through the last ``window`` years of each cell.
* :class:`LogLinearTrend` - a constant growth rate fitted to the last ``window`` years.

The two trend baselines are reconciled top-down by default: the trend of the authority total
sets the total, and each cell's own (zero-floored) trend only decides its share. Without this,
hundreds of small cells whose straight lines are floored at zero add up to a total that is
biased upwards (by about 10% a year on the bundled demo).

Intervals come from simulation: each cell's point forecast is multiplied by one common
log-normal "authority shock" per draw and year, whose spread is the method's own error on the
authority total in the fitted years (so intervals of the total are honest, and cells stay
correlated as they really are), and then Poisson count noise is added per cell.
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
import pandas as pd

from ..core.data import NO_PLAN, LocalAreaData
from ..core.errors import ModelError
from ..projection import DIMS, Projection
from .base import BaseModel, resolve_years
from .registry import register, small_authority

__all__ = ["observed_counts", "projection_years", "count_panel", "CountBaseline", "LastValue", "LinearTrend",
           "LogLinearTrend"]

_PLAN_STAGE_WORDS = ("ehc", "statement", "plan", "idp")


def observed_counts(data: LocalAreaData, dims: Sequence[str] = DIMS) -> pd.DataFrame:
    """Counts of children with plans by census year and the given dimensions.

    Reads ``data.plans`` (one row per child) if present, else ``data.transitions`` (the stock
    at each census is the "from" side of that year's transitions, and the "to" side of the
    last year gives the final census), else ``data.census`` rows that have a ``need``
    (restricted to plan stages when there is a ``stage`` column). A dimension the source does
    not hold is set to ``"ALL"``. Pupil ids never appear in the result.

    Parameters
    ----------
    data : LocalAreaData
    dims : sequence of str
        Any of ``area, ncy, need, setting``.

    Returns
    -------
    DataFrame
        Columns ``year, dims..., count`` (count is int), one row per occupied cell and year.

    Examples
    --------
    >>> import pandas as pd
    >>> plans = pd.DataFrame({"pupil_id": ["a", "b", "a"], "year": [2023, 2023, 2024],
    ...     "ncy": [3, 3, 4], "need": ["ASD", "ASD", "ASD"], "setting": ["MS"] * 3, "area": ["N"] * 3})
    >>> observed_counts(LocalAreaData(plans=plans), dims=["need"]).values.tolist()
    [[2023, 'ASD', 2], [2024, 'ASD', 1]]
    """
    dims = list(dims)
    bad = [d for d in dims if d not in DIMS]
    if bad:
        raise ModelError(f"unknown dimension(s) {bad}; choose from {list(DIMS)}")
    if data.plans is not None and len(data.plans):
        src = data.plans.assign(count=1)
    elif data.transitions is not None and len(data.transitions):
        tr = data.transitions
        if "area" not in tr.columns:
            tr = tr.assign(area="ALL")
        n = tr["count"] if "count" in tr.columns else 1
        tr = tr.assign(count=n)
        start = tr[tr["need_from"] != NO_PLAN]
        start = pd.DataFrame({"year": start["year"], "area": start["area"], "ncy": start["ncy_from"],
                              "need": start["need_from"], "setting": start["setting_from"],
                              "count": start["count"]})
        last = tr[(tr["year"] == tr["year"].max()) & (tr["need_to"] != NO_PLAN)]
        end = pd.DataFrame({"year": last["year"] + 1, "area": last["area"], "ncy": last["ncy_to"],
                            "need": last["need_to"], "setting": last["setting_to"],
                            "count": last["count"]})
        src = pd.concat([start, end], ignore_index=True)
    elif data.census is not None and "need" in data.census.columns:
        src = data.census
        if "stage" in src.columns:
            st = src["stage"].astype(str).str.lower()
            src = src[st.apply(lambda s: any(w in s for w in _PLAN_STAGE_WORDS))]
        src = src.dropna(subset=["count"])
    else:
        raise ModelError(
            f"{data.name}: no counts of children with plans found; give a plans table, "
            "transitions, or a census table with a 'need' column"
        )
    src = src.copy()
    for d in dims:
        if d not in src.columns:
            src[d] = "ALL"
    out = src.groupby(["year", *dims], as_index=False, sort=True)["count"].sum()
    out["year"] = out["year"].astype(int)
    out["count"] = np.rint(out["count"].to_numpy(dtype=float)).astype(np.int64)
    return out


def projection_years(years: int | Sequence[int], last_year: int) -> np.ndarray:
    """The census years to project; the one rule of :func:`senforecast.models.base.resolve_years`.

    Examples
    --------
    >>> projection_years(3, 2024).tolist(), projection_years([2026, 2030], 2024).tolist()
    ([2025, 2026, 2027], [2026, 2030])
    """
    return resolve_years(years, last_year)


def count_panel(counts: pd.DataFrame, dims: list[str], years: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Counts as a years x cells array (zeros where a cell is absent in a year).

    Parameters
    ----------
    counts : DataFrame
        Columns ``year, dims..., count`` (as from :func:`observed_counts`).
    dims : list of str
        Columns that identify a cell.
    years : ndarray of int
        Sorted census years of the rows of the array; counts of other years are left out.

    Returns
    -------
    cells : DataFrame
        The distinct cells (columns ``dims``), sorted; cell ``j`` is column ``j`` of the array.
    y : ndarray of float, shape (len(years), len(cells))

    Examples
    --------
    >>> counts = pd.DataFrame({"year": [2023, 2024, 2024], "need": ["ASD", "ASD", "MLD"],
    ...                        "count": [3, 4, 2]})
    >>> cells, y = count_panel(counts, ["need"], np.array([2023, 2024]))
    >>> cells["need"].tolist(), y.tolist()
    (['ASD', 'MLD'], [[3.0, 0.0], [4.0, 2.0]])
    """
    cells = counts[dims].drop_duplicates().sort_values(dims).reset_index(drop=True)
    key = cells.assign(_c=np.arange(len(cells)))
    m = counts.merge(key, on=dims)
    y = np.zeros((len(years), len(cells)))
    yi = np.searchsorted(years, m["year"].to_numpy())
    ok = (yi < len(years)) & (years[np.minimum(yi, len(years) - 1)] == m["year"].to_numpy())
    np.add.at(y, (yi[ok], m["_c"].to_numpy()[ok]), m["count"].to_numpy()[ok])
    return cells, y


class CountBaseline(BaseModel):
    """Base of the naive baselines: per-cell point forecasts, a common log-normal shock and
    Poisson noise (see the module note).

    A subclass gives ``_point(y, t, h)`` (point forecasts of shape (len(h), n_cells) from the
    history ``y`` of shape (len(t), n_cells)) and an ``_assumption`` text. ``isinstance(model,
    CountBaseline)`` tells a naive baseline apart (the backtest uses it).

    Parameters
    ----------
    window : int, optional
        Number of most recent census years used (None: all).
    by : sequence of str
        Dimensions of the cells (default area, ncy, need, setting).

    Examples
    --------
    >>> class Zero(CountBaseline):
    ...     _assumption = "no children at all"
    ...     def _point(self, y, t, h):
    ...         return np.zeros((len(h), y.shape[1]))
    >>> plans = pd.DataFrame({"pupil_id": ["a", "b"], "year": [2023, 2024], "ncy": 5, "need": "ASD",
    ...                       "setting": "MS", "area": "N"})
    >>> int(Zero().fit(LocalAreaData(plans=plans)).project(years=2, n_draws=10, seed=0).draws.sum())
    0
    >>> isinstance(LastValue(), CountBaseline)
    True
    """

    name = "baseline"
    window: int | None = None  # LastValue has no window parameter
    _abstract: ClassVar[bool] = True  # registered through its subclasses

    def __init__(self, window: int | None = None, by: Sequence[str] = DIMS) -> None:
        self.window = window
        self.by = tuple(by)

    # subclasses: point forecast of (n_years, n_cells) from history y (n_hist, n_cells)
    def _point(self, y: np.ndarray, t: np.ndarray, h: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, data: LocalAreaData) -> "CountBaseline":
        """Read the observed counts by ``by`` and measure the method's own error on the total.

        Returns
        -------
        self
        """
        counts = observed_counts(data, self.by)
        years = np.sort(counts["year"].unique())
        if self.window is not None:
            years = years[-self.window:]
        if len(years) < self._min_years:
            raise ModelError(
                f"{type(self).__name__} needs at least {self._min_years} census years; "
                f"{data.name} has {len(years)} in the window"
            )
        all_years = np.sort(counts["year"].unique())
        cells, y = count_panel(counts, list(self.by), all_years)
        self.cells_ = cells
        self.years_ = all_years
        self.counts_ = y
        self.last_year_ = int(all_years[-1])
        self.last_census_ = self.last_year_
        self.history_ = counts
        self.shock_sd_ = self._shock_sd(y.sum(axis=1), all_years)
        return self

    @property
    def _min_years(self) -> int:
        return 1

    def _window_slice(self, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.window is None:
            return y, t
        return y[-self.window:], t[-self.window:]

    def _shock_sd(self, total: np.ndarray, years: np.ndarray) -> np.ndarray:
        """sd of log(actual / forecast) of the total at horizons 1..H, from in-sample origins.

        For each origin inside the history, forecast the total with the method itself and
        record the log error at each horizon; the Poisson part of that error is removed.
        Returns a function of horizon through interpolation: sd_h = sd_1 * sqrt(h) fitted
        by least squares (a random-walk-like growth), which extrapolates to any horizon.
        """
        errs, hs = [], []
        n = len(total)
        for o in range(self._min_years - 1, n - 1):
            yh, th = self._window_slice(total[: o + 1, None], years[: o + 1])
            if len(th) < self._min_years:
                continue
            hor = years[o + 1:] - years[o]
            f = self._point(yh, th, hor)[:, 0]
            a = total[o + 1:]
            ok = (f > 0) & (a > 0)
            # log error minus the Poisson share of its variance
            e2 = np.log(a[ok] / f[ok]) ** 2 - 1.0 / np.maximum(f[ok], 1)
            errs.extend(e2.tolist())
            hs.extend(hor[ok].tolist())
        if not errs:
            return np.array(0.05)  # one year of data: a modest default (5% per sqrt-year)
        errs, hs = np.asarray(errs), np.asarray(hs, dtype=float)
        s2 = max(np.sum(np.maximum(errs, 0)) / np.sum(hs), 1e-4)  # E[e^2] = s2 * h
        return np.array(np.sqrt(s2))

    def project(
        self,
        years: int | Sequence[int] = 5,
        population: pd.DataFrame | None = None,
        scenario=None,
        n_draws: int = 1000,
        seed: int | None = None,
    ) -> Projection:
        """Simulate future counts by cell.

        Parameters
        ----------
        years : int or sequence of int
            Horizon after the last observed census, or the census years to project.
        population : DataFrame, optional
            Not used (baselines use no population); accepted for the common face.
        scenario : Scenario, optional
            Baselines apply no scenario: one that changes demand raises
            :class:`~senforecast.models.base.UnsupportedScenarioError` (supply-side changes are
            left to the gap analysis).
        n_draws : int
            Number of simulation draws.
        seed : int, optional
            Seed of the random generator; the same seed gives the same draws.

        Returns
        -------
        Projection
        """
        ys = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        h = (ys - self.last_year_).astype(float)
        y, t = self._window_slice(self.counts_, self.years_)
        point = np.maximum(self._point(y, t, h), 0.0)
        if getattr(self, "reconcile", False):
            # top-down: the trend of the total sets the total; cell trends only share it out.
            # Cell trends floored at zero alone would bias the total upwards.
            total = np.maximum(self._point(y.sum(axis=1, keepdims=True), t, h), 0.0)
            s = point.sum(axis=1, keepdims=True)
            point = np.where(s > 0, point * total / np.where(s > 0, s, 1.0), 0.0)
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n_draws, len(ys), 1))
        sd = self.shock_sd_ * np.sqrt(h)[None, :, None]
        # mean-one log-normal shock shared by all cells in a draw-year
        mu = point[None] * np.exp(sd * z - sd**2 / 2)
        draws = rng.poisson(mu)
        cells = self.cells_.copy()
        for d in DIMS:
            if d not in cells.columns:
                cells[d] = "ALL"
        hist = self.history_.copy()
        return Projection(
            draws, ys, cells[list(DIMS)], history=hist,
            meta=self._meta(seed=seed, n_draws=n_draws, scenario=scenario, window=self.window,
                            shock_sd_per_sqrt_year=float(self.shock_sd_), assumptions=self._assumption),
        )


@register("last_value", data="local_area", example=small_authority)
class LastValue(CountBaseline):
    """Naive forecast: every future year equals the last observed census, cell by cell.

    Parameters
    ----------
    by : sequence of str
        Dimensions of the cells (default area, ncy, need, setting).

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.core.data import LocalAreaData
    >>> plans = pd.DataFrame({"pupil_id": list("abcde"), "year": [2022, 2023, 2023, 2024, 2024],
    ...     "ncy": 5, "need": "ASD", "setting": "MS", "area": "N"})
    >>> p = LastValue().fit(LocalAreaData(plans=plans)).project(years=2, n_draws=200, seed=1)
    >>> p.years.tolist(), p.summary()["median"].tolist()
    ([2025, 2026], [2.0, 2.0])
    """

    _assumption = "counts stay at the last observed census; shock sd from in-sample errors"

    def __init__(self, by: Sequence[str] = DIMS) -> None:
        self.by = tuple(by)

    def _point(self, y, t, h):
        return np.repeat(y[-1:], len(h), axis=0)


@register("linear_trend", data="local_area", example=small_authority)
class LinearTrend(CountBaseline):
    """Naive forecast: a least-squares straight line through each cell's last ``window`` counts.

    Parameters
    ----------
    window : int
        Number of most recent census years used (3 or 5 are usual).
    by : sequence of str
        Dimensions of the cells.
    reconcile : bool
        Scale cell forecasts so they add up to the trend of the total (see the module note).

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.core.data import LocalAreaData
    >>> rows = [(f"{y}-{i}", y) for y, n in [(2022, 10), (2023, 12), (2024, 14)] for i in range(n)]
    >>> plans = pd.DataFrame(rows, columns=["pupil_id", "year"]).assign(
    ...     ncy=5, need="ASD", setting="MS", area="N")
    >>> m = LinearTrend(window=3).fit(LocalAreaData(plans=plans))
    >>> m._point(m.counts_, m.years_, [1.0, 2.0]).ravel().tolist()
    [16.0, 18.0]
    """

    _assumption = "straight-line trend of each cell's counts, floored at zero"

    def __init__(self, window: int = 3, by: Sequence[str] = DIMS, reconcile: bool = True) -> None:
        super().__init__(window=window, by=by)
        self.reconcile = reconcile

    @property
    def _min_years(self) -> int:
        return 2

    def _point(self, y, t, h):
        t = np.asarray(t, dtype=float)
        tc = t - t.mean()
        slope = (tc[:, None] * (y - y.mean(axis=0))).sum(axis=0) / max((tc**2).sum(), 1e-12)
        level = y.mean(axis=0) + slope * tc[-1]  # fitted value at the last year
        return level[None] + slope[None] * np.asarray(h, dtype=float)[:, None]


@register("log_linear_trend", data="local_area", example=small_authority)
class LogLinearTrend(CountBaseline):
    """Naive forecast: a constant yearly growth rate fitted to each cell's last ``window`` counts.

    The growth is the least-squares slope of log(count + 0.5) and is capped at
    ``max_growth`` a year either way, so a cell going from 1 to 3 children does not explode.

    Parameters
    ----------
    window : int
        Number of most recent census years used.
    max_growth : float
        Largest yearly growth (and decline) allowed, as a share (0.25 = 25% a year).
    by : sequence of str
        Dimensions of the cells.
    reconcile : bool
        Scale cell forecasts so they add up to the trend of the total (see the module note).

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.core.data import LocalAreaData
    >>> rows = [(f"{y}-{i}", y) for y, n in [(2022, 100), (2023, 110), (2024, 121)] for i in range(n)]
    >>> plans = pd.DataFrame(rows, columns=["pupil_id", "year"]).assign(
    ...     ncy=5, need="ASD", setting="MS", area="N")
    >>> m = LogLinearTrend(window=3).fit(LocalAreaData(plans=plans))
    >>> round(float(m._point(m.counts_, m.years_, [1.0])[0, 0]))
    133
    """

    _assumption = "constant growth rate of each cell's counts (log-linear), capped"

    def __init__(self, window: int = 5, max_growth: float = 0.25, by: Sequence[str] = DIMS,
                 reconcile: bool = True) -> None:
        super().__init__(window=window, by=by)
        self.max_growth = max_growth
        self.reconcile = reconcile

    @property
    def _min_years(self) -> int:
        return 2

    def _point(self, y, t, h):
        t = np.asarray(t, dtype=float)
        ly = np.log(y + 0.5)
        tc = t - t.mean()
        slope = (tc[:, None] * (ly - ly.mean(axis=0))).sum(axis=0) / max((tc**2).sum(), 1e-12)
        cap = np.log1p(self.max_growth)
        slope = np.clip(slope, -cap, cap)
        level = ly.mean(axis=0) + slope * tc[-1]
        out = np.exp(level[None] + slope[None] * np.asarray(h, dtype=float)[:, None]) - 0.5
        return np.maximum(out, 0.0)
