"""Which rows of a table are kept or excluded and why, and what is odd about the rows kept.

`account` parses every contract column (`values.parse_column`) and excludes each failing row
under the first check it fails, in this fixed order (columns in contract order within a check):
blank_required:<col>, invalid_value:<col>, unknown_code:<col>, future_date:<col>,
end_before_start, duplicate_row, duplicate_pa_listing (pa_register only: a pa_id and
snapshot_date listed again by another agency; the first listing is kept).

It also returns findings: named, counted observations that exclude nothing (see `FINDINGS`),
with the rows they concern, and the values of unknown codes with their counts.

Whole-column problems raise `ContractError` naming the file, column, rows and what was expected:
a column of the wrong type (at least 5 and more than half of its non-blank values invalid or
unknown) and day/month dates whose order cannot be told (see `check_date_order`). Messages name
code values (they are codes, not people) but never a value of any other column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.data.contract import (
    ANY_LEVEL_ETHNICITY,
    END_AFTER_START,
    ETHNICITY_TABLES,
    TABLES,
    Column,
    ContractError,
)
from evalkit.data.read import FILE, ROW
from evalkit.data.values import (
    BLANK,
    BLANKED,
    DATE_ORDERS,
    EXPECTED,
    INVALID,
    MAX_CELL_CHARS,
    MONTH_FIRST,
    TRUNCATED,
    UNKNOWN,
    as_text,
    day_month,
    parse_column,
)

WRONG_TYPE_MIN_ROWS = 5
#: Unknown code values listed per column (the rest are counted together); longer values are
#: counted with the rest, not shown.
MAX_LISTED, MAX_VALUE_CHARS = 20, 80
OLDEST = 110  # years: an older person is a finding (`age_over_110`)
#: Findings and what they mean; all but `unknown_code` are on rows that are kept.
FINDINGS = {
    "unknown_code": "codes not in the contract's lists; those rows are excluded",
    "negative_blanked": "negative values in an optional column; the values are blanked and the "
                        "rows kept",
    "text_truncated": f"text longer than {MAX_CELL_CHARS:,} characters; it is cut to that "
                      "length and the rows kept",
    "age_over_110": f"people aged over {OLDEST} during their support; the rows are kept",
    "born_after_start": "people born after their support started; the rows are kept",
    "overlapping_episodes": "episodes starting before an earlier episode of the same person "
                            "ended; the rows are kept",
    "pa_listed_twice": "PAs listed twice on one snapshot by the same agency with different "
                       "details; both rows are kept",
}
FINDING_COLUMNS = ["table", "finding", "column", "value", "rows", "where"]


@dataclass(frozen=True)
class RowRefs:
    """Row numbers (as the file shows them) and the file (or sheet) of each row of a table, for
    messages; `files` stays a pandas column so that no Python string is made per row."""

    numbers: np.ndarray
    files: pd.Series

    @cached_property
    def several(self) -> bool:
        """Whether the rows come from more than one file (or sheet)."""
        return self.files.nunique() > 1

    def subset(self, mask: np.ndarray) -> RowRefs:
        """The references of the rows in `mask`."""
        return RowRefs(self.numbers[mask], self.files[mask].reset_index(drop=True))

    def describe(self, mask: np.ndarray, limit: int = 5) -> str:
        """'rows 2, 5, 9 and 12 more' (file names first when the table has several files)."""
        idx = np.flatnonzero(mask)
        shown, parts = idx[:limit], []
        files = self.files.iloc[shown].to_numpy(object)
        for name in pd.unique(files) if self.several else [None]:
            nums = self.numbers[shown if name is None else shown[files == name]]
            rows = ("row " if len(nums) == 1 else "rows ") + ", ".join(str(int(n)) for n in nums)
            parts.append(rows if name is None else f"{name} {rows}")
        more = f" and {len(idx) - len(shown):,} more" if len(idx) > len(shown) else ""
        return "; ".join(parts) + more


def _lift(positions: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """A mask over `n` rows that is `mask` at `positions` and False elsewhere."""
    out = np.zeros(n, dtype=bool)
    out[positions[mask]] = True
    return out


def _expected(col: Column) -> str:
    if col.name in ("ethnicity", *ANY_LEVEL_ETHNICITY.values()):
        return "an NHS ethnic category code (A-Z) or an ONS 2021 ethnic group label"
    if col.kind == "code" and col.lookup:
        return f"{EXPECTED['code']} ({'; '.join(sorted(set(col.lookup.values())))})"
    return EXPECTED[col.kind]


def _tidy(raw: pd.Series) -> pd.Series:
    """Values as text with spaces tidied, as messages show codes."""
    return as_text(raw).str.split().str.join(" ")


def listed_values(text: pd.Series) -> pd.Series:
    """Rows per distinct value, commonest first: at most MAX_LISTED values, each of at most
    MAX_VALUE_CHARS characters (longer ones are never shown)."""
    counts = text.value_counts()
    return counts[counts.index.str.len() <= MAX_VALUE_CHARS].head(MAX_LISTED)


def check_wrong_type(col: Column, raw: pd.Series, status: np.ndarray, refs: RowRefs,
                     source: str) -> None:
    """Raise ContractError when a column is of the wrong type beyond repair."""
    bad = (status == INVALID) | (status == UNKNOWN)
    nonblank = int((status != BLANK).sum())
    if bad.sum() >= WRONG_TYPE_MIN_ROWS and bad.sum() > nonblank / 2:
        values = ""
        if col.kind == "code":
            found = listed_values(_tidy(raw[bad])).head(3)
            values = "; the commonest: " + ", ".join(f"{v!r} ({n:,} rows)"
                                                     for v, n in found.items())
        raise ContractError(
            f"{source}: column {col.name!r} has {int(bad.sum()):,} of {nonblank:,} non-blank "
            f"values that are not {_expected(col)}: {refs.describe(bad)}{values}")


def check_date_order(col: Column, raw: pd.Series, status: np.ndarray, refs: RowRefs,
                     source: str) -> None:
    """Raise ContractError when dates written as numbers can only be read month first in some
    rows (03/25/2022) and no order was stated: never swap day and month silently."""
    month_first = status == MONTH_FIRST
    if not month_first.any():
        return
    ids, uniques = pd.factorize(raw, use_na_sentinel=True)
    parts = day_month(pd.Series(uniques))
    first = np.append(parts["first"].to_numpy(), np.nan)[ids]
    second = np.append(parts["second"].to_numpy(), np.nan)[ids]
    day_first = (first > 12) & (second <= 12)
    either = (first <= 12) & (second <= 12) & (first != second)
    n_month = int(month_first.sum())
    lines = [f"{n_month:,} can only be {DATE_ORDERS['mdy']} ({refs.describe(month_first)})"]
    if day_first.any():
        lines.append(f"{int(day_first.sum()):,} can only be {DATE_ORDERS['dmy']} "
                     f"({refs.describe(day_first)})")
    if either.any():
        lines.append(f"{int(either.sum()):,} could be either ({refs.describe(either)})")
    kind = "mixes both orders" if day_first.any() else "is not in the contract's order"
    raise ContractError(
        f"{source}: column {col.name!r} {kind}: of its dates written as numbers, "
        f"{'; '.join(lines)}. evalkit reads DD/MM/YYYY unless told otherwise and will not "
        "guess. Write the dates as YYYY-MM-DD, or state the order for the whole folder: "
        "`evalkit validate --date-order mdy` (or dmy; `date_order=` in evalkit.load); dates "
        f"that do not fit the stated order are then excluded as invalid_value:{col.name}")


def _finding(table: str, name: str, column: str, mask: np.ndarray, refs: RowRefs,
             value: str = "") -> dict[str, object]:
    return {"table": table, "finding": name, "column": column, "value": value,
            "rows": int(mask.sum()), "where": refs.describe(mask)}


def _unknown(table: str, col: str, raw: pd.Series, mask: np.ndarray, refs: RowRefs
             ) -> list[dict[str, object]]:
    """One finding per unknown code value of the rows in `mask` (excluded for it); values not
    listed are counted together."""
    positions = np.flatnonzero(mask)
    text = _tidy(raw.iloc[positions]).to_numpy(object)
    listed = listed_values(pd.Series(text))
    found = [_finding(table, "unknown_code", col, _lift(positions, text == value, len(raw)),
                      refs, value) for value in listed.index]
    rest = ~np.isin(text, listed.index.to_numpy(object))
    if rest.any():
        found.append(_finding(table, "unknown_code", col, _lift(positions, rest, len(raw)),
                              refs, f"({len(set(text[rest]))} other values)"))
    return found


def _listed_again(out: pd.DataFrame, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pa_register: rows listing a pa_id on a snapshot_date already listed, (by another agency,
    by the same agency): the first listing's agency decides."""
    live = out.loc[alive, ["pa_id", "snapshot_date", "agency"]]
    again = live.duplicated(["pa_id", "snapshot_date"], keep="first").to_numpy()
    first = live.groupby(["pa_id", "snapshot_date"], sort=False)["agency"].transform("first")
    other = again & (live["agency"] != first).to_numpy()
    positions = np.flatnonzero(alive)
    return _lift(positions, other, len(out)), _lift(positions, again & ~other, len(out))


def _months(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year * 12 + dates.dt.month).to_numpy(float)


def implausible_ages(episodes: pd.DataFrame, extract_date: pd.Timestamp
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(aged over OLDEST at the end of the episode, or at the extract date while ongoing;
    born in a later month than the episode started), by birth and episode months."""
    born = _months(episodes["birth_date"])
    end = _months(episodes["end_date"].fillna(extract_date))
    return end - born > OLDEST * 12, born > _months(episodes["start_date"])


def overlapping_episodes(episodes: pd.DataFrame) -> np.ndarray:
    """Episodes that start before an earlier-starting episode of the same person (la_code and
    person_id) ended; an ongoing episode has not ended."""
    out = np.zeros(len(episodes), dtype=bool)
    several = episodes["person_id"].duplicated(keep=False).to_numpy()
    if not several.any():
        return out
    eps = episodes.loc[several, ["la_code", "person_id", "start_date", "end_date"]].sort_values(
        ["la_code", "person_id", "start_date"], kind="stable")
    new = ((eps["la_code"] != eps["la_code"].shift()) |
           (eps["person_id"] != eps["person_id"].shift())).to_numpy()
    ends = eps["end_date"].fillna(pd.Timestamp.max).to_numpy("datetime64[ns]").view("i8")
    reach = pd.Series(ends).groupby(np.cumsum(new)).cummax().shift().to_numpy()
    starts = eps["start_date"].to_numpy("datetime64[ns]").view("i8")
    out[episodes.index.get_indexer(eps.index)] = ~new & (starts < reach)
    return out


def _kept_findings(table: str, kept: pd.DataFrame, status: dict[str, np.ndarray],
                   keep: np.ndarray, twice: np.ndarray, refs: RowRefs,
                   extract_date: pd.Timestamp) -> list[dict[str, object]]:
    """Findings on the kept rows: values blanked or cut short, implausible ages, overlapping
    episodes, PAs listed twice by one agency."""
    masks = []
    for col, st in status.items():
        masks += [("negative_blanked", col, st[keep] == BLANKED),
                  ("text_truncated", col, st[keep] == TRUNCATED)]
    if table == "pa_register":
        masks.append(("pa_listed_twice", "pa_id", twice[keep]))
    if table == "support_episodes":
        old, unborn = implausible_ages(kept, extract_date)
        masks += [("age_over_110", "birth_year_month", old),
                  ("born_after_start", "birth_year_month", unborn),
                  ("overlapping_episodes", "start_date", overlapping_episodes(kept))]
    masks = [(name, col, mask) for name, col, mask in masks if mask.any()]
    kept_refs = refs.subset(keep) if masks else refs
    return [_finding(table, name, col, mask, kept_refs) for name, col, mask in masks]


def account(df: pd.DataFrame, table: str, extract_date: pd.Timestamp, source: str,
            date_order: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Validate and normalise one table's raw rows: (kept rows, quality rows, findings); a
    quality row's "where" names the rows excluded for its reason (row numbers only)."""
    cols = [c for c in TABLES[table] if c.name in df.columns]
    refs = RowRefs(df[ROW].to_numpy(), df[FILE].reset_index(drop=True))
    parsed, status = {}, {}
    for col in cols:
        parsed[col.name], status[col.name] = parse_column(col, table, df[col.name], date_order)
        check_date_order(col, df[col.name], status[col.name], refs, source)
        check_wrong_type(col, df[col.name], status[col.name], refs, source)
    alive = np.ones(len(df), dtype=bool)  # not excluded yet
    counts: dict[str, int] = {}
    where: dict[str, str] = {}
    found: list[dict[str, object]] = []

    def assign(mask: np.ndarray, name: str) -> np.ndarray:
        new = mask & alive
        if new.any():
            alive[new] = False
            counts[name] = int(new.sum())
            where[name] = refs.describe(new)
        return new

    for col in cols:
        if not col.accepts_blank:
            assign(status[col.name] == BLANK, f"blank_required:{col.name}")
    for col in cols:
        assign(status[col.name] == INVALID, f"invalid_value:{col.name}")
    for col in cols:
        new = assign(status[col.name] == UNKNOWN, f"unknown_code:{col.name}")
        if new.any():
            found += _unknown(table, col.name, df[col.name], new, refs)
    for col in cols:
        if col.kind == "date" and not col.future_ok:
            assign((parsed[col.name] > extract_date).to_numpy(), f"future_date:{col.name}")
        elif col.kind == "year_month":
            first = pd.to_datetime(parsed[col.name] + "-01", errors="coerce")
            assign((first > extract_date).to_numpy(), f"future_date:{col.name}")
    start, end = END_AFTER_START.get(table, (None, None))
    if start in parsed and end in parsed:
        assign((parsed[end] < parsed[start]).to_numpy(), "end_before_start")
    out = pd.DataFrame(parsed, index=df.index)
    dup = (out if alive.all() else out.loc[alive]).duplicated(keep="first").to_numpy()
    assign(_lift(np.flatnonzero(alive), dup, len(df)), "duplicate_row")
    twice = np.zeros(len(df), dtype=bool)
    if table == "pa_register":
        by_other, twice = _listed_again(out, alive)
        assign(by_other, "duplicate_pa_listing")
    keep = alive
    quality = pd.DataFrame({"table": table, "reason": ["kept", *counts],
                            "rows": [int(keep.sum()), *counts.values()],
                            "where": [None, *where.values()]})
    kept = out if keep.all() else out.loc[keep]
    if table in ETHNICITY_TABLES:  # keep the code as given; the group is derived
        kept = kept.assign(ethnic_group=kept["ethnicity"],
                           ethnicity=_source_code(df.loc[keep, "ethnicity"]))
    kept = derive(kept.reset_index(drop=True), table)
    found += _kept_findings(table, kept, status, keep, twice, refs, extract_date)
    return kept, quality, pd.DataFrame(found, columns=FINDING_COLUMNS).astype({"rows": "int64"})


def _source_code(raw: pd.Series) -> pd.Series:
    """The code as given, stripped (single-letter NHS codes upper-cased); NaN when blank."""
    def one(value: object) -> object:
        text = " ".join(str(value).split())
        if text.lower() in codes.MISSING_TOKENS:
            return np.nan
        return text.upper() if len(text) == 1 else text

    return codes.map_unique(raw, one).astype("str")


def derive(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Add the derived columns of docs/interfaces.md."""
    if table in (*ETHNICITY_TABLES, "population"):
        df["ethnic_group_broad"] = codes.ethnic_group_broad(df["ethnic_group"])
    if table == "support_episodes":
        df["has_dp"] = df["delivery_mechanism"].isin(codes.DP_MECHANISMS).astype("boolean")
        df["birth_date"] = pd.to_datetime(df["birth_year_month"] + "-15", format="%Y-%m-%d"
                                          ).astype("datetime64[ns]")
    return df
