"""pa_market's time-to-recruit path: the aml reference (R survival 3.5-3) through the wrapper,
and edge cases (no requests, no fills, a preference nobody states)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

from evalkit.analyses import pa_market as pm
from evalkit.analyses.pa_market.display_recruitment import proportional_hazards

BASE = pd.Timestamp("2024-01-01")


def aml_as_requests(aml: pd.DataFrame) -> pd.DataFrame:
    """aml as PA requests: time in days, relapse = filled, censored = withdrawn;
    Nonmaintained patients state a language, Maintained ones state nothing."""
    non = aml["x"] == "Nonmaintained"
    return pd.DataFrame({
        "request_id": [f"r{i}" for i in range(len(aml))],
        "person_id": [f"p{i}" for i in range(len(aml))],
        "request_date": BASE,
        "outcome": np.where(aml["status"] == 1, "filled", "withdrawn"),
        "outcome_date": BASE + pd.to_timedelta(aml["time"], unit="D"),
        "language_needed": np.where(non, "Somali", None),
        "ethnicity_preference": None, "gender_preference": None,
        "hospital_discharge": pd.array([False] * len(aml), dtype="boolean"),
        "pa_id": None})


@pytest.fixture(scope="module")
def aml_durations(reference_dir):
    aml = pd.read_csv(reference_dir / "survival" / "aml.csv")
    return pm.recruitment_durations(aml_as_requests(aml), BASE + pd.Timedelta(days=365))


GROUPS = {"Maintained": pm.NO_PREFERENCE_GROUP, "Nonmaintained": "Language"}


def test_km_matches_r_aml(reference_dir, aml_durations):
    # Tolerance: reference/survival/README.md reports agreement to 1e-15; we allow 1e-9.
    want = pd.read_csv(reference_dir / "survival" / "aml_km_expected.csv")
    got = pm.recruitment_curves(aml_durations)
    for r_group, ours in GROUPS.items():
        w = want[want["group"] == r_group].reset_index(drop=True)
        g = got[got["group"] == ours].reset_index(drop=True)
        assert_allclose(g["time"], w["time"])
        assert_allclose(g[["n_risk", "n_event", "n_censor"]], w[["n_risk", "n_event",
                                                                  "n_censor"]])
        assert_allclose(g["surv"], w["surv"], rtol=1e-9)
        assert_allclose(g[["lower", "upper"]], w[["lower95_log", "upper95_log"]], rtol=1e-9)


def test_medians_match_r_aml(reference_dir, aml_durations):
    want = pd.read_csv(reference_dir / "survival" / "aml_summary_expected.csv")
    want = want[want["quantity"] == "median_survival"].set_index("group")
    got = pm.recruitment_medians(aml_durations).set_index("group")
    for r_group, ours in GROUPS.items():
        assert got.loc[ours, "value"] == want.loc[r_group, "value"]
        assert got.loc[ours, "lower"] == want.loc[r_group, "lower95"]
        assert np.isnan(got.loc[ours, "upper"]) and np.isnan(want.loc[r_group, "upper95"])


def test_cox_matches_r_aml(reference_dir, aml_durations):
    want = pd.read_csv(reference_dir / "survival" / "aml_summary_expected.csv")
    row = want[want["quantity"] == "cox_coef_efron"].iloc[0]
    se = float(re.search(r"se ([0-9.]+)", row["note"]).group(1))
    got = pm.recruitment_cox(aml_durations).set_index("group")
    # Nonmaintained (language stated) vs Maintained: R coxph coef 0.915532, se 0.511934 (6 dp).
    log_lo, log_hi = np.log(got.loc["language", ["lower", "upper"]].astype(float))
    assert np.log(got.loc["language", "value"]) == pytest.approx(row["value"], abs=1e-6)
    assert (log_hi - log_lo) / (2 * norm.ppf(0.975)) == pytest.approx(se, abs=1e-6)
    assert got.loc["ethnicity", "note"] == "no request states it"


def test_filled_by_targets(aml_durations):
    fb = pm.recruitment_filled_by(aml_durations, target_days=(14, 28), discharge_target_days=7)
    allr = fb[fb["group"] == pm.ALL_REQUESTS].set_index("days")
    assert list(allr.index) == [7, 14, 28]  # all requests also get the discharge target
    lang = fb[fb["group"] == "Language"].set_index("days")
    assert list(lang.index) == [14, 28]
    # Nonmaintained: events at 5, 5, 8, 8, 12 of 12 -> S(14) = 7/12 (censor at 16 after).
    assert lang.loc[14, "value"] == pytest.approx(5 / 12)


def test_no_requests_and_no_fills_give_empty_frames():
    empty = pm.recruitment_durations(None)
    for f in (pm.recruitment_curves, pm.recruitment_medians, pm.recruitment_filled_by,
              pm.recruitment_cox):
        assert f(empty).empty
    req = aml_as_requests(pd.DataFrame({"time": [5, 9], "status": [0, 0],
                                        "x": ["Maintained", "Nonmaintained"]}))
    none_filled = pm.recruitment_durations(req, BASE + pd.Timedelta(days=30))
    assert pm.recruitment_cox(none_filled).empty
    med = pm.recruitment_medians(none_filled)
    assert med["value"].isna().all() and med["note"].str.contains("not reached").all()


def test_cox_reports_the_proportional_hazards_check(aml_durations):
    got = pm.recruitment_cox(aml_durations).set_index("group").loc["language"]
    assert 0 <= float(got["ph_p_value"]) <= 1


def test_the_page_says_how_the_cox_model_was_checked():
    c = pd.DataFrame({"preference": ["Language", "Gender"], "ph_p_value": [0.01, 0.4]})
    text = proportional_hazards(c)
    assert "language changed over the waiting time" in text
    assert "held steady" in proportional_hazards(c.assign(ph_p_value=0.5))


def test_cox_errors_clustered_by_person_even_with_a_request_withdrawn_before_any_fill(
        aml_durations):
    """Person-clustered errors when people repeat requests. A request withdrawn on day 2, before
    the first was filled (day 5), is in no risk set: statsmodels gave it a NaN score residual and
    every clustered interval came out NaN (synthetic seeds 6, 12, 15, 19). It carries no
    information, so the hazard ratio is the same with or without it."""
    paired = aml_durations.assign(person_id=[f"p{i // 2}" for i in range(len(aml_durations))])
    early = paired.iloc[[0]].assign(days=2.0, filled=False, outcome="withdrawn")
    got = pm.recruitment_cox(pd.concat([paired, early], ignore_index=True))
    got = got.set_index("group").loc["language"]
    assert np.isfinite(got[["lower", "upper", "p_value"]].astype(float)).all()
    assert "clustered by person_id" in got["method"]
    clustered = pm.recruitment_cox(paired).set_index("group").loc["language"]
    assert float(got["value"]) == pytest.approx(float(clustered["value"]), rel=1e-9)
    assert float(got["upper"]) == pytest.approx(float(clustered["upper"]), rel=1e-9)
    alone = pm.recruitment_cox(aml_durations).set_index("group").loc["language"]
    assert "clustered" not in alone["method"]  # one request each: model-based errors
    assert float(clustered["upper"]) != pytest.approx(float(alone["upper"]))
    assert proportional_hazards(got.to_frame().T).startswith("Intervals allow for one person")


def test_no_preference_type_modelled_is_still_publishable() -> None:
    """Isles of Scilly (synthetic England): no preference type could enter the Cox model, so the
    frame's `method` column was all missing, read as a number, and publication refused it (02
    failed). Rows without a model have no method, as text."""
    from evalkit.analyses.pa_market.publish import SPECS
    from evalkit.sdc.protect import Rules, protect_frame

    durations = pd.DataFrame({"days": [3, 10, 20, 40], "filled": [1, 1, 0, 1],
                              "person_id": ["a", "b", "c", "d"],
                              **{k: [0, 0, 0, 0] for k in pm.PREFERENCE_LABELS}})
    cox = pm.recruitment_cox(durations)
    assert cox["note"].eq("no request states it").all() and cox["method"].isna().all()
    assert protect_frame(cox, SPECS["cox"], Rules(), "cox")["method"].isna().all()


def test_a_preference_stated_in_the_same_requests_as_another_is_left_out(aml_durations):
    """Two preference types stated in exactly the same requests cannot be told apart: the later
    one is left out with a note and the model is the first one's alone (not a singular fit)."""
    twin = aml_durations.assign(hospital_discharge=aml_durations["language"])
    got = pm.recruitment_cox(twin).set_index("group")
    assert "told apart" in got.loc["hospital_discharge", "note"]
    assert np.isnan(got.loc["hospital_discharge", "value"])
    alone = pm.recruitment_cox(aml_durations).set_index("group")
    assert got.loc["language", "value"] == pytest.approx(alone.loc["language", "value"])
