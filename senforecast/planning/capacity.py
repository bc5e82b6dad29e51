"""Capacity timeline of the provision register: places by setting and year.

The provision register and its rules live in :mod:`senforecast.core.provision`
(:class:`~senforecast.core.provision.ProvisionRegister`: validation, designations, periods,
scenario changes, the timeline) and costs in :mod:`senforecast.core.costs`. The functions here
keep the older DataFrame-in, DataFrame-out calls working by delegating to them. Capacity
``NaN`` means unlimited (independent and other-LA providers); capacity is never negative.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from ..core.codes import SPECIALIST_KINDS
from ..core.costs import CostModel
from ..core.provision import (  # noqa: F401  (re-exported: the old home of these names)
    ALL_NEEDS, PROVISION_COLUMNS, ProvisionRegister, parse_designation, takes_need, validate_provision,
)
from ..core.scenarios import ProvisionChange, Scenario, SettingClosure


def apply_provision_changes(
    provision: ProvisionRegister | pd.DataFrame,
    changes: Scenario | Iterable[ProvisionChange | SettingClosure] | None,
) -> pd.DataFrame:
    """The provision table after the supply-side changes of a scenario
    (:meth:`ProvisionRegister.apply <senforecast.core.provision.ProvisionRegister.apply>`).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1"], "kind": ["resource_base"], "capacity": [20],
    ...                     "designation": ["ASD"], "min_ncy": [0], "max_ncy": [6]})
    >>> out = apply_provision_changes(reg, [ProvisionChange("RB1", 30, 2027)])
    >>> out["capacity"].tolist(), out["opens"].tolist(), out["closes"].tolist()
    ([20.0, 30.0], [<NA>, 2027], [2027, <NA>])
    """
    return ProvisionRegister.of(provision).apply(changes).table


def capacity_timeline(
    provision: ProvisionRegister | pd.DataFrame,
    years: Sequence[int],
    *,
    changes: Scenario | Iterable[ProvisionChange | SettingClosure] | None = None,
) -> pd.DataFrame:
    """Places by setting and year: one row per setting per year, open or not
    (:meth:`ProvisionRegister.timeline <senforecast.core.provision.ProvisionRegister.timeline>`).

    Returns
    -------
    DataFrame
        ``setting, year, name, kind, area, min_ncy, max_ncy, designation, cost_per_place,
        is_open, capacity`` - capacity 0 when closed, NaN when unlimited, never negative.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "RB1"], "kind": ["resource_base"] * 2,
    ...                     "capacity": [20, 30], "opens": [2024, 2026], "closes": [2026, 2028]})
    >>> capacity_timeline(reg, range(2025, 2029))["capacity"].tolist()
    [20.0, 30.0, 30.0, 0.0]
    """
    return ProvisionRegister.of(provision).timeline(years, changes)


def local_bases(timeline: pd.DataFrame) -> pd.DataFrame:
    """Rows of a timeline for local specialist settings (resource bases, special schools, units).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
    ...                     "capacity": [20, None]})
    >>> local_bases(capacity_timeline(reg, [2025]))["setting"].tolist()
    ['RB1']
    """
    return timeline[timeline["kind"].isin(SPECIALIST_KINDS)].reset_index(drop=True)


def out_of_county_cost(provision: ProvisionRegister | pd.DataFrame, weights: pd.Series | None = None) -> float:
    """Average cost per place of out-of-county settings (independent, other LA), weighted by
    ``weights`` (children on roll per setting; default equal): see
    :meth:`senforecast.core.costs.CostModel.average_out_of_county_cost` (costs table first, then
    the register's ``cost_per_place``).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"setting": ["IND", "OLA"], "kind": ["independent", "other_la"],
    ...                     "capacity": [None, None], "cost_per_place": [60000, 40000]})
    >>> out_of_county_cost(reg)
    50000.0
    """
    return CostModel(provision).average_out_of_county_cost(weights)
