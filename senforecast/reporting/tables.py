"""Tables and charts of a pipeline run (the workbook sheets and the report's figures).

Kept apart from :mod:`senforecast.pipeline.run` so the run logic and the choice of what to
publish can be read separately. Every table is tidy and holds no pupil ids.
"""
from __future__ import annotations

import re
import textwrap
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core.errors import InputWarning, SenForecastError
from ..planning.statutory import scap_return, scap_table, to_wide, welsh_need_table
from ..plotting import scenario_chart, share_bars, waterfall_chart
from .export import round_counts, suppress

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


def input_tables(result: "PipelineResult") -> dict[str, pd.DataFrame]:
    """Input summary sheets: children per year, places on roll, rows read and checks, warnings.

    Parameters
    ----------
    result : PipelineResult
        A run (only its data and warnings are used).

    Returns
    -------
    dict of str to DataFrame
        Sheet name -> table, the ``Inputs - ...`` sheets and ``Data warnings``.

    Examples
    --------
    >>> from senforecast.pipeline.run import run_pipeline
    >>> from senforecast.pipeline.config import demo_config
    >>> cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> sheets = input_tables(run_pipeline(cfg, charts=False))
    >>> sheets["Inputs - children per year"].columns[:2].tolist()
    ['year', 'children']
    >>> rows = sheets["Inputs - rows and checks"].set_index("check")["count"]
    >>> int(rows["plans.rows_read"]) >= int(rows["plans.rows_kept"])
    True
    """
    summary = result.data.summary()
    out: dict[str, pd.DataFrame] = {}
    names = {"children per year": "Inputs - children per year", "by need": "Inputs - by need",
             "by setting kind": "Inputs - by setting kind", "by area": "Inputs - by area",
             "places and children on roll": "Inputs - places on roll", "by plan type": "Inputs - by plan type"}
    for key, sheet in names.items():
        if key in summary.tables:
            out[sheet] = _ncy_range_as_numbers(summary[key])
    counts = pd.DataFrame(sorted(result.data.report.counts.items()), columns=["check", "count"])
    checks = summary.tables.get("checks")
    out["Inputs - rows and checks"] = pd.concat([counts, checks], ignore_index=True) if checks is not None else counts
    out["Data warnings"] = pd.DataFrame({"warning": result.warnings or ["none"]})
    return out


def build_tables(result: "PipelineResult") -> dict[str, pd.DataFrame]:
    """The published tables of a run, sheet name -> DataFrame, in workbook order.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> cfg = demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> tables = build_tables(run_pipeline(cfg, charts=False))
    >>> [n for n in tables if n.startswith("Projection")]
    ['Projection total', 'Projection by need', 'Projection by setting', 'Projection by NCY', 'Projection by area']
    >>> tables["Projection total"].columns.tolist(), tables["Gap by year"]["year"].tolist()
    (['year', 'mean', 'median', 'p05', 'p25', 'p75', 'p95'], [2026, 2027])
    >>> "Scenarios" in tables, "Backtest scores" in tables  # none asked for in this config
    (False, False)
    """
    p, g = result.projection, result.gap
    tables = {"Assumptions": assumptions(result)}
    tables.update(input_tables(result))
    tables["Projection total"] = _projection_table(result, [])
    for dim, label in (("need", "need"), ("setting", "setting"), ("ncy", "NCY"), ("area", "area")):
        if dim in p.cells.columns and p.cells[dim].astype(str).nunique() > 1:
            t = _projection_table(result, [dim])
            if dim == "setting":
                t.insert(1, "kind", t["setting"].astype(str).map(_kind_map(result)).fillna("unknown"))
            tables[f"Projection by {label}"] = t
    tables["Gap by year"] = g.by_year()
    tables["Gap by designation"] = g.by_group(by_area=False)
    tables["Gap by designation and area"] = g.by_group()
    tables["Gap by base"] = g.by_base()
    tables["Starting point"] = g.starting_point()
    y = g.by_year()
    cost_cols = [c for c in y.columns if c.startswith(("ooc", "local_cost"))]
    tables["Out-of-county cost"] = y[["year", *cost_cols]]
    if g.allocation is not None:
        tables["Cost by need and setting"] = g.cost_table()
    tables.update(statutory_tables(result))
    if result.scenarios is not None:
        tables["Scenarios"] = result.scenarios
    if result.decomposition is not None:
        tables["Change drivers"] = result.decomposition
    if result.backtest is not None:
        tables["Backtest scores"] = result.backtest.scores
    return tables


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


# columns computed from a count (a share, places minus children) would give a hidden count away
_DERIVED = ("share %", "spare")


def _count_spec(name: str, table: pd.DataFrame) -> tuple[list[str], list[str]] | None:
    """(keys, count columns) of a table of observed counts of children, or None.

    Keys are given explicitly: the exporter's default takes every non-float column as a key,
    and a table with many descriptive columns (name, kind, area, ...) would become a
    high-dimensional cube. Projected means and quantiles are not counts of real children."""
    if not name.startswith(("Inputs", "Starting point")):
        return None
    first = str(table.columns[0])
    years = [c for c in table.columns if re.fullmatch(r"\d{4}", str(c))]
    if years:  # wide: one column per census year
        return [first], years
    counts = [c for c in table.columns if c in ("count", "on_roll", "children", "joiners", "leavers", "movers",
                                                "need_changes")]
    return ([first], counts) if counts else None


def publishable_tables(tables: dict[str, pd.DataFrame], *, suppress_below: float | None = None,
                       round_to: int | None = None) -> dict[str, pd.DataFrame]:
    """Tables ready to publish: observed counts of children under ``suppress_below`` shown as
    ``"<N"`` (with secondary suppression, ``"c"``), or rounded to ``round_to``; columns derived
    from counts (shares, spare places) are dropped from those tables so they cannot undo it.

    Examples
    --------
    >>> t = pd.DataFrame({"setting": ["RB1", "RB2", "RB3"], "on_roll": [3, 40, 12], "spare": [5, 0, 8]})
    >>> publishable_tables({"Starting point": t}, suppress_below=5)["Starting point"].values.tolist()
    [['RB1', '<5'], ['RB2', 40], ['RB3', 'c']]

    The 12 is hidden too (the smallest other cell), so the hidden 3 cannot be worked out from a
    published total.
    """
    if not suppress_below and not round_to:
        return dict(tables)
    out = {}
    for name, table in tables.items():
        spec = _count_spec(name, table)
        if spec is None:
            out[name] = table
            continue
        keys, counts = spec
        t = table.drop(columns=[c for c in _DERIVED if c in table.columns])
        if suppress_below:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InputWarning)  # one-way tables: nothing left to protect
                t = suppress(t, threshold=suppress_below, round_to=round_to, count_columns=counts, keys=keys)
        else:
            t = round_counts(t, round_to, count_columns=counts)
        out[name] = t
    return out


# ---------------------------------------------------------------------------- charts
def build_figures(result: "PipelineResult") -> dict[str, Figure]:
    """The report's charts, file stem -> Figure. A chart that cannot be drawn is noted in
    ``result.warnings`` and left out, so one odd table does not stop the report.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> cfg = demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> res = run_pipeline(cfg, charts=False)
    >>> figures = build_figures(res)
    >>> sorted(figures)[:3], "scenarios_out_of_county" in figures  # no scenarios in this config
    (['capacity_by_designation', 'change_waterfall', 'out_of_county'], False)
    >>> [w for w in res.warnings if w.startswith("chart")]  # every chart was drawn
    []
    >>> figures["projection_total"].get_suptitle()
    'Children with a plan: actual and projected'
    """
    p, g = result.projection, result.gap
    groups = g.by_group(by_area=False)
    makers = {
        "projection_total": lambda: p.plot.fan(),
        "projection_by_need": lambda: p.plot.fan(by="need"),
        "shares_by_need": lambda: p.plot.shares("need", title="Children with a plan by need: share of all plans"),
        "shares_by_setting_kind": lambda: _kind_shares(result, share_bars),
        "capacity_by_designation": lambda: g.plot.capacity(table=groups),
        "shortfall_heatmap": lambda: (g.plot.unplaced_heatmap() if g.allocation is not None
                                      else g.plot.heatmap()),
        "shortfall_probability": lambda: g.plot.probability(table=groups),
        "out_of_county": lambda: g.plot.out_of_county(),
    }
    if result.decomposition is not None:
        d = result.decomposition
        start = d.loc[d["part"] == "start"].iloc[0]
        eff = d[d["part"] == "effect"]
        makers["change_waterfall"] = lambda: waterfall_chart(
            float(start["children"]), {textwrap.fill(k, 16): v for k, v in zip(eff["label"], eff["children"])},
            start_label=str(start["label"]).replace(" census", ""), end_label=_end_label(d),
            title=f"What drives the change in children with a plan to {int(d['year'].iloc[0])} (mean)")
    if result.scenarios is not None:
        makers["scenarios_out_of_county"] = lambda: scenario_chart(result.scenarios)
        makers["scenarios_cost"] = lambda: scenario_chart(
            result.scenarios, measure="total_cost", ylabel="Cost of specialist places",
            title="Scenarios compared: cost of local and out-of-county places")
    if result.backtest is not None:
        hist = p.history
        actuals = (hist.groupby("year", as_index=False)["count"].sum().rename(columns={"count": "actual"})
                   if hist is not None else None)
        # the full actual series, so each origin's line starts from the census it was made at
        makers["backtest_total"] = lambda: result.backtest.plot(actuals=actuals)
    figures = {}
    for name, make in makers.items():
        try:
            figures[name] = make()
        except (SenForecastError, KeyError, ValueError) as exc:
            result.warnings.append(f"chart {name} not drawn: {exc}")
    return figures


def _end_label(d: pd.DataFrame) -> str:
    """Last waterfall bar: the baseline projection, or baseline plus scenario effects."""
    year = int(d["year"].iloc[0])
    with_scenarios = d["label"].astype(str).str.startswith("scenario").any()
    return f"{year} baseline\n+ scenario effects" if with_scenarios else f"{year} projected"


def _kind_shares(result: "PipelineResult", share_bars) -> Figure:
    """Plans by setting kind per year: history, then the projection mean (means add up)."""
    p = result.projection
    kinds = _kind_map(result)
    proj = p.summary("setting")[["setting", "year", "mean"]].rename(columns={"mean": "count"})
    parts = [proj]
    if p.history is not None and "setting" in p.history.columns:
        h = p.history[p.history["year"] < p.years.min()].groupby(["year", "setting"], as_index=False)["count"].sum()
        parts.insert(0, h)
    t = pd.concat(parts, ignore_index=True)
    t["kind"] = t["setting"].astype(str).map(kinds).fillna("other").str.replace("_", " ")
    t = t.groupby(["year", "kind"], as_index=False)["count"].sum()
    return share_bars(t, category="kind", projected_from=int(p.years.min()),
                      title="Children with a plan by kind of setting: share of all plans")


def assumptions(result: "PipelineResult") -> pd.DataFrame:
    """Method and assumptions of a run as an ``item, value`` table (report and workbook).

    Examples
    --------
    >>> from senforecast.pipeline import demo_config, run_pipeline
    >>> cfg = demo_config().replace(draws=50, horizon=2, seed=7, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> a = assumptions(run_pipeline(cfg, charts=False)).set_index("item")["value"]
    >>> a["simulation draws"], a["last census"], a["projection years"]
    ('50 (seed 7)', '2025', '2026-2027')
    >>> a["series forecast"]
    'statement or LA-maintained IDP (EHC-plan equivalent), 2019-2025; no children with other plan types in the data'
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
