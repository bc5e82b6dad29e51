"""Charts of projections: fan charts, shares by group, what drives the change (waterfall)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..core.errors import SenForecastError
from .style import (
    OKABE_ITO,
    PROJECTION_COLOUR,
    _bottom_xlabels,
    _count_axis,
    _draw_fan,
    _draw_history,
    _fan_handles,
    _finish,
    _group_label,
    _join_line,
    _money,
    _new_figure,
    _panel_legend,
    _panel_title,
    _require,
    _rows_of,
    _thousands,
    _year_axis,
)


def fan_chart(
    summary: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    title: str = "Children with a plan: actual and projected",
    ylabel: str = "Number of children",
    source: str | None = None,
    ncols: int = 3,
    money: bool = False,
) -> Figure:
    """History and projection fan chart: median line with 50% and 90% prediction bands.

    Parameters
    ----------
    summary : DataFrame
        Columns ``year``, ``median``, ``p05``, ``p25``, ``p75``, ``p95`` and the ``by``
        columns (as returned by ``Projection.summary(by)``).
    history : DataFrame, optional
        Actual counts: ``year``, ``count`` and the ``by`` columns.
    by : str or list of str, optional
        Draw one small panel per group (e.g. ``"need"``); none draws one total chart.
    title, ylabel, source : str
        Figure title, y-axis label (with units) and source note.
    ncols : int
        Panels per row for small multiples.
    money : bool
        Format the y axis as pounds.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"year": [2026, 2027], "median": [100, 110], "p05": [90, 95],
    ...                   "p25": [96, 104], "p75": [104, 116], "p95": [110, 125]})
    >>> h = pd.DataFrame({"year": [2024, 2025], "count": [90, 95]})
    >>> fig = fan_chart(s, h)
    >>> fig.axes[0].get_ylabel()
    'Number of children'
    """
    by = [by] if isinstance(by, str) else list(by or [])
    _require(summary, ["year", "median", *by], "fan_chart")
    if history is not None:
        _require(history, ["year", "count", *[b for b in by]], "fan_chart history")
    if not by:
        fig, axes = _new_figure(1, panel_height=4.2)
        ax = axes[0]
        _draw_history(ax, history)
        _join_line(ax, history, summary, PROJECTION_COLOUR)
        _draw_fan(ax, summary, PROJECTION_COLOUR)
        years = list(summary["year"]) + (list(history["year"]) if history is not None else [])
        _year_axis(ax, years)
        _count_axis(ax, ylabel, money)
        ax.set_xlabel("Census year (January)")
        ax.set_ylim(bottom=0)
        ax.legend(handles=_fan_handles(history=history is not None), loc="upper left", fontsize=8, frameon=False)
        return _finish(fig, title, source)

    groups = summary[by].drop_duplicates().reset_index(drop=True)
    rows = int(np.ceil(len(groups) / max(1, min(ncols, len(groups)))))
    fig, axes = _new_figure(len(groups), ncols=ncols, panel_height=min(2.1, 8.0 / rows), sharex=True,
                            legend_row=True)
    years = list(summary["year"]) + (list(history["year"]) if history is not None else [])
    for ax, (_, g) in zip(axes, groups.iterrows()):
        part = _rows_of(summary, g, by)
        hist = _rows_of(history, g, by) if history is not None else None
        _draw_history(ax, hist)
        _join_line(ax, hist, part, PROJECTION_COLOUR)
        _draw_fan(ax, part, PROJECTION_COLOUR)
        ax.set_title(_panel_title(_group_label(g, by), min(ncols, len(axes))), fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_money if money else _thousands))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=not money))
        ax.tick_params(axis="y", labelsize=7.5)
        _year_axis(ax, years, small=True)
    fig.supylabel(ylabel, fontsize=10)
    _bottom_xlabels(axes, min(ncols, len(axes)))
    _panel_legend(fig, _fan_handles(history=history is not None))
    return _finish(fig, title, source)


def share_bars(
    table: pd.DataFrame,
    *,
    category: str = "need",
    value: str = "count",
    as_share: bool = True,
    max_categories: int = 8,
    projected_from: int | None = None,
    hidden: str | None = None,
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Stacked bars per year of plans by a category (need, setting), as shares or counts.

    Like a published "% of statements by primary need" table: each bar is one census year and
    its segments add to 100%. Categories beyond ``max_categories`` are combined into "Other".

    Parameters
    ----------
    table : DataFrame
        ``year``, the ``category`` column and ``value`` (counts).
    category : str
        Column to split bars by.
    value : str
        Count column.
    as_share : bool
        Show each category's percentage of the year's total (True) or counts.
    max_categories : int
        Largest categories kept (at most 8 so each has its own palette colour).
    projected_from : int, optional
        First projected year; those bars are hatched and marked "projected".
    hidden : str, optional
        A category of children not shown by group (e.g. counts hidden by disclosure control):
        always kept, drawn last in hatched light grey, never merged into "Other".
    title, source : str, optional
        Figure title and source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"year": [2024, 2024, 2025, 2025], "need": ["ASD", "SLD"] * 2,
    ...                   "count": [30, 10, 36, 12]})
    >>> fig = share_bars(t)
    >>> fig.axes[0].get_ylabel()
    'Share of children with a plan (%)'
    """
    _require(table, ["year", category, value], "share_bars")
    max_categories = int(min(max(max_categories, 1), len(OKABE_ITO)))
    wide = table.pivot_table(index="year", columns=category, values=value, aggfunc="sum", fill_value=0)
    held = [hidden] if hidden is not None and hidden in wide.columns else []
    order = wide.drop(columns=held).sum().sort_values(ascending=False).index.tolist()
    if len(order) > max_categories - len(held):
        cut = max_categories - len(held) - 1
        keep, rest = order[:cut], order[cut:]
        wide = wide.assign(Other=wide[rest].sum(axis=1))
        order = keep + ["Other"]
    order += held
    wide = wide[order].sort_index()
    totals = wide.sum(axis=1).replace(0, np.nan)
    shown = wide.div(totals, axis=0) * 100 if as_share else wide
    fig, axes = _new_figure(1, panel_height=4.4)
    ax = axes[0]
    years = wide.index.to_numpy(dtype=int)
    bottom = np.zeros(len(years))
    palette = list(OKABE_ITO[:7]) + ["#999999"]
    for i, cat in enumerate(order):
        vals = shown[cat].fillna(0).to_numpy(dtype=float)
        colour = "#999999" if cat == "Other" else "#E6E6E6" if cat in held else palette[i]
        hatch = "////" if cat in held else None
        projected = np.array([projected_from is not None and y >= projected_from for y in years])
        # projected bars are paler; the dashed divider and label say where projection starts
        for mask, alpha in ((~projected, 1.0), (projected, 0.65)):
            if mask.any():
                ax.bar(years[mask], vals[mask], bottom=bottom[mask], color=colour, alpha=alpha, width=0.75,
                       label=str(cat) if alpha == 1.0 or not (~projected).any() else None,
                       edgecolor="#999999" if hatch else "white", linewidth=0.5, hatch=hatch)
        if as_share:
            dark = colour in ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
            for y, v, b0 in zip(years, vals, bottom):
                if v >= 6:
                    ax.text(y, b0 + v / 2, f"{v:.0f}", ha="center", va="center", fontsize=6.5,
                            color="white" if dark else "black")
        bottom += vals
    noun = {"need": "primary need", "setting": "setting"}.get(category, category)
    if as_share:
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_ylabel("Share of children with a plan (%)")
    else:
        _count_axis(ax, "Number of children with a plan")
    ax.set_xlabel("Census year (January)")
    _year_axis(ax, years)
    if projected_from is not None and years.max() >= projected_from:
        ax.axvline(projected_from - 0.5, color="#333333", linewidth=1, linestyle="--")
        ax.text(projected_from - 0.4, 1.01, "projected →", transform=ax.get_xaxis_transform(),
                fontsize=8, va="bottom")
    ax.legend(title=noun.capitalize(), loc="center left",
              bbox_to_anchor=(1.01, 0.5), fontsize=8, title_fontsize=8.5, frameon=False, reverse=True)
    if title is None:
        title = f"Children with a plan by {noun}" + (" (% of all plans)" if as_share else "")
    if source is None:
        source = "Source: plan counts; projected years use the projection mean (means add up across groups)."
    return _finish(fig, title, source)


def waterfall_chart(
    start: float,
    effects: Mapping[str, float] | pd.DataFrame,
    *,
    start_label: str = "Start",
    end_label: str = "End",
    title: str = "What drives the change in demand",
    ylabel: str = "Number of children",
    source: str | None = None,
) -> Figure:
    """Waterfall of change: start total, one bar per effect, end total (start + effects).

    Parameters
    ----------
    start : float
        Starting total (e.g. plans in the last census).
    effects : mapping or DataFrame
        Ordered effects, e.g. ``{"Population": 40, "Rates": 95, "Scenario": -30}``; a
        DataFrame needs columns ``effect`` and ``value``. Compute them from your runs (e.g.
        population effect = projection with rates held at today's level minus start).
    start_label, end_label : str
        Labels of the first and last bars (e.g. "2025 actual", "2035 projected").
    title, ylabel, source : str
        Figure title, y-axis label and source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = waterfall_chart(1000, {"Population": 40, "Rates": 95, "Scenario": -30},
    ...                       start_label="2025", end_label="2030")
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['2025', 'Population', 'Rates', 'Scenario', '2030']
    """
    if isinstance(effects, pd.DataFrame):
        _require(effects, ["effect", "value"], "waterfall_chart")
        items = list(zip(effects["effect"].astype(str), effects["value"].astype(float)))
    else:
        items = [(str(k), float(v)) for k, v in effects.items()]
    if not items:
        raise SenForecastError("waterfall_chart: give at least one effect")
    end = float(start) + sum(v for _, v in items)
    fig, axes = _new_figure(1, panel_height=4.0)
    ax = axes[0]
    labels = [start_label] + [k for k, _ in items] + [end_label]
    x = np.arange(len(labels))
    total_colour, up, down = "#7F7F7F", OKABE_ITO[5], OKABE_ITO[0]
    ax.bar(x[0], start, color=total_colour, width=0.6)
    ax.text(x[0], start, f"{start:,.0f}", ha="center", va="bottom", fontsize=8.5)
    level = float(start)
    for i, (_name, v) in enumerate(items, start=1):
        ax.bar(x[i], v, bottom=level, color=up if v >= 0 else down, width=0.6)
        ax.plot([x[i - 1] - 0.3, x[i] + 0.3], [level, level], color="#555555", linewidth=0.7, linestyle=":")
        top = level + max(v, 0)
        ax.text(x[i], top, f"{v:+,.0f}", ha="center", va="bottom", fontsize=8.5)
        level += v
    ax.plot([x[-2] - 0.3, x[-1] + 0.3], [level, level], color="#555555", linewidth=0.7, linestyle=":")
    ax.bar(x[-1], end, color=total_colour, width=0.6)
    ax.text(x[-1], end, f"{end:,.0f}", ha="center", va="bottom", fontsize=8.5)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=8.5)
    ax.set_xlabel("Total, then each effect in turn")
    # zoom to where the change happens, so small effects stay visible; note the broken axis
    lows = [start, end] + list(np.cumsum([start] + [v for _, v in items]))
    span = max(lows) - min(lows)
    floor = max(0.0, min(lows) - max(span, 0.05 * max(lows)) * 1.5)
    ax.set_ylim(floor, max(lows) + 0.12 * (max(lows) - floor))
    _count_axis(ax, ylabel + (" (axis does not start at 0)" if floor > 0 else ""))
    ax.legend(handles=[Patch(color=total_colour, label="Total"), Patch(color=up, label="Increase"),
                       Patch(color=down, label="Decrease")], loc="upper left", fontsize=8, frameon=False)
    return _finish(fig, title, source)
