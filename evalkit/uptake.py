"""Who gets a Direct Payment, and who does not: the analyses behind notebook 01_uptake.

Pure functions compute tidy frames from a loaded Dataset; `analyse` runs them all once and
the `show_*` functions display one chart or one disclosure-controlled table each, with a
title and alt text written from the numbers. Definitions follow ASCOF 1C(2A): people with an
ongoing community long-term support episode at the snapshot date, aged 18+, with a DP when the
delivery mechanism is "Direct Payment only" or "Part Direct Payment".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from evalkit import stats
from evalkit.data import codes

COMMUNITY = "Long Term Support: Community"
NOT_STATED = "Not stated"
NOT_RECORDED = "Not recorded"
OTHER_LANGUAGE = "Other language"
ENGLISH = "English"
GROUP_COLUMNS = {"broad": "ethnic_group_broad", "detailed": "ethnic_group"}
NEED = ["age_band", "gender", "primary_support_reason"]
MIN_SPEAKERS = 10


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
    dp = on.groupby("person_id", sort=False)["has_dp"].agg(lambda s: bool(s.fillna(False).any()))
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
