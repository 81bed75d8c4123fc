"""Councils, their populations and the people on long-term support, with planted DP uptake.

People are one row each with coded integer columns (ethnic group, age band, need, language,
area, team, days since 1970 for dates); the tables module writes them out in contract columns.
Everything is vectorised over people; loops run over councils or months only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from evalkit.data.councils import councils as _all_councils
from evalkit.synth import facts as F
from evalkit.synth.changes import Change, intensity

DAY0 = F.PERIOD_START.astype("datetime64[D]").astype(np.int64)
DAY_END = F.PERIOD_END.astype("datetime64[D]").astype(np.int64)
MONTH_STARTS = np.arange("2021-04", "2026-04", dtype="datetime64[M]").astype(
    "datetime64[D]").astype(np.int64)
MONTH_LENGTHS = np.diff(np.append(MONTH_STARTS, DAY_END + 1))


# ---------------------------------------------------------------- councils and population
def council_table(profile: str, scale: float, rng: np.random.Generator) -> pd.DataFrame:
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


def ethnic_shares(table: pd.DataFrame, profile: str, rng: np.random.Generator) -> np.ndarray:
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


def age_ethnic(shares: np.ndarray) -> np.ndarray:
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


def population_table(table: pd.DataFrame, p_eth: np.ndarray, profile: str,
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
def draw(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: row-wise cumulative probabilities `cum` (n x k) and uniforms `u`."""
    return np.minimum((cum < u[:, None]).sum(1), cum.shape[1] - 1)


def draw_people(table: pd.DataFrame, p_eth: np.ndarray, profile: str,
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
    psr = draw(np.cumsum(F.PSR_SHARE / F.PSR_SHARE.sum(1, keepdims=True), 1)[older],
               rng.random(n))
    community = rng.random(n) < F.COMMUNITY_SHARE[age]  # A3
    service = np.where(community, 0, np.where(rng.random(n) < F.NURSING_OF_RESIDENTIAL, 2, 1))
    lang_p = F.LANG_TABLE[profile][eth].copy()
    odds = np.where(older[:, None] == 1, F.OLDER_NON_ENGLISH_ODDS, 1.0)
    lang_p[:, 1:] *= odds
    lang_p /= lang_p.sum(1, keepdims=True)
    lang = draw(np.cumsum(lang_p, 1), rng.random(n))
    interp = (lang > 0) & (rng.random(n) < np.array(F.INTERPRETER)[older])  # L2
    broad = np.array([F.BROAD.index(b) for b in F.ETHNIC_BROAD])[eth]
    area_w = np.stack([rng.dirichlet(np.full(F.N_AREAS, 2.0 if b == "White" else 0.4), len(table))
                       for b in F.BROAD], axis=1)  # council x broad x area (estimate)
    area = draw(np.cumsum(area_w, 2)[council, broad], rng.random(n))
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


def recorded_broad(people: pd.DataFrame) -> np.ndarray:
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


def draw_uptake(people: pd.DataFrame, table: pd.DataFrame, rng: np.random.Generator) -> None:
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
def membership(people: pd.DataFrame, changes: tuple[Change, ...]) -> np.ndarray:
    """n x changes bool: whether each change's target (recorded group, team) includes a person."""
    broad = recorded_broad(people)
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


def draw_dates(people: pd.DataFrame, changes: tuple[Change, ...], rng: np.random.Generator) -> None:
    """Add start/end, DP request and first payment days (int days since 1970)."""
    n = len(people)
    dp = people["dp"].to_numpy()
    snap = people["snap"].to_numpy()
    in_window = dp & (~snap | (rng.random(n) < F.DP_IN_WINDOW))
    member = membership(people, changes)
    pattern = member @ (1 << np.arange(len(changes)))
    pay = np.full(n, -1, np.int64)
    for pat in np.unique(pattern[in_window]):
        idx = np.flatnonzero(in_window & (pattern == pat))
        lam = intensity(changes, (pat >> np.arange(len(changes))) & 1)
        month = draw(np.tile(np.cumsum(lam / lam.sum()), (len(idx), 1)), rng.random(len(idx)))
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
    # ended before the snapshot day: an episode ending on it is still open then (NHS England's
    # convention, cohorts.snapshot), and these people are not on support at the snapshot
    end = np.where(~snap, np.minimum(np.maximum(end, start + 1), DAY_END - 1), end)
    people["start"], people["end"] = start, end
    people["requested"] = np.where(dp, requested, -1)
    people["pay"] = pay


def draw_optional(people: pd.DataFrame, rng: np.random.Generator) -> None:
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

