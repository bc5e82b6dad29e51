"""StatsWales ALN/SEN readers and the Welsh plan-type series (senforecast.io.statswales, .plan_types).

Fixtures in tests/data/statswales/ follow the StatsWales download layouts with invented
numbers; tests/data/make_wales_ons_fixtures.py writes them and the true counts behind the
rounded cells (aln_provision_truth.csv). Expected values here come from reading the CSV text
independently (csv module) or from that truth file, never from the reader's own output.
"""
from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.errors import InputValidationError, InputWarning, ValidationReport
from senforecast.core.plan_types import (EHCP_EQUIVALENT, PLAN_TYPES, TRANSFER, break_years, ehcp_equivalent,
                                       exists_in, plan_type_code)
from senforecast.io.statswales import (WELSH_AUTHORITIES, CountUnitWarning, read_aln_needs, read_aln_provision,
                                       split_shorthand, sum_pupils, welsh_area)

DATA = Path(__file__).parent / "data" / "statswales"
MAIN = DATA / "aln_provision_by_la.csv"
NEW = DATA / "aln_provision_new_service.csv"
ONE_YEAR = DATA / "aln_provision_one_year.csv"
NEEDS = DATA / "aln_needs_by_la_provision.csv"
LA_NAMES = {en for en, _ in WELSH_AUTHORITIES.values()}
CODE = {"Statemented": "statement", "School Action": "school_action", "School Action Plus": "school_action_plus",
        "School maintained individual development plan": "school_idp",
        "Local authority maintained individual development plan": "la_idp", "All Provisions": "total"}
MARKER_TEXTS = {"*", "..", "[c]"}


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return fn(*args, **kw)


def census_year(label: str) -> int:
    start = int(label.split()[0].split("/")[0])
    return start + 1


def raw_old_layout(path: Path) -> dict:
    """(area, provision label, census year) -> cell text, from the CSV text (labels filled by hand)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "Local authority")
    years = [census_year(h) for h in rows[header_at][2:]]
    out, area = {}, None
    for r in rows[header_at + 1:]:
        area = r[0] or area
        for y, cell in zip(years, r[2:]):
            out[(area, r[1], y)] = cell
    return out


def as_dict(df: pd.DataFrame, cat: str = "plan_type") -> dict:
    return {(a, c, int(y)): v for a, c, y, v in zip(df["area"], df[cat], df["year"], df["count"])}


# --- the old StatsWales export ---------------------------------------------------------------------


def test_every_cell_of_the_export_is_read_as_published():
    cells = raw_old_layout(MAIN)
    out = as_dict(quiet(read_aln_provision, MAIN, keep_totals=True))
    checked = 0
    for (area, prov, year), text in cells.items():
        if area == "North Wales":  # a region: left out
            assert not any(k[0] == area for k in out)
            continue
        key = (area, CODE[prov], year)
        if text == ".":  # not applicable: IDPs before the reform are not rows
            assert key not in out
            continue
        assert key in out, key
        if text in MARKER_TEXTS:
            assert np.isnan(out[key]), (key, text)
        else:
            assert out[key] == float(text.replace(",", "")), key
        checked += 1
    assert checked == len(out)  # nothing read that is not in the file
    assert checked > 700


def test_markers_stay_missing_and_are_counted():
    cells = raw_old_layout(MAIN)
    n_markers = sum(1 for (a, _, _), t in cells.items() if t in MARKER_TEXTS and a != "North Wales")
    rep = ValidationReport()
    out = quiet(read_aln_provision, MAIN, report=rep)
    assert rep.counts["suppressed"] == n_markers == 3
    assert out["count"].isna().sum() == n_markers
    assert (out["count"].dropna() > 0).all()  # no marker became 0
    ceredigion = out[(out.area == "Ceredigion") & (out.plan_type == "la_idp") & (out.year == 2022)]
    assert ceredigion["count"].isna().all()  # '*' (1-4 pupils)
    powys = out[(out.area == "Powys") & (out.plan_type == "school_action_plus") & (out.year == 2021)]
    assert powys["count"].isna().all()  # '..' (not available)


def test_counts_are_rounded_to_five_and_within_rounding_of_the_truth():
    out = quiet(read_aln_provision, MAIN)
    assert out.attrs["rounded_to"] == 5 and out.attrs["unit"] == "pupils"
    truth = pd.read_csv(DATA / "aln_provision_truth.csv")
    truth["plan_type"] = truth["provision"].map(CODE)
    merged = out.merge(truth, on=["year", "area", "plan_type"], how="left", validate="one_to_one")
    assert merged["pupils"].notna().all()
    known = merged.dropna(subset=["count"])
    assert (known["count"] % 5 == 0).all()
    assert (known["count"] - known["pupils"]).abs().max() <= 2.5
    # what was suppressed was small (or unavailable), never a big number hidden
    hidden = merged[merged["count"].isna()]
    assert ((hidden["pupils"] < 5) | ((hidden.area == "Powys") & (hidden.year == 2021))).all()


def test_totals_are_checked_and_a_wrong_total_is_reported():
    rep = ValidationReport()
    quiet(read_aln_provision, MAIN, report=rep)
    assert rep.counts["statswales.totals_checked"] > 100
    assert "statswales.totals_mismatched" not in rep.counts
    text = MAIN.read_text(encoding="utf-8").splitlines()
    i = next(k for k, line in enumerate(text) if line.startswith('"","All Provisions"'))
    cells = next(csv.reader([text[i]]))
    cells[3] = f"{int(cells[3].replace(',', '')) + 50:,}"
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="").writerow(cells)
    text[i] = buf.getvalue()
    rep2 = ValidationReport()
    df = pd.read_csv(io.StringIO("\n".join(text[3:])), dtype=str, keep_default_na=False)
    with pytest.warns(InputWarning, match="do not match their parts"):
        read_aln_provision(df, report=rep2)
    assert rep2.counts["statswales.totals_mismatched"] == 1


def test_counts_not_multiples_of_five_are_warned_about():
    df = pd.DataFrame({"Local authority": ["Conwy"] * 3, "Provision": ["Statemented", "School Action",
                                                                       "School Action Plus"],
                       "2019/20": ["120", "453", "210"]})
    rep = ValidationReport()
    with pytest.warns(InputWarning, match="not multiples of 5"):
        out = read_aln_provision(df, report=rep)
    assert out.attrs["rounded_to"] is None
    assert rep.counts["statswales.not_rounded"] == 1


def test_regions_and_totals_are_left_out_unless_asked():
    out = quiet(read_aln_provision, MAIN)
    assert set(out["area"]) == LA_NAMES
    assert set(out["plan_type"]) == set(PLAN_TYPES)
    kept = quiet(read_aln_provision, MAIN, keep_totals=True)
    assert "Wales" in set(kept["area"]) and "total" in set(kept["plan_type"])
    assert "North Wales" not in set(kept["area"])


def test_area_codes_and_welsh_names():
    out = quiet(read_aln_provision, MAIN, area="code")
    assert set(out["area"]) == set(WELSH_AUTHORITIES)
    df = pd.DataFrame({"Awdurdod lleol": ["Ynys Môn", "Caerdydd", "Cymru"], "Provision": ["Statemented"] * 3,
                       "2023/24": ["30", "280", "3,000"]})
    named = quiet(read_aln_provision, df)
    assert named[["area", "count"]].values.tolist() == [["Cardiff", 280.0], ["Isle of Anglesey", 30.0]]


def test_unknown_provision_labels_are_errors_that_name_the_labels_found():
    df = pd.DataFrame({"Local authority": ["Conwy", "", ""],
                       "Provision": ["Statemented", "Enhanced support", "School Action"],
                       "2019/20": ["120", "455", "210"]})
    with pytest.raises(InputValidationError) as err:
        quiet(read_aln_provision, df)
    msg = str(err.value)
    assert "'Enhanced support'" in msg and "'Statemented'" in msg and "'School Action'" in msg
    assert "row 3" in msg


def test_unknown_area_and_need_labels_are_errors():
    df = pd.DataFrame({"Local authority": ["Atlantis", "Powys"], "Provision": ["Statemented"] * 2,
                       "2019/20": ["5", "10"]})
    with pytest.raises(InputValidationError, match="'Atlantis'.*'Powys'"):
        quiet(read_aln_provision, df)
    needs = pd.DataFrame({"Local authority": ["Powys", ""], "Type of need": ["Dyslexia", "Wanderlust"],
                          "2019/20": ["5", "10"]})
    with pytest.raises(InputValidationError, match="'Wanderlust'.*'Dyslexia'"):
        quiet(read_aln_needs, needs)


def test_a_table_without_a_provision_column_names_its_columns():
    df = pd.DataFrame({"Local authority": ["Powys"], "Gender": ["Boys"], "2019/20": ["5"]})
    with pytest.raises(InputValidationError, match="no provision column.*'Gender'"):
        quiet(read_aln_provision, df)


# --- other layouts ---------------------------------------------------------------------------------


def test_new_service_download_matches_the_old_export():
    rep = ValidationReport()
    new = quiet(read_aln_provision, NEW, report=rep)
    assert rep.counts["statswales.rows_not_counts"] == 96  # the percentages
    old = as_dict(quiet(read_aln_provision, MAIN))
    got = as_dict(new)
    assert set(new["area"]) == {"Cardiff", "Ceredigion", "Powys"}
    for key, v in got.items():
        assert (np.isnan(v) and np.isnan(old[key])) or v == old[key], key
    assert len(got) == 3 * 4 * 5
    with_totals = quiet(read_aln_provision, NEW, keep_totals=True)
    assert {"Wales", "total"} <= set(with_totals["area"]) | set(with_totals["plan_type"])


def test_new_service_total_flag_on_a_non_total_label_is_an_error():
    df = pd.DataFrame({"Data values": ["1,000 [t]"], "Data description": ["Number of pupils"], "Year": ["2023/24"],
                       "Local Authority": ["Powys"], "Provision": ["Statemented"]})
    with pytest.raises(InputValidationError, match=r"marked \[t\]"):
        quiet(read_aln_provision, df)


def test_new_service_only_percentages_is_an_error_naming_the_measures():
    df = pd.DataFrame({"Data values": ["1.5"], "Data description": ["Percentage of pupils"], "Year": ["2023/24"],
                       "Local Authority": ["Powys"], "Provision": ["Statemented"]})
    with pytest.raises(InputValidationError, match="'Percentage of pupils'"):
        quiet(read_aln_provision, df)


def test_one_year_table_takes_its_year_from_the_title():
    with pytest.warns(InputWarning, match="took census year 2024"):
        one = read_aln_provision(ONE_YEAR)
    main = as_dict(quiet(read_aln_provision, MAIN))
    got = as_dict(one)
    assert set(one["year"]) == {2024} and len(got) == 22 * 5
    for key, v in got.items():
        assert (np.isnan(v) and np.isnan(main[key])) or v == main[key], key
    explicit = quiet(read_aln_provision, ONE_YEAR, year=2024)
    pd.testing.assert_frame_equal(explicit, one)


def test_one_year_table_without_a_year_needs_year():
    df = pd.DataFrame({"Local authority": ["Powys"], "Statemented": ["40"], "School Action": ["55"]})
    with pytest.raises(InputValidationError, match="pass year="):
        quiet(read_aln_provision, df)
    out = quiet(read_aln_provision, df, year=2021)
    assert out[["year", "plan_type", "count"]].values.tolist() == [[2021, "school_action", 55.0],
                                                                     [2021, "statement", 40.0]]


def test_excel_download_with_a_merged_title_reads_like_the_csv(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    with open(MAIN, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v == "":
                continue
            plain = v.replace(",", "")
            ws.cell(r, c, int(plain) if plain.isdigit() and r > 4 else v)  # numbers as numbers, as Excel has them
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
    path = tmp_path / "aln.xlsx"
    wb.save(path)
    from_excel = quiet(read_aln_provision, path)
    from_csv = quiet(read_aln_provision, MAIN)
    from_excel.attrs, from_csv.attrs = {}, {}
    pd.testing.assert_frame_equal(from_excel, from_csv)


# --- needs: reports, not pupils --------------------------------------------------------------------


def test_need_figures_are_reports_and_say_so():
    rep = ValidationReport()
    with pytest.warns(InputWarning, match="count reports of a need, not pupils"):
        out = read_aln_needs(NEEDS, report=rep)
    assert out.attrs["unit"] == "reports"
    assert (out["unit"] == "reports").all()
    assert list(out.columns) == ["year", "area", "plan_type", "need", "count", "unit"]
    assert set(out["need"]) == {"MLD", "GLD", "SLD", "PMLD", "DYSL", "DYSC", "DYSP", "ADHD", "ASD", "PMED", "HI",
                                "VI", "MSI", "SLCD", "BESD"}
    # the independent reading of one cell
    with open(NEEDS, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    first = rows[4]  # Bridgend, Statemented, Moderate learning difficulties
    cell = out[(out.area == "Bridgend") & (out.plan_type == "statement") & (out.need == "MLD") & (out.year == 2017)]
    assert cell["count"].item() == float(first[3].replace(",", ""))
    # need totals were checked against the needs (all 15 present)
    assert rep.counts["statswales.totals_checked"] > 0 and "statswales.totals_mismatched" not in rep.counts


def test_major_need_years_before_2017_count_pupils():
    df = pd.DataFrame({"Local authority": ["Powys", ""], "Major need": ["Dyslexia", "Severe learning difficulties"],
                       "2015/16": ["40", "15"], "2016/17": ["45", "20"]})
    out = quiet(read_aln_needs, df)
    assert dict(zip(out["year"], out["unit"])) == {2016: "pupils", 2017: "reports"}


def test_summing_reports_as_pupils_warns_and_missing_stays_missing():
    out = quiet(read_aln_needs, NEEDS)
    with pytest.warns(CountUnitWarning, match="not pupils"):
        totals = sum_pupils(out, by=["year", "area", "plan_type"])
    # a group with a suppressed need is unknown, not the sum of the rest
    has_nan = out.groupby(["year", "area", "plan_type"])["count"].apply(lambda s: s.isna().any())
    merged = totals.set_index(["year", "area", "plan_type"])["count"]
    assert merged[has_nan[has_nan].index].isna().all()
    assert merged[has_nan[~has_nan].index].notna().all()
    pupils = quiet(read_aln_provision, MAIN)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CountUnitWarning)
        sum_pupils(pupils)  # pupils: no warning


# --- shorthand and labels --------------------------------------------------------------------------


@pytest.mark.parametrize("text,number,codes", [
    ("1,234 [t]", "1,234", {"t"}), ("[c]", "", {"c"}), ("12 [p] [r]", "12", {"p", "r"}), ("0 [k]", "0", {"k"}),
    ("305", "305", set()), ("..", "..", set()), ("5,611 (r)", "5,611", {"r"})])
def test_split_shorthand(text, number, codes):
    assert split_shorthand(text) == (number, frozenset(codes))


def test_low_figure_and_confidential_shorthand_are_missing_not_zero():
    df = pd.DataFrame({"Data values": ["0 [k]", "[c]", "[x]", "[z]", "25"], "Year": ["2023/24"] * 5,
                       "Local Authority": ["Powys"] * 5,
                       "Provision": ["Statemented", "School Action", "School Action Plus",
                                     "School maintained individual development plan",
                                     "Local authority maintained individual development plan"]})
    out = quiet(read_aln_provision, df)
    assert out.set_index("plan_type")["count"].isna().to_dict() == {
        "la_idp": False, "school_action": True, "school_action_plus": True, "school_idp": True, "statement": True}


def test_welsh_area_and_plan_type_labels():
    assert all(welsh_area(en) == code and welsh_area(cy) == code for code, (en, cy) in WELSH_AUTHORITIES.items())
    assert welsh_area("South East Wales") == "region" and welsh_area("Wales") == "Wales"
    assert all(plan_type_code(p.label) == p.code for p in PLAN_TYPES.values())
    assert plan_type_code("All Provisions") == "total" and plan_type_code("EHCP") is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 4000).map(lambda v: 5 * v), st.sampled_from(["*", "..", "[c]", "[x]"])),
                min_size=5, max_size=5),
       st.sampled_from(sorted(LA_NAMES)), st.integers(2015, 2021))
def test_property_numbers_are_kept_and_markers_are_missing(values, area, year):
    texts = [f"{v:,}" if isinstance(v, int) else v for v in values]
    df = pd.DataFrame({"Local authority": [area, "", ""], "Provision": ["Statemented", "School Action",
                                                                        "School Action Plus"],
                       f"{year - 1}/{str(year)[2:]}": texts[:3]})
    out = quiet(read_aln_provision, df).set_index("plan_type")["count"]
    for label, v in zip(["statement", "school_action", "school_action_plus"], values[:3]):
        if isinstance(v, int):
            assert out[label] == v
        else:
            assert np.isnan(out[label])


# --- the 'statement or LA-maintained IDP' series ---------------------------------------------------


def test_ehcp_equivalent_from_the_export_is_within_rounding_of_the_truth():
    counts = quiet(read_aln_provision, MAIN)
    series = ehcp_equivalent(counts)
    assert series.attrs["series"] == "statement or LA-maintained IDP"
    truth = pd.read_csv(DATA / "aln_provision_truth.csv")
    truth = truth[truth["provision"].isin(["Statemented", "Local authority maintained individual development plan"])]
    true = truth.groupby(["year", "area"])["pupils"].sum()
    s = series.set_index(["year", "area"])
    complete = s[s["complete"]]
    err = (complete["count"] - true.reindex(complete.index)).abs()
    assert (err <= complete["max_rounding_error"]).all()
    assert complete["max_rounding_error"].max() == 5.0  # two rounded parts in the transfer
    assert s.loc[(2019, "Cardiff"), "max_rounding_error"] == 2.5  # statements only
    # a suppressed LA IDP leaves the sum unknown, never a partial sum
    assert not s.loc[(2022, "Ceredigion"), "complete"] and np.isnan(s.loc[(2022, "Ceredigion"), "count"])
    assert list(series["period"].unique()) == ["sen", "transfer"]
    assert series.attrs["break_years"] == [2022]


def test_across_the_transfer_the_series_moves_less_than_statements():
    """Statements collapse over the transfer; the combined series follows the (growing) demand."""
    counts = quiet(read_aln_provision, MAIN)
    series = ehcp_equivalent(counts)
    always = series.groupby("area")["complete"].all()
    wales = series[series["area"].isin(always[always].index)].groupby("year")[["count", "statement"]].sum()
    assert len(always[always]) == 20  # Ceredigion and Merthyr ('*' LA IDPs in 2022) left out
    change = wales.pct_change().loc[2023:2025]
    assert (change["statement"] < -0.2).all()
    assert (change["count"].abs() < 0.1).all()
    breaks = break_years(counts)
    assert set(breaks["kind"]) == {"idp_starts"} and set(breaks["year"]) == {2022}
    b = breaks.dropna(subset=["combined_change"])
    assert (b["combined_change"].abs() < b["statement_change"].abs()).all()


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from(list(EHCP_EQUIVALENT)), st.integers(2018, 2028)),
                       st.one_of(st.floats(0, 5000, allow_nan=False), st.just(float("nan"))), min_size=1))
def test_property_ehcp_equivalent_sums_what_exists_and_keeps_unknowns_unknown(cells):
    counts = pd.DataFrame([{"year": y, "area": "X", "plan_type": c, "count": v} for (c, y), v in cells.items()])
    out = ehcp_equivalent(counts).set_index("year")
    for year in counts["year"].unique():
        parts = []
        for code in EHCP_EQUIVALENT:
            have = (code, year) in cells
            v = cells.get((code, year), np.nan)
            recorded = [y for (c, y) in cells if c == code]
            beyond = (year > max(recorded)) if recorded and code == "statement" else \
                (year < min(recorded)) if recorded else False
            if np.isnan(v) and (not exists_in(code, int(year)) or (not have and beyond)):
                v = 0.0
            parts.append(v)
        expected = np.nan if np.isnan(parts).any() else sum(parts)
        got = out.loc[year, "count"]
        assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)
        assert out.loc[year, "complete"] == (not np.isnan(expected))
    idp_years = sorted(y for (c, y), v in cells.items() if c == "la_idp" and (np.isnan(v) or v > 0))
    starts = break_years(counts)
    starts = starts[starts["kind"] == "idp_starts"]
    if idp_years and idp_years[0] > counts["year"].min():
        assert starts["year"].tolist() == [idp_years[0]]
    else:
        assert starts.empty


def test_plan_type_windows():
    assert TRANSFER == (2022, 2025)
    assert [exists_in("statement", y) for y in (2021, 2025, 2026)] == [True, True, False]
    assert [exists_in("la_idp", y) for y in (2021, 2022)] == [False, True]


def test_unknown_plan_type_codes_are_errors():
    with pytest.raises(ValueError, match="'EHCP'"):
        ehcp_equivalent(pd.DataFrame({"year": [2024], "plan_type": ["EHCP"], "count": [5.0]}))


# --- the generic StatsWales reader and the ALN readers share one parser -----------------------

def test_read_statswales_and_read_aln_provision_read_the_same_cells():
    """io.public.read_statswales (generic: labels as published) and read_aln_provision (codes,
    checks) read the ALN table's cells through the same parser: the same numbers, the same
    missing cells. The generic reader keeps the not-applicable IDP cells before the reform as
    missing rows and says which reader is meant for this table."""
    from senforecast.io.public import read_statswales

    rep = ValidationReport()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        generic = read_statswales(MAIN, report=rep)
    assert any("read_aln_provision" in str(w.message) for w in caught)
    aln = quiet(read_aln_provision, MAIN)
    g = generic.assign(plan_type=generic["stage"].map(plan_type_code))
    merged = aln.merge(g[["year", "area", "plan_type", "count"]], on=["year", "area", "plan_type"],
                       how="left", suffixes=("", "_generic"), validate="one_to_one")
    assert len(merged) == len(aln) and merged["count_generic"].notna().sum() == aln["count"].notna().sum()
    both = merged["count"].notna()
    assert (merged.loc[both, "count"] == merged.loc[both, "count_generic"]).all()
    assert merged.loc[~both, "count_generic"].isna().all()
    extra = g.merge(aln[["year", "area", "plan_type"]], how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"]
    # what only the ALN reader knows: 'All Provisions' is a total, 'North Wales' a region, and a
    # '.' IDP cell before the reform is no row of data
    idp_before = extra["plan_type"].isin(["school_idp", "la_idp"]) & (extra["year"] < TRANSFER[0])
    known = (extra["plan_type"] == "total") | (extra["area"] == "North Wales") | idp_before
    assert known.all() and idp_before.any()
    assert extra.loc[idp_before, "count"].isna().all()


def test_read_statswales_understands_statswales_shorthand():
    from senforecast.io.public import read_statswales

    df = pd.DataFrame({"Local authority": ["Powys", "", "Conwy"], "Age": ["Age 5", "Age 6", "Age 5"],
                       "2023/24 [note 1]": ["1,205", "[c]", "14,830 [t]"], "2024/25 (r)": [".", "12 [k]", "40"]})
    rep = ValidationReport()
    out = quiet(read_statswales, df, report=rep)
    got = out.set_index(["year", "area", "age_group"])["count"]
    assert got[(2024, "Powys", "Age 5")] == 1205 and np.isnan(got[(2024, "Powys", "Age 6")])
    assert got[(2024, "Conwy", "Age 5")] == 14830 and got[(2025, "Conwy", "Age 5")] == 40
    assert np.isnan(got[(2025, "Powys", "Age 5")]) and np.isnan(got[(2025, "Powys", "Age 6")])  # '.', '12 [k]'
    assert rep.counts["suppressed"] == 3 and rep.counts["labels_filled"] == 1
