"""Table builders of a pipeline run (assumptions, statutory returns); the charts are in
:mod:`senforecast.reporting.figures`.

Which tables a run publishes, and how each is protected, is declared in
:mod:`senforecast.reporting.outputs` (the outputs registry), which uses these builders.
Every table is tidy and holds no pupil ids.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from ..core.errors import InputWarning, SenForecastError
from ..planning.statutory import scap_return, scap_table, to_wide, welsh_need_table

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline.run import PipelineResult

_STATS = ["mean", "median", "p05", "p25", "p75", "p95"]


def _projection_table(result: "PipelineResult", by: list[str]) -> pd.DataFrame:
    t = result.projection.summary(by or None)
    return t[[*by, "year", *[c for c in _STATS if c in t.columns]]]


def _kind_map(result: "PipelineResult") -> dict[str, str]:
    prov = result.data.provision
    kinds = dict(zip(prov["setting"].astype(str), prov["kind"].astype(str))) if prov is not None else {}
    kinds.update(result.config.kinds)
    return kinds


def _ncy_range_as_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """An ``ncy`` text column such as "-1 to 13" as two number columns (a text cell starting
    with "-" would be shown with a formula-guard quote in Excel)."""
    if "ncy" not in table.columns or pd.api.types.is_numeric_dtype(table["ncy"]):
        return table
    parts = table["ncy"].astype(str).str.extract(r"^\s*(-?\d+)\s+to\s+(-?\d+)\s*$")
    if parts.isna().any().any():
        return table
    at = table.columns.get_loc("ncy")
    out = table.drop(columns="ncy")
    out.insert(at, "max_ncy", parts[1].astype(int).to_numpy())
    out.insert(at, "min_ncy", parts[0].astype(int).to_numpy())
    return out


def statutory_tables(result: "PipelineResult") -> dict[str, pd.DataFrame]:
    """Return-style tables: specialist place demand by provision type and NCY group (England's
    school capacity return: 5 years ahead primary, 7 secondary) and, for Welsh need codes, by
    major need. Needs a projection by setting; a table that cannot be made is noted in
    ``result.warnings`` instead.

    Parameters
    ----------
    result : PipelineResult
        A run whose projection is by setting; its ``warnings`` list gets any notes.

    Returns
    -------
    dict of str to DataFrame
        ``Return - by provision type`` (long), ``Return - provision type wide``, the SCAP
        layout (``Return - SCAP primary`` and ``Return - SCAP secondary``: provision types
        UR/IN/SS/AP, one row per scholastic year, one column per NCY) and, for Welsh need codes,
        ``Return - by major need``; empty when nothing can be made.

    Examples
    --------
    A two-year projection cannot fill the return's five (primary) and seven (secondary)
    years; the tables are made and the shortfall is noted:

    >>> from senforecast.pipeline.run import run_pipeline
    >>> from senforecast.pipeline.config import demo_config
    >>> cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> res = run_pipeline(cfg, charts=False)
    >>> res.warnings.clear()  # start afresh (the run made these tables once already)
    >>> tables = statutory_tables(res)
    >>> list(tables)  # doctest: +NORMALIZE_WHITESPACE
    ['Return - by provision type', 'Return - provision type wide', 'Return - SCAP primary',
     'Return - SCAP secondary', 'Return - by major need']
    >>> any("fewer years than asked for" in w for w in res.warnings)
    True
    """
    p, cfg = result.projection, result.config
    if not p.has_dim("setting"):
        result.warnings.append("statutory tables not made: the model does not project settings")
        return {}
    out = {}
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            out.update(_return_tables(p, result.data.provision, cfg))
    except SenForecastError as exc:
        result.warnings.append(f"statutory tables not made: {exc}")
    for w in caught:
        if issubclass(w.category, InputWarning) and f"statutory tables: {w.message}" not in result.warnings:
            result.warnings.append(f"statutory tables: {w.message}")
    return out


def _return_tables(p, provision: pd.DataFrame, cfg) -> dict[str, pd.DataFrame]:
    scap = scap_table(p, provision, kinds=cfg.kinds or None)
    out = {"Return - by provision type": scap, "Return - provision type wide": to_wide(scap)}
    for phase, table in scap_return(p, provision, kinds=cfg.kinds or None).items():
        out[f"Return - SCAP {phase}"] = table
    if cfg.need_scheme and cfg.need_scheme.startswith("wales"):
        out["Return - by major need"] = welsh_need_table(p, provision, scheme=cfg.need_scheme,
                                                         kinds=cfg.kinds or None)
    return out


def assumptions(result: "PipelineResult") -> pd.DataFrame:
    """Method and assumptions of a run as an ``item, value`` table (report and workbook).

    Examples
    --------
    >>> from senforecast.pipeline import demo_config, run_pipeline
    >>> cfg = demo_config().replace(draws=50, horizon=2, seed=7, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> a = assumptions(run_pipeline(cfg, charts=False)).set_index("item")["value"]
    >>> a["series forecast"]
    'statement or LA-maintained IDP (EHC-plan equivalent), 2019-2025; no children with other plan types in the data'
    >>> a["simulation draws"], a["last census"], a["projection years"]
    ('50 (seed 7)', '2025', '2026-2027')
    >>> a["model"].startswith("CohortModel(mode='witan'). Markov cohort model")
    True
    """
    cfg, p, g = result.config, result.projection, result.gap
    lo, hi = g.quantiles
    model_text = {
        "cohort": "Markov cohort model: each child moves year to year between need x setting states by NCY, "
                  "joins or leaves with rates fitted to past censuses (Bayesian priors pooled across "
                  "states); new plans per head of population.",
        "prevalence": "Prevalence model: children with plans per head of population by area, NCY and need, "
                      "trended with count GLMs and partial pooling across small areas; children are split into "
                      "settings by each need and phase's setting mix of the last three censuses "
                      "(SettingSplit: pooled across groups, with its uncertainty and year-to-year movement), "
                      "or thinned by [gap] specialist_share when one is set.",
    }[cfg.model]
    rows = [("authority", cfg.name)]
    if result.data.series is not None:  # which children were forecast (Welsh plan types)
        rows.append(("series forecast", result.data.series.sentence()))
    rows += [
        ("model", f"{p.meta.get('model', cfg.model)}. {model_text}"),
        ("last census", str(int(p.years.min()) - 1)),
        ("projection years", f"{int(p.years.min())}-{int(p.years.max())}"),
        ("simulation draws", f"{p.n_draws} (seed {cfg.seed})"),
        ("intervals", f"prediction intervals of the outcome: 50% (p25-p75) and 90% (p05-p95); gap tables "
                      f"use p{round(lo * 100):02d}-p{round(hi * 100):02d}"),
        ("population", "the population table's projection (children per area and NCY); new plans scale with it"),
        ("demand for specialist places", "children projected in resource bases, special schools, units and "
                                          "out-of-county settings; " + (
                                              "children the model keeps out of county stay there (placements "
                                              "continue); children projected in local specialist settings get a "
                                              "suitable local place (designation, age range, own area first) "
                                              "and those who do not fit go out of county"
                                              if cfg.ooc_placements == "stay" else
                                              "the allocation offers each, including those now out of county, a "
                                              "suitable local place (designation, age range, own area first) "
                                              "before out of county")),
        ("out-of-county cost per place", f"{g.ooc_cost_per_place:,.0f} GBP a year on average at "
                                          f"{g.costs.base_year} prices (by need in the cost tables)"),
        ("costs", g.costs.describe()),
        ("need scheme", cfg.need_scheme or "(codes not checked)"),
    ]
    if cfg.kinds:
        rows.append(("setting kinds overridden", ", ".join(f"{k} = {v}" for k, v in cfg.kinds.items())))
    for s in cfg.scenarios:
        rows.append((f"scenario: {s.name}", s.description or "(no description)"))
    if cfg.suppress_below:
        rows.append(("suppression", f"counts below {cfg.suppress_below:g} hidden in published tables"))
    return pd.DataFrame(rows, columns=["item", "value"])
