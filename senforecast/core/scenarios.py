"""Scenarios: named, combinable changes to a baseline projection or provision.

A :class:`Scenario` is data. Models read the demand-side parts (joiner growth, rate changes,
redirects) in ``project(scenario=...)``; the gap analysis reads the supply-side parts
(``provision_changes``, and ``closures``: the closed setting's places are gone from its closure
year). Closing a specialist or out-of-county setting does not change who needs a specialist
place, so the model keeps those children in demand and the gap analysis's allocation re-places
them in other suitable bases or out of county
(:func:`senforecast.planning.gap.demand_scenario` gives the part a model projects). Closing a
mainstream setting is left to the model (its children are routed to valid settings). A change
dated in or before the last census is an error. Combine scenarios with ``+``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal


@dataclass(frozen=True)
class RateChange:
    """Multiply a fitted rate for some states and years.

    Parameters
    ----------
    kind : {"joiner", "leaver", "mover"}
        Which rate.
    multiplier : float
        Factor applied to the rate (capped so a probability stays in [0, 1]).
    need, setting : str or tuple of str, optional
        States affected (default all). For joiners, ``need``/``setting`` restrict the
        joiner states whose rate is scaled.
    ncy : int or tuple of int, optional
        NCY the child is in *before* the transition (default all).
    from_year, to_year : int, optional
        First and last projection year affected (default all).

    Examples
    --------
    >>> RateChange("leaver", 1.2, setting="OOC").multiplier
    1.2
    """

    kind: Literal["joiner", "leaver", "mover"]
    multiplier: float
    need: str | tuple[str, ...] | None = None
    setting: str | tuple[str, ...] | None = None
    ncy: int | tuple[int, ...] | None = None
    from_year: int | None = None
    to_year: int | None = None


@dataclass(frozen=True)
class Redirect:
    """Send a share of the children who would go into some settings to another instead.

    Parameters
    ----------
    from_settings : str or tuple of str
        Destinations being reduced (e.g. out-of-county settings).
    to_setting : str
        Where the redirected children go (e.g. a new resource base).
    share : float
        Share in [0, 1] of those moves that are redirected.
    ncy : int or tuple of int, optional
        NCY *after* the transition at which it applies (e.g. 7 for the Year 6 -> 7
        transfer); default every NCY.
    from_year : int, optional
        First projection year it applies.
    include_joiners : bool
        Apply to new joiners as well as to movers.
    include_stayers : bool
        Also move a share of children already in ``from_settings`` (a "bring back" policy).

    Examples
    --------
    >>> Redirect(("OOC", "IND"), "NEWBASE", share=0.5, ncy=7, from_year=2028).share
    0.5
    """

    from_settings: str | tuple[str, ...]
    to_setting: str
    share: float
    ncy: int | tuple[int, ...] | None = None
    from_year: int | None = None
    include_joiners: bool = False
    include_stayers: bool = False


@dataclass(frozen=True)
class SettingClosure:
    """A setting takes no one from ``from_year``: its places are gone and its children re-placed.

    For a specialist or out-of-county setting the gap analysis removes the places and its
    allocation places the children (who still need a specialist place of their need and age)
    in other suitable bases, or out of county when none has room; for a mainstream setting the
    cohort model routes the children to valid settings.

    Parameters
    ----------
    setting : str
        Setting code (as in the provision register) that closes.
    from_year : int
        First census year in which it is closed; after the last census.

    Examples
    --------
    >>> s = Scenario("close RB2", closures=(SettingClosure("RB2", 2027),))
    >>> s.closures[0].setting, s.closures[0].from_year
    ('RB2', 2027)
    """

    setting: str
    from_year: int


@dataclass(frozen=True)
class ProvisionChange:
    """Open a base or change a base's capacity from a year (supply side).

    Parameters
    ----------
    setting : str
        Setting code; a new code opens a new base and needs the other fields.
    capacity : int
        Places from ``from_year`` on (0 closes it).
    from_year : int
        First census year with the new capacity.
    name, kind, area, designation, min_ncy, max_ncy, cost_per_place
        As in the provision register; needed for a new base.

    Examples
    --------
    >>> ProvisionChange("RB6", 12, 2028, name="New ASD base", kind="resource_base",
    ...                 area="North", designation="ASD", min_ncy=0, max_ncy=6).capacity
    12
    """

    setting: str
    capacity: int
    from_year: int
    name: str | None = None
    kind: str | None = None
    area: str | None = None
    designation: str | None = None
    min_ncy: int | None = None
    max_ncy: int | None = None
    cost_per_place: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A named set of changes; ``Scenario()`` is the baseline.

    Parameters
    ----------
    name : str
        Shown in tables and charts.
    joiner_multiplier : float
        Overall growth of new plans relative to the fitted joiner rates (1.1 = 10% more
        joiners every year), applied on top of ``rate_changes``.
    rate_changes, redirects, closures, provision_changes : tuple
        See :class:`RateChange`, :class:`Redirect`, :class:`SettingClosure`,
        :class:`ProvisionChange`.
    description : str
        One sentence for the report.

    Examples
    --------
    >>> s = Scenario("growth", joiner_multiplier=1.1) + Scenario(
    ...     "new base", provision_changes=(ProvisionChange("RB6", 12, 2028),))
    >>> s.name, s.joiner_multiplier, len(s.provision_changes)
    ('growth + new base', 1.1, 1)
    """

    name: str = "baseline"
    joiner_multiplier: float = 1.0
    rate_changes: tuple[RateChange, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    closures: tuple[SettingClosure, ...] = ()
    provision_changes: tuple[ProvisionChange, ...] = ()
    description: str = ""

    def __add__(self, other: "Scenario") -> "Scenario":
        return Scenario(
            name=f"{self.name} + {other.name}",
            joiner_multiplier=self.joiner_multiplier * other.joiner_multiplier,
            rate_changes=self.rate_changes + other.rate_changes,
            redirects=self.redirects + other.redirects,
            closures=self.closures + other.closures,
            provision_changes=self.provision_changes + other.provision_changes,
            description="; ".join(d for d in (self.description, other.description) if d),
        )

    def renamed(self, name: str) -> "Scenario":
        """The same scenario under another name."""
        return replace(self, name=name)

    @property
    def is_baseline(self) -> bool:
        """True when the scenario changes nothing."""
        return (
            self.joiner_multiplier == 1.0
            and not self.rate_changes
            and not self.redirects
            and not self.closures
            and not self.provision_changes
        )


BASELINE = Scenario()
