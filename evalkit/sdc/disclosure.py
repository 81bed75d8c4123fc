"""Disclosure control for every count a notebook shows.

Primary suppression hides counts of 1 to threshold-1 (zero is shown as 0). Secondary suppression
hides further cells so that no hidden cell can be worked out from published totals: every total
relation (a row of cells summing to a row total, a column summing to the total row, or a group of
rows in a long table summing to the group's total row) holds either no hidden cell or at least two,
and no hidden cell is fixed by combining relations (checked by linear algebra). Rates whose
numerator or denominator is hidden are hidden too. Hidden cells show `SUPPRESSED`, explained by
`FOOTNOTE`, never a blank.

Totals are described by `total_col` (a column holding the sum of `count_cols` across a row) and
`total_row`: either an index label (a wide table's total row, summing all other rows), or
`(column, value)` (or a list of them) for long tables: a row whose `column` equals `value` holds
the sum of the rows that share its other key columns (the `by` columns and the other total
columns). Limits: published values are treated as exact, so bounds from non-negativity (interval
attacks) and sums over tables not passed in are not considered.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import null_space

SUPPRESSED = "[c]"


def footnote(threshold: int = 5) -> str:
    """The sentence that explains the `SUPPRESSED` marker for a given threshold."""
    return (f"{SUPPRESSED} = confidential: counts of 1 to {threshold - 1} are not shown, nor any "
            "figure from which one could be worked out.")


FOOTNOTE = footnote(5)


Counts = float | np.ndarray | pd.Series  # one count, or many
Flags = bool | np.ndarray | pd.Series  # one answer per count


def small(counts: Counts, threshold: int = 5) -> Flags:
    """True where a count is 1 to threshold - 1: the counts that are never shown (0 is shown).
    Takes a number, an array or a Series and answers in the same shape; a missing count is not
    small (nothing to hide)."""
    return (counts > 0) & (counts < threshold)


def share_shown(x: Counts, n: Counts, threshold: int = 5) -> Flags:
    """True where a share x/n can be shown: x and n are known and none of x, n and n - x is
    `small` (a share of a shown total gives its part away, and the part its complement). A
    missing x or n answers False (a share of unknowns is not shown), also for pandas' <NA>."""
    known = pd.notna(x) & pd.notna(n)
    risky = small(x, threshold) | small(n, threshold) | small(n - x, threshold)
    if isinstance(risky, pd.Series):
        risky = risky.fillna(True).astype(bool)
    elif risky is pd.NA:
        risky = True
    return known & np.logical_not(risky)


TotalRow = Hashable | tuple[str, Hashable] | list[tuple[str, Hashable]] | None


class DisclosureError(ValueError):
    """A table about to be published breaks the disclosure rules; the message names the cells."""


@dataclass(frozen=True)
class _Relation:
    """Cells (flat positions in the count grid) whose values sum to the cell at `total`."""

    members: tuple[int, ...]  # includes `total`
    total: int
    label: str


@dataclass(frozen=True)
class _Grid:
    """The count cells of a table (rows x count columns + total column) and their relations."""

    columns: tuple[str, ...]
    relations: tuple[_Relation, ...]
    n_rows: int

    def name(self, table: pd.DataFrame, flat: int) -> str:
        """Readable cell name: (row label, column)."""
        row, col = divmod(flat, len(self.columns))
        return f"({table.index[row]!r}, {self.columns[col]!r})"


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    return [x] if isinstance(x, str) else list(x or [])


def _total_specs(table: pd.DataFrame, total_row: TotalRow) -> list[tuple[str, Hashable]] | None:
    """(column, value) specs for long tables, or None when `total_row` is an index label/None."""
    if isinstance(total_row, list):
        specs = total_row
    elif (isinstance(total_row, tuple) and len(total_row) == 2
          and isinstance(total_row[0], str) and total_row[0] in table.columns):
        specs = [total_row]
    else:
        return None
    for spec in specs:
        if not (isinstance(spec, tuple) and len(spec) == 2 and spec[0] in table.columns):
            raise ValueError(f"disclosure: total_row entries must be (column, value) with a column "
                             f"of the table {list(table.columns)}, not {spec!r}")
    return specs


def _build_grid(table: pd.DataFrame, count_cols: Sequence[str], total_row: TotalRow,
                total_col: str | None, by: str | Sequence[str] | None) -> _Grid:
    """Lay out the count cells and the total relations between them."""
    if table.index.has_duplicates:
        raise ValueError("disclosure: the table index has duplicate labels; reset_index() first")
    columns = tuple(count_cols) + ((total_col,) if total_col else ())
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"disclosure: count column(s) {missing} not in the table; "
                         f"columns are {list(table.columns)}")
    if not count_cols:
        raise ValueError("disclosure: count_cols is empty; name the columns holding counts")
    width, n_rows = len(columns), len(table)
    relations: list[_Relation] = []
    if total_col:
        for r in range(n_rows):
            members = tuple(r * width + c for c in range(width))
            relations.append(_Relation(members, members[-1], f"row {table.index[r]!r} total"))
    groups = _row_groups(table, total_row, by)
    for rows, total, label in groups:
        for c in range(width):
            members = tuple(r * width + c for r in rows)
            relations.append(_Relation(members, total * width + c, f"{label}, {columns[c]!r}"))
    return _Grid(columns, tuple(relations), n_rows)


def _row_groups(table: pd.DataFrame, total_row: TotalRow,
                by: str | Sequence[str] | None) -> list[tuple[tuple[int, ...], int, str]]:
    """Groups of row positions (including the total row's) that sum to a total row."""
    by = _as_list(by)
    if total_row is None:
        if by:
            raise ValueError("disclosure: by= needs total_row=(column, value) naming total rows")
        return []
    specs = _total_specs(table, total_row)
    if specs is None:
        if by:
            raise ValueError("disclosure: by= needs total_row=(column, value), not an index label")
        if total_row not in table.index:
            raise ValueError(f"disclosure: total_row {total_row!r} is neither an index label of "
                             f"the table (index starts {list(table.index[:5])}) nor a "
                             "(column, value) pair")
        t = table.index.get_loc(total_row)
        return [(tuple(range(len(table))), t, f"total row {total_row!r}")]
    missing = [c for c in by if c not in table.columns]
    if missing:
        raise ValueError(f"disclosure: by column(s) {missing} not in the table")
    keys = list(dict.fromkeys([*by, *(col for col, _ in specs)]))
    groups = []
    for col, value in specs:
        others = [k for k in keys if k != col]
        codes = (table.groupby(others, sort=False, dropna=False).ngroup().to_numpy()
                 if others else np.zeros(len(table), dtype=int))
        is_total = (table[col] == value).to_numpy()
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            totals = rows[is_total[rows]]
            where = table.iloc[rows[0]][others].to_dict()
            if len(totals) > 1:
                raise ValueError(f"disclosure: {len(totals)} rows with {col} == {value!r} in "
                                 f"the group {where}; need one")
            if len(totals) == 1:
                groups.append((tuple(int(r) for r in rows), int(totals[0]),
                               f"{col} == {value!r} total for {where}"))
    return groups


def _counts(table: pd.DataFrame, grid: _Grid) -> np.ndarray:
    """Count cells as a flat float array; raises on missing, negative or non-numeric counts."""
    values = table.loc[:, list(grid.columns)].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any().any():
        cells = [f"({table.index[r]!r}, {grid.columns[c]!r})"
                 for r, c in zip(*np.nonzero(bad.to_numpy()), strict=True)]
        raise ValueError(f"disclosure: counts must be numbers >= 0; {len(cells)} cell(s) are "
                         f"missing, negative or not numbers, e.g. {', '.join(cells[:5])}")
    return values.to_numpy(dtype=float).ravel()


def _determined(hidden: np.ndarray, grid: _Grid) -> np.ndarray:
    """Hidden cells whose value follows exactly from the relations and the shown cells.

    A hidden cell is determined when every solution of the relations (restricted to hidden
    cells) gives it the same value: its coordinate is zero in every null-space vector.
    """
    unknown = np.flatnonzero(hidden)
    if not len(unknown):
        return np.zeros_like(hidden)
    col_of = {flat: i for i, flat in enumerate(unknown)}
    rows = []
    for rel in grid.relations:
        coeffs = np.zeros(len(unknown))
        for m in rel.members:
            if m in col_of:
                coeffs[col_of[m]] = -1.0 if m == rel.total else 1.0
        if coeffs.any():
            rows.append(coeffs)
    out = np.zeros_like(hidden)
    if not rows:
        return out
    basis = null_space(np.vstack(rows))
    out[unknown] = np.abs(basis).max(axis=1, initial=0.0) < 1e-9
    return out


def _pick(rel: _Relation, values: np.ndarray, hidden: np.ndarray,
          open_relations: Iterable[_Relation]) -> int:
    """The next cell to hide in `rel`: the smallest non-zero shown member, totals last.

    Ties go to a cell that also sits in another relation still needing a second hidden cell.
    """
    elsewhere = {m for r in open_relations if r is not rel for m in r.members}
    candidates = [m for m in rel.members if not hidden[m] and values[m] > 0]
    if not candidates:
        raise ValueError(f"disclosure: cannot protect {rel.label}: no non-zero cell left to hide "
                         "(do the totals match their parts?)")
    return min(candidates, key=lambda m: (m == rel.total, values[m], m not in elsewhere, m))


def _protect(values: np.ndarray, hidden: np.ndarray, grid: _Grid) -> np.ndarray:
    """Secondary suppression: hide more cells until no hidden cell can be worked out."""
    hidden = hidden.copy()
    while True:
        single = [r for r in grid.relations if hidden[list(r.members)].sum() == 1]
        if single:
            hidden[_pick(single[0], values, hidden, single)] = True
            continue
        fixed = np.flatnonzero(_determined(hidden, grid))
        if not len(fixed):
            return hidden
        # A hidden cell pinned by combining relations: widen a relation through it (or any relation
        # with a hidden cell if none through it can grow); hiding all non-zero cells is always safe.
        growable = [r for r in grid.relations if hidden[list(r.members)].any()
                    and any(not hidden[m] and values[m] > 0 for m in r.members)]
        through = [r for r in growable if fixed[0] in r.members] or growable
        if not through:
            raise ValueError("disclosure: cannot protect the table: a hidden cell is fixed by the "
                             "totals and no shown cell is left to hide (do totals match parts?)")
        best = min(through, key=lambda r: values[_pick(r, values, hidden, [])])
        hidden[_pick(best, values, hidden, [])] = True


def _rate_mask(table: pd.DataFrame, grid: _Grid, hidden: np.ndarray,
               rate_cols: Mapping[str, tuple[str, str]] | None) -> dict[str, np.ndarray]:
    """Rows where each rate column must be hidden: its numerator or denominator is hidden."""
    hidden2 = hidden.reshape(grid.n_rows, len(grid.columns))
    out = {}
    for rate, parts in (rate_cols or {}).items():
        if rate not in table.columns or len(parts) != 2:
            raise ValueError(f"disclosure: rate_cols maps a rate column of the table to "
                             f"(numerator, denominator); got {rate!r}: {parts!r}")
        mask = np.zeros(grid.n_rows, dtype=bool)
        for part in parts:
            if part not in table.columns:
                raise ValueError(f"disclosure: rate {rate!r} names column {part!r}, not in table")
            if part in grid.columns:
                mask |= hidden2[:, grid.columns.index(part)]
        out[rate] = mask
    return out


def suppress(table: pd.DataFrame, count_cols: str | Sequence[str], *, threshold: int = 5,
             rate_cols: Mapping[str, tuple[str, str]] | None = None, total_row: TotalRow = None,
             total_col: str | None = None, by: str | Sequence[str] | None = None,
             round_to: int | None = None) -> pd.DataFrame:
    """Display copy of `table` with small counts, and cells that would reveal them, as `[c]`.

    count_cols: columns of counts (people). threshold: counts 1..threshold-1 are hidden.
    rate_cols: {rate column: (numerator column, denominator column)}; a rate is hidden when either
    is. total_row / total_col / by: the published totals (see the module docstring).
    round_to: round shown counts to the nearest multiple (e.g. 5) after suppression.
    Count and rate columns come back as object columns holding numbers or `SUPPRESSED`; the input
    is not changed.
    """
    count_cols = _as_list(count_cols)
    if threshold < 1:
        raise ValueError(f"suppress: threshold must be >= 1, not {threshold}")
    grid = _build_grid(table, count_cols, total_row, total_col, by)
    values = _counts(table, grid)
    primary = small(values, threshold)
    hidden = _protect(values, primary, grid)
    rates = _rate_mask(table, grid, hidden, rate_cols)
    out = table.copy()
    width = len(grid.columns)
    for c, col in enumerate(grid.columns):
        shown = values[c::width]
        if round_to:
            shown = round_to * np.floor(shown / round_to + 0.5)
        shown = [int(v) if float(v).is_integer() else float(v) for v in shown]
        out[col] = pd.Series(np.where(hidden[c::width], SUPPRESSED, np.array(shown, dtype=object)),
                             index=table.index, dtype=object)
    for rate, mask in rates.items():
        out[rate] = pd.Series(np.where(mask, SUPPRESSED, table[rate].astype(object)),
                              index=table.index, dtype=object)
    return out


def _published(table: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse shown cells: (hidden mask, values with NaN where hidden or unreadable)."""
    raw = table.loc[:, list(cols)]
    hidden = (raw == SUPPRESSED).to_numpy()
    text = raw.map(lambda v: v.replace(",", "") if isinstance(v, str) else v)
    values = text.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return hidden, values


def check(table: pd.DataFrame, count_cols: str | Sequence[str], *, threshold: int = 5,
          rate_cols: Mapping[str, tuple[str, str]] | None = None, total_row: TotalRow = None,
          total_col: str | None = None, by: str | Sequence[str] | None = None) -> None:
    """Raise `DisclosureError` naming the cells if a table about to be published breaks the rules.

    Rules: no shown count in 1..threshold-1; no blank or unreadable count; no hidden count that
    can be worked out from the totals (one hidden cell in a relation, or pinned by combining
    relations); no rate shown whose numerator or denominator is hidden.
    Takes the display frame (as `suppress` returns it), with the same total description.
    """
    count_cols = _as_list(count_cols)
    grid = _build_grid(table, count_cols, total_row, total_col, by)
    hidden2, values2 = _published(table, grid.columns)
    hidden, values = hidden2.ravel(), values2.ravel()
    problems = []
    for flat in np.flatnonzero(~hidden & np.isnan(values)):
        problems.append(f"{grid.name(table, flat)} is blank or not a number")
    for flat in np.flatnonzero(~hidden & small(values, threshold)):
        problems.append(f"{grid.name(table, flat)} shows {values[flat]:g} "
                        f"(counts 1 to {threshold - 1} must be {SUPPRESSED})")
    single = {m: r for r in grid.relations if hidden[list(r.members)].sum() == 1
              for m in r.members if hidden[m]}
    for flat, rel in single.items():
        problems.append(f"{grid.name(table, flat)} can be worked out by subtraction ({rel.label})")
    for flat in np.flatnonzero(_determined(hidden, grid)):
        if flat not in single:
            problems.append(f"{grid.name(table, flat)} can be worked out by combining totals")
    for rate, mask in _rate_mask(table, grid, hidden, rate_cols).items():
        shown = mask & (table[rate] != SUPPRESSED).to_numpy()
        for r in np.flatnonzero(shown):
            problems.append(f"({table.index[r]!r}, {rate!r}) is shown but its numerator or "
                            "denominator is suppressed")
    if problems:
        raise DisclosureError(f"check: {len(problems)} cell(s) break disclosure rules: "
                              + "; ".join(problems[:20])
                              + (f"; and {len(problems) - 20} more" if len(problems) > 20 else ""))
