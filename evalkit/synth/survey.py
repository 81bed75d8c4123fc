"""ASCS-style survey rounds with planted pre/post shifts for the practice changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from evalkit.data import codes
from evalkit.synth import facts as F
from evalkit.synth.changes import Change, is_placebo
from evalkit.synth.columns import days, ids, text
from evalkit.synth.people import membership


def _survey_expect(q: np.ndarray, cuts: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """E[1 + #(y < cut)] for y = q + shift + N(0, 1): the expected item value."""
    return 1 + norm.cdf(cuts[None, :] - (q + shift)[:, None]).sum(1)


def survey_table(people: pd.DataFrame, episodes: pd.DataFrame, changes: tuple[Change, ...],
                 scale: float, rng: np.random.Generator) -> tuple[pd.DataFrame, list[dict]]:
    """ASCS-style rounds (Q9) with planted pre/post shifts; returns rows and survey_shift truth."""
    community = (people["service"] == 0).to_numpy()
    start, end = people["start"].to_numpy(), people["end"].to_numpy()
    council = people["council"].to_numpy()
    n_target = max(1, round(F.SURVEY_PER_COUNCIL * scale))  # Q9
    rows = []
    for d in F.SURVEY_ROUNDS:
        day = d.astype("datetime64[D]").astype(np.int64)
        ok = np.flatnonzero(community & (start <= day) & ((end < 0) | (end > day)))
        order = ok[np.lexsort((rng.random(len(ok)), council[ok]))]
        first = np.searchsorted(council[order], council[order], side="left")
        rank = np.arange(len(order)) - first
        chosen = order[rank < n_target]
        rows.append(pd.DataFrame({"i": chosen, "day": day}))
    sample = pd.concat(rows, ignore_index=True)
    i, day = sample["i"].to_numpy(), sample["day"].to_numpy()
    n = len(i)
    broad = people["broad"].to_numpy()[i]
    older = people["age"].to_numpy()[i] > 0
    q = (np.array([F.LATENT_GROUP[b] for b in F.BROAD])[broad] + F.LATENT_OLDER * older
         + F.LATENT_DP * people["dp"].to_numpy()[i] + rng.normal(0, F.LATENT_SD, n))
    member = membership(people, changes)[i]
    shifts = {m: np.zeros(n) for m in ("ascot", "control", "satisfaction", "info_ease")}
    for j, ch in enumerate(changes):
        on = member[:, j] & (day >= np.datetime64(ch.date).astype(np.int64))
        for m, v in ch.survey.items():
            shifts[m] += on * v
    items = {}
    for j, name in enumerate(F.ASCOT_ITEMS):
        s = shifts["ascot"] + (shifts["control"] if name == "control" else 0)
        y = q + F.ASCOT_OFFSET[j] + s + rng.normal(0, 1, n)
        items[name] = 1 + (y[:, None] < F.ASCOT_CUTS[None, :]).sum(1)
    y = q + shifts["satisfaction"] + rng.normal(0, 1, n)
    satisfaction = 1 + (y[:, None] < F.SATISFACTION_CUTS[None, :]).sum(1)
    y = q + shifts["info_ease"] + rng.normal(0, 1, n)
    tried = rng.random(n) >= F.INFO_NEVER_TRIED
    info = np.where(tried, 1 + (y[:, None] < F.INFO_CUTS[None, :]).sum(1), 5)

    def expected(with_shift: bool) -> dict[str, np.ndarray]:
        k = 1.0 if with_shift else 0.0
        ascot = [_survey_expect(q + F.ASCOT_OFFSET[j], F.ASCOT_CUTS,
                                k * (shifts["ascot"] + (shifts["control"] if nm == "control"
                                                        else 0)))
                 for j, nm in enumerate(F.ASCOT_ITEMS)]
        return {"scrqol": sum(4 - a for a in ascot), "control": ascot[0],
                "satisfaction": _survey_expect(q, F.SATISFACTION_CUTS, k * shifts["satisfaction"]),
                "info_ease": _survey_expect(q, F.INFO_CUTS, k * shifts["info_ease"])}

    e1, e0 = expected(True), expected(False)
    truth = []
    for j, ch in enumerate(changes):
        if not ch.survey and not is_placebo(ch):
            continue
        after = day >= np.datetime64(ch.date).astype(np.int64)
        for m in ("scrqol", "control", "satisfaction", "info_ease"):
            keep = member[:, j] & (tried if m == "info_ease" else True)
            eff = e1[m] - e0[m]
            value = eff[keep & after].mean() - eff[keep & ~after].mean()
            truth.append({"name": "survey_shift", "group": f"{ch.change_id}:{m}:{ch.target}",
                          "reference": "before the change", "value": round(float(value), 4)})
    ep = episodes.iloc[i].reset_index(drop=True)
    band = text(F.AGE_BANDS, people["age"].to_numpy()[i])
    fmt = rng.choice(4, n, p=F.SURVEY_FORMATS[1])
    fmt = np.where((fmt == 3) & (people["lang_rec"].to_numpy()[i] <= 0), 0, fmt)  # translated
    frame = pd.DataFrame({
        "respondent_id": ids("S", np.arange(1, n + 1), 8),
        "survey_date": days(day),
        "la_code": ep["la_code"],
        "ethnicity": ep["ethnicity"],
        "age_band": band,
        "gender": ep["gender"],
        "primary_support_reason": ep["primary_support_reason"],
        "delivery_mechanism": ep["delivery_mechanism"],
        **items,
        "satisfaction": satisfaction,
        "info_ease": info,
        "preferred_language": ep["preferred_language"],
        "format": text(codes.SURVEY_FORMATS, fmt),
    })
    frame.insert(len(frame.columns) - 2, "weight", _survey_weights(people, community, sample))
    return frame, truth


def _survey_weights(people: pd.DataFrame, community: np.ndarray,
                    sample: pd.DataFrame) -> np.ndarray:
    """Post-stratification weights: eligible / respondents per council, round and age band."""
    start, end = people["start"].to_numpy(), people["end"].to_numpy()
    cell = (people["council"] * 4 + people["age"]).to_numpy()
    n_cells = cell.max() + 1
    rounds = np.array([d.astype("datetime64[D]").astype(np.int64) for d in F.SURVEY_ROUNDS])
    eligible = np.stack([np.bincount(cell[community & (start <= d) & ((end < 0) | (end > d))],
                                     minlength=n_cells) for d in rounds])
    r = np.searchsorted(rounds, sample["day"].to_numpy())
    key = r * n_cells + cell[sample["i"].to_numpy()]
    responded = np.bincount(key, minlength=len(rounds) * n_cells)
    return np.round(eligible.reshape(-1)[key] / responded[key], 3)

