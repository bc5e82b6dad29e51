"""Shared look of every chart: Okabe-Ito colours, A4 sizing, axes for years, counts and money,
legends, titles and source notes."""
from __future__ import annotations

import textwrap
from typing import Iterable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

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
    >>> from senforecast.plotting import waterfall_chart
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
        # a strip at the bottom as tall as the wrapped note, so the lowest axis label never
        # touches it; constrained layout keeps the panels inside the rect
        lines = textwrap.wrap(note, int(fig.get_figwidth() * 18))  # about 18 characters per inch at 7.5 pt
        h = (0.14 + 0.13 * len(lines)) / fig.get_figheight()
        fig.get_layout_engine().set(rect=(0, h, 1, 1 - h))
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=7.5, color="#444444", ha="left", va="bottom")
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
    # min_count: a count left out (NaN, e.g. hidden by disclosure control) stays a gap, not 0
    h = history.groupby("year", as_index=False)[value].sum(min_count=1).sort_values("year")
    ax.plot(h["year"], h[value], color=ACTUAL_COLOUR, marker="o", markersize=3, linewidth=1.5)


def _join_line(ax, history: pd.DataFrame | None, proj: pd.DataFrame, colour: str) -> None:
    """Dotted link from the last actual to the first projected median, so the eye follows."""
    if history is None or history.empty:
        return
    h = history.groupby("year")["count"].sum(min_count=1)
    last = h.index.max()
    p = proj.sort_values("year").iloc[0]
    if p["year"] > last and pd.notna(h.loc[last]):
        ax.plot([last, p["year"]], [h.loc[last], p["median"]], color=colour, linestyle=":", linewidth=1.2)
        ax.axvline(last + 0.5, color="#999999", linewidth=0.8, linestyle="--")


def _source_from_meta(meta: Mapping[str, object] | None, extra: str = "", bands: bool = True) -> str:
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
    how = "Bands are prediction intervals." if bands else "Figures are taken over the simulated futures."
    return f"Source: senforecast projection{detail}. {how}{extra}"


# no creation dates in chart files, so the same chart gives the same bytes
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(fig: Figure, target, fmt: str = "png", *, dpi: float | None = None) -> None:
    """Save a chart so that the same chart always gives the same bytes (files and the report).

    The layout is solved once and the panels fixed at rounded positions (the constrained-layout
    solver ends a few ulps apart from one process to the next, which moved grid lines by a
    pixel between identical runs); SVG and PDF carry no creation date and SVG ids a fixed salt.

    Parameters
    ----------
    fig : Figure
    target : path or binary file
    fmt : {"png", "svg", "pdf"}
    dpi : float, optional
        Resolution of a PNG.

    Examples
    --------
    >>> import io
    >>> fig = Figure(figsize=(2, 1), layout="constrained"); _ = fig.add_subplot().plot([0, 1])
    >>> a, b = io.BytesIO(), io.BytesIO()
    >>> save_figure(fig, a, "svg"); save_figure(fig, b, "svg")
    >>> a.getvalue() == b.getvalue()
    True
    """
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()
        boxes = [(ax, np.round(ax.get_position().bounds, 5)) for ax in fig.axes]
        fig.set_layout_engine("none")
        for ax, box in boxes:
            ax.set_position(box)
    with matplotlib.rc_context({"svg.hashsalt": "senforecast"}):
        fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_METADATA.get(fmt))
