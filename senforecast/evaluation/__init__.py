"""Evaluation: backtests on held-out census years, accuracy metrics, model comparison.

One engine (:mod:`.engine`: the rolling-origin loop, the result frame, :func:`score`,
:func:`skill_vs_naive`) runs the local backtest (:mod:`.backtest`) and the England backtest
(:mod:`.england`, :mod:`.england_selection`; import those from ``senforecast.england``).
"""
from __future__ import annotations

from .backtest import BacktestResult, EnsembleModel, backtest, compare_models, ensemble, truncate_data
from .engine import INTERVALS, RESULT_COLUMNS, rolling_origin, score, skill_vs_naive
from .metrics import bias, coverage, crps_draws, interval_score, mae, mape, wape

__all__ = ["BacktestResult", "EnsembleModel", "backtest", "compare_models", "ensemble", "truncate_data",
           "INTERVALS", "RESULT_COLUMNS", "rolling_origin", "score", "skill_vs_naive",
           "bias", "coverage", "crps_draws", "interval_score", "mae", "mape", "wape"]
