"""Time to event with censoring: Kaplan-Meier, medians, share filled by a day, log-rank, Cox.

Built on statsmodels (`SurvfuncRight`, `survdiff`, `PHReg`); results follow R's `survival`
package: Greenwood standard errors of S(t), pointwise intervals with conf_type "log" (R's default),
"log-log" or "plain", capped to [0, 1], and Cox models with Efron's handling of ties (R's default;
statsmodels' default is Breslow). Open or withdrawn requests are censored, never dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg, PHRegResults
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

CONF_TYPES = {"log": "log", "log-log": "cloglog", "plain": "linear"}


def kaplan_meier(df: pd.DataFrame, time: str, event: str, *, by: str | None = None,
                 conf: float = 0.95, conf_type: str = "log") -> pd.DataFrame:
    """Kaplan-Meier S(t) per group at every distinct time, censor-only times included.

    `event` is 1/True for the event (e.g. filled) and 0/False for censored. Returns `by`,
    time, n_risk, n_event, n_censor, surv, std_err (Greenwood SE of S), lower, upper, conf,
    conf_type. Where S = 0 the SE and interval are NaN, as in R; with "log-log" also where S = 1.
    """
    _check(df, time, event, by, conf, conf_type, "kaplan_meier")
    return pd.concat([_km_table(part, time, event, conf, conf_type).assign(**_label(by, key))
                      .pipe(_by_first, by) for key, part in _groups(df, by)], ignore_index=True)


def median_survival(df: pd.DataFrame, time: str, event: str, *, by: str | None = None,
                    conf: float = 0.95, conf_type: str = "log") -> pd.DataFrame:
    """Median time to event per group with a CI (statsmodels `quantile_ci`, test inversion).

    The CI runs from the first time whose pointwise interval (of the chosen conf_type) reaches
    0.5 to the first time after the last such interval, as R's survfit reports it; as in R, a
    limit is never read off the time where S reaches 0 (its interval is undefined). A median or
    limit that the curve does not reach is NaN, with a note.
    Returns `by`, n, events, value, lower, upper, conf, method, note.
    """
    _check(df, time, event, by, conf, conf_type, "median_survival")
    rows = []
    for key, part in _groups(df, by):
        fit = _fit(part, time, event)
        value = fit.quantile(0.5)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower, upper = fit.quantile_ci(0.5, alpha=1 - conf, method=CONF_TYPES[conf_type])
        if np.isin(upper, fit.surv_times[fit.surv_prob <= 0]):
            upper = np.inf  # read off where S = 0 and its interval is undefined: not reached
        notes = [text for text, limit in (("median not reached", value),
                                          ("lower limit not reached", lower),
                                          ("upper limit not reached", upper))
                 if not np.isfinite(limit)]
        rows.append({**_label(by, key), "n": len(part), "events": int(part[event].sum()),
                     "value": _finite(value), "lower": _finite(lower), "upper": _finite(upper),
                     "conf": conf, "method": f"Kaplan-Meier median, {conf_type} CI",
                     "note": "; ".join(notes)})
    return pd.DataFrame(rows)


def filled_by(df: pd.DataFrame, time: str, event: str, days: list[float], *,
              by: str | None = None, conf: float = 0.95,
              conf_type: str = "log") -> pd.DataFrame:
    """Share with the event by each of `days`: 1 - S(t) with the matching interval.

    Beyond the longest follow-up of a group the share is NaN, with a note. Returns `by`, days,
    n, value, lower, upper, conf, method, note.
    """
    _check(df, time, event, by, conf, conf_type, "filled_by")
    rows = []
    for key, part in _groups(df, by):
        table = _km_table(part, time, event, conf, conf_type)
        for day in days:
            before = table[table["time"] <= day]
            beyond = day > part[time].max()
            if beyond or before.empty:
                surv, lo, hi = (np.nan,) * 3 if beyond else (1.0, 1.0, 1.0)
            else:
                surv, lo, hi = before[["surv", "lower", "upper"]].iloc[-1]
            rows.append({**_label(by, key), "days": day, "n": len(part), "value": 1 - surv,
                         "lower": 1 - hi, "upper": 1 - lo, "conf": conf,
                         "method": f"1 - Kaplan-Meier S(t), {conf_type} CI",
                         "note": "beyond the longest follow-up" if beyond else ""})
    return pd.DataFrame(rows)


def logrank(df: pd.DataFrame, time: str, event: str, group: str) -> pd.DataFrame:
    """Log-rank test that the groups share one survival curve (statsmodels `survdiff`).

    Returns one row: statistic (chi-square), df, p_value, groups, method.
    """
    _check(df, time, event, group, 0.95, "log", "logrank")
    groups = pd.unique(df[group])
    if len(groups) < 2:
        raise ValueError(f"logrank: {group} needs at least two groups; found {list(groups)}")
    chisq, p = survdiff(df[time].to_numpy(float), df[event].astype(int).to_numpy(),
                        df[group].to_numpy())
    return pd.DataFrame([{"statistic": chisq, "df": len(groups) - 1, "p_value": p,
                          "groups": len(groups), "method": "log-rank (statsmodels survdiff)"}])


def cox(df: pd.DataFrame, time: str, event: str, covariates: str | list[str], *,
        conf: float = 0.95, ties: str = "efron", cluster: str | None = None) -> pd.DataFrame:
    """Cox proportional hazards model: hazard ratios with Wald CIs (statsmodels PHReg).

    `covariates` is a column name, a list of them (joined with +) or a formula right-hand side
    (e.g. "C(preference, Treatment('none')) + hospital_discharge"). `cluster` names a column of
    units whose rows may be dependent (a person with several requests): robust (sandwich)
    standard errors clustered on it, as R's coxph(cluster =). Returns term, value (HR), lower,
    upper, conf, p_value, coef, se, n, events, ph_p_value (the proportional-hazards check,
    `ph_check`), method. Rows censored before the first event are left out of the fit (`at_risk`:
    they carry no information); `n` counts every row.
    """
    rhs = covariates if isinstance(covariates, str) else " + ".join(covariates)
    _check(df, time, event, None, conf, "log", "cox")
    if ties not in ("efron", "breslow"):
        raise ValueError(f"cox: ties must be 'efron' or 'breslow', not {ties!r}")
    if cluster is not None and (cluster not in df or df[cluster].isna().any()):
        raise ValueError(f"cox: cluster column {cluster!r} is missing or has blanks")
    used = df[at_risk(df, time, event)]
    model = PHReg.from_formula(f"Q('{time}') ~ {rhs}", data=used,
                               status=used[event].astype(int).to_numpy(), ties=ties)
    fit = (model.fit() if cluster is None
           else model.fit(groups=pd.factorize(used[cluster])[0]))
    z = stats.norm.ppf(0.5 + conf / 2)
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    method = f"Cox PH (statsmodels PHReg, ties={ties}), Wald CI" + (
        "" if cluster is None else f", robust SE clustered by {cluster}")
    return pd.DataFrame({"term": model.exog_names, "value": np.exp(coef),
                         "lower": np.exp(coef - z * se), "upper": np.exp(coef + z * se),
                         "conf": conf, "p_value": 2 * stats.norm.sf(np.abs(coef / se)),
                         "coef": coef, "se": se, "n": len(df), "events": int(df[event].sum()),
                         "ph_p_value": ph_check(fit, model.endog), "method": method})


def at_risk(df: pd.DataFrame, time: str, event: str) -> pd.Series:
    """Rows in the risk set of at least one event: every event, and every censored row followed
    at least until the first event. A row censored before the first event is in no risk set, so
    it adds nothing to the partial likelihood (estimates and model-based errors are the same
    without it), but statsmodels gives it an undefined (NaN) score residual, and one NaN made
    the person-clustered covariance NaN (synthetic seeds 6, 12, 15 and 19: requests withdrawn on
    day 0 or 1, before the first was filled on day 2)."""
    happened = df[event].astype(bool)
    first = df.loc[happened, time].min()
    return happened | (df[time] >= first)


def ph_check(fit: PHRegResults, times: np.ndarray) -> np.ndarray:
    """Proportional-hazards check per term: p-value of the correlation between the Schoenfeld
    residuals and the rank of the event time (Grambsch & Therneau, Biometrika 1994;81:515-26;
    R's cox.zph with transform = "rank", unscaled residuals). A small p says the hazard ratio
    changes with time, so one ratio misdescribes it. NaN with fewer than 3 events."""
    resid = np.asarray(fit.schoenfeld_residuals)
    events = ~np.isnan(resid).any(axis=1)
    if events.sum() < 3:
        return np.full(resid.shape[1], np.nan)
    rank = stats.rankdata(np.asarray(times)[events])
    return np.array([stats.pearsonr(resid[events, j], rank).pvalue
                     if np.ptp(resid[events, j]) > 0 else np.nan
                     for j in range(resid.shape[1])])


# --- helpers -------------------------------------------------------------------------------


def _check(df: pd.DataFrame, time: str, event: str, by: str | None, conf: float,
           conf_type: str, where: str) -> None:
    cols = [time, event, *([by] if by else [])]
    missing = [c for c in cols if c not in df]
    if missing:
        raise ValueError(f"{where}: column(s) {missing} not found; columns are {list(df.columns)}")
    if conf_type not in CONF_TYPES:
        raise ValueError(f"{where}: conf_type must be one of {list(CONF_TYPES)}, not "
                         f"{conf_type!r}")
    if not 0 < conf < 1:
        raise ValueError(f"{where}: conf must lie strictly between 0 and 1, not {conf}")
    gaps = df[cols].isna().any(axis=1)
    if gaps.any():
        raise ValueError(f"{where}: {int(gaps.sum())} row(s) have a missing value in {cols}; "
                         "censor open requests at the extract date instead of leaving them blank")
    if (df[time] < 0).any():
        raise ValueError(f"{where}: {time} must be >= 0; {int((df[time] < 0).sum())} row(s) are "
                         "negative (an outcome before its request?)")
    if not df[event].isin([0, 1]).all():
        raise ValueError(f"{where}: {event} must be 0/1 or bool; found "
                         f"{sorted(pd.unique(df.loc[~df[event].isin([0, 1]), event]))[:5]}")


def _groups(df: pd.DataFrame, by: str | None):
    return [(None, df)] if by is None else list(df.groupby(by, sort=True))


def _label(by: str | None, key) -> dict:
    return {} if by is None else {by: key}


def _by_first(table: pd.DataFrame, by: str | None) -> pd.DataFrame:
    return table if by is None else table[[by, *[c for c in table if c != by]]]


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else np.nan


def _fit(part: pd.DataFrame, time: str, event: str) -> SurvfuncRight:
    return SurvfuncRight(part[time].to_numpy(float), part[event].astype(int).to_numpy())


def _km_table(part: pd.DataFrame, time: str, event: str, conf: float,
              conf_type: str) -> pd.DataFrame:
    """Risk set and events at every distinct time, with S(t), its SE and pointwise CI."""
    fit = _fit(part, time, event)
    status = part[event].astype(int)
    counts = status.groupby(part[time]).agg(["sum", "size"])
    table = pd.DataFrame({"time": counts.index.to_numpy(float),
                          "n_risk": counts["size"][::-1].cumsum()[::-1].to_numpy(),
                          "n_event": counts["sum"].to_numpy(),
                          "n_censor": (counts["size"] - counts["sum"]).to_numpy()})
    at_events = pd.DataFrame({"surv": fit.surv_prob, "std_err": fit.surv_prob_se},
                             index=pd.Index(fit.surv_times, name="time"))
    steps = at_events.reindex(table["time"]).ffill().fillna({"surv": 1.0, "std_err": 0.0})
    surv, se = steps["surv"].to_numpy(), steps["std_err"].to_numpy()
    se = np.where(surv > 0, se, np.nan)
    lower, upper = _interval(surv, se, conf, conf_type)
    return table.assign(surv=surv, std_err=se, lower=lower, upper=upper, conf=conf,
                        conf_type=conf_type)


def _interval(surv: np.ndarray, se: np.ndarray, conf: float,
              conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI for S(t) as R's survfit computes it, capped to [0, 1]."""
    z = stats.norm.ppf(0.5 + conf / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            lower, upper = surv - z * se, surv + z * se
        elif conf_type == "log":
            lower, upper = surv * np.exp(-z * se / surv), surv * np.exp(z * se / surv)
        else:  # log-log: interval for log(-log S), undefined at S = 0 or 1
            eta = np.log(-np.log(surv))
            width = z * se / (surv * np.abs(np.log(surv)))
            lower, upper = np.exp(-np.exp(eta + width)), np.exp(-np.exp(eta - width))
            undefined = (surv <= 0) | (surv >= 1)
            lower, upper = np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)
    bad = ~np.isfinite(se)
    return (np.where(bad, np.nan, np.clip(lower, 0, 1)),
            np.where(bad, np.nan, np.clip(upper, 0, 1)))
