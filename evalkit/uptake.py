"""Who gets a Direct Payment, and who does not: the analyses behind notebook 01_uptake.

Pure functions compute tidy frames from a loaded Dataset; `analyse` runs them all once and
the `show_*` functions display one chart or one disclosure-controlled table each, with a
title and alt text written from the numbers. Definitions follow ASCOF 1C(2A): people with an
ongoing community long-term support episode at the snapshot date, aged 18+, with a DP when the
delivery mechanism is "Direct Payment only" or "Part Direct Payment".
"""

from __future__ import annotations

import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from IPython.display import Markdown, display
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from evalkit import stats
from evalkit.data import codes
from evalkit.methods import survival
from evalkit.report import record as rec
from evalkit.report import style

COMMUNITY = "Long Term Support: Community"
NOT_STATED = "Not stated"
NOT_RECORDED = "Not recorded"
OTHER_LANGUAGE = "Other language"
ENGLISH = "English"
GROUP_COLUMNS = {"broad": "ethnic_group_broad", "detailed": "ethnic_group"}
NEED = ["age_band", "gender", "primary_support_reason"]
MIN_SPEAKERS = 5
ENDED_BY_DAYS = {91: 3, 183: 6, 365: 12}  # days -> months for "share ended within"


# ---------------------------------------------------------------- the snapshot
def snapshot(episodes: pd.DataFrame, at: pd.Timestamp | str, *,
             la_code: str | None = None) -> pd.DataFrame:
    """One row per adult with ongoing community long-term support on `at` (never shown).

    Ongoing means start_date <= at and end_date empty or after `at`. A person with several ongoing
    community episodes counts once, with a DP if any of them is a DP, other fields from the latest.
    Adds age_band at `at`; drops people under 18. `la_code` None or "all" keeps every council.
    """
    at = pd.Timestamp(at)
    ep = episodes if la_code in (None, "all") else episodes[episodes["la_code"] == la_code]
    on = ep[(ep["service_type"] == COMMUNITY) & (ep["start_date"] <= at)
            & (ep["end_date"].isna() | (ep["end_date"] > at))]
    on = on.sort_values("start_date", kind="stable")
    dp = on["has_dp"].fillna(False).astype(bool).groupby(on["person_id"], sort=False).any()
    people = on.drop_duplicates("person_id", keep="last").set_index("person_id")
    people = people.assign(has_dp=dp.reindex(people.index).astype(bool),
                           age_band=codes.age_band(people["birth_date"], at).to_numpy())
    return people[people["age_band"] != "Under 18"].reset_index()


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
def _drop_separated(cells: pd.DataFrame,
                    factors: list[str]) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Remove levels in which nobody or everybody has a DP (their odds ratio is infinite).

    Their cells then fit perfectly and carry no information about the other terms, so dropping
    them gives the same estimates as the maximum-likelihood limit. Returns (factor, level, note).
    """
    notes: list[tuple[str, str, str]] = []
    while True:
        dropped = False
        for f in factors:
            tot = cells.groupby(f, observed=True)[["dp", "people"]].sum()
            bad = tot.index[(tot["dp"] == 0) | (tot["dp"] == tot["people"])]
            if len(bad) and len(tot) > 1:
                for lvl in bad:
                    who = "nobody" if tot.loc[lvl, "dp"] == 0 else "everybody"
                    notes.append((f, str(lvl), f"{who} in this group has a DP, so no odds ratio "
                                  "can be estimated"))
                cells = cells[~cells[f].isin(bad)]
                dropped = True
        if not dropped:
            return cells, notes


def odds_ratios(cells: pd.DataFrame, factors: list[str], references: dict[str, str],
                conf: float = 0.95) -> pd.DataFrame:
    """Adjusted odds ratios of having a DP from a binomial GLM on aggregated cells.

    `cells` has one row per combination of `factors` with `people` and `dp`. Each factor enters
    as treatment-coded dummies against `references[factor]` (default: its largest level).
    Returns one row per non-reference level: factor, group, reference, value (odds ratio),
    lower, upper (Wald, log scale), conf, p_value, people, dp, note. Factors with one level are
    left out; levels with no variation in DP are reported with a note and no estimate.
    """
    cells, notes = _drop_separated(cells, factors)
    used = [f for f in factors if cells[f].nunique() > 1]
    refs = {f: references.get(f) if references.get(f) in set(cells[f])
            else cells.groupby(f)["people"].sum().idxmax() for f in used}
    design = [pd.get_dummies(cells[f].astype(str), prefix=f, prefix_sep="\x1f", dtype=float)
              .drop(columns=f"{f}\x1f{refs[f]}") for f in used]
    X = sm.add_constant(pd.concat(design, axis=1) if design else
                        pd.DataFrame(index=cells.index), has_constant="add")
    y = np.column_stack([cells["dp"], cells["people"] - cells["dp"]]).astype(float)
    with warnings.catch_warnings():
        # a saturated cell model fits every cell exactly: statsmodels calls that "separation"
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    ci = fit.conf_int(alpha=1 - conf)
    rows = []
    for term in X.columns.drop("const"):
        f, lvl = term.split("\x1f")
        sub = cells[cells[f].astype(str) == lvl]
        rows.append({"factor": f, "group": lvl, "reference": refs[f],
                     "value": np.exp(fit.params[term]), "lower": np.exp(ci.loc[term, 0]),
                     "upper": np.exp(ci.loc[term, 1]), "conf": conf,
                     "p_value": fit.pvalues[term], "people": int(sub["people"].sum()),
                     "dp": int(sub["dp"].sum()), "note": ""})
    for f, lvl, note in notes:
        rows.append({"factor": f, "group": lvl, "reference": refs.get(f, ""),
                     "value": np.nan, "lower": np.nan, "upper": np.nan, "conf": conf,
                     "p_value": np.nan, "people": np.nan, "dp": np.nan, "note": note})
    cols = ["factor", "group", "reference", "value", "lower", "upper", "conf", "p_value",
            "people", "dp", "note"]
    return pd.DataFrame(rows, columns=cols)


def adjusted_odds_ratios(snap: pd.DataFrame, group_col: str, reference_group: str,
                         conf: float = 0.95, min_speakers: int = MIN_SPEAKERS) -> pd.DataFrame:
    """Odds ratios for ethnic group, language and interpreter need at the same age, gender and need.

    Aggregates the snapshot to cells first, so the fit costs the same at national scale.
    """
    frame, factors = model_frame(snap, group_col, min_speakers)
    cells = counts(frame, factors)
    refs = {"group": choose_reference(frame["group"], reference_group),
            "language": ENGLISH, "interpreter": "no"}
    return odds_ratios(cells, factors, refs, conf)


# ---------------------------------------------------------------- denominators and sensitivity
def adult_population(population: pd.DataFrame, group_col: str,
                     la_code: str | None = None) -> pd.DataFrame:
    """Adults (18+) in the population table by `group_col` (broad or detailed labels)."""
    pop = population if la_code in (None, "all") else population[population["la_code"] == la_code]
    adults = pop["population"] * adult_fraction(pop["age_band"])
    groups = codes.ethnic_group_any_level(pop["ethnic_group"].astype(str))
    if group_col == GROUP_COLUMNS["broad"]:
        groups = codes.ethnic_group_broad(groups)
    out = pd.DataFrame({group_col: groups, "population": adults}).dropna(subset=[group_col])
    out = out.groupby(group_col, as_index=False)["population"].sum()
    return out.assign(population=out["population"].round().astype(int))


def adult_fraction(age_band: pd.Series) -> pd.Series:
    """Share of each age band aged 18+, assuming even ages within a band ("15-19" -> 0.4).

    Handles ASCOF bands ("Under 18", "18-64", "85+") and five-year bands ("0-4", "90+").
    """
    band = age_band.astype(str).str.strip()
    lo = pd.to_numeric(band.str.extract(r"^(\d+)")[0], errors="coerce")
    hi = pd.to_numeric(band.str.extract(r"^\d+\s*-\s*(\d+)")[0], errors="coerce")
    frac = ((hi - 17) / (hi - lo + 1)).clip(0, 1).where(hi.notna(), (lo >= 18).astype(float))
    return frac.where(~band.str.lower().str.startswith("under"), 0.0).fillna(0.0)


def population_uptake(snap: pd.DataFrame, population: pd.DataFrame, group_col: str,
                      la_code: str | None = None, conf: float = 0.95) -> pd.DataFrame:
    """People with a DP per adult of the group in the population (Wilson CI)."""
    dp = counts(snap, group_col)[[group_col, "dp"]]
    pop = adult_population(population, group_col, la_code)
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
    return stats.isr(cells, "x", "n", "x_ref", "n_ref", by=group_col, conf=conf)


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


def dp_start_dates(episodes: pd.DataFrame) -> pd.Series:
    """When each DP episode's payments began: dp_first_payment_date, else start_date."""
    start = episodes["start_date"]
    if "dp_first_payment_date" in episodes:
        start = episodes["dp_first_payment_date"].fillna(start)
    return start


def trend(episodes: pd.DataFrame, group_col: str, period_end: pd.Timestamp | str,
          lookback: int, *, la_code: str | None = None, conf: float = 0.95) -> pd.DataFrame:
    """Quarterly DP share (snapshot at each quarter end) and new DP starts per 1,000 people.

    One row per quarter x group x measure ('uptake' with Wilson CI; 'new_starts' = community DP
    episodes starting in the quarter per 1,000 people on community support at its end, Byar/exact).
    """
    ep = episodes if la_code in (None, "all") else episodes[episodes["la_code"] == la_code]
    dp_ep = ep[(ep["service_type"] == COMMUNITY) & ep["has_dp"].fillna(False).astype(bool)]
    dp_ep = dp_ep.assign(dp_start=dp_start_dates(dp_ep))
    frames = []
    for q in quarter_ends(period_end, lookback):
        snap = snapshot(ep, q)
        if snap.empty:
            continue
        c = counts(snap, group_col)
        new = dp_ep[(dp_ep["dp_start"] > q - pd.DateOffset(months=3)) & (dp_ep["dp_start"] <= q)]
        new = new.drop_duplicates("person_id").groupby(group_col).size().rename("starts")
        c = c.merge(new, left_on=group_col, right_index=True, how="left").fillna({"starts": 0})
        c = c.astype({"starts": int})
        up = stats.proportion(c, "dp", "people", by=group_col, conf=conf)
        st = stats.rate(c, "starts", "people", by=group_col, conf=conf, multiplier=1000)
        frames += [up.assign(measure="uptake", quarter=q),
                   st.assign(measure="new_starts", quarter=q)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
    the same age band, gender and support reason (OLS on the log; positive values only).

    None when the column is absent or too few values; else one row per non-reference group with
    value, lower, upper, conf, p_value, people.
    """
    if column not in snap:
        return None
    d = snap[pd.to_numeric(snap[column], errors="coerce") > 0].copy()
    d["y"] = np.log(d[column].astype(float))
    d["group"] = d[group_col].astype(str)
    d = d[d["group"] != NOT_STATED]
    if d["group"].nunique() < 2 or reference not in set(d["group"]):
        return None
    factors = ["group", *[f for f in NEED if d[f].nunique() > 1]]
    X = pd.concat([pd.get_dummies(d[f].astype(str), prefix=f, prefix_sep="\x1f", dtype=float)
                   .drop(columns=f"{f}\x1f{reference if f == 'group' else d[f].mode()[0]}")
                   for f in factors], axis=1)
    X = sm.add_constant(X, has_constant="add")
    if len(d) <= X.shape[1] + 1:
        return None
    fit = sm.OLS(d["y"].to_numpy(), X).fit()
    ci = fit.conf_int(alpha=1 - conf)
    terms = [t for t in X.columns if t.startswith("group\x1f")]
    sizes = d["group"].value_counts()
    return pd.DataFrame({
        group_col: [t.split("\x1f")[1] for t in terms], "reference": reference,
        "measure": column, "value": np.exp(fit.params[terms]).to_numpy(),
        "lower": np.exp(ci.loc[terms, 0]).to_numpy(), "upper": np.exp(ci.loc[terms, 1]).to_numpy(),
        "conf": conf, "p_value": fit.pvalues[terms].to_numpy(),
        "people": [int(sizes[t.split("\x1f")[1]]) for t in terms]})


def carer_recorded(snap: pd.DataFrame, group_col: str, conf: float = 0.95) -> pd.DataFrame | None:
    """Share with an unpaid carer recorded, by group and DP status (Wilson); None if absent."""
    if "has_unpaid_carer" not in snap:
        return None
    d = snap[snap["has_unpaid_carer"].notna()]
    d = d.assign(carer=d["has_unpaid_carer"].astype(bool),
                 dp_status=np.where(d["has_dp"], "With a DP", "Without a DP"))
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
    continuation: tuple[pd.DataFrame, pd.DataFrame] | None
    managed_by: pd.DataFrame | None
    used_for: pd.DataFrame | None
    budget: pd.DataFrame | None
    hours: pd.DataFrame | None
    carer: pd.DataFrame | None


def resolve_la(episodes: pd.DataFrame, la_code: str | None) -> str:
    """The council to analyse: as given, the only one in the data, or 'all'."""
    councils = sorted(episodes["la_code"].dropna().unique())
    if la_code in (None, ""):
        return councils[0] if len(councils) == 1 else "all"
    if la_code != "all" and la_code not in councils:
        raise ValueError(f"uptake: la_code {la_code!r} is not in the data; councils found: "
                         f"{councils[:10]}{' ...' if len(councils) > 10 else ''}")
    return la_code


def default_period_end(episodes: pd.DataFrame) -> pd.Timestamp:
    """The quarter end on or after the latest start or end date in the episodes."""
    last = max(episodes["start_date"].max(), episodes["end_date"].max())
    return pd.Timestamp(last).to_period("Q").end_time.normalize()


def analyse(data, *, la_code: str | None = None, period_end: str | None = None,
            lookback: int = 12, group_level: str = "broad", reference_group: str = "White",
            min_cell: int = 5, conf: float = 0.95) -> Uptake:
    """Run every uptake analysis on a loaded Dataset (see the module docstring)."""
    ep = data.support_episodes
    la = resolve_la(ep, la_code)
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
        odds=odds,
        odds_display=(odds if gcol == broad or not len(snap)
                      else adjusted_odds_ratios(snap, gcol, ref, conf)),
        offers=offer_rates(snap, gcol, conf), offers_broad=offer_rates(snap, broad, conf),
        missing=missing_counts(snap), bounds=not_stated_bounds(snap, gcol, conf),
        trend=trend(ep, gcol, end, lookback, conf=conf),
        areas=areas(snap, conf) if len(snap) else None,
        intersection=intersectional(snap, gcol), setup=setup_time(ep, gcol, end, since, conf),
        continuation=continuation(ep, gcol, end, since, conf),
        managed_by=mix(snap, gcol, "dp_managed_by"), used_for=mix(snap, gcol, "dp_used_for"),
        budget=plan_size_ratio(snap, gcol, "weekly_budget", ref, conf),
        hours=plan_size_ratio(snap, gcol, "planned_hours", ref, conf),
        carer=carer_recorded(snap, gcol, conf))


def _empty_odds() -> pd.DataFrame:
    """An odds-ratio frame with no rows (no one in the snapshot)."""
    return pd.DataFrame(columns=["factor", "group", "reference", "value", "lower", "upper",
                                 "conf", "p_value", "people", "dp", "note"])


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
    out = pd.concat(rows, ignore_index=True)
    return out[out["group"].astype(str) != ""]


# ---------------------------------------------------------------- words
def _pct(v: float) -> str:
    return f"{100 * v:.0f}%" if np.isfinite(v) else "n/a"


def _num(v: float) -> str:
    return f"{v:.2f}" if np.isfinite(v) else "n/a"


def _people(name: str) -> str:
    """'Asian people', 'people in the Mixed or Multiple ethnic groups: ... group'."""
    return f"{name} people" if name in codes.BROAD_GROUPS else f"people in the {name} group"


def _when(res: Uptake) -> str:
    return f"{res.period_end:%-d %B %Y}"


def _place(res: Uptake) -> str:
    return "all councils in the data" if res.la_code == "all" else res.la_code


def _small(people: float, min_cell: int) -> bool:
    """Too few people to estimate a group's gap usefully (or to show it)."""
    return not np.isfinite(people) or people < max(10 * min_cell, 50)


def odds_sentence(row: pd.Series, min_cell: int, who: str | None = None,
                  ref_who: str | None = None,
                  what: str = "the same age, gender and support need") -> str:
    """One plain-English sentence for an adjusted odds ratio row (group vs reference)."""
    who = who or _people(row["group"])
    ref_who = ref_who or _people(row["reference"])
    n = row["people"]
    if not np.isfinite(row["value"]) or _small(n, min_cell):
        return (f"There were too few {who} receiving community support to say whether their "
                f"chance of a Direct Payment differs from that of {ref_who}.")
    ci = f"(95% CI {_num(row['lower'])} to {_num(row['upper'])}; {int(n):,} people)"
    if row["upper"] < 1 or row["lower"] > 1:
        side = "lower" if row["upper"] < 1 else "higher"
        return (f"{who[0].upper()}{who[1:]} had {side} odds of taking a Direct Payment than "
                f"{ref_who} of {what}: an odds ratio of {_num(row['value'])} {ci}.")
    return (f"The data cannot tell whether {who} differ from {ref_who} of {what} in taking a "
            f"Direct Payment: odds ratio {_num(row['value'])} {ci}.")


def _speakers(language: str) -> str:
    return f"people whose preferred language is {language}"


def key_findings(res: Uptake) -> list[str]:
    """3 to 6 sentences from the estimates, each with its uncertainty and denominator."""
    o = res.overall.iloc[0]
    if not len(res.snap):
        return [f"No adult was receiving long-term community support in {_place(res)} on "
                f"{_when(res)}, so there is nothing to report."]
    out = [f"On {_when(res)}, {_pct(o['value'])} (95% CI {_pct(o['lower'])} to "
           f"{_pct(o['upper'])}) of the {int(o['people']):,} adults receiving long-term support "
           f"in the community in {_place(res)} had a Direct Payment."]
    groups = res.odds[res.odds["factor"] == "group"]
    groups = groups[groups["group"] != NOT_STATED]
    if groups.empty:
        out.append("Only one ethnic group has enough recorded people here, so uptake cannot be "
                   "compared between groups.")
    out += [odds_sentence(r, res.params["min_cell"]) for _, r in groups.iterrows()][:3]
    lang = res.odds[(res.odds["factor"] == "language")
                    & ~res.odds["group"].isin([NOT_RECORDED, OTHER_LANGUAGE])
                    & (res.odds["upper"] < 1)]
    if len(lang):
        r = lang.sort_values("value").iloc[0]
        out.append(odds_sentence(r, res.params["min_cell"], _speakers(r["group"]),
                                 _speakers(r["reference"]),
                                 "the same ethnic group, age, gender and support need"))
    if res.offers is not None and len(out) < 6:
        off = res.offers[res.offers["measure"] == "offered"]
        if len(off) and off["recorded"].sum() > 0:
            low = off.sort_values("value").iloc[0]
            out.append(f"The lowest recorded Direct Payment offer rate was among "
                       f"{_people(low[res.group_col])}: {_pct(low['value'])} (95% CI "
                       f"{_pct(low['lower'])} to {_pct(low['upper'])}) of "
                       f"{int(low['recorded']):,} people with an offer recorded.")
    return out[:6]


# ---------------------------------------------------------------- display (one call per cell)
def _say(text: str) -> None:
    """Display one Markdown statement (used instead of a chart when there is nothing to show)."""
    display(Markdown(text))


def _table(df: pd.DataFrame, count_cols: list[str], min_cell: int,
           rate_cols: dict[str, tuple[str, str]] | None = None, caption: str = "") -> None:
    """Show a table through style.table (disclosure control); rate columns shown as percent."""
    if df.empty or not count_cols:
        _say(f"{caption or 'This table'}: no one to show.")
        return
    rates = rate_cols or {}
    shown = df.assign(**{c: df[c].astype(float) * 100 for c in rates})
    style.table(shown, count_cols=count_cols, rate_cols=rates or None, threshold=min_cell,
                caption=caption, labels={c: f"{c.replace('_', ' ')} (%)" for c in rates},
                decimals=1)


def _shown(df: pd.DataFrame, x: str, n: str, min_cell: int) -> tuple[pd.DataFrame, int]:
    """Rows safe to chart: numerator and denominator 0 or >= min_cell; and how many were hidden."""
    ok = ~(df[x].between(1, min_cell - 1) | df[n].between(1, min_cell - 1)
           | (df[n] - df[x]).between(1, min_cell - 1)) & df["value"].notna()
    return df[ok], int((~ok).sum())


def _ci_chart(df: pd.DataFrame, label: str, title: str, subtitle: str, xlabel: str, *,
              ref: float | None = None, ref_label: str = "", pct: bool = True,
              hidden: int = 0, min_cell: int = 5) -> plt.Figure:
    """style.ci_chart of value/lower/upper sorted by value (x100 when `pct`)."""
    k = 100 if pct else 1
    d = df.sort_values("value", ascending=False)
    d = pd.DataFrame({"label": [textwrap.shorten(str(v), 60) for v in d[label]],
                      "value": d["value"] * k,
                      "lower": np.fmin(d["lower"], d["value"]) * k,  # Wilson at 0 dips by 1e-17
                      "upper": np.fmax(d["upper"], d["value"]) * k})
    note = f" {hidden} group(s) not shown: fewer than {min_cell} people." if hidden else ""
    return style.ci_chart(d, "label", "value", "lower", "upper",
                          reference_line=ref * k if ref is not None and np.isfinite(ref) else None,
                          reference_label=ref_label or None, title=title,
                          subtitle=subtitle + note, xlabel=xlabel)


def _share_chart(res: Uptake, df: pd.DataFrame, label: str, title: str, what: str,
                 x: str = "dp", n: str = "people", xlabel: str = "% with a Direct Payment",
                 ref: float | None = None, ref_label: str = "") -> None:
    """Chart a frame of shares (Wilson CIs) with disclosure control and generated alt text."""
    min_cell = res.params["min_cell"]
    d, hidden = _shown(df, x, n, min_cell)
    if d.empty:
        _say(f"No group has enough people to show {what} without risking disclosure.")
        return
    sub = f"{what}, {_place(res)}, {_when(res)}, with 95% confidence intervals."
    fig = _ci_chart(d, label, title, sub, xlabel, ref=ref, ref_label=ref_label, hidden=hidden,
                    min_cell=min_cell)
    alt = (f"Dot chart: {what}. " + "; ".join(
        f"{r[label]} {_pct(r['value'])} ({_pct(r['lower'])} to {_pct(r['upper'])})"
        for _, r in d.iterrows()) + ".")
    style.show(fig, alt)


def _gap_title(df: pd.DataFrame, label: str, reference: str, measure: str) -> str:
    """A finding title: which groups' intervals lie wholly below (or above) the reference's."""
    ref = df[df[label] == reference]
    if ref.empty or len(df) < 2:
        return f"{measure} by group"
    r = ref.iloc[0]
    below = df[(df["upper"] < r["lower"]) & (df[label] != reference)][label].tolist()
    above = df[(df["lower"] > r["upper"]) & (df[label] != reference)][label].tolist()
    if below:
        return f"{measure} is lower for {', '.join(map(str, below[:3]))} than for {reference}"
    if above:
        return f"{measure} is higher for {', '.join(map(str, above[:3]))} than for {reference}"
    return f"{measure}: no group clearly differs from {reference}"


def show_key_findings(res: Uptake) -> None:
    """Key findings as a bullet list."""
    _say("\n".join(f"- {s}" for s in key_findings(res)))


def show_quality(res: Uptake) -> None:
    """The data-quality table: rows read, kept and excluded by reason."""
    q = res.quality.groupby(["table", "reason"], as_index=False)["rows"].sum()
    _table(q, ["rows"], res.params["min_cell"], caption="Rows read, kept and excluded by reason")


def show_coverage(res: Uptake) -> None:
    """Period covered, who is in the snapshot, and the warnings from loading."""
    ep = res.episodes
    if ep.empty:
        _say(f"There are no support episodes for {_place(res)}.")
        return
    text = (f"Support episodes run from {ep['start_date'].min():%-d %B %Y} to "
            f"{_when(res)} (the snapshot date) for {_place(res)}. The snapshot holds "
            f"{len(res.snap):,} adults receiving long-term support in the community.")
    _say(text + "".join(f"\n\n_Note: {w}_" for w in res.warnings))


def show_missing(res: Uptake) -> None:
    """People with ethnicity Not stated or language / interpreter need Not recorded."""
    _table(res.missing, ["people", "total"], res.params["min_cell"],
           rate_cols=None, caption="People whose ethnicity or language is not recorded")


def show_sensitivity(res: Uptake) -> None:
    """Each group's DP share as recorded and if all 'Not stated' people were in it."""
    b = res.bounds
    ns = int(b["not_stated_people"].iloc[0]) if len(b) else 0
    if ns == 0:
        _say("Everyone in the snapshot has a recorded ethnicity, so no bounds are needed.")
        return
    t = b[[res.group_col, "people", "dp", "share_recorded", "share_if_all_not_stated"]]
    t = t.rename(columns={res.group_col: "group"})
    _table(t, ["people", "dp"], res.params["min_cell"],
           rate_cols={"share_recorded": ("dp", "people"),
                      "share_if_all_not_stated": ("dp", "people")},
           caption=f"DP share if none or all of the {ns:,} people with ethnicity Not stated "
                   "belonged to each group")


def show_uptake(res: Uptake) -> None:
    """Share with a DP by group, against community long-term support users (Wilson CIs)."""
    o = res.overall.iloc[0] if len(res.overall) else None
    df = res.by_group[res.by_group[res.group_col] != NOT_STATED]
    if df.empty:
        _say("No one with a recorded ethnic group is in the snapshot.")
        return
    _share_chart(res, df, res.group_col,
                 _gap_title(df, res.group_col, res.reference, "Direct Payment uptake"),
                 "Share of adults on community long-term support with a Direct Payment",
                 ref=o["value"] if o is not None else None, ref_label="All")


def show_population_uptake(res: Uptake) -> None:
    """People with a DP per adult of the group in the population."""
    if res.by_population is None or res.by_population.empty:
        _say("There is no population table for this area, so uptake per adult resident cannot "
             "be shown.")
        return
    d, hidden = _shown(res.by_population, "dp", "population", res.params["min_cell"])
    d = d[d[res.group_col] != NOT_STATED]
    if d.empty:
        _say("No group has enough people to show uptake per adult resident.")
        return
    k = 1000
    fig = _ci_chart(d.assign(**{c: d[c] * k for c in ("value", "lower", "upper")}),
                    res.group_col, _gap_title(d, res.group_col, res.reference,
                                              "Direct Payments per adult resident"),
                    f"People with a Direct Payment per 1,000 adults of the group living in "
                    f"{_place(res)}, {_when(res)}, 95% CIs.", "Per 1,000 adults", pct=False,
                    hidden=hidden, min_cell=res.params["min_cell"])
    style.show(fig, "Dot chart of people with a Direct Payment per 1,000 adults: " + "; ".join(
        f"{r[res.group_col]} {r['value'] * k:.1f} ({r['lower'] * k:.1f} to {r['upper'] * k:.1f})"
        for _, r in d.iterrows()) + ".")


def show_language(res: Uptake) -> None:
    """Share with a DP by preferred language (rare languages lumped)."""
    if res.by_language is None:
        _say("The data have no preferred_language field, so communities that ethnic codes "
             "cannot see (for example Somali or Gujarati speakers) cannot be identified. Ask "
             "for preferred language to be recorded.")
        return
    _share_chart(res, res.by_language, "language",
                 _gap_title(res.by_language, "language", ENGLISH, "Direct Payment uptake"),
                 "Share with a Direct Payment by preferred language")


def show_interpreter(res: Uptake) -> None:
    """Share with a DP by interpreter need."""
    if res.by_interpreter is None:
        _say("The data have no interpreter_required field, so uptake by interpreter need "
             "cannot be shown.")
        return
    _share_chart(res, res.by_interpreter, "interpreter",
                 _gap_title(res.by_interpreter, "interpreter", "no", "Direct Payment uptake"),
                 "Share with a Direct Payment by whether an interpreter is needed")


def show_isr(res: Uptake) -> None:
    """Indirectly standardised uptake ratio by group (observed / expected DPs)."""
    df = res.isr
    if df.empty:
        _say("No one is in the snapshot, so no standardised ratio can be computed.")
        return
    d, hidden = _shown(df.assign(people=df["observed"]), "observed", "people",
                       res.params["min_cell"])
    d = d[d[res.group_col] != NOT_STATED]
    if d.empty:
        _say("No group has enough people for a standardised ratio.")
        return
    low = d[d["upper"] < 1][res.group_col].tolist()
    title = (f"Fewer DPs than expected for people of the same age and need: {', '.join(low[:3])}"
             if low else "No group clearly has fewer Direct Payments than expected")
    fig = _ci_chart(d, res.group_col, title,
                    f"Observed / expected Direct Payments given age band, gender and support "
                    f"reason, {_place(res)}, {_when(res)}; 1 = as expected; 95% CIs.",
                    "Standardised uptake ratio", ref=1.0, ref_label="expected", pct=False,
                    hidden=hidden, min_cell=res.params["min_cell"])
    style.show(fig, "Dot chart of standardised uptake ratios: " + "; ".join(
        f"{r[res.group_col]} {_num(r['value'])} ({_num(r['lower'])} to {_num(r['upper'])})"
        for _, r in d.iterrows()) + ".")


def show_odds(res: Uptake) -> None:
    """Adjusted odds ratios (ethnic group, language, interpreter need) from the cell GLM."""
    o = res.odds_display
    o = o[o["factor"].isin(["group", "language", "interpreter"]) & o["value"].notna()
          & (o["people"] >= max(10 * res.params["min_cell"], 50))]
    if o.empty:
        _say("There are too few people in groups other than the reference to estimate "
             "adjusted odds ratios.")
        return
    lab = o["factor"].map({"group": "", "language": "Language: ", "interpreter": "Interpreter: "})
    d = o.assign(label=lab + o["group"] + " vs " + o["reference"])
    low = d[d["upper"] < 1]["label"].tolist()
    title = ("Lower odds of a Direct Payment at the same age and need: "
             + ", ".join(low[:2]) if low else "No group has clearly lower odds of a Direct "
             "Payment at the same age and need")
    fig = _ci_chart(d, "label", textwrap.shorten(title, 110),
                    "Adjusted odds ratios (binomial GLM on aggregated cells: ethnic group, "
                    "language, interpreter need, age band, gender, support reason), 95% CIs.",
                    "Odds ratio (1 = same odds as the reference)", ref=1.0, pct=False)
    style.show(fig, "Dot chart of adjusted odds ratios: " + "; ".join(
        f"{r['label']} {_num(r['value'])} ({_num(r['lower'])} to {_num(r['upper'])})"
        for _, r in d.iterrows()) + ".")


def show_which_measure(res: Uptake) -> None:
    """Which measure to quote, and why."""
    _say("**Which to quote.** Quote the standardised uptake ratio to say how many more or fewer "
         "Direct Payments a group has than expected for its age, gender and support needs: it "
         "is a count-based comparison a commissioner can turn into people. Quote the adjusted "
         "odds ratio to compare two groups with each other while also holding language and "
         "interpreter need equal; it is the measure the planted effects and the key findings "
         "use. When DP uptake is common (over about 20%) an odds ratio is further from 1 than "
         "the ratio of the shares, so do not read an odds ratio of 0.75 as '25% fewer'.")


def show_intersection(res: Uptake) -> None:
    """Group x age band x support reason: people, DPs and share, with suppression."""
    t = res.intersection.rename(columns={res.group_col: "group"})
    if t.empty:
        _say("No one is in the snapshot.")
        return
    _table(t, ["people", "dp"], res.params["min_cell"], rate_cols={"share": ("dp", "people")},
           caption="People and Direct Payment share by group, age band and support reason")


def show_offers(res: Uptake) -> None:
    """Offer rate and acceptance rate by group (where dp_offered is recorded)."""
    if res.offers is None:
        _say("The data have no dp_offered field, so offer and acceptance rates cannot be "
             "shown.")
        return
    g = res.group_col
    off = res.offers[res.offers["measure"] == "offered"]
    acc = res.offers[res.offers["measure"] == "accepted"]
    _share_chart(res, off, g, _gap_title(off, g, res.reference, "The Direct Payment offer rate"),
                 "Share offered a Direct Payment at the last assessment or review",
                 x="offered", n="recorded", xlabel="% offered a Direct Payment")
    _share_chart(res, acc, g, _gap_title(acc, g, res.reference, "Acceptance of an offer"),
                 "Share of those offered who took a Direct Payment", x="accepted", n="offered",
                 xlabel="% of those offered with a Direct Payment")


def show_setup(res: Uptake) -> None:
    """Median days from DP request to first payment by group, with CIs."""
    if res.setup is None:
        _say("The data have no DP request and first-payment dates in this period, so set-up "
             "time cannot be shown.")
        return
    d = res.setup[(res.setup["n"] >= res.params["min_cell"]) & res.setup["value"].notna()]
    if d.empty:
        _say("Too few DP requests to show set-up time.")
        return
    top = d.sort_values("value").iloc[-1]
    fig = _ci_chart(d.assign(lower=d["lower"].fillna(d["value"]),
                             upper=d["upper"].fillna(d["value"])), "group",
                    f"Longest median set-up time: {top['group']} ({top['value']:.0f} days)",
                    f"Median days from DP request to first payment (Kaplan-Meier), requests in "
                    f"the last {res.params['lookback']} quarters, 95% CIs.", "Days", pct=False)
    style.show(fig, "Dot chart of median days from request to first payment: " + "; ".join(
        f"{r['group']} {r['value']:.0f} days" for _, r in d.iterrows()) + ".")


def show_continuation(res: Uptake) -> None:
    """Kaplan-Meier curves of DPs still running, by group; share ended by 3/6/12 months."""
    if res.continuation is None:
        _say("No Direct Payments started in this period, so continuation cannot be shown.")
        return
    curves, ended = res.continuation
    sizes = ended.groupby("group")["n"].max()
    keep = sizes[sizes >= max(10 * res.params["min_cell"], 20)].index
    if not len(keep):
        _say("Too few Direct Payments started in each group to show continuation.")
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (g, c) in enumerate(curves[curves["group"].isin(keep)].groupby("group")):
        ax.step(c["time"] / 30.44, c["surv"] * 100, where="post", label=g,
                color=style.PALETTE[i % len(style.PALETTE)])
    ax.set_xlabel("Months since the Direct Payment started")
    ax.set_ylabel("% still receiving the Direct Payment")
    ax.legend(frameon=False, fontsize=8)
    e12 = ended[(ended["months"] == 12) & ended["group"].isin(keep)].dropna(subset=["value"])
    top = e12.sort_values("value").iloc[-1] if len(e12) else None
    fig.suptitle(f"{top['group']}: most Direct Payments ended within a year "
                 f"({_pct(top['value'])})" if top is not None else
                 "Direct Payments still running, by group", x=0.01, ha="left",
                 fontweight="bold")
    ax.set_title("Kaplan-Meier estimate; ending includes moving to council-managed support.",
                 loc="left", fontsize=9)
    style.show(fig, "Step chart of the share of Direct Payments still running by months since "
               "start, by group. Share ended within 12 months: " + "; ".join(
                   f"{r['group']} {_pct(r['value'])}" for _, r in e12.iterrows()) + ".")


def show_ended(res: Uptake) -> None:
    """Table: share of DPs ended within 3, 6 and 12 months by group, with CIs."""
    if res.continuation is None:
        _say("No Direct Payments started in this period.")
        return
    e = res.continuation[1]
    t = e.assign(ended=(e["value"] * e["n"]).round(), share=e["value"],
                 ci=[f"{_pct(lo)} to {_pct(hi)}" for lo, hi in zip(e["lower"], e["upper"],
                                                                 strict=True)])
    t = t[["group", "months", "n", "share", "ci"]].rename(columns={"n": "started"})
    _table(t.assign(share=t["share"].map(_pct)), ["started"], res.params["min_cell"],
           caption="Share of Direct Payments ended within 3, 6 and 12 months (Kaplan-Meier)")


def show_mix(res: Uptake, column: str) -> None:
    """Who manages the DP (dp_managed_by) or what it buys (dp_used_for), by group."""
    t = res.managed_by if column == "dp_managed_by" else res.used_for
    if t is None:
        _say(f"The data have no {column} field.")
        return
    t = t.rename(columns={res.group_col: "group"})
    _table(t, [c for c in t.columns if c != "group"], res.params["min_cell"],
           caption=f"People with a Direct Payment by {column.replace('dp_', '').replace('_', ' ')}")


def show_plan_size(res: Uptake, column: str) -> None:
    """Ratio of typical weekly budget or planned hours to the reference group at the same need."""
    d = res.budget if column == "weekly_budget" else res.hours
    what = "weekly budget" if column == "weekly_budget" else "planned hours"
    if d is None:
        _say(f"The data have no usable {column} field, so the size of support plans cannot be "
             "compared.")
        return
    d = d[(d["people"] >= res.params["min_cell"]) & (d[res.group_col] != NOT_STATED)]
    if d.empty:
        _say(f"Too few people per group to compare {what}.")
        return
    low = d[d["upper"] < 1][res.group_col].tolist()
    title = (f"Smaller {what} at the same need: {', '.join(low[:3])}" if low else
             f"No group clearly has a smaller {what} than {res.reference} at the same need")
    fig = _ci_chart(d, res.group_col, title,
                    f"Ratio of geometric mean {what} to {res.reference}, same age band, gender "
                    "and support reason; 95% CIs.", "Ratio (1 = same)", ref=1.0, pct=False)
    style.show(fig, f"Dot chart of the ratio of {what} to {res.reference}: " + "; ".join(
        f"{r[res.group_col]} {_num(r['value'])}" for _, r in d.iterrows()) + ".")


def show_carer(res: Uptake) -> None:
    """Share with an unpaid carer recorded, by group and DP status."""
    if res.carer is None:
        _say("The data have no has_unpaid_carer field.")
        return
    d = res.carer.assign(label=lambda x: x[res.group_col] + ": " + x["dp_status"])
    _share_chart(res, d, "label", "Unpaid carers recorded, by group and Direct Payment status",
                 "Share with an unpaid carer recorded", x="carer",
                 xlabel="% with an unpaid carer recorded")


def show_funnel(res: Uptake) -> None:
    """Funnel plot of DP share by area with 95% and 99.8% limits."""
    if res.areas is None:
        _say("The data have no area_code (and one council), so areas cannot be compared.")
        return
    units, limits = res.areas
    d, hidden = _shown(units, "dp", "people", res.params["min_cell"])
    fig, ax = plt.subplots(figsize=(8, 5))
    for conf, ls in ((0.95, "--"), (0.998, ":")):
        lim = limits[limits["conf"] == conf]
        for side in ("lower", "upper"):
            ax.plot(lim["population"], lim[side] * 100, ls, color=style.DARK_GREY,
                    label=f"{conf:.1%} limits" if side == "lower" else None)
    ax.axhline(limits["baseline"].iloc[0] * 100, color=style.ORANGE, label="All areas")
    out = d["position"] != "within"
    ax.scatter(d.loc[~out, "people"], d.loc[~out, "value"] * 100, color=style.DARK_BLUE, s=18,
               label="Area")
    ax.scatter(d.loc[out, "people"], d.loc[out, "value"] * 100, color=style.DARK_PINK, s=30,
               marker="D", label="Outside a limit")
    ax.set_xlabel("Adults on community long-term support in the area")
    ax.set_ylabel("% with a Direct Payment")
    ax.legend(frameon=False, fontsize=8)
    n99 = int(d["position"].str.contains("99.8").sum())
    fig.suptitle(f"{n99} of {len(d)} areas lie outside the 99.8% limits", x=0.01, ha="left",
                 fontweight="bold")
    ax.set_title("Funnel plot of Direct Payment share by area; "
                 + (f"{hidden} small area(s) not shown." if hidden else ""), loc="left",
                 fontsize=9)
    style.show(fig, f"Funnel plot: Direct Payment share for {len(d)} areas against their size, "
               f"with 95% and 99.8% limits around the overall share of "
               f"{_pct(limits['baseline'].iloc[0])}; {int(out.sum())} areas lie outside a limit.")


def show_areas_outside(res: Uptake) -> None:
    """Table of areas outside the funnel limits."""
    if res.areas is None:
        _say("No area comparison is possible.")
        return
    u = res.areas[0]
    u = u[u["position"] != "within"][["area", "people", "dp", "value", "position"]]
    if u.empty:
        _say("No area lies outside the 95% limits.")
        return
    _table(u.assign(value=u["value"]).rename(columns={"value": "share"}), ["people", "dp"],
           res.params["min_cell"], rate_cols={"share": ("dp", "people")},
           caption="Areas outside the funnel limits")


def show_trend(res: Uptake, measure: str = "uptake") -> None:
    """Quarterly DP share ('uptake') or new DP starts per 1,000 ('new_starts') by group."""
    t = res.trend
    if t.empty or measure not in set(t.get("measure", [])):
        _say("There is no data for the trend period.")
        return
    t = t[(t["measure"] == measure) & (t[res.group_col] != NOT_STATED)]
    size = t.groupby(res.group_col)["people"].min()
    keep = size[size >= max(10 * res.params["min_cell"], 20)].index
    t = t[t[res.group_col].isin(keep)]
    if t.empty:
        _say("Too few people per group for a quarterly trend.")
        return
    k = 100 if measure == "uptake" else 1
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (g, d) in enumerate(t.groupby(res.group_col)):
        c = style.PALETTE[i % len(style.PALETTE)]
        ax.plot(d["quarter"], d["value"] * k, marker="o", color=c, label=g)
        ax.fill_between(d["quarter"], d["lower"] * k, d["upper"] * k, color=c, alpha=0.15)
    ax.set_ylabel("% with a Direct Payment" if measure == "uptake"
                  else "New DP starts per 1,000 people on community support")
    ax.set_xlabel("Quarter ending")
    ax.legend(frameon=False, fontsize=8)
    first, last = t["quarter"].min(), t["quarter"].max()
    change = t[t["quarter"].isin([first, last])].pivot_table(
        index=res.group_col, columns="quarter", values="value")
    ref = res.reference if res.reference in change.index else None
    if ref and len(change) > 1 and measure == "uptake":
        gap = change.sub(change.loc[ref]).drop(index=ref)
        closing = gap[last].abs() < gap[first].abs()
        title = (f"The gap to {ref} narrowed for {', '.join(closing[closing].index[:3])}"
                 if closing.any() else f"No group's gap to {ref} narrowed over the period")
    else:
        title = "Quarterly " + ("uptake" if measure == "uptake" else "new DP starts") + " by group"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    ax.set_title(f"{_place(res)}, quarters ending {first:%b %Y} to {last:%b %Y}; shaded: 95% CI.",
                 loc="left", fontsize=9)
    style.show(fig, f"Line chart of {measure.replace('_', ' ')} by group by quarter from "
               f"{first:%b %Y} to {last:%b %Y}: " + "; ".join(
                   f"{g} from {_num(v[first] * k)} to {_num(v[last] * k)}"
                   for g, v in change.iterrows()) + ".")


def show_methods(res: Uptake) -> None:
    """Methods and caveats, in plain words."""
    _say(f"""**Definitions.** People counted are adults (18+ on the snapshot date) with an ongoing
long-term support episode of type "Long Term Support: Community" on {_when(res)}. A person has a
Direct Payment when the delivery mechanism is "Direct Payment only" or "Part Direct Payment", as
ASCOF measure 1C(2A) counts them. Ethnic groups are the ONS 2021 groups (5 broad, 19 detailed);
Not stated is shown, never merged into another group, and no groups are combined into one
"non-White" category.

**Intervals.** Shares use Wilson score intervals; standardised ratios use Byar's method (exact
below 10); odds ratios are Wald intervals from a binomial GLM fitted on cells of ethnic group x
language x interpreter need x age band x gender x support reason{', with a term per council'
if res.la_code == 'all' else ''}; medians and continuation come from Kaplan-Meier estimates.

**What standardisation does and does not do.** It compares people of the same age band, gender
and primary support reason. It cannot adjust for need not recorded in these fields, for family
care, for differences in how needs are assessed, or for people who never reach social care. A
gap that remains is a question for practice, not proof of discrimination.

**Disclosure control.** Counts of 1 to {res.params['min_cell'] - 1} and figures from which they
could be worked out are shown as [c]; charts omit groups with such counts. No person-level row is
shown.""")


def record(res: Uptake, path: str = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(res), notebook="01_uptake", parameters=res.params, path=path)
    (out.parent / "key_findings.md").write_text(
        "\n".join(f"- {s}" for s in key_findings(res)) + "\n", encoding="utf-8")
    return out
