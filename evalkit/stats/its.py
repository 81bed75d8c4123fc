"""Interrupted time series: segmented regression on monthly series.

Follows Lopez Bernal, Cummins & Gasparrini, Int J Epidemiol 2017;46:348-55 (with the 2020
correction), except that the slope-change term counts months from 0 at the first month after the
change, so the level change is the step in that month (what "after the change, starts changed by"
says); the correction counts from 1 there, which makes its level the step one month earlier
(level / slope). The same model: the columns span the same space. Count series are
fitted as Poisson, quasi-Poisson (Pearson X2/df scale, as R's `quasipoisson`) or negative binomial
GLMs with an optional log-exposure offset and Fourier seasonality; continuous series by OLS with
Newey-West (HAC) standard errors. Intervals are Wald intervals, exp(b +/- z se) for count models,
as `Epi::ci.lin` gives, with t on the residual df in place of z for quasi-Poisson (its scale is
estimated; as R's summary.glm for quasi families).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.sm_exceptions import ConvergenceWarning

FAMILIES = ("quasipoisson", "poisson", "negbin", "ols")
COUNT_FAMILIES = ("quasipoisson", "poisson", "negbin")
EFFECT_TERMS = ("trend", "level_change", "slope_change")


class NotEstimable(ValueError):
    """The fit does not settle: an effect's interval is unbounded (its estimate runs off, as
    when two changes' terms cancel out, or a stretch of months has no events)."""


@dataclass(frozen=True)
class ItsResult:
    """A fitted segmented regression and what a report needs from it.

    estimates: tidy frame (term, value, lower, upper, conf, p_value, se, scale, method); values
        are rate ratios for count families (trend and slope_change per month), absolute for OLS;
        se is the coefficient's standard error (log scale for count families).
    model: the fitted statsmodels results object.
    counterfactual: per month (and group) observed, fitted, and the counterfactual prediction with
        the intervention terms set to zero, with its Wald interval.
    checks: residual autocorrelation by lag (acf, Ljung-Box statistic and p-value).
    scale: the dispersion used for the standard errors (1 for Poisson and negative binomial).
    pearson_dispersion: Pearson X2 / residual df, an overdispersion check (NaN for OLS).
    """

    estimates: pd.DataFrame
    model: Any
    design: pd.DataFrame
    counterfactual: pd.DataFrame
    checks: pd.DataFrame
    family: str
    scale: float
    pearson_dispersion: float
    n_pre: int
    n_post: int


def monthly_counts(events: pd.DataFrame, date: str, *, by: str | list[str] | None = None,
                   start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None,
                   name: str = "count") -> pd.DataFrame:
    """Count events per calendar month (and per `by` group), months with no events as 0.

    The series runs from `start` to `end` (default: the first and last event month); events
    outside that window are not counted. Every group observed in `events` gets every month.
    Returns the `by` columns, `month` (Timestamp, first of the month) and `name`.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    _check_columns(events, [date, *by], where="monthly_counts")
    when = pd.to_datetime(events[date])
    if when.isna().any():
        raise ValueError(f"monthly_counts: {date} is missing in {int(when.isna().sum())} row(s); "
                         "keep only rows with an event date")
    period = when.dt.to_period("M")
    first = pd.Period(start, "M") if start is not None else period.min()
    last = pd.Period(end, "M") if end is not None else period.max()
    if first > last:
        raise ValueError(f"monthly_counts: start {first} is after end {last}")
    months = pd.period_range(first, last, freq="M")
    keep = (period >= first) & (period <= last)
    frame = events.loc[keep, by].assign(month=period[keep])
    counts = frame.groupby([*by, "month"], observed=True).size()
    if by:
        groups = events[by].drop_duplicates().sort_values(by)
        full = pd.MultiIndex.from_tuples([(*g, m) for g in groups.itertuples(index=False)
                                          for m in months], names=[*by, "month"])
    else:
        full = pd.Index(months, name="month")
    out = counts.reindex(full, fill_value=0).rename(name).reset_index()
    return out.assign(month=out["month"].dt.to_timestamp())


def mark_change(series: pd.DataFrame, change_date: str | pd.Timestamp, *,
                month: str = "month") -> pd.DataFrame:
    """Add `time` (1 = first month), `post` (0/1) and `calendar_month` (1-12) for an ITS.

    The first post-change month is the month of `change_date` when the change happened on the
    1st, otherwise the following month, so that no month mixes before and after.
    """
    _check_columns(series, [month], where="mark_change")
    when = pd.to_datetime(series[month])
    index = when.dt.year * 12 + when.dt.month
    change = pd.Timestamp(change_date)
    first_post = change.year * 12 + change.month + (change.day != 1)
    return series.assign(time=index - index.min() + 1, post=(index >= first_post).astype(int),
                         calendar_month=when.dt.month)


def months_shortfall(df: pd.DataFrame, time: str, post: str, *, min_pre: int = 8,
                     min_post: int = 8) -> str:
    """Say what is missing for an ITS ('' when there are enough months either side).

    Counts distinct months before (post == 0) and after (post == 1) the change.
    """
    n_pre, n_post = _count_months(df, time, post)
    if n_pre >= min_pre and n_post >= min_post:
        return ""
    return (f"need at least {min_pre} months before the change and {min_post} after; found "
            f"{n_pre} before and {n_post} after, so a level or slope change cannot be estimated "
            "reliably")


def its(df: pd.DataFrame, y: str, time: str, post: str, *, offset: str | None = None,
        slope_change: bool = True, month: str | None = None, harmonics: int = 2,
        period: int = 12, family: str = "quasipoisson", maxlags: int | None = None,
        conf: float = 0.95, min_pre: int = 8, min_post: int = 8, acf_lags: int = 12,
        covariates: list[str] | None = None, stratum: str | None = None) -> ItsResult:
    """Segmented regression of one monthly series on trend, level change and slope change.

    Model (count families): log E[y] = log(offset) + b0 + b1*time + b2*post
    + b3*post*(time - first post-change time) + sum_k (s_k sin + c_k cos)(2*pi*k*season/period).
    `time` is a numeric month index or a date column (converted to months); `season` is the
    `month` column (calendar month 1-12) or, when absent, the calendar month of a date `time`
    or `time` itself (the Fourier pairs fit the same either way). `offset` names an exposure
    column (e.g. population), entered as its log; not allowed with OLS (model a rate instead).
    `maxlags` switches to Newey-West (HAC) standard errors with that many lags; OLS always uses
    HAC, by default with floor(4 (n/100)^(2/9)) lags (Newey & West 1994).

    `covariates` names further numeric columns entered as they are, e.g. other changes' level and
    slope terms (zero where they do not apply); they are reported after the effect terms and kept
    in the counterfactual. `stratum` names a column splitting a stacked count series into cells
    (one row per cell and month) whose intensities differ by a factor, e.g. groups that other
    changes targeted: each cell gets its own intercept (`<stratum>[<cell>]` against the first
    cell), while trend, seasonality, the level and slope change and the covariates are shared
    (give a covariate zeros outside its cells). The counterfactual, its Wald interval (delta
    method on the log of the sum) and the residual autocorrelation check are then of the series
    summed over cells per month; a cell with no events carries no information and is an error.
    Raises ValueError when fewer than `min_pre`/`min_post` months lie before/after the change,
    NotEstimable when the fit does not settle (an effect's interval is unbounded).
    """
    where = "its"
    extra = list(covariates or [])
    _check_inputs(df, y, time, post, offset, month, family, conf, harmonics, period, where,
                  others=[*extra, *([stratum] if stratum else [])])
    if stratum is None:
        _check_single_series(df, time, where)
    else:
        _check_strata(df, y, time, post, stratum, family, where)
    _check_enough(df, time, post, min_pre, min_post, where)
    data = df.sort_values([stratum, time] if stratum else time)
    design = design_matrix(data, time, post, slope_change=slope_change, month=month,
                     harmonics=harmonics, period=period)
    design = pd.concat([design.iloc[:, :1], _stratum_dummies(data, stratum), design.iloc[:, 1:],
                        data[extra].astype(float)], axis=1)
    offset_ = _log_offset(data, offset)
    groups = None if stratum is None else pd.factorize(data[stratum])[0]
    fit = _fit(data[y], design, offset_, family, maxlags, groups=groups)
    terms = [*[t for t in EFFECT_TERMS if t in design], *extra]
    zero = [t for t in ("level_change", "slope_change") if t in design]
    _check_settled(fit, zero, family, conf)
    if stratum is None:
        cf = _counterfactual(fit, design, offset_, zero, family, conf)
        cf.insert(0, time, data[time].to_numpy())
        return _result(fit, design, data, y, time, post, terms, cf, family, maxlags, conf,
                       acf_lags, groups=None)
    cf = _summed_counterfactual(fit, design, offset_, zero, conf, data[time])
    return _result(fit, design, data, y, time, post, terms, cf, family, maxlags, conf, acf_lags,
                   groups=None, summed=True)


def controlled_its(df: pd.DataFrame, y: str, time: str, post: str, group: str, *, treated: Any,
                   offset: str | None = None, slope_change: bool = True, month: str | None = None,
                   harmonics: int = 2, period: int = 12, family: str = "quasipoisson",
                   maxlags: int | None = None, conf: float = 0.95, min_pre: int = 8,
                   min_post: int = 8, acf_lags: int = 12) -> ItsResult:
    """Controlled ITS: the target series against one comparison series, stacked in `df`.

    `group` holds two values; `treated` names the target. Both series share the seasonality;
    each has its own intercept, trend, level and slope change. The controlled estimates are the
    interactions: `treated:level_change` (ratio of the two level changes for count families,
    difference for OLS) and `treated:slope_change`; `treated:trend` is the difference in
    pre-change trends, the parallel-trends check (a value far from 1 (or 0) is a warning).
    HAC errors (maxlags) are computed within each series (statsmodels 'hac-panel').
    The counterfactual is the target series without its own extra level and slope change.
    """
    where = "controlled_its"
    _check_inputs(df, y, time, post, offset, month, family, conf, harmonics, period, where)
    _check_columns(df, [group], where=where)
    values = list(pd.unique(df[group]))
    if len(values) != 2 or treated not in values:
        raise ValueError(f"{where}: {group} must hold exactly two series, one of them "
                         f"treated={treated!r}; found {values}")
    for value, part in df.groupby(group, sort=False):
        _check_single_series(part, time, f"{where} ({group}={value})")
        _check_enough(part, time, post, min_pre, min_post, f"{where} ({group}={value})")
    data = df.assign(_treated=(df[group] == treated).astype(int))
    data = data.sort_values(["_treated", time])
    base = design_matrix(data, time, post, slope_change=slope_change, month=month,
                   harmonics=harmonics, period=period)
    inter = {f"treated:{t}": base[t] * data["_treated"] for t in EFFECT_TERMS if t in base}
    design = pd.concat([base.iloc[:, :1], data["_treated"].rename("treated"), base.iloc[:, 1:],
                       pd.DataFrame(inter)], axis=1)
    fit = _fit(data[y], design, _log_offset(data, offset), family, maxlags,
               groups=data["_treated"].to_numpy())
    terms = [*[t for t in EFFECT_TERMS if t in base], "treated", *inter]
    zero = [t for t in ("treated:level_change", "treated:slope_change") if t in design]
    _check_settled(fit, zero, family, conf)
    cf = _counterfactual(fit, design, _log_offset(data, offset), zero, family, conf)
    cf.insert(0, time, data[time].to_numpy())
    cf.insert(0, group, data[group].to_numpy())
    return _result(fit, design, data, y, time, post, terms, cf, family, maxlags, conf, acf_lags,
                   groups=group)


def f_test(smaller: ItsResult, larger: ItsResult) -> tuple[float, float]:
    """F test of nested ITS fits (e.g. without vs with slope change), as R's anova(test='F').

    F = (deviance difference / df difference) / scale of the larger model; for OLS the
    deviance is the residual sum of squares. Not defined for the negative binomial (use a
    likelihood-ratio test). Returns (F, p).
    """
    if "negbin" in (smaller.family, larger.family) or smaller.family != larger.family:
        raise ValueError("f_test: both fits must share a Poisson, quasi-Poisson or OLS family; "
                         f"found {smaller.family!r} and {larger.family!r}")
    small, big = smaller.model, larger.model
    df_diff = small.df_resid - big.df_resid
    if df_diff <= 0:
        raise ValueError(f"f_test: the larger model must have fewer residual df; found "
                         f"{small.df_resid} and {big.df_resid}")
    dev = (lambda r: r.ssr) if larger.family == "ols" else (lambda r: r.deviance)
    f_value = (dev(small) - dev(big)) / df_diff / larger.scale
    return float(f_value), float(stats.f.sf(f_value, df_diff, big.df_resid))


# --- helpers -------------------------------------------------------------------------------


def _check_columns(df: pd.DataFrame, cols: list[str], where: str) -> None:
    missing = [c for c in cols if c not in df]
    if missing:
        raise ValueError(f"{where}: column(s) {missing} not found; columns are {list(df.columns)}")


def _check_inputs(df: pd.DataFrame, y: str, time: str, post: str, offset: str | None,
                  month: str | None, family: str, conf: float, harmonics: int, period: int,
                  where: str, others: list[str] | None = None) -> None:
    if family not in FAMILIES:
        raise ValueError(f"{where}: family must be one of {FAMILIES}, not {family!r}")
    if not 0 < conf < 1:
        raise ValueError(f"{where}: conf must lie strictly between 0 and 1, not {conf}")
    if harmonics < 0 or 2 * harmonics >= period:
        raise ValueError(f"{where}: need 0 <= harmonics < period/2; found harmonics={harmonics},"
                         f" period={period}")
    if offset is not None and family == "ols":
        raise ValueError(f"{where}: offset is for count families; for OLS pass a rate as y")
    cols = [c for c in (y, time, post, offset, month, *(others or [])) if c is not None]
    _check_columns(df, cols, where)
    gaps = df[cols].isna().any(axis=1)
    if gaps.any():
        raise ValueError(f"{where}: {int(gaps.sum())} row(s) have a missing value in {cols}")
    bad_post = ~df[post].isin([0, 1])
    if bad_post.any():
        raise ValueError(f"{where}: {post} must be 0/1 (or bool); found "
                         f"{sorted(df.loc[bad_post, post].unique().tolist())[:5]}")
    if family in COUNT_FAMILIES and (df[y] < 0).any():
        raise ValueError(f"{where}: {y} must be a non-negative count for family {family!r}")
    if offset is not None and (df[offset] <= 0).any():
        raise ValueError(f"{where}: offset {offset} must be positive")


def _check_single_series(df: pd.DataFrame, time: str, where: str) -> None:
    dup = df[time].duplicated()
    if dup.any():
        raise ValueError(f"{where}: {time} repeats ({int(dup.sum())} duplicate(s), e.g. "
                         f"{df.loc[dup, time].iloc[0]}); pass one series (filter by group) or "
                         "use controlled_its")


def _check_strata(df: pd.DataFrame, y: str, time: str, post: str, stratum: str, family: str,
                  where: str) -> None:
    """A stacked count series: one row per cell and time, events in every cell, and the same
    before/after split in every cell."""
    if family not in COUNT_FAMILIES:
        raise ValueError(f"{where}: stratum is for count families; for OLS fit one series")
    for value, part in df.groupby(stratum, sort=False):
        _check_single_series(part, time, f"{where} ({stratum}={value})")
        if part[y].sum() == 0:
            raise ValueError(f"{where}: {stratum}={value} has no events; leave it out (it "
                             "carries no information)")
    if (df.groupby(time)[post].nunique() > 1).any():
        raise ValueError(f"{where}: {post} differs between cells in the same month; one change "
                         "date for every cell")


def _check_enough(df: pd.DataFrame, time: str, post: str, min_pre: int, min_post: int,
                  where: str) -> None:
    order = df.sort_values(time, kind="stable")[post].astype(int).to_numpy()
    if (np.diff(order) < 0).any():
        raise ValueError(f"{where}: {post} goes back to 0 after the change; one change per fit")
    message = months_shortfall(df, time, post, min_pre=min_pre, min_post=min_post)
    if message:
        raise ValueError(f"{where}: {message}")


def _count_months(df: pd.DataFrame, time: str, post: str) -> tuple[int, int]:
    after = df[post].astype(bool)
    return int(df.loc[~after, time].nunique()), int(df.loc[after, time].nunique())


def _is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def _time_index(s: pd.Series) -> pd.Series:
    """Numeric month index: a date column becomes months since its first month, plus 1."""
    if _is_datetime(s):
        index = s.dt.year * 12 + s.dt.month
        return (index - index.min() + 1).astype(float)
    return s.astype(float)


def design_matrix(df: pd.DataFrame, time: str, post: str, *, slope_change: bool, month: str | None,
                  harmonics: int, period: int) -> pd.DataFrame:
    """Segmented-regression design: const, trend, level_change, slope_change, sin_k/cos_k (public so
    that methods.power evaluates power on the very design `its` fits)."""
    t = _time_index(df[time])
    p = df[post].astype(int)
    x = pd.DataFrame({"const": 1.0, "trend": t, "level_change": p.astype(float)}, index=df.index)
    if slope_change:
        x["slope_change"] = p * (t - t[p == 1].min())
    if month is not None:
        season = df[month].astype(float)
    elif _is_datetime(df[time]):
        season = df[time].dt.month.astype(float)
    else:
        season = t
    for k in range(1, harmonics + 1):
        x[f"sin{k}"] = np.sin(2 * np.pi * k * season / period)
        x[f"cos{k}"] = np.cos(2 * np.pi * k * season / period)
    return x


def _stratum_dummies(df: pd.DataFrame, stratum: str | None) -> pd.DataFrame:
    """One intercept shift per cell after the first (none without a stratum)."""
    if stratum is None:
        return pd.DataFrame(index=df.index)
    cells = pd.unique(df[stratum])
    return pd.DataFrame({f"{stratum}[{c}]": (df[stratum] == c).astype(float) for c in cells[1:]},
                        index=df.index)


def _log_offset(df: pd.DataFrame, offset: str | None) -> np.ndarray | None:
    return None if offset is None else np.log(df[offset].to_numpy(dtype=float))


def newey_west_lags(n: int) -> int:
    """Default HAC lag length floor(4 (n/100)^(2/9)) (Newey & West 1994), at least 1."""
    return max(1, int(np.floor(4 * (n / 100) ** (2 / 9))))


def _fit(y: pd.Series, design: pd.DataFrame, offset: np.ndarray | None, family: str,
         maxlags: int | None, groups: np.ndarray | None = None) -> Any:
    endog = y.to_numpy(dtype=float)
    if family == "ols":
        maxlags = newey_west_lags(len(endog)) if maxlags is None else maxlags
    hac: dict[str, Any] = {}
    if maxlags is not None:
        hac = ({"cov_type": "HAC", "cov_kwds": {"maxlags": maxlags}} if groups is None else
               {"cov_type": "hac-panel", "cov_kwds": {"maxlags": maxlags, "groups": groups}})
    if family == "ols":
        return OLS(endog, design).fit(**hac)
    if family == "negbin":
        model = NegativeBinomial(endog, design, offset=offset, loglike_method="nb2")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = model.fit(disp=0, maxiter=1000, **hac)
        if not fit.mle_retvals.get("converged", False) or not np.isfinite(fit.bse).all():
            raise ValueError(f"its: the negative binomial fit did not converge (alpha = "
                             f"{fit.params['alpha']:.3g}; near 0 means no overdispersion); use "
                             "family='quasipoisson' or 'poisson'")
        return fit
    model = GLM(endog, design, family=Poisson(), offset=offset)
    if hac:
        return model.fit(**hac)
    if family == "quasipoisson":  # the scale is estimated: t with the residual df, as R's
        return model.fit(scale="X2", use_t=True)  # summary.glm for quasi families
    return model.fit()


def _check_settled(fit: Any, effects: list[str], family: str, conf: float) -> None:
    """NotEstimable when an effect's interval is unbounded: not finite, or for a count family
    a rate ratio whose bound is 0 or beyond what a float holds (its estimate ran off)."""
    bounds = np.asarray(fit.conf_int(alpha=1 - conf).loc[effects], dtype=float)
    limit = np.log(np.finfo(float).max) if family in COUNT_FAMILIES else np.inf
    if unbounded := [t for t, row in zip(effects, bounds, strict=True)
                     if not (np.abs(row) < limit).all()]:
        raise NotEstimable(f"its: the fit does not settle: the {conf:.0%} interval of "
                           f"{', '.join(unbounded)} is unbounded")


def _linear_predictor(fit: Any, x: pd.DataFrame, offset: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    cols = list(x.columns)
    beta = np.asarray(fit.params.loc[cols])
    cov = np.asarray(fit.cov_params().loc[cols, cols])
    xv = x.to_numpy(dtype=float)
    eta = xv @ beta + (0.0 if offset is None else offset)
    se = np.sqrt(np.einsum("ij,jk,ik->i", xv, cov, xv))
    return eta, se


def _counterfactual(fit: Any, design: pd.DataFrame, offset: np.ndarray | None, zero: list[str],
                    family: str, conf: float) -> pd.DataFrame:
    """Fitted values and the prediction with the intervention terms set to zero."""
    z = _critical(fit, conf)
    link = np.exp if family in COUNT_FAMILIES else (lambda v: v)
    eta, _ = _linear_predictor(fit, design, offset)
    eta_cf, se_cf = _linear_predictor(fit, design.assign(**{c: 0.0 for c in zero}), offset)
    return pd.DataFrame({"fitted": link(eta), "counterfactual": link(eta_cf),
                         "lower": link(eta_cf - z * se_cf), "upper": link(eta_cf + z * se_cf),
                         "conf": conf})


def _critical(fit: Any, conf: float) -> float:
    """The interval's critical value: t with the residual df where the fit uses t (quasi-Poisson:
    the scale is estimated), otherwise normal."""
    if getattr(fit, "use_t", False):
        return float(stats.t.ppf(0.5 + conf / 2, fit.df_resid))
    return float(stats.norm.ppf(0.5 + conf / 2))


def _summed_counterfactual(fit: Any, design: pd.DataFrame, offset: np.ndarray | None,
                           zero: list[str], conf: float, times: pd.Series) -> pd.DataFrame:
    """Per time, the fitted and counterfactual counts summed over cells (count families); the
    interval is exp(log S +/- z se), se of log S by the delta method (gradient sum mu_i x_i / S)."""
    z = _critical(fit, conf)
    cols = list(design.columns)
    beta = np.asarray(fit.params.loc[cols])
    cov = np.asarray(fit.cov_params().loc[cols, cols])
    off = 0.0 if offset is None else offset
    keys = times.to_numpy()

    def total(x: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
        xv = x.to_numpy(dtype=float)
        mu = np.exp(xv @ beta + off)
        grad = pd.DataFrame(mu[:, None] * xv).groupby(keys).sum()
        sums = pd.Series(mu).groupby(keys).sum()
        var = np.einsum("ij,jk,ik->i", grad.to_numpy(), cov, grad.to_numpy())
        return sums, np.sqrt(var) / sums.to_numpy()

    fitted, _ = total(design)
    cf, se = total(design.assign(**{c: 0.0 for c in zero}))
    return pd.DataFrame({times.name: cf.index, "fitted": fitted.to_numpy(),
                         "counterfactual": cf.to_numpy(), "lower": cf.to_numpy() * np.exp(-z * se),
                         "upper": cf.to_numpy() * np.exp(z * se), "conf": conf})


def _mean_var(fit: Any, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Fitted means and their model variances (count families)."""
    mu = np.asarray(fit.predict(which="mean") if family == "negbin" else fit.fittedvalues)
    return mu, (mu + fit.params["alpha"] * mu**2 if family == "negbin" else mu)


def _residuals(fit: Any, y: np.ndarray, family: str) -> np.ndarray:
    """Pearson residuals for count models, raw residuals for OLS."""
    if family == "ols":
        return np.asarray(fit.resid)
    mu, var = _mean_var(fit, family)
    return (y - mu) / np.sqrt(var)


NULL_DRAWS = 999  # Monte Carlo draws for the residual autocorrelation test


def _autocorrelation(resid: np.ndarray, lags: int, null: np.ndarray) -> pd.DataFrame:
    """ACF and Ljung-Box statistic of residual autocorrelation at lags 1..lags, with Monte Carlo
    p-values against `null` (rows: residuals of the same fitted design under independence).

    Regression residuals are autocorrelated by construction (they sum to zero against every
    column of the design: lag-1 about -0.12 for a 60-month ITS), so the chi-squared reference
    fired on 17-25% of series with no autocorrelation (issue 17); the null distribution of the
    statistic under the fitted design fires at the nominal rate.
    """
    lags = max(1, min(lags, len(resid) // 2 - 1))
    q_obs, r_obs = _ljung_box(resid[None, :], lags)
    q_null, _ = _ljung_box(null, lags)
    p = (1 + (q_null >= q_obs).sum(axis=0)) / (len(null) + 1)
    return pd.DataFrame({"lag": np.arange(1, lags + 1), "acf": r_obs[0], "ljung_box": q_obs[0],
                         "p_value": p})


def _ljung_box(x: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Ljung-Box Q at lags 1..lags and the autocorrelations, for each row of `x`
    (as statsmodels `acorr_ljungbox`: Q_k = n (n + 2) sum_j<=k r_j^2 / (n - j))."""
    n = x.shape[1]
    d = x - x.mean(axis=1, keepdims=True)
    r = np.stack([(d[:, j:] * d[:, :n - j]).sum(axis=1) for j in range(1, lags + 1)], axis=1)
    r = r / (d**2).sum(axis=1, keepdims=True)
    q = n * (n + 2) * np.cumsum(r**2 / (n - np.arange(1, lags + 1)), axis=1)
    return q, r


def _null_residuals(design: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """NULL_DRAWS residual vectors of the (weighted) design under independent errors:
    z - H z with H the hat matrix of sqrt(w) X (a fixed seed: the test is reproducible)."""
    xw = design.to_numpy(dtype=float) * np.sqrt(weights)[:, None]
    q, _ = np.linalg.qr(xw)
    z = np.random.default_rng(20170).standard_normal((NULL_DRAWS, len(xw)))
    return z - (z @ q) @ q.T


def _method(family: str, maxlags: int | None, n: int) -> str:
    name = {"quasipoisson": "quasi-Poisson GLM (Pearson X2/df scale)", "poisson": "Poisson GLM",
            "negbin": "negative binomial (NB2) GLM", "ols": "OLS"}[family]
    if family == "ols" and maxlags is None:
        maxlags = newey_west_lags(n)
    if maxlags is not None:
        name += f", Newey-West (HAC) SE with {maxlags} lag(s)"
    return name + ", Wald CI"


def _result(fit: Any, design: pd.DataFrame, data: pd.DataFrame, y: str, time: str, post: str,
            terms: list[str], cf: pd.DataFrame, family: str, maxlags: int | None, conf: float,
            acf_lags: int, groups: str | None, summed: bool = False) -> ItsResult:
    """Estimates, counterfactual with observed values and checks. `summed`: `cf` has one row
    per time (cells summed), and the autocorrelation check is of the summed series."""
    count = family in COUNT_FAMILIES
    ci = np.asarray(fit.conf_int(alpha=1 - conf).loc[terms])
    est = pd.DataFrame({"term": terms, "estimate": np.asarray(fit.params.loc[terms]),
                        "lower": ci[:, 0], "upper": ci[:, 1]})
    transform = np.exp if count else (lambda v: v)
    estimates = pd.DataFrame({
        "term": terms, "value": transform(est["estimate"]), "lower": transform(est["lower"]),
        "upper": transform(est["upper"]), "conf": conf,
        "p_value": np.asarray(fit.pvalues.loc[terms]),
        "se": np.asarray(fit.bse.loc[terms]),
        "scale": "rate ratio" if count else "absolute",
        "method": _method(family, maxlags, len(data))})
    observed = data[y].to_numpy(dtype=float)
    resid = _residuals(fit, observed, family)
    per_time = data.groupby(time)[[y, post]].max() if summed else data
    mu, var = _mean_var(fit, family) if count else (None, np.ones(len(data)))
    if summed:
        sums = pd.DataFrame({"y": observed, "mu": mu, "var": var}).groupby(
            data[time].to_numpy()).sum()
        per_time = per_time.assign(**{y: sums["y"].to_numpy()})
    cf.insert(cf.columns.get_loc("fitted"), "observed", per_time[y].to_numpy(dtype=float))
    cf.insert(cf.columns.get_loc("observed"), "post", per_time[post].astype(int).to_numpy())
    null = _null_residuals(design, mu**2 / var if count else var)
    if summed:
        keys = data[time].to_numpy()
        gather = pd.get_dummies(keys, dtype=float).to_numpy() * np.sqrt(var)[:, None]
        null_sum = (null @ gather) / np.sqrt(sums["var"].to_numpy())
        checks = _autocorrelation(((sums["y"] - sums["mu"]) / np.sqrt(sums["var"])).to_numpy(),
                                  acf_lags, null_sum)
    elif groups is None:
        checks = _autocorrelation(resid, acf_lags, null)
    else:
        keys = data[groups].to_numpy()
        checks = pd.concat([_autocorrelation(resid[keys == k], acf_lags, null[:, keys == k])
                            .assign(**{groups: k}) for k in pd.unique(keys)], ignore_index=True)
    pearson = float(np.sum(resid**2) / fit.df_resid) if count else float("nan")
    scale = float(fit.scale) if family == "quasipoisson" and maxlags is None else 1.0
    if family == "ols":
        scale = float(fit.scale)
    n_pre, n_post = _count_months(data, time, post)
    return ItsResult(estimates=estimates, model=fit, design=design,
                     counterfactual=cf.reset_index(drop=True), checks=checks, family=family,
                     scale=scale, pearson_dispersion=pearson, n_pre=n_pre, n_post=n_post)
