"""Statutory-style tables: right years ahead, right groups, counts conserved, nothing else counted."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import InputWarning, Projection
from senforecast.planning.statutory import NCY_GROUPS, PROVISION_TYPES, scap_table, to_wide, welsh_need_table

REG = pd.DataFrame({
    "setting": ["SS1", "RB1", "IND", "OLA", "MS"],
    "kind": ["special_school", "resource_base", "independent", "other_la", "mainstream"],
})
YEARS = list(range(2026, 2036))


def _projection(seed=0, n_draws=50):
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame([(n, ncy, s) for n in ("ASD", "SLD", "BESD") for ncy in range(-1, 17)
                          for s in REG["setting"]], columns=["need", "ncy", "setting"])
    draws = rng.poisson(rng.uniform(0, 4, len(cells)), size=(n_draws, len(YEARS), len(cells)))
    hist = pd.DataFrame({"year": [2025], "count": [1]})
    return Projection(draws, YEARS, cells, history=hist)


def _direct_mean(p, keep_cells):
    """Mean over draws of the sum of the kept cells, per year (computed from the draws)."""
    return p.draws[:, :, keep_cells].sum(axis=2).mean(axis=0)


def test_scap_years_ahead_per_phase():
    t = scap_table(_projection(), REG)
    span = t.groupby("phase")["year"].agg(["min", "max"])
    assert span.loc["primary"].tolist() == [2026, 2030]  # 5 years after the 2025 census
    assert span.loc["secondary"].tolist() == [2026, 2032]  # 7 years
    assert set(t["ncy_group"]) == {g[0] for g in NCY_GROUPS}
    assert set(t["provision_type"]) <= set(PROVISION_TYPES.values())
    assert (t["horizon"] == t["year"] - 2025).all()


def test_scap_mean_equals_direct_sum_of_specialist_cells():
    p = _projection()
    t = scap_table(p, REG)
    kind = p.cells["setting"].map(dict(zip(REG["setting"], REG["kind"])))
    for (label, lo, hi, _ph) in NCY_GROUPS:
        for k in ("special_school", "independent"):
            keep = ((kind == k) & p.cells["ncy"].between(lo, hi)).to_numpy()
            expected = _direct_mean(p, keep)
            got = t[(t.ncy_group == label) & (t.provision_type == PROVISION_TYPES[k])].set_index("year")["mean"]
            np.testing.assert_allclose(got.to_numpy(), expected[: len(got)])


def test_mainstream_nursery_and_post19_are_left_out():
    p = _projection()
    t = scap_table(p, REG)
    kind = p.cells["setting"].map(dict(zip(REG["setting"], REG["kind"])))
    spec = (kind.isin(["special_school", "resource_base", "independent", "other_la"])
            & p.cells["ncy"].between(0, 14)).to_numpy()
    total = t[t.year == 2026]["mean"].sum()
    assert total == pytest.approx(_direct_mean(p, spec)[0])
    assert total < p.draws[:, 0, :].sum(axis=1).mean()


def test_interval_brackets_median():
    t = scap_table(_projection(), REG)
    assert (t["p05"] <= t["median"]).all() and (t["median"] <= t["p95"]).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_welsh_table_conserves_children_across_needs(seed):
    p = _projection(seed, n_draws=20)
    t = welsh_need_table(p, REG)
    s = scap_table(p, REG)
    # the same children, cut by need instead of provision type
    a = t.groupby(["ncy_group", "year"])["mean"].sum()
    b = s.groupby(["ncy_group", "year"])["mean"].sum()
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index(), check_names=False)
    assert (t[["mean", "median", "p05", "p95"]] >= 0).all().all()


def test_welsh_labels_come_from_the_scheme():
    t = welsh_need_table(_projection(), REG)
    labels = dict(zip(t["need"], t["need_label"]))
    assert labels["ASD"] == "Autistic spectrum disorders"
    assert labels["BESD"].startswith("Behavioural")


def test_unknown_setting_warns_and_is_left_out():
    reg = REG[REG.setting != "OLA"]
    with pytest.warns(InputWarning, match="OLA"):
        t = scap_table(_projection(), reg)
    assert "Other local authorities' provision" not in set(t["provision_type"])


def test_short_projection_warns():
    p = _projection()
    short = Projection(p.draws[:, :3], YEARS[:3], p.cells, history=p.history)
    with pytest.warns(InputWarning, match="fewer years"):
        scap_table(short, REG)


def test_projection_without_settings_is_refused():
    p = Projection(np.ones((2, 1, 1)), [2026], pd.DataFrame({"need": ["ASD"]}))
    with pytest.raises(Exception, match="setting"):
        scap_table(p, REG)


def test_wide_layout_has_total_row_equal_to_column_sums():
    t = scap_table(_projection(), REG)
    w = to_wide(t, decimals=None)
    body = w[w.provision_type != "Total"]
    total = w[w.provision_type == "Total"]
    years = [c for c in w.columns if isinstance(c, int)]
    full = [y for y in years if body[y].notna().all()]
    assert full == list(range(2026, 2031))  # primary rows stop 5 years ahead
    np.testing.assert_allclose(total[full].to_numpy()[0], body[full].sum().to_numpy())
    assert total[[2031, 2032]].isna().all().all()  # no partial totals


# ------------------------------------------------------------------ the SCAP return layout
from senforecast.planning.statutory import SCAP_PROVISION_TYPES, scap_return  # noqa: E402

REG_AP = pd.concat([REG, pd.DataFrame({"setting": ["PRU"], "kind": ["alternative_provision"]})], ignore_index=True)


def _projection_ap(seed=0):
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame([(ncy, s) for ncy in range(-1, 17) for s in REG_AP["setting"]], columns=["ncy", "setting"])
    draws = rng.poisson(rng.uniform(0, 4, len(cells)), size=(40, len(YEARS), len(cells)))
    return Projection(draws, YEARS, cells, history=pd.DataFrame({"year": [2025], "count": [1]}))


def test_scap_return_layout_rows_per_scholastic_year_and_ncy_columns():
    r = scap_return(_projection_ap(), REG_AP)
    prim, sec = r["primary"], r["secondary"]
    assert prim.columns.tolist() == ["provision_type", "scholastic_year", "census_year", "R"] + [f"Y{i}" for i in
                                                                                                 range(1, 7)]
    assert sec.columns.tolist()[3:] == [f"Y{i}" for i in range(7, 12)]
    assert sorted(prim["census_year"].unique()) == list(range(2026, 2031))  # 5 years after the 2025 census
    assert sorted(sec["census_year"].unique()) == list(range(2026, 2033))  # 7 years
    assert prim.loc[prim["census_year"] == 2026, "scholastic_year"].unique().tolist() == ["2025/26"]
    assert set(prim["provision_type"]) == {"UR", "IN", "SS", "AP"}
    for t in (prim, sec):  # every type x year, whole non-negative numbers
        assert len(t) == 4 * t["census_year"].nunique()
        vals = t.iloc[:, 3:]
        assert all(pd.api.types.is_integer_dtype(vals[c]) for c in vals) and (vals >= 0).all().all()


def test_scap_return_counts_each_kind_as_its_type_and_rounds_the_direct_mean():
    p = _projection_ap(3)
    r = scap_return(p, REG_AP)
    kind = p.cells["setting"].map(dict(zip(REG_AP["setting"], REG_AP["kind"])))
    ncy = p.cells["ncy"]
    for code in ("UR", "IN", "SS", "AP"):
        kinds = [k for k, c in SCAP_PROVISION_TYPES.items() if c == code]
        for n, col in ((0, "R"), (4, "Y4"), (9, "Y9")):
            t = r["primary" if n <= 6 else "secondary"]
            keep = (kind.isin(kinds) & (ncy == n)).to_numpy()
            direct = _direct_mean(p, keep)[:5]
            got = t[t["provision_type"] == code].sort_values("census_year")[col].to_numpy()[:5]
            np.testing.assert_array_equal(got, np.floor(direct + 0.5).astype(int))
    # other_la is counted with special schools; mainstream and post-16 NCYs are not in the return
    assert "other_la" in [k for k, c in SCAP_PROVISION_TYPES.items() if c == "SS"]
    assert "mainstream" not in SCAP_PROVISION_TYPES


def test_scap_return_refuses_projection_without_settings_and_warns_when_short():
    cells = pd.DataFrame({"ncy": [3, 8]})
    with pytest.raises(Exception, match="setting"):
        scap_return(Projection(np.ones((5, 3, 2), int), [2026, 2027, 2028], cells), REG)
    short = Projection(np.ones((5, 3, 1), int), [2026, 2027, 2028], pd.DataFrame({"ncy": [3], "setting": ["SS1"]}))
    with pytest.warns(InputWarning, match="project further"):
        r = scap_return(short, REG)
    assert sorted(r["primary"]["census_year"].unique()) == [2026, 2027, 2028]
