"""An input table's person rows, as the privacy gate (`evalkit.sdc.gate`) compares a published
row with them: the person columns (PERSON_COLUMNS) as normalised text, and the rows sharing each
key value, so that a published row that reproduces one person's row is recognised even without
an identifier column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Per table: (key columns, other person columns). A published row is compared with the input
#: rows sharing one of its key values (dates, birth month, budgets: near unique to a person);
#: key values that are whole numbers are not used, as a table's counts would match them.
PERSON_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "support_episodes": (
        ("birth_year_month", "birth_date", "start_date", "end_date", "dp_requested_date",
         "dp_first_payment_date", "weekly_budget"),
        ("area_code", "gender", "ethnicity", "ethnic_group", "preferred_language",
         "primary_support_reason", "planned_hours", "team_id")),
    "pa_register": (("area_code",), ("ethnicity", "ethnic_group", "gender", "languages",
                                     "hours_available", "religion")),
    "pa_requests": (("request_date", "outcome_date"),
                    ("language_needed", "ethnicity_preference", "gender_preference", "outcome",
                     "match_source")),
    "survey": (("survey_date",),  # not weight: a stratum's, it can equal a published share
               ("weight", "ethnicity", "ethnic_group", "age_band", "gender",
                "primary_support_reason", "delivery_mechanism", "preferred_language")),
}
MIN_PERSON_COLUMNS = 3  # values a published row shares with one input row to reproduce it
WHOLE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.0+)?$|^\d+(\.0+)?$")


@dataclass(frozen=True)
class PersonRows:
    """One input table's person columns as normalised text, and its rows by key value."""

    table: str
    codes: np.ndarray  # rows x person columns: each value's number in `texts`, -1 where missing
    texts: Mapping[str, int]  # normalised text -> its number in `codes`
    by_key: Mapping[str, np.ndarray]  # key value -> row positions
    others: tuple[int, ...] = ()  # the positions of the columns that are not keys

    def reproduced(self, cells: set[str], mixed: bool = False) -> bool:
        """True when one input row has MIN_PERSON_COLUMNS of its values among `cells`; with
        `mixed`, one of them not a key (a column of a table: one of dates alone, a date
        series, holds several dates of some person)."""
        keys = [self.by_key[c] for c in cells if c in self.by_key]
        if not keys:
            return False
        shown = np.isin(self.codes[np.concatenate(keys)],
                        [self.texts[c] for c in cells if c in self.texts])
        enough = shown.sum(axis=1) >= MIN_PERSON_COLUMNS
        if mixed:
            enough &= shown[:, list(self.others)].any(axis=1)
        return bool(enough.any())


def _shown(value: Any) -> str | None:
    """An input value as normalised text as a report would show it (dates ISO, numbers plain)."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
        return format(float(value), ".10g")
    return " ".join(str(value).split()).casefold() or None


def _text_codes(column: pd.Series, texts: dict[str, int]) -> np.ndarray:
    """A column's values as numbers of their normalised texts, added to `texts` as met (-1:
    missing); each distinct value is formatted once: national tables have millions of rows."""
    codes, uniques = pd.factorize(column)
    numbers = [-1 if (text := _shown(v)) is None else texts.setdefault(text, len(texts))
               for v in uniques.tolist()]
    return np.array([*numbers, -1], dtype=np.int32)[codes]  # code -1 (missing) takes the last


def person_rows(table: str, frame: pd.DataFrame) -> PersonRows | None:
    """The person columns of one input table, indexed by their key values."""
    keys, others = PERSON_COLUMNS[table]
    cols = [c for c in (*keys, *others) if c in frame]
    if not any(c in frame for c in keys):
        return None
    texts: dict[str, int] = {}
    codes = np.empty((len(frame), len(cols)), dtype=np.int32)  # filled a column at a time:
    for i, col in enumerate(cols):  # the national tables' are 140 MB, held once
        codes[:, i] = _text_codes(frame[col], texts)
    text_of = list(texts)  # a number's text: texts are numbered in order
    by_key: dict[str, list[np.ndarray]] = {}
    for i, col in enumerate(cols):
        if col not in keys:
            continue
        for number, rows in pd.Series(codes[:, i]).groupby(codes[:, i], sort=False).indices.items():
            if number >= 0 and not WHOLE_NUMBER.match(text_of[number]):  # could be any count
                by_key.setdefault(text_of[number], []).append(rows)
    return PersonRows(table, codes, texts, {k: np.concatenate(v) for k, v in by_key.items()},
                      tuple(i for i, c in enumerate(cols) if c not in keys))
