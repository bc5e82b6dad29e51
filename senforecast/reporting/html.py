"""One self-contained HTML report of a pipeline run (charts embedded as base64 PNG).

Sections: key findings, inputs and data quality, method and assumptions, projections, gap
to capacity, scenarios, backtest accuracy. The page has no scripts and loads nothing from
the network, so it can be e-mailed or attached to a committee paper as it is.
"""
from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..plotting import save_figure
from ..projection import quantile_label
from .outputs import Publication, mask_small_numbers, publish_outputs

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline.run import PipelineResult

SECTIONS: tuple[str, ...] = (
    "Key findings",
    "Inputs and data quality",
    "Method and assumptions",
    "Projections",
    "Gap to capacity",
    "Scenarios",
    "Backtest accuracy",
)
"""Section headings of the report, in order."""

_CSS = """
body{font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.45}
h1{color:#1F4E79;margin-bottom:.2rem}h2{color:#1F4E79;border-bottom:2px solid #1F4E79;padding-bottom:.2rem;
margin-top:2.2rem}h3{margin-top:1.4rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 1rem}
th{background:#1F4E79;color:#fff;padding:.3rem .5rem;text-align:center}
td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}td.n{text-align:right}td:first-child{white-space:nowrap}
tr:nth-child(even) td{background:#f4f7fb}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}
.meta{color:#555;font-size:.9rem}.warn{background:#fff6e0;border-left:4px solid #E69F00;padding:.4rem .8rem}
.note{font-size:.85rem;color:#444}nav a{margin-right:.8rem}
"""


def _esc(x: object) -> str:
    return html.escape(str(x))


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def figure_html(fig, caption: str = "", *, dpi: int = 110) -> str:
    """A matplotlib figure (or PNG bytes) as an ``<figure>`` with the PNG embedded (base64).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> figure_html(fig, "a line").startswith('<figure><img src="data:image/png;base64,')
    True
    """
    if isinstance(fig, (bytes, bytearray)):
        png = bytes(fig)
    else:
        buf = io.BytesIO()
        save_figure(fig, buf, "png", dpi=dpi)
        png = buf.getvalue()
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    alt = _esc(caption or "chart")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">{cap}</figure>'


def money(v: float, *, sign: bool = False, decimals: int = 2) -> str:
    """Pounds in millions, minus sign before the pound sign.

    Examples
    --------
    >>> money(-504_000), money(2_690_000, sign=True), money(0, sign=True)
    ('-£0.50m', '+£2.69m', '£0.00m')
    """
    lead = "-" if v < 0 and round(abs(v) / 1e6, decimals) > 0 else ("+" if sign and v > 0 else "")
    return f"{lead}£{abs(v) / 1e6:,.{decimals}f}m"


_NUMERIC = re.compile(r"[-+]?£?[\d,.]+[m%]?( \([^)]*\))?")


def _fmt(v: object, column: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(v) if column in ("year", "origin", "horizon", "ncy", "first_year_exceeded") else f"{v:,}"
    if isinstance(v, (float, np.floating)):
        c = column.lower()
        if "prob" in c or "coverage" in c or c in ("wape", "mape", "bias", "share"):
            return f"{v:.0%}" if "prob" in c or "coverage" in c else f"{v:.3f}"
        if "cost" in c:
            return money(v)
        if float(v).is_integer() or c == "median" or (c[:1] == "p" and c[1:].isdigit()):
            return f"{v:,.0f}"  # quantiles of counts: whole children
        return f"{v:,.1f}"
    return str(v)


def table_html(table: pd.DataFrame, columns: Sequence[str] | None = None, *,
               rename: dict[str, str] | None = None, max_rows: int = 60, source: str | None = None) -> str:
    """A DataFrame as an escaped HTML table with readable numbers (costs in £m, shares in %).

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2026], "ooc_cost_median": [2.5e6], "prob_shortfall": [0.25]})
    >>> "£2.50m" in table_html(t) and "25%" in table_html(t)
    True

    ``source`` names the registered table shown (``data-source``, so its numbers can be checked
    against the workbook).
    """
    t = table if columns is None else table[[c for c in columns if c in table.columns]]
    more = len(t) - max_rows
    t = t.head(max_rows)
    names = [(rename or {}).get(c, str(c).replace("_", " ")) for c in t.columns]
    head = "".join(f"<th>{_esc(n)}</th>" for n in names)
    rows = []
    for r in t.itertuples(index=False, name=None):
        cells = (_fmt(v, str(c)) for v, c in zip(r, t.columns))
        # numbers (and "median (low to high)") right-aligned, text left-aligned
        rows.append("<tr>" + "".join(f'<td class="n">{_esc(x)}</td>' if _NUMERIC.fullmatch(x) else f"<td>{_esc(x)}</td>"
                                     for x in cells) + "</tr>")
    tail = f'<p class="note">... {more} more rows in the workbook.</p>' if more > 0 else ""
    src = f' data-source="{_esc(source)}"' if source else ""
    return f"<table{src}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}"


def _interval(t: pd.DataFrame, prefix: str, lo: str = "p05", hi: str = "p95", money: bool = False) -> pd.Series:
    money_ = globals()["money"]
    def one(r) -> str:
        f = money_ if money else (lambda v: f"{v:,.0f}")
        return f"{f(r[f'{prefix}median'])} ({f(r[f'{prefix}{lo}'])} to {f(r[f'{prefix}{hi}'])})"
    return t.apply(one, axis=1)


def _change(t: pd.DataFrame, col: str, lo: str, hi: str, money_: bool = False) -> pd.Series:
    """``+median (lo to hi)`` of a paired change column, signed; the median alone without an interval."""
    def f(v: float) -> str:
        if pd.isna(v):
            return ""
        return money(v, sign=True) if money_ else (f"{v:+,.0f}" if round(v) else "0")

    if f"{col}_{lo}" not in t.columns:
        return t[col].map(f)
    return t.apply(lambda r: f"{f(r[col])} ({f(r[f'{col}_{lo}'])} to {f(r[f'{col}_{hi}'])})", axis=1)


def _bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def key_findings(result: "PipelineResult") -> list[str]:
    """Plain-English headline sentences of a run (numbers from the summary tables).

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> res = run_pipeline(demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False),
    ...                    charts=False)  # doctest: +SKIP
    >>> key_findings(res)[0].startswith("Children with a plan")  # doctest: +SKIP
    True
    """
    p, g = result.projection, result.gap
    s = p.summary()
    first, last = s.iloc[0], s.iloc[-1]
    out = []
    hist = p.history
    if hist is not None and len(hist):
        y0 = int(hist["year"].max())
        n0 = hist.loc[hist["year"] == y0, "count"].sum()
        out.append(f"Children with a plan: {n0:,.0f} in January {y0}; projected {last['median']:,.0f} in "
                   f"{int(last['year'])} (90% interval {last['p05']:,.0f} to {last['p95']:,.0f}).")
    else:
        out.append(f"Children with a plan: projected {first['median']:,.0f} in {int(first['year'])} and "
                   f"{last['median']:,.0f} in {int(last['year'])}.")
    y = g.by_year()
    y1, yn = y.iloc[0], y.iloc[-1]
    out.append(f"Demand for specialist places (local and out of county): {y1['demand_median']:,.0f} in "
               f"{int(y1['year'])} against {y1['capacity']:,.0f} local places; {yn['demand_median']:,.0f} in "
               f"{int(yn['year'])} against {yn['capacity']:,.0f}.")
    grp = g.by_group(by_area=False)
    firsts = grp.drop_duplicates(["designation", "phase"])
    exceeded = firsts[firsts["first_year_exceeded"].notna()]
    if len(exceeded):
        parts = [f"{'all needs' if r.designation == '*' else r.designation} {r.phase} ({int(r.first_year_exceeded)})"
                 for r in exceeded.itertuples()]
        out.append(f"Places run out (demand above capacity with {g.confidence:.0%} probability) for: "
                   + "; ".join(parts) + ".")
    if "ooc_median" in y.columns:
        out.append(f"Children out of county: {y1['ooc_median']:,.0f} in {int(y1['year'])}, "
                   f"{yn['ooc_median']:,.0f} in {int(yn['year'])}, costing about "
                   f"£{yn['ooc_cost_median'] / 1e6:,.1f}m a year by then at {g.costs.base_year} prices "
                   f"(90% interval £{yn['ooc_cost_p05'] / 1e6:,.1f}m to £{yn['ooc_cost_p95'] / 1e6:,.1f}m; "
                   f"£{yn['ooc_cost_median'] * g.costs.cash_factor([yn['year']])[0] / 1e6:,.1f}m in cash with "
                   f"{g.costs.inflation:.1%} a year inflation).")
    sc = result.scenarios
    if sc is not None and "total_cost_change" in sc.columns:
        for name, part in sc.groupby("scenario", sort=False):
            if name == "baseline":
                continue
            # the year the scenario changes cost most (a change can fade once demand falls)
            r = part.loc[part["total_cost_change"].abs().idxmax()]
            lo_l, hi_l = (quantile_label(q) for q in g.quantiles)
            ooc_i = cost_i = ""
            if f"ooc_change_{lo_l}" in part.columns:
                width = f"{g.confidence:.0%} interval"
                ooc_i = f" ({width} {r[f'ooc_change_{lo_l}']:+,.0f} to {r[f'ooc_change_{hi_l}']:+,.0f})"
                cost_i = (f" ({money(r[f'total_cost_change_{lo_l}'], sign=True)} to "
                          f"{money(r[f'total_cost_change_{hi_l}'], sign=True)})")
            out.append(f"Scenario '{name}': largest change in {int(r['year'])}, {r['ooc_change']:+,.0f} children "
                       f"out of county{ooc_i} and {money(r['total_cost_change'], sign=True)}{cost_i} a year in the "
                       "cost of places compared with the baseline (medians of the paired differences).")
    bt = result.backtest
    if bt is not None:
        t = bt.table("total")
        if len(t):
            r = t.iloc[0]
            out.append(f"Backtest: projections of the total one year ahead were off by {r['wape']:.1%} on "
                       f"average (weighted absolute error) over {int(r['n'])} past origin(s); "
                       f"80% intervals held the actual {r['coverage80']:.0%} of the time.")
    series = result.data.series
    if series is not None and series.series != "plans":  # Welsh plan types: say which were forecast
        out.append(f"Series forecast: {series.sentence()}.")
    return out


def _return_tables(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    wide = tables.get("Return - provision type wide")
    if wide is None:
        return []
    return ["<h3>Specialist place demand by provision type and NCY group (mean)</h3>"
            '<p class="note">The shape of England\'s school capacity return: 5 years ahead for primary, 7 for '
            "secondary and post-16. Means add up across rows; the workbook has medians and 90% intervals"
            + (" and the same by major need." if "Return - by major need" in tables else ".") + "</p>",
            table_html(wide, source="Return - provision type wide")]


def render_report(result: "PipelineResult", *, files: Sequence[str] = (),
                  images: Mapping[str, bytes] | None = None, publication: Publication | None = None) -> str:
    """The HTML text of the report of a pipeline run.

    Parameters
    ----------
    result : PipelineResult
        From :func:`senforecast.pipeline.run.run_pipeline` (with charts).
    files : sequence of str
        Names of the files written alongside, listed at the end.
    images : dict of str to bytes, optional
        PNG bytes of charts already rendered (by name), so they are not drawn twice.
    publication : Publication, optional
        The run's published (protected) tables from
        :func:`senforecast.reporting.outputs.publish_outputs`; made here when not given. The
        report shows only these, never counts computed afresh from the data.

    Returns
    -------
    str
        A complete HTML document with every chart embedded.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> res = run_pipeline(demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False))  # doctest: +SKIP
    >>> page = render_report(res)  # doctest: +SKIP
    >>> page.startswith("<!DOCTYPE html>"), all(s in page for s in SECTIONS[:5])  # doctest: +SKIP
    (True, True)
    """
    cfg, p, g, figs = result.config, result.projection, result.gap, result.figures
    lo, hi = g.quantiles
    lo_l, hi_l = f"p{round(lo * 100):02d}", f"p{round(hi * 100):02d}"
    parts: list[str] = []

    def section(title: str, *body: str) -> None:
        parts.append(f'<section id="{_slug(title)}"><h2>{_esc(title)}</h2>{"".join(body)}</section>')

    def fig(name: str, caption: str) -> str:
        if images and name in images:
            return figure_html(images[name], caption)
        return figure_html(figs[name], caption) if name in figs else ""

    section("Key findings", _bullets(key_findings(result)))

    pub = publication if publication is not None else publish_outputs(result)
    tables = pub.tables
    t_below = cfg.suppress_below

    def shown(name: str, title: str, **kw) -> str:
        return f"<h3>{_esc(title)}</h3>" + table_html(tables[name], source=name, **kw) if name in tables else ""

    summary_notes = result.data.summary().notes
    if t_below:
        summary_notes = [mask_small_numbers(n, t_below) for n in summary_notes]
    inputs = [_bullets(summary_notes),
              shown("Inputs - children per year", "Children with a plan per census"),
              shown("Inputs - by need", "By need"),
              shown("Inputs - by plan type", "By plan type (in the series forecast or not)"),
              shown("Inputs - places on roll", "Places and children on roll at the last census"),
              shown("Inputs - rows and checks", "Rows read and kept")]
    warn = tables.get("Data warnings")
    warn_list = [str(w) for w in warn["warning"] if str(w) != "none"] if warn is not None else []
    if warn_list:
        inputs.append("<h3>Data-quality warnings</h3><div class=\"warn\">" + _bullets(warn_list) + "</div>")
    else:
        inputs.append("<p>No data-quality warnings.</p>")
    section("Inputs and data quality", *inputs)

    section("Method and assumptions", table_html(tables["Assumptions"], rename={"item": "", "value": ""},
                                                 source="Assumptions"),
            '<p class="note">Intervals are prediction intervals of the outcome (they include year-to-year '
            "noise as well as uncertainty in the rates), from simulated futures. Medians of parts do not add "
            "up to the median of a total; means do.</p>")

    s = p.summary()
    s_tab = s.assign(**{"median (90% interval)": _interval(s, "")})
    need = p.summary("need")
    last_year = int(p.years.max())
    by_need = need[need["year"].isin([int(p.years.min()), last_year])]
    section("Projections",
            fig("projection_total", "All children with a plan: actual, then projected median with 50% and 90% "
                "prediction intervals."),
            table_html(s_tab, ["year", "mean", "median (90% interval)"], source="Projection total"),
            fig("projection_by_need", "By need."),
            f"<h3>By need, {int(p.years.min())} and {last_year}</h3>"
            + table_html(by_need, ["need", "year", "mean", "median", "p05", "p95"], source="Projection by need"),
            fig("shares_by_need", "Share of plans by need, per census year."),
            fig("shares_by_setting_kind", "Share of plans by kind of setting, per census year."),
            fig("change_waterfall", "Change since the last census split into the effect of population change, "
                "of changing rates, and of each demand-side scenario."),
            *_return_tables(tables))

    y = g.by_year()
    y_tab = y.assign(demand=_interval(y, "demand_", lo_l, hi_l), spare=_interval(y, "spare_", lo_l, hi_l))
    cols = ["year", "demand", "capacity", "spare", "prob_shortfall"]
    if "ooc_median" in y.columns:
        y_tab = y_tab.assign(ooc=_interval(y, "ooc_", lo_l, hi_l), cost=_interval(y, "ooc_cost_", lo_l, hi_l, True))
        cols += ["ooc", "cost"]
    grp = g.by_group(by_area=False)
    firsts = grp.drop_duplicates(["designation", "phase"])[["designation", "phase", "capacity", "first_year_exceeded"]]
    section("Gap to capacity",
            "<p>Demand counts every child projected in a local specialist setting or out of county; the "
            "allocation offers each a suitable local place (designation, age range, own area first) before "
            "out of county. Spare = places - demand (negative = places short).</p>",
            table_html(y_tab, cols, rename={"demand": f"demand (median, {lo_l}-{hi_l})",
                                            "spare": "spare places (- = short)", "prob_shortfall": "P(shortfall)",
                                            "ooc": "out of county", "cost": "out-of-county cost"},
                       source="Gap by year"),
            fig("capacity_by_designation", "Demand against capacity by designation and phase; shortfall shaded."),
            "<h3>First year capacity runs out, by designation and phase</h3>"
            + table_html(firsts, rename={"capacity": f"places {int(p.years.min())}",
                                         "first_year_exceeded": "first year exceeded"},
                         source="Gap by designation"),
            fig("shortfall_heatmap", "Children from each home area who cannot get a local specialist place "
                "(mean over simulations), after the allocation has used every suitable base in any area "
                "(designation, age range, own area preferred)." if result.gap.allocation is not None else
                "Places short (median) by area and year: each designation and phase group's shortfall, added "
                "up per area."),
            fig("shortfall_probability", "Probability that demand exceeds capacity."),
            fig("out_of_county", "Out-of-county placements and their cost."))

    sc = result.scenarios
    if sc is not None:
        sc_tab = sc.assign(short=_interval(sc, "places_short_", lo_l, hi_l))
        scols = ["scenario", "year", "short"]
        if "ooc_median" in sc.columns:
            sc_tab = sc_tab.assign(ooc=_interval(sc, "ooc_", lo_l, hi_l),
                                   cost=_interval(sc, "total_cost_", lo_l, hi_l, True))
            scols += ["ooc", "cost"]
            if "ooc_change" in sc.columns:
                sc_tab = sc_tab.assign(ooc_change=_change(sc, "ooc_change", lo_l, hi_l),
                                       total_cost_change=_change(sc, "total_cost_change", lo_l, hi_l, True))
                scols += ["ooc_change", "total_cost_change"]
        descr = [f"{s.name}: {s.description}" if s.description else s.name for s in cfg.scenarios]
        section("Scenarios", _bullets(descr),
                fig("scenarios_out_of_county", "Children out of county under each scenario."),
                fig("scenarios_cost", "Cost of specialist places under each scenario."),
                table_html(sc_tab, scols, rename={"short": "places short", "ooc": "out of county",
                                                  "cost": "cost of places", "ooc_change": "change in out of county",
                                                  "total_cost_change": "change in cost"},
                           source="Scenarios"),
                '<p class="note">Changes are medians (and intervals) of the per-draw differences from the '
                "baseline in the same simulated futures: every scenario shares the baseline's random numbers, "
                "so a change is the scenario's effect, not simulation noise.</p>")
    else:
        section("Scenarios", "<p>No scenarios in this run (add [[scenarios]] to the config).</p>")

    bt = result.backtest
    if bt is not None:
        scores = bt.scores
        section("Backtest accuracy",
                f"<p>The model was refitted on data up to each origin ({', '.join(map(str, bt.origins))}) and "
                "its projections compared with the censuses that followed. WAPE: weighted absolute percentage "
                "error; coverage: share of actuals inside the 80% / 95% intervals (should be near 80% / 95%); "
                "CRPS: accuracy of the whole forecast distribution (lower is better).</p>",
                table_html(scores[scores["grouping"].isin(["total", "need"])],
                           ["grouping", "horizon", "n", "wape", "bias", "coverage80", "coverage95", "crps"],
                           source="Backtest scores"),
                fig("backtest_total", "Projections from each origin against what happened."))
    else:
        section("Backtest accuracy", "<p>Backtest not run (set [backtest] enabled = true).</p>")

    if files:
        parts.append("<section><h2>Files</h2>" + _bullets(files) + "</section>")
    stamp = datetime.now(timezone.utc).strftime("%d %B %Y %H:%M UTC")
    nav = "".join(f'<a href="#{_slug(t)}">{_esc(t)}</a>' for t in SECTIONS)
    head = (f"<h1>Specialist place planning: {_esc(cfg.name)}</h1>"
            f'<p class="meta">senforecast report, {stamp}. Model {_esc(p.meta.get("model", cfg.model))}, '
            f"{p.n_draws} simulations, seed {cfg.seed}. Projection {int(p.years.min())}-{last_year}.</p>"
            f"<nav>{nav}</nav>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>senforecast report: {_esc(cfg.name)}</title><style>{_CSS}</style></head><body>"
            + head + "".join(parts) + "</body></html>\n")
