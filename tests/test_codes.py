"""Need-code schemes: bundled schemes load, groupings and crosswalks map, unmapped codes are reported."""
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.core.codes import NeedScheme, get_scheme, list_schemes, map_needs
from senforecast.core.errors import InputWarning, SenForecastError

WALES_15 = {"MLD", "GLD", "SLD", "PMLD", "DYSL", "DYSC", "DYSP", "ADHD", "BESD", "ASD", "SLCD",
            "HI", "VI", "MSI", "PMED"}
SEN2_13 = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "ASD", "HI", "VI", "MSI", "PD", "OTH", "NSA"}


def test_bundled_schemes_have_the_published_codes():
    assert set(get_scheme("wales_plasc").codes) == WALES_15
    assert set(get_scheme("england_sen2").codes) == SEN2_13
    assert set(list_schemes()["name"]) == {"wales_plasc", "england_sen2"}


def test_aliases_resolve_to_the_same_scheme():
    assert get_scheme("wales_aln").name == "wales_plasc"
    assert get_scheme("SEN2").name == "england_sen2"
    with pytest.raises(SenForecastError, match="unknown need-code scheme"):
        get_scheme("scotland")


def test_every_code_has_a_label_and_every_grouping_covers_the_scheme():
    for name in list_schemes()["name"]:
        s = get_scheme(name)
        assert all(s.label(c) for c in s.codes)
        assert len(set(s.codes)) == len(s)
        for g in s.groupings:
            assert set(s.grouping(g)) == set(s.codes), (name, g)


def test_strategy_grouping_matches_the_published_table_categories():
    g = get_scheme("wales_plasc").grouping("wales_strategy")
    assert {c for c, grp in g.items() if grp == "CL"} == {"GLD", "MLD", "SLD", "PMLD"}
    assert {c for c, grp in g.items() if grp == "SENS"} == {"HI", "VI", "MSI"}
    assert {c for c, grp in g.items() if grp == "SPLD"} == {"DYSL", "DYSC", "DYSP"}


def test_crosswalk_reports_codes_without_a_mapping():
    with pytest.warns(InputWarning, match="NSA"):
        m = map_needs(pd.Series(["ASD", "OTH", "NSA", "NSA", "SEMH"], index=[10, 11, 12, 13, 14]),
                      "england_sen2", "wales_plasc")
    assert list(m.mapped.index) == [10, 11, 12, 13, 14]  # nothing dropped
    assert m.mapped.loc[10] == "ASD" and m.mapped.loc[14] == "BESD"
    assert m.mapped.loc[[11, 12, 13]].isna().all()
    assert dict(zip(m.unmapped["code"], m.unmapped["count"])) == {"NSA": 2, "OTH": 1}
    assert m.n_unmapped == 3


def test_unknown_codes_and_missing_values_are_reported_or_raise():
    with pytest.raises(SenForecastError, match="ZZZ"):
        map_needs(["ASD", "ZZZ"], "wales_plasc", "wales_strategy", errors="raise")
    m = map_needs(["ASD", None, "ZZZ"], "wales_plasc", "wales_strategy", errors="ignore", fill="UNMAPPED")
    assert list(m.mapped) == ["ASD", "UNMAPPED", "UNMAPPED"]
    assert set(m.unmapped["code"]) == {"ZZZ", "<missing>"}


def test_wales_to_england_is_total():
    s = get_scheme("wales_plasc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = map_needs(list(s.codes), s, "england_sen2")
    assert m.n_unmapped == 0
    assert set(m.mapped) <= SEN2_13


def test_user_grouping_from_group_to_codes():
    s = get_scheme("wales_plasc").with_grouping(
        "two", {"CL": ["GLD", "MLD", "SLD", "PMLD"]}, labels={"CL": "Cognition and learning"})
    m = map_needs(["MLD", "ASD"], s, "two", errors="ignore")
    assert m.mapped.iloc[0] == "CL" and pd.isna(m.mapped.iloc[1])
    assert s.label("CL") == "Cognition and learning"
    with pytest.raises(SenForecastError, match="not in scheme"):
        s.with_grouping("bad", {"X": ["NOPE"]})


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(sorted(WALES_15) + ["zzz", "", "asd", "Dyslexia"]), max_size=40))
def test_mapping_conserves_every_value(codes):
    """Mapped + unmapped = input, for any list of codes (nothing silently dropped)."""
    m = map_needs(codes, "wales_plasc", "area_of_need", errors="ignore")
    assert len(m.mapped) == len(codes)
    assert int(m.mapped.notna().sum()) + m.n_unmapped == len(codes)


def test_scheme_is_a_needscheme_with_readable_repr():
    s = get_scheme("england_sen2")
    assert isinstance(s, NeedScheme)
    assert "england_sen2" in repr(s) and "sen2_broad" in repr(s)
    assert s.unknown(["ASD", "XX", "XX"]) == ["XX"]
