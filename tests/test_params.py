"""Notebooks 02's and 03's parameters are checked before anything is computed (issue 18), with
the helpers of `evalkit.report.params`: a wrong value is a ParameterError naming the parameter,
the value given and what is valid. No data are read: each check comes before the first load."""

from __future__ import annotations

import math

import pytest

from evalkit.analyses import outcomes, pa_market
from evalkit.analyses.outcomes import params as outcomes_params
from evalkit.analyses.pa_market import params as market_params
from evalkit.report import params
from evalkit.report.params import ParameterError

MARKET = {"area_level": "area_code", "target_days": [14, 28, 56], "discharge_target_days": 7}
OUTCOMES = {"pre_months": None, "post_months": None, "trend_length": 7, "shift_length": 7,
            "detect_ratio": 1.2}


WRONG_MARKET = [
    ({"area_level": "lsoa"}, "area_level='lsoa' is not a valid value; use one of: 'area_code', "
                             "'la_code'"),
    ({"area_level": None}, "area_level=None is not a valid value"),
    ({"target_days": 28}, "target_days=28 is not valid; give a list of one or more whole "
                          "numbers, each at least 1"),
    ({"target_days": []}, "target_days=[] is not valid"),
    ({"target_days": [14, 0]}, "target_days=[14, 0] is not valid"),
    ({"target_days": [14.5]}, "target_days=[14.5] is not valid"),
    ({"target_days": "28"}, "target_days='28' is not valid"),
    ({"discharge_target_days": 0}, "discharge_target_days=0 is not valid; give a whole number "
                                   "of at least 1"),
    ({"discharge_target_days": -7}, "discharge_target_days=-7 is not valid"),
    ({"discharge_target_days": "7"}, "discharge_target_days='7' is not valid"),
]
WRONG_OUTCOMES = [
    ({"outcome": "uptake"}, "outcome='uptake' is not a valid value; use one of: 'new_dp_starts'"),
    ({"comparison": "wards"}, "comparison='wards' is not a valid value; use one of: None, 'auto'"),
    ({"alpha": 1.0}, "alpha=1.0 is not valid; give a number greater than 0 and less than 1"),
    ({"alpha": 0}, "alpha=0 is not valid"),
    ({"pre_months": 0}, "pre_months=0 is not valid; give a whole number of at least 1, or None"),
    ({"pre_months": 6.5}, "pre_months=6.5 is not valid"),
    ({"post_months": -3}, "post_months=-3 is not valid; give a whole number of at least 1, or "
                          "None"),
    ({"post_months": "12"}, "post_months='12' is not valid"),
    ({"trend_length": 1}, "trend_length=1 is not valid; give a whole number of at least 2"),
    ({"trend_length": 7.0}, "trend_length=7.0 is not valid"),
    ({"shift_length": 0}, "shift_length=0 is not valid; give a whole number of at least 2"),
    ({"shift_length": True}, "shift_length=True is not valid"),
    ({"detect_ratio": 1}, "detect_ratio=1 is not valid; give a number greater than 1"),
    ({"detect_ratio": 0.8}, "detect_ratio=0.8 is not valid; give a number greater than 1"),
    ({"detect_ratio": 0}, "detect_ratio=0 is not valid"),
    ({"detect_ratio": -1.2}, "detect_ratio=-1.2 is not valid"),
    ({"detect_ratio": math.inf}, "detect_ratio=inf is not valid"),
    ({"detect_ratio": "1.2"}, "detect_ratio='1.2' is not valid"),
]


@pytest.mark.parametrize(("analyse", "parameters", "message"),
                         [(pa_market.analyse, *case) for case in WRONG_MARKET]
                         + [(outcomes.analyse, *case) for case in WRONG_OUTCOMES])
def test_a_wrong_value_is_an_error_saying_what_is_valid(analyse, parameters, message):
    with pytest.raises(ParameterError) as e:
        analyse(None, **parameters)  # checked before the data are read
    assert message in str(e.value)


@pytest.mark.parametrize(("parameters", "checked"), [
    ({}, ("area_code", [14, 28, 56], 7)),
    ({"area_level": "la_code", "target_days": (28,), "discharge_target_days": 14},
     ("la_code", [28], 14)),
])
def test_documented_pa_market_values_pass(parameters, checked):
    got = params.checked(MARKET | parameters, market_params.CHECKS)
    assert tuple(got[k] for k in MARKET) == checked


@pytest.mark.parametrize(("parameters", "checked"), [
    ({}, (None, None, 7, 7, 1.2)),
    ({"pre_months": 12, "post_months": 6, "trend_length": 6, "shift_length": 8,
      "detect_ratio": 1.5}, (12, 6, 6, 8, 1.5)),
    ({"pre_months": 1, "trend_length": 2, "shift_length": 2, "detect_ratio": 2},
     (1, None, 2, 2, 2)),
])
def test_documented_outcomes_values_pass(parameters, checked):
    got = params.checked(OUTCOMES | parameters, outcomes_params.CHECKS)
    assert tuple(got[k] for k in OUTCOMES) == checked


def test_parameters_not_checked_here_pass_through_to_the_analysis():
    assert params.checked({"min_cell": 5, "la_code": None}, market_params.CHECKS) == {
        "min_cell": 5, "la_code": None}


def test_the_helpers_return_the_value_given():
    assert params.whole_number_or_none("n", None, minimum=1) is None
    assert params.whole_number_or_none("n", 3, minimum=1) == 3
    assert params.whole_numbers("days", (7, 7), minimum=1) == [7, 7]
    assert params.number_above("ratio", 1.01, bound=1) == 1.01
    with pytest.raises(ParameterError, match=r"ratio=nan is not valid"):
        params.number_above("ratio", math.nan, bound=1)
