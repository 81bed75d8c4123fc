"""truth.json's effects: every planted number, named as docs/planted_effects.md; and, for raw
CLD, ASCOF 3D as NHS England's SQL computes it on the people written."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.data.cld import layout as L
from evalkit.synth import facts as F
from evalkit.synth.changes import Change, is_placebo
from evalkit.synth.people import DAY_END, recorded_broad


def planted_effects(people: pd.DataFrame, episodes: pd.DataFrame, register: pd.DataFrame,
                    changes: tuple[Change, ...], survey_truth: list[dict]) -> list[dict]:
    """Every planted effect, named as docs/planted_effects.md."""
    out: list[dict] = []

    def add(name: str, group: str, reference: str, value: float, note: str = "") -> None:
        row = {"name": name, "group": group, "reference": reference, "value": round(value, 4)}
        if note:
            row["note"] = note
        out.append(row)

    for b in F.BROAD:
        if b != "White":
            add("uptake_odds_ratio", b, "White", F.UPTAKE_OR_ETHNIC[b])
    for lang, v in F.UPTAKE_OR_LANGUAGE.items():
        add("uptake_odds_ratio", f"language:{lang}", "language:English", v)
    add("uptake_odds_ratio", "interpreter:yes", "interpreter:no", F.UPTAKE_OR_INTERPRETER)
    base = (people["snap"] & (people["service"] == 0)).to_numpy()
    rec = recorded_broad(people)
    for k, b in enumerate(F.BROAD):
        m = base & (rec == k)
        add("uptake_share", b, "", float(people["p_dp"][m].mean()))
        add("dp_offer_rate", b, "", float(people["p_offer"][m].mean()))
        add("unpaid_carer_share", b, "", float(people["p_carer"][m].mean()))
        if b != "White":
            add("dp_setup_time_ratio", b, "White", F.SETUP_RATIO[b] / F.SETUP_RATIO["White"])
    for pref, hr in F.RECRUIT_HR.items():
        add("recruitment_hazard_ratio", pref, "no such preference", hr)
    for lang, share in _language_gaps(people, episodes, register).items():
        add("language_gap", lang, "", share,
            "planted" if lang in F.GAP_LANGUAGES else "computed on the rows written")
    for ch in changes:
        group = f"{ch.change_id}:{ch.target}"
        note = "placebo" if is_placebo(ch) else ""
        add("its_level_change", group, "pre-change trend", ch.level, note)
        add("its_slope_change", group, "pre-change trend", ch.slope, note)
    return out + survey_truth


def _language_gaps(people: pd.DataFrame, episodes: pd.DataFrame,
                   register: pd.DataFrame) -> dict[str, float]:
    """Share of each language's current DP recipients living where no active PA speaks it."""
    latest = register[(register["snapshot_date"] == register["snapshot_date"].max())
                      & (register["status"] == "active")]
    spoken = latest.assign(language=latest["languages"].str.split(";")).explode("language")
    covered = set(zip(spoken["area_code"], spoken["language"], strict=True))
    current = (people["snap"] & people["dp"]).to_numpy()
    rec = episodes.loc[current, ["area_code", "preferred_language"]].dropna()
    out = {}
    for lang in F.LANGUAGES[1:]:
        areas = rec.loc[rec["preferred_language"] == lang, "area_code"]
        if len(areas):
            gap = np.mean([(a, lang) not in covered for a in areas])
            out[lang] = float(gap)
    return out



def sql_age(birth_month: np.ndarray) -> np.ndarray:
    """Age at the period end as the SQL derives it: FLOOR(days from the 1st of the birth month
    / 365.25)."""
    month = (np.asarray(birth_month) - (1970 * 12)).astype("datetime64[M]")
    return np.floor((DAY_END - month.astype("datetime64[D]").astype(np.int64)) / 365.25)


def ascof_3d(people: pd.DataFrame, episodes: pd.DataFrame, table: pd.DataFrame) -> list[dict]:
    """ASCOF 3D 1a and 2a by council and age band for the people written (rows as `evalkit
    ascof` prints them): community clients open at the period end (start on or before it, end
    on or after it, as the SQL reads dates), a DP by either DP mechanism, 1a adding a managed
    personal budget. Every planted CLD problem leaves these people, settings and DPs as they
    are, so this is what the transformation of the CLD file must give."""
    start, end = people["start"].to_numpy(), people["end"].to_numpy()
    base = (start <= DAY_END) & ((end < 0) | (end >= DAY_END)) & (people["service"] == 0)
    mech = episodes["delivery_mechanism"].to_numpy()
    dp = np.isin(mech, codes.DP_MECHANISMS)
    sdp = dp | (mech == codes.DELIVERY_MECHANISMS[2])
    age = sql_age(people["birth"].to_numpy())
    council = people["council"].to_numpy()
    rows = []
    for k, code in enumerate(table["la_code"]):
        for band, lo, hi in L.AGE_BANDS:
            m = base & (council == k) & (age >= (lo or 0)) & (age <= (hi or 200))
            den = int(m.sum())
            if not den:  # the SQL's tables start from the denominator: no row without one
                continue
            for measure, num in zip(L.MEASURES, (int((m & sdp).sum()), int((m & dp).sum())),
                                    strict=True):
                rows.append({"la_code": code, "age_band": band, "measure": measure,
                             "numerator": num, "denominator": den,
                             "percent": L.nhs_round(num, den)})
    return rows
