"""witan.send-compatible mode: parameters equal witan.send's published test values.

The expected numbers are those of witan.send's own test suite
(test/witan/send/model/prepare_test.clj) on the same demo inputs.
"""
import numpy as np
import pytest

from senforecast.models.cohort.model import CohortModel
from senforecast.io.witan import load_witan_demo


@pytest.fixture(scope="module")
def model():
    return CohortModel(mode="witan").fit(load_witan_demo())


def _state(m, ncy, need, setting, kind):
    r = m.rates(kind)
    row = r[(r["ncy"] == ncy) & (r["need"] == need) & (r["setting"] == setting)]
    assert len(row) == 1
    return float(row["alpha"].iloc[0]), float(row["beta"].iloc[0])


def test_seed_year_population(model):
    assert model.seed_year_ == 2017
    assert model.seed_stock_["count"].sum() == 2153
    assert len(model.seed_stock_) == 378


def test_leaver_beta_ncy6_need_y_setting_f(model):
    a, b = _state(model, 6, "Y", "F", "leaver")
    assert a == pytest.approx(0.017335766423357664, rel=1e-12)
    assert b == pytest.approx(13.982664233576642, rel=1e-12)


def test_joiner_beta_params(model):
    r = model.rates("joiner").set_index("ncy")
    expected = {5: (12, 26189 / 4), 14: (0.502, 29447 / 4), 16: (0.503, 9191), 10: (33 / 4, 11099 / 2)}
    for ncy, (a, b) in expected.items():
        assert r.loc[ncy, "alpha"] == pytest.approx(a, rel=1e-12)
        assert r.loc[ncy, "beta"] == pytest.approx(b, rel=1e-12)


def test_mover_beta_params(model):
    expected = {(2, "W", "O"): (0.053125, 0.946875), (16, "Y", "S"): (0.08333333333333333, 2.9166666666666665),
                (-1, "W", "P"): (0.2650862068965517, 0.7349137931034483),
                (15, "W", "M"): (0.22413793103448276, 0.7758620689655172),
                (10, "X", "I"): (1.0791433891992552, 7.920856610800745)}
    for (ncy, need, setting), (a, b) in expected.items():
        got = _state(model, ncy, need, setting, "mover")
        assert got == pytest.approx((a, b), rel=1e-12)


def test_mover_destination_alphas(model):
    got = model.destinations(15, "U", "E")
    expected = {"U-S": 0.5921052631578947, "U-J": 0.3026315789473684}
    expected.update({f"U-{s}": 0.013157894736842106 for s in "LCBDAGIN"})
    assert set(got.index) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12)


def test_joiner_state_alphas(model):
    got = model.joiner_states(-1)
    expected = {"V-F": 0.020833333333333332, "X-G": 0.020833333333333332, "Y-B": 12.020833333333334,
                "T-R": 0.020833333333333332, "V-P": 0.020833333333333332}
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12)
    assert len(got) == 48  # 8 settings take NCY -1, 6 needs each


def test_projection_runs_and_is_seeded(model):
    a = model.project(years=2, n_draws=200, seed=7)
    b = model.project(years=2, n_draws=200, seed=7)
    assert np.array_equal(a.draws, b.draws)
    assert a.draws.min() >= 0
