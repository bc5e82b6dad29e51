"""The Markov cohort model: fit (``fit``), states (``states``), scenarios (``scenario``),
the Monte Carlo (``sim``) and its compiled kernel (``kernel``)."""
from __future__ import annotations

from .model import CohortModel

__all__ = ["CohortModel"]
