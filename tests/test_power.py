"""Power: the analytic ITS minimum detectable effect checked by simulation, and survey means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from evalkit.stats.its import its
from evalkit.stats.power import (
    its_mde,
    its_months_needed,
    its_power,
    mde_from_se,
    mean_difference_mde,
    mean_difference_n,
)


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_its_mde_gives_about_80_percent_power_in_simulation(direction):
    # 36 months before, 24 after, 30 events a month, Poisson counts; fit as the notebooks do
    baseline, n_pre, n_post, reps = 30.0, 36, 24, 120
    rr = its_mde(baseline, n_pre, n_post, direction=direction)
    assert (rr > 1) if direction == "increase" else (rr < 1)
    rng = np.random.default_rng(20240601)
    t = np.arange(1, n_pre + n_post + 1)
    post = (t > n_pre).astype(int)
    hits = 0
    for _ in range(reps):
        frame = pd.DataFrame({"time": t, "post": post, "y": rng.poisson(baseline * rr**post)})
        est = its(frame, "y", "time", "post").estimates.set_index("term")
        hits += est.loc["level_change", "p_value"] < 0.05
    # binomial SE of an empirical power of 0.8 over 120 replicates is 0.037
    assert 0.8 - 0.11 <= hits / reps <= 0.8 + 0.11


def test_its_power_rises_with_effect_counts_and_months():
    base = its_power(1.2, 20, 24, 12)
    assert its_power(1.3, 20, 24, 12) > base
    assert its_power(1.2, 40, 24, 12) > base
    assert its_power(1.2, 20, 24, 24) > base
    assert its_power(1.2, 20, 24, 12, dispersion=2.0) < base
    assert its_power(1.0, 20, 24, 12) == pytest.approx(0.05)


def test_months_needed_agrees_with_the_mde():
    rr = its_mde(25, 30, 18)
    assert its_months_needed(rr, 25, 30) == 18
    assert its_months_needed(1.01, 5, 12, max_post=30) is None


def test_too_few_months_is_a_clear_error():
    with pytest.raises(ValueError, match="8 after; found 24 before and 3 after"):
        its_mde(30, 24, 3)
    with pytest.raises(ValueError, match="at least 12 months before"):
        its_power(1.2, 30, 6, 12, min_pre=12)


def test_survey_mde_matches_cohen():
    # Cohen (1988), Table 2.4.1: 64 per group detect d = 0.5 at alpha 0.05, power 0.80
    assert mean_difference_mde(64, sd=1.0) == pytest.approx(0.5, abs=0.002)
    assert mean_difference_n(0.5, sd=1.0) == 64
    # on the ASCOF 0-24 scale with SD 4, the same design detects about 2 points
    assert mean_difference_mde(64, sd=4.0) == pytest.approx(2.0, abs=0.01)
    # a design effect of 1.5 needs 1.5 times as many respondents
    assert mean_difference_n(0.5, sd=1.0, design_effect=1.5) == 96
    assert mean_difference_mde(96, sd=1.0, design_effect=1.5) == pytest.approx(0.5, abs=0.002)
    with pytest.raises(ValueError, match="power must lie strictly between 0 and 1"):
        mean_difference_n(0.5, sd=1.0, power=80)


def test_mde_from_se_is_the_normal_approximation():
    z = st.norm.ppf(0.975) + st.norm.ppf(0.8)
    assert mde_from_se(0.1) == pytest.approx(np.exp(z * 0.1))
    assert mde_from_se(0.1, direction="decrease") == pytest.approx(np.exp(-z * 0.1))
    with pytest.raises(ValueError, match="se must be positive"):
        mde_from_se(0.0)
    assert mde_from_se(400.0) == np.inf  # exp(2.8 * 400) is beyond any float: not an error
    assert mde_from_se(400.0, direction="decrease") == 0.0
