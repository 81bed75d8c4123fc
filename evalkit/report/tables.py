"""Tables as every report shows them: readable headings, shares as percentages, disclosure
control through `style.table`, and one data-quality table for all notebooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from evalkit.data.load import reason_words
from evalkit.report import style
from evalkit.report.findings import fmt_share


def heading(column: str, labels: Mapping[str, str] | None = None) -> str:
    """A column's heading: its label if given; a name already in words ('Active PAs') as it
    is; else the name in words ('dp_used_for' -> 'Dp used for')."""
    if column in (labels or {}):
        return labels[column]
    if " " in column or column != column.lower():
        return column
    return column.replace("_", " ").capitalize()


def table(df: pd.DataFrame, count_cols: Sequence[str], *, min_cell: int,
          labels: Mapping[str, str] | None = None,
          rate_cols: Mapping[str, tuple[str, str]] | None = None,
          percent_cols: Sequence[str] = (), share_cols: Sequence[str] = (),
          caption: str = "", **options: Any) -> None:
    """Show `df` through `style.table` (disclosure control on `count_cols` and `rate_cols`).

    `percent_cols` hold shares (0-1) shown as percentages with one decimal place; `share_cols`
    hold shares written as `fmt_share` writes them in sentences ('3.4%'). Column headings come
    from `labels` (else the column name in words). `options` go to `style.table` (total_row,
    total_col, by, plain_cols, footnote for frames already protected ...). An empty frame is
    said in words instead.
    """
    if df.empty or not count_cols:
        style.say(f"{caption or 'This table'}: nothing to show.")
        return
    shown = df.assign(**{c: df[c].astype(float) * 100 for c in percent_cols})
    for c in share_cols:
        shown[c] = shown[c].map(fmt_share).astype(object)
    if df.index.name is None and pd.api.types.is_integer_dtype(df.index):
        shown = shown.reset_index(drop=True)  # row numbers, not a heading column
    style.table(shown, count_cols=list(count_cols), rate_cols=dict(rate_cols or {}) or None,
                threshold=min_cell, caption=caption or None,
                labels={c: heading(c, labels) for c in df.columns}, decimals=1, **options)


def quality_table(quality: pd.DataFrame | None, *, min_cell: int,
                  tables: Sequence[str] | None = None, notes: Sequence[str] = (),
                  footnote: str | None = None) -> None:
    """Rows read from each file: kept, or excluded and why (one row per file and reason), for
    the `tables` a notebook uses (all when None), then any notes on the data in words. With
    `footnote` the rows are already protected (evalkit.sdc.protect; a missing count stays
    missing when rows are added up) and the note explains them."""
    if quality is None or quality.empty:
        style.say("No data-quality table is available.")
    else:
        q = quality if tables is None else quality[quality["table"].isin(tables)]
        q = q.groupby(["table", "reason"], as_index=False, sort=False)["rows"].sum(min_count=1)
        q = q.assign(table=q["table"].str.replace("_", " "), reason=q["reason"].map(reason_words))
        table(q, ["rows"], min_cell=min_cell,
              labels={"table": "File", "reason": "Rows kept or excluded, and why", "rows": "Rows"},
              caption="Rows read from each file: kept, or excluded and why", footnote=footnote)
    for note in notes:
        style.say(f"_Note: {note}_")
