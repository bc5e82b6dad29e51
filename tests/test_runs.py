"""Many runs on executors (senforecast.pipeline.runs) and the synthetic authorities they are benchmarked on."""
from __future__ import annotations

import functools
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core.errors import SenForecastError
from senforecast.models.cohort.model import CohortModel
from senforecast.pipeline.runs import SerialExecutor, project_many, run_scenarios, spawn_seeds, totals_by
from senforecast.core.scenarios import RateChange, Scenario
from senforecast.datasets.synthetic import LEAVER_PROB, MOVER_PROB, synthetic_authority, synthetic_national
from senforecast.core.transitions import build_transitions


def _fit(d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CohortModel().fit(d)


def synthetic_national_item(i):
    return list(synthetic_national(3, 250, n_years=3, n_areas=2, seed=11))[i]


@pytest.fixture(scope="module")
def authorities():
    return list(synthetic_national(3, 250, n_years=3, n_areas=2, seed=11))


@pytest.fixture(scope="module")
def models(authorities):
    return [_fit(d) for d in authorities]


def _same(a, b):
    assert a.draws.dtype == b.draws.dtype
    np.testing.assert_array_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    assert a.flows.keys() == b.flows.keys()
    for k in a.flows:
        np.testing.assert_array_equal(a.flows[k], b.flows[k])


# ------------------------------------------------------------------------------- seeds
def test_spawned_seeds_are_reproducible_distinct_and_prefix_stable():
    s = spawn_seeds(123, 50)
    assert s == spawn_seeds(123, 50)
    assert len(set(s)) == 50
    assert spawn_seeds(123, 10) == s[:10]  # run i's seed does not depend on how many runs there are
    assert spawn_seeds(124, 5) != s[:5]
    assert spawn_seeds(np.random.SeedSequence(123), 3) == s[:3]


# -------------------------------------------------------------- parallel == serial
def test_process_pool_gives_the_serial_numbers(models, authorities):
    kw = dict(years=3, n_draws=30, seed=2024)
    serial = project_many(models, executor="serial", **kw)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = project_many(models, executor=pool, **kw)
        # fitting in the workers from data gives the same numbers too
        from_data = project_many({d.name: d for d in authorities}, executor=pool, **kw)
        # and so does loading the data in the workers
        loaders = [functools.partial(synthetic_national_item, i) for i in range(3)]
        from_loaders = project_many(loaders, executor=pool, **kw)
    assert len(parallel) == len(models)
    for a, b, c, d in zip(serial, parallel, from_data.values(), from_loaders):
        _same(a, b)
        _same(a, c)
        _same(a, d)
    # run i is exactly model_i.project(seed=spawned seed i), recorded in meta
    seeds = spawn_seeds(2024, len(models))
    for m, p, s in zip(models, serial, seeds):
        assert p.meta["seed"] == s
        _same(p, m.project(years=3, n_draws=30, seed=s))
    # submitting the largest first changes nothing but the order the pool runs them in
    reordered = project_many(models, executor="serial", priority=[1, 3, 2], **kw)
    for a, b in zip(serial, reordered):
        _same(a, b)
    with pytest.raises(SenForecastError, match="one per run"):
        project_many(models, executor="serial", priority=[1], **kw)
    # independent streams: two identical models do not produce identical draws
    twins = project_many([models[0], models[0]], executor="serial", **kw)
    assert not np.array_equal(twins[0].total(), twins[1].total())


def test_default_executor_is_a_local_process_pool(models):
    kw = dict(years=2, n_draws=20, seed=7, reduce=functools.partial(totals_by, by="need"))
    a = project_many(models[:2], max_workers=2, **kw)
    b = project_many(models[:2], executor=ThreadPoolExecutor(2), **kw)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.draws, y.draws)
        assert x.flows == {}
        # the reduction is the aggregate of the full projection
        full = models[0].project(years=2, n_draws=20, seed=spawn_seeds(7, 2)[0]).aggregate("need")
    np.testing.assert_array_equal(a[0].draws, full.draws)


def test_run_scenarios_parallel_equals_serial_and_scenarios_act(models):
    m = models[0]
    scenarios = [Scenario("baseline"), Scenario("more joiners", joiner_multiplier=1.6),
                 Scenario("fewer leavers", rate_changes=(RateChange("leaver", 0.3),))]
    kw = dict(years=3, n_draws=200, seed=99, reduce=functools.partial(totals_by, by=None))
    serial = run_scenarios(m, scenarios, executor=SerialExecutor(), **kw)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = run_scenarios(m, scenarios, executor=pool, **kw)
    assert list(serial) == ["baseline", "more joiners", "fewer leavers"]
    for k in serial:
        np.testing.assert_array_equal(serial[k].draws, parallel[k].draws)
    end = {k: v.draws[:, -1, 0].mean() for k, v in serial.items()}
    assert end["more joiners"] > end["baseline"] and end["fewer leavers"] > end["baseline"]
    # paired: one seed for all scenarios, so the baseline equals a second baseline draw for draw
    paired = run_scenarios(m, {"a": Scenario("a"), "b": Scenario("b")}, paired=True, executor="serial", **kw)
    np.testing.assert_array_equal(paired["a"].draws, paired["b"].draws)


def test_dask_executor_gives_the_serial_numbers(models):
    distributed = pytest.importorskip("distributed")
    kw = dict(years=2, n_draws=20, seed=3)
    serial = project_many(models[:2], executor="serial", **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = project_many(models[:2], executor=client.get_executor(), **kw)
    for a, b in zip(serial, on_dask):
        _same(a, b)


def test_clear_errors(models):
    with pytest.raises(SenForecastError, match="more than once"):
        run_scenarios(models[0], [Scenario("x"), Scenario("x")], executor="serial")
    with pytest.raises(SenForecastError, match="Executor"):
        project_many(models, executor=object())
    with pytest.raises(SenForecastError, match="fitted models, LocalAreaData"):
        project_many([models[0], "LA001"], executor="serial", n_draws=2, years=1)
    with pytest.raises(SenForecastError, match="list or dict"):
        project_many(models[0], executor="serial")
    with pytest.raises(SenForecastError, match="not senforecast.core.scenarios.Scenario"):
        run_scenarios(models[0], [Scenario("x"), "y"], executor="serial")


# ---------------------------------------------------------------- synthetic authorities
def test_synthetic_authority_recovers_its_known_rates():
    d = synthetic_authority(20_000, n_years=3, seed=4)
    t = build_transitions(d.plans, warn=False)
    send = t[t["setting_from"] != "NONSEND"]
    by = send.assign(left=np.where(send["setting_to"] == "NONSEND", send["count"], 0)).groupby("ncy_from")
    n, left = by["count"].sum(), by["left"].sum()
    for ncy in (2, 5, 8, 11, 12):
        p = LEAVER_PROB[ncy]
        se = np.sqrt(p * (1 - p) / n[ncy])
        assert abs(left[ncy] / n[ncy] - p) < 4 * se, ncy
    # voluntary movers: stayers at NCYs where no setting's age range ends (so no forced moves)
    stay = send[(send["setting_to"] != "NONSEND") & send["ncy_from"].between(0, 5)]
    moved = stay.loc[stay["setting_from"] != stay["setting_to"], "count"].sum()
    total = stay["count"].sum()
    se = np.sqrt(MOVER_PROB * (1 - MOVER_PROB) / total)
    assert abs(moved / total - MOVER_PROB) < 4 * se
    # the stock stays near the size asked for
    sizes = d.plans.groupby("year").size()
    assert ((sizes > 18_000) & (sizes < 22_000)).all()


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(30, 600), n_years=st.integers(2, 4), n_areas=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_synthetic_authority_invariants(n, n_years, n_areas, seed):
    d = synthetic_authority(n, n_years=n_years, n_areas=n_areas, seed=seed)
    p = d.plans
    assert not p.duplicated(["pupil_id", "year"]).any()
    assert sorted(p["year"].unique()) == list(range(2020, 2020 + n_years))
    prov = d.provision.set_index("setting")
    assert set(p["setting"]) <= set(prov.index)
    # every child is in a setting that takes their NCY
    assert p["ncy"].between(prov.loc[p["setting"], "min_ncy"].to_numpy(),
                            prov.loc[p["setting"], "max_ncy"].to_numpy()).all()
    assert (d.population["count"] >= 0).all()
    # counts conserved from one census to the next: stock = stock before - leavers + joiners
    t = build_transitions(p, warn=False)
    for y in range(2020, 2020 + n_years - 1):
        ty = t[t["year"] == y]
        left = ty.loc[ty["setting_to"] == "NONSEND", "count"].sum()
        joined = ty.loc[ty["setting_from"] == "NONSEND", "count"].sum()
        assert (p["year"] == y + 1).sum() == (p["year"] == y).sum() - left + joined
    # the same seed gives the same authority
    pd.testing.assert_frame_equal(p, synthetic_authority(n, n_years=n_years, n_areas=n_areas, seed=seed).plans)


def test_synthetic_national_is_reproducible_per_authority():
    full = list(synthetic_national(4, 300, n_years=2, seed=8))
    again = list(synthetic_national(4, 300, n_years=2, seed=8))
    sizes = [len(d.plans) for d in full]
    assert sizes == [len(d.plans) for d in again]
    for a, b in zip(full, again):
        pd.testing.assert_frame_equal(a.plans, b.plans)
    assert len({d.name for d in full}) == 4
    # authority sizes vary and total about n x mean per census
    per_census = np.array(sizes) / 2
    assert per_census.std() > 0 and 0.8 * 1200 < per_census.sum() < 1.2 * 1200
    # pupil ids are distinct between authorities
    ids = pd.concat([d.plans["pupil_id"] for d in full])
    assert ids.nunique() == sum(d.plans["pupil_id"].nunique() for d in full)
