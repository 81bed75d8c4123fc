"""SPC: XmR limits and Making Data Count rules against NHSRplotthedots, and the p' chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evalkit.stats.spc import p_prime, summary, xmr

LIMIT_COLS = ["mean", "lpl", "upl", "near_lpl", "near_upl"]
FLAG_COLS = ["rebase_group", "outside_limits", "close_to_limits", "relative_to_mean",
             "special_cause_type", "point_type"]


@pytest.fixture(scope="module")
def cases(reference_dir):
    return pd.read_csv(reference_dir / "spc" / "spc_xmr_cases.csv")


@pytest.fixture(scope="module")
def case_summary(reference_dir):
    return pd.read_csv(reference_dir / "spc" / "spc_xmr_summary.csv", dtype={"flagged_points": str,
                                                                           "rules": str})


def _chart(case: pd.DataFrame) -> pd.DataFrame:
    """Run xmr with the settings recorded in the reference rows of one case."""
    first = case.iloc[0]
    fix = None if np.isnan(first["fix_after_n_points"]) else int(first["fix_after_n_points"])
    rebase = case.loc[case["rebase_group"].diff() > 0, "i"].tolist()
    return xmr(case.sort_values("i"), "y", rebase=rebase, fix_after_n_points=fix,
               screen_outliers=bool(first["screen_outliers"]),
               improvement_direction=first["improvement_direction"])


def test_every_reference_case_matches_point_by_point(cases):
    # NHSRplotthedots 0.2.2 (reference/spc/README.md): limits to 1e-9, flags exactly
    assert cases["case"].nunique() == 20
    for name, case in cases.groupby("case", sort=False):
        got = _chart(case)
        assert_allclose(got[LIMIT_COLS], case[LIMIT_COLS], rtol=1e-9, atol=1e-12,
                        err_msg=name)
        for col in FLAG_COLS:
            assert got[col].tolist() == case[col].tolist(), f"{name}: {col}"


def test_every_case_and_rebase_group_matches_summary(cases, case_summary):
    assert len(case_summary) == 21
    for name, case in cases.groupby("case", sort=False):
        got = summary(_chart(case))
        want = case_summary[case_summary["case"] == name].reset_index(drop=True)
        assert got["rebase_group"].tolist() == want["rebase_group"].tolist()
        assert got["n"].tolist() == want["n"].tolist()
        assert_allclose(got[["mean", "lpl", "upl"]].astype(float), want[["mean", "lpl", "upl"]],
                        rtol=1e-9, atol=1e-12, err_msg=name)
        assert got["flagged_points"].tolist() == want["flagged_points"].fillna("").tolist(), name
        assert got["rules"].tolist() == want["rules"].fillna("").tolist(), name


def _series(values) -> pd.DataFrame:
    return pd.DataFrame({"y": np.asarray(values, dtype=float)})


def test_shift_and_trend_lengths_are_parameters():
    # six points above the mean after fourteen around it: a shift at length 6, not at 7
    base = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 10]
    y = base + [12, 11.5, 12.5, 11.8, 12.2, 11.6]
    assert (xmr(_series(y), "y")["special_cause_type"] == "Common Cause").all()
    six = xmr(_series(y), "y", shift_length=6)
    assert six["special_cause_type"].iloc[-6:].eq("6 Points Above CL").all()
    # six rising points: a trend at length 6
    y = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 8, 9, 10, 11, 12, 13, 11, 10, 9, 10]
    got = xmr(_series(y), "y", trend_length=6, improvement_direction="decrease")
    flagged = got[got["special_cause_type"] == "6 Point Trend (Increasing)"]
    assert flagged["i"].tolist() == [11, 12, 13, 14, 15, 16]
    assert flagged["point_type"].eq("special_cause_concern").all()


def test_neutral_direction_gives_high_and_low():
    y = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 30, 10, 11, 9, 10, -10, 10]
    got = xmr(_series(y), "y", improvement_direction="neutral")
    assert got.loc[got["i"] == 14, "point_type"].item() == "special_cause_neutral_high"
    assert got.loc[got["i"] == 19, "point_type"].item() == "special_cause_neutral_low"


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="improvement_direction must be one of"):
        xmr(_series(range(20)), "y", improvement_direction="up")
    with pytest.raises(ValueError, match="fix_after_n_points must be at least 12"):
        xmr(_series(range(20)), "y", fix_after_n_points=5)
    with pytest.raises(ValueError, match=r"rebase value\(s\) \[25\]"):
        xmr(_series(range(20)), "y", rebase=[25])


def test_p_prime_limits_follow_laney():
    rng = np.random.default_rng(11)
    n = rng.integers(200, 2000, size=24)
    # extra-binomial variation: the true share itself moves from month to month
    p_true = np.clip(0.3 + rng.normal(0, 0.03, size=24), 0.01, 0.99)
    data = pd.DataFrame({"month": pd.date_range("2023-01-01", periods=24, freq="MS"),
                         "dp": rng.binomial(n, p_true), "clients": n})
    got = p_prime(data, "dp", "clients", x="month")
    pbar = data["dp"].sum() / data["clients"].sum()
    s = np.sqrt(pbar * (1 - pbar) / data["clients"])
    z = (data["dp"] / data["clients"] - pbar) / s
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    assert_allclose(got["mean"], pbar)
    assert_allclose(got["upl"], pbar + 3 * s * sigma_z)
    assert_allclose(got["near_lpl"], pbar - 2 * s * sigma_z)
    assert sigma_z > 1.5  # the overdispersion the p' chart is there to absorb
    assert (got["lpl"] < got["p"]).sum() >= 22


def test_p_prime_rejects_impossible_counts():
    data = pd.DataFrame({"dp": [12, 3], "clients": [10, 10]})
    with pytest.raises(ValueError, match=r"need 0 <= dp <= clients"):
        p_prime(data, "dp", "clients")
