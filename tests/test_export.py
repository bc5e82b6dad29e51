"""Workbooks and CSVs: numbers stay numbers, small counts cannot be recovered, no formulas, no ids."""
import itertools

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast import SenForecastError
from senforecast.reporting.export import neutralise, round_counts, suppress, suppression_mask, to_csv, to_excel

INJECTIONS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", '=HYPERLINK("http://evil","x")']


def _tables():
    by_need = pd.DataFrame({"need": ["ASD", "SEMH", "SLD"] * 2, "year": [2026] * 3 + [2027] * 3,
                            "count": [120, 45, 3, 130, 50, 4]})
    gap = pd.DataFrame({"year": [2026, 2027], "demand_median": [50.5, 61.0], "capacity": [55, 55],
                        "prob_shortfall": [0.2, 0.85], "ooc_cost_median": [1.2e6, 1.5e6]})
    return {"Projection by need": by_need, "Gap": gap}


# ------------------------------------------------------------------ workbook format
def test_workbook_sheets_numbers_frozen_header_and_formats(tmp_path):
    path = to_excel(_tables(), tmp_path / "out.xlsx", notes={"Model": "cohort", "Seed": 42})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Notes", "Projection by need", "Gap"]
    ws = wb["Gap"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == list(_tables()["Gap"].columns)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type == "n" and isinstance(cell.value, (int, float))
    fmt = {ws.cell(1, j).value: ws.cell(2, j).number_format for j in range(1, ws.max_column + 1)}
    assert fmt["year"] == "0"  # no "2,026"
    assert fmt["prob_shortfall"] == "0.0%"
    assert "£" in fmt["ooc_cost_median"]
    assert fmt["capacity"] == "#,##0"
    assert ws.column_dimensions["A"].width > 4
    notes = [[c.value for c in r] for r in wb["Notes"].iter_rows()]
    assert ["Model", "cohort"] in notes and ["Seed", "42"] in notes


def test_workbook_values_match_the_tables(tmp_path):
    tables = _tables()
    wb = openpyxl.load_workbook(to_excel(tables, tmp_path / "o.xlsx"))
    for name, t in tables.items():
        got = pd.DataFrame(list(wb[name].values)[1:], columns=list(t.columns))
        pd.testing.assert_frame_equal(got, t, check_dtype=False)


def test_sheet_names_are_made_valid_and_unique(tmp_path):
    t = pd.DataFrame({"count": [10]})
    wb = openpyxl.load_workbook(to_excel({"a/b:c" * 10: t, "A/B:C" * 10: t, "Notes": t}, tmp_path / "x.xlsx"))
    names = wb.sheetnames
    assert len(set(n.lower() for n in names)) == 4
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


# -------------------------------------------------------------------- injection & ids
def test_formula_injection_is_neutralised_in_excel(tmp_path):
    t = pd.DataFrame({"need": INJECTIONS, "count": range(10, 10 + len(INJECTIONS))})
    t["=evil header"] = "x"
    wb = openpyxl.load_workbook(to_excel({"t": t}, tmp_path / "i.xlsx"))
    ws = wb["t"]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    # (XML turns a stored CR into LF; the apostrophe in front is what matters)
    got = [ws.cell(r, 1).value for r in range(2, 2 + len(INJECTIONS))]
    assert got == ["'" + s.replace("\r", "\n") for s in INJECTIONS]
    assert ws.cell(1, 3).value == "'=evil header"


def test_formula_injection_is_neutralised_in_csv(tmp_path):
    t = pd.DataFrame({"need": INJECTIONS, "count": range(10, 10 + len(INJECTIONS))})
    [p] = to_csv(t, tmp_path / "i.csv")
    back = pd.read_csv(p, encoding="utf-8-sig", keep_default_na=False)
    assert back["need"].tolist() == ["'" + s for s in INJECTIONS]


def test_neutralise_leaves_safe_values_alone():
    assert neutralise("ASD") == "ASD" and neutralise(-3) == -3 and neutralise(None) is None
    assert neutralise("<5") == "<5"


@pytest.mark.parametrize("col", ["pupil_id", "Pupil ID", "UPN"])
def test_pupil_ids_are_refused(tmp_path, col):
    t = pd.DataFrame({col: ["a1", "b2"], "count": [1, 2]})
    with pytest.raises(SenForecastError, match="pupil-level ids"):
        to_excel({"t": t}, tmp_path / "p.xlsx")
    with pytest.raises(SenForecastError, match="pupil-level ids"):
        to_csv(t, tmp_path / "p.csv")
    with pytest.raises(SenForecastError, match="pupil-level ids"):
        to_csv({"t": t.set_index(col)}, tmp_path / "dir")
    assert not (tmp_path / "p.xlsx").exists()


# ---------------------------------------------------------------------- suppression
def _margin_matrix(shape):
    """Constraint rows for every line (all but one index fixed) of an n-d grid of cells."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    rows = []
    for d in range(len(shape)):
        if shape[d] < 2:
            continue
        moved = np.moveaxis(idx, d, -1).reshape(-1, shape[d])
        for line in moved:
            r = np.zeros(idx.size)
            r[line] = 1
            rows.append(r)
    return np.array(rows).reshape(-1, idx.size)


def _recoverable(hidden, shape):
    """Hidden cells whose value is fixed by shown cells + all line totals (rank test)."""
    a = _margin_matrix(shape)[:, hidden]
    if a.size == 0:
        return []
    base = np.linalg.matrix_rank(a)
    out = []
    for k, cell in enumerate(np.flatnonzero(hidden)):
        e = np.zeros(hidden.sum())
        e[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == base:
            out.append(cell)
    return out


counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_need=st.integers(2, 5), n_year=st.integers(2, 5), data=st.data())
def test_no_suppressed_count_can_be_recomputed_from_totals_long(n_need, n_year, data):
    vals = data.draw(st.lists(counts, min_size=n_need * n_year, max_size=n_need * n_year))
    grid = np.array(vals, dtype=float).reshape(n_need, n_year)
    t = pd.DataFrame([(f"N{i}", 2026 + j, grid[i, j]) for i, j in itertools.product(range(n_need), range(n_year))],
                     columns=["need", "year", "count"])
    hidden = suppression_mask(t)["count"].to_numpy()
    small = (t["count"] > 0) & (t["count"] < 5)
    assert hidden[small.to_numpy()].all()  # every small count is hidden
    assert _recoverable(hidden, (n_need, n_year)) == []
    out = suppress(t)
    shown = ~hidden
    assert (out.loc[shown, "count"].astype(float) == t.loc[shown, "count"]).all()
    assert set(out.loc[hidden, "count"]) <= {"<5", "c"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_area=st.integers(2, 3), n_need=st.integers(2, 3), n_year=st.integers(2, 4), data=st.data())
def test_no_suppressed_count_can_be_recomputed_three_way(n_area, n_need, n_year, data):
    size = n_area * n_need * n_year
    grid = np.array(data.draw(st.lists(counts, min_size=size, max_size=size)), float).reshape(n_area, n_need, n_year)
    t = pd.DataFrame([(f"A{a}", f"N{i}", 2026 + j, grid[a, i, j])
                      for a, i, j in itertools.product(range(n_area), range(n_need), range(n_year))],
                     columns=["area", "need", "year", "count"])
    hidden = suppression_mask(t)["count"].to_numpy()
    assert _recoverable(hidden, (n_area, n_need, n_year)) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_row=st.integers(2, 5), n_col=st.integers(2, 5), data=st.data())
def test_no_suppressed_count_can_be_recomputed_wide(n_row, n_col, data):
    grid = np.array(data.draw(st.lists(counts, min_size=n_row * n_col, max_size=n_row * n_col)), float)
    grid = grid.reshape(n_row, n_col)
    cols = [str(2026 + j) for j in range(n_col)]
    t = pd.DataFrame(grid, columns=cols).assign(need=[f"N{i}" for i in range(n_row)])[["need", *cols]]
    mask = suppression_mask(t, count_columns=cols)
    hidden = mask[cols].to_numpy()
    assert hidden[(grid > 0) & (grid < 5)].all()
    assert _recoverable(hidden.reshape(-1), (n_row, n_col)) == []


def test_single_small_cell_in_a_row_gets_a_partner():
    t = pd.DataFrame({"need": ["ASD", "SLD", "VI"], "count": [40, 12, 3]})
    out = suppress(t)
    assert out["count"].tolist() == [40, "c", "<5"]


def test_rounding_to_five():
    t = pd.DataFrame({"count": np.arange(0, 40)})
    r = round_counts(t, 5)["count"].astype(float)
    assert (r % 5 == 0).all() and (np.abs(r - t["count"]) <= 2.5).all()


def test_suppression_decided_on_true_counts_then_rounded(tmp_path):
    t = pd.DataFrame({"need": ["A", "B", "C", "D"], "count": [4, 6, 23, 101]})
    out = suppress(t, round_to=5)
    assert out["count"].tolist() == ["<5", "c", 25, 100]
    wb = openpyxl.load_workbook(to_excel({"t": t}, tmp_path / "r.xlsx", suppress_below=5, round_to=5))
    cells = [c.value for c in wb["t"]["B"][1:]]
    assert cells == ["<5", "c", 25, 100]
    assert [c.data_type for c in wb["t"]["B"][1:]] == ["s", "s", "n", "n"]
    notes = " ".join(str(c.value) for row in wb["Notes"].iter_rows() for c in row)
    assert "<5" in notes and "nearest 5" in notes


def test_csv_folder_of_tables_with_notes(tmp_path):
    files = to_csv(_tables(), tmp_path / "csv", suppress_below=5, notes="Demo run")
    names = sorted(p.name for p in files)
    assert names == ["Gap.csv", "Projection_by_need.csv", "notes.txt"]
    t = pd.read_csv(tmp_path / "csv" / "Projection_by_need.csv", encoding="utf-8-sig")
    assert "<5" in set(t["count"].astype(str))
    assert "Demo run" in (tmp_path / "csv" / "notes.txt").read_text()


def test_missing_key_combinations_warn_instead_of_silently_leaking():
    # B-2027 is absent, so no rectangle of cells exists around A-2026's small count
    t = pd.DataFrame({"need": ["A", "A", "B"], "year": [2026, 2027, 2026], "count": [3, 40, 50]})
    with pytest.warns(Warning, match="lacks some combinations"):
        suppression_mask(t)
