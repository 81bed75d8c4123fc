"""An attacker of published small counts: linear relations and linear-programming bounds.

The threat (docs/disclosure.md, issue 14): a reader holds every output of a run and combines
them by addition, subtraction, margins, hierarchies and derived figures (shares with their
denominators, rates with their periods, survival estimates with their numbers at risk). Each
unknown true count is a variable (a whole number >= 0); each published figure adds a constraint
the attacker knows holds (`System`); `attack` bounds every targeted variable by minimising and
maximising it (scipy.optimize.linprog, or milp for exact whole-number bounds on small systems).
A target is leaked when it is pinned exactly or narrowed to fewer than three whole numbers
(upper - lower < 2, the protection interval of the design).

The system never reads the truth: the truth is passed only to choose the targets (counts of
1 to min_cell - 1) and to check that the relations the attacker assumed hold (`violated`).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array

SUPPRESSED = "[c]"
PROTECTION_WIDTH = 2  # upper - lower below this is a leak (fewer than 3 possible values)
MILP_LIMIT = 400  # variables in a component up to which whole-number bounds are exact
TOL = 1e-6


@dataclass(frozen=True)
class Relation:
    """lower <= sum(coef * variable) <= upper, with the published figure it comes from."""

    coefs: Mapping[str, float]
    lower: float
    upper: float
    label: str


@dataclass(frozen=True)
class Leak:
    """A target count the attacker pins or narrows below the protection interval."""

    name: str
    truth: int
    lower: int
    upper: int
    relations: tuple[str, ...]  # labels of the relations of its component (the way in)

    @property
    def exact(self) -> bool:
        return self.lower == self.upper


def count_interval(value: object, base: int = 5, smallest: int = 5,
                   blank_suppressed: bool = False) -> tuple[float, float] | None:
    """What a published count cell tells the attacker: (lower, upper) of the true count, or None.

    "[c]" (or a blank, when the report says blanks are suppressed counts) means 1..smallest-1,
    `smallest` being the least count shown; 0 means 0; a whole number that is not a multiple of
    `base` was not rounded, so it is exact; a multiple r of `base` is the rounded value of
    [r - base/2, r + base/2) (and at least `smallest` when r >= smallest, smaller counts being
    suppressed). Otherwise a blank says nothing.
    """
    if isinstance(value, str):
        return (1, smallest - 1) if value.strip() == SUPPRESSED else None
    if value is None or not isinstance(value, int | float | np.integer | np.floating):
        return None
    v = float(value)
    if not math.isfinite(v):
        return (1, smallest - 1) if blank_suppressed else None
    if v == 0 or base <= 1 or abs(v - round(v)) > TOL or round(v) % base:
        return (v, v)
    lower, upper = math.ceil(v - base / 2), math.ceil(v + base / 2) - 1
    return (max(lower, smallest) if v >= smallest else max(lower, 0), upper)


@dataclass
class System:
    """The attacker's knowledge: variables (true counts, >= 0) and linear relations on them."""

    relations: list[Relation] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {n for r in self.relations for n in r.coefs}

    def add(self, coefs: Mapping[str, float], lower: float, upper: float, label: str) -> None:
        """lower <= sum(coef * var) <= upper (terms with coefficient 0 dropped)."""
        terms = {k: float(v) for k, v in coefs.items() if v}
        if terms:
            self.relations.append(Relation(terms, float(lower), float(upper), label))

    def observe(self, name: str, value: object, label: str, base: int = 5,
                smallest: int = 5, blank_suppressed: bool = False) -> None:
        """A published count cell of variable `name` (see `count_interval`)."""
        interval = count_interval(value, base, smallest, blank_suppressed)
        if interval is not None:
            self.add({name: 1}, *interval, label)

    def equal(self, a: str, b: str, label: str) -> None:
        """The same count published in two places."""
        if a != b:
            self.add({a: 1, b: -1}, 0, 0, label)

    def margin(self, total: str, parts: Iterable[str], label: str) -> None:
        """total = sum(parts): a table's total, a broad group of its detailed groups, stayed +
        joined = active."""
        coefs: dict[str, float] = defaultdict(float)
        for p in parts:
            coefs[p] += 1
        coefs[total] -= 1
        self.add(coefs, 0, 0, label)

    def ratio(self, x: str, n: str, value: float, label: str, tol: float = 1e-9,
              scale: float = 1.0) -> None:
        """value = scale * x / n, published to within `tol` (relative to scale): a share with its
        denominator (scale 1), a rate per 1000 with its population (scale 1000), a rate per
        month with its months (x = rate * months as n fixed by `observe`)."""
        if not math.isfinite(value):
            return
        lo, hi = (value - tol) / scale, (value + tol) / scale
        self.add({x: 1, n: -hi}, -math.inf, 0, label)
        self.add({x: 1, n: -lo}, 0, math.inf, label)

    def violated(self, truth: Mapping[str, float], slack: float = 1e-6) -> list[str]:
        """Labels of relations the true counts break (a wrong assumption of the attacker); only
        relations whose variables all have a true value are checked."""
        out = []
        for r in self.relations:
            if all(k in truth for k in r.coefs):
                s = sum(c * truth[k] for k, c in r.coefs.items())
                if not (r.lower - slack * (1 + abs(r.lower)) <= s
                        <= r.upper + slack * (1 + abs(r.upper))):
                    out.append(f"{r.label}: {s:g} not in [{r.lower:g}, {r.upper:g}]")
        return out


def components(system: System) -> list[list[Relation]]:
    """The relations split into groups sharing no variable (bounded one group at a time)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r in system.relations:
        first, *rest = r.coefs
        for k in rest:
            parent[find(k)] = find(first)
    groups: dict[str, list[Relation]] = defaultdict(list)
    for r in system.relations:
        groups[find(next(iter(r.coefs)))].append(r)
    return list(groups.values())


def _matrix(relations: list[Relation]) -> tuple[list[str], csr_array, np.ndarray, np.ndarray]:
    names = sorted({k for r in relations for k in r.coefs})
    index = {k: i for i, k in enumerate(names)}
    rows, cols, vals = [], [], []
    for i, r in enumerate(relations):
        for k, c in r.coefs.items():
            rows.append(i)
            cols.append(index[k])
            vals.append(c)
    a = csr_array((vals, (rows, cols)), shape=(len(relations), len(names)))
    return (names, a, np.array([r.lower for r in relations]),
            np.array([r.upper for r in relations]))


@dataclass(frozen=True)
class Program:
    """One component's relations as matrices: lo <= a @ x <= hi, x >= 0."""

    names: list[str]
    a: csr_array
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, relations: list[Relation]) -> Program:
        return cls(*_matrix(relations))

    def lp_bounds(self, target: int) -> tuple[float, float]:
        """Continuous bounds of variable `target` (linprog, HiGHS)."""
        return self._solve(target, self._lp)

    def milp_bounds(self, target: int) -> tuple[float, float]:
        """Whole-number bounds of variable `target` (milp, HiGHS)."""
        return self._solve(target, self._milp)

    @functools.cached_property
    def _ub(self) -> tuple[csr_array, np.ndarray]:
        """The relations as a_ub @ x <= b_ub (the form linprog takes)."""
        up, down = np.isfinite(self.hi), np.isfinite(self.lo)
        return (sparse.vstack([self.a[up], -self.a[down]], format="csr"),
                np.concatenate([self.hi[up], -self.lo[down]]))

    def _lp(self, c: np.ndarray) -> Any:
        a_ub, b_ub = self._ub
        return linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")

    def _milp(self, c: np.ndarray) -> Any:
        return milp(c, constraints=LinearConstraint(self.a, self.lo - TOL, self.hi + TOL),
                    integrality=np.ones(len(self.names)), bounds=Bounds(0, np.inf))

    def _solve(self, target: int, solver: Callable[[np.ndarray], Any]) -> tuple[float, float]:
        out = []
        for sign in (1, -1):
            c = np.zeros(len(self.names))
            c[target] = sign
            res = solver(c)
            if res.status == 2:
                raise InfeasibleError(self.names)
            out.append(sign * res.fun if res.status == 0 else (math.inf if sign < 0 else 0.0))
        return out[0], out[1]


def _direct(group: list[Relation]) -> dict[str, tuple[int, int]]:
    """Each variable's whole-number interval from the relations on it alone."""
    out: dict[str, tuple[int, int]] = {}
    for r in group:
        if len(r.coefs) == 1:
            ((name, c),) = r.coefs.items()
            lo, hi = sorted((r.lower / c, r.upper / c))
            old = out.get(name, (0, math.inf))
            upper = math.floor(hi + TOL) if math.isfinite(hi) else math.inf
            out[name] = (max(old[0], math.ceil(lo - TOL)), min(old[1], upper))
    return out


def _labels(group: list[Relation], name: str) -> tuple[str, ...]:
    """The labels of the relations on `name` (its cells, then the margins and shares with it):
    where to start reading the way in."""
    own = sorted({r.label for r in group if set(r.coefs) == {name}})
    return tuple(own + sorted({r.label for r in group if name in r.coefs} - set(own)))


class InfeasibleError(ValueError):
    """The published figures contradict the relations assumed (a wrong assumption)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"attack: no counts satisfy the relations on {names[:8]}")


def _attack_group(group: list[Relation], wanted: set[str], truth: Mapping[str, float],
                  exact: bool) -> list[Leak]:
    """The leaks among the targets of one component: pinned by their own cells, else by the
    bounds the relations of the component give."""
    direct = _direct(group)

    def leak(name: str, low: float, high: float) -> Leak | None:
        if not math.isfinite(high):
            return None
        low, high = math.ceil(low - TOL), math.floor(high + TOL)
        return (Leak(name, int(truth[name]), low, high, _labels(group, name))
                if high - low < PROTECTION_WIDTH else None)

    found = {n: leak(n, *direct[n]) for n in wanted & direct.keys()}
    rest = sorted(n for n in wanted & {k for r in group for k in r.coefs} if not found.get(n))
    if rest:
        program = Program.of(group)
        solve = (program.milp_bounds if exact and len(program.names) <= MILP_LIMIT
                 else program.lp_bounds)
        found |= {n: leak(n, *solve(program.names.index(n))) for n in rest}
    return [x for x in found.values() if x is not None]


def attack(system: System, truth: Mapping[str, float], min_cell: int = 5,
           exact: bool = True) -> tuple[list[str], list[Leak], list[str]]:
    """Bound every variable whose true value is 1..min_cell-1: (targets, leaks, contradictions:
    components whose relations no counts satisfy, so the attacker's knowledge is wrong there).

    Bounds come from the relations only; `truth` chooses the targets and is reported beside the
    bounds. `exact` uses whole-number programming (milp) for components up to MILP_LIMIT
    variables, the linear relaxation (rounded inwards) above.
    """
    targets = sorted(k for k in system.names if k in truth and 1 <= truth[k] <= min_cell - 1)
    leaks, contradictions = [], []
    for group in components(system):
        try:
            leaks += _attack_group(group, set(targets), truth, exact)
        except InfeasibleError as e:
            contradictions.append(str(e))
    return targets, sorted(leaks, key=lambda x: x.name), contradictions


def _width(relations: list[Relation], name: str) -> tuple[float, float]:
    """Whole-number bounds of `name` under `relations` (milp when small, else linprog)."""
    program = Program.of(relations)
    i = program.names.index(name)
    low, high = (program.milp_bounds(i) if len(program.names) <= MILP_LIMIT
                 else program.lp_bounds(i))
    return math.ceil(low - TOL), (math.floor(high + TOL) if math.isfinite(high) else high)


def explain(system: System, leak: Leak, hops: int = 4) -> list[Relation]:
    """A small set of the published relations that alone narrow `leak` as far: the relations
    within a few steps of the count that suffice, then each dropped unless it is needed."""
    goal = (leak.lower, leak.upper)
    near, reached = [], {leak.name}
    for _ in range(hops):
        near = [r for r in system.relations if reached & r.coefs.keys()]
        reached = {k for r in near for k in r.coefs}
        if _width(near, leak.name) == goal:
            break
    needed = list(near)
    for r in near:
        trial = [x for x in needed if x is not r]
        if any(leak.name in x.coefs for x in trial) and _width(trial, leak.name) == goal:
            needed = trial
    return needed
