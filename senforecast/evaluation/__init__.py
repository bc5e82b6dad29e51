"""Evaluation: backtests on held-out census years, accuracy metrics, model comparison."""
from __future__ import annotations

from .backtest import BacktestResult, EnsembleModel, backtest, compare_models, ensemble, truncate_data
from .metrics import bias, coverage, crps_draws, interval_score, mae, mape, wape

__all__ = ["BacktestResult", "EnsembleModel", "backtest", "compare_models", "ensemble", "truncate_data",
           "bias", "coverage", "crps_draws", "interval_score", "mae", "mape", "wape"]
