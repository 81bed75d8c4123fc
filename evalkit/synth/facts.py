"""Calibration constants for `evalkit synth`, each citing its row ID in docs/calibration_facts.md.

A comment such as `# E3` or `# D6` names the row (and through it the source); rows marked
"estimate" there (or here) are reasoned assumptions, not published figures.
Shares are fractions; ethnic shares follow `codes.ETHNIC_GROUPS` order.
"""

from __future__ import annotations

import numpy as np

from evalkit.data import codes

PERIOD_START = np.datetime64("2021-04-01")
PERIOD_END = np.datetime64("2026-03-31")  # extract date, docs/planted_effects.md
N_MONTHS = 60
LEICESTER = "E06000016"

ETHNIC_LABELS: tuple[str, ...] = tuple(codes.ETHNIC_GROUPS)
ETHNIC_BROAD: tuple[str, ...] = tuple(codes.ETHNIC_GROUPS.values())
BROAD = ("Asian", "Black", "Mixed", "White", "Other")
#: Detailed label -> NHS 2001 code (Gypsy/Roma/Arab have none and are always written as labels).
NHS_CODE = {label: code for code, label in codes.NHS_ETHNIC_CODES.items()
            if label != codes.NOT_STATED}

# Census 2021 % of residents by detailed group, in ETHNIC_LABELS order (E3, E4, E5, E6, E7).
ETHNIC_PCT = {
    "leicester": np.array([1.91, 0.67, 34.30, 3.44, 3.08,    # E3 Bangladeshi..Other Asian
                           5.84, 1.21, 0.75,                 # E4 African, Caribbean, Other
                           0.99, 0.48, 1.36, 0.93,           # E5 W&Asian, W&B Afr, W&B Car, Oth
                           33.21, 0.49, 0.12, 0.23, 6.83,    # E6 British..Other White
                           0.92, 3.22]),                     # E7 Arab, Any other
    "england": np.array([1.11, 0.76, 3.26, 2.78, 1.69,       # E3
                         2.60, 1.10, 0.52,                   # E4
                         0.84, 0.43, 0.88, 0.80,             # E5
                         73.54, 0.87, 0.11, 0.18, 6.35,      # E6
                         0.57, 1.61]),                       # E7
}
#: Relative weight of each group among people 65+ (minority groups are younger: P5), estimate.
OLDER_WEIGHT = np.array([0.35, 0.5, 0.7, 0.35, 0.5, 0.3, 1.0, 0.3, 0.3, 0.2, 0.2, 0.2,
                         1.0, 1.6, 0.6, 0.3, 0.45, 0.3, 0.4])

AGE_BANDS = ("18-64", "65-74", "75-84", "85+")
# Adult population by age band (P3 Leicester, P4 England; 65-84 split 58/42 and 55/45: estimate).
ADULTS = {"leicester": 281_457, "england": 44_715_389}  # P3, P4
AGE_SHARE = {
    "leicester": np.array([237_952, (43_505 - 5_395) * 0.58, (43_505 - 5_395) * 0.42, 5_395]),
    "england": np.array([34_314_103, (10_401_286 - 1_372_298) * 0.55,
                         (10_401_286 - 1_372_298) * 0.45, 1_372_298]),
}
RESIDENTS = {"leicester": 368_571, "england": 56_490_065}  # P1, P2
FEMALE_POP = np.array([0.50, 0.52, 0.55, 0.63])  # estimate (census pattern by age)

# Long-term support (LTS).
LTS_AT_31_MARCH = {"leicester": 5_000, "england": 650_085}  # A4, A2 (2024)
#: People on LTS during the 5-year series per person at 31 March: 1 + 4 years of turnover
#: at A1/A2 - 1 = 858,720 / 650,085 - 1 = 0.32 a year.
EVER_PER_SNAPSHOT = 1 + 4 * (858_720 / 650_085 - 1)
LTS_AGE = {"leicester": np.array([0.417, 0.583 * 0.25, 0.583 * 0.35, 0.583 * 0.40]),  # A5
           "england": np.array([0.35, 0.65 * 0.25, 0.65 * 0.35, 0.65 * 0.40])}     # A1
LTS_FEMALE = 0.591  # A5
COMMUNITY_SHARE = np.array([0.847, 0.62, 0.62, 0.62])  # A3 (18-64, 65+)
NURSING_OF_RESIDENTIAL = 0.4  # estimate

PSR = codes.PRIMARY_SUPPORT_REASONS
# A7 (18-64) and A8 (65+) split over the 11 CLD reasons; splits within physical (80% personal
# care), sensory (50/40/10 visual/hearing/dual) and social (25/5/70 substance/asylum/other) are
# estimates.
_PHYS, _SENS, _SOC = (0.2, 0.8), (0.5, 0.4, 0.1), (0.25, 0.05, 0.70)
PSR_SHARE = np.array([
    [33.2 * _PHYS[0], 33.2 * _PHYS[1], 2.0 * _SENS[0], 2.0 * _SENS[1], 2.0 * _SENS[2], 0.7,
     35.5, 23.1, 5.5 * _SOC[0], 5.5 * _SOC[1], 5.5 * _SOC[2]],                          # A7
    [60.2 * _PHYS[0], 60.2 * _PHYS[1], 2.1 * _SENS[0], 2.1 * _SENS[1], 2.1 * _SENS[2], 12.1,
     4.3, 16.2, 5.2 * _SOC[0], 5.2 * _SOC[1], 5.2 * _SOC[2]],                           # A8
]) / 100

# Languages (main language) by detailed group, fraction of the group: L3 share of residents
# divided by the group's E3-E7 share (Leicester); England from L4; the rest estimate.
LANGUAGES = ("English", "Gujarati", "Panjabi", "Hindi", "Urdu", "Bengali", "Cantonese", "Tamil",
             "Somali", "Polish", "Romanian", "Portuguese", "Arabic")
_L = {name: i for i, name in enumerate(LANGUAGES)}


def _lang_table(profile: str) -> np.ndarray:
    """P(main language | detailed group), rows in ETHNIC_LABELS order."""
    indian = ({"Gujarati": 12.62 / 34.30, "Panjabi": 0.05, "Hindi": 0.63 / 34.30}   # L3
              if profile == "leicester" else
              {"Gujarati": 0.34 / 3.26, "Panjabi": 0.10, "Hindi": 0.02})          # L4
    pakistani = ({"Urdu": 0.94 / 3.44, "Panjabi": 0.15} if profile == "leicester"  # L3
                 else {"Urdu": 0.49 / 2.78, "Panjabi": 0.08})                       # L4
    rows = {
        "Bangladeshi": {"Bengali": 0.77 / 1.91},                                   # L3
        "Chinese": {"Cantonese": 0.30},                                            # estimate
        "Indian": indian,
        "Pakistani": pakistani,
        "Any other Asian background": {"Gujarati": 0.08, "Tamil": 0.10},          # estimate
        "African": {"Somali": 0.68 / 5.84, "Portuguese": 0.03},                    # L3; estimate
        "Any other Black, Black British or Caribbean background": {"Somali": 0.05},  # estimate
        "Any other White background": {"Polish": 2.23 / 6.83, "Romanian": 0.16,    # L3
                                       "Portuguese": 0.08},
        "Roma": {"Romanian": 0.40},                                                # estimate
        "Arab": {"Arabic": 0.60},                                                  # L3 (0.70/0.92)
        "Any other ethnic group": {"Arabic": 0.05},                                # estimate
    }
    table = np.zeros((len(ETHNIC_LABELS), len(LANGUAGES)))
    for g, label in enumerate(ETHNIC_LABELS):
        for lang, p in rows.get(label.split(": ", 1)[1], {}).items():
            table[g, _L[lang]] = p
        table[g, 0] = 1 - table[g].sum()
    return table


LANG_TABLE = {p: _lang_table(p) for p in ("leicester", "england")}
OLDER_NON_ENGLISH_ODDS = 2.0  # estimate: older people keep their first language more (L1, L2)
#: P(interpreter | main language not English) for 18-64 and 65+; L2/L1 = 9.0/30.0 = 0.30 overall.
INTERPRETER = (0.25, 0.45)  # L2, estimate of the age split
LANGUAGE_BLANK = 0.08  # estimate: preferred_language left blank
ETHNICITY_NOT_STATED = 0.01  # A6 (0.2%) rounded up for realism, estimate
NHS_CODE_SHARE = 0.6  # estimate: share of rows written as NHS codes where one exists

# DP uptake model (docs/planted_effects.md): log-odds terms.
DP_SHARE = {"leicester": 0.45, "england": 0.255}  # D6 estimate; D1 2023-24
DP_SHARE_SPREAD_SD = 0.55  # D4: top 5 councils >= 42%, bottom 5 <= 11% on the logit scale
UPTAKE_OR_ETHNIC = {"Asian": 0.75, "Black": 0.70, "Mixed": 0.90, "White": 1.0, "Other": 0.80}  # U3
UPTAKE_OR_LANGUAGE = {"Somali": 0.60, "Gujarati": 0.80, "Bengali": 0.75}  # U2, estimate
UPTAKE_OR_INTERPRETER = 0.70  # U2, estimate
B_AGE = np.array([0.0, -1.0, -1.3, -1.5])  # D3: logit(0.37) - logit(0.14) = 1.28
B_FEMALE = -0.05  # estimate
B_PSR = np.array([0.1, 0.0, 0.0, -0.1, -0.2, -0.8, 0.3, -0.6, -0.5, -0.3, -0.4])  # estimate
#: P(offered | no DP) by broad group: a practice finding (U2), estimate. Not stated: 0.5.
OFFER_NO_DP = {"Asian": 0.45, "Black": 0.40, "Mixed": 0.55, "White": 0.60, "Other": 0.45}
PART_DP = 0.2  # estimate: share of DP holders on a part DP
MANAGED_PB = 0.6  # estimate: share of non-DP community people on a managed personal budget

# DP set-up: days from request to first payment, lognormal (estimate).
SETUP_MEDIAN_DAYS = 42.0
SETUP_SIGMA = 0.5
SETUP_RATIO = {"Asian": 1.2, "Black": 1.3, "Mixed": 1.0, "White": 1.0, "Other": 1.2}  # estimate
DP_IN_WINDOW = 0.55  # estimate: share of current DP holders whose DP began in the 5 years
UNPAID_CARER = {"Asian": 0.50, "Black": 0.42, "Mixed": 0.40, "White": 0.40, "Other": 0.45}
DP_MANAGED_BY = (codes.DP_MANAGED_BY, (0.45, 0.35, 0.10, 0.10))  # estimate
#: W2: 32% of DP recipients employ their own staff (PA or mixed).
DP_USED_FOR = (codes.DP_USED_FOR, (0.22, 0.53, 0.10, 0.15))
BUDGET_MEDIAN = (350.0, 800.0)  # estimate: £/week community, residential
HOURLY_COST = 22.0  # estimate: W8 pay £10.50 plus on-costs and agency margin
N_TEAMS = 8
N_AREAS = 40

# ITS intensity of DP starts (docs/planted_effects.md).
TREND = 0.003  # per month, estimate
SEASON = (0.08, 0.05)  # cos, sin amplitudes, estimate

# PA market.
PA_PER_DP = 100_000 / 117_737  # W5 people working as PAs / D2 people with a DP
PA_FEMALE = 0.82  # W11
PA_LEAVE_PER_HALF_YEAR = 0.10  # W6 ~20% a year
PA_SECOND_AGENCY = 0.10  # estimate
PA_INACTIVE = 0.08  # estimate
GAP_LANGUAGES = ("Somali", "Bengali")  # planted language gaps
GAP_KEEP = 0.2  # estimate: share of gap-language PAs who keep the language on the register
GAP_AREAS = 2
REQUESTS_PER_EMPLOYER_YEAR = 0.201 * 1.87  # W6 turnover x W3 PAs per employer
WEIBULL_SHAPE = 1.3  # estimate
MEDIAN_FILL_DAYS = 49.0  # R1
WITHDRAW_MEAN_DAYS = 400.0  # estimate (~10% withdraw)
RECRUIT_HR = {"language": 0.65, "ethnicity": 0.75, "gender": 0.85,  # R2 estimate
              "hospital_discharge": 1.5}
PREFERENCE_P = {"language": 0.5, "ethnicity_minority": 0.15, "ethnicity_white": 0.03,
                "gender": 0.30, "hospital_discharge": 0.12}  # estimate

# Survey (ASCS style).
SURVEY_PER_COUNCIL = 410  # Q9
SURVEY_ROUNDS = tuple(np.datetime64(f"{y}-11-01") for y in range(2021, 2026))
ASCOT_ITEMS = ("control", "personal_care", "food_drink", "accommodation", "safety",
               "social_participation", "occupation", "dignity")
#: Item offsets on the latent scale (social contact lowest: Q8), estimate.
ASCOT_OFFSET = np.array([-0.1, 0.3, 0.4, 0.3, 0.2, -0.4, -0.3, 0.2])
ASCOT_CUTS = np.array([0.0, -1.6, -2.6])  # mean SCRQoL ~19.0 (Q3)
SATISFACTION_CUTS = np.array([0.67, -0.46, -1.2, -1.6, -2.0, -2.5])  # Q4 64% very/extremely
INFO_CUTS = np.array([0.45, -0.67, -1.6])  # Q7 ~70% easy
INFO_NEVER_TRIED = 0.10  # estimate
LATENT_SD = 0.8
LATENT_GROUP = {"Asian": -0.15, "Black": -0.15, "Mixed": -0.05, "White": 0.0, "Other": -0.10}  # Q10
LATENT_OLDER = -0.08  # Q1: 19.6 (18-64) vs 18.8 (65+)
LATENT_DP = 0.05  # estimate
SURVEY_FORMATS = (codes.SURVEY_FORMATS, (0.70, 0.15, 0.10, 0.05))  # estimate
