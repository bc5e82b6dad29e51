"""The `Projection`: simulation draws of future counts with tidy summaries.

Every model returns one. Draws are held sparsely: an array over (draw, year, cell) where
a *cell* is one occupied combination of named dimensions, listed in ``cells``: a local
authority's models use (area, ncy, need, setting) (``DIMS``), the England panel models
(area, age_group) or (area, setting). A cell is never the sum of other cells (a published
"total" is not a cell): totals come only from :meth:`Projection.aggregate`. Summaries are exact
sample quantiles of the simulated *outcome* over draws, so they are prediction intervals, not
intervals for a mean; every summary names its columns by one rule (:func:`summarise`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping as MappingABC
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .core.errors import SenForecastError

DIMS: tuple[str, ...] = ("area", "ncy", "need", "setting")
"""Dimensions of a local authority's projections (a model without one puts ``"ALL"`` there)."""
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
RESERVED: frozenset[str] = frozenset({"draw", "year", "count", "value", "mean", "median", "flow",
                                      "probability"})
"""Column names of tidy outputs, which no dimension may take."""


def quantile_label(q: float) -> str:
    """Column label of a quantile: 0.05 -> 'p05', 0.5 -> 'p50', 0.975 -> 'p97.5'.

    Examples
    --------
    >>> quantile_label(0.05), quantile_label(0.975)
    ('p05', 'p97.5')
    """
    pct = q * 100
    if abs(pct - round(pct)) < 1e-9:
        return f"p{int(round(pct)):02d}"
    return f"p{pct:g}"


def interval_quantiles(level: float) -> tuple[float, float]:
    """Lower and upper quantiles of a central prediction interval: 0.9 -> (0.05, 0.95).

    Examples
    --------
    >>> interval_quantiles(0.8)
    (0.1, 0.9)
    """
    if not 0 < level < 1:
        raise SenForecastError(f"an interval level must be between 0 and 1 (got {level})")
    lo = round((1 - level) / 2, 12)
    return lo, round(1 - lo, 12)


def summary_quantiles(quantiles: Sequence[float] | None = None, level: float | None = None) -> list[float]:
    """The quantiles a summary reports: ``quantiles`` as given, or the ends of the central
    ``level`` interval, or by default ``DEFAULT_QUANTILES``; sorted, without duplicates.

    Examples
    --------
    >>> summary_quantiles(level=0.9), summary_quantiles([0.9, 0.1, 0.9])
    ([0.05, 0.95], [0.1, 0.9])
    """
    if quantiles is not None and level is not None:
        raise SenForecastError("give quantiles or level, not both")
    qs = list(interval_quantiles(level)) if level is not None else list(
        DEFAULT_QUANTILES if quantiles is None else quantiles)
    bad = [q for q in qs if not 0 < q < 1]
    if bad:
        raise SenForecastError(f"quantiles must be between 0 and 1 (got {bad})")
    return sorted(set(float(q) for q in qs))


def summarise(
    arr: np.ndarray,
    quantiles: Sequence[float] | None = None,
    *,
    level: float | None = None,
    prefix: str = "",
) -> dict[str, np.ndarray]:
    """Mean, median and quantiles of draws (first axis), named by the one rule of every summary.

    Columns are ``mean``, ``median`` and one :func:`quantile_label` per quantile (``p05``),
    each preceded by ``prefix_`` when a prefix is given (``demand_p05``); when 0.5 is among the
    quantiles a ``p50`` column (equal to ``median``) comes last.

    Parameters
    ----------
    arr : ndarray
        Draws along axis 0.
    quantiles : sequence of float, optional
        Quantiles in (0, 1); default ``DEFAULT_QUANTILES``.
    level : float, optional
        Instead of ``quantiles``: a central interval, 0.9 giving ``p05`` and ``p95``.
    prefix : str
        Prefix of every column name.

    Returns
    -------
    dict of str to ndarray
        In column order.

    Examples
    --------
    >>> out = summarise(np.arange(11.0), level=0.8, prefix="demand")
    >>> {k: float(v) for k, v in out.items()}
    {'demand_mean': 5.0, 'demand_median': 5.0, 'demand_p10': 1.0, 'demand_p90': 9.0}
    """
    asked = summary_quantiles(quantiles, level)
    qs = sorted(set(asked) | {0.5})
    vals = np.quantile(arr, qs, axis=0)  # exact sample quantiles over draws
    name = (lambda c: f"{prefix}_{c}") if prefix else (lambda c: c)
    median = vals[qs.index(0.5)]
    out = {name("mean"): np.asarray(arr).mean(axis=0), name("median"): median}
    for q, v in zip(qs, vals):
        if q != 0.5:
            out[name(quantile_label(q))] = v
    if 0.5 in asked:
        out[name("p50")] = median
    return out


def _list_of(val: object) -> list:
    """A dimension value or values as a list (any list-like: list, tuple, set, array, Index, Series)."""
    if isinstance(val, (str, bytes)) or not pd.api.types.is_list_like(val):
        return [val]
    return list(val)


def _check_dims(columns: Iterable[object]) -> None:
    bad = [c for c in columns if not isinstance(c, str) or c in RESERVED or re.fullmatch(r"p\d[\d.]*", c)]
    if bad:
        raise SenForecastError(
            f"cells has columns {bad} that cannot be dimensions: a dimension is a name other than "
            f"{sorted(RESERVED)} and quantile labels such as 'p05'")


_META_FIELDS = ("model", "alias", "params", "seed", "n_draws", "last_census", "scenario", "not_applied")


@dataclasses.dataclass(frozen=True, eq=True)
class ProjectionMeta(MappingABC):
    """What made a projection: model, parameters, seed as passed, draws, last census, scenario.

    Read it by attribute (``meta.seed``) or as a mapping (``meta["model"]``, ``meta.get(...)``,
    ``{**meta}``): the mapping holds ``seed`` (None included), the other fields that are set and
    every ``extra`` item (model-specific notes such as ``assumptions``).

    Parameters
    ----------
    model : str, optional
        The model's name as shown in reports (``"CohortModel(mode='witan')"``).
    alias : str, optional
        The model's alias in :mod:`senforecast.models.registry` (``"cohort"``).
    params : mapping
        The model's parameters (``get_params()``).
    seed : int or None
        The seed exactly as the user passed it.
    n_draws : int, optional
        Number of draws.
    last_census : int, optional
        Last observed census; a horizon counts years after it.
    scenario : str, optional
        Name of the scenario projected (``"baseline"`` when none).
    not_applied : tuple of str, optional
        Parts of the scenario left to others (supply-side ``provision_changes``: the gap
        analysis applies them).
    extra : mapping
        Anything else the model records.

    Examples
    --------
    >>> m = ProjectionMeta(model="LastValue", alias="last_value", seed=0, extra={"assumptions": "none"})
    >>> m.seed, m["alias"], m.get("scenario", "-"), sorted(m)
    (0, 'last_value', '-', ['alias', 'assumptions', 'model', 'seed'])
    >>> ProjectionMeta()["seed"] is None
    True
    >>> ProjectionMeta.from_mapping({"model": "x", "window": 3}).extra
    {'window': 3}
    """

    model: str | None = None
    alias: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seed: Any = None
    n_draws: int | None = None
    last_census: int | None = None
    scenario: str | None = None
    not_applied: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    @classmethod
    def from_mapping(cls, meta: "Mapping[str, Any] | ProjectionMeta | None") -> "ProjectionMeta":
        """A meta from a plain mapping: known keys become fields, the rest ``extra``."""
        if isinstance(meta, ProjectionMeta):
            return meta
        items = dict(meta or {})
        fields = {k: items.pop(k) for k in _META_FIELDS if k in items}
        if "extra" in items and isinstance(items["extra"], Mapping):
            items.update(items.pop("extra"))
        return cls(**fields, extra=items)

    def replace(self, **changes: Any) -> "ProjectionMeta":
        """A copy with fields changed; unknown names go into ``extra``."""
        fields = {k: v for k, v in changes.items() if k in _META_FIELDS}
        extra = {k: v for k, v in changes.items() if k not in _META_FIELDS}
        return dataclasses.replace(self, **fields, extra={**self.extra, **extra})

    def _set(self, key: str) -> bool:
        v = getattr(self, key)
        if key == "seed":
            return True  # None is a seed as passed: fresh randomness
        return v is not None and not (key in ("params", "not_applied") and not v)

    def __getitem__(self, key: str) -> Any:
        if key in _META_FIELDS:
            if self._set(key):
                return getattr(self, key)
            raise KeyError(key)
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in _META_FIELDS if self._set(k))
        yield from (k for k in self.extra if k not in _META_FIELDS)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _as_list(by: str | Iterable[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def group_sum(arr: np.ndarray, codes: np.ndarray, n_groups: int, dtype: np.dtype | type | None = None) -> np.ndarray:
    """Sum the last axis of ``arr`` (draw, year, cell) into ``n_groups`` groups.

    Cell ``j`` goes to group ``codes[j]``; cells with code -1 are left out. Sums go through
    a sparse indicator a block of (draw, year) rows at a time: integer draws stay integers
    (exact) unless ``dtype`` says otherwise, and no copy the size of ``arr`` is made (fresh
    memory of that size cost more than the sums).

    Examples
    --------
    >>> a = np.arange(12).reshape(1, 2, 6)
    >>> group_sum(a, np.array([0, 1, 0, -1, 1, 1]), 2).tolist()
    [[[2, 10], [14, 28]]]
    """
    d, y, c = arr.shape
    integer = np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool
    acc = np.int64 if integer else np.result_type(arr.dtype, np.float64)
    out_dtype = np.dtype(dtype) if dtype is not None else (arr.dtype if integer else acc)
    if np.issubdtype(out_dtype, np.floating):
        acc = np.float64
    use = np.flatnonzero(codes >= 0)
    ind_t = sparse.csr_matrix((np.ones(use.size, dtype=acc), (codes[use], use)), shape=(n_groups, c))
    flat = arr.reshape(d * y, c)
    out = np.empty((d * y, n_groups), dtype=out_dtype)
    step = max(1, 2**18 // max(c, 1))
    for r0 in range(0, d * y, step):
        block = np.ascontiguousarray(flat[r0:r0 + step].T, dtype=acc)
        out[r0:r0 + step] = (ind_t @ block).T
    return out.reshape(d, y, n_groups)


class Projection:
    """Simulated future counts (draws) by year and cell, with history for context.

    Parameters
    ----------
    draws : ndarray, shape (n_draws, n_years, n_cells)
        Simulated values (counts of children, or costs after :meth:`weighted`).
    years : sequence of int
        Projection years (January census years), length ``n_years``.
    cells : DataFrame
        One row per cell, one column per dimension: named dimensions such as ``DIMS`` (area,
        ncy, need, setting) or ``age_group``. A cell must not be the sum of other cells.
    history : DataFrame, optional
        Actual counts for context: columns ``year``, any of the dimensions, ``count``.
    flows : mapping of str to ndarray, optional
        Flow draws such as ``joiners``, ``leavers``, ``movers``, each shaped like ``draws``
        (a joiner counted in the cell joined, a leaver in the cell left).
    unit : str
        What a value is, used in tables and chart labels ("children", "GBP").
    meta : ProjectionMeta or mapping, optional
        Model alias, parameters, seed as passed, assumptions, carried into reports (a
        mapping is read by :meth:`ProjectionMeta.from_mapping`; ``n_draws`` defaults to the
        number of draws).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> cells = pd.DataFrame({"area": ["N", "S"], "ncy": [3, 3], "need": ["ASD", "ASD"],
    ...                       "setting": ["MS", "MS"]})
    >>> draws = np.arange(2 * 3 * 2).reshape(2, 3, 2)
    >>> p = Projection(draws, years=[2025, 2026, 2027], cells=cells)
    >>> p.summary()[["year", "mean"]].to_dict("list")
    {'year': [2025, 2026, 2027], 'mean': [7.0, 11.0, 15.0]}
    """

    def __init__(
        self,
        draws: np.ndarray,
        years: Sequence[int],
        cells: pd.DataFrame,
        *,
        history: pd.DataFrame | None = None,
        flows: Mapping[str, np.ndarray] | None = None,
        unit: str = "children",
        meta: ProjectionMeta | Mapping[str, object] | None = None,
    ) -> None:
        draws = np.asarray(draws)
        if draws.ndim != 3:
            raise SenForecastError(f"draws must be 3-d (draw, year, cell); got shape {draws.shape}")
        cells = pd.DataFrame(cells).reset_index(drop=True)
        _check_dims(cells.columns)
        if len(cells) != draws.shape[2] or len(years) != draws.shape[1]:
            raise SenForecastError(
                f"draws shape {draws.shape} does not match {len(years)} years x {len(cells)} cells"
            )
        self.draws = draws
        self.years = np.asarray(years, dtype=int)
        self.cells = cells
        self.history = history
        self.flows = dict(flows or {})
        for name, f in self.flows.items():
            if np.shape(f) != draws.shape:
                raise SenForecastError(f"flow {name!r} has shape {np.shape(f)}, expected {draws.shape}")
        self.unit = unit
        meta = ProjectionMeta.from_mapping(meta)
        self.meta: ProjectionMeta = meta if meta.n_draws is not None else meta.replace(n_draws=draws.shape[0])

    # ------------------------------------------------------------------ basics
    @property
    def n_draws(self) -> int:
        """Number of simulation draws."""
        return self.draws.shape[0]

    @property
    def dims(self) -> list[str]:
        """Dimensions the cells are labelled by."""
        return list(self.cells.columns)

    def __repr__(self) -> str:
        return (
            f"Projection({self.n_draws} draws, years {self.years.min()}-{self.years.max()}, "
            f"{len(self.cells)} cells over {self.dims}, unit={self.unit!r})"
        )

    def _grouping(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        missing = [b for b in by if b not in self.cells.columns]
        if missing:
            raise SenForecastError(
                f"cannot group by {missing}: this projection has dimensions {self.dims}"
            )
        if not by:
            return np.zeros(len(self.cells), dtype=np.int64), pd.DataFrame(index=[0])
        keys = self.cells[by]
        codes = keys.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
        labels = keys.drop_duplicates().assign(_g=codes[~keys.duplicated().to_numpy()])
        labels = labels.sort_values("_g").drop(columns="_g").reset_index(drop=True)
        return codes, labels

    # ------------------------------------------------------------ aggregation
    def aggregate(self, by: str | Iterable[str] | None = None) -> "Projection":
        """Sum cells over every dimension not in ``by``.

        Parameters
        ----------
        by : str or list of str, optional
            Dimensions to keep; none keeps just the total.

        Returns
        -------
        Projection
            With one cell per combination of ``by``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> cells = pd.DataFrame({"area": ["N", "S", "S"], "need": ["ASD", "ASD", "SLD"]})
        >>> p = Projection(np.ones((4, 2, 3), int), [2025, 2026], cells)
        >>> p.aggregate("area").cells["area"].tolist()
        ['N', 'S']
        """
        by = _as_list(by)
        codes, labels = self._grouping(by)
        n = len(labels)
        hist = self.history
        if hist is not None:
            keep = [b for b in by if b in hist.columns]
            if len(keep) == len(by):
                hist = hist.groupby(["year", *keep], as_index=False, dropna=False)["count"].sum()
            else:
                hist = None
        return Projection(
            group_sum(self.draws, codes, n),
            self.years,
            labels,
            history=hist,
            flows={k: group_sum(v, codes, n) for k, v in self.flows.items()},
            unit=self.unit,
            meta=self.meta,
        )

    def has_dim(self, dim: str) -> bool:
        """Whether the cells vary on ``dim`` (a model without a dimension puts ``"ALL"`` there).

        Examples
        --------
        >>> cells = pd.DataFrame({"need": ["ASD", "SLD"], "setting": ["ALL", "ALL"]})
        >>> p = Projection(np.ones((2, 1, 2), int), [2026], cells)
        >>> p.has_dim("need"), p.has_dim("setting"), p.has_dim("area")
        (True, False, False)
        """
        return dim in self.cells.columns and not self.cells[dim].astype(str).eq("ALL").all()

    def total(self) -> np.ndarray:
        """Draws of the grand total, shape (n_draws, n_years)."""
        return self.draws.sum(axis=2)

    def sel(self, **criteria: object) -> "Projection":
        """Keep cells whose dimension values match (a value or any list-like of values), and
        the history of those values.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> cells = pd.DataFrame({"ncy": [5, 6, 7]})
        >>> Projection(np.ones((2, 1, 3), int), [2025], cells).sel(ncy=[6, 7]).cells["ncy"].tolist()
        [6, 7]
        """
        mask = np.ones(len(self.cells), dtype=bool)
        for dim, val in criteria.items():
            if dim not in self.cells.columns:
                raise SenForecastError(f"no dimension {dim!r}; dimensions are {self.dims}")
            mask &= self.cells[dim].isin(_list_of(val)).to_numpy()
        hist = self.history
        if hist is not None:
            for dim, val in criteria.items():
                if dim in hist.columns:
                    hist = hist[hist[dim].isin(_list_of(val))]
        return Projection(
            self.draws[:, :, mask],
            self.years,
            self.cells.loc[mask].reset_index(drop=True),
            history=hist,
            flows={k: v[:, :, mask] for k, v in self.flows.items()},
            unit=self.unit,
            meta=self.meta,
        )

    # --------------------------------------------------------------- summaries
    def _tidy(self, arr: np.ndarray, labels: pd.DataFrame, stats: Mapping[str, np.ndarray]) -> pd.DataFrame:
        n_years, n_groups = arr.shape[1], arr.shape[2]
        frame = pd.DataFrame({"year": np.repeat(self.years, n_groups)})
        lab = labels.loc[np.tile(np.arange(n_groups), n_years)].reset_index(drop=True)
        frame = pd.concat([lab, frame], axis=1)
        for k, v in stats.items():
            frame[k] = v.reshape(-1)
        return frame

    def summary(
        self,
        by: str | Iterable[str] | None = None,
        quantiles: Sequence[float] | None = None,
        *,
        level: float | None = None,
    ) -> pd.DataFrame:
        """Tidy table of the mean and quantiles of the projected outcome.

        Parameters
        ----------
        by : str or list of str, optional
            Dimensions to break down by (default the total).
        quantiles : sequence of float, optional
            Quantiles in (0, 1), default ``DEFAULT_QUANTILES``; column ``p05`` is the 5th
            percentile of the draws, so ``p05``-``p95`` is a 90% prediction interval.
        level : float, optional
            Instead of ``quantiles``: the central interval wanted (0.8 gives ``p10``, ``p90``).

        Returns
        -------
        DataFrame
            Columns ``by...``, ``year``, then :func:`summarise`'s ``mean``, ``median``, ``pXX``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> p = Projection(np.arange(10).reshape(10, 1, 1), [2030], pd.DataFrame({"need": ["ASD"]}))
        >>> p.summary(by="need", quantiles=[0.1, 0.9])[["need", "median", "p10", "p90"]].values.tolist()
        [['ASD', 4.5, 0.9, 8.1]]
        >>> p.summary(level=0.8).columns.tolist()
        ['year', 'mean', 'median', 'p10', 'p90']
        """
        agg = self.aggregate(_as_list(by))
        return self._tidy(agg.draws, agg.cells, summarise(agg.draws, quantiles, level=level))

    def quantile(self, q: float, by: str | Iterable[str] | None = None) -> pd.DataFrame:
        """One quantile of the outcome by ``by`` and year (column ``value``).

        Examples
        --------
        >>> p = Projection(np.arange(11).reshape(11, 1, 1), [2030], pd.DataFrame({"need": ["ASD"]}))
        >>> p.quantile(0.9)[["year", "value"]].values.tolist()
        [[2030.0, 9.0]]
        """
        agg = self.aggregate(_as_list(by))
        stats = {"value": np.quantile(agg.draws, q, axis=0)}
        return self._tidy(agg.draws, agg.cells, stats)

    def flows_summary(
        self,
        by: str | Iterable[str] | None = None,
        quantiles: Sequence[float] | None = None,
        *,
        level: float | None = None,
    ) -> pd.DataFrame:
        """Tidy summary of each flow (joiners, leavers, movers ...) by year.

        Parameters
        ----------
        by, quantiles, level
            As for :meth:`summary`.

        Returns
        -------
        DataFrame
            Columns ``flow``, ``by...``, ``year``, then :func:`summarise`'s columns.
        """
        if not self.flows:
            raise SenForecastError("this projection has no flows (the model did not record them)")
        by = _as_list(by)
        codes, labels = self._grouping(by)
        frames = []
        for name, arr in self.flows.items():
            summed = group_sum(arr, codes, len(labels))
            f = self._tidy(summed, labels, summarise(summed, quantiles, level=level))
            f.insert(0, "flow", name)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def to_frame(self, by: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Long table of every draw: ``draw, by..., year, value``."""
        agg = self.aggregate(_as_list(by))
        d, y, g = agg.draws.shape
        idx = np.indices((d, y, g)).reshape(3, -1)
        frame = agg.cells.loc[idx[2]].reset_index(drop=True)
        frame.insert(0, "draw", idx[0])
        frame["year"] = self.years[idx[1]]
        frame["value"] = agg.draws.reshape(-1)
        return frame

    def probability(self, threshold: float | np.ndarray, by: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Share of draws in which the outcome exceeds ``threshold``, by ``by`` and year.

        Parameters
        ----------
        threshold : float or ndarray broadcastable to (n_years, n_groups)
            E.g. a capacity.
        """
        agg = self.aggregate(_as_list(by))
        prob = (agg.draws > np.asarray(threshold)).mean(axis=0)
        g = agg.draws.shape[2]
        frame = agg.cells.loc[np.tile(np.arange(g), len(self.years))].reset_index(drop=True)
        frame["year"] = np.repeat(self.years, g)
        frame["probability"] = prob.reshape(-1)
        return frame

    # ------------------------------------------------------------ transforms
    def weighted(self, weights: pd.DataFrame | np.ndarray, *, unit: str = "GBP") -> "Projection":
        """Multiply each cell by a weight, e.g. a cost per place, giving a cost projection.

        Parameters
        ----------
        weights : ndarray of shape (n_cells,) or DataFrame
            A DataFrame has some dimension columns and a ``weight`` column (or
            ``cost_per_place``/``cost``); cells are matched on the shared dimensions and a
            cell with no match raises, so no cost is silently zero.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> p = Projection(np.ones((1, 1, 2), int), [2030], pd.DataFrame({"setting": ["A", "B"]}))
        >>> w = pd.DataFrame({"setting": ["A", "B"], "cost": [10.0, 20.0]})
        >>> float(p.weighted(w).total()[0, 0])
        30.0
        """
        if isinstance(weights, pd.DataFrame):
            wcol = next((c for c in ("weight", "cost_per_place", "cost") if c in weights.columns), None)
            if wcol is None:
                raise SenForecastError("weights table needs a 'weight', 'cost_per_place' or 'cost' column")
            keys = [c for c in weights.columns if c in self.cells.columns]
            if not keys:
                raise SenForecastError(f"weights share no dimension with the projection {self.dims}")
            dup = weights.duplicated(keys)
            if dup.any():
                raise SenForecastError(f"weights table has duplicate rows for {keys}: {weights[dup].head(3).to_dict('records')}")
            merged = self.cells.merge(weights[keys + [wcol]], on=keys, how="left")
            if merged[wcol].isna().any():
                miss = merged.loc[merged[wcol].isna(), keys].drop_duplicates().head(5)
                raise SenForecastError(
                    f"no {wcol} for cells {miss.to_dict('records')}: add them to the cost table"
                )
            w = merged[wcol].to_numpy(dtype=float)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (len(self.cells),):
                raise SenForecastError(f"weights must have one value per cell ({len(self.cells)})")
        return Projection(self.draws * w, self.years, self.cells, unit=unit, meta=self.meta)

    @property
    def plot(self):
        """Charts of this projection (see :mod:`senforecast.plotting`)."""
        from .plotting.accessors import ProjectionPlots  # lazy: matplotlib loads only when a chart is drawn

        return ProjectionPlots(self)
