"""Welsh plan types in the plans table: reading, choosing the series to forecast, transitions
across the ALN transfer, and why forecasting statements alone would be wrong."""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.data import LocalAreaData
from senforecast.core.errors import InputValidationError, InputWarning, SenForecastError
from senforecast.core.plan_types import EHCP_EQUIVALENT, PLAN_TYPES
from senforecast.core.transitions import build_transitions, stocks_from_transitions
from senforecast.datasets.demo import demo_dir, load_demo
from senforecast.datasets.synthetic import synthetic_authority
from senforecast.io import read_plans
from senforecast.models.cohort.model import CohortModel
from senforecast.pipeline.config import ConfigError, config_from_dict

CODES = list(PLAN_TYPES)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------ reading
def test_plan_type_labels_are_read_as_codes_with_a_warning(tmp_path):
    f = tmp_path / "plans.csv"
    f.write_text("UPN,Year,NCY,Need,Setting,Area,Plan type\n"
                 "a,2024,3,ASD,MS,N,Statemented\n"
                 "b,2024,4,ASD,MS,N,LA maintained IDP\n"
                 "c,2024,5,ASD,MS,N,school_idp\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        plans = read_plans(f)
    assert plans["plan_type"].tolist() == ["statement", "la_idp", "school_idp"]
    assert plans["stage"].isna().all()  # the header went to plan_type, not to the stage alias
    assert any("plan type label(s) read as codes" in str(w.message) for w in caught)


def test_unknown_or_blank_plan_type_is_an_error_naming_row_and_column(tmp_path):
    f = tmp_path / "plans.csv"
    f.write_text("pupil_id,year,ncy,need,setting,area,plan_type\n"
                 "a,2024,3,ASD,MS,N,EHC plan\n"
                 "b,2024,4,ASD,MS,N,\n"
                 "c,2024,5,ASD,MS,N,la_idp\n", encoding="utf-8")
    with pytest.raises(InputValidationError) as err:
        quiet(read_plans, f)
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(2, "plan_type"), (3, "plan_type")}
    assert "la_idp" in str(err.value)  # says what is allowed


def test_plans_without_plan_type_read_as_before():
    plans = quiet(read_plans, pd.DataFrame({"pupil_id": ["a"], "year": [2024], "ncy": [3], "need": ["ASD"],
                                            "setting": ["MS"], "area": ["N"]}))
    assert plans["plan_type"].isna().all()
    d = LocalAreaData(plans=plans).select_series()
    assert d.series.series == "plans" and len(d.plans) == 1
    assert d.series.sentence() == "every child in the plans table (no plan_type column), 2024-2024"


# ------------------------------------------------------------------------------ selection
@st.composite
def typed_histories(draw):
    """Children over 2021-2024 with a plan type per census (any of the five, changing freely)."""
    rows = []
    for i in range(draw(st.integers(1, 20))):
        years = draw(st.lists(st.sampled_from([2021, 2022, 2023, 2024]), min_size=1, max_size=4, unique=True))
        ncy0 = draw(st.integers(0, 10))
        for y in sorted(years):
            rows.append({"pupil_id": f"p{i}", "year": y, "ncy": ncy0 + y - 2021,
                         "need": draw(st.sampled_from(["ASD", "MLD"])), "setting": draw(st.sampled_from(["MS", "SS"])),
                         "area": "N", "plan_type": draw(st.sampled_from(CODES))})
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(typed_histories())
def test_selection_keeps_the_ehcp_equivalent_and_accounts_for_everyone_else(plans):
    ehcp = plans["plan_type"].isin(EHCP_EQUIVALENT)
    data = LocalAreaData(plans=plans, name="T")
    if not ehcp.any():
        with pytest.raises(SenForecastError, match="series = \"all\""):
            data.select_series(warn=False)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        d = data.select_series()
    # kept: exactly the statement / LA IDP rows, in file order
    assert d.plans[["pupil_id", "year"]].values.tolist() == plans.loc[ehcp, ["pupil_id", "year"]].values.tolist()
    assert len(data.plans) == len(plans)  # the original is untouched
    # left out: counted by year and plan type, and the children named by number, never by id
    left = plans[~ehcp]
    expected = left.groupby(["year", "plan_type"]).size().to_dict()
    got = {(int(y), t): int(n) for y, t, n in d.series.left_out[["year", "plan_type", "children"]].values}
    assert got == expected
    assert d.series.children_left_out == left["pupil_id"].nunique()
    assert sum(n for k, n in d.report.counts.items() if k.startswith("plans.left_out.")) == len(left)
    assert d.report.counts["plans.rows_in_series"] == int(ehcp.sum())
    assert (len(caught) == 1) == (len(left) > 0)
    assert all("p" + str(i) not in str(w.message) for w in caught for i in range(20))
    summary = d.summary()["checks"].set_index("check")["count"]
    assert summary["children left out of the series by plan type"] == left["pupil_id"].nunique()
    # transitions of the series: stocks match the kept rows, flows add up
    t = d.get_transitions()
    stocks = stocks_from_transitions(t, by=()).set_index("year")
    per_year = d.plans.groupby("year").size()
    for y in stocks.index:
        assert stocks.loc[y, "stock_from"] == per_year.get(y, 0)
        assert stocks.loc[y, "stock_to"] == per_year.get(y + 1, 0)


def test_statement_to_la_idp_is_a_stayer_and_leaving_the_series_is_a_leaver():
    plans = pd.DataFrame({
        "pupil_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
        "year": [2022, 2023] * 4, "ncy": [3, 4, 5, 6, 7, 8, 1, 2], "need": "ASD", "setting": "MS", "area": "N",
        "plan_type": ["statement", "la_idp",          # transferred: same child, same plan in effect
                      "statement", "school_idp",      # to a school-maintained IDP: leaves the series
                      "school_action_plus", "la_idp",  # SA+ to an LA IDP: joins the series
                      "la_idp", "la_idp"]})
    d = quiet(LocalAreaData(plans=plans).select_series)
    t = build_transitions(d.plans, warn=False)
    kinds = dict(zip(t["ncy_from"], t["kind"]))
    assert kinds == {3: "stayer", 5: "leaver", 7: "joiner", 1: "stayer"}
    # with every plan type forecast, all four are stayers
    t_all = LocalAreaData(plans=plans).select_series("all").get_transitions()
    assert set(t_all["kind"]) == {"stayer"} and int(t_all["count"].sum()) == 4


def test_anomaly_rows_still_point_at_the_file_after_selection():
    plans = pd.DataFrame({"pupil_id": ["x", "a", "a"], "year": [2023, 2023, 2024], "ncy": [2, 3, 3],
                          "need": "ASD", "setting": "MS", "area": "N",
                          "plan_type": ["school_action", "statement", "la_idp"]})
    d = quiet(LocalAreaData(plans=plans).select_series)
    a = d.get_transition_anomalies()
    assert a[["anomaly", "row"]].values.tolist() == [["ncy_not_advancing", 4]]  # row 4 of the file, not 3


def test_series_option_in_the_config():
    c = config_from_dict({"inputs": {"plans": "p.csv", "series": "all"}})
    assert c.series == "all"
    assert config_from_dict({"inputs": {"plans": "p.csv"}}).series == "ehcp_equivalent"
    with pytest.raises(ConfigError, match="series must be one of"):
        config_from_dict({"inputs": {"plans": "p.csv", "series": "statements"}})


# ------------------------------------------------------------------------------ the demo
def test_demo_has_a_transfer_and_every_child_is_in_the_ehcp_equivalent_series():
    raw = pd.read_csv(demo_dir() / "plans.csv")
    share_idp = raw.assign(idp=raw["plan_type"].eq("la_idp")).groupby("year")["idp"].mean()
    assert (share_idp[share_idp.index < 2022] == 0).all()
    assert share_idp.loc[2022] > 0 and share_idp.is_monotonic_increasing and share_idp.loc[2025] > 0.5
    # once on an IDP, always on an IDP
    first_idp = raw[raw["plan_type"].eq("la_idp")].groupby("pupil_id")["year"].min()
    later = raw.merge(first_idp.rename("first_idp"), on="pupil_id")
    assert not ((later["year"] > later["first_idp"]) & later["plan_type"].eq("statement")).any()
    d = load_demo().select_series()
    assert len(d.plans) == len(raw) and d.series.children_left_out == 0


# ------------------------------------------------------------------------------ why it matters
TRANSFER_SHARE = {2022: 0.2, 2023: 0.5, 2024: 0.75, 2025: 0.95}  # statements moved to LA IDPs by then


def with_transfer(plans: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Plan types for a steady synthetic authority: statements before 2022; each child moves to an
    LA-maintained IDP at a census drawn from TRANSFER_SHARE; new plans from 2022 and everyone
    after 2025 on IDPs. Demand itself does not change."""
    ids = np.sort(plans["pupil_id"].unique())
    u = pd.Series(np.random.default_rng(seed).random(len(ids)), index=ids)
    idp_from = pd.Series(2026, index=ids)
    for y in sorted(TRANSFER_SHARE, reverse=True):
        idp_from[u < TRANSFER_SHARE[y]] = y
    first = plans.groupby("pupil_id")["year"].min()
    idp_from = idp_from.where(first.reindex(ids) < 2022, first.reindex(ids))
    return plans.assign(plan_type=np.where(plans["year"] >= plans["pupil_id"].map(idp_from), "la_idp", "statement"))


def test_forecasting_statements_alone_collapses_while_the_ehcp_equivalent_does_not():
    # a steady authority simulated to 2028; the forecast sees 2018-2025 and is scored on 2026-2028
    full = synthetic_authority(1500, n_years=11, first_year=2018, seed=3)
    plans = with_transfer(full.plans, seed=1)
    seen = plans[plans["year"] <= 2025].reset_index(drop=True)
    actual = plans[plans["year"] > 2025].groupby("year").size()
    statements = seen.groupby("year")["plan_type"].apply(lambda s: int((s == "statement").sum()))
    assert statements.loc[2025] < 0.1 * statements.loc[2021]  # the collapse of statements in the data

    base = LocalAreaData(population=full.population, provision=full.provision, name="T")
    only_statements = replace(base, plans=seen[seen["plan_type"] == "statement"].reset_index(drop=True))
    equivalent = quiet(replace(base, plans=seen).select_series)
    years = [2026, 2027, 2028]
    p_st = CohortModel().fit(only_statements).project(years, n_draws=200, seed=5)
    p_eq = CohortModel().fit(equivalent).project(years, n_draws=200, seed=5)
    st_mean = p_st.total().mean(axis=0)
    eq = p_eq.total()
    # statements alone: the transfer read as falling demand, the forecast far below what happened
    assert (st_mean < 0.25 * actual.to_numpy()).all()
    # the EHC-plan equivalent: within 10% of what happened, and inside the 90% interval
    assert np.all(np.abs(eq.mean(axis=0) / actual.to_numpy() - 1) < 0.10)
    lo, hi = np.quantile(eq, [0.05, 0.95], axis=0)
    assert np.all((lo <= actual.to_numpy()) & (actual.to_numpy() <= hi))


def test_pipeline_forecasts_the_series_and_reports_who_was_left_out(tmp_path):
    """The demo with 60 extra children on school-maintained IDPs: the default run leaves them
    out (same children per year as the demo) and says so in the warnings, the inputs summary and
    the assumptions; series = "all" takes them in."""
    from senforecast.pipeline.config import demo_config
    from senforecast.pipeline.run import run_pipeline

    demo = pd.read_csv(demo_dir() / "plans.csv")
    rng = np.random.default_rng(0)
    extra = pd.DataFrame({"pupil_id": [f"X{i:05d}" for i in range(60)], "year": rng.choice([2024, 2025], 60),
                          "ncy": rng.integers(1, 10, 60), "need": "DYSL", "setting": "MS-ABE", "area": "Aberafon",
                          "plan_type": "school_idp"})
    plans = tmp_path / "plans.csv"
    pd.concat([demo, extra], ignore_index=True).to_csv(plans, index=False)
    cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False, model_options={"mode": "witan"})
    cfg = cfg.replace(inputs={**cfg.inputs, "plans": plans})
    res = run_pipeline(cfg, charts=False)
    per_year = res.tables["Inputs - children per year"].set_index("year")["children"]
    assert per_year.to_dict() == demo.groupby("year").size().to_dict()
    assert any("60 child(ren)" in w and "not in the series forecast" in w for w in res.warnings)
    checks = res.tables["Inputs - rows and checks"].set_index("check")["count"]
    assert checks["children left out of the series by plan type"] == 60
    assert checks["plans.left_out.school_idp"] == 60
    sentence = res.tables["Assumptions"].set_index("item").loc["series forecast", "value"]
    assert sentence.startswith("statement or LA-maintained IDP (EHC-plan equivalent), 2019-2025; 60 children with "
                               "school-maintained IDPs not forecast")
    by_type = res.tables["Inputs - by plan type"].set_index(["plan_type", "in series"])
    assert by_type.loc[("school_idp", "no"), ["2024", "2025"]].sum() == 60

    everyone = run_pipeline(cfg.replace(series="all"), charts=False)
    per_year_all = everyone.tables["Inputs - children per year"].set_index("year")["children"]
    assert (per_year_all - per_year).to_dict() == {y: int((extra["year"] == y).sum()) if y >= 2024 else 0
                                                   for y in per_year.index}
