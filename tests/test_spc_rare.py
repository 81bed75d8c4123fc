"""t chart of the time between rare events against Montgomery's Example 7.6 (reference/spc_rare)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evalkit.stats.spc import LIMIT, SAME_DAY, WEIBULL, between_events, t_chart, xmr


@pytest.fixture(scope="module")
def valve(reference_dir):
    return pd.read_csv(reference_dir / "spc_rare" / "t_chart_montgomery_7_6.csv")


def test_t_chart_matches_montgomery_example_7_6(valve):
    got = t_chart(valve, "hours", x="failure")
    assert_allclose(got["mean"], valve["cl"], rtol=1e-12)
    assert_allclose(got["lpl"], valve["lcl"], rtol=1e-12, atol=1e-12)
    assert_allclose(got["y"], valve["hours"], rtol=1e-12)
    # qicharts2 puts the limit 3 mR-bar / 1.128 above the centre (transformed), evalkit 2.66 mR-bar
    centre = valve["cl"] ** (1 / WEIBULL)
    ratio = (got["upl"] ** (1 / WEIBULL) - centre) / (valve["ucl"] ** (1 / WEIBULL) - centre)
    assert_allclose(ratio, LIMIT * 1.128 / 3, rtol=1e-9)
    assert (got["point_type"] == "common_cause").all()


def test_t_chart_flags_a_long_gap_as_fewer_events():
    # a steady process with an event every 10-ish days, then 300 days without one
    gaps = pd.DataFrame({"days": [9, 11, 10, 12, 8, 10, 11, 9, 10, 12, 300.0]})
    got = t_chart(gaps, "days")
    assert got["special_cause_type"].iloc[-1] == "Above UCL"
    assert got["point_type"].iloc[-1] == "special_cause_concern"  # longer gaps: fewer events
    # the rules are those of the XmR chart of the transformed times
    plain = xmr(gaps.assign(days=gaps["days"] ** (1 / WEIBULL)), "days",
                improvement_direction="decrease")
    assert got["point_type"].tolist() == plain["point_type"].tolist()


def test_t_chart_refuses_a_zero_time():
    with pytest.raises(ValueError, match="above 0.*1 row"):
        t_chart(pd.DataFrame({"days": [3.0, 0.0, 5.0]}), "days")


def test_between_events_gives_days_and_half_a_day_for_the_same_day():
    dates = pd.Series(pd.to_datetime(["2024-01-10", "2024-01-01", "2024-01-10", "2024-02-01"]))
    got = between_events(dates)
    assert got["days"].tolist() == [9.0, SAME_DAY, 22.0]
    assert got["date"].tolist() == list(pd.to_datetime(["2024-01-10", "2024-01-10",
                                                        "2024-02-01"]))
    assert np.all(got["days"] > 0)
