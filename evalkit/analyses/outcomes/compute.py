"""Did the practice change work: the analyses behind notebook 03_outcomes.

Pure functions build tidy frames from a loaded Dataset: monthly series of an outcome among the
people a logged practice change targeted, SPC charts, an interrupted time series per implemented
change (segmented quasi-Poisson with Fourier seasonality, `evalkit.stats.its`), a controlled
comparison against people the change did not target, survey scores before and after, what people
told the council, and power. `analyse` runs them once; the `show_*` functions display one chart or
one disclosure-controlled table each, with titles and alt text written from the numbers.

Several changes can touch one series (training in some teams, then a service for everyone). The
generator, like the model, multiplies DP-start intensities, so a count series is split into cells
by which other overlapping changes' targets a person is in (e.g. trained team x Asian); each cell
has its own intercept, trend and seasonality are shared, and each change's level and slope terms
are switched on only in the cells it targeted. The estimate for the change of interest is then its
effect within its target against the pre-change trend, the other changes' effects kept
(docs/planted_effects.md, 03_outcomes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from evalkit import stats
from evalkit.cohorts import COMMUNITY, council, dp_start_dates, snapshot
from evalkit.data import codes
from evalkit.data.councils import place_name
from evalkit.report import findings, style
from evalkit.report import record as rec
from evalkit.sdc import disclosure
from evalkit.stats import its as itsm
from evalkit.stats import power, spc

NOTEBOOK = "03_outcomes"
OUTCOMES = {  # outcome -> (words, family, SPC chart, improvement direction)
    "new_dp_starts": ("monthly new Direct Payment starts", "quasipoisson", "xmr", "increase"),
    "dp_share": ("share of people on community support with a Direct Payment", "quasipoisson",
                 "p_prime", "increase"),
    "dp_offer_rate": ("share of new community support episodes offered a Direct Payment",
                      "quasipoisson", "p_prime", "increase"),
    "setup_days": ("mean days from asking for a Direct Payment to the first payment", "ols",
                   "xmr", "decrease"),
}
_DP_START = ["person_id", "has_dp", "start_date", "dp_first_payment_date"]
TARGET_FIELDS = ["ethnic_group_broad", "ethnic_group", "preferred_language", "team_id"]
SERIES_FIELDS = {  # outcome -> the episode fields monthly_series reads
    "new_dp_starts": _DP_START,
    "dp_share": ["person_id", "service_type", "start_date", "end_date", "has_dp", "birth_date"],
    "dp_offer_rate": ["service_type", "start_date", "dp_offered"],
    "setup_days": [*_DP_START, "dp_requested_date"],
}
MEASURES = {  # survey measure -> (words, range, higher is better)
    "scrqol": ("social care-related quality of life (ASCOF 1A, 0 to 24)", "0-24", True),
    "control": ("control over daily life (1 best to 4)", "1-4", False),
    "satisfaction": ("satisfaction with care and support (1 best to 7)", "1-7", False),
    "info_ease": ("ease of finding information (1 best to 4)", "1-4", False),
}
ASCOT_ITEMS = ("control", "personal_care", "food_drink", "accommodation", "safety",
               "social_participation", "occupation", "dignity")
COMPARISONS = ("auto", "teams", "groups", "councils", "none")
MIN_EVENTS = 10  # events needed on each side of a change before a count model is fitted
MIN_RESPONDENTS = findings.MIN_N
DIFFERENTIAL = 0.10  # a co-change covering shares this far apart in two series is not shared
LAGS_SHOWN = (1, 3, 6, 12)
MAX_POST = 120  # months: beyond ten years of post-change data a design is not worth planning


# ---------------------------------------------------------------- the change log
def change_log(log: pd.DataFrame | None) -> pd.DataFrame:
    """The practice-change log sorted by date, with `group` (`<change_id>:<target_groups>`) and
    `implemented` (bool). An absent log gives an empty frame with those columns."""
    cols = ["change_id", "date", "name", "target_groups", "target_teams", "status", "group",
            "implemented"]
    if log is None or log.empty:
        return pd.DataFrame(columns=cols)
    out = log.copy()
    if "target_teams" not in out:
        out["target_teams"] = None
    out["group"] = out["change_id"].astype(str) + ":" + out["target_groups"].astype(str)
    out["implemented"] = out["status"].eq("implemented")
    return out.sort_values(["date", "change_id"], kind="stable").reset_index(drop=True)


def _items(text: object) -> list[str]:
    return [s.strip() for s in str(text).split(";") if s.strip()]


def teams_of(change: pd.Series) -> list[str]:
    """The teams a change was rolled out to ([] = every team)."""
    teams = change.get("target_teams")
    return [] if teams is None or pd.isna(teams) else _items(teams)


def missing_fields(frame: pd.DataFrame, change: pd.Series) -> list[str]:
    """Fields the change's target needs that `frame` lacks (e.g. preferred_language)."""
    need = []
    for item in _items(change["target_groups"]):
        low = item.lower()
        if low != "all" and item not in codes.BROAD_GROUPS and item not in codes.ETHNIC_GROUPS:
            need.append("preferred_language")
    if teams_of(change):
        need.append("team_id")
    return sorted({c for c in need if c not in frame})


def target_mask(frame: pd.DataFrame, change: pd.Series, *, use_teams: bool = True) -> pd.Series:
    """True for rows (episodes or respondents) in the change's target group (and teams).

    target_groups is `all`, a broad or detailed ONS group, `language:<name>` or a language name,
    several separated by `;`, matched on the recorded fields. Raises ValueError naming the
    missing field when the frame cannot show membership (see `missing_fields`).
    """
    lacking = missing_fields(frame, change)
    if lacking and (use_teams or lacking != ["team_id"]):
        raise ValueError(f"target_mask: change {change['change_id']} targets "
                         f"{change['target_groups']!r} (teams {teams_of(change)}) but the data "
                         f"have no {', '.join(lacking)} field")
    mask = pd.Series(False, index=frame.index)
    for item in _items(change["target_groups"]):
        low = item.lower()
        if low == "all":
            mask |= True
        elif item in codes.BROAD_GROUPS:
            mask |= frame["ethnic_group_broad"].eq(item)
        elif item in codes.ETHNIC_GROUPS:
            mask |= frame["ethnic_group"].eq(item)
        else:
            name = codes.language(item.split(":", 1)[1] if low.startswith("language:") else item)
            mask |= frame["preferred_language"].astype(str).eq(name)
    if use_teams and teams_of(change):
        mask &= frame["team_id"].isin(teams_of(change)).fillna(False).astype(bool)
    return mask.astype(bool)


def who(change: pd.Series) -> str:
    """Plain words for the change's target: 'Asian people', 'people whose preferred language is
    Somali', 'people in teams T01, T02'."""
    parts = []
    for item in _items(change["target_groups"]):
        low = item.lower()
        if low == "all":
            parts.append("people" if teams_of(change) else "everyone")
        elif item in codes.BROAD_GROUPS:
            parts.append(f"{item} people")
        elif item in codes.ETHNIC_GROUPS:
            parts.append(f"people in the {item} group")
        else:
            name = codes.language(item.split(":", 1)[1] if low.startswith("language:") else item)
            parts.append(f"people whose preferred language is {name}")
    text = " and ".join(parts)
    teams = teams_of(change)
    return f"{text} in teams {', '.join(teams)}" if teams else text


def when(change: pd.Series) -> str:
    return f"{pd.Timestamp(change['date']):%B %Y}"


# ---------------------------------------------------------------- monthly series
def series_bounds(episodes: pd.DataFrame, period_end: pd.Timestamp | None = None
                  ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month of the series (first-of-month Timestamps).

    The series starts at the month of the earliest recorded end date: from then on the extract
    holds episodes that ended as well as ongoing ones, so earlier months would miss people. It
    ends at the month of `period_end` (default: the month of the latest start date, the last
    month the extract records new episodes; a later planned end date would otherwise add months
    of structural zeros).
    """
    end = pd.Timestamp(period_end) if period_end is not None else episodes["start_date"].max()
    first = episodes["end_date"].min()
    start = pd.Timestamp(first) if pd.notna(first) else episodes["start_date"].min()
    return start.to_period("M").to_timestamp(), end.to_period("M").to_timestamp()


def dp_starts(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per Direct Payment start (dp_first_payment_date, else start_date), the person's
    fields kept; a person with two DP episodes starting on the same day counts once."""
    dp = episodes[episodes["has_dp"].fillna(False).astype(bool)]
    dp = dp.assign(dp_start=dp_start_dates(dp))
    return dp.dropna(subset=["dp_start"]).drop_duplicates(["person_id", "dp_start"])


def monthly_series(episodes: pd.DataFrame, mask: pd.Series, outcome: str,
                   start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Monthly outcome among the rows of `episodes` where `mask` holds: columns month, y and,
    for rates, n (the denominator, used as the model's exposure); setup_days also n (starts).

    new_dp_starts: DP starts in the month. dp_share: people with a DP among adults on community
    support at the month end (ASCOF 1C(2A), `uptake.snapshot`). dp_offer_rate: community
    episodes starting in the month with a DP offer among those with dp_offered recorded.
    setup_days: mean days from request to first payment of DP starts in the month (months
    without starts are left out).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, not {outcome!r}")
    cols = [c for c in SERIES_FIELDS[outcome] if c in episodes]  # filtering copies each column
    ep = episodes.loc[mask.reindex(episodes.index, fill_value=False).to_numpy(bool), cols]
    months = pd.date_range(start, end, freq="MS")
    if outcome == "new_dp_starts":
        starts = dp_starts(ep)
        out = itsm.monthly_counts(starts, "dp_start", start=start, end=end, name="y")
        return out.astype({"y": int})
    if outcome == "dp_share":
        rows = []
        for m in months:
            snap = snapshot(ep, m + pd.offsets.MonthEnd(0))
            rows.append({"month": m, "y": int(snap["has_dp"].sum()), "n": len(snap)})
        return pd.DataFrame(rows)
    if outcome == "dp_offer_rate":
        if "dp_offered" not in ep:
            raise ValueError("monthly_series: the data have no dp_offered field")
        com = ep[(ep["service_type"] == COMMUNITY) & ep["dp_offered"].notna()]
        got = com.assign(month=com["start_date"].dt.to_period("M").dt.to_timestamp())
        agg = got.groupby("month")["dp_offered"].agg(["sum", "size"])
        out = agg.reindex(months, fill_value=0).rename(columns={"sum": "y", "size": "n"})
        return out.rename_axis("month").reset_index().astype({"y": int, "n": int})
    if "dp_requested_date" not in ep:
        raise ValueError("monthly_series: the data have no dp_requested_date field")
    starts = dp_starts(ep).dropna(subset=["dp_requested_date"])
    days = (starts["dp_start"] - starts["dp_requested_date"]).dt.days
    got = starts.assign(days=days, month=starts["dp_start"].dt.to_period("M").dt.to_timestamp())
    agg = got[got["month"].between(start, end)].groupby("month")["days"].agg(["mean", "size"])
    return agg.rename(columns={"mean": "y", "size": "n"}).rename_axis("month").reset_index()


# ---------------------------------------------------------------- ITS per change
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

    @property
    def group(self) -> str:
        return str(self.change["group"])

    def estimate(self, term: str) -> pd.Series | None:
        """The estimates row for `term` (level_change, slope_change, ...) or None."""
        if self.result is None:
            return None
        rows = self.result.estimates[self.result.estimates["term"] == term]
        return rows.iloc[0] if len(rows) else None


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
    cells without events are left out (they carry no information). dp_share takes one snapshot
    a month and counts each person once, in the cell of their latest episode."""
    if outcome == "dp_share":
        ep = episodes[cells.notna()].assign(cell=cells)
        parts = [snapshot(ep, m + pd.offsets.MonthEnd(0)).groupby("cell")["has_dp"]
                 .agg(["sum", "size"]).assign(month=m).reset_index()
                 for m in pd.date_range(lo, hi, freq="MS")]
        out = pd.concat(parts, ignore_index=True).rename(columns={"sum": "y", "size": "n"})
    else:
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
            notes.append(f"{cid} started in the same month for the same people, so the estimate "
                         "includes its effect")
            continue
        events = [stacked.loc[inside & (post == k), weight].sum() for k in (0, 1)]
        if min(events) < MIN_EVENTS:
            notes.append(f"{cid} has too few events among these people ({events[0]:.0f} before, "
                         f"{events[1]:.0f} after) to separate its effect")
            continue
        level = (post * inside).astype(float)
        cols[f"{cid}:level_change"] = level
        if n_pre >= min_pre and n_post >= min_post:
            last_pre = stacked.loc[post == 0, "time"].max()
            cols[f"{cid}:slope_change"] = level * (stacked["time"].to_numpy() - last_pre)
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
    first_post = _first_post(change["date"])
    lo = start if pre_months is None else max(start, first_post - pd.DateOffset(months=pre_months))
    hi = end if post_months is None else min(
        end, first_post + pd.DateOffset(months=post_months - 1))
    mask = target_mask(episodes, change)
    raw = monthly_series(episodes, mask, outcome, lo, hi) if lo <= hi else pd.DataFrame(
        {"month": pd.to_datetime([]), "y": []})
    if family != "ols" and "n" in raw:
        raw = raw[raw["n"] > 0]
    series = itsm.mark_change(raw.reset_index(drop=True), change["date"]) if len(raw) else raw
    if series.empty:
        return ChangeFit(change, outcome, series, None,
                         f"there are no months of {words} data around {when(change)}")
    shortfall = itsm.months_shortfall(series, "time", "post", min_pre=min_pre, min_post=min_post)
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
    if shortfall:
        return ChangeFit(change, outcome, series, None, shortfall, events=(before, after))
    others = co_changes(log, change, episodes, mask)
    split = family != "ols"
    cells = cells_of(episodes, mask, others if split else [])
    stacked = (_stack(episodes, cells, outcome, lo, hi, change) if split
               else series.assign(cell="none"))
    extra, names, notes = _co_terms(stacked, others, split=split,
                                    weight="n" if outcome == "setup_days" else "y",
                                    min_pre=min_pre, min_post=min_post)
    stacked = pd.concat([stacked, extra], axis=1)
    result = itsm.its(stacked, "y", "time", "post", offset="n" if split and "n" in series
                      else None, month="calendar_month", family=family, conf=conf,
                      min_pre=min_pre, min_post=min_post, covariates=names,
                      stratum="cell" if stacked["cell"].nunique() > 1 else None)
    return ChangeFit(change, outcome, series, result, "",
                     [n.split(":")[0] for n in names if n.endswith("level_change")],
                     events=(before, after), cells=stacked, notes=notes)


def _first_post(date: object) -> pd.Timestamp:
    """First whole month after the change (the change month when it started on the 1st)."""
    d = pd.Timestamp(date)
    month = d.to_period("M").to_timestamp()
    return month if d.day == 1 else month + pd.DateOffset(months=1)


# ---------------------------------------------------------------- SPC
def spc_points(fit: ChangeFit, *, recalculate: bool = True, trend_length: int = 7,
               shift_length: int = 7) -> pd.DataFrame | None:
    """XmR (counts, days) or Laney p' (shares) points of the change's series with Making Data
    Count rules; limits recalculated from the change's first whole month when `recalculate`
    and at least 2 points lie either side. None with fewer than 4 months or MIN_EVENTS events."""
    s = fit.series
    if len(s) < 4 or s["y"].sum() < MIN_EVENTS:
        return None
    _, _, chart, direction = OUTCOMES[fit.outcome]
    first = s.loc[s["post"] == 1, "month"]
    rebase = ([first.iloc[0]] if recalculate and len(first) >= 2 and (s["post"] == 0).sum() >= 2
              else None)
    opts = {"x": "month", "rebase": rebase, "improvement_direction": direction,
            "trend_length": trend_length, "shift_length": shift_length}
    if chart == "p_prime":
        return spc.p_prime(s, "y", "n", **opts)
    return spc.xmr(s, "y", **opts)


# ---------------------------------------------------------------- controlled comparison
@dataclass
class Controlled:
    """Target vs comparison series for one change: controlled ITS, DiD and the parallel-trends
    check, or the reason there is none."""

    change: pd.Series
    comparison: str  # words for the comparison group
    series: pd.DataFrame  # month, y, arm (target/comparison), time, post, calendar_month
    result: itsm.ItsResult | None
    did: pd.DataFrame | None
    reason: str


def comparison_mask(episodes: pd.DataFrame, change: pd.Series, kind: str,
                    all_episodes: pd.DataFrame | None = None) -> tuple[pd.Series, str, str]:
    """Rows of the comparison group, its description and the kind used.

    auto: teams the change was not rolled out to (same target group) when it has target
    teams; otherwise people outside the target group; otherwise none. `councils` compares with
    the same group in the other councils of `all_episodes` (rows of `all_episodes`).
    """
    if kind not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS}, not {kind!r}")
    teams = teams_of(change)
    group_only = target_mask(episodes, change, use_teams=False)
    if kind == "auto":
        kind = ("teams" if teams else "groups" if not group_only.all() else "none")
    empty = pd.Series(False, index=episodes.index)
    if kind == "teams":
        if not teams:
            return empty, "", "none"
        return (group_only & ~episodes["team_id"].isin(teams).fillna(False).astype(bool),
                "the same group in teams that did not receive the change", kind)
    if kind == "groups":
        inside = target_mask(episodes, change)
        return ~group_only & ~inside, "people outside the target group", kind
    if kind == "councils":
        ep = episodes if all_episodes is None else all_episodes
        own = set(episodes["la_code"].unique())
        mask = target_mask(ep, change, use_teams=False) & ~ep["la_code"].isin(own)
        return mask, "the same group in other councils", kind
    return empty, "", "none"


def controlled(episodes: pd.DataFrame, log: pd.DataFrame, change: pd.Series, *,
               comparison: str = "auto", start: pd.Timestamp, end: pd.Timestamp,
               all_episodes: pd.DataFrame | None = None, conf: float = 0.95,
               min_pre: int = 8, min_post: int = 8) -> Controlled:
    """Controlled ITS (`its.controlled_its`) and DiD (`stats.did`) of monthly DP starts.

    The window runs between the nearest other implemented changes that cover the target and
    comparison series unequally (shares of their DP starts more than 10 points apart); changes
    covering both alike cancel in the comparison. DiD: monthly starts as a percentage of each
    series' pre-change mean, treated x post by OLS. `treated:trend` is the parallel-trends check.
    """
    none = Controlled(change, "", pd.DataFrame(), None, None, "")
    if not change["implemented"] or missing_fields(episodes, change):
        return none
    base = episodes if all_episodes is None or comparison != "councils" else all_episodes
    comp, words, kind = comparison_mask(episodes, change, comparison, all_episodes)
    if kind == "none":
        none.reason = ("the change applied to everyone in the data, so there is no untargeted "
                       "group to compare with")
        return none
    comp = comp.reindex(base.index, fill_value=False)
    target = target_mask(base, change) & (base["la_code"].isin(episodes["la_code"].unique()))
    lo, hi = _shared_window(base, log, change, target, comp, start, end)
    arms = [monthly_series(base, m, "new_dp_starts", lo, hi).assign(arm=a)
            for m, a in ((target, "target"), (comp, "comparison"))]
    stacked = pd.concat(arms, ignore_index=True)
    stacked = itsm.mark_change(stacked, change["date"]).assign(
        time=lambda d: d.groupby("arm")["time"].transform(lambda t: t - t.min() + 1))
    out = Controlled(change, words, stacked, None, None, "")
    short = [itsm.months_shortfall(p, "time", "post", min_pre=min_pre, min_post=min_post)
             for _, p in stacked.groupby("arm")]
    sums = stacked.groupby(["arm", "post"])["y"].sum()
    if any(short):
        out.reason = (f"between the other changes ({lo:%B %Y} to {hi:%B %Y}) there are too few "
                      f"months: {next(s for s in short if s)}")
    elif sums.min() < MIN_EVENTS or len(sums) < 4:
        out.reason = (f"too few DP starts in one of the series ({int(sums.min())}; at least "
                      f"{MIN_EVENTS} are needed before and after in each)")
    if out.reason:
        return out
    out.result = itsm.controlled_its(stacked, "y", "time", "post", "arm", treated="target",
                                     month="calendar_month", conf=conf, min_pre=min_pre,
                                     min_post=min_post)
    pre_mean = stacked[stacked["post"] == 0].groupby("arm")["y"].mean()
    indexed = stacked.assign(index=100 * stacked["y"] / stacked["arm"].map(pre_mean),
                             treated=(stacked["arm"] == "target").astype(int))
    out.series = indexed
    out.did = stats.did(indexed, "index", "treated", "post", conf=conf)
    return out


def _shared_window(episodes: pd.DataFrame, log: pd.DataFrame, change: pd.Series,
                   target: pd.Series, comp: pd.Series, start: pd.Timestamp,
                   end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Months between the nearest changes covering the two series unequally."""
    starts = dp_starts(episodes[[c for c in [*_DP_START, *TARGET_FIELDS] if c in episodes]])
    t_rows, c_rows = starts[target.reindex(starts.index)], starts[comp.reindex(starts.index)]
    lo, hi = start, end
    first_post = _first_post(change["date"])
    for _, other in log[log["implemented"] & (log["change_id"] != change["change_id"])].iterrows():
        if missing_fields(episodes, other):
            continue
        share = [target_mask(rows, other).mean() if len(rows) else 0.0
                 for rows in (t_rows, c_rows)]
        if abs(share[0] - share[1]) <= DIFFERENTIAL:
            continue
        month = _first_post(other["date"])
        if month <= first_post:
            lo = max(lo, month)
        else:
            hi = min(hi, month - pd.DateOffset(months=1))
    return lo, hi


def team_offers(episodes: pd.DataFrame, change: pd.Series, conf: float = 0.95
                ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """DP offer rate by team before and after a change rolled out by team (Wilson CIs), and a
    DiD of being offered (trained teams x after, OLS with team-clustered errors). None when the
    change has no target teams or the data lack team_id or dp_offered."""
    teams = teams_of(change)
    if not teams or "team_id" not in episodes or "dp_offered" not in episodes:
        return None
    keep = ((episodes["service_type"] == COMMUNITY) & episodes["dp_offered"].notna()
            & episodes["team_id"].notna() & target_mask(episodes, change, use_teams=False))
    com = episodes.loc[keep.to_numpy(bool), ["team_id", "dp_offered", "start_date"]]
    after = (com["start_date"] >= pd.Timestamp(change["date"])).astype(int)
    frame = pd.DataFrame({"team": com["team_id"].astype(str),
                          "period": np.where(after == 1, "after", "before"),
                          "offered": com["dp_offered"].astype(bool).astype(int),
                          "trained": com["team_id"].isin(teams).astype(int), "post": after})
    cells = frame.groupby(["team", "period"], as_index=False).agg(
        offered=("offered", "sum"), episodes=("offered", "size"))
    rates = stats.proportion(cells, "offered", "episodes", by=["team", "period"], conf=conf)
    rates = rates.assign(trained=rates["team"].isin(teams))
    did = (stats.did(frame, "offered", "trained", "post", cluster="team", conf=conf)
           if frame[["trained", "post"]].drop_duplicates().shape[0] == 4 else None)
    return rates, did


def quote(fit: ChangeFit, ctl: Controlled, alpha: float = 0.05) -> tuple[str, str]:
    """Which estimate the council should quote, and why."""
    if fit.result is None:
        return "none", "the change could not be evaluated: " + fit.shortfall
    if ctl.result is None:
        return "its", ("the single-group interrupted time series, as there is no usable "
                       "comparison group" + (f" ({ctl.reason})" if ctl.reason else ""))
    check = ctl.result.estimates.set_index("term").loc["treated:trend"]
    if check["p_value"] < alpha:
        return "its", ("the single-group interrupted time series: the comparison group's trend "
                       "before the change was not parallel, so the controlled estimate could "
                       "mislead")
    return "controlled", ("the controlled interrupted time series: the trends were parallel "
                          "before the change, and the comparison removes changes that affected "
                          "both groups alike")


# ---------------------------------------------------------------- survey
def survey_scores(survey: pd.DataFrame) -> pd.DataFrame:
    """The survey with scrqol (ASCOF 1A: the eight items scored 3 ideal .. 0 high needs, summed
    0-24; missing when any item is), control, satisfaction and info_ease (5 = never tried ->
    missing), and `w` (the weight, 1 without one)."""
    items = survey[list(ASCOT_ITEMS)].astype(float)
    out = survey.assign(scrqol=(4 - items).sum(axis=1, min_count=len(ASCOT_ITEMS)),
                        info_ease=survey["info_ease"].where(survey["info_ease"] != 5))
    weight = out["weight"].astype(float) if "weight" in out else pd.Series(1.0, index=out.index)
    return out.assign(w=weight.fillna(1.0))


def weighted_shift(before: pd.DataFrame, after: pd.DataFrame, measure: str,
                   conf: float = 0.95) -> dict:
    """Weighted mean after - before with a Welch interval and Cohen's d.

    Weights are rescaled within each period to sum to Kish's effective sample size, so the
    interval allows for the precision weighting costs. Returns value, lower, upper, n_before,
    n_after, mean_before, mean_after, effect_size, p_value."""
    a = after[[measure, "w"]].dropna()
    b = before[[measure, "w"]].dropna()
    out = {"n_before": len(b), "n_after": len(a), "value": np.nan, "lower": np.nan,
           "upper": np.nan, "mean_before": np.nan, "mean_after": np.nan, "effect_size": np.nan,
           "p_value": np.nan}
    if len(a) < 2 or len(b) < 2:
        return out
    da, db = _descr(a[measure], a["w"]), _descr(b[measure], b["w"])
    if da.var == 0 and db.var == 0:
        return out  # everyone gave the same answer: no interval
    cm = CompareMeans(da, db)
    lo, hi = cm.tconfint_diff(alpha=1 - conf, usevar="unequal")
    pooled = math.sqrt((da.var * (da.nobs - 1) + db.var * (db.nobs - 1))
                       / (da.nobs + db.nobs - 2))
    diff = da.mean - db.mean
    return {**out, "value": diff, "lower": lo, "upper": hi, "mean_before": db.mean,
            "mean_after": da.mean, "effect_size": diff / pooled if pooled > 0 else np.nan,
            "p_value": cm.ttest_ind(usevar="unequal")[1]}


def _descr(values: pd.Series, weights: pd.Series) -> DescrStatsW:
    w = weights.to_numpy(dtype=float)
    n_eff = w.sum() ** 2 / (w**2).sum()
    return DescrStatsW(values.to_numpy(dtype=float), weights=w * n_eff / w.sum(), ddof=1)


def survey_shifts(survey: pd.DataFrame, change: pd.Series, *, by: str | None = None,
                  conf: float = 0.95) -> pd.DataFrame:
    """Each measure's weighted mean before and after the change among its target group
    (teams are not in the survey, so a team change uses its whole target group); with `by`,
    one row per level of that column (e.g. ethnic_group_broad) among everyone surveyed."""
    scored = survey_scores(survey)
    after = scored["survey_date"] >= pd.Timestamp(change["date"])
    rows = []
    if by is None:
        parts = [(str(change["target_groups"]), target_mask(scored, change, use_teams=False))]
    else:
        parts = [(str(level), scored[by].eq(level)) for level in
                 sorted(scored[by].dropna().astype(str).unique())]
    values = scored[[*MEASURES, "w"]]  # filtering copies each column: only those used
    for label, mask in parts:
        before_rows, after_rows = values[mask & ~after], values[mask & after]
        for m in MEASURES:
            r = weighted_shift(before_rows, after_rows, m, conf)
            rows.append({"change_id": change["change_id"], "group": label, "measure": m, **r,
                         "conf": conf})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- engagement
def engagement_themes(engagement: pd.DataFrame | None) -> pd.DataFrame | None:
    """Themes by community and financial year: sessions, people and the notes (no names)."""
    if engagement is None or engagement.empty:
        return None
    year = engagement["date"].dt.year - (engagement["date"].dt.month < 4)
    frame = engagement.assign(period=year.astype(str) + "/" + ((year + 1) % 100).astype(str)
                              .str.zfill(2))
    out = frame.groupby(["period", "community", "theme"], as_index=False).agg(
        sessions=("method", "size"), people=("n_people", "sum"),
        methods=("method", lambda s: ", ".join(sorted(set(s)))),
        summary=("summary", lambda s: " ".join(s.dropna().astype(str))))
    return out


# ---------------------------------------------------------------- power
def planning(episodes: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *,
             detect_ratio: float = 1.2, post: int = 12, alpha: float = 0.05,
             groups: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """For a change starting after the data end, per group: baseline monthly DP starts (last 12
    months), the smallest level change detectable with 80% power after `post` months, and the
    months of post-change data needed to detect `detect_ratio` (analytic, methods.power)."""
    groups = groups or {g: episodes["ethnic_group_broad"].eq(g)
                        for g in codes.BROAD_GROUPS if g != codes.NOT_STATED}
    rows = []
    for label, mask in groups.items():
        s = monthly_series(episodes, mask, "new_dp_starts", start, end)
        n_pre = len(s)
        base = float(s["y"].tail(12).mean()) if n_pre else 0.0
        row = {"group": label, "baseline": base, "months_before": n_pre, "mde": np.nan,
               "months_needed": np.nan, "note": ""}
        if base <= 0 or n_pre < 8:
            row["note"] = "too few months or no DP starts"
        else:
            try:
                row["mde"] = power.its_mde(base, n_pre, post, alpha=alpha)
            except ValueError as err:
                row["note"] = str(err)
            need = months_needed(detect_ratio, base, n_pre, alpha=alpha)
            row["months_needed"] = np.nan if need is None else need
            if need is None:
                row["note"] = f"more than {MAX_POST} months of data would be needed"
        rows.append(row)
    return pd.DataFrame(rows)


def months_needed(rate_ratio: float, baseline: float, n_pre: int, *, alpha: float = 0.05,
                  target: float = 0.8, min_post: int = 8) -> int | None:
    """Fewest post-change months (min_post..MAX_POST) with `target` power for `rate_ratio`:
    `power.its_months_needed` found by bisection (power rises with months), None beyond."""
    def ok(n_post: int) -> bool:
        return power.its_power(rate_ratio, baseline, n_pre, n_post, alpha=alpha) >= target
    if not ok(MAX_POST):
        return None
    lo, hi = min_post - 1, MAX_POST
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def change_power(fit: ChangeFit, alpha: float = 0.05) -> dict:
    """Smallest level change the change's own data could detect with 80% power."""
    r = fit.result
    if r is None or fit.outcome == "setup_days":
        return {"group": fit.group, "mde": np.nan}
    pre = fit.series[fit.series["post"] == 0]
    base = float(pre["y"].mean())
    disp = max(1.0, r.pearson_dispersion)
    try:
        mde = power.its_mde(base, r.n_pre, r.n_post, dispersion=disp, alpha=alpha)
    except ValueError:
        mde = np.nan
    return {"group": fit.group, "mde": mde, "baseline": base, "n_pre": r.n_pre,
            "n_post": r.n_post, "dispersion": disp}


# ---------------------------------------------------------------- everything at once
@dataclass
class Outcomes:
    """Everything notebook 03 shows, computed once by `analyse` (no person-level rows shown)."""

    params: dict
    la_code: str
    start: pd.Timestamp
    end: pd.Timestamp
    log: pd.DataFrame
    fits: list[ChangeFit]
    controls: list[Controlled]
    spc: list[pd.DataFrame | None]
    offers: list[tuple[pd.DataFrame, pd.DataFrame | None] | None]
    survey: list[pd.DataFrame | None]
    survey_by: dict[str, pd.DataFrame]
    engagement: pd.DataFrame | None
    plan: pd.DataFrame
    quality: pd.DataFrame
    warnings: list[str]


def analyse(data, *, la_code: str | None = None, change_id: str | list[str] | None = None,
            outcome: str = "new_dp_starts", comparison: str | None = None,
            pre_months: int | None = None, post_months: int | None = None, alpha: float = 0.05,
            min_cell: int = 5, recalculate_limits: bool = True, trend_length: int = 7,
            shift_length: int = 7, detect_ratio: float = 1.2) -> Outcomes:
    """Run every outcome analysis on a loaded Dataset (see the module docstring).

    change_id: one id, a list, or None for every implemented change in the log (planned ones
    are listed only). comparison: auto (None), teams, groups, councils or none.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, not {outcome!r}")
    comparison = comparison or "auto"
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS}, not {comparison!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, not {alpha}")
    conf = 1 - alpha
    all_ep = data.support_episodes
    la = council(all_ep, la_code, where="outcomes")
    ep = all_ep if la == "all" else all_ep[all_ep["la_code"] == la]
    start, end = series_bounds(ep)
    log = change_log(data.practice_changes)
    chosen = log
    if change_id is not None:
        ids = [change_id] if isinstance(change_id, str) else list(change_id)
        unknown = sorted(set(ids) - set(log["change_id"]))
        if unknown:
            raise ValueError(f"change_id {unknown} not in the practice-change log; ids are "
                             f"{log['change_id'].tolist()}")
        chosen = log[log["change_id"].isin(ids)]
    chosen = chosen[chosen["implemented"]]
    opts = {"start": start, "end": end, "conf": conf}
    fits = [fit_change(ep, log, c, outcome=outcome, pre_months=pre_months,
                       post_months=post_months, **opts) for _, c in chosen.iterrows()]
    controls = [controlled(ep, log, c, comparison=comparison, all_episodes=all_ep, **opts)
                for _, c in chosen.iterrows()]
    survey = data.survey
    if survey is not None and la != "all":
        survey = survey[survey["la_code"] == la]
    has_survey = survey is not None and len(survey) > 0
    shifts = [survey_shifts(survey, c, conf=conf)
              if has_survey and not missing_fields(survey, c.drop("target_teams")) else None
              for _, c in chosen.iterrows()]
    by = {}
    if has_survey and len(chosen):
        first = chosen.iloc[0]
        by["ethnic group"] = survey_shifts(survey, first, by="ethnic_group_broad", conf=conf)
        if "preferred_language" in survey:
            by["preferred language"] = survey_shifts(survey, first, by="preferred_language",
                                                     conf=conf)
    targets = {str(c["group"]): target_mask(ep, c) for _, c in chosen.iterrows()
               if not missing_fields(ep, c)}
    plan_groups = {g: ep["ethnic_group_broad"].eq(g) for g in codes.BROAD_GROUPS
                   if g != codes.NOT_STATED} | targets
    params = {"la_code": la, "change_id": change_id, "outcome": outcome,
              "comparison": comparison, "pre_months": pre_months, "post_months": post_months,
              "alpha": alpha, "min_cell": min_cell, "recalculate_limits": recalculate_limits,
              "trend_length": trend_length, "shift_length": shift_length,
              "detect_ratio": detect_ratio}
    return Outcomes(
        params=params, la_code=la, start=start, end=end, log=log, fits=fits, controls=controls,
        spc=[spc_points(f, recalculate=recalculate_limits, trend_length=trend_length,
                        shift_length=shift_length) for f in fits],
        offers=[team_offers(ep, c, conf) for _, c in chosen.iterrows()],
        survey=shifts, survey_by=by, engagement=engagement_themes(data.engagement),
        plan=planning(ep, start, end, detect_ratio=detect_ratio, alpha=alpha,
                      groups=plan_groups),
        quality=data.quality, warnings=list(data.warnings))


# ---------------------------------------------------------------- results.json
def estimates(res: Outcomes) -> pd.DataFrame:
    """Key estimates in the results.json shape: its_level_change / its_slope_change (group
    `<change_id>:<target>`), its_controlled_level_change, survey_shift
    (`<change_id>:<measure>:<target>`); names as docs/planted_effects.md, 03_outcomes."""
    rows = []
    for fit in res.fits:
        for term, name in (("level_change", "its_level_change"),
                           ("slope_change", "its_slope_change")):
            e = fit.estimate(term)
            if e is not None:
                rows.append({"name": name, "group": fit.group, "reference": "pre-change trend",
                             "value": e["value"], "lower": e["lower"], "upper": e["upper"],
                             "conf": e["conf"], "n": fit.events[0] + fit.events[1],
                             "p_value": e["p_value"], "outcome": fit.outcome,
                             "scale": e["scale"], "co_changes": ";".join(fit.co_changes)})
    for ctl in res.controls:
        if ctl.result is not None:
            e = ctl.result.estimates.set_index("term").loc["treated:level_change"]
            rows.append({"name": "its_controlled_level_change", "group": ctl.change["group"],
                         "reference": ctl.comparison, "value": e["value"], "lower": e["lower"],
                         "upper": e["upper"], "conf": e["conf"], "n": ctl.series["y"].sum(),
                         "p_value": e["p_value"], "outcome": "new_dp_starts"})
    for shifts in res.survey:
        if shifts is None:
            continue
        for _, r in shifts.iterrows():
            if np.isfinite(r["value"]):
                rows.append({"name": "survey_shift",
                             "group": f"{r['change_id']}:{r['measure']}:{r['group']}",
                             "reference": "before the change", "value": r["value"],
                             "lower": r["lower"], "upper": r["upper"], "conf": r["conf"],
                             "n": r["n_before"] + r["n_after"], "p_value": r["p_value"],
                             "effect_size": r["effect_size"]})
    cols = ["name", "group", "reference", "value", "lower", "upper", "conf", "n"]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=cols)


# ---------------------------------------------------------------- words
def _ratio_words(e: pd.Series) -> str:
    ci = f"95% CI {e['lower']:.2f} to {e['upper']:.2f}"
    if e["lower"] > 1:
        return f"rose to {e['value']:.2f} times the level the pre-change trend predicted ({ci})"
    if e["upper"] < 1:
        return f"fell to {e['value']:.2f} times the level the pre-change trend predicted ({ci})"
    return (f"were {e['value']:.2f} times the level the pre-change trend predicted ({ci}), "
            "which could be chance")


def its_sentence(fit: ChangeFit) -> str:
    """One sentence: the level change with CI, for whom, against what counterfactual."""
    c = fit.change
    words = OUTCOMES[fit.outcome][0]
    if fit.result is None:
        return findings.check_wording(f"{c['name']} ({when(c)}) could not be evaluated: "
                                      f"{fit.shortfall}.")
    e = fit.estimate("level_change")
    if fit.outcome == "setup_days":
        return findings.check_wording(
            f"After {c['name']} ({when(c)}), {words} among {who(c)} changed by "
            f"{e['value']:+.1f} days (95% CI {e['lower']:.1f} to {e['upper']:.1f}) against the "
            "pre-change trend.")
    return findings.check_wording(f"After {c['name']} ({when(c)}), {words} among {who(c)} "
                                  f"{_ratio_words(e)}.")


def survey_sentence(shifts: pd.DataFrame, change: pd.Series, measure: str = "scrqol") -> str:
    """One sentence on a survey measure before vs after, with its CI."""
    r = shifts[shifts["measure"] == measure].iloc[0]
    words = MEASURES[measure][0].split(" (")[0]
    subject = f"{who(change.drop('target_teams'))} surveyed after {change['name']}"
    return findings.difference_sentence(
        subject, r["value"], r["lower"], r["upper"], measure=words, unit="points",
        n=min(r["n_before"], r["n_after"]), words=("higher than before", "lower than before"))


def key_findings(res: Outcomes) -> list[str]:
    """One to six sentences generated from the estimates: each evaluated change's level change
    against the pre-change trend (at most five), the changes that could not be evaluated, and
    survey shifts in quality of life whose interval excludes no change."""
    if not len(res.fits):
        planned = int((~res.log["implemented"]).sum()) if len(res.log) else 0
        return [f"No implemented practice change is logged for {_place(res)}"
                + (f"; {planned} planned change(s) are listed." if planned else ".")]
    done = [f for f in res.fits if f.result is not None]
    out = [its_sentence(f) for f in done][:5]
    skipped = [f.change["change_id"] for f in res.fits if f.result is None]
    if skipped:
        out.append(f"{', '.join(skipped)} could not be evaluated, mainly because of too few "
                   "months or DP starts before or after; the sections below say what is missing.")
    for shifts, fit in zip(res.survey, res.fits, strict=True):
        if shifts is not None and len(out) < findings.MAX_FINDINGS:
            r = shifts[shifts["measure"] == "scrqol"].iloc[0]
            if np.isfinite(r["value"]) and r["lower"] * r["upper"] > 0:
                out.append(survey_sentence(shifts, fit.change))
    return [s if len(s.split()) <= findings.MAX_WORDS else _shorten(s) for s in out][:6]


def _shorten(sentence: str) -> str:
    """Drop the bracketed change name detail to stay within the word limit."""
    words = sentence.split()
    return " ".join(words[:findings.MAX_WORDS - 1]) + " ..."


# ---------------------------------------------------------------- display helpers

def _place(res: Outcomes) -> str:
    return place_name(res.la_code)


def _period(res: Outcomes) -> str:
    return f"{res.start:%b %Y} to {res.end:%b %Y}"


def _chart_values(fit: ChangeFit, min_cell: int) -> tuple[pd.Series, int]:
    """The observed values safe to draw: counts of 1..min_cell-1 (and rates or means built on
    them) are hidden; returns the values with NaN where hidden and how many were hidden."""
    s = fit.series
    base = s["n"] if "n" in s else s["y"]
    hide = disclosure.small(base, min_cell)
    if fit.outcome != "setup_days":
        hide |= disclosure.small(s["y"], min_cell)
        if "n" in s:
            hide |= disclosure.small(s["n"] - s["y"], min_cell)
    y = s["y"] / s["n"] if OUTCOMES[fit.outcome][2] == "p_prime" else s["y"]
    return y.where(~hide), int(hide.sum())


def _not_drawn(hidden: int, res: Outcomes) -> str:
    """The subtitle's note on months left out of a chart by disclosure control ("" if none)."""
    return (f" {hidden} month(s) with counts of 1 to {res.params['min_cell'] - 1} not drawn."
            if hidden else "")


def _fit_for(res: Outcomes, change_id: str) -> int:
    ids = [f.change["change_id"] for f in res.fits]
    if change_id not in ids:
        raise ValueError(f"change {change_id!r} was not evaluated; evaluated: {ids}")
    return ids.index(change_id)


# ---------------------------------------------------------------- display: one call per cell
def show_each(res: Outcomes, show) -> None:
    """One sub-section per evaluated change: a heading, then `show(res, change_id)`; the number
    of changes varies, so the notebook makes this one call per section."""
    if not res.fits:
        style.say("No implemented change was selected, so there is nothing to show here.")
        return
    for fit in res.fits:
        c = fit.change
        style.say(f"### {c['change_id']} {c['name']} ({when(c)}, for {who(c)})")
        show(res, c["change_id"])


def show_key_findings(res: Outcomes) -> None:
    """Key findings as a bullet list (`record` writes them to key_findings.md)."""
    findings.key_findings(key_findings(res))


def show_quality(res: Outcomes) -> None:
    """Rows read, kept and excluded by reason, per table."""
    q = res.quality.groupby(["table", "reason"], as_index=False)["rows"].sum()
    style.table(q, count_cols="rows", threshold=res.params["min_cell"],
                labels={"table": "Table", "reason": "Reason", "rows": "Rows"},
                caption="Rows read, kept and excluded, by table and reason")
    for w in res.warnings:
        style.say(f"_Note: {w}_")


def series_summary(res: Outcomes) -> pd.DataFrame:
    """Per change: target, first whole month, months and events before/after, other changes."""
    rows = []
    for f in res.fits:
        s = f.series
        rows.append({"change": f"{f.change['change_id']} {f.change['name']}",
                     "target": who(f.change), "first month": _first_post(f.change["date"])
                     .strftime("%b %Y"),
                     "months before": int((s["post"] == 0).sum()) if len(s) else 0,
                     "months after": int((s["post"] == 1).sum()) if len(s) else 0,
                     "events before": int(f.events[0]), "events after": int(f.events[1]),
                     "other changes in the model": ", ".join(f.co_changes) or "none",
                     "status": "evaluated" if f.result is not None else f.shortfall})
    return pd.DataFrame(rows)


def show_series(res: Outcomes) -> None:
    """The series built for each change: months and events either side (counts suppressed)."""
    words = OUTCOMES[res.params["outcome"]][0]
    style.say(f"Outcome: **{words}**, {_place(res)}, {_period(res)}. The series starts when the "
              "extract first holds episodes that ended as well as ongoing ones.")
    summary = series_summary(res)
    if summary.empty:
        style.say("No implemented change was selected, so no series was built.")
        return
    style.table(summary, count_cols=["events before", "events after"],
                threshold=res.params["min_cell"], caption="Series built for each change",
                plain_cols=["months before", "months after"])


def show_timeline(res: Outcomes) -> None:
    """What changed when: each logged change as a point on the time line of the series."""
    log = res.log
    if log.empty:
        style.say("The data have no practice-change log, so there is nothing to evaluate.")
        return
    fig, ax = style.figure(8.0, 1.4 + 0.45 * len(log))
    y = np.arange(len(log))[::-1]
    ax.axvspan(res.start, res.end + pd.offsets.MonthEnd(0), color=style.GREY, alpha=0.3,
               linewidth=0)
    for yi, (_, c) in zip(y, log.iterrows(), strict=True):
        done = bool(c["implemented"])
        ax.plot(c["date"], yi, "o", color=style.DARK_BLUE if done else "white",
                markeredgecolor=style.DARK_BLUE, markersize=9)
        ax.annotate(f"{c['change_id']} {c['name']} ({'planned' if not done else who(c)})",
                    (c["date"], yi), xytext=(8, 0), textcoords="offset points", va="center",
                    fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.8, len(log) - 0.2)
    n_impl = int(log["implemented"].sum())
    title = (f"{len(log)} practice changes logged between {log['date'].min():%B %Y} and "
             f"{log['date'].max():%B %Y}; {n_impl} implemented, {len(log) - n_impl} planned")
    style.finish(fig, ax, title=title, subtitle=f"What changed when; the grey band is the data "
                 f"({_period(res)}); hollow markers are planned changes", xlabel="", ylabel="")
    style.show(fig, "Timeline of the practice-change log: " + "; ".join(
        f"{c['change_id']} {c['name']}, {when(c)}, {c['status']}, for {who(c)}"
        for _, c in log.iterrows()) + f". Data cover {_period(res)}.")


def show_planned(res: Outcomes) -> None:
    """Planned (not implemented) changes: listed, not evaluated."""
    planned = res.log[~res.log["implemented"]] if len(res.log) else res.log
    if planned.empty:
        style.say("No planned changes are logged: every logged change has been implemented.")
        return
    table = pd.DataFrame({"change": planned["change_id"], "name": planned["name"],
                          "planned date": planned["date"].dt.strftime("%b %Y"),
                          "for": [who(c) for _, c in planned.iterrows()]})
    style.table(table, caption="Planned changes (listed, not evaluated)")


def show_spc(res: Outcomes, change_id: str) -> None:
    """Run chart with XmR or p' limits and Making Data Count flags for one change's series."""
    k = _fit_for(res, change_id)
    fit, points = res.fits[k], res.spc[k]
    c = fit.change
    if points is None:
        style.say(f"Too few months of data around {c['name']} to draw a run chart.")
        return
    words, _, chart, _ = OUTCOMES[fit.outcome]
    y, hidden = _chart_values(fit, res.params["min_cell"])
    scale = 100 if chart == "p_prime" else 1
    fig, ax = style.figure()
    flagged = points["point_type"] != "common_cause"
    ax.plot(points["month"], y * scale, "-o", color=style.DARK_BLUE, markersize=3, linewidth=1)
    special = flagged & y.notna().to_numpy()
    ax.plot(points["month"][special], y[special] * scale, "o", color=style.ORANGE, markersize=6)
    for line, dash in (("mean", "-"), ("lpl", "--"), ("upl", "--")):
        for _, part in points.groupby("rebase_group"):
            ax.plot(part["month"], part[line] * scale, dash, color=style.DARK_GREY, linewidth=1)
    ax.axvline(_first_post(c["date"]), color=style.TURQUOISE, linestyle=":")
    summ = spc.summary(points)
    rules = sorted({r for rs in summ["rules"] for r in rs.split(";") if r})
    title = (f"{words.capitalize()} among {who(c)}: special-cause variation "
             f"({', '.join(rules)})" if rules else
             f"{words.capitalize()} among {who(c)}: only common-cause variation")
    style.finish(fig, ax, title=title, subtitle=f"{'p′' if chart == 'p_prime' else 'XmR'} chart, "
                 f"{_place(res)}, {_period(res)}; limits recalculated at {c['name']} (dotted "
                 f"line); orange points are special causes.{_not_drawn(hidden, res)}",
                 xlabel="Month", ylabel=words + (" (%)" if scale == 100 else ""))
    means = summ["mean"].to_numpy() * scale
    style.show(fig, f"Run chart of {words} among {who(c)} with process limits. Mean "
               + " then ".join(f"{m:.2f}" for m in means) + f". {int(flagged.sum())} month(s) "
               f"flagged as special cause: {', '.join(rules) or 'none'}.")
    shown = summ.assign(**{c_: summ[c_] * scale for c_ in ("mean", "lpl", "upl")})
    shown = shown.drop(columns="flagged_points").assign(
        period=lambda d: np.where(d["rebase_group"] == 0, "before", "after")).drop(
        columns="rebase_group")
    style.table(shown[["period", "n", "mean", "lpl", "upl", "rules"]],
                labels={"n": "months", "mean": "centre", "lpl": "lower limit",
                        "upl": "upper limit", "rules": "special-cause rules"},
                plain_cols=["n"], caption=f"Process limits for {c['change_id']}")


def show_its(res: Outcomes, change_id: str) -> None:
    """The ITS chart (observed, fitted, counterfactual with CI), estimates and autocorrelation,
    or the statement of what is missing."""
    fit = res.fits[_fit_for(res, change_id)]
    c = fit.change
    words = OUTCOMES[fit.outcome][0]
    if fit.result is None:
        style.say(f"**{c['change_id']} {c['name']}** was not evaluated: {fit.shortfall}.")
        return
    r = fit.result
    cf = r.counterfactual
    y, hidden = _chart_values(fit, res.params["min_cell"])
    rate = "n" in fit.series and fit.outcome != "setup_days"
    div = fit.series["n"].to_numpy() if rate else 1.0
    scale = 100 if rate else 1
    fig, ax = style.figure()
    months = fit.series["month"]
    ax.plot(months, y * scale, "o", color=style.DARK_BLUE, markersize=4, label="observed")
    ax.plot(months, cf["fitted"] / div * scale, "-", color=style.DARK_BLUE, label="model")
    post = cf["post"] == 1
    ax.plot(months[post], (cf["counterfactual"] / div * scale)[post], "--", color=style.ORANGE,
            label="without the change")
    ax.fill_between(months[post], (cf["lower"] / div * scale)[post],
                    (cf["upper"] / div * scale)[post], color=style.ORANGE, alpha=0.2,
                    linewidth=0)
    ax.axvline(_first_post(c["date"]), color=style.DARK_GREY, linestyle=":")
    ax.legend(loc="upper left")
    e = fit.estimate("level_change")
    title = its_sentence(fit).rstrip(".")
    style.finish(fig, ax, title=title, subtitle=f"{words.capitalize()}, {_place(res)}, "
                 f"{_period(res)}; dashed: the pre-change trend continued (other changes "
                 f"kept), 95% CI shaded.{_not_drawn(hidden, res)}", xlabel="Month",
                 ylabel=words + (" (%)" if scale == 100 else ""))
    style.show(fig, f"Interrupted time series chart of {words} among {who(c)}, with the "
               f"change in {when(c)}. Estimated level change {e['value']:.2f} "
               f"(95% CI {e['lower']:.2f} to {e['upper']:.2f}); the dashed counterfactual line "
               "shows the pre-change trend continued.")
    est = r.estimates[["term", "value", "lower", "upper", "p_value"]].copy()
    est["term"] = est["term"].map(_term_words)
    style.table(est, labels={"term": "Term", "value": "Estimate", "lower": "Lower 95%",
                             "upper": "Upper 95%", "p_value": "p"},
                decimals={"value": 3, "lower": 3, "upper": 3, "p_value": 3},
                caption=f"{r.estimates['method'].iloc[0]}; {r.n_pre} months before, "
                        f"{r.n_post} after; dispersion {r.pearson_dispersion:.2f}")
    for note in fit.notes:
        style.say(f"_Other change not separated: {note}._")
    show_autocorrelation(fit)


def _term_words(term: str) -> str:
    base = {"trend": "trend per month before the change", "level_change": "level change",
            "slope_change": "change in trend per month after"}
    if term in base:
        return base[term]
    cid, kind = term.split(":", 1)
    return f"{cid} (other change): {base[kind]}"


def show_autocorrelation(fit: ChangeFit) -> None:
    """Residual autocorrelation (Ljung-Box) at a few lags, with a plain sentence."""
    checks = fit.result.checks
    shown = checks[checks["lag"].isin(LAGS_SHOWN)]
    last = checks.iloc[-1]
    verdict = ("no sign of leftover autocorrelation" if not last["p_value"] < 0.05 else
               "some leftover autocorrelation: the intervals may be too narrow")
    style.say(f"Model check: {verdict} (Ljung-Box test over {int(last['lag'])} lags, "
              f"p = {last['p_value']:.2f}).")
    style.table(shown[["lag", "acf", "ljung_box", "p_value"]],
                labels={"lag": "Lag (months)", "acf": "Autocorrelation",
                        "ljung_box": "Ljung-Box", "p_value": "p"}, plain_cols=["lag"],
                caption="Residual autocorrelation")


def show_controlled(res: Outcomes, change_id: str) -> None:
    """Target vs comparison (indexed to the pre-change mean), controlled ITS, DiD and the
    parallel-trends check, then which estimate to quote."""
    k = _fit_for(res, change_id)
    fit, ctl = res.fits[k], res.controls[k]
    c = fit.change
    if ctl.result is None:
        style.say(f"No controlled comparison for **{c['change_id']} {c['name']}**: "
                  f"{ctl.reason or 'the change could not be evaluated'}.")
    else:
        s = ctl.series
        e = ctl.result.estimates.set_index("term")
        lvl, tr = e.loc["treated:level_change"], e.loc["treated:trend"]
        d = ctl.did.iloc[0]
        chart = s.assign(arm=s["arm"].map({"target": who(c), "comparison": ctl.comparison}))
        parallel = tr["p_value"] >= res.params["alpha"]
        title = (f"Against {ctl.comparison}, DP starts among {who(c)} were {lvl['value']:.2f} "
                 f"times (95% CI {lvl['lower']:.2f} to {lvl['upper']:.2f}) the expected level")
        fig = style.line_chart(chart, "month", "index", group="arm", title=title,
                               subtitle="Monthly DP starts as % of each group's mean before "
                               f"the change, {_place(res)}", xlabel="Month",
                               ylabel="% of pre-change mean")
        fig.axes[0].axvline(_first_post(c["date"]), color=style.DARK_GREY, linestyle=":")
        style.show(fig, f"Line chart of monthly DP starts as a percentage of the pre-change "
                   f"mean for {who(c)} and {ctl.comparison}. Controlled level change "
                   f"{lvl['value']:.2f} (95% CI {lvl['lower']:.2f} to {lvl['upper']:.2f}).")
        style.say(f"Parallel-trends check: before the change the target group's trend was "
                  f"{tr['value']:.3f} times the comparison's per month (95% CI {tr['lower']:.3f} "
                  "to "
                  f"{tr['upper']:.3f}), {'consistent with' if parallel else 'not'} parallel "
                  "trends. "
                  f"Difference-in-differences: {d['value']:+.1f} percentage points of the "
                  "pre-change "
                  f"mean (95% CI {d['lower']:.1f} to {d['upper']:.1f}).")
    offers = res.offers[k]
    if offers is not None:
        rates, did = offers
        style.table(rates[["team", "period", "trained", "offered", "episodes", "value", "lower",
                           "upper"]],
                    count_cols=["offered", "episodes"], threshold=res.params["min_cell"],
                    rate_cols={"value": ("offered", "episodes"), "lower": ("offered", "episodes"),
                               "upper": ("offered", "episodes")},
                    labels={"value": "offer rate", "lower": "lower 95%", "upper": "upper 95%",
                            "trained": "received the change"},
                    caption=f"DP offer rate by team before and after {c['name']}")
        if did is not None:
            d = did.iloc[0]
            style.say(f"Offer rate, teams that received the change against the others: "
                      f"{100 * d['value']:+.1f} percentage points (95% CI {100 * d['lower']:.1f} "
                      "to "
                      f"{100 * d['upper']:.1f}; errors clustered by team, {int(d['n_clusters'])} "
                      "teams).")
    which, why = quote(fit, ctl, res.params["alpha"])
    style.say(f"**Estimate to quote for {c['change_id']}:** {why}.")


def show_experience(res: Outcomes, change_id: str) -> None:
    """Survey measures before vs after one change among its target group, with CIs and effect
    sizes (weighted where weights exist)."""
    k = _fit_for(res, change_id)
    shifts, c = res.survey[k], res.fits[k].change
    if shifts is None:
        style.say("There is no survey for this council (or it cannot show the target group), so "
                  "experience cannot be compared.")
        return
    shown = shifts.assign(measure=shifts["measure"].map(lambda m: MEASURES[m][0]))
    _survey_table(shown, "measure", "measure", res.params["min_cell"],
                  f"Survey of {who(c.drop('target_teams'))} before and after "
                  f"{c['name']} ({when(c)})")
    style.say(survey_sentence(shifts, c) + " " + survey_sentence(shifts, c, "info_ease"))


def show_experience_by(res: Outcomes, by: str) -> None:
    """Before vs after the first change, every surveyed group (`ethnic group` or `preferred
    language`): quality of life with CIs; groups too small are suppressed."""
    table = res.survey_by.get(by)
    if table is None:
        style.say(f"No survey data by {by}.")
        return
    t = table[table["measure"] == "scrqol"]
    _survey_table(t, "group", by, res.params["min_cell"],
                  f"Quality of life (0 to 24) by {by}, before and after "
                  f"{res.fits[0].change['name']}")


def _survey_table(frame: pd.DataFrame, first: str, first_label: str, min_cell: int,
                  caption: str) -> None:
    """Before/after survey means with the difference, its CI and effect size; every figure is
    suppressed with its respondent counts."""
    values = ("mean_before", "mean_after", "value", "lower", "upper", "effect_size")
    style.table(frame[[first, "n_before", "n_after", *values]],
                count_cols=["n_before", "n_after"], threshold=min_cell,
                rate_cols={v: ("n_before", "n_after") for v in values},
                labels={first: first_label, "n_before": "respondents before",
                        "n_after": "respondents after", "mean_before": "mean before",
                        "mean_after": "mean after", "value": "after - before",
                        "lower": "lower 95%", "upper": "upper 95%",
                        "effect_size": "effect size (d)"},
                caption=caption)


def show_engagement(res: Outcomes) -> None:
    """Themes by community and year from the engagement log (no names)."""
    t = res.engagement
    if t is None:
        style.say("The council has not supplied an engagement table, so what people told us cannot "
                  "be shown beside the numbers.")
        return
    style.table(t, count_cols=["people"], threshold=res.params["min_cell"],
                labels={"period": "year", "people": "people taking part"},
                plain_cols=["sessions"],
                caption="What people told the council, by community, theme and year")


def show_power(res: Outcomes) -> None:
    """Smallest detectable change per group now, and months of data needed."""
    rows = [change_power(f, res.params["alpha"]) for f in res.fits if f.result is not None]
    if rows:
        p = pd.DataFrame(rows)
        style.table(p[["group", "baseline", "n_pre", "n_post", "mde"]],
                    labels={"baseline": "DP starts a month before", "n_pre": "months before",
                            "n_post": "months after", "mde": "smallest detectable ratio"},
                    plain_cols=["n_pre", "n_post"],
                    caption="For each evaluated change: the smallest level change its data "
                            "could detect with 80% power")
    plan = res.plan
    ratio = res.params["detect_ratio"]
    style.table(plan, labels={"baseline": "DP starts a month (last 12 months)",
                              "months_before": "months of data so far",
                              "mde": "smallest detectable ratio after 12 months",
                              "months_needed": f"months needed to detect {ratio:g}"},
                plain_cols=["months_before"], decimals={"baseline": 1, "mde": 2,
                                                        "months_needed": 0},
                caption="Planning a new change: power of an interrupted time series (80%, "
                        f"two-sided alpha {res.params['alpha']:g})")
    ok = plan.dropna(subset=["months_needed"])
    if len(ok):
        best = ok.sort_values("months_needed").iloc[0]
        style.say(f"For {best['group']} people, a rise of {ratio:g} times in DP starts would take "
                  f"{int(best['months_needed'])} months after a change to detect; smaller groups "
                  "take longer.")


def show_methods(res: Outcomes) -> None:
    """Methods and caveats in plain words, with the threats that apply to this log."""
    overlaps = sorted({f"{f.change['change_id']} with {', '.join(f.co_changes)}"
                       for f in res.fits if f.co_changes})
    early = [f.change["change_id"] for f in res.fits
             if pd.Timestamp(f.change["date"]) < res.start]
    style.say(f"""**Interrupted time series.** For each implemented change, the monthly outcome
among the people it targeted is fitted by a segmented quasi-Poisson regression (OLS with Newey-West
errors for set-up days) with a trend, two pairs of seasonal terms, a level change and a change
in trend from the first whole month after the change. The counterfactual is the pre-change trend
continued. Intervals are 95% Wald intervals; residual autocorrelation is checked with the
Ljung-Box test.

**Other changes at the same time.** Changes overlap: {'; '.join(overlaps) or 'none here'}. The
monthly counts are split into cells by which other changes' targets people are in (for example
Asian people in trained teams); each cell has its own level, the cells share the trend and
seasonality, and each other change gets its own level and trend terms only in the cells it
targeted, so its effect is not credited to the change of interest. A change in the same month
for the same people cannot be separated; set-up days are modelled on the whole series.

**Regression to the mean.** A change introduced after a bad spell can look effective when
numbers simply return to normal; the pre-change trend and the run charts help to see this.

**Small numbers.** Series with fewer than {MIN_EVENTS} events before or after a change, or
fewer than 8 months either side, are not modelled. Counts of 1 to {res.params['min_cell'] - 1}
are suppressed in tables and not drawn in charts.

**Changes introduced before their data existed.** {', '.join(early) or 'No change'}
{'began' if early else 'began'} before the series starts ({res.start:%B %Y}); a change with no
data before it (for example a PA register with no earlier request records) cannot be evaluated
by comparing before and after.

**Survey.** Quality of life is ASCOF 1A (eight ASCOT items scored 3 to 0, 0 to 24); control,
satisfaction and ease of finding information are shown as answered (lower is better);
"never tried" to find information is left out. Means are weighted where the survey has weights,
with Welch intervals using the effective sample size; effect sizes are Cohen's d. Respondents
before and after are different people.""")


def record(res: Outcomes, path: str | Path = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(res), notebook=NOTEBOOK, parameters=res.params, path=path)
    findings.write_key_findings(key_findings(res), out.parent / "key_findings.md")
    return out
