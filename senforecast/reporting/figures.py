"""The report's charts, drawn from what is published.

A chart of history by need drawn from the true counts would show exactly the small counts the
tables hide (a need with three children is a line through 3). So when a run's tables are
protected (suppression or rounding), every observed series a chart draws is read back from the
tables as published: a hidden count (``c``) is not drawn, and in a chart of shares the hidden
children of a year are one hatched "not shown" segment, the year's published total less the
shown counts (which the tables give anyway). Projected values are means and quantiles of
simulations, not counts of real children, and are drawn as they are.
"""
from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core.data import _setting_kind
from ..core.errors import SenForecastError
from ..plotting import scenario_chart, share_bars, waterfall_chart
from .outputs import MARKER, Publication, _is_year

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline.run import PipelineResult

#: The segment of a shares chart holding the children whose counts are hidden.
HIDDEN_LABEL = f"not shown ({MARKER})"

# the observed series a chart may draw: dimension -> (published table, count column if long)
_SERIES = {None: ("Inputs - children per year", "children"), "need": ("Inputs - by need", None),
           "kind": ("Inputs - by setting kind", None), "area": ("Inputs - by area", None)}


def published_history(publication: Publication, by: str | None = None) -> pd.DataFrame | None:
    """Children per census as published, long: ``year``, ``by`` (if any) and ``count``.

    A count the publication hides is NaN. None when the run has no such table.

    Parameters
    ----------
    publication : Publication
        From :func:`senforecast.reporting.outputs.publish_outputs`.
    by : {None, "need", "kind", "area"}
        None: all children per year.

    Returns
    -------
    DataFrame or None

    Examples
    --------
    >>> wide = pd.DataFrame({"need": ["ASD", "MSI"], "label": ["Autism", "Multi-sensory"],
    ...                      "2024": [700, "c"], "2025": [748, 4], "share %": [99.5, 0.5]})
    >>> published_history(Publication({"Inputs - by need": wide}), "need")
       year need  count
    0  2024  ASD  700.0
    1  2024  MSI    NaN
    2  2025  ASD  748.0
    3  2025  MSI    4.0
    """
    if by not in _SERIES:
        raise SenForecastError(f"no published series by {by!r}; choose one of {list(_SERIES)}")
    name, column = _SERIES[by]
    table = publication.tables.get(name)
    if table is None:
        return None
    if column is not None:
        out = table[["year", column]].rename(columns={column: "count"})
    else:
        years = [c for c in table.columns if _is_year(c)]
        out = table.melt(id_vars=[by], value_vars=years, var_name="year", value_name="count")
        out = out[["year", by, "count"]]
    out = out.assign(year=out["year"].astype(int),
                     count=pd.to_numeric(out["count"].astype(object).replace(MARKER, np.nan), errors="coerce"))
    return out.sort_values(["year", *([by] if by else [])], kind="stable").reset_index(drop=True)


def with_hidden_segment(history: pd.DataFrame, by: str, totals: pd.DataFrame | None) -> pd.DataFrame:
    """Hidden counts of each year as one :data:`HIDDEN_LABEL` row: the published total less the
    shown counts. A year whose total is hidden (or unknown) is left out.

    Examples
    --------
    >>> h = pd.DataFrame({"year": [2024] * 3, "need": ["ASD", "MSI", "VI"], "count": [20.0, np.nan, np.nan]})
    >>> with_hidden_segment(h, "need", pd.DataFrame({"year": [2024], "count": [27.0]}))
       year           need  count
    0  2024            ASD   20.0
    1  2024  not shown (c)    7.0
    """
    total = totals.set_index("year")["count"] if totals is not None else pd.Series(dtype=float)
    parts = []
    for year, g in history.groupby("year", sort=True):
        hidden = g["count"].isna()
        if not hidden.any():
            parts.append(g)
            continue
        t = total.get(year, np.nan)
        if pd.isna(t):
            continue
        parts.append(pd.concat([g[~hidden], pd.DataFrame({"year": [year], by: [HIDDEN_LABEL],
                                                          "count": [t - g.loc[~hidden, "count"].sum()]})]))
    if not parts:
        return history.iloc[:0]
    return pd.concat(parts, ignore_index=True)


def build_figures(result: "PipelineResult", publication: Publication | None = None) -> dict[str, Figure]:
    """The report's charts, file stem -> Figure. A chart that cannot be drawn is noted in
    ``result.warnings`` and left out, so one odd table does not stop the report.

    Parameters
    ----------
    result : PipelineResult
    publication : Publication, optional
        The run's published tables. When they are protected (suppressed or rounded), the
        observed history in every chart is taken from them (see the module note).

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
    protected = publication is not None and bool(publication.notes)
    hist = {}
    if protected:
        hist = {by: published_history(publication, by) for by in (None, "need", "kind")}
    note = f" Observed counts the tables hide ({MARKER}) are not drawn." if protected else ""

    def fan(by=None):
        if not protected:
            return p.plot.fan(by=by)
        if hist[by] is None:  # nothing published to draw from: no history rather than the raw one
            return p.plot.fan(by=by, include_history=False,
                              source_note=" Observed counts are not drawn (no published table of them).")
        return p.plot.fan(by=by, history=hist[by], source_note=note)

    def need_shares():
        title = "Children with a plan by need: share of all plans"
        if not protected:
            return p.plot.shares("need", title=title)
        if hist["need"] is None:
            return p.plot.shares("need", title=title, include_history=False)
        return p.plot.shares("need", title=title, history=with_hidden_segment(hist["need"], "need", hist[None]),
                             hidden=HIDDEN_LABEL,
                             source="Source: plan counts; projected years use the projection mean. Observed "
                                    f"counts the tables hide ({MARKER}) are in the hatched segment.")

    makers = {
        "projection_total": fan,
        "projection_by_need": lambda: fan("need"),
        "shares_by_need": need_shares,
        "shares_by_setting_kind": lambda: _kind_shares(result, hist if protected else None),
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
        if protected:
            actuals = hist[None].rename(columns={"count": "actual"}).dropna() if hist[None] is not None else None
        elif p.history is not None:
            actuals = p.history.groupby("year", as_index=False)["count"].sum().rename(columns={"count": "actual"})
        else:
            actuals = None
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


def _kind_shares(result: "PipelineResult", published: dict | None = None) -> Figure:
    """Plans by setting kind per year: history, then the projection mean (means add up).

    Kinds are the provision register's, as in the "Inputs - by setting kind" table (a
    ``[gap] kinds`` override changes how the gap analysis treats a setting, not its kind here),
    so the chart and the table agree and the published series fits the projected one.
    ``published``: the published series (hidden counts as one segment)."""
    p = result.projection
    prov = result.data.provision
    proj = p.summary("setting")[["setting", "year", "mean"]].rename(columns={"mean": "count"})
    proj = proj.assign(kind=_setting_kind(proj["setting"], prov))
    parts = [proj[["year", "kind", "count"]]]
    if published is not None:  # protected: only what is published, nothing when there is no table
        h = published.get("kind")
        if h is not None:
            parts.insert(0, with_hidden_segment(h[h["year"] < p.years.min()], "kind", published[None]))
    elif p.history is not None and "setting" in p.history.columns:
        h = p.history[p.history["year"] < p.years.min()]
        h = h.assign(kind=_setting_kind(h["setting"], prov))
        parts.insert(0, h.groupby(["year", "kind"], as_index=False)["count"].sum())
    t = pd.concat(parts, ignore_index=True)
    t["kind"] = t["kind"].astype(str).str.replace("_", " ")
    t = t.groupby(["year", "kind"], as_index=False)["count"].sum()
    hidden = HIDDEN_LABEL if (t["kind"] == HIDDEN_LABEL).any() else None
    return share_bars(t, category="kind", projected_from=int(p.years.min()), hidden=hidden,
                      title="Children with a plan by kind of setting: share of all plans",
                      source=(f"Source: plan counts; projected years use the projection mean. Observed counts "
                              f"the tables hide ({MARKER}) are in the hatched segment." if hidden else None))
