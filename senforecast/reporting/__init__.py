"""Reporting: the tables and figures a run publishes, the Excel/CSV writers and the HTML report."""
from __future__ import annotations

from .export import round_counts, suppress, to_csv, to_excel

__all__ = ["round_counts", "suppress", "to_csv", "to_excel"]
