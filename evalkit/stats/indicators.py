"""Indicators as PHEindicatormethods and Fingertips compute them: proportion, rate, mean, DSR, ISR.

`proportion` and `rate` sum their counts within `by`; without `by` each row is its own group.
`mean`, `dsr` and `isr` combine several rows (values, age bands) into one estimate, so without
`by` the whole frame is one group.

References: PHEindicatormethods 2.1.0 (ukhsa-collaboration, R); Fingertips technical guidance
(PH methods); Newcombe & Altman in Altman et al., Statistics with confidence (2000); Breslow &
Day (1987) for Byar's approximation; Dobson et al., Stat Med 1991;10:457-62.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from evalkit.data import codes
from evalkit.stats import checks
from evalkit.stats.limits import SMALL_COUNT, byars_limits, poisson_limits, wilson_limits
from evalkit.stats.tidy import join_notes, sum_groups, tidy_frame

# European Standard Population 2013 weights by age band (from evalkit.data.codes), for `dsr`:
# df.assign(esp=df["age_band"].map(ESP2013)).
ESP2013 = pd.Series(codes.ESP2013, name="esp2013").rename_axis("age_band")


def _checked(df: pd.DataFrame, numeric: list[str], by: str | Sequence[str] | None, conf: float,
             where: str, multiplier: float | None = None) -> list[str]:
    """Check the numeric columns, `by` keys, conf and multiplier; return `by` as a list."""
    by = checks.as_list(by)
    checks.frame(df, [*numeric, *by], where, numeric=numeric)
    checks.keys(df, by, where)
    checks.conf(conf, where)
    if multiplier is not None:
        checks.positive(multiplier, "multiplier", where)
    return by


def proportion(df: pd.DataFrame, x: str, n: str, *, by: str | Sequence[str] | None = None,
               conf: float = 0.95, multiplier: float = 1) -> pd.DataFrame:
    """Proportion x/n with a Wilson score interval, one row per group.

    A group with n = 0 (including an empty category) has no proportion: value NaN with a note.
    Reference: Newcombe & Altman (2000) 46-48; PHEindicatormethods `phe_proportion`.
    """
    where = "proportion"
    by = _checked(df, [x, n], by, conf, where, multiplier)
    checks.nonnegative(df, [x, n], where)
    checks.at_most(df, x, n, where)
    out = sum_groups(df, [x, n], by)
    ok = out[n] > 0
    xs, ns = out[x].where(ok), out[n].where(ok)
    lo, hi = wilson_limits(xs.fillna(0), ns.fillna(1), conf)
    gap = xs.isna() | ns.isna()
    note = join_notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                      (out[f"_na_{x}"] > 0, f"{x} missing"), (out[f"_na_{n}"] > 0, f"{n} missing"),
                      ((out[n] == 0) & (out["_rows"] > 0), f"{n} is 0: no proportion"))
    return tidy_frame(out, by, [x, n], value=xs / ns * multiplier,
                      lower=np.where(gap, np.nan, lo) * multiplier,
                      upper=np.where(gap, np.nan, hi) * multiplier, conf=conf, method="Wilson",
                      note=note)


def rate(df: pd.DataFrame, x: str, n: str, *, by: str | Sequence[str] | None = None,
         conf: float = 0.95, multiplier: float = 100_000, method: str = "auto") -> pd.DataFrame:
    """Crude rate x/n * multiplier with Poisson limits, one row per group.

    `method="auto"` (PHE): exact (chi-square) limits below 10 events, Byar's from 10; "exact"
    or "byars" force one. x may exceed n (events per person-time).
    Reference: PHEindicatormethods `phe_rate`; Breslow & Day (1987).
    """
    where = "rate"
    by = _checked(df, [x, n], by, conf, where, multiplier)
    if method not in ("auto", "exact", "byars"):
        raise ValueError(f"{where}: method must be 'auto', 'exact' or 'byars', not {method!r}")
    checks.nonnegative(df, [x, n], where)
    out = sum_groups(df, [x, n], by)
    ns = out[n].where(out[n] > 0)
    lo, hi, names = poisson_limits(out[x].to_numpy(), conf, method)
    note = join_notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                      (out[f"_na_{x}"] > 0, f"{x} missing"), (out[f"_na_{n}"] > 0, f"{n} missing"),
                      ((out[n] == 0) & (out["_rows"] > 0), f"{n} is 0: no rate"),
                      (np.isnan(lo) & (out[x] > 0) & ns.notna(),
                       "Byar's lower limit below 0: not defined"))
    return tidy_frame(out, by, [x, n], value=out[x] / ns * multiplier, lower=lo / ns * multiplier,
                      upper=hi / ns * multiplier, conf=conf,
                      method=np.where(out[x].isna(), "", names), note=note)


def mean(df: pd.DataFrame, value: str, *, by: str | Sequence[str] | None = None,
         conf: float = 0.95) -> pd.DataFrame:
    """Mean of `value` with a Student-t interval (sd with n - 1), one row per group.

    Rows are the observations, so without `by` the whole frame is one group. Missing values
    are left out and counted in the note; fewer than 2 values give no interval.
    Reference: PHEindicatormethods `phe_mean`.
    """
    where = "mean"
    by = _checked(df, [value], by, conf, where)
    v = df[value].astype(float)
    keys = [df[c] for c in by] if by else np.zeros(len(df), int)
    g = v.groupby(keys, observed=False, sort=True)
    out = pd.DataFrame({f"{value}_sum": g.sum(min_count=1), "n": g.count(), "sd": g.std(ddof=1),
                        "_na": v.isna().groupby(keys, observed=False, sort=True).sum(),
                        "_rows": g.size()})
    out = out.reset_index() if by else out.reset_index(drop=True)
    if not by and out.empty:
        out = pd.DataFrame({f"{value}_sum": [np.nan], "n": [0], "sd": [np.nan], "_na": [0],
                            "_rows": [0]})
    m = out[f"{value}_sum"] / out["n"].where(out["n"] > 0)
    half = st.t.ppf(1 - (1 - conf) / 2, out["n"] - 1) * out["sd"] / np.sqrt(out["n"])
    note = join_notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                      (out["_na"] > 0, out["_na"].astype(str) + f" missing {value} left out"),
                      ((out["n"] < 2) & (out["_rows"] > 0), "fewer than 2 values: no interval"))
    return tidy_frame(out, by, [f"{value}_sum", "n", "sd"], value=m, lower=m - half,
                      upper=m + half, conf=conf, method="Student's t-distribution", note=note)


def dsr(df: pd.DataFrame, x: str, n: str, stdpop: str, *,
        by: str | Sequence[str] | None = None, conf: float = 0.95,
        multiplier: float = 100_000,
        persons_with_events: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Directly standardised rate with Dobson limits, one row per group.

    Rows are strata (age bands) with counts x, populations n and standard population weights
    `stdpop` (e.g. `df.age_band.map(ESP2013)`); without `by` the whole frame is one group.
    Missing counts count as 0 (noted). The DSR is not given when the group has fewer than 10
    events. Non-independent events (one person counted several times): give
    `persons_with_events={1: "col_1", 2: "col_2", ...}`, the number of persons with exactly
    that many events per stratum; the variance is then sum over f of f^2 var_f, and x must
    equal the events those persons had.
    Reference: Dobson et al. (1991); PHEindicatormethods `calculate_dsr`.
    """
    where = "dsr"
    freq = dict(persons_with_events or {})
    pcols = list(freq.values())
    by = _checked(df, [x, n, stdpop, *pcols], by, conf, where, multiplier)
    checks.nonnegative(df, [x, n, stdpop, *pcols], where)
    for c in (n, stdpop):
        if df[c].isna().any():
            raise ValueError(f"{where}: {c} must not be missing; "
                             + checks.offending_rows(df, df[c].isna(), [c]))
    bad_f = [f for f in freq if not (isinstance(f, int | np.integer) and f >= 1)]
    if bad_f:
        raise ValueError(f"{where}: persons_with_events keys must be whole numbers >= 1 "
                         f"(events per person), not {bad_f}")
    xs = df[x].fillna(0)
    if freq:
        events = sum(f * df[c].fillna(0) for f, c in freq.items())
        bad = ~np.isclose(events, xs)
        if bad.any():
            raise ValueError(f"{where}: {x} must equal the events of the persons in "
                             f"{pcols} (sum of f x persons); "
                             + checks.offending_rows(df, bad, [x, *pcols]))
    zero_n = df[n] == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = df[stdpop] / df[n]
        parts = {"_wx": xs * w, "_w": df[stdpop], "_v": xs * w**2, "_x": xs,
                 "_nx": df[x].isna().astype(float), "_n0": zero_n.astype(float)}
        for f, c in freq.items():
            parts[f"_v{f}"] = f**2 * df[c].fillna(0) * w**2
    tmp = pd.DataFrame(parts).assign(**{c: df[c] for c in by})
    sums = sum_groups(tmp.assign(**{x: xs, n: df[n]}), [x, n, *parts], by,
                      rows_are_groups=False)
    var_num = sums[[f"_v{f}" for f in freq]].sum(axis=1) if freq else sums["_v"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = sums["_wx"] / sums["_w"]
        var = var_num / sums["_w"] ** 2
        o = sums[x]
        blo, bhi = byars_limits(o.to_numpy(), conf)
        scale = np.sqrt(var / o)
    small = o < SMALL_COUNT
    undefined = small | (sums["_n0"] > 0) | (sums["_rows"] == 0)
    note = join_notes(sums.index, (sums["_rows"] == 0, "no rows in this group"),
                      ((sums["_n0"] > 0) & (sums["_rows"] > 0), f"{n} is 0 in a stratum: no DSR"),
                      (small & (sums["_rows"] > 0), f"fewer than {SMALL_COUNT} events: no DSR"),
                      (sums["_nx"] > 0, f"missing {x} counted as 0"))
    method = ("Dobson, with confidence adjusted for non-independent events" if freq
              else "Dobson")
    return tidy_frame(sums.rename(columns={"_w": stdpop}), by, [x, n, stdpop],
                      value=np.where(undefined, np.nan, value * multiplier),
                      lower=np.where(undefined, np.nan, (value + scale * (blo - o)) * multiplier),
                      upper=np.where(undefined, np.nan, (value + scale * (bhi - o)) * multiplier),
                      conf=conf, method=method, note=note)


def isr(df: pd.DataFrame, x: str, n: str, ref_x: str, ref_n: str, *,
        by: str | Sequence[str] | None = None, conf: float = 0.95, multiplier: float = 1,
        kind: str = "ratio") -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected) or rate, one row per group.

    Rows are strata; expected = sum(ref_x / ref_n * n) uses the reference rates of each stratum
    (e.g. England's DP uptake by age and need), so `expected` is "expected DPs given age and
    need". Limits are Byar's, exact when fewer than 10 are observed. `kind="rate"` multiplies
    the ratio by the group's reference crude rate sum(ref_x)/sum(ref_n). Without `by` the whole
    frame is one group; missing x, n or ref_x count as 0 (noted, as PHE does).
    Reference: PHEindicatormethods `calculate_ISRatio`, `calculate_ISRate`.
    """
    where = "isr"
    by = _checked(df, [x, n, ref_x, ref_n], by, conf, where, multiplier)
    if kind not in ("ratio", "rate"):
        raise ValueError(f"{where}: kind must be 'ratio' or 'rate', not {kind!r}")
    checks.nonnegative(df, [x, n, ref_x, ref_n], where)
    bad = ~(df[ref_n] > 0)
    if bad.any():
        raise ValueError(f"{where}: need {ref_n} > 0 (a reference rate per stratum); "
                         + checks.offending_rows(df, bad, [ref_x, ref_n]))
    filled = {c: df[c].fillna(0) for c in (x, n, ref_x)}
    tmp = pd.DataFrame({x: filled[x], "expected": filled[ref_x] / df[ref_n] * filled[n],
                        ref_x: filled[ref_x], ref_n: df[ref_n],
                        "_na": df[[x, n, ref_x]].isna().any(axis=1).astype(float)})
    tmp = tmp.assign(**{c: df[c] for c in by})
    out = sum_groups(tmp, [x, "expected", ref_x, ref_n, "_na"], by, rows_are_groups=False)
    o, e = out[x], out["expected"].where(out["expected"] > 0)
    lo, hi, names = poisson_limits(o.to_numpy(), conf)
    factor = multiplier * (out[ref_x] / out[ref_n] if kind == "rate" else 1)
    note = join_notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                      ((out["expected"] == 0) & (out["_rows"] > 0), "expected is 0: no ratio"),
                      (out["_na"] > 0, f"missing {x}, {n} or {ref_x} counted as 0"))
    out = out.rename(columns={x: "observed"})
    if kind == "rate":
        out["ref_rate"] = out[ref_x] / out[ref_n] * multiplier
    return tidy_frame(out, by, ["observed", "expected"] + (["ref_rate"] if kind == "rate" else []),
                      value=o / e * factor, lower=lo / e * factor, upper=hi / e * factor,
                      conf=conf, method=np.where(o.isna(), "", names), note=note)
