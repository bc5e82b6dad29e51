"""The 2025 release layout (person-level collection, 2023 onwards): fixtures in the exact layout
with invented numbers (tests/data/dfe_ehcp_2025), checked against sums taken straight from the
raw CSVs with the column lists of the layout anchor; suppression, code changes, zip, errors."""
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senforecast.core.errors import InputValidationError, InputWarning
from senforecast.england import AGE_GROUPS, SETTINGS, build_extract, load_england_ehcp, read_ehcp
from senforecast.io.england import NEEDS, SINGLE_AGES

HERE = Path(__file__).parent / "data"
RELEASE = HERE / "dfe_ehcp_2025"
DATA = RELEASE / "data"

# the layout anchor's caseload columns, by the setting type each belongs to
RP_COLS = ["mainstream_la_maintained_resourced_provision", "mainstream_la_maintained_senunit",
           "mainstream_academy_resourced_provision", "mainstream_academy_senunit",
           "mainstream_free_school_resourced_provision", "mainstream_free_school_senunit"]
SPECIAL_COLS = ["special_la_maintained", "special_academy_free", "special_non_maintained"]
# the 'Type of placement' labels of sen_needs_all_plans.csv, by setting type
PLACEMENT_LABELS = {
    "resourced_provision_unit": ["Mainstream - LA maintained (SEN unit)", "Mainstream - LA maintained (resourced provision)",
                                 "Mainstream - academy (SEN unit)", "Mainstream - academy (resourced provision)",
                                 "Mainstream - free school (SEN unit)", "Mainstream - free school (resourced provision)"],
    "special_school": ["Special - LA maintained", "Special - academy/free school", "Special - non-maintained"],
    "independent": ["Special - independent"],
    "alternative_provision": ["AP/PRU - total"],
    "further_education": ["FE - total"],
}
NEED_COLS = {"ASD": "number_asd", "HI": "number_hi", "SEMH": "number_semh", "unknown": "number_need_unknown"}


def raw(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


def num(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(pd.to_numeric, errors="coerce")  # 'x' -> NaN


def strict_sum(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Sum that is NaN when any part is NaN."""
    return num(frame[cols]).sum(axis=1, min_count=len(cols)).where(num(frame[cols]).notna().all(axis=1))


def code(published: pd.Series) -> pd.Series:
    return published.replace({"E10000002": "E06000060"})  # the expected Buckinghamshire fix


def census_year(period: pd.Series) -> pd.Series:
    return ("20" + period.str[-2:]).astype(int)


@pytest.fixture(scope="module")
def tables():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return read_ehcp(RELEASE)


def wide(table: pd.DataFrame, dim: str) -> pd.DataFrame:
    return table.set_index(["year", "area", dim])["count"].unstack(dim)


def test_folder_reads_every_table_and_leaves_others_out(tables):
    layouts = dict(zip(tables.sources["file"].map(lambda f: f.split("/")[-1]), tables.sources["layout"]))
    assert layouts == {"caseload.csv": "caseload", "newplans.csv": "newplans", "sen_needs_all_plans.csv": "needs",
                       "requests.csv": "not used"}
    assert sorted(tables.age["year"].unique()) == [2023, 2024, 2025]  # 202223 .. 202425 = January censuses
    assert sorted(tables.new_age["year"].unique()) == [2022, 2023, 2024]  # calendar years
    assert tables.need["year"].unique().tolist() == [2025]
    assert set(tables.age["age_group"]) == {"total", *AGE_GROUPS}
    assert set(tables.single_age["age"]) == set(SINGLE_AGES)
    assert set(tables.setting["setting"]) == {"total", *SETTINGS}
    assert set(tables.need["need"]) == {"total", *NEEDS} and set(tables.need["setting"]) == {"total", *SETTINGS}


def test_totals_and_setting_types_match_the_raw_columns(tables):
    r = raw("caseload.csv")
    r = r[(r["geographic_level"] == "Local authority") & (r["breakdown_topic"] == "All EHC plans")]
    exp = pd.DataFrame({"year": census_year(r["time_period"]), "area": code(r["new_la_code"])})
    exp["total"] = num(r[["ehcplans"]])["ehcplans"]
    exp["resourced_provision_unit"] = strict_sum(r, RP_COLS)
    exp["mainstream"] = num(r[["mainstream_total"]])["mainstream_total"] - exp["resourced_provision_unit"]
    exp["special_school"] = strict_sum(r, SPECIAL_COLS)
    exp["independent"] = num(r[["special_independent"]])["special_independent"]
    exp["alternative_provision"] = num(r[["ap_pru_total"]])["ap_pru_total"]
    exp["further_education"] = num(r[["fe_total"]])["fe_total"]
    named = [s for s in SETTINGS if s != "other"]
    exp["other"] = exp["total"] - exp[named].sum(axis=1, min_count=len(named))
    exp = exp.set_index(["year", "area"]).sort_index()
    got = wide(tables.setting, "setting").sort_index()[exp.columns]
    pd.testing.assert_frame_equal(got, exp, check_names=False, check_dtype=False)
    # the one 'x' (Gateshead, January 2024, academy SEN units): unknown, not 0, and so is what depends on it
    g = got.loc[(2024, "E08000037")]
    assert np.isnan(g["resourced_provision_unit"]) and np.isnan(g["mainstream"]) and np.isnan(g["other"])
    assert g["special_school"] > 0 and g["total"] > 0
    assert ((got.fillna(-1) == 0) <= (exp.fillna(-1) == 0)).all().all()  # no 0 the raw file did not have


def test_single_ages_kept_and_summed_into_bands(tables):
    r = raw("caseload.csv")
    r = r[(r["geographic_level"] == "Local authority") & (r["breakdown_topic"] == "Child or young persons age")]
    r = r.assign(year=census_year(r["time_period"]), area=code(r["new_la_code"]), n=num(r[["ehcplans"]])["ehcplans"])
    single = tables.single_age.set_index(["year", "area", "age"])["count"]
    label = {"under 3": "0-2", **{f"age {a}": str(a) for a in range(3, 26)}}
    for _, row in r.iterrows():
        v = single.loc[(row["year"], row["area"], label[row["breakdown"]])]
        assert (np.isnan(v) and np.isnan(row["n"])) or v == row["n"]
    bands = wide(tables.age, "age_group")
    members = {"0-4": ["under 3", "age 3", "age 4"], "5-10": [f"age {a}" for a in range(5, 11)],
               "11-15": [f"age {a}" for a in range(11, 16)], "16-19": [f"age {a}" for a in range(16, 20)],
               "20-25": [f"age {a}" for a in range(20, 26)]}
    by = r.set_index(["year", "area", "breakdown"])["n"]
    for (year, area), row in bands.iterrows():
        for band, labels in members.items():
            parts = by.loc[[(year, area, lab) for lab in labels]]
            expected = parts.sum() if parts.notna().all() else np.nan
            assert (np.isnan(expected) and np.isnan(row[band])) or row[band] == expected, (year, area, band)
    # Surrey has no characteristics in January 2025: every band unknown, the total known
    surrey = bands.loc[(2025, "E10000030")]
    assert surrey[list(AGE_GROUPS)].isna().all() and surrey["total"] > 0
    # one unavailable age (25, Cumberland 2024) leaves 20-25 unknown, not short
    cumb = bands.loc[(2024, "E06000063")]
    assert np.isnan(cumb["20-25"]) and cumb[["0-4", "5-10", "11-15", "16-19"]].notna().all()
    known = bands.dropna()
    assert np.allclose(known[list(AGE_GROUPS)].sum(axis=1), known["total"])  # invented data add up


def test_need_by_type_of_placement(tables):
    r = raw("sen_needs_all_plans.csv")
    r = r[r["geographic_level"] == "Local authority"].assign(area=lambda d: code(d["new_la_code"]))
    need = tables.need.set_index(["area", "need", "setting"])["count"]
    for area, grp in r.groupby("area"):
        for nd, col in NEED_COLS.items():
            total = float(grp.loc[grp["breakdown"] == "All EHC plans", col].iloc[0])
            assert need.loc[(area, nd, "total")] == total
            rows = grp.set_index("breakdown")[col]
            for setting, labels in PLACEMENT_LABELS.items():
                vals = pd.to_numeric(rows.loc[labels], errors="coerce")
                expected = vals.sum() if vals.notna().all() else np.nan
                got = need.loc[(area, nd, setting)]
                assert (np.isnan(expected) and np.isnan(got)) or got == expected, (area, nd, setting)
    # the first open table linking need to setting agrees with the caseload file's setting types
    by_setting = tables.need[(tables.need["need"] != "total") & (tables.need["area"] == "E08000037")]
    caseload = tables.setting[(tables.setting["year"] == 2025) & (tables.setting["area"] == "E08000037")]
    assert by_setting.groupby("setting")["count"].sum().to_dict() == caseload.set_index("setting")["count"].to_dict()
    # Surrey: placements not available ('x'): every setting unknown, the need totals known
    surrey = tables.need[(tables.need["area"] == "E10000030")]
    assert surrey[surrey["setting"] != "total"]["count"].isna().all()
    assert surrey[surrey["setting"] == "total"]["count"].notna().all()
    # Cumberland: one 'x' (HI in academy SEN units) makes HI's units, mainstream and other unknown
    hi = tables.need[(tables.need["area"] == "E06000063") & (tables.need["need"] == "HI")].set_index("setting")["count"]
    assert hi[["resourced_provision_unit", "mainstream", "other"]].isna().all()
    assert hi[["special_school", "independent", "total"]].notna().all()


def test_new_plans_by_age_at_start_and_setting(tables):
    r = raw("newplans.csv")
    r = r[r["geographic_level"] == "Local authority"].assign(
        year=lambda d: d["time_period"].astype(int), area=lambda d: code(d["new_la_code"]))
    tot = r[r["breakdown"] == "New EHC plans"].set_index(["year", "area"])["new_ehc_plans"].astype(float)
    got = wide(tables.new_age, "age_group")
    assert got["total"].sort_index().equals(tot.sort_index().rename("total"))
    ages = r[r["breakdown_topic"] == "Age when plan started"].set_index(["year", "area", "breakdown"])["new_ehc_plans"]
    young = pd.to_numeric(ages.loc[(2023, "E08000037", ["age 2 and under", "age 3", "age 4"])]).sum()
    assert got.loc[(2023, "E08000037"), "0-4"] == young
    assert np.isnan(got.loc[(2024, "E10000030"), "20-25"])  # 'age 20 and over' is x
    assert got.loc[(2024, "E10000030"), "16-19"] >= 0
    s = wide(tables.new_setting, "setting")
    gate = r[(r["breakdown"] == "New EHC plans") & (r["year"] == 2024) & (r["area"] == "E08000037")]
    assert s.loc[(2024, "E08000037"), "special_school"] == strict_sum(gate, SPECIAL_COLS).iloc[0]


def test_zip_as_downloaded_reads_the_same(tables, tmp_path):
    z = tmp_path / "education-health-and-care-plans_2025.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(DATA.glob("*.csv")):
            zf.write(f, f"data/{f.name}")
        zf.writestr("data-guidance/data-guidance.txt", "Education, health and care plans\nReporting year 2025\n")
    with pytest.warns(InputWarning, match="E10000002"):
        zipped = read_ehcp(z)
    for name in ["age", "single_age", "setting", "need", "new_age", "new_setting"]:
        pd.testing.assert_frame_equal(getattr(zipped, name), getattr(tables, name))
    assert "education-health-and-care-plans_2025.zip/data/requests.csv" in set(zipped.sources["file"])


def test_code_changes_reported_and_series_continuous():
    with pytest.warns(InputWarning) as caught:
        t = read_ehcp(RELEASE, harmonise=False)
    text = " ".join(str(w.message) for w in caught)
    assert "E10000002 (Buckinghamshire)" in text and "E10000006 (Cumbria)" in text
    fix = t.code_fixes[t.code_fixes["file"].str.endswith("caseload.csv")].iloc[0]
    assert (fix["published_code"], fix["code"], fix["years"]) == ("E10000002", "E06000060", "2024-2025")
    split = t.changes[t.changes["old_codes"] == "E10000006"].iloc[0]
    assert (split["kind"], split["year"], split["new_codes"]) == ("reorganisation", 2024, "E06000063+E06000064")
    assert t.age[t.age["area"] == "E06000060"]["year"].nunique() == 3  # one Buckinghamshire series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        h = read_ehcp(RELEASE, harmonise=True)
    tot = h.age[h.age["age_group"] == "total"].set_index(["area", "year"])["count"]
    r = raw("caseload.csv")
    r = r[(r["geographic_level"] == "Local authority") & (r["breakdown_topic"] == "All EHC plans")]
    by = r.set_index(["la_name", "time_period"])["ehcplans"].astype(float)
    cumbria = tot.loc["E06000063+E06000064"]
    assert cumbria.to_dict() == {2023: by[("Cumbria", "202223")],
                                 2024: by[("Cumberland", "202324")] + by[("Westmorland and Furness", "202324")],
                                 2025: by[("Cumberland", "202425")] + by[("Westmorland and Furness", "202425")]}
    assert h.need["area"].isin(["E06000063+E06000064"]).any()


def test_2022_release_and_2025_release_give_one_series_from_2020():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        t = read_ehcp(HERE / "dfe_ehcp_age_excerpt.csv", DATA / "caseload.csv", harmonise=True)
    cumbria = t.age[(t.age["area"] == "E06000063+E06000064") & (t.age["age_group"] == "total")]
    assert cumbria["year"].tolist() == [2020, 2021, 2022, 2023, 2024, 2025]
    excerpt = pd.read_csv(HERE / "dfe_ehcp_age_excerpt.csv", dtype=str)
    real = excerpt[(excerpt["la_name"] == "Cumbria") & (excerpt["characteristic_age"] == "Total")]
    assert cumbria["count"].iloc[:3].tolist() == real.sort_values("time_period")["Total_all"].astype(float).tolist()
    assert cumbria["count"].notna().all()


def test_later_release_wins_where_releases_overlap():
    geo = dict(time_identifier="Calendar year", geographic_level="Local authority", country_code="E92000001",
               country_name="England", region_code="E12000001", region_name="North East", old_la_code="390",
               new_la_code="E08000037", la_name="Gateshead")
    old = pd.DataFrame([dict(geo, time_period="2023", characteristic_age="Total", Total_st="z", Total_ehc="999",
                             Total_all="999")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        t = read_ehcp(DATA / "caseload.csv", frames={"sen2_age_caseload.csv": old})
    got = t.age.query("area == 'E08000037' and year == 2023 and age_group == 'total'")["count"]
    r = raw("caseload.csv")
    expected = r[(r["la_name"] == "Gateshead") & (r["time_period"] == "202223") & (r["breakdown"] == "All EHC plans")]
    assert got.tolist() == [float(expected["ehcplans"].iloc[0])]
    assert t.report.counts["age: authority-years in more than one release (the latest release kept)"] == 1
    assert t.report.counts["age: authority-years whose total was revised between releases"] == 1
    # a count the latest release lacks ('age 25' is x for Cumberland in January 2024) comes from
    # an earlier release that has it; the rest stays the latest release's
    cumb = dict(geo, old_la_code="942", new_la_code="E06000063", la_name="Cumberland", region_name="North West")
    older = pd.DataFrame([dict(cumb, time_period="2024", characteristic_age=a, Total_st="z", Total_ehc=n, Total_all=n)
                          for a, n in [("Total", "1"), ("Age 20 to 25", "50"), ("Age 16 to 19", "1")]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        t = read_ehcp(DATA / "caseload.csv", frames={"sen2_age_caseload.csv": older})
    got = t.age.query("area == 'E06000063' and year == 2024").set_index("age_group")["count"]
    assert got["20-25"] == 50 and got["16-19"] > 1 and got["total"] > 1
    assert t.report.counts["age: counts missing in the latest release taken from an earlier release"] == 1


# ------------------------------------------------------------------ errors
def small_caseload() -> pd.DataFrame:
    r = raw("caseload.csv")
    return r[(r["la_name"] == "Gateshead") & (r["time_period"] == "202425")].reset_index(drop=True)


def test_totals_not_found_is_an_error_naming_the_topics():
    r = small_caseload()
    r = r[r["breakdown_topic"] != "All EHC plans"]
    with pytest.raises(InputValidationError) as err:
        read_ehcp(frames={"caseload.csv": r})
    msg = str(err.value)
    assert "caseload.csv" in msg and "breakdown_topic" in msg and "'Child or young persons age'" in msg


def test_unknown_labels_and_topics_are_errors():
    r = small_caseload()
    r.loc[r["breakdown"] == "age 7", "breakdown"] = "age seven"
    with pytest.raises(InputValidationError, match=r"column 'breakdown': unknown age label.*'age seven'"):
        read_ehcp(frames={"caseload.csv": r})
    r = small_caseload()
    r.loc[r["breakdown_topic"] == "Sex", "breakdown_topic"] = "Primary need"
    with pytest.raises(InputValidationError, match=r"unknown breakdown topic.*'Primary need'"):
        read_ehcp(frames={"caseload.csv": r})
    r = small_caseload()
    r.loc[r["breakdown"] == "All EHC plans", "breakdown"] = "Everything"
    with pytest.raises(InputValidationError, match="label for the totals"):
        read_ehcp(frames={"caseload.csv": r})
    n = raw("sen_needs_all_plans.csv")
    n.loc[n["breakdown"] == "Special - non-maintained", "breakdown"] = "Special - hospital"
    with pytest.raises(InputValidationError, match=r"unknown type of placement.*'Special - hospital'"):
        read_ehcp(frames={"sen_needs_all_plans.csv": n})
    r = small_caseload().rename(columns={"special_non_maintained": "special_secure"})
    with pytest.raises(InputValidationError, match="special_secure"):
        read_ehcp(frames={"caseload.csv": r})


def test_national_rows_only_is_an_error():
    r = raw("caseload.csv")
    with pytest.raises(InputValidationError, match="no 'Local authority' rows"):
        read_ehcp(frames={"caseload.csv": r[r["geographic_level"] == "National"]})


def test_a_folder_without_release_tables_is_an_error(tmp_path):
    (tmp_path / "requests.csv").write_text((DATA / "requests.csv").read_text())
    with pytest.raises(InputValidationError, match="no EHC plans tables.*requests.csv"):
        read_ehcp(tmp_path)


# ------------------------------------------------------------------ suppression never becomes 0
_CACHE: dict = {}


def _total_rows() -> tuple[pd.DataFrame, pd.Series]:
    """The caseload rows of totals (authorities only) and their setting types as read."""
    if not _CACHE:
        r = raw("caseload.csv")
        r = r[(r["geographic_level"] == "Local authority") & (r["breakdown_topic"] == "All EHC plans")]
        _CACHE["rows"] = r.reset_index(drop=True)
        _CACHE["full"] = _read_settings(_CACHE["rows"])
    return _CACHE["rows"].copy(), _CACHE["full"]


def _read_settings(rows: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return read_ehcp(frames={"caseload.csv": rows}).setting.set_index(["year", "area", "setting"])["count"]


SETTING_OF = {**{c: "resourced_provision_unit" for c in RP_COLS}, **{c: "special_school" for c in SPECIAL_COLS},
              "special_independent": "independent", "ap_pru_total": "alternative_provision",
              "fe_total": "further_education", "mainstream_total": "mainstream", "ehcplans": "total"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(st.integers(0, 13), st.sampled_from(sorted(SETTING_OF))), min_size=1, max_size=4,
                      unique=True))
def test_a_suppressed_cell_makes_its_setting_missing_and_nothing_zero(cells):
    r, full = _total_rows()
    hit = set()
    for row, col in cells:
        r.loc[row, col] = "x"
        key = (int("20" + r.loc[row, "time_period"][-2:]), code(r.loc[[row], "new_la_code"]).iloc[0])
        s = SETTING_OF[col]
        hit |= {(*key, s), (*key, "other")}
        if s == "resourced_provision_unit":
            hit.add((*key, "mainstream"))
    got = _read_settings(r)
    for k in hit:
        assert np.isnan(got.loc[k]), k
    rest = got.drop(index=list(hit))
    same = full.loc[rest.index]
    assert ((rest == same) | (rest.isna() & same.isna())).all()  # nothing else moves, nothing becomes 0


def test_2022_layout_new_plans_files():
    geo = dict(time_identifier="Calendar year", geographic_level="Local authority", country_code="E92000001",
               country_name="England", region_code="E12000001", region_name="North East", old_la_code="390",
               new_la_code="E08000037", la_name="Gateshead")
    age = pd.DataFrame([dict(geo, time_period="2021", characteristic_age=a, Total_new_st="z", Total_new_st_pc="z",
                             Total_new_ehc=n, Total_new_ehc_pc="z", Total_new_all=n, Total_new_all_pc="z")
                        for a, n in [("Total", "180"), ("Under 5", "40"), ("Age 5 to 10", "c")]])
    estab = pd.DataFrame([dict(geo, time_period="2021", establishment_group=g, establishment_type=e, Total_new_st="z",
                               Total_new_ehc=n, Total_new_all=n)
                          for g, e, n in [("Total", "Total", "180"), ("Mainstream school", "Total", "100"),
                                          ("Mainstream school", "Mainstream - Academy - SEN unit", "8"),
                                          ("Special school", "Special - LA maintained", "50"),
                                          ("Special school", "Special - Independent", "5")]])
    t = read_ehcp(frames={"sen2_age_new_plans.csv": age, "sen2_estab_new_plans.csv": estab})
    assert t.age.empty and t.setting.empty
    ages = t.new_age.set_index("age_group")["count"]
    assert ages["total"] == 180 and ages["0-4"] == 40 and np.isnan(ages["5-10"])
    s = t.new_setting.set_index("setting")["count"]
    assert s["mainstream"] == 92 and s["resourced_provision_unit"] == 8 and s["special_school"] == 50
    assert s["other"] == 180 - 92 - 8 - 50 - 5


def test_extract_of_the_2025_layout_round_trips(tables, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        build_extract(RELEASE, out_dir=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"areas.csv", "ehcp_age.csv", "ehcp_setting.csv",
                                                     "ehcp_single_age.csv", "ehcp_need.csv", "ehcp_new_age.csv",
                                                     "ehcp_new_setting.csv"}
    back = load_england_ehcp(harmonise=False, path=tmp_path)
    for name in ["age", "single_age", "setting", "need", "new_age", "new_setting"]:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(tables, name), check_dtype=False)
    assert back.changes["old_codes"].tolist() == ["E10000006"]
