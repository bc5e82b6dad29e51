"""The cost model: precedence of the costs table over the register, kind averages with a warning,
missing costs never counted as 0, decimal commas, inflation, and cost tables that add up."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import InputWarning, Projection
from senforecast.core.costs import CostModel
from senforecast.core.errors import InputValidationError, SenForecastError
from senforecast.core.provision import ProvisionRegister
from senforecast.io import read_costs, read_provision
from senforecast.pipeline.config import ConfigError, config_from_dict
from senforecast.planning.gap import gap_analysis


def _reg(**costs) -> pd.DataFrame:
    base = {"RB1": 20000.0, "RB2": 24000.0, "SS": 30000.0, "IND-ASD": 70000.0, "IND-SEMH": 98000.0, "OLA": 46000.0}
    base.update(costs)
    return pd.DataFrame({
        "setting": list(base), "kind": ["resource_base", "resource_base", "special_school", "independent",
                                        "independent", "other_la"],
        "area": ["N", "S", "S", "X", "X", "X"], "min_ncy": [0, 0, 0, 0, 5, 0], "max_ncy": [6, 6, 13, 13, 13, 13],
        "capacity": [10, 6, 12, np.nan, np.nan, np.nan], "designation": ["ASD", "SLD;ASD", "*", "ASD", "SEMH", "*"],
        "cost_per_place": list(base.values())})


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return fn(*args, **kw)


def test_precedence_need_row_then_setting_row_then_register_then_kind_average():
    reg = _reg(RB2=np.nan, SS=np.nan)
    costs = pd.DataFrame({"setting": ["IND-ASD", "IND-ASD", "RB1", "SS", "SS"],
                          "need": ["ASD", None, None, "ASD", "SLD"],
                          "cost_per_place": [80000, 75000, 20000, 40000, 50000]})
    cm = CostModel(reg, costs)
    with pytest.warns(InputWarning, match=r"RB2 \(resource_base\).*average of their kind"):
        m = cm.matrix(["ASD", "SLD", "MLD"], ["IND-ASD", "RB1", "RB2", "SS"], [2026])[0]
    assert m[:, 0].tolist() == [80000, 75000, 75000]  # need row, then the setting's row
    assert m[:, 1].tolist() == [20000] * 3  # costs table and register agree
    assert m[:, 2].tolist() == [20000] * 3  # no cost anywhere: the resource bases' average (RB1 only)
    assert m[:, 3].tolist() == [40000, 50000, 45000]  # need rows, else their mean
    src = cm.setting_costs([2026], warn=False).set_index("setting")["source"]
    assert src[["IND-ASD", "RB1", "RB2", "SS", "OLA"]].tolist() == [
        "costs table", "costs table", "average of kind", "costs table (mean over needs)", "provision register"]


def test_the_costs_table_wins_over_the_register_and_the_clash_is_named():
    costs = pd.DataFrame({"setting": ["IND-ASD", "OLA"], "cost_per_place": [999999, 46000]})
    with pytest.warns(InputWarning, match=r"IND-ASD \(999,999 vs 70,000\)"):
        cm = CostModel(_reg(), costs)
    assert cm.matrix(["ASD"], ["IND-ASD"], [2026])[0, 0, 0] == 999999
    with pytest.warns(InputWarning, match="XX.*not in the provision register"):
        CostModel(_reg(), pd.DataFrame({"setting": ["XX"], "cost_per_place": [1.0]}))


def test_a_kind_without_any_cost_is_missing_never_zero():
    reg = _reg(SS=np.nan)
    cells = pd.DataFrame({"area": ["S"], "ncy": [9], "need": ["MLD"], "setting": ["SS"]})
    proj = Projection(np.full((3, 2, 1), 5), [2026, 2027], cells)
    with pytest.warns(InputWarning, match=r"SS \(special_school\).*never as 0"):
        g = gap_analysis(proj, reg)
    assert np.isnan(g.local_cost).all()  # five children in SS, whose cost nobody knows
    assert g.by_year()["local_cost_median"].isna().all()


def test_register_without_costs_uses_the_costs_table_for_out_of_county():
    """Probe case 33: costs only in costs.csv."""
    reg = _reg().drop(columns="cost_per_place")
    costs = _reg()[["setting", "cost_per_place"]]
    cells = pd.DataFrame({"area": ["N"] * 2, "ncy": [3, 3], "need": ["ASD", "ASD"], "setting": ["RB1", "IND-ASD"]})
    proj = Projection(np.array([[[34, 6]]]), [2026], cells)
    g = gap_analysis(proj, reg, costs=costs)
    assert g.ooc_total.tolist() == [[12.0]]  # 40 ASD children, 10 + 6 + 12 local places take them
    # ASD children go to the settings designated for ASD: IND-ASD (70k) and OLA (46k), equal weights
    assert g.ooc_cost.tolist() == [[12 * 58000.0]]
    with pytest.raises(SenForecastError, match="costs table"):
        gap_analysis(proj, reg)  # no cost for any out-of-county setting anywhere: a clear error


def test_out_of_county_cost_follows_designation_and_roll_by_need():
    reg = _reg()
    cm = CostModel(reg)
    roll = pd.DataFrame({"setting": ["IND-ASD", "OLA", "IND-SEMH", "OLA"], "need": ["ASD", "ASD", "SEMH", "SEMH"],
                         "count": [6, 2, 3, 1]})
    settings_, shares, unit = cm.out_of_county(["ASD", "SEMH", "VI"], [2026], roll)
    assert settings_ == ["IND-ASD", "IND-SEMH", "OLA"]
    assert unit[0].tolist() == [(6 * 70000 + 2 * 46000) / 8, (3 * 98000 + 1 * 46000) / 4, 46000.0]
    np.testing.assert_allclose(shares[0].sum(axis=1), 1.0)
    assert shares[0, 0, 1] == 0  # no ASD child goes to the SEMH school


def _gap(costs=None, inflation=0.0, n_draws=60):
    reg = _reg()
    rng = np.random.default_rng(4)
    cells = pd.DataFrame([(a, n, need, s) for a in ("N", "S") for n in range(0, 8) for need in ("ASD", "SLD", "SEMH")
                          for s in ("RB1", "IND-ASD")], columns=["area", "ncy", "need", "setting"])
    draws = rng.poisson(0.6, size=(n_draws, 3, len(cells)))
    hist = pd.DataFrame({"year": 2025, "setting": ["IND-ASD", "OLA", "IND-SEMH"], "need": ["ASD", "SLD", "SEMH"],
                         "count": [5, 2, 3], "area": "N", "ncy": 4})
    cm = CostModel(reg, costs, inflation=inflation)
    return _quiet(gap_analysis, Projection(draws, [2026, 2027, 2028], cells, history=hist), reg, costs=cm)


def test_cost_table_adds_up_to_the_totals_and_cash_adds_inflation():
    need_costs = pd.DataFrame({"setting": ["RB2", "IND-ASD"], "need": ["SLD", "SEMH"], "cost_per_place": [31000, 90000]})
    g = _gap(need_costs, inflation=0.03)
    t = g.cost_table()
    by = t.groupby(["year", "place"])[["cost_real_mean", "children_mean"]].sum()
    years = g.years.tolist()
    np.testing.assert_allclose(by.xs("out of county", level="place")["cost_real_mean"].reindex(years),
                               g.ooc_cost.mean(axis=0))
    np.testing.assert_allclose(by.xs("out of county", level="place")["children_mean"].reindex(years),
                               g.ooc_total.mean(axis=0))
    np.testing.assert_allclose(by.xs("local", level="place")["cost_real_mean"].reindex(years), g.local_cost.mean(axis=0))
    np.testing.assert_allclose(by.xs("local", level="place")["children_mean"].reindex(years),
                               g.allocation.load.sum(axis=2).mean(axis=0))
    assert g.costs.base_year == 2025
    np.testing.assert_allclose(t["cost_cash_mean"], t["cost_real_mean"] * 1.03 ** (t["year"] - 2025))
    # the need x setting rows are used: SLD children in RB2 cost 31,000, ASD children there 24,000
    rb2 = t[(t["place"] == "local") & (t["setting"] == "RB2")].set_index("need")["cost_per_place_real"]
    assert set(rb2.loc[["SLD"]]) == {31000} and set(rb2.loc[["ASD"]]) == {24000}
    assert set(t.loc[t["place"] == "out of county", "setting"]) <= {"IND-ASD", "IND-SEMH", "OLA"}


def test_local_cost_by_need_is_each_groups_share_of_the_places():
    need_costs = pd.DataFrame({"setting": ["RB2"], "need": ["SLD"], "cost_per_place": [31000]})
    g = _gap(need_costs, n_draws=20)
    a = g.allocation
    b = a.bases["setting"].tolist().index("RB2")
    expected = np.zeros(a.load.shape[:2])
    for t, year in enumerate(g.years):
        placed = a.placed(int(year))  # (draws, groups, bases)
        unit = np.where(g.groups["need"].to_numpy()[:, None] == "SLD", 31000.0, 0.0)
        base_cost = a.bases["cost_per_place"].to_numpy(float)[None, :]
        unit = np.where(np.arange(len(a.bases))[None, :] == b, np.where(unit > 0, unit, 24000.0), base_cost)
        expected[:, t] = (placed * unit[None]).sum(axis=(1, 2))
    np.testing.assert_allclose(g.local_cost, expected)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(st.integers(0, 10**9), st.sampled_from(["eu", "uk", "plain"]))
def test_amounts_parse_whatever_their_separators(cents, style):
    value = cents / 100
    whole, frac = f"{value:,.2f}".split(".")
    text = {"uk": f"{whole}.{frac}", "eu": f"{whole.replace(',', '.')},{frac}", "plain": f"{value:.2f}"}[style]
    out = _quiet(read_costs, pd.DataFrame({"setting": ["A", "B"],
                                           "cost_per_place": [text, "0,50" if style == "eu" else "0.50"]}))
    assert out["cost_per_place"].iloc[0] == pytest.approx(value, abs=1e-9)


def test_decimal_comma_cases_of_the_probe_and_clear_errors_when_ambiguous(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("setting;cost_per_place\nIND-ASD;68000,00\nSS-GLAN;1.234,50\nRB-ABR-P;21000\n", encoding="utf-8")
    with pytest.warns(InputWarning, match="decimal comma"):
        assert read_costs(path)["cost_per_place"].tolist() == [68000.0, 1234.5, 21000.0]
    prov = tmp_path / "provision.csv"
    prov.write_text("setting;kind;area;min_ncy;max_ncy;capacity;cost_per_place\n"
                    "MS-ABE;mainstream;A;-1;13;;7500,00\nRB;resource_base;A;0;6;20;21000\n", encoding="utf-8")
    with pytest.warns(InputWarning, match="decimal comma"):
        assert read_provision(prov)["cost_per_place"].tolist() == [7500.0, 21000.0]
    # UK thousands separators still read as before
    assert read_costs(pd.DataFrame({"setting": ["A", "B"], "cost_per_place": ["£12,000", "1,234,567.5"]})
                      )["cost_per_place"].tolist() == [12000.0, 1234567.5]
    # '21,000' beside '7500,50': 21000 or 21.0? refused, naming the row and column
    with pytest.raises(InputValidationError) as err:
        read_costs(pd.DataFrame({"setting": ["A", "B"], "cost_per_place": ["7500,50", "21,000"]}))
    p = err.value.problems[0]
    assert (p.row, p.column) == (3, "cost_per_place") and "ambiguous" in p.message and "7500,50" in p.message


def test_config_costs_section():
    c = config_from_dict({"inputs": {"plans": "p.csv"}, "costs": {"inflation": 0.03, "base_year": 2024}})
    assert (c.inflation, c.cost_base_year) == (0.03, 2024)
    assert config_from_dict({"inputs": {"plans": "p.csv"}}).inflation == 0.02
    for bad in ({"inflation": "2%"}, {"inflation": 2.0}, {"base_year": 24.5}, {"inflaton": 0.02}):
        with pytest.raises(ConfigError, match="costs"):
            config_from_dict({"inputs": {"plans": "p.csv"}, "costs": bad})


def test_cost_model_refuses_bad_inputs():
    with pytest.raises(SenForecastError, match="inflation"):
        CostModel(_reg(), inflation=float("nan"))
    with pytest.raises(InputValidationError, match="negative"):
        CostModel(_reg(), pd.DataFrame({"setting": ["RB1"], "cost_per_place": [-1]}))
    with pytest.raises(InputValidationError, match="already have a cost"):
        ProvisionRegister(_reg(), pd.DataFrame({"setting": ["RB1", "RB1"], "cost_per_place": [1, 2]}))
    with pytest.raises(SenForecastError, match="base_year"):
        CostModel(_reg()).cash_factor([2026])
