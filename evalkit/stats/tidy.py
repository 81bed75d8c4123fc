"""The tidy frame the indicator statistics return: sums within groups, notes, output columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sum_groups(df: pd.DataFrame, cols: list[str], by: list[str],
               rows_are_groups: bool = True) -> pd.DataFrame:
    """Sum `cols` within `by`; without `by`, each row is a group, or one group for all rows.

    A group's sum is NaN if any of its values is missing. Adds `_rows` (rows in the group) and
    `_na_<col>` (missing values in the group) for notes.
    """
    num = df[cols].astype(float)
    na = num.isna()
    if not by and not rows_are_groups:
        total = pd.DataFrame({c: [num[c].sum(min_count=0)] for c in cols})
        total["_rows"] = len(num)
        for c in cols:
            total[f"_na_{c}"] = int(na[c].sum())
            if na[c].any() or len(num) == 0:
                total[c] = np.nan
        return total
    if not by:
        out = num.copy()
        out["_rows"] = 1
        for c in cols:
            out[f"_na_{c}"] = na[c].astype(int)
        return out
    keys = [df[c] for c in by]
    grouped = num.groupby(keys, observed=False, sort=True)
    out = grouped.sum(min_count=0)
    nas = na.groupby(keys, observed=False, sort=True).sum()
    out["_rows"] = grouped.size()
    for c in cols:
        out[f"_na_{c}"] = nas[c]
        out.loc[nas[c] > 0, c] = np.nan
    out.loc[out["_rows"] == 0, cols] = np.nan
    return out.reset_index()


def join_notes(index: pd.Index, *pairs: tuple[np.ndarray | pd.Series, str | pd.Series]
               ) -> pd.Series:
    """Join the messages whose masks are true into one `note` string per row."""
    note = np.full(len(index), "", dtype=object)
    for mask, msg in pairs:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            text = np.asarray(msg, dtype=object)[m] if isinstance(msg, pd.Series) else msg
            note[m] = np.where(note[m] == "", text, note[m] + "; " + text)
    return pd.Series(note, index=index, dtype=object)


def tidy_frame(out: pd.DataFrame, by: list[str], inputs: list[str], **cols) -> pd.DataFrame:
    """The tidy frame: by columns, inputs, value, lower, upper, conf, method, note."""
    res = out[[*by, *inputs]].copy()
    for k, v in cols.items():
        res[k] = v.to_numpy() if isinstance(v, pd.Series) else v
    return res
