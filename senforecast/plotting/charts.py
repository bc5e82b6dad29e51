"""Charts for place-planning papers: fan charts, demand vs capacity, shares, heatmaps, scenarios.

Every function takes tidy DataFrames with documented columns and returns a matplotlib
:class:`~matplotlib.figure.Figure` sized for an A4 page (7 inches wide), titled, with axis
labels carrying units, every year labelled as an integer, a legend and a source note. Colours
come from the Okabe-Ito palette, which stays distinguishable under the common forms of colour
blindness. Charts only draw numbers the summary APIs already expose (``Projection.summary``,
the gap tables); the one exception is turning counts into shares for the share bars.

The accessors :class:`ProjectionPlots` (``projection.plot``) and :class:`GapPlots`
(``gap.plot``) call these functions with the right tables.

Figures are made with :class:`matplotlib.figure.Figure` directly (not ``pyplot``), so nothing
accumulates in pyplot's global state; Jupyter still shows them, and ``fig.savefig`` works.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm, Normalize
from matplotlib.patches import Patch
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..core.errors import SenForecastError

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe-Ito colour-blind-safe palette (black last: it is used for actuals)."""

FIG_WIDTH = 7.0
"""Figure width in inches: the text width of an A4 page with normal margins."""

ACTUAL_COLOUR = "#000000"
PROJECTION_COLOUR = OKABE_ITO[0]
CAPACITY_COLOUR = OKABE_ITO[5]
SHORTFALL_COLOUR = OKABE_ITO[5]
DEFAULT_SOURCE = "Source: senforecast projection."
_BAND_COLS = ("p05", "p25", "p75", "p95")

# sequential map for places short: pale yellow -> orange -> vermillion -> dark (Okabe-Ito based)
_SHORT_CMAP = LinearSegmentedColormap.from_list(
    "senforecast_short", ["#FFFFFF", "#F0E442", "#E69F00", "#D55E00", "#6B2F00"]
)
# diverging map: spare places blue, short places vermillion
_GAP_CMAP = LinearSegmentedColormap.from_list(
    "senforecast_gap", ["#0072B2", "#56B4E9", "#FFFFFF", "#E69F00", "#D55E00"]
)


# ---------------------------------------------------------------------------- helpers
def chart_axes(fig: Figure) -> list:
    """The axes of a chart that hold data (not the legend strip or a colour bar).

    Examples
    --------
    >>> fig = waterfall_chart(10, {"Rates": 2})
    >>> len(chart_axes(fig))
    1
    """
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() not in ("legend", "<colorbar>")]


def _require(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise SenForecastError(f"{what} needs a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SenForecastError(
            f"{what}: the table has no column(s) {missing}; it has {list(table.columns)}. "
            "Rename the columns or pass the column names as arguments."
        )
    if table.empty:
        raise SenForecastError(f"{what}: the table is empty, so there is nothing to draw")


def _new_figure(n_panels: int = 1, ncols: int = 1, panel_height: float = 3.6,
                sharex: bool = True, legend_row: bool = False) -> tuple[Figure, np.ndarray]:
    """Figure with ``n_panels`` axes in a grid; optionally a thin top row holding the legend.

    (A figure-level "outside" legend collides with the suptitle under constrained layout, so
    the legend gets its own grid row instead.)
    """
    ncols = max(1, min(ncols, n_panels))
    nrows = int(np.ceil(n_panels / ncols))
    top = 0.32 if legend_row else 0.0
    height = 1.3 + panel_height * nrows + top
    fig = Figure(figsize=(FIG_WIDTH, height), layout="constrained")
    ratios = ([top] if legend_row else []) + [panel_height] * nrows
    gs = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    off = 1 if legend_row else 0
    axes = []
    for k in range(n_panels):
        r, c = divmod(k, ncols)
        share = axes[0] if (sharex and axes) else None
        ax = fig.add_subplot(gs[r + off, c], sharex=share)
        ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        # year labels only on the lowest panel of each column
        if sharex and k + ncols < n_panels:
            ax.tick_params(axis="x", labelbottom=False)
        axes.append(ax)
    if legend_row:
        leg = fig.add_subplot(gs[0, :])
        leg.set_label("legend")
        leg.axis("off")
    return fig, np.asarray(axes, dtype=object)


def _panel_legend(fig: Figure, handles: list) -> None:
    leg_ax = next((a for a in fig.axes if a.get_label() == "legend"), None)
    if leg_ax is None:
        fig.axes[0].legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    else:
        leg_ax.legend(handles=handles, loc="center", ncols=min(len(handles), 3 if len(handles) > 4 else 4), fontsize=8, frameon=False,
                      columnspacing=1.2, handlelength=1.8)


def _bottom_xlabels(axes, ncols: int, label: str = "Census year (January)") -> None:
    n = len(axes)
    for k, ax in enumerate(axes):
        if k + ncols >= n:
            ax.set_xlabel(label, fontsize=8.5)


def _finish(fig: Figure, title: str, source: str | None) -> Figure:
    if len(title) > 70 and " (" in title:  # keep long titles inside the page width
        head, tail = title.split(" (", 1)
        title = f"{head}\n({tail}"
    fig.suptitle(title, fontsize=12, fontweight="bold")
    note = source if source is not None else DEFAULT_SOURCE
    if note:
        # leave a strip at the bottom for the source note; constrained layout keeps to the rect
        h = 0.28 / fig.get_figheight()
        fig.get_layout_engine().set(rect=(0, h, 1, 1 - h))
        fig.text(0.01, 0.01, note, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
    return fig


def _year_axis(ax, years: Iterable, small: bool = False) -> None:
    years = sorted({int(y) for y in years})
    if not years:
        return
    ax.set_xticks(years)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{int(round(x))}"))
    # every year is labelled; rotate when they would collide
    crowded = len(years) > (6 if small else 12)
    fontsize = 7 if small else 8.5
    ax.tick_params(axis="x", labelsize=fontsize, rotation=90 if crowded else 0)
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)


def _count_axis(ax, label: str, money: bool = False) -> None:
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(FuncFormatter(_money if money else _thousands))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=not money))


def _thousands(x: float, _pos=None) -> str:
    return f"{x:,.0f}"


def _money(x: float, _pos=None) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"£{x / 1e6:,.1f}m"
    if a >= 1e3:
        return f"£{x / 1e3:,.0f}k"
    return f"£{x:,.0f}"


def _unit_label(unit: str) -> tuple[str, bool]:
    if unit.upper() in {"GBP", "£"}:
        return "Cost (£ per year)", True
    return f"Number of {unit}", False


_PHASE_LABELS = {"early_years": "Early years", "primary": "Primary", "secondary": "Secondary",
                 "post16": "Post-16", "post19": "Post-19"}


def _group_label(row: pd.Series | Mapping, by: Sequence[str]) -> str:
    # groups are drawn in the table's own order (the caller's or the gap analysis' phase order)
    def text(b: str) -> str:
        v = str(row[b])
        if b == "designation" and v == "*":
            return "All needs"
        if b == "designation":
            return v.replace(";", ", ")
        if b == "phase":
            return _PHASE_LABELS.get(v, v)
        return v

    return " · ".join(text(b) for b in by)


def _rows_of(table: pd.DataFrame, group: pd.Series | Mapping, by: Sequence[str]) -> pd.DataFrame:
    """Rows of ``table`` belonging to one group (all rows when ``by`` is empty)."""
    if not by:
        return table
    return table[np.logical_and.reduce([table[b] == group[b] for b in by])]


def _panel_title(label: str, ncols: int) -> str:
    """Fit a small-multiple title inside its panel: one part per line, long parts shortened."""
    limit = {1: 80, 2: 40}.get(ncols, 22)
    if len(label) <= limit:
        return label
    parts = [p if len(p) <= limit else p[: limit - 1] + "…" for p in label.split(" · ")]
    if len(parts) == 1:
        return parts[0]
    head = " · ".join(parts[:-1])
    if len(head) > limit:
        return "\n".join(parts)
    return f"{head}\n{parts[-1]}"


def _draw_fan(ax, table: pd.DataFrame, colour: str, *, median: str = "median",
              lo90: str = "p05", lo50: str = "p25", hi50: str = "p75", hi90: str = "p95") -> None:
    t = table.sort_values("year")
    x = t["year"].to_numpy(dtype=float)
    if lo90 in t and hi90 in t:
        ax.fill_between(x, t[lo90], t[hi90], color=colour, alpha=0.18, linewidth=0)
    if lo50 in t and hi50 in t:
        ax.fill_between(x, t[lo50], t[hi50], color=colour, alpha=0.38, linewidth=0)
    ax.plot(x, t[median], color=colour, linewidth=2, marker="o", markersize=3)


def _fan_handles(colour: str = PROJECTION_COLOUR, history: bool = True, band50: bool = True) -> list:
    handles = []
    if history:
        handles.append(Line2D([], [], color=ACTUAL_COLOUR, marker="o", markersize=3, label="Actual"))
    handles += [
        Line2D([], [], color=colour, linewidth=2, label="Projection (median)"),
        Patch(facecolor=colour, alpha=0.38 + 0.18 * (1 - 0.38), label="50% interval"),
        Patch(facecolor=colour, alpha=0.18, label="90% interval"),
    ]
    return handles if band50 else [h for h in handles if h.get_label() != "50% interval"]


def _draw_history(ax, history: pd.DataFrame | None, value: str = "count") -> None:
    if history is None or history.empty:
        return
    h = history.groupby("year", as_index=False)[value].sum().sort_values("year")
    ax.plot(h["year"], h[value], color=ACTUAL_COLOUR, marker="o", markersize=3, linewidth=1.5)


def _join_line(ax, history: pd.DataFrame | None, proj: pd.DataFrame, colour: str) -> None:
    """Dotted link from the last actual to the first projected median, so the eye follows."""
    if history is None or history.empty:
        return
    h = history.groupby("year")["count"].sum()
    last = h.index.max()
    p = proj.sort_values("year").iloc[0]
    if p["year"] > last:
        ax.plot([last, p["year"]], [h.loc[last], p["median"]], color=colour, linestyle=":", linewidth=1.2)
        ax.axvline(last + 0.5, color="#999999", linewidth=0.8, linestyle="--")


def _source_from_meta(meta: Mapping[str, object] | None, extra: str = "") -> str:
    meta = dict(meta or {})
    bits = []
    if meta.get("model"):
        model = str(meta["model"])
        bits.append(model if "model" in model.lower() else f"{model} model")
    if meta.get("n_draws"):
        bits.append(f"{meta['n_draws']} simulations")
    if meta.get("seed") is not None:
        bits.append(f"seed {meta['seed']}")
    detail = f" ({', '.join(bits)})" if bits else ""
    return f"Source: senforecast projection{detail}. Bands are prediction intervals.{extra}"


# ----------------------------------------------------------------------------- charts
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


def share_bars(
    table: pd.DataFrame,
    *,
    category: str = "need",
    value: str = "count",
    as_share: bool = True,
    max_categories: int = 8,
    projected_from: int | None = None,
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
    order = wide.sum().sort_values(ascending=False).index.tolist()
    if len(order) > max_categories:
        keep, rest = order[: max_categories - 1], order[max_categories - 1:]
        wide = wide[keep].assign(Other=wide[rest].sum(axis=1))
        order = keep + ["Other"]
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
        colour = "#999999" if cat == "Other" else palette[i]
        projected = np.array([projected_from is not None and y >= projected_from for y in years])
        # projected bars are paler; the dashed divider and label say where projection starts
        for mask, alpha in ((~projected, 1.0), (projected, 0.65)):
            if mask.any():
                ax.bar(years[mask], vals[mask], bottom=bottom[mask], color=colour, alpha=alpha, width=0.75,
                       label=str(cat) if alpha == 1.0 or not (~projected).any() else None,
                       edgecolor="white", linewidth=0.5)
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


def backtest_chart(
    table: pd.DataFrame,
    actuals: pd.DataFrame | None = None,
    *,
    lower: str = "p10",
    upper: str = "p90",
    title: str = "Backtest: projections from past years against what happened",
    ylabel: str = "Number of children",
    source: str | None = None,
) -> Figure:
    """Actuals against projections made from each forecast origin, with intervals.

    Parameters
    ----------
    table : DataFrame
        ``origin`` (last year of data used), ``year``, ``actual``, ``median``, ``lower``,
        ``upper`` (default ``p10``/``p90``, an 80% interval).
    actuals : DataFrame, optional
        The full actual series (``year``, ``actual``), so each origin's line can start from
        the value it was projected from; by default the actuals in ``table`` are drawn.
    lower, upper : str
        Interval columns.
    title, ylabel, source : str
        Figure title, y-axis label and source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"origin": [2019, 2019, 2020], "year": [2020, 2021, 2021],
    ...                   "actual": [100, 108, 108], "median": [102, 104, 109],
    ...                   "p10": [95, 94, 101], "p90": [110, 115, 117]})
    >>> [t.get_text() for t in backtest_chart(t).axes[0].get_legend().get_texts()]
    ['Actual', 'Projected from 2019', 'Projected from 2020']
    """
    _require(table, ["origin", "year", "actual", "median"], "backtest_chart")
    origins = sorted(table["origin"].unique())
    fig, axes = _new_figure(1, panel_height=4.2)
    ax = axes[0]
    if actuals is not None:
        _require(actuals, ["year", "actual"], "backtest_chart actuals")
        actual = actuals.groupby("year", as_index=False)["actual"].first().sort_values("year")
    else:
        actual = table.groupby("year", as_index=False)["actual"].first().sort_values("year")
    ax.plot(actual["year"], actual["actual"], color=ACTUAL_COLOUR, marker="o", markersize=4,
            linewidth=2, label="Actual", zorder=5)
    palette = [c for c in OKABE_ITO if c != ACTUAL_COLOUR]
    for i, origin in enumerate(origins):
        part = table[table["origin"] == origin].sort_values("year")
        colour = palette[i % len(palette)]
        x = part["year"].to_numpy(dtype=float)
        med = part["median"].to_numpy(dtype=float)
        # start each line at the origin's actual value so it reads as "from here"
        at_origin = actual.loc[actual["year"] == origin, "actual"]
        if len(at_origin):
            x = np.r_[origin, x]
            med = np.r_[at_origin.iloc[0], med]
        if lower in part and upper in part:
            ax.fill_between(part["year"], part[lower], part[upper], color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, med, color=colour, linewidth=1.6, linestyle="--", marker="s", markersize=3,
                label=f"Projected from {int(origin)}")
    ax.set_xlabel("Census year (January)")
    _count_axis(ax, ylabel)
    _year_axis(ax, list(table["year"]) + origins + list(actual["year"]))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    if source is None:
        source = (f"Source: senforecast backtest; each origin's model saw data up to that year only. "
                  f"Shaded: {lower}-{upper} interval.")
    return _finish(fig, title, source)


_SCENARIO_MEASURES = {
    "ooc": "Children placed out of county",
    "places_short": "Places short (children beyond local capacity)",
    "ooc_cost": "Cost of out-of-county places",
    "total_cost": "Cost of local and out-of-county places",
}


def _interval_columns(table: pd.DataFrame, measure: str) -> tuple[str, str] | None:
    """Widest ``{measure}_pNN`` pair of a table (the gap's confidence sets which ones exist)."""
    found = {}
    for c in table.columns:
        m = re.fullmatch(rf"{re.escape(measure)}_p(\d+(?:\.\d+)?)", str(c))
        if m:
            found[float(m.group(1))] = f"p{m.group(1)}"
    below, above = [q for q in found if q < 50], [q for q in found if q > 50]
    if not below or not above:
        return None
    return found[min(below)], found[max(above)]


def _interval_name(lo: str, hi: str) -> str:
    """'p05', 'p95' -> '90% interval' (other column names are shown as they are)."""
    try:
        return f"{float(hi[1:]) - float(lo[1:]):g}% interval"
    except ValueError:
        return f"{lo}-{hi} interval"


def scenario_chart(
    table: pd.DataFrame,
    *,
    measure: str = "ooc",
    lo: str | None = None,
    hi: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    source: str = "Source: senforecast gap analysis of each scenario (same simulated futures).",
) -> Figure:
    """Scenarios side by side: one median line per scenario, and the first one's interval.

    Only the first scenario (the baseline, in :func:`~senforecast.planning.scenario_compare.compare_scenarios`
    order) gets a band: several overlapping bands cannot be read.

    Parameters
    ----------
    table : DataFrame
        From :func:`senforecast.planning.scenario_compare.compare_scenarios`: ``scenario``, ``year``,
        ``{measure}_median`` and optionally the interval columns, e.g. ``{measure}_p05``,
        ``{measure}_p95``.
    measure : str
        ``ooc`` (children placed out of county), ``places_short``, ``ooc_cost`` or
        ``total_cost``; costs are drawn in £ million a year.
    lo, hi : str, optional
        Interval columns' suffixes (``"p05"``, ``"p95"``); by default the widest pair the
        table has for ``measure`` (no band when it has none).
    title, ylabel : str, optional
        Figure title and y-axis label; by default they name the measure.
    source : str
        Source note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"scenario": ["baseline", "baseline", "new base", "new base"],
    ...                   "year": [2026, 2027, 2026, 2027], "ooc_median": [50, 55, 50, 43],
    ...                   "ooc_p10": [40, 44, 40, 33], "ooc_p90": [60, 66, 60, 53]})
    >>> fig = scenario_chart(t)
    >>> fig.get_suptitle(), chart_axes(fig)[0].get_ylabel()
    ('Scenarios compared: children placed out of county', 'Children placed out of county')
    >>> [x.get_text() for x in chart_axes(fig)[0].get_legend().get_texts()]
    ['baseline: 80% interval', 'baseline (median)', 'new base (median)']
    """
    if (lo is None) != (hi is None):
        raise SenForecastError("scenario_chart: give both lo and hi (e.g. lo='p05', hi='p95'), or neither")
    asked = [f"{measure}_{lo}", f"{measure}_{hi}"] if lo is not None else []
    _require(table, ["scenario", "year", f"{measure}_median", *asked], "scenario_chart")
    band = (lo, hi) if lo is not None else _interval_columns(table, measure)
    label = _SCENARIO_MEASURES.get(measure, measure.replace("_", " ").capitalize())
    ylabel = ylabel or label
    money = "cost" in measure
    scale = 1e6 if money else 1
    fig, axes = _new_figure(1, panel_height=4.2)
    ax = axes[0]
    for i, (name, part) in enumerate(table.groupby("scenario", sort=False)):
        colour = OKABE_ITO[i % (len(OKABE_ITO) - 1)]  # black is kept for actuals
        part = part.sort_values("year")
        if i == 0 and band is not None:
            low, high = (part[f"{measure}_{q}"] / scale for q in band)
            ax.fill_between(part["year"], low, high, color=colour, alpha=0.15, linewidth=0,
                            label=f"{name}: {_interval_name(*band)}")
        ax.plot(part["year"], part[f"{measure}_median"] / scale, color=colour, linewidth=2, marker="o",
                markersize=3, linestyle=["-", "--", "-.", ":"][i % 4], label=f"{name} (median)")
    ax.set_xlabel("Census year (January)")
    _count_axis(ax, ylabel + (" (£ million a year)" if money else ""))
    if money:
        # millions are rarely whole numbers: a whole-number axis would show one or two ticks
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.6g}"))
    _year_axis(ax, table["year"].unique())
    labels = ax.get_legend_handles_labels()[1]
    # below the plot: inside it, the legend would sit on the band
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, frameon=False,
              ncols=2 if len(labels) > 2 and max(map(len, labels)) <= 45 else 1)
    short = label.split(" (")[0]
    return _finish(fig, title or f"Scenarios compared: {short[0].lower()}{short[1:]}", source)


# -------------------------------------------------------------------------- accessors
class ProjectionPlots:
    """Charts of a :class:`~senforecast.projection.Projection`, reached as ``projection.plot``.

    Parameters
    ----------
    projection : Projection

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast import Projection
    >>> cells = pd.DataFrame({"need": ["ASD", "SLD"]})
    >>> p = Projection(np.random.default_rng(0).poisson(20, (50, 3, 2)), [2026, 2027, 2028], cells)
    >>> fig = p.plot.fan(by="need")
    >>> [ax.get_title(loc="left") for ax in chart_axes(fig)]
    ['ASD', 'SLD']
    """

    def __init__(self, projection) -> None:
        self.projection = projection

    def __call__(self, **kwargs) -> Figure:
        """Same as :meth:`fan`."""
        return self.fan(**kwargs)

    def _source(self) -> str:
        p = self.projection
        meta = {**p.meta, "n_draws": p.meta.get("n_draws", p.n_draws)}
        return _source_from_meta(meta)

    def _history(self, by: list[str]) -> pd.DataFrame | None:
        h = self.projection.history
        if h is None or not all(b in h.columns for b in by):
            return None
        return h.groupby(["year", *by], as_index=False)["count"].sum()

    def fan(self, by: str | Sequence[str] | None = None, *, title: str | None = None, **kwargs) -> Figure:
        """History and projection fan chart, total or one panel per ``by`` group (see :func:`fan_chart`)."""
        p = self.projection
        by_l = [by] if isinstance(by, str) else list(by or [])
        label, money = _unit_label(p.unit)
        if title is None:
            what = "Cost" if money else "Children with a plan"
            title = f"{what}: actual and projected" + (f", by {' and '.join(by_l)}" if by_l else "")
        kwargs.setdefault("source", self._source())
        return fan_chart(p.summary(by_l), self._history(by_l), by=by_l or None, title=title,
                         ylabel=label, money=money, **kwargs)

    def shares(self, by: str = "need", *, include_history: bool = True, as_share: bool = True,
               **kwargs) -> Figure:
        """Stacked bars of plans by ``by`` per year, history then projection mean (see :func:`share_bars`)."""
        p = self.projection
        proj = p.summary(by)[[by, "year", "mean"]].rename(columns={"mean": "count"})
        frames = [proj]
        hist = self._history([by]) if include_history else None
        if hist is not None:
            frames.insert(0, hist[hist["year"] < p.years.min()])
        table = pd.concat(frames, ignore_index=True)
        return share_bars(table, category=by, as_share=as_share,
                          projected_from=int(p.years.min()) if hist is not None else None, **kwargs)

    def out_of_county(self, settings: Sequence[str], costs: pd.DataFrame | None = None, **kwargs) -> Figure:
        """Projected children in the given out-of-county settings and, with ``costs``, their cost.

        Parameters
        ----------
        settings : sequence of str
            Setting codes that are out of county (provision ``kind`` independent / other_la).
        costs : DataFrame, optional
            Cost table for :meth:`Projection.weighted` (e.g. ``setting, cost_per_place``).
        """
        sub = self.projection.sel(setting=list(settings))
        if len(sub.cells) == 0:
            raise SenForecastError(f"no projected children in settings {list(settings)}")
        cost = sub.weighted(costs).summary() if costs is not None else None
        kwargs.setdefault("source", self._source())
        hist = None
        if sub.history is not None and "setting" in sub.history.columns:
            hist = sub.history.groupby("year", as_index=False)["count"].sum()
        return out_of_county_chart(sub.summary(), cost, history=hist, **kwargs)


class GapPlots:
    """Charts of a gap analysis, reached as ``gap.plot``.

    Works with any object holding the gap tables as attributes (a ``GapAnalysis``), or with
    the tables passed directly. Each method's ``table`` argument overrides the attribute.

    Parameters
    ----------
    gap : object
        Has tidy tables as attributes, looked up by these names (first found is used):
        by group: ``by_group``, ``by_designation``, ``groups``; per base: ``by_base``,
        ``per_base``, ``bases``; totals by year: ``by_year``, ``totals``; out of county:
        ``out_of_county``, ``ooc``.

    Examples
    --------
    >>> import pandas as pd
    >>> class Gap:
    ...     by_year = pd.DataFrame({"year": [2026, 2027], "demand_median": [40, 55],
    ...                             "capacity": [50, 50], "prob_shortfall": [0.1, 0.8]})
    >>> fig = GapPlots(Gap()).capacity(level="year")
    >>> fig.axes[0].get_ylabel()
    'Number of places'
    """

    _NAMES = {
        "group": ("by_group", "by_designation", "groups", "by_designation_phase_area"),
        "base": ("by_base", "per_base", "bases"),
        "year": ("by_year", "totals", "total"),
        "ooc": ("out_of_county", "ooc", "by_year"),
    }

    def __init__(self, gap) -> None:
        self.gap = gap

    def table(self, level: str) -> pd.DataFrame:
        """The gap table at ``level`` ("group", "base", "year" or "ooc")."""
        if level not in self._NAMES:
            raise SenForecastError(f"level must be one of {list(self._NAMES)}; got {level!r}")
        for name in self._NAMES[level]:
            t = getattr(self.gap, name, None)
            if callable(t) and not isinstance(t, pd.DataFrame):
                try:
                    t = t()
                except TypeError:
                    continue
            if isinstance(t, pd.DataFrame):
                return t
        raise SenForecastError(
            f"this gap object has no {level} table (looked for attributes {self._NAMES[level]}); "
            "pass the table directly with table=..."
        )

    def _source(self) -> str:
        meta = getattr(self.gap, "meta", None)
        return _source_from_meta(meta, " Capacity from the provision register.")

    def _by(self, t: pd.DataFrame, by) -> list[str]:
        if by is not None:
            return [by] if isinstance(by, str) else list(by)
        cols = [c for c in ("designation", "phase", "area", "name") if c in t.columns]
        if "name" in cols:  # a base is named; its setting code and area are detail
            return ["name"]
        # a column with one value (e.g. area "ALL") adds nothing to a panel title
        return [c for c in cols if t[c].nunique() > 1] or cols[:1]

    def _confidence_note(self) -> str:
        conf = getattr(self.gap, "confidence", None)
        return f"(in {conf:.0%} of simulations)" if isinstance(conf, float) else ""

    @staticmethod
    def _select(t: pd.DataFrame, select: Mapping[str, object] | None, by: list[str],
                max_panels: int, kwargs: dict) -> pd.DataFrame:
        """Filter rows (``select={"phase": "primary"}``) and keep at most ``max_panels`` groups,
        those with the largest median shortfall, saying so in the title."""
        for col, val in (select or {}).items():
            if col not in t.columns:
                raise SenForecastError(f"cannot select on {col!r}: the table has {list(t.columns)}")
            vals = list(val) if isinstance(val, (list, tuple, set)) else [val]
            t = t[t[col].isin(vals)]
        if t.empty:
            raise SenForecastError(f"no rows match {dict(select or {})}")
        if not by:
            return t
        n = t[by].drop_duplicates().shape[0]
        if n > max_panels:
            short = (-t["spare_median"]).clip(lower=0) if "spare_median" in t.columns else t.get("prob_shortfall")
            if short is None:
                short = t[kwargs.get("demand", "demand_median")] - t[kwargs.get("capacity", "capacity")]
            worst = t.assign(_s=short).groupby(by, sort=False)["_s"].max().nlargest(max_panels).index
            keep = pd.MultiIndex.from_frame(t[by]).isin(worst if isinstance(worst, pd.MultiIndex)
                                                         else pd.MultiIndex.from_arrays([worst]))
            t = t[keep]
            note = f" ({max_panels} of {n} groups with the largest shortfalls)"
            kwargs["title"] = kwargs.get("title", "Projected demand for specialist places against capacity") + note
        return t

    def capacity(self, level: str = "group", by=None, table: pd.DataFrame | None = None, *,
                 select: Mapping[str, object] | None = None, max_panels: int = 12, **kwargs) -> Figure:
        """Demand vs capacity (see :func:`capacity_chart`), one panel per group (or base).

        ``select`` keeps rows matching column values (e.g. ``{"area": "North"}``); beyond
        ``max_panels`` groups, those with the largest median shortfall are drawn.
        ``level="base"`` draws each base's projected roll (``roll_median``) or, without one,
        the children the allocation places there (``allocated_median``).
        """
        t = self.table(level) if table is None else table
        kwargs.setdefault("source", self._source())
        if level == "base" and "demand" not in kwargs:
            kwargs["demand"] = "roll_median" if "roll_median" in t.columns else "allocated_median"
        if "first_year_exceeded" in t.columns and "exceeded_year" not in kwargs:
            kwargs["exceeded_year"] = "first_year_exceeded"
            kwargs.setdefault("exceeded_note", self._confidence_note())
        by = self._by(t, by) if level != "year" or by is not None else []
        t = self._select(t, select, by, max_panels, kwargs)
        return capacity_chart(t, by=by or None, **kwargs)

    def heatmap(self, row=None, value: str = "places_short", level: str = "group",
                table: pd.DataFrame | None = None, **kwargs) -> Figure:
        """Places short by ``row`` x year (see :func:`shortfall_heatmap`).

        ``places_short`` is the median shortfall, ``max(0, -spare_median)``, of each group,
        summed over the groups in a row (a place of one designation cannot take a child of
        another, so spare places in one group do not offset a shortfall in another).
        """
        t = self.table(level) if table is None else table
        if value == "places_short" and value not in t.columns and "spare_median" in t.columns:
            t = t.assign(places_short=(-t["spare_median"]).clip(lower=0))
        if row is None:
            row = self._by(t, None) if level != "group" or t.get("area", pd.Series(["ALL"])).nunique() <= 1 else "area"
        rows = [row] if isinstance(row, str) else list(row)
        if value == "places_short" and level == "group" and set(rows) != {"designation", "phase", "area"}:
            kwargs.setdefault("title", f"Places short by {' and '.join(rows)} and year\n"
                                       "(each designation and phase group's median shortfall, added up)")
        kwargs.setdefault("source", self._source())
        return shortfall_heatmap(t, row=row, value=value, **kwargs)

    def unplaced_heatmap(self, **kwargs) -> Figure:
        """Children from each area who get no local specialist place, by year (mean over
        simulations, all reasons), from the allocation: a child placed in a base in another
        area is placed, so this does not overstate an area without a base of its own.

        Examples
        --------
        >>> # gap = gap_analysis(projection, provision); gap.plot.unplaced_heatmap()
        """
        u = self.gap.unplaced(by=("area",))
        t = u.groupby(["year", "area"], as_index=False)["mean"].sum()
        areas = pd.Index(sorted(set(self.gap.projection.cells["area"].astype(str)) if
                                "area" in self.gap.projection.cells else set(t["area"])), name="area")
        grid = pd.MultiIndex.from_product([sorted(set(self.gap.years)), areas], names=["year", "area"])
        t = t.set_index(["year", "area"]).reindex(grid, fill_value=0.0).reset_index()
        kwargs.setdefault("title", "Children without a local specialist place, by home area (mean)")
        kwargs.setdefault("colorbar_label", "Children placed out of county")
        kwargs.setdefault("source", self._source())
        return shortfall_heatmap(t, row="area", value="mean", **kwargs)

    def probability(self, level: str = "group", by=None, value: str = "prob_shortfall",
                    table: pd.DataFrame | None = None, *, select: Mapping[str, object] | None = None,
                    max_panels: int = 15, **kwargs) -> Figure:
        """Probability of shortfall by year (see :func:`shortfall_probability_chart`);
        ``select`` and ``max_panels`` as in :meth:`capacity`."""
        t = self.table(level) if table is None else table
        kwargs.setdefault("source", self._source())
        by = self._by(t, by) if level != "year" or by is not None else []
        kwargs.setdefault("title", "Probability that demand exceeds capacity")
        t = self._select(t, select, by, max_panels, kwargs)
        return shortfall_probability_chart(t, by=by or None, value=value, **kwargs)

    def out_of_county(self, table: pd.DataFrame | None = None, *, count_prefix: str = "ooc_",
                      cost_prefix: str = "ooc_cost_", **kwargs) -> Figure:
        """Out-of-county placements and cost (see :func:`out_of_county_chart`).

        The table has, per year, ``{count_prefix}median``, ``{count_prefix}p05`` ... and
        ``{cost_prefix}median``, ``{cost_prefix}p05`` ... columns.
        """
        t = self.table("ooc") if table is None else table
        stats = ["median", *_BAND_COLS]

        def pick(prefix: str) -> pd.DataFrame | None:
            cols = {f"{prefix}{s}": s for s in stats if f"{prefix}{s}" in t.columns}
            if f"{prefix}median" not in cols:
                return None
            if t["year"].duplicated().any():
                # quantiles of parts do not add up to quantiles of the total
                raise SenForecastError(
                    "the out-of-county table has several rows per year; pass the all-areas total "
                    "(one row per year) with table=..."
                )
            return t[["year", *cols]].rename(columns=cols)

        counts = pick(count_prefix)
        if counts is None:
            raise SenForecastError(
                f"the out-of-county table needs a '{count_prefix}median' column; it has {list(t.columns)}"
            )
        kwargs.setdefault("source", self._source())
        return out_of_county_chart(counts, pick(cost_prefix), **kwargs)
