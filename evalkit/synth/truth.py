"""truth.json's effects: every planted number, named as docs/planted_effects.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth import facts as F
from evalkit.synth.changes import Change, is_placebo
from evalkit.synth.people import recorded_broad


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

