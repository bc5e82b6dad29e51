"""Disclosure control of linked tables: the audit catches the probe's leaks, suppression always
passes an independent audit, and the optimiser hides no more cells than necessary."""
import functools
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.datasets import load_demo
from senforecast.reporting.disclosure import (
    Derived,
    DisclosureError,
    DisclosureProblem,
    DisclosureWarning,
    TableSpec,
    audit,
    check,
    protect,
    publish,
    suppress,
)

# ------------------------------------------------------------------ the probe's tables
# Starting point of the probe's priv case (report rows 86-88): resource bases in 2025.
SETTINGS = pd.DataFrame({
    "setting": ["RB-ABR-P", "RB-BRY-P", "RB-BRY-S", "RB-CAE-P", "RB-DOL-C", "RB-DOL-S", "SS-GLAN", "SS-TYN"],
    "kind": ["resource_base"] * 6 + ["special_school"] * 2,
    "on_roll": [20, 0, 51, 16, 3, 26, 180, 18],
    "cost_per_place": [21000, 21000, 19000, 21000, 24000, 19000, 29000, 33000],
})
SETTINGS["yearly_cost"] = SETTINGS["on_roll"] * SETTINGS["cost_per_place"]
KINDS = pd.DataFrame({"kind": ["resource_base", "special_school"], "children": [116, 198]})
RB_DOL_C = 4  # row of the hidden count


def _probe_problem(**kw):
    base = SETTINGS[["setting", "kind", "on_roll"]].rename(columns={"on_roll": "count"})
    specs = {"Starting point": TableSpec("on_roll", dims=["setting"], base="census",
                                         derived={"yearly_cost": ("on_roll", "cost_per_place")}),
             "By setting kind": TableSpec("children", dims=["kind"], base="census")}
    return DisclosureProblem.from_tables({"Starting point": SETTINGS, "By setting kind": KINDS}, specs,
                                         bases={"census": base}, **kw)


def _row(result, table, row):
    f = result.frame
    hit = f[(f["table"] == table) & (f["row"] == row)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_audit_catches_a_cost_column_beside_a_hidden_count():
    p = _probe_problem()
    on_roll = SETTINGS["on_roll"].astype(object)
    on_roll[RB_DOL_C] = "<5"
    leaky = {"Starting point": SETTINGS.assign(on_roll=on_roll),
             "By setting kind": KINDS.assign(children=["c", "c"])}  # totals hidden: only the cost can leak
    r = _row(audit(p, leaky), "Starting point", RB_DOL_C)
    assert (r["lower"], r["upper"], r["ok"]) == (3.0, 3.0, False)  # 72000 / 24000
    with pytest.raises(DisclosureError, match="RB-DOL-C"):
        check(p, leaky)


def test_audit_catches_a_total_minus_the_visible_rows_of_another_table():
    # the probe: resource_base 116 minus the visible rows (113) = RB-DOL-C "<5" + RB-BRY-P "c" (0)
    p = _probe_problem()
    shown = SETTINGS.drop(columns="yearly_cost").assign(yearly_cost="c")
    shown["on_roll"] = shown["on_roll"].astype(object)
    shown.loc[RB_DOL_C, "on_roll"], shown.loc[1, "on_roll"] = "<5", "c"
    result = audit(p, {"Starting point": shown, "By setting kind": KINDS})
    r = _row(result, "Starting point", RB_DOL_C)
    assert r["upper"] == pytest.approx(3.0) and not r["ok"]  # 116 - 113: it cannot be 4
    assert r["lower"] == pytest.approx(1.0)  # "<5" says at least 1
    # the same link declared by hand instead of through a base
    q = DisclosureProblem.from_tables(
        {"Starting point": SETTINGS, "By setting kind": KINDS},
        {"Starting point": TableSpec("on_roll", dims=["setting"], derived={"yearly_cost": ("on_roll", "cost_per_place")}),
         "By setting kind": TableSpec("children", dims=["kind"])})
    q = q.with_relation(("By setting kind", 0, "children"), [("Starting point", i, "on_roll") for i in range(6)])
    r2 = _row(audit(q, {"Starting point": shown, "By setting kind": KINDS}), "Starting point", RB_DOL_C)
    assert (r2["lower"], r2["upper"]) == pytest.approx((r["lower"], r["upper"]))


def test_audit_catches_a_single_hidden_cell_in_a_row_with_a_total():
    t = pd.DataFrame({"need": ["ASD", "MSI", "SLD", "Total"], "count": [40, 2, 12, 54]})
    p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})})
    r = _row(audit(p, {"t": t.assign(count=[40, "<5", 12, 54])}), "t", 1)
    assert (r["lower"], r["upper"], r["ok"]) == (2.0, 2.0, False)
    # a small count left visible is a failure too
    shown = audit(p, {"t": t})
    assert shown.frame["status"].tolist() == ["shown"] and not shown.passed


def test_suppression_fixes_the_probe_case_and_hides_the_cost_with_the_count():
    p = _probe_problem()
    s = suppress(p)
    out = publish(p, s)
    sp_out = out["Starting point"]
    assert sp_out.loc[RB_DOL_C, ["on_roll", "yearly_cost"]].tolist() == ["c", "c"]
    hidden_rows = [i for i in range(len(SETTINGS)) if sp_out.loc[i, "on_roll"] == "c"]
    assert all(sp_out.loc[i, "yearly_cost"] == "c" for i in hidden_rows)
    # hiding the planned base's 0 is useless (it cannot absorb a downward move), so a
    # non-zero one is hidden with the 3; the kind totals can stay
    assert s.n_secondary == 1 and SETTINGS.loc[[i for i in hidden_rows if i != RB_DOL_C], "on_roll"].gt(0).all()
    result = check(p, out)
    r = _row(result, "Starting point", RB_DOL_C)
    assert r["lower"] <= 1 and r["upper"] >= 4


# ------------------------------------------------------------- demo-like linked tables
@functools.cache
def _demo_plans():
    d = load_demo()
    kinds = dict(zip(d.provision["setting"].astype(str), d.provision["kind"].astype(str)))
    plans = d.plans[["pupil_id", "year", "need", "area", "setting"]].copy()
    plans["setting"] = plans["setting"].astype(str)
    plans["kind"] = plans["setting"].map(kinds).fillna("mainstream")
    return plans, d.provision[["setting", "kind", "cost_per_place"]].copy()


def _linked_tables(frac=None, seed=0):
    """Five tables of one census series, as the workbook has them: year x area x need with
    margins and a share column, need x year, setting kind x year, places on roll with a cost
    column, and children per year. All are groupings of one base of plans."""
    plans, provision = _demo_plans()
    if frac:
        ids = plans["pupil_id"].drop_duplicates().sample(frac=frac, random_state=seed)
        plans = plans[plans["pupil_id"].isin(ids)]
    years = sorted(plans["year"].unique())
    base = plans.groupby(["year", "need", "area", "setting", "kind"]).size().rename("count").reset_index()
    grid = pd.MultiIndex.from_product([years, sorted(plans["area"].unique()), sorted(plans["need"].unique())],
                                      names=["year", "area", "need"])
    g = plans.groupby(["year", "area", "need"]).size().reindex(grid, fill_value=0).rename("count").reset_index()
    t1 = pd.concat([g, g.groupby(["year", "area"], as_index=False)["count"].sum().assign(need="Total"),
                    g.groupby(["year", "need"], as_index=False)["count"].sum().assign(area="Total"),
                    g.groupby("year", as_index=False)["count"].sum().assign(area="Total", need="Total")],
                   ignore_index=True)
    per_year = g.groupby("year")["count"].sum()
    t1["per_100"] = 100 / t1["year"].map(per_year)
    t1["share %"] = t1["count"] * t1["per_100"]

    def wide(by):
        w = plans.groupby([by, "year"]).size().unstack(fill_value=0)
        w.columns = [str(c) for c in w.columns]
        return w.reset_index()

    roll = plans[plans["year"] == years[-1]].groupby("setting").size()
    t4 = provision[provision["kind"] != "mainstream"].copy()
    t4["on_roll"] = t4["setting"].map(roll).fillna(0).astype(int)
    t4["yearly_cost"] = t4["on_roll"] * t4["cost_per_place"]
    t5 = plans.groupby("year").size().rename("children").reset_index()
    ycols = [str(y) for y in years]
    tables = {"by year area need": t1, "by need": wide("need"), "by setting kind": wide("kind"),
              "places on roll": t4, "children per year": t5}
    specs = {
        "by year area need": TableSpec("count", dims=["year", "area", "need"], base="plans",
                                       margins={"area": "Total", "need": "Total"},
                                       derived={"share %": Derived("count", "per_100")}),
        "by need": TableSpec(ycols, dims=["need"], column_dim="year", base="plans"),
        "by setting kind": TableSpec(ycols, dims=["kind"], column_dim="year", base="plans"),
        "places on roll": TableSpec("on_roll", dims=["setting"], fixed={"year": years[-1]}, base="plans",
                                    derived={"yearly_cost": ("on_roll", "cost_per_place")}),
        "children per year": TableSpec("children", dims=["year"], base="plans"),
    }
    return tables, specs, {"plans": base}


def _small_counts(tables, specs):
    n = 0
    for name, t in tables.items():
        for c in specs[name].counts:
            v = pd.to_numeric(t[c])
            n += int(((v > 0) & (v < 5)).sum())
    return n


def _assert_published_safely(tables, specs, out):
    for name, t in tables.items():
        t = t.reset_index(drop=True)  # published tables are indexed by position
        spec = specs[name]
        for c in spec.counts:
            shown = pd.to_numeric(out[name][c], errors="coerce")
            assert not ((shown > 0) & (shown < 5)).any(), (name, c)  # no small count visible
            assert (out[name][c].isin(["c"]) | shown.eq(pd.to_numeric(t[c]))).all()  # the rest unchanged
        for col, d in spec.derived.items():  # a derived value is hidden exactly when its count is
            assert ((out[name][col] == "c") == (out[name][d.count] == "c")).all(), (name, col)


@pytest.mark.parametrize("frac", [None, 0.08], ids=["demo", "small authority"])
def test_linked_demo_tables_suppressed_then_audited(frac):
    tables, specs, bases = _linked_tables(frac)
    result = protect(tables, specs, bases=bases)  # raises if the audit fails
    sup, aud = result.suppression, result.audit
    assert sup.n_primary == _small_counts(tables, specs) > 0
    _assert_published_safely(tables, specs, result.tables)
    f = aud.frame
    assert aud.passed and (f["status"] != "shown").all()
    assert set(f.loc[f["status"] == "primary", "value"]) <= {1.0, 2.0, 3.0, 4.0}
    assert len(f) == sup.n_primary + sup.n_secondary  # every hidden count was attacked
    assert (f["lower"] <= f["value"] + 1e-6).all() and (f["upper"] >= f["value"] - 1e-6).all()
    # the audit has teeth here: hiding only the small counts is not enough
    naive = publish(result.problem, result.problem.cells["primary"].to_numpy()
                    | (result.problem.cells["role"] == "latent").to_numpy())
    assert not audit(result.problem, naive).passed
    if frac:  # many small cells: most hidden cells are small ones, few secondaries needed
        assert sup.n_primary > 100 and sup.n_secondary < sup.n_primary / 4


# --------------------------------------------------------------- property: never recovered
@st.composite
def _tables_with_margins(draw):
    shape = draw(st.sampled_from([(2, 2), (2, 3), (3, 3), (3, 4), (2, 2, 2), (2, 3, 2)]))
    small = st.integers(0, 6)
    big = st.integers(0, 40)
    n = int(np.prod(shape))
    values = np.array(draw(st.lists(st.one_of(small, big), min_size=n, max_size=n))).reshape(shape)
    dims = ["a", "b", "c"][:len(shape)]
    levels = [[f"{d}{i}" for i in range(k)] + ["Total"] for d, k in zip(dims, shape)]
    full = np.zeros([k + 1 for k in shape])
    full[tuple(slice(0, k) for k in shape)] = values
    for ax in range(len(shape)):  # every margin, of every order
        idx = [slice(None)] * len(shape)
        idx[ax] = -1
        sl = [slice(None)] * len(shape)
        sl[ax] = slice(0, shape[ax])
        full[tuple(idx)] = full[tuple(sl)].sum(axis=ax)
    rows = [dict(zip(dims, labs), count=full[pos])
            for labs, pos in zip(itertools.product(*levels), itertools.product(*[range(k + 1) for k in shape]))]
    t = pd.DataFrame(rows)
    t["count"] = t["count"].astype(int)
    t["unit_cost"] = draw(st.lists(st.sampled_from([7500, 19000, 24000, 68000]), min_size=len(t), max_size=len(t)))
    t["cost"] = t["count"] * t["unit_cost"]
    spec = TableSpec("count", dims=dims, margins={d: "Total" for d in dims},
                     derived={"cost": ("count", "unit_cost")})
    return t, spec


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables_with_margins(), st.sampled_from(["band", "band", "strict"]))
def test_suppressed_random_tables_never_let_a_hidden_cell_be_recovered(case, protection):
    t, spec = case
    p = DisclosureProblem.from_tables({"t": t}, {"t": spec}, protection=protection)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisclosureWarning)  # every small cell here can be protected
        s = suppress(p)
    out = publish(p, s)
    result = audit(p, out)
    assert result.passed, result.failures
    f = result.frame
    prim = f[f["status"] == "primary"]
    assert len(prim) == int(((t["count"] > 0) & (t["count"] < 5)).sum())
    lo, hi = (1, 4) if protection == "band" else (0, 5)
    assert (prim["lower"] <= lo + 1e-6).all() and (prim["upper"] >= hi - 1e-6).all()
    hidden_cost = out["t"]["cost"] == "c"
    assert (hidden_cost == (out["t"]["count"] == "c")).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=6, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_audit_ranges_match_enumeration_of_every_consistent_table(values, hide):
    """2 x 3 table with all margins shown: the audit's LP range of each hidden cell equals the
    min and max over every table of non-negative integers consistent with what is shown."""
    v = np.array(values).reshape(2, 3)
    t = pd.DataFrame([{"r": f"r{i}", "k": f"k{j}", "n": int(v[i, j])} for i in range(2) for j in range(3)])
    p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("n", dims=["r", "k"], external_margins=True)},
                                      threshold=3)
    hidden = np.zeros(p.n_cells, dtype=bool)
    hidden[:6] = hide
    result = audit(p, publish(p, hidden))
    rows, cols = v.sum(axis=1), v.sum(axis=0)
    h = np.array(hide).reshape(2, 3)
    consistent = []  # the first row fixes the second through the column totals
    for first in itertools.product(*[range(cols[j] + 1) if h[0, j] else [v[0, j]] for j in range(3)]):
        x = np.vstack([first, cols - np.array(first)])
        if (x >= 0).all() and (x[~h] == v[~h]).all() and (x.sum(axis=1) == rows).all():
            consistent.append(x[h])
    consistent = np.array(consistent)
    f = result.frame.sort_values("row")
    assert len(f) == h.sum() + int(((v > 0) & (v < 3) & ~h).sum())
    got = f[f["status"] != "shown"]
    assert np.allclose(got["lower"], consistent.min(axis=0)) and np.allclose(got["upper"], consistent.max(axis=0))


# ---------------------------------------------------------------- optimal, not just safe
def _no_smaller_pattern_passes(p, k):
    """True when no set of fewer than ``k`` extra hideable counts passes the audit (brute force)."""
    c = p.cells
    prim = c["primary"].to_numpy()
    free = np.flatnonzero((c["role"] == "count").to_numpy() & ~prim)
    base = prim | (c["role"] == "latent").to_numpy()
    for size in range(k):
        for extra in itertools.combinations(free, size):
            h = base.copy()
            h[list(extra)] = True
            if audit(p, publish(p, h)).passed:
                return False
    return True


def test_textbook_3x3_one_small_cell_needs_exactly_a_rectangle():
    t = pd.DataFrame({"row": list("aaabbbccc"), "col": list("xyzxyzxyz"), "n": [2, 30, 41, 25, 17, 60, 33, 44, 15]})
    p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("n", dims=["row", "col"], external_margins=True)})
    s = suppress(p)
    hid = s.cells().query("status != 'shown'")
    assert s.n_secondary == 3 and _no_smaller_pattern_passes(p, 3)
    # a rectangle: two rows and two columns, each used twice
    rows, cols = zip(*[lab.replace("row=", "").replace("col=", "").split(", ") for lab in hid["label"]])
    assert sorted(pd.Series(rows).value_counts()) == [2, 2] and sorted(pd.Series(cols).value_counts()) == [2, 2]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_optimiser_hides_no_more_cells_than_brute_force(seed):
    rng = np.random.default_rng(seed)
    v = rng.integers(5, 40, size=(3, 3))
    for _ in range(2):  # two small cells (perhaps the same one twice)
        v[rng.integers(3), rng.integers(3)] = rng.integers(1, 5)
    t = pd.DataFrame([{"r": f"r{i}", "k": f"k{j}", "n": int(v[i, j])} for i in range(3) for j in range(3)])
    # column totals printed in the table (hideable); row and grand totals published elsewhere
    tot = pd.DataFrame([{"r": "Total", "k": f"k{j}", "n": int(v[:, j].sum())} for j in range(3)])
    p = DisclosureProblem.from_tables({"t": pd.concat([t, tot], ignore_index=True)},
                                      {"t": TableSpec("n", dims=["r", "k"], margins={"r": "Total"},
                                                      external_margins=True)})
    s = suppress(p)
    assert audit(p, publish(p, s)).passed
    assert _no_smaller_pattern_passes(p, s.n_secondary)


def test_greedy_method_is_safe_but_not_cheaper_than_optimal():
    tables, specs, bases = _linked_tables(0.3, seed=1)
    p = DisclosureProblem.from_tables(tables, specs, bases=bases)
    greedy, optimal = suppress(p, method="greedy"), suppress(p)
    assert audit(p, publish(p, greedy)).passed and audit(p, publish(p, optimal)).passed
    assert greedy.n_secondary >= optimal.n_secondary > 0


def test_weights_by_value_hide_the_least_total_count():
    # every rectangle through the 2 holds a 90; the 6-cycle a-y, b-y, b-z, c-z, c-x holds only 6s
    t = pd.DataFrame({"row": list("aaabbbccc"), "col": list("xyzxyzxyz"), "n": [2, 6, 90, 90, 6, 6, 6, 90, 6]})
    p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("n", dims=["row", "col"], external_margins=True)})
    by_cells = suppress(p).cells().query("status == 'secondary'")
    by_value = suppress(p, weights="values").cells().query("status == 'secondary'")
    assert len(by_cells) == 3 and by_cells["value"].sum() == 102
    assert len(by_value) == 5 and by_value["value"].sum() == 30
    assert audit(p, publish(p, suppress(p, weights="values"))).passed


# ------------------------------------------------------------------ markers and options
def test_markers_nan_and_a_separate_small_marker():
    t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
    spec = {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})}
    p = DisclosureProblem.from_tables({"t": t}, spec)
    s = suppress(p)
    as_nan = publish(p, s, marker=None)["t"]["count"]
    assert as_nan.isna().tolist() == [False, True, True, False] and as_nan.dtype == float
    assert audit(p, publish(p, s, marker=None)).passed
    two = protect({"t": t}, spec, primary_marker="<5")
    assert two.tables["t"]["count"].tolist() == [40, "<5", "c", 55] and two.audit.passed
    r = _row(two.audit, "t", 1)
    assert r["lower"] == 1 and r["upper"] >= 4


def test_a_small_marker_is_knowledge_the_audit_uses():
    # 1 + 2 + 40 = 43: with one marker the reader cannot tell the 1 from the 2; with "<5"
    # markers on both small cells and "c" on the 40 the reader still cannot (40 absorbs it)
    t = pd.DataFrame({"need": ["A", "B", "C", "Total"], "count": [1, 2, 40, 43]})
    spec = {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})}
    p = DisclosureProblem.from_tables({"t": t}, spec)
    only_small = {"t": t.assign(count=["<5", "<5", 40, 43])}  # 1 + 2 = 3 and each >= 1: a, b in [1, 2]
    r = _row(audit(p, only_small), "t", 0)
    assert (r["lower"], r["upper"], r["ok"]) == (1.0, 2.0, False)
    assert protect({"t": t}, spec, primary_marker="<5").audit.passed


def test_zeros_are_not_sensitive_unless_asked():
    t = pd.DataFrame({"need": ["A", "B", "C", "Total"], "count": [0, 7, 30, 37]})
    spec = {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})}
    assert protect({"t": t}, spec).tables["t"]["count"].tolist() == [0, 7, 30, 37]
    out = protect({"t": t}, spec, zeros_sensitive=True)
    assert out.tables["t"]["count"].tolist()[0] == "c" and out.audit.passed
    r = _row(out.audit, "t", 0)
    assert r["required_lower"] == 0 and r["upper"] >= 4


def test_rounded_percentage_still_bounds_the_count():
    # 3 of 40 is 7.5 %; shown to one decimal the reader knows 3 * ... within 0.05 %: 2.98 to 3.02
    t = pd.DataFrame({"need": ["A", "B", "Total"], "count": [3, 37, 40]})
    t["pct"] = (100 * t["count"] / 40).round(1)
    spec = TableSpec("count", dims=["need"], margins={"need": "Total"},
                     derived={"pct": Derived("count", 100 / 40, rounding=0.05)})
    p = DisclosureProblem.from_tables({"t": t}, {"t": spec})
    leaky = {"t": t.assign(count=["c", "c", 40])}
    r = _row(audit(p, leaky), "t", 0)
    assert r["lower"] == pytest.approx(2.98) and r["upper"] == pytest.approx(3.02) and not r["ok"]
    assert audit(p, publish(p, suppress(p))).passed


def test_a_count_published_elsewhere_cannot_be_protected_and_says_so():
    # 3 + 0 with the total published elsewhere: even with both hidden, the 3 is at most 3
    t = pd.DataFrame({"need": ["VI", "HI"], "count": [3, 0]})
    spec = {"t": TableSpec("count", dims=["need"], external_margins=True)}
    with pytest.warns(DisclosureWarning, match="cannot be protected"):
        out = protect({"t": t}, spec, strict=False)
    assert not out.audit.passed and out.tables["t"]["count"].tolist()[0] == "c"
    with pytest.raises(DisclosureError, match="FAILED"), pytest.warns(DisclosureWarning):
        protect({"t": t}, spec)


def test_integer_audit_agrees_on_a_two_way_table():
    tables, specs, _ = _linked_tables()
    spec = TableSpec(specs["by need"].counts, dims=["need"], column_dim="year", external_margins=True)
    p = DisclosureProblem.from_tables({"t": tables["by need"]}, {"t": spec})
    out = publish(p, suppress(p))
    lp, ip = audit(p, out), audit(p, out, integer=True)
    assert lp.passed and ip.passed and len(lp.frame) > 5
    assert np.allclose(lp.frame[["lower", "upper"]], ip.frame[["lower", "upper"]])  # totally unimodular


# ------------------------------------------------------------------- clear errors
@pytest.mark.parametrize("threshold", [float("nan"), "five", -1, 0])
def test_bad_threshold_is_a_clear_error(threshold):
    t = pd.DataFrame({"need": ["A"], "count": [3]})
    with pytest.raises(DisclosureError, match="threshold must be a number of at least 1"):
        DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"])}, threshold=threshold)


def test_declaration_errors_name_table_row_and_column():
    t = pd.DataFrame({"need": ["A", "B", "Total"], "count": [3, 7, 11]})
    with pytest.raises(DisclosureError, match=r"relation.*need=Total.*11"):
        DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})})
    with pytest.raises(DisclosureError, match=r"table 't', row 1 \(0-based\), column 'count' holds 'c'"):
        DisclosureProblem.from_tables({"t": t.assign(count=[3, "c", 11])}, {"t": TableSpec("count", dims=["need"])})
    with pytest.raises(DisclosureError, match=r"no column\(s\) \['n'\]"):
        DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("n", dims=["need"])})
    with pytest.raises(DisclosureError, match="same \\['kind'\\]"):
        DisclosureProblem.from_tables({"t": t.assign(kind="x")}, {"t": TableSpec("count", dims=["kind"])})
    base = pd.DataFrame({"need": ["A", "B"], "count": [3, 8]})
    with pytest.raises(DisclosureError, match=r"row 1 \(0-based\).*need=B.*is 7 but the base 'b' rows it groups sum to 8"):
        DisclosureProblem.from_tables({"t": t.iloc[:2]}, {"t": TableSpec("count", dims=["need"], base="b")},
                                      bases={"b": base})
    cost = t.iloc[:2].assign(unit=[10, 10], cost=[30, 71])
    with pytest.raises(DisclosureError, match=r"row 1 \(0-based\), column 'cost' is 71"):
        DisclosureProblem.from_tables({"t": cost}, {"t": TableSpec("count", dims=["need"],
                                                                   derived={"cost": ("count", "unit")})})
