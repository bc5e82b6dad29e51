"""Charts (matplotlib) of projections, gaps, scenarios and backtests: colour-blind-safe, titled,
with units and labelled years; every chart takes ``ax=`` or makes its own figure."""
from __future__ import annotations

from .accessors import GapPlots, ProjectionPlots
from .evaluation import backtest_chart
from .gap import capacity_chart, out_of_county_chart, shortfall_heatmap, shortfall_probability_chart
from .projection import fan_chart, share_bars, waterfall_chart
from .scenarios import scenario_chart
from .style import OKABE_ITO, chart_axes, save_figure

__all__ = ["OKABE_ITO", "GapPlots", "ProjectionPlots", "backtest_chart", "capacity_chart", "chart_axes", "fan_chart",
           "out_of_county_chart", "save_figure", "scenario_chart", "share_bars", "shortfall_heatmap",
           "shortfall_probability_chart", "waterfall_chart"]
