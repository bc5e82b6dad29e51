"""Planning: demand against places (gap analysis), allocation to bases, the capacity timeline,
scenario comparison and the statutory-return tables."""
from __future__ import annotations

from .allocation import Allocation, allocate
from .capacity import apply_provision_changes, capacity_timeline, validate_provision
from .gap import GapAnalysis, gap_analysis, specialist_demand
from .scenario_compare import compare_scenarios, scenario_table
from .statutory import scap_table, to_wide, welsh_need_table

__all__ = ["Allocation", "allocate", "apply_provision_changes", "capacity_timeline", "validate_provision",
           "GapAnalysis", "gap_analysis", "specialist_demand", "compare_scenarios", "scenario_table",
           "scap_table", "to_wide", "welsh_need_table"]
