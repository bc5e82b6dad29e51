"""Forecasting models. Every model: ``Model(...).fit(data)`` then ``.project(...)`` -> Projection."""
from __future__ import annotations

import importlib

# name -> submodule; loaded on first use so `import senforecast.models` stays light
_LAZY = {
    "CohortModel": "cohort.model",
    "PrevalenceModel": "prevalence",
    "decompose_change": "prevalence",
    "LastValue": "baselines",
    "LinearTrend": "baselines",
    "LogLinearTrend": "baselines",
    "SettingSplit": "setting_split",
    "EnsembleModel": "ensemble",
    "ensemble": "ensemble",
    "BaseModel": "base",
    "Forecaster": "base",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'senforecast.models' has no attribute {name!r}")
