"""The model contract, checked on every model in the registry (in the spirit of scikit-learn's
``estimator_checks``). A model added to senforecast is found by walking the package: it must
be registered (``senforecast.models.registry.register``) and then pass every check here.

The contract is written down in ``senforecast/models/base.py`` and docs/contracts.md.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import senforecast
from senforecast.core.errors import ModelError, NotFittedError
from senforecast.core.scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure
from senforecast.models import registry
from senforecast.models.base import (DEMAND_PARTS, BaseEstimator, BaseModel, Forecaster,
                                     UnsupportedScenarioError, resolve_years)
from senforecast.projection import RESERVED, Projection, ProjectionMeta

from model_state import assert_same_state

# import every module, so every model has registered itself
MODULES = [importlib.import_module(m.name)
           for m in pkgutil.walk_packages(senforecast.__path__, "senforecast.")]
ENTRIES = registry.entries()
ALIASES = [e.alias for e in ENTRIES]
N_DRAWS = 20

_FITTED: dict[str, object] = {}
_PRISTINE: dict[str, object] = {}  # copies taken straight after fit, never projected


def _classes(base: type) -> list[type]:
    """Classes defined in the package (as module attributes) that subclass ``base``."""
    found = {}
    for mod in MODULES:
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, base) and obj.__module__ == mod.__name__
                    and not obj.__dict__.get("_abstract", False) and obj not in (BaseEstimator, BaseModel)):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _fitted(alias: str):
    """A fitted model of each alias (fitted once per test session: fitting is the slow part)."""
    if alias not in _FITTED:
        entry = registry.get(alias)
        _FITTED[alias] = entry.make().fit(entry.example())
        _PRISTINE[alias] = copy.deepcopy(_FITTED[alias])
    return _FITTED[alias]


@pytest.fixture(params=ALIASES)
def entry(request):
    return registry.get(request.param)


@pytest.fixture
def fitted(entry):
    return _fitted(entry.alias)


def _scenario_with(part: str) -> Scenario:
    """A scenario that changes one demand-side part (contents need not fit any data: the policy
    is checked before the contents)."""
    return {
        "joiner_multiplier": Scenario("more joiners", joiner_multiplier=1.2),
        "rate_changes": Scenario("more leavers", rate_changes=(RateChange("leaver", 1.1),)),
        "redirects": Scenario("redirect", redirects=(Redirect(("A",), "B", share=0.5),)),
        "closures": Scenario("closure", closures=(SettingClosure("A", 2030),)),
    }[part]


# ------------------------------------------------------------------------ the registry
def test_registry_holds_every_model_in_the_package():
    models = _classes(BaseModel)
    assert models, "no models found"
    unregistered = [c.__qualname__ for c in models if c.alias is None or c.__dict__.get("alias") is None]
    assert not unregistered, f"models not in senforecast.models.registry: {unregistered}"
    assert sorted(c.alias for c in models) == sorted(ALIASES)
    for c in models:
        assert registry.get(c.alias).cls is c


def test_registry_entries_are_forecasters_with_known_data_kinds():
    for e in ENTRIES:
        assert issubclass(e.cls, BaseModel) and isinstance(e.make(), Forecaster)
        assert e.data in ("local_area", "panel")
    with pytest.raises(ModelError, match="no model 'nonesuch'"):
        registry.get("nonesuch")


# ------------------------------------------------------------------------ parameters
def test_init_stores_exactly_its_parameters(entry):
    model = entry.make()
    names = [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]
    assert list(model.get_params()) == names
    assert sorted(vars(model)) == sorted(names), "__init__ must store its parameters and nothing else"


def test_clone_is_an_unfitted_copy_with_the_same_parameters(entry, fitted):
    clone = fitted.clone()
    assert type(clone) is type(fitted) and clone is not fitted
    assert_same_state(copy.deepcopy(fitted.get_params()), clone.get_params())
    for name, value in clone.get_params().items():
        if isinstance(value, (BaseEstimator, dict, list, np.ndarray, pd.DataFrame)):
            assert value is not fitted.get_params()[name], f"clone shares the parameter {name!r}"
    assert not [k for k in vars(clone) if k.endswith("_")], "a clone must be unfitted"
    with pytest.raises(NotFittedError):
        clone.project(years=1, n_draws=N_DRAWS, seed=0)
    assert repr(clone) == repr(fitted)


def test_set_params_round_trip_and_unknown_names(entry):
    model = entry.make()
    params = model.get_params()
    assert model.set_params(**params) is model
    assert_same_state(params, model.get_params())
    with pytest.raises(ModelError, match="no parameter"):
        model.set_params(not_a_parameter=1)


# ------------------------------------------------------------------------ signatures
def test_fit_and_project_signatures(entry):
    fit = list(inspect.signature(entry.cls.fit).parameters.values())[1:]
    assert fit and fit[0].default is inspect.Parameter.empty, "fit takes the data as its first argument"
    assert all(p.default is not inspect.Parameter.empty for p in fit[1:])
    proj = list(inspect.signature(entry.cls.project).parameters.values())[1:]
    assert [p.name for p in proj[:5]] == ["years", "population", "scenario", "n_draws", "seed"]
    defaults = {p.name: p.default for p in proj}
    assert defaults["population"] is None and defaults["scenario"] is None and defaults["seed"] is None
    assert defaults["n_draws"] == 1000
    assert all(p.default is not inspect.Parameter.empty for p in proj)


def test_fit_returns_self_keeps_parameters_and_names_fitted_attributes_with_underscore(entry):
    model = entry.make()
    params = copy.deepcopy(model.get_params())
    before = set(vars(model))
    assert model.fit(entry.example()) is model
    assert_same_state(params, model.get_params())
    added = [k for k in set(vars(model)) - before if not k.startswith("_")]
    bad = [k for k in added if not k.endswith("_")]
    assert not bad, f"fitted attributes must end in '_': {bad}"
    assert isinstance(model.last_census_, (int, np.integer))


def test_project_before_fit_is_a_clear_error(entry):
    with pytest.raises(NotFittedError, match=r"not fitted yet: call \.fit\(data\) first") as info:
        entry.make().project(years=1, n_draws=N_DRAWS, seed=0)
    assert isinstance(info.value, (ModelError, ValueError, AttributeError))


# ------------------------------------------------------------------------ projections
def test_projection_dims_and_dtypes(fitted):
    p = fitted.project(years=2, n_draws=N_DRAWS, seed=0)
    assert isinstance(p, Projection)
    assert p.draws.shape == (N_DRAWS, 2, len(p.cells))
    assert p.draws.dtype.kind in "iuf" and np.isfinite(p.draws).all() and (p.draws >= 0).all()
    assert p.years.dtype.kind == "i" and p.years.tolist() == [fitted.last_census_ + 1, fitted.last_census_ + 2]
    assert all(isinstance(d, str) and d not in RESERVED for d in p.dims)
    assert not p.cells.duplicated().any(), "each cell appears once"
    for d in p.dims:
        labels = set(p.cells[d].astype(str))
        assert not {"total", "Total", "TOTAL"} & labels, f"a cell of {d!r} is a total of other cells"
        assert "ALL" not in labels or labels == {"ALL"}, f"{d!r} mixes 'ALL' with other labels"
    if p.history is not None:
        assert {"year", "count"} <= set(p.history.columns)
        assert set(p.history.columns) - {"year", "count"} <= set(p.dims)
        assert p.history["year"].max() == fitted.last_census_
    for name, flow in p.flows.items():
        assert flow.shape == p.draws.shape, name


def test_summary_total_is_the_sum_of_the_cells(fitted):
    p = fitted.project(years=2, n_draws=N_DRAWS, seed=1)
    total = p.draws.sum(axis=2, dtype=float)
    np.testing.assert_allclose(p.total(), total)
    np.testing.assert_allclose(p.summary()["mean"], total.mean(axis=0))
    np.testing.assert_allclose(p.summary()["median"], np.median(total, axis=0))
    for d in p.dims:
        by = p.summary(by=d).groupby("year")["mean"].sum()
        np.testing.assert_allclose(by.to_numpy(), total.mean(axis=0), rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 123, None])
def test_meta_records_alias_parameters_and_the_seed_as_passed(entry, fitted, seed):
    p = fitted.project(years=1, n_draws=N_DRAWS, seed=seed)
    meta = p.meta
    assert isinstance(meta, ProjectionMeta)
    assert meta.alias == entry.alias and meta["alias"] == entry.alias
    assert meta.seed == seed and meta["seed"] == seed
    assert meta.n_draws == N_DRAWS and meta.last_census == fitted.last_census_
    assert meta.scenario == "baseline"
    assert isinstance(meta["model"], str) and meta["model"]
    assert_same_state(fitted.get_params(), dict(meta.params))


def test_years_as_an_int_a_list_or_a_range(fitted):
    last = fitted.last_census_
    as_int = fitted.project(years=2, n_draws=N_DRAWS, seed=4)
    as_list = fitted.project(years=[last + 2, last + 1], n_draws=N_DRAWS, seed=4)
    as_range = fitted.project(years=range(last + 1, last + 3), n_draws=N_DRAWS, seed=4)
    for other in (as_list, as_range):
        assert other.years.tolist() == as_int.years.tolist() == [last + 1, last + 2]
        np.testing.assert_array_equal(other.draws, as_int.draws)
    skip = fitted.project(years=[last + 2], n_draws=N_DRAWS, seed=4)
    assert skip.years.tolist() == [last + 2]
    for bad in (0, -1, [], [last], [last - 1, last + 1]):
        with pytest.raises(ModelError, match="years"):
            fitted.project(years=bad, n_draws=N_DRAWS, seed=0)
    with pytest.raises(ModelError, match="n_draws"):
        fitted.project(years=1, n_draws=0, seed=0)


def test_projecting_twice_with_one_seed_is_bit_identical(fitted):
    a = fitted.project(years=2, n_draws=N_DRAWS, seed=11)
    b = fitted.project(years=2, n_draws=N_DRAWS, seed=11)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.draws.dtype == b.draws.dtype
    pd.testing.assert_frame_equal(a.cells, b.cells)
    assert sorted(a.flows) == sorted(b.flows)
    for k in a.flows:
        np.testing.assert_array_equal(a.flows[k], b.flows[k])


def test_projecting_does_not_change_the_fitted_model(entry):
    # a model fresh from fit: the shared one has been projected before, and state written by
    # its first projection would already be there
    _fitted(entry.alias)
    model = copy.deepcopy(_PRISTINE[entry.alias])
    before = copy.deepcopy(vars(model))
    model.project(years=2, n_draws=N_DRAWS, seed=2)
    if "joiner_multiplier" in model.scenario_parts:
        model.project(years=2, scenario=_scenario_with("joiner_multiplier"), n_draws=N_DRAWS, seed=2)
    assert_same_state(before, vars(model))


# ------------------------------------------------------------------------ scenario policy
def test_scenario_parts_a_model_cannot_apply_are_named_in_an_error(fitted):
    assert set(fitted.scenario_parts) <= set(DEMAND_PARTS)
    for part in DEMAND_PARTS:
        if part in fitted.scenario_parts:
            continue
        with pytest.raises(UnsupportedScenarioError, match=part):
            fitted.project(years=1, scenario=_scenario_with(part), n_draws=N_DRAWS, seed=0)


def test_baseline_and_supply_side_scenarios_leave_demand_as_it_is(fitted):
    last = fitted.last_census_
    plain = fitted.project(years=2, n_draws=N_DRAWS, seed=5)
    baseline = fitted.project(years=2, scenario=Scenario(), n_draws=N_DRAWS, seed=5)
    supply = Scenario("new base", provision_changes=(ProvisionChange("NEWBASE", 10, last + 1),))
    with_supply = fitted.project(years=2, scenario=supply, n_draws=N_DRAWS, seed=5)
    np.testing.assert_array_equal(baseline.draws, plain.draws)
    np.testing.assert_array_equal(with_supply.draws, plain.draws)
    assert plain.meta.not_applied is None
    assert with_supply.meta.not_applied == ("provision_changes",) and with_supply.meta.scenario == "new base"


def test_joiner_growth_is_applied_where_a_model_applies_it(fitted):
    if "joiner_multiplier" not in fitted.scenario_parts:
        pytest.skip(f"{type(fitted).__name__} applies no joiner growth (checked by the policy test)")
    base = fitted.project(years=3, n_draws=200, seed=6).total()[:, -1]
    more = fitted.project(years=3, scenario=Scenario("more", joiner_multiplier=1.5), n_draws=200, seed=6)
    assert more.meta.scenario == "more"
    assert more.total()[:, -1].mean() > base.mean()


# ------------------------------------------------------------------------ other estimators
@pytest.mark.parametrize("cls", _classes(BaseEstimator), ids=lambda c: c.__name__)
def test_every_estimator_has_the_parameter_face(cls):
    model = cls() if not issubclass(cls, BaseModel) else registry.get(cls.alias).make()
    params = model.get_params()
    assert sorted(vars(model)) == sorted(params)
    assert_same_state(copy.deepcopy(params), model.clone().get_params())


# ------------------------------------------------------------------------ the shared rules
@settings(max_examples=200, deadline=None)
@given(last=st.integers(1990, 2040), years=st.one_of(st.integers(-3, 15), st.lists(st.integers(1985, 2060), max_size=6)))
def test_years_rule_gives_sorted_distinct_years_after_the_last_census_or_an_error(last, years):
    try:
        ys = resolve_years(years, last)
    except ModelError:
        bad_int = isinstance(years, int) and years < 1
        bad_list = isinstance(years, list) and (not years or min(years) <= last)
        assert bad_int or bad_list
        return
    assert ys.tolist() == sorted(set(ys.tolist())) and ys.min() > last
    expected = list(range(last + 1, last + 1 + years)) if isinstance(years, int) else sorted(set(years))
    assert ys.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "alias", "seed", "n_draws", "scenario", "assumptions", "window"]),
                       st.one_of(st.none(), st.integers(0, 10**6), st.text(max_size=5)), max_size=7))
def test_meta_read_as_a_mapping_rebuilds_the_same_meta(items):
    meta = ProjectionMeta.from_mapping(items)
    assert ProjectionMeta.from_mapping(dict(meta)) == meta
    for k, v in items.items():
        assert meta.get(k) == v
