"""Readers of input files: the canonical tables (CSV/Excel) and published aggregates.

Every reader validates what it reads and raises one
:class:`~senforecast.core.errors.InputValidationError` listing every problem with its file, row and
column; recoverable issues are warned about (:class:`~senforecast.core.errors.InputWarning`) and
counted in an optional :class:`~senforecast.core.errors.ValidationReport`.
"""
from __future__ import annotations

from .local_area import read_local_area
from .ons import read_snpp, read_wales_projection
from .public import read_sen_england, read_statswales
from .statswales import read_aln_needs, read_aln_provision
from .tables import (
    read_census,
    read_costs,
    read_placements,
    read_plans,
    read_population,
    read_provision,
    read_table,
)

__all__ = [
    "read_plans",
    "read_census",
    "read_population",
    "read_provision",
    "read_placements",
    "read_costs",
    "read_table",
    "read_local_area",
    "read_sen_england",
    "read_statswales",
    "read_aln_provision",
    "read_aln_needs",
    "read_snpp",
    "read_wales_projection",
]
