"""Small simulated panels in the published tables' layout, for tests and the model registry.

Each is a tidy ``year, area, region, <dim>, count`` table of 40 authorities over ten censuses,
with a ``"total"`` row per authority and year equal to the sum of its parts, as the DfE tables
have. They come from known processes (an age-flow process; settings growing at their own rates)
so the models fit in well under a second.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .series import TOTAL

__all__ = ["example_age_table", "example_setting_table"]

_AGE_GROUPS = ("0-4", "5-10", "11-15", "16-19", "20-25")
_SETTINGS = ("mainstream", "resourced_provision_unit", "special_school", "independent")


def _frame(counts: np.ndarray, labels: tuple[str, ...], dim: str, first_year: int, seed: int) -> pd.DataFrame:
    """Tidy table from counts (areas, groups, years), with a total row per area and year."""
    n_areas, _, n_years = counts.shape
    region = np.random.default_rng(seed + 1).integers(0, 4, n_areas)
    rows = []
    full = np.concatenate([counts, counts.sum(axis=1, keepdims=True)], axis=1)
    for a in range(n_areas):
        for g, label in enumerate((*labels, TOTAL)):
            for t in range(n_years):
                rows.append((first_year + t, f"E{a:03d}", f"R{region[a]}", label, float(full[a, g, t])))
    return pd.DataFrame(rows, columns=["year", "area", "region", dim, "count"])


def example_age_table(n_areas: int = 40, n_years: int = 10, first_year: int = 2012, seed: int = 0) -> pd.DataFrame:
    """Plans by age group from an age-flow process: each group keeps ``stay`` of itself and takes
    ``move_up`` of the group below, with 3% noise a year.

    Examples
    --------
    >>> t = example_age_table()
    >>> sorted(t["age_group"].unique())[:2], t["year"].nunique()
    (['0-4', '11-15'], 10)
    >>> by = t.pivot_table(index=["year", "area"], columns="age_group", values="count")
    >>> bool((by["total"] == by.drop(columns="total").sum(axis=1)).all())
    True
    """
    rng = np.random.default_rng(seed)
    stay = np.array([1.04, 0.86, 0.80, 0.70, 0.85])
    up = np.array([0.0, 0.15, 0.22, 0.18, 0.10])
    N = np.zeros((n_areas, len(_AGE_GROUPS), n_years))
    N[:, :, 0] = rng.uniform(50, 400, (n_areas, 1)) * np.array([0.1, 0.35, 0.3, 0.15, 0.1])
    for t in range(n_years - 1):
        nxt = stay * N[:, :, t]
        nxt[:, 1:] += up[1:] * N[:, :-1, t]
        N[:, :, t + 1] = nxt * np.exp(rng.normal(0, 0.03, nxt.shape))
    return _frame(np.round(N), _AGE_GROUPS, "age_group", first_year, seed)


def example_setting_table(n_areas: int = 40, n_years: int = 10, first_year: int = 2012,
                          seed: int = 0) -> pd.DataFrame:
    """Plans by setting type: each setting grows at its own yearly rate plus a national shock
    and each authority's noise.

    Examples
    --------
    >>> t = example_setting_table()
    >>> sorted(t["setting"].unique())
    ['independent', 'mainstream', 'resourced_provision_unit', 'special_school', 'total']
    """
    rng = np.random.default_rng(seed)
    growth = np.array([0.08, 0.05, 0.06, 0.10])
    size = rng.uniform(100, 800, (n_areas, 1)) * np.array([0.5, 0.08, 0.35, 0.07])
    national = rng.normal(0, 0.02, n_years)
    log_growth = growth[None, :, None] + national[None, None, :] + rng.normal(0, 0.04, (n_areas, len(growth), n_years))
    log_growth[:, :, 0] = 0.0
    counts = size[:, :, None] * np.exp(np.cumsum(log_growth, axis=2))
    return _frame(np.round(counts), _SETTINGS, "setting", first_year, seed)
