"""The controlled comparison of each change: its target group against people it did not reach
(other teams, other groups or other councils), by controlled ITS, and the DP offer rate by team
for a change rolled out by team.

A plain difference-in-differences of the monthly series (before vs after means, no trends) is not
reported: when the comparison group's trend differs (e.g. it holds a group another change set
growing), it flagged a placebo change in 40% of synthetic seeds (issue 17). The controlled ITS is
the difference-in-differences with each series' own trend, and is calibrated
(docs/calibration.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit import stats
from evalkit.analyses.outcomes.compute_series import (
    DP_START,
    MIN_EVENTS,
    TARGET_FIELDS,
    UNSETTLED,
    dp_starts,
    first_post,
    missing_fields,
    monthly_series,
    target_mask,
    teams_of,
)
from evalkit.cohorts import COMMUNITY
from evalkit.stats import its as itsm

COMPARISONS = ("auto", "teams", "groups", "councils", "none")
OUTCOME = "new_dp_starts"  # what the controlled comparison counts, whatever 03's outcome is
DIFFERENTIAL = 0.10  # a co-change covering shares this far apart in two series is not shared


@dataclass
class Controlled:
    """Target vs comparison series for one change: the controlled ITS (with the pre-change trend
    difference), or the reason there is none."""

    change: pd.Series
    comparison: str  # words for the comparison group
    series: pd.DataFrame  # month, y, arm (target/comparison), time, post, calendar_month, index
    result: itsm.ItsResult | None
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
    """Controlled ITS (`its.controlled_its`) of monthly DP starts.

    The window runs between the nearest other implemented changes that cover the target and
    comparison series unequally (shares of their DP starts more than 10 points apart); changes
    covering both alike cancel in the comparison. `treated:trend` is the difference in pre-change
    trends. `series` also holds `index`, monthly starts as a percentage of each series'
    pre-change mean (for the chart).
    """
    none = Controlled(change, "", pd.DataFrame(), None, "")
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
    arms = [monthly_series(base, m, OUTCOME, lo, hi).assign(arm=a)
            for m, a in ((target, "target"), (comp, "comparison"))]
    stacked = pd.concat(arms, ignore_index=True)
    stacked = itsm.mark_change(stacked, change["date"]).assign(
        time=lambda d: d.groupby("arm")["time"].transform(lambda t: t - t.min() + 1))
    out = Controlled(change, words, stacked, None, "")
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
    try:
        out.result = itsm.controlled_its(stacked, "y", "time", "post", "arm", treated="target",
                                         month="calendar_month", conf=conf, min_pre=min_pre,
                                         min_post=min_post)
    except itsm.NotEstimable:
        out.reason = UNSETTLED
        return out
    pre_mean = stacked[stacked["post"] == 0].groupby("arm")["y"].mean()
    out.series = stacked.assign(index=100 * stacked["y"] / stacked["arm"].map(pre_mean))
    return out


def _shared_window(episodes: pd.DataFrame, log: pd.DataFrame, change: pd.Series,
                   target: pd.Series, comp: pd.Series, start: pd.Timestamp,
                   end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Months between the nearest changes covering the two series unequally."""
    starts = dp_starts(episodes[[c for c in [*DP_START, *TARGET_FIELDS] if c in episodes]])
    t_rows, c_rows = starts[target.reindex(starts.index)], starts[comp.reindex(starts.index)]
    lo, hi = start, end
    first = first_post(change["date"])
    for _, other in log[log["implemented"] & (log["change_id"] != change["change_id"])].iterrows():
        if missing_fields(episodes, other):
            continue
        share = [target_mask(rows, other).mean() if len(rows) else 0.0
                 for rows in (t_rows, c_rows)]
        if abs(share[0] - share[1]) <= DIFFERENTIAL:
            continue
        month = first_post(other["date"])
        if month <= first:
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

