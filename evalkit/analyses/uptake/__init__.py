"""Notebook 01_uptake: who gets a Direct Payment, and who does not.

`analyse` (params.py: checks the parameters, then compute) -> `publish` (the frames the report
shows) -> `show_*` (display, one per notebook cell) and `record` (results.json and
key_findings.md, findings).
"""

from evalkit.analyses.uptake.compute import Uptake
from evalkit.analyses.uptake.compute_dp import (
    area_unit,
    carer_share,
    geometric_mean_ratio,
    setup_days,
)
from evalkit.analyses.uptake.compute_snapshot import (
    GROUP_COLUMNS,
    NOT_RECORDED,
    NOT_STATED,
    OTHER_LANGUAGE,
    adjusted_odds_ratios,
    choose_reference,
    counts,
    interpreter_group,
    language_group,
    model_frame,
    not_stated_bounds,
    offer_rates,
    quarter_ends,
    uptake,
)
from evalkit.analyses.uptake.display import (
    show_coverage,
    show_interpreter,
    show_intersection,
    show_isr,
    show_key_findings,
    show_language,
    show_methods,
    show_missing,
    show_odds,
    show_population_uptake,
    show_quality,
    show_sensitivity,
    show_uptake,
    show_which_measure,
)
from evalkit.analyses.uptake.display_ascof import show_ascof
from evalkit.analyses.uptake.display_dp import (
    show_areas_outside,
    show_carer,
    show_continuation,
    show_ended,
    show_funnel,
    show_mix,
    show_offers,
    show_plan_size,
    show_setup,
    show_trend,
)
from evalkit.analyses.uptake.findings import estimates, key_findings, record
from evalkit.analyses.uptake.params import analyse, check, reference_groups
from evalkit.analyses.uptake.publish import publish

__all__ = [
    "GROUP_COLUMNS", "NOT_RECORDED", "NOT_STATED", "OTHER_LANGUAGE", "Uptake",
    "adjusted_odds_ratios", "analyse", "area_unit", "carer_share", "check", "choose_reference",
    "counts",
    "estimates", "geometric_mean_ratio", "interpreter_group", "key_findings", "language_group",
    "model_frame", "not_stated_bounds", "offer_rates", "publish", "quarter_ends", "record",
    "reference_groups",
    "setup_days", "show_areas_outside", "show_ascof", "show_carer", "show_continuation",
    "show_coverage",
    "show_ended", "show_funnel", "show_interpreter", "show_intersection", "show_isr",
    "show_key_findings", "show_language", "show_methods", "show_missing", "show_mix", "show_odds",
    "show_offers", "show_plan_size", "show_population_uptake", "show_quality", "show_sensitivity",
    "show_setup", "show_trend", "show_uptake", "show_which_measure", "uptake",
]
