"""The publication step of notebook 01: the frames and scalars its report shows, collected once.

The findings and display modules read only the `Publication` this returns, never the `Uptake`
result or the data; the person-level snapshot is not in it.
"""

from __future__ import annotations

from evalkit.analyses.uptake.compute import Uptake
from evalkit.report import publication, wording
from evalkit.report.publication import Publication

NOTEBOOK = "01_uptake"


def publish(res: Uptake) -> Publication:
    """Collect every frame notebook 01 shows or records from `res`, with its context: the
    council, snapshot date and period, grouping, reference group, disclosure threshold, the
    optional fields present and the loader's warnings."""
    frames = {
        "quality": res.quality, "overall": res.overall, "missing": res.missing,
        "bounds": res.bounds, "uptake/group": res.by_group, "uptake/broad": res.by_broad,
        "uptake/population": res.by_population, "uptake/language": res.by_language,
        "uptake/interpreter": res.by_interpreter, "isr/group": res.isr,
        "isr/language": res.isr_language, "odds/broad": res.odds, "odds/group": res.odds_display,
        "intersection": res.intersection, "offers/group": res.offers,
        "offers/broad": res.offers_broad, "setup/median": res.setup,
        "setup/ratio": res.setup_ratio, "setup/ratio_broad": res.setup_ratio_broad,
        "continuation/curves": res.continuation, "continuation/ended": res.ended,
        "continuation/counts": res.ended_counts, "mix/dp_managed_by": res.managed_by,
        "mix/dp_used_for": res.used_for, "plan_size/weekly_budget": res.budget,
        "plan_size/planned_hours": res.hours, "carer/group": res.carer,
        "carer/broad": res.carer_share_broad, "areas/units": res.areas,
        "areas/limits": res.area_limits, "trend": res.trend,
    }
    context = {
        "params": res.params, "la_code": res.la_code, "place": wording.place(res.la_code),
        "period_end": res.period_end,
        "period_start": res.period_start, "first_start": res.first_start,
        "group_col": res.group_col, "reference": res.reference,
        "min_cell": res.params["min_cell"], "fields": res.fields, "warnings": res.warnings,
    }
    return publication.publish(NOTEBOOK, frames, context)
