"""Panel models: many authorities' published aggregate series (England's EHC plan tables).

Importing this package registers :class:`PooledTrendModel` (``pooled_trend``) and
:class:`AgeFlowModel` (``age_flow``) in :mod:`senforecast.models.registry`.
"""
from __future__ import annotations

from .breaks import SERIES_BREAKS
from .flow import AgeFlowModel
from .frozen import FROZEN_AGE_MODEL, FROZEN_SETTING_MODEL, FROZEN_SHOCK_ORIGINS, FROZEN_VARIANTS
from .growth import GROWTH_MODELS
from .pooled import PooledTrendModel
from .series import SeriesPanel
from .shared import SharedShockCalibration

__all__ = ["AgeFlowModel", "PooledTrendModel", "SeriesPanel", "SharedShockCalibration", "SERIES_BREAKS",
           "GROWTH_MODELS", "FROZEN_AGE_MODEL", "FROZEN_SETTING_MODEL", "FROZEN_SHOCK_ORIGINS", "FROZEN_VARIANTS"]
