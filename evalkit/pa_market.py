"""Notebook 02: can people find a Personal Assistant who speaks their language, near them, in time?

Compute functions take the loader's tables and return tidy frames (no person-level rows leave
them except the internal `durations` frame used by the survival methods); `analyse` runs them all
once; the `show_*` functions each display one chart or one disclosure-controlled table, so that a
notebook cell is a single call.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evalkit import stats
from evalkit.data import codes
from evalkit.methods import survival

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
PA_USES = frozenset({"pa", "mixed"})
NOT_RECORDED = "Not recorded"
SOURCES = {"pas": "Active PAs", "recipients": "DP recipients employing PAs",
           "population": "Adult population"}


# --------------------------------------------------------------------------- preparation
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


def pa_employers(episodes: pd.DataFrame | None, at: pd.Timestamp | None,
                 la_code: str | None = None) -> pd.DataFrame:
    """People with a Direct Payment used for PAs (dp_used_for PA or mixed) ongoing at `at`.

    One row per person. Without `dp_used_for` every DP holder counts (a caveat the notebook
    states). Without `at` (no register) the latest start date in the data is used.
    """
    if episodes is None or episodes.empty:
        return pd.DataFrame(columns=["person_id", "preferred_language"])
    eps = episodes if la_code is None else episodes[episodes["la_code"] == la_code]
    at = pd.Timestamp(at) if at is not None else pd.to_datetime(eps["start_date"]).max()
    ongoing = (eps["start_date"] <= at) & (eps["end_date"].isna() | (eps["end_date"] > at))
    keep = ongoing & eps["has_dp"].fillna(False).astype(bool)
    if "dp_used_for" in eps:
        keep &= eps["dp_used_for"].astype("string").str.strip().str.lower().isin(PA_USES)
    people = eps[keep].sort_values("start_date").drop_duplicates("person_id", keep="last")
    if "preferred_language" not in people:
        people = people.assign(preferred_language=NOT_RECORDED)
    return people.reset_index(drop=True)


def adult_population(population: pd.DataFrame | None, la_code: str | None = None) -> pd.DataFrame:
    """Population aged 18+ (rows whose age band is not 'Under 18'), for one council or all."""
    if population is None or population.empty:
        return pd.DataFrame(columns=["ethnic_group", "population"])
    pop = population if la_code is None else population[population["la_code"] == la_code]
    if "age_band" in pop:
        pop = pop[~pop["age_band"].astype("string").str.lower().str.startswith("under")]
    return pop.reset_index(drop=True)


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
    share no_pa_area / with_area with a Wilson interval (value, lower, upper). Ranked by the gap,
    then by recipients. 'Not recorded' is not a language and is left out.
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
    out = out.sort_values(["value", "recipients"], ascending=[False, False], na_position="last")
    return out.reset_index(drop=True)[cols]


# --------------------------------------------------------------------------- time to recruit
def extract_date(requests: pd.DataFrame, register: pd.DataFrame | None = None) -> pd.Timestamp:
    """The date the data were extracted: the latest date seen in the requests or the register."""
    dates = [pd.to_datetime(requests[c]).max() for c in ("request_date", "outcome_date")
             if c in requests]
    if register is not None and len(register):
        dates.append(pd.to_datetime(register["snapshot_date"]).max())
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
    return (register.sort_values("snapshot_date").drop_duplicates("pa_id", keep="last")
            .set_index("pa_id"))


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
    on_reg = req["pa_id"].isin(pa.index) if "pa_id" in req else pd.Series(False, req.index)
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
            spoken = who["languages"].map(lambda v: set(codes.languages(v).split(";")))
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
        who = (episodes.sort_values("start_date").drop_duplicates("person_id", keep="last")
               .set_index("person_id")[by])
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
    for d0, d1 in pairs:
        g0 = _pa_groups(active_pas(register, pd.Timestamp(d0)), by)
        g1 = _pa_groups(active_pas(register, pd.Timestamp(d1)), by)
        ids0, ids1 = set(g0["pa_id"]), set(g1["pa_id"])
        g0 = g0.assign(stays=g0["pa_id"].isin(ids1))
        g1 = g1.assign(new=~g1["pa_id"].isin(ids0))
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


def recruitment_cox(durations: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Hazard ratio of being filled for requests stating each preference type vs not stating it.

    Cox PH (`survival.cox`, Efron ties) with one indicator per preference type (and hospital
    discharge), each adjusted for the others. HR < 1: such requests wait longer. A type that
    no request (or every request) states is left out, with a row saying why.
    """
    cols = ["preference", "group", "requests_with", "value", "lower", "upper", "conf",
            "p_value", "n", "events", "note"]
    if durations.empty or not durations["filled"].any():
        return pd.DataFrame(columns=cols)
    usable = [k for k in PREFERENCE_LABELS if 0 < durations[k].sum() < len(durations)]
    rows = [{"preference": PREFERENCE_LABELS[k], "group": k,
             "requests_with": int(durations[k].sum()),
             "note": "no request states it" if durations[k].sum() == 0
             else "every request states it"} for k in PREFERENCE_LABELS if k not in usable]
    if usable:
        frame = durations[["days", "filled", *usable]].astype({k: int for k in usable})
        fit = survival.cox(frame, "days", "filled", usable, conf=conf)
        fit = fit.assign(group=[k for k in usable],
                         preference=[PREFERENCE_LABELS[k] for k in usable],
                         requests_with=[int(durations[k].sum()) for k in usable], note="")
        rows = [*fit.to_dict("records"), *rows]
    return pd.DataFrame(rows).reindex(columns=cols)
