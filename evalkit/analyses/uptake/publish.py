"""The publication step of notebook 01: the frames and scalars its report shows, collected and
protected once.

`SPECS` declares, for every frame, which columns are counts (rounded, small ones suppressed),
which are shares or rates of which counts (recomputed from the protected counts), which are
model estimates (kept as fitted under the ACRO rule) and which are other numbers; see
evalkit.sdc.protect and docs/disclosure.md. The findings and display modules read only the
`Publication` this returns, never the `Uptake` result or the data; the person-level snapshot is
not in it. Funnel positions are worked out from the protected area counts (`derive`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from evalkit.analyses.uptake.compute import Uptake
from evalkit.analyses.uptake.compute_dp import funnel
from evalkit.data import codes
from evalkit.report import publication, wording
from evalkit.report.publication import Publication
from evalkit.sdc.linked import Sum
from evalkit.sdc.protect import Model, Share, Spec

NOTEBOOK = "01_uptake"

#: people with and without a DP, and the DP share with its interval
UPTAKE = Spec(counts=("dp", "people"), shares=(Share("dp", "people"),), keep=("conf",))
#: observed / expected DPs: a rate of the protected observed count (expected is a model's)
ISR = Spec(counts=("observed", "people"), keep=("expected", "conf"),
           shares=(Share("observed", "expected", kind="rate"),))
#: each group with "all Not stated people belonged to it" (people = with a DP + without)
BOUNDS = Spec(counts=("people", "dp", "no_dp", "not_stated_dp", "not_stated_people"),
              shares=(Share("dp", "people", "share_recorded", None, None),
                      Share(("dp", "not_stated_dp"), ("people", "not_stated_people"),
                            "share_if_all_not_stated", None, None)))
#: the rows of a breakdown of everyone add up to everyone ("All" of the overall frame)
TO_ALL = (Sum("dp[All]", ("dp{key}",)), Sum("people[All]", ("people{key}",)))


def linked(spec: Spec, key: str, dp: str = "dp", names: tuple[tuple[str, str], ...] = (),
           sums: tuple[Sum, ...] = TO_ALL) -> Spec:
    """`spec` with its DPs (column `dp`) and people named by the row's `key` template (e.g.
    "[{language}]"; the same count wherever it is published) and its rows adding up to all."""
    named = ((dp, f"dp{key}"), ("people", f"people{key}"), *names)
    return replace(spec, names=named, sums=tuple(Sum(s.total.format(key=key),
                                                     tuple(t.format(key=key) for t in s.parts))
                                                 for s in sums))
#: odds ratios of a binomial model: each group needs min_cell people with and without a DP
ODDS = Spec(counts=("people", "dp", "no_dp"), keep=("conf",),
            models=(Model(("value", "lower", "upper", "p_value"), each=("dp", "no_dp"),
                          df="df_resid"),))
#: ratios of geometric means (a regression on the log scale): min_cell people per group
RATIO = Spec(counts=("people",), keep=("conf",),
             models=(Model(("value", "lower", "upper", "p_value"), each=("people",),
                           df="df_resid"),))
OFFERS = Spec(counts=("offered", "recorded", "accepted"), keep=("conf",), whole="recorded",
              shares=(Share("offered", "recorded", rows=("measure", "offered")),
                      Share("accepted", "offered", rows=("measure", "accepted"))))
CARER = Spec(counts=("carer", "people"), shares=(Share("carer", "people"),), keep=("conf",),
             whole="people")

#: ASCOF 3D 1a/2a by age band: numerator and denominator are counts like any other (rounded,
#: 1-7 suppressed; an age band whose denominator is suppressed is left out), and the percent is
#: worked out from the rounded counts, so it can differ a little from NHS England's
ASCOF = Spec(counts=("numerator", "denominator"), whole="denominator",
             shares=(Share("numerator", "denominator", "percent", None, None, multiplier=100),))

SPECS: Mapping[str, Spec] = {
    "quality": Spec(counts=("rows",)), "ascof": ASCOF,
    "overall": linked(UPTAKE, "[{group}]", sums=()),
    "uptake/broad": linked(UPTAKE, "[{ethnic_group_broad}]"),
    "uptake/language": linked(UPTAKE, "[language: {language}]"),
    "uptake/interpreter": linked(UPTAKE, "[interpreter: {interpreter}]"),
    "uptake/population": Spec(counts=("dp", "population"), keep=("conf",),
                              shares=(Share("dp", "population"),)),
    "missing": Spec(counts=("people", "total")),
    "isr/language": linked(ISR, "[language: {language}]", dp="observed"),
    "odds/broad": ODDS, "odds/group": ODDS,
    "intersection": Spec(counts=("people", "dp", "no_dp"), whole="people",
                         shares=(Share("dp", "people", "share", None, None),)),
    "offers/group": OFFERS, "offers/broad": OFFERS,
    "setup/median": Spec(counts=("n", "events"), keep=("conf",), models=(Model(n="n"),)),
    "setup/ratio": RATIO, "setup/ratio_broad": RATIO,
    "plan_size/weekly_budget": RATIO, "plan_size/planned_hours": RATIO,
    "continuation": Spec(counts=("followed", "ended", "running"), keep=("months", "conf"),
                         shares=(Share("ended", "followed"),), whole="followed",
                         names=(("followed", "followed[{group}|{months}]"),
                                ("ended", "ended[{group}|{months}]"),
                                ("running", "running[{group}|{months}]")),
                         sums=(Sum("followed[{group}|{months}]", ("ended[{group}|{months}]",
                                                                  "running[{group}|{months}]")),)),
    "carer/group": CARER, "carer/broad": CARER,
    "areas/units": Spec(counts=("dp", "no_dp", "people"), keep=("conf",), whole="people",
                        shares=(Share("dp", "people"),),
                        names=tuple((c, f"{c}[area: {{area}}]") for c in ("dp", "no_dp", "people")),
                        sums=(Sum("people[area: {area}]", ("dp[area: {area}]",
                                                           "no_dp[area: {area}]")),)),
    "trend": Spec(counts=("dp", "people", "starts"), keep=("conf",), whole="people", shares=(
        Share("dp", "people", rows=("measure", "uptake")),
        Share("starts", "people", kind="rate", multiplier=1000, rows=("measure", "new_starts")))),
}


def group_specs(group_col: str) -> dict[str, Spec]:
    """The frames by the report's grouping (detailed or broad ethnic group, `group_col`)."""
    key = f"[{{{group_col}}}]"
    bounds = linked(BOUNDS, key, names=(("no_dp", f"no_dp{key}"),
                                        ("not_stated_dp", "dp[Not stated]"),
                                        ("not_stated_people", "people[Not stated]")),
                    sums=(Sum("people{key}", ("dp{key}", "no_dp{key}")),))
    group = linked(UPTAKE, key)
    if group_col != "ethnic_group_broad":  # detailed groups also add up to their broad group
        group = replace(group, sums=(*group.sums, *(Sum(f"{c}[{{broad}}]", (f"{c}{key}",))
                                                   for c in ("dp", "people"))),
                        fields=(("broad", lambda row: codes.broad_group_of(row[group_col])),))
    return {"uptake/group": group, "isr/group": linked(ISR, key, dp="observed"),
            "bounds": bounds}


def mix_spec(frame: pd.DataFrame | None, group_col: str, field: str) -> Spec:
    """Every column of a mix table but the group is a count of people with a DP; `dp`, their
    total, is the row's size and the sum of the others (`field`: what the table breaks down)."""
    parts = [c for c in (frame.columns if frame is not None else ()) if c not in (group_col, "dp")]
    key = f"[{{{group_col}}}]"
    names = tuple((c, f"{field}: {c}{key}") for c in parts)
    return Spec(counts=("dp", *parts), whole="dp", names=(("dp", f"dp{key}"), *names),
                sums=(Sum(f"dp{key}", tuple(t for _, t in names)),) if parts else ())


def frame_specs(frames: Mapping[str, pd.DataFrame | None], group_col: str) -> dict[str, Spec]:
    """The Spec of every frame of the report, grouped by `group_col`."""
    return {**SPECS, **group_specs(group_col),
            **{k: mix_spec(frames[k], group_col, k.split("/")[1])
               for k in ("mix/dp_managed_by", "mix/dp_used_for")}}


def funnel_frames(shown: Mapping[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame | None]:
    """Funnel positions ('areas/funnel') and limits ('areas/limits') from the protected area
    counts, so a position never gives away more than the rounded counts do."""
    units = shown["areas/units"]
    made = funnel(units) if units is not None else None
    return dict(zip(("areas/funnel", "areas/limits"), made or (None, None), strict=True))


def publish(res: Uptake) -> Publication:
    """Collect and protect every frame notebook 01 shows or records from `res`, with its
    context: the council, snapshot date and period, grouping, reference group, disclosure
    threshold and rounding, the optional fields present and the loader's warnings."""
    frames = {
        "quality": res.quality, "ascof": res.ascof, "overall": res.overall, "missing": res.missing,
        "bounds": res.bounds, "uptake/group": res.by_group, "uptake/broad": res.by_broad,
        "uptake/population": res.by_population, "uptake/language": res.by_language,
        "uptake/interpreter": res.by_interpreter, "isr/group": res.isr,
        "isr/language": res.isr_language, "odds/broad": res.odds, "odds/group": res.odds_display,
        "intersection": res.intersection, "offers/group": res.offers,
        "offers/broad": res.offers_broad, "setup/median": res.setup,
        "setup/ratio": res.setup_ratio, "setup/ratio_broad": res.setup_ratio_broad,
        "continuation": res.continuation, "mix/dp_managed_by": res.managed_by,
        "mix/dp_used_for": res.used_for, "plan_size/weekly_budget": res.budget,
        "plan_size/planned_hours": res.hours, "carer/group": res.carer,
        "carer/broad": res.carer_share_broad, "areas/units": res.areas, "trend": res.trend,
    }
    specs = frame_specs(frames, res.group_col)
    context = {
        "params": res.params, "la_code": res.la_code, "place": wording.place(res.la_code),
        "period_end": res.period_end,
        "period_start": res.period_start, "first_start": res.first_start,
        "group_col": res.group_col, "reference": res.reference,
        "min_cell": res.params["min_cell"], "fields": res.fields, "warnings": res.warnings,
        "area_names": res.area_names,
    }
    return publication.publish(NOTEBOOK, frames, context, specs=specs, derive=funnel_frames)
