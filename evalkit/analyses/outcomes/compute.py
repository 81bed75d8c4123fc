"""Did the practice change work: the analyses behind notebook 03_outcomes, run once by `analyse`.

From a loaded Dataset: monthly series of an outcome among the people a logged practice change
targeted (`compute_series`), an interrupted time series and a run chart per implemented change
(`compute_its`), a controlled comparison against people the change did not target
(`compute_controlled`), survey scores before and after and what people told the council
(`compute_experience`), and power (`compute_power`). The result holds tidy frames and the fits;
`publish` collects what the report shows, and findings and display read only that.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.analyses.outcomes.compute_controlled import (
    Controlled,
    controlled,
    team_offers,
)
from evalkit.analyses.outcomes.compute_experience import engagement_themes, survey_shifts
from evalkit.analyses.outcomes.compute_its import (
    ChangeFit,
    fit_change,
    rare_points,
    rare_summary,
    spc_points,
)
from evalkit.analyses.outcomes.compute_power import changes_power, planning
from evalkit.analyses.outcomes.compute_series import (
    change_log,
    first_post,
    missing_fields,
    series_bounds,
    target_mask,
)
from evalkit.cohorts import council, for_council
from evalkit.data import codes
from evalkit.stats import spc

NOTEBOOK = "03_outcomes"
TABLES = ("support_episodes", "practice_changes", "survey", "engagement")  # the files 03 reads
#: What `change_table` adds to the log for each change selected for evaluation.
CHANGE_COLUMNS = ["change_id", "selected", "first_month", "months_before", "months_after",
                  "events_before", "events_after", "co_changes", "evaluated", "shortfall",
                  "n_pre", "n_post", "dispersion", "comparison", "controlled_reason"]


@dataclass
class Outcomes:
    """Everything notebook 03 shows, computed once by `analyse`.

    changes: the practice-change log with, for each change selected, its series and fit in
    numbers (`change_table`); fits, controls, spc, spc_limits, rare, offers and survey: one
    entry per selected change, in the order of `changes`. Person-level rows are not kept (a
    fit's `event_dates` are never published; `rare` holds only the t chart's verdicts).
    """

    params: dict
    la_code: str
    start: pd.Timestamp
    end: pd.Timestamp
    changes: pd.DataFrame
    fits: list[ChangeFit]
    controls: list[Controlled]
    spc: list[pd.DataFrame | None]
    spc_limits: list[pd.DataFrame | None]
    rare: list[pd.DataFrame | None]  # t chart verdicts of series too rare for a monthly chart
    offers: list[tuple[pd.DataFrame, pd.DataFrame | None] | None]
    survey: list[pd.DataFrame | None]
    survey_by: dict[str, pd.DataFrame]
    engagement: pd.DataFrame | None
    plan: pd.DataFrame
    power: pd.DataFrame
    quality: pd.DataFrame | None
    warnings: list[str]


def change_table(log: pd.DataFrame, fits: list[ChangeFit],
                 controls: list[Controlled]) -> pd.DataFrame:
    """The change log (`change_log`) with CHANGE_COLUMNS for each change selected: first whole
    month, months and events (or set-up months' starts) either side, the other changes modelled
    (';'-joined), whether it was evaluated or why not, the model's months and dispersion, and the
    controlled comparison's group or why there is none. Unselected rows have selected False."""
    rows = []
    for fit, ctl in zip(fits, controls, strict=True):
        s, r = fit.series, fit.result
        rows.append({
            "change_id": fit.change["change_id"], "selected": True,
            "first_month": first_post(fit.change["date"]),
            "months_before": int((s["post"] == 0).sum()) if len(s) else 0,
            "months_after": int((s["post"] == 1).sum()) if len(s) else 0,
            "events_before": fit.events[0], "events_after": fit.events[1],
            "co_changes": ";".join(fit.co_changes), "evaluated": r is not None,
            "shortfall": fit.shortfall, "n_pre": None if r is None else r.n_pre,
            "n_post": None if r is None else r.n_post,
            "dispersion": None if r is None else r.pearson_dispersion,
            "comparison": ctl.comparison, "controlled_reason": ctl.reason})
    out = log.merge(pd.DataFrame(rows, columns=CHANGE_COLUMNS), on="change_id", how="left")
    return out.assign(selected=out["selected"].eq(True), evaluated=out["evaluated"].eq(True))


def _chosen(log: pd.DataFrame, change_id: str | list[str] | None) -> pd.DataFrame:
    """The implemented changes to evaluate: `change_id` (one or a list) or every one."""
    chosen = log
    if change_id is not None:
        ids = [change_id] if isinstance(change_id, str) else list(change_id)
        unknown = sorted(set(ids) - set(log["change_id"]))
        if unknown:
            raise ValueError(f"change_id {unknown} not in the practice-change log; ids are "
                             f"{log['change_id'].tolist()}")
        chosen = log[log["change_id"].isin(ids)]
    return chosen[chosen["implemented"]]


def _survey_by(survey: pd.DataFrame | None, chosen: pd.DataFrame,
               conf: float) -> dict[str, pd.DataFrame]:
    """Before vs after the first chosen change among everyone surveyed, by ethnic group and
    (when recorded) preferred language."""
    if survey is None or not len(survey) or not len(chosen):
        return {}
    first = chosen.iloc[0]
    by = {"ethnic group": survey_shifts(survey, first, by="ethnic_group_broad", conf=conf)}
    if "preferred_language" in survey:
        by["preferred language"] = survey_shifts(survey, first, by="preferred_language",
                                                 conf=conf)
    return by


def analyse(data, *, la_code: str | None = None, change_id: str | list[str] | None = None,
            outcome: str = "new_dp_starts", comparison: str | None = None,
            pre_months: int | None = None, post_months: int | None = None, alpha: float = 0.05,
            min_cell: int = 5, recalculate_limits: bool = False, trend_length: int = 7,
            shift_length: int = 7, detect_ratio: float = 1.2) -> Outcomes:
    """Run every outcome analysis on a loaded Dataset (see the module docstring).

    change_id: one id, a list, or None for every implemented change in the log (planned ones
    are listed only). comparison: auto (None), teams, groups, councils or none.
    """
    comparison = comparison or "auto"
    conf = 1 - alpha
    all_ep = data.support_episodes
    la = council(all_ep, la_code, where="outcomes")
    ep = for_council(all_ep, la)
    start, end = series_bounds(ep)
    log = change_log(data.practice_changes)
    chosen = _chosen(log, change_id)
    changes = [c for _, c in chosen.iterrows()]
    opts = {"start": start, "end": end, "conf": conf}
    fits = [fit_change(ep, log, c, outcome=outcome, pre_months=pre_months,
                       post_months=post_months, **opts) for c in changes]
    controls = [controlled(ep, log, c, comparison=comparison, all_episodes=all_ep, **opts)
                for c in changes]
    survey = for_council(data.survey, la)
    has_survey = survey is not None and len(survey) > 0
    shifts = [survey_shifts(survey, c, log=log, conf=conf)
              if has_survey and not missing_fields(survey, c.drop("target_teams")) else None
              for c in changes]
    targets = {str(c["group"]): target_mask(ep, c) for c in changes if not missing_fields(ep, c)}
    plan_groups = {g: ep["ethnic_group_broad"].eq(g) for g in codes.BROAD_GROUPS
                   if g != codes.NOT_STATED} | targets
    points = [spc_points(f, recalculate=recalculate_limits, trend_length=trend_length,
                         shift_length=shift_length) for f in fits]
    params = {"la_code": la, "change_id": change_id, "outcome": outcome,
              "comparison": comparison, "pre_months": pre_months, "post_months": post_months,
              "alpha": alpha, "min_cell": min_cell, "recalculate_limits": recalculate_limits,
              "trend_length": trend_length, "shift_length": shift_length,
              "detect_ratio": detect_ratio}
    quality = data.quality
    return Outcomes(
        params=params, la_code=la, start=start, end=end,
        changes=change_table(log, fits, controls), fits=fits, controls=controls, spc=points,
        spc_limits=[None if p is None else spc.summary(p) for p in points],
        rare=[rare_summary(rare_points(f, trend_length=trend_length, shift_length=shift_length))
              for f in fits],
        offers=[team_offers(ep, c, conf) for c in changes], survey=shifts,
        survey_by=_survey_by(survey, chosen, conf), engagement=engagement_themes(data.engagement),
        plan=planning(ep, start, end, detect_ratio=detect_ratio, alpha=alpha, groups=plan_groups),
        power=changes_power(fits, alpha),
        quality=None if quality is None else quality[quality["table"].isin(TABLES)],
        warnings=list(data.warnings))
