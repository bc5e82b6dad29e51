"""Series breaks declared as data: a year from which a series is counted differently.

A break ``(year, series, kind)`` says that ``series`` in ``year`` is not comparable with
``year - 1`` (e.g. a reclassification moved children into it), so the growth from
``year - 1`` to ``year`` is not evidence of a trend. Models that respect breaks leave that
year's growth out (they fit only across comparable years: the break is a level shift).

:data:`SERIES_BREAKS` lists the breaks known in the England EHC plans release.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.errors import SenForecastError

SERIES_BREAKS = pd.DataFrame([
    {"year": 2017, "series": "resourced_provision_unit", "kind": "reclassification",
     "note": "units and resourced provision in academies and free schools recorded separately from 2017 "
             "(before: inside mainstream)"},
    {"year": 2017, "series": "specialist", "kind": "reclassification",
     "note": "contains resourced provision + units (same reclassification)"},
])
"""Breaks in the England release: ``year, series, kind, note`` (an optional ``area`` column
limits a break to some authorities)."""


def break_matrix(keys: pd.DataFrame, dim: str, years, breaks: pd.DataFrame | None) -> np.ndarray:
    """Boolean ``(n_series, n_years)``: True where a series is not comparable with the year before.

    Parameters
    ----------
    keys : DataFrame
        ``area`` and ``dim`` of every series (a :class:`~.series.SeriesPanel`'s keys).
    dim : str
        Column whose values the breaks' ``series`` refer to.
    years : sequence of int
        The panel's years.
    breaks : DataFrame or None
        ``year, series`` (+ optional ``kind``, ``area``).

    Examples
    --------
    >>> keys = pd.DataFrame({"area": ["A", "A", "B"], "setting": ["total", "units", "units"]})
    >>> brk = pd.DataFrame({"year": [2017], "series": ["units"], "kind": ["reclassification"]})
    >>> break_matrix(keys, "setting", [2016, 2017, 2018], brk).astype(int).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 1, 0]]
    """
    years = list(years)
    out = np.zeros((len(keys), len(years)), bool)
    if breaks is None or len(breaks) == 0:
        return out
    missing = {"year", "series"} - set(breaks.columns)
    if missing:
        raise SenForecastError(f"breaks table needs columns 'year' and 'series' (missing {sorted(missing)}); "
                               "one row per break: the first year counted the new way")
    series = keys[dim].to_numpy()
    area = keys["area"].to_numpy()
    for row in breaks.itertuples(index=False):
        y = int(row.year)
        if y not in years:
            continue
        m = series == row.series
        a = getattr(row, "area", None)
        if isinstance(a, str) and a:
            m &= area == a
        out[m, years.index(y)] = True
    return out
