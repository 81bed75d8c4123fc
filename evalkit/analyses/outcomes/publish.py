"""The publication step of notebook 03: the frames and context its report shows, by name.

Per selected change `<id>` (e.g. C1): series/<id> (monthly counts of the outcome), its/<id>
(coefficients), its_lines/<id> (observed, fitted and counterfactual with its interval per month),
its_checks/<id> (residual autocorrelation), its_notes/<id> (other changes that could not be
separated), spc/<id> and spc_limits/<id> (run chart points and process limits), controlled/<id>
(target and comparison series), controlled_its/<id> and did/<id> (their estimates), offers/<id>
and offers_did/<id> (offer rates by team), survey/<id> (survey shifts). Then: changes (the log
with each change's series and fit in numbers), survey_by/<ethnic group|preferred language>,
engagement, planning, power, quality. No person-level rows and no model objects.
"""

from __future__ import annotations

import pandas as pd

from evalkit.analyses.outcomes.compute import NOTEBOOK, Outcomes
from evalkit.report import wording
from evalkit.report.publication import Publication
from evalkit.report.publication import publish as collect


def _change_frames(res: Outcomes, k: int) -> dict[str, pd.DataFrame | None]:
    """The frames of the k-th selected change, named `<kind>/<change_id>`."""
    fit, ctl, offers = res.fits[k], res.controls[k], res.offers[k]
    r = fit.result
    frames = {
        "series": fit.series, "its": None if r is None else r.estimates, "its_lines": fit.lines(),
        "its_checks": None if r is None else r.checks,
        "its_notes": pd.DataFrame({"note": fit.notes}, dtype=str),
        "spc": res.spc[k], "spc_limits": res.spc_limits[k], "controlled": ctl.series,
        "controlled_its": None if ctl.result is None else ctl.result.estimates, "did": ctl.did,
        "offers": None if offers is None else offers[0],
        "offers_did": None if offers is None else offers[1], "survey": res.survey[k]}
    return {f"{kind}/{fit.change['change_id']}": f for kind, f in frames.items()}


def publish(res: Outcomes) -> Publication:
    """Collect every frame notebook 03's display, key findings and results.json read (see the
    module docstring), with the report's place, period, thresholds and parameters."""
    frames = {"changes": res.changes, "quality": res.quality, "engagement": res.engagement,
              "planning": res.plan, "power": res.power,
              **{f"survey_by/{by}": t for by, t in res.survey_by.items()}}
    for k in range(len(res.fits)):
        frames |= _change_frames(res, k)
    p = res.params
    context = {"place": wording.place(res.la_code), "start": res.start, "end": res.end,
               "min_cell": p["min_cell"], "alpha": p["alpha"], "outcome": p["outcome"],
               "detect_ratio": p["detect_ratio"], "params": dict(p),
               "warnings": list(res.warnings)}
    return collect(NOTEBOOK, frames, context)
