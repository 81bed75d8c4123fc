"""Notebook 02: can people find a Personal Assistant who speaks their language, near them, in time?

`analyse` takes a loaded Dataset and returns a `Market`: tidy result frames (counts and estimates
per snapshot, agency, group, language or area) and the few scalars that describe them. It neither
displays nor words anything: `publish` (findings.py) collects what the report shows, and the
show_* functions (display.py, display_recruitment.py) format that. The topics live in
compute_register.py (the PA register), compute_workforce.py (who the PAs are, language coverage)
and compute_recruitment.py (time to recruit, match achieved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from evalkit.analyses.pa_market import compute_recruitment as recruitment
from evalkit.analyses.pa_market import compute_register as pa_register
from evalkit.analyses.pa_market import compute_workforce as workforce
from evalkit.cohorts import ALL_COUNCILS, adult_population, dp_recipients, for_council
from evalkit.cohorts import council as choose_council
from evalkit.data import codes
from evalkit.data.areas import area_names

#: The register columns (and `language`) whose composition is described.
DIMENSIONS = ("ethnic_group_broad", "ethnic_group", "gender", "language", "religion")
#: The groupings of joiners and leavers between snapshots.
CHANGE_BY = ("all", "ethnic_group_broad", "language")
#: The files notebook 02 reads (its data-quality table and notes cover these).
TABLES = ("pa_register", "pa_requests", "support_episodes", "population")
#: The columns `area_level` can name: each person's and PA's area, or the council as one area.
AREA_LEVELS = ("area_code", "la_code")
#: The parameters recorded in results.json, in this order.
PARAMETERS = ("la_code", "snapshot_date", "area_level", "target_days", "discharge_target_days",
              "min_cell", "conf")


@dataclass(frozen=True)
class Market:
    """Everything notebook 02 shows, computed once by `analyse`.

    Frames are tidy, except `register`, `pas`, `recipients`, `employers` and `durations` (one row
    per PA, person or request), which `publish` leaves out. `lacking` names what the data folder
    lacks (codes that findings.LACKING words); `warnings` are the loader's about these files;
    `area_names` names area codes when the data folder has an areas lookup.
    """

    params: dict
    snapshots: list[pd.Timestamp]
    snapshot: pd.Timestamp | None
    as_at: pd.Timestamp | None
    extract: pd.Timestamp | None
    quality: pd.DataFrame
    returns: pd.DataFrame
    snapshot_counts: pd.DataFrame
    register: pd.DataFrame | None
    pas: pd.DataFrame
    recipients: pd.DataFrame
    employers: pd.DataFrame
    composition: dict[str, pd.DataFrame]
    dissimilarity: pd.DataFrame
    representation: pd.DataFrame
    coverage: pd.DataFrame
    grid: pd.DataFrame
    durations: pd.DataFrame
    waiting: pd.DataFrame
    medians: pd.DataFrame
    filled: pd.DataFrame
    cox: pd.DataFrame
    match: pd.DataFrame
    sources: pd.DataFrame
    change: dict[str, pd.DataFrame]
    lacking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    area_names: dict[str, str] = field(default_factory=dict)  # from the optional areas lookup


def analyse(data, *, la_code: str | None = None, snapshot_date: str | None = None,
            area_level: str = "area_code", target_days: Sequence[int] = recruitment.TARGET_DAYS,
            discharge_target_days: int = recruitment.DISCHARGE_TARGET_DAYS, min_cell: int = 5,
            conf: float = 0.95, n_boot: int = 1000, seed: int = 2024) -> Market:
    """Run every notebook-02 computation on a loaded Dataset and return a `Market`.

    `snapshot_date` None = the latest register snapshot. Recipients are counted at the end of
    the data (the latest date in it) when the latest snapshot is described, otherwise at the
    chosen snapshot. `area_level` is the column naming a person's or PA's area (area_code; or
    la_code to treat the council as one area).
    """
    chosen = choose_council(data.support_episodes, la_code)
    la_code = None if chosen == ALL_COUNCILS else chosen
    eps = for_council(data.support_episodes, la_code)
    register = pa_register.council_register(data.pa_register, data.support_episodes,
                                            data.population, la_code)
    requests = recruitment.council_requests(data.pa_requests, eps, la_code)
    population = adult_population(workforce.broad_population(data.population), la_code)
    snaps = pa_register.snapshot_dates(register)
    snapshot = pa_register.choose_snapshot(register, snapshot_date)
    extract = recruitment.extract_date(eps, register, requests)
    latest = snapshot is None or snapshot == snaps[-1]
    as_at = extract if latest else snapshot
    pas = pa_register.active_pas(register, snapshot)
    recipients = with_language(dp_recipients(eps, as_at))
    employers = with_language(dp_recipients(eps, as_at, pa_only=True))
    comp = {by: workforce.composition(pas, employers, population, by, conf=conf)
            for by in DIMENSIONS}
    comp = {k: v for k, v in comp.items() if len(v)}
    broad = comp.get("ethnic_group_broad", pd.DataFrame(columns=["group", "source", "count"]))
    durations = recruitment.recruitment_durations(requests, extract)
    params = dict(zip(PARAMETERS, [la_code or ALL_COUNCILS, snapshot_date, area_level,
                                   list(map(int, target_days)), int(discharge_target_days),
                                   int(min_cell), conf], strict=True))
    quality = (data.quality[data.quality["table"].isin(TABLES)]
               if data.quality is not None else pd.DataFrame(columns=["table", "reason", "rows"]))
    # one row per file and reason: disclosure control rounds each count on its own
    quality = quality.groupby(["table", "reason"], as_index=False, sort=False)["rows"].sum()
    grid = workforce.area_language_grid(pas, recipients, area_level)
    return Market(
        params=params, snapshots=snaps, snapshot=snapshot, as_at=as_at, extract=extract,
        quality=quality, returns=pa_register.returns_received(register),
        snapshot_counts=pa_register.snapshot_counts(register), register=register, pas=pas,
        recipients=recipients, employers=employers, composition=comp,
        dissimilarity=workforce.dissimilarity(broad, conf=conf, n_boot=n_boot, seed=seed),
        representation=workforce.representation(broad, conf=conf),
        coverage=workforce.language_coverage(pas, recipients, area_level, grid), grid=grid,
        durations=durations, waiting=recruitment.recruitment_waiting(durations, conf=conf),
        medians=recruitment.recruitment_medians(durations, conf=conf),
        filled=recruitment.recruitment_filled_by(durations, target_days, discharge_target_days,
                                                 conf=conf),
        cox=recruitment.recruitment_cox(durations, conf=conf),
        match=recruitment.match_achieved(requests, register, conf=conf),
        sources=recruitment.match_sources(requests, eps, conf=conf),
        change={by: pa_register.snapshot_change(register, by, conf=conf) for by in CHANGE_BY},
        lacking=lacking(data, eps, register, requests, area_level, la_code),
        warnings=[w for w in getattr(data, "warnings", []) if any(t in w for t in TABLES)],
        area_names=(area_names(getattr(data, "areas", None)) if area_level == "area_code"
                    else {}))


def with_language(people: pd.DataFrame) -> pd.DataFrame:
    """`people` with a preferred_language column: 'Not recorded' for everyone when the data have
    none (never assumed to be English)."""
    if "preferred_language" in people:
        return people
    return people.assign(preferred_language=codes.NOT_RECORDED)


def lacking(data, eps: pd.DataFrame | None, register: pd.DataFrame | None,
            requests: pd.DataFrame | None, area_level: str,
            la_code: str | None = None) -> list[str]:
    """What the data folder lacks for this report, as codes (findings.LACKING words each):
    the register not split by council, a missing file, or an optional column absent."""
    has_register = register is not None and len(register) > 0
    has_requests = requests is not None and len(requests) > 0
    checks = {
        "register_not_split": (la_code is not None and register is data.pa_register
                               and register is not None
                               and pa_register.several_councils(data.support_episodes)),
        "no_register": not has_register,
        "no_requests": not has_requests,
        "no_dp_used_for": eps is not None and "dp_used_for" not in eps,
        "no_preferred_language": eps is not None and "preferred_language" not in eps,
        "no_area_episodes": eps is not None and area_level not in eps,
        "no_area_register": register is not None and area_level not in register,
        "no_religion": has_register and "religion" not in register,
        "no_faith_preference": has_requests and "faith_preference" not in requests,
        "no_match_source": has_requests and "match_source" not in requests,
    }
    return [code for code, lacks in checks.items() if lacks]
