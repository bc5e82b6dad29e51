"""`LocalAreaData`: the validated input tables of one local authority, in canonical form.

Models take a ``LocalAreaData``; they never read files. Readers in :mod:`senforecast.io`
build one. See ``docs/contracts.md`` for the canonical columns of every table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .errors import SenForecastError, ValidationReport

NO_PLAN = "NONSEND"
"""Need and setting code of the 'no plan' state: joiners come from it, leavers go to it."""


@dataclass
class LocalAreaData:
    """Validated input tables of one authority.

    Parameters
    ----------
    plans : DataFrame, optional
        One row per child per January census: ``pupil_id, year, ncy, need, setting, area``.
    population : DataFrame, optional
        ``year, area, ncy, count`` (history and projection).
    provision : DataFrame, optional
        Register of settings: ``setting, name, kind, area, min_ncy, max_ncy, capacity,
        designation, opens, closes, cost_per_place``.
    census : DataFrame, optional
        Aggregate counts ``year, area, ncy, [stage], [need], count``.
    placements : DataFrame, optional
        Out-of-county / independent placements ``year, setting, need, ncy, area, count,
        cost_per_place``.
    costs : DataFrame, optional
        ``setting, [need], cost_per_place``.
    transitions : DataFrame, optional
        Pre-built transitions (e.g. from witan.send inputs); otherwise built from ``plans``.
    need_scheme : str, optional
        Name of the need-code scheme the ``need`` column uses.
    name : str
        Authority name for reports.
    report : ValidationReport
        Warnings and counts collected while reading.

    Examples
    --------
    >>> import pandas as pd
    >>> d = LocalAreaData(plans=pd.DataFrame({"pupil_id": ["a"], "year": [2024], "ncy": [3],
    ...     "need": ["ASD"], "setting": ["MS"], "area": ["N"]}), name="Demo")
    >>> d.name
    'Demo'
    """

    plans: pd.DataFrame | None = None
    population: pd.DataFrame | None = None
    provision: pd.DataFrame | None = None
    census: pd.DataFrame | None = None
    placements: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    transitions: pd.DataFrame | None = None
    need_scheme: str | None = None
    name: str = "local authority"
    report: ValidationReport = field(default_factory=ValidationReport)

    def require(self, *tables: str) -> None:
        """Raise a clear error if any of the named tables is missing."""
        missing = [t for t in tables if getattr(self, t) is None]
        if missing:
            raise SenForecastError(
                f"{self.name}: this step needs the {', '.join(missing)} table(s); "
                "load them with senforecast.io readers"
            )
