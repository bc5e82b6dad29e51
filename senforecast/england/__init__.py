"""England: the DfE EHC plans release (every authority; every layout from the 2022 release's
2010-2022 files to the 2025 release), aggregate models, backtest.

A facade: the code lives in its layer (readers :mod:`senforecast.io.england` and
:mod:`senforecast.io.england_areas`; the shipped extract :mod:`senforecast.datasets.england`;
models :mod:`senforecast.models.panel`; backtest :mod:`senforecast.evaluation.england` and
:mod:`senforecast.evaluation.england_selection`). ``from senforecast.england import ...`` gives the
public England API in one place.
"""
from __future__ import annotations

from ..datasets.england import build_extract, load_england_ehcp
from ..evaluation.england import BASELINES, BacktestResult, run_england_backtest, specialist_total
from ..evaluation.england_selection import (DEV_ORIGINS, HELD_OUT_ORIGINS, candidate_variants, development_choice,
                                            frozen_backtest, select_models)
from ..io.england import (AGE_GROUPS, CODE_FIXES, NEEDS, SETTINGS, SINGLE_AGES, SPECIALIST_SETTINGS,
                          EHCPTables, detect_layout, read_ehcp)
from ..io.england_areas import find_code_changes, harmonise_areas, stable_area_map
from ..models.panel import (FROZEN_AGE_MODEL, FROZEN_SETTING_MODEL, FROZEN_SHOCK_ORIGINS, FROZEN_VARIANTS,
                            GROWTH_MODELS, SERIES_BREAKS, AgeFlowModel, PooledTrendModel, SeriesPanel,
                            SharedShockCalibration)

__all__ = [
    "AGE_GROUPS", "SINGLE_AGES", "NEEDS", "CODE_FIXES", "SETTINGS", "SPECIALIST_SETTINGS", "EHCPTables",
    "detect_layout", "read_ehcp",
    "find_code_changes", "harmonise_areas", "stable_area_map", "build_extract", "load_england_ehcp",
    "PooledTrendModel", "AgeFlowModel", "SeriesPanel", "BASELINES", "BacktestResult", "run_england_backtest",
    "specialist_total", "DEV_ORIGINS", "HELD_OUT_ORIGINS", "candidate_variants", "development_choice",
    "frozen_backtest", "select_models",
    "SERIES_BREAKS", "GROWTH_MODELS", "SharedShockCalibration",
    "FROZEN_AGE_MODEL", "FROZEN_SETTING_MODEL", "FROZEN_SHOCK_ORIGINS", "FROZEN_VARIANTS",
]
