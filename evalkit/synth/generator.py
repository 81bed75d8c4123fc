"""Synthetic council data with planted effects: `evalkit synth`.

`synthesise` writes one data folder in the contract (DESIGN.md) plus `truth.json`, the effects it
planted (names as docs/planted_effects.md). Everything is vectorised over people; loops run over
councils, months or survey rounds only, so the national profile (~1.5 million people) stays fast.
Calibration constants live in `synth_facts` with their facts.md row IDs.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit
from scipy.stats import norm
from tqdm import tqdm

from evalkit.data import codes
from evalkit.data.councils import councils as _all_councils
from evalkit.synth import facts as F

PROFILES = ("leicester", "england")
LARGE_ROWS = 200_000
DAY0 = F.PERIOD_START.astype("datetime64[D]").astype(np.int64)
DAY_END = F.PERIOD_END.astype("datetime64[D]").astype(np.int64)
MONTH_STARTS = np.arange("2021-04", "2026-04", dtype="datetime64[M]").astype(
    "datetime64[D]").astype(np.int64)
MONTH_LENGTHS = np.diff(np.append(MONTH_STARTS, DAY_END + 1))
AGENCIES = ("Agency A", "Agency B", "Agency C")
AGENCY_SHARE = (0.5, 0.3, 0.2)  # estimate
SNAPSHOTS = np.array([np.datetime64(d) for d in ("2023-04-01", "2023-10-01", "2024-04-01",
                                                 "2024-10-01", "2025-04-01", "2025-10-01")])


@dataclass(frozen=True)
class Change:
    """A logged practice change and the effects planted for it."""

    change_id: str
    date: str
    name: str
    description: str
    target: str  # "all", a broad group, or "language:<name>"
    level: float = 1.0  # rate ratio of DP starts at the change
    slope: float = 1.0  # rate ratio per month after the change
    teams: tuple[str, ...] = ()
    dose: float | None = None
    survey: dict[str, float] = field(default_factory=dict)  # latent shifts per measure

    @property
    def month(self) -> int:
        """Month index (0 = April 2021) of the change."""
        return int((np.datetime64(self.date, "M") - np.datetime64("2021-04", "M")).astype(int))


_TRAINED = ("T01", "T02", "T03", "T04")
_PLACEBO = Change("C5", "2024-10-01", "Placebo (synthetic test entry, not a real change)",
                  "Synthetic placebo with no planted effect, for testing false positives.",
                  "White")
CHANGES: dict[str, tuple[Change, ...]] = {
    "leicester": (
        Change("C1", "2022-04-01", "DP training for existing staff",
               "Direct Payments training for existing social work staff, rolled out by team "
               "(date synthetic).", "all", level=1.20, teams=_TRAINED, dose=60),
        Change("C2", "2023-01-01", "Translatable online DP guidance",
               "Online Direct Payments guidance that can be translated (date synthetic).",
               "Asian", level=1.25, slope=1.01,
               survey={"info_ease": 0.5, "satisfaction": 0.3, "ascot": 0.15, "control": 0.15}),
        Change("C3", "2023-04-01", "PA register",
               "Register of personal assistants collated from agencies, recording languages, "
               "from 2023.", "language:Somali", level=1.5),
        Change("C4", "2024-04-01", "New DP support service",
               "A new Direct Payments support service (date synthetic).", "all", level=1.10),
        _PLACEBO,
    ),
    "england": (
        Change("C1", "2022-04-01", "DP training for existing staff (synthetic)",
               "Synthetic national test log: training rolled out by team.", "all", level=1.20,
               teams=_TRAINED, dose=60),
        Change("C2", "2023-01-01", "Translated and audio DP information (synthetic)",
               "Synthetic national test log.", "Asian", level=1.25, slope=1.01,
               survey={"info_ease": 0.5, "satisfaction": 0.3, "ascot": 0.15, "control": 0.15}),
        Change("C3", "2023-04-01", "Talking leaflets for an oral community (synthetic)",
               "Synthetic national test log: audio leaflets in Somali.", "language:Somali",
               level=1.5),
        Change("C4", "2024-04-01", "DP support service (synthetic)",
               "Synthetic national test log.", "all", level=1.10),
        _PLACEBO,
    ),
}


# ---------------------------------------------------------------- councils and population
def _council_table(profile: str, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """One row per council: code, residents, LTS counts and the target DP share."""
    if profile == "leicester":
        frame = pd.DataFrame({"la_code": [F.LEICESTER], "residents": [F.RESIDENTS["leicester"]]})
        frame["n_snap"] = [max(1, round(F.LTS_AT_31_MARCH["leicester"] * scale))]  # A4
        frame["dp_share"] = F.DP_SHARE["leicester"]  # D6
    else:
        frame = _all_councils().rename(columns={"population_2020": "residents"})
        frame["residents"] = frame["residents"] * F.RESIDENTS["england"] / frame["residents"].sum()
        lts = F.LTS_AT_31_MARCH["england"] * scale * frame["residents"] / F.RESIDENTS["england"]
        frame["n_snap"] = np.maximum(1, np.round(lts)).astype(int)  # A2
        z = norm.ppf((np.arange(len(frame)) + 0.5) / len(frame))  # D4 spread, seeded order
        logit = np.log(F.DP_SHARE["england"] / (1 - F.DP_SHARE["england"]))  # D1
        frame["dp_share"] = expit(logit + F.DP_SHARE_SPREAD_SD * rng.permutation(z))
        frame.loc[frame["la_code"] == F.LEICESTER, "dp_share"] = F.DP_SHARE["leicester"]  # D6
    frame["n_ended"] = np.round(frame["n_snap"] * (F.EVER_PER_SNAPSHOT - 1)).astype(int)  # A1/A2
    return frame.reset_index(drop=True)


_DIVERSE_CITIES = {  # large, diverse cities outside London (Census 2021), estimate of the factor
    "E08000025", "E08000032", "E08000003", "E06000032", "E06000039", "E08000028", "E08000031",
    "E06000008", "E08000026", "E06000018", "E08000004", "E08000034", "E08000035", "E06000023",
    "E06000031", "E06000015", "E06000038", "E06000042", "E08000030", "E06000055", "E08000019",
    "E08000005", "E08000001", "E08000012", "E06000034",
}
_RURAL = {  # mostly rural or coastal unitaries, estimate of the factor
    "E06000052", "E06000053", "E06000057", "E06000051", "E06000019", "E06000063", "E06000064",
    "E06000065", "E06000017", "E06000046", "E06000059", "E06000066", "E06000054", "E06000011",
    "E06000003", "E06000001", "E06000047", "E06000027",
}


def _ethnic_shares(table: pd.DataFrame, profile: str, rng: np.random.Generator) -> np.ndarray:
    """Council x 19 ethnic shares: Leicester as E1/E3-E7; others vary around E2-E7 by place."""
    if profile == "leicester":
        pct = F.ETHNIC_PCT["leicester"]
        return (pct / pct.sum())[None, :]
    base = F.ETHNIC_PCT["england"] / 100
    code = table["la_code"]
    factor = np.select([code.str.startswith("E09"), code.isin(list(_DIVERSE_CITIES)),
                        code.isin(list(_RURAL)), code.str.startswith("E10")],
                       [2.4, 1.9, 0.35, 0.55], 0.9) * np.exp(rng.normal(0, 0.25, len(code)))
    minority = np.array([lab != F.ETHNIC_LABELS[12] for lab in F.ETHNIC_LABELS])
    raw = base[None, :] * factor[:, None] * np.exp(rng.normal(0, 0.3, (len(code), 19)))
    leic = (code == F.LEICESTER).to_numpy()
    pop = table["residents"].to_numpy()
    leic_share = F.ETHNIC_PCT["leicester"] / F.ETHNIC_PCT["leicester"].sum()
    raw[leic] = leic_share
    # Rescale each minority group so the population-weighted national share is E2-E7.
    others = (base * pop.sum() - pop[leic] @ raw[leic]) / (pop[~leic] @ raw[~leic])
    raw[~leic] *= np.where(minority, others, 1.0)
    over = np.maximum(1.0, raw[:, minority].sum(1) / 0.9)  # keep White British >= 10%
    raw[:, minority] /= over[:, None]
    raw[:, ~minority] = 1 - raw[:, minority].sum(1, keepdims=True)
    return raw


def _age_ethnic(shares: np.ndarray) -> np.ndarray:
    """P(ethnic group | age band) per council, council x 4 x 19: older bands tilt by OLDER_WEIGHT.

    The 18-64 band takes the remainder so each group's adult share stays at its census share.
    """
    profile_age = F.AGE_SHARE["england" if shares.shape[0] > 1 else "leicester"]
    age = profile_age / profile_age.sum()
    older = shares * F.OLDER_WEIGHT[None, :]
    older /= older.sum(1, keepdims=True)
    young = np.clip(shares - age[1:].sum() * older, 1e-6, None) / age[0]
    young /= young.sum(1, keepdims=True)
    return np.stack([young, older, older, older], axis=1)


def _population(table: pd.DataFrame, p_eth: np.ndarray, profile: str,
                scale: float) -> pd.DataFrame:
    """Census-style denominators: la_code x ethnic group x age band x gender (P1-P4, E1-E7)."""
    age = F.AGE_SHARE[profile] / F.AGE_SHARE[profile].sum()
    adults = table["residents"].to_numpy() * F.ADULTS[profile] / F.RESIDENTS[profile] * scale
    sex = np.stack([1 - F.FEMALE_POP, F.FEMALE_POP], axis=1)  # age x (Male, Female)
    counts = (adults[:, None, None, None] * age[None, :, None, None] * sex[None, :, :, None]
              * p_eth[:, :, None, :])  # council x age x sex x eth
    c, a, s, g = np.indices(counts.shape).reshape(4, -1)
    return pd.DataFrame({
        "la_code": table["la_code"].to_numpy()[c],
        "ethnic_group": np.array(F.ETHNIC_LABELS)[g],
        "age_band": np.array(F.AGE_BANDS)[a],
        "gender": np.array(["Male", "Female"])[s],
        "population": np.round(counts.reshape(-1)).astype(np.int64),
    })


# ---------------------------------------------------------------- people
def _draw(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: row-wise cumulative probabilities `cum` (n x k) and uniforms `u`."""
    return np.minimum((cum < u[:, None]).sum(1), cum.shape[1] - 1)


def _people(table: pd.DataFrame, p_eth: np.ndarray, profile: str,
            rng: np.random.Generator) -> pd.DataFrame:
    """One row per person on LTS in the series: demographics, need, language, area (coded ints)."""
    sex_by_age = np.array([0.50, 0.55, 0.62, 0.70])  # A5: 59.1% female overall
    cells = (F.LTS_AGE[profile][None, :, None, None]
             * np.stack([1 - sex_by_age, sex_by_age], 1)[None, :, :, None]
             * p_eth[:, :, None, :])  # council x age x sex x eth
    cells = cells.reshape(len(table), -1)
    cells /= cells.sum(1, keepdims=True)
    n_total = (table["n_snap"] + table["n_ended"]).to_numpy()
    counts = np.stack([rng.multinomial(n, p) for n, p in zip(n_total, cells, strict=True)])
    council = np.repeat(np.repeat(np.arange(len(table)), cells.shape[1]), counts.reshape(-1))
    cell = np.repeat(np.tile(np.arange(cells.shape[1]), len(table)), counts.reshape(-1))
    age, female, eth = np.unravel_index(cell, (4, 2, 19))
    n = len(cell)
    starts = np.concatenate([[0], np.cumsum(n_total)[:-1]])
    # Which people are still on support at the snapshot: a random n_snap of each council's people
    # (people are laid out cell by cell, so taking the first n_snap would take only the youngest).
    order = np.lexsort((rng.random(n), council))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[council[order]]
    snap = rank < table["n_snap"].to_numpy()[council]
    older = (age > 0).astype(int)
    psr = _draw(np.cumsum(F.PSR_SHARE / F.PSR_SHARE.sum(1, keepdims=True), 1)[older],
                rng.random(n))
    community = rng.random(n) < F.COMMUNITY_SHARE[age]  # A3
    service = np.where(community, 0, np.where(rng.random(n) < F.NURSING_OF_RESIDENTIAL, 2, 1))
    lang_p = F.LANG_TABLE[profile][eth].copy()
    odds = np.where(older[:, None] == 1, F.OLDER_NON_ENGLISH_ODDS, 1.0)
    lang_p[:, 1:] *= odds
    lang_p /= lang_p.sum(1, keepdims=True)
    lang = _draw(np.cumsum(lang_p, 1), rng.random(n))
    interp = (lang > 0) & (rng.random(n) < np.array(F.INTERPRETER)[older])  # L2
    broad = np.array([F.BROAD.index(b) for b in F.ETHNIC_BROAD])[eth]
    area_w = np.stack([rng.dirichlet(np.full(F.N_AREAS, 2.0 if b == "White" else 0.4), len(table))
                       for b in F.BROAD], axis=1)  # council x broad x area (estimate)
    area = _draw(np.cumsum(area_w, 2)[council, broad], rng.random(n))
    age_lo = np.array([18, 65, 75, 85])[age] * 12
    age_hi = np.array([65, 75, 85, 95])[age] * 12
    age_months = age_lo + (rng.random(n) * (age_hi - age_lo)).astype(int)
    age_months[age == 3] += (rng.exponential(60, (age == 3).sum())).astype(int).clip(0, 120)
    end_month = 2026 * 12 + 2  # March 2026
    birth = end_month - age_months
    return pd.DataFrame({
        "council": council, "snap": snap, "age": _age_band_index(birth), "female": female == 1,
        "eth": eth, "broad": broad, "psr": psr, "service": service, "lang": lang,
        "interp": interp, "area": area, "team": area * F.N_TEAMS // F.N_AREAS, "birth": birth,
        "eth_rec": np.where(rng.random(n) < F.ETHNICITY_NOT_STATED, -1, eth),
        "lang_rec": np.where(rng.random(n) < F.LANGUAGE_BLANK, -1, lang),
    })


def _age_band_index(birth_month: np.ndarray) -> np.ndarray:
    """ASCOF band index at period_end from a month index (year*12 + month-1), born on the 15th."""
    year, month = birth_month // 12, birth_month % 12 + 1
    age = 2026 - year - (month > 3)  # at 2026-03-31 the 15th of a month after March is to come
    return np.digitize(age, [65, 75, 85])


def _broad_rec(people: pd.DataFrame) -> np.ndarray:
    """Recorded broad group index (5 = Not stated)."""
    return np.where(people["eth_rec"] < 0, 5, people["broad"])


# ---------------------------------------------------------------- uptake
def _linear_predictor(people: pd.DataFrame) -> np.ndarray:
    """The planted log-odds terms without the council intercept (docs/planted_effects.md)."""
    b_eth = np.log([F.UPTAKE_OR_ETHNIC[b] for b in F.BROAD])
    b_lang = np.log([F.UPTAKE_OR_LANGUAGE.get(lang, 1.0) for lang in F.LANGUAGES])
    return (b_eth[people["broad"]] + F.B_AGE[people["age"]] + F.B_FEMALE * people["female"]
            + F.B_PSR[people["psr"]] + b_lang[people["lang"]]
            + np.log(F.UPTAKE_OR_INTERPRETER) * people["interp"]).to_numpy(float)


def _uptake(people: pd.DataFrame, table: pd.DataFrame, rng: np.random.Generator) -> None:
    """Add p_dp, dp, p_offer, offered: council intercepts solved to hit each council's DP share."""
    xb = _linear_predictor(people)
    council = people["council"].to_numpy()
    base = (people["snap"] & (people["service"] == 0)).to_numpy()
    n = np.bincount(council[base], minlength=len(table))
    target = table["dp_share"].to_numpy()
    a = np.log(target / (1 - target))
    for _ in range(30):  # Newton steps, all councils at once
        p = expit(a[council[base]] + xb[base])
        f = np.bincount(council[base], p, len(table)) / np.maximum(n, 1) - target
        g = np.bincount(council[base], p * (1 - p), len(table)) / np.maximum(n, 1)
        a -= f / np.maximum(g, 1e-9)
    community = (people["service"] == 0).to_numpy()
    p_dp = np.where(community, expit(a[council] + xb), 0.0)
    dp = rng.random(len(people)) < p_dp
    off = np.array([F.OFFER_NO_DP[b] for b in F.BROAD])[people["broad"]]
    people["p_dp"] = p_dp
    people["dp"] = dp
    people["p_offer"] = p_dp + (1 - p_dp) * off
    people["offered"] = dp | (rng.random(len(people)) < off)


# ---------------------------------------------------------------- dates
def _membership(people: pd.DataFrame, changes: tuple[Change, ...]) -> np.ndarray:
    """n x changes bool: whether each change's target (recorded group, team) includes a person."""
    broad = _broad_rec(people)
    out = np.zeros((len(people), len(changes)), bool)
    for j, ch in enumerate(changes):
        if ch.target == "all":
            m = np.ones(len(people), bool)
        elif ch.target.startswith("language:"):
            m = (people["lang_rec"] == F.LANGUAGES.index(ch.target.split(":", 1)[1])).to_numpy()
        else:
            m = broad == F.BROAD.index(ch.target)
        if ch.teams:
            m &= np.isin(people["team"], [int(t[1:]) - 1 for t in ch.teams])
        out[:, j] = m
    return out


def intensity(changes: tuple[Change, ...], applies: np.ndarray) -> np.ndarray:
    """Monthly DP-start intensity for one membership pattern (docs/planted_effects.md)."""
    t = np.arange(F.N_MONTHS)
    month = (t + 3) % 12  # calendar month - 1 (April 2021 = index 0)
    log_lam = (F.TREND * t + F.SEASON[0] * np.cos(2 * np.pi * month / 12)
               + F.SEASON[1] * np.sin(2 * np.pi * month / 12))
    for ch, on in zip(changes, applies, strict=True):
        if on:
            post = t >= ch.month
            log_lam += post * (np.log(ch.level) + np.log(ch.slope) * (t - ch.month))
    return np.exp(log_lam)


def _dates(people: pd.DataFrame, changes: tuple[Change, ...], rng: np.random.Generator) -> None:
    """Add start/end, DP request and first payment days (int days since 1970)."""
    n = len(people)
    dp = people["dp"].to_numpy()
    snap = people["snap"].to_numpy()
    in_window = dp & (~snap | (rng.random(n) < F.DP_IN_WINDOW))
    member = _membership(people, changes)
    pattern = member @ (1 << np.arange(len(changes)))
    pay = np.full(n, -1, np.int64)
    for pat in np.unique(pattern[in_window]):
        idx = np.flatnonzero(in_window & (pattern == pat))
        lam = intensity(changes, (pat >> np.arange(len(changes))) & 1)
        month = _draw(np.tile(np.cumsum(lam / lam.sum()), (len(idx), 1)), rng.random(len(idx)))
        pay[idx] = MONTH_STARTS[month] + (rng.random(len(idx)) * MONTH_LENGTHS[month]).astype(int)
    early = dp & ~in_window
    pay[early] = DAY0 - 1 - (rng.random(early.sum()) * 3650).astype(int)
    ratio = np.array([F.SETUP_RATIO[b] for b in F.BROAD])[people["broad"]]
    setup = np.round(F.SETUP_MEDIAN_DAYS * ratio * np.exp(rng.normal(0, F.SETUP_SIGMA, n)))
    setup = np.maximum(setup, 1).astype(np.int64)
    requested = pay - setup
    lag = (rng.random(n) * 90).astype(np.int64)
    start = np.where(snap, DAY_END - np.minimum(rng.exponential(1500, n), 7000).astype(np.int64),
                     0)
    end_ended = DAY0 + (rng.random(n) * (DAY_END - DAY0)).astype(np.int64)
    start = np.where(snap, start, end_ended - 1 - rng.exponential(900, n).astype(np.int64))
    start = np.where(dp, requested - lag, start)
    birth = people["birth"].to_numpy()
    born18 = ((birth // 12 + 18 - 1970) * 12 + birth % 12) * 30.44 + 15
    start = np.maximum(start, born18.astype(np.int64))
    start = np.where(dp, np.minimum(start, requested), start)
    end = np.where(snap, -1, end_ended)
    room = np.maximum(DAY_END - pay - 1, 0)
    end = np.where(dp & ~snap, pay + 1 + (rng.random(n) * room).astype(np.int64), end)
    end = np.where(~snap, np.minimum(np.maximum(end, start + 1), DAY_END), end)  # ended by then
    people["start"], people["end"] = start, end
    people["requested"] = np.where(dp, requested, -1)
    people["pay"] = pay


def _optional(people: pd.DataFrame, rng: np.random.Generator) -> None:
    """Add managed_by, used_for, budget, hours, carer (coded)."""
    n = len(people)
    dp = people["dp"].to_numpy()
    people["managed_by"] = np.where(dp, rng.choice(4, n, p=F.DP_MANAGED_BY[1]), -1)
    people["used_for"] = np.where(dp, rng.choice(4, n, p=F.DP_USED_FOR[1]), -1)
    community = (people["service"] == 0).to_numpy()
    need = np.exp(0.3 * (people["psr"] == 6) - 0.2 * (people["age"] == 0)
                  + rng.normal(0, 0.4, n))
    budget = np.round(np.where(community, F.BUDGET_MEDIAN[0], F.BUDGET_MEDIAN[1]) * need, 2)
    people["budget"] = budget
    people["hours"] = np.where(community, np.round(budget / F.HOURLY_COST, 1), np.nan)
    p_carer = np.array([F.UNPAID_CARER[b] for b in F.BROAD])[people["broad"]]
    people["p_carer"] = p_carer
    people["carer"] = rng.random(n) < p_carer


# ---------------------------------------------------------------- writing helpers
def _days(x: np.ndarray) -> pd.Series:
    """Int days since 1970 (-1 = missing) -> datetime64[ns] Series."""
    out = pd.Series(np.asarray(x, np.int64).astype("datetime64[D]").astype("datetime64[ns]"))
    return out.where(np.asarray(x) >= 0)


def _text(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pd.Series:
    """values[idx] as a pandas string Series (-1 = missing), built in Arrow without Python loops."""
    idx = np.asarray(idx)
    indices = pa.array(idx.astype(np.int32), mask=idx < 0)
    arr = pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="str"))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Identifiers such as P00000042 from integers, vectorised in Arrow."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers)).cast(pa.string()), width, "0")
    return pd.Series(pd.array(pc.binary_join_element_wise(prefix, digits, ""), dtype="str"))


def _ethnicity_text(eth_rec: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Written ethnicity: NHS code for some rows, ONS 2021 label for the rest; Z/Not stated."""
    labels = [*F.ETHNIC_LABELS, codes.NOT_STATED]
    nhs = [F.NHS_CODE.get(lab, lab) for lab in F.ETHNIC_LABELS] + ["Z"]
    use_code = rng.random(len(eth_rec)) < F.NHS_CODE_SHARE
    return _text(labels + nhs, np.where(use_code, len(labels), 0) + eth_rec % len(labels))


def _bool(x: np.ndarray, keep: np.ndarray | None = None) -> pd.Series:
    s = pd.Series(np.asarray(x, bool), dtype="boolean")
    return s if keep is None else s.where(keep)


def _episodes(people: pd.DataFrame, table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The support_episodes table in contract columns."""
    dp = people["dp"].to_numpy()
    community = (people["service"] == 0).to_numpy()
    mech = np.where(dp, np.where(rng.random(len(dp)) < F.PART_DP, 1, 0),
                    np.where(community & (rng.random(len(dp)) < F.MANAGED_PB), 2, 3))
    birth = people["birth"].to_numpy()
    months = np.arange(birth.min(), birth.max() + 1)
    month_text = [f"{m // 12}-{m % 12 + 1:02d}" for m in months]
    council = people["council"].to_numpy()
    return pd.DataFrame({
        "person_id": _ids("P", rng.permutation(len(people)) + 1, 8),
        "la_code": _text(table["la_code"].tolist(), council),
        "area_code": _area_codes(council, people["area"].to_numpy(), len(table)),
        "birth_year_month": _text(month_text, birth - months[0]),
        "gender": _text(["Male", "Female"], people["female"].to_numpy(int)),
        "ethnicity": _ethnicity_text(people["eth_rec"].to_numpy(), rng),
        "preferred_language": _text(F.LANGUAGES, people["lang_rec"].to_numpy()),
        "interpreter_required": _bool(people["interp"]),
        "primary_support_reason": _text(F.PSR, people["psr"].to_numpy()),
        "service_type": _text(codes.SERVICE_TYPES, people["service"].to_numpy()),
        "delivery_mechanism": _text(codes.DELIVERY_MECHANISMS, mech),
        "start_date": _days(people["start"]),
        "end_date": _days(people["end"]),
        "dp_offered": _bool(people["offered"], community),
        "dp_requested_date": _days(people["requested"]),
        "dp_first_payment_date": _days(people["pay"]),
        "dp_managed_by": _text(codes.DP_MANAGED_BY, people["managed_by"].to_numpy()),
        "dp_used_for": _text(codes.DP_USED_FOR, people["used_for"].to_numpy()),
        "weekly_budget": people["budget"].to_numpy(),
        "planned_hours": people["hours"].to_numpy(),
        "has_unpaid_carer": _bool(people["carer"]),
        "team_id": _text([f"T{t + 1:02d}" for t in range(F.N_TEAMS)], people["team"].to_numpy()),
    })


def _area_codes(council: np.ndarray, area: np.ndarray, n_councils: int) -> pd.Series:
    """Synthetic ward-like codes: E059 + council/area digits (real E05 codes stay below E0595)."""
    names = [f"E05{900_000 + k}" for k in range(n_councils * F.N_AREAS)]
    return _text(names, council * F.N_AREAS + area)


# ---------------------------------------------------------------- PA register and requests
def _pa_register(people: pd.DataFrame, table: pd.DataFrame, p_eth: np.ndarray, profile: str,
                 rng: np.random.Generator) -> pd.DataFrame:
    """PA register rows (all agencies), one per PA per agency per snapshot while listed."""
    dp_snap = np.bincount(people["council"][people["dp"] & people["snap"]], minlength=len(table))
    n_pa = np.maximum(1, np.round(F.PA_PER_DP * dp_snap)).astype(int)  # W5/D2
    council = np.repeat(np.arange(len(table)), n_pa)
    n = len(council)
    eth = _draw(np.cumsum(p_eth[:, 0, :], 1)[council], rng.random(n))  # W11: working-age mix
    broad = np.array([F.BROAD.index(b) for b in F.ETHNIC_BROAD])[eth]
    lang = _draw(np.cumsum(F.LANG_TABLE[profile][eth], 1), rng.random(n))
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
    eth_text = _ethnicity_text(eth, rng).to_numpy()
    hours = np.where(left, np.nan, rng.integers(5, 41, len(row_pa)).astype(float))
    frame = pd.DataFrame({
        "snapshot_date": pd.Series(SNAPSHOTS[snap[rows]]).astype("datetime64[ns]"),
        "pa_id": _ids("PA", who + 1, 7),
        "agency": _text(AGENCIES, agency_idx),
        "ethnicity": pd.Series(pd.array(eth_text[who], dtype="str")),
        "gender": _text(["Male", "Female"], female[who].astype(int)),
        "languages": _text(lang_lists, lang[who]),
        "area_code": _area_codes(council[who], area[who], len(table)),
        "status": _text(codes.PA_STATUSES, status[rows]),
        "hours_available": hours[rows],
        "la_code": _text(table["la_code"].tolist(), council[who]),
    })
    return frame


def _pa_requests(people: pd.DataFrame, episodes: pd.DataFrame, register: pd.DataFrame,
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
    for code, ids in by_la.items():
        m = filled & (la == code)
        pa_pick[m] = ids[rng.integers(0, len(ids), m.sum())]
    source = rng.choice(4, n, p=(0.4, 0.25, 0.15, 0.2))  # estimate
    source = np.where((source == 0) & (req < SNAPSHOTS[0].astype(np.int64)), 1, source)
    order = np.argsort(req, kind="stable")
    eth_label = np.array(F.ETHNIC_LABELS, dtype=object)[people["eth"].to_numpy()[who]]
    gender = np.where(people["female"].to_numpy()[who], "Female", "Male")
    frame = pd.DataFrame({
        "request_id": _ids("R", np.arange(1, n + 1), 8),
        "person_id": episodes["person_id"].to_numpy()[who][order],
        "request_date": _days(req[order]),
        "outcome": outcome[order],
        "outcome_date": _days(out_day[order]),
        "language_needed": np.where(want_lang, np.array(F.LANGUAGES, dtype=object)[lang],
                                    None)[order],
        "ethnicity_preference": np.where(want_eth, eth_label, None)[order],
        "gender_preference": np.where(want_gender, gender, None)[order],
        "hospital_discharge": _bool(discharge[order]),
        "pa_id": pa_pick[order],
        "match_source": np.where(filled, np.array(codes.MATCH_SOURCES, dtype=object)[source],
                                 None)[order],
    })
    return frame


# ---------------------------------------------------------------- survey
def _survey_expect(q: np.ndarray, cuts: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """E[1 + #(y < cut)] for y = q + shift + N(0, 1): the expected item value."""
    return 1 + norm.cdf(cuts[None, :] - (q + shift)[:, None]).sum(1)


def _survey(people: pd.DataFrame, episodes: pd.DataFrame, changes: tuple[Change, ...],
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
    member = _membership(people, changes)[i]
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
        if not ch.survey and not _is_placebo(ch):
            continue
        after = day >= np.datetime64(ch.date).astype(np.int64)
        for m in ("scrqol", "control", "satisfaction", "info_ease"):
            keep = member[:, j] & (tried if m == "info_ease" else True)
            eff = e1[m] - e0[m]
            value = eff[keep & after].mean() - eff[keep & ~after].mean()
            truth.append({"name": "survey_shift", "group": f"{ch.change_id}:{m}:{ch.target}",
                          "reference": "before the change", "value": round(float(value), 4)})
    ep = episodes.iloc[i].reset_index(drop=True)
    band = _text(F.AGE_BANDS, people["age"].to_numpy()[i])
    fmt = rng.choice(4, n, p=F.SURVEY_FORMATS[1])
    fmt = np.where((fmt == 3) & (people["lang_rec"].to_numpy()[i] <= 0), 0, fmt)  # translated
    frame = pd.DataFrame({
        "respondent_id": _ids("S", np.arange(1, n + 1), 8),
        "survey_date": _days(day),
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
        "format": _text(codes.SURVEY_FORMATS, fmt),
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


def _is_placebo(ch: Change) -> bool:
    return ch.level == 1.0 and ch.slope == 1.0 and not ch.survey


# ---------------------------------------------------------------- small tables
def _practice_changes(changes: tuple[Change, ...]) -> pd.DataFrame:
    return pd.DataFrame({
        "change_id": [c.change_id for c in changes],
        "date": pd.to_datetime([c.date for c in changes]),
        "name": [c.name for c in changes],
        "description": [c.description for c in changes],
        "target_groups": [c.target for c in changes],
        "target_teams": [";".join(c.teams) or None for c in changes],
        "status": "implemented",
        "dose": [c.dose for c in changes],
    })


def _engagement() -> pd.DataFrame:
    """A few synthetic engagement notes (no names), read beside the numbers."""
    rows = [
        ("2022-06-15", "group", "Gujarati", 14, "awareness",
         "Synthetic note: several people had not heard that a Direct Payment was an option."),
        ("2022-09-20", "interview", "Somali", 6, "paperwork",
         "Synthetic note: forms and payroll felt hard without help in Somali."),
        ("2023-03-08", "group", "Black African", 9, "trust",
         "Synthetic note: worry that taking a DP means less support from the council."),
        ("2023-07-12", "survey comment", "Bengali", 4, "finding a PA",
         "Synthetic note: no personal assistant nearby who speaks Bengali."),
        ("2024-02-01", "group", "Polish", 7, "information",
         "Synthetic note: translated guidance helped, but audio would help more."),
        ("2024-11-05", "interview", "Indian", 8, "family care",
         "Synthetic note: family help is valued but carers are stretched."),
    ]
    frame = pd.DataFrame(rows, columns=["date", "method", "community", "n_people", "theme",
                                        "summary"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# ---------------------------------------------------------------- truth
def _truth(people: pd.DataFrame, episodes: pd.DataFrame, register: pd.DataFrame,
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
    rec = _broad_rec(people)
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
        note = "placebo" if _is_placebo(ch) else ""
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


# ---------------------------------------------------------------- main entry points
def synthesise(out: Path, profile: str = "leicester", scale: float = 1.0, seed: int = 1,
               dirty: bool = False) -> Path:
    """Write a synthetic data folder with planted effects and `truth.json`; returns `out`."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {PROFILES}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    changes = CHANGES[profile]
    long_run = profile == "england" or scale >= 20
    steps = ["councils", "people", "uptake", "dates", "episodes", "PA register", "PA requests",
             "survey", "truth", "write"]
    bar = tqdm(total=len(steps), desc="synth", disable=not long_run, unit="step")

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    table = _council_table(profile, scale, rng)
    p_eth = _age_ethnic(_ethnic_shares(table, profile, rng))
    population = _population(table, p_eth, profile, scale)
    step("councils")
    people = _people(table, p_eth, profile, rng)
    step("people")
    _uptake(people, table, rng)
    step("uptake")
    _dates(people, changes, rng)
    _optional(people, rng)
    step("dates")
    episodes = _episodes(people, table, rng)
    step("episodes")
    register = _pa_register(people, table, p_eth, profile, rng)
    step("PA register")
    requests = _pa_requests(people, episodes, register, rng)
    step("PA requests")
    survey, survey_truth = _survey(people, episodes, changes, scale, rng)
    step("survey")
    truth = {"profile": profile, "seed": seed, "scale": scale,
             "period_end": str(F.PERIOD_END), "period_start": str(F.PERIOD_START),
             "la_codes": table["la_code"].tolist(),
             "effects": _truth(people, episodes, register, changes, survey_truth)}
    tables = {"support_episodes": episodes, "population": population,
              "pa_register": register.drop(columns="la_code"),
              "pa_requests": requests, "survey": survey,
              "practice_changes": _practice_changes(changes), "engagement": _engagement()}
    step("truth")
    files = _files(tables)
    defects = None
    if dirty:
        files, defects = _inject(files, rng)
    _write_tables(files, out, large=profile == "england", text=dirty)
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    if defects is not None:
        (out / "defects.json").write_text(json.dumps(defects, indent=1, sort_keys=True) + "\n")
    step("write")
    bar.close()
    return out


def _files(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """File stem -> frame: one file per table, and `pa_register/<agency>` per agency."""
    files = {name: frame for name, frame in tables.items() if name != "pa_register"}
    for agency, part in tables["pa_register"].groupby("agency", sort=True):
        files[f"pa_register/{str(agency).lower().replace(' ', '_')}"] = part
    return files


def _inject(files: dict[str, pd.DataFrame], rng: np.random.Generator
            ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, int]]]:
    """Dirty copies of every file (each agency file on its own) and the summed defect counts."""
    from evalkit.synth.dirty import inject_defects

    out, defects = {}, {}
    for stem, frame in files.items():
        table = stem.split("/", 1)[0]
        dirty, counts = inject_defects({table: frame}, rng)
        out[stem] = dirty[table]
        for reason, n in counts.get(table, {}).items():
            defects.setdefault(table, {})
            defects[table][reason] = defects[table].get(reason, 0) + n
    return out, defects


def _write_tables(files: dict[str, pd.DataFrame], out: Path, large: bool, text: bool) -> None:
    """CSV for small files, Parquet for large ones (england, or a table > 200k rows). `text`
    (dirty data) forces CSV so variants survive as written."""
    for stem in files:  # remove files from an earlier run in other formats
        for old in out.glob(f"{stem.split('/', 1)[0]}*"):
            for path in (old.glob("*") if old.is_dir() else [old]):
                path.unlink()
    sizes: dict[str, int] = {}
    for stem, frame in files.items():
        table = stem.split("/", 1)[0]
        sizes[table] = sizes.get(table, 0) + len(frame)
    for stem, frame in files.items():
        path = out / stem
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_one(frame, path, large or sizes[stem.split("/", 1)[0]] > LARGE_ROWS, text)


def _write_one(frame: pd.DataFrame, stem: Path, parquet: bool, text: bool) -> None:
    if parquet and not text:
        frame.to_parquet(stem.with_suffix(".parquet"), index=False)
    else:
        frame.to_csv(stem.with_suffix(".csv"), index=False, date_format="%Y-%m-%d")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit synth`."""
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--profile", choices=PROFILES, default="leicester",
                        help="leicester (one council, E06000016) or england (153 councils)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplier of the profile's real size (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--dirty", action="store_true",
                        help="inject known defects and write defects.json")


def main(args: argparse.Namespace) -> int:
    """Run `evalkit synth`; returns the exit code."""
    out = synthesise(args.out, profile=args.profile, scale=args.scale, seed=args.seed,
                     dirty=args.dirty)
    print(f"wrote synthetic {args.profile} data (scale {args.scale}, seed {args.seed}) to {out}")
    return 0
