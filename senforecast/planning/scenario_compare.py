"""Scenarios side by side: places short, out-of-county placements and cost per year.

A scenario's demand side (growth of plans, rate changes, redirects) is applied by the model
(``model.project(scenario=...)``); its supply side (``provision_changes``, and closures of
specialist or out-of-county settings, whose children the allocation re-places) by the gap
analysis (:func:`senforecast.planning.gap.demand_scenario` splits the two).
:func:`compare_scenarios` runs both for each scenario, or takes ready-made gap analyses.
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.errors import InputWarning, SenForecastError
from .gap import GapAnalysis, demand_scenario, gap_analysis
from ..projection import Projection, quantile_label
from ..core.scenarios import Scenario

MEASURES = ("places_short", "ooc", "ooc_cost", "total_cost")


def scenario_table(gap: GapAnalysis, name: str | None = None) -> pd.DataFrame:
    """Per-year measures of one gap analysis, as used by :func:`compare_scenarios`.

    Columns ``scenario, year`` and for each of ``places_short`` (children beyond local
    capacity, ``max(demand - capacity, 0)``), ``ooc`` (placed out of county by the
    allocation), ``ooc_cost`` and ``total_cost`` (out of county + local places used): the
    median and the interval at the gap's confidence (e.g. ``ooc_p05``, ``ooc_p95``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...     "capacity": [10, None], "cost_per_place": [20000, 60000]})
    >>> cells = pd.DataFrame({"ncy": [3, 3], "need": ["ASD"] * 2, "setting": ["RB1", "IND"]})
    >>> gap = gap_analysis(Projection(np.array([[[9, 4]]]), [2026], cells), reg)
    >>> scenario_table(gap)[["scenario", "places_short_median", "ooc_median", "total_cost_median"]].values.tolist()
    [['baseline', 3.0, 3.0, 380000.0]]
    """
    lo, hi = gap.quantiles
    total = gap.demand.sum(axis=2)
    cap = gap.capacity.sum(axis=1)
    arrays = {"places_short": np.clip(total - cap[None, :], 0, None)}
    if gap.allocation is not None:
        arrays["ooc"] = gap.ooc_total
        arrays["ooc_cost"] = gap.ooc_cost
        arrays["total_cost"] = gap.ooc_cost + gap.local_cost
    out = pd.DataFrame({"scenario": name or gap.name, "year": gap.years})
    for m, arr in arrays.items():
        q = np.quantile(arr, [lo, 0.5, hi], axis=0)
        out[f"{m}_median"] = q[1]
        out[f"{m}_{quantile_label(lo)}"] = q[0]
        out[f"{m}_{quantile_label(hi)}"] = q[2]
    return out


def compare_scenarios(
    scenarios: Mapping[str, Any] | Sequence[Scenario | GapAnalysis],
    provision: pd.DataFrame | None = None,
    *,
    model: Any = None,
    projection: Projection | None = None,
    years: int | Sequence[int] | None = None,
    n_draws: int = 1000,
    seed: int | None = 0,
    wide: bool = False,
    **gap_kwargs: Any,
) -> pd.DataFrame:
    """Places short, out-of-county placements and cost per year for several scenarios.

    Parameters
    ----------
    scenarios : dict or list
        Any of: ``{name: GapAnalysis}``; ``{name: (projection, provision_or_scenario)}``
        (a Scenario's provision changes are applied to ``provision``); a list of
        :class:`Scenario` run through ``model`` (fitted; its ``project(years,
        scenario=..., n_draws=..., seed=...)`` applies the demand side) or, without a model,
        through one ``projection`` (supply side only); a list of GapAnalysis.
    provision : DataFrame, optional
        The provision register (needed unless gap analyses are given).
    model : fitted model, optional
        Projects each scenario; the same ``seed`` is used so differences are not noise.
    projection : Projection, optional
        Shared demand when scenarios only change supply.
    years, n_draws, seed
        Passed to ``model.project``.
    wide : bool
        Return one row per year with columns ``(measure, scenario)`` instead of a long table.
    **gap_kwargs
        Passed to :func:`senforecast.planning.gap.gap_analysis` (``confidence``, ``ooc_cost_per_place`` ...).

    Returns
    -------
    DataFrame
        Long: ``scenario, year``, measures (see :func:`scenario_table`) and
        ``ooc_change``/``total_cost_change`` (median difference from the first scenario in the
        same draws) with their interval (e.g. ``ooc_change_p05``, ``ooc_change_p95`` at the
        gap's confidence). Wide: medians pivoted by scenario.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast.core.scenarios import ProvisionChange
    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...     "area": ["N", "X"], "capacity": [10, None], "cost_per_place": [20000, 60000]})
    >>> cells = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 3], "need": ["ASD"] * 2,
    ...                       "setting": ["RB1", "IND"]})
    >>> proj = Projection(np.array([[[9, 4]]]), [2026], cells)
    >>> more = Scenario("expand", provision_changes=(ProvisionChange("RB1", 12, 2026),))
    >>> t = compare_scenarios([Scenario(), more], reg, projection=proj)
    >>> t[["scenario", "ooc_median", "ooc_change"]].values.tolist()
    [['baseline', 3.0, 0.0], ['expand', 1.0, -2.0]]
    """
    gaps: dict[str, GapAnalysis] = {}
    items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
    for name, item in items:
        if isinstance(item, GapAnalysis):
            gap = item
        elif isinstance(item, tuple) and len(item) == 2:
            proj, supply = item
            if isinstance(supply, pd.DataFrame):
                gap = gap_analysis(proj, supply, **gap_kwargs)
            else:
                _need(provision, "provision")
                gap = gap_analysis(proj, provision, scenario=supply, **gap_kwargs)
        elif isinstance(item, Scenario):
            _need(provision, "provision")
            if model is not None:
                if years is None:
                    raise SenForecastError("compare_scenarios with a model needs years=... (horizon or list)")
                # closures of specialist settings are supply side: the gap re-places their children
                part = demand_scenario(item, provision, gap_kwargs.get("kinds"))
                proj = model.project(years, scenario=part, n_draws=n_draws, seed=seed)
            elif projection is not None:
                if _has_demand_side(demand_scenario(item, provision, gap_kwargs.get("kinds"))):
                    warnings.warn(
                        f"scenario {item.name!r} changes demand, but no model was given to project it: only "
                        "its provision changes are applied (pass model=...)", InputWarning, stacklevel=2)
                proj = projection
            else:
                raise SenForecastError("pass model=... (or projection=... for supply-only scenarios)")
            gap = gap_analysis(proj, provision, scenario=item, **gap_kwargs)
        else:
            raise SenForecastError(
                f"cannot compare {type(item).__name__}: give Scenario objects, GapAnalysis objects or "
                "(projection, provision-or-scenario) pairs"
            )
        label = name or (item.name if isinstance(item, Scenario) else gap.name)
        if label in gaps:
            raise SenForecastError(f"two scenarios are named {label!r}; rename one with .renamed(...)")
        gaps[label] = gap
    if not gaps:
        raise SenForecastError("no scenarios to compare")
    tables = [scenario_table(g, n) for n, g in gaps.items()]
    first_name, first = next(iter(gaps.items()))
    for (n, g), t in zip(gaps.items(), tables):
        if g.allocation is None or first.allocation is None:
            continue
        if g.demand.shape[0] == first.demand.shape[0] and np.array_equal(g.years, first.years):
            # paired draws (same seed, common random numbers): quantiles of the per-draw
            # difference, not differences of quantiles
            changes = {"ooc_change": g.ooc_total - first.ooc_total,
                       "total_cost_change": (g.ooc_cost + g.local_cost) - (first.ooc_cost + first.local_cost)}
            for col, diff in changes.items():
                t[col] = np.median(diff, axis=0)
                for q in g.quantiles:
                    t[f"{col}_{quantile_label(q)}"] = np.quantile(diff, q, axis=0)
    out = pd.concat(tables, ignore_index=True)
    if wide:
        meds = [c for c in out.columns if c.endswith("_median")]
        return out.pivot(index="year", columns="scenario", values=meds)
    return out


def _need(value: object, what: str) -> None:
    if value is None:
        raise SenForecastError(f"compare_scenarios needs the {what} table for these scenarios")


def _has_demand_side(s: Scenario) -> bool:
    return bool(s.joiner_multiplier != 1.0 or s.rate_changes or s.redirects or s.closures)
