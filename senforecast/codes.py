"""Need-code schemes and setting kinds (schemes themselves are data in ``schemes/*.csv``)."""
from __future__ import annotations

SETTING_KINDS: tuple[str, ...] = (
    "mainstream", "resource_base", "special_school", "unit", "independent", "other_la", "post16", "other",
)
"""Allowed values of ``provision.kind``."""

OUT_OF_COUNTY_KINDS: frozenset[str] = frozenset({"independent", "other_la"})
"""Kinds counted as out-of-county / independent placements."""

SPECIALIST_KINDS: frozenset[str] = frozenset({"resource_base", "special_school", "unit"})
"""Kinds of local specialist provision whose places are planned."""
