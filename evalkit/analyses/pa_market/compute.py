"""Notebook 02: can people find a Personal Assistant who speaks their language, near them, in time?

Compute functions take the loader's tables and return tidy frames (no person-level rows leave
them except the internal `durations` frame used by the survival methods); `analyse` runs them all
once; the `show_*` functions each display one chart or one disclosure-controlled table, so that a
notebook cell is a single call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit import stats
from evalkit.cohorts import ALL_COUNCILS, adult_population, dp_recipients, for_council
from evalkit.cohorts import council as choose_council
from evalkit.data import codes
from evalkit.data.councils import place_name
from evalkit.data.load import REASON_LABELS
from evalkit.report import findings, style
from evalkit.report import record as rec
from evalkit.report.findings import fmt_share
from evalkit.sdc import disclosure
from evalkit.stats import survival

TARGET_DAYS = (14, 28, 56)
DISCHARGE_TARGET_DAYS = 7
PREFERENCE_COLUMNS = {
    "language": "language_needed",
    "ethnicity": "ethnicity_preference",
    "gender": "gender_preference",
    "faith": "faith_preference",
}
PREFERENCE_LABELS = {
    "language": "Language",
    "ethnicity": "Ethnicity",
    "gender": "Gender",
    "faith": "Faith",
    "hospital_discharge": "Hospital discharge",
}
ALL_REQUESTS = "All requests"
NO_PREFERENCE_GROUP = "No stated preference"
# Values that state no preference (compared case-insensitively after stripping).
NO_PREFERENCE = frozenset(
    {"", "none", "no preference", "not recorded", "not stated", "any", "n/a", "na", "no",
     "null", "unknown", "nan", "<na>"}
)
NOT_RECORDED = codes.NOT_RECORDED
SOURCE_LABELS = {"register": "PA register", "agency": "Support agency",
                 "family member": "Family member", "word of mouth": "Word of mouth",
                 "not recorded": codes.NOT_RECORDED}
SOURCES = {"pas": "Active PAs", "recipients": "DP recipients employing PAs",
           "population": "Adult population"}


# --------------------------------------------------------------------------- preparation
def isin(values: pd.Series, pool) -> pd.Series:
    """`values.isin(pool)` for id columns, via object arrays: pandas' Arrow-string isin loops in
    Python over the pool and takes seconds at national size. dtype=object is explicit because
    pandas infers an Arrow string Series from an object array of strings."""
    pool = pd.unique(np.asarray(list(pool) if isinstance(pool, set) else pool, dtype=object))
    return pd.Series(values.to_numpy(dtype=object), index=values.index, dtype=object).isin(pool)


def stated(values: pd.Series) -> pd.Series:
    """True where a preference column states a preference (not blank, 'none', 'any', ...)."""
    text = values.astype("string").str.strip().str.lower()
    return (~text.isin(NO_PREFERENCE) & text.notna()).astype(bool)


def snapshot_dates(register: pd.DataFrame | None) -> list[pd.Timestamp]:
    """The register's snapshot dates, oldest first (empty without a register)."""
    if register is None or register.empty:
        return []
    return sorted(pd.to_datetime(register["snapshot_date"]).dropna().unique())


def choose_snapshot(register: pd.DataFrame | None,
                    snapshot_date: str | pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The snapshot to describe: `snapshot_date` if given (it must exist), else the latest."""
    dates = snapshot_dates(register)
    if not dates:
        return None
    if snapshot_date is None:
        return pd.Timestamp(dates[-1])
    wanted = pd.Timestamp(snapshot_date)
    if wanted not in dates:
        listed = ", ".join(f"{d:%Y-%m-%d}" for d in dates)
        raise ValueError(f"choose_snapshot: snapshot_date {wanted:%Y-%m-%d} is not in the PA "
                         f"register; snapshots present: {listed}")
    return wanted


def active_pas(register: pd.DataFrame | None, snapshot: pd.Timestamp | None) -> pd.DataFrame:
    """Active PAs at a snapshot, one row per pa_id (a PA listed twice counts once)."""
    if register is None or snapshot is None:
        return pd.DataFrame(columns=["pa_id", "languages"])
    at = register[pd.to_datetime(register["snapshot_date"]) == snapshot]
    active = at[at["status"].astype("string").str.strip().str.lower() == "active"]
    return active.drop_duplicates("pa_id").reset_index(drop=True)


def split_languages(pas: pd.DataFrame) -> pd.DataFrame:
    """One row per PA per language spoken (from the semicolon-separated `languages`)."""
    if pas.empty or "languages" not in pas:
        return pd.DataFrame(columns=[*pas.columns, "language"])
    langs = pas["languages"].astype("string").fillna("").str.split(";")
    long = pas.assign(language=langs).explode("language")
    long["language"] = long["language"].str.strip()
    long = long[long["language"].notna() & (long["language"] != "")]
    return long.drop_duplicates(["pa_id", "language"]).reset_index(drop=True)


def _latest(frame: pd.DataFrame, key: str, date: str) -> pd.DataFrame:
    """Each `key`'s row with the latest `date` (the last listed on a tie), in the frame's order.

    Sorts row numbers rather than the whole frame: at national size the frame has a million rows
    of Arrow strings, and sorting it all took seconds.
    """
    ids = pd.factorize(frame[key].to_numpy(dtype=object))[0]
    order = np.lexsort((np.arange(len(frame)), frame[date].to_numpy(), ids))
    last = order[np.r_[ids[order][1:] != ids[order][:-1], True]] if len(order) else order
    return frame.iloc[np.sort(last)]


# --------------------------------------------------------------------------- data section
def returns_received(register: pd.DataFrame | None) -> pd.DataFrame:
    """PAs returned per agency per snapshot; `missing` flags an agency with no return that time."""
    cols = ["agency", "snapshot_date", "pas", "active_pas", "missing"]
    if register is None or register.empty:
        return pd.DataFrame(columns=cols)
    reg = register.assign(snapshot_date=pd.to_datetime(register["snapshot_date"]),
                          _active=register["status"].astype("string").str.lower() == "active")
    counts = reg.groupby(["agency", "snapshot_date"]).agg(pas=("pa_id", "nunique"),
                                                          active_pas=("_active", "sum"))
    grid = pd.MultiIndex.from_product([sorted(reg["agency"].dropna().unique()),
                                       sorted(reg["snapshot_date"].unique())],
                                      names=["agency", "snapshot_date"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    return out.assign(missing=out["pas"] == 0)[cols]


# --------------------------------------------------------------------------- who the PAs are
def composition(pas: pd.DataFrame, recipients: pd.DataFrame, population: pd.DataFrame | None,
                by: str, conf: float = 0.95) -> pd.DataFrame:
    """Share of each group among active PAs, DP recipients employing PAs and adults.

    `by` is a column of the register (ethnic_group_broad, ethnic_group, gender, religion) or
    `language` (a PA speaking two languages counts in both; recipients by preferred_language).
    Sources lacking the column are left out. Wilson intervals via `stats.proportion`.
    """
    parts = []
    if by == "language":
        long = split_languages(pas)
        if len(long):
            parts.append(long.groupby("language").size().rename("count").reset_index()
                         .assign(source=SOURCES["pas"], total=len(pas)))
        if len(recipients):
            rec = recipients.assign(language=recipients["preferred_language"])
            parts.append(rec.groupby("language").size().rename("count").reset_index()
                         .assign(source=SOURCES["recipients"], total=len(rec)))
        key = "language"
    else:
        key = by
        for name, frame in (("pas", pas), ("recipients", recipients)):
            if by in frame and len(frame):
                n = frame.groupby(by).size().rename("count").reset_index()
                parts.append(n.assign(source=SOURCES[name], total=len(frame)))
        if population is not None and by in population and len(population):
            n = population.groupby(by)["population"].sum().rename("count").reset_index()
            parts.append(n.assign(source=SOURCES["population"], total=n["count"].sum()))
    if not parts:
        return pd.DataFrame(columns=[key, "source", "count", "total", "value", "lower", "upper"])
    counts = pd.concat(parts, ignore_index=True)
    counts[["count", "total"]] = counts[["count", "total"]].astype("int64")
    out = stats.proportion(counts, "count", "total", by=["source", key], conf=conf)
    return out.rename(columns={key: "group"}).assign(dimension=by)


# --------------------------------------------------------------------------- language coverage
def _area(frame: pd.DataFrame, area_level: str) -> pd.Series:
    """The area each row is in; blank when the column is absent."""
    if area_level in frame:
        return frame[area_level].astype("string").str.strip().replace("", pd.NA)
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def area_language_grid(pas: pd.DataFrame, recipients: pd.DataFrame,
                       area_level: str = "area_code") -> pd.DataFrame:
    """Per area and language recipients prefer: recipients and active PAs who speak it there."""
    cols = ["area", "language", "recipients", "pas"]
    if recipients.empty:
        return pd.DataFrame(columns=cols)
    rec = recipients.assign(area=_area(recipients, area_level),
                            language=recipients["preferred_language"])
    rec = rec[rec["language"].notna() & (rec["language"] != NOT_RECORDED) & rec["area"].notna()]
    n_rec = rec.groupby(["area", "language"]).size().rename("recipients")
    long = split_languages(pas)
    long = long.assign(area=_area(long, area_level))
    n_pa = long[long["area"].notna()].groupby(["area", "language"])["pa_id"].nunique()
    grid = n_rec.to_frame().join(n_pa.rename("pas"), how="left").fillna({"pas": 0})
    return grid.reset_index().astype({"recipients": "int64", "pas": "int64"})[cols]


def language_coverage(pas: pd.DataFrame, recipients: pd.DataFrame,
                      area_level: str = "area_code", conf: float = 0.95) -> pd.DataFrame:
    """For each language recipients prefer: the gap between speakers and PAs who speak it.

    Columns: language, recipients, pas (active PAs speaking it anywhere), pas_per_10,
    with_area (recipients whose area is known), no_pa_area (of those, living in an area where
    no active PA speaks it), areas (areas where its speakers live), areas_without, and the gap
    share no_pa_area / with_area with a Wilson interval (value, lower, upper). Ranked by the lower
    confidence limit of the gap (large gaps backed by enough people first), then the gap, then
    recipients. 'Not recorded' is not a language and is left out.
    """
    cols = ["language", "recipients", "share_of_recipients", "pas", "pas_per_10", "with_area",
            "no_pa_area", "areas", "areas_without", "value", "lower", "upper", "conf", "note"]
    rec = recipients[recipients["preferred_language"].notna()
                     & (recipients["preferred_language"] != NOT_RECORDED)] \
        if len(recipients) else recipients
    if rec.empty:
        return pd.DataFrame(columns=cols)
    per_lang = rec.groupby("preferred_language").size().rename("recipients")
    long = split_languages(pas)
    speaking = long.groupby("language")["pa_id"].nunique().rename("pas")
    out = per_lang.to_frame().join(speaking, how="left").fillna({"pas": 0})
    out.index.name = "language"
    grid = area_language_grid(pas, rec, area_level)
    grid = grid.assign(gap=grid["pas"] == 0)
    by_lang = grid.groupby("language").agg(
        with_area=("recipients", "sum"),
        no_pa_area=("recipients", lambda s: s[grid.loc[s.index, "gap"]].sum()),
        areas=("area", "nunique"),
        areas_without=("gap", "sum"))
    out = out.join(by_lang, how="left").fillna(0).reset_index()
    out = out.astype({c: "int64" for c in ["recipients", "pas", "with_area", "no_pa_area",
                                             "areas", "areas_without"]})
    out["share_of_recipients"] = out["recipients"] / len(recipients)
    out["pas_per_10"] = 10 * out["pas"] / out["recipients"]
    known = out[out["with_area"] > 0]
    gap = stats.proportion(known, "no_pa_area", "with_area", by="language", conf=conf)
    out = out.merge(gap[["language", "value", "lower", "upper", "conf", "note"]],
                    on="language", how="left")
    out["note"] = out["note"].where(out["with_area"] > 0, "no recipient has a recorded area")
    out = out.sort_values(["lower", "value", "recipients"], ascending=False, na_position="last")
    return out.reset_index(drop=True)[cols]


# --------------------------------------------------------------------------- time to recruit
DATE_COLUMNS = ("request_date", "outcome_date", "snapshot_date", "start_date", "end_date")


def extract_date(*tables: pd.DataFrame | None) -> pd.Timestamp:
    """The date the data run to: the latest request, outcome, snapshot or episode date seen.

    Open requests are censored here (not at the day the notebook runs, which would add waiting
    time nobody observed).
    """
    dates = [pd.to_datetime(t[c]).max() for t in tables if t is not None
             for c in DATE_COLUMNS if c in t]
    dates = [d for d in dates if pd.notna(d)]
    return max(dates) if dates else pd.NaT


def recruitment_durations(requests: pd.DataFrame | None,
                          extract: pd.Timestamp | None = None) -> pd.DataFrame:
    """Days from request to filled; withdrawn and open requests are censored, never dropped.

    Filled: event at outcome_date. Withdrawn: censored at outcome_date. Open (or withdrawn with
    no outcome_date): censored at the extract date. One boolean column per preference type
    (language, ethnicity, gender, faith where recorded, hospital_discharge) and `any_preference`.
    Internal frame for the survival methods; it is never displayed.
    """
    cols = ["days", "filled", "outcome", *PREFERENCE_LABELS, "any_preference"]
    if requests is None or requests.empty:
        return pd.DataFrame(columns=cols)
    req = requests.copy()
    extract = extract_date(req) if extract is None or pd.isna(extract) else pd.Timestamp(extract)
    outcome = req["outcome"].astype("string").str.strip().str.lower()
    filled = outcome == "filled"
    end = pd.to_datetime(req.get("outcome_date")) if "outcome_date" in req else pd.NaT
    end = pd.Series(end, index=req.index)
    end = end.where(filled | (outcome == "withdrawn"), extract).fillna(extract)
    days = (end - pd.to_datetime(req["request_date"])).dt.days
    out = pd.DataFrame({"days": days.astype("float64"), "filled": filled.astype(bool),
                        "outcome": outcome})
    for kind, col in PREFERENCE_COLUMNS.items():
        out[kind] = stated(req[col]) if col in req else False
    hd = req["hospital_discharge"] if "hospital_discharge" in req else False
    out["hospital_discharge"] = pd.Series(hd, index=req.index).fillna(False).astype(bool)
    out["any_preference"] = out[list(PREFERENCE_COLUMNS)].any(axis=1)
    return out[cols]


def recruitment_groups(durations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The request groups the notebook compares: all, no stated preference, each preference type
    with at least one request, and hospital discharge."""
    groups = {ALL_REQUESTS: durations,
              NO_PREFERENCE_GROUP: durations[~durations["any_preference"]
                                             & ~durations["hospital_discharge"]]}
    for kind, label in PREFERENCE_LABELS.items():
        groups[label] = durations[durations[kind]]
    return {k: v for k, v in groups.items() if len(v)}


# --------------------------------------------------------------------------- match achieved
def _latest_pa_rows(register: pd.DataFrame) -> pd.DataFrame:
    """Each PA's most recent register row (for the languages, ethnicity, gender, religion)."""
    return _latest(register, "pa_id", "snapshot_date").set_index("pa_id")


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Case- and space-insensitive equality, NA where either side is missing."""
    x = a.astype("string").str.strip().str.lower()
    y = b.astype("string").str.strip().str.lower()
    return (x == y).where(x.notna() & y.notna())


def match_achieved(requests: pd.DataFrame | None, register: pd.DataFrame | None,
                   conf: float = 0.95) -> pd.DataFrame:
    """Of filled requests stating each preference, the share whose PA matched it (Wilson CI).

    The PA is found on the register by pa_id (their latest row). Language: the PA speaks the
    language needed. Ethnicity: the PA's detailed or broad ethnic group equals the preference.
    Gender: same gender. Faith: same religion (needs `religion` on the register). `checked` counts
    requests whose PA is on the register; the others (e.g. a family member never listed) are
    counted in `not_on_register` and left out of the share.
    """
    cols = ["preference", "filled", "checked", "not_on_register", "matched", "value", "lower",
            "upper", "conf", "note"]
    if requests is None or requests.empty or register is None or register.empty:
        return pd.DataFrame(columns=cols)
    req = requests[requests["outcome"].astype("string").str.lower() == "filled"]
    pa = _latest_pa_rows(register)
    on_reg = isin(req["pa_id"], pa.index) if "pa_id" in req else pd.Series(False, req.index)
    rows = []
    for kind, col in PREFERENCE_COLUMNS.items():
        if col not in req:
            continue
        want = req[stated(req[col])]
        if want.empty:
            continue
        known = want[on_reg[want.index]]
        who = pa.reindex(known["pa_id"])
        who.index = known.index
        if kind == "language":
            spoken = codes.normalise_languages(who["languages"]).str.split(";")
            need = codes.normalise_language(known[col])
            hit = pd.Series([n in ls for n, ls in zip(need, spoken, strict=True)],
                            index=known.index, dtype=bool)
        elif kind == "ethnicity":
            hit = pd.Series(False, index=known.index)
            for pcol in ("ethnic_group", "ethnic_group_broad"):
                if pcol in who:
                    hit |= _same(known[col], who[pcol]).fillna(False).astype(bool)
        else:
            pcol = "gender" if kind == "gender" else "religion"
            if pcol not in who:
                continue
            hit = _same(known[col], who[pcol]).fillna(False).astype(bool)
        rows.append({"preference": PREFERENCE_LABELS[kind], "filled": len(want),
                     "checked": len(known), "not_on_register": len(want) - len(known),
                     "matched": int(hit.sum())})
    if not rows:
        return pd.DataFrame(columns=cols)
    counts = pd.DataFrame(rows)
    ok = counts[counts["checked"] > 0]
    est = stats.proportion(ok, "matched", "checked", by="preference", conf=conf) \
        if len(ok) else ok
    out = counts.merge(est[["preference", "value", "lower", "upper", "conf", "note"]]
                       if len(ok) else pd.DataFrame(columns=["preference"]),
                       on="preference", how="left")
    out["note"] = out["note"].where(out["checked"] > 0, "no filled request's PA is on the register")
    return out[cols]


def match_sources(requests: pd.DataFrame | None, episodes: pd.DataFrame | None,
                  by: str = "ethnic_group_broad", conf: float = 0.95) -> pd.DataFrame:
    """How filled requests found their PA, by the person's group, and the family-member share.

    Columns: group, source (match_source), requests, total (filled requests in the group),
    value/lower/upper (share of the group's filled requests from that source, Wilson).
    Needs `match_source`; returns an empty frame without it. The person's group comes from
    support_episodes (their latest episode); people not found are 'Not known'.
    """
    cols = ["group", "source", "requests", "total", "value", "lower", "upper", "conf", "note"]
    if requests is None or requests.empty or "match_source" not in requests:
        return pd.DataFrame(columns=cols)
    req = requests[requests["outcome"].astype("string").str.lower() == "filled"]
    if req.empty:
        return pd.DataFrame(columns=cols)
    group = pd.Series("Not known", index=req.index, dtype="string")
    if episodes is not None and by in episodes and "person_id" in req:
        eps = episodes.loc[isin(episodes["person_id"], req["person_id"]).to_numpy(),
                           ["person_id", "start_date", by]]
        who = _latest(eps, "person_id", "start_date").set_index("person_id")[by]
        group = req["person_id"].map(who).astype("string").fillna("Not known")
    src = req["match_source"].astype("string").str.strip().str.lower().fillna("not recorded")
    frame = pd.DataFrame({"group": group, "source": src})
    both = pd.concat([frame, frame.assign(group=ALL_REQUESTS)], ignore_index=True)
    n = both.groupby(["group", "source"]).size().rename("requests").reset_index()
    totals = both.groupby("group").size().rename("total")
    grid = pd.MultiIndex.from_product([totals.index, sorted(src.unique())],
                                      names=["group", "source"])
    n = n.set_index(["group", "source"]).reindex(grid, fill_value=0).reset_index()
    n = n.join(totals, on="group")
    return stats.proportion(n, "requests", "total", by=["group", "source"], conf=conf)[cols]


# --------------------------------------------------------------------------- change over time
def _pa_groups(pas: pd.DataFrame, by: str) -> pd.DataFrame:
    """pa_id and group for each active PA (a PA speaking two languages is in both)."""
    if by == "language":
        return split_languages(pas)[["pa_id", "language"]].rename(columns={"language": "group"})
    if by is None or by == "all":
        return pas[["pa_id"]].assign(group="All PAs")
    if by not in pas:
        return pd.DataFrame(columns=["pa_id", "group"])
    return pas[["pa_id", by]].rename(columns={by: "group"}).fillna({"group": "Not stated"})


def snapshot_change(register: pd.DataFrame | None, by: str = "all", all_pairs: bool = False,
                    conf: float = 0.95) -> pd.DataFrame:
    """Joiners, leavers, net change and retention of active PAs between snapshots.

    Compares the last two snapshots (every consecutive pair with `all_pairs`). A joiner is active
    at the later snapshot and not at the earlier; a leaver was active at the earlier and is not
    at the later (listed as left or inactive, or no longer listed); retention = share of the
    earlier active PAs still active (Wilson CI). The group is the PA's at the earlier snapshot
    for leavers and retention, at the later for joiners. Empty with fewer than two snapshots.
    """
    cols = ["from_date", "to_date", "group", "active_from", "active_to", "joiners", "leavers",
            "net", "retained", "value", "lower", "upper", "conf", "note"]
    dates = snapshot_dates(register)
    if len(dates) < 2:
        return pd.DataFrame(columns=cols)
    pairs = list(zip(dates[:-1], dates[1:], strict=True))
    if not all_pairs:
        pairs = pairs[-1:]
    rows = []
    active = {d: active_pas(register, pd.Timestamp(d)) for d in {d for pair in pairs for d in pair}}
    for d0, d1 in pairs:
        g0, g1 = _pa_groups(active[d0], by), _pa_groups(active[d1], by)
        g0 = g0.assign(stays=isin(g0["pa_id"], active[d1]["pa_id"]))
        g1 = g1.assign(new=~isin(g1["pa_id"], active[d0]["pa_id"]))
        a = g0.groupby("group").agg(active_from=("pa_id", "nunique"), retained=("stays", "sum"))
        b = g1.groupby("group").agg(active_to=("pa_id", "nunique"), joiners=("new", "sum"))
        t = a.join(b, how="outer").fillna(0).astype("int64").reset_index()
        rows.append(t.assign(from_date=pd.Timestamp(d0), to_date=pd.Timestamp(d1)))
    out = pd.concat(rows, ignore_index=True)
    out["leavers"] = out["active_from"] - out["retained"]
    out["net"] = out["joiners"] - out["leavers"]
    has = out["active_from"] > 0
    keys = ["from_date", "to_date", "group"]
    est = stats.proportion(out[has], "retained", "active_from", by=keys, conf=conf)
    out = out.merge(est[[*keys, "value", "lower", "upper", "conf", "note"]], on=keys, how="left")
    out["note"] = out["note"].where(has, "no active PAs in this group at the earlier snapshot")
    return out[cols]


# --------------------------------------------------------------------------- workforce measures
def _broad_population(population: pd.DataFrame | None) -> pd.DataFrame | None:
    """Adult population with `ethnic_group_broad` derived (its ethnic_group may be either level)."""
    if population is None or population.empty or "ethnic_group" not in population:
        return None
    return population.assign(
        ethnic_group_broad=codes.ethnic_group_broad(population["ethnic_group"]))


def _wide_counts(comp: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """Composition counts as one row per group and one column per source (0 where absent)."""
    part = comp[comp["source"].isin(sources)]
    wide = part.pivot_table(index="group", columns="source", values="count", aggfunc="sum",
                            fill_value=0)
    return wide.reindex(columns=list(sources), fill_value=0).reset_index()


def dissimilarity(comp: pd.DataFrame, conf: float = 0.95, n_boot: int = 1000,
                  seed: int = 2024) -> pd.DataFrame:
    """Index of dissimilarity between active PAs and each comparison population.

    `comp` is one dimension of `composition` (e.g. ethnic_group_broad). 'Not stated' is left out
    (it is not a group the population has). Uses `stats.dissimilarity_index` (bootstrap CI).
    """
    comp = comp[comp["group"] != codes.NOT_STATED]
    rows = []
    for other in (SOURCES["recipients"], SOURCES["population"]):
        if not (comp["source"] == other).any() or not (comp["source"] == SOURCES["pas"]).any():
            continue
        wide = _wide_counts(comp, [SOURCES["pas"], other]).rename(
            columns={SOURCES["pas"]: "pas", other: "other"})
        est = stats.dissimilarity_index(wide, "pas", "other", conf=conf, n_boot=n_boot, seed=seed)
        rows.append(est.assign(comparison=f"{SOURCES['pas']} vs {other}"))
    cols = ["comparison", "pas", "other", "categories", "value", "lower", "upper", "conf",
            "method", "note"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def representation(comp: pd.DataFrame, reference: str = "White", conf: float = 0.95
                   ) -> pd.DataFrame:
    """How each ethnic group is represented among PAs, two ways, each group on its own.

    `ratio_to_recipients`: share of PAs in the group / share of DP recipients employing PAs in
    it (1 = PAs mirror the people who employ them; `stats.compare_proportions`, Katz CI).
    `relative_likelihood`: SC-WRES relative likelihood of an adult in the group being an active
    PA compared with `reference` adults (PAs / adults, over the same for the reference group;
    `stats.relative_likelihood`). Rows: measure, group, value, lower, upper, with the counts.
    """
    cols = ["measure", "group", "x", "n", "ref_x", "ref_n", "value", "lower", "upper", "conf",
            "note"]
    comp = comp[comp["group"] != codes.NOT_STATED]
    frames = []
    pair = comp[comp["source"].isin([SOURCES["pas"], SOURCES["recipients"]])]
    if pair["source"].nunique() == 2:
        ratio = stats.compare_proportions(pair, "count", "total", group="source",
                                          reference=SOURCES["recipients"], by="group", conf=conf)
        ratio = ratio[ratio["measure"] == "ratio"]
        frames.append(ratio.rename(columns={"count": "x", "total": "n", "ref_count": "ref_x",
                                            "ref_total": "ref_n"})
                      .assign(measure="ratio_to_recipients"))
    wide = _wide_counts(comp, [SOURCES["pas"], SOURCES["population"]])
    if (wide[SOURCES["population"]] > 0).any() and (wide["group"] == reference).any():
        wide = wide[wide[SOURCES["population"]] > 0].rename(
            columns={SOURCES["pas"]: "x", SOURCES["population"]: "n"})
        wide[["x", "n"]] = wide[["x", "n"]].astype("int64")
        rl = stats.relative_likelihood(wide, "x", "n", group="group", reference=reference,
                                       conf=conf)
        frames.append(rl.assign(measure="relative_likelihood"))
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


# --------------------------------------------------------------------------- time to recruit
def _stack_groups(durations: pd.DataFrame) -> pd.DataFrame:
    """The request groups one under another with a `group` column, in display order."""
    groups = recruitment_groups(durations)
    if not groups:
        return pd.DataFrame(columns=[*durations.columns, "group"])
    return pd.concat([g.assign(group=k) for k, g in groups.items()], ignore_index=True)


def _in_group_order(frame: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by `group` in the order the groups were stacked (stable within a group)."""
    rank = {g: i for i, g in enumerate(order)}
    return frame.sort_values("group", key=lambda s: s.map(rank), kind="stable").reset_index(
        drop=True)


def recruitment_curves(durations: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier share still waiting, per request group (`survival.kaplan_meier`, log CI)."""
    stacked = _stack_groups(durations)
    if stacked.empty:
        return pd.DataFrame(columns=["group", "time", "n_risk", "n_event", "n_censor", "surv",
                                     "lower", "upper"])
    km = survival.kaplan_meier(stacked, "days", "filled", by="group", conf=conf)
    return _in_group_order(km, list(recruitment_groups(durations)))


def recruitment_medians(durations: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Median days from request to filled per request group, with a CI (NaN if not reached)."""
    stacked = _stack_groups(durations)
    if stacked.empty:
        return pd.DataFrame(columns=["group", "n", "events", "value", "lower", "upper", "conf",
                                     "note"])
    med = survival.median_survival(stacked, "days", "filled", by="group", conf=conf)
    return _in_group_order(med, list(recruitment_groups(durations)))


def recruitment_filled_by(durations: pd.DataFrame, target_days: Sequence[int] = TARGET_DAYS,
                          discharge_target_days: int = DISCHARGE_TARGET_DAYS,
                          conf: float = 0.95) -> pd.DataFrame:
    """Share of requests filled within each target, per group (1 - KM S(t) with a CI).

    Every group gets `target_days`; the hospital-discharge group (and all requests, to compare)
    also gets `discharge_target_days`.
    """
    stacked = _stack_groups(durations)
    cols = ["group", "days", "n", "value", "lower", "upper", "conf", "note"]
    if stacked.empty:
        return pd.DataFrame(columns=cols)
    days = sorted({*map(int, target_days), int(discharge_target_days)})
    out = survival.filled_by(stacked, "days", "filled", days, by="group", conf=conf)
    keep = out["days"].isin(list(map(int, target_days))) | (
        out["group"].isin([PREFERENCE_LABELS["hospital_discharge"], ALL_REQUESTS])
        & (out["days"] == int(discharge_target_days)))
    out = out[keep]
    return _in_group_order(out.sort_values(["days"]), list(recruitment_groups(durations)))[cols]


def _not_modelled(durations: pd.DataFrame, kind: str) -> str:
    """Why a preference type cannot enter the Cox model ('' when it can).

    It needs requests with and without it, and a filled request on each side: with none filled
    on one side the hazard ratio is 0 or infinite (the fit does not converge).
    """
    has = durations[kind].astype(bool)
    if not has.any():
        return "no request states it"
    if has.all():
        return "every request states it"
    if not durations.loc[has, "filled"].any():
        return "no request stating it was filled"
    if not durations.loc[~has, "filled"].any():
        return "no request without it was filled"
    return ""


def recruitment_cox(durations: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Hazard ratio of being filled for requests stating each preference type vs not stating it.

    Cox PH (`survival.cox`, Efron ties) with one indicator per preference type (and hospital
    discharge), each adjusted for the others. HR < 1: such requests wait longer. A type that
    cannot be estimated (`_not_modelled`: no or every request states it, or no request on one
    side of it was filled) is left out, with a row saying why.
    """
    cols = ["preference", "group", "requests_with", "value", "lower", "upper", "conf",
            "p_value", "n", "events", "note"]
    if durations.empty or not durations["filled"].any():
        return pd.DataFrame(columns=cols)
    why = {k: _not_modelled(durations, k) for k in PREFERENCE_LABELS}
    usable = [k for k, reason in why.items() if not reason]
    rows = [{"preference": PREFERENCE_LABELS[k], "group": k,
             "requests_with": int(durations[k].sum()), "note": why[k]}
            for k in PREFERENCE_LABELS if k not in usable]
    if usable:
        frame = durations[["days", "filled", *usable]].astype({k: int for k in usable})
        fit = survival.cox(frame, "days", "filled", usable, conf=conf)
        fit = fit.assign(group=[k for k in usable],
                         preference=[PREFERENCE_LABELS[k] for k in usable],
                         requests_with=[int(durations[k].sum()) for k in usable], note="")
        rows = [*fit.to_dict("records"), *rows]
    return pd.DataFrame(rows).reindex(columns=cols)


# --------------------------------------------------------------------------- the whole analysis
@dataclass(frozen=True)
class Market:
    """Everything notebook 02 shows, computed once by `analyse`. Frames are tidy; only
    `register`, `pas`, `recipients`, `employers` and `durations` hold one row per
    PA/person/request, and they are never displayed."""

    params: dict
    snapshots: list[pd.Timestamp]
    snapshot: pd.Timestamp | None
    as_at: pd.Timestamp | None
    extract: pd.Timestamp | None
    quality: pd.DataFrame
    returns: pd.DataFrame
    register: pd.DataFrame | None
    pas: pd.DataFrame
    recipients: pd.DataFrame
    employers: pd.DataFrame
    composition: dict[str, pd.DataFrame]
    dissimilarity: pd.DataFrame
    representation: pd.DataFrame
    coverage: pd.DataFrame
    grid: pd.DataFrame
    durations: pd.DataFrame
    curves: pd.DataFrame
    medians: pd.DataFrame
    filled: pd.DataFrame
    cox: pd.DataFrame
    match: pd.DataFrame
    sources: pd.DataFrame
    change: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)


DIMENSIONS = {"ethnic_group_broad": "Ethnic group (broad)", "ethnic_group": "Ethnic group",
              "gender": "Gender", "language": "Language", "religion": "Religion"}
TABLES = ("pa_register", "pa_requests", "support_episodes", "population")




def _several_councils(episodes: pd.DataFrame | None) -> bool:
    return episodes is not None and "la_code" in episodes and episodes["la_code"].nunique() > 1


def _council_areas(episodes: pd.DataFrame | None, population: pd.DataFrame | None,
                   la_code: str) -> pd.Series:
    """The area_code values of one council's people and population rows."""
    areas = [f.loc[f["la_code"] == la_code, "area_code"].dropna()
             for f in (episodes, population)
             if f is not None and "la_code" in f and "area_code" in f]
    return pd.concat(areas).drop_duplicates() if areas else pd.Series(dtype=object)


def council_register(register: pd.DataFrame | None, episodes: pd.DataFrame | None,
                     population: pd.DataFrame | None, la_code: str | None
                     ) -> pd.DataFrame | None:
    """The PA register rows belonging to the chosen council.

    The register has no la_code (agencies return PAs by area), so when the folder holds several
    councils a PA belongs to the council whose areas (in support_episodes or population) include
    the PA's area_code; without area codes the register cannot be split and is kept whole (a note
    says so). With one council in the folder, or all councils chosen, the whole register is used,
    so PAs living just over the boundary still count.
    """
    if register is None or la_code is None:
        return register
    if "la_code" in register:
        return register[register["la_code"] == la_code].reset_index(drop=True)
    areas = _council_areas(episodes, population, la_code)
    if not _several_councils(episodes) or "area_code" not in register or areas.empty:
        return register
    return register[isin(register["area_code"], areas).to_numpy()].reset_index(drop=True)


def _requests_for(requests: pd.DataFrame | None, episodes: pd.DataFrame | None,
                  la_code: str | None) -> pd.DataFrame | None:
    """Requests of people in the chosen council (requests carry no la_code of their own)."""
    if requests is None or la_code is None or episodes is None:
        return requests
    return requests[isin(requests["person_id"], episodes["person_id"]).to_numpy()].reset_index(
        drop=True)


def analyse(data, *, la_code: str | None = None, snapshot_date: str | None = None,
            area_level: str = "area_code", target_days: Sequence[int] = TARGET_DAYS,
            discharge_target_days: int = DISCHARGE_TARGET_DAYS, min_cell: int = 5,
            conf: float = 0.95, n_boot: int = 1000, seed: int = 2024) -> Market:
    """Run every notebook-02 computation on a loaded Dataset and return a `Market`.

    `snapshot_date` None = the latest register snapshot. Recipients are counted at the end of
    the data (the latest date in it) when the latest snapshot is described, otherwise at the
    chosen snapshot. `area_level` is the column naming a person's or PA's area (area_code; or
    la_code to treat the council as one area).
    """
    chosen = choose_council(data.support_episodes, la_code)
    la_code = None if chosen == ALL_COUNCILS else chosen
    eps = for_council(data.support_episodes, la_code)
    register = council_register(data.pa_register, data.support_episodes, data.population,
                                la_code)
    requests = _requests_for(data.pa_requests, eps, la_code)
    population = adult_population(_broad_population(data.population), la_code)
    snaps = snapshot_dates(register)
    snapshot = choose_snapshot(register, snapshot_date)
    extract = extract_date(eps, register, requests)
    latest = snapshot is None or snapshot == snaps[-1]
    as_at = extract if latest else snapshot
    pas = active_pas(register, snapshot)
    recipients = dp_recipients(eps, as_at)
    employers = dp_recipients(eps, as_at, pa_only=True)
    comp = {by: composition(pas, employers, population, by, conf=conf) for by in DIMENSIONS}
    comp = {k: v for k, v in comp.items() if len(v)}
    broad = comp.get("ethnic_group_broad", pd.DataFrame(columns=["group", "source", "count"]))
    durations = recruitment_durations(requests, extract)
    params = {"la_code": la_code or ALL_COUNCILS, "snapshot_date": snapshot_date,
              "area_level": area_level,
              "target_days": list(map(int, target_days)),
              "discharge_target_days": int(discharge_target_days), "min_cell": int(min_cell),
              "conf": conf}
    quality = (data.quality[data.quality["table"].isin(TABLES)].reset_index(drop=True)
               if data.quality is not None else pd.DataFrame(columns=["table", "reason", "rows"]))
    return Market(
        params=params, snapshots=snaps, snapshot=snapshot, as_at=as_at, extract=extract,
        quality=quality, returns=returns_received(register), register=register, pas=pas,
        recipients=recipients,
        employers=employers, composition=comp,
        dissimilarity=dissimilarity(broad, conf=conf, n_boot=n_boot, seed=seed),
        representation=representation(broad, conf=conf),
        coverage=language_coverage(pas, recipients, area_level, conf=conf),
        grid=area_language_grid(pas, recipients, area_level),
        durations=durations, curves=recruitment_curves(durations, conf=conf),
        medians=recruitment_medians(durations, conf=conf),
        filled=recruitment_filled_by(durations, target_days, discharge_target_days, conf=conf),
        cox=recruitment_cox(durations, conf=conf),
        match=match_achieved(requests, register, conf=conf),
        sources=match_sources(requests, eps, conf=conf),
        change={by: snapshot_change(register, by, conf=conf)
                for by in ("all", "ethnic_group_broad", "language")},
        notes=_data_notes(data, eps, register, requests, area_level, la_code))


def _data_notes(data, eps: pd.DataFrame | None, register: pd.DataFrame | None,
                requests: pd.DataFrame | None, area_level: str,
                la_code: str | None = None) -> list[str]:
    """Plain statements about what the data lack (shown in Data and in Methods and caveats)."""
    notes = [w for w in getattr(data, "warnings", []) if any(t in w for t in TABLES)]
    if (la_code is not None and register is data.pa_register and register is not None
            and _several_councils(data.support_episodes)):
        notes.append(f"The PA register has no council or area codes matching {la_code}'s, so "
                     "PAs of every council in the data folder are compared with this council's "
                     "people.")
    if register is None or register.empty:
        notes.append("There is no PA register in this data folder, so nothing can be said "
                     "about who the PAs are or which languages they speak.")
    if requests is None or requests.empty:
        notes.append("There are no PA requests in this data folder, so time to recruit and "
                     "match achieved cannot be measured.")
    if eps is not None and "dp_used_for" not in eps:
        notes.append("support_episodes has no dp_used_for column, so every Direct Payment "
                     "holder is compared with the PAs, including those who buy agency care.")
    if eps is not None and "preferred_language" not in eps:
        notes.append("support_episodes has no preferred_language column, so language coverage "
                     "cannot be measured.")
    for frame, name in ((eps, "support_episodes"), (register, "pa_register")):
        if frame is not None and area_level not in frame:
            notes.append(f"{name} has no {area_level} column, so coverage by area cannot be "
                         "measured.")
    if register is not None and len(register) and "religion" not in register:
        notes.append("The PA register has no religion column, so faith is not described.")
    if requests is not None and len(requests) and "faith_preference" not in requests:
        notes.append("PA requests have no faith_preference column, so faith preferences are "
                     "not analysed.")
    if requests is not None and len(requests) and "match_source" not in requests:
        notes.append("PA requests have no match_source column, so how PAs were found is not "
                     "known.")
    return notes


# --------------------------------------------------------------------------- words
def _ci(row, fmt=fmt_share) -> str:
    """'95% CI a to b' for a row with lower, upper, conf."""
    return f"{100 * row['conf']:.0f}% CI {fmt(row['lower'])} to {fmt(row['upper'])}"


def _days(v: float) -> str:
    return "not reached" if pd.isna(v) else f"{v:.0f}"


def _place(m: Market) -> str:
    """'Leicester' or 'all councils in the data'."""
    la = m.params["la_code"]
    return place_name("all" if la == ALL_COUNCILS else la)


def _when(m: Market) -> str:
    return f"{m.snapshot:%B %Y}" if m.snapshot is not None else "no snapshot"


def _gap_sentence(row, m: Market) -> str:
    """'Somali speakers (3.1% of people with a Direct Payment): 64% of them (95% CI ...) live
    where no active PA speaks Somali, in 7 of the 12 areas they live in.' from one coverage row
    (short enough for key findings with a language name of several words)."""
    lang, n, without = row["language"], row["areas"], row["areas_without"]
    where = (f"all {n} areas" if without == n else f"{without} of the {n} areas") \
        if n > 1 else "the one area"
    return (f"{lang} speakers ({fmt_share(row['share_of_recipients'])} of people with a Direct "
            f"Payment): {fmt_share(row['value'])} of them ({_ci(row)}) live where no active PA "
            f"speaks {lang}, in {where} they live in.")


def key_findings(m: Market) -> list[str]:
    """3-6 plain sentences from the numbers, each with its uncertainty; disclosure-safe."""
    k = m.params["min_cell"]
    out = []
    cov = m.coverage[(m.coverage["language"] != "English") & m.coverage["value"].notna()]
    cov = cov[disclosure.share_shown(cov["no_pa_area"], cov["with_area"], k)
              & (cov["recipients"] >= k)
              & (cov["value"] > 0)]
    out += [_gap_sentence(r, m) for _, r in cov.head(2).iterrows()]
    med = m.medians[m.medians["group"] == ALL_REQUESTS]
    if len(med) and med["n"].iloc[0] >= k and pd.notna(med["value"].iloc[0]):
        r = med.iloc[0]
        f28 = m.filled[(m.filled["group"] == ALL_REQUESTS) & (m.filled["days"] == 28)]
        tail = (f"; {fmt_share(f28['value'].iloc[0])} were filled within 28 days "
                f"({_ci(f28.iloc[0])})" if len(f28) and pd.notna(f28["value"].iloc[0]) else "")
        out.append(f"Half of the {int(r['n']):,} requests for a PA were filled within "
                   f"{_days(r['value'])} days ({_ci(r, _days)} days){tail}.")
    slow = m.cox[m.cox["value"].notna() & (m.cox["upper"] < 1)
                 & (m.cox["preference"] != PREFERENCE_LABELS["hospital_discharge"])
                 ].sort_values("value")  # discharge is a need, not a PA to match
    for _, r in slow.head(1).iterrows():
        out.append(findings.hazard_ratio_sentence(
            f"requests that asked for a PA matching their {r['preference'].lower()}", r["value"],
            r["lower"], r["upper"], comparison="requests without that preference",
            event="were filled", conf=r["conf"]))
    hd = m.filled[(m.filled["group"] == PREFERENCE_LABELS["hospital_discharge"])
                  & (m.filled["days"] == m.params["discharge_target_days"])]
    n_hd = (m.durations["hospital_discharge"].sum() if len(m.durations) else 0)
    if len(hd) and pd.notna(hd["value"].iloc[0]) and n_hd >= k:
        r = hd.iloc[0]
        out.append(f"{fmt_share(r['value'])} of requests for people leaving hospital were "
                   f"filled within {m.params['discharge_target_days']} days ({_ci(r)}).")
    d = m.dissimilarity
    if len(d) and pd.notna(d["value"].iloc[0]):
        r = d.iloc[0]
        out.append(f"To mirror the ethnic mix of the people who employ them, "
                   f"{fmt_share(r['value'])} of active PAs would need to be from a different broad "
                   f"ethnic group (index of dissimilarity, {_ci(r)}).")
    return out[:6] if out else ["There are not enough data to report a finding safely."]


# --------------------------------------------------------------------------- results.json
GROUP_KEYS = {ALL_REQUESTS: "all", NO_PREFERENCE_GROUP: "no_preference",
              **{label: key for key, label in PREFERENCE_LABELS.items()}}


def estimates(m: Market) -> pd.DataFrame:
    """The key estimates for results.json (names in docs/planted_effects.md, 02 section), with
    the `note` that says why a limit is missing where the method gave one."""
    cols = ["name", "group", "reference", "value", "lower", "upper", "conf", "n", "note"]
    k = m.params["min_cell"]
    parts = []
    cox = m.cox[m.cox["value"].notna()]
    parts.append(cox.assign(name="recruitment_hazard_ratio", reference="no such preference"))
    cov = m.coverage[m.coverage["value"].notna()]
    cov = cov[disclosure.share_shown(cov["no_pa_area"], cov["with_area"], k)]
    parts.append(cov.assign(name="language_gap", group=cov["language"], reference="",
                            n=cov["with_area"]))
    med = m.medians[m.medians["n"] >= k]
    parts.append(med.assign(name="recruitment_median_days", group=med["group"].map(GROUP_KEYS),
                            reference=""))
    fb = m.filled[m.filled["n"] >= k]
    parts.append(fb.assign(name="recruitment_filled_share", reference="",
                           group=fb["group"].map(GROUP_KEYS) + ":" + fb["days"].astype(
                               int).astype(str)))
    dis = m.dissimilarity
    parts.append(dis.assign(name="pa_dissimilarity_index", n=dis["pas"], reference="",
                            group="ethnic_group_broad:" + dis["comparison"].map(
                                {f"{SOURCES['pas']} vs {SOURCES['recipients']}": "recipients",
                                 f"{SOURCES['pas']} vs {SOURCES['population']}": "population"})))
    rl = m.representation[m.representation["measure"] == "relative_likelihood"]
    rl = rl[~disclosure.small(rl["x"], k) & ~disclosure.small(rl["ref_x"], k)]
    parts.append(rl.assign(name="pa_relative_likelihood", reference="White", n=rl["x"]))
    mt = m.match[disclosure.share_shown(m.match["matched"], m.match["checked"], k)]
    parts.append(mt.assign(name="pa_match_share", reference="", n=mt["checked"],
                           group=mt["preference"].map(GROUP_KEYS)))
    ret = m.change["all"]
    ret = ret[disclosure.share_shown(ret["retained"], ret["active_from"], k)]
    parts.append(ret.assign(name="pa_retention", group="all", reference="",
                            n=ret["active_from"]))
    parts = [p.reindex(columns=cols) for p in parts if len(p)]
    # Estimates on small counts are left out (disclosure control covers results.json too).
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def record(m: Market, path: str = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(m), notebook="02_pa_market", parameters=m.params, path=path)
    findings.write_key_findings(key_findings(m), out.parent / "key_findings.md")
    return out


# --------------------------------------------------------------------------- display

def _table(df: pd.DataFrame, count_cols: Sequence[str], m: Market,
           rate_cols: dict[str, tuple[str, str]] | None = None, pct: Sequence[str] = (),
           caption: str = "", **kwargs) -> None:
    """Show a table through `style.table` (disclosure control); `pct` columns as percentages."""
    shown = df.copy()
    for c in pct:
        shown[c] = shown[c].map(fmt_share).astype(object)
    style.table(shown, count_cols=list(count_cols), rate_cols=rate_cols,
                threshold=m.params["min_cell"], caption=caption or None, decimals=1, **kwargs)


def _interval_text(df: pd.DataFrame) -> pd.Series:
    """'a to b' percentage strings for a frame's lower/upper (blank where missing)."""
    return df.apply(lambda r: "" if pd.isna(r["lower"]) else
                    f"{fmt_share(r['lower'])} to {fmt_share(r['upper'])}", axis=1)


def _ci_dots(d: pd.DataFrame, label: str, title: str, subtitle: str, xlabel: str, alt: str,
             *, ylabel: str, pct: bool = True, ref: float | None = None,
             log: bool = False) -> None:
    """Dots with CI lines, one row per label (`style.ci_chart`, `ylabel` naming the rows),
    shown with alt text."""
    k = 100 if pct else 1
    d = d.assign(**{c: d[c].astype(float) * k for c in ("value", "lower", "upper")})
    fig = style.ci_chart(d, label, "value", "lower", "upper", reference_line=ref, title=title,
                         subtitle=subtitle, xlabel=xlabel, ylabel=ylabel, log=log)
    style.show(fig, alt)


def _ratio_dots(d: pd.DataFrame, label: str, *, what: str, title: str, subtitle: str,
                xlabel: str, ylabel: str, after: str = "") -> None:
    """Ratios with CIs as dots on a log scale around 1 (`_ci_dots`); the alt text lists each
    one after "Dot chart of `what`:" and ends with `after`."""
    alt = (f"Dot chart of {what}: " + "; ".join(
        f"{getattr(r, label)} {r.value:.2f} ({r.lower:.2f} to {r.upper:.2f})"
        for r in d.itertuples()) + "." + (f" {after}" if after else ""))
    _ci_dots(d, label, title, subtitle, xlabel, alt, pct=False, ref=1.0, log=True, ylabel=ylabel)


# --- Key findings -----------------------------------------------------------------------
def show_key_findings(m: Market) -> None:
    """Key findings as a bullet list."""
    findings.key_findings(key_findings(m))


# --- Data -------------------------------------------------------------------------------
def show_snapshots(m: Market) -> None:
    """Register snapshots: agencies returning, PAs listed and active, at each snapshot."""
    if m.returns.empty:
        style.say("There is no PA register in this data folder.")
        return
    r = m.returns
    t = r.groupby("snapshot_date").agg(returns=("missing", lambda s: int((~s).sum())),
                                       agencies=("agency", "nunique")).reset_index()
    t["active"] = [len(active_pas(m.register, d)) for d in t["snapshot_date"]]
    t["snapshot_date"] = t["snapshot_date"].dt.strftime("%Y-%m-%d")
    t["returns"] = t["returns"].astype(str) + " of " + t["agencies"].astype(str)
    t = t.drop(columns="agencies").rename(columns={
        "snapshot_date": "Snapshot", "returns": "Agency returns received",
        "active": "Active PAs (each counted once)"})
    style.say(f"This report covers {_place(m)}. The register has {len(m.snapshots)} snapshot(s); "
              f"the report describes the one of {m.snapshot:%-d %B %Y}, and people with a Direct "
              f"Payment on {m.as_at:%-d %B %Y}.")
    _table(t, ["Active PAs (each counted once)"], m, caption="PA register snapshots")


def show_returns(m: Market) -> None:
    """PAs returned per agency per snapshot, a Total row, and which returns are missing."""
    if m.returns.empty:
        style.say("There is no PA register in this data folder.")
        return
    r = m.returns.assign(snapshot=m.returns["snapshot_date"].dt.strftime("%Y-%m-%d"))
    wide = r.pivot(index="agency", columns="snapshot", values="pas")
    snaps = list(wide.columns)
    wide.loc["Total"] = wide.sum()
    missing = r[r["missing"]].groupby("agency")["snapshot"].agg(", ".join)
    wide["No return for"] = [missing.get(a, "") for a in wide.index]
    wide = wide.reset_index().rename(columns={"agency": "Agency"})
    n_missing = int(r["missing"].sum())
    _table(wide, snaps, m, total_row=("Agency", "Total"),
           caption=f"PA listings returned by each agency at each snapshot; {n_missing} missing "
           "return(s), shown as 0 and named in the last column")


def _reason_label(reason: str) -> str:
    """The loader's reason code in words: 'future_date:start_date' -> 'excluded: future date
    (start_date)'."""
    if reason in REASON_LABELS:
        return REASON_LABELS[reason]
    code, _, col = str(reason).partition(":")
    return f"excluded: {code.replace('_', ' ')}" + (f" ({col})" if col else "")


def show_data_quality(m: Market) -> None:
    """Rows read, kept and excluded (with the reason) for the tables this notebook uses."""
    if m.quality.empty:
        style.say("No data-quality table is available.")
        return
    q = m.quality.assign(reason=m.quality["reason"].map(_reason_label)).rename(
        columns={"table": "File", "reason": "Rows kept or excluded, and why", "rows": "Rows"})
    _table(q, ["Rows"], m, caption="Rows read from each file: kept, or excluded and why")
    for note in m.notes:
        style.say(note)


# --- Who the PAs are --------------------------------------------------------------------
def composition_table(m: Market, by: str) -> pd.DataFrame:
    """One row per group, count and share in each source, and a Total row (except for
    languages, which a PA can have several of)."""
    comp = m.composition.get(by)
    if comp is None:
        return pd.DataFrame()
    srcs = [s for s in SOURCES.values() if s in set(comp["source"])]
    wide = comp.pivot_table(index="group", columns="source", values=["count", "value"],
                            aggfunc="first")
    out = pd.DataFrame({"Group": wide.index.astype(str)})
    for src in srcs:
        out[f"{src}: n"] = wide[("count", src)].fillna(0).astype("int64").to_numpy()
        out[f"{src}: %"] = wide[("value", src)].fillna(0).to_numpy()
    if by != "language":
        total = {"Group": "Total", **{f"{s}: n": int(out[f"{s}: n"].sum()) for s in srcs},
                 **{f"{s}: %": 1.0 for s in srcs}}
        out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    return out


def show_composition(m: Market, by: str = "ethnic_group_broad") -> None:
    """Composition table for one dimension: active PAs, DP recipients employing PAs, adults."""
    what = DIMENSIONS.get(by, by)
    t = composition_table(m, by)
    if t.empty:
        style.say(f"{what}: not recorded in this data, so not shown.")
        return
    counts = [c for c in t.columns if c.endswith(": n")]
    rates = {c[:-3] + ": %": (c, c) for c in counts}
    note = (" A PA can speak several languages, so shares add to more than 100%."
            if by == "language" else "")
    _table(t, counts, m, rate_cols=rates, pct=list(rates),
           total_row=None if by == "language" else ("Group", "Total"),
           caption=f"{what} of active PAs ({_when(m)}), of people with a Direct Payment used "
           f"for PAs{'' if by == 'language' else ', and of adults'}.{note}")


def _hidden_in_table(m: Market, comp: pd.DataFrame, by: str = "ethnic_group_broad"
                     ) -> pd.Series:
    """Rows of `comp` whose count the composition table suppresses, including cells hidden
    only so that a small group (e.g. 'Not stated', not charted) cannot be worked out from the
    total: the chart must not show what the table hides."""
    t = composition_table(m, by)
    counts = [c for c in t.columns if c.endswith(": n")]
    shown = disclosure.suppress(t, counts, threshold=m.params["min_cell"],
                                total_row=("Group", "Total")).set_index("Group")
    hidden = {(g, c[:-3]) for c in counts for g in shown.index
              if shown.loc[g, c] == disclosure.SUPPRESSED}
    return pd.Series([(g, src) in hidden for g, src in zip(comp["group"], comp["source"],
                                                           strict=True)],
                     index=comp.index, dtype=bool)


def show_composition_chart(m: Market) -> None:
    """Share of each broad ethnic group among PAs, recipients and adults (dots with CIs)."""
    comp = m.composition.get("ethnic_group_broad")
    k = m.params["min_cell"]
    if comp is None or comp.empty:
        style.say("Ethnic group is not recorded, so the composition chart is not shown.")
        return
    ok = comp[disclosure.share_shown(comp["count"], comp["total"], k)
              & ~_hidden_in_table(m, comp)]
    groups = [g for g in codes.BROAD_GROUPS if g in set(ok["group"])]
    pas = ok[ok["source"] == SOURCES["pas"]].set_index("group")["value"]
    rec_ = ok[ok["source"] == SOURCES["recipients"]].set_index("group")["value"]
    gap = (pas - rec_).dropna()
    if len(gap):
        g = gap.abs().idxmax()
        more = "more" if gap[g] > 0 else "less"
        title = (f"{g} people are {more} common among PAs ({fmt_share(pas[g])}) than among people "
                 f"who employ PAs ({fmt_share(rec_[g])})")
    else:
        title = "Ethnic mix of active PAs and of the people they could work for"
    fig, ax = style.figure(8, 0.6 * len(groups) + 2)
    y = np.arange(len(groups))[::-1]
    for i, src in enumerate(SOURCES.values()):
        d = ok[ok["source"] == src].set_index("group").reindex(groups)
        ax.errorbar(d["value"] * 100, y + (1 - i) * 0.2,
                    xerr=[(d["value"] - d["lower"]) * 100, (d["upper"] - d["value"]) * 100],
                    fmt="o", color=style.PALETTE[i], capsize=2, label=src)
    ax.set_yticks(y, groups)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    style.finish(fig, ax, title=title, subtitle=f"Share by broad ethnic group, {_when(m)}, 95% "
                 f"confidence intervals; groups with fewer than {k} people are not shown",
                 xlabel="% of each population", ylabel="")
    alt = ("Dot chart of the share of each broad ethnic group among active PAs, DP recipients "
           "who employ PAs and adults: " + "; ".join(
               f"{r.group} {r.source} {fmt_share(r.value)}" for r in ok.itertuples()) + ".")
    style.show(fig, alt)


def show_dissimilarity(m: Market) -> None:
    """Index of dissimilarity (broad ethnic groups) with its bootstrap CI."""
    d = m.dissimilarity
    if d.empty:
        style.say("The index of dissimilarity needs the ethnic group of PAs and of a comparison "
                  "population; it cannot be computed here.")
        return
    t = pd.DataFrame({"Comparison": d["comparison"], "Active PAs": d["pas"],
                      "People compared with": d["other"], "Index of dissimilarity": d["value"],
                      "95% CI": _interval_text(d)})
    _table(t, ["Active PAs", "People compared with"], m, pct=["Index of dissimilarity"],
           caption="Index of dissimilarity: the share of PAs who would need to be from a "
           "different broad ethnic group for the two mixes to match (0% = identical)")


def show_representation(m: Market) -> None:
    """Relative likelihood (SC-WRES) of adults in each group being an active PA, vs White."""
    k = m.params["min_cell"]
    rl = m.representation[m.representation["measure"] == "relative_likelihood"]
    rl = rl[~disclosure.small(rl["x"], k) & rl["value"].notna()]
    if rl.empty:
        style.say("Relative likelihoods need the adult population by ethnic group and enough PAs "
                  "in each group; they cannot be shown here.")
        return
    low = rl[rl["upper"] < 1]
    title = (f"Adults from {len(low)} ethnic group(s) are less likely than White adults to "
             "work as a PA" if len(low) else
             "No ethnic group is clearly less likely than White adults to work as a PA")
    _ratio_dots(rl, "group", what="the relative likelihood of adults in each broad ethnic group "
                "being an active PA compared with White adults", title=title,
                subtitle=f"Relative likelihood (SC-WRES) vs White adults, {_when(m)}, 95% CIs; "
                "1 = equally likely", xlabel="Relative likelihood (log scale)",
                ylabel="Ethnic group (broad)")


# --- Language coverage ------------------------------------------------------------------
def show_language_supply(m: Market) -> None:
    """For each language people with a DP prefer: how many, and active PAs who speak it."""
    c = m.coverage
    if c.empty:
        style.say("No one with a Direct Payment has a recorded preferred language, so language "
                  "coverage cannot be measured.")
        return
    c = c.sort_values("recipients", ascending=False).reset_index(drop=True)
    t = pd.DataFrame({"Language": c["language"], "People with a DP": c["recipients"],
                      "% of people with a DP": c["share_of_recipients"],
                      "Active PAs who speak it": c["pas"], "PAs per 10 people": c["pas_per_10"]})
    _table(t, ["People with a DP", "Active PAs who speak it"], m,
           rate_cols={"% of people with a DP": ("People with a DP", "People with a DP"),
                      "PAs per 10 people": ("Active PAs who speak it", "People with a DP")},
           pct=["% of people with a DP"],
           caption=f"Preferred languages of people with a Direct Payment ({m.as_at:%B %Y}) and "
           f"active PAs who speak them ({_when(m)})")


def show_language_gaps(m: Market) -> None:
    """Ranked gap table: people living where no active PA speaks their language (Wilson CI)."""
    c = m.coverage[m.coverage["with_area"] > 0]
    if c.empty:
        style.say("No one with a Direct Payment has both a recorded language and a recorded area, "
                  "so the gap by area cannot be measured.")
        return
    t = pd.DataFrame({
        "Language": c["language"],
        "Living where a PA speaks it": c["with_area"] - c["no_pa_area"],
        "Living where no PA speaks it": c["no_pa_area"], "People (area known)": c["with_area"],
        "% living where no PA speaks it": c["value"], "95% CI": _interval_text(c),
        "Areas where they live": c["areas"], "Areas with no PA speaking it": c["areas_without"]})
    gap = ("Living where no PA speaks it", "People (area known)")
    _table(t, ["Living where a PA speaks it", "Living where no PA speaks it"], m,
           total_col="People (area known)",
           rate_cols={"% living where no PA speaks it": gap, "95% CI": gap,
                      "Areas where they live": ("People (area known)", "People (area known)"),
                      "Areas with no PA speaking it": gap},
           pct=["% living where no PA speaks it"],
           caption="Language gaps, largest first (ranked by the lower end of the 95% CI): "
           f"people with a DP living in an area where no active PA ({_when(m)}) speaks their "
           "language")


def show_language_gap_chart(m: Market) -> None:
    """Share of each language's speakers living where no active PA speaks it (dots, CIs)."""
    k = m.params["min_cell"]
    c = m.coverage[m.coverage["value"].notna()]
    ok = c[disclosure.share_shown(c["no_pa_area"], c["with_area"], k)]
    hidden = len(c) - len(ok)
    if ok.empty:
        style.say("No language has enough speakers to chart its coverage without risking "
                  "disclosure.")
        return
    top = ok.iloc[0]
    title = (f"{fmt_share(top['value'])} of {top['language']} speakers with a DP live where no "
             f"active PA speaks {top['language']}")
    sub = (f"Share of each language's DP recipients living in an area with no active PA who "
           f"speaks it, {_when(m)}, 95% CIs" + (f"; {hidden} language(s) with fewer than {k} "
                                                 "people not shown" if hidden else ""))
    alt = ("Dot chart of the share of people with a DP living where no active PA speaks their "
           "language: " + "; ".join(f"{r.language} {fmt_share(r.value)} ({fmt_share(r.lower)} to "
                                    f"{fmt_share(r.upper)})" for r in ok.itertuples()) + ".")
    _ci_dots(ok, "language", title, sub, "% living where no active PA speaks their language",
             alt, ylabel="Preferred language")


def show_area_heatmap(m: Market, top: int = 8) -> None:
    """Areas x languages: active PAs who speak it per 10 speakers there; suppressed = [c].

    The `top` languages other than English with most speakers; areas where no cell can be shown
    are left out (and counted in the subtitle).
    """
    k = m.params["min_cell"]
    by_size = m.coverage.sort_values("recipients", ascending=False)
    langs = [x for x in by_size["language"] if x != "English"][:top]
    g = m.grid[m.grid["language"].isin(langs)]
    if g.empty:
        style.say("There are not enough people with a recorded area and language for an area "
                  "heatmap.")
        return
    wide_r = g.pivot(index="area", columns="language", values="recipients").reindex(
        columns=langs).fillna(0)
    wide_p = g.pivot(index="area", columns="language", values="pas").reindex(
        columns=langs).fillna(0)
    rec_shown = disclosure.suppress(wide_r, langs, threshold=k)
    pas_shown = disclosure.suppress(wide_p, langs, threshold=k)
    hidden = (rec_shown == disclosure.SUPPRESSED) | (pas_shown == disclosure.SUPPRESSED)
    rate = 10 * wide_p / wide_r.where(wide_r > 0)
    shown = rate.astype(object).where(~hidden, disclosure.SUPPRESSED)
    visible = rate.notna() & ~hidden
    if not visible.any().any():
        style.say("Every area-language cell holds fewer than "
                  f"{k} people or PAs, so the area heatmap is not shown.")
        return
    rows = visible.any(axis=1)
    shown, n_shown = shown[rows], int(visible.sum().sum())
    none = int(((rate == 0) & ~hidden).sum().sum())
    title = (f"{none} of {n_shown} area-language cells with enough people to show have no "
             "active PA living there who speaks the language" if none else "Every "
             "area-language cell with enough people to show has an active PA who speaks it")
    left_out = f"; {int((~rows).sum())} areas with nothing to show left out" if (~rows).any() \
        else ""
    fig = style.heatmap(shown, title=title,
                        subtitle=f"Active PAs who speak each language per 10 people with a DP "
                        f"who prefer it, by area, {_when(m)}; 0 = no active PA there speaks "
                        "it; blank = nobody there prefers it; "
                        f"{disclosure.SUPPRESSED} = fewer than {k} people or PAs{left_out}",
                        xlabel="Language", ylabel="Area code", fmt="{:,.0f}")
    style.show(fig, f"Heatmap of {len(shown)} areas by {len(langs)} languages: active PAs per "
               f"10 people with a DP who prefer the language; {none} of {n_shown} shown cells "
               f"have no PA who speaks it; {int(hidden[rows].sum().sum())} cells are "
               "suppressed.")


def _request_label(group: str) -> str:
    """'Requests stating a language preference', 'Hospital-discharge requests', ..."""
    if group == PREFERENCE_LABELS["hospital_discharge"]:
        return "Hospital-discharge requests"
    if group in (ALL_REQUESTS, NO_PREFERENCE_GROUP):
        return f"Requests with {group.lower()}" if group == NO_PREFERENCE_GROUP else group
    return f"Requests stating a {group.lower()} preference"


# --- Time to recruit --------------------------------------------------------------------
def show_recruitment_curves(m: Market, max_days: int = 182) -> None:
    """Kaplan-Meier curves: share of requests still waiting, by stated preference."""
    k = m.params["min_cell"]
    c = m.curves
    sizes = m.medians.set_index("group")["n"] if len(m.medians) else pd.Series(dtype=float)
    groups = [g for g in sizes.index if sizes[g] >= k]
    if len(groups) > len(style.PALETTE):  # one colour each; the table has all requests
        groups = [g for g in groups if g != ALL_REQUESTS][:len(style.PALETTE)]
    if c.empty or not groups:
        style.say("There are not enough PA requests to draw time-to-recruit curves.")
        return
    med = m.medians.set_index("group")
    slow = [(g, med.loc[g, "value"]) for g in groups if g != ALL_REQUESTS
            and pd.notna(med.loc[g, "value"])]
    title = "Time from a request to a PA starting"
    if slow and pd.notna(med.loc[ALL_REQUESTS, "value"]):
        g, v = max(slow, key=lambda x: x[1])
        title = (f"{_request_label(g)} waited longest: median {v:.0f} days against "
                 f"{med.loc[ALL_REQUESTS, 'value']:.0f} for all requests")
    d = c[c["group"].isin(groups) & (c["time"] <= max_days)]
    start = pd.DataFrame({"group": groups, "time": 0.0, "surv": 1.0, "lower": 1.0, "upper": 1.0})
    d = pd.concat([start, d[["group", "time", "surv", "lower", "upper"]]], ignore_index=True)
    d[["surv", "lower", "upper"]] = d[["surv", "lower", "upper"]] * 100
    fig = style.km_chart(d, value="surv", group="group", title=title,
                         subtitle="Kaplan-Meier estimate with 95% bands; open and withdrawn "
                         "requests are censored; groups overlap (a request can state several "
                         "preferences)", xlabel="Days since the request",
                         ylabel="% of requests still waiting")
    alt = ("Step chart of the share of PA requests still waiting by days since the request, "
           "for " + "; ".join(f"{g} (median {_days(med.loc[g, 'value'])} days)"
                              for g in groups) + ".")
    style.show(fig, alt)


def show_time_to_fill(m: Market) -> None:
    """Median days with CI and share filled within each target, by request group."""
    if m.medians.empty:
        style.say("There are no PA requests, so time to recruit cannot be measured.")
        return
    med = m.medians
    t = pd.DataFrame({"Requests": med["group"], "Number": med["n"].astype("int64"),
                      "Filled": med["events"].astype("int64"),
                      "Median days": med["value"].map(_days),
                      "95% CI (days)": med.apply(lambda r: f"{_days(r['lower'])} to "
                                                 f"{_days(r['upper'])}", axis=1)})
    fb = m.filled.assign(label=lambda d: "Filled within " + d["days"].astype(int).astype(str)
                         + " days")
    for label, part in fb.groupby("label", sort=False):
        part = part.set_index("group")
        # blank where the target is not set for the group (the discharge target applies to
        # hospital-discharge requests, and to all requests for comparison)
        share = part["value"].map(fmt_share)
        t[label] = t["Requests"].map(share).fillna("")
        t[label + " (95% CI)"] = t["Requests"].map(
            _interval_text(part.reset_index()).set_axis(part.index)).fillna("")
    days = m.params["discharge_target_days"]
    discharge = ("" if days in m.params["target_days"] else f". The {days}-day target is for "
                 "hospital discharge, shown for all requests to compare")
    rates = {c: ("Number", "Number") for c in t.columns if c.startswith("Filled within")}
    rates.update({"Median days": ("Number", "Number"), "95% CI (days)": ("Number", "Number")})
    _table(t, ["Number", "Filled"], m, rate_cols=rates,
           caption="Days from request to a PA starting (Kaplan-Meier; open and withdrawn "
           "requests count for as long as they were observed, never dropped)" + discharge)


def show_recruitment_cox(m: Market) -> None:
    """Hazard ratios of being filled, each preference type vs none (Cox PH)."""
    c = m.cox[m.cox["value"].notna()]
    if c.empty:
        style.say("There are too few filled requests to model who waits longer.")
        return
    slow = c[c["upper"] < 1]
    title = (f"Requests stating a {' or '.join(slow['preference'].str.lower())} preference "
             "take longer to fill" if len(slow) else
             "None of the stated preferences clearly changes how quickly a request is filled")
    _ratio_dots(c, "preference", what="hazard ratios of a request being filled, for requests "
                "stating each preference against those that do not", title=title,
                subtitle="Hazard ratio of being filled (Cox model, each type adjusted for the "
                "others), 95% CIs; below 1 = waits longer", xlabel="Hazard ratio: how quickly "
                "filled, against requests without the preference (log scale)",
                ylabel="Stated preference", after="Below 1 means slower.")
    skipped = m.cox[m.cox["value"].isna()]
    for r in skipped.itertuples():
        style.say(f"{r.preference}: not in the model ({r.note}).")


# --- Match achieved ---------------------------------------------------------------------
def show_match(m: Market) -> None:
    """Of filled requests with each preference, the share whose PA matched it (Wilson CI)."""
    t = m.match
    if t.empty:
        style.say("No filled request states a preference whose match can be checked against the "
                  "register.")
        return
    d = pd.DataFrame({"Preference": t["preference"], "Filled requests stating it": t["filled"],
                      "PA found on the register": t["checked"], "Matched": t["matched"],
                      "% matched": t["value"], "95% CI": _interval_text(t),
                      "PA not on the register": t["not_on_register"]})
    _table(d, ["Filled requests stating it", "PA found on the register", "Matched",
               "PA not on the register"], m,
           rate_cols={"% matched": ("Matched", "PA found on the register"),
                      "95% CI": ("Matched", "PA found on the register")},
           pct=["% matched"], caption="Match achieved: of filled requests stating a "
           "preference, the share whose PA met it")


def show_match_sources(m: Market) -> None:
    """How PAs were found, by the person's broad ethnic group (share of filled requests)."""
    s = m.sources
    if s.empty:
        style.say("How PAs were found is not recorded (no match_source column), or no request "
                  "was filled.")
        return
    s = s.assign(source=s["source"].map(lambda v: SOURCE_LABELS.get(v, v.capitalize())))
    wide = s.pivot(index="group", columns="source", values="requests").fillna(0)
    srcs = list(wide.columns)
    wide = wide.astype("int64")
    wide["Filled requests"] = wide.sum(axis=1)
    order = [g for g in [ALL_REQUESTS, *codes.BROAD_GROUPS, "Not known"] if g in wide.index]
    wide = wide.reindex(order).reset_index().rename(columns={"group": "Group"})
    for c in srcs:
        wide[f"% {c}"] = wide[c] / wide["Filled requests"]
    rates = {f"% {c}": (c, "Filled requests") for c in srcs}
    fam = s[(s["group"] == ALL_REQUESTS) & (s["source"] == SOURCE_LABELS["family member"])]
    cap = "How PAs were found, by the person's ethnic group"
    if len(fam) and disclosure.share_shown(fam["requests"].iloc[0], fam["total"].iloc[0],
                                        m.params["min_cell"]):
        cap += (f": {fmt_share(fam['value'].iloc[0])} of filled requests were filled by a family "
                f"member ({_ci(fam.iloc[0])}); relatives, including those living elsewhere, "
                "may be employed as PAs")
    _table(wide, srcs, m, rate_cols=rates, pct=list(rates), total_col="Filled requests",
           total_row=("Group", ALL_REQUESTS), caption=cap)


# --- Change between snapshots -----------------------------------------------------------
def show_change(m: Market, by: str = "all") -> None:
    """Joiners, leavers, net change and retention between the last two snapshots."""
    ch = m.change.get(by, pd.DataFrame())
    if len(m.snapshots) < 2:
        style.say(f"The register has only {len(m.snapshots)} snapshot(s)"
                  + (f" ({m.snapshots[0]:%d %B %Y})" if m.snapshots else "")
                  + ": change between snapshots needs at least two.")
        return
    if ch.empty:
        style.say("No active PAs to compare between the last two snapshots.")
        return
    what = {"all": "All PAs", "ethnic_group_broad": "Broad ethnic group",
            "language": "Language"}.get(by, by)
    t = pd.DataFrame({what: ch["group"], "Stayed": ch["retained"], "Left": ch["leavers"],
                      "Joined": ch["joiners"], "Net change": ch["net"],
                      "Retention": ch["value"], "95% CI": _interval_text(ch)})
    rates = {"Net change": ("Joined", "Left"), "Retention": ("Stayed", "Left"),
             "95% CI": ("Stayed", "Left")}
    r0 = ch.iloc[0]
    extra = {}
    if by == "ethnic_group_broad":
        total = m.change["all"]
        t = pd.concat([t, pd.DataFrame({what: ["All PAs"], "Stayed": total["retained"],
                                        "Left": total["leavers"], "Joined": total["joiners"],
                                        "Net change": total["net"], "Retention": total["value"],
                                        "95% CI": _interval_text(total)})], ignore_index=True)
        extra = {"total_row": (what, "All PAs")}
    note = " (a PA who speaks two languages counts in both)" if by == "language" else ""
    _table(t, ["Stayed", "Left", "Joined"], m, rate_cols=rates, pct=["Retention"],
           caption=f"Active PAs at {r0['from_date']:%d %B %Y} who stayed or left by "
           f"{r0['to_date']:%d %B %Y}, and PAs who joined"
           f"{'' if by == 'all' else ' by ' + what.lower()}{note}; "
           "retention = share who stayed", **extra)


# --- Methods and caveats ----------------------------------------------------------------
_AREA_WORDS = {"area_code": "ward or small area", "la_code": "the whole council"}


def show_methods(m: Market) -> None:
    """Methods and caveats, including what the data lack."""
    k = m.params["min_cell"]
    area = _AREA_WORDS.get(m.params["area_level"], m.params["area_level"])
    end = f" ({m.extract:%d %B %Y})" if m.extract is not None and pd.notna(m.extract) else ""
    lines = [
        "- **The register only holds PAs known to the support agencies.** PAs employed "
        "directly (found by word of mouth, or family members) are missing unless an agency "
        "lists them, so coverage gaps may be smaller in reality, and unknowable from here.",
        f"- **Who the PAs are.** Active PAs at the {_when(m)} snapshot, each counted once "
        "however many agencies list them, against people with a Direct Payment used for PAs "
        "(alone or with agency care) and the adult population. Shares have Wilson 95% CIs. The "
        "index of dissimilarity (Duncan) has a percentile bootstrap CI; it is biased upwards "
        "when counts are small. Relative likelihood follows the Social Care Workforce Race "
        "Equality Standard: (PAs / adults) in a group over the same for White adults, each "
        "group on its own (groups are never merged).",
        f"- **Language coverage.** People with a Direct Payment on {m.as_at:%d %B %Y} by "
        f"preferred language, against active PAs at the {_when(m)} snapshot who list the "
        f"language. An area ({area}) counts as having no PA who speaks it when no active PA "
        "living in it lists it. PAs may travel beyond their area, so this is a measure of local "
        "supply. 'Not recorded' is not treated as English.",
        "- **Time to recruit.** Kaplan-Meier from request to filled; withdrawn requests are "
        f"censored at withdrawal and open ones at the end of the data{end}; none is dropped. "
        "Medians with log-transformed CIs (as R's survfit). A Cox proportional-hazards model "
        "(Efron ties) with one indicator per preference type gives hazard ratios: below 1 "
        "means such requests are filled more slowly.",
        "- **Match achieved.** The PA who filled a request is looked up on the register by "
        "their PA number; PAs not on the register are counted apart and left out of the share.",
        "- **Councils.** The register has no council column, so when the data hold several "
        "councils a PA belongs to the council whose areas include where the PA lives.",
        f"- **Disclosure control.** Counts of 1 to {k - 1}, and figures from which they could "
        "be worked out, are shown as [c]; charts leave out groups with such counts. No "
        "person-level row or identifier is shown.",
    ]
    lacks = "\n".join(f"- {n}" for n in m.notes)
    lacking = f"\n\n**What this data folder lacks.**\n{lacks}" if lacks else ""
    style.say("\n".join(lines) + lacking)
