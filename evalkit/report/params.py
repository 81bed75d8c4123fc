"""Checking a notebook's parameters, the same way for every analysis.

A researcher sets a notebook's parameters by hand (in its parameters cell, with papermill -p, or
through `evalkit run`). A wrong value must stop the notebook at once with a message that names
the parameter and lists what it accepts, never fall back to something else in silence or fail
later in a cell that does not mention it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

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


def _is_whole(value: object, minimum: int) -> TypeGuard[int]:
    """Whether `value` is an int (not a bool) of at least `minimum`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _invalid(name: str, value: object, valid: str) -> ParameterError:
    """The error for a value that is not of the form `valid` (what to give instead)."""
    return ParameterError(f"{name}={value!r} is not valid; give {valid}")


def whole_number(name: str, value: object, *, minimum: int) -> int:
    """`value` as an int when it is a whole number of at least `minimum`; else ParameterError."""
    if not _is_whole(value, minimum):
        raise _invalid(name, value, f"a whole number of at least {minimum}")
    return value


def whole_number_or_none(name: str, value: object, *, minimum: int) -> int | None:
    """`value` when it is None or a whole number of at least `minimum`; else ParameterError."""
    if value is None:
        return None
    if not _is_whole(value, minimum):
        raise _invalid(name, value, f"a whole number of at least {minimum}, or None")
    return value


def whole_numbers(name: str, value: object, *, minimum: int) -> list[int]:
    """`value` as a list when it is a non-empty list (or tuple) of whole numbers each of at least
    `minimum`; else ParameterError."""
    if (not isinstance(value, list | tuple) or not value
            or not all(_is_whole(v, minimum) for v in value)):
        raise _invalid(name, value, f"a list of one or more whole numbers, each at least {minimum}")
    return list(value)


def number_above(name: str, value: object, *, bound: float, below: float = math.inf) -> float:
    """`value` when it is a finite number (int or float, not bool) greater than `bound` (and
    less than `below`); else ParameterError."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not bound < value < below):
        upper = f" and less than {below:g}" if math.isfinite(below) else ""
        raise _invalid(name, value, f"a number greater than {bound:g}{upper}")
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


def checked(given: Mapping[str, Any], checks: Mapping[str, Callable[[object], object]]
            ) -> dict[str, Any]:
    """`given` with each value `checks` names replaced by what its check returns (a wrong value
    raises ParameterError there); the others as given, for the analysis to take or refuse."""
    return {name: checks[name](value) if name in checks else value
            for name, value in given.items()}
