"""What Direct Payments are like, and where they are (notebook 01, compute).

Pure functions to tidy frames: who manages a DP and what it buys, budget and hours compared
with the reference group at the same need, unpaid carers, the time from request to first payment,
how long DPs last, and DP shares by area with funnel limits. The duration frames built here are
person-level: they feed Kaplan-Meier estimates and are never published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from evalkit import stats
from evalkit.analyses.uptake.compute_snapshot import (
    NEED,
    NOT_RECORDED,
    NOT_STATED,
    counts,
    with_without,
)
from evalkit.cohorts import COMMUNITY, dp_start_dates
from evalkit.data import codes
from evalkit.stats import survival

DAYS_PER_MONTH = 30.44  # months of follow-up -> days (3 -> 91, 6 -> 183, 12 -> 365)


# ---------------------------------------------------------------- the DP itself
def mix(snap: pd.DataFrame, group_col: str, column: str) -> pd.DataFrame | None:
    """Among people with a DP: how many in each group by `column` (dp_managed_by, dp_used_for).

    Wide table, one row per group, one column per value, and `dp` (the row's total); None when
    the column is absent.
    """
    if column not in snap:
        return None
    dp = snap[snap["has_dp"]]
    values = dp[column].astype("string").fillna(NOT_RECORDED)
    out = pd.crosstab(dp[group_col], values).reset_index()
    out.columns.name = None
    out.insert(1, "dp", out.iloc[:, 1:].sum(axis=1))
    return out


def plan_size_ratio(snap: pd.DataFrame, group_col: str, column: str, reference: str,
                    conf: float = 0.95) -> pd.DataFrame | None:
    """Ratio of geometric mean `column` (weekly_budget, planned_hours) to the reference group at
    the same need (see geometric_mean_ratio); None when the column is absent."""
    if column not in snap:
        return None
    return geometric_mean_ratio(snap, column, group_col, reference, conf)


def geometric_mean_ratio(frame: pd.DataFrame, column: str, group_col: str, reference: str,
                         conf: float = 0.95) -> pd.DataFrame | None:
    """Ratio of geometric mean `column` in each group to `reference` at the same age band,
    gender and support reason (OLS on the log; positive values only).

    For a log-normal measure this is also the ratio of medians. None when there are too few
    values or no reference group; else one row per non-reference group with value, lower,
    upper, conf, p_value, people, df_resid (the fit's residual degrees of freedom).
    """
    d = frame[[column, group_col, *NEED]]  # only what the model needs: filtering copies
    d = d[pd.to_numeric(d[column], errors="coerce") > 0]
    d = d.assign(y=np.log(d[column].astype(float)), group=d[group_col].astype(str))
    d = d[d["group"] != NOT_STATED]
    if d["group"].nunique() < 2 or not d["group"].eq(reference).any():
        return None
    factors = ["group", *[f for f in NEED if d[f].nunique() > 1]]
    X = pd.concat([pd.get_dummies(d[f].astype(str), prefix=f, prefix_sep="\x1f", dtype=float)
                   .drop(columns=f"{f}\x1f{reference if f == 'group' else d[f].mode()[0]}")
                   for f in factors], axis=1)
    X = add_constant(X, has_constant="add")
    if len(d) <= X.shape[1] + 1:
        return None
    # The default (pinv) fit: one SVD. statsmodels' "qr" fit computes the same pinv as well.
    fit = OLS(d["y"].to_numpy(), X).fit()
    ci = fit.conf_int(alpha=1 - conf)
    terms = [t for t in X.columns if t.startswith("group\x1f")]
    sizes = d["group"].value_counts()
    return pd.DataFrame({
        group_col: [t.split("\x1f")[1] for t in terms], "reference": reference,
        "measure": column, "value": np.exp(fit.params[terms]).to_numpy(),
        "lower": np.exp(ci.loc[terms, 0]).to_numpy(), "upper": np.exp(ci.loc[terms, 1]).to_numpy(),
        "conf": conf, "p_value": fit.pvalues[terms].to_numpy(),
        "people": [int(sizes[t.split("\x1f")[1]]) for t in terms], "df_resid": fit.df_resid})


def carer_share(snap: pd.DataFrame, group_col: str, conf: float = 0.95) -> pd.DataFrame | None:
    """Share with an unpaid carer recorded, by group, among people whose carer field is filled
    (Wilson); None when has_unpaid_carer is absent."""
    if "has_unpaid_carer" not in snap:
        return None
    d = snap[snap["has_unpaid_carer"].notna()]
    c = d.groupby(group_col, observed=True)["has_unpaid_carer"].agg(["sum", "size"])
    c = c.rename(columns={"sum": "carer", "size": "people"}).astype(int).reset_index()
    return stats.proportion(c, "carer", "people", by=group_col, conf=conf)


def carer_recorded(snap: pd.DataFrame, group_col: str, conf: float = 0.95) -> pd.DataFrame | None:
    """Share with an unpaid carer recorded, by group and DP status (Wilson); None if absent."""
    if "has_unpaid_carer" not in snap:
        return None
    d = snap[snap["has_unpaid_carer"].notna()]
    d = d.assign(carer=d["has_unpaid_carer"].astype(bool),
                 dp_status=np.where(d["has_dp"], "with a Direct Payment",
                                    "without a Direct Payment"))
    c = d.groupby([group_col, "dp_status"], observed=True)["carer"].agg(["sum", "size"])
    c = c.rename(columns={"sum": "carer", "size": "people"}).astype(int).reset_index()
    return stats.proportion(c, "carer", "people", by=[group_col, "dp_status"], conf=conf)


# ---------------------------------------------------------------- set-up time and continuation
def setup_durations(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp | str,
                    since: pd.Timestamp | str) -> pd.DataFrame | None:
    """Days from DP request to first payment for requests made in (since, period_end].

    Requests not yet paid by period_end are censored there (event = False). None when the dates
    are absent. Person-level; feed to Kaplan-Meier, never display.
    """
    if not {"dp_requested_date", "dp_first_payment_date"} <= set(episodes):
        return None
    end, since = pd.Timestamp(period_end), pd.Timestamp(since)
    d = episodes[(episodes["dp_requested_date"] > since) & (episodes["dp_requested_date"] <= end)]
    d = d.drop_duplicates(["person_id", "dp_requested_date"])
    paid = d["dp_first_payment_date"].notna() & (d["dp_first_payment_date"] <= end)
    stop = d["dp_first_payment_date"].where(paid, end)
    days = (stop - d["dp_requested_date"]).dt.days.clip(lower=0)
    return pd.DataFrame({"group": d[group_col].to_numpy(), "days": days.to_numpy(),
                         "event": paid.to_numpy()})


def setup_days(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp | str,
               since: pd.Timestamp | str) -> pd.DataFrame | None:
    """Days from DP request to first payment for DPs first paid in (since, period_end], with
    age band at period_end, gender and support reason (person-level; never display).

    Choosing by the payment date keeps every set-up complete, so long set-ups are not cut short
    as they are among recent requests. None when the dates are absent.
    """
    if not {"dp_requested_date", "dp_first_payment_date"} <= set(episodes):
        return None
    end, since = pd.Timestamp(period_end), pd.Timestamp(since)
    pay = episodes["dp_first_payment_date"]
    d = episodes[(pay > since) & (pay <= end) & episodes["dp_requested_date"].notna()]
    d = d.drop_duplicates(["person_id", "dp_requested_date"])
    return pd.DataFrame({group_col: d[group_col].to_numpy(),
                         "days": (d["dp_first_payment_date"] - d["dp_requested_date"]).dt.days
                         .to_numpy(),
                         "age_band": codes.age_band(d["birth_date"], end).to_numpy(),
                         "gender": d["gender"].to_numpy(),
                         "primary_support_reason": d["primary_support_reason"].to_numpy()})


def setup_time(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp,
               since: pd.Timestamp, conf: float = 0.95) -> pd.DataFrame | None:
    """Median days from DP request to first payment by group, Kaplan-Meier with a CI."""
    d = setup_durations(episodes, group_col, period_end, since)
    if d is None or d.empty:
        return None
    return survival.median_survival(d, "days", "event", by="group", conf=conf)


def continuation_durations(episodes: pd.DataFrame, group_col: str,
                           period_end: pd.Timestamp | str,
                           since: pd.Timestamp | str) -> pd.DataFrame:
    """Days from the start of each community DP episode begun in (since, period_end] to its end,
    and the days it could be followed (to period_end).

    An end (stopping, or moving to council-managed support, which closes the DP episode) is the
    event; DPs still running at period_end are censored there. Person-level; never display.
    """
    end, since = pd.Timestamp(period_end), pd.Timestamp(since)
    d = episodes[(episodes["service_type"] == COMMUNITY)
                 & episodes["has_dp"].fillna(False).astype(bool)]
    d = d.assign(dp_start=dp_start_dates(d))
    d = d[(d["dp_start"] > since) & (d["dp_start"] <= end)]
    ended = d["end_date"].notna() & (d["end_date"] <= end)
    stop = d["end_date"].where(ended, end)
    days = (stop - d["dp_start"]).dt.days.clip(lower=0)
    return pd.DataFrame({"group": d[group_col].to_numpy(), "days": days.to_numpy(),
                         "event": ended.to_numpy(),
                         "followed": (end - d["dp_start"]).dt.days.to_numpy()})


def continuation(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp,
                 since: pd.Timestamp, conf: float = 0.95) -> pd.DataFrame | None:
    """Share of DPs ended within 0 to 12 months of starting, by group, among the DPs that could
    be followed that long (started at least that long before period_end): counts `followed`,
    `ended` and `running` and the Wilson share ended, one row per group and month.

    Each share is a count of DPs over a count of DPs (no Kaplan-Meier weights), so the
    publication step can protect both counts and recompute the share from them. None when no
    DP started in the period.
    """
    d = continuation_durations(episodes, group_col, period_end, since)
    if d.empty:
        return None
    rows = []
    for m in range(13):
        h = round(m * DAYS_PER_MONTH)
        cohort = d[d["followed"] >= h]
        ended = cohort["event"] & (cohort["days"] <= h)
        c = pd.DataFrame({"group": cohort["group"], "ended": ended.astype(int)})
        c = c.groupby("group", observed=True)["ended"].agg(["size", "sum"])
        rows.append(c.rename(columns={"size": "followed", "sum": "ended"}).reset_index()
                    .assign(months=m))
    c = pd.concat(rows, ignore_index=True)
    out = stats.proportion(c, "ended", "followed", by=["group", "months"], conf=conf)
    return out.assign(running=out["followed"] - out["ended"])


# ---------------------------------------------------------------- areas
def area_unit(snap: pd.DataFrame) -> str | None:
    """The column to compare areas by: councils when several, else area_code when recorded."""
    if snap["la_code"].nunique() > 1:
        return "la_code"
    if "area_code" in snap and snap["area_code"].notna().any():
        return "area_code"
    return None


def areas(snap: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame | None:
    """People, people with and without a DP, and the DP share (Wilson) by area (`area_unit`).

    None when there is no area column or fewer than two areas. Funnel positions are worked out
    by `funnel` from the published (protected) counts.
    """
    unit = area_unit(snap)
    if unit is None:
        return None
    c = counts(snap[snap[unit].notna()], unit)
    if len(c) < 2:
        return None
    up = stats.proportion(c, "dp", "people", by=unit, conf=conf)
    return with_without(up).rename(columns={unit: "area"})


def funnel(units: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Funnel positions and limits (95% and 99.8%) of the DP share by area, from the counts of
    `units` (area, dp, people) that are known: areas with a missing count are left out.

    Returns (positions, limits): positions has area, people, dp, no_dp, value (dp / people, also
    for small areas: the point a funnel plot draws from the counts) and `position` ('higher' /
    'lower' at 99.8%, '95% only' flags between, else 'within'); limits is stats.funnel_limits'
    grid. None when fewer than two areas have known counts.
    """
    c = units.dropna(subset=["dp", "people"])
    c = c[c["people"] > 0].reset_index(drop=True)
    if len(c) < 2:
        return None
    sig = stats.funnel_significance(c, "dp", "people", statistic="proportion")
    sig["area"] = c.loc[sig.index, "area"].to_numpy()
    wide = sig.pivot_table(index="area", columns="conf", values="significance", aggfunc="first")
    wide = wide.fillna("similar")
    s95, s998 = wide[min(wide.columns)], wide[max(wide.columns)]
    position = np.where(s998 != "similar", s998 + " (99.8%)",
                        np.where(s95 != "similar", s95 + " (95%)", "within"))
    c = c.assign(value=c["dp"] / c["people"])  # a funnel shows small areas too
    positions = c[["area", "people", "dp", "no_dp", "value"]].merge(
        pd.DataFrame({"area": wide.index, "position": position}), on="area")
    return positions, stats.funnel_limits(c, "dp", "people", statistic="proportion")
