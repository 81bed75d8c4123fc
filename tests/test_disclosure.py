"""Disclosure control: small counts never shown, hidden cells never recoverable from totals.

Property tests draw random wide tables (row and column totals) and long tables (groups of rows
summing to a total row, optionally nested) and attack the published table independently of the
module: by subtraction within one total, and by linear algebra over all totals together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evalkit.sdc.disclosure import (
    FOOTNOTE,
    SUPPRESSED,
    DisclosureError,
    check,
    footnote,
    share_shown,
    small,
    suppress,
)

CELL = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 80))
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- tables and their totals, built independently of evalkit.sdc.disclosure ------------------

@st.composite
def wide_tables(draw):
    """(table with Total column and Total row, count columns)."""
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    values = draw(st.lists(st.lists(CELL, min_size=n_cols, max_size=n_cols),
                           min_size=n_rows, max_size=n_rows))
    cols = [f"c{j}" for j in range(n_cols)]
    table = pd.DataFrame(values, columns=cols, index=[f"r{i}" for i in range(n_rows)])
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum()
    return table, cols


def wide_relations(table: pd.DataFrame, cols: list[str]) -> list[list[tuple[int, str]]]:
    """Each total relation as its cells, the total last: rows across, columns down."""
    rows = range(len(table) - 1)
    out = [[(i, c) for c in cols] + [(i, "Total")] for i in range(len(table))]
    out += [[(i, c) for i in rows] + [(len(table) - 1, c)] for c in [*cols, "Total"]]
    return out


@st.composite
def long_tables(draw):
    """(long table, nested?) with counts n, denominators pop and rate = n / pop."""
    n_areas, n_groups = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    nested = draw(st.booleans())
    rows = []
    for a in range(n_areas):
        for g in range(n_groups):
            n = draw(CELL)
            rows.append({"area": f"A{a}", "group": f"G{g}", "n": n,
                         "pop": n + draw(st.one_of(st.integers(0, 3), st.integers(4, 200)))})
    table = pd.DataFrame(rows)
    totals = table.groupby("area", as_index=False)[["n", "pop"]].sum().assign(group="Total")
    table = pd.concat([table, totals], ignore_index=True)
    if nested:
        alls = table.groupby("group", as_index=False, sort=False)[["n", "pop"]].sum()
        table = pd.concat([table, alls.assign(area="All")], ignore_index=True)
    table["rate"] = table["n"] / table["pop"].where(table["pop"] > 0)
    return table, nested


def long_relations(table: pd.DataFrame, nested: bool, col: str) -> list[list[tuple[int, str]]]:
    out = []
    keys = [("area", "group", "Total")] + ([("group", "area", "All")] if nested else [])
    for within, dim, total in keys:
        for _, g in table.groupby(within):
            parts = [(i, col) for i in g.index[g[dim] != total]]
            out.append(parts + [(i, col) for i in g.index[g[dim] == total]])
    return out


def long_specs(nested: bool) -> dict:
    if nested:
        return {"total_row": [("group", "Total"), ("area", "All")]}
    return {"total_row": ("group", "Total"), "by": "area"}


# ---- attacks -----------------------------------------------------------------------------------

def hidden_cells(out: pd.DataFrame, cols: list[str]) -> set[tuple[int, str]]:
    return {(i, c) for c in cols for i in range(len(out)) if out[c].iloc[i] == SUPPRESSED}


def recoverable_by_subtraction(hidden, relations) -> set[tuple[int, str]]:
    """Peel: any relation with one unknown reveals it; repeat with what was learnt (chains)."""
    known_hidden: set = set()
    changed = True
    while changed:
        changed = False
        for rel in relations:
            unknown = [cell for cell in rel if cell in hidden and cell not in known_hidden]
            if len(unknown) == 1:
                known_hidden.add(unknown[0])
                changed = True
    return known_hidden


def recoverable_by_algebra(hidden, relations) -> set[tuple[int, str]]:
    """A hidden cell is fixed when its indicator lies in the row space of the relations."""
    cells = sorted(hidden)
    pos = {cell: k for k, cell in enumerate(cells)}
    rows = []
    for rel in relations:
        row = np.zeros(len(cells))
        for cell in rel[:-1]:
            if cell in pos:
                row[pos[cell]] = 1
        if rel[-1] in pos:
            row[pos[rel[-1]]] = -1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    return {cell for cell in cells
            if np.linalg.matrix_rank(np.vstack([a, np.eye(len(cells))[pos[cell]]])) == rank}


def assert_published_safely(table, out, cols, relations, threshold):
    for c in cols:
        for orig, shown in zip(table[c], out[c], strict=True):
            if shown == SUPPRESSED:
                assert orig != 0, "a zero was suppressed"
                continue
            assert not (0 < orig < threshold), f"{orig} shown in {c}"
            assert shown == orig and not pd.isna(shown)
    hidden = hidden_cells(out, cols)
    assert not recoverable_by_subtraction(hidden, relations)
    assert not recoverable_by_algebra(hidden, relations)


# ---- properties --------------------------------------------------------------------------------

@SETTINGS
@given(wide_tables(), st.sampled_from([3, 5, 10]))
def test_wide_tables_are_safe(drawn, threshold):
    table, cols = drawn
    before = table.copy()
    out = suppress(table, cols, threshold=threshold, total_row="Total", total_col="Total")
    assert_published_safely(table, out, [*cols, "Total"], wide_relations(table, cols), threshold)
    check(out, cols, threshold=threshold, total_row="Total", total_col="Total")
    pd.testing.assert_frame_equal(table, before)


@SETTINGS
@given(long_tables(), st.sampled_from([3, 5]))
def test_long_tables_are_safe_and_rates_follow_counts(drawn, threshold):
    table, nested = drawn
    rates = {"rate": ("n", "pop")}
    out = suppress(table, ["n", "pop"], threshold=threshold, rate_cols=rates, **long_specs(nested))
    relations = long_relations(table, nested, "n") + long_relations(table, nested, "pop")
    assert_published_safely(table, out, ["n", "pop"], relations, threshold)
    either = (out["n"] == SUPPRESSED) | (out["pop"] == SUPPRESSED)
    assert ((out["rate"] == SUPPRESSED) == either).all()
    shown = ~either
    assert out.loc[shown, "rate"].astype(float).equals(table.loc[shown, "rate"])
    check(out, ["n", "pop"], threshold=threshold, rate_cols=rates, **long_specs(nested))


@SETTINGS
@given(wide_tables(), st.data())
def test_check_catches_a_revealed_primary_cell(drawn, data):
    table, cols = drawn
    out = suppress(table, cols, total_row="Total", total_col="Total")
    small = [(i, c) for c in [*cols, "Total"] for i in range(len(table))
             if 0 < table[c].iloc[i] < 5]
    assume(small)
    i, c = data.draw(st.sampled_from(small))
    out.iloc[i, out.columns.get_loc(c)] = table[c].iloc[i]
    with pytest.raises(DisclosureError, match=rf"\('{table.index[i]}', '{c}'\) shows"):
        check(out, cols, total_row="Total", total_col="Total")


@SETTINGS
@given(long_tables(), st.data())
def test_check_catches_a_cell_left_alone_in_its_total(drawn, data):
    table, nested = drawn
    out = suppress(table, ["n"], **long_specs(nested))
    hidden = hidden_cells(out, ["n"])
    touched = [rel for rel in long_relations(table, nested, "n") if hidden.intersection(rel)]
    assume(touched)
    rel = data.draw(st.sampled_from(touched))
    kept, *revealed = [cell for cell in rel if cell in hidden]
    for i, _ in revealed:  # publish all but one hidden cell of this total: `kept` is then derivable
        out.loc[i, "n"] = table.loc[i, "n"]
    with pytest.raises(DisclosureError, match=rf"\({kept[0]}, 'n'\) can be worked out"):
        check(out, ["n"], **long_specs(nested))


# ---- worked examples ---------------------------------------------------------------------------

def _two_by_two() -> pd.DataFrame:
    t = pd.DataFrame({"A": [3, 20], "B": [10, 30]}, index=["x", "y"])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    return t


def test_two_by_two_hides_the_whole_interior_and_keeps_totals():
    out = suppress(_two_by_two(), ["A", "B"], total_row="Total", total_col="Total")
    assert out.loc[["x", "y"], ["A", "B"]].eq(SUPPRESSED).all().all()
    assert out.loc["Total"].tolist() == [23, 40, 63]
    assert out["Total"].tolist() == [13, 50, 63]


def test_secondary_takes_the_next_smallest_cell_in_the_row():
    t = pd.DataFrame({"a": [2], "b": [50], "c": [9], "Total": [61]}, index=["area"])
    out = suppress(t, ["a", "b", "c"], total_col="Total")
    assert out.loc["area"].tolist() == [SUPPRESSED, 50, SUPPRESSED, 61]


def test_without_totals_only_small_counts_are_hidden_and_zero_shown():
    t = pd.DataFrame({"n": [0, 1, 4, 5, 120]})
    assert suppress(t, "n")["n"].tolist() == [0, SUPPRESSED, SUPPRESSED, 5, 120]


def test_rounding_to_nearest_five_after_suppression():
    t = pd.DataFrame({"n": [3, 7, 8, 12, 13, 0]})
    assert suppress(t, "n", round_to=5)["n"].tolist() == [SUPPRESSED, 5, 10, 10, 15, 0]


def test_estimates_follow_their_counts():
    est = pd.DataFrame({"group": ["Asian", "Black", "White"], "x": [3, 40, 300],
                        "n": [50, 2, 900], "value": [0.06, 0.5, 0.33],
                        "lower": [0.02, 0.1, 0.3], "upper": [0.16, 0.9, 0.36]})
    out = suppress(est, ["x", "n"], rate_cols={c: ("x", "n") for c in ("value", "lower", "upper")})
    assert out["value"].tolist() == [SUPPRESSED, SUPPRESSED, 0.33]
    assert out["upper"].tolist() == [SUPPRESSED, SUPPRESSED, 0.36]
    assert out["group"].tolist() == ["Asian", "Black", "White"]
    assert est["x"].tolist() == [3, 40, 300]  # input untouched


def test_check_catches_a_cell_pinned_only_by_combining_totals():
    # Two 2x2 cycles of hidden cells joined by one hidden cell (r1, c2): every total holds 0 or >=2
    # hidden cells, yet rows r0+r1 minus columns c0+c1 give (r1, c2) exactly.
    t = pd.DataFrame(np.full((4, 4), 20), columns=["c0", "c1", "c2", "c3"],
                     index=["r0", "r1", "r2", "r3"])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    out = t.astype(object)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)]:
        out.iloc[i, j] = SUPPRESSED
    with pytest.raises(DisclosureError, match=r"\('r1', 'c2'\) can be worked out by combining"):
        check(out, ["c0", "c1", "c2", "c3"], total_row="Total", total_col="Total")


def test_check_catches_blank_cells_and_rates_left_showing():
    t = pd.DataFrame({"n": [SUPPRESSED, np.nan, 40], "pop": [10, 20, 90], "rate": [0.3, 0.1, 0.4]})
    with pytest.raises(DisclosureError) as err:
        check(t, "n", rate_cols={"rate": ("n", "pop")})
    assert "(1, 'n') is blank" in str(err.value)
    assert "(0, 'rate') is shown" in str(err.value)


def test_check_reads_formatted_numbers():
    t = pd.DataFrame({"n": ["1,234", "3"]})
    with pytest.raises(DisclosureError, match=r"\(1, 'n'\) shows 3"):
        check(t, "n")
    check(pd.DataFrame({"n": ["1,234", SUPPRESSED, "0"]}), "n")


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame({"n": [1.0, np.nan]}), r"missing, negative or not numbers, e.g. \(1, 'n'\)"),
    (pd.DataFrame({"n": [-1]}), "counts must be numbers >= 0"),
    (pd.DataFrame({"m": [1]}), r"count column\(s\) \['n'\] not in the table"),
])
def test_bad_counts_are_errors_naming_cells(bad, message):
    with pytest.raises(ValueError, match=message):
        suppress(bad, "n")


def test_unknown_total_row_is_an_error():
    with pytest.raises(ValueError, match="total_row 'All' is neither an index label"):
        suppress(pd.DataFrame({"n": [10]}), "n", total_row="All")


def test_footnote_explains_the_marker():
    assert SUPPRESSED == "[c]"
    assert FOOTNOTE.startswith("[c]") and "1 to 4" in FOOTNOTE
    assert "1 to 9" in footnote(10)


def test_small_is_one_to_threshold_minus_one_for_numbers_arrays_and_series():
    assert [bool(small(v)) for v in (0, 1, 4, 5, 4.5)] == [False, True, True, False, True]
    assert bool(small(9, threshold=10)) and not small(10, threshold=10)
    got = small(pd.Series([0, 2, 7, np.nan], index=list("abcd")), threshold=3)
    assert got.tolist() == [False, True, False, False] and list(got.index) == list("abcd")
    assert small(np.array([3, 10]), threshold=10).tolist() == [True, False]


def test_share_shown_needs_part_whole_and_rest_all_unsmall():
    x = pd.Series([0, 3, 10, 10, 48, 50])
    n = pd.Series([50, 50, 12, 50, 50, 50])
    # 3 is small; 12 - 10 = 2 is small; 50 - 48 = 2 is small; 0 of 50 and 50 of 50 are fine
    assert share_shown(x, n).tolist() == [True, False, False, True, False, True]
    assert bool(share_shown(5, 9)) is False  # 9 - 5 = 4
    assert bool(share_shown(5, 10)) is True
    # unknown counts: not shown, whether NaN, pandas' <NA> or a missing scalar
    assert share_shown(pd.Series([np.nan, 10.0]), pd.Series([20.0, np.nan])).tolist() == [
        False, False]
    nullable = share_shown(pd.Series([pd.NA, 10], dtype="Int64"), pd.Series([20, 20],
                                                                            dtype="Int64"))
    assert nullable.tolist() == [False, True]
    assert bool(share_shown(np.nan, 20)) is False and bool(share_shown(pd.NA, 20)) is False
