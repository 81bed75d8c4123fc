"""The publication step of notebook 03: the frames and context its report shows, by name, each
protected once (evalkit.sdc.protect) as declared here.

Per selected change `<id>` (e.g. C1): series/<id> (monthly counts of the outcome), its/<id>
(coefficients), its_lines/<id> (fitted and counterfactual with its interval per month),
its_checks/<id> (residual autocorrelation), its_notes/<id> (other changes that could not be
separated), spc/<id> and spc_limits/<id> (run chart points and process limits), spc_rare/<id>
(when the run chart cannot be shown, the t chart's verdict: whether any gap between DP starts
was unusually long or short before and after, no numbers), controlled/<id>
(target and comparison series, indexed to their pre-change totals), controlled_its/<id> (its
estimates), offers/<id> and offers_did/<id> (offer rates by team), survey/<id> (survey shifts).
Then: changes (the log with each change's series and fit in numbers), survey_by/<ethnic
group|preferred language>, engagement, planning and power (from protected counts), quality. No
person-level rows and no model objects.

Counts are rounded or suppressed; shares and rates (offer rates, monthly shares, the indexed
series, baselines) are recomputed from the protected counts; model estimates (ITS, controlled
ITS, offer-rate difference, survey shifts) are kept as fitted under the ACRO rule (enough
residual degrees of freedom and enough people or events on each side); power is recomputed from
the protected baselines. Sentences computed with counts in them (why a change was not evaluated,
why another change was not separated) get the protected counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from evalkit.analyses.outcomes.compute import NOTEBOOK, Outcomes
from evalkit.analyses.outcomes.compute_power import MAX_POST, months_needed
from evalkit.analyses.outcomes.compute_series import OUTCOMES
from evalkit.report import wording
from evalkit.report.publication import Frames, Publication, default_rules
from evalkit.report.publication import publish as collect
from evalkit.sdc.linked import Sum
from evalkit.sdc.protect import SUPPRESSED, Model, Rules, Share, Spec
from evalkit.stats import power

#: Months of DP starts the planning baseline averages over (compute_power.planning).
BASELINE_MONTHS = 12
#: Months after a planned change the planning table's detectable change assumes.
PLANNED_POST = 12
ESTIMATES = ("value", "lower", "upper", "p_value", "se")
SIDES = ("events_before", "events_after")
#: respondents before and after, by change, group and measure
RESPONDENTS = {"n_before": "respondents[{change_id}|{group}|{measure}|before]",
               "n_after": "respondents[{change_id}|{group}|{measure}|after]"}
SURVEY = Spec(counts=("n_before", "n_after"), keep=("conf",),
              models=(Model(columns=("value", "lower", "upper", "mean_before", "mean_after",
                                     "effect_size", "p_value"), each=("n_before", "n_after"),
                            df="df"),),
              names=tuple(RESPONDENTS.items()))
#: survey_by groupings whose groups are everyone's respondents ("all" in survey/<id>)
EXCLUSIVE = ("ethnic group",)
#: a change's events before (post 0) and after (post 1), wherever they are published
EVENTS = {"events_before": "events[{change_id}|0]", "events_after": "events[{change_id}|1]"}
#: Sentences compute words with event counts in them, as (pattern, the same words for protected
#: counts a and b): why a change was not evaluated, why another change was not separated. Months
#: ("found 3 before and 18 after") are not counts and are left as they are.
COUNTED = ((re.compile(r"(\d+) events before and (\d+) after"), "{a} events before and {b} after"),
           (re.compile(r"too few events among these people \((\d+) before, (\d+) after\)"),
            "too few events among these people ({a} before, {b} after)"))


def worded(text: str, rules: Rules) -> str:
    """`text` with the event counts of COUNTED sentences protected ([c] or rounded)."""
    def one(n: str) -> str:
        v = rules.protect([int(n)])[0]
        return SUPPRESSED if np.isnan(v) else f"{v:.0f}"

    for pattern, words in COUNTED:
        text = pattern.sub(lambda m, w=words: w.format(a=one(m[1]), b=one(m[2])), text)
    return text


def _series_spec(outcome: str) -> Spec:
    """Monthly counts y (and n, with the share y/n recomputed), or monthly mean days shown only
    with enough starts behind them (set-up days)."""
    keep = ("time", "post", "calendar_month")
    if OUTCOMES[outcome][1] == "ols":
        return Spec(counts=("n",), keep=keep, models=(Model(columns=("y",), each=("n",)),))
    if OUTCOMES[outcome][2] == "p_prime":
        return Spec(counts=("y", "n"), keep=keep,
                    shares=(Share("y", "n", value="share", lower=None, upper=None),))
    return Spec(counts=("y",), keep=keep)


def _series(series: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The monthly series with `share` (y / n) where the outcome is a share."""
    return series.assign(share=series["y"] / series["n"]) \
        if OUTCOMES[outcome][2] == "p_prime" else series


def hidden_sides(series: pd.DataFrame, outcome: str, rules: Rules) -> list[int]:
    """The sides of the change (0 before, 1 after) whose total count is suppressed. Their months
    are not published: shown, each month ([c], so at least 1, or 0) would narrow the hidden
    total, and seven [c] months of a total of at most 7 would each be exactly 1."""
    if series.empty or "post" not in series:
        return []
    count = "n" if OUTCOMES[outcome][1] == "ols" else "y"
    totals = series.groupby("post")[count].sum()
    hidden = np.isnan(rules.protect(totals.to_numpy(dtype=float)))
    return [int(side) for side, h in zip(totals.index, hidden, strict=True) if h]


def without_sides(series: pd.DataFrame, sides: list[int]) -> pd.DataFrame:
    """The series without the months of `sides` (see `hidden_sides`)."""
    return series[~series["post"].isin(sides)] if sides else series


def _charted(series: pd.DataFrame, outcome: str, rules: Rules) -> bool:
    """Whether the run chart can be published: its centre line and limits are worked out from
    the exact monthly counts (centre x months = the period's total), so they are shown only
    when no month's count is suppressed (none can then be recovered from them)."""
    if series.empty or OUTCOMES[outcome][1] == "ols":
        return not series.empty
    counts = series[[c for c in ("y", "n") if c in series]].to_numpy(dtype=float).ravel()
    return not np.isnan(rules.protect(counts)).any()


def _its(estimates: pd.DataFrame | None, change: pd.Series, df: float) -> pd.DataFrame | None:
    """ITS estimates with what the ACRO rule needs: events either side and residual df."""
    if estimates is None:
        return None
    return estimates.assign(events_before=change["events_before"],
                            events_after=change["events_after"], df=df)


def _controlled(series: pd.DataFrame) -> pd.DataFrame:
    """Target and comparison series with each arm's pre-change total (to index the months by)."""
    if series.empty:
        return series
    pre = series[series["post"] == 0].groupby("arm")["y"].agg(["sum", "size"])
    return series.assign(pre_total=series["arm"].map(pre["sum"]),
                         pre_months=series["arm"].map(pre["size"]))


def _linked_series(spec: Spec, cid: str) -> Spec:
    """A change's monthly series with each month's count named: the months before and after
    add up to its events (where the outcome is a count)."""
    if "y" not in spec.counts:
        return spec
    month = f"y[{cid}|{{month}}]"
    return replace(spec, names=(("y", month),), sums=(Sum(f"events[{cid}|{{post}}]", (month,)),))


def _controlled_shown(series: pd.DataFrame, rules: Rules
                      ) -> tuple[pd.DataFrame, list[tuple[str, int]]]:
    """The controlled series without the months of an arm's side whose total is suppressed (as
    `hidden_sides` for the change's own series), and those (arm, side)s."""
    if series.empty:
        return series, []
    gone = [(str(arm), int(side)) for (arm, side), g in series.groupby(["arm", "post"])
            if np.isnan(rules.protect([g["y"].sum()])[0])]
    keep = ~pd.Series(list(zip(series["arm"], series["post"], strict=True)),
                      index=series.index).isin(gone)
    return series[keep], gone


def _controlled_spec(series: pd.DataFrame, cid: str) -> Spec:
    """The indexed series (all its months: the Spec also holds when some are left out): 100 x
    y' / (pre-change total' / pre-change months), per arm; each arm's months before and after
    add up to its events (controlled_its's sides)."""
    if series.empty:
        return Spec()
    months = series.groupby("arm")["pre_months"].first()
    shares = tuple(Share("y", "pre_total", value="index", lower=None, upper=None, kind="rate",
                         multiplier=100 * m, rows=("arm", arm)) for arm, m in months.items()
                   if "index" in series)
    month = f"arm[{cid}|{{arm}}|{{month}}]"
    return Spec(counts=("y", "pre_total"), shares=shares,
                keep=("time", "post", "calendar_month", "pre_months"),
                names=(("y", month), ("pre_total", f"arm[{cid}|{{arm}}|0]")),
                sums=(Sum(f"arm[{cid}|{{arm}}|{{post}}]", (month,)),))


def _arm_side(cid: str, side: str) -> str:
    """The name of an arm's events before or after ("target_before" -> arm[C1|target|0])."""
    arm, when = side.rsplit("_", 1)
    return f"arm[{cid}|{arm}|{int(when == 'after')}]"


def _sides(series: pd.DataFrame) -> dict[str, float]:
    """Events of each arm before and after, for the controlled estimate's ACRO rule."""
    sums = series.groupby(["arm", "post"])["y"].sum()
    return {f"{arm}_{'after' if post else 'before'}": float(sums.get((arm, post), 0))
            for arm in ("target", "comparison") for post in (0, 1)}


def _offers_did(did: pd.DataFrame | None, rates: pd.DataFrame | None) -> pd.DataFrame | None:
    """The offer-rate difference with its residual df (episodes less its four coefficients) and
    the fewest episodes offered, or not, in any of trained/untrained x before/after."""
    if did is None or rates is None:
        return did
    cells = rates.groupby(["trained", "period"])[["offered", "episodes"]].sum()
    fewest = min(cells["offered"].min(), (cells["episodes"] - cells["offered"]).min())
    return did.assign(df=did["n"] - 4, fewest=float(fewest))


def _change_frames(res: Outcomes, k: int, rules: Rules) -> tuple[dict, dict]:
    """The frames of the k-th selected change, named `<kind>/<change_id>`, and their Specs."""
    fit, ctl, offers = res.fits[k], res.controls[k], res.offers[k]
    outcome, r, cid = res.params["outcome"], fit.result, fit.change["change_id"]
    change = res.changes.set_index("change_id").loc[cid]
    df = np.nan if r is None else float(r.model.df_resid)
    lines = fit.lines()
    indexed = _controlled(ctl.series)
    controlled, arms_hidden = _controlled_shown(indexed, rules)
    hidden = hidden_sides(fit.series, outcome, rules)  # the run chart needs every month
    charted = res.spc[k] is not None and not hidden and _charted(fit.series, outcome, rules)
    notes = [worded(n, rules) for n in fit.notes] + [
        f"The months {'after' if side else 'before'} the change are not shown one by one: "
        f"there were too few (fewer than {rules.smallest_shown}) to show." for side in hidden] + [
        f"In the controlled comparison, the {arm} group's months "
        f"{'after' if side else 'before'} the change are not shown one by one: there were too "
        f"few (fewer than {rules.smallest_shown}) to show." for arm, side in arms_hidden]
    rates, did = (None, None) if offers is None else offers
    frames = {
        "series": without_sides(_series(fit.series, outcome), hidden),
        "its": _its(None if r is None else r.estimates, change, df),
        "its_lines": None if lines is None else lines.drop(columns="observed"),
        "its_checks": None if r is None else r.checks,
        "its_notes": pd.DataFrame({"note": notes}, dtype=str),
        "spc": res.spc[k].drop(columns=["y", "n", "p"], errors="ignore") if charted else None,
        "spc_limits": res.spc_limits[k] if charted else None,
        "spc_rare": None if charted else res.rare[k],
        "controlled": controlled,
        "controlled_its": None if ctl.result is None else ctl.result.estimates.assign(
            df=float(ctl.result.model.df_resid), **_sides(ctl.series)),
        "offers": rates, "offers_did": _offers_did(did, rates), "survey": _survey(res.survey[k])}
    its = Model(columns=ESTIMATES, each=SIDES, df="df")
    arms = tuple(_sides(ctl.series)) if len(ctl.series) else ()
    events = tuple((c, t.replace("{change_id}", cid)) for c, t in EVENTS.items())
    specs = {
        "series": _linked_series(_series_spec(outcome), cid),
        "its": Spec(counts=SIDES, models=(its,), keep=("conf",), names=events),
        "its_lines": Spec(keep=("time", "post", "fitted", "counterfactual", "lower", "upper",
                                "conf")),
        "its_checks": Spec(keep=("lag", "acf", "ljung_box", "p_value")), "its_notes": Spec(),
        "spc": Spec(keep=("i", "rebase_group", "mean", "lpl", "upl", "near_lpl", "near_upl",
                          "relative_to_mean", "trend_length", "shift_length")),
        "spc_limits": Spec(keep=("rebase_group", "n", "mean", "lpl", "upl")),
        "spc_rare": Spec(),
        "controlled": _controlled_spec(indexed, cid),
        "controlled_its": Spec(counts=arms, keep=("conf",),
                               models=(Model(columns=ESTIMATES, each=arms, df="df"),),
                               names=tuple((a, _arm_side(cid, a)) for a in arms)),
        "offers": Spec(counts=("offered", "episodes"), shares=(Share("offered", "episodes"),),
                       keep=("conf",)),
        "offers_did": Spec(counts=("n", "fewest"), keep=("n_clusters", "conf"),
                           models=(Model(columns=ESTIMATES, each=("fewest",), df="df"),)),
        "survey": SURVEY}
    return ({f"{kind}/{cid}": f for kind, f in frames.items()},
            {f"{kind}/{cid}": s for kind, s in specs.items()})


def _survey_by(by: str) -> Spec:
    """Survey shifts by a grouping; an ethnic group's respondents add up to everyone's."""
    if by not in EXCLUSIVE:
        return SURVEY
    return replace(SURVEY, sums=tuple(Sum(t.replace("{group}", "all"), (t,))
                                      for t in RESPONDENTS.values()))


def _survey(shifts: pd.DataFrame | None) -> pd.DataFrame | None:
    """Survey shifts with the residual df of their two-sample comparison."""
    return None if shifts is None else shifts.assign(df=shifts["n_before"] + shifts["n_after"] - 2)


def _planning(plan: pd.DataFrame) -> pd.DataFrame:
    """The planning groups' DP starts over the baseline months (the baseline's count)."""
    months = plan["months_before"].clip(upper=BASELINE_MONTHS)
    return pd.DataFrame({"group": plan["group"], "starts": (plan["baseline"] * months).round(),
                         "months": months, "months_before": plan["months_before"]})


def _power(pw: pd.DataFrame) -> pd.DataFrame:
    """Each evaluated change's DP starts before it (the baseline's count) and its months."""
    return pd.DataFrame({"group": pw["group"], "starts": (pw["baseline"] * pw["n_pre"]).round(),
                         "n_pre": pw["n_pre"], "n_post": pw["n_post"],
                         "dispersion": pw["dispersion"], "se": pw["se"]})


def _mde(baseline: float, n_pre: float, n_post: float, alpha: float) -> float:
    """The smallest detectable ratio (80% power) of a planned change, from a protected baseline;
    NaN when none (no baseline, or months not known: set-up days have no count model)."""
    if not (baseline > 0 and n_pre > 0 and n_post > 0):
        return np.nan
    try:
        return power.its_mde(baseline, int(n_pre), int(n_post), alpha=alpha)
    except ValueError:
        return np.nan


def _derive(alpha: float, ratio: float) -> Callable[[Frames], Frames]:
    """The `derive` step: planning and power recomputed from the protected starts (a baseline
    is a rate: starts' / months; a planned change's detectable change and months needed follow
    from it). An evaluated change's detectable change comes from the standard error of the
    model actually fitted (`power.mde_from_se`: stacked cells, other changes, dispersion)."""
    def derive(shown: Frames) -> Frames:
        plan, pw = shown["planning/counts"], shown["power/counts"]
        base = plan["starts"] / plan["months"]
        need = [months_needed(ratio, b, int(m), alpha=alpha) if b > 0 and m >= 8 else None
                for b, m in zip(base, plan["months_before"], strict=True)]
        planning = pd.DataFrame({
            "group": plan["group"], "baseline": base, "months_before": plan["months_before"],
            "mde": [_mde(b, m, PLANNED_POST, alpha) if m >= 8 else np.nan
                    for b, m in zip(base, plan["months_before"], strict=True)],
            "months_needed": [np.nan if n is None else n for n in need],
            "note": ["too few months or DP starts to show" if not (b > 0 and m >= 8) else
                     f"more than {MAX_POST} months of data would be needed" if n is None else ""
                     for b, m, n in zip(base, plan["months_before"], need, strict=True)]})
        pw_base = pw["starts"] / pw["n_pre"]
        powered = pd.DataFrame({
            "group": pw["group"], "baseline": pw_base, "n_pre": pw["n_pre"],
            "n_post": pw["n_post"],
            "mde": [power.mde_from_se(se, alpha=alpha) if se > 0 else np.nan
                    for se in pw["se"].fillna(0)]})
        return {"planning": planning, "power": powered}
    return derive


def publish(res: Outcomes) -> Publication:
    """Collect and protect every frame notebook 03's display, key findings and results.json read
    (see the module docstring), with the report's place, period, thresholds and parameters."""
    p = res.params
    rules = default_rules(p["min_cell"], conf=1 - p["alpha"])
    changes = res.changes.assign(shortfall=res.changes["shortfall"].map(
        lambda s: worded(s, rules) if isinstance(s, str) else s).astype(object))
    quality = None if res.quality is None else res.quality.groupby(  # one count per reason
        ["table", "reason"], as_index=False, sort=False)["rows"].sum()
    frames = {"changes": changes, "quality": quality, "engagement": res.engagement,
              "planning/counts": _planning(res.plan), "power/counts": _power(res.power),
              **{f"survey_by/{by}": _survey(t) for by, t in res.survey_by.items()}}
    kept = ("dose", "months_before", "months_after", "n_pre", "n_post", "dispersion")
    specs = {"changes": Spec(counts=SIDES, keep=tuple(c for c in kept if c in changes),
                             names=tuple(EVENTS.items())),
             "quality": Spec(counts=("rows",)),
             "engagement": Spec(counts=("people",), keep=("sessions",)),
             "planning/counts": Spec(counts=("starts",), keep=("months", "months_before")),
             "power/counts": Spec(counts=("starts",), keep=("n_pre", "n_post", "dispersion", "se")),
             **{f"survey_by/{by}": _survey_by(by) for by in res.survey_by}}
    for k in range(len(res.fits)):
        more, more_specs = _change_frames(res, k, rules)
        frames |= more
        specs |= more_specs
    context = {"place": wording.place(res.la_code), "start": res.start, "end": res.end,
               "min_cell": p["min_cell"], "alpha": p["alpha"], "outcome": p["outcome"],
               "detect_ratio": p["detect_ratio"], "params": dict(p),
               "warnings": list(res.warnings)}
    return collect(NOTEBOOK, frames, context, specs=specs, rules=rules,
                   derive=_derive(p["alpha"], p["detect_ratio"]))
