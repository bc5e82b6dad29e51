"""senforecast: forecast demand for specialist SEN/ALN places and the gap to capacity."""
from __future__ import annotations

from .data import NO_PLAN, LocalAreaData
from .errors import InputValidationError, InputWarning, Problem, SenForecastError
from .projection import Projection
from .scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure

__version__ = "0.1.0"

__all__ = [
    "NO_PLAN",
    "LocalAreaData",
    "InputValidationError",
    "InputWarning",
    "Problem",
    "SenForecastError",
    "Projection",
    "Scenario",
    "RateChange",
    "Redirect",
    "SettingClosure",
    "ProvisionChange",
]


def __getattr__(name: str):
    # Submodules load on first use so `import senforecast` stays fast.
    import importlib

    if name in {"io", "datasets", "codes", "ncy", "models", "gap", "capacity", "plotting",
                "export", "report", "backtest", "metrics", "allocation", "england", "transitions",
                "scenario_compare", "witan", "pipeline", "config", "cli", "runs", "synthetic"}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'senforecast' has no attribute {name!r}")
