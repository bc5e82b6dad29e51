"""Regression tests for issue 12 (designations parsed six ways) and issue 13 item 2 (costs that
count), written before the fix and seen failing on it.

* A register passed as a DataFrame with ``designation="ASD,SLD"`` sent every child out of county in
  the gap analysis, while the cohort model read the same value as two needs.
* ``costs.csv`` was read and never used; a missing cost counted as 0; decimal commas misparsed.
"""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from senforecast import InputWarning, Projection
from senforecast.core.transitions import transition_anomalies
from senforecast.datasets.demo import demo_dir
from senforecast.io import read_costs, read_local_area
from senforecast.models.cohort.states import ValidStates
from senforecast.pipeline.config import config_from_dict
from senforecast.pipeline.run import run_pipeline
from senforecast.planning.gap import gap_analysis


def _register(designation: str) -> pd.DataFrame:
    return pd.DataFrame({
        "setting": ["RB1", "IND"], "kind": ["resource_base", "independent"], "area": ["N", "X"],
        "min_ncy": [0, 0], "max_ncy": [6, 13], "capacity": [30, np.nan],
        "designation": [designation, "*"], "cost_per_place": [20000, 60000],
    })


def _projection(n_draws: int = 40) -> Projection:
    cells = pd.DataFrame({"area": ["N", "N"], "ncy": [3, 4], "need": ["ASD", "SLD"], "setting": ["RB1", "RB1"]})
    draws = np.random.default_rng(0).poisson(6.0, size=(n_draws, 2, 2))
    return Projection(draws, [2026, 2027], cells)


@pytest.mark.parametrize("designation", ["ASD,SLD", "ASD|SLD", "ASD/SLD", "ASD; SLD"])
def test_a_comma_designation_places_children_locally_like_the_cohort_model_reads_it(designation):
    gap = gap_analysis(_projection(), _register(designation))
    # 30 places take at most ~24 children: nobody needs to go out of county
    assert gap.ooc_total.max() == 0
    rule = ValidStates.from_provision(_register(designation)).rules["RB1"]
    assert rule.needs == frozenset({"ASD", "SLD"})


def test_a_comma_designation_is_not_an_anomaly():
    plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2024, 2025], "ncy": [3, 4],
                          "need": ["SLD", "SLD"], "setting": ["RB1", "RB1"], "area": ["N", "N"]})
    reg = _register("ASD,SLD").assign(opens=pd.NA, closes=pd.NA)
    assert "need_not_in_designation" not in set(transition_anomalies(plans, reg)["anomaly"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # no 'outside designation' warning
        read_local_area(plans=plans, provision=reg)


def test_decimal_commas_in_costs_parse():
    t = read_costs(pd.DataFrame({"setting": ["IND-ASD", "SS-GLAN", "RB"],
                                 "cost_per_place": ["68000,00", "1.234,50", "21000"]}))
    assert t["cost_per_place"].tolist() == [68000.0, 1234.5, 21000.0]


def test_a_missing_cost_warns_and_is_not_zero():
    reg = _register("ASD;SLD")
    reg.loc[0, "cost_per_place"] = np.nan
    reg = pd.concat([reg, pd.DataFrame({"setting": ["RB2"], "kind": ["resource_base"], "area": ["S"],
                                        "min_ncy": [7], "max_ncy": [11], "capacity": [5.0],
                                        "designation": ["*"], "cost_per_place": [24000.0]})],
                    ignore_index=True)
    with pytest.warns(InputWarning, match="RB1"):
        gap = gap_analysis(_projection(), reg)
    assert np.all(gap.local_cost > 0)
    # the base with no cost is costed at the average of its kind (the one other base: 24,000)
    np.testing.assert_allclose(gap.local_cost, gap.allocation.load[:, :, 0] * 24000)


def _demo_config(folder, **inputs):
    return config_from_dict({
        "name": "costs test",
        "inputs": {"plans": "plans.csv", "population": "population.csv", "provision": "provision.csv",
                   "need_scheme": "wales_plasc", **inputs},
        "model": {"horizon": 2, "draws": 20, "seed": 1, "options": {"mode": "witan"}},
        "gap": {"kinds": {"OLA-MS": "mainstream"}},
        "backtest": {"enabled": False},
    }, base_dir=folder)


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    for f in ("plans.csv", "population.csv", "provision.csv", "costs.csv"):
        shutil.copy(demo_dir() / f, folder / f)
    costs = pd.read_csv(folder / "costs.csv")
    costs.assign(cost_per_place=costs["cost_per_place"] * 2).to_csv(folder / "costs_double.csv", index=False)
    return folder


def test_costs_csv_counts(demo_copy):
    base = run_pipeline(_demo_config(demo_copy, costs="costs.csv"), charts=False)
    double = run_pipeline(_demo_config(demo_copy, costs="costs_double.csv"), charts=False)
    a, b = base.tables["Out-of-county cost"], double.tables["Out-of-county cost"]
    # same seed, same children: every cost in costs.csv doubled doubles every cost figure
    for col in ("ooc_cost_median", "ooc_cost_p95", "local_cost_median"):
        np.testing.assert_allclose(b[col], 2 * a[col])
    np.testing.assert_allclose(b["ooc_median"], a["ooc_median"])
