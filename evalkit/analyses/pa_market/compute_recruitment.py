"""Notebook 02's requests to recruit a PA: how long they wait (Kaplan-Meier, medians, share filled
by each target, a Cox model of who waits longer), whether the PA found matched the preference
stated, and how the PA was found.

`recruitment_durations` is the one frame of one row per request; it stays inside the analysis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalkit.analyses.pa_market.compute_register import isin, latest
from evalkit.data import codes
from evalkit.stats import survival
from evalkit.stats.indicators import proportion

TARGET_DAYS = (14, 28, 56)
DISCHARGE_TARGET_DAYS = 7
WAITING_MAX_DAYS, WAITING_STEP = 182, 7  # the chart: weekly, about six months
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
DATE_COLUMNS = ("request_date", "outcome_date", "snapshot_date", "start_date", "end_date")


# --------------------------------------------------------------------------- the requests
def council_requests(requests: pd.DataFrame | None, episodes: pd.DataFrame | None,
                  la_code: str | None) -> pd.DataFrame | None:
    """Requests of people in the chosen council (requests carry no la_code of their own)."""
    if requests is None or la_code is None or episodes is None:
        return requests
    return requests[isin(requests["person_id"], episodes["person_id"]).to_numpy()].reset_index(
        drop=True)


def stated(values: pd.Series) -> pd.Series:
    """True where a preference column states a preference (not blank, 'none', 'any', ...)."""
    text = values.astype("string").str.strip().str.lower()
    return (~text.isin(NO_PREFERENCE) & text.notna()).astype(bool)


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
    no outcome_date): censored at the extract date. `to_end`: days from the request to the
    extract date (how long it could have been followed). One boolean column per preference type
    (language, ethnicity, gender, faith where recorded, hospital_discharge) and `any_preference`.
    `person_id`: whose request (one person's requests are not independent; each request its own
    unit when the column is absent). Internal frame for the survival methods; never displayed.
    """
    cols = ["days", "to_end", "filled", "outcome", *PREFERENCE_LABELS, "any_preference",
            "person_id"]
    if requests is None or requests.empty:
        return pd.DataFrame(columns=cols)
    req = requests.copy()
    extract = extract_date(req) if extract is None or pd.isna(extract) else pd.Timestamp(extract)
    outcome = req["outcome"].astype("string").str.strip().str.lower()
    filled = outcome == "filled"
    end = pd.to_datetime(req.get("outcome_date")) if "outcome_date" in req else pd.NaT
    end = pd.Series(end, index=req.index)
    end = end.where(filled | (outcome == "withdrawn"), extract).fillna(extract)
    requested = pd.to_datetime(req["request_date"])
    out = pd.DataFrame({"days": (end - requested).dt.days.astype("float64"),
                        "to_end": (extract - requested).dt.days.astype("float64"),
                        "filled": filled.astype(bool), "outcome": outcome})
    for kind, col in PREFERENCE_COLUMNS.items():
        out[kind] = stated(req[col]) if col in req else False
    hd = req["hospital_discharge"] if "hospital_discharge" in req else False
    out["hospital_discharge"] = pd.Series(hd, index=req.index).fillna(False).astype(bool)
    out["any_preference"] = out[list(PREFERENCE_COLUMNS)].any(axis=1)
    out["person_id"] = req["person_id"] if "person_id" in req else np.arange(len(req))
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


def followed_filled(durations: pd.DataFrame, n: int) -> tuple[pd.Series, pd.Series]:
    """Which requests were followed for `n` days, and which were filled within them
    (`filled_within`)."""
    quit_early = (durations["outcome"] == "withdrawn") & (durations["days"] < n)
    followed = (durations["to_end"] >= n) & ~quit_early
    return followed, followed & durations["filled"] & (durations["days"] <= n)


def filled_within(durations: pd.DataFrame, days: Sequence[int],
                  conf: float = 0.95) -> pd.DataFrame:
    """Per request group and each of `days` N: requests followed for N days and, of those, filled
    within N days, with the share filled (Wilson CI).

    Followed for N days: made at least N days before the end of the data and not withdrawn
    unfilled within N days (a request withdrawn earlier, or too recent, has no known outcome at
    N days). Both are counts of requests, so disclosure control can protect them and the share
    can be recomputed from the protected counts (no Kaplan-Meier share times number at risk).
    On the synthetic data this is within 0.01 to 0.02 of 1 - KM S(N), slightly above it.
    """
    cols = ["group", "days", "followed", "filled", "value", "lower", "upper", "conf", "note"]
    stacked = _stack_groups(durations)
    if stacked.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for n in sorted(set(map(int, days))):
        followed, within = followed_filled(stacked, n)
        counts = pd.DataFrame({"group": stacked["group"], "followed": followed,
                               "filled": within}).groupby("group", sort=False).sum()
        rows.append(counts.reset_index().assign(days=n))
    counts = pd.concat(rows, ignore_index=True).astype({"followed": "int64", "filled": "int64"})
    est = proportion(counts, "filled", "followed", by=["group", "days"], conf=conf)
    out = counts.merge(est[["group", "days", "value", "lower", "upper", "conf", "note"]],
                       on=["group", "days"], how="left")
    out["note"] = out["note"].where(out["followed"] > 0, "no request was followed this long")
    return _in_group_order(out, list(recruitment_groups(durations)))[cols]


def recruitment_filled_by(durations: pd.DataFrame, target_days: Sequence[int] = TARGET_DAYS,
                          discharge_target_days: int = DISCHARGE_TARGET_DAYS,
                          conf: float = 0.95) -> pd.DataFrame:
    """Share of requests filled within each target, per group (`filled_within`).

    Every group gets `target_days`; the hospital-discharge group (and all requests, to compare)
    also gets `discharge_target_days`.
    """
    out = filled_within(durations, [*target_days, discharge_target_days], conf=conf)
    keep = out["days"].isin(list(map(int, target_days))) | (
        out["group"].isin([PREFERENCE_LABELS["hospital_discharge"], ALL_REQUESTS])
        & (out["days"] == int(discharge_target_days)))
    return out[keep].reset_index(drop=True)


def recruitment_waiting(durations: pd.DataFrame, max_days: int = WAITING_MAX_DAYS,
                        step: int = WAITING_STEP, conf: float = 0.95) -> pd.DataFrame:
    """`filled_within` every `step` days up to `max_days`: the points of the time-to-recruit
    chart, drawn from counts that disclosure control protects."""
    return filled_within(durations, range(step, max_days + 1, step), conf=conf)


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


def _inseparable(durations: pd.DataFrame, kinds: list[str]) -> dict[str, str]:
    """Why each of `kinds` whose indicator the ones before it already give, among the requests
    in a risk set (centred: a Cox model has no intercept), cannot enter the model: e.g. stated
    in exactly the same requests as another type, its effect cannot be told apart."""
    at = durations[survival.at_risk(durations, "days", "filled")]
    kept: list[str] = []
    why = {}
    for kind in kinds:
        x = at[[*kept, kind]].to_numpy(float)
        if np.linalg.matrix_rank(x - x.mean(axis=0)) > len(kept):
            kept.append(kind)
        else:
            why[kind] = ("it cannot be told apart from the other preferences stated in the same "
                         "requests")
    return why


def _cells(durations: pd.DataFrame, kind: str) -> dict[str, int]:
    """Requests with and without a preference type, filled or not: the outcome categories its
    hazard ratio compares (disclosure control publishes the ratio only when each is large)."""
    has, filled = durations[kind].astype(bool), durations["filled"].astype(bool)
    return {"with_filled": int((has & filled).sum()), "with_waiting": int((has & ~filled).sum()),
            "without_filled": int((~has & filled).sum()),
            "without_waiting": int((~has & ~filled).sum())}


def recruitment_cox(durations: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Hazard ratio of being filled for requests stating each preference type vs not stating it.

    Cox PH (`survival.cox`, Efron ties) with one indicator per preference type (and hospital
    discharge), each adjusted for the others. HR < 1: such requests wait longer. A type that
    cannot be estimated (`_not_modelled`: no or every request states it, or no request on one
    side of it was filled) is left out, with a row saying why. Each row also counts the requests
    with and without the type, filled or not (`_cells`), and `df`, the model's residual degrees
    of freedom (requests less coefficients). Standard errors are clustered by person when someone
    made several requests (they are not independent; `method` says which errors were used);
    `ph_p_value` is the proportional-hazards check.
    """
    cols = ["preference", "group", "requests_with", "value", "lower", "upper", "conf",
            "p_value", "ph_p_value", "n", "events", "with_filled", "with_waiting", "without_filled",
            "without_waiting", "df", "method", "note"]
    if durations.empty or not durations["filled"].any():
        return pd.DataFrame(columns=cols)
    why = {k: _not_modelled(durations, k) for k in PREFERENCE_LABELS}
    why |= _inseparable(durations, [k for k, reason in why.items() if not reason])
    usable = [k for k, reason in why.items() if not reason]
    rows = [{"preference": PREFERENCE_LABELS[k], "group": k,  # no model, so no method
             "requests_with": int(durations[k].sum()), **_cells(durations, k), "method": None,
             "note": why[k]} for k in PREFERENCE_LABELS if k not in usable]
    if usable:
        frame = durations[["days", "filled", *usable]].astype({k: int for k in usable})
        frame["person_id"] = (durations["person_id"] if "person_id" in durations
                              else np.arange(len(durations)))  # else each request its own unit
        repeated = frame["person_id"].duplicated().any()
        fit = survival.cox(frame, "days", "filled", usable, conf=conf,
                           cluster="person_id" if repeated else None)
        cells = pd.DataFrame([_cells(durations, k) for k in usable], index=fit.index)
        fit = fit.assign(group=[k for k in usable],
                         preference=[PREFERENCE_LABELS[k] for k in usable],
                         requests_with=[int(durations[k].sum()) for k in usable],
                         df=len(durations) - len(usable), note="", **cells.to_dict("series"))
        rows = [*fit.to_dict("records"), *rows]
    return pd.DataFrame(rows).reindex(columns=cols)


# --------------------------------------------------------------------------- match achieved
def _latest_pa_rows(register: pd.DataFrame) -> pd.DataFrame:
    """Each PA's most recent register row (for the languages, ethnicity, gender, religion)."""
    return latest(register, "pa_id", "snapshot_date").set_index("pa_id")


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
    est = proportion(ok, "matched", "checked", by="preference", conf=conf) \
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
        who = latest(eps, "person_id", "start_date").set_index("person_id")[by]
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
    return proportion(n, "requests", "total", by=["group", "source"], conf=conf)[cols]
