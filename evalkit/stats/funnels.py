"""Funnel plots as PHE draws them: control limits on a grid, and each unit's significance.

Rows are units (councils) and `by` gives separate funnels, each with its own baseline.
Reference: PHEindicatormethods 2.1.0 `calculate_funnel_limits`, `assign_funnel_significance`;
Fingertips technical guidance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from evalkit.stats import checks
from evalkit.stats.limits import SMALL_COUNT, poisson_limits, two_sided_z, wilson_limits
from evalkit.stats.tidy import join_notes

FUNNEL_CONF = (0.95, 0.998)


def _signif_floor(v: np.ndarray) -> np.ndarray:
    """Round 95% of v down to one significant figure (PHE funnel axis start)."""
    a = np.floor(v * 0.95)
    p = 10.0 ** (np.floor(np.log10(np.maximum(a, 1))))
    return np.where(v == 0, 0, np.floor(v * 0.95 / p) * p)


def _signif_ceiling(v: np.ndarray) -> np.ndarray:
    """Round 105% of v up to two significant figures (PHE funnel axis end)."""
    a = np.ceil(v * 1.05)
    p = 10.0 ** (np.floor(np.log10(np.maximum(a, 1))) - 1)
    return np.where(v == 0, 0, np.ceil(v * 1.05 / p) * p)


def _grid(lo: np.ndarray, hi: np.ndarray, points: int, ratio: bool) -> np.ndarray:
    """PHE's geometric grid of `points` axis values from max(1, lo) to about hi, per funnel."""
    cols = [np.maximum(1.0, lo)]
    for j in range(2, points + 1):
        k = points + 1 - (j - 1 if ratio else j)
        prev = cols[-1]
        cols.append(np.maximum(np.round((hi / prev) ** (1 / k) * prev), prev + 1))
    return np.stack(cols, axis=1)


def _funnel_inputs(df: pd.DataFrame, x: str, n: str | None, statistic: str, rate: str | None,
                   rate_type: str, multiplier: float, by: list[str], where: str
                   ) -> pd.DataFrame:
    """Validated units with `_x`, `_n` (denominator, derived from the rate for DSRs), `_g`."""
    if statistic not in ("proportion", "ratio", "rate"):
        raise ValueError(f"{where}: statistic must be 'proportion', 'ratio' or 'rate', "
                         f"not {statistic!r}")
    if rate_type not in ("crude", "dsr"):
        raise ValueError(f"{where}: rate_type must be 'crude' or 'dsr', not {rate_type!r}")
    checks.positive(multiplier, "multiplier", where)
    if n is None and (statistic != "rate" or rate is None):
        raise ValueError(f"{where}: n (denominator, or expected for ratios) is required "
                         f"unless statistic='rate' with a rate column")
    cols = [c for c in (x, n, rate) if c is not None]
    checks.frame(df, [*cols, *by], where, numeric=cols)
    checks.keys(df, by, where)
    if df[x].isna().any():
        raise ValueError(f"{where}: {x} must be given for every unit (0 when none); "
                         + checks.offending_rows(df, df[x].isna(), [x]))
    checks.nonnegative(df, cols, where)
    xs = df[x].astype(float)
    if rate is None:
        if df[n].isna().any() or (df[n] <= 0).any():
            bad = df[n].isna() | (df[n] <= 0)
            raise ValueError(f"{where}: need {n} > 0 for every unit; "
                             + checks.offending_rows(df, bad, [x, n]))
        den = df[n].astype(float)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            den = multiplier * xs / df[rate]
        if rate_type == "dsr":
            den = den.where(xs > 0)
        elif n is not None:
            den = den.where(xs > 0, df[n])
        bad = (xs > 0) & ~(df[rate] > 0)
        bad |= (xs == 0) & (rate_type == "crude") & ~((df[n] > 0) if n is not None else False)
        if bad.any():
            raise ValueError(f"{where}: every unit needs {rate} > 0, or {n} > 0 when {x} is 0 "
                             "(crude rates); " + checks.offending_rows(df, bad, cols))
    if statistic == "proportion":
        checks.at_most(df, x, n, where)
    units = pd.DataFrame({"_x": xs, "_n": den}, index=df.index)
    units["_g"] = (df.groupby(by, observed=True, sort=True).ngroup() if by
                   else np.zeros(len(df), int))
    return units


def funnel_limits(df: pd.DataFrame, x: str, n: str | None = None, *, statistic: str,
                  by: str | Sequence[str] | None = None, multiplier: float = 1,
                  rate: str | None = None, rate_type: str = "crude", years: float = 1,
                  conf: Sequence[float] = FUNNEL_CONF, points: int = 100) -> pd.DataFrame:
    """Funnel plot control limits at 95% and 99.8% on PHE's 100-point grid, for drawing.

    Rows of `df` are units (councils); `by` draws one funnel per group. Baseline = sum(x) /
    sum(n). Proportions ("Wilson"): for each population the limit is the proportion whose
    Wilson interval just touches the baseline, which is the score-test bound
    baseline +/- z sqrt(baseline (1 - baseline) / n), clipped to [0, multiplier].
    Ratios (x observed, n expected) and rates ("Poisson"): exact Poisson limits for each count
    of events o on the grid: expected at the limit = chi2 quantiles / 2, ratio limit
    o / expected (times `multiplier`, e.g. 100 for an ISR), rate limit
    baseline * o / expected * multiplier with `population` = expected / baseline / years.
    For DSRs give `rate` (and rate_type="dsr"): the denominator is derived as
    multiplier * x / rate. Returns long rows per grid point and conf.
    Reference: PHEindicatormethods `calculate_funnel_limits`; Fingertips technical guidance.
    """
    where = "funnel_limits"
    by = checks.as_list(by)
    checks.positive(years, "years", where)
    for c in conf:
        checks.conf(c, where)
    units = _funnel_inputs(df, x, n, statistic, rate, rate_type, multiplier, by, where)
    g = units.groupby("_g")
    base = (g["_x"].sum() / g["_n"].sum()).to_numpy()
    dmin, dmax = g["_n"].min().to_numpy(), g["_n"].max().to_numpy()
    per_year = years if statistic == "rate" else 1
    lo = np.where(dmax > 2 * dmin, 0, _signif_floor(dmin / per_year) * per_year)
    hi = _signif_ceiling(dmax / per_year) * per_year
    if statistic == "rate":
        lo, hi = np.floor(lo * base), np.ceil(hi * base)
    axis = _grid(lo, hi, points, ratio=statistic == "ratio")  # (groups, points)
    b = np.repeat(base, points)
    ax = axis.ravel()
    frames = []
    for c in conf:
        if statistic == "proportion":
            half = two_sided_z(c) * np.sqrt(b * (1 - b) / ax)
            low = np.clip(b - half, 0, 1) * multiplier
            upp = np.clip(b + half, 0, 1) * multiplier
            extra = {}
        else:
            # expected counts at which o observed events sit on the exact Poisson bound
            e_low = st.chi2.ppf(1 - (1 - c) / 2, 2 * ax + 2) / 2
            e_upp = st.chi2.ppf((1 - c) / 2, 2 * ax) / 2
            if statistic == "ratio":
                low, upp = ax / e_low * multiplier, ax / e_upp * multiplier
                extra = {"lower_expected": e_low, "upper_expected": e_upp}
            else:
                low, upp = b * ax / e_low * multiplier, b * ax / e_upp * multiplier
                extra = {"lower_population": e_low / b / years,
                         "upper_population": e_upp / b / years}
        frames.append(pd.DataFrame({"_g": np.repeat(np.arange(len(base)), points),
                                    "point": np.tile(np.arange(1, points + 1), len(base)),
                                    {"proportion": "population", "ratio": "observed",
                                     "rate": "events"}[statistic]: ax,
                                    **extra, "baseline": b * (1 if statistic == "ratio"
                                                              else multiplier),
                                    "conf": c, "lower": low, "upper": upp}))
    out = pd.concat(frames, ignore_index=True).sort_values(["_g", "point", "conf"])
    if statistic == "ratio":
        out["baseline"] = multiplier  # a ratio's funnel is centred on 1 (observed = expected)
    out["method"] = "Wilson" if statistic == "proportion" else "Poisson"
    out["note"] = ""
    if by:
        keys = df[by].groupby(units["_g"].to_numpy()).first()
        out = out.merge(keys, left_on="_g", right_index=True)
        out = out[[*by, *[c for c in out.columns if c not in by]]]
    return out.drop(columns="_g").reset_index(drop=True)


def position(lower: np.ndarray, upper: np.ndarray, baseline: np.ndarray | pd.Series
             ) -> np.ndarray:
    """Fingertips' comparison: 'higher' where the interval lies wholly above the baseline,
    'lower' wholly below, else 'similar' (an object array)."""
    return np.select([lower > baseline, upper < baseline], ["higher", "lower"],
                     "similar").astype(object)


def funnel_significance(df: pd.DataFrame, x: str, n: str | None = None, *, statistic: str,
                        by: str | Sequence[str] | None = None, multiplier: float = 1,
                        rate: str | None = None, rate_type: str = "crude",
                        conf: Sequence[float] = FUNNEL_CONF) -> pd.DataFrame:
    """Each unit's position on the funnel: higher, similar or lower than the baseline.

    Fingertips labels a unit higher when its own interval lies wholly above the baseline
    (lower limit > baseline) and lower when wholly below, at 95% and 99.8%: Wilson for
    proportions (equivalent to lying outside the inverse-Wilson funnel), Byar's (exact below
    10 events) for ratios against 1 and for rates against the weighted average. DSRs with fewer
    than 10 events are not assessed (NaN with a note). Rows are units; `by` gives separate
    funnels. One row per unit and conf, with the unit's value and interval and `baseline`.
    Reference: PHEindicatormethods `assign_funnel_significance`.
    """
    where = "funnel_significance"
    by = checks.as_list(by)
    for c in conf:
        checks.conf(c, where)
    units = _funnel_inputs(df, x, n, statistic, rate, rate_type, multiplier, by, where)
    g = units.groupby("_g")
    if statistic == "ratio":
        base = pd.Series(1.0, index=units.index)
    else:
        base = units["_g"].map(g["_x"].sum() / g["_n"].sum())
    xs, den = units["_x"].to_numpy(), units["_n"].to_numpy()
    inputs = df[[*by, x] + ([n] if n is not None else []) + ([rate] if rate else [])]
    frames = []
    for c in conf:
        if statistic == "proportion":
            lo, hi = wilson_limits(xs, den, c)
            names = "Wilson"
        else:
            lo, hi, names = poisson_limits(xs, c)
            lo = np.where(xs == 0, 0.0, lo)
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = lo / den, hi / den
        sig = position(lo, hi, base)
        skip = np.isnan(den) | ((statistic == "rate") & (rate_type == "dsr")
                                & (xs < SMALL_COUNT))
        sig[skip] = np.nan
        scale = 1 if statistic == "ratio" else multiplier
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (df[rate].to_numpy(dtype=float) if rate else xs / den * scale)
        note = join_notes(inputs.index, (skip, f"fewer than {SMALL_COUNT} events: a DSR is not "
                                               "assessed"))
        frames.append(inputs.assign(value=value, lower=lo * scale, upper=hi * scale,
                                    baseline=base * scale, conf=c, significance=sig,
                                    method=names, note=note))
    return pd.concat(frames).sort_index(kind="stable")
