"""Input checks shared by the indicator statistics.

Each check raises at once with `where` (the public function's name) first and, for bad values,
up to three offending rows, so the caller sees which call failed, on which rows, and why.
Modules call them through the module (`checks.frame(...)`, `checks.conf(...)`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """`by` as a list: a single column name, several, or none."""
    return [by] if isinstance(by, str) else list(by or [])


def offending_rows(df: pd.DataFrame, mask: pd.Series | np.ndarray, cols: list[str]) -> str:
    """Up to three offending rows, with their index, for an error message."""
    bad = df.loc[np.asarray(mask, dtype=bool), cols].head(3)
    return f"{int(np.sum(mask))} row(s) break this, e.g. {bad.to_dict('index')}"


def frame(df: pd.DataFrame, cols: list[str], where: str,
          numeric: Sequence[str] = ()) -> None:
    """`df` is a DataFrame with the columns `cols`; the `numeric` ones hold finite numbers."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{where}: column(s) {missing} not found; the frame has "
                       f"{list(df.columns)}")
    for c in numeric:
        if not (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])):
            raise TypeError(f"{where}: column {c!r} must be numeric, not {df[c].dtype}; "
                            f"e.g. {df[c].head(3).tolist()}")
        if np.isinf(df[c].to_numpy(dtype=float, na_value=np.nan)).any():
            raise ValueError(f"{where}: column {c!r} has infinite values; "
                             + offending_rows(df, np.isinf(df[c].astype(float)), [c]))


def keys(df: pd.DataFrame, by: list[str], where: str) -> None:
    """`by` keys must not be missing: a group with no label cannot be reported."""
    for c in by:
        if df[c].isna().any():
            raise ValueError(f"{where}: `by` column {c!r} has missing values; label them "
                             f"(e.g. 'Not stated') first; " + offending_rows(df, df[c].isna(), by))


def conf(conf: float, where: str) -> None:
    """conf is a confidence level strictly between 0 and 1 (0.95, not 95)."""
    if not (isinstance(conf, int | float) and 0 < conf < 1):
        raise ValueError(f"{where}: conf must be a number between 0 and 1 (e.g. 0.95), "
                         f"not {conf!r}")


def positive(value: float, name: str, where: str) -> None:
    """A parameter such as a multiplier or n_boot must be a number > 0."""
    if not (isinstance(value, int | float) and value > 0):
        raise ValueError(f"{where}: {name} must be a number > 0, not {value!r}")


def nonnegative(df: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    """Counts and populations must not be negative."""
    for c in cols:
        bad = df[c] < 0
        if bad.any():
            raise ValueError(f"{where}: need {c} >= 0; " + offending_rows(df, bad, list(cols)))


def at_most(df: pd.DataFrame, x: str, n: str, where: str) -> None:
    """A numerator must not exceed its denominator (x <= n for proportions)."""
    bad = df[x] > df[n]
    if bad.any():
        raise ValueError(f"{where}: need {x} <= {n}; " + offending_rows(df, bad, [x, n]))
