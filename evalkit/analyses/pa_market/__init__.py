"""Notebook 02, the PA market: can people find a Personal Assistant who speaks their language,
near them, in time? `analyse` computes (compute*.py), `publish` collects what the report shows
(publish.py), findings.py words it and writes results.json, and the show_* functions display it
(display.py, display_recruitment.py)."""

from evalkit.analyses.pa_market.compute import Market, lacking
from evalkit.analyses.pa_market.compute_recruitment import (
    ALL_REQUESTS,
    NO_PREFERENCE_GROUP,
    PREFERENCE_LABELS,
    extract_date,
    match_achieved,
    match_sources,
    recruitment_cox,
    recruitment_curves,
    recruitment_durations,
    recruitment_filled_by,
    recruitment_groups,
    recruitment_medians,
    recruitment_waiting,
    stated,
)
from evalkit.analyses.pa_market.compute_register import (
    active_pas,
    area_rows,
    choose_snapshot,
    council_register,
    returns_received,
    snapshot_change,
    snapshot_counts,
    snapshot_dates,
    split_languages,
)
from evalkit.analyses.pa_market.compute_workforce import (
    SOURCES,
    area_language_grid,
    composition,
    dissimilarity,
    language_coverage,
    representation,
)
from evalkit.analyses.pa_market.display import (
    composition_table,
    show_area_heatmap,
    show_composition,
    show_composition_chart,
    show_data_quality,
    show_dissimilarity,
    show_key_findings,
    show_language_gap_chart,
    show_language_gaps,
    show_language_supply,
    show_representation,
    show_returns,
    show_snapshots,
)
from evalkit.analyses.pa_market.display_recruitment import (
    show_change,
    show_match,
    show_match_sources,
    show_methods,
    show_recruitment_cox,
    show_recruitment_curves,
    show_time_to_fill,
)
from evalkit.analyses.pa_market.findings import (
    data_notes,
    estimates,
    gap_sentence,
    key_findings,
    record,
)
from evalkit.analyses.pa_market.params import analyse
from evalkit.analyses.pa_market.publish import publish

__all__ = [
    "ALL_REQUESTS", "NO_PREFERENCE_GROUP", "PREFERENCE_LABELS", "SOURCES", "Market",
    "active_pas", "analyse", "area_language_grid", "area_rows", "choose_snapshot", "composition",
    "composition_table", "council_register", "data_notes", "dissimilarity", "estimates",
    "extract_date", "gap_sentence", "key_findings", "lacking", "language_coverage",
    "match_achieved", "match_sources", "publish", "record", "recruitment_cox",
    "recruitment_curves", "recruitment_durations", "recruitment_filled_by", "recruitment_groups",
    "recruitment_medians", "recruitment_waiting", "representation", "returns_received",
    "show_area_heatmap",
    "show_change", "show_composition", "show_composition_chart", "show_data_quality",
    "show_dissimilarity", "show_key_findings", "show_language_gap_chart", "show_language_gaps",
    "show_language_supply", "show_match", "show_match_sources", "show_methods",
    "show_recruitment_cox", "show_recruitment_curves", "show_representation", "show_returns",
    "show_snapshots", "show_time_to_fill", "snapshot_change", "snapshot_counts",
    "snapshot_dates", "split_languages", "stated",
]
