"""Readers of published aggregates (DfE SEN2-style CSV, StatsWales-style tables)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from senforecast.core.errors import InputValidationError, InputWarning, ValidationReport
from senforecast.io import read_sen_england, read_statswales
from senforecast.io.public import is_total_label

DATA = Path(__file__).parent / "data"


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return fn(*args, **kw)


def raw_dfe(name):
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


def test_dfe_groups_add_up_to_the_published_total():
    """Establishment groups read at national level sum to the file's own 'Total' row."""
    raw = raw_dfe("dfe_ehcp_estab_national_excerpt.csv")
    out = quiet(read_sen_england, DATA / "dfe_ehcp_estab_national_excerpt.csv",
                breakdowns=["establishment_group"])
    assert set(out.columns) == {"year", "area", "setting", "count"}
    assert not out["setting"].map(is_total_label).any()
    for year, grp in out.groupby("year"):
        published = raw[(raw.time_period == str(year)) & (raw.establishment_type == "Total")
                        & (raw.establishment_group == "Total")]["Total_all"].astype(float).item()
        assert grp["count"].sum() == published


def test_dfe_default_level_is_local_authority_and_ages_add_up():
    raw = raw_dfe("dfe_ehcp_age_excerpt.csv")
    rep = ValidationReport()
    with pytest.warns(InputWarning):
        out = read_sen_england(DATA / "dfe_ehcp_age_excerpt.csv", report=rep)
    assert set(out["area"]) == {"Cumbria", "Rutland", "Isles of Scilly"}
    assert list(out.columns) == ["year", "area", "age_group", "count"]
    la = raw[(raw.geographic_level == "Local authority") & (raw.characteristic_age == "Total")]
    for _, r in la.iterrows():
        got = out[(out.year == int(r.time_period)) & (out.area == r.la_name)]["count"].sum()
        assert got == float(r.Total_all)
    # every row read is accounted for
    c = rep.counts
    assert c["public.rows_read"] == len(raw)
    assert c["public.rows_read"] == c["public.rows_kept"] + c["rows_other_geographic_level"] + c["total_rows_dropped"]


def test_dfe_markers_are_counted_as_suppressed():
    raw = raw_dfe("dfe_ehcp_age_excerpt.csv")
    rep = ValidationReport()
    out = quiet(read_sen_england, DATA / "dfe_ehcp_age_excerpt.csv", level="National", value="Total_st",
                report=rep)
    national = raw[(raw.geographic_level == "National") & (raw.characteristic_age != "Total")]
    n_markers = national["Total_st"].isin(["z", "x", "c"]).sum()
    assert n_markers > 0
    assert rep.counts["suppressed"] == n_markers == out["count"].isna().sum()
    assert set(out["area"]) == {"England"}


def test_dfe_errors_are_library_errors():
    df = pd.DataFrame({"time_period": ["2022", "20X2"], "geographic_level": ["National"] * 2,
                       "country_name": ["England"] * 2, "primary_need": ["ASD", "MLD"],
                       "number_of_pupils": ["5", "oops"]})
    with pytest.raises(InputValidationError) as info:
        quiet(read_sen_england, df)
    assert {(p.row, p.column) for p in info.value.problems} == {(3, "time_period"), (3, "number_of_pupils")}
    with pytest.raises(InputValidationError, match="not a breakdown"):
        quiet(read_sen_england, df.iloc[:1], breakdowns=["sex"])
    with pytest.raises(InputValidationError, match="time_period"):
        quiet(read_sen_england, pd.DataFrame({"a": [1]}))


def test_statswales_wide_with_titles_nested_labels_and_markers():
    rep = ValidationReport()
    with pytest.warns(InputWarning):
        out = read_statswales(DATA / "statswales_wide.csv", report=rep)
    assert list(out.columns) == ["year", "area", "need", "count"]
    assert sorted(out["year"].unique()) == [2019, 2020, 2021]  # 2018/19 is the January 2019 census
    assert set(out["area"]) == {"Isle of Anglesey", "Powys"}  # the 'Wales' total row is dropped
    powys_asd = out[(out.area == "Powys") & (out.need == "ASD")].sort_values("year")["count"].tolist()
    assert powys_asd == [1020.0, 88.0, 93.0]
    c = rep.counts
    assert c["suppressed"] == 3 == out["count"].isna().sum()
    assert c["labels_filled"] == 4
    assert c["public.values_read"] == c["public.rows_kept"] + c["total_rows_dropped"] == 7 * 3


def test_statswales_years_as_rows():
    rep = ValidationReport()
    out = quiet(read_statswales, DATA / "statswales_rows.csv", columns_are="need", report=rep)
    assert list(out.columns) == ["year", "area", "need", "count"]
    assert set(out["need"]) == {"ASD", "SLD", "BESD"}
    assert (out["area"] == "ALL").all()
    assert rep.counts["suppressed"] == 2


def test_statswales_keep_totals_and_bad_cells():
    out = quiet(read_statswales, DATA / "statswales_wide.csv", keep_totals=True)
    assert "Wales" in set(out["area"])
    bad = pd.DataFrame({"Area": ["Powys", "Conwy"], "2020": ["12", "twelve"], "2021": ["-3", "4"]})
    with pytest.raises(InputValidationError) as info:
        quiet(read_statswales, bad)
    assert {(p.row, p.column) for p in info.value.problems} == {(3, "2020"), (2, "2021")}
    with pytest.raises(InputValidationError, match="could not find the years"):
        quiet(read_statswales, pd.DataFrame({"Area": ["a"], "Need": ["b"], "Value": [1]}))


def test_statswales_from_excel_with_merged_title(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Pupils with statements by age", None, None])
    ws.merge_cells("A1:C1")
    ws.append([])
    ws.append(["Age", "2021/22", "2022/23"])
    ws.append(["Age 5 to 10", 40, "*"])
    ws.append(["Age 11 to 15", 35, 38])
    f = tmp_path / "sw.xlsx"
    wb.save(f)
    rep = ValidationReport()
    out = quiet(read_statswales, f, report=rep)
    assert list(out.columns) == ["year", "area", "age_group", "count"]
    assert out["count"].isna().sum() == rep.counts["suppressed"] == 1
    assert np.nansum(out["count"]) == 113
