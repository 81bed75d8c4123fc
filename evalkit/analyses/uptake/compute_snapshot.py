"""Uptake measures on the snapshot of people on community support (notebook 01, compute).

Pure functions from a snapshot (one row per adult on community long-term support on a date,
`cohorts.snapshot`) to tidy frames of counts and estimates: DP shares by group, language and
interpreter need, adjusted odds ratios, standardised ratios, population denominators, the
Not stated bounds, offers, and the quarterly trend. No display and no wording.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit import stats
from evalkit.cohorts import adult_population, adults, community, dp_start_dates
from evalkit.data import codes
from evalkit.stats import glm

NOT_STATED, NOT_RECORDED = codes.NOT_STATED, codes.NOT_RECORDED
OTHER_LANGUAGE = "Other language"
ENGLISH = "English"
GROUP_COLUMNS = {"broad": "ethnic_group_broad", "detailed": "ethnic_group"}
NEED = ["age_band", "gender", "primary_support_reason"]
MIN_SPEAKERS = 5


# ---------------------------------------------------------------- the snapshot
def counts(snap: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """People and people with a DP in each `by` cell (cells with nobody are absent)."""
    by = [by] if isinstance(by, str) else list(by)
    out = snap.groupby(by, observed=True, dropna=False)["has_dp"].agg(["size", "sum"])
    return out.rename(columns={"size": "people", "sum": "dp"}).astype(int).reset_index()


def with_without(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with no_dp = people - dp beside dp, so a table controls both parts of each total."""
    out = df.copy()
    out.insert(list(df.columns).index("dp") + 1, "no_dp", (df["people"] - df["dp"]).astype(int))
    return out


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
    Adds no_dp (people - dp: the two outcome categories each odds ratio compares) and df_resid
    (people in the model minus its parameters, as a model on the people themselves has), which
    the publication step's ACRO rule checks.
    """
    frame, factors = model_frame(snap, group_col, min_speakers)
    cells = counts(frame, factors)
    refs = {"group": choose_reference(frame["group"], reference_group),
            "language": ENGLISH, "interpreter": "no"}
    out = glm.odds_ratios(cells, factors, refs, conf)
    params = 1 + sum(max(frame[f].nunique() - 1, 0) for f in factors)
    return out.assign(no_dp=out["people"] - out["dp"], df_resid=len(frame) - params)


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

    The two shares bound what the unrecorded ethnicity could do to each group's uptake. The Not
    stated counts are columns of their own (not_stated_dp, not_stated_people, the same on every
    row), so the publication step works out the second share from the group's and the Not
    stated protected counts: a sum rounded once per group would narrow the Not stated count.
    """
    c = counts(snap, group_col)
    ns = c[c[group_col] == NOT_STATED][["people", "dp"]].sum()
    known = c[c[group_col] != NOT_STATED]
    rec = stats.proportion(known, "dp", "people", by=group_col, conf=conf)
    return with_without(known).assign(share_recorded=rec["value"].to_numpy(),
                                      share_if_all_not_stated=(known["dp"] + ns["dp"])
                                      / (known["people"] + ns["people"]),
                                      not_stated_dp=int(ns["dp"]),
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
    """People with and without a DP, and the DP share, by group x age band x support reason
    (for a suppressed table)."""
    c = counts(snap, [group_col, "age_band", "primary_support_reason"])
    return with_without(c).assign(share=c["dp"] / c["people"])


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


