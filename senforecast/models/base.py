"""The model contract: what every forecasting model in senforecast is and does.

A model is configured by its ``__init__`` arguments only, learns from data in ``fit`` and
simulates in ``project``:

* ``Model(**params)`` stores each parameter as an attribute of the same name and does nothing
  else, so :meth:`BaseEstimator.get_params`, :meth:`~BaseEstimator.set_params` and
  :meth:`~BaseEstimator.clone` (an unfitted copy with the same parameters) come from the
  signature, as in scikit-learn.
* ``fit(data)`` returns the model itself; what it learns is stored in attributes ending in
  ``_``, among them ``last_census_``.
* ``project(years, population=None, scenario=None, n_draws=1000, seed=None)`` returns a
  :class:`~senforecast.projection.Projection` and leaves the model as it was (one fitted model
  may project many scenarios, on threads too). Before ``fit`` it raises
  :class:`~senforecast.core.errors.NotFittedError`.
* ``years`` follows one rule (:func:`resolve_years`): an int is that many years after the
  last census, a list or range names the census years.
* A scenario follows one policy (:func:`check_scenario`): a model applies the demand-side
  parts it declares in ``scenario_parts`` and raises :class:`UnsupportedScenarioError` naming
  any other demand-side part, so no part is ever silently ignored. Supply-side parts
  (``provision_changes``) are the gap analysis's: a model leaves them to it and records them
  in ``meta.not_applied``.
* The projection's ``meta`` is a :class:`~senforecast.projection.ProjectionMeta` with the
  model's alias, parameters, the seed exactly as passed, ``n_draws``, the last census and the
  scenario's name (:meth:`BaseModel._meta`).

:class:`BaseModel` gives all of this; :mod:`senforecast.models.registry` lists every model and
:mod:`tests.test_model_contract` checks each one against it.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar, Protocol, Sequence, runtime_checkable

import numpy as np

from ..core.errors import ModelError, NotFittedError
from ..core.scenarios import Scenario
from ..projection import Projection, ProjectionMeta

__all__ = ["Forecaster", "BaseEstimator", "BaseModel", "NotFittedError", "UnsupportedScenarioError",
           "ProjectionMeta", "resolve_years", "check_scenario", "scenario_parts", "DEMAND_PARTS",
           "SUPPLY_PARTS"]

DEMAND_PARTS: tuple[str, ...] = ("joiner_multiplier", "rate_changes", "redirects", "closures")
"""Parts of a :class:`~senforecast.core.scenarios.Scenario` that change demand (read by models).
Closures are here for mainstream settings; closing a specialist or out-of-county setting is supply
side, applied by the gap analysis (:func:`senforecast.planning.gap.demand_scenario` drops those)."""
SUPPLY_PARTS: tuple[str, ...] = ("provision_changes",)
"""Parts of a scenario that change supply (read by the gap analysis, never by a model)."""


class UnsupportedScenarioError(ModelError):
    """A model was given a scenario part it cannot apply (named in the message).

    Examples
    --------
    >>> from senforecast.core.scenarios import Scenario
    >>> check_scenario(Scenario("more", joiner_multiplier=1.2), frozenset(), "LastValue")
    Traceback (most recent call last):
    ...
    senforecast.models.base.UnsupportedScenarioError: LastValue cannot apply scenario 'more': it changes joiner_multiplier, which this model does not model (it applies no scenario). Project the baseline with this model, or use a model that applies joiner_multiplier (the cohort model applies every demand-side part).
    """


@runtime_checkable
class Forecaster(Protocol):
    """The face of every model: configure, ``fit`` on data, ``project`` future years.

    Examples
    --------
    >>> from senforecast.models.baselines import LastValue
    >>> isinstance(LastValue(), Forecaster)
    True
    """

    def fit(self, data: Any, /) -> "Forecaster":
        """Learn from ``data``; return the model itself."""

    def project(self, years: int | Sequence[int] = ..., population: Any = None, scenario: Scenario | None = None,
                n_draws: int = 1000, seed: int | None = None) -> Projection:
        """Simulate the census ``years``; return a Projection."""

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` arguments as stored."""

    def set_params(self, **params: Any) -> "Forecaster":
        """Change parameters; return the model itself."""


def resolve_years(years: int | Sequence[int] | range, last_census: int) -> np.ndarray:
    """The census years to project, by the one rule every model follows.

    Parameters
    ----------
    years : int, or sequence or range of int
        An int ``h`` is the ``h`` censuses after ``last_census``; a sequence names census
        years, which must all come after ``last_census`` (returned sorted, without repeats).
    last_census : int
        Last observed census year.

    Returns
    -------
    ndarray of int

    Raises
    ------
    ModelError
        For a horizon below 1, no years, a year not after the last census or a non-integer.

    Examples
    --------
    >>> resolve_years(3, 2024).tolist(), resolve_years([2030, 2026, 2026], 2024).tolist()
    ([2025, 2026, 2027], [2026, 2030])
    >>> resolve_years(range(2025, 2028), 2024).tolist()
    [2025, 2026, 2027]
    """
    if isinstance(years, (bool, np.bool_)):
        raise ModelError(f"years must be a number of years or a list of census years, not {years!r}")
    if isinstance(years, (int, np.integer)):
        if years < 1:
            raise ModelError(f"years as a horizon must be at least 1 (got {years})")
        return np.arange(last_census + 1, last_census + 1 + int(years))
    if isinstance(years, (str, bytes)) or not hasattr(years, "__iter__"):
        raise ModelError(f"years must be a number of years or a list of census years, not {years!r}")
    raw = list(years)
    if not raw:
        raise ModelError("years is empty: give a horizon (int) or a list of census years")
    if any(isinstance(y, (bool, np.bool_)) or not float(y).is_integer() for y in raw):
        raise ModelError(f"census years must be whole numbers (got {raw})")
    ys = np.unique(np.asarray(raw, dtype=float).astype(int))
    if ys.min() <= last_census:
        raise ModelError(f"projection years must come after the last observed census {last_census} (got {ys.min()})")
    return ys


def scenario_parts(scenario: Scenario | None) -> list[str]:
    """Names of the parts of ``scenario`` that change something (demand side first).

    Examples
    --------
    >>> from senforecast.core.scenarios import ProvisionChange, Scenario
    >>> scenario_parts(Scenario("x", joiner_multiplier=1.1, provision_changes=(ProvisionChange("RB", 5, 2030),)))
    ['joiner_multiplier', 'provision_changes']
    >>> scenario_parts(None), scenario_parts(Scenario())
    ([], [])
    """
    if scenario is None:
        return []
    out = []
    for part in (*DEMAND_PARTS, *SUPPLY_PARTS):
        value = getattr(scenario, part)
        if (part == "joiner_multiplier" and value != 1.0) or (part != "joiner_multiplier" and value):
            out.append(part)
    return out


def check_scenario(scenario: Scenario | None, applies: frozenset[str] | set[str], model: str) -> Scenario:
    """The one scenario policy: raise for demand-side parts the model does not apply.

    Parameters
    ----------
    scenario : Scenario or None
        None is the baseline.
    applies : set of str
        Demand-side parts the model applies (a subset of ``DEMAND_PARTS``).
    model : str
        The model's name, for the message.

    Returns
    -------
    Scenario
        ``scenario``, or the baseline for None.

    Raises
    ------
    UnsupportedScenarioError
        Naming every demand-side part the model cannot apply. Supply-side parts never raise:
        the gap analysis applies them (``gap_analysis(..., scenario=...)``).

    Examples
    --------
    >>> from senforecast.core.scenarios import ProvisionChange, Scenario
    >>> s = Scenario("new base", provision_changes=(ProvisionChange("RB", 5, 2030),))
    >>> check_scenario(s, frozenset(), "LastValue").name
    'new base'
    """
    if scenario is None:
        return Scenario()
    if not isinstance(scenario, Scenario):
        raise ModelError(f"scenario must be a senforecast Scenario, not {type(scenario).__name__}")
    missing = [p for p in scenario_parts(scenario) if p in DEMAND_PARTS and p not in applies]
    if missing:
        can = ", ".join(sorted(applies)) if applies else "no scenario"
        raise UnsupportedScenarioError(
            f"{model} cannot apply scenario {scenario.name!r}: it changes {', '.join(missing)}, which this "
            f"model does not model (it applies {can}). Project the baseline with this model, or use a "
            f"model that applies {', '.join(missing)} (the cohort model applies every demand-side part).")
    return scenario


class BaseEstimator:
    """Parameters from ``__init__``'s signature: ``get_params``, ``set_params``, ``clone``.

    A subclass's ``__init__`` takes named parameters only (no ``*args``/``**kwargs``) and
    stores each under its own name; fitted state goes in attributes ending in ``_``.

    Examples
    --------
    >>> class Scale(BaseEstimator):
    ...     def __init__(self, factor: float = 1.0, label: str = "x"):
    ...         self.factor = factor
    ...         self.label = label
    >>> s = Scale(2.0)
    >>> s.get_params(), s
    ({'factor': 2.0, 'label': 'x'}, Scale(factor=2.0))
    >>> s.set_params(label="y").clone().get_params()
    {'factor': 2.0, 'label': 'y'}
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args or **kwargs)")
            names.append(p.name)
        return names

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        if cls.__init__ is object.__init__:
            return {}
        return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.default is not p.empty}

    def get_params(self) -> dict[str, Any]:
        """The parameters, by name, as stored by ``__init__`` (or :meth:`set_params`)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "BaseEstimator":
        """Change parameters; returns the model. A fitted model keeps its fit until refitted.

        Raises
        ------
        ModelError
            For a name that is not a parameter (the message lists them).
        """
        valid = self._param_names()
        bad = [k for k in params if k not in valid]
        if bad:
            raise ModelError(f"{type(self).__name__} has no parameter(s) {bad}; its parameters are {valid}")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def clone(self) -> "BaseEstimator":
        """An unfitted copy with the same parameters (models among them are cloned too)."""
        return type(self)(**{k: _clone_param(v) for k, v in self.get_params().items()})

    def _check_fitted(self, attribute: str = "last_census_", then: str = ".project(...)") -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call .fit(data) first, "
                                 f"then {then}.")

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        shown = []
        for k, v in self.get_params().items():
            d = defaults.get(k, inspect.Parameter.empty)
            try:
                same = d is not inspect.Parameter.empty and bool(d == v)
            except (TypeError, ValueError):  # arrays, frames: always shown
                same = False
            if not same:
                shown.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _clone_param(value: Any) -> Any:
    if isinstance(value, BaseEstimator):
        return value.clone()
    if isinstance(value, dict):
        return {k: _clone_param(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, BaseEstimator) for v in value):
        return type(value)(_clone_param(v) for v in value)
    return copy.deepcopy(value)


class BaseModel(BaseEstimator):
    """Base of every forecasting model: the parameters, the years rule, the scenario policy
    and the projection's meta (see the module notes).

    A subclass sets ``last_census_`` in ``fit``, declares the demand-side scenario parts it
    applies in ``scenario_parts``, and in ``project`` calls :meth:`_years`, :meth:`_scenario`
    and :meth:`_meta`. :func:`senforecast.models.registry.register` gives it its ``alias``.

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.projection import Projection
    >>> class Flat(BaseModel):
    ...     def __init__(self, level: int = 1):
    ...         self.level = level
    ...     def fit(self, data):
    ...         self.last_census_ = 2024
    ...         return self
    ...     def project(self, years=5, population=None, scenario=None, n_draws=1000, seed=None):
    ...         ys = self._years(years)
    ...         scenario = self._scenario(scenario)
    ...         draws = np.full((n_draws, len(ys), 1), self.level)
    ...         return Projection(draws, ys, pd.DataFrame({"area": ["N"]}),
    ...                           meta=self._meta(seed=seed, n_draws=n_draws, scenario=scenario))
    >>> p = Flat(3).fit(None).project(years=[2026, 2025], n_draws=2, seed=0)
    >>> p.years.tolist(), p.meta.seed, p.meta.params
    ([2025, 2026], 0, {'level': 3})
    >>> Flat().project(years=1)
    Traceback (most recent call last):
    ...
    senforecast.core.errors.NotFittedError: This Flat is not fitted yet: call .fit(data) first, then .project(...).
    """

    alias: ClassVar[str | None] = None
    scenario_parts: ClassVar[frozenset[str]] = frozenset()

    def fit(self, data: Any) -> "BaseModel":  # pragma: no cover - every model overrides it
        raise NotImplementedError

    def project(self, years: int | Sequence[int] = 5, population: Any = None, scenario: Scenario | None = None,
                n_draws: int = 1000, seed: int | None = None) -> Projection:  # pragma: no cover
        raise NotImplementedError

    @property
    def display_name(self) -> str:
        """How reports name the model (``meta.model``); the class name unless a model says more."""
        return type(self).__name__

    def _years(self, years: int | Sequence[int]) -> np.ndarray:
        """Check the model is fitted and resolve ``years`` (see :func:`resolve_years`)."""
        self._check_fitted()
        return resolve_years(years, int(self.last_census_))

    def _scenario(self, scenario: Scenario | None) -> Scenario:
        """Apply the scenario policy (see :func:`check_scenario`)."""
        return check_scenario(scenario, self.scenario_parts, type(self).__name__)

    @staticmethod
    def _check_draws(n_draws: int) -> int:
        if isinstance(n_draws, (bool, np.bool_)) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
            raise ModelError(f"n_draws must be a whole number of at least 1 (got {n_draws!r})")
        return int(n_draws)

    @staticmethod
    def _check_seed(seed: Any) -> None:
        if isinstance(seed, (bool, np.bool_)) or (isinstance(seed, (int, np.integer)) and seed < 0) \
                or not (seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence,
                                                          np.random.Generator))):
            raise ModelError(f"seed must be None or a whole number of at least 0 (got {seed!r})")

    def _meta(self, *, seed: Any, n_draws: int, scenario: Scenario | None = None, **extra: Any) -> ProjectionMeta:
        """The projection's meta: alias, parameters, seed as passed, draws, last census,
        scenario and the supply-side parts left to the gap analysis; ``extra`` for the rest."""
        not_applied = tuple(p for p in scenario_parts(scenario) if p in SUPPLY_PARTS)
        return ProjectionMeta(
            model=self.display_name, alias=self.alias, params=self.get_params(), seed=seed, n_draws=n_draws,
            last_census=int(self.last_census_), scenario=(scenario or Scenario()).name,
            not_applied=not_applied or None, extra=extra)
