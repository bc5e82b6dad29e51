"""Charts publish no count the tables hide.

With ``suppress_below`` set, the report's charts draw observed history from the published
tables (senforecast.reporting.figures): a hidden count is not drawn, and in shares charts the
hidden children of a year are one "not shown" segment equal to the published total less the
shown counts. Before this, the by-need fan chart drew a need with 3 children as a line through 3
while every table showed ``c``. The checks read the numbers back from the drawn artists.
"""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from demo_variants import small_authority

from senforecast.pipeline.config import demo_config
from senforecast.pipeline.run import run_pipeline
from senforecast.plotting.style import ACTUAL_COLOUR
from senforecast.reporting.figures import HIDDEN_LABEL, build_figures, published_history
from senforecast.reporting.outputs import Publication, publish_outputs

THRESHOLD = 5


@pytest.fixture(scope="module", params=["demo", "small authority"])
def run(request, tmp_path_factory):
    cfg = demo_config() if request.param == "demo" else small_authority(tmp_path_factory.mktemp("small"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(cfg.replace(draws=30, horizon=2, scenarios=(), backtest=False,
                                       suppress_below=THRESHOLD, model_options={"mode": "witan"}))
        pub = publish_outputs(res)
    yield res, pub
    plt.close("all")


def _true_history(res, by: str) -> pd.DataFrame:
    return res.projection.history.groupby(["year", by], as_index=False)["count"].sum()


def _history_points(fig) -> dict[str, dict[int, float]]:
    """Panel title -> {census year: drawn value} of the 'actual' line (black, dotted markers)."""
    out = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_marker() == "o" and line.get_color() == ACTUAL_COLOUR:
                x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
                out[ax.get_title(loc="left") or "total"] = {int(a): b for a, b in zip(x, y) if np.isfinite(b)}
    return out


def _history_bars(fig, years) -> dict[str, dict[int, float]]:
    """Legend label -> {census year: segment height} of a shares chart's observed bars."""
    out = {}
    for c in fig.axes[0].containers:
        label = c.get_label()
        if label.startswith("_"):
            continue
        out[label] = {int(round(p.get_x() + p.get_width() / 2)): p.get_height() for p in c.patches
                      if int(round(p.get_x() + p.get_width() / 2)) in years}
    return out


def test_some_counts_are_hidden_so_the_check_has_something_to_find(run):
    res, pub = run
    h = published_history(pub, "need")
    assert h["count"].isna().sum() >= 4


def test_fan_by_need_draws_exactly_the_published_counts(run):
    res, pub = run
    pubh = published_history(pub, "need")
    drawn = _history_points(res.figures["projection_by_need"])
    checked = hidden = 0
    for (year, need), count in pubh.set_index(["year", "need"])["count"].items():
        points = drawn.get(need, {})
        if pd.isna(count):
            assert year not in points, f"{need} {year}: a hidden count is drawn as {points.get(year)}"
            hidden += 1
        else:
            assert points[year] == count, (need, year)
            checked += 1
    assert hidden >= 4 and checked > 20
    assert "not drawn" in res.figures["projection_by_need"].texts[-1].get_text()


def test_without_protection_the_same_chart_draws_the_hidden_counts(run):
    """The check above can fail: the chart drawn from the raw history shows the hidden counts."""
    res, pub = run
    raw = build_figures(res)["projection_by_need"]
    pubh = published_history(pub, "need")
    true = _true_history(res, "need").set_index(["year", "need"])["count"]
    drawn = _history_points(raw)
    leaked = [(y, n) for (y, n), c in pubh.set_index(["year", "need"])["count"].items()
              if pd.isna(c) and drawn.get(n, {}).get(y) == true.get((y, n))]
    assert len(leaked) >= 4


@pytest.mark.parametrize("chart, by", [("shares_by_need", "need"), ("shares_by_setting_kind", "kind")])
def test_shares_show_hidden_children_only_as_the_not_shown_segment(run, chart, by):
    res, pub = run
    pubh = published_history(pub, by)
    totals = published_history(pub, None).set_index("year")["count"]
    years = set(int(y) for y in pubh["year"])
    bars = _history_bars(res.figures[chart], years)
    label = (lambda v: str(v).replace("_", " ")) if by == "kind" else str
    for year in years:
        total = totals[year]
        shares = {k: v[year] for k, v in bars.items() if year in v}
        assert np.isclose(sum(shares.values()), 100.0)
        rows = pubh[pubh["year"] == year]
        hidden = rows["count"].isna()
        other = 0.0
        for _, r in rows.iterrows():
            got = shares.get(label(r[by]))
            if got is None:  # merged into "Other" (small needs beyond the palette): shown counts only
                other += 0.0 if pd.isna(r["count"]) else r["count"]
                continue
            want = 0.0 if pd.isna(r["count"]) else r["count"] / total * 100
            assert np.isclose(got, want), (chart, year, r[by], got, want)
        assert np.isclose(shares.get("Other", 0.0) / 100 * total, other)
        if hidden.any():
            assert np.isclose(shares[HIDDEN_LABEL] / 100 * total, total - rows.loc[~hidden, "count"].sum())
        else:
            assert shares.get(HIDDEN_LABEL, 0.0) == 0.0


def test_total_history_is_the_published_total(run):
    res, pub = run
    drawn = _history_points(res.figures["projection_total"])["total"]
    published = published_history(pub, None).dropna().set_index("year")["count"]
    assert drawn == {int(y): float(c) for y, c in published.items()}


def test_where_nothing_is_hidden_protection_changes_no_bar(run):
    """Shares by kind of setting hide nothing in the demo: drawn from the published table or
    from the raw history, every bar (observed and projected) is the same, so the chart's kinds
    are the table's (the register's) in both."""
    res, pub = run
    if published_history(pub, "kind")["count"].isna().any():
        pytest.skip("this authority has hidden counts by kind")
    def bars(fig):
        return [(p.get_x(), p.get_y(), p.get_height()) for p in fig.axes[0].patches]

    raw, protected = build_figures(res)["shares_by_setting_kind"], res.figures["shares_by_setting_kind"]
    assert len(bars(raw)) > 40 and bars(raw) == bars(protected)


def test_without_a_published_table_a_protected_chart_draws_no_history(run):
    """A protected run whose tables hold no by-need series draws no by-need history at all,
    rather than falling back to the raw counts."""
    res, pub = run
    tables = {k: v for k, v in pub.tables.items() if k != "Inputs - by need"}
    figs = build_figures(res, Publication(tables, pub.audit, pub.notes))
    assert not any(_history_points(figs["projection_by_need"]).values())
    assert "not drawn" in figs["projection_by_need"].texts[-1].get_text()
    assert _history_points(figs["projection_total"])["total"]  # the total is still published
