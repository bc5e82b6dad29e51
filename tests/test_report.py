"""The pipeline behind the report, the HTML report itself, and its building blocks."""
from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from senforecast.pipeline.config import demo_config
from senforecast.datasets.demo import demo_dir
from senforecast.core.errors import SenForecastError
from senforecast.pipeline.run import run_pipeline, specialist_share_table
from senforecast.plotting import scenario_chart
from senforecast.reporting.html import SECTIONS, figure_html, key_findings, render_report, table_html


def _small(**changes):
    base = dict(draws=60, horizon=5, backtest_origins=(2023, 2024), backtest_horizons=(1,), backtest_draws=30)
    return demo_config().replace(**{**base, **changes})


@pytest.fixture(scope="module")
def cohort_run():
    return run_pipeline(_small())


@pytest.fixture(scope="module")
def prevalence_run():
    return run_pipeline(_small(model="prevalence", draws=150, horizon=3, scenarios=(), backtest=False))


def test_report_sections_in_order_and_self_contained(cohort_run):
    page = render_report(cohort_run, files=["senforecast.xlsx"])
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    positions = [page.find(f">{s}</h2>") for s in SECTIONS]
    assert all(p > 0 for p in positions) and positions == sorted(positions)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(cohort_run.figures)
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    for name in [s.name for s in cohort_run.config.scenarios]:
        assert html.escape(name) in page
    assert "Specialist place demand by provision type" in page


def test_key_findings_agree_with_the_input_files(cohort_run):
    plans = pd.read_csv(demo_dir() / "plans.csv")
    last = int(plans["year"].max())
    findings = key_findings(cohort_run)
    assert f"{(plans['year'] == last).sum():,} in January {last}" in findings[0]
    prov = pd.read_csv(demo_dir() / "provision.csv")
    open_next = prov[prov["kind"].isin(["resource_base", "special_school"])
                     & (prov["opens"].isna() | (prov["opens"] <= last + 1))]
    assert f"against {open_next['capacity'].sum():,.0f} local places" in findings[1]
    assert any(f.startswith("Backtest:") for f in findings)
    assert sum(f.startswith("Scenario '") for f in findings) == len(cohort_run.config.scenarios)


def test_runs_without_scenarios_or_backtest_say_so(prevalence_run):
    page = render_report(prevalence_run)
    assert "No scenarios in this run" in page and "Backtest not run" in page
    assert "Backtest scores" not in prevalence_run.tables and "Scenarios" not in prevalence_run.tables
    # the prevalence model's children are split into settings, so the returns are made too
    assert "Return - by provision type" in prevalence_run.tables
    assert not any("statutory tables not made" in w for w in prevalence_run.warnings)
    assert any("SettingSplit" in w for w in prevalence_run.warnings)  # groups never seen are named


def test_same_seed_same_numbers_other_seed_other_numbers():
    cfg = _small(draws=40, horizon=2, scenarios=(), backtest=False)
    a, b = (run_pipeline(cfg, charts=False) for _ in range(2))
    c = run_pipeline(cfg.replace(seed=2), charts=False)
    for name in ("Projection by need", "Gap by year", "Gap by designation and area"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.tables["Projection by need"]["mean"].equals(c.tables["Projection by need"]["mean"])


def test_prevalence_demand_comes_from_a_setting_split_of_the_projected_children(prevalence_run):
    """Children projected without a setting are split into settings by the recent censuses' mix:
    the split keeps every child, demand never exceeds them, and its share of them matches the
    share of children in specialist or out-of-county settings at the last census (by NCY and need)."""
    res = prevalence_run
    assert res.projection.meta["setting_split"] and set(res.projection.cells["setting"]) != {"ALL"}
    unsplit = res.projection.aggregate(["area", "ncy", "need"])  # the prevalence model's own cells
    n = unsplit.draws.astype(float)  # (draw, year, cell)
    children = n.sum(axis=2)
    demand = res.gap.demand.sum(axis=2)
    assert (demand <= children).all() and (demand > 0).all()
    assert np.ptp(demand / children, axis=0).min() > 0  # the mix is uncertain: shares vary by draw
    share = specialist_share_table(res.data, res.config.kinds).set_index(["ncy", "need"])["share"]
    cells = unsplit.cells
    s = share.reindex(pd.MultiIndex.from_arrays([cells["ncy"].astype(int), cells["need"].astype(str)])).to_numpy()
    expected = (n.mean(axis=0) * s).sum(axis=1) / children.mean(axis=0)
    got = demand.mean(axis=0) / children.mean(axis=0)
    assert np.all(np.abs(got - expected) < 0.02), (got, expected)
    # a share given in the config replaces the split: demand ~ Binomial(children, 0.2)
    from senforecast.pipeline.run import _gap

    fixed = _gap(unsplit, res.data, res.config.replace(specialist_share=0.2), None, [])
    diff = (fixed.demand.sum(axis=2) - 0.2 * children).mean(axis=0)
    assert np.all(np.abs(diff) < 4 * np.sqrt(0.2 * 0.8 * children.mean(axis=0) / n.shape[0]))


def test_specialist_share_table_covers_every_age_and_need():
    from senforecast.datasets.demo import load_demo

    data = load_demo()
    t = specialist_share_table(data, {"OLA-MS": "mainstream"})
    assert t["share"].between(0, 1).all()
    ncys = range(int(data.plans["ncy"].min()), int(data.plans["ncy"].max()) + 1)
    assert len(t) == len(ncys) * data.plans["need"].nunique()
    assert not t.duplicated(["ncy", "need"]).any()
    # counting OLA-MS as mainstream can only lower the share
    t_all = specialist_share_table(data)
    assert (t["share"].to_numpy() <= t_all["share"].to_numpy() + 1e-12).all()


def test_pipeline_needs_a_provision_register():
    cfg = demo_config()
    inputs = {k: v for k, v in cfg.inputs.items() if k != "provision"}
    with pytest.raises(SenForecastError, match="provision file"):
        run_pipeline(cfg.replace(inputs=inputs))


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._in, self._buf = True, ""

    def handle_endtag(self, tag):
        if tag == "td":
            self.cells.append(self._buf)
            self._in = False

    def handle_data(self, data):
        if self._in:
            self._buf += data


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_table_html_shows_any_text_as_text(values):
    """Need codes and names come from input files: they must never become markup."""
    page = table_html(pd.DataFrame({"name": values, "count": range(len(values))}))
    parser = _Cells()
    parser.feed(page)
    assert parser.cells[0::2] == [str(v) for v in values]
    assert "<script" not in page.replace("&lt;script", "")


def test_table_html_number_formats():
    t = pd.DataFrame({"year": [2026], "ooc_cost_median": [2_345_678.0], "prob_shortfall": [0.876],
                      "p05": [12.4], "mean": [12.44], "count": [12345]})
    parser = _Cells()
    parser.feed(table_html(t))
    assert parser.cells == ["2026", "£2.35m", "88%", "12", "12.4", "12,345"]


def test_figure_html_embeds_png_from_figure_or_bytes():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1])
    one = figure_html(fig, "a <line>")
    data = re.search(r"base64,([^\"]+)", one).group(1)
    png = base64.b64decode(data)
    assert png[:4] == b"\x89PNG" and "a &lt;line&gt;" in one
    assert figure_html(png) == '<figure><img src="data:image/png;base64,' + data + '" alt="chart"></figure>'


def test_scenario_chart_lines_and_errors():
    t = pd.DataFrame({"scenario": ["baseline"] * 2 + ["b"] * 2, "year": [2026, 2027] * 2,
                      "total_cost_median": [1e6, 2e6, 1e6, 1.5e6]})
    fig = scenario_chart(t, measure="total_cost", ylabel="Cost")
    lines = fig.axes[0].get_lines()
    assert [round(y, 2) for y in lines[1].get_ydata()] == [1.0, 1.5]  # millions
    assert "£ million a year" in fig.axes[0].get_ylabel()
    with pytest.raises(SenForecastError, match="ooc_median"):
        scenario_chart(t)


def test_written_tables_suppress_small_counts_when_asked(cohort_run, tmp_path):
    """`suppress_below` reaches the workbook and the CSVs; the unsuppressed run shows the count."""
    from dataclasses import replace

    from senforecast.pipeline.run import write_outputs

    quick = replace(cohort_run, figures={}, tables=dict(cohort_run.tables))  # no charts: fast
    plain = write_outputs(quick, tmp_path / "plain")
    hidden = write_outputs(replace(quick, config=quick.config.replace(suppress_below=5)), tmp_path / "hidden")
    on_roll = pd.read_csv(demo_dir() / "plans.csv").query("year == 2025").groupby("setting").size()
    small = [s for s, n in on_roll.items() if n < 5 and s.startswith("RB")]
    assert small, "the demo has a base with fewer than 5 children on roll"
    a = pd.read_excel(plain["workbook"], sheet_name="Starting point").set_index("setting")
    b = pd.read_excel(hidden["workbook"], sheet_name="Starting point").set_index("setting")
    for s in small:
        # one marker for every hidden cell: "<5" beside "c" would tell a reader which cells are small
        assert a.loc[s, "on_roll"] == on_roll[s] and b.loc[s, "on_roll"] == "c"
    csv = pd.read_csv(tmp_path / "hidden" / "csv" / "Starting_point.csv", encoding="utf-8-sig").set_index("setting")
    assert all(csv.loc[s, "on_roll"] == "c" for s in small)
    assert "counts below 5" in (tmp_path / "hidden" / "report.html").read_text(encoding="utf-8")
    # nothing derived from a count is left to give a hidden one away: costs and spare places go with it
    assert ((b["on_roll"] != "c") | ((b["spare"] == "c") & (b["yearly_cost"] == "c"))).all()
    need = pd.read_excel(hidden["workbook"], sheet_name="Inputs - by need").set_index("need")
    plans = pd.read_csv(demo_dir() / "plans.csv")
    last = plans[plans["year"] == 2025].groupby("need").size()
    for code, n in last.items():
        shown = need.loc[code, "2025"] if "2025" in need.columns else need.loc[code, 2025]
        assert (shown == "c") if n < 5 else (shown == "c" or int(shown) == n)


def test_a_backtest_that_cannot_run_is_reported_not_fatal():
    res = run_pipeline(_small(draws=30, horizon=2, scenarios=(), backtest_origins=(2019,)), charts=False)
    assert res.backtest is None
    assert any(w.startswith("backtest not run") for w in res.warnings)
