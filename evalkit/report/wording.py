"""Words every report uses the same way: the place, dates and periods, groups of people,
lists of names, and how many people a group needs before its gap is quoted."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evalkit.data import codes
from evalkit.data.councils import place_name

#: A group's gap is quoted (in findings, titles and charts) only with at least this many people
#: per cell of disclosure control, and never fewer than MIN_GROUP_PEOPLE.
GROUP_CELLS = 10
MIN_GROUP_PEOPLE = 50


def min_people(min_cell: int) -> int:
    """Fewest people a group needs before its gap is quoted: GROUP_CELLS times the disclosure
    threshold, at least MIN_GROUP_PEOPLE (below that an interval is too wide to act on)."""
    return max(GROUP_CELLS * min_cell, MIN_GROUP_PEOPLE)


def place(la_code: str | None) -> str:
    """'Leicester', or 'all councils in the data' for all councils."""
    return place_name(la_code or "all")


def day(when: pd.Timestamp | None) -> str:
    """'31 March 2026'."""
    return f"{pd.Timestamp(when):%-d %B %Y}"


def month(when: pd.Timestamp | None) -> str:
    """'March 2026'."""
    return f"{pd.Timestamp(when):%B %Y}"


def span(start: pd.Timestamp, end: pd.Timestamp, *, short: bool = False) -> str:
    """'1 April 2023 to 31 March 2026', or with `short` 'Apr 2023 to Mar 2026'."""
    if short:
        return f"{pd.Timestamp(start):%b %Y} to {pd.Timestamp(end):%b %Y}"
    return f"{day(start)} to {day(end)}"


def people(group: str) -> str:
    """'Asian people', 'people from the Mixed ethnic group', 'people in the Indian group',
    'people in the Other ethnic group: Any other ethnic group' (as GOV.UK Ethnicity facts and
    figures writes them)."""
    if group in ("Asian", "Black", "White"):
        return f"{group} people"
    if group in codes.BROAD_GROUPS:
        return f"people from the {group} ethnic group"
    return f"people in the {group}" if group.endswith(" group") else f"people in the {group} group"


def names(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
