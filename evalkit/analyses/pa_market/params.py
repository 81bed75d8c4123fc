"""Notebook 02's parameters, checked before anything is computed (`evalkit.report.params`).

`analyse` here is what the notebook calls, as 01's: it checks the parameters a researcher sets by
hand (area_level, target_days, discharge_target_days), then runs `compute.analyse`. A wrong value
is a ParameterError naming the parameter and saying what is valid, before any data are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalkit.analyses.pa_market import compute
from evalkit.report import params

CHECKS: dict[str, Callable[[object], object]] = {
    "area_level": lambda v: str(params.choice("area_level", v, compute.AREA_LEVELS)),
    "target_days": lambda v: params.whole_numbers("target_days", v, minimum=1),
    "discharge_target_days": lambda v: params.whole_number("discharge_target_days", v,
                                                           minimum=1),
}


def analyse(data, **parameters: Any) -> compute.Market:
    """`compute.analyse` after checking the notebook's parameters (CHECKS)."""
    return compute.analyse(data, **params.checked(parameters, CHECKS))
