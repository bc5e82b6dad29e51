"""Population projections: ONS SNPP and Welsh LA projections to the population table (senforecast.io.ons).

Fixtures in tests/data/ons/ are in the publishers' layouts with invented numbers (written by
tests/data/make_wales_ons_fixtures.py). Expected values come from reading the CSV text
independently with the csv module.
"""
from __future__ import annotations

import csv
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.errors import InputValidationError, InputWarning, ValidationReport
from senforecast.io import read_population
from senforecast.io.ons import ages_to_ncy, extend_population, parse_age, read_snpp, read_wales_projection

DATA = Path(__file__).parent / "data" / "ons"
SNPP18 = DATA / "2018 SNPP Population persons.csv"
SNPP22_M = DATA / "2022 SNPP Population males.csv"
SNPP22_F = DATA / "2022 SNPP Population females.csv"
WALES = DATA / "wales_la_projections_2018.csv"


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return fn(*args, **kw)


def raw_snpp(*paths) -> dict:
    """(area code, sex, age label, mid-year) -> value, read with the csv module."""
    out = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        years = [int(h) for h in rows[0][5:]]
        for r in rows[1:]:
            for y, v in zip(years, r[5:]):
                out[(r[0], r[3], r[4], y)] = float(v)
    return out


def raw_wales() -> dict:
    """(area, gender, age label, year) -> value, nested labels filled by hand."""
    with open(WALES, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    years = [int(h) for h in rows[3][3:]]
    out, area, gender = {}, None, None
    for r in rows[4:]:
        area, gender = r[0] or area, r[1] or gender
        for y, v in zip(years, r[3:]):
            out[(area, gender, r[2], y)] = float(v.replace(",", ""))
    return out


# --- ONS SNPP --------------------------------------------------------------------------------------


def test_snpp_2018_ages_map_to_ncy_and_every_child_is_kept():
    raw = raw_snpp(SNPP18)
    pop = read_snpp(SNPP18)
    assert list(pop.columns) == ["year", "area", "ncy", "count"]
    assert set(pop["area"]) == {"E06000047", "E07000143", "E10000020"}
    assert pop["ncy"].min() == -5 and pop["ncy"].max() == 20
    assert pop["year"].min() == 2018 and pop["year"].max() == 2043
    got = pop.set_index(["area", "year", "ncy"])["count"]
    for (code, sex, age, year), v in raw.items():
        if age.isdigit() and int(age) <= 25:
            assert got[(code, year, int(age) - 5)] == v
    # conservation: the children of every area and year are the ages 0-25 of the file
    totals = pop.groupby(["area", "year"])["count"].sum()
    for (code, year), total in totals.items():
        expected = sum(raw[(code, "persons", str(a), year)] for a in range(26))
        assert total == pytest.approx(expected, rel=1e-12)
    read_population(pop)  # the canonical population schema accepts it


def test_snpp_2022_males_and_females_add_up_to_persons():
    raw = raw_snpp(SNPP22_M, SNPP22_F)
    pop = read_snpp(SNPP22_M, SNPP22_F, areas=["County Durham"])
    assert set(pop["area"]) == {"E06000047"} and pop["year"].max() == 2047
    got = pop.set_index(["year", "ncy"])["count"]
    for (year, ncy), v in got.items():
        age = str(ncy + 5)
        assert v == pytest.approx(raw[("E06000047", "males", age, year)] + raw[("E06000047", "females", age, year)])


def test_snpp_zip_as_downloaded(tmp_path):
    both = tmp_path / "2022snpppopulationsyoa5yr.zip"
    with zipfile.ZipFile(both, "w") as z:
        z.write(SNPP22_M, "2022 SNPP Population males.csv")
        z.write(SNPP22_F, "2022 SNPP Population females.csv")
    from_zip = read_snpp(both)
    from_csv = read_snpp(SNPP22_M, SNPP22_F)
    pd.testing.assert_frame_equal(from_zip.reset_index(drop=True), from_csv.reset_index(drop=True), check_like=True)
    # with a persons file too, the persons file is read
    three = tmp_path / "with_persons.zip"
    with zipfile.ZipFile(three, "w") as z:
        z.write(SNPP22_M, "data/2022 SNPP Population males.csv")
        z.write(SNPP18, "data/2022 SNPP Population persons.csv")
    assert read_snpp(three)["year"].min() == 2018  # the persons file (here the 2018 fixture)
    empty = tmp_path / "other.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "no data")
    with pytest.raises(InputValidationError, match="readme.txt"):
        read_snpp(empty)


def test_alignment_start_is_the_same_cohort_a_year_later():
    end = read_snpp(SNPP18, areas="E06000047").set_index(["year", "ncy"])["count"]
    start = read_snpp(SNPP18, areas="E06000047", align="start").set_index(["year", "ncy"])["count"]
    assert start.index.get_level_values("year").min() == 2019
    assert start.index.get_level_values("ncy").min() == -4
    for (year, ncy), v in start.items():
        if (year - 1, ncy - 1) in end.index:
            assert v == end[(year - 1, ncy - 1)]


def test_areas_by_name_code_and_groups_of_districts():
    by_code = read_snpp(SNPP18, areas=["E10000020"])
    by_name = read_snpp(SNPP18, areas=["norfolk"], area="name")
    assert set(by_name["area"]) == {"Norfolk"}
    assert by_code["count"].tolist() == by_name["count"].tolist()
    grouped = read_snpp(SNPP18, areas={"Norfolk and Breckland": ["Norfolk", "E07000143"]})
    parts = read_snpp(SNPP18, areas=["E10000020", "E07000143"]).groupby(["year", "ncy"])["count"].sum()
    got = grouped.set_index(["year", "ncy"])["count"]
    assert set(grouped["area"]) == {"Norfolk and Breckland"}
    np.testing.assert_allclose(got.sort_index().to_numpy(), parts.sort_index().to_numpy())


def test_unknown_area_is_an_error_with_suggestions():
    with pytest.raises(InputValidationError, match="'Norflk' \\(did you mean 'Norfolk'"):
        read_snpp(SNPP18, areas=["Norflk"])


def test_horizon_beyond_the_projection_is_an_error_naming_the_years():
    with pytest.raises(InputValidationError, match="census years 2018-2043 but the forecast needs 2046.*extend_to=2046"):
        read_snpp(SNPP18, horizon=2046)
    with pytest.raises(InputValidationError, match="needs 2046"):
        read_snpp(SNPP18, horizon=2046, extend_to=2045)
    assert read_snpp(SNPP18, horizon=2043)["year"].max() == 2043


def test_extension_holds_the_last_year_with_a_warning():
    rep = ValidationReport()
    with pytest.warns(InputWarning, match="2044-2046 are an extension"):
        pop = read_snpp(SNPP18, areas="E07000143", horizon=2046, extend_to=2046, report=rep)
    assert pop.attrs["extended_years"] == [2044, 2045, 2046] and pop.attrs["extension_method"] == "hold"
    assert rep.counts["population.years_extended"] == 3
    last = pop[pop.year == 2043].set_index("ncy")["count"]
    for y in (2044, 2045, 2046):
        assert pop[pop.year == y].set_index("ncy")["count"].equals(last)


def test_trend_extension_recovers_a_straight_line():
    years = np.arange(2020, 2031)
    rows = [{"year": int(y), "area": "A", "ncy": n, "count": 200.0 + 3.5 * n + 7.0 * (y - 2020)}
            for y in years for n in range(0, 4)]
    pop = pd.DataFrame(rows)
    with pytest.warns(InputWarning, match="trend"):
        ext = extend_population(pop, to=2035, method="trend", trend_years=5)
    new = ext[ext.year > 2030]
    np.testing.assert_allclose(new["count"], 200.0 + 3.5 * new["ncy"] + 7.0 * (new["year"] - 2020))
    falling = pop.assign(count=lambda d: 80.0 - 5.0 * (d["year"] - 2020))  # reaches 0 in 2036
    with pytest.warns(InputWarning):
        floor = extend_population(falling, to=2040, method="trend")
    assert (floor["count"] >= 0).all() and floor.loc[floor.year == 2040, "count"].eq(0).all()


def test_unknown_sex_and_age_labels_name_what_was_found():
    years = ["2022", "2023"]
    frame = pd.DataFrame([["E1", "A", "Population", "unknown", "5", 10, 11],
                          ["E1", "A", "Population", "persons", "6", 10, 11]],
                         columns=["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"] + years)
    with pytest.raises(InputValidationError, match="'unknown'.*'persons'"):
        read_snpp(frame)
    frame2 = frame.assign(SEX="persons", AGE_GROUP=["5", "Under 1"])
    with pytest.raises(InputValidationError, match="'Under 1'"):
        read_snpp(frame2)


def test_only_one_sex_is_an_error():
    with pytest.raises(InputValidationError, match="males and females"):
        read_snpp(SNPP22_M)


def test_not_an_snpp_file_names_the_missing_columns():
    with pytest.raises(InputValidationError, match="AGE_GROUP"):
        read_snpp(pd.DataFrame({"AREA_CODE": ["E1"], "AREA_NAME": ["A"], "SEX": ["persons"], "2022": [1.0]}))


def test_other_components_are_left_out_and_markers_stay_missing():
    years = ["2022", "2023"]
    rows = [["E1", "A", "Population", "persons", str(a), 100.0, 101.0] for a in range(26)]
    rows += [["E1", "A", "Births", "persons", "0", 5.0, 6.0]]
    rows[10][6] = ":"
    frame = pd.DataFrame(rows, columns=["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"] + years)
    rep = ValidationReport()
    with pytest.warns(InputWarning):
        pop = read_snpp(frame, report=rep)
    assert rep.counts["population.other_components"] == 1 and rep.counts["population.missing"] == 1
    cell = pop[(pop.year == 2023) & (pop.ncy == 5)]["count"]
    assert cell.isna().all()  # ':' is missing, never 0
    assert pop["count"].notna().sum() == 2 * 26 - 1


# --- ages to NCY -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=31, max_size=31),
       st.floats(0, 0.5), st.sampled_from(["end", "start"]))
def test_property_mapping_conserves_children(counts, share, align):
    ages = pd.DataFrame({"year": 2030, "area": "A", "age": range(31), "count": counts})
    pop = ages_to_ncy(ages, align=align, summer_born_share=share, ncy=(0, 20))
    offset = 5 if align == "end" else 4
    top, bottom = 20 + offset, offset
    expected = sum(counts[bottom:top + 1]) - share * counts[top] + share * counts[bottom - 1]
    assert pop["count"].sum() == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert set(pop["year"]) == {2030 if align == "end" else 2031}
    if share == 0:
        assert pop.set_index("ncy")["count"].tolist() == counts[bottom:top + 1]


def test_ncy_range_needing_absent_ages_is_an_error():
    ages = pd.DataFrame({"year": 2030, "area": "A", "age": range(5, 20), "count": 1.0})
    with pytest.raises(InputValidationError, match="need single years of age"):
        ages_to_ncy(ages, ncy=(-2, 10))
    with pytest.raises(InputValidationError, match="age 4"):
        ages_to_ncy(ages, ncy=(0, 10), summer_born_share=0.17)


def test_open_top_age_is_never_an_ncy():
    ages = pd.DataFrame({"year": 2030, "area": "A", "age": [24, 25, 26], "open": [False, False, True],
                         "count": 1.0})
    assert ages_to_ncy(ages)["ncy"].tolist() == [19, 20]


@pytest.mark.parametrize("label,expected", [("0", (0, False, False)), ("Age 17", (17, False, False)),
                                            ("90 and over", (90, True, False)), ("Age 90+", (90, True, False)),
                                            ("All Ages", (None, False, True)), ("Aged 3", (3, False, False))])
def test_parse_age(label, expected):
    assert parse_age(label) == expected


# --- Welsh LA projections --------------------------------------------------------------------------


def test_wales_projection_reads_persons_by_authority():
    raw = raw_wales()
    rep = ValidationReport()
    pop = quiet(read_wales_projection, WALES, report=rep)
    assert set(pop["area"]) == {"Cardiff", "Powys"}
    assert "population.sex_mismatch" not in rep.counts  # persons = males + females in the file
    assert rep.counts["population.age_totals_checked"] > 0
    got = pop.set_index(["area", "year", "ncy"])["count"]
    for (area, gender, age, year), v in raw.items():
        if gender == "Persons" and age.startswith("Age ") and age[4:].isdigit() and int(age[4:]) <= 25:
            assert got[(area, year, int(age[4:]) - 5)] == v
    totals = pop.groupby(["area", "year"])["count"].sum()
    for (area, year), total in totals.items():
        assert total == sum(raw[(area, "Persons", f"Age {a}", year)] for a in range(26))
    read_population(pop)


def test_wales_projection_welsh_names_codes_and_horizon():
    pop = quiet(read_wales_projection, WALES, areas=["Caerdydd"], area="code")
    assert set(pop["area"]) == {"W06000015"}
    with pytest.raises(InputValidationError, match="2018-2043.*2050"):
        quiet(read_wales_projection, WALES, horizon=2050)
    with pytest.raises(InputValidationError, match="'Gwynedd'"):
        quiet(read_wales_projection, WALES, areas=["Gwynedd"])


def test_wales_persons_that_disagree_with_males_plus_females_are_reported():
    with open(WALES, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    frame = pd.DataFrame(rows[4:], columns=rows[3])
    frame.iloc[6, 5] = "9,999"  # Cardiff, Persons, Age 4, 2020
    rep = ValidationReport()
    with pytest.warns(InputWarning, match="differ from males"):
        read_wales_projection(frame, report=rep)
    assert rep.counts["population.sex_mismatch"] == 1


def test_wales_tidy_download_with_variants():
    rows = []
    for variant, bump in (("Principal projection", 0.0), ("High population", 50.0)):
        for age in range(26):
            for sex in ("Males", "Females"):
                rows.append({"Data values": f"{100 + age + bump:,.0f}", "Year": "2030", "Area": "Newport",
                             "Age": f"Age {age}", "Sex": sex, "Variant": variant})
    frame = pd.DataFrame(rows)
    pop = quiet(read_wales_projection, frame)
    assert pop["count"].tolist() == [2.0 * (100 + a) for a in range(26)]
    high = quiet(read_wales_projection, frame, variant="High population")
    assert high["count"].tolist() == [2.0 * (150 + a) for a in range(26)]
    with pytest.raises(InputValidationError, match="'Low population'.*'Principal projection'"):
        quiet(read_wales_projection, frame, variant="Low population")
