"""Code lists and normalisers (evalkit.data.codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.data import codes


def test_nineteen_detailed_groups_and_five_broad():
    assert len(codes.ETHNIC_GROUPS) == 19
    assert set(codes.ETHNIC_GROUPS.values()) == {"Asian", "Black", "Mixed", "White", "Other"}
    assert "BAME" not in " ".join(codes.ETHNIC_GROUP_LABELS)


def test_every_nhs_code_maps_to_a_label():
    assert list(codes.NHS_ETHNIC_CODES) == list("ABCDEFGHJKLMNPRSZ")
    got = codes.ethnic_group(pd.Series(list("ABCDEFGHJKLMNPRSZ")))
    assert got.notna().all()
    assert set(got) <= set(codes.ETHNIC_GROUP_LABELS)


@pytest.mark.parametrize("raw, want", [
    ("H", "Asian or Asian British: Indian"),
    (" h ", "Asian or Asian British: Indian"),
    ("Asian or Asian British - Indian", "Asian or Asian British: Indian"),  # CLD wording
    ("Asian, Asian British or Asian Welsh: Indian", "Asian or Asian British: Indian"),  # ONS
    ("Indian", "Asian or Asian British: Indian"),
    ("R", "Asian or Asian British: Chinese"),
    ("S", "Other ethnic group: Any other ethnic group"),
    ("Other ethnic group: Arab", "Other ethnic group: Arab"),
    ("White: Other White", "White: Any other White background"),
    ("white british", "White: English, Welsh, Scottish, Northern Irish or British"),
    ("Black, Black British, Black Welsh, Caribbean or African: Other Black",
     "Black, Black British, Caribbean or African: Any other Black, Black British or Caribbean "
     "background"),
    ("Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups",
     "Mixed or Multiple ethnic groups: Any other Mixed or Multiple background"),
    ("Z", "Not stated"),
    ("No data - Undeclared or Not known", "Not stated"),
    ("Refused", "Not stated"),
])
def test_ethnicity_variants(raw, want):
    assert codes.ethnic_group(pd.Series([raw])).iat[0] == want


def test_unknown_and_blank_ethnicity_are_nan():
    got = codes.ethnic_group(pd.Series(["Q", "", "N/A", None, "Martian"]))
    assert got.isna().all()


def test_broad_groups():
    detailed = codes.ethnic_group(pd.Series(["H", "N", "F", "A", "S", "Z", "R"]))
    assert codes.ethnic_group_broad(detailed).tolist() == [
        "Asian", "Black", "Mixed", "White", "Other", "Not stated", "Asian"]


def test_any_level_accepts_broad_names():
    got = codes.ethnic_group_any_level(pd.Series(["Asian", "black", "H", "Other", "XX"]))
    assert got.tolist()[:4] == ["Asian", "Black", "Asian or Asian British: Indian", "Other"]
    assert pd.isna(got.iat[4])


@pytest.mark.parametrize("raw, want", [
    ("Gujarati", "Gujarati"), ("gujarati ", "Gujarati"), ("guj", "Gujarati"), ("gu", "Gujarati"),
    ("GU", "Gujarati"), ("Punjabi", "Panjabi"), ("panjabi", "Panjabi"), ("pa", "Panjabi"),
    ("so", "Somali"), ("som", "Somali"), ("eng", "English"), ("", "Not recorded"),
    ("N/A", "Not recorded"), ("NULL", "Not recorded"), (None, "Not recorded"),
    ("mirpuri  pahari", "Mirpuri Pahari"),
])
def test_languages(raw, want):
    assert codes.normalise_language(pd.Series([raw])).iat[0] == want


def test_language_lists_are_sorted_and_deduplicated():
    got = codes.normalise_languages(pd.Series(["gu; English", "eng,guj,Gujarati", "", "Somali"]))
    assert got.tolist() == ["English;Gujarati", "English;Gujarati", "Not recorded", "Somali"]


@pytest.mark.parametrize("lookup, raw, want", [
    (codes.PSR_LOOKUP, "Physical Support: Access & mobility only",
     "Physical Support: Access and mobility only"),
    (codes.PSR_LOOKUP, "Support with Memory & Cognition", "Support with Memory and Cognition"),
    (codes.PSR_LOOKUP, "  mental   health support", "Mental Health Support"),
    (codes.SERVICE_TYPE_LOOKUP, "Long Term Support: Nursing Care", "Long Term Support: Nursing"),
    (codes.SERVICE_TYPE_LOOKUP, "community", "Long Term Support: Community"),
    (codes.DELIVERY_LOOKUP, "Direct Payment", "Direct Payment only"),
    (codes.DELIVERY_LOOKUP, "CASSR Commissioned Support", "CASSR Commissioned Support only"),
    (codes.DELIVERY_LOOKUP, "part dp", "Part Direct Payment"),
    (codes.GENDER_LOOKUP, "F", "Female"), (codes.GENDER_LOOKUP, "male ", "Male"),
    (codes.PA_STATUS_LOOKUP, "ACTIVE", "active"),
    (codes.OUTCOME_LOOKUP, "Withdrawn", "withdrawn"),
    (codes.DP_MANAGED_BY_LOOKUP, "family", "family or nominated person"),
    (codes.DP_USED_FOR_LOOKUP, "personal assistant", "PA"),
    (codes.MATCH_SOURCE_LOOKUP, "Word of Mouth", "word of mouth"),
    (codes.SURVEY_FORMAT_LOOKUP, "Online", "online"),
    (codes.CHANGE_STATUS_LOOKUP, "Implemented", "implemented"),
    (codes.AGE_BAND_LOOKUP, "85 and over", "85+"),
    (codes.AGE_BAND_LOOKUP, "90 +", "90+"),
])
def test_code_variants(lookup, raw, want):
    assert codes.normalise_code(pd.Series([raw]), lookup).iat[0] == want


def test_unknown_code_is_nan():
    assert codes.normalise_code(pd.Series(["Cash"]), codes.DELIVERY_LOOKUP).isna().all()


def test_booleans():
    raw = ["Y", "n", "Yes", "NO", "True", "false", "1", "0"]
    got = [codes.BOOL_LOOKUP[codes.key(v)] for v in raw]
    assert got == [True, False, True, False, True, False, True, False]


def test_age_band_boundaries():
    at = pd.Timestamp("2026-03-31")
    born = pd.Series(pd.to_datetime([
        "2008-04-01",  # 17 (18 tomorrow)
        "2008-03-31",  # 18 today
        "1961-04-01",  # 64
        "1961-03-31",  # 65
        "1951-03-31",  # 75
        "1941-03-31",  # 85
        None,
    ]))
    got = codes.age_band(born, at)
    assert got.tolist()[:6] == ["Under 18", "18-64", "18-64", "65-74", "75-84", "85+"]
    assert pd.isna(got.iat[6])


def test_esp2013_matches_reference(reference_dir):
    ref = pd.read_csv(reference_dir / "methods" / "phe_dsr_inputs.csv")
    weights = ref.loc[ref["area"] == ref["area"].iat[0], "esp2013"].to_numpy()
    np.testing.assert_array_equal(list(codes.ESP2013.values()), weights)
    assert sum(codes.ESP2013.values()) == 100_000
    assert list(codes.ESP2013)[0] == "0-4" and list(codes.ESP2013)[-1] == "90+"
