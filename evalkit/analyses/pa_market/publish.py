"""Notebook 02's publication step: the frames and context every display, finding and
results.json row of the report reads, collected once from a `Market`.

Frames of one row per PA, person or request (the register, active PAs, recipients, employers,
request durations) are never published.
"""

from __future__ import annotations

from evalkit.analyses.pa_market.compute import Market
from evalkit.report import wording
from evalkit.report.publication import Publication
from evalkit.report.publication import publish as collect

NOTEBOOK = "02_pa_market"


def publish(m: Market) -> Publication:
    """The report's Publication: frames by name ("composition/<column>", "change/<grouping>" for
    families) and context (the parameters, place, dates, what the data lack)."""
    frames = {
        "snapshots": m.snapshot_counts, "returns": m.returns, "quality": m.quality,
        **{f"composition/{by}": comp for by, comp in m.composition.items()},
        "dissimilarity": m.dissimilarity, "representation": m.representation,
        "coverage": m.coverage, "grid": m.grid,
        "curves": m.curves, "medians": m.medians, "filled": m.filled, "cox": m.cox,
        "match": m.match, "sources": m.sources,
        **{f"change/{by}": change for by, change in m.change.items()},
    }
    context = {**m.params, "place": wording.place(m.params["la_code"]),
               "snapshot": m.snapshot, "as_at": m.as_at, "extract": m.extract,
               "snapshot_dates": list(m.snapshots), "lacking": list(m.lacking),
               "warnings": list(m.warnings)}
    return collect(NOTEBOOK, frames, context)
