"""The practice-change log, who each change targeted, and the monthly outcome series.

A change's target is read from the log's target_groups (`all`, an ONS ethnic group, a preferred
language) and target_teams; `target_mask` says which episodes or respondents it covers.
`monthly_series` builds one of the four outcomes (OUTCOMES) per calendar month among them.
"""

from __future__ import annotations

import pandas as pd

from evalkit.cohorts import COMMUNITY, dp_start_dates, snapshot
from evalkit.data import codes
from evalkit.stats import its as itsm

OUTCOMES = {  # outcome -> (words, family, SPC chart, improvement direction)
    "new_dp_starts": ("monthly new Direct Payment starts", "quasipoisson", "xmr", "increase"),
    "dp_share": ("share of people on community support with a Direct Payment", "quasipoisson",
                 "p_prime", "increase"),
    "dp_offer_rate": ("share of new community support episodes offered a Direct Payment",
                      "quasipoisson", "p_prime", "increase"),
    "setup_days": ("mean days from asking for a Direct Payment to the first payment", "ols",
                   "xmr", "decrease"),
}
DP_START = ["person_id", "has_dp", "start_date", "dp_first_payment_date"]
TARGET_FIELDS = ["ethnic_group_broad", "ethnic_group", "preferred_language", "team_id"]
SERIES_FIELDS = {  # outcome -> the episode fields monthly_series reads
    "new_dp_starts": DP_START,
    "dp_share": ["person_id", "service_type", "start_date", "end_date", "has_dp", "birth_date"],
    "dp_offer_rate": ["service_type", "start_date", "dp_offered"],
    "setup_days": [*DP_START, "dp_requested_date"],
}
MIN_EVENTS = 10  # events needed on each side of a change before a count model is fitted
#: Why a change has no estimate when its fit does not settle (`evalkit.stats.its.NotEstimable`).
UNSETTLED = ("the model cannot settle its effect: in these months it cannot be told apart from "
             "another change's effect or from a run of months with nothing recorded")


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
    out["name"] = distinct_names(out)
    return out.sort_values(["date", "change_id"], kind="stable").reset_index(drop=True)


def distinct_names(log: pd.DataFrame) -> pd.Series:
    """Each change's name, with its month added where two changes share a name (the report
    names a change by its name, never its log id), and its id only where they share both."""
    names = log["name"].astype(str)
    dated = names.where(~names.duplicated(keep=False),
                        names + " (" + log["date"].dt.strftime("%B %Y") + ")")
    return dated.where(~dated.duplicated(keep=False),
                       dated + " [" + log["change_id"].astype(str) + "]")


def split_items(text: object) -> list[str]:
    """The ';'-separated items of a log field (target_groups, target_teams), trimmed."""
    return [s.strip() for s in str(text).split(";") if s.strip()]


def teams_of(change: pd.Series) -> list[str]:
    """The teams a change was rolled out to ([] = every team)."""
    teams = change.get("target_teams")
    return [] if teams is None or pd.isna(teams) else split_items(teams)


def missing_fields(frame: pd.DataFrame, change: pd.Series) -> list[str]:
    """Fields the change's target needs that `frame` lacks (e.g. preferred_language)."""
    need = []
    for item in split_items(change["target_groups"]):
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
    for item in split_items(change["target_groups"]):
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


def first_post(date: object) -> pd.Timestamp:
    """First whole month after the change (the change month when it started on the 1st)."""
    d = pd.Timestamp(date)
    month = d.to_period("M").to_timestamp()
    return month if d.day == 1 else month + pd.DateOffset(months=1)


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
    support at the month end (ASCOF 1C(2A), `cohorts.snapshot`). dp_offer_rate: community
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
