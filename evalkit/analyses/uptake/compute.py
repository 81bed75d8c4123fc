"""Who gets a Direct Payment, and who does not: the computation behind notebook 01_uptake.

`analyse` runs every uptake analysis once on a loaded Dataset and returns an `Uptake` of tidy
frames and scalars; `publish` (publish.py) collects what the report shows from it, and the
findings and display modules read only that. Definitions follow ASCOF 1C(2A): people with an
ongoing community long-term support episode at the snapshot date, aged 18+, with a DP when the
delivery mechanism is "Direct Payment only" or "Part Direct Payment".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evalkit.analyses.uptake.compute_dp import (
    areas,
    carer_recorded,
    carer_share,
    continuation,
    geometric_mean_ratio,
    mix,
    plan_size_ratio,
    setup_days,
    setup_time,
)
from evalkit.analyses.uptake.compute_snapshot import (
    GROUP_COLUMNS,
    adjusted_odds_ratios,
    choose_reference,
    group_column,
    interpreter_group,
    intersectional,
    language_group,
    missing_counts,
    not_stated_bounds,
    offer_rates,
    overall,
    population_uptake,
    standardised_ratio,
    trend,
    uptake,
)
from evalkit.cohorts import ALL_COUNCILS, council, for_council, snapshot
from evalkit.data import codes
from evalkit.data.areas import area_names as named_areas
from evalkit.data.cld.layout import nhs_round
from evalkit.stats.glm import ODDS_COLUMNS

#: Fields of support_episodes the analysis uses when a council records them.
OPTIONAL_FIELDS = ("preferred_language", "interpreter_required", "dp_offered", "dp_managed_by",
                   "dp_used_for", "weekly_budget", "planned_hours", "has_unpaid_carer",
                   "area_code")
#: The files the analysis reads (its data-quality table lists these).
TABLES = ("support_episodes", "population")


@dataclass
class Uptake:
    """Everything notebook 01 shows, computed once by `analyse`: tidy frames of counts and
    estimates, and the scalars that describe them. `snap` is the person-level snapshot the
    frames come from; it is never published."""

    params: dict
    la_code: str
    period_end: pd.Timestamp
    period_start: pd.Timestamp
    group_col: str
    reference: str
    snap: pd.DataFrame
    first_start: pd.Timestamp | None
    fields: tuple[str, ...]
    quality: pd.DataFrame | None
    warnings: list[str]
    overall: pd.DataFrame
    by_group: pd.DataFrame
    by_broad: pd.DataFrame
    by_population: pd.DataFrame | None
    by_language: pd.DataFrame | None
    by_interpreter: pd.DataFrame | None
    isr: pd.DataFrame
    isr_language: pd.DataFrame | None
    odds: pd.DataFrame
    odds_display: pd.DataFrame
    offers: pd.DataFrame | None
    offers_broad: pd.DataFrame | None
    missing: pd.DataFrame
    bounds: pd.DataFrame
    trend: pd.DataFrame
    areas: pd.DataFrame | None
    intersection: pd.DataFrame
    setup: pd.DataFrame | None
    setup_ratio: pd.DataFrame | None
    setup_ratio_broad: pd.DataFrame | None
    continuation: pd.DataFrame | None
    managed_by: pd.DataFrame | None
    used_for: pd.DataFrame | None
    budget: pd.DataFrame | None
    hours: pd.DataFrame | None
    carer: pd.DataFrame | None
    carer_share_broad: pd.DataFrame | None
    ascof: pd.DataFrame | None
    area_names: dict[str, str] = field(default_factory=dict)  # the optional areas lookup


def default_period_end(episodes: pd.DataFrame) -> pd.Timestamp:
    """The quarter end on or after the latest start or end date in the episodes."""
    last = max(episodes["start_date"].max(), episodes["end_date"].max())
    return pd.Timestamp(last).to_period("Q").end_time.normalize()


def analyse(data, *, la_code: str | None = None, period_end: str | None = None,
            lookback: int = 12, group_level: str = "broad", reference_group: str = "White",
            min_cell: int = 5, conf: float = 0.95) -> Uptake:
    """Run every uptake analysis on a loaded Dataset (see the module docstring)."""
    ep = data.support_episodes
    la = council(ep, la_code, where="uptake")
    end = pd.Timestamp(period_end) if period_end else default_period_end(ep)
    ep = for_council(ep, la)
    gcol = group_column(group_level)
    since = end - pd.DateOffset(months=3 * lookback)
    snap = snapshot(ep, end)
    broad = GROUP_COLUMNS["broad"]
    ref = choose_reference(snap[gcol], reference_group) if len(snap) else reference_group
    wanted_broad = codes.ETHNIC_GROUPS.get(reference_group, reference_group)
    ref_broad = choose_reference(snap[broad], wanted_broad) if len(snap) else wanted_broad
    odds = adjusted_odds_ratios(snap, broad, ref_broad, conf) if len(snap) else _empty_odds()
    setup = setup_days(ep, gcol, end, since)
    setup_broad = setup_days(ep, broad, end, since) if gcol != broad else setup
    params = {"la_code": la, "period_end": end.date().isoformat(), "lookback": lookback,
              "group_level": group_level, "reference_group": ref, "min_cell": min_cell}
    return Uptake(
        params=params, la_code=la, period_end=end, period_start=since + pd.Timedelta(days=1),
        group_col=gcol, reference=ref, snap=snap,
        first_start=ep["start_date"].min() if len(ep) else None,
        fields=tuple(f for f in OPTIONAL_FIELDS if f in snap), quality=_quality(data.quality),
        warnings=list(data.warnings), overall=overall(snap, conf),
        by_group=uptake(snap, gcol, conf), by_broad=uptake(snap, broad, conf),
        by_population=(population_uptake(snap, data.population, gcol, la, conf)
                       if data.population is not None else None),
        by_language=(uptake(snap.assign(language=language_group(snap["preferred_language"])),
                            "language", conf) if "preferred_language" in snap else None),
        by_interpreter=(uptake(snap.assign(interpreter=interpreter_group(
            snap["interpreter_required"])), "interpreter", conf)
            if "interpreter_required" in snap else None),
        isr=standardised_ratio(snap, gcol, conf=conf) if len(snap) else pd.DataFrame(),
        isr_language=(standardised_ratio(snap.assign(language=language_group(
            snap["preferred_language"])), "language", conf=conf)
            if len(snap) and "preferred_language" in snap else None),
        odds=odds,
        odds_display=(odds if gcol == broad or not len(snap)
                      else adjusted_odds_ratios(snap, gcol, ref, conf)),
        offers=offer_rates(snap, gcol, conf), offers_broad=offer_rates(snap, broad, conf),
        missing=missing_counts(snap), bounds=not_stated_bounds(snap, gcol, conf),
        trend=trend(ep, gcol, end, lookback, conf=conf),
        areas=areas(snap, conf) if len(snap) else None,
        intersection=intersectional(snap, gcol), setup=setup_time(ep, gcol, end, since, conf),
        setup_ratio=None if setup is None else geometric_mean_ratio(setup, "days", gcol, ref, conf),
        setup_ratio_broad=(None if setup_broad is None else
                           geometric_mean_ratio(setup_broad, "days", broad, ref_broad, conf)),
        continuation=continuation(ep, gcol, end, since, conf),
        managed_by=mix(snap, gcol, "dp_managed_by"), used_for=mix(snap, gcol, "dp_used_for"),
        budget=plan_size_ratio(snap, gcol, "weekly_budget", ref, conf),
        hours=plan_size_ratio(snap, gcol, "planned_hours", ref, conf),
        carer=carer_recorded(snap, gcol, conf), carer_share_broad=carer_share(snap, broad, conf),
        ascof=council_ascof(data.ascof, la),
        area_names=named_areas(getattr(data, "areas", None)))


def council_ascof(ascof: pd.DataFrame | None, la_code: str) -> pd.DataFrame | None:
    """ASCOF 3D 1a and 2a of the council as NHS England computes them from raw CLD (the
    loader's `Dataset.ascof`: la_code, age_band, measure, numerator, denominator, percent);
    for all councils, numerators and denominators summed per age band and measure. None when
    the data are not raw CLD (the measure needs it)."""
    if ascof is None:
        return None
    if la_code != ALL_COUNCILS:
        return ascof[ascof["la_code"] == la_code].reset_index(drop=True)
    total = (ascof.groupby(["age_band", "measure"], sort=False, as_index=False)
             [["numerator", "denominator"]].sum())
    percent = [nhs_round(int(n), int(d))
               for n, d in zip(total["numerator"], total["denominator"], strict=True)]
    return total.assign(la_code=ALL_COUNCILS, percent=percent)[list(ascof.columns)]


def _quality(quality: pd.DataFrame | None) -> pd.DataFrame | None:
    """The loader's rows kept and excluded, for the files this analysis reads: one row per file
    and reason (so each published count is protected once, as shown)."""
    if quality is None:
        return None
    q = quality[quality["table"].isin(TABLES)]
    return q.groupby(["table", "reason"], as_index=False, sort=False)["rows"].sum()


def _empty_odds() -> pd.DataFrame:
    """An odds-ratio frame with no rows (no one in the snapshot)."""
    return pd.DataFrame(columns=[*ODDS_COLUMNS, "no_dp", "df_resid"])
