"""The core: the tables every layer shares and the rules about them.

``LocalAreaData`` (one authority's validated tables), need-code schemes and setting kinds
(``codes``), national curriculum years (``ncy``), table schemas (``schema``), transitions between
censuses (``transitions``), scenarios (``scenarios``), the register of specialist places
(``provision``) and the error types (``errors``). Nothing here imports from a higher layer.
"""
from __future__ import annotations

from .codes import NO_PLAN
from .data import LocalAreaData
from .errors import InputValidationError, InputWarning, ModelError, Problem, SenForecastError
from .scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure

__all__ = ["NO_PLAN", "LocalAreaData", "InputValidationError", "InputWarning", "ModelError", "Problem",
           "SenForecastError", "Scenario", "RateChange", "Redirect", "SettingClosure", "ProvisionChange"]
