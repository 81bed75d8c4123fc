"""Kaplan-Meier, medians, log-rank and Cox against R's survival package on the aml data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evalkit.stats.survival import cox, filled_by, kaplan_meier, logrank, median_survival

CONF_TYPES = {"log": "log", "log-log": "loglog", "plain": "plain"}


@pytest.fixture(scope="module")
def aml(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "aml.csv")


@pytest.fixture(scope="module")
def km_expected(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "aml_km_expected.csv")


@pytest.fixture(scope="module")
def summary_expected(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "aml_summary_expected.csv")


@pytest.mark.parametrize("conf_type", list(CONF_TYPES))
def test_km_every_row_matches_survfit(aml, km_expected, conf_type):
    # R 4.2.2, survival 3.5-3: summary(survfit(Surv(time, status) ~ x), censored = TRUE)
    got = kaplan_meier(aml, "time", "status", by="x", conf_type=conf_type)
    assert len(got) == len(km_expected) == 20
    assert got["x"].tolist() == km_expected["group"].tolist()
    for col in ["time", "n_risk", "n_event", "n_censor"]:
        assert got[col].tolist() == km_expected[col].tolist(), col
    suffix = CONF_TYPES[conf_type]
    want = km_expected[["surv", "std_err", f"lower95_{suffix}", f"upper95_{suffix}"]]
    assert_allclose(got[["surv", "std_err", "lower", "upper"]].to_numpy(float),
                    want.to_numpy(float), rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("quantity, conf_type", [("median_survival", "log"),
                                                 ("median_survival_loglog", "log-log")])
def test_medians_with_ci_match_survfit(aml, summary_expected, quantity, conf_type):
    want = summary_expected[summary_expected["quantity"] == quantity].set_index("group")
    got = median_survival(aml, "time", "status", by="x", conf_type=conf_type).set_index("x")
    assert_allclose(got.loc[want.index, ["value", "lower", "upper"]].to_numpy(float),
                    want[["value", "lower95", "upper95"]].to_numpy(float), equal_nan=True)
    open_ended = want.index[want["upper95"].isna()]
    assert got.loc[open_ended, "note"].str.contains("upper limit not reached").all()


def test_logrank_matches_survdiff(aml, summary_expected):
    want = summary_expected.set_index("quantity").loc["logrank_chisq", "value"]
    got = logrank(aml, "time", "status", "x").iloc[0]
    assert got["statistic"] == pytest.approx(want, abs=1e-4)
    assert got["p_value"] == pytest.approx(0.0653, abs=1e-4)  # note column: p=0.0653
    assert got["df"] == 1


@pytest.mark.parametrize("ties, quantity, se", [("efron", "cox_coef_efron", 0.511934),
                                                ("breslow", "cox_coef_breslow", 0.512248)])
def test_cox_matches_coxph(aml, summary_expected, ties, quantity, se):
    # se values from the note column of aml_summary_expected.csv
    want = summary_expected.set_index("quantity").loc[quantity, "value"]
    got = cox(aml, "time", "status", "x", ties=ties).iloc[0]
    assert got["coef"] == pytest.approx(want, abs=1e-6)
    assert got["se"] == pytest.approx(se, abs=1e-6)
    if ties == "efron":  # HR 2.4981 (0.9159 to 6.8130), printed by R to 4 significant digits
        assert (got["value"], got["lower"], got["upper"]) == pytest.approx(
            (2.4981, 0.9159, 6.8130), rel=1e-4)


def test_filled_by_is_one_minus_survival(aml, km_expected):
    got = filled_by(aml, "time", "status", [30, 8.5, 200], by="x", conf_type="log")
    maintained = got[got["x"] == "Maintained"].set_index("days")
    # S(30) for Maintained is the value at t = 28 (censor-only row, no event since t = 23)
    row = km_expected[(km_expected["group"] == "Maintained") & (km_expected["time"] == 28)]
    assert maintained.loc[30, "value"] == pytest.approx(1 - row["surv"].item())
    assert maintained.loc[30, "lower"] == pytest.approx(1 - row["upper95_log"].item())
    assert maintained.loc[30, "upper"] == pytest.approx(1 - row["lower95_log"].item())
    assert maintained.loc[8.5, ["value", "lower", "upper"]].tolist() == [0, 0, 0]
    assert np.isnan(maintained.loc[200, "value"])
    assert maintained.loc[200, "note"] == "beyond the longest follow-up"


def test_inputs_are_checked(aml):
    with pytest.raises(ValueError, match="conf_type must be one of"):
        kaplan_meier(aml, "time", "status", conf_type="arcsin")
    blank = aml.assign(time=aml["time"].where(aml.index != 3))
    with pytest.raises(ValueError, match="1 row\\(s\\) have a missing value"):
        kaplan_meier(blank, "time", "status")
    with pytest.raises(ValueError, match="status must be 0/1"):
        kaplan_meier(aml.assign(status=2), "time", "status")


def _exponential(n: int, seed: int, crossing: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    t = rng.exponential(1 / np.where(x == 1, 2.0, 1.0))
    if crossing:  # group 1: fast early, then never (hazards cross)
        t = np.where(x == 1, np.where(rng.random(n) < 0.5, rng.exponential(0.1, n), 5 + t), t)
    return pd.DataFrame({"time": t, "status": 1, "x": x, "person": np.arange(n)})


def test_cox_clustered_errors_count_a_person_once():
    # each person's request twice: naive errors shrink by sqrt(2), clustered ones do not
    one = _exponential(300, 1)
    twice = pd.concat([one, one], ignore_index=True)
    base = cox(one, "time", "status", "x").iloc[0]
    naive = cox(twice, "time", "status", "x").iloc[0]
    clustered = cox(twice, "time", "status", "x", cluster="person").iloc[0]
    assert naive["se"] == pytest.approx(base["se"] / np.sqrt(2), rel=0.05)
    assert clustered["se"] == pytest.approx(base["se"], rel=0.15)
    assert "clustered by person" in clustered["method"]


def test_cox_reports_the_proportional_hazards_check():
    assert cox(_exponential(400, 2), "time", "status", "x")["ph_p_value"].iloc[0] > 0.05
    crossing = cox(_exponential(400, 3, crossing=True), "time", "status", "x")
    assert crossing["ph_p_value"].iloc[0] < 0.001
