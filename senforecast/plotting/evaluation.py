"""Charts of backtests: forecasts from each origin against what happened."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import ACTUAL_COLOUR, OKABE_ITO, _count_axis, _finish, _new_figure, _require, _year_axis


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
