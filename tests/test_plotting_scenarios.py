"""plotting.scenario_chart: scenarios side by side (medians, the first scenario's band)."""
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from senforecast import Projection, SenForecastError
from senforecast import plotting as P
from senforecast.planning.gap import gap_analysis
from senforecast.planning.scenario_compare import compare_scenarios


def _table(measure="ooc", lo="p05", hi="p95", scale=1.0):
    years = [2026, 2027, 2028]
    rows = []
    for k, (name, slope) in enumerate([("baseline", 2.0), ("new base", -3.0), ("growth", 4.0)]):
        for j, y in enumerate(years):
            med = (40 + slope * j + k) * scale
            rows.append({"scenario": name, "year": y, f"{measure}_median": med,
                         f"{measure}_{lo}": med - 8 * scale, f"{measure}_{hi}": med + 9 * scale})
    return pd.DataFrame(rows)


def _band(ax):
    """y values of the one shaded band (lowest and highest edge)."""
    [band] = ax.collections
    y = band.get_paths()[0].vertices[:, 1]
    return y.min(), y.max()


def test_one_median_line_per_scenario_and_a_band_for_the_first_only():
    t = _table()
    fig = P.scenario_chart(t)
    ax = P.chart_axes(fig)[0]
    lines = ax.get_lines()
    assert len(lines) == t["scenario"].nunique()
    for line, (_name, part) in zip(lines, t.groupby("scenario", sort=False)):
        np.testing.assert_allclose(line.get_ydata(), part["ooc_median"])
    base = t[t["scenario"] == "baseline"]
    assert _band(ax) == pytest.approx((base["ooc_p05"].min(), base["ooc_p95"].max()))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(x.get_text().startswith("Source") for x in fig.texts)


def test_labels_name_the_measure_drawn():
    fig = P.scenario_chart(_table("places_short"), measure="places_short")
    ylabel = P.chart_axes(fig)[0].get_ylabel()
    assert ylabel.startswith("Places short") and "out of county" not in fig.get_suptitle()
    fig = P.scenario_chart(_table("ooc"), title="Mine", ylabel="Children")
    assert (fig.get_suptitle(), P.chart_axes(fig)[0].get_ylabel()) == ("Mine", "Children")


def test_interval_columns_found_from_the_table_or_required_when_named():
    t = _table(lo="p10", hi="p90")
    legend = [x.get_text() for x in P.chart_axes(P.scenario_chart(t))[0].get_legend().get_texts()]
    assert legend[0] == "baseline: 80% interval"
    assert legend[1:] == ["baseline (median)", "new base (median)", "growth (median)"]
    with pytest.raises(SenForecastError, match="ooc_p05"):
        P.scenario_chart(t, lo="p05", hi="p95")
    with pytest.raises(SenForecastError, match="both lo and hi"):
        P.scenario_chart(t, lo="p10")
    no_band = P.scenario_chart(t.drop(columns=["ooc_p10", "ooc_p90"]))
    assert len(P.chart_axes(no_band)[0].collections) == 0


def test_costs_in_millions_with_distinct_tick_labels():
    # £1.0m-1.6m: a whole-number axis labelled every tick "1"
    t = _table("total_cost", scale=30_000)
    fig = P.scenario_chart(t, measure="total_cost")
    ax = P.chart_axes(fig)[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), t.loc[t["scenario"] == "baseline", "total_cost_median"] / 1e6)
    assert "£ million a year" in ax.get_ylabel()
    fig.canvas.draw()
    labels = [x.get_text() for x in ax.get_yticklabels() if x.get_text()]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)


def test_band_of_a_real_comparison_at_80_percent_confidence():
    rng = np.random.default_rng(4)
    cells = pd.DataFrame({"ncy": [3, 3], "need": ["ASD", "ASD"], "setting": ["RB1", "IND"]})
    proj = Projection(rng.poisson([12, 5], size=(200, 3, 2)), [2026, 2027, 2028], cells)
    reg = pd.DataFrame({"setting": ["RB1", "IND"], "kind": ["resource_base", "independent"],
                        "capacity": [10, None], "cost_per_place": [20000, 60000]})
    bigger = reg.assign(capacity=[14, None])
    table = compare_scenarios({"baseline": gap_analysis(proj, reg, confidence=0.8),
                               "bigger base": gap_analysis(proj, bigger, confidence=0.8)})
    assert {"ooc_p10", "ooc_p90"} <= set(table.columns)
    ax = P.chart_axes(P.scenario_chart(table))[0]
    base = table[table["scenario"] == "baseline"]
    assert _band(ax) == pytest.approx((base["ooc_p10"].min(), base["ooc_p90"].max()))


def test_the_report_draws_scenarios_with_the_plotting_chart():
    from senforecast.reporting import figures

    assert figures.scenario_chart is P.scenario_chart
