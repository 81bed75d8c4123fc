"""Notebook 03_outcomes, did the practice change work: `analyse` (compute) -> `publish` ->
`show_*` (display) and `record` / `key_findings` / `estimates` (findings)."""

from evalkit.analyses.outcomes.compute import NOTEBOOK, Outcomes
from evalkit.analyses.outcomes.compute_controlled import controlled, team_offers
from evalkit.analyses.outcomes.compute_experience import (
    ASCOT_ITEMS,
    MEASURES,
    engagement_themes,
    survey_scores,
    survey_shifts,
    weighted_shift,
)
from evalkit.analyses.outcomes.compute_its import ChangeFit, fit_change, rare_points, spc_points
from evalkit.analyses.outcomes.compute_power import months_needed, planning
from evalkit.analyses.outcomes.compute_series import (
    OUTCOMES,
    change_log,
    first_post,
    monthly_series,
    series_bounds,
    target_mask,
)
from evalkit.analyses.outcomes.display import (
    show_controlled,
    show_each,
    show_engagement,
    show_experience,
    show_experience_by,
    show_key_findings,
    show_methods,
    show_planned,
    show_power,
    show_quality,
    show_series,
    show_timeline,
)
from evalkit.analyses.outcomes.display_series import show_its, show_spc
from evalkit.analyses.outcomes.findings import estimates, key_findings, record, who
from evalkit.analyses.outcomes.params import analyse
from evalkit.analyses.outcomes.publish import publish

__all__ = [
    "ASCOT_ITEMS", "MEASURES", "NOTEBOOK", "OUTCOMES", "ChangeFit", "Outcomes", "analyse",
    "change_log", "controlled", "engagement_themes", "estimates", "first_post", "fit_change",
    "key_findings", "monthly_series", "months_needed", "planning", "publish", "record",
    "series_bounds", "show_controlled", "show_each", "show_engagement", "show_experience",
    "show_experience_by", "show_its", "show_key_findings", "show_methods", "show_planned",
    "show_power", "show_quality", "show_series", "show_spc", "show_timeline", "spc_points",
    "rare_points",
    "survey_scores", "survey_shifts", "target_mask", "team_offers", "weighted_shift", "who",
]
