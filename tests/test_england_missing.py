"""Suppressed counts stay missing on the way from the reader to the England models: series,
the pooled trend model, the age-flow model. Checked on series with a known answer, against
what reading a missing count as 0 would give, and end to end on the 2025-layout fixture."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from senforecast.core.errors import InputWarning
from senforecast.england import AgeFlowModel, PooledTrendModel, read_ehcp
from senforecast.models.panel.flow import flow_forecast_cube
from senforecast.models.panel.pooled import pooled_growth_forecast
from senforecast.models.panel.series import SeriesPanel

DATA = Path(__file__).parent / "data" / "dfe_ehcp_2025" / "data"


def growing_panel(seed: int = 3, n: int = 60, years: int = 8, rate: float = 0.1):
    """Every series grows by ``rate`` a year exactly; 3 regions."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(300, 3000, n)
    Y = base[:, None] * (1 + rate) ** np.arange(years)[None]
    return Y, np.zeros(n, int), np.arange(n) % 3


def test_pooled_forecast_skips_missing_counts_instead_of_reading_zeros():
    Y, group, region = growing_panel()
    t = Y.shape[1] - 1
    full = pooled_growth_forecast(Y, t, 2, group, region)
    rng = np.random.default_rng(7)
    holed = Y.copy()
    holes = rng.choice(Y.size, size=40, replace=False)
    holed.flat[holes] = np.nan
    holed[:5, t] = np.nan  # five authorities suppressed in the latest census
    got = pooled_growth_forecast(holed, t, 2, group, region)
    truth = Y[:, -1:] * 1.1 ** np.arange(1, 3)[None]
    assert np.isfinite(got).all()
    assert np.max(np.abs(got / truth - 1)) < 0.01  # suppressed origins start from their last known count
    assert np.max(np.abs(got / full - 1)) < 0.01
    # reading the same holes as 0 would wreck England's growth and the suppressed authorities' start
    zeros = pooled_growth_forecast(np.nan_to_num(holed), t, 2, group, region)
    assert np.max(np.abs(zeros / truth - 1)) > 0.5


def exact_flow(n_areas: int = 200, years: int = 6, seed: int = 0) -> np.ndarray:
    """Young group grows 5% a year; the older keeps 80% of itself and takes 15% of the young."""
    rng = np.random.default_rng(seed)
    N = np.zeros((n_areas, 2, years))
    N[:, :, 0] = rng.uniform(50, 150, (n_areas, 2))
    for s in range(years - 1):
        N[:, 0, s + 1] = 1.05 * N[:, 0, s]
        N[:, 1, s + 1] = 0.8 * N[:, 1, s] + 0.15 * N[:, 0, s]
    return N


def test_flow_model_unknown_group_below_is_not_an_inflow_of_zero():
    N = exact_flow()
    t = 4
    full = flow_forecast_cube(N, t, horizon=1)
    holed = N.copy()
    holed[0, 0, t] = np.nan  # the young group of area 0 suppressed at the origin
    got = flow_forecast_cube(holed, t, horizon=1)
    assert np.isfinite(got).all()
    # area 0 starts from its last known young count (a year old), so it is close, not exact
    assert abs(got[0, 1, 0] / full[0, 1, 0] - 1) < 0.02 and abs(got[0, 0, 0] / full[0, 0, 0] - 1) < 0.06
    assert np.allclose(got[1:], full[1:], rtol=1e-6)  # the others are untouched
    zero_inflow = 0.8 * N[0, 1, t]  # what reading the young group as 0 would forecast
    assert got[0, 1, 0] > zero_inflow * 1.1
    never = N.copy()
    never[0, 0, : t + 1] = np.nan  # never published: no start, and no inflow for the group above
    out = flow_forecast_cube(never, t, horizon=1)
    assert np.isnan(out[0]).all() and np.isfinite(out[1:]).all()


def four_years() -> pd.DataFrame:
    """The fixture's caseload plus an invented January 2022 (the 2023 rows scaled by 0.9)."""
    r = pd.read_csv(DATA / "caseload.csv", dtype=str, keep_default_na=False)
    y23 = r[r["time_period"] == "202223"].copy()
    y23["time_period"] = "202122"
    value_cols = r.columns[12:]
    for c in value_cols:
        v = pd.to_numeric(y23[c], errors="coerce")
        scaled = (v * 0.9).round().astype("Int64").astype(str)
        y23[c] = scaled.where(v.notna(), y23[c]) if not c.endswith("_pc") else y23[c]
    return pd.concat([y23, r], ignore_index=True)


def test_models_on_the_2025_layout_keep_suppressed_cells_missing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        t = read_ehcp(frames={"caseload.csv": four_years()}, harmonise=True)
    assert sorted(t.age["year"].unique()) == [2022, 2023, 2024, 2025]
    # series keep the gaps: Surrey's January 2025 age groups, Gateshead's 2024 units
    panel = SeriesPanel.from_table(t.age, "age_group")
    keys = panel.keys.set_index(["area", "age_group"]).index
    surrey = panel.counts[keys.get_loc(("E10000030", "11-15")), :]
    assert np.isnan(surrey[-1]) and (surrey[:-1] > 0).all()
    s_panel = SeriesPanel.from_table(t.setting, "setting")
    s_keys = s_panel.keys.set_index(["area", "setting"]).index
    assert np.isnan(s_panel.counts[s_keys.get_loc(("E08000037", "resourced_provision_unit")), 2])

    flow = AgeFlowModel(calibration_origins=1).fit(t.age).project(years=2, n_draws=200, seed=1)
    pooled = PooledTrendModel(dim="setting").fit(t.setting).project(years=2, n_draws=200, seed=1)
    fs = flow.summary(by=["area", "age_group"]).set_index(["year", "area", "age_group"])["mean"]
    for g in ["0-4", "5-10", "11-15", "16-19", "20-25"]:
        last = t.age.query("area == 'E10000030' and year == 2024 and age_group == @g")["count"].item()
        got = fs.loc[(2026, "E10000030", g)]
        assert np.isfinite(got) and 0.5 * last < got < 2 * last  # from its last known count, not from 0
    hist = flow.history.query("area == 'E10000030' and year == 2025")
    assert hist["count"].isna().all()  # the history shows the gap as a gap
    ps = pooled.summary(by=["area", "setting"]).set_index(["year", "area", "setting"])["mean"]
    assert np.isfinite(ps.values).all() and (ps.values > 0).all()
    known_2025 = t.setting.query("year == 2025 and setting != 'total'").set_index(["area", "setting"])["count"]
    for (area, setting), v in known_2025.items():
        if v > 20:
            assert 0.5 * v < ps.loc[(2026, area, setting)] < 2 * v, (area, setting)
