"""Secondary suppression over linked counts (evalkit.sdc.linked): names, sums and their checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from evalkit.data import codes
from evalkit.sdc.linked import Links, Sum, fill, one_sum_bounds
from evalkit.sdc.protect import Rules, Spec, protect_frames

RULES = Rules(min_cell=5, base=5)
GROUPS = Spec(counts=("dp",), names=(("dp", "dp[{group}]"),),
              sums=(Sum("dp[All]", ("dp[{group}]",)),))
ALL = Spec(counts=("dp",), names=(("dp", "dp[{group}]"),))


def frames(parts: list[int], total: int) -> dict[str, pd.DataFrame]:
    return {"groups": pd.DataFrame({"group": list("abcdefgh"[:len(parts)]), "dp": parts}),
            "overall": pd.DataFrame({"group": ["All"], "dp": [total]})}


def test_a_sum_across_two_frames_gets_the_nearest_small_part_hidden_everywhere():
    # 8 + 8 + 1 = 17: shown 10, 10, [c] and 15 would pin the 1 (parts >= 8 each, total <= 17)
    out = protect_frames(frames([8, 8, 1], 17), {"groups": GROUPS, "overall": ALL}, RULES)
    assert out["overall"]["dp"].tolist() == [15]
    assert np.isnan(out["groups"]["dp"]).sum() == 2  # the 1 and one 8


def test_a_sum_with_room_to_spare_hides_nothing_more():
    out = protect_frames(frames([30, 41, 2], 73), {"groups": GROUPS, "overall": ALL}, RULES)
    assert out["groups"]["dp"].isna().tolist() == [False, False, True]


def test_a_name_for_two_different_counts_is_an_error():
    f = frames([30, 41, 2], 73)
    f["other"] = pd.DataFrame({"group": ["a"], "dp": [31]})
    with pytest.raises(ValueError, match="'dp\\[a\\]' is 30 in one frame and 31 in 'other'"):
        protect_frames(f, {"groups": GROUPS, "overall": ALL, "other": ALL}, RULES)


def test_a_declared_sum_the_true_counts_break_is_an_error():
    with pytest.raises(ValueError, match="add up to 73, not 80"):
        protect_frames(frames([30, 41, 2], 80), {"groups": GROUPS, "overall": ALL}, RULES)


def test_each_row_makes_one_sum_per_row():
    # two ways of splitting the same 40 requests: with/without a preference, per row
    df = pd.DataFrame({"pref": ["x", "y"], "n": [40, 40], "with": [38, 20], "without": [2, 20]})
    spec = Spec(counts=("n", "with", "without"),
                names=(("n", "n"), ("with", "with[{pref}]"), ("without", "without[{pref}]")),
                sums=(Sum("n", ("with[{pref}]", "without[{pref}]"), each_row=True),))
    out = protect_frames({"t": df}, {"t": spec}, RULES)["t"]
    assert out["with"].tolist() == [40, 20] and np.isnan(out["without"][0])
    merged = Spec(counts=spec.counts, names=spec.names,
                  sums=(Sum("n", ("with[{pref}]", "without[{pref}]")),))
    with pytest.raises(ValueError, match="add up to 80, not 40"):
        protect_frames({"t": df}, {"t": merged}, RULES)


def test_a_name_needing_a_missing_column_says_which():
    with pytest.raises(ValueError, match="needs column 'grp'"):
        fill("dp[{grp}]", {"group": "a"})
    day = pd.Timestamp("2025-04-01 00:00")
    assert fill("x[{d}|{n}]", {"d": day, "n": 3.0}) == "x[2025-04-01|3]"


def test_detailed_groups_add_up_to_their_broad_group_through_a_worked_out_field():
    detailed = pd.DataFrame({"ethnic_group": ["Asian or Asian British: Indian",
                                              "Asian or Asian British: Pakistani",
                                              "Asian or Asian British: Chinese", "Not stated"],
                             "dp": [8, 8, 1, 3]})
    broad = pd.DataFrame({"ethnic_group_broad": ["Asian", "Not stated"], "dp": [17, 3]})
    spec = Spec(counts=("dp",), names=(("dp", "dp[{ethnic_group}]"),),
                sums=(Sum("dp[{broad}]", ("dp[{ethnic_group}]",)),),
                fields=(("broad", lambda row: codes.broad_group_of(row["ethnic_group"])),))
    top = Spec(counts=("dp",), names=(("dp", "dp[{ethnic_group_broad}]"),))
    out = protect_frames({"detailed": detailed, "broad": broad},
                         {"detailed": spec, "broad": top}, RULES)
    assert out["broad"]["dp"].tolist()[0] == 15
    assert out["detailed"]["dp"].isna().sum() == 3  # the Chinese 1, one 8 and Not stated's 3
    with pytest.raises(ValueError, match="not an ONS ethnic group"):
        codes.broad_group_of("Somali")


def test_where_nothing_linked_is_left_to_hide_the_real_reader_is_checked():
    # six months of 1 under a hidden total of 6: a reader who knew the total's [c] means at
    # most 7 would put each month at 1 or 2, but nothing shown is left to hide; the real reader
    # cannot tell that [c] from a larger hidden one, so the months keep 1 to 7 and the frame
    # is published as primary suppression left it (no error, nothing more hidden)
    df = pd.DataFrame({"month": [*map(str, range(6)), "all"], "y": [1] * 6 + [6]})
    spec = Spec(counts=("y",), names=(("y", "y[{month}]"),),
                sums=(Sum("y[all]", ("y[{month}]",)),))
    out = protect_frames({"t": df}, {"t": spec}, RULES)["t"]
    assert out["y"].isna().all() and len(out) == 7


def _milp_bounds(target: str, total: str, parts: tuple[str, ...], boxes: dict) -> tuple:
    """The bounds by integer programming, as for a component of several sums; None when no
    whole values satisfy the sum (HiGHS may then say "infeasible or unbounded", so feasibility
    is asked first, with no objective)."""
    names = [total, *parts]
    a = np.array([[1.0] + [-1.0] * len(parts)])
    c = np.array([1.0 if v == target else 0.0 for v in names])
    out = []
    for sign in (0, 1, -1):
        res = linprog(sign * c, A_eq=a, b_eq=[0.0], bounds=[boxes[v] for v in names],
                      integrality=np.ones(len(names)))
        if sign == 0 and res.status != 0:
            assert res.status == 2, res.message
            return None, None
        if sign:
            assert res.status in (0, 3, 4), res.message  # feasible: 4 means unbounded
            out.append(sign * res.fun if res.status == 0 else math.inf)
    return tuple(out)


def test_one_sum_bounds_are_those_of_integer_programming():
    rng = np.random.default_rng(7)
    checked = infeasible = 0
    for _ in range(120):
        n = int(rng.integers(1, 6))
        total, parts = "t", tuple(f"p{i}" for i in range(n))
        boxes = {}
        for v in (total, *parts):
            lo = float(rng.integers(0, 30))
            kind = rng.random()
            boxes[v] = ((lo, None) if kind < 0.2 else (0.0, 0.0) if kind < 0.3
                        else (lo, lo + float(rng.integers(0, 12))))
        for target in (total, *parts):
            want = _milp_bounds(target, total, parts, boxes)
            if None in want:
                infeasible += 1
                with pytest.raises(ValueError, match="cannot all hold"):
                    one_sum_bounds(target, (total, parts), boxes)
            else:
                assert one_sum_bounds(target, (total, parts), boxes) == want
                checked += 1
    assert checked > 80 and infeasible > 80  # both kinds were met


def test_a_count_with_no_upper_limit_in_several_sums_is_unbounded_not_an_error():
    # t = a + b, b = c + d; d never published (0 to no limit): t has no upper limit
    links = Links([("t", ("a", "b")), ("b", ("c", "d"))])
    boxes = {"t": (3.0, None), "a": (1.0, 4.0), "b": (0.0, None), "c": (2.0, 2.0),
             "d": (0.0, None)}
    assert links.bounds("t", boxes) == (3.0, math.inf)
    assert links.bounds("a", boxes) == (1.0, 4.0)
    assert links.bounds("t", {**boxes, "d": (0.0, math.inf)}) == (3.0, math.inf)  # as None
    with pytest.raises(ValueError, match="cannot all hold"):
        links.bounds("t", {**boxes, "t": (0.0, 2.0)})  # a + c alone are at least 3


def test_where_the_linear_program_has_no_whole_solution_the_integer_programs_bounds_hold():
    # t = x + y = y + z = x + z: x = y = z and t = 2x, even. With t from 1 to 3 the linear
    # program's least and greatest t are 1 (x = 0.5) and 3 (x = 1.5); only 2 is whole
    links = Links([("t", ("x", "y")), ("t", ("y", "z")), ("t", ("x", "z"))])
    boxes = {"t": (1.0, 3.0), "x": (0.0, 10.0), "y": (0.0, 10.0), "z": (0.0, 10.0)}
    assert links.bounds("t", boxes) == (2.0, 2.0)
    assert links.bounds("x", boxes) == (1.0, 1.0)
    with pytest.raises(ValueError, match="cannot all hold"):
        links.bounds("t", {**boxes, "t": (3.0, 3.0)})


def test_bounds_over_linked_tables_are_those_of_integer_programming():
    # a two-way table (rows and columns adding up to their totals, and those to the grand
    # total), each count published as a box, with random gaps: as `protect` links tables
    rng = np.random.default_rng(11)
    checked = unbounded = 0
    for _ in range(40):
        rows, cols = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        cell = {(r, c): f"c{r}{c}" for r in range(rows) for c in range(cols)}
        eqs = ([(f"r{r}", tuple(cell[r, c] for c in range(cols))) for r in range(rows)]
               + [(f"k{c}", tuple(cell[r, c] for r in range(rows))) for c in range(cols)]
               + [("g", tuple(f"r{r}" for r in range(rows)))])
        true = {v: int(rng.integers(0, 20)) for v in cell.values()}
        true |= {t: sum(true[p] for p in parts) for t, parts in eqs[:-1]}
        true["g"] = sum(true[f"r{r}"] for r in range(rows))
        boxes = {v: ((0.0, None) if rng.random() < 0.4
                     else (float(max(0, n - rng.integers(0, 4))), float(n + rng.integers(0, 4))))
                 for v, n in true.items()}
        links = Links(eqs)
        for target in rng.choice(sorted(true), 4, replace=False):
            want = _milp_linked(eqs, str(target), boxes)
            assert links.bounds(str(target), boxes) == want
            checked += 1
            unbounded += math.isinf(want[1])
    assert checked == 160 and unbounded >= 5  # both kinds were met


def _milp_linked(eqs: list[tuple[str, tuple[str, ...]]], target: str, boxes: dict) -> tuple:
    """The bounds of `target` over all of `eqs` by integer programming (every count in them,
    whatever its component; feasible by construction: the true counts are in their boxes)."""
    names = sorted({v for total, parts in eqs for v in (total, *parts)})
    at = {v: i for i, v in enumerate(names)}
    a = np.zeros((len(eqs), len(names)))
    for r, (total, parts) in enumerate(eqs):
        a[r, at[total]] = 1
        a[r, [at[p] for p in parts]] = -1
    c = np.array([1.0 if v == target else 0.0 for v in names])
    out = []
    for sign in (1, -1):
        res = linprog(sign * c, A_eq=a, b_eq=np.zeros(len(eqs)),
                      bounds=[boxes[v] for v in names], integrality=np.ones(len(names)))
        assert res.status in (0, 3, 4), res.message  # feasible: 4 means unbounded
        out.append(sign * res.fun if res.status == 0 else math.inf)
    return tuple(out)
