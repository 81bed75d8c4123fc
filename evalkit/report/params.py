"""Checking a notebook's parameters, the same way for every analysis.

A researcher sets a notebook's parameters by hand (in its parameters cell, with papermill -p, or
through `evalkit run`). A wrong value must stop the notebook at once with a message that names
the parameter and lists what it accepts, never fall back to something else in silence or fail
later in a cell that does not mention it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class ParameterError(ValueError):
    """A notebook parameter has a value the notebook cannot use."""


def choice(name: str, value: object, valid: Iterable[object]) -> object:
    """`value` when it is one of `valid`; else a ParameterError listing the valid values."""
    options = list(valid)
    if value not in options:
        listed = ", ".join(repr(v) for v in options) or "none (nothing in the data)"
        raise ParameterError(f"{name}={value!r} is not a valid value; use one of: {listed}")
    return value


def whole_number(name: str, value: object, *, minimum: int) -> int:
    """`value` as an int when it is a whole number of at least `minimum`; else ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(f"{name}={value!r} is not valid; give a whole number of at least "
                             f"{minimum}")
    return value


def date(name: str, value: object) -> pd.Timestamp | None:
    """`value` (a 'YYYY-MM-DD' string, a date, or None) as a Timestamp, or None; else a
    ParameterError saying the form expected."""
    if value is None:
        return None
    try:
        when = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        when = pd.NaT
    if pd.isna(when):
        raise ParameterError(f"{name}={value!r} is not a date; give it as 'YYYY-MM-DD' (for "
                             "example '2026-03-31'), or None")
    return when
