"""Comparators: a council's headline figures beside England's and its region's.

The comparator table has one row per area (a council, a region, England), measure and group,
with a numerator and a denominator (counts of people or requests). `evalkit run` works it out
once per run from the national data (`evalkit.run.national.reduce`, exact counts, kept in the
run's private cache) and names it to every notebook through the environment (ENV); a council
running its own data can give a published England file instead (england.csv of an England page,
whose counts are already rounded). Without either, there are no comparators and the report says
why: they are never invented from one council's data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evalkit.data.councils import place_name
from evalkit.data.regions import REGIONS, region_of

#: the environment variable naming the run's comparator table (set by `evalkit run`)
ENV = "EVALKIT_COMPARATORS"
COLUMNS = ["area_type", "area_code", "measure", "group", "numerator", "denominator"]
COUNCIL, REGION, ENGLAND = "council", "region", "England"
ENGLAND_CODE = "E92000001"
#: the group of a measure that is not broken down
EVERYONE = "Everyone"
#: time to recruit is compared as the share of PA requests filled within this many days
FILL_DAYS = 28


@dataclass(frozen=True)
class Measure:
    """A comparator measure: what it counts, and which direction is better (None: neither)."""

    label: str
    numerator: str
    denominator: str
    better: str | None


MEASURES = {
    "ascof_3d2a": Measure("ASCOF 3D part 2a: adults with a Direct Payment", "with a DP",
                          "adults on long-term support in the community", "higher"),
    "dp_share": Measure("Adults on community long-term support with a Direct Payment",
                        "with a DP", "adults on long-term support in the community", "higher"),
    "dp_share_group": Measure("Direct Payment share by ethnic group", "with a DP",
                              "adults on long-term support in the community", None),
    "language_gap": Measure("People with a Direct Payment living where no PA speaks their "
                            "language (languages other than English)", "no PA speaks it",
                            "people with a DP preferring a language other than English",
                            "lower"),
    "filled": Measure(f"PA requests filled within {FILL_DAYS} days", "filled",
                      f"requests followed for {FILL_DAYS} days", "higher"),
}


@dataclass(frozen=True)
class Comparison:
    """The rows of one council, its region and England (`COLUMNS`), or why there are none."""

    la_code: str
    region: str | None
    rows: pd.DataFrame | None
    source: str
    reason: str = ""


def with_totals(councils: pd.DataFrame) -> pd.DataFrame:
    """Council rows with region and England rows added: each the sum of its councils' counts
    (a council outside the English regions counts in England only)."""
    region = councils["area_code"].map(region_of)
    summed = [councils.assign(area_type=REGION, area_code=region).dropna(subset=["area_code"]),
              councils.assign(area_type=ENGLAND, area_code=ENGLAND_CODE)]
    totals = [f.groupby(["area_type", "area_code", "measure", "group"], as_index=False,
                        sort=False)[["numerator", "denominator"]].sum() for f in summed]
    return pd.concat([councils[COLUMNS], *totals], ignore_index=True)


def area_name(area_type: str, area_code: str) -> str:
    """How an area is named on a page."""
    if area_type == ENGLAND:
        return ENGLAND
    return REGIONS.get(area_code, area_code) if area_type == REGION else place_name(area_code)


def read_table(path: Path) -> pd.DataFrame:
    """A comparator table: the run's Parquet file, or a published england.csv (its extra
    columns, e.g. shares, are dropped: they are worked out again from the counts). ValueError
    naming the file and the columns missing when it is not one."""
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(
        path, dtype={"area_type": str, "area_code": str, "measure": str, "group": str})
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise ValueError(f"{path}: not a comparator table (an evalkit England page's "
                         f"england.csv); columns missing: {', '.join(missing)}")
    return table[COLUMNS]


def analyse(la_code: str, source: str | Path | None = None) -> Comparison:
    """The comparator rows of council `la_code` from `source` (a comparator table), else from
    the run's table (ENV); none, with the reason, when neither is given, when the report covers
    all councils, or when the table does not hold the council."""
    path = source or os.environ.get(ENV)
    region = region_of(la_code)
    if la_code == "all":
        return Comparison(la_code, None, None, "", "this report covers all councils together, "
                          "so there is no England or region figure to set it beside")
    if not path:
        return Comparison(la_code, region, None, "", (
            "no national data were given: comparators come from a run over national data "
            "(evalkit run DATA --la all-councils) or from a published England file "
            "(--param comparators_file=england.csv), and are never estimated from one "
            "council's data"))
    table = read_table(Path(path))
    keep = (((table["area_type"] == COUNCIL) & (table["area_code"] == la_code))
            | ((table["area_type"] == REGION) & (table["area_code"] == region))
            | (table["area_type"] == ENGLAND))
    source_name = "the national data of this run" if not source else Path(path).name
    if not ((table["area_type"] == COUNCIL) & (table["area_code"] == la_code)).any():
        return Comparison(la_code, region, None, source_name,
                          f"the national file ({source_name}) has no figures for this council")
    return Comparison(la_code, region, table[keep].reset_index(drop=True), source_name)
