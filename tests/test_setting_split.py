"""SettingSplit: recovers known setting mixes with calibrated intervals, gives calibrated
prediction intervals for a held-out census, conserves every cell's count, and feeds the gap
analysis of the demo without a specialist share."""
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast import InputWarning, Projection
from senforecast.core.data import LocalAreaData
from senforecast.core.errors import ModelError
from senforecast.models import SettingSplit
from senforecast.core.ncy import phase

SETTINGS = np.array(["IND", "MS", "RB", "SS"])
NEEDS = ("ASD", "SLD", "BESD", "HI")
PHASE_NCY = {"primary": np.arange(0, 7), "secondary": np.arange(7, 12), "post16": np.arange(12, 15)}
OVERALL = np.array([0.07, 0.6, 0.15, 0.18])  # in SETTINGS order
SIZES = (8, 25, 80, 250)  # children per census in a group: some groups are small


def _truth(rng, a_need=30.0, a_group=60.0):
    """Long-run mixes by (need, phase), drawn around need mixes drawn around the overall mix."""
    rows = []
    for need in NEEDS:
        m = rng.dirichlet(a_need * OVERALL)
        for ph in PHASE_NCY:
            rows.append((need, ph, rng.dirichlet(a_group * m), int(rng.choice(SIZES))))
    return rows


def _plans(rng, truth, years, year_concentration=None):
    """One row per child per census; a year's mix is Dirichlet(B p) around the long-run mix p
    when ``year_concentration`` B is given (children independent from census to census)."""
    frames = []
    for year in years:
        for need, ph, p, size in truth:
            q = p if year_concentration is None else rng.dirichlet(year_concentration * p)
            n = rng.poisson(size) + 1
            setting = SETTINGS[rng.choice(len(SETTINGS), n, p=q)]
            frames.append(pd.DataFrame({"year": year, "ncy": rng.choice(PHASE_NCY[ph], n), "need": need,
                                        "setting": setting, "area": rng.choice(["N", "S"], n)}))
    plans = pd.concat(frames, ignore_index=True)
    plans.insert(0, "pupil_id", [f"c{i}" for i in range(len(plans))])
    return plans


def _shares_vs_truth(split, truth):
    t = pd.DataFrame([(need, ph, s, p[i], size) for need, ph, p, size in truth for i, s in enumerate(SETTINGS)],
                     columns=["need", "phase", "setting", "true", "size"])
    return split.shares_.merge(t, on=["need", "phase", "setting"], how="right")


def test_recovers_known_mixes_and_intervals_cover_about_90_percent():
    rng = np.random.default_rng(20240601)
    tables = []
    for _ in range(25):
        truth = _truth(rng)
        plans = _plans(rng, truth, [2023, 2024, 2025])
        split = SettingSplit(by=("need", "phase"), window=3).fit(LocalAreaData(plans=plans))
        tables.append(_shares_vs_truth(split, truth))
    t = pd.concat(tables, ignore_index=True)
    assert t["share"].notna().all()
    inside = (t["p05"] <= t["true"]) & (t["true"] <= t["p95"])
    assert 0.85 <= inside.mean() <= 0.95, inside.mean()
    # small groups borrow strength: the posterior mean beats the raw share where counts are few
    err_post = (t["share"] - t["true"]).abs()
    err_raw = (t["observed"] - t["true"]).abs()
    small = t["size"] <= 25
    assert err_post[small].mean() < 0.9 * err_raw[small].mean()
    assert err_post.mean() < err_raw.mean()
    # large groups follow their own counts: 750 children-censuses pin a share to a few points
    assert err_post[t["size"] == 250].max() < 0.06
    assert (err_post[t["size"] == 250] - err_raw[t["size"] == 250]).abs().max() < 0.02


def test_prediction_intervals_of_a_held_out_census_cover_about_90_percent():
    rng = np.random.default_rng(7)
    hits, cell_hits, year_b = [], [], []
    years = list(range(2020, 2026))
    for rep in range(15):
        truth = _truth(rng)
        plans = _plans(rng, truth, years, year_concentration=40.0)
        fit = plans[plans["year"] < years[-1]]
        split = SettingSplit(by=("need", "phase"), window=5).fit(LocalAreaData(plans=fit))
        year_b.append(split.year_concentration_.iloc[-1])
        last = plans[plans["year"] == years[-1]]
        cells = last.groupby(["area", "ncy", "need"], as_index=False).size()
        proj = Projection(np.broadcast_to(cells["size"].to_numpy(), (400, 1, len(cells))).copy(), [years[-1]],
                          cells[["area", "ncy", "need"]].assign(setting="ALL"))
        out = split.split(proj, seed=rep)
        # group level: the true counts of each (need, phase, setting) in the held-out census
        oc = out.cells.assign(phase=phase(out.cells["ncy"].to_numpy()))
        key = oc["need"] + "|" + oc["phase"] + "|" + oc["setting"]
        codes, uniq = pd.factorize(key)
        draws = np.zeros((out.n_draws, len(uniq)))
        np.add.at(draws.T, codes, out.draws[:, 0, :].T)
        lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
        actual = last.assign(phase=phase(last["ncy"].to_numpy()))
        actual = (actual["need"] + "|" + actual["phase"] + "|" + actual["setting"]).value_counts()
        every = pd.MultiIndex.from_product([[f"{n}|{p}" for n, p, _, _ in truth], SETTINGS]).map("|".join)
        y = actual.reindex(every, fill_value=0)
        pos = pd.Index(uniq).get_indexer(every)
        lo_e = np.where(pos >= 0, lo[pos], 0.0)
        hi_e = np.where(pos >= 0, hi[pos], 0.0)
        hits.append(((lo_e <= y.to_numpy()) & (y.to_numpy() <= hi_e)))
        # cell level (area x ncy x need x setting): small counts, so coverage is at least nominal
        qlo, qhi = np.quantile(out.draws[:, 0, :], [0.05, 0.95], axis=0)
        real = last.groupby(["area", "ncy", "need", "setting"]).size()
        got = real.reindex(pd.MultiIndex.from_frame(out.cells), fill_value=0).to_numpy()
        cell_hits.append((qlo <= got) & (got <= qhi))
        assert real.sum() == out.total()[0, 0]  # nothing lost: the cells hold every child
    coverage = np.concatenate(hits).mean()
    assert 0.82 <= coverage <= 0.97, coverage
    assert np.concatenate(cell_hits).mean() >= 0.88
    # the year-to-year movement is detected (the truth is B = 40; a fit without it would say inf)
    assert 15 < np.median(year_b) < 120, year_b


@pytest.fixture(scope="module")
def fitted_data():
    rng = np.random.default_rng(3)
    return LocalAreaData(plans=_plans(rng, _truth(rng), [2024, 2025]))


@pytest.fixture(scope="module")
def fitted(fitted_data):
    return SettingSplit().fit(fitted_data)


NCYS = st.integers(min_value=-2, max_value=16)
CELL = st.tuples(st.sampled_from(["N", "S", "W"]), NCYS, st.sampled_from([*NEEDS, "MSI"]))


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(CELL, min_size=1, max_size=6, unique=True), n_draws=st.integers(1, 5),
       n_years=st.integers(1, 3), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_split_conserves_counts_exactly_and_reproduces(fitted, cells, n_draws, n_years, seed, data):
    shape = (n_draws, n_years, len(cells))
    flat = data.draw(st.lists(st.integers(0, 60), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    draws = np.array(flat, dtype=np.int64).reshape(shape)
    frame = pd.DataFrame(cells, columns=["area", "ncy", "need"]).assign(setting="ALL")
    proj = Projection(draws, list(range(2026, 2026 + n_years)), frame, meta={"model": "test"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # MSI and post-19 groups were never seen
        a = fitted.split(proj, seed=seed)
        b = fitted.split(proj, seed=seed)
    assert (a.draws >= 0).all() and np.issubdtype(a.draws.dtype, np.integer)
    np.testing.assert_array_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    # every input cell's count is the sum of its settings, per draw and year
    key_in = pd.MultiIndex.from_frame(frame[["area", "ncy", "need"]])
    pos = key_in.get_indexer(pd.MultiIndex.from_frame(a.cells[["area", "ncy", "need"]]))
    assert (pos >= 0).all()
    back = np.zeros_like(draws)
    np.add.at(back.transpose(2, 0, 1), pos, a.draws.transpose(2, 0, 1))
    np.testing.assert_array_equal(back, draws)
    assert set(a.cells["setting"]) <= set(SETTINGS)
    assert list(a.years) == list(proj.years) and a.meta["model"] == "test" and "setting_split" in a.meta
    assert not a.flows


def test_unseen_group_gets_the_coarser_mix_with_a_warning(fitted, fitted_data):
    """A post-19 ASD cell (no post-19 children fitted) gets the centre of ASD's phases' mixes,
    less certainly than a seen ASD group; a cell of a need never seen gets the authority's mix."""
    cells = pd.DataFrame({"area": "N", "ncy": [3, 17, 3], "need": ["ASD", "ASD", "MSI"], "setting": "ALL"})
    proj = Projection(np.full((3000, 1, 3), 5000), [2026], cells)
    with pytest.warns(InputWarning, match="need=ASD, phase=post19 -> need=ASD; need=MSI, phase=primary -> the "
                                          "authority's overall mix"):
        out = fitted.split(proj, seed=1)
    share = {}
    for ncy, need in ((3, "ASD"), (17, "ASD"), (3, "MSI")):
        part = out.sel(ncy=ncy, need=need)
        per_draw = pd.DataFrame(part.draws[:, 0, :] / 5000, columns=part.cells["setting"])
        share[ncy, need] = per_draw.reindex(columns=list(fitted.settings_), fill_value=0)
    phases = fitted.shares_.query("need == 'ASD'").groupby("setting")["share"].mean()
    np.testing.assert_allclose(share[17, "ASD"].mean(), phases[fitted.settings_], atol=0.03)
    assert (share[17, "ASD"].std() > share[3, "ASD"].std()).all()
    top = SettingSplit(by=()).fit(fitted_data).shares_.set_index("setting")["share"]
    np.testing.assert_allclose(share[3, "MSI"].mean(), top[fitted.settings_], atol=0.03)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # a seen group warns about nothing
        fitted.split(proj.sel(ncy=3, need="ASD"), seed=1)


def test_split_rejects_settings_and_needs_a_fit(fitted):
    cells = pd.DataFrame({"area": ["N"], "ncy": [3], "need": ["ASD"], "setting": ["MS"]})
    with pytest.raises(ModelError, match="already has settings"):
        fitted.split(Projection(np.ones((1, 1, 1), int), [2026], cells))
    with pytest.raises(ModelError, match="not fitted"):
        SettingSplit().split(Projection(np.ones((1, 1, 1), int), [2026], cells.assign(setting="ALL")))
    with pytest.raises(ModelError, match="by must be"):
        SettingSplit(by=("setting",)).fit(LocalAreaData(plans=pd.DataFrame()))


def test_demo_prevalence_projection_split_feeds_the_gap_analysis():
    from senforecast.datasets.demo import load_demo
    from senforecast.planning.gap import DEMAND_KINDS, gap_analysis, setting_kinds
    from senforecast.models import PrevalenceModel

    data = load_demo()
    proj = PrevalenceModel().fit(data).project(years=2, n_draws=200, seed=11)
    split = SettingSplit().fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # a few need x phase groups have no children yet
        out = split.split(proj, seed=12)
    np.testing.assert_array_equal(out.total(), proj.total())
    kinds = {"OLA-MS": "mainstream"}
    gap = gap_analysis(out, data.provision, kinds=kinds)  # no specialist_share needed
    kind = out.cells["setting"].map(setting_kinds(out, data.provision, kinds)).to_numpy()
    specialist = out.draws[:, :, np.isin(kind, list(DEMAND_KINDS))].sum(axis=2)
    np.testing.assert_allclose(gap.demand.sum(axis=2), specialist)
    by_year = gap.by_year().set_index("year")
    np.testing.assert_allclose(by_year["demand_mean"], specialist.mean(axis=0))
    np.testing.assert_allclose(gap.by_group().groupby("year")["demand_mean"].sum(), by_year["demand_mean"])
    # the first projected year's specialist demand is close to the last census's (the total grows ~1%)
    last = data.plans[data.plans["year"] == data.plans["year"].max()]
    reg = dict(zip(data.provision["setting"], data.provision["kind"])) | kinds
    now = last["setting"].map(reg).isin(list(DEMAND_KINDS)).sum()
    assert abs(by_year["demand_mean"].iloc[0] / now - 1) < 0.1


def test_pooling_none_follows_counts_full_takes_the_overall_mix_partial_is_between():
    rng = np.random.default_rng(5)
    plans = _plans(rng, _truth(rng), [2023, 2024, 2025])
    # a small group whose own mix is extreme: 6 HI post-16 children, all in special schools
    plans = plans[~((plans["need"] == "HI") & (plans["ncy"] >= 12))]
    extra = pd.DataFrame({"pupil_id": [f"x{i}" for i in range(6)], "year": 2025, "ncy": 13, "need": "HI",
                          "setting": "SS", "area": "N"})
    data = LocalAreaData(plans=pd.concat([plans, extra], ignore_index=True))
    share = {}
    for pooling in ("none", "partial", "full"):
        s = SettingSplit(window=2, pooling=pooling).fit(data)
        assert s.years_ == [2024, 2025]
        share[pooling] = s.shares_.query("need == 'HI' and phase == 'post16' and setting == 'SS'")["share"].item()
    overall = SettingSplit(by=(), window=2).fit(data).shares_.set_index("setting")["share"]["SS"]
    assert share["full"] == pytest.approx(overall)
    assert share["none"] > 0.8  # six of six, with a prior worth one child
    assert share["full"] < share["partial"] < share["none"]


def test_non_integer_draws_are_split_by_the_mix_and_missing_dimensions_fall_back(fitted):
    cells = pd.DataFrame({"need": ["ASD", "SLD"]})  # no area, no NCY: phase unknown
    proj = Projection(np.full((50, 2, 2), 2.5), [2026, 2027], cells)
    with pytest.warns(InputWarning, match="phase=ALL -> need=ASD"):
        out = fitted.split(proj, seed=3)
    assert (out.draws >= 0).all() and out.draws.dtype == np.float64
    np.testing.assert_allclose(out.aggregate("need").draws, proj.draws)
    assert set(out.cells["area"]) == {"ALL"} and set(out.cells["ncy"]) == {"ALL"}
