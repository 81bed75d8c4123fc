"""The PA register (one file per agency) and requests to recruit a PA, with planted gaps and
recruitment hazard ratios (docs/planted_effects.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.synth import facts as F
from evalkit.synth.columns import area_codes, days, ethnicity_text, flags, ids, text
from evalkit.synth.people import DAY0, DAY_END, draw

AGENCIES = ("Agency A", "Agency B", "Agency C")
AGENCY_SHARE = (0.5, 0.3, 0.2)  # estimate
SNAPSHOTS = np.array([np.datetime64(d) for d in ("2023-04-01", "2023-10-01", "2024-04-01",
                                                 "2024-10-01", "2025-04-01", "2025-10-01")])


def pa_register(people: pd.DataFrame, table: pd.DataFrame, p_eth: np.ndarray, profile: str,
                rng: np.random.Generator) -> pd.DataFrame:
    """PA register rows (all agencies), one per PA per agency per snapshot while listed."""
    dp_snap = np.bincount(people["council"][people["dp"] & people["snap"]], minlength=len(table))
    n_pa = np.maximum(1, np.round(F.PA_PER_DP * dp_snap)).astype(int)  # W5/D2
    council = np.repeat(np.arange(len(table)), n_pa)
    n = len(council)
    eth = draw(np.cumsum(p_eth[:, 0, :], 1)[council], rng.random(n))  # W11: working-age mix
    broad = np.array([F.BROAD.index(b) for b in F.ETHNIC_BROAD])[eth]
    lang = draw(np.cumsum(F.LANG_TABLE[profile][eth], 1), rng.random(n))
    area = (rng.random(n) * F.N_AREAS).astype(int)
    # PAs live where people of their council and broad group live: copy a random such person's area
    person_key = (people["council"] * 5 + people["broad"]).to_numpy()
    order = np.argsort(person_key, kind="stable")
    lo = np.searchsorted(person_key[order], council * 5 + broad, "left")
    hi = np.searchsorted(person_key[order], council * 5 + broad, "right")
    donor = order[np.minimum(lo + (rng.random(n) * (hi - lo)).astype(int), len(order) - 1)]
    area = np.where(hi > lo, people["area"].to_numpy()[donor], area)
    for gap in F.GAP_LANGUAGES:  # planted gaps: few speakers, in few areas
        m = lang == F.LANGUAGES.index(gap)
        keep = m & (rng.random(n) < F.GAP_KEEP)
        lang[m & ~keep] = 0
        spots = rng.integers(0, F.N_AREAS, (len(table), F.GAP_AREAS))
        area[keep] = spots[council[keep], rng.integers(0, F.GAP_AREAS, keep.sum())]
    lang_lists = ["English", *(";".join(sorted(["English", x])) for x in F.LANGUAGES[1:])]
    join = np.where(rng.random(n) < 0.7, 0, rng.integers(1, len(SNAPSHOTS), n))
    leave = join + rng.geometric(F.PA_LEAVE_PER_HALF_YEAR, n)
    last = np.minimum(leave, len(SNAPSHOTS) - 1)
    n_rows = last - join + 1
    row_pa = np.repeat(np.arange(n), n_rows)
    snap = join[row_pa] + (np.arange(len(row_pa)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows))
    left = snap == leave[row_pa]
    status = np.where(left, 2, np.where(rng.random(len(row_pa)) < F.PA_INACTIVE, 1, 0))
    agency = rng.choice(3, n, p=AGENCY_SHARE)
    second = np.where(rng.random(n) < F.PA_SECOND_AGENCY, (agency + rng.integers(1, 3, n)) % 3, -1)
    dup = np.flatnonzero(second[row_pa] >= 0)
    rows = np.concatenate([np.arange(len(row_pa)), dup])  # second listings repeat the rows
    who = row_pa[rows]
    agency_idx = np.concatenate([agency[row_pa], second[row_pa][dup]])
    female = rng.random(n) < F.PA_FEMALE  # W11
    eth_text = ethnicity_text(eth, rng).to_numpy()
    hours = np.where(left, np.nan, rng.integers(5, 41, len(row_pa)).astype(float))
    frame = pd.DataFrame({
        "snapshot_date": pd.Series(SNAPSHOTS[snap[rows]]).astype("datetime64[ns]"),
        "pa_id": ids("PA", who + 1, 7),
        "agency": text(AGENCIES, agency_idx),
        "ethnicity": pd.Series(pd.array(eth_text[who], dtype="str")),
        "gender": text(["Male", "Female"], female[who].astype(int)),
        "languages": text(lang_lists, lang[who]),
        "area_code": area_codes(council[who], area[who], len(table)),
        "status": text(codes.PA_STATUSES, status[rows]),
        "hours_available": hours[rows],
        "la_code": text(table["la_code"].tolist(), council[who]),
    })
    return frame


def pa_requests(people: pd.DataFrame, episodes: pd.DataFrame, register: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    """Requests to recruit a PA: Weibull PH times (R1, R2), withdrawal censoring, open at end."""
    employer = people["dp"].to_numpy() & np.isin(people["used_for"], [0, 2])  # PA or mixed
    idx = np.flatnonzero(employer)
    lo = np.maximum(people["pay"].to_numpy()[idx], DAY0)
    end = people["end"].to_numpy()[idx]
    hi = np.where(end < 0, DAY_END, end)
    years = np.maximum(hi - lo, 0) / 365.25
    k = rng.poisson(F.REQUESTS_PER_EMPLOYER_YEAR * years)
    who = np.repeat(idx, k)
    n = len(who)
    req = np.repeat(lo, k) + (rng.random(n) * np.repeat(hi - lo, k)).astype(np.int64)
    lang = people["lang"].to_numpy()[who]
    want_lang = (lang > 0) & (people["interp"].to_numpy()[who]
                              | (rng.random(n) < F.PREFERENCE_P["language"]))
    minority = people["broad"].to_numpy()[who] != F.BROAD.index("White")
    want_eth = rng.random(n) < np.where(minority, F.PREFERENCE_P["ethnicity_minority"],
                                        F.PREFERENCE_P["ethnicity_white"])
    want_gender = rng.random(n) < F.PREFERENCE_P["gender"]
    discharge = rng.random(n) < F.PREFERENCE_P["hospital_discharge"]
    hr = (np.where(want_lang, F.RECRUIT_HR["language"], 1.0)
          * np.where(want_eth, F.RECRUIT_HR["ethnicity"], 1.0)
          * np.where(want_gender, F.RECRUIT_HR["gender"], 1.0)
          * np.where(discharge, F.RECRUIT_HR["hospital_discharge"], 1.0))
    eta = F.MEDIAN_FILL_DAYS / np.log(2) ** (1 / F.WEIBULL_SHAPE)  # R1 median
    t_fill = np.maximum(1, np.ceil(eta * (rng.exponential(1, n) / hr) ** (1 / F.WEIBULL_SHAPE)))
    t_wd = np.maximum(1, np.ceil(rng.exponential(F.WITHDRAW_MEAN_DAYS, n)))
    room = DAY_END - req
    filled = (t_fill <= t_wd) & (t_fill <= room)
    withdrawn = ~filled & (t_wd <= room)
    outcome = np.where(filled, "filled", np.where(withdrawn, "withdrawn", "open"))
    out_day = np.where(filled, req + t_fill, np.where(withdrawn, req + t_wd, -1)).astype(np.int64)
    pa_ids = register.drop_duplicates("pa_id")[["pa_id", "la_code"]]
    by_la = pa_ids.groupby("la_code")["pa_id"].apply(np.asarray)
    la = episodes["la_code"].to_numpy()[who]
    pa_pick = np.full(n, None, dtype=object)
    for code, listed in by_la.items():
        m = filled & (la == code)
        pa_pick[m] = listed[rng.integers(0, len(listed), m.sum())]
    source = rng.choice(4, n, p=(0.4, 0.25, 0.15, 0.2))  # estimate
    source = np.where((source == 0) & (req < SNAPSHOTS[0].astype(np.int64)), 1, source)
    order = np.argsort(req, kind="stable")
    eth_label = np.array(F.ETHNIC_LABELS, dtype=object)[people["eth"].to_numpy()[who]]
    gender = np.where(people["female"].to_numpy()[who], "Female", "Male")
    frame = pd.DataFrame({
        "request_id": ids("R", np.arange(1, n + 1), 8),
        "person_id": episodes["person_id"].to_numpy()[who][order],
        "request_date": days(req[order]),
        "outcome": outcome[order],
        "outcome_date": days(out_day[order]),
        "language_needed": np.where(want_lang, np.array(F.LANGUAGES, dtype=object)[lang],
                                    None)[order],
        "ethnicity_preference": np.where(want_eth, eth_label, None)[order],
        "gender_preference": np.where(want_gender, gender, None)[order],
        "hospital_discharge": flags(discharge[order]),
        "pa_id": pa_pick[order],
        "match_source": np.where(filled, np.array(codes.MATCH_SOURCES, dtype=object)[source],
                                 None)[order],
    })
    return frame

