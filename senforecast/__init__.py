"""senforecast: forecast demand for specialist SEN/ALN places and the gap to capacity."""
from __future__ import annotations

import importlib

from .core.codes import NO_PLAN
from .core.data import LocalAreaData
from .core.errors import InputValidationError, InputWarning, Problem, SenForecastError
from .projection import Projection
from .core.scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure

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
    if name in {"core", "io", "models", "evaluation", "planning", "plotting", "reporting", "pipeline",
                "datasets", "england"}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'senforecast' has no attribute {name!r}")
