"""Probe cases on the library used from Python, and the one validator of config and command line
(../shared/probes/2026-12/REPORT.md, issue 13)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core.errors import InputValidationError, SenForecastError
from senforecast.datasets.demo import load_demo
from senforecast.pipeline.config import (
    RULES,
    Config,
    ConfigError,
    config_from_dict,
)


# ------------------------------------------------------------------------------ the library (API)
def test_n103_api_fit_with_missing_values_names_row_and_column():
    from senforecast.io import read_local_area

    plans = load_demo().plans.copy()
    plans.loc[5, "ncy"] = np.nan
    with pytest.raises(InputValidationError) as exc:
        read_local_area(plans=plans, need_scheme="wales_plasc")
    assert "row 7, column 'ncy'" in str(exc.value)


def test_n104_api_read_local_area_names_three_problems():
    from senforecast.io import read_local_area

    plans = load_demo().plans.copy().astype(object)
    plans.loc[0, "ncy"], plans.loc[1, "need"], plans.loc[2, "year"] = np.nan, None, "twenty"
    with pytest.raises(InputValidationError) as exc:
        read_local_area(plans=plans, need_scheme="wales_plasc")
    rows = {(p.row, p.column) for p in exc.value.problems}
    assert rows == {(2, "ncy"), (3, "need"), (4, "year")}


@pytest.mark.owned("model API")
def test_n105_api_population_nan_is_an_error():
    from senforecast.core.data import LocalAreaData
    from senforecast.models.cohort.model import CohortModel

    d = load_demo()
    pop = d.population.copy()
    pop.loc[pop["year"] > 2025, "count"] = np.nan
    data = LocalAreaData(plans=d.plans, population=pop, provision=d.provision, need_scheme="wales_plasc")
    with pytest.raises(SenForecastError, match="population"):
        CohortModel(mode="witan").fit(data).project(3, n_draws=20, seed=1)


@pytest.mark.owned("model API")
def test_n106_api_population_count_as_text_is_named():
    from senforecast.core.data import LocalAreaData
    from senforecast.models.cohort.model import CohortModel

    d = load_demo()
    pop = d.population.assign(count=d.population["count"].astype(str))
    data = LocalAreaData(plans=d.plans, population=pop, provision=d.provision, need_scheme="wales_plasc")
    with pytest.raises(SenForecastError, match="count"):
        CohortModel(mode="witan").fit(data)


@pytest.mark.owned("model API")
def test_n107_api_fit_of_a_dataframe_says_what_it_expects():
    from senforecast.models.cohort.model import CohortModel

    with pytest.raises(SenForecastError, match="LocalAreaData"):
        CohortModel().fit(load_demo().plans)


@pytest.fixture(scope="module")
def fitted():
    from senforecast.models.cohort.model import CohortModel

    return CohortModel(mode="witan").fit(load_demo())


@pytest.mark.owned("model API")
def test_n108_api_project_years_as_text_is_a_type_error(fitted):
    """The probe got "projection years must be after the seed census 2025; got [0, 1]": the
    text '10' was read as the years 1 and 0."""
    with pytest.raises((TypeError, SenForecastError)) as exc:
        fitted.project(years="10", n_draws=20)
    assert "'10'" in str(exc.value) and "[0, 1]" not in str(exc.value)


@pytest.mark.owned("model API")
def test_n109_api_project_negative_seed_is_named(fitted):
    with pytest.raises(SenForecastError, match="seed"):
        fitted.project(3, n_draws=20, seed=-1)


def test_n110_n111_n112_n114_api_gap_inputs(fitted):
    import warnings

    from senforecast.planning.gap import gap_analysis

    data = load_demo()
    proj = fitted.project(2, n_draws=20, seed=1)
    for col, value in (("capacity", np.nan), ("capacity", "twenty"), ("capacity", -5), ("kind", np.nan)):
        prov = data.provision.copy().astype({col: object})
        prov.loc[prov["setting"] == "SS-GLAN", col] = value
        with pytest.raises(InputValidationError):
            gap_analysis(proj, prov)
    with pytest.raises(SenForecastError, match="DataFrame"):
        gap_analysis(proj, data.provision.to_dict("records"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gap_analysis(proj, data.provision[data.provision["setting"] != "RB-DOL-C"])
    assert any("RB-DOL-C" in str(w.message) for w in caught)
    prov = data.provision.copy()
    prov.loc[prov["setting"] == "SS-TYN", "min_ncy"] = np.nan
    gap_analysis(proj, prov)  # runs; the probe found it is read as the lowest NCY


@pytest.mark.slow
def test_n115_readme_notebook_path_runs():
    from senforecast.models.cohort.model import CohortModel
    from senforecast.planning.gap import gap_analysis

    data = load_demo()
    projection = CohortModel().fit(data).project(years=10, n_draws=100, seed=1)
    gap = gap_analysis(projection, data.provision, kinds={"OLA-MS": "mainstream"})
    assert len(gap.by_year()) == 10


# ------------------------------------------------------------------------------ one validator


_TOML_VALUES = st.recursive(
    st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6) | st.sampled_from(["png", "svg", "cohort", "stay", "mainstream", "wales_plasc"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(RULES)), value=_TOML_VALUES)
def test_any_value_of_any_setting_is_a_config_or_a_config_error(name, value):
    """'Wrong types in config' (cfg_suppress_str, cfg_model_options ...) never reach the run:
    every value of every setting gives a Config or a ConfigError naming it, nothing else."""
    rule = RULES[name]
    raw = {"inputs": {"plans": "p.csv"}}
    if rule.section is None:
        raw[rule.key] = value
    else:
        raw.setdefault(rule.section, {})[rule.key] = value
    try:
        config_from_dict(raw, source="run.toml")
    except ConfigError as exc:
        assert rule.key in str(exc) or "run.toml" in str(exc)


_PART_FIELDS = {
    "closures": (("setting", "from_year"), ()),
    "rate_changes": (("kind", "multiplier"), ("need", "setting", "ncy", "from_year", "to_year")),
    "redirects": (("from_settings", "to_setting", "share"), ("ncy", "from_year", "include_joiners", "include_stayers")),
    "provision_changes": (("setting", "capacity", "from_year"),
                          ("name", "kind", "area", "designation", "min_ncy", "max_ncy", "cost_per_place")),
}
_FIELD_VALUES = (st.integers(-3, 2040) | st.floats(0, 3) | st.text(min_size=1, max_size=4)
                 | st.sampled_from(["joiner", "2027", "12", "SS-TYN"]) | st.lists(st.integers(0, 13), max_size=2)
                 | _TOML_VALUES)


@st.composite
def _scenario_parts(draw):
    """A scenario part with its required settings (values of any type) and some optional ones."""
    part = draw(st.sampled_from(sorted(_PART_FIELDS)))
    required, optional = _PART_FIELDS[part]
    keys = list(required) + draw(st.lists(st.sampled_from(optional), unique=True, max_size=3)) if optional \
        else list(required)
    return part, {k: draw(_FIELD_VALUES) for k in keys}


@settings(max_examples=300, deadline=None)
@given(case=_scenario_parts())
def test_any_scenario_part_is_a_config_or_a_config_error(case):
    part, body = case
    raw = {"inputs": {"plans": "p.csv"}, "scenarios": [{"name": "s", part: [body]}]}
    try:
        cfg = config_from_dict(raw, source="run.toml")
    except ConfigError as exc:
        assert f"{part} number 1" in str(exc)
        return
    # accepted: then every value has the type the models use (a year '2027' as text would
    # reach the projection and fail there with a traceback)
    (item,) = getattr(cfg.scenarios[0], part)
    whole = {"from_year", "to_year", "capacity", "min_ncy", "max_ncy"}
    words = {"setting", "to_setting", "name", "area", "designation"}
    for key, value in vars(item).items():
        if value is None:
            continue
        if key in whole:
            assert isinstance(value, int) and not isinstance(value, bool), (key, value)
        elif key in words or (key == "kind" and part == "provision_changes"):
            assert isinstance(value, str), (key, value)
        elif key in ("share", "multiplier", "cost_per_place"):
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (key, value)
        elif key == "kind":
            assert value in ("joiner", "leaver", "mover")


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from([n for n, r in RULES.items() if r.option and n != "backtest"]),
       value=st.integers(-20, 200) | st.floats(-20, 200) | st.sampled_from([float("nan"), float("inf"), 2**70]))
def test_command_line_and_config_file_give_the_same_verdict(name, value):
    """``--draws 1`` was accepted while ``draws = 1`` was refused: now one rule decides both."""
    rule = RULES[name]
    raw = {"inputs": {"plans": "p.csv"}, rule.section: {rule.key: value}}
    try:
        from_file = getattr(config_from_dict(raw), name)
    except ConfigError:
        from_file = "refused"
    try:
        from_cli = getattr(Config().replace(labels={name: rule.option}, **{name: value}), name)
    except ConfigError as exc:
        assert str(exc).startswith(rule.option)
        from_cli = "refused"
    assert from_file == from_cli
