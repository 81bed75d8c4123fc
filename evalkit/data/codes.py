"""Code lists and vectorised normalisers for the evalkit data contract.

Every normaliser works on the distinct values of a column (`pd.factorize`), so a column of
1.5 million rows costs one Python call per distinct value, not per row. A normaliser returns
the canonical value, or NaN for a value it does not know; blanks ("", "N/A", "NULL", ...) are
NaN before any lookup, so callers tell "blank" from "unknown" by looking at the input.

Ethnicity: NHS ethnic category codes are the 2001 Census 16+1 categories (A-S, Z). They are mapped
to the closest 2021 label (GOV.UK wording of the ONS 2021 19-group classification):
C "Any other White background" cannot separate Gypsy or Irish Traveller or Roma, S "Any other
ethnic group" cannot separate Arab, and R "Chinese" (an "Other" group in 2001) is Asian in 2021.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

NOT_STATED = "Not stated"
NOT_RECORDED = "Not recorded"

#: Strings that mean "blank" in any column (compared after stripping and lower-casing).
MISSING_TOKENS = frozenset({"", "n/a", "na", "#n/a", "null", "none", "nan", "nat", "-"})

ASIAN = "Asian or Asian British"
BLACK = "Black, Black British, Caribbean or African"
MIXED = "Mixed or Multiple ethnic groups"
WHITE = "White"
OTHER = "Other ethnic group"

#: The 19 detailed groups (ONS 2021 classification, GOV.UK wording) with their broad group.
ETHNIC_GROUPS: dict[str, str] = {
    f"{ASIAN}: Bangladeshi": "Asian",
    f"{ASIAN}: Chinese": "Asian",
    f"{ASIAN}: Indian": "Asian",
    f"{ASIAN}: Pakistani": "Asian",
    f"{ASIAN}: Any other Asian background": "Asian",
    f"{BLACK}: African": "Black",
    f"{BLACK}: Caribbean": "Black",
    f"{BLACK}: Any other Black, Black British or Caribbean background": "Black",
    f"{MIXED}: White and Asian": "Mixed",
    f"{MIXED}: White and Black African": "Mixed",
    f"{MIXED}: White and Black Caribbean": "Mixed",
    f"{MIXED}: Any other Mixed or Multiple background": "Mixed",
    f"{WHITE}: English, Welsh, Scottish, Northern Irish or British": "White",
    f"{WHITE}: Irish": "White",
    f"{WHITE}: Gypsy or Irish Traveller": "White",
    f"{WHITE}: Roma": "White",
    f"{WHITE}: Any other White background": "White",
    f"{OTHER}: Arab": "Other",
    f"{OTHER}: Any other ethnic group": "Other",
}
ETHNIC_GROUP_LABELS: tuple[str, ...] = (*ETHNIC_GROUPS, NOT_STATED)
BROAD_GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other", NOT_STATED)

#: NHS Data Dictionary ethnic category (2001 Census based) -> closest 2021 detailed group.
NHS_ETHNIC_CODES: dict[str, str] = {
    "A": f"{WHITE}: English, Welsh, Scottish, Northern Irish or British",
    "B": f"{WHITE}: Irish",
    "C": f"{WHITE}: Any other White background",
    "D": f"{MIXED}: White and Black Caribbean",
    "E": f"{MIXED}: White and Black African",
    "F": f"{MIXED}: White and Asian",
    "G": f"{MIXED}: Any other Mixed or Multiple background",
    "H": f"{ASIAN}: Indian",
    "J": f"{ASIAN}: Pakistani",
    "K": f"{ASIAN}: Bangladeshi",
    "L": f"{ASIAN}: Any other Asian background",
    "M": f"{BLACK}: Caribbean",
    "N": f"{BLACK}: African",
    "P": f"{BLACK}: Any other Black, Black British or Caribbean background",
    "R": f"{ASIAN}: Chinese",
    "S": f"{OTHER}: Any other ethnic group",
    "Z": NOT_STATED,
}

# Alternative wordings seen in extracts: ONS census table labels, CLD labels, short forms.
_HEADINGS = {
    "Asian": ("asian or asian british", "asian asian british or asian welsh", "asian"),
    "Black": ("black black british caribbean or african",
              "black black british black welsh caribbean or african", "black or black british",
              "black"),
    "Mixed": ("mixed or multiple ethnic groups", "mixed", "mixed multiple ethnic groups"),
    "White": ("white",),
    "Other": ("other ethnic group", "other ethnic groups", "other"),
}
_ETHNIC_SHORT = {
    "Bangladeshi": ("bangladeshi",),
    "Chinese": ("chinese",),
    "Indian": ("indian", "indian or british indian"),
    "Pakistani": ("pakistani", "pakistani or british pakistani"),
    "Any other Asian background": ("any other asian background", "other asian",
                                   "other asian background"),
    "African": ("african",),
    "Caribbean": ("caribbean",),
    "Any other Black, Black British or Caribbean background": (
        "any other black black british or caribbean background", "other black",
        "any other black background", "other black background"),
    "White and Asian": ("white and asian",),
    "White and Black African": ("white and black african",),
    "White and Black Caribbean": ("white and black caribbean",),
    "Any other Mixed or Multiple background": (
        "any other mixed or multiple background", "other mixed or multiple ethnic groups",
        "any other mixed or multiple ethnic background", "any other mixed background",
        "other mixed", "other mixed background"),
    "English, Welsh, Scottish, Northern Irish or British": (
        "english welsh scottish northern irish or british", "british", "white british"),
    "Irish": ("irish", "white irish"),
    "Gypsy or Irish Traveller": ("gypsy or irish traveller", "gypsy irish traveller"),
    "Roma": ("roma",),
    "Any other White background": ("any other white background", "other white",
                                   "other white background"),
    "Arab": ("arab",),
    "Any other ethnic group": ("any other ethnic group", "other ethnic group"),
}
_NOT_STATED_WORDS = (
    "not stated", "not known", "unknown", "refused", "prefer not to say", "not recorded",
    "no data refused", "no data undeclared or not known", "undeclared", "99", "z not stated",
)


def key(value: object) -> str:
    """A comparison key: lower case, '&' as 'and', punctuation as spaces, single spaces."""
    text = str(value).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z+]+", " ", text).split()).replace(" +", "+")


def _ethnicity_lookup() -> dict[str, str]:
    """Every accepted ethnicity key -> detailed 2021 label (or Not stated)."""
    out: dict[str, str] = {key(w): NOT_STATED for w in _NOT_STATED_WORDS}
    by_suffix = {label.split(": ", 1)[1]: label for label in ETHNIC_GROUPS}
    for suffix, words in _ETHNIC_SHORT.items():
        label = by_suffix[suffix]
        broad = ETHNIC_GROUPS[label]
        for word in words:
            out[key(word)] = label
            for heading in _HEADINGS[broad]:
                out[key(f"{heading} {word}")] = label
    for code, label in NHS_ETHNIC_CODES.items():
        out[key(code)] = label
        if label != NOT_STATED:  # e.g. "H Indian", "H - Indian"
            out[key(f"{code} {label.split(': ', 1)[1]}")] = label
    for label in ETHNIC_GROUP_LABELS:
        out[key(label)] = label
    # NHS codes are single letters: bare "other"/"white" etc. are headings, handled as broad.
    for words in _HEADINGS.values():
        for word in words:
            out.pop(key(word), None)
    return out


def _broad_lookup() -> dict[str, str]:
    """Broad-group headings (and broad names) -> broad group."""
    out = {key(w): broad for broad, words in _HEADINGS.items() for w in words}
    out.update({key(w): NOT_STATED for w in _NOT_STATED_WORDS})
    return out


ETHNICITY_LOOKUP: dict[str, str] = _ethnicity_lookup()
BROAD_LOOKUP: dict[str, str] = _broad_lookup()

PRIMARY_SUPPORT_REASONS: tuple[str, ...] = (
    "Physical Support: Access and mobility only",
    "Physical Support: Personal care support",
    "Sensory Support: Support for visual impairment",
    "Sensory Support: Support for hearing impairment",
    "Sensory Support: Support for dual impairment",
    "Support with Memory and Cognition",
    "Learning Disability Support",
    "Mental Health Support",
    "Social Support: Substance misuse support",
    "Social Support: Asylum seeker support",
    "Social Support: Support for Social Isolation/Other",
)
#: Primary support reasons CLD allows beyond SALT's eleven above: kept as categories of their
#: own, so every breakdown of a CLD cohort adds up to NHS England's ASCOF 3D total.
PRIMARY_SUPPORT_REASONS_CLD: tuple[str, ...] = ("Social Support: Support to Carer", "Unknown")
SERVICE_TYPES: tuple[str, ...] = (
    "Long Term Support: Community",
    "Long Term Support: Residential",
    "Long Term Support: Nursing",
)
DELIVERY_MECHANISMS: tuple[str, ...] = (
    "Direct Payment only",
    "Part Direct Payment",
    "CASSR Managed Personal Budget",
    "CASSR Commissioned Support only",
)
DP_MECHANISMS: tuple[str, ...] = DELIVERY_MECHANISMS[:2]
GENDERS: tuple[str, ...] = ("Male", "Female", "Other", "Unknown")
PA_STATUSES: tuple[str, ...] = ("active", "inactive", "left")
REQUEST_OUTCOMES: tuple[str, ...] = ("filled", "withdrawn", "open")
DP_MANAGED_BY: tuple[str, ...] = ("self", "family or nominated person", "support agency",
                                  "managed account")
DP_USED_FOR: tuple[str, ...] = ("PA", "agency care", "mixed", "other")
MATCH_SOURCES: tuple[str, ...] = ("register", "agency", "family member", "word of mouth")
SURVEY_FORMATS: tuple[str, ...] = ("postal", "online", "interview", "translated")
CHANGE_STATUSES: tuple[str, ...] = ("planned", "implemented")
ENGAGEMENT_METHODS: tuple[str, ...] = ("interview", "group", "survey comment")
AGE_BANDS: tuple[str, ...] = ("Under 18", "18-64", "65-74", "75-84", "85+")

#: European Standard Population 2013, 19 five-year bands (Eurostat 2013), weights sum to 100,000.
ESP2013: dict[str, int] = dict(zip(
    ("0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
     "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+"),
    (5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000, 5500, 5000,
     4000, 2500, 1500, 1000),
    strict=True,
))


def _lookup(canonical: Iterable[str], aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """key(canonical) -> canonical, plus key(alias) -> canonical."""
    out = {key(c): c for c in canonical}
    out.update({key(a): c for a, c in (aliases or {}).items()})
    return out


_PSR_SHORT = {
    "Access and mobility only": 0, "Access and mobility": 0, "Personal care support": 1,
    "Personal care": 1, "Visual impairment": 2, "Support for visual impairment": 2,
    "Hearing impairment": 3, "Support for hearing impairment": 3, "Dual impairment": 4,
    "Support for dual impairment": 4, "Memory and Cognition": 5, "Learning Disability": 6,
    "Mental Health": 7, "Substance misuse": 8, "Substance misuse support": 8,
    "Asylum seeker": 9, "Asylum seeker support": 9, "Social Isolation/Other": 10,
    "Support for Social Isolation/Other": 10, "Social isolation": 10,
}
PSR_LOOKUP = _lookup((*PRIMARY_SUPPORT_REASONS, *PRIMARY_SUPPORT_REASONS_CLD),
                     {a: PRIMARY_SUPPORT_REASONS[i] for a, i in _PSR_SHORT.items()})
SERVICE_TYPE_LOOKUP = _lookup(SERVICE_TYPES, {
    "Community": SERVICE_TYPES[0], "LTS Community": SERVICE_TYPES[0],
    "Residential": SERVICE_TYPES[1], "Residential Care": SERVICE_TYPES[1],
    "Long Term Support: Residential Care": SERVICE_TYPES[1], "LTS Residential": SERVICE_TYPES[1],
    "Nursing": SERVICE_TYPES[2], "Nursing Care": SERVICE_TYPES[2],
    "Long Term Support: Nursing Care": SERVICE_TYPES[2], "LTS Nursing": SERVICE_TYPES[2],
})
DELIVERY_LOOKUP = _lookup(DELIVERY_MECHANISMS, {
    "Direct Payment": DELIVERY_MECHANISMS[0], "Direct Payments": DELIVERY_MECHANISMS[0],
    "DP": DELIVERY_MECHANISMS[0], "DP only": DELIVERY_MECHANISMS[0],
    "Part DP": DELIVERY_MECHANISMS[1], "Partial Direct Payment": DELIVERY_MECHANISMS[1],
    "Managed Personal Budget": DELIVERY_MECHANISMS[2], "CMPB": DELIVERY_MECHANISMS[2],
    "Council Managed Personal Budget": DELIVERY_MECHANISMS[2],
    "CASSR Commissioned Support": DELIVERY_MECHANISMS[3],
    "Commissioned Support": DELIVERY_MECHANISMS[3],
    "Council Commissioned Support": DELIVERY_MECHANISMS[3],
})
GENDER_LOOKUP = _lookup(GENDERS, {
    "M": "Male", "Man": "Male", "1": "Male", "F": "Female", "Woman": "Female", "2": "Female",
    "9": "Other", "Indeterminate": "Other", "Non-binary": "Other", "X": "Unknown",
    "0": "Unknown", "Not known": "Unknown", "Not stated": "Unknown", "U": "Unknown",
})
PA_STATUS_LOOKUP = _lookup(PA_STATUSES, {"current": "active", "available": "active",
                                         "not available": "inactive", "leaver": "left"})
OUTCOME_LOOKUP = _lookup(REQUEST_OUTCOMES, {"matched": "filled", "cancelled": "withdrawn",
                                            "ongoing": "open", "pending": "open"})
DP_MANAGED_BY_LOOKUP = _lookup(DP_MANAGED_BY, {
    "self managed": "self", "family": "family or nominated person",
    "nominated person": "family or nominated person", "agency": "support agency",
    "managed account service": "managed account"})
DP_USED_FOR_LOOKUP = _lookup(DP_USED_FOR, {"personal assistant": "PA", "agency": "agency care",
                                           "home care agency": "agency care"})
MATCH_SOURCE_LOOKUP = _lookup(MATCH_SOURCES, {"family": "family member", "pa register": "register"})
SURVEY_FORMAT_LOOKUP = _lookup(SURVEY_FORMATS, {"paper": "postal", "web": "online",
                                                "face to face": "interview"})
CHANGE_STATUS_LOOKUP = _lookup(CHANGE_STATUSES, {"done": "implemented", "live": "implemented"})
ENGAGEMENT_METHOD_LOOKUP = _lookup(ENGAGEMENT_METHODS, {"focus group": "group",
                                                        "comment": "survey comment"})
BOOL_LOOKUP: dict[str, bool] = {
    **{k: True for k in ("y", "yes", "true", "t", "1", "1 0")},
    **{k: False for k in ("n", "no", "false", "f", "0", "0 0")},
}
_BAND_ALIASES = {"85 and over": "85+", "85 plus": "85+", "90 and over": "90+",
                 "90 plus": "90+", "under 18": "Under 18", "0 17": "Under 18"}
AGE_BAND_LOOKUP = {**_lookup((*AGE_BANDS, *ESP2013)), **{key(a): c for a, c in
                                                          _BAND_ALIASES.items()}}

# Languages: canonical name -> ISO 639-1, ISO 639-3/639-2 codes and common alternatives.
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "English": ("en", "eng"), "Gujarati": ("gu", "guj"),
    "Panjabi": ("pa", "pan", "punjabi", "panjabi"), "Urdu": ("ur", "urd"),
    "Bengali": ("bn", "ben", "bangla"), "Sylheti": ("syl",), "Hindi": ("hi", "hin"),
    "Polish": ("pl", "pol"), "Romanian": ("ro", "ron", "rum"), "Portuguese": ("pt", "por"),
    "Arabic": ("ar", "ara"), "Somali": ("so", "som"), "Tamil": ("ta", "tam"),
    "Chinese": ("zh", "zho", "chi"), "Cantonese": ("yue",), "Mandarin": ("cmn",),
    "Turkish": ("tr", "tur"), "Kurdish": ("ku", "kur"), "Persian": ("fa", "fas", "per", "farsi"),
    "Dari": ("prs",), "Pashto": ("ps", "pus", "pushto"), "Tigrinya": ("ti", "tir"),
    "Amharic": ("am", "amh"), "Spanish": ("es", "spa"), "French": ("fr", "fra", "fre"),
    "Italian": ("it", "ita"), "German": ("de", "deu", "ger"), "Lithuanian": ("lt", "lit"),
    "Latvian": ("lv", "lav"), "Russian": ("ru", "rus"), "Bulgarian": ("bg", "bul"),
    "Hungarian": ("hu", "hun"), "Slovak": ("sk", "slk", "slo"), "Czech": ("cs", "ces", "cze"),
    "Albanian": ("sq", "sqi", "alb"), "Greek": ("el", "ell", "gre"),
    "Vietnamese": ("vi", "vie"), "Tagalog": ("tl", "tgl", "filipino", "fil"),
    "Malayalam": ("ml", "mal"), "Telugu": ("te", "tel"), "Nepali": ("ne", "nep"),
    "Swahili": ("sw", "swa"), "Yoruba": ("yo", "yor"), "Igbo": ("ig", "ibo"),
    "Shona": ("sn", "sna"), "Ukrainian": ("uk", "ukr"), "Welsh": ("cy", "cym", "wel"),
    "Sinhala": ("si", "sin", "sinhalese"), "Marathi": ("mr", "mar"), "Twi": ("tw", "twi"),
    "British Sign Language": ("bsl", "bfi"), "Tetum": ("tet",), "Oromo": ("om", "orm"),
    "Lingala": ("ln", "lin"), "Dutch": ("nl", "nld", "dut"), "Japanese": ("ja", "jpn"),
    "Korean": ("ko", "kor"), "Thai": ("th", "tha"), "Malay": ("ms", "msa", "may"),
}
LANGUAGE_LOOKUP: dict[str, str] = {
    **{key(name): name for name in _LANGUAGES},
    **{key(alias): name for name, aliases in _LANGUAGES.items() for alias in aliases},
    **{k: NOT_RECORDED for k in ("not recorded", "not known", "unknown", "not stated")},
}
LANGUAGE_NAMES: tuple[str, ...] = tuple(_LANGUAGES)


def map_unique(s: pd.Series, func: Callable[[object], object]) -> pd.Series:
    """Apply `func` to each distinct non-missing value of `s` and broadcast back (NaN for NaN)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def normalise_code(s: pd.Series, lookup: Mapping[str, object]) -> pd.Series:
    """Canonical value for each entry of `s` by `key()`; NaN for blank or unknown entries."""
    def one(value: object) -> object:
        text = str(value)
        return np.nan if text.strip().lower() in MISSING_TOKENS else lookup.get(key(text), np.nan)

    return map_unique(s, one)


def ethnic_group(s: pd.Series) -> pd.Series:
    """NHS code or 2021 label -> one of the 19 detailed labels or "Not stated" (NaN if unknown)."""
    return normalise_code(s, ETHNICITY_LOOKUP)


def ethnic_group_broad(detailed: pd.Series) -> pd.Series:
    """Detailed label (or broad name) -> Asian, Black, Mixed, White, Other, Not stated."""
    table = {**ETHNIC_GROUPS, NOT_STATED: NOT_STATED, **{b: b for b in BROAD_GROUPS}}
    return map_unique(detailed, lambda v: table.get(v, np.nan))


def broad_group_of(label: object) -> str:
    """The broad group of one detailed label or broad name ("Asian or Asian British: Indian"
    -> "Asian"); a label that is neither is an error."""
    table = {**ETHNIC_GROUPS, NOT_STATED: NOT_STATED, **{b: b for b in BROAD_GROUPS}}
    if label not in table:
        raise ValueError(f"{label!r} is not an ONS ethnic group (detailed or broad)")
    return table[label]


def ethnic_group_any_level(s: pd.Series) -> pd.Series:
    """A detailed label where the value names one, else a broad group name ("Asian"), else NaN.

    For tables that may hold either level (population denominators, PA request preferences).
    """
    detailed = ethnic_group(s)
    broad = normalise_code(s, BROAD_LOOKUP)
    return detailed.where(detailed.notna(), broad)


def language(value: object) -> str:
    """One language name: a known name or code -> canonical name, blank -> "Not recorded",
    anything else kept in title case (a language is never an error)."""
    text = " ".join(str(value).split())
    if text.lower() in MISSING_TOKENS:
        return NOT_RECORDED
    return LANGUAGE_LOOKUP.get(key(text), text.title())


def languages(value: object) -> str:
    """A list of languages separated by ';', ',' or '/' -> sorted, de-duplicated, ';'-joined."""
    parts = {language(p) for p in re.split(r"[;,/]", str(value))} - {NOT_RECORDED}
    return ";".join(sorted(parts)) if parts else NOT_RECORDED


def normalise_language(s: pd.Series) -> pd.Series:
    """Vectorised `language`: blank entries become "Not recorded"."""
    return map_unique(s, language).fillna(NOT_RECORDED)


def normalise_languages(s: pd.Series) -> pd.Series:
    """Vectorised `languages`: blank entries become "Not recorded"."""
    return map_unique(s, languages).fillna(NOT_RECORDED)


def age_band(birth_date: pd.Series, at: pd.Timestamp | str) -> pd.Series:
    """ASCOF age band at date `at` (completed years): Under 18, 18-64, 65-74, 75-84, 85+."""
    at = pd.Timestamp(at)
    born = pd.to_datetime(birth_date)
    before_birthday = (born.dt.month > at.month) | (
        (born.dt.month == at.month) & (born.dt.day > at.day))
    age = at.year - born.dt.year - before_birthday.astype(int)
    bands = pd.cut(age, [-np.inf, 17, 64, 74, 84, np.inf], labels=list(AGE_BANDS))
    return pd.Series(bands, index=birth_date.index, name="age_band")
