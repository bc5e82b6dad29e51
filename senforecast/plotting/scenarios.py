"""Charts comparing scenarios with the baseline, with intervals of the paired changes."""
from __future__ import annotations

import re

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..core.errors import SenForecastError
from .style import OKABE_ITO, _count_axis, _finish, _new_figure, _require, _year_axis

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
    >>> from senforecast.plotting import chart_axes
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
