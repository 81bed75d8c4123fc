"""The interrupted time series of each implemented change, and its run chart (SPC).

Several changes can touch one series (training in some teams, then a service for everyone). The
generator, like the model, multiplies DP-start intensities, so a count series is split into cells
by which other overlapping changes' targets a person is in (e.g. trained team x Asian); each cell
has its own intercept, trend and seasonality are shared, and each change's level and slope terms
are switched on only in the cells it targeted. The estimate for the change of interest is then its
effect within its target against the pre-change trend, the other changes' effects kept
(docs/planted_effects.md, 03_outcomes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.analyses.outcomes.compute_series import (
    DP_START,
    MIN_EVENTS,
    OUTCOMES,
    UNSETTLED,
    dp_starts,
    first_post,
    missing_fields,
    monthly_series,
    target_mask,
)
from evalkit.stats import its as itsm
from evalkit.stats import spc

# ---------------------------------------------------------------- ITS per change
#: Why dp_share gets no ITS: a stock series' months are not independent (issue 17).
STOCK = ("the share of people with a Direct Payment is a stock: each month counts mostly the same "
         "people, so neighbouring months move together (residual autocorrelation about 0.7 in "
         "testing) and a segmented regression's intervals would be far too narrow (a change with "
         "no effect was flagged in 92% of synthetic tests); evaluate it with new_dp_starts, the "
         "flow into Direct Payments")
@dataclass
class ChangeFit:
    """One implemented change: its series, the fit (None with the reason in `shortfall`)."""

    change: pd.Series
    outcome: str
    series: pd.DataFrame  # month, y, (n), time, post, calendar_month (the target, cells summed)
    result: itsm.ItsResult | None
    shortfall: str
    co_changes: list[str] = field(default_factory=list)
    events: tuple[float, float] = (0.0, 0.0)  # outcome events (or months) before / after
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # the stacked series fitted
    notes: list[str] = field(default_factory=list)  # other changes that could not be separated
    #: new_dp_starts: the day of each DP start in the series' months (for `rare_points`; never
    #: published: a gap between two starts is a fact about two people)
    event_dates: pd.Series = field(default_factory=lambda: pd.Series(dtype="datetime64[ns]"))

    @property
    def group(self) -> str:
        return str(self.change["group"])

    def estimate(self, term: str) -> pd.Series | None:
        """The estimates row for `term` (level_change, slope_change, ...) or None."""
        if self.result is None:
            return None
        rows = self.result.estimates[self.result.estimates["term"] == term]
        return rows.iloc[0] if len(rows) else None

    def lines(self) -> pd.DataFrame | None:
        """Per month: observed, fitted and the counterfactual with its interval (the target's
        cells summed), on the count scale; None without a fit."""
        if self.result is None:
            return None
        return self.result.counterfactual.assign(month=self.series["month"].to_numpy())


def co_changes(log: pd.DataFrame, change: pd.Series, episodes: pd.DataFrame,
               mask: pd.Series) -> list[pd.Series]:
    """Other implemented changes that cover at least one of the series' people."""
    out = []
    for _, other in log[log["implemented"] & (log["change_id"] != change["change_id"])].iterrows():
        if missing_fields(episodes, other):
            continue
        if (target_mask(episodes, other) & mask).any():
            out.append(other)
    return out


def cells_of(episodes: pd.DataFrame, mask: pd.Series, others: list[pd.Series]) -> pd.Series:
    """Cell of each row in the target (NaN outside): the other changes whose target includes it,
    joined by '+' ('none' for none), so every cell is wholly inside or outside each change."""
    inside = mask.reindex(episodes.index, fill_value=False).to_numpy(bool)
    code = np.zeros(len(episodes), dtype=np.int64)  # bit i: in the target of others[i]
    for i, other in enumerate(others):
        code |= target_mask(episodes, other).to_numpy(bool).astype(np.int64) << i
    ids = [str(other["change_id"]) for other in others]
    label = np.full(len(episodes), np.nan, dtype=object)
    for c in np.unique(code[inside]):  # a few distinct cells: no per-row string building
        label[inside & (code == c)] = "+".join(x for i, x in enumerate(ids) if c >> i & 1) or "none"
    return pd.Series(label, index=episodes.index, dtype="str")


def _inside(cells: pd.Series, change_id: str) -> pd.Series:
    return cells.str.split("+").map(lambda ids: change_id in ids).astype(bool)


def _stack(episodes: pd.DataFrame, cells: pd.Series, outcome: str, lo: pd.Timestamp,
           hi: pd.Timestamp, change: pd.Series) -> pd.DataFrame:
    """Monthly series per cell, stacked (column `cell`); cell-months without a denominator and
    cells without events are left out (they carry no information)."""
    out = pd.concat([monthly_series(episodes, cells.eq(c), outcome, lo, hi).assign(cell=c)
                     for c in sorted(cells.dropna().unique())], ignore_index=True)
    out = out.sort_values(["cell", "month"], kind="stable")
    if "n" in out:
        out = out[out["n"] > 0]
    out = out[out.groupby("cell")["y"].transform("sum") > 0]
    return itsm.mark_change(out.reset_index(drop=True), change["date"])


def _co_terms(stacked: pd.DataFrame, others: list[pd.Series], *, split: bool, weight: str,
              min_pre: int, min_post: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Level (and slope) columns for each other change, non-zero only in the cells it targeted
    (the whole series when not `split`, as for set-up days).

    A slope term needs `min_pre`/`min_post` months either side of that change. Returns the
    columns, their names, and notes for changes that cannot be separated: same first month and
    same people as the change of interest, or fewer than MIN_EVENTS events (`weight`) among its
    cells on either side. Changes before or after the whole series are absorbed by the cells'
    intercepts and need no term."""
    cols, notes = {}, []
    main = stacked["post"].to_numpy()
    for other in others:
        cid = other["change_id"]
        post = itsm.mark_change(stacked[["month"]], other["date"])["post"].to_numpy()
        inside = _inside(stacked["cell"], cid).to_numpy() if split else np.ones(len(post), bool)
        n_pre, n_post = (stacked.loc[post == k, "time"].nunique() for k in (0, 1))
        if not n_pre or not n_post:
            continue
        if inside.all() and (post == main).all():
            notes.append(f"{other['name']} started in the same month for the same people, so "
                         "the estimate includes its effect")
            continue
        events = [stacked.loc[inside & (post == k), weight].sum() for k in (0, 1)]
        if min(events) < MIN_EVENTS:
            notes.append(f"{other['name']} has too few events among these people "
                         f"({events[0]:.0f} before, {events[1]:.0f} after) to separate its effect")
            continue
        level = (post * inside).astype(float)
        cols[f"{cid}:level_change"] = level
        if n_pre >= min_pre and n_post >= min_post:
            origin = stacked.loc[post == 1, "time"].min()  # 0 in its first month after
            cols[f"{cid}:slope_change"] = level * (stacked["time"].to_numpy() - origin)
    terms = pd.DataFrame(cols, index=stacked.index)
    return terms, list(terms.columns), notes


def fit_change(episodes: pd.DataFrame, log: pd.DataFrame, change: pd.Series, *,
               outcome: str = "new_dp_starts", start: pd.Timestamp, end: pd.Timestamp,
               pre_months: int | None = None, post_months: int | None = None,
               conf: float = 0.95, min_pre: int = 8, min_post: int = 8) -> ChangeFit:
    """Segmented regression of the outcome among the change's target group.

    Level and slope change at the change's first whole month (a mid-month date starts the
    following month), Fourier seasonality (2 pairs), and a level/slope pair for each other
    implemented change touching the series. Count outcomes: quasi-Poisson (rates with the
    denominator as exposure) on the series stacked by cell (`cells_of`), one intercept per cell,
    each other change's terms only in its cells; setup_days: OLS with Newey-West errors on the
    target's series, other changes' terms over the whole series. The counterfactual (summed
    over cells) keeps the trend and the other changes and removes this change's level and slope
    terms. Too few months or events give `shortfall` (a sentence) and no fit, never a line
    through two points.
    """
    words, family, *_ = OUTCOMES[outcome]
    if not change["implemented"]:
        return ChangeFit(change, outcome, pd.DataFrame(), None,
                         "it is planned, not implemented, so it is listed but not evaluated")
    lacking = missing_fields(episodes, change)
    if outcome == "dp_offer_rate" and "dp_offered" not in episodes:
        lacking.append("dp_offered")
    if outcome == "setup_days" and "dp_requested_date" not in episodes:
        lacking.append("dp_requested_date")
    if lacking:
        return ChangeFit(change, outcome, pd.DataFrame(), None,
                         f"the data have no {', '.join(lacking)} field, so its target group or "
                         "outcome cannot be measured")
    first = first_post(change["date"])
    lo = start if pre_months is None else max(start, first - pd.DateOffset(months=pre_months))
    hi = end if post_months is None else min(end, first + pd.DateOffset(months=post_months - 1))
    mask = target_mask(episodes, change)
    raw = monthly_series(episodes, mask, outcome, lo, hi) if lo <= hi else pd.DataFrame(
        {"month": pd.to_datetime([]), "y": []})
    if family != "ols" and "n" in raw:
        raw = raw[raw["n"] > 0]
    series = itsm.mark_change(raw.reset_index(drop=True), change["date"]) if len(raw) else raw
    if series.empty:
        return ChangeFit(change, outcome, series, None,
                         f"there are no months of {words} data around "
                         f"{pd.Timestamp(change['date']):%B %Y}")
    shortfall = (STOCK if outcome == "dp_share" else
                 itsm.months_shortfall(series, "time", "post", min_pre=min_pre,
                                       min_post=min_post))
    before = float(series.loc[series["post"] == 0, "y"].sum())
    after = float(series.loc[series["post"] == 1, "y"].sum())
    if outcome == "setup_days":
        before = float(series.loc[series["post"] == 0, "n"].sum())
        after = float(series.loc[series["post"] == 1, "n"].sum())
    if shortfall and series["post"].eq(1).all() and pd.Timestamp(change["date"]) < lo:
        shortfall = f"it began before the data start ({lo:%B %Y}); {shortfall}"
    if not shortfall and family != "ols" and min(before, after) < MIN_EVENTS:
        shortfall = (f"there were {before:.0f} events before and {after:.0f} after; at least "
                     f"{MIN_EVENTS} are needed on each side to estimate a change")
    dates = _start_days(episodes, mask, lo, hi) if outcome == "new_dp_starts" else None
    if shortfall:
        return ChangeFit(change, outcome, series, None, shortfall, events=(before, after),
                         **({} if dates is None else {"event_dates": dates}))
    others = co_changes(log, change, episodes, mask)
    split = family != "ols"
    cells = cells_of(episodes, mask, others if split else [])
    stacked = (_stack(episodes, cells, outcome, lo, hi, change) if split
               else series.assign(cell="none"))
    extra, names, notes = _co_terms(stacked, others, split=split,
                                    weight="n" if outcome == "setup_days" else "y",
                                    min_pre=min_pre, min_post=min_post)
    stacked = pd.concat([stacked, extra], axis=1)
    try:
        result = itsm.its(stacked, "y", "time", "post", offset="n" if split and "n" in series
                          else None, month="calendar_month", family=family, conf=conf,
                          min_pre=min_pre, min_post=min_post, covariates=names,
                          stratum="cell" if stacked["cell"].nunique() > 1 else None)
    except itsm.NotEstimable:
        return ChangeFit(change, outcome, series, None, UNSETTLED, events=(before, after),
                         **({} if dates is None else {"event_dates": dates}))
    return ChangeFit(change, outcome, series, result, "",
                     [n.split(":")[0] for n in names if n.endswith("level_change")],
                     events=(before, after), cells=stacked, notes=notes,
                     **({} if dates is None else {"event_dates": dates}))


def _start_days(episodes: pd.DataFrame, mask: pd.Series, lo: pd.Timestamp,
                hi: pd.Timestamp) -> pd.Series:
    """The day of each DP start among `mask` from month `lo` to the end of month `hi`."""
    inside = mask.reindex(episodes.index, fill_value=False).to_numpy(bool)
    days = dp_starts(episodes.loc[inside, [c for c in DP_START if c in episodes]])["dp_start"]
    return days[(days >= lo) & (days < hi + pd.offsets.MonthBegin(1))].reset_index(drop=True)


# ---------------------------------------------------------------- SPC
SPC_BASELINE = 12  # points either side before limits may be recalculated (Making Data Count)
RARE_EVENTS = 3.0  # mean events a month below which an XmR or p' chart flags chance variation


def spc_points(fit: ChangeFit, *, recalculate: bool = False, trend_length: int = 7,
               shift_length: int = 7) -> pd.DataFrame | None:
    """XmR (counts, days) or Laney p' (shares) points of the change's series with Making Data
    Count rules, one set of limits over the whole series by default.

    `recalculate` starts new limits at the change's first whole month, only with SPC_BASELINE
    points either side: Making Data Count recalculates limits only after a sustained, explained
    shift, and limits from a few points flag chance. None with fewer than 4 months, or, for a
    count or share, fewer than MIN_EVENTS events or a mean under RARE_EVENTS a month (rare events
    put most points at 0 or 1, where the rules flag chance)."""
    s = fit.series
    _, family, chart, direction = OUTCOMES[fit.outcome]
    counted = family != "ols"
    if len(s) < 4 or (counted and (s["y"].sum() < MIN_EVENTS or s["y"].mean() < RARE_EVENTS)):
        return None
    first = s.loc[s["post"] == 1, "month"]
    enough = min(len(first), int((s["post"] == 0).sum())) >= SPC_BASELINE
    opts = {"x": "month", "rebase": [first.iloc[0]] if recalculate and enough else None,
            "improvement_direction": direction, "trend_length": trend_length,
            "shift_length": shift_length}
    if chart == "p_prime":
        return spc.p_prime(s, "y", "n", **opts)
    return spc.xmr(s, "y", **opts)


def rare_points(fit: ChangeFit, *, trend_length: int = 7, shift_length: int = 7
                ) -> pd.DataFrame | None:
    """t chart of the days between DP starts (`spc.t_chart`), one row per start after the first,
    with `post` (on or after the change's first whole month). Making Data Count's chart for rare
    events: the report shows its verdict (`rare_summary`) where the monthly run chart cannot be
    shown (a mean under RARE_EVENTS starts a month, where its rules flag chance, or months too
    small to publish). None for other outcomes or fewer than MIN_EVENTS starts. Person-level:
    never published as it is."""
    if fit.outcome != "new_dp_starts" or len(fit.event_dates) < MIN_EVENTS:
        return None
    gaps = spc.between_events(fit.event_dates)
    points = spc.t_chart(gaps, "days", x="date", trend_length=trend_length,
                         shift_length=shift_length)
    return points.assign(post=(points["date"] >= first_post(fit.change["date"])).astype(int))


def rare_summary(points: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per period (before, after the change): whether any gap between DP starts was unusually
    long (fewer starts than usual) or short (more), in the t chart's rules. No counts, dates or
    days: a gap is a fact about two people."""
    if points is None:
        return None
    special = points["point_type"] != "common_cause"
    high = points["special_cause_type"].str.contains("Above|Increasing")
    return pd.DataFrame([{"period": period, "longer": bool((special & high & side).any()),
                          "shorter": bool((special & ~high & side).any())}
                         for period, side in (("before", points["post"] == 0),
                                              ("after", points["post"] == 1))])
