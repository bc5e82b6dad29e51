"""Every chart renders, is titled and labelled, and draws the numbers it was given."""
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from senforecast import Projection, SenForecastError
from senforecast import plotting as P

YEARS = list(range(2026, 2034))


def _projection(seed=0):
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame(
        [(a, n, s) for a in ("N", "S") for n in ("ASD", "SEMH", "SLD") for s in ("MS", "RB", "IND")],
        columns=["area", "need", "setting"],
    )
    lam = rng.uniform(3, 20, len(cells))
    draws = rng.poisson(lam, size=(200, len(YEARS), len(cells)))
    hist = pd.DataFrame(
        [(y, *c, int(rng.poisson(l))) for y in range(2021, 2026) for c, l in zip(cells.itertuples(index=False), lam)],
        columns=["year", "area", "need", "setting", "count"],
    )
    return Projection(draws, YEARS, cells, history=hist, meta={"model": "test", "seed": seed})


def _gap_table(seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for d in ("ASD", "SEMH"):
        for ph in ("primary", "secondary"):
            cap = rng.uniform(30, 50)
            for k, y in enumerate(YEARS):
                med = 35 + 3 * k
                rows.append(dict(designation=d, phase=ph, area="ALL", year=y, demand_median=med,
                                 demand_p05=med - 8, demand_p25=med - 3, demand_p75=med + 3,
                                 demand_p95=med + 8, capacity=cap,
                                 places_short=max(med - cap, 0), prob_shortfall=min(1, k / 8)))
    return pd.DataFrame(rows)


def _summary(n=len(YEARS)):
    med = np.linspace(100, 140, n)
    return pd.DataFrame({"year": YEARS[:n], "median": med, "p05": med - 20, "p25": med - 8,
                         "p75": med + 8, "p95": med + 20})


def _charts():
    p = _projection()
    g = _gap_table()
    bt = pd.DataFrame([dict(origin=o, year=o + h, actual=100 + 5 * (o + h - 2016), median=100 + 5 * (o - 2016) + 4 * h,
                            p10=95 + 5 * (o - 2016), p90=110 + 5 * (o - 2016) + 6 * h)
                       for o in (2016, 2017, 2018) for h in (1, 2, 3)])
    costs = pd.DataFrame({"setting": ["IND"], "cost_per_place": [60000.0]})
    return {
        "fan_total": p.plot.fan(),
        "fan_need": p.plot.fan(by="need"),
        "fan_call": p.plot(),
        "shares_need": p.plot.shares("need"),
        "shares_setting": p.plot.shares("setting", as_share=False),
        "ooc": p.plot.out_of_county(["IND"], costs),
        "capacity_one": P.capacity_chart(g[(g.designation == "ASD") & (g.phase == "primary")]),
        "capacity_grid": P.capacity_chart(g, by=["designation", "phase"]),
        "heatmap": P.shortfall_heatmap(g, row=["designation", "phase"]),
        "probability": P.shortfall_probability_chart(g, by=["designation", "phase"]),
        "waterfall": P.waterfall_chart(500, {"Population": 20, "Rates": 60, "Scenario": -15}),
        "backtest": P.backtest_chart(bt),
    }


@pytest.fixture(scope="module")
def charts():
    return _charts()


def test_every_chart_renders_to_png_with_title_and_axis_labels(charts):
    for name, fig in charts.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=60)
        png = buf.getvalue()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, name
        assert fig._suptitle is not None and fig._suptitle.get_text().strip(), name
        axes = P.chart_axes(fig)
        assert axes, name
        assert any(ax.get_xlabel() for ax in axes), f"{name} has no x label"
        ylabels = [ax.get_ylabel() for ax in axes] + [fig._supylabel.get_text() if fig._supylabel else ""]
        assert any(ylabels), f"{name} has no y label"
        # A4 width
        assert fig.get_figwidth() == pytest.approx(7.0), name
        # a source note at the bottom of the figure
        assert any(t.get_text().startswith("Source") for t in fig.texts), name


def test_year_axes_label_every_year_as_an_integer(charts):
    for name in ("fan_total", "capacity_one", "probability", "shares_need"):
        fig = charts[name]
        fig.canvas.draw()
        ax = P.chart_axes(fig)[0]
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        years = [int(s) for s in labels]  # plain integers, no "2,026" or "2026.0"
        assert years == list(range(min(years), max(years) + 1)), name


def test_series_use_the_colour_blind_safe_palette(charts):
    palette = {c.lower() for c in P.OKABE_ITO} | {"#999999", "#7f7f7f", "#777777", "#333333"}
    for name in ("fan_total", "capacity_grid", "probability", "backtest"):
        for ax in P.chart_axes(charts[name]):
            for line in ax.get_lines():
                if line.get_linestyle() == ":" or line.get_xdata() is None:
                    continue
                assert to_hex(line.get_color()) in palette, (name, line.get_color())


def test_fan_chart_draws_the_projection_median_and_history():
    p = _projection()
    fig = p.plot.fan()
    ax = P.chart_axes(fig)[0]
    s = p.summary()
    h = p.history.groupby("year")["count"].sum()
    ys = [np.asarray(l.get_ydata(), float) for l in ax.get_lines()]
    assert any(len(y) == len(s) and np.allclose(y, s["median"]) for y in ys)
    assert any(len(y) == len(h) and np.allclose(y, h.to_numpy()) for y in ys)


def test_fan_small_multiples_one_panel_per_need():
    p = _projection()
    fig = p.plot.fan(by="need")
    assert [ax.get_title(loc="left") for ax in P.chart_axes(fig)] == ["ASD", "SEMH", "SLD"]


def test_capacity_chart_marks_first_year_median_exceeds_capacity():
    t = pd.DataFrame({"year": YEARS, "demand_median": np.arange(len(YEARS)) * 2.0 + 40, "capacity": 45.0})
    expected = int(t.loc[t.demand_median > t.capacity, "year"].min())
    fig = P.capacity_chart(t)
    texts = [x.get_text() for x in P.chart_axes(fig)[0].texts]
    assert texts == [f"Capacity exceeded\nfrom {expected}"]
    # no shortfall, no marker
    t2 = t.assign(capacity=1000.0)
    assert len(P.chart_axes(P.capacity_chart(t2))[0].texts) == 0


def test_capacity_chart_uses_reported_exceeded_year_when_given():
    t = pd.DataFrame({"year": YEARS, "demand_median": 50.0, "capacity": 45.0, "first_year": 2030})
    fig = P.capacity_chart(t, exceeded_year="first_year")
    assert "from 2030" in P.chart_axes(fig)[0].texts[0].get_text()


def test_share_bars_add_to_100_percent_each_year():
    rng = np.random.default_rng(3)
    t = pd.DataFrame([(y, n, int(rng.integers(1, 50))) for y in YEARS for n in "ABCDEFGHIJ"],
                     columns=["year", "need", "count"])
    fig = P.share_bars(t, max_categories=5)
    ax = P.chart_axes(fig)[0]
    heights = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        heights[x] = heights.get(x, 0) + bar.get_height()
    assert sorted(heights) == YEARS
    assert np.allclose(list(heights.values()), 100)
    # 5 categories shown: 4 largest plus Other
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 5 and "Other" in labels


def test_heatmap_annotations_are_the_table_values():
    t = pd.DataFrame({"year": [2026, 2027, 2026, 2027], "area": ["N", "N", "S", "S"],
                      "places_short": [0.0, 3.2, 5.0, -2.0]})
    fig = P.shortfall_heatmap(t)
    got = sorted(x.get_text() for x in P.chart_axes(fig)[0].texts)
    assert got == sorted(["0", "3", "5", "-2"])


def test_probability_chart_rejects_values_outside_0_1():
    t = pd.DataFrame({"year": [2026], "prob_shortfall": [45.0]})
    with pytest.raises(SenForecastError, match="probabilities"):
        P.shortfall_probability_chart(t)


def test_waterfall_end_bar_is_start_plus_effects():
    fig = P.waterfall_chart(1000, {"Population": 30, "Rates": -50, "Scenario": 5})
    ax = P.chart_axes(fig)[0]
    labels = [x.get_text() for x in ax.texts]
    assert labels[-1] == f"{1000 + 30 - 50 + 5:,.0f}"
    assert labels[1:4] == ["+30", "-50", "+5"]


def test_missing_column_error_names_the_column():
    with pytest.raises(SenForecastError, match="demand_median"):
        P.capacity_chart(pd.DataFrame({"year": [2026], "capacity": [3]}))


def test_gap_plots_find_tables_on_a_gap_object():
    g = _gap_table()

    class Gap:
        by_group = g
        by_year = g.groupby("year", as_index=False).agg(
            demand_median=("demand_median", "sum"), capacity=("capacity", "sum"),
            ooc_median=("places_short", "sum"))
        meta = {"model": "test"}

    plots = P.GapPlots(Gap())
    assert len(P.chart_axes(plots.capacity())) == 4
    assert P.chart_axes(plots.heatmap(row=["designation", "phase"]))
    assert P.chart_axes(plots.probability())
    assert P.chart_axes(plots.capacity(level="year"))
    assert P.chart_axes(plots.out_of_county(Gap.by_year.assign(ooc_p05=0, ooc_p95=1)))
    with pytest.raises(SenForecastError, match="no base table"):
        plots.table("base")


def test_charts_do_not_leave_pyplot_figures_open():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    _charts()
    assert len(plt.get_fignums()) == before


def test_probability_chart_switches_to_small_multiples_beyond_eight_groups():
    t = pd.DataFrame([(f"G{i}", y, (i + k) / 20) for i in range(10) for k, y in enumerate(YEARS)],
                     columns=["designation", "year", "prob_shortfall"])
    fig = P.shortfall_probability_chart(t, by="designation")
    assert [ax.get_title(loc="left") for ax in P.chart_axes(fig)] == [f"G{i}" for i in range(10)]


def test_gap_plots_on_a_real_gap_analysis():
    from senforecast.planning.gap import gap_analysis

    rng = np.random.default_rng(7)
    reg = pd.DataFrame({"setting": ["RB1", "RB2", "IND"], "kind": ["resource_base", "resource_base", "independent"],
                        "area": ["N", "S", "N"], "capacity": [10, 12, None], "designation": ["ASD", "ASD", "*"],
                        "min_ncy": [0, 7, 0], "max_ncy": [6, 11, 13], "cost_per_place": [20000, 20000, 60000]})
    cells = pd.DataFrame([(a, n, "ASD", s) for a in ("N", "S") for n in (3, 8) for s in ("RB1", "RB2", "IND")],
                         columns=["area", "ncy", "need", "setting"])
    p = Projection(rng.poisson(4, (40, 4, len(cells))), YEARS[:4], cells)
    gap = gap_analysis(p, reg)
    for fig in (gap.plot.capacity(), gap.plot.capacity(level="base"), gap.plot.heatmap(),
                gap.plot.probability(), gap.plot.out_of_county(), gap.plot.capacity(select={"area": "N"})):
        assert P.chart_axes(fig) and fig._suptitle.get_text()
    few = gap.plot.capacity(max_panels=1)
    assert len(P.chart_axes(few)) == 1 and "1 of" in few._suptitle.get_text()


def test_unplaced_heatmap_counts_every_area_and_matches_allocation():
    """The by-area map shows each projected area (zero when nobody is unplaced) and its cells
    add up to the gap analysis' out-of-county total for the year."""
    from senforecast.datasets.demo import load_demo
    from senforecast.planning.gap import gap_analysis
    from senforecast.models import CohortModel

    data = load_demo()
    proj = CohortModel().fit(data).project(years=2, n_draws=40, seed=3)
    gap = gap_analysis(proj, data.provision, kinds={"OLA-MS": "mainstream"})
    fig = gap.plot.unplaced_heatmap()
    ax = P.chart_axes(fig)[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == sorted(proj.cells["area"].astype(str).unique())
    total = gap.unplaced(by=("area",)).groupby("year")["mean"].sum()
    ooc = gap.by_year().set_index("year")["ooc_mean"]
    np.testing.assert_allclose(total.reindex(ooc.index, fill_value=0), ooc, rtol=1e-6, atol=1e-6)
