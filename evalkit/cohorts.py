"""Who is counted: one definition of each cohort every analysis uses.

- the council a report covers (`council`, `for_council`);
- community long-term support on a date (`community`, `ongoing`, `snapshot`): adults (18+) with
  ongoing community long-term support, one row per person;
- Direct Payment recipients on a date (`dp_recipients`): the people of that snapshot with a DP;
- when a Direct Payment started paying (`dp_start_dates`);
- the adult population (`adult_population`, `adult_fraction`).

Person-level frames from here never reach an output; analyses reduce them to counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes

COMMUNITY = "Long Term Support: Community"
ALL_COUNCILS = "all"
#: The columns that decide who is in a snapshot (chosen on these, then the wide rows copied once).
SNAPSHOT_FIELDS = ["person_id", "service_type", "start_date", "end_date", "has_dp", "birth_date"]
#: dp_used_for values meaning the DP pays (at least partly) for Personal Assistants.
PA_USES = frozenset({"pa", "mixed"})


# ---------------------------------------------------------------- the council
def council(episodes: pd.DataFrame | None, la_code: str | None, *,
            where: str = "analyse") -> str:
    """The council a report covers: `la_code` as given, or ALL_COUNCILS.

    None or "" means the only council in support_episodes, else all of them; "all" means all
    councils together; any other code must be in support_episodes.la_code. Without
    support_episodes (or its la_code) the code is taken as given.
    """
    if la_code in (None, "") and (episodes is None or "la_code" not in episodes):
        return ALL_COUNCILS
    if episodes is None or "la_code" not in episodes or la_code == ALL_COUNCILS:
        return str(la_code)
    present = sorted(episodes["la_code"].dropna().astype(str).unique())
    if la_code in (None, ""):
        return present[0] if len(present) == 1 else ALL_COUNCILS
    if la_code not in present:
        more = " ..." if len(present) > 10 else ""
        raise ValueError(f"{where}: la_code {la_code!r} is not in support_episodes.la_code; "
                         f"councils found: {', '.join(present[:10])}{more} (or 'all')")
    return la_code


def for_council(frame: pd.DataFrame | None, la_code: str | None) -> pd.DataFrame | None:
    """The rows of one council, when the frame has la_code and one council is chosen."""
    if frame is None or la_code in (None, "", ALL_COUNCILS) or "la_code" not in frame:
        return frame
    return frame[frame["la_code"] == la_code].reset_index(drop=True)


# ---------------------------------------------------------------- long-term support on a date
def community(episodes: pd.DataFrame, la_code: str | None = None) -> pd.DataFrame:
    """Community long-term support episodes, oldest start first, with `_pid` (person number).

    The one filter and sort every snapshot shares, done once so that a trend of quarterly
    snapshots costs a date comparison per quarter. `la_code` None or "all" keeps every council.
    """
    ep = episodes if la_code in (None, ALL_COUNCILS) else episodes[episodes["la_code"] == la_code]
    ep = ep[ep["service_type"] == COMMUNITY].sort_values("start_date", kind="stable")
    return ep.assign(_pid=pd.factorize(ep["person_id"])[0])


def ongoing(comm: pd.DataFrame, at: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `comm` of each person's latest episode ongoing on `at`, and whether any of
    their ongoing episodes is a DP (start_date <= at; end_date empty or on or after `at`)."""
    start, end = comm["start_date"].to_numpy(), comm["end_date"].to_numpy()
    pos = np.flatnonzero((start <= at.to_datetime64()) & ~(end < at.to_datetime64()))
    pid = comm["_pid"].to_numpy()[pos]
    dp = comm["has_dp"].fillna(False).to_numpy(bool)[pos]
    by = pd.DataFrame({"pos": pos, "dp": dp}).groupby(pid, sort=False)
    return by["pos"].last().to_numpy(), by["dp"].any().to_numpy()


def adults(comm: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The people of a `community` frame with support ongoing on `at`, aged 18+ then: one row
    each (their latest ongoing episode), with has_dp (any ongoing episode a DP) and age_band."""
    pos, dp = ongoing(comm, at)
    people = comm.iloc[pos].drop(columns="_pid").assign(has_dp=dp)
    people["age_band"] = codes.age_band(people["birth_date"], at).to_numpy()
    return people[people["age_band"] != "Under 18"].reset_index(drop=True)


def snapshot(episodes: pd.DataFrame, at: pd.Timestamp | str, *,
             la_code: str | None = None) -> pd.DataFrame:
    """One row per adult with ongoing community long-term support on `at` (never shown).

    Ongoing means start_date <= at and end_date empty or on or after `at` (NHS England's
    convention: an episode ending on the snapshot date is open on it). A person with several ongoing
    community episodes counts once, with a DP if any of them is a DP, other fields from the latest.
    Adds age_band at `at`; drops people under 18. `la_code` None or "all" keeps every council.
    """
    at = pd.Timestamp(at)
    keep = (episodes["start_date"] <= at) & ~(episodes["end_date"] < at)  # ongoing rows first
    if la_code not in (None, ALL_COUNCILS):
        keep &= episodes["la_code"] == la_code
    slim = episodes[SNAPSHOT_FIELDS].assign(_row=np.arange(len(episodes)))
    people = adults(community(slim[keep.to_numpy(bool)]), at)
    return episodes.iloc[people["_row"].to_numpy()].assign(
        has_dp=people["has_dp"].to_numpy(), age_band=people["age_band"].to_numpy()
    ).reset_index(drop=True)


def dp_recipients(episodes: pd.DataFrame | None, at: pd.Timestamp | str, *,
                  pa_only: bool = False) -> pd.DataFrame:
    """The people of `snapshot(episodes, at)` with a Direct Payment, one row per person.

    `pa_only` keeps those whose DP pays for Personal Assistants (dp_used_for PA or mixed); without
    a dp_used_for column every DP holder counts (a caveat the reports state).
    """
    if episodes is None or episodes.empty:
        return pd.DataFrame(columns=["person_id", "has_dp", "age_band"])
    snap = snapshot(episodes, at)
    keep = snap["has_dp"].to_numpy(bool, copy=True)
    if pa_only and "dp_used_for" in snap:
        keep &= snap["dp_used_for"].astype("string").str.strip().str.lower().isin(
            PA_USES).fillna(False).to_numpy(bool)
    return snap[keep].reset_index(drop=True)


def dp_start_dates(episodes: pd.DataFrame) -> pd.Series:
    """When each DP episode's payments began: dp_first_payment_date, else start_date."""
    start = episodes["start_date"]
    if "dp_first_payment_date" in episodes:
        start = episodes["dp_first_payment_date"].fillna(start)
    return start


# ---------------------------------------------------------------- the adult population
def adult_fraction(age_band: pd.Series) -> pd.Series:
    """Share of each age band aged 18+, assuming even ages within a band ("15-19" -> 0.4).

    Handles ASCOF bands ("Under 18", "18-64", "85+") and five-year bands ("0-4", "90+").
    """
    band = age_band.astype(str).str.strip()
    lo = pd.to_numeric(band.str.extract(r"^(\d+)")[0], errors="coerce")
    hi = pd.to_numeric(band.str.extract(r"^\d+\s*-\s*(\d+)")[0], errors="coerce")
    frac = ((hi - 17) / (hi - lo + 1)).clip(0, 1).where(hi.notna(), (lo >= 18).astype(float))
    return frac.where(~band.str.lower().str.startswith("under"), 0.0).fillna(0.0)


def adult_population(population: pd.DataFrame | None,
                     la_code: str | None = None) -> pd.DataFrame | None:
    """The population rows of one council (or all) counting adults (18+) only: each row's
    population times the share of its age band aged 18+ (`adult_fraction`); bands wholly
    under 18 are dropped. Counts stay whole numbers where every band is wholly adult or not."""
    if population is None:
        return None
    pop = for_council(population, la_code)
    if "age_band" not in pop:
        return pop.reset_index(drop=True)
    frac = adult_fraction(pop["age_band"])
    keep = (frac > 0).to_numpy()
    scaled = pop["population"] * frac if ((frac > 0) & (frac < 1)).any() else pop["population"]
    return pop.assign(population=scaled)[keep].reset_index(drop=True)
