"""Unit tests for the uptake analysis (and the cohort and GLM pieces it uses) on small hand-made
frames (expected values worked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import cohorts
from evalkit.analyses import uptake as u
from evalkit.stats import glm

END = pd.Timestamp("2026-03-31")
COMM = cohorts.COMMUNITY
BROAD = "ethnic_group_broad"


def episodes(rows: list[dict]) -> pd.DataFrame:
    """Episodes with defaults for every column the snapshot needs."""
    base = {"la_code": "E06000016", "service_type": COMM, "start_date": "2024-01-01",
            "end_date": None, "birth_date": "1960-06-15", "has_dp": False, "gender": "Female",
            "primary_support_reason": "Physical Support: Personal care support",
            "ethnic_group_broad": "White", "ethnic_group": "White: Irish"}
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("start_date", "end_date", "birth_date"):
        df[c] = pd.to_datetime(df[c])
    df["has_dp"] = df["has_dp"].astype("boolean")
    return df


def people(n_by_group: dict[str, tuple[int, int]], **extra) -> pd.DataFrame:
    """A snapshot-like frame: for each group (people, with DP)."""
    rows = []
    for g, (n, k) in n_by_group.items():
        rows += [{BROAD: g, "has_dp": i < k, "age_band": "18-64", "gender": "Female",
                  "primary_support_reason": "R1", "la_code": "E06000016", **extra}
                 for i in range(n)]
    return pd.DataFrame(rows)


def test_snapshot_keeps_ongoing_adult_community_support_once_per_person():
    ep = episodes([
        {"person_id": "a"},                                     # ongoing: in
        {"person_id": "b", "end_date": "2026-03-31"},            # ends on the day: in (NHS)
        {"person_id": "c", "end_date": "2026-04-01"},            # ends after: in
        {"person_id": "d", "start_date": "2026-04-01"},          # starts after: out
        {"person_id": "e", "service_type": "Long Term Support: Residential"},  # out
        {"person_id": "f", "birth_date": "2010-01-15"},          # aged 16: out
        {"person_id": "g", "has_dp": True},                      # two ongoing episodes, one DP
        {"person_id": "g", "start_date": "2025-01-01"},
        {"person_id": "h", "la_code": "E06000017"},              # other council
    ])
    snap = cohorts.snapshot(ep, END, la_code="E06000016")
    assert sorted(snap["person_id"]) == ["a", "b", "c", "g"]
    assert snap.set_index("person_id").loc["g", "has_dp"]
    assert snap["age_band"].astype(str).eq("65-74").all()
    assert len(cohorts.snapshot(ep, END, la_code="all")) == 5


def test_counts_and_uptake_use_wilson():
    snap = people({"White": (10, 4), "Asian": (5, 0)})
    c = u.counts(snap, BROAD).set_index(BROAD)
    assert c.loc["White"].tolist() == [10, 4] and c.loc["Asian"].tolist() == [5, 0]
    up = u.uptake(snap, BROAD).set_index(BROAD)
    assert up.loc["White", "value"] == pytest.approx(0.4)
    # Wilson 95% for 0/5: upper = z^2 / (5 + z^2)
    z2 = 1.959963984540054 ** 2
    assert up.loc["Asian", "upper"] == pytest.approx(z2 / (5 + z2), rel=1e-6)
    assert up.loc["Asian", "lower"] == pytest.approx(0, abs=1e-12)


def test_language_group_keeps_common_lumps_rare_and_keeps_not_recorded():
    lang = pd.Series(["English"] * 3 + ["Somali"] * 10 + ["Tamil"] * 2 + [None, "Not recorded"])
    out = u.language_group(lang, min_speakers=10)
    assert out.tolist() == (["English"] * 3 + ["Somali"] * 10 + [u.OTHER_LANGUAGE] * 2
                            + [u.NOT_RECORDED] * 2)


def test_interpreter_group():
    s = pd.Series([True, False, None], dtype="boolean")
    assert u.interpreter_group(s).tolist() == ["yes", "no", u.NOT_RECORDED]


def test_choose_reference_falls_back():
    levels = pd.Series(["White: Irish"] * 3 + ["White: Roma"]
                       + ["Asian or Asian British: Indian"] * 5)
    assert u.choose_reference(levels, "White") == "White: Irish"
    assert u.choose_reference(pd.Series(["Asian"] * 2 + ["Black"]), "White") == "Asian"
    assert u.choose_reference(pd.Series(["Black", "White"]), "White") == "White"


def test_odds_ratio_without_covariates_is_the_crude_odds_ratio():
    # White 30/100 vs Asian 20/100: OR = (20/80)/(30/70) = 0.5833; Woolf SE
    cells = pd.DataFrame({"group": ["White", "Asian"], "people": [100, 100], "dp": [30, 20]})
    out = glm.odds_ratios(cells, ["group"], {"group": "White"}).set_index("group")
    assert out.loc["Asian", "value"] == pytest.approx((20 / 80) / (30 / 70))
    se = np.sqrt(1 / 20 + 1 / 80 + 1 / 30 + 1 / 70)
    crude = (20 / 80) / (30 / 70)
    assert out.loc["Asian", "lower"] == pytest.approx(crude * np.exp(-1.959964 * se), rel=1e-5)
    assert out.loc["Asian", "reference"] == "White"


def test_odds_ratio_handles_a_group_with_no_dp_and_a_single_group():
    cells = pd.DataFrame({"group": ["White", "Asian", "Black"], "people": [100, 100, 7],
                          "dp": [30, 20, 0]})
    out = glm.odds_ratios(cells, ["group"], {"group": "White"}).set_index("group")
    assert np.isnan(out.loc["Black", "value"]) and "nobody" in out.loc["Black", "note"]
    assert out.loc["Asian", "value"] == pytest.approx((20 / 80) / (30 / 70))
    one = glm.odds_ratios(cells.iloc[:1], ["group"], {"group": "White"})
    assert one.empty
    none = glm.odds_ratios(cells.iloc[2:], ["group"], {"group": "White"})  # nobody has a DP
    assert list(none["group"]) == ["Black"] and none["value"].isna().all()
    assert none["note"].str.startswith("nobody").all()


def test_odds_ratio_adjusts_for_confounding():
    # Within each age band the OR is exactly 0.5, but Asian people are mostly in the low-uptake
    # band, so the crude OR is lower; the adjusted OR must be 0.5.
    cells = pd.DataFrame({
        "group": ["White", "Asian", "White", "Asian"], "age_band": ["18-64", "18-64", "85+", "85+"],
        "people": [1000, 100, 100, 1000], "dp": [500, 33, 20, 111]})
    # odds: White 1.0 / Asian 0.4925 (~0.5); White 0.25 / Asian 0.1249 (~0.5)
    out = glm.odds_ratios(cells, ["group", "age_band"], {"group": "White"}).set_index("group")
    assert out.loc["Asian", "value"] == pytest.approx(0.5, abs=0.01)
    assert (out["factor"] == "age_band").sum() == 1


def test_adjusted_odds_ratios_names_language_and_interpreter_levels():
    rng = np.random.default_rng(3)
    n = 4000
    snap = pd.DataFrame({
        BROAD: rng.choice(["White", "Asian"], n), "has_dp": rng.random(n) < 0.4,
        "preferred_language": rng.choice(["English", "Somali", "Tamil", None], n,
                                         p=[0.8, 0.15, 0.001, 0.049]),
        "interpreter_required": pd.array(rng.random(n) < 0.1, dtype="boolean"),
        "age_band": rng.choice(["18-64", "65-74"], n), "gender": "Female",
        "primary_support_reason": rng.choice(["R1", "R2"], n), "la_code": "E06000016"})
    out = u.adjusted_odds_ratios(snap, BROAD, "White")
    got = set(zip(out["factor"], out["group"], out["reference"], strict=True))
    assert {("group", "Asian", "White"), ("language", "Somali", "English"),
            ("interpreter", "yes", "no"), ("language", u.NOT_RECORDED, "English")} <= got
    assert ("language", "Tamil", "English") not in got
    assert "gender" not in set(out["factor"])  # one level only: left out


def test_model_frame_adds_council_when_several():
    snap = people({"White": (4, 2)})
    snap.loc[:1, "la_code"] = "E06000017"
    _, factors = u.model_frame(snap, BROAD)
    assert factors[-1] == "la_code" and "language" not in factors


def test_adult_fraction():
    bands = pd.Series(["Under 18", "18-64", "0-4", "15-19", "90+", "85+", "65-74"])
    assert cohorts.adult_fraction(bands).tolist() == pytest.approx([0, 1, 0, 0.4, 1, 1, 1])


def test_not_stated_bounds():
    snap = people({"White": (10, 5), "Asian": (10, 2), u.NOT_STATED: (5, 0)})
    b = u.not_stated_bounds(snap, BROAD).set_index(BROAD)
    assert b.loc["Asian", "share_recorded"] == pytest.approx(0.2)
    assert b.loc["Asian", "share_if_all_not_stated"] == pytest.approx(2 / 15)
    assert u.NOT_STATED not in b.index


def test_quarter_ends():
    q = u.quarter_ends("2026-03-31", 3)
    assert q == [pd.Timestamp("2025-09-30"), pd.Timestamp("2025-12-31"), END]


def test_sparse_binomial_fit_matches_statsmodels_glm():
    # statsmodels' dense GLM is the oracle for the sparse IRLS (same estimates and Wald SEs)
    import statsmodels.api as sm
    rng = np.random.default_rng(7)
    cells = pd.DataFrame({"group": rng.choice(["White", "Asian", "Black"], 300),
                          "age_band": rng.choice(["18-64", "65-74", "85+"], 300),
                          "la_code": rng.choice(["A", "B", "C", "D"], 300)})
    cells["people"] = rng.integers(5, 60, 300)
    cells["dp"] = rng.binomial(cells["people"], 0.3)
    factors = ["group", "age_band", "la_code"]
    refs = {"group": "White", "age_band": "18-64", "la_code": "A"}
    out = glm.odds_ratios(cells, factors, refs).set_index(["factor", "group"])
    X = pd.get_dummies(cells[factors], dtype=float)
    X = sm.add_constant(X.drop(columns=["group_White", "age_band_18-64", "la_code_A"]))
    fit = sm.GLM(np.column_stack([cells["dp"], cells["people"] - cells["dp"]]), X,
                 family=sm.families.Binomial()).fit()
    ci = np.exp(fit.conf_int())
    for f, lvl in [("group", "Asian"), ("age_band", "85+"), ("la_code", "C")]:
        row = out.loc[(f, lvl)]
        assert row["value"] == pytest.approx(np.exp(fit.params[f"{f}_{lvl}"]), rel=1e-8)
        assert row["lower"] == pytest.approx(ci.loc[f"{f}_{lvl}", 0], rel=1e-6)
        assert row["p_value"] == pytest.approx(fit.pvalues[f"{f}_{lvl}"], rel=1e-4, abs=1e-12)


def test_geometric_mean_ratio_of_log_normal_set_up_times():
    # days = 40 (White) or 60 (Asian) times a factor symmetric on the log scale: ratio exactly 1.5
    f = [0.5, 1.0, 2.0] * 4
    d = pd.DataFrame({BROAD: ["White"] * 12 + ["Asian"] * 12,
                      "days": [40 * x for x in f] + [60 * x for x in f],
                      "age_band": "18-64", "gender": "Female", "primary_support_reason": "R1"})
    r = u.geometric_mean_ratio(d, "days", BROAD, "White").set_index(BROAD)
    assert r.loc["Asian", "value"] == pytest.approx(1.5)
    assert r.loc["Asian", "lower"] < 1.5 < r.loc["Asian", "upper"]
    assert r.loc["Asian", "people"] == 12


def test_setup_days_chooses_dps_first_paid_in_the_period():
    ep = episodes([
        {"person_id": "a", "has_dp": True, "dp_requested_date": "2025-01-01",
         "dp_first_payment_date": "2025-02-10"},                   # paid in period: 40 days
        {"person_id": "b", "has_dp": True, "dp_requested_date": "2022-01-01",
         "dp_first_payment_date": "2022-03-01"},                   # paid before the period: out
        {"person_id": "c", "has_dp": True, "dp_requested_date": "2026-03-01",
         "dp_first_payment_date": None},                           # not yet paid: out
    ])
    for c in ("dp_requested_date", "dp_first_payment_date"):
        ep[c] = pd.to_datetime(ep[c])
    d = u.setup_days(ep, BROAD, END, pd.Timestamp("2023-03-31"))
    assert d["days"].tolist() == [40] and d["age_band"].tolist() == ["65-74"]
    assert u.setup_days(ep.drop(columns="dp_requested_date"), BROAD, END, END) is None


def test_carer_share_counts_recorded_people_only():
    snap = people({"White": (10, 0), "Asian": (4, 0)})
    snap["has_unpaid_carer"] = pd.array([True] * 4 + [False] * 5 + [None]
                                        + [True] * 3 + [False], dtype="boolean")
    c = u.carer_share(snap, BROAD).set_index(BROAD)
    assert c.loc["White", "value"] == pytest.approx(4 / 9)
    assert c.loc["Asian", "value"] == pytest.approx(3 / 4) and c.loc["White", "people"] == 9
    assert u.carer_share(snap.drop(columns="has_unpaid_carer"), BROAD) is None
