"""The bundled demo authority: loads, matches the published figures it was built from, and its
true parameters are the ones that generated it (checked statistically)."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import senforecast as sf
from senforecast.core.codes import get_scheme, map_needs
from senforecast.datasets.demo import load_demo, load_demo_parameters

ROOT = Path(__file__).resolve().parent.parent
BASES = {  # published places and on roll; age ranges as NCY (ages 4-11 -> 0-6, 7-11 -> 2-6, 11-18 -> 7-13)
    "RB-ABR-P": (20, 20, 0, 6), "RB-CAE-P": (20, 19, 0, 6), "RB-DOL-C": (8, 3, 2, 6),
    "RB-BRY-S": (55, 49, 7, 13), "RB-DOL-S": (55, 25, 7, 13)}
SHARE_FIRST = {"ASD": 31, "PMED": 18, "CL": 16, "BESD": 15, "SLCD": 11, "SENS": 4, "ADHD": 1.8, "SPLD": 1}
SHARE_LAST = {"ASD": 35, "PMED": 17, "CL": 14, "BESD": 17, "SLCD": 11, "SENS": 3.3, "ADHD": 2.1, "SPLD": 0.6}


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def transitions(demo):
    return demo.get_transitions()


@pytest.fixture(scope="module")
def params():
    return load_demo_parameters()


def test_demo_loads_validated_with_the_expected_shape(demo):
    assert not demo.report.errors
    years = sorted(demo.plans["year"].unique())
    assert years == list(range(years[0], years[0] + len(years))) and len(years) >= 6
    per_year = demo.plans.groupby("year").size()
    assert per_year.between(1500, 3000).all()
    assert demo.plans["area"].nunique() == 4
    assert not get_scheme("wales_plasc").unknown(demo.plans["need"])
    assert set(demo.plans["setting"]) <= set(demo.provision["setting"])
    assert not demo.plans.duplicated(["pupil_id", "year"]).any()
    # population history and projection cover every (year, area, NCY) a model needs
    pop = demo.population
    assert pop["year"].max() >= 2035 and pop["year"].min() <= years[0]
    need = pd.MultiIndex.from_product([range(years[0], pop["year"].max() + 1), sorted(demo.plans["area"].unique()),
                                       range(-1, 14)])
    assert need.isin(pop.set_index(["year", "area", "ncy"]).index).all()
    assert (pop["count"] > 0).all()


def test_five_bases_have_the_published_places_and_about_the_published_roll(demo):
    prov = demo.provision.set_index("setting")
    last = demo.plans[demo.plans["year"] == demo.plans["year"].max()]
    for s, (places, roll, lo, hi) in BASES.items():
        assert prov.loc[s, "kind"] == "resource_base"
        assert prov.loc[s, "capacity"] == places
        assert (prov.loc[s, "min_ncy"], prov.loc[s, "max_ncy"]) == (lo, hi)
        on_roll = int((last["setting"] == s).sum())
        assert on_roll <= places
        assert abs(on_roll - roll) <= max(3, 0.2 * roll), (s, on_roll, roll)
    assert (demo.provision["cost_per_place"] > 1000).all()
    assert demo.provision["kind"].isin(sf.core.codes.SETTING_KINDS).all()


def test_out_of_county_counts_are_near_the_published_figures(demo):
    kind = demo.plans["setting"].map(demo.provision.drop_duplicates("setting").set_index("setting")["kind"])
    last = demo.plans["year"] == demo.plans["year"].max()
    ooc = last & kind.isin(sf.core.codes.OUT_OF_COUNTY_KINDS)
    ooc_special = ooc & ~demo.plans["setting"].eq("OLA-MS")
    assert abs(ooc.sum() - 105) <= 0.2 * 105
    assert abs(ooc_special.sum() - 85) <= 0.2 * 85


def test_need_shares_follow_the_published_trend(demo):
    p = demo.plans
    grp = map_needs(p["need"], "wales_plasc", "wales_strategy", errors="raise").mapped
    first, last = p["year"].min(), p["year"].max()
    total_first = sum(SHARE_FIRST.values())  # published first-year shares sum to 97.8%
    for year, target, scale in ((first, SHARE_FIRST, 100 / total_first), (last, SHARE_LAST, 1.0)):
        share = grp[p["year"] == year].value_counts(normalize=True) * 100
        for g, v in target.items():
            assert abs(share.get(g, 0) - v * scale) <= max(2.5, 0.5 * v), (year, g, share.get(g), v)
    s0 = grp[p["year"] == first].value_counts(normalize=True)
    s1 = grp[p["year"] == last].value_counts(normalize=True)
    assert s1["ASD"] > s0["ASD"] + 0.02 and s1["CL"] < s0["CL"] and s1["PMED"] < s0["PMED"]


def test_generator_reproduces_the_shipped_files_bit_for_bit(demo):
    script = ROOT / "data" / "make_demo.py"
    if not script.exists():
        pytest.skip("generator script is in the repository, not the installed package")
    spec = importlib.util.spec_from_file_location("make_demo", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tables = mod.simulate(mod.SEED)
    shipped = pd.read_csv(sf.datasets.demo_dir() / "plans.csv")
    pd.testing.assert_frame_equal(tables["plans"].astype(shipped.dtypes.to_dict()).reset_index(drop=True),
                                  shipped, check_dtype=False)
    other = mod.simulate(mod.SEED + 1)["plans"]
    assert not other["pupil_id"].isin(shipped["pupil_id"]).all()


# --- the true parameters generated the data (statistical checks) ---------------------------

def test_joiner_counts_are_poisson_with_the_true_rates(demo, transitions, params):
    """Joiners per year and area ~ Poisson(sum of rate x population): z-scores within +-3."""
    rate = params[params["parameter"] == "joiner_rate"][["year", "area", "ncy", "value"]]
    pop = demo.population.assign(year=lambda d: d["year"] - 1)  # population of the second census
    exp = (rate.astype({"year": int, "ncy": int, "area": str})
           .merge(pop, on=["year", "area", "ncy"]).assign(mu=lambda d: d["value"] * d["count"])
           .groupby(["year", "area"])["mu"].sum())
    obs = transitions[transitions["kind"] == "joiner"].groupby(["year", "area"])["count"].sum()
    z = (obs.reindex(exp.index, fill_value=0) - exp) / np.sqrt(exp)
    assert len(z) == 6 * 4
    assert (z.abs() < 3.5).all(), z.round(2).to_dict()
    assert abs(z.mean()) < 3 / np.sqrt(len(z))  # no overall bias


def test_leaver_rates_match_true_leaver_prob(transitions, params):
    truth = params[params["parameter"] == "leaver_prob"].set_index("ncy")["value"]
    t = transitions[transitions["kind"] != "joiner"]
    n = t.groupby("ncy_from")["count"].sum()
    lv = t[t["kind"] == "leaver"].groupby("ncy_from")["count"].sum().reindex(n.index, fill_value=0)
    for ncy in n.index:
        p = truth[ncy]
        if p in (0.0, 1.0):
            assert lv[ncy] == (n[ncy] if p == 1.0 else 0)
            continue
        sd = np.sqrt(p * (1 - p) / n[ncy])
        assert abs(lv[ncy] / n[ncy] - p) < 4 * sd, (ncy, lv[ncy] / n[ncy], p)


def test_joiner_need_mix_and_need_changes_match_truth(transitions, params):
    share = params[params["parameter"] == "joiner_need_share"]
    j = transitions[transitions["kind"] == "joiner"]
    obs = j.groupby("need_to")["count"].sum()
    expected_share = (share.merge(j.groupby("year")["count"].sum().rename("n").reset_index(), on="year")
                      .assign(e=lambda d: d["value"] * d["n"]).groupby("need")["e"].sum())
    chi2 = float((((obs.reindex(expected_share.index, fill_value=0) - expected_share) ** 2)
                  / expected_share).sum())
    from scipy import stats
    assert stats.chi2.sf(chi2, df=len(expected_share) - 1) > 0.001
    stock = transitions[transitions["kind"] != "joiner"]["count"].sum()
    changed = transitions[(transitions["kind"] != "joiner") & (transitions["kind"] != "leaver")
                          & (transitions["need_from"] != transitions["need_to"])]["count"].sum()
    stayed = transitions[~transitions["kind"].isin(["joiner", "leaver"])]["count"].sum()
    p = params.loc[params["parameter"] == "need_change_prob", "value"].item()
    # a redraw can give the same need, so the observed rate is a little below p
    assert 0.5 * p < changed / stayed < p + 4 * np.sqrt(p / stayed) and stock > stayed
