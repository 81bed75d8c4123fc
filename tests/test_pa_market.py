"""Unit tests for evalkit.pa_market on small hand-made frames (expected values worked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import cohorts
from evalkit.analyses import pa_market as pm

S1, S2, S3 = pd.Timestamp("2025-03-31"), pd.Timestamp("2025-09-30"), pd.Timestamp("2026-03-31")


def register_frame() -> pd.DataFrame:
    """Three snapshots; agency C misses the second return; PA p1 listed by two agencies."""
    rows = [
        # snapshot, pa, agency, status, languages, area, ethnic broad, gender, religion
        (S1, "p1", "A", "active", "English;Gujarati", "W1", "Asian", "Female", "Hindu"),
        (S1, "p2", "A", "active", "English", "W1", "White", "Female", "Christian"),
        (S1, "p3", "B", "active", "English;Somali", "W2", "Black", "Male", "Muslim"),
        (S1, "p4", "C", "active", "English", "W2", "White", "Female", "None"),
        (S2, "p1", "A", "active", "English;Gujarati", "W1", "Asian", "Female", "Hindu"),
        (S2, "p2", "A", "active", "English", "W1", "White", "Female", "Christian"),
        (S2, "p3", "B", "left", "English;Somali", "W2", "Black", "Male", "Muslim"),
        (S3, "p1", "A", "active", "English;Gujarati", "W1", "Asian", "Female", "Hindu"),
        (S3, "p1", "B", "active", "English;Gujarati", "W1", "Asian", "Female", "Hindu"),
        (S3, "p2", "A", "inactive", "English", "W1", "White", "Female", "Christian"),
        (S3, "p5", "B", "active", "English;Punjabi", "W2", "Asian", "Male", "Sikh"),
        (S3, "p6", "C", "active", "English", "W3", "White", "Female", "None"),
    ]
    return pd.DataFrame(rows, columns=["snapshot_date", "pa_id", "agency", "status", "languages",
                                       "area_code", "ethnic_group_broad", "gender", "religion"])


def recipients_frame() -> pd.DataFrame:
    """Ten DP recipients employing PAs: Gujarati in W1 (covered) and W2 (not), Somali in W2."""
    langs = ["Gujarati", "Gujarati", "Gujarati", "Somali", "Somali", "English", "English",
             "English", "Not recorded", "Gujarati"]
    areas = ["W1", "W1", "W2", "W2", "W3", "W1", "W2", "W3", "W1", None]
    return pd.DataFrame({"person_id": [f"x{i}" for i in range(10)], "preferred_language": langs,
                         "area_code": areas,
                         "ethnic_group_broad": ["Asian"] * 3 + ["Black"] * 2 + ["White"] * 5})


def test_stated_recognises_blank_and_none_as_no_preference():
    s = pd.Series(["Gujarati", " ", None, "None", "no preference", "Any", "Female", np.nan])
    assert pm.stated(s).tolist() == [True, False, False, False, False, False, True, False]


def test_snapshots_and_choice():
    reg = register_frame()
    assert pm.snapshot_dates(reg) == [S1, S2, S3]
    assert pm.choose_snapshot(reg) == S3
    assert pm.choose_snapshot(reg, "2025-09-30") == S2
    with pytest.raises(ValueError, match="2024-01-01 is not in the PA register.*2025-03-31"):
        pm.choose_snapshot(reg, "2024-01-01")
    assert pm.choose_snapshot(None) is None


def test_active_pas_counts_a_pa_listed_by_two_agencies_once():
    pas = pm.active_pas(register_frame(), S3)
    assert sorted(pas["pa_id"]) == ["p1", "p5", "p6"]


def test_split_languages_one_row_per_language():
    long = pm.split_languages(pm.active_pas(register_frame(), S3))
    assert sorted(long["language"]) == ["English", "English", "English", "Gujarati", "Punjabi"]


def test_returns_received_flags_missing_return():
    ret = pm.returns_received(register_frame())
    assert len(ret) == 9  # 3 agencies x 3 snapshots
    missing = ret[ret["missing"]]
    assert list(zip(missing["agency"], missing["snapshot_date"], strict=True)) == [("C", S2)]
    row = ret[(ret["agency"] == "B") & (ret["snapshot_date"] == S2)].iloc[0]
    assert (row["pas"], row["active_pas"]) == (1, 0)


def test_dp_recipients_keeps_ongoing_dp_holders_one_row_per_person():
    eps = pd.DataFrame({
        "person_id": ["a", "a", "b", "c", "d", "e"],
        "la_code": ["E1"] * 6,
        "service_type": [cohorts.COMMUNITY] * 6,
        "birth_date": pd.Timestamp("1960-01-01"),
        "start_date": pd.to_datetime(["2020-01-01", "2025-01-01", "2024-01-01", "2024-01-01",
                                      "2024-01-01", "2026-06-01"]),
        "end_date": pd.to_datetime([None, None, "2025-01-01", None, None, None]),
        "has_dp": pd.array([True, True, True, True, False, True], dtype="boolean"),
        "dp_used_for": ["PA", "mixed", "PA", "agency care", "PA", "PA"],
        "preferred_language": ["Somali"] * 6})
    at = pd.Timestamp("2026-03-31")
    got = cohorts.dp_recipients(eps, at, pa_only=True)
    assert got["person_id"].tolist() == ["a"]  # b ended, c agency care, d no DP, e not started
    assert sorted(cohorts.dp_recipients(eps, at)["person_id"]) == ["a", "c"]
    without = cohorts.dp_recipients(eps.drop(columns="dp_used_for"), at, pa_only=True)
    assert sorted(without["person_id"]) == ["a", "c"]
    assert cohorts.dp_recipients(cohorts.for_council(eps, "E2"), at).empty


def test_composition_shares_by_source():
    pas = pm.active_pas(register_frame(), S3)
    rec = recipients_frame()
    pop = pd.DataFrame({"ethnic_group_broad": ["Asian", "White", "Black"],
                        "population": [300, 600, 100]})
    comp = pm.composition(pas, rec, pop, "ethnic_group_broad")
    get = comp.set_index(["source", "group"])
    assert get.loc[("Active PAs", "Asian"), "count"] == 2
    assert get.loc[("Active PAs", "Asian"), "value"] == pytest.approx(2 / 3)
    assert get.loc[("DP recipients employing PAs", "White"), "value"] == pytest.approx(0.5)
    assert get.loc[("Working-age population (18-64)", "Black"), "value"] == pytest.approx(0.1)
    assert (comp["lower"] <= comp["value"]).all() and (comp["value"] <= comp["upper"]).all()


def test_composition_by_language_counts_multilingual_pas_in_each_language():
    comp = pm.composition(pm.active_pas(register_frame(), S3), recipients_frame(), None,
                          "language").set_index(["source", "group"])
    assert comp.loc[("Active PAs", "English"), "value"] == pytest.approx(1.0)
    assert comp.loc[("Active PAs", "Punjabi"), "value"] == pytest.approx(1 / 3)
    assert comp.loc[("DP recipients employing PAs", "Somali"), "value"] == pytest.approx(0.2)


def test_composition_without_the_column_is_empty_not_an_error():
    comp = pm.composition(pm.active_pas(register_frame(), S3).drop(columns="religion"),
                          recipients_frame(), None, "religion")
    assert comp.empty


def test_language_coverage_gap_by_hand():
    cov = pm.language_coverage(pm.active_pas(register_frame(), S3), recipients_frame())
    cov = cov.set_index("language")
    # Somali: 2 recipients (W2, W3), no active PA speaks Somali at S3 (p3 left) -> gap 2/2.
    assert cov.loc["Somali", ["recipients", "pas", "no_pa_area", "with_area"]].tolist() == [
        2, 0, 2, 2]
    assert cov.loc["Somali", "value"] == 1.0
    # Gujarati: 4 recipients, 3 with an area (W1, W1, W2); p1 speaks it in W1 -> 1 of 3 uncovered.
    assert cov.loc["Gujarati", ["recipients", "pas", "with_area", "no_pa_area", "areas",
                                "areas_without"]].tolist() == [4, 1, 3, 1, 2, 1]
    assert cov.loc["Gujarati", "value"] == pytest.approx(1 / 3)
    assert cov.loc["Gujarati", "pas_per_10"] == pytest.approx(2.5)
    # English is spoken in every area where English speakers live.
    assert cov.loc["English", "value"] == 0.0
    assert "Not recorded" not in cov.index
    assert cov.index[0] == "Somali"  # ranked by the gap


def test_language_coverage_without_area_column_notes_it():
    rec = recipients_frame().drop(columns="area_code")
    cov = pm.language_coverage(pm.active_pas(register_frame(), S3), rec).set_index("language")
    assert cov["value"].isna().all()
    assert (cov["note"] == "no recipient has a recorded area").all()
    assert cov.loc["Gujarati", "pas"] == 1


def test_language_coverage_no_recipients_is_empty():
    cov = pm.language_coverage(pm.active_pas(register_frame(), S3), recipients_frame().iloc[:0])
    assert cov.empty


def requests_frame() -> pd.DataFrame:
    """Five requests: filled, withdrawn, open, filled with no preference, filled by family."""
    return pd.DataFrame({
        "request_id": ["r1", "r2", "r3", "r4", "r5"],
        "person_id": ["x0", "x1", "x3", "x5", "x6"],
        "request_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2026-03-01", "2025-02-01",
                                        "2025-03-01"]),
        "outcome": ["filled", "withdrawn", "open", "filled", "Filled"],
        "outcome_date": pd.to_datetime(["2025-02-15", "2025-01-21", None, "2025-02-11",
                                        "2025-03-29"]),
        "language_needed": ["Gujarati", "Somali", "", None, "Somali"],
        "ethnicity_preference": ["Asian", None, "Black", None, None],
        "gender_preference": ["Female", "none", None, None, "Male"],
        "hospital_discharge": pd.array([False, True, None, True, False], dtype="boolean"),
        "pa_id": ["p1", None, None, "p6", "p9"],
        "match_source": ["register", None, None, "agency", "family member"]})


def test_recruitment_durations_censors_withdrawn_and_open():
    d = pm.recruitment_durations(requests_frame(), pd.Timestamp("2026-03-31"))
    assert d["days"].tolist() == [45, 20, 30, 10, 28]
    assert d["filled"].tolist() == [True, False, False, True, True]
    assert d["language"].tolist() == [True, True, False, False, True]
    assert d["ethnicity"].tolist() == [True, False, True, False, False]
    assert d["gender"].tolist() == [True, False, False, False, True]
    assert d["faith"].tolist() == [False] * 5  # column absent
    assert d["hospital_discharge"].tolist() == [False, True, False, True, False]
    assert len(d) == 5  # nothing dropped


def test_recruitment_durations_default_extract_date_and_no_requests():
    d = pm.recruitment_durations(requests_frame())
    assert d.loc[2, "days"] == 0  # open request censored at the latest date seen, its own
    assert pm.recruitment_durations(None).empty
    assert pm.recruitment_durations(requests_frame().iloc[:0]).empty


def test_recruitment_groups():
    d = pm.recruitment_durations(requests_frame(), pd.Timestamp("2026-03-31"))
    g = pm.recruitment_groups(d)
    assert len(g[pm.ALL_REQUESTS]) == 5
    assert pm.NO_PREFERENCE_GROUP not in g  # every request states something: empty groups go
    assert len(g["Hospital discharge"]) == 2 and "Faith" not in g


def test_match_achieved_joins_pa_to_register():
    m = pm.match_achieved(requests_frame(), register_frame()).set_index("preference")
    # Language: r1 Gujarati -> p1 speaks it (matched); r5 Somali -> p9 not on register.
    assert m.loc["Language", ["filled", "checked", "not_on_register", "matched"]].tolist() == [
        2, 1, 1, 1]
    assert m.loc["Ethnicity", ["checked", "matched"]].tolist() == [1, 1]  # p1 is Asian
    assert m.loc["Gender", ["checked", "matched"]].tolist() == [1, 1]     # p1 is Female
    assert "Faith" not in m.index


def test_match_sources_family_share():
    eps = recipients_frame().assign(start_date=pd.Timestamp("2024-01-01"))
    ms = pm.match_sources(requests_frame(), eps).set_index(["group", "source"])
    allr = ms.loc[pm.ALL_REQUESTS]
    assert allr.loc["family member", ["requests", "total"]].tolist() == [1, 3]
    assert allr.loc["family member", "value"] == pytest.approx(1 / 3)
    assert ms.loc[("White", "agency"), "requests"] == 1
    assert pm.match_sources(requests_frame().drop(columns="match_source"), eps).empty


def test_snapshot_change_last_two():
    ch = pm.snapshot_change(register_frame())
    row = ch.iloc[0]
    # S2 active: p1, p2; S3 active: p1, p5, p6 -> retained 1 (p1), leavers 1 (p2), joiners 2.
    assert (row["from_date"], row["to_date"]) == (S2, S3)
    assert row[["active_from", "active_to", "joiners", "leavers", "net", "retained"]].tolist() == [
        2, 3, 2, 1, 1, 1]
    assert row["value"] == pytest.approx(0.5)


def test_snapshot_change_by_language_and_all_pairs():
    ch = pm.snapshot_change(register_frame(), by="language", all_pairs=True)
    first = ch[ch["from_date"] == S1].set_index("group")
    # S1 Somali: p3; S2: p3 left -> one leaver, retention 0.
    assert first.loc["Somali", ["active_from", "leavers", "joiners", "net"]].tolist() == [
        1, 1, 0, -1]
    assert first.loc["Somali", "value"] == 0.0
    second = ch[ch["from_date"] == S2].set_index("group")
    assert second.loc["Punjabi", ["active_from", "joiners"]].tolist() == [0, 1]
    assert np.isnan(second.loc["Punjabi", "value"])


def test_snapshot_change_single_snapshot_is_empty():
    reg = register_frame()
    assert pm.snapshot_change(reg[reg["snapshot_date"] == S3]).empty


def composition_s3() -> pd.DataFrame:
    pop = pd.DataFrame({"ethnic_group": ["Asian", "White", "Black"],
                        "population": [300, 600, 100]})
    pop = pop.assign(ethnic_group_broad=pop["ethnic_group"])
    return pm.composition(pm.active_pas(register_frame(), S3), recipients_frame(), pop,
                          "ethnic_group_broad")


def test_dissimilarity_by_hand():
    d = pm.dissimilarity(composition_s3(), n_boot=200).set_index("comparison")
    # PAs 2/3 Asian, 0 Black, 1/3 White; recipients 0.3, 0.2, 0.5.
    want = 0.5 * (abs(2 / 3 - 0.3) + 0.2 + abs(1 / 3 - 0.5))
    assert d.loc["Active PAs vs DP recipients employing PAs", "value"] == pytest.approx(want)
    pop = 0.5 * (abs(2 / 3 - 0.3) + 0.1 + abs(1 / 3 - 0.6))
    assert d.loc["Active PAs vs Working-age population (18-64)", "value"] == pytest.approx(pop)
    assert (d["lower"] <= d["upper"]).all()


def test_representation_ratio_and_relative_likelihood_by_hand():
    r = pm.representation(composition_s3()).set_index(["measure", "group"])
    assert r.loc[("ratio_to_recipients", "Asian"), "value"] == pytest.approx((2 / 3) / 0.3)
    # SC-WRES: (PAs/adults) for the group over the same for White adults.
    assert r.loc[("relative_likelihood", "Asian"), "value"] == pytest.approx(
        (2 / 300) / (1 / 600))
    assert r.loc[("relative_likelihood", "Black"), "value"] == 0
    assert ("relative_likelihood", "White") not in r.index


def test_workforce_measures_without_population_or_pas():
    comp = composition_s3()
    no_pop = comp[comp["source"] != "Working-age population (18-64)"]
    assert list(pm.dissimilarity(no_pop, n_boot=50)["comparison"]) == [
        "Active PAs vs DP recipients employing PAs"]
    assert set(pm.representation(no_pop)["measure"]) == {"ratio_to_recipients"}
    only_rec = comp[comp["source"] == "DP recipients employing PAs"]
    assert pm.dissimilarity(only_rec).empty and pm.representation(only_rec).empty


def test_faith_preference_matched_on_religion_and_in_the_cox_groups():
    req = requests_frame().assign(faith_preference=["Hindu", None, "Muslim", None, "Sikh"])
    m = pm.match_achieved(req, register_frame()).set_index("preference")
    # r1 wants Hindu, PA p1 is Hindu; r5's PA p9 is not on the register.
    assert m.loc["Faith", ["filled", "checked", "matched"]].tolist() == [2, 1, 1]
    d = pm.recruitment_durations(req, pd.Timestamp("2026-03-31"))
    assert d["faith"].tolist() == [True, False, True, False, True]
    assert len(pm.recruitment_groups(d)["Faith"]) == 3
    no_religion = pm.match_achieved(req, register_frame().drop(columns="religion"))
    assert "Faith" not in set(no_religion["preference"])


def test_language_gap_finding_stays_short_enough_for_long_language_names(tmp_path):
    from evalkit.report import findings

    row = pd.Series({"language": "British Sign Language", "areas": 12, "areas_without": 7,
                     "share_of_recipients": 0.006, "value": 0.64, "no_pa_area": 1280,
                     "with_area": 2000})
    sentence = pm.gap_sentence(row)
    assert "British Sign Language" in sentence and "64% (1,280 of the 2,000" in sentence
    assert "7 of the 12" in sentence
    findings.write_key_findings([sentence], tmp_path / "key_findings.md")  # checks its length


def test_council_register_split_by_area_rows_is_the_scan():
    # areas shared by two councils, an area of no council, missing areas, repeated areas
    rng = np.random.default_rng(3)
    register = pd.DataFrame({"pa_id": [f"PA{i:04d}" for i in range(300)],
                             "area_code": rng.choice(["A1", "A2", "B1", "C9", None], 300)})
    episodes = pd.DataFrame({"la_code": ["LA1", "LA1", "LA2", "LA2", "LA3"],
                             "area_code": ["A1", "A2", "A2", "B1", None]})
    by_area = pm.area_rows(register)
    for la in ("LA1", "LA2", "LA3", "LA4"):
        scanned = pm.council_register(register, episodes, None, la)
        split = pm.council_register(register, episodes, None, la, by_area)
        pd.testing.assert_frame_equal(split, scanned)
    assert len(pm.council_register(register, episodes, None, "LA2", by_area)) == \
        register["area_code"].isin(["A2", "B1"]).sum()
