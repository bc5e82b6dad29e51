"""A panel of aggregate series (authority x age group or setting, by year) as one numpy array."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.errors import ModelError, SenForecastError
from .breaks import break_matrix

TOTAL = "total"
"""Label of a published authority total among a panel's series (not a projection cell)."""


@dataclass
class SeriesPanel:
    """Series by year: ``values[i, j]`` = count (or rate) of series i in ``years[j]``.

    Attributes
    ----------
    keys : DataFrame
        ``area``, the dimension column and ``region`` of each series.
    group, region : ndarray of int
        Index of each series' group (age group / setting) and region.
    population : ndarray or None
        Population by series and year (history) when rates are modelled.
    breaks : ndarray of bool or None
        ``breaks[i, j]``: series i in ``years[j]`` is not comparable with the year before
        (declared, see :mod:`senforecast.models.panel.breaks`).

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2019, 2020, 2021, 2022] * 2, "area": ["A"] * 4 + ["B"] * 4,
    ...                   "setting": "total", "count": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    >>> SeriesPanel.from_table(t, "setting").values.tolist()
    [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    """

    values: np.ndarray
    years: np.ndarray
    keys: pd.DataFrame
    dim: str
    group: np.ndarray
    region: np.ndarray
    counts: np.ndarray
    population: np.ndarray | None = None
    population_table: pd.DataFrame | None = None
    breaks: np.ndarray | None = None

    @classmethod
    def from_table(cls, table: pd.DataFrame, dim: str, population: pd.DataFrame | None = None,
                   breaks: pd.DataFrame | None = None) -> "SeriesPanel":
        need = {"year", "area", dim, "count"}
        missing = need - set(table.columns)
        if missing:
            raise SenForecastError(f"table needs columns {sorted(need)}; missing {sorted(missing)}")
        if table.duplicated(["year", "area", dim]).any():
            raise SenForecastError(f"table has more than one row per year, area and {dim}")
        wide = table.pivot(index=["area", dim], columns="year", values="count").sort_index()
        years = wide.columns.to_numpy(dtype=int)
        if len(years) < 4 or not np.array_equal(years, np.arange(years[0], years[-1] + 1)):
            raise ModelError(f"need at least 4 consecutive years of history; got years {years.tolist()}")
        keys = wide.index.to_frame(index=False)
        if "region" in table.columns:
            reg = table.drop_duplicates("area").set_index("area")["region"]
            keys["region"] = keys["area"].map(reg).fillna("unknown").astype(str)
        else:
            keys["region"] = "all"
        group = pd.factorize(keys[dim], sort=True)[0]
        region = pd.factorize(keys["region"], sort=True)[0]
        counts = wide.to_numpy(dtype=float)
        values, pop = counts, None
        if population is not None:
            pop = cls._population_matrix(population, keys, dim, years)
            if np.isnan(pop).any() or (pop <= 0).any():
                raise SenForecastError("population is missing or zero for some area and year of the history")
            values = counts / pop * 1000.0  # plans per 1,000 residents
        brk = break_matrix(keys, dim, years, breaks) if breaks is not None else None
        return cls(values=values, years=years, keys=keys, dim=dim, group=group, region=region, counts=counts,
                   population=pop, population_table=population, breaks=brk)

    @staticmethod
    def _population_matrix(population: pd.DataFrame, keys: pd.DataFrame, dim: str, years) -> np.ndarray:
        by = ["area", dim] if dim in population.columns else ["area"]
        wide = population.groupby([*by, "year"])["count"].sum().unstack("year")
        idx = pd.MultiIndex.from_frame(keys[by]) if len(by) > 1 else pd.Index(keys["area"])
        return wide.reindex(index=idx, columns=list(years)).to_numpy(dtype=float)

    def to_counts(self, draws: np.ndarray, years: np.ndarray, population: pd.DataFrame | None = None) -> np.ndarray:
        """Turn draws of the modelled values into counts (multiplying rates by future population)."""
        if self.population is None:
            return draws
        pop_table = population if population is not None else self.population_table
        fut = self._population_matrix(pop_table, self.keys, self.dim, years)
        if np.isnan(fut).any():
            raise ModelError(f"population projection is missing for some area in years {years.tolist()}")
        return draws * fut.T[None] / 1000.0

    def part_rows(self) -> np.ndarray:
        """Rows a projection carries: every series but a published ``"total"`` beside its parts
        (a projection's total is the sum of its cells); a panel of totals only keeps them.

        Examples
        --------
        >>> t = pd.DataFrame({"year": np.repeat(np.arange(2019, 2023), 2), "area": "A",
        ...                   "setting": ["special_school", "total"] * 4, "count": 1.0})
        >>> SeriesPanel.from_table(t, "setting").part_rows().tolist()
        [True, False]
        """
        is_total = self.keys[self.dim].astype(str).eq(TOTAL).to_numpy()
        return ~is_total if not is_total.all() else np.ones(len(is_total), dtype=bool)

    def cells(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Projection cells of ``rows`` (default :meth:`part_rows`): ``area`` and the panel's
        dimension (``age_group`` or ``setting``); ``area`` alone for a panel of totals."""
        rows = self.part_rows() if rows is None else rows
        keys = self.keys[rows]
        out = pd.DataFrame({"area": keys["area"].to_numpy()})
        if not keys[self.dim].astype(str).eq(TOTAL).all():
            out[self.dim] = keys[self.dim].to_numpy()
        return out

    def history(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Observed counts of the projection cells: ``year, area, [dim], count``."""
        rows = self.part_rows() if rows is None else rows
        cells = self.cells(rows)
        counts = self.counts[rows]
        n, y = counts.shape
        h = cells.loc[np.repeat(np.arange(n), y)].reset_index(drop=True)
        h.insert(0, "year", np.tile(self.years, n))
        h["count"] = counts.reshape(-1)
        return h
