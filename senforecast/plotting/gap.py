"""Charts of a gap analysis: demand against places, places short by area, probability of
shortfall, out-of-county placements and their cost."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..core.errors import SenForecastError
from .style import (
    _BAND_COLS,
    _GAP_CMAP,
    _SHORT_CMAP,
    CAPACITY_COLOUR,
    FIG_WIDTH,
    OKABE_ITO,
    PROJECTION_COLOUR,
    SHORTFALL_COLOUR,
    _bottom_xlabels,
    _count_axis,
    _draw_fan,
    _draw_history,
    _fan_handles,
    _finish,
    _group_label,
    _join_line,
    _new_figure,
    _panel_legend,
    _panel_title,
    _require,
    _rows_of,
    _thousands,
    _year_axis,
)


def capacity_chart(
    table: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    demand: str = "demand_median",
    capacity: str = "capacity",
    exceeded_year: str | None = None,
    exceeded_note: str = "",
    title: str = "Projected demand for specialist places against capacity",
    ylabel: str = "Number of places",
    source: str | None = None,
    ncols: int = 2,
) -> Figure:
    """Demand vs capacity over years, shortfall shaded and the year capacity runs out marked.

    Parameters
    ----------
    table : DataFrame
        One row per group and year: ``year``, ``demand_median``, ``capacity`` and optionally
        ``demand_p05``, ``demand_p25``, ``demand_p75``, ``demand_p95`` (drawn as 50% and 90%
        bands) and the ``by`` columns (e.g. ``designation``, ``phase``, ``area``).
    by : str or list of str, optional
        One panel per group; none draws a single panel.
    demand, capacity : str
        Column names of median demand and of capacity (places).
    exceeded_year : str, optional
        Column holding the year capacity is first exceeded (e.g. at 90% confidence) as
        reported by the gap analysis; by default the first year the median demand is above
        capacity is marked.
    title, ylabel, source : str
        Figure title, y-axis label and source note.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"year": [2026, 2027, 2028], "demand_median": [40, 48, 55],
    ...                   "capacity": [50, 50, 50]})
    >>> fig = capacity_chart(t)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['Capacity exceeded\\nfrom 2028']
    """
    by = [by] if isinstance(by, str) else list(by or [])
    _require(table, ["year", demand, capacity, *by], "capacity_chart")
    prefix = demand[: -len("median")] if demand.endswith("median") else "demand_"
    bands = {k: f"{prefix}{k}" for k in _BAND_COLS}
    groups = table[by].drop_duplicates().reset_index(drop=True) if by else pd.DataFrame(index=[0])
    n = len(groups)
    rows = int(np.ceil(n / max(1, min(ncols, n))))
    fig, axes = _new_figure(n, ncols=ncols if n > 1 else 1, panel_height=4.2 if n == 1 else min(2.4, 8.0 / rows),
                            legend_row=n > 1)
    for ax, (_, g) in zip(axes, groups.iterrows()):
        part = _rows_of(table, g, by).sort_values("year")
        x = part["year"].to_numpy(dtype=float)
        med = part[demand].to_numpy(dtype=float)
        cap = part[capacity].to_numpy(dtype=float)
        if all(c in part for c in bands.values()):
            ax.fill_between(x, part[bands["p05"]], part[bands["p95"]], color=PROJECTION_COLOUR, alpha=0.15, linewidth=0)
            ax.fill_between(x, part[bands["p25"]], part[bands["p75"]], color=PROJECTION_COLOUR, alpha=0.3, linewidth=0)
        ax.fill_between(x, cap, med, where=med > cap, interpolate=True, color=SHORTFALL_COLOUR,
                        alpha=0.45, hatch="///", edgecolor="white", linewidth=0)
        ax.plot(x, med, color=PROJECTION_COLOUR, linewidth=2, marker="o", markersize=3)
        ax.plot(x, cap, color=CAPACITY_COLOUR, linewidth=2, linestyle="--", marker="s", markersize=3)
        year_out = None
        if exceeded_year and exceeded_year in part and part[exceeded_year].notna().any():
            year_out = int(part[exceeded_year].dropna().iloc[0])
        elif not exceeded_year:
            over = np.flatnonzero(med > cap)
            year_out = int(x[over[0]]) if over.size else None
        if year_out is not None:
            ax.axvline(year_out, color="#333333", linewidth=1, linestyle=":")
            right_half = year_out > (x.min() + x.max()) / 2
            # small panels: just the year on a white patch (the legend explains the line)
            label = (f"Capacity exceeded\nfrom {year_out}" + (f"\n{exceeded_note}" if exceeded_note else "")
                     if n == 1 else str(year_out))
            ax.annotate(label, xy=(year_out, ax.get_ylim()[1]),
                        xytext=(-3 if right_half else 3, -3), textcoords="offset points",
                        ha="right" if right_half else "left", va="top",
                        fontsize=7.5 if n > 1 else 8.5, color="#333333",
                        bbox=dict(boxstyle="square,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
        ax.set_ylim(bottom=0, top=max(np.nanmax(cap) if np.isfinite(cap).any() else 0,
                                       np.nanmax(part[bands["p95"]]) if bands["p95"] in part else np.nanmax(med)) * 1.18 + 1)
        if by:
            ax.set_title(_panel_title(_group_label(g, by), min(ncols, n)), fontsize=9, loc="left")
        _year_axis(ax, table["year"], small=n > 1)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    # the annotation is placed at the top of the final y range
    for ax in axes:
        for t in ax.texts:
            t.xy = (t.xy[0], ax.get_ylim()[1])
    handles = [
        Line2D([], [], color=PROJECTION_COLOUR, linewidth=2, marker="o", markersize=3, label="Demand (median)"),
        Patch(facecolor=PROJECTION_COLOUR, alpha=0.3, label="50% / 90% interval"),
        Line2D([], [], color=CAPACITY_COLOUR, linewidth=2, linestyle="--", marker="s", markersize=3,
               label="Capacity (places)"),
        Patch(facecolor=SHORTFALL_COLOUR, alpha=0.45, hatch="///", edgecolor="white", label="Shortfall"),
    ]
    if n > 1:
        handles.append(Line2D([], [], color="#333333", linestyle=":", linewidth=1,
                              label="Capacity first exceeded" + (f" {exceeded_note}" if exceeded_note else "")))
    if n == 1:
        axes[0].set_ylabel(ylabel)
        axes[0].set_xlabel("Census year (January)")
        axes[0].legend(handles=handles, loc="lower left", fontsize=8, frameon=True, framealpha=0.9)
    else:
        fig.supylabel(ylabel, fontsize=10)
        _bottom_xlabels(axes, min(ncols, n))
        _panel_legend(fig, handles)
    return _finish(fig, title, source)


def shortfall_heatmap(
    table: pd.DataFrame,
    *,
    row: str | Sequence[str] = "area",
    value: str = "places_short",
    title: str = "Places short by area and year (median)",
    colorbar_label: str = "Places short",
    source: str | None = None,
) -> Figure:
    """Heatmap of places short (or a gap) by a row label and year, each cell annotated.

    Parameters
    ----------
    table : DataFrame
        ``year``, the ``row`` column(s) and ``value``. Values are summed within a cell.
        Negative values (spare places) get a diverging blue/vermillion scale.
    row : str or list of str
        Row labels (e.g. ``area`` or ``["designation", "phase"]``).
    value : str
        Column to show.
    title, colorbar_label, source : str
        Figure title, colour-bar label and source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"year": [2026, 2027] * 2, "area": ["N", "N", "S", "S"],
    ...                   "places_short": [0, 3, 5, 9]})
    >>> fig = shortfall_heatmap(t)
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['0', '3', '5', '9']
    """
    rows = [row] if isinstance(row, str) else list(row)
    _require(table, ["year", value, *rows], "shortfall_heatmap")
    t = table.assign(_row=table[rows].astype(str).agg(" · ".join, axis=1))
    wide = t.pivot_table(index="_row", columns="year", values=value, aggfunc="sum")
    wide = wide.sort_index()
    data = wide.to_numpy(dtype=float)
    n_rows, n_years = data.shape
    fig = Figure(figsize=(FIG_WIDTH, 1.6 + 0.38 * n_rows), layout="constrained")
    ax = fig.subplots()
    finite = data[np.isfinite(data)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    if lo < 0 < hi:
        norm, cmap = TwoSlopeNorm(vmin=lo, vcenter=0, vmax=hi), _GAP_CMAP
    else:
        norm, cmap = Normalize(vmin=min(lo, 0), vmax=max(hi, 1)), _SHORT_CMAP
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=cmap, norm=norm)
    for i in range(n_rows):
        for j in range(n_years):
            v = data[i, j]
            if not np.isfinite(v):
                continue
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, f"{round(v) + 0:,.0f}", ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black")
    ax.set_xticks(range(n_years))
    ax.set_xticklabels([str(int(y)) for y in wide.columns], fontsize=8,
                       rotation=90 if n_years > 12 else 0)
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(wide.index, fontsize=8)
    ax.set_xlabel("Census year (January)")
    ax.set_ylabel(" · ".join(r.capitalize() for r in rows))
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.01)
    cb.set_label(colorbar_label)
    return _finish(fig, title, source)


def shortfall_probability_chart(
    table: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    value: str = "prob_shortfall",
    title: str = "Probability that demand exceeds capacity",
    source: str | None = None,
    thresholds: Sequence[float] = (0.5, 0.9),
) -> Figure:
    """Lines of the probability of a shortfall by year, one per group, on a 0-100% scale.

    Parameters
    ----------
    table : DataFrame
        ``year``, ``value`` (a probability in [0, 1]) and the ``by`` columns.
    by : str or list of str, optional
        One line per group, each its own colour and marker; more than 8 groups get one
        small panel each.
    value : str
        Probability column (share of simulations with demand above capacity).
    title, source : str
        Figure title and source note.
    thresholds : sequence of float
        Reference lines (e.g. 50% "more likely than not", 90% "very likely").

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"year": [2026, 2027], "prob_shortfall": [0.2, 0.7]})
    >>> tuple(float(v) for v in shortfall_probability_chart(t).axes[0].get_ylim())
    (0.0, 100.0)
    """
    by = [by] if isinstance(by, str) else list(by or [])
    _require(table, ["year", value, *by], "shortfall_probability_chart")
    vals = table[value].to_numpy(dtype=float)
    if np.nanmin(vals) < 0 or np.nanmax(vals) > 1:
        raise SenForecastError(f"shortfall_probability_chart: column {value!r} must hold probabilities in [0, 1]")
    groups = table[by].drop_duplicates().reset_index(drop=True) if by else pd.DataFrame(index=[0])
    markers = "osD^v<>P"
    if len(groups) > len(OKABE_ITO):
        # too many lines to tell apart: one small panel per group instead
        fig, axes = _new_figure(len(groups), ncols=3, panel_height=1.7, sharex=True)
        for ax, (_, g) in zip(axes, groups.iterrows()):
            part = _rows_of(table, g, by).sort_values("year")
            ax.plot(part["year"], part[value] * 100, color=PROJECTION_COLOUR, marker="o", markersize=3,
                    linewidth=1.6)
            for th in thresholds:
                ax.axhline(th * 100, color="#777777", linewidth=0.7, linestyle="--")
            ax.set_title(_panel_title(_group_label(g, by), 3), fontsize=9, loc="left")
            ax.set_ylim(0, 100)
            ax.set_yticks([0, 50, 100])
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            ax.tick_params(axis="y", labelsize=7.5)
            _year_axis(ax, table["year"], small=True)
        fig.supylabel("Probability of shortfall (% of simulations)", fontsize=10)
        _bottom_xlabels(axes, min(3, len(axes)))
        if source is None:
            source = "Source: senforecast gap analysis. Dashed lines: " + ", ".join(f"{t:.0%}" for t in thresholds) + "."
        return _finish(fig, title, source)
    fig, axes = _new_figure(1, panel_height=4.0)
    ax = axes[0]
    for i, (_, g) in enumerate(groups.iterrows()):
        part = _rows_of(table, g, by).sort_values("year")
        ax.plot(part["year"], part[value] * 100, color=OKABE_ITO[i], marker=markers[i], markersize=4,
                linewidth=1.8, label=_group_label(g, by) if by else "All specialist places")
    for th in thresholds:
        ax.axhline(th * 100, color="#777777", linewidth=0.8, linestyle="--")
        ax.text(1.0, th * 100, f" {th:.0%}", transform=ax.get_yaxis_transform(), va="center", fontsize=7.5,
                color="#555555")
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_ylabel("Probability of shortfall (% of simulations)")
    ax.set_xlabel("Census year (January)")
    _year_axis(ax, table["year"])
    # legend below the plot so the year axis keeps the full width of the page
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2 if len(groups) > 1 else 1,
              fontsize=8, frameon=False)
    return _finish(fig, title, source)


def out_of_county_chart(
    placements: pd.DataFrame,
    cost: pd.DataFrame | None = None,
    *,
    history: pd.DataFrame | None = None,
    title: str = "Out-of-county and independent placements",
    source: str | None = None,
) -> Figure:
    """Projected out-of-county placements (and their cost) with 50% and 90% intervals.

    Parameters
    ----------
    placements : DataFrame
        ``year``, ``median``, ``p05``, ``p25``, ``p75``, ``p95`` (children placed out of county).
    cost : DataFrame, optional
        Same columns in pounds per year; drawn in a second panel.
    history : DataFrame, optional
        Actual placements: ``year``, ``count``.
    title, source : str
        Figure title and source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"year": [2026, 2027], "median": [20, 24], "p05": [15, 17],
    ...                   "p25": [18, 21], "p75": [22, 27], "p95": [25, 31]})
    >>> c = p.assign(**{k: p[k] * 60000 for k in ["median", "p05", "p25", "p75", "p95"]})
    >>> from senforecast.plotting import chart_axes
    >>> [ax.get_ylabel() for ax in chart_axes(out_of_county_chart(p, c))]
    ['Number of children', 'Cost (£ per year)']
    """
    _require(placements, ["year", "median"], "out_of_county_chart")
    n = 1 if cost is None else 2
    fig, axes = _new_figure(n, ncols=n, panel_height=3.8, sharex=False, legend_row=True)
    colour = OKABE_ITO[1]
    _draw_history(axes[0], history)
    _join_line(axes[0], history, placements, colour)
    _draw_fan(axes[0], placements, colour)
    _count_axis(axes[0], "Number of children")
    axes[0].set_title("Children placed", fontsize=9.5, loc="left")
    years = list(placements["year"]) + (list(history["year"]) if history is not None else [])
    _year_axis(axes[0], years, small=n > 1)
    if cost is not None:
        _require(cost, ["year", "median"], "out_of_county_chart cost")
        _draw_fan(axes[1], cost, OKABE_ITO[3])
        _count_axis(axes[1], "Cost (£ per year)", money=True)
        axes[1].set_title("Cost of those placements", fontsize=9.5, loc="left")
        _year_axis(axes[1], cost["year"], small=True)
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Census year (January)")
    handles = _fan_handles(colour, history=history is not None,
                           band50="p25" in placements.columns and "p75" in placements.columns)
    if cost is not None:
        handles.append(Line2D([], [], color=OKABE_ITO[3], linewidth=2, label="Cost (median)"))
    _panel_legend(fig, handles)
    return _finish(fig, title, source)
