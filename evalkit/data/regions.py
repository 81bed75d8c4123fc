"""The English region (ONS, the nine regions of England) of each of the 153 councils with adult
social services responsibilities (`evalkit.data.councils`), for comparators: a council's figure
is set beside England's and its region's.

Source: ONS Local Authority District to Region lookup (April 2023 boundaries), upper-tier
councils; counties and unitary authorities lie wholly inside one region.
"""

from __future__ import annotations

import functools

REGIONS = {
    "E12000001": "North East", "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber", "E12000004": "East Midlands",
    "E12000005": "West Midlands", "E12000006": "East of England", "E12000007": "London",
    "E12000008": "South East", "E12000009": "South West",
}

#: region code -> its councils' codes, as ranges of each code prefix's numbers
_MEMBERS = {
    "E12000001": {"E06": (*range(1, 6), 47, 57), "E08": (21, 22, 23, 24, 37)},
    "E12000002": {"E06": (6, 7, 8, 9, 49, 50, 63, 64), "E08": range(1, 16), "E10": (17,)},
    "E12000003": {"E06": (*range(10, 15), 65), "E08": (*range(16, 20), *range(32, 37))},
    "E12000004": {"E06": (15, 16, 17, 18, 61, 62), "E10": (7, 18, 19, 24)},
    "E12000005": {"E06": (19, 20, 21, 51), "E08": range(25, 32), "E10": (28, 31, 34)},
    "E12000006": {"E06": (31, 32, 33, 34, 55, 56), "E10": (3, 12, 15, 20, 29)},
    "E12000007": {"E09": range(1, 34)},
    "E12000008": {"E06": (*range(35, 47), 60), "E10": (11, 14, 16, 25, 30, 32)},
    "E12000009": {"E06": (*range(22, 28), 30, 52, 53, 54, 58, 59, 66), "E10": (8, 13)},
}


@functools.cache
def council_regions() -> dict[str, str]:
    """Council code -> the code of its region."""
    return {f"{prefix}{number:06d}": region for region, prefixes in _MEMBERS.items()
            for prefix, numbers in prefixes.items() for number in numbers}


def region_of(la_code: str) -> str | None:
    """The region code of a council, or None for a code that is not an English council."""
    return council_regions().get(la_code)
