"""Who gets a Direct Payment, and who does not: the analyses behind notebook 01_uptake.

Pure functions compute tidy frames from a loaded Dataset; `analyse` runs them all once and
the `show_*` functions display one chart or one disclosure-controlled table each, with a
title and alt text written from the numbers. Definitions follow ASCOF 1C(2A): people with an
ongoing community long-term support episode at the snapshot date, aged 18+, with a DP when the
delivery mechanism is "Direct Payment only" or "Part Direct Payment".
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from evalkit import stats
from evalkit.cohorts import (
    COMMUNITY,
    adult_population,
    adults,
    community,
    council,
    dp_start_dates,
    snapshot,
)
from evalkit.data import codes
from evalkit.data.councils import place_name
from evalkit.report import findings, style
from evalkit.report import record as rec
from evalkit.report.findings import fmt_share
from evalkit.sdc import disclosure
from evalkit.stats import glm, survival
from evalkit.stats.glm import ODDS_COLUMNS

NOT_STATED, NOT_RECORDED = codes.NOT_STATED, codes.NOT_RECORDED
OTHER_LANGUAGE = "Other language"
ENGLISH = "English"
GROUP_COLUMNS = {"broad": "ethnic_group_broad", "detailed": "ethnic_group"}
NEED = ["age_band", "gender", "primary_support_reason"]
MIN_SPEAKERS = 5
MAX_FUNNEL_LABELS = 10
ENDED_BY_DAYS = {91: 3, 183: 6, 365: 12}  # days -> months for "share ended within"


# ---------------------------------------------------------------- the snapshot
def counts(snap: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """People and people with a DP in each `by` cell (cells with nobody are absent)."""
    by = [by] if isinstance(by, str) else list(by)
    out = snap.groupby(by, observed=True, dropna=False)["has_dp"].agg(["size", "sum"])
    return out.rename(columns={"size": "people", "sum": "dp"}).astype(int).reset_index()


def uptake(snap: pd.DataFrame, by: str | list[str], conf: float = 0.95) -> pd.DataFrame:
    """Share of people with a DP in each `by` group, Wilson CI (ASCOF 1C(2A) per group)."""
    by = [by] if isinstance(by, str) else list(by)
    return stats.proportion(counts(snap, by), "dp", "people", by=by, conf=conf)


def overall(snap: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Share of all snapshot people with a DP, one row, Wilson CI."""
    tot = pd.DataFrame({"group": ["All"], "people": [len(snap)],
                        "dp": [int(snap["has_dp"].sum())]})
    return stats.proportion(tot, "dp", "people", by="group", conf=conf)


# ---------------------------------------------------------------- groups and languages
def group_column(level: str) -> str:
    """The Dataset column for group_level 'broad' or 'detailed'."""
    if level not in GROUP_COLUMNS:
        raise ValueError(f"group_level must be one of {sorted(GROUP_COLUMNS)}, not {level!r}")
    return GROUP_COLUMNS[level]


def choose_reference(levels: pd.Series, wanted: str) -> str:
    """`wanted` if present; else the detailed group named like it, else the largest level.

    `levels` is the column of group values (one per person); at group_level = detailed a broad
    name such as "White" picks the largest detailed group starting with it.
    """
    sizes = levels[levels != NOT_STATED].value_counts()
    if sizes.empty:
        return wanted
    if wanted in sizes.index:
        return wanted
    like = sizes[sizes.index.str.startswith(wanted)]
    return str(like.index[0] if len(like) else sizes.index[0])


def language_group(language: pd.Series, min_speakers: int = MIN_SPEAKERS) -> pd.Series:
    """Language for modelling: English, each language with >= min_speakers people, else lumped.

    Blank or "Not recorded" stays its own level (never assumed English); the rest become
    "Other language", so rare languages do not make unstable model terms.
    """
    lang = language.fillna(NOT_RECORDED).astype(str)
    sizes = lang.value_counts()
    keep = set(sizes[sizes >= min_speakers].index) | {ENGLISH, NOT_RECORDED}
    return lang.where(lang.isin(keep), OTHER_LANGUAGE)


def interpreter_group(required: pd.Series) -> pd.Series:
    """'yes', 'no' or 'Not recorded' from the nullable interpreter_required column."""
    req = required.astype("boolean")
    return pd.Series(np.where(req.isna(), NOT_RECORDED, np.where(req.fillna(False), "yes", "no")),
                     index=required.index)


def model_frame(snap: pd.DataFrame, group_col: str,
                min_speakers: int = MIN_SPEAKERS) -> tuple[pd.DataFrame, list[str]]:
    """The snapshot with the model factors as columns, and the list of factors used.

    Factors: ethnic group, language group and interpreter need (when recorded), age band, gender,
    support reason, and council when there is more than one (so each council keeps its own level).
    """
    out = snap.assign(group=snap[group_col].astype(str))
    factors = ["group"]
    if "preferred_language" in snap:
        out["language"] = language_group(snap["preferred_language"], min_speakers)
        factors.append("language")
    if "interpreter_required" in snap:
        out["interpreter"] = interpreter_group(snap["interpreter_required"])
        factors.append("interpreter")
    factors += NEED
    if snap["la_code"].nunique() > 1:
        factors.append("la_code")
    return out, factors


# ---------------------------------------------------------------- adjusted odds ratios
def adjusted_odds_ratios(snap: pd.DataFrame, group_col: str, reference_group: str,
                         conf: float = 0.95, min_speakers: int = MIN_SPEAKERS) -> pd.DataFrame:
    """Odds ratios for ethnic group, language and interpreter need at the same age, gender and need.

    Aggregates the snapshot to cells first, so the fit costs the same at national scale.
    """
    frame, factors = model_frame(snap, group_col, min_speakers)
    cells = counts(frame, factors)
    refs = {"group": choose_reference(frame["group"], reference_group),
            "language": ENGLISH, "interpreter": "no"}
    return glm.odds_ratios(cells, factors, refs, conf)


# ---------------------------------------------------------------- denominators and sensitivity
def adults_by_group(population: pd.DataFrame, group_col: str,
                    la_code: str | None = None) -> pd.DataFrame:
    """Adults (18+, `cohorts.adult_population`) by `group_col` (broad or detailed labels)."""
    pop = adult_population(population, la_code)
    groups = codes.ethnic_group_any_level(pop["ethnic_group"].astype(str))
    if group_col == GROUP_COLUMNS["broad"]:
        groups = codes.ethnic_group_broad(groups)
    out = pd.DataFrame({group_col: groups, "population": pop["population"]}).dropna(
        subset=[group_col])
    out = out.groupby(group_col, as_index=False)["population"].sum()
    return out.assign(population=out["population"].round().astype(int))


def population_uptake(snap: pd.DataFrame, population: pd.DataFrame, group_col: str,
                      la_code: str | None = None, conf: float = 0.95) -> pd.DataFrame:
    """People with a DP per adult of the group in the population (Wilson CI)."""
    dp = counts(snap, group_col)[[group_col, "dp"]]
    pop = adults_by_group(population, group_col, la_code)
    both = pop.merge(dp, on=group_col, how="left").fillna({"dp": 0})
    both = both[both["population"] > 0].astype({"dp": int})
    return stats.proportion(both, "dp", "population", by=group_col, conf=conf)


def not_stated_bounds(snap: pd.DataFrame, group_col: str, conf: float = 0.95) -> pd.DataFrame:
    """Each group's DP share as recorded and if every 'Not stated' person belonged to it.

    The two shares bound what the unrecorded ethnicity could do to each group's uptake.
    """
    c = counts(snap, group_col)
    ns = c[c[group_col] == NOT_STATED][["people", "dp"]].sum()
    known = c[c[group_col] != NOT_STATED]
    rec = stats.proportion(known, "dp", "people", by=group_col, conf=conf)
    return known.assign(share_recorded=rec["value"].to_numpy(),
                        share_if_all_not_stated=(known["dp"] + ns["dp"])
                        / (known["people"] + ns["people"]),
                        not_stated_people=int(ns["people"]))


def missing_counts(snap: pd.DataFrame) -> pd.DataFrame:
    """People whose ethnicity is Not stated, or language / interpreter need Not recorded."""
    rows = [("Ethnicity", "Not stated", int((snap["ethnic_group_broad"] == NOT_STATED).sum()))]
    if "preferred_language" in snap:
        rows.append(("Preferred language", "Not recorded",
                     int((snap["preferred_language"].fillna(NOT_RECORDED) == NOT_RECORDED).sum())))
    if "interpreter_required" in snap:
        rows.append(("Interpreter need", "Not recorded",
                     int(snap["interpreter_required"].isna().sum())))
    out = pd.DataFrame(rows, columns=["field", "value", "people"])
    return out.assign(total=len(snap))


# ---------------------------------------------------------------- standardised ratios
def standardised_ratio(snap: pd.DataFrame, group_col: str, outcome: str = "has_dp",
                       conf: float = 0.95) -> pd.DataFrame:
    """Observed / expected people with `outcome`, expected from the whole snapshot's rate in each
    age band x gender x support reason cell (indirect standardisation, Byar/exact CI).

    A ratio below 1 means fewer in the group have the outcome than people of the same age, gender
    and support reason across the council.
    """
    snap = snap[snap[outcome].notna()].assign(_y=lambda d: d[outcome].astype(bool))
    cells = snap.groupby([group_col, *NEED], observed=True)["_y"].agg(["sum", "size"])
    cells = cells.rename(columns={"sum": "x", "size": "n"}).reset_index()
    ref = cells.groupby(NEED, observed=True)[["x", "n"]].sum()
    ref = ref.rename(columns={"x": "x_ref", "n": "n_ref"}).reset_index()
    cells = cells.merge(ref, on=NEED)
    out = stats.isr(cells, "x", "n", "x_ref", "n_ref", by=group_col, conf=conf)
    sizes = cells.groupby(group_col, observed=True)["n"].sum()
    return out.assign(people=out[group_col].map(sizes).fillna(0).astype(int))


def intersectional(snap: pd.DataFrame, group_col: str) -> pd.DataFrame:
    """People and DP share by group x age band x support reason (for a suppressed table)."""
    c = counts(snap, [group_col, "age_band", "primary_support_reason"])
    return c.assign(share=c["dp"] / c["people"])


# ---------------------------------------------------------------- offer and take-up
def offer_rates(snap: pd.DataFrame, group_col: str, conf: float = 0.95) -> pd.DataFrame | None:
    """Offer rate (offered / people with the offer recorded) and acceptance (DP / offered).

    Returns None when dp_offered is absent. Columns: group, measure (offered, accepted), the
    counts and Wilson value/lower/upper.
    """
    if "dp_offered" not in snap:
        return None
    rec = snap[snap["dp_offered"].notna()]
    offered = rec["dp_offered"].astype(bool)
    c = rec.assign(offered=offered, accepted=offered & rec["has_dp"])
    c = c.groupby(group_col, observed=True).agg(recorded=("offered", "size"),
                                                offered=("offered", "sum"),
                                                accepted=("accepted", "sum")).reset_index()
    off = stats.proportion(c, "offered", "recorded", by=group_col, conf=conf)
    off = off.assign(measure="offered")
    acc = c[c["offered"] > 0]
    acc = stats.proportion(acc, "accepted", "offered", by=group_col, conf=conf)
    acc = acc.assign(measure="accepted")
    return pd.concat([off, acc], ignore_index=True)


# ---------------------------------------------------------------- trend
def quarter_ends(period_end: pd.Timestamp | str, lookback: int) -> list[pd.Timestamp]:
    """The last `lookback` quarter-end dates up to period_end, oldest first."""
    end = pd.Timestamp(period_end)
    return [end - pd.DateOffset(months=3 * k) for k in range(lookback - 1, -1, -1)]


def trend(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp | str,
          lookback: int, *, la_code: str | None = None, conf: float = 0.95) -> pd.DataFrame:
    """Quarterly DP share (snapshot at each quarter end) and new DP starts per 1,000 people.

    One row per quarter x group x measure ('uptake' with Wilson CI; 'new_starts' = community DP
    episodes starting in the quarter per 1,000 people on community support at its end, Byar/exact).
    The community episodes are filtered and sorted once; each quarter is then a date comparison.
    """
    cols = ["person_id", "la_code", "service_type", "start_date", "end_date", "has_dp",
            "birth_date", group_col, *(["dp_first_payment_date"]
                                       if "dp_first_payment_date" in episodes else [])]
    comm = community(episodes[cols], la_code)
    dp_ep = comm[comm["has_dp"].fillna(False).to_numpy(bool)]
    dp_ep = dp_ep.assign(dp_start=dp_start_dates(dp_ep))
    frames = []
    for q in quarter_ends(period_end, lookback):
        snap = adults(comm, q)
        if snap.empty:
            continue
        c = counts(snap, group_col)
        new = dp_ep[(dp_ep["dp_start"] > q - pd.DateOffset(months=3)) & (dp_ep["dp_start"] <= q)]
        new = new.drop_duplicates("person_id").groupby(group_col).size().rename("starts")
        c = c.merge(new, left_on=group_col, right_index=True, how="left").fillna({"starts": 0})
        frames.append(c.astype({"starts": int}).assign(quarter=q))
    if not frames:
        return pd.DataFrame()
    # One proportion and one rate call over every quarter: the intervals are per row, so this
    # equals a call per quarter at a twelfth of the checking and grouping overhead.
    c = pd.concat(frames, ignore_index=True)
    by = ["quarter", group_col]
    up = stats.proportion(c, "dp", "people", by=by, conf=conf).assign(measure="uptake")
    st = stats.rate(c, "starts", "people", by=by, conf=conf, multiplier=1000)
    out = pd.concat([up, st.assign(measure="new_starts")], ignore_index=True)
    out = out.sort_values("quarter", kind="stable", ignore_index=True)
    return out[[group_col, "dp", "people", "value", "lower", "upper", "conf", "method", "note",
                "measure", "quarter", "starts"]]


# ---------------------------------------------------------------- what DPs are like
def mix(snap: pd.DataFrame, group_col: str, column: str) -> pd.DataFrame | None:
    """Among people with a DP: how many in each group by `column` (dp_managed_by, dp_used_for).

    Wide table, one row per group, one column per value (for a suppressed display); None when the
    column is absent.
    """
    if column not in snap:
        return None
    dp = snap[snap["has_dp"]]
    values = dp[column].astype("string").fillna(NOT_RECORDED)
    out = pd.crosstab(dp[group_col], values).reset_index()
    out.columns.name = None
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
    upper, conf, p_value, people.
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
        "people": [int(sizes[t.split("\x1f")[1]]) for t in terms]})


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


def continuation_durations(episodes: pd.DataFrame, group_col: str,
                           period_end: pd.Timestamp | str,
                           since: pd.Timestamp | str) -> pd.DataFrame:
    """Days from the start of each community DP episode begun in (since, period_end] to its end.

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
                         "event": ended.to_numpy()})


# ---------------------------------------------------------------- areas
def area_unit(snap: pd.DataFrame) -> str | None:
    """The column to compare areas by: councils when several, else area_code when recorded."""
    if snap["la_code"].nunique() > 1:
        return "la_code"
    if "area_code" in snap and snap["area_code"].notna().any():
        return "area_code"
    return None


def areas(snap: pd.DataFrame, conf: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """DP share by area with its funnel position, and the funnel limits (95% and 99.8%).

    Returns (units, limits): units has one row per area with people, dp, value, lower, upper
    (at `conf`) and `position` ('higher' / 'lower' at 99.8%, '95% only' flags between, else
    'within'); limits is stats.funnel_limits' grid. None when there is no area column or fewer
    than two areas.
    """
    unit = area_unit(snap)
    if unit is None:
        return None
    c = counts(snap[snap[unit].notna()], unit)
    if len(c) < 2:
        return None
    sig = stats.funnel_significance(c, "dp", "people", statistic="proportion")
    sig[unit] = c.loc[sig.index, unit].to_numpy()
    wide = sig.pivot_table(index=unit, columns="conf", values="significance", aggfunc="first")
    wide = wide.fillna("similar")
    s95, s998 = wide[min(wide.columns)], wide[max(wide.columns)]
    position = np.where(s998 != "similar", s998 + " (99.8%)",
                        np.where(s95 != "similar", s95 + " (95%)", "within"))
    up = stats.proportion(c, "dp", "people", by=unit, conf=conf)
    units = up.merge(pd.DataFrame({unit: wide.index, "position": position}), on=unit)
    limits = stats.funnel_limits(c, "dp", "people", statistic="proportion")
    return units.rename(columns={unit: "area"}), limits


def setup_time(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp,
               since: pd.Timestamp, conf: float = 0.95) -> pd.DataFrame | None:
    """Median days from DP request to first payment by group, Kaplan-Meier with a CI."""
    d = setup_durations(episodes, group_col, period_end, since)
    if d is None or d.empty:
        return None
    return survival.median_survival(d, "days", "event", by="group", conf=conf)


def continuation(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp,
                 since: pd.Timestamp, conf: float = 0.95
                 ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Kaplan-Meier curves of DPs still running, and share ended by 3, 6 and 12 months."""
    d = continuation_durations(episodes, group_col, period_end, since)
    if d.empty:
        return None
    curves = survival.kaplan_meier(d, "days", "event", by="group", conf=conf)
    ended = survival.filled_by(d, "days", "event", list(ENDED_BY_DAYS), by="group", conf=conf)
    return curves, ended.assign(months=ended["days"].map(ENDED_BY_DAYS))


# ---------------------------------------------------------------- the whole analysis
@dataclass
class Uptake:
    """Everything notebook 01 shows, computed once by `analyse` (tidy frames, no person rows
    except the private `snap`, which display functions never show)."""

    params: dict
    la_code: str
    period_end: pd.Timestamp
    group_col: str
    reference: str
    snap: pd.DataFrame
    episodes: pd.DataFrame
    quality: pd.DataFrame
    warnings: list[str]
    overall: pd.DataFrame
    by_group: pd.DataFrame
    by_broad: pd.DataFrame
    by_population: pd.DataFrame | None
    by_language: pd.DataFrame | None
    by_interpreter: pd.DataFrame | None
    isr: pd.DataFrame
    isr_language: pd.DataFrame | None
    odds: pd.DataFrame
    odds_display: pd.DataFrame
    offers: pd.DataFrame | None
    offers_broad: pd.DataFrame | None
    missing: pd.DataFrame
    bounds: pd.DataFrame
    trend: pd.DataFrame
    areas: tuple[pd.DataFrame, pd.DataFrame] | None
    intersection: pd.DataFrame
    setup: pd.DataFrame | None
    setup_ratio: pd.DataFrame | None
    setup_ratio_broad: pd.DataFrame | None
    continuation: tuple[pd.DataFrame, pd.DataFrame] | None
    managed_by: pd.DataFrame | None
    used_for: pd.DataFrame | None
    budget: pd.DataFrame | None
    hours: pd.DataFrame | None
    carer: pd.DataFrame | None
    carer_share_broad: pd.DataFrame | None


def default_period_end(episodes: pd.DataFrame) -> pd.Timestamp:
    """The quarter end on or after the latest start or end date in the episodes."""
    last = max(episodes["start_date"].max(), episodes["end_date"].max())
    return pd.Timestamp(last).to_period("Q").end_time.normalize()


def analyse(data, *, la_code: str | None = None, period_end: str | None = None,
            lookback: int = 12, group_level: str = "broad", reference_group: str = "White",
            min_cell: int = 5, conf: float = 0.95) -> Uptake:
    """Run every uptake analysis on a loaded Dataset (see the module docstring)."""
    ep = data.support_episodes
    la = council(ep, la_code, where="uptake")
    end = pd.Timestamp(period_end) if period_end else default_period_end(ep)
    if la != "all":
        ep = ep[ep["la_code"] == la]
    gcol = group_column(group_level)
    since = end - pd.DateOffset(months=3 * lookback)
    snap = snapshot(ep, end)
    broad = GROUP_COLUMNS["broad"]
    ref = choose_reference(snap[gcol], reference_group) if len(snap) else reference_group
    ref_broad = choose_reference(snap[broad], reference_group) if len(snap) else reference_group
    odds = adjusted_odds_ratios(snap, broad, ref_broad, conf) if len(snap) else _empty_odds()
    setup = setup_days(ep, gcol, end, since)
    setup_broad = setup_days(ep, broad, end, since) if gcol != broad else setup
    params = {"la_code": la, "period_end": end.date().isoformat(), "lookback": lookback,
              "group_level": group_level, "reference_group": ref, "min_cell": min_cell}
    return Uptake(
        params=params, la_code=la, period_end=end, group_col=gcol, reference=ref, snap=snap,
        episodes=ep, quality=data.quality, warnings=list(data.warnings),
        overall=overall(snap, conf), by_group=uptake(snap, gcol, conf),
        by_broad=uptake(snap, broad, conf),
        by_population=(population_uptake(snap, data.population, gcol, la, conf)
                       if data.population is not None else None),
        by_language=(uptake(snap.assign(language=language_group(snap["preferred_language"])),
                            "language", conf) if "preferred_language" in snap else None),
        by_interpreter=(uptake(snap.assign(interpreter=interpreter_group(
            snap["interpreter_required"])), "interpreter", conf)
            if "interpreter_required" in snap else None),
        isr=standardised_ratio(snap, gcol, conf=conf) if len(snap) else pd.DataFrame(),
        isr_language=(standardised_ratio(snap.assign(language=language_group(
            snap["preferred_language"])), "language", conf=conf)
            if len(snap) and "preferred_language" in snap else None),
        odds=odds,
        odds_display=(odds if gcol == broad or not len(snap)
                      else adjusted_odds_ratios(snap, gcol, ref, conf)),
        offers=offer_rates(snap, gcol, conf), offers_broad=offer_rates(snap, broad, conf),
        missing=missing_counts(snap), bounds=not_stated_bounds(snap, gcol, conf),
        trend=trend(ep, gcol, end, lookback, conf=conf),
        areas=areas(snap, conf) if len(snap) else None,
        intersection=intersectional(snap, gcol), setup=setup_time(ep, gcol, end, since, conf),
        setup_ratio=None if setup is None else geometric_mean_ratio(setup, "days", gcol, ref, conf),
        setup_ratio_broad=(None if setup_broad is None else
                           geometric_mean_ratio(setup_broad, "days", broad, ref_broad, conf)),
        continuation=continuation(ep, gcol, end, since, conf),
        managed_by=mix(snap, gcol, "dp_managed_by"), used_for=mix(snap, gcol, "dp_used_for"),
        budget=plan_size_ratio(snap, gcol, "weekly_budget", ref, conf),
        hours=plan_size_ratio(snap, gcol, "planned_hours", ref, conf),
        carer=carer_recorded(snap, gcol, conf), carer_share_broad=carer_share(snap, broad, conf))


def _empty_odds() -> pd.DataFrame:
    """An odds-ratio frame with no rows (no one in the snapshot)."""
    return pd.DataFrame(columns=ODDS_COLUMNS)


# ---------------------------------------------------------------- results.json
def estimates(res: Uptake) -> pd.DataFrame:
    """Key estimates in the results.json shape (names as docs/planted_effects.md, 01 section)."""
    broad = GROUP_COLUMNS["broad"]
    o = res.odds[res.odds["factor"].isin(["group", "language", "interpreter"])]
    prefix = o["factor"].map({"group": "", "language": "language:", "interpreter": "interpreter:"})
    rows = [pd.DataFrame({"name": "uptake_odds_ratio", "group": prefix + o["group"],
                          "reference": prefix + o["reference"], "value": o["value"],
                          "lower": o["lower"], "upper": o["upper"], "conf": o["conf"],
                          "n": o["people"], "note": o["note"]})]

    def shares(df: pd.DataFrame | None, name: str, n: str, col: str = broad) -> None:
        if df is not None and len(df):
            rows.append(pd.DataFrame({"name": name, "group": df[col], "reference": "",
                                      "value": df["value"], "lower": df["lower"],
                                      "upper": df["upper"], "conf": df["conf"], "n": df[n]}))

    shares(res.by_broad, "uptake_share", "people")
    if res.offers_broad is not None:
        off = res.offers_broad
        shares(off[off["measure"] == "offered"], "dp_offer_rate", "recorded")
        shares(off[off["measure"] == "accepted"], "dp_acceptance_rate", "offered")
    if len(res.isr):
        isr = res.isr
        rows.append(pd.DataFrame({"name": "standardised_uptake_ratio", "group": isr[res.group_col],
                                  "reference": "same age, gender and support reason",
                                  "value": isr["value"], "lower": isr["lower"],
                                  "upper": isr["upper"], "conf": isr["conf"],
                                  "n": isr["observed"]}))
    shares(res.overall, "uptake_share_all", "people", col="group")
    shares(res.carer_share_broad, "unpaid_carer_share", "people")
    if res.setup_ratio_broad is not None:
        r = res.setup_ratio_broad
        rows.append(pd.DataFrame({"name": "dp_setup_time_ratio", "group": r[broad],
                                  "reference": r["reference"], "value": r["value"],
                                  "lower": r["lower"], "upper": r["upper"], "conf": r["conf"],
                                  "n": r["people"]}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["group"].astype(str) != ""]


# ---------------------------------------------------------------- words
LABELS = {  # column names -> what a reader sees in a table heading
    "group": "Ethnic group", "people": "People", "dp": "With a Direct Payment",
    "share": "Share with a Direct Payment (%)", "age_band": "Age band",
    "primary_support_reason": "Primary support reason", "table": "File",
    "reason": "Kept, or why excluded",
    "rows": "Number of rows", "no_dp": "Without a Direct Payment",
    "ended_share": "Share ended (%)", "running": "Still running (estimated)",
    "PA": "Personal Assistant(s)", "agency care": "Agency care",
    "mixed": "Both PA and agency care", "other": "Something else", "field": "Field",
    "value": "Value",
    "total": "People in the snapshot", "months": "Within (months)", "started": "DPs started",
    "ended": "Ended (estimated)", "lower": "95% CI lower (%)", "upper": "95% CI upper (%)",
    "area": "Area", "position": "Position on the funnel plot",
    "share_recorded": "Share with a DP as recorded (%)",
    "share_if_all_not_stated": "Share if all Not stated were in this group (%)",
}


def _people(name: str) -> str:
    """'Asian people', 'people from the Mixed ethnic group', 'people in the Indian group'
    (as GOV.UK Ethnicity facts and figures writes them)."""
    if name in ("Asian", "Black", "White"):
        return f"{name} people"
    if name in codes.BROAD_GROUPS:
        return f"people from the {name} ethnic group"
    return f"people in the {name} group"


def _when(res: Uptake) -> str:
    return f"{res.period_end:%-d %B %Y}"


def _place(res: Uptake) -> str:
    return place_name(res.la_code)


def _period(res: Uptake) -> str:
    """The lookback period in words, e.g. '1 April 2023 to 31 March 2026'."""
    start = res.period_end - pd.DateOffset(months=3 * res.params["lookback"]) + pd.Timedelta(days=1)
    return f"{start:%-d %B %Y} to {_when(res)}"


def _small(people: float, min_cell: int) -> bool:
    """Too few people to estimate a group's gap usefully (or to show it)."""
    return not np.isfinite(people) or people < max(10 * min_cell, 50)


def _list(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def ratio_finding(res: Uptake, row: pd.Series, who: str) -> str:
    """One Key findings sentence from a standardised uptake ratio row (observed / expected)."""
    n, min_n = row["people"], max(10 * res.params["min_cell"], 50)
    if not np.isfinite(row["value"]) or _small(n, res.params["min_cell"]):
        return findings.too_few(f"{who} on community support",
                                "how likely they were to have a Direct Payment")
    return findings.ratio_sentence(
        f"the {int(n):,} {who} on community support", row["value"], row["lower"], row["upper"],
        n=n, comparison="people of the same age, gender and support need",
        outcome="have a Direct Payment", min_n=min_n)


def _speakers(language: str) -> str:
    return f"{language} speakers"


def key_findings(res: Uptake) -> list[str]:
    """3 to 6 sentences from the estimates, each with its uncertainty and denominator.

    Group sentences quote standardised uptake ratios (observed / expected DPs at the same age,
    gender and support reason): unlike an odds ratio they read correctly as 'times as likely'.
    """
    if not len(res.snap):
        return [f"No adult was receiving long-term community support in {_place(res)} on "
                f"{_when(res)}, so there is nothing to report."]
    o = res.overall.iloc[0]
    out = [findings.percent_sentence(
        f"the {int(o['people']):,} adults on long-term community support in {_place(res)} on "
        f"{_when(res)}", o["value"], o["lower"], o["upper"], outcome="had a Direct Payment",
        n=o["people"], decimals=1)]
    isr = res.isr[res.isr[res.group_col] != NOT_STATED] if len(res.isr) else res.isr
    if isr.empty or isr[res.group_col].nunique() < 2:
        out.append("Only one ethnic group has enough recorded people here, so uptake cannot be "
                   "compared between groups.")
    else:
        big = ~isr["people"].lt(max(10 * res.params["min_cell"], 50))
        isr = isr.assign(_big=big).sort_values(["_big", "value"], ascending=[False, True])
        out += [ratio_finding(res, r, _people(r[res.group_col]))
                for _, r in isr[isr[res.group_col] != res.reference].head(3).iterrows()]
    if res.isr_language is not None:
        lang = res.isr_language[~res.isr_language["language"].isin(
            [ENGLISH, NOT_RECORDED, OTHER_LANGUAGE])]
        lang = lang[(lang["upper"] < 1) & ~lang["people"].lt(max(10 * res.params["min_cell"], 50))]
        if len(lang):
            r = lang.sort_values("value").iloc[0]
            out.append(ratio_finding(res, r, _speakers(r["language"])))
    if res.offers is not None and len(out) < findings.MAX_FINDINGS:
        off = res.offers[(res.offers["measure"] == "offered") & (res.offers["recorded"] > 0)]
        off = off[(off[res.group_col] != NOT_STATED)
                  & (off["recorded"] >= max(10 * res.params["min_cell"], 50))]
        if len(off) > 1:
            low = off.sort_values("value").iloc[0]
            out.append(findings.percent_sentence(
                f"the {int(low['recorded']):,} {_people(low[res.group_col])} with an offer "
                "recorded (the lowest rate of any group)", low["value"], low["lower"],
                low["upper"], outcome="had been offered a Direct Payment"))
    return out[:findings.MAX_FINDINGS]


# ---------------------------------------------------------------- display (one call per cell)

def _table(df: pd.DataFrame, count_cols: list[str], min_cell: int,
           rate_cols: dict[str, tuple[str, str]] | None = None, caption: str = "",
           total_col: str | None = None) -> None:
    """Show a table through style.table (disclosure control) with readable column headings;
    rate columns (shares 0-1) shown as percentages. `total_col` holds the row sum of
    `count_cols` (e.g. people = with + without a DP), so a small complement is hidden too."""
    if df.empty or not count_cols:
        style.say(f"{caption or 'This table'}: no one to show.")
        return
    rates = rate_cols or {}
    shown = df.assign(**{c: df[c].astype(float) * 100 for c in rates}).reset_index(drop=True)
    labels = {c: LABELS.get(c, c.replace("_", " ").capitalize()) for c in df.columns}
    style.table(shown, count_cols=count_cols, rate_cols=rates or None, threshold=min_cell,
                caption=caption, labels=labels, decimals=1, total_col=total_col)


def _with_without(df: pd.DataFrame) -> pd.DataFrame:
    """Add no_dp = people - dp beside dp, so both parts of each row total are controlled."""
    at = list(df.columns).index("dp") + 1
    out = df.copy()
    out.insert(at, "no_dp", (df["people"] - df["dp"]).astype(int))
    return out


def _shown(df: pd.DataFrame, x: str, n: str, min_cell: int) -> tuple[pd.DataFrame, int]:
    """Rows safe to chart: numerator and denominator 0 or >= min_cell; and how many were hidden."""
    ok = disclosure.share_shown(df[x], df[n], min_cell) & df["value"].notna()
    return df[ok], int((~ok).sum())


def _ci_chart(df: pd.DataFrame, label: str, title: str, subtitle: str, xlabel: str, *,
              ref: float | None = None, ref_label: str = "", pct: bool = True,
              hidden: int = 0, min_cell: int = 5, log: bool = False,
              ylabel: str = "Ethnic group") -> Figure:
    """style.ci_chart of value/lower/upper sorted by value (x100 when `pct`); `ylabel` names
    the rows."""
    k = 100 if pct else 1
    d = df.sort_values("value", ascending=False)
    d = pd.DataFrame({"label": [textwrap.shorten(str(v), 60) for v in d[label]],
                      "value": d["value"] * k, "lower": d["lower"] * k, "upper": d["upper"] * k})
    note = (f" {hidden} group(s) not shown: a count below {min_cell} could be worked out."
            if hidden else "")
    return style.ci_chart(d, "label", "value", "lower", "upper",
                          reference_line=ref * k if ref is not None and np.isfinite(ref) else None,
                          reference_label=ref_label or None, title=title,
                          subtitle=subtitle + note, xlabel=xlabel, ylabel=ylabel, log=log)


def _alt(kind: str, what: str, d: pd.DataFrame, label: str, pct: bool = True) -> str:
    """Alt text: the chart type, what it shows, and every estimate with its interval."""
    def one(r: pd.Series) -> str:
        if pct:
            return f"{r[label]} {findings.fmt_percent(r['value'], r['lower'], r['upper'])}"
        return f"{r[label]} {r['value']:.2f} (95% CI {r['lower']:.2f} to {r['upper']:.2f})"
    return f"{kind}: {what}. " + "; ".join(one(r) for _, r in d.iterrows()) + "."


def _share_chart(res: Uptake, df: pd.DataFrame, label: str,
                 title: str | Callable[[pd.DataFrame], str], what: str,
                 x: str = "dp", n: str = "people", xlabel: str = "% with a Direct Payment",
                 ref: float | None = None, ref_label: str = "",
                 ylabel: str = "Ethnic group") -> None:
    """Chart a frame of shares (Wilson CIs) with disclosure control and generated alt text.

    `title` may be a function of the rows shown, so it never names a group left out."""
    min_cell = res.params["min_cell"]
    d, hidden = _shown(df, x, n, min_cell)
    if d.empty:
        style.say(f"No group has enough people to show {what.lower()} without risking disclosure.")
        return
    title = title(d) if callable(title) else title
    sub = f"{what}, {_place(res)}, {_when(res)}, percent with 95% confidence intervals."
    fig = _ci_chart(d, label, title, sub, xlabel, ref=ref, ref_label=ref_label, hidden=hidden,
                    min_cell=min_cell, ylabel=ylabel)
    style.show(fig, _alt("Dot chart", what, d, label))


def _gap_title(df: pd.DataFrame, label: str, reference: str, measure: str,
               who: str = "people") -> str:
    """A finding title: which groups' intervals lie wholly below (or above) the reference's."""
    ref = df[df[label] == reference]
    if ref.empty or len(df) < 2:
        return f"{measure} by group"
    r = ref.iloc[0]
    others = df[(df[label] != reference) & (df[label] != NOT_STATED)]
    below = others[others["upper"] < r["lower"]][label].astype(str).tolist()
    above = others[others["lower"] > r["upper"]][label].astype(str).tolist()
    if below:
        return f"{measure} is lower for {_list(below[:3])} {who} than for {reference} {who}"
    if above:
        return f"{measure} is higher for {_list(above[:3])} {who} than for {reference} {who}"
    return f"{measure}: no group clearly differs from {reference} {who}"


def show_key_findings(res: Uptake) -> None:
    """Key findings as a bullet list (`record` writes them to key_findings.md)."""
    findings.key_findings(key_findings(res))


def show_quality(res: Uptake) -> None:
    """The data-quality table: rows read, kept and excluded by reason."""
    q = res.quality.groupby(["table", "reason"], as_index=False)["rows"].sum()
    q = q.assign(table=q["table"].str.replace("_", " "), reason=q["reason"].str.replace("_", " "))
    _table(q, ["rows"], res.params["min_cell"], caption="Rows read, kept and excluded by reason")


def show_coverage(res: Uptake) -> None:
    """Period covered, who is in the snapshot, and the warnings from loading."""
    ep = res.episodes
    if ep.empty:
        style.say(f"There are no support episodes for {_place(res)}.")
        return
    text = (f"Support episodes run from {ep['start_date'].min():%-d %B %Y} to "
            f"{_when(res)} (the snapshot date) for {_place(res)}. The snapshot holds "
            f"{len(res.snap):,} adults receiving long-term support in the community.")
    style.say(text + "".join(f"\n\n_Note: {w}_" for w in res.warnings))


def show_missing(res: Uptake) -> None:
    """People with ethnicity Not stated or language / interpreter need Not recorded."""
    _table(res.missing, ["people", "total"], res.params["min_cell"],
           rate_cols=None, caption="People whose ethnicity or language is not recorded")


def show_sensitivity(res: Uptake) -> None:
    """Each group's DP share as recorded and if all 'Not stated' people were in it."""
    b = res.bounds
    ns = int(b["not_stated_people"].iloc[0]) if len(b) else 0
    if ns == 0:
        style.say("Everyone in the snapshot has a recorded ethnicity, so no bounds are needed.")
        return
    t = b[[res.group_col, "people", "dp", "share_recorded", "share_if_all_not_stated"]]
    t = _with_without(t.rename(columns={res.group_col: "group"}))
    _table(t, ["dp", "no_dp"], res.params["min_cell"], total_col="people",
           rate_cols={"share_recorded": ("dp", "people"),
                      "share_if_all_not_stated": ("dp", "people")},
           caption=f"Share with a Direct Payment if none or all of the {ns:,} people with "
                   "ethnicity Not stated belonged to each group")


def show_uptake(res: Uptake) -> None:
    """Share with a DP by group, against community long-term support users (Wilson CIs)."""
    o = res.overall.iloc[0] if len(res.overall) else None
    df = res.by_group[res.by_group[res.group_col] != NOT_STATED]
    if df.empty:
        style.say("No one with a recorded ethnic group is in the snapshot.")
        return
    _share_chart(res, df, res.group_col,
                 lambda d: _gap_title(d, res.group_col, res.reference, "Direct Payment uptake"),
                 "Share of adults on community long-term support with a Direct Payment",
                 ref=o["value"] if o is not None else None, ref_label="All")


def show_population_uptake(res: Uptake) -> None:
    """People with a DP per adult of the group in the population."""
    if res.by_population is None or res.by_population.empty:
        style.say("There is no population table for this area, so uptake per adult resident cannot "
                  "be shown.")
        return
    d, hidden = _shown(res.by_population, "dp", "population", res.params["min_cell"])
    d = d[d[res.group_col] != NOT_STATED]
    if d.empty:
        style.say("No group has enough people to show uptake per adult resident.")
        return
    k = 1000
    d = d.assign(**{c: d[c] * k for c in ("value", "lower", "upper")})
    fig = _ci_chart(d, res.group_col, _gap_title(d, res.group_col, res.reference,
                                                 "Direct Payments per adult resident"),
                    f"People with a Direct Payment per 1,000 adults of the group living in "
                    f"{_place(res)}, {_when(res)}, 95% confidence intervals.",
                    "Direct Payments per 1,000 adults", pct=False, hidden=hidden,
                    min_cell=res.params["min_cell"])
    style.show(fig, _alt("Dot chart", "people with a Direct Payment per 1,000 adults", d,
                         res.group_col, pct=False))


def show_language(res: Uptake) -> None:
    """Share with a DP by preferred language (rare languages lumped)."""
    if res.by_language is None:
        style.say("The data have no preferred_language field, so communities that ethnic codes "
                  "cannot see (for example Somali or Gujarati speakers) cannot be identified. Ask "
                  "for preferred language to be recorded.")
        return
    _share_chart(res, res.by_language, "language",
                 lambda d: _gap_title(d, "language", ENGLISH, "Direct Payment uptake",
                                      "speakers"),
                 "Share with a Direct Payment by preferred language",
                 ylabel="Preferred language")


def show_interpreter(res: Uptake) -> None:
    """Share with a DP by interpreter need."""
    if res.by_interpreter is None:
        style.say("The data have no interpreter_required field, so uptake by interpreter need "
                  "cannot be shown.")
        return
    d = res.by_interpreter.assign(need=res.by_interpreter["interpreter"].map(
        {"yes": "Needs an interpreter", "no": "No interpreter needed"}).fillna(NOT_RECORDED))
    yes, no = (d[d["interpreter"] == v] for v in ("yes", "no"))
    if len(yes) and len(no) and yes["upper"].iloc[0] < no["lower"].iloc[0]:
        title = "People who need an interpreter are less likely to have a Direct Payment"
    elif len(yes) and len(no) and yes["lower"].iloc[0] > no["upper"].iloc[0]:
        title = "People who need an interpreter are more likely to have a Direct Payment"
    else:
        title = "Direct Payment uptake: no clear difference by interpreter need"
    _share_chart(res, d, "need", title,
                 "Share with a Direct Payment by whether an interpreter is needed",
                 ylabel="Interpreter need")


def show_isr(res: Uptake) -> None:
    """Indirectly standardised uptake ratio by group (observed / expected DPs)."""
    df = res.isr
    if df.empty:
        style.say("No one is in the snapshot, so no standardised ratio can be computed.")
        return
    d, hidden = _shown(df, "observed", "people", res.params["min_cell"])
    d = d[d[res.group_col] != NOT_STATED]
    if d.empty:
        style.say("No group has enough people for a standardised ratio.")
        return
    low = d[d["upper"] < 1][res.group_col].astype(str).tolist()
    title = (f"{_list(low[:3])} people have fewer Direct Payments than expected for their age "
             "and need" if low else "No group clearly has fewer Direct Payments than expected")
    fig = _ci_chart(d, res.group_col, title,
                    f"Observed / expected Direct Payments given age band, gender and support "
                    f"reason, {_place(res)}, {_when(res)}; 1 = as expected; 95% CIs.",
                    "Standardised uptake ratio (log scale)", ref=1.0, ref_label="as expected",
                    pct=False, hidden=hidden, min_cell=res.params["min_cell"], log=True)
    style.show(fig, _alt("Dot chart", "standardised uptake ratios (1 = as expected)", d,
                         res.group_col, pct=False))


def show_odds(res: Uptake) -> None:
    """Adjusted odds ratios (ethnic group, language, interpreter need) from the cell GLM."""
    o = res.odds_display
    o = o[o["factor"].isin(["group", "language", "interpreter"]) & o["value"].notna()
          & (o["people"] >= max(10 * res.params["min_cell"], 50))]
    if o.empty:
        style.say("There are too few people in groups other than the reference to estimate "
                  "adjusted odds ratios.")
        return
    what = {"group": "{g} vs {r}", "language": "{g} vs {r} speakers",
            "interpreter": "Interpreter needed vs not"}
    d = o.assign(label=[what[f].format(g=g, r=r) for f, g, r in
                        zip(o["factor"], o["group"], o["reference"], strict=True)])
    low = d[d["upper"] < 1]["label"].tolist()
    title = ("Lower odds of a Direct Payment at the same age and need: " + _list(low[:2])
             if low else "No group has clearly lower odds of a Direct Payment at the same age "
             "and need")
    fig = _ci_chart(d, "label", title,
                    f"Adjusted odds ratios, {_place(res)}, {_when(res)}: binomial model on "
                    "counts by ethnic group, language, interpreter need, age band, gender and "
                    "support reason" + (", and council" if res.la_code == "all" else "")
                    + "; 95% CIs.", "Odds ratio (log scale; 1 = same odds as the reference)",
                    ref=1.0, pct=False, log=True, ylabel="Group compared with the reference")
    style.show(fig, _alt("Dot chart", "adjusted odds ratios of having a Direct Payment", d,
                         "label", pct=False))


def show_which_measure(res: Uptake) -> None:
    """Which measure to quote, and why."""
    style.say("**Which to quote.** Quote the standardised uptake ratio: it says how many times as "
              "likely a group is to have a Direct Payment as people of the same age, gender and "
              "support needs, and turns into people (a ratio of 0.8 means 20 in every 100 expected "
              "Direct Payments are missing). The key findings quote it. Use the adjusted odds "
              "ratio "
              "to compare a group directly with the reference group while also holding language "
              "and interpreter need equal. When Direct Payments are common (over about 20%) an "
              "odds "
              "ratio is further from 1 than the ratio of the shares, so do not read an odds "
              "ratio of "
              "0.75 as '25% fewer'.")


def show_intersection(res: Uptake) -> None:
    """Group x age band x support reason: people, DPs and share, with suppression."""
    t = res.intersection.rename(columns={res.group_col: "group"})
    if t.empty:
        style.say("No one is in the snapshot.")
        return
    _table(_with_without(t), ["dp", "no_dp"], res.params["min_cell"], total_col="people",
           rate_cols={"share": ("dp", "people")},
           caption="People and Direct Payment share by ethnic group, age band and support "
                   "reason")


def show_offers(res: Uptake) -> None:
    """Offer rate and acceptance rate by group (where dp_offered is recorded)."""
    if res.offers is None:
        style.say("The data have no dp_offered field, so offer and acceptance rates cannot be "
                  "shown.")
        return
    g = res.group_col
    off = res.offers[res.offers["measure"] == "offered"]
    acc = res.offers[res.offers["measure"] == "accepted"]
    _share_chart(res, off, g,
                 lambda d: _gap_title(d, g, res.reference, "The Direct Payment offer rate"),
                 "Share offered a Direct Payment at the last assessment or review",
                 x="offered", n="recorded", xlabel="% offered a Direct Payment")
    _share_chart(res, acc, g,
                 lambda d: _gap_title(d, g, res.reference, "Acceptance of an offer"),
                 "Share of those offered who took a Direct Payment", x="accepted", n="offered",
                 xlabel="% of those offered with a Direct Payment")


def show_setup(res: Uptake) -> None:
    """Median days from DP request to first payment by group (Kaplan-Meier), and the ratio of
    typical set-up time to the reference group at the same need."""
    if res.setup is None:
        style.say("The data have no DP request and first-payment dates in this period, so set-up "
                  "time cannot be shown.")
        return
    d = res.setup[(res.setup["n"] >= res.params["min_cell"]) & res.setup["value"].notna()]
    d = d[d["group"] != NOT_STATED]
    if d.empty:
        style.say("Too few Direct Payment requests to show set-up time.")
        return
    top = d.sort_values("value").iloc[-1]
    fig = _ci_chart(d.assign(lower=d["lower"].fillna(d["value"]),
                             upper=d["upper"].fillna(d["value"])), "group",
                    f"{top['group']} people waited longest for their first payment: a median "
                    f"of {top['value']:.0f} days",
                    f"Median days from asking for a Direct Payment to the first payment "
                    f"(Kaplan-Meier), requests made {_period(res)}, {_place(res)}; 95% CIs.",
                    "Days from request to first payment", pct=False)
    style.show(fig, "Dot chart of median days from request to first payment: " + "; ".join(
        f"{r['group']} {r['value']:.0f} days" for _, r in d.iterrows()) + ".")
    _ratio_chart(res, res.setup_ratio, "set-up time",
                 f"Ratio of typical (geometric mean) days from request to first payment to "
                 f"{res.reference} people, same age band, gender and support reason, Direct "
                 f"Payments first paid {_period(res)}, {_place(res)}; 95% CIs.", "longer")


def _ratio_chart(res: Uptake, d: pd.DataFrame | None, what: str, subtitle: str,
                 worse: str) -> None:
    """Dot chart of geometric-mean ratios to the reference group (1 = the same)."""
    if d is None:
        style.say(f"The data cannot compare {what} between groups here (too few values or no "
                  f"{res.reference} people).")
        return
    d = d[(d["people"] >= res.params["min_cell"]) & (d[res.group_col] != NOT_STATED)]
    if d.empty:
        style.say(f"Too few people per group to compare {what}.")
        return
    side = d[d["lower"] > 1] if worse == "longer" else d[d["upper"] < 1]
    names = side[res.group_col].astype(str).tolist()
    title = (f"{_list(names[:3])} people have a {worse} {what} than {res.reference} people at "
             "the same need" if names else f"No group clearly has a {worse} {what} than "
             f"{res.reference} people at the same need")
    fig = _ci_chart(d, res.group_col, title, subtitle,
                    f"Ratio to {res.reference} people (log scale; 1 = the same)", ref=1.0,
                    pct=False, log=True)
    style.show(fig, _alt("Dot chart", f"ratio of {what} to {res.reference} people", d,
                         res.group_col, pct=False))


def show_continuation(res: Uptake) -> None:
    """Kaplan-Meier curves of DPs still running, by group; share ended by 3/6/12 months."""
    if res.continuation is None:
        style.say("No Direct Payments started in this period, so continuation cannot be shown.")
        return
    curves, ended = res.continuation
    sizes = ended.groupby("group")["n"].max()
    keep = sizes[(sizes >= max(10 * res.params["min_cell"], 20))
                 & (sizes.index != NOT_STATED)].index[:len(style.PALETTE)]
    if not len(keep):
        style.say("Too few Direct Payments started in each group to show continuation.")
        return
    c = curves[curves["group"].isin(keep)]
    c = pd.DataFrame({"group": c["group"], "months": c["time"] / 30.44, "value": c["surv"] * 100,
                      "lower": c["lower"] * 100, "upper": c["upper"] * 100})
    e12 = ended[(ended["months"] == 12) & ended["group"].isin(keep)].dropna(subset=["value"])
    e12 = e12.sort_values("value")
    title = ("Share of Direct Payments ended within a year: " + ", ".join(
        f"{fmt_share(r['value'])} ({r['group']})" for _, r in e12.iterrows()) if len(e12)
        else "Direct Payments still running, by ethnic group")
    fig = style.km_chart(c, time="months", group="group", title=title,
                         subtitle=f"Kaplan-Meier estimate of the share still running, Direct "
                                  f"Payments started {_period(res)}, {_place(res)}; ending "
                                  "includes moving to council-managed support; shaded: 95% CI.",
                         xlabel="Months since the Direct Payment started",
                         ylabel="% still receiving the Direct Payment")
    style.show(fig, "Step chart of the share of Direct Payments still running by months since "
               "start, by ethnic group. Share ended within 12 months: " + "; ".join(
                   f"{r['group']} {findings.fmt_percent(r['value'], r['lower'], r['upper'])}"
                   for _, r in e12.iterrows()) + ".")


def show_ended(res: Uptake) -> None:
    """Table: share of DPs ended within 3, 6 and 12 months by group, with CIs."""
    if res.continuation is None:
        style.say("No Direct Payments started in this period.")
        return
    e = res.continuation[1].dropna(subset=["value"])
    ended = (e["value"] * e["n"]).round().astype(int)
    t = pd.DataFrame({"group": e["group"], "months": e["months"], "started": e["n"],
                      "ended": ended, "running": e["n"] - ended, "ended_share": e["value"],
                      "lower": e["lower"], "upper": e["upper"]})
    _table(t, ["ended", "running"], res.params["min_cell"], total_col="started",
           rate_cols={c: ("ended", "started") for c in ("ended_share", "lower", "upper")},
           caption="Share of Direct Payments ended within 3, 6 and 12 months of starting "
                   "(Kaplan-Meier; 'ended' is the share times the number started)")


def show_mix(res: Uptake, column: str) -> None:
    """Who manages the DP (dp_managed_by) or what it buys (dp_used_for), by group."""
    t = res.managed_by if column == "dp_managed_by" else res.used_for
    what = "who manages it" if column == "dp_managed_by" else "what it pays for"
    if t is None:
        style.say(f"The data have no {column} field, so {what} cannot be shown.")
        return
    t = t.rename(columns={res.group_col: "group"})
    _table(t, [c for c in t.columns if c != "group"], res.params["min_cell"],
           caption=f"People with a Direct Payment by ethnic group and {what}")


def show_plan_size(res: Uptake, column: str) -> None:
    """Ratio of typical weekly budget or planned hours to the reference group at the same need."""
    what = "weekly budget" if column == "weekly_budget" else "number of planned hours"
    if column not in res.snap:
        style.say(f"The data have no {column} field, so the size of support plans cannot be "
                  "compared.")
        return
    _ratio_chart(res, res.budget if column == "weekly_budget" else res.hours, what,
                 f"Ratio of geometric mean {what} to {res.reference} people, same age band, "
                 f"gender and support reason, {_place(res)}, {_when(res)}; 95% CIs.", "smaller")


def show_carer(res: Uptake) -> None:
    """Share with an unpaid carer recorded, by group and DP status."""
    if res.carer is None:
        style.say("The data have no has_unpaid_carer field, so whether people have an unpaid carer "
                  "cannot be shown.")
        return
    d = res.carer[res.carer[res.group_col] != NOT_STATED]
    d = d.assign(label=d[res.group_col] + ": " + d["dp_status"])

    def title(shown: pd.DataFrame) -> str:
        lo, hi = shown.sort_values("value").iloc[[0, -1]].itertuples()
        return (f"An unpaid carer is recorded for {fmt_share(lo.value)} ({lo.label}) to "
                f"{fmt_share(hi.value)} ({hi.label}) of people")
    _share_chart(res, d, "label", title, "Share with an unpaid carer recorded, by ethnic group "
                 "and Direct Payment status", x="carer", xlabel="% with an unpaid carer recorded",
                 ylabel="Ethnic group and Direct Payment status")


def _funnel_limits(limits: pd.DataFrame) -> pd.DataFrame:
    """stats.funnel_limits' long rows as the wide percent columns style.funnel_chart reads."""
    wide = limits.pivot_table(index="population", columns="conf", values=["lower", "upper"])
    lo, hi = min(limits["conf"]), max(limits["conf"])
    return pd.DataFrame({"population": wide.index,
                         "lower_2s_limit": wide[("lower", lo)].to_numpy() * 100,
                         "upper_2s_limit": wide[("upper", lo)].to_numpy() * 100,
                         "lower_3s_limit": wide[("lower", hi)].to_numpy() * 100,
                         "upper_3s_limit": wide[("upper", hi)].to_numpy() * 100,
                         "baseline": limits["baseline"].iloc[0] * 100})


def show_funnel(res: Uptake) -> None:
    """Funnel plot of DP share by area with 95% and 99.8% limits."""
    if res.areas is None:
        style.say("The data have no area_code (and one council), so areas cannot be compared.")
        return
    units, limits = res.areas
    d, hidden = _shown(units, "dp", "people", res.params["min_cell"])
    kind = "councils" if res.la_code == "all" else "areas"
    hi = int(d["position"].str.startswith("higher").sum())
    lo = int(d["position"].str.startswith("lower").sum())
    n998 = int(d["position"].str.contains("99.8").sum())
    parts = [f"{k} {'has' if k == 1 else 'have'} a {side} share" for k, side in
             ((lo, "lower"), (hi, "higher")) if k]
    title = (f"Of {len(d)} {kind}, {' and '.join(parts)} of Direct Payments than the overall "
             f"{fmt_share(limits['baseline'].iloc[0])}, more than chance would explain" if parts
             else f"No {kind[:-1]} differs from the overall Direct Payment share by more than "
             "chance would explain")
    fig = style.funnel_chart(
        d.assign(value=d["value"] * 100), _funnel_limits(limits), x="people", y="value",
        label="area", max_labels=MAX_FUNNEL_LABELS, unit_name=kind, title=title,
        subtitle=f"Share of adults on community long-term support with a Direct Payment, by "
                 f"{kind[:-1]}, {_place(res)}, {_when(res)}; dashed 95% and dotted 99.8% limits"
                 + (f"; {hidden} small {kind} not shown" if hidden else "")
                 + (f"; the table below lists the {lo + hi} outside the 95% limits" if lo + hi
                    else "") + ".",
        xlabel=f"Adults on community long-term support in the {kind[:-1]}",
        ylabel="% with a Direct Payment")
    style.show(fig, f"Funnel plot: Direct Payment share for {len(d)} {kind} against their size, "
               f"with 95% and 99.8% limits around the overall share of "
               f"{fmt_share(limits['baseline'].iloc[0])}; {lo + hi} of them outside the 95% limits "
               f"and {n998} outside the 99.8% limits.")


def show_areas_outside(res: Uptake) -> None:
    """Table of areas outside the funnel limits."""
    if res.areas is None:
        style.say("No area comparison is possible.")
        return
    u = res.areas[0]
    u = u[u["position"] != "within"][["area", "people", "dp", "value", "position"]]
    if u.empty:
        style.say("No area lies outside the 95% limits.")
        return
    _table(_with_without(u.rename(columns={"value": "share"})), ["dp", "no_dp"],
           res.params["min_cell"], total_col="people", rate_cols={"share": ("dp", "people")},
           caption="Areas whose Direct Payment share lies outside the funnel limits")


def show_trend(res: Uptake, measure: str = "uptake") -> None:
    """Quarterly DP share ('uptake') or new DP starts per 1,000 ('new_starts') by group."""
    t = res.trend
    if t.empty or measure not in set(t.get("measure", [])):
        style.say("There is no data for the trend period.")
        return
    t = t[(t["measure"] == measure) & (t[res.group_col] != NOT_STATED)]
    size = t.groupby(res.group_col)["people"].min()
    keep = size[size >= max(10 * res.params["min_cell"], 20)].index[:len(style.PALETTE)]
    t = t[t[res.group_col].isin(keep)]
    if t.empty:
        style.say("Too few people per group for a quarterly trend.")
        return
    k = res.params["min_cell"]  # a share also gives away how many do not have a DP
    small = (~disclosure.share_shown(t["dp"], t["people"], k) if measure == "uptake"
             else disclosure.small(t["starts"], k))
    scale = 100 if measure == "uptake" else 1
    t = t.assign(**{c: t[c].where(~small) * scale for c in ("value", "lower", "upper")})
    first, last = t["quarter"].min(), t["quarter"].max()
    change = t[t["quarter"].isin([first, last])].pivot_table(
        index=res.group_col, columns="quarter", values="value")
    what = "Direct Payment uptake" if measure == "uptake" else "New Direct Payment starts"
    ref = res.reference if res.reference in change.index else None
    if ref and len(change) > 1 and first in change and last in change:
        gap = change.sub(change.loc[ref]).drop(index=ref).dropna()
        closing = gap[last].abs() < gap[first].abs()
        title = (f"{what}: the gap to {ref} people narrowed for "
                 f"{_list(closing[closing].index[:3].tolist())} people" if closing.any()
                 else f"{what}: no group's gap to {ref} people narrowed")
    else:
        title = f"{what} by quarter"
    fig = style.line_chart(
        t, "quarter", "value", lower="lower", upper="upper", group=res.group_col, title=title,
        subtitle=(("Share of adults on community long-term support with a Direct Payment, %"
                   if measure == "uptake" else "New Direct Payments per 1,000 adults on "
                   "community long-term support")
                  + f", {_place(res)}, quarters ending {first:%b %Y} to {last:%b %Y}; shaded: "
                  "95% CI" + ("; points from fewer than "
                              f"{res.params['min_cell']} people not shown." if small.any()
                              else ".")),
        xlabel="Quarter ending",
        ylabel="% with a Direct Payment" if measure == "uptake" else "Starts per 1,000")
    unit = "%" if measure == "uptake" else " per 1,000"
    ends = change.dropna()
    style.show(fig, f"Line chart of {what} by ethnic group, quarters ending {first:%b %Y} to "
               f"{last:%b %Y}" + (": " + "; ".join(
                   f"{g} from {v[first]:.1f}{unit} to {v[last]:.1f}{unit}"
                   for g, v in ends.iterrows()) if len(ends) else "") + ".")


def show_methods(res: Uptake) -> None:
    """Methods and caveats, in plain words."""
    style.say(f"""**Definitions.** People counted are adults (18+ on the snapshot date) with an
ongoing long-term support episode of type "Long Term Support: Community" on {_when(res)}.
A person has a Direct Payment when the delivery mechanism is "Direct Payment only" or
"Part Direct Payment", as
ASCOF measure 1C(2A) counts them. Ethnic groups are the ONS 2021 groups (5 broad, 19 detailed);
Not stated is shown, never merged into another group, and no groups are combined into one
"non-White" category.

**Intervals.** Shares use Wilson score intervals; standardised ratios use Byar's method (exact
below 10); odds ratios are Wald intervals from a binomial model fitted on counts by ethnic group x
language x interpreter need x age band x gender x support reason{', with a term per council'
if res.la_code == 'all' else ''}; medians and continuation come from Kaplan-Meier estimates;
set-up time, budget and hours ratios are ratios of geometric means from a regression on the log
scale with age band, gender and support reason.

**What standardisation does and does not do.** It compares people of the same age band, gender
and primary support reason. It cannot adjust for need not recorded in these fields, for family
care, for differences in how needs are assessed, or for people who never reach social care. A
gap that remains is a question for practice, not proof of discrimination.

**Disclosure control.** Counts of 1 to {res.params['min_cell'] - 1} and figures from which they
could be worked out are shown as [c]; charts leave out groups and points with such counts. No
person-level row is shown.""")


def record(res: Uptake, path: str | Path = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(res), notebook="01_uptake", parameters=res.params, path=path)
    findings.write_key_findings(key_findings(res), out.parent / "key_findings.md")
    return out
