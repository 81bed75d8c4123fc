"""The persons and events behind synthetic raw CLD, with the problems real submissions have.

`chunk_events(people, episodes, ...)` turns some councils' people (the generator's rows, the
same people as the contract format's support_episodes) into CLD persons (identifiers and
demographics) and events (one row per event, coded integers, days since 1970), and plants the
problems NHS England's transformation sets aside or resolves. Each event carries at most one
problem code (`PROBLEMS`); rates are estimates, chosen so a Leicester demo has dozens of each.

Nothing planted changes who is in the long-term cohort at the snapshot, their setting or their
Direct Payment: extra rows are lower settings, rows without an id, non-service events, carers,
people without a birth date, and events of people who died; the person's own row keeps its
setting and DP.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.data.cld import layout as L
from evalkit.synth.columns import ids
from evalkit.synth.people import DAY0, DAY_END

Q4_START = np.datetime64("2026-01-01").astype(np.int64)

# ------------------------------------------------------------------ vocabularies (coded ints)
SHORT_TERM = "Short Term Support: ST-Max"
CARER_SUPPORT = "Carer Support: Direct to Carer"
SERVICE_TYPES = (L.COMMUNITY, L.RESIDENTIAL, L.NURSING, SHORT_TERM, CARER_SUPPORT)
COMMUNITY, RESIDENTIAL, NURSING, ST_MAX, CARER_SERVICE = range(5)
#: Service components (estimate of the CLD list; only "Direct Payment" matters to ASCOF 3D).
COMPONENTS = (L.DP_SERVICE_COMPONENT, "Home Care", "Day Care", "Supported Living",
              "Residential Care", "Nursing Care", "Reablement", "Carer Respite")
DP_COMPONENT, HOME_CARE, RESIDENTIAL_CARE, NURSING_CARE, REABLEMENT, RESPITE = 0, 1, 4, 5, 6, 7
#: Delivery mechanisms as written: the defined list, then SQL Server equals of "Direct Payment"
#: (case, trailing spaces), then values the SQL blanks as invalid.
DP_SPELLINGS = ("direct payment ", "DIRECT PAYMENT", "Direct payment  ")
INVALID_MECHANISMS = ("Cash", "Personal Budget", "Unknown")
MECHANISMS = (*L.DELIVERY_MECHANISMS, *DP_SPELLINGS, *INVALID_MECHANISMS)
DP, MANAGED, COMMISSIONED = range(3)
_SPELLING0 = len(L.DELIVERY_MECHANISMS)
_INVALID0 = _SPELLING0 + len(DP_SPELLINGS)
OUTCOMES = ("NFA - Deceased", "NFA - Support ended: Other reason",
            "Progress to Support Planning / Services", "No change in package")
DECEASED, ENDED, TO_SUPPORT, NO_CHANGE = range(4)
EVENT_TYPES = L.EVENT_TYPES
ASSESSMENT, SERVICE, REVIEW = (EVENT_TYPES.index(t) for t in ("Assessment", "Service", "Review"))
SERVICE_USER, CARER = L.CLIENT_TYPES.index(L.SERVICE_USER), L.CLIENT_TYPES.index("Carer")
#: CLD ethnicity labels ("White - Irish"), in codes.ETHNIC_GROUPS order, then not known.
_CLD_HEADINGS = {"Mixed": "Mixed or multiple ethnic groups"}
CLD_ETHNICITY = tuple(
    f"{_CLD_HEADINGS.get(broad, label.split(': ', 1)[0])} - {label.split(': ', 1)[1]}"
    .replace("Mixed or Multiple background", "Mixed or multiple ethnic background")
    for label, broad in codes.ETHNIC_GROUPS.items()) + ("No data - Undeclared or Not known",)
#: CLD spells two reasons with "&".
CLD_PSR = tuple(p.replace("Access and", "Access &").replace("Memory and", "Memory &")
                for p in codes.PRIMARY_SUPPORT_REASONS)
YES_NO = ("No", "Yes")

# ------------------------------------------------------------------ planted problems
#: Problem code -> what the transformation does with the row (docs in truth.json's "cld").
PROBLEMS = (
    "no_usable_id",                  # no NHS number; its LA id has one on another row: set aside
    "two_settings",                  # a lower setting of a person in residential/nursing care
    "part_dp_second_row",            # the commissioned part of a part DP: lower setting
    "dp_in_service_component_only",  # Delivery_Mechanism blank, Service_Component DP: a DP
    "dp_mechanism_spelling",         # "direct payment " etc.: a DP (SQL Server equality)
    "invalid_mechanism",             # blanked; the person stays community, no DP
    "mechanism_not_expected",        # a mechanism on a residential/nursing row: blanked
    "died_before_snapshot",          # event left open, died before the snapshot: set aside
    "short_term_service",            # ST-Max open at the snapshot: not long-term
    "assessment",                    # not a service
    "review",                        # not a service
    "carer",                         # Client_Type Carer, carer support: not long-term
    "carer_long_term_service",       # Client_Type Carer on a long-term service type: a carer
    "no_birth_date",                 # Der_Birth_Year/Month blank: set aside
)
P = {name: k for k, name in enumerate(PROBLEMS)}
#: Problems the transformation resolves (the row is used) and those it sets aside.
RESOLVED = ("dp_in_service_component_only", "dp_mechanism_spelling", "invalid_mechanism",
            "mechanism_not_expected")
SET_ASIDE = tuple(p for p in PROBLEMS if p not in RESOLVED)
#: Problems on long-term service rows: such a row whose event ended before the snapshot is set
#: aside for that first (the others are set aside whatever their dates).
ENDED_FIRST = (*RESOLVED, "no_usable_id", "two_settings", "part_dp_second_row")
#: Rates (estimates).
NO_NHS_NUMBER = 0.03        # people with no NHS number on any row (their LA id is used)
NO_ID_ROW = 0.01            # current people with one more row, without the NHS number
SHORT_TERM_OPEN = 0.01      # current people also on ST-Max at the snapshot
LATE_CLOSED = 0.02          # current people whose event a late resubmission closes
TWO_SETTINGS = 0.06         # current residential/nursing people also open in a lower setting
COMPONENT_ONLY = 0.10       # DP-only rows written with the DP in Service_Component only
SPELLING = 0.05             # DP rows with an odd spelling of "Direct Payment"
INVALID = 0.03              # community commissioned rows with an invalid mechanism
RES_MECHANISM = 0.30        # residential/nursing rows with a (blanked) mechanism
DIED = np.array([0.10, 0.35, 0.45, 0.55])  # ended people who died, by age band
DIED_OPEN = 0.10            # of deaths, events the council left open
STALE = 0.5                 # events ending in Q4 still open in the superseded first Q4 file
REVIEWED = 0.25             # current people reviewed in the last year
CARERS = 0.06               # carers per person
CARER_LTS = 0.1             # of carers, recorded on a long-term community service type
NO_BIRTH = 0.003            # people without a birth year and month

_EVENT_COLUMNS = ("person", "client", "etype", "stype", "comp", "mech", "outcome", "start",
                  "end", "death", "nhs_blank", "stale", "late_end", "problem")


def pseudo_nhs(g: np.ndarray) -> pd.Series:
    """A pseudonymised NHS number per global person number (a bijection mod 10^12)."""
    return ids("N", ((np.asarray(g, np.int64) + 1) * 2_654_435_761) % 10**12, 12)


def current(people: pd.DataFrame) -> np.ndarray:
    """Open at the period end as NHS England's SQL reads it: started by then, not ended before."""
    start, end = people["start"].to_numpy(), people["end"].to_numpy()
    return (start <= DAY_END) & ((end < 0) | (end >= DAY_END))


def _events(n: int, **cols: np.ndarray | int) -> pd.DataFrame:
    """An events frame of n rows; missing columns take their blank value."""
    blank = {"client": SERVICE_USER, "etype": SERVICE, "stype": -1, "comp": -1, "mech": -1,
             "outcome": -1, "end": -1, "death": -1, "nhs_blank": False, "stale": False,
             "late_end": -1, "problem": -1}
    data = {c: np.broadcast_to(cols.get(c, blank.get(c)), n).copy() for c in _EVENT_COLUMNS}
    return pd.DataFrame(data)


def _persons(people: pd.DataFrame, la_ids: pd.Series, nhs: pd.Series) -> pd.DataFrame:
    """CLD person attributes of the generator's people."""
    eth = people["eth_rec"].to_numpy()
    return pd.DataFrame({
        "la_id": la_ids.to_numpy(), "nhs": nhs.to_numpy(), "birth": people["birth"].to_numpy(),
        "female": people["female"].to_numpy(),
        "eth": np.where(eth < 0, len(CLD_ETHNICITY) - 1, eth),
        "psr": people["psr"].to_numpy(), "carer": people["carer"].to_numpy(int),
        "council": people["council"].to_numpy()})


def _extra_persons(prefix: str, n: int, g0: int, people: pd.DataFrame,
                   rng: np.random.Generator, birth: bool) -> pd.DataFrame:
    """Carers ("C") or people without a birth date ("U"), numbered from g0 (after every
    person of every council): demographics copied from random people."""
    donor = people.iloc[rng.integers(0, len(people), n)]
    frame = _persons(donor, ids(prefix, g0 + np.arange(n), 9), pseudo_nhs(g0 + np.arange(n)))
    frame["birth"] = (1995 * 12 - (rng.random(n) * 50 * 12).astype(int)) if birth else -1
    frame["carer"] = -1 if prefix == "C" else frame["carer"]
    frame["psr"] = -1 if prefix == "C" else frame["psr"]
    return frame


def _service_rows(people: pd.DataFrame, mech_text: np.ndarray, rng: np.random.Generator
                  ) -> pd.DataFrame:
    """Each person's long-term service event, as the contract row says (setting, DP, dates)."""
    n = len(people)
    service = people["service"].to_numpy()
    dp_only = mech_text == codes.DELIVERY_MECHANISMS[0]
    dp = dp_only | (mech_text == codes.DELIVERY_MECHANISMS[1])
    managed = mech_text == codes.DELIVERY_MECHANISMS[2]
    community = service == 0
    mech = np.where(dp, DP, np.where(managed, MANAGED, COMMISSIONED))
    comp = np.where(dp & (rng.random(n) < 0.6), DP_COMPONENT, HOME_CARE + rng.integers(0, 3, n))
    comp = np.where(community, comp, np.where(service == 1, RESIDENTIAL_CARE, NURSING_CARE))
    problem = np.full(n, -1)
    u = rng.random(n)
    only = dp_only & (u < COMPONENT_ONLY)
    spelled = dp & ~only & (u >= 1 - SPELLING)
    invalid = community & (mech == COMMISSIONED) & (u < INVALID)
    res_mech = ~community & (u < RES_MECHANISM)
    comp = np.where(only, DP_COMPONENT, comp)
    mech = np.where(only, -1, mech)
    mech = np.where(spelled, _SPELLING0 + rng.integers(0, len(DP_SPELLINGS), n), mech)
    mech = np.where(invalid, _INVALID0 + rng.integers(0, len(INVALID_MECHANISMS), n), mech)
    mech = np.where(community | res_mech, mech, -1)
    for mask, name in ((only, "dp_in_service_component_only"), (spelled, "dp_mechanism_spelling"),
                       (invalid, "invalid_mechanism"), (res_mech, "mechanism_not_expected")):
        problem[mask] = P[name]
    end = people["end"].to_numpy()
    ended = (end >= 0) & (end < DAY_END)
    died = ended & (rng.random(n) < DIED[people["age"].to_numpy()])
    left_open = died & (rng.random(n) < DIED_OPEN)
    problem[left_open] = P["died_before_snapshot"]
    outcome = np.where(died, DECEASED, np.where(ended, ENDED, -1))
    return _events(n, person=np.arange(n), stype=service, comp=comp, mech=mech,
                   outcome=np.where(left_open, -1, outcome), start=people["start"].to_numpy(),
                   end=np.where(left_open, -1, end), death=np.where(died, end, -1),
                   stale=(end >= Q4_START) & (end < DAY_END) & (rng.random(n) < STALE),
                   problem=problem)


def _second_rows(people: pd.DataFrame, main: pd.DataFrame, mech_text: np.ndarray,
                 persons: pd.DataFrame, rng: np.random.Generator) -> list[pd.DataFrame]:
    """Part-DP commissioned rows; for current people a row without an id, ST-Max at the
    snapshot, a lower setting (people in care) or an event closed only in the late
    resubmission (at most one of these four each; the last is set in `main`'s late_end);
    reviews in the last year; assessments before support that began in the series."""
    n = len(people)
    cur = current(people)
    service = people["service"].to_numpy()
    start = people["start"].to_numpy()
    part = np.flatnonzero(mech_text == codes.DELIVERY_MECHANISMS[1])
    died = main["problem"].to_numpy()[part] == P["died_before_snapshot"]
    part_rows = main.iloc[part].assign(comp=HOME_CARE, mech=COMMISSIONED, problem=np.where(
        died, P["died_before_snapshot"], P["part_dp_second_row"]))
    u = rng.random(n)
    no_id = np.flatnonzero(cur & (u < NO_ID_ROW) & persons["nhs"].notna().to_numpy())
    no_id_rows = main.iloc[no_id].assign(nhs_blank=True, problem=P["no_usable_id"])
    short = np.flatnonzero(cur & (u >= NO_ID_ROW) & (u < NO_ID_ROW + SHORT_TERM_OPEN))
    short_rows = _events(len(short), person=short, stype=ST_MAX, comp=REABLEMENT,
                         mech=COMMISSIONED, start=DAY_END - rng.integers(1, 40, len(short)),
                         problem=P["short_term_service"])
    care = np.flatnonzero(cur & (service > 0) & (u >= 1 - TWO_SETTINGS))
    lower = np.where((service[care] == 2) & (rng.random(len(care)) < 0.5), RESIDENTIAL,
                     COMMUNITY)
    two_rows = _events(len(care), person=care, stype=lower,
                       comp=np.where(lower == COMMUNITY, HOME_CARE, RESIDENTIAL_CARE),
                       mech=np.where(lower == COMMUNITY, COMMISSIONED, -1),
                       start=start[care] - rng.integers(30, 400, len(care)),
                       problem=P["two_settings"])
    fy = np.datetime64("2025-04-01").astype(np.int64)
    rev = np.flatnonzero(cur & (rng.random(n) < REVIEWED))
    r_start = fy + (rng.random(len(rev)) * (DAY_END - fy)).astype(np.int64)
    review_rows = _events(len(rev), person=rev, etype=REVIEW, outcome=NO_CHANGE, start=r_start,
                          end=r_start + rng.integers(0, 15, len(rev)), problem=P["review"])
    new = np.flatnonzero(start >= DAY0 - 60)
    a_start = start[new] - rng.integers(7, 60, len(new))
    assess_rows = _events(len(new), person=new, etype=ASSESSMENT, outcome=TO_SUPPORT,
                          start=a_start, end=a_start + rng.integers(0, 28, len(new)),
                          problem=P["assessment"])
    late = cur & (u >= NO_ID_ROW + SHORT_TERM_OPEN) & (u < NO_ID_ROW + SHORT_TERM_OPEN
                                                       + LATE_CLOSED)
    main["late_end"] = np.where(late, DAY_END - rng.integers(1, 45, n), -1)
    return [part_rows, no_id_rows, short_rows, two_rows, review_rows, assess_rows]


def chunk_events(people: pd.DataFrame, episodes: pd.DataFrame, g0: int, n_total: int,
                 rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(persons, events) of some councils' people: their events with the planted problems,
    carers and people without a birth date (in the councils of random people). g0: global
    number of the first person; n_total: people in all councils (extra persons are numbered
    after them)."""
    people = people.reset_index(drop=True)
    nhs = pseudo_nhs(g0 + np.arange(len(people))).where(rng.random(len(people)) >= NO_NHS_NUMBER)
    persons = _persons(people, episodes["person_id"], nhs)
    mech_text = episodes["delivery_mechanism"].to_numpy()
    main = _service_rows(people, mech_text, rng)
    extra = _second_rows(people, main, mech_text, persons, rng)
    n_c, n_u = round(CARERS * len(people)), max(1, round(NO_BIRTH * len(people)))
    carers = _extra_persons("C", n_c, n_total + g0, people, rng, birth=True)
    unborn = _extra_persons("U", n_u, n_total + g0 + n_c, people, rng, birth=False)
    k0, k1 = len(persons), len(persons) + n_c
    c_dp = rng.random(n_c) < 0.4
    c_start = DAY_END - np.minimum(rng.exponential(700, n_c), 3000).astype(np.int64)
    c_end = np.where(rng.random(n_c) < 0.2, c_start + rng.integers(30, 400, n_c), -1)
    c_lts = rng.random(n_c) < CARER_LTS
    carer_rows = _events(n_c, person=k0 + np.arange(n_c), client=CARER,
                         stype=np.where(c_lts, COMMUNITY, CARER_SERVICE),
                         comp=np.where(c_dp, DP_COMPONENT, RESPITE),
                         mech=np.where(c_dp, DP, COMMISSIONED), start=c_start,
                         end=np.where((c_end >= 0) & (c_end < DAY_END), c_end, -1),
                         problem=np.where(c_lts, P["carer_long_term_service"], P["carer"]))
    u_start = DAY_END - rng.integers(30, 2000, n_u)
    unborn_rows = _events(n_u, person=k1 + np.arange(n_u), stype=COMMUNITY, comp=HOME_CARE,
                          mech=COMMISSIONED, start=u_start, problem=P["no_birth_date"])
    events = pd.concat([main, *extra, carer_rows, unborn_rows], ignore_index=True)
    return pd.concat([persons, carers, unborn], ignore_index=True), events
