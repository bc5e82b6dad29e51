"""England: the DfE EHC plans release (every authority; every layout from the 2022 release's
2010-2022 files to the 2025 release), aggregate models, backtest."""
from __future__ import annotations

from .areas import find_code_changes, harmonise_areas, stable_area_map
from .extract import build_extract, load_england_ehcp
from .reader import (AGE_GROUPS, CODE_FIXES, NEEDS, SETTINGS, SINGLE_AGES, SPECIALIST_SETTINGS, EHCPTables,
                     detect_layout, read_ehcp)
from .pooled import PooledTrendModel
from .flow import AgeFlowModel
from .backtest import BASELINES, BacktestResult, run_england_backtest
from .breaks import SERIES_BREAKS
from .growth import GROWTH_MODELS
from .shared import SharedShockCalibration

__all__ = [
    "AGE_GROUPS", "SINGLE_AGES", "NEEDS", "CODE_FIXES", "SETTINGS", "SPECIALIST_SETTINGS", "EHCPTables",
    "detect_layout", "read_ehcp",
    "find_code_changes", "harmonise_areas", "stable_area_map", "build_extract", "load_england_ehcp",
    "PooledTrendModel", "AgeFlowModel", "BASELINES", "BacktestResult", "run_england_backtest",
    "SERIES_BREAKS", "GROWTH_MODELS", "SharedShockCalibration",
]
