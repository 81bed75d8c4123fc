"""Protection of every figure a report publishes, applied once in the publication step.

The method (docs/disclosure.md) is NHS England's for HES and its other secondary-care
publications, with the SACRO/ACRO rule for model outputs:

- counts (people, requests, events; `Rules.protect`): 0 stays 0 (a true zero); counts from 1 to
  `Rules.smallest_shown` - 1 are suppressed (NaN here, "[c]" on the page); every other count is
  rounded to the nearest multiple of `base` (half up), each from its own true value, totals too.
  `smallest_shown` is the least count whose rounding interval [r - base//2, r + (base-1)//2] lies
  wholly at or above `min_cell` (8 for min_cell 5 and base 5: NHS England's "1 to 7 suppressed,
  others rounded to the nearest 5"). Then a published r always means "somewhere in that whole
  interval", never a truncated one, so differencing a total and its shown parts leaves a hidden
  count of 1 to min_cell - 1 anywhere in 1 to 4 at least (with suppression at min_cell alone,
  a total of 8 shown as 10 with two hidden parts would pin both at 4); rows breaking a
  suppressed count down are left out (`Spec.whole`), and a count that is one count plus
  another is not rounded on its own but summed from the protected parts (`Share` over tuples);
  where counts are named and declared to add up (`Spec.names`, `Spec.sums`), more are hidden
  until no suppressed count of 1 to min_cell - 1 in a sum is narrowed below the protection interval
  (evalkit.sdc.linked);
- shares and rates (`Share`): recomputed from the protected counts, x' / n' with Wilson limits
  (proportions) or Poisson limits (rates, standardised ratios: exact below 10, Byar's from 10);
  blank when x' or n' is suppressed, or when n' (a count) is below `Rules.min_n`;
- model estimates (`Model`: odds ratios, ratios of geometric means, medians): published as fitted
  only when the model has at least `Rules.min_df` residual degrees of freedom and each outcome
  category the estimate compares holds at least min_cell people (true counts); else blank with
  the note "too few to estimate";
- other numbers (`Spec.keep`: confidence level, expected counts of a model, days, months) pass
  unchanged; a numeric column declared nowhere is an error, so nothing reaches a page unprotected.

`protect_frame` applies a `Spec` to one frame; `report.publication.publish` applies a Spec to
every frame of a report. The input frames are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.sdc import linked
from evalkit.sdc.disclosure import SUPPRESSED
from evalkit.sdc.linked import Sum
from evalkit.stats.limits import poisson_limits, wilson_limits

TOO_FEW = "too few to estimate"


@dataclass(frozen=True)
class Rules:
    """The parameters of the protection (see the module docstring).

    min_cell: counts of 1 to min_cell - 1 must never be recovered (the runner's --min-cell).
    base: shown counts are rounded to the nearest multiple of base (0 or 1: no rounding).
    min_n: a share or rate needs a protected count denominator of at least this (and a median
    this many people); report.publication sets it to report.wording.min_people(min_cell).
    min_df: residual degrees of freedom a model needs before its estimates are published.
    conf: confidence level of recomputed intervals.
    """

    min_cell: int = 5
    base: int = 5
    min_n: int = 50
    min_df: int = 10
    conf: float = 0.95

    def __post_init__(self) -> None:
        if self.min_cell < 1 or self.base < 0 or self.min_n < 0 or self.min_df < 0:
            raise ValueError(f"protect.Rules: need min_cell >= 1 and base, min_n, min_df >= 0; "
                             f"got {self}")

    @property
    def smallest_shown(self) -> int:
        """The least non-zero count shown: its rounding interval lies wholly >= min_cell."""
        v = self.min_cell
        while self.interval(self._rounded(v))[0] < self.min_cell:
            v += 1
        return v

    def interval(self, shown: float) -> tuple[float, float]:
        """The true counts a shown (rounded, non-zero) count r can stand for: r - base//2 to
        r + (base-1)//2; r alone without rounding."""
        if self.base <= 1:
            return shown, shown
        return shown - self.base // 2, shown + (self.base - 1) // 2

    def _rounded(self, v: float) -> float:
        return self.base * np.floor(v / self.base + 0.5) if self.base > 1 else v

    def protect(self, counts: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
        """Protected counts (float array): 0 as 0, 1 to smallest_shown - 1 as NaN, others
        rounded to the nearest multiple of base (half up). Missing stays missing."""
        x = np.asarray(counts, dtype=float)
        bad = x[np.isfinite(x) & ((x < 0) | (x != np.round(x)))]
        if len(bad):
            raise ValueError(f"protect: counts must be whole numbers >= 0; {len(bad)} are not")
        hidden = (x > 0) & (x < self.smallest_shown)
        return np.where(hidden, np.nan, self._rounded(x))

    def note(self) -> str:
        """The footnote every page with protected figures carries."""
        rounding = (f" Other counts are rounded to the nearest {self.base}, each on its own, so "
                    "totals may not equal the sum of their parts; shares and rates are worked "
                    "out from the rounded counts." if self.base > 1 else "")
        return (f"{SUPPRESSED} = confidential: counts of 1 to {self.smallest_shown - 1} (and a few "
                "larger ones that would give them away) are not shown, nor rows breaking such a "
                f"count down.{rounding} A share or "
                "rate is not shown (n/a) when a count it needs is confidential or it is from "
                f"fewer than {self.min_n} people.")

    def context(self) -> dict[str, object]:
        """What a Publication's context says about the protection (for pages and checks)."""
        return {"min_cell": self.min_cell, "rounding_base": self.base,
                "smallest_shown": self.smallest_shown, "disclosure_note": self.note()}


@dataclass(frozen=True)
class Share:
    """Columns `value`, `lower`, `upper` recomputed as x' / n' * multiplier from protected counts.

    kind "proportion": Wilson limits (x' <= n'). kind "rate": Poisson limits of x' divided by n'
    (n may be a count, e.g. people, or a model's expected count, e.g. a standardised ratio).
    rows: (column, value) to recompute only the rows where column == value (a frame holding
    several measures). x and n may each be a tuple of count columns, summed after protection:
    a count that is a published count plus another (a group with all Not stated people added)
    is never rounded on its own, as several such sums would each narrow the added count. A
    `method` column, when present, is set to the limits used; a `note` column to why a value
    is blank.
    """

    x: str | tuple[str, ...]
    n: str | tuple[str, ...]
    value: str = "value"
    lower: str | None = "lower"
    upper: str | None = "upper"
    kind: str = "proportion"
    multiplier: float = 1.0
    rows: tuple[str, Hashable] | None = None

    def columns(self) -> list[str]:
        """The columns this share writes."""
        return [c for c in (self.value, self.lower, self.upper) if c]

    def parts(self, which: str) -> tuple[str, ...]:
        """The count columns of the numerator ('x') or denominator ('n')."""
        cols = self.x if which == "x" else self.n
        return (cols,) if isinstance(cols, str) else tuple(cols)


@dataclass(frozen=True)
class Model:
    """Model estimates kept as fitted where the ACRO rule holds, else blank ('too few').

    columns: the estimate columns (value, limits, p-value). each: count columns whose true value
    must each be >= min_cell (the outcome categories compared, e.g. with and without a DP). df:
    a column of residual degrees of freedom (>= Rules.min_df). n: a count column whose protected
    value must be >= Rules.min_n (medians, as NHS England needs 8 values for a median).
    """

    columns: tuple[str, ...] = ("value", "lower", "upper")
    each: tuple[str, ...] = ()
    df: str | None = None
    n: str | None = None


@dataclass(frozen=True)
class Spec:
    """How one published frame is protected: which columns are counts, shares (recomputed from
    counts), model estimates, or other numbers that are not counts (`keep`).

    whole: a count column holding each row's size, for a frame that breaks a total down into
    rows (group x age x reason, DPs by who manages them): rows whose size is suppressed are left
    out. Published, their parts (each suppressed, so at least 1) would narrow the total: six
    such rows of a suppressed total make it 6 or 7.

    names: (count column, template) naming each row's count, e.g. ("dp", "dp[{group}]"); the
    same name in two frames of a publication is the same count. sums: which named counts add up
    (`linked.Sum`). Together they let `protect_frames` hide more counts where a total and its
    shown parts would narrow a suppressed one (evalkit.sdc.linked). fields: (field, function of
    a row) for names that need a value the frame does not hold (a detailed group's broad group).
    """

    counts: tuple[str, ...] = ()
    shares: tuple[Share, ...] = ()
    models: tuple[Model, ...] = ()
    keep: tuple[str, ...] = field(default=())
    whole: str | None = None
    names: tuple[tuple[str, str], ...] = ()
    sums: tuple[Sum, ...] = ()
    fields: tuple[tuple[str, Callable[[Mapping[Hashable, object]], object]], ...] = ()


def _rows(df: pd.DataFrame, rows: tuple[str, Hashable] | None) -> np.ndarray:
    """Boolean mask of the rows a Share covers."""
    if rows is None:
        return np.ones(len(df), dtype=bool)
    return (df[rows[0]] == rows[1]).to_numpy()


def _share(out: pd.DataFrame, s: Share, counts: set[str], rules: Rules) -> None:
    """Recompute one Share in `out` (protected counts already in place)."""
    mask = _rows(out, s.rows)
    x = out.loc[mask, list(s.parts("x"))].to_numpy(dtype=float).sum(axis=1)  # NaN if any is
    n = out.loc[mask, list(s.parts("n"))].to_numpy(dtype=float).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if s.kind == "proportion":
            lo, hi = wilson_limits(np.nan_to_num(x), np.where(n > 0, n, 1.0), rules.conf)
            method = "Wilson"
        elif s.kind == "rate":
            lo, hi, names = poisson_limits(np.nan_to_num(x), rules.conf)
            lo, hi, method = lo / n, hi / n, names
        else:
            raise ValueError(f"protect: Share kind must be 'proportion' or 'rate', not {s.kind!r}")
        value = x / n
    small_n = ((n < rules.min_n) if set(s.parts("n")) <= counts
               else np.zeros(len(n), dtype=bool))
    xs, ns = " + ".join(s.parts("x")), " + ".join(s.parts("n"))
    why = np.select([np.isnan(x) | np.isnan(n), ~(n > 0), small_n],
                    [f"{xs} or {ns} suppressed", f"{ns} is 0", f"fewer than {rules.min_n}"],
                    "")
    blank = why != ""
    for col, v in ((s.value, value), (s.lower, lo), (s.upper, hi)):
        if col:
            out.loc[mask, col] = np.where(blank, np.nan, v * s.multiplier)
    if "method" in out:
        out.loc[mask, "method"] = np.where(blank, "", method)
    if "note" in out:
        out.loc[mask, "note"] = why


def _model(out: pd.DataFrame, true: pd.DataFrame, m: Model, rules: Rules) -> None:
    """Blank a Model's estimates where the ACRO rule fails (true counts checked)."""
    ok = np.ones(len(out), dtype=bool)
    for c in m.each:
        ok &= (true[c].to_numpy(dtype=float) >= rules.min_cell)
    if m.df:
        ok &= (true[m.df].to_numpy(dtype=float) >= rules.min_df)
    if m.n:
        ok &= (out[m.n].to_numpy(dtype=float) >= rules.min_n)
    for col in m.columns:
        out[col] = out[col].astype(float).where(ok)
    if "note" in out:
        out["note"] = np.where(ok, out["note"], TOO_FEW)


def _check_declared(name: str, df: pd.DataFrame, spec: Spec) -> None:
    """Every numeric column is declared once; declared columns exist."""
    parts = [c for s in spec.shares for w in ("x", "n") for c in s.parts(w)]
    missing = sorted({c for c in parts if c not in df.columns})
    if missing:
        raise ValueError(f"protect: frame {name!r}: shares need column(s) {missing}; it has "
                         f"{list(df.columns)}")
    declared = [*spec.counts, *spec.keep, *(c for s in spec.shares for c in s.columns()),
                *(c for m in spec.models for c in m.columns), *(m.df for m in spec.models if m.df)]
    missing = sorted({c for c in declared if c not in df.columns})
    if missing:
        raise ValueError(f"protect: frame {name!r} has no column(s) {missing}; it has "
                         f"{list(df.columns)}")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
    undeclared = [c for c in numeric if c not in set(declared)]
    if undeclared:
        raise ValueError(f"protect: frame {name!r} has numeric column(s) {undeclared} declared "
                         "as neither counts, shares, model estimates nor kept numbers; declare "
                         "each in its Spec")


def _counted(df: pd.DataFrame, spec: Spec, rules: Rules, name: str
             ) -> tuple[pd.DataFrame, np.ndarray]:
    """A copy of `df` with its counts protected, and which rows are published (a row whose
    `whole` is suppressed is left out)."""
    _check_declared(name, df, spec)
    out = df.copy()
    for c in spec.counts:
        out[c] = rules.protect(df[c])
    unnamed = sorted({c for c, _ in spec.names} - set(spec.counts))
    if unnamed:
        raise ValueError(f"protect: frame {name!r} names column(s) {unnamed} that are not counts")
    if not spec.whole:
        return out, np.ones(len(df), dtype=bool)
    if spec.whole not in spec.counts:
        raise ValueError(f"protect: frame {name!r}: whole={spec.whole!r} is not a count")
    size = df[spec.whole].to_numpy(dtype=float)
    return out, ~((size > 0) & (size < rules.smallest_shown))


def _finished(out: pd.DataFrame, true: pd.DataFrame, kept: np.ndarray, spec: Spec,
              rules: Rules) -> pd.DataFrame:
    """Shares recomputed from the protected counts, model estimates under the ACRO rule, the
    models' df columns dropped and the rows left out that are not published."""
    counts = set(spec.counts)
    for s in spec.shares:
        _share(out, s, counts, rules)
    for m in spec.models:
        _model(out, true, m, rules)
    out = out.drop(columns=[m.df for m in spec.models if m.df])
    return out[kept].reset_index(drop=True)


def protect_frame(df: pd.DataFrame | None, spec: Spec, rules: Rules,
                  name: str = "frame") -> pd.DataFrame | None:
    """A protected copy of `df` on its own (see `protect_frames`)."""
    return protect_frames({name: df}, {name: spec}, rules)[name]


def protect_frames(frames: Mapping[str, pd.DataFrame | None], specs: Mapping[str, Spec],
                   rules: Rules) -> dict[str, pd.DataFrame | None]:
    """Protected copies of every frame (see the module docstring); each needs a Spec (a missing
    one is an error). None, or a frame with no columns (nothing to publish), stays as it is.

    Counts become floats (NaN = suppressed); counts named in the Specs are then hidden too
    where their sums would narrow a suppressed one (evalkit.sdc.linked), wherever published;
    shares are recomputed from the protected counts; model estimates are blanked where the ACRO
    rule fails; a `df` column of a Model is dropped; rows whose `whole` is suppressed are left
    out. The input frames are never changed.
    """
    missing = sorted(set(frames) - set(specs))
    extra = sorted(set(specs) - set(frames))
    if missing or extra:
        raise ValueError(f"protect: every published frame needs a Spec; without one: {missing}; "
                         f"Specs for frames not published: {extra}")
    live = {k: f for k, f in frames.items() if f is not None and not f.columns.empty}
    made = {k: _counted(f, specs[k], rules, k) for k, f in live.items()}
    counted = {k: out for k, (out, _) in made.items()}
    kept = {k: rows for k, (_, rows) in made.items()}
    cellmap = linked.cells(live, counted, kept, specs)
    hidden = linked.secondary(cellmap, linked.equations(live, specs), rules)
    linked.apply(counted, cellmap, hidden)
    return {k: _finished(counted[k], f, kept[k], specs[k], rules) if k in live else f
            for k, f in frames.items()}
