"""Ensembles: weighted mixtures of several models' projections.

:func:`ensemble` mixes projections already made; :class:`EnsembleModel` fits several models
together and projects their mixture, with the common model face (so an ensemble can itself be
backtested and compared, see :mod:`senforecast.evaluation.backtest`).
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.data import LocalAreaData
from ..core.errors import ModelError
from ..core.scenarios import Scenario
from ..projection import Projection
from .base import BaseEstimator, BaseModel
from .baselines import LastValue, LinearTrend
from .registry import register, small_authority

__all__ = ["ensemble", "EnsembleModel", "group_labels"]


def group_labels(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One text label per row from the ``keys`` columns (``"total"`` without keys).

    Examples
    --------
    >>> group_labels(pd.DataFrame({"need": ["ASD"], "ncy": [3]}), ["need", "ncy"]).tolist()
    ['ASD / 3']
    """
    if not keys:
        return pd.Series(["total"] * len(frame), index=frame.index)
    return frame[keys].astype(str).agg(" / ".join, axis=1)


def ensemble(
    projections: Mapping[str, Projection] | Sequence[Projection],
    weights: Mapping[str, float] | Sequence[float] | None = None,
    *,
    n_draws: int | None = None,
    seed: int | None = None,
) -> Projection:
    """Weighted mixture of several projections' draws.

    Each output draw is a whole draw (all years and cells together) of one member, chosen
    with probability proportional to its weight, so the mixture keeps every member's
    correlation across years and cells. Members are aggregated to the dimensions all of them
    resolve (e.g. a cohort model with settings and a prevalence model without are combined
    over ``area, ncy, need``; the others say ``"ALL"``) and to the years they share.

    Parameters
    ----------
    projections : mapping of name to Projection, or sequence
    weights : mapping or sequence of float, optional
        Non-negative, need not sum to one; default equal. Skill from :func:`compare_models`
        is a natural choice.
    n_draws : int, optional
        Draws of the ensemble (default the largest member's).
    seed : int, optional

    Returns
    -------
    Projection

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> cells = pd.DataFrame({"need": ["ASD"]})
    >>> a = Projection(np.zeros((100, 1, 1)), [2030], cells)
    >>> b = Projection(np.ones((100, 1, 1)), [2030], cells)
    >>> e = ensemble({"a": a, "b": b}, weights={"a": 3, "b": 1}, n_draws=4000, seed=0)
    >>> round(float(e.draws.mean()), 2)
    0.25
    """
    if isinstance(projections, Mapping):
        names, projs = list(projections), list(projections.values())
    else:
        projs = list(projections)
        names = [str(p.meta.get("model", f"model{i}")) for i, p in enumerate(projs)]
    if not projs:
        raise ModelError("ensemble needs at least one projection")
    if weights is None:
        w = np.ones(len(projs))
    elif isinstance(weights, Mapping):
        missing = [n for n in names if n not in weights]
        if missing:
            raise ModelError(f"no weight for {missing}")
        w = np.array([float(weights[n]) for n in names])
    else:
        w = np.asarray(list(weights), dtype=float)
    if len(w) != len(projs) or (w < 0).any() or w.sum() <= 0:
        raise ModelError("weights must be one non-negative number per projection, not all zero")
    w = w / w.sum()
    years = sorted(set.intersection(*(set(p.years.tolist()) for p in projs)))
    if not years:
        raise ModelError("the projections share no year")
    all_dims = list(dict.fromkeys(d for p in projs for d in p.dims))
    dims = [d for d in all_dims if all(p.has_dim(d) for p in projs)]
    aggs = [p.aggregate(dims) for p in projs]
    # union of cells, matched on string labels
    labels = [group_labels(a.cells, dims).to_numpy() for a in aggs]
    union = sorted(set().union(*map(set, labels)))
    ui = {g: j for j, g in enumerate(union)}
    cell_rows = {}
    for a, lab in zip(aggs, labels):
        for j, g in enumerate(lab):
            cell_rows.setdefault(g, a.cells.iloc[j])
    n = n_draws or max(p.n_draws for p in projs)
    rng = np.random.default_rng(seed)
    member = rng.choice(len(projs), size=n, p=w)
    out = np.zeros((n, len(years), len(union)))
    for k, (a, lab) in enumerate(zip(aggs, labels)):
        idx = np.where(member == k)[0]
        if len(idx) == 0:
            continue
        yi = [int(np.where(a.years == y)[0][0]) for y in years]
        pick = rng.integers(0, a.n_draws, size=len(idx))
        cols = [ui[g] for g in lab]
        sub = a.draws[pick][:, yi, :]
        out[np.ix_(idx, np.arange(len(years)), cols)] = sub
    cells = pd.DataFrame([cell_rows[g] for g in union]).reset_index(drop=True)
    if not dims:
        cells = pd.DataFrame(index=range(1))
    for d in all_dims:
        if d not in cells.columns:
            cells[d] = "ALL"
    hist = aggs[0].history
    return Projection(out, years, cells[all_dims], history=hist,
                      meta={"model": "ensemble", "members": dict(zip(names, w.round(4).tolist())),
                            "seed": seed})


def _small_members() -> dict[str, Any]:
    return {"models": {"last": LastValue(), "trend": LinearTrend(window=3)}}


@register("ensemble", data="local_area", example=small_authority, params=_small_members)
class EnsembleModel(BaseModel):
    """Several models fitted together and projected as a weighted mixture (see :func:`ensemble`).

    Has the common model face, so an ensemble can itself be backtested and compared.

    Parameters
    ----------
    models : mapping of name to model
        Unfitted models with ``fit``/``project`` (cloned before fitting).
    weights : mapping of name to float, optional
        Mixture weights (default equal).

    Attributes
    ----------
    fitted_ : dict of str to model
        The members, fitted.
    last_census_ : int
        The members' last census (the latest if they differ).

    Notes
    -----
    Member ``i`` projects with seed ``seed + i`` and the mixture draws with ``seed + len(models)``
    (none of them when ``seed`` is None); ``meta.seed`` is the ``seed`` passed. The ensemble
    applies the scenario parts every member applies.

    Examples
    --------
    >>> import pandas as pd
    >>> census = pd.DataFrame({"year": range(2015, 2021), "area": "N", "ncy": 5, "need": "ASD",
    ...                        "count": [10, 12, 14, 16, 18, 20]})
    >>> m = EnsembleModel({"last": LastValue(), "trend": LinearTrend(3)}).fit(LocalAreaData(census=census))
    >>> p = m.project(years=1, n_draws=2000, seed=0)
    >>> 20 < float(p.total().mean()) < 22  # halfway between 20 (last value) and 22 (trend)
    True
    >>> p.meta.seed, p.meta.alias
    (0, 'ensemble')
    """

    def __init__(self, models: Mapping[str, Any], weights: Mapping[str, float] | None = None) -> None:
        self.models = models
        self.weights = weights

    @property
    def display_name(self) -> str:
        return "ensemble"

    @property
    def scenario_parts(self) -> frozenset[str]:  # type: ignore[override]
        """Scenario parts every member applies."""
        parts = [frozenset(getattr(m, "scenario_parts", frozenset())) for m in dict(self.models).values()]
        return frozenset.intersection(*parts) if parts else frozenset()

    def fit(self, data: LocalAreaData) -> "EnsembleModel":
        """Fit a clone of every member on ``data``; returns self."""
        if not self.models:
            raise ModelError("EnsembleModel needs at least one member model")
        self.fitted_ = {k: (m.clone() if isinstance(m, BaseEstimator) else copy.deepcopy(m)).fit(data)
                        for k, m in dict(self.models).items()}
        self.last_census_ = max(int(getattr(m, "last_census_")) for m in self.fitted_.values())
        return self

    def project(self, years: int | Sequence[int] = 5, population: pd.DataFrame | None = None,
                scenario: Scenario | None = None, n_draws: int = 1000, seed: int | None = None) -> Projection:
        """Project every member (seeds ``seed``, ``seed + 1``, ...) and mix their draws.

        Parameters
        ----------
        years, population, scenario, n_draws, seed
            As for any model; every member projects the same census years.

        Returns
        -------
        Projection
            Over the dimensions every member resolves.
        """
        ys = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        base = 0 if seed is None else seed
        projs = {k: m.project(years=ys.tolist(), population=population, scenario=scenario,
                              n_draws=n_draws, seed=None if seed is None else base + i)
                 for i, (k, m) in enumerate(self.fitted_.items())}
        mixed = ensemble(projs, self.weights, n_draws=n_draws, seed=None if seed is None else base + len(projs))
        meta = self._meta(seed=seed, n_draws=n_draws, scenario=scenario, members=mixed.meta["members"])
        return Projection(mixed.draws, mixed.years, mixed.cells, history=mixed.history, meta=meta)
