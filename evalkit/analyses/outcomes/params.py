"""Notebook 03's parameters, checked before anything is computed (`evalkit.report.params`).

`analyse` here is what the notebook calls, as 01's: it checks outcome and comparison (one of
their documented values), alpha (between 0 and 1), pre_months and post_months (None for all, or
1 or more), trend_length and shift_length (an SPC rule at least 2 points long, as `stats.spc`
needs) and detect_ratio (a rise above 1: the report words it so), then runs `compute.analyse`.
A wrong value is a ParameterError naming the parameter and saying what is valid, before any
data are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalkit.analyses.outcomes import compute
from evalkit.analyses.outcomes.compute_controlled import COMPARISONS
from evalkit.analyses.outcomes.compute_series import OUTCOMES
from evalkit.report import params

CHECKS: dict[str, Callable[[object], object]] = {
    "outcome": lambda v: params.choice("outcome", v, OUTCOMES),
    "comparison": lambda v: params.choice("comparison", v, (None, *COMPARISONS)),
    "alpha": lambda v: params.number_above("alpha", v, bound=0, below=1),
    "pre_months": lambda v: params.whole_number_or_none("pre_months", v, minimum=1),
    "post_months": lambda v: params.whole_number_or_none("post_months", v, minimum=1),
    "trend_length": lambda v: params.whole_number("trend_length", v, minimum=2),
    "shift_length": lambda v: params.whole_number("shift_length", v, minimum=2),
    "detect_ratio": lambda v: params.number_above("detect_ratio", v, bound=1),
}


def analyse(data, **parameters: Any) -> compute.Outcomes:
    """`compute.analyse` after checking the notebook's parameters (CHECKS)."""
    return compute.analyse(data, **params.checked(parameters, CHECKS))
