"""Secondary suppression over linked counts: no hidden count narrowed through a total.

Rounding each count on its own (evalkit.sdc.protect) cannot stop a reader who also knows that
counts add up: parts 8 and 8 with a hidden 1 and their total 17 are shown 10, 10, [c] and 15,
so the parts are at least 8 each, the total at most 17, and the hidden part exactly 1. This is
τ-ARGUS's secondary suppression over linked tables, made small: each published frame names its
counts (`Spec.names`: the same name in two frames is the same count) and says which of them add
up (`Spec.sums`); then for every suppressed count of 1 to min_cell - 1 the bounds a reader
gets from every published count and every sum are worked out by integer programming, and while
they are narrower than the protection interval (upper - lower >= 2) the nearest shown count is
hidden too, the smallest first, parts before totals. A count hidden this way is hidden wherever
its name is published.

The reader's bounds (`Box`): a shown r means `Rules.interval(r)` and at least the
least shown count; a primary [c] 1 to smallest_shown - 1 (as if the reader knew it was one); a
secondary [c] at least 1; a named count published nowhere at least 0; a 0 exactly 0.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import linprog

if TYPE_CHECKING:
    from evalkit.sdc.protect import Rules, Spec

#: the protection interval: a hidden count keeps at least this + 1 whole numbers
WIDTH = 2


@dataclass(frozen=True)
class Sum:
    """In each row of a frame, the counts named by `parts` add up to the count named by `total`
    (templates filled with the row's values, e.g. Sum("people[{group}]", ("dp[{group}]",
    "no_dp[{group}]"))). Rows whose `total` is the same name are one sum, so Sum("dp[All]",
    ("dp[{group}]",)) says the groups of the frame add up to all; a row naming the total itself
    (an "All" row) is not one of its parts; with `each_row` every row is a sum of its own (the
    same total split in different ways, one per row)."""

    total: str
    parts: tuple[str, ...]
    each_row: bool = False


def label(value: object) -> str:
    """A row value as it is written into a count's name (dates as YYYY-MM-DD, 3.0 as 3)."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill(template: str, row: Mapping[Hashable, object]) -> str:
    """`template` with {column} replaced by the row's label of that column."""
    try:
        return template.format_map({str(k): label(v) for k, v in row.items()})
    except KeyError as e:
        raise ValueError(f"protect: a count's name {template!r} needs column {e}; the frame has "
                         f"{list(map(str, row))}") from None


def records(df: pd.DataFrame, spec: Spec) -> list[dict[Hashable, object]]:
    """The frame's rows with the fields its Spec works out for names (`Spec.fields`)."""
    rows = df.to_dict("records")
    for row in rows:
        row.update({f: fn(row) for f, fn in spec.fields})
    return rows


@dataclass
class Cell:
    """One named count: its true value, its value after primary protection (NaN: [c]) and the
    places (frame, column, row position) where it is published."""

    true: float
    shown: float
    places: list[tuple[str, str, int]] = field(default_factory=list)


def cells(frames: Mapping[str, pd.DataFrame | None], counted: Mapping[str, pd.DataFrame],
          kept: Mapping[str, np.ndarray], specs: Mapping[str, Spec]) -> dict[str, Cell]:
    """Every named count published (rows left out are not), checked to be one true value."""
    out: dict[str, Cell] = {}
    for name, df in frames.items():
        spec = specs[name]
        if df is None or not spec.names:
            continue
        rows = records(df, spec)
        for col, template in spec.names:
            for i, row in enumerate(rows):
                key, true = fill(template, row), float(row[col])
                if not kept[name][i] or math.isnan(true):  # left out, or no count at all
                    continue
                cell = out.setdefault(key, Cell(true, float(counted[name][col].iloc[i])))
                if cell.true != true:
                    raise ValueError(f"protect: count {key!r} is {cell.true:g} in one frame and "
                                     f"{true:g} in {name!r}: two counts share its name")
                cell.places.append((name, col, i))
    return out


def equations(frames: Mapping[str, pd.DataFrame | None], specs: Mapping[str, Spec]
              ) -> list[tuple[str, tuple[str, ...]]]:
    """Every sum (total, parts) the frames declare, once each, rows left out included (the sum
    holds whether or not a part is shown)."""
    found: dict[tuple[str, frozenset[str]], tuple[str, tuple[str, ...]]] = {}
    for name, df in frames.items():
        if df is None:
            continue
        rows = records(df, specs[name]) if specs[name].sums else []
        for n, s in enumerate(specs[name].sums):
            groups: dict[tuple[str, int], list[str]] = {}
            for i, row in enumerate(rows):
                total = fill(s.total, row)
                parts = groups.setdefault((total, i if s.each_row else 0), [])
                parts += [p for p in (fill(t, row) for t in s.parts) if p != total]
            for (total, _), parts in groups.items():
                if not parts:  # only the total itself (a detailed group named as its broad one)
                    continue
                unique = tuple(dict.fromkeys(parts))
                if len(unique) != len(parts):
                    raise ValueError(f"protect: frame {name!r} sum {n} names a part of "
                                     f"{total!r} twice")
                found.setdefault((total, frozenset(unique)), (total, unique))
    return list(found.values())


Box = tuple[float, float | None]


def box(cell: Cell | None, secondary: bool, rules: Rules) -> Box:
    """What a reader knows of one count on its own (see the module docstring)."""
    if cell is None:
        return 0.0, None
    if secondary:
        return 1.0, None
    if math.isnan(cell.shown):
        return 1.0, rules.smallest_shown - 1.0
    if cell.shown == 0:
        return 0.0, 0.0
    lo, hi = rules.interval(cell.shown)
    return max(lo, rules.smallest_shown), hi


class Links:
    """The sums as a graph between counts, for the bounds of one count over its component."""

    def __init__(self, eqs: list[tuple[str, tuple[str, ...]]]) -> None:
        self.eqs = eqs
        self.of: dict[str, list[int]] = {}
        for k, (total, parts) in enumerate(eqs):
            for v in (total, *parts):
                self.of.setdefault(v, []).append(k)

    def levels(self, start: str) -> dict[str, int]:
        """Every count linked to `start` through sums, with how many sums away it is (1: in a
        sum with it), nearest first."""
        level, queue = {start: 0}, deque([start])
        while queue:
            v = queue.popleft()
            for k in self.of.get(v, ()):
                total, parts = self.eqs[k]
                for w in (total, *parts):
                    if w not in level:
                        level[w] = level[v] + 1
                        queue.append(w)
        return level

    def bounds(self, target: str, boxes: Mapping[str, Box]) -> tuple[float, float]:
        """The least and greatest whole values of `target` over the sums of its component:
        worked out directly when the component is one sum (most are), else by linear
        programming (`_least`)."""
        names = list(self.levels(target))
        rows = sorted({k for v in names for k in self.of.get(v, ())})
        if len(rows) == 1:
            return one_sum_bounds(target, self.eqs[rows[0]], boxes)
        index = {v: i for i, v in enumerate(names)}
        a = np.zeros((len(rows), len(names)))
        for r, k in enumerate(rows):
            total, parts = self.eqs[k]
            a[r, index[total]] += 1
            for p in parts:
                a[r, index[p]] -= 1
        c = np.zeros(len(names))
        c[index[target]] = 1
        whole = [_range(boxes[v]) for v in names]
        return _least(c, a, whole, target, False), -_least(-c, a, whole, target, True)


def _least(c: np.ndarray, a: np.ndarray, whole: list[tuple[float, float]], target: str,
           feasible: bool) -> float:
    """The least c @ x over whole x with a @ x = 0 and each x in its range of whole numbers
    (`whole`): the linear program's when its solution is whole (then it is the integer
    program's too; the sums of published tables nearly always give one: the bounds of three
    councils' reports took 0.47 of the time of integer programming), else the integer
    program's. -inf when there is no lower limit, told only once a whole solution is known to
    exist (`feasible`): then a linear program without one means the same of the integer
    program (whole coefficients)."""
    bounds = [(lo, None if math.isinf(hi) else hi) for lo, hi in whole]
    relaxed = linprog(c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds)
    if relaxed.status == 0 and np.allclose(relaxed.x, np.round(relaxed.x), rtol=0, atol=1e-7):
        return float(round(relaxed.fun))
    if relaxed.status == 3 and feasible:
        return -math.inf
    res = relaxed if relaxed.status == 2 else linprog(
        c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds, integrality=np.ones(len(whole)))
    # HiGHS says "infeasible or unbounded" (4) for an integer program without a lower limit
    if res.status == 3 or (res.status == 4 and feasible):
        return -math.inf
    if res.status != 0:
        raise ValueError(f"protect: the sums of {target!r} cannot all hold with the "
                         f"published counts ({res.message})")
    return float(round(res.fun))  # whole, as asked (HiGHS may answer 5.9999999)


def one_sum_bounds(target: str, eq: tuple[str, tuple[str, ...]], boxes: Mapping[str, Box]
                   ) -> tuple[float, float]:
    """The least and greatest whole values of `target` in one sum total = parts, each count
    within its box. Exact without a solver: whole numbers each in a range of whole numbers add
    up to every whole number between their least and greatest sums, so the target's range is
    its box met with what the others' boxes allow."""
    total, parts = eq
    if target == total:
        low, high = _sum_range(parts, boxes)
    else:
        others = [v for v in parts if v != target]
        lo_total, hi_total = _range(boxes[total])
        lo_rest, hi_rest = _sum_range(others, boxes)
        low, high = lo_total - hi_rest, hi_total - lo_rest
    lo_own, hi_own = _range(boxes[target])
    lo, hi = max(low, lo_own), min(high, hi_own)
    if lo > hi:
        raise ValueError(f"protect: the sums of {target!r} cannot all hold with the published "
                         "counts (no whole values satisfy them)")
    return lo, hi


def _range(b: Box) -> tuple[float, float]:
    """A box as the whole numbers it holds (None: no upper limit)."""
    return math.ceil(b[0]), math.inf if b[1] is None or math.isinf(b[1]) else math.floor(b[1])


def _sum_range(names: Iterable[str], boxes: Mapping[str, Box]) -> tuple[float, float]:
    """The least and greatest sums of the named counts, each within its box."""
    ranges = [_range(boxes[v]) for v in names]
    return sum(lo for lo, _ in ranges), sum(hi for _, hi in ranges)


def secondary(cellmap: Mapping[str, Cell], eqs: list[tuple[str, tuple[str, ...]]],
              rules: Rules) -> list[str]:
    """Names of shown counts to hide so that no hidden count of 1 to min_cell - 1 in a sum is
    narrowed below the protection interval (greedy, nearest and smallest first).

    The bounds are first those of a reader who knows which [c] are 1 to smallest_shown - 1
    (`box`). Where hiding every shown count linked to one cannot widen them enough (a hidden
    total of a few hidden months, say), the real reader is checked instead, who cannot tell a
    primary [c] from a secondary one and reads each other [c] as at least 1 (this one still as
    1 to smallest_shown - 1, so its bounds stay finite); only if that reader narrows
    it too is it an error. The counts hidden in the attempt are shown again then."""
    _check_sums(cellmap, eqs)
    links = Links(eqs)
    totals = {t for t, _ in eqs}
    hidden: set[str] = set()
    boxes = {v: box(cellmap.get(v), False, rules) for v in links.of}
    primaries = sorted(v for v in links.of if v in cellmap and math.isnan(cellmap[v].shown)
                       and cellmap[v].true < rules.min_cell)
    for p in primaries:
        if _wide(links.bounds(p, boxes)):
            continue
        level = links.levels(p)
        candidates = [v for v in level if v in cellmap and v not in hidden
                      and cellmap[v].shown > 0]
        tried = []
        for v in sorted(candidates, key=lambda v: (level[v], v in totals, cellmap[v].true, v)):
            tried.append(v)
            hidden.add(v)
            boxes[v] = box(cellmap[v], True, rules)
            if _wide(links.bounds(p, boxes)):
                break
        else:
            for v in tried:
                hidden.discard(v)
                boxes[v] = box(cellmap[v], False, rules)
            reader = {v: (1.0, None) if v != p and v in cellmap and math.isnan(cellmap[v].shown)
                      else b for v, b in boxes.items()}
            lo, hi = links.bounds(p, reader)
            if not _wide((lo, hi)):
                raise ValueError(f"protect: count {p!r} stays narrowed to {lo:g}-{hi:g} with "
                                 "every count linked to it hidden; publish fewer of its "
                                 "breakdowns")
    return sorted(hidden)


def _wide(bounds: tuple[float, float]) -> bool:
    """True when the bounds keep the protection interval."""
    return bounds[1] - bounds[0] >= WIDTH


def _check_sums(cellmap: Mapping[str, Cell], eqs: list[tuple[str, tuple[str, ...]]]) -> None:
    """Every declared sum whose counts are all published holds for the true counts (else the
    declaration is wrong, and the bounds would mean nothing)."""
    for total, parts in eqs:
        if all(v in cellmap for v in (total, *parts)):
            got = sum(cellmap[v].true for v in parts)
            if got != cellmap[total].true:
                raise ValueError(f"protect: the counts declared to add up to {total!r} add up "
                                 f"to {got:g}, not {cellmap[total].true:g}: {list(parts)}")


def apply(counted: Mapping[str, pd.DataFrame], cellmap: Mapping[str, Cell],
          names: Iterable[str]) -> None:
    """Hide each named count wherever it is published (in place)."""
    for name in names:
        for frame, col, i in cellmap[name].places:
            counted[frame].iloc[i, counted[frame].columns.get_loc(col)] = np.nan
