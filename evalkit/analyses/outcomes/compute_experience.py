"""People's experience before and after a change: survey scores (ASCOF 1A and three single
questions) with weighted before/after shifts, and the themes people raised with the council."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import WLS
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from evalkit.analyses.outcomes.compute_series import missing_fields, target_mask

MEASURES = {  # survey measure -> (words, range, higher is better)
    "scrqol": ("social care-related quality of life (ASCOF 1A, 0 to 24)", "0-24", True),
    "control": ("control over daily life (1 best to 4)", "1-4", False),
    "satisfaction": ("satisfaction with care and support (1 best to 7)", "1-7", False),
    "info_ease": ("ease of finding information (1 best to 4)", "1-4", False),
}
MIN_RESPONDENTS = 10  # respondents needed before and after for a shift to be estimated
LEVERAGE_TOLERANCE = 1e-9  # leverage this close to 1: one respondent decides a column
ASCOT_ITEMS = ("control", "personal_care", "food_drink", "accommodation", "safety",
               "social_participation", "occupation", "dignity")


# ---------------------------------------------------------------- survey
def survey_scores(survey: pd.DataFrame) -> pd.DataFrame:
    """The survey with scrqol (ASCOF 1A: the eight items scored 3 ideal .. 0 high needs, summed
    0-24; missing when any item is), control, satisfaction and info_ease (5 = never tried ->
    missing), and `w` (the weight, 1 without one)."""
    items = survey[list(ASCOT_ITEMS)].astype(float)
    out = survey.assign(scrqol=(4 - items).sum(axis=1, min_count=len(ASCOT_ITEMS)),
                        info_ease=survey["info_ease"].where(survey["info_ease"] != 5))
    weight = out["weight"].astype(float) if "weight" in out else pd.Series(1.0, index=out.index)
    return out.assign(w=weight.fillna(1.0))


def weighted_shift(before: pd.DataFrame, after: pd.DataFrame, measure: str,
                   conf: float = 0.95) -> dict:
    """Weighted mean after - before with a Welch interval and Cohen's d.

    Weights are rescaled within each period to sum to Kish's effective sample size, so the
    interval allows for the precision weighting costs. Returns value, lower, upper, n_before,
    n_after, mean_before, mean_after, effect_size, p_value."""
    a = after[[measure, "w"]].dropna()
    b = before[[measure, "w"]].dropna()
    out = {"n_before": len(b), "n_after": len(a), "value": np.nan, "lower": np.nan,
           "upper": np.nan, "mean_before": np.nan, "mean_after": np.nan, "effect_size": np.nan,
           "p_value": np.nan}
    if len(a) < 2 or len(b) < 2:
        return out
    da, db = _descr(a[measure], a["w"]), _descr(b[measure], b["w"])
    if da.var == 0 and db.var == 0:
        return out  # everyone gave the same answer: no interval
    cm = CompareMeans(da, db)
    lo, hi = cm.tconfint_diff(alpha=1 - conf, usevar="unequal")
    pooled = math.sqrt((da.var * (da.nobs - 1) + db.var * (db.nobs - 1))
                       / (da.nobs + db.nobs - 2))
    diff = da.mean - db.mean
    return {**out, "value": diff, "lower": lo, "upper": hi, "mean_before": db.mean,
            "mean_after": da.mean, "effect_size": diff / pooled if pooled > 0 else np.nan,
            "p_value": cm.ttest_ind(usevar="unequal")[1]}


def _descr(values: pd.Series, weights: pd.Series) -> DescrStatsW:
    w = weights.to_numpy(dtype=float)
    n_eff = w.sum() ** 2 / (w**2).sum()
    return DescrStatsW(values.to_numpy(dtype=float), weights=w * n_eff / w.sum(), ddof=1)


def survey_shifts(survey: pd.DataFrame, change: pd.Series, *, by: str | None = None,
                  log: pd.DataFrame | None = None, conf: float = 0.95) -> pd.DataFrame:
    """Each measure's weighted mean before and after the change among its target group
    (teams are not in the survey, so a team change uses its whole target group); with `by`,
    one row per level of that column (e.g. ethnic_group_broad) among everyone surveyed.

    With the change `log`, `value` and its interval are adjusted for what else changed
    (`adjusted_shift`): without it, a change for everyone picked up another change's shift among
    Asian respondents (flagged in 22-50% of synthetic seeds, issue 17). `compared` says what the
    row compares.
    """
    scored = survey_scores(survey)
    after = scored["survey_date"] >= pd.Timestamp(change["date"])
    rows = []
    if by is None:
        parts = [(str(change["target_groups"]), target_mask(scored, change, use_teams=False))]
    else:
        parts = [(str(level), scored[by].eq(level)) for level in
                 sorted(scored[by].dropna().astype(str).unique())]
    values = scored[[*MEASURES, "w"]]  # filtering copies each column: only those used
    design, others = (_change_design(scored, change, log) if by is None and log is not None
                      else (None, []))
    for label, mask in parts:
        before_rows, after_rows = values[mask & ~after], values[mask & after]
        for m in MEASURES:
            r = weighted_shift(before_rows, after_rows, m, conf)
            compared = f"{label}: surveyed after vs before the change, unadjusted"
            if min(r["n_before"], r["n_after"]) < MIN_RESPONDENTS:
                r |= {k: np.nan for k in ("value", "lower", "upper", "effect_size", "p_value")}
                compared = (f"{label}: too few respondents to tell ({r['n_before']} before, "
                            f"{r['n_after']} after; at least {MIN_RESPONDENTS} each needed)")
            elif design is not None and np.isfinite(r["value"]):
                r |= adjusted_shift(values, design, m, conf)
                compared = (f"{label}: after vs before the change, all respondents in one "
                            "weighted model with each other change's shift among the people it "
                            f"targeted ({', '.join(others) or 'none logged'})")
            rows.append({"change_id": change["change_id"], "group": label, "measure": m, **r,
                         "conf": conf, "compared": compared})
    return pd.DataFrame(rows)


def _change_design(scored: pd.DataFrame, change: pd.Series,
                   log: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Columns of the adjusted model: `shift` (this change's target after its date), each
    targeted group's own level (`group:<target>`) and each other implemented change's step among
    the people it targeted (`<change_id>`); a column the others already span is left out (its
    change cannot be told apart, so its id is not listed as adjusted for)."""
    def step(c: pd.Series) -> pd.Series:
        inside = target_mask(scored, c, use_teams=False)
        return (inside & (scored["survey_date"] >= pd.Timestamp(c["date"]))).astype(float)

    others = [c for _, c in log[log["implemented"] & (log["change_id"] != change["change_id"])
                                ].iterrows()
              if not missing_fields(scored, c.drop("target_teams"))]
    cols = {"const": pd.Series(1.0, index=scored.index), "shift": step(change)}
    for c in [change, *others]:
        cols[f"group:{c['target_groups']}"] = target_mask(scored, c, use_teams=False).astype(float)
    cols |= {str(c["change_id"]): step(c) for c in others}
    design = full_rank(pd.DataFrame(cols))
    return design, [str(c["change_id"]) for c in others if str(c["change_id"]) in design]


def full_rank(design: pd.DataFrame) -> pd.DataFrame:
    """The columns of `design`, in order, that each add to its rank (a column that does not
    could not be told apart from those before it)."""
    kept = pd.DataFrame(index=design.index)
    for name, col in design.items():
        trial = kept.assign(**{name: col})
        if np.linalg.matrix_rank(trial.to_numpy()) > kept.shape[1]:
            kept = trial
    return kept


def _alone(design: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Which respondents alone decide a column of the weighted design (leverage 1)."""
    q, _ = np.linalg.qr(design.to_numpy(dtype=float) * np.sqrt(weights.to_numpy())[:, None])
    return pd.Series((q**2).sum(axis=1) > 1 - LEVERAGE_TOLERANCE, index=design.index)


def adjusted_shift(values: pd.DataFrame, design: pd.DataFrame, measure: str,
                   conf: float = 0.95) -> dict:
    """The `shift` coefficient of a weighted least-squares model of `measure` on `design`
    (survey weights; HC3 sandwich errors, which stay honest for a small target group with high
    leverage where HC1 flagged 15% of null shifts; t interval with the residual df): value,
    lower, upper, p_value, and effect_size on the residual SD."""
    keep = values[measure].notna()
    # the respondents who answered this measure may not tell every column apart: a column
    # they cannot is left out, and the shift, taken last, is not estimated if it is one (it
    # would hold another change's step too; a rank-deficient design gave an arbitrary shift,
    # and HC3 an infinite interval in 2 of 200 seeds)
    answered = full_rank(design.loc[keep, [*design.columns.drop("shift"), "shift"]])
    weights = values.loc[keep, "w"].astype(float)
    # a respondent alone in a column (leverage 1) tells nothing of the other coefficients, and
    # HC3 divides by 1 - leverage: leave them and their column out (the same shift)
    while "shift" in answered and (alone := _alone(answered, weights)).any():
        answered, weights = full_rank(answered.loc[~alone]), weights.loc[~alone]
    if "shift" not in answered:
        return {k: np.nan for k in ("value", "lower", "upper", "p_value", "effect_size")}
    fit = WLS(values.loc[answered.index, measure].astype(float), answered,
              weights=weights).fit(cov_type="HC3", use_t=True)
    lo, hi = fit.conf_int(alpha=1 - conf).loc["shift"]
    sd = float(np.sqrt(fit.scale * len(fit.model.endog) / weights.sum()))
    value = float(fit.params["shift"])
    return {"value": value, "lower": float(lo), "upper": float(hi),
            "p_value": float(fit.pvalues["shift"]), "effect_size": value / sd if sd > 0 else np.nan}


# ---------------------------------------------------------------- engagement
def engagement_themes(engagement: pd.DataFrame | None) -> pd.DataFrame | None:
    """Themes by community and financial year: sessions, people and the notes (no names)."""
    if engagement is None or engagement.empty:
        return None
    year = engagement["date"].dt.year - (engagement["date"].dt.month < 4)
    frame = engagement.assign(period=year.astype(str) + "/" + ((year + 1) % 100).astype(str)
                              .str.zfill(2))
    out = frame.groupby(["period", "community", "theme"], as_index=False).agg(
        sessions=("method", "size"), people=("n_people", "sum"),
        methods=("method", lambda s: ", ".join(sorted(set(s)))),
        summary=("summary", lambda s: " ".join(s.dropna().astype(str))))
    return out

