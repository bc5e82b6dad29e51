"""Reader of the DfE EHC plans release: markers, both layouts, code changes, the shipped extract."""
import numpy as np
import pandas as pd
import pytest

from senforecast.core.errors import InputValidationError
from senforecast.england import (AGE_GROUPS, SETTINGS, find_code_changes, harmonise_areas, load_england_ehcp,
                                 read_ehcp)

GEO = dict(time_identifier="Calendar year", geographic_level="Local authority", country_code="E92000001",
           country_name="England", region_name="North East")


def age_rows(rows):
    """rows: (year, new_code, old_code, name, age label, st, ehc, all)."""
    return pd.DataFrame([dict(time_period=str(y), **GEO, region_code="E12000001", old_la_code=o, new_la_code=n,
                              la_name=nm, characteristic_age=a, Total_st=st, Total_st_pc="z", Total_ehc=e,
                              Total_ehc_pc="z", Total_all=al, Total_all_pc="z")
                         for y, n, o, nm, a, st, e, al in rows])


def test_markers_and_statements_plus_plans():
    raw = age_rows([
        (2015, "E1", "1", "A", "Total", "100", "50", "150"),
        (2015, "E1", "1", "A", "Age 5 to 10", "30", "x", "x"),      # x: not available -> missing
        (2015, "E1", "1", "A", "Age 11 to 15", "z", "40", "z"),     # Total_all marker: st (z = 0) + ehc
        (2015, "E1", "1", "A", "Under 5", "3", "4", "c"),           # suppressed total -> st + ehc
        (2015, "E1", "1", "A", "Age 16 to 19", "z", "z", "z"),      # nothing applicable -> missing
    ])
    nat = raw.iloc[[0]].assign(geographic_level="National", new_la_code="", la_name="")
    t = read_ehcp(frames={"age.csv": pd.concat([raw, nat], ignore_index=True)})
    got = dict(zip(t.age["age_group"], t.age["count"]))
    assert got["total"] == 150 and got["11-15"] == 40 and got["0-4"] == 7
    assert np.isnan(got["5-10"]) and np.isnan(got["16-19"])
    c = t.report.counts
    assert c["Total_all=x"] == 1 and c["Total_all=c"] == 1 and c["Total_all=z"] == 2 and c["Total_ehc=x"] == 1
    assert c["age.csv: national/regional rows left out"] == 1
    assert set(t.age["age_group"]) <= {"total", *AGE_GROUPS}


def test_bad_count_is_an_error_naming_the_row():
    raw = age_rows([(2015, "E1", "1", "A", "Total", "1", "2", "3"), (2015, "E1", "1", "A", "Under 5", "1", "2", "lots")])
    with pytest.raises(InputValidationError) as err:
        read_ehcp(frames={"age.csv": raw})
    assert "age.csv, row 3, column 'Total_all'" in str(err.value)


def test_not_a_release_file():
    with pytest.raises(InputValidationError, match="not an EHC plans release"):
        read_ehcp(frames={"x.csv": pd.DataFrame({"a": ["1"]})})


def test_estab_layout_counts_each_plan_once():
    types = [("Total", "Total", "100"), ("Mainstream school", "Total", "40"),
             ("Mainstream school", "Mainstream - LA maintained", "30"),
             ("Mainstream school", "Mainstream - LA maintained - Resourced provision", "6"),
             ("Mainstream school", "Mainstream - Academy - SEN unit", "4"),
             ("Special school", "Total", "45"), ("Special school", "Special - LA maintained", "30"),
             ("Special school", "Special - Academy/free", "5"), ("Special school", "Special - Independent", "8"),
             ("Special school", "Hospital School", "2"), ("Further education", "Total", "10"),
             ("Further education", "Sixth form college", "10"),
             ("Educated elsewhere", "Total", "5"), ("Educated elsewhere", "Awaiting provision - total", "3"),
             ("Educated elsewhere", "Awaiting provision - compulsory school age and in education", "3")]
    raw = pd.DataFrame([dict(time_period="2020", **GEO, region_code="R", old_la_code="1", new_la_code="E1",
                             la_name="A", establishment_group=g, establishment_type=t, Total_st="z",
                             Total_st_pc="z", Total_ehc=n, Total_ehc_pc="z", Total_all=n, Total_all_pc="z")
                        for g, t, n in types])
    t = read_ehcp(frames={"estab.csv": raw})
    got = dict(zip(t.setting["setting"], t.setting["count"]))
    assert got["resourced_provision_unit"] == 10 and got["mainstream"] == 30
    assert got["special_school"] == 35 and got["independent"] == 8 and got["further_education"] == 10
    assert got["other"] == 100 - 30 - 10 - 35 - 8 - 10 - 0  # hospital 2 + educated elsewhere 5
    assert sum(got[s] for s in SETTINGS if not np.isnan(got[s])) == got["total"]


def test_later_layout_detected_from_header():
    base = dict(time_period="202425", **GEO, region_code="R", old_la_code="390", new_la_code="E08000037",
                la_name="Gateshead")
    cols = dict(mainstream_la_maintained="20", mainstream_la_maintained_resourced_provision="5",
                mainstream_academy_senunit="3", mainstream_total="50", special_la_maintained="30",
                special_academy_free="10", special_non_maintained="1", special_independent="9", special_total="50",
                ap_pru_total="2", fe_total="15", neet="4")
    raw = pd.DataFrame([
        dict(base, breakdown_topic="Total", breakdown="Total", ehcplans="130", **cols),
        dict(base, breakdown_topic="Age", breakdown="Age 5 to 10", ehcplans="60", **{k: "x" for k in cols}),
        dict(base, breakdown_topic="Age", breakdown="Under age 5", ehcplans="c", **{k: "x" for k in cols}),
    ])
    t = read_ehcp(frames={"caseload.csv": raw})
    assert t.age["year"].unique().tolist() == [2025]
    ages = dict(zip(t.age["age_group"], t.age["count"]))
    assert ages["total"] == 130 and ages["5-10"] == 60 and np.isnan(ages["0-4"])
    got = dict(zip(t.setting["setting"], t.setting["count"]))
    assert got["resourced_provision_unit"] == 8 and got["mainstream"] == 42 and got["special_school"] == 41
    assert got["independent"] == 9 and got["alternative_provision"] == 2 and got["further_education"] == 15
    assert got["other"] == 130 - 42 - 8 - 41 - 9 - 2 - 15


def _areas(rows):
    return pd.DataFrame(rows, columns=["area", "la_name", "old_la_code", "region", "first_year", "last_year"])


def test_code_changes_reported_and_counts_kept():
    areas = _areas([
        ("G1", "Gateshead", "390", "NE", 2010, 2013), ("G2", "Gateshead", "390", "NE", 2014, 2022),
        ("N1", "Northumberland", "929", "NE", 2010, 2013), ("N2", "Northumberland", "929", "NE", 2014, 2022),
        ("D", "Dorset", "835", "SW", 2010, 2019), ("P", "Poole", "836", "SW", 2010, 2019),
        ("B", "Bournemouth", "837", "SW", 2010, 2019), ("D2", "Dorset", "838", "SW", 2020, 2022),
        ("BCP", "Bournemouth, Christchurch and Poole", "839", "SW", 2020, 2022),
        ("X", "Stable", "100", "SW", 2010, 2022), ("Z", "Gone", "101", "L", 2010, 2015)])
    ch = find_code_changes(areas)
    kinds = dict(zip(ch["old_codes"], ch["kind"]))
    assert kinds["G1"] == "recode" and kinds["N1"] == "recode"  # same region, same year: paired by old code
    assert kinds["B+D+P"] == "reorganisation"
    assert ch.loc[ch["old_codes"] == "B+D+P", "stable_area"].item() == "BCP+D2"
    assert kinds["Z"] == "unexplained"
    years = [2019, 2020]
    t = pd.DataFrame({"year": [2019, 2019, 2019, 2020, 2020, 2019, 2020], "area": ["D", "P", "B", "D2", "BCP", "X", "X"],
                      "setting": "total", "count": [10.0, 20, 30, 25, 40, 5, 6]})
    h = harmonise_areas(t, areas, ch)
    assert set(h["area"]) == {"BCP+D2", "X"}
    merged = h[h["area"] == "BCP+D2"].set_index("year")["count"]
    assert merged.loc[years].tolist() == [60.0, 65.0]
    assert h["count"].sum() == t["count"].sum()  # nothing dropped


def test_shipped_extract_matches_published_national_totals():
    t = load_england_ehcp()
    tot = t.age[t.age["age_group"] == "total"].groupby("year")["count"].sum()
    # England totals as published in the release's national rows (Total_all, age file)
    assert tot.loc[2010] == 228221 and tot.loc[2015] == 240183 and tot.loc[2022] == 473255
    assert t.age["area"].nunique() == 150
    full = t.age[t.age["age_group"] == "total"].groupby("area")["year"].nunique()
    assert (full == 13).all()  # every stable area has the whole 2010-2022 series
    s = t.setting.pivot_table(index=["year", "area"], columns="setting", values="count")
    parts = s[list(SETTINGS)].fillna(0).sum(axis=1)
    assert np.allclose(parts, s["total"])
    raw = load_england_ehcp(harmonise=False)
    assert len(raw.changes) == 5 and raw.age["area"].nunique() == 159
