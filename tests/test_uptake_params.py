"""Notebook 01's parameters are checked before anything is computed (issue 18): a wrong value is
a ParameterError naming the parameter and listing the valid values, never a silent fallback."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.analyses import uptake as u
from evalkit.data import codes
from evalkit.report.params import ParameterError

INDIAN = f"{codes.ASIAN}: Indian"
IRISH = f"{codes.WHITE}: Irish"


class Data:
    """The one table `check` reads: support_episodes with a council and both group levels."""

    def __init__(self, detailed: list[str]) -> None:
        self.support_episodes = pd.DataFrame({
            "la_code": "E06000016", "ethnic_group": detailed,
            "ethnic_group_broad": [codes.ETHNIC_GROUPS.get(g, g) for g in detailed]})


DATA = Data([INDIAN, INDIAN, IRISH, codes.NOT_STATED])


@pytest.mark.parametrize(("parameters", "message"), [
    ({"group_level": "Detailed"}, "group_level='Detailed' is not a valid value; use one of: "
                                  "'broad', 'detailed'"),
    ({"reference_group": "Whte"}, "reference_group='Whte' is not a valid value; use one of: "
                                  "'Asian', 'White'"),
    ({"reference_group": "Black"}, "use one of: 'Asian', 'White'"),
    ({"reference_group": "Not stated"}, "use one of: 'Asian', 'White'"),
    ({"group_level": "detailed", "reference_group": "Irish"},
     f"use one of: 'Asian', 'White', '{INDIAN}', '{IRISH}'"),
    ({"period_end": "2026-13-01"}, "period_end='2026-13-01' is not a date; give it as "
                                   "'YYYY-MM-DD'"),
    ({"period_end": "soon"}, "is not a date"),
    ({"lookback": 0}, "lookback=0 is not valid; give a whole number of at least 1"),
    ({"lookback": 2.5}, "whole number"),
    ({"lookback": True}, "whole number"),
])
def test_a_wrong_value_is_an_error_listing_the_valid_ones(parameters, message):
    with pytest.raises(ParameterError) as e:
        u.check(DATA, **parameters)
    assert message in str(e.value)


@pytest.mark.parametrize(("parameters", "checked"), [
    ({}, {"group_level": "broad", "reference_group": "White", "lookback": 12,
          "period_end": None}),
    ({"reference_group": "Asian", "lookback": 4, "period_end": "2025-12-31"},
     {"reference_group": "Asian", "lookback": 4, "period_end": "2025-12-31"}),
    ({"group_level": "detailed"}, {"group_level": "detailed", "reference_group": "White"}),
    ({"group_level": "detailed", "reference_group": INDIAN}, {"reference_group": INDIAN}),
    ({"period_end": pd.Timestamp("2025-12-31")}, {"period_end": "2025-12-31"}),
    ({"min_cell": 10}, {"min_cell": 10}),
])
def test_documented_values_pass_unchanged(parameters, checked):
    assert checked.items() <= u.check(DATA, **parameters).items()


def test_no_reference_is_checked_when_the_council_has_no_episodes():
    empty = Data([])
    assert u.check(empty, reference_group="Anything")["reference_group"] == "Anything"
