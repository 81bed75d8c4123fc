"""Indicator statistics on pandas DataFrames, matching PHEindicatormethods and Fingertips.

Every function takes a DataFrame and column names, never changes the input, and returns a tidy
frame: the `by` columns, the inputs (summed within groups), `value`, `lower`, `upper`, `conf`,
`method` and `note` (why a value is missing or was adjusted). Work is vectorised across groups:
counts are summed with one `groupby` and every interval is computed on whole arrays.

Grouping. `proportion`, `rate` and `compare_proportions` sum their counts within `by`; without
`by` each row is its own group. `mean`, `dsr`, `isr`, `dissimilarity_index` and
`diversity_index` combine several rows (values, age bands, categories) into one estimate, so
without `by` the whole frame is one group. The funnel functions treat rows as units (councils)
and `by` as separate funnels, each with its own baseline. A categorical `by` column keeps its
empty categories, which come back with a note rather than disappearing.

References: PHEindicatormethods 2.1.0 (ukhsa-collaboration, R); Fingertips technical guidance
(PH methods); Newcombe & Altman in Altman et al., Statistics with confidence (2000); Breslow &
Day (1987) for Byar's approximation; Dobson et al., Stat Med 1991;10:457-62.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as st
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.rates import confint_poisson

from evalkit.data import codes

# European Standard Population 2013 weights by age band (from evalkit.data.codes), for `dsr`:
# df.assign(esp=df["age_band"].map(ESP2013)).
ESP2013 = pd.Series(codes.ESP2013, name="esp2013").rename_axis("age_band")

FUNNEL_CONF = (0.95, 0.998)
SMALL_COUNT = 10  # below this, exact Poisson limits (rates, ISRs) and no DSR (PHE convention)


# --------------------------------------------------------------------------- validation


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    return [by] if isinstance(by, str) else list(by or [])


def _rows(df: pd.DataFrame, mask: pd.Series | np.ndarray, cols: list[str]) -> str:
    """Up to three offending rows, with their index, for an error message."""
    bad = df.loc[np.asarray(mask, dtype=bool), cols].head(3)
    return f"{int(np.sum(mask))} row(s) break this, e.g. {bad.to_dict('index')}"


def _check_frame(df: pd.DataFrame, cols: list[str], where: str,
                 numeric: Sequence[str] = ()) -> None:
    """Columns exist, `by` keys are not missing, numeric columns are numbers."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{where}: column(s) {missing} not found; the frame has "
                       f"{list(df.columns)}")
    for c in numeric:
        if not (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])):
            raise TypeError(f"{where}: column {c!r} must be numeric, not {df[c].dtype}; "
                            f"e.g. {df[c].head(3).tolist()}")
        if np.isinf(df[c].to_numpy(dtype=float, na_value=np.nan)).any():
            raise ValueError(f"{where}: column {c!r} has infinite values; "
                             + _rows(df, np.isinf(df[c].astype(float)), [c]))


def _check_keys(df: pd.DataFrame, by: list[str], where: str) -> None:
    for c in by:
        if df[c].isna().any():
            raise ValueError(f"{where}: `by` column {c!r} has missing values; label them "
                             f"(e.g. 'Not stated') first; " + _rows(df, df[c].isna(), by))


def _check_conf(conf: float, where: str) -> None:
    if not (isinstance(conf, int | float) and 0 < conf < 1):
        raise ValueError(f"{where}: conf must be a number between 0 and 1 (e.g. 0.95), "
                         f"not {conf!r}")


def _check_positive(value: float, name: str, where: str) -> None:
    if not (isinstance(value, int | float) and value > 0):
        raise ValueError(f"{where}: {name} must be a number > 0, not {value!r}")


def _check_nonnegative(df: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    for c in cols:
        bad = df[c] < 0
        if bad.any():
            raise ValueError(f"{where}: need {c} >= 0; " + _rows(df, bad, list(cols)))


def _check_le(df: pd.DataFrame, x: str, n: str, where: str) -> None:
    bad = df[x] > df[n]
    if bad.any():
        raise ValueError(f"{where}: need {x} <= {n}; " + _rows(df, bad, [x, n]))


def _checked(df: pd.DataFrame, numeric: list[str], by: str | Sequence[str] | None, conf: float,
             where: str, multiplier: float | None = None) -> list[str]:
    """Check the numeric columns, `by` keys, conf and multiplier; return `by` as a list."""
    by = _as_list(by)
    _check_frame(df, [*numeric, *by], where, numeric=numeric)
    _check_keys(df, by, where)
    _check_conf(conf, where)
    if multiplier is not None:
        _check_positive(multiplier, "multiplier", where)
    return by


# --------------------------------------------------------------------------- grouping


def _sum_groups(df: pd.DataFrame, cols: list[str], by: list[str],
                rows_are_groups: bool = True) -> pd.DataFrame:
    """Sum `cols` within `by`; without `by`, each row is a group, or one group for all rows.

    A group's sum is NaN if any of its values is missing. Adds `_rows` (rows in the group) and
    `_na_<col>` (missing values in the group) for notes.
    """
    num = df[cols].astype(float)
    na = num.isna()
    if not by and not rows_are_groups:
        total = pd.DataFrame({c: [num[c].sum(min_count=0)] for c in cols})
        total["_rows"] = len(num)
        for c in cols:
            total[f"_na_{c}"] = int(na[c].sum())
            if na[c].any() or len(num) == 0:
                total[c] = np.nan
        return total
    if not by:
        out = num.copy()
        out["_rows"] = 1
        for c in cols:
            out[f"_na_{c}"] = na[c].astype(int)
        return out
    keys = [df[c] for c in by]
    grouped = num.groupby(keys, observed=False, sort=True)
    out = grouped.sum(min_count=0)
    nas = na.groupby(keys, observed=False, sort=True).sum()
    out["_rows"] = grouped.size()
    for c in cols:
        out[f"_na_{c}"] = nas[c]
        out.loc[nas[c] > 0, c] = np.nan
    out.loc[out["_rows"] == 0, cols] = np.nan
    return out.reset_index()


def _notes(index: pd.Index, *pairs: tuple[np.ndarray | pd.Series, str | pd.Series]
           ) -> pd.Series:
    """Join the messages whose masks are true into one `note` string per row."""
    note = np.full(len(index), "", dtype=object)
    for mask, msg in pairs:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            text = np.asarray(msg, dtype=object)[m] if isinstance(msg, pd.Series) else msg
            note[m] = np.where(note[m] == "", text, note[m] + "; " + text)
    return pd.Series(note, index=index, dtype=object)


def _z(conf: float) -> float:
    return float(st.norm.ppf(1 - (1 - conf) / 2))


# --------------------------------------------------------------------------- Poisson limits


def _byars(x: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to exact Poisson limits for a count (Breslow & Day 1987).

    The lower limit is NaN where the approximation goes negative (PHE convention).
    """
    z = _z(conf)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        hi = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    lo = np.where(lo < 0, np.nan, lo)
    return lo, hi


def _exact(x: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (chi-square) Poisson limits for a count; lower is 0 when x is 0."""
    x = np.asarray(x, dtype=float)
    lo, hi = confint_poisson(x, np.ones_like(x), method="exact-c", alpha=1 - conf)
    return np.where(x == 0, 0.0, lo), hi


def _poisson(x: np.ndarray, conf: float, method: str = "auto"
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson limits for counts: exact below 10 events, Byar's from 10 (`method="auto"`)."""
    x = np.asarray(x, dtype=float)
    use_exact = {"auto": x < SMALL_COUNT, "exact": np.ones(x.shape, bool),
                 "byars": np.zeros(x.shape, bool)}[method]
    blo, bhi = _byars(x, conf)
    elo, ehi = _exact(x, conf)
    names = np.where(use_exact, "Exact", "Byars")
    return np.where(use_exact, elo, blo), np.where(use_exact, ehi, bhi), names


# --------------------------------------------------------------------------- indicators


def proportion(df: pd.DataFrame, x: str, n: str, *, by: str | Sequence[str] | None = None,
               conf: float = 0.95, multiplier: float = 1) -> pd.DataFrame:
    """Proportion x/n with a Wilson score interval, one row per group.

    A group with n = 0 (including an empty category) has no proportion: value NaN with a note.
    Reference: Newcombe & Altman (2000) 46-48; PHEindicatormethods `phe_proportion`.
    """
    where = "proportion"
    by = _checked(df, [x, n], by, conf, where, multiplier)
    _check_nonnegative(df, [x, n], where)
    _check_le(df, x, n, where)
    out = _sum_groups(df, [x, n], by)
    ok = out[n] > 0
    xs, ns = out[x].where(ok), out[n].where(ok)
    lo, hi = proportion_confint(xs.fillna(0), ns.fillna(1), alpha=1 - conf, method="wilson")
    gap = xs.isna() | ns.isna()
    note = _notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                  (out[f"_na_{x}"] > 0, f"{x} missing"), (out[f"_na_{n}"] > 0, f"{n} missing"),
                  ((out[n] == 0) & (out["_rows"] > 0), f"{n} is 0: no proportion"))
    return _finish(out, by, [x, n], value=xs / ns * multiplier,
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
    _check_nonnegative(df, [x, n], where)
    out = _sum_groups(df, [x, n], by)
    ns = out[n].where(out[n] > 0)
    lo, hi, names = _poisson(out[x].to_numpy(), conf, method)
    note = _notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                  (out[f"_na_{x}"] > 0, f"{x} missing"), (out[f"_na_{n}"] > 0, f"{n} missing"),
                  ((out[n] == 0) & (out["_rows"] > 0), f"{n} is 0: no rate"),
                  (np.isnan(lo) & (out[x] > 0) & ns.notna(),
                   "Byar's lower limit below 0: not defined"))
    return _finish(out, by, [x, n], value=out[x] / ns * multiplier, lower=lo / ns * multiplier,
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
    note = _notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                  (out["_na"] > 0, out["_na"].astype(str) + f" missing {value} left out"),
                  ((out["n"] < 2) & (out["_rows"] > 0), "fewer than 2 values: no interval"))
    return _finish(out, by, [f"{value}_sum", "n", "sd"], value=m, lower=m - half,
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
    _check_nonnegative(df, [x, n, stdpop, *pcols], where)
    for c in (n, stdpop):
        if df[c].isna().any():
            raise ValueError(f"{where}: {c} must not be missing; " + _rows(df, df[c].isna(), [c]))
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
                             f"{pcols} (sum of f x persons); " + _rows(df, bad, [x, *pcols]))
    zero_n = df[n] == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = df[stdpop] / df[n]
        parts = {"_wx": xs * w, "_w": df[stdpop], "_v": xs * w**2, "_x": xs,
                 "_nx": df[x].isna().astype(float), "_n0": zero_n.astype(float)}
        for f, c in freq.items():
            parts[f"_v{f}"] = f**2 * df[c].fillna(0) * w**2
    tmp = pd.DataFrame(parts).assign(**{c: df[c] for c in by})
    sums = _sum_groups(tmp.assign(**{x: xs, n: df[n]}), [x, n, *parts], by,
                       rows_are_groups=False)
    var_num = sums[[f"_v{f}" for f in freq]].sum(axis=1) if freq else sums["_v"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = sums["_wx"] / sums["_w"]
        var = var_num / sums["_w"] ** 2
        o = sums[x]
        blo, bhi = _byars(o.to_numpy(), conf)
        scale = np.sqrt(var / o)
    small = o < SMALL_COUNT
    undefined = small | (sums["_n0"] > 0) | (sums["_rows"] == 0)
    note = _notes(sums.index, (sums["_rows"] == 0, "no rows in this group"),
                  ((sums["_n0"] > 0) & (sums["_rows"] > 0), f"{n} is 0 in a stratum: no DSR"),
                  (small & (sums["_rows"] > 0), f"fewer than {SMALL_COUNT} events: no DSR"),
                  (sums["_nx"] > 0, f"missing {x} counted as 0"))
    method = ("Dobson, with confidence adjusted for non-independent events" if freq
              else "Dobson")
    return _finish(sums.rename(columns={"_w": stdpop}), by, [x, n, stdpop],
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
    _check_nonnegative(df, [x, n, ref_x, ref_n], where)
    bad = ~(df[ref_n] > 0)
    if bad.any():
        raise ValueError(f"{where}: need {ref_n} > 0 (a reference rate per stratum); "
                         + _rows(df, bad, [ref_x, ref_n]))
    filled = {c: df[c].fillna(0) for c in (x, n, ref_x)}
    tmp = pd.DataFrame({x: filled[x], "expected": filled[ref_x] / df[ref_n] * filled[n],
                        ref_x: filled[ref_x], ref_n: df[ref_n],
                        "_na": df[[x, n, ref_x]].isna().any(axis=1).astype(float)})
    tmp = tmp.assign(**{c: df[c] for c in by})
    out = _sum_groups(tmp, [x, "expected", ref_x, ref_n, "_na"], by, rows_are_groups=False)
    o, e = out[x], out["expected"].where(out["expected"] > 0)
    lo, hi, names = _poisson(o.to_numpy(), conf)
    factor = multiplier * (out[ref_x] / out[ref_n] if kind == "rate" else 1)
    note = _notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                  ((out["expected"] == 0) & (out["_rows"] > 0), "expected is 0: no ratio"),
                  (out["_na"] > 0, f"missing {x}, {n} or {ref_x} counted as 0"))
    out = out.rename(columns={x: "observed"})
    if kind == "rate":
        out["ref_rate"] = out[ref_x] / out[ref_n] * multiplier
    return _finish(out, by, ["observed", "expected"] + (["ref_rate"] if kind == "rate" else []),
                   value=o / e * factor, lower=lo / e * factor, upper=hi / e * factor,
                   conf=conf, method=np.where(o.isna(), "", names), note=note)


# --------------------------------------------------------------------------- funnels


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
    _check_positive(multiplier, "multiplier", where)
    if n is None and (statistic != "rate" or rate is None):
        raise ValueError(f"{where}: n (denominator, or expected for ratios) is required "
                         f"unless statistic='rate' with a rate column")
    cols = [c for c in (x, n, rate) if c is not None]
    _check_frame(df, [*cols, *by], where, numeric=cols)
    _check_keys(df, by, where)
    if df[x].isna().any():
        raise ValueError(f"{where}: {x} must be given for every unit (0 when none); "
                         + _rows(df, df[x].isna(), [x]))
    _check_nonnegative(df, cols, where)
    xs = df[x].astype(float)
    if rate is None:
        if df[n].isna().any() or (df[n] <= 0).any():
            bad = df[n].isna() | (df[n] <= 0)
            raise ValueError(f"{where}: need {n} > 0 for every unit; " + _rows(df, bad, [x, n]))
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
                             "(crude rates); " + _rows(df, bad, cols))
    if statistic == "proportion":
        _check_le(df, x, n, where)
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
    by = _as_list(by)
    _check_positive(years, "years", where)
    for c in conf:
        _check_conf(c, where)
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
            half = _z(c) * np.sqrt(b * (1 - b) / ax)
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
    by = _as_list(by)
    for c in conf:
        _check_conf(c, where)
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
            lo, hi = proportion_confint(xs, den, alpha=1 - c, method="wilson")
            names = "Wilson"
        else:
            lo, hi, names = _poisson(xs, c)
            lo = np.where(xs == 0, 0.0, lo)
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = lo / den, hi / den
        sig = np.select([lo > base, hi < base], ["higher", "lower"], "similar").astype(object)
        skip = np.isnan(den) | ((statistic == "rate") & (rate_type == "dsr")
                                & (xs < SMALL_COUNT))
        sig[skip] = np.nan
        scale = 1 if statistic == "ratio" else multiplier
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (df[rate].to_numpy(dtype=float) if rate else xs / den * scale)
        note = _notes(inputs.index, (skip, f"fewer than {SMALL_COUNT} events: a DSR is not "
                                           "assessed"))
        frames.append(inputs.assign(value=value, lower=lo * scale, upper=hi * scale,
                                    baseline=base * scale, conf=c, significance=sig,
                                    method=names, note=note))
    return pd.concat(frames).sort_index(kind="stable")


# --------------------------------------------------------------------------- comparisons


def _vs_reference(df: pd.DataFrame, x: str, n: str, group: str, reference: str,
                  by: list[str], where: str) -> pd.DataFrame:
    """Counts per (by, group) beside the reference group's counts in the same `by` stratum."""
    _check_frame(df, [x, n, group, *by], where, numeric=[x, n])
    _check_keys(df, [*by, group], where)
    _check_nonnegative(df, [x, n], where)
    _check_le(df, x, n, where)
    if not (df[group] == reference).any():
        raise ValueError(f"{where}: reference {reference!r} is not a value of {group!r}; "
                         f"values are {sorted(df[group].astype(str).unique())[:20]}")
    out = _sum_groups(df, [x, n], [*by, group])
    ref = out.loc[out[group] == reference, [*by, x, n]].rename(
        columns={x: f"ref_{x}", n: f"ref_{n}"})
    out = out.loc[out[group] != reference]
    out = out.merge(ref, on=by, how="left") if by else out.assign(
        **{f"ref_{x}": ref[f"ref_{x}"].iloc[0], f"ref_{n}": ref[f"ref_{n}"].iloc[0]})
    return out.reset_index(drop=True)


def compare_proportions(df: pd.DataFrame, x: str, n: str, group: str, reference: str, *,
                        by: str | Sequence[str] | None = None,
                        conf: float = 0.95) -> pd.DataFrame:
    """Each group's proportion against the reference group's: difference and ratio with CIs.

    Counts are summed within `by` and `group`; each non-reference group is compared with
    `reference` in the same `by` stratum (e.g. each ethnic group with White, per council).
    Difference p - p_ref: Newcombe's hybrid score (Wilson) interval. Ratio p / p_ref: Katz log
    interval, with 0.5 added to each count when a count is 0 (method says which). Two rows per
    group, `measure` "difference" and "ratio".
    Reference: Newcombe, Stat Med 1998;17:873-90; statsmodels `confint_proportions_2indep`.
    """
    where = "compare_proportions"
    by = _as_list(by)
    _check_conf(conf, where)
    out = _vs_reference(df, x, n, group, reference, by, where)
    return _compare(out, x, n, by + [group], conf, ("difference", "ratio"))


def _compare(out: pd.DataFrame, x: str, n: str, keys: list[str], conf: float,
             measures: Sequence[str]) -> pd.DataFrame:
    x1, n1, x2, n2 = (out[c].to_numpy(float) for c in (x, n, f"ref_{x}", f"ref_{n}"))
    usable = (n1 > 0) & (n2 > 0)
    s1, t1 = np.where(usable, x1, 0.5), np.where(usable, n1, 1)
    s2, t2 = np.where(usable, x2, 0.5), np.where(usable, n2, 1)
    alpha = 1 - conf
    base_note = _notes(out.index, (out["_rows"] == 0, "no rows in this group"),
                       (np.isnan(x2) | (np.nan_to_num(n2) == 0),
                        "no reference group rows in this stratum"),
                       ((np.nan_to_num(n1) == 0) & (out["_rows"] > 0), f"{n} is 0"),
                       (out[f"_na_{x}"] + out[f"_na_{n}"] > 0, f"{x} or {n} missing"))
    frames = []
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        if "difference" in measures:
            lo, hi = confint_proportions_2indep(s1, t1, s2, t2, method="newcomb",
                                                compare="diff", alpha=alpha)
            frames.append(out.assign(measure="difference", value=p1 - p2,
                                     lower=np.where(usable, lo, np.nan),
                                     upper=np.where(usable, hi, np.nan), conf=conf,
                                     method="Newcombe (Wilson)", note=base_note))
        zero = (s1 == 0) | (s2 == 0)
        lo_l, hi_l = confint_proportions_2indep(s1, t1, s2, t2, method="log", compare="ratio",
                                                alpha=alpha)
        lo_a, hi_a = confint_proportions_2indep(s1, t1, s2, t2, method="log-adjusted",
                                                compare="ratio", alpha=alpha)
        both_zero = (x1 == 0) & (x2 == 0)
        ok = usable & ~both_zero
        note = _notes(out.index, (base_note != "", base_note),
                      (both_zero & usable, "no events in either group: no ratio"),
                      (zero & ok, "a count is 0: 0.5 added to each count for the interval"))
        frames.append(out.assign(measure="ratio", value=np.where(ok, p1 / p2, np.nan),
                                 lower=np.where(ok, np.where(zero, lo_a, lo_l), np.nan),
                                 upper=np.where(ok, np.where(zero, hi_a, hi_l), np.nan),
                                 conf=conf, method=np.where(zero, "Katz log, 0.5 added",
                                                            "Katz log"), note=note))
    res = pd.concat(frames).sort_index(kind="stable").reset_index(drop=True)
    cols = [*keys, x, n, f"ref_{x}", f"ref_{n}", "measure", "value", "lower", "upper", "conf",
            "method", "note"]
    return res[cols]


def relative_likelihood(df: pd.DataFrame, x: str, n: str, group: str, reference: str, *,
                        by: str | Sequence[str] | None = None,
                        conf: float = 0.95) -> pd.DataFrame:
    """Relative likelihood of an outcome for each group against the reference group.

    As the Social Care Workforce Race Equality Standard defines it: (x / n for the group) /
    (x / n for the reference group), e.g. appointed / shortlisted for Black African staff over
    the same for White British staff; above 1 means the group is more likely to have the
    outcome. Each specific group is compared separately (groups are never merged). CI: Katz
    log interval for a ratio of proportions (0.5 added when a count is 0).
    Reference: Skills for Care, SC-WRES metrics 2-4; NHS WRES technical guidance.
    """
    where = "relative_likelihood"
    by = _as_list(by)
    _check_conf(conf, where)
    out = _vs_reference(df, x, n, group, reference, by, where)
    res = _compare(out, x, n, by + [group], conf, ("ratio",))
    return res.drop(columns="measure")


def did(df: pd.DataFrame, y: str, treated: str, post: str, *, covariates: Sequence[str] = (),
        cluster: str | None = None, by: str | Sequence[str] | None = None,
        conf: float = 0.95) -> pd.DataFrame:
    """Difference-in-differences: OLS of y on treated, post, treated x post and covariates.

    `value` is the treated x post coefficient. Classical OLS standard errors by default;
    cluster-robust (CR1, t with G - 1 df) when `cluster` names the unit column, which panel
    data need. Rows with a missing y, indicator, covariate or cluster are left out (noted).
    Categorical covariates enter as dummies. With `by`, one model per group (a loop: DiD
    groups are few). Returns value, se, lower, upper, p_value, n (rows used) and n_clusters.
    Reference: Card & Krueger, AER 1994;84:772-93, Table 3; Angrist & Pischke (2009) ch. 5.
    """
    where = "did"
    by = _as_list(by)
    covariates = list(covariates)
    cols = [y, treated, post, *covariates, *([cluster] if cluster else [])]
    _check_frame(df, [*cols, *by], where, numeric=[y])
    _check_keys(df, by, where)
    _check_conf(conf, where)
    for c in (treated, post):
        vals = df[c].dropna()
        if not vals.isin([0, 1]).all():
            raise ValueError(f"{where}: {c} must be 0/1 or True/False; "
                             + _rows(df, df[c].notna() & ~df[c].isin([0, 1]), [c]))
    if by:
        parts = [_did_one(part, y, treated, post, covariates, cluster, conf, where)
                 .assign(**dict(zip(by, key if isinstance(key, tuple) else (key,),
                                    strict=True)))
                 for key, part in df.groupby(by, sort=True, observed=True)]
        res = pd.concat(parts, ignore_index=True)
        return res[[*by, *[c for c in res.columns if c not in by]]]
    return _did_one(df, y, treated, post, covariates, cluster, conf, where)


def _did_one(df: pd.DataFrame, y: str, treated: str, post: str, covariates: list[str],
             cluster: str | None, conf: float, where: str) -> pd.DataFrame:
    cols = [y, treated, post, *covariates, *([cluster] if cluster else [])]
    used = df[cols].dropna()
    dropped = len(df) - len(used)
    t, p = used[treated].astype(float), used[post].astype(float)
    design = pd.DataFrame({"const": 1.0, treated: t, post: p, "did": t * p}, index=used.index)
    if covariates:
        cov = pd.get_dummies(used[covariates], drop_first=True, dtype=float)
        design = design.join(cov)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        raise ValueError(f"{where}: the design is not full rank; every treated/post cell "
                         "needs rows and covariates must not duplicate the indicators; cells: "
                         f"{used.groupby([treated, post]).size().to_dict()}")
    model = OLS(used[y].astype(float), design)
    if cluster:
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(used[cluster])[0]},
                        use_t=True)
        n_clusters, method = used[cluster].nunique(), "OLS, cluster-robust SE"
    else:
        fit = model.fit()
        n_clusters, method = np.nan, "OLS, classical SE"
    lo, hi = fit.conf_int(alpha=1 - conf).loc["did"]
    note = f"{dropped} row(s) with missing values left out" if dropped else ""
    return pd.DataFrame({"term": [f"{treated}:{post}"], "value": [fit.params["did"]],
                         "se": [fit.bse["did"]], "lower": [lo], "upper": [hi],
                         "p_value": [fit.pvalues["did"]], "n": [len(used)],
                         "n_clusters": [n_clusters], "conf": [conf], "method": [method],
                         "note": [note]})


# --------------------------------------------------------------------------- workforce


def _compositions(df: pd.DataFrame, cols: list[str], by: list[str], where: str
                  ) -> tuple[pd.DataFrame, np.ndarray]:
    """Counts as a (groups, categories, len(cols)) array padded with zeros, plus group keys."""
    _check_frame(df, [*cols, *by], where, numeric=cols)
    _check_keys(df, by, where)
    _check_nonnegative(df, cols, where)
    if df[cols].isna().any().any():
        bad = df[cols].isna().any(axis=1)
        raise ValueError(f"{where}: counts must not be missing (use 0 for none); "
                         + _rows(df, bad, cols))
    if by:
        gid = df.groupby(by, observed=True, sort=True).ngroup().to_numpy()
        keys = df[by].groupby(gid).first().reset_index(drop=True)
    else:
        gid = np.zeros(len(df), int)
        keys = pd.DataFrame(index=[0])
    pos = pd.Series(gid).groupby(gid).cumcount().to_numpy()
    counts = np.zeros((len(keys), int(pos.max()) + 1 if len(pos) else 1, len(cols)))
    counts[gid, pos] = df[cols].to_numpy(float)
    return keys.assign(categories=np.bincount(gid, minlength=len(keys))), counts


def _bootstrap(counts: np.ndarray, stat, n_boot: int, seed: int, conf: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of `stat` over multinomial resamples of every count vector.

    `counts` is (groups, categories, vectors); each vector is resampled with its own total
    and observed shares, all groups at once, in chunks to bound memory.
    """
    rng = np.random.default_rng(seed)
    totals = counts.sum(axis=1)  # (groups, vectors)
    shares = np.where(totals[:, None, :] > 0, counts / np.where(totals == 0, 1, totals)[:, None],
                      1 / counts.shape[1])
    n = np.rint(totals).astype(np.int64)
    pv = np.moveaxis(shares, 1, -1)  # (groups, vectors, categories)
    pv = pv / pv.sum(axis=-1, keepdims=True)
    chunk = max(1, int(2e6 // max(pv.size, 1)))
    draws = []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        sample = rng.multinomial(n, pv, size=(b, *n.shape))  # (b, groups, vectors, cats)
        draws.append(stat(np.moveaxis(sample, -1, -2)))
    boot = np.concatenate(draws, axis=0)
    a = (1 - conf) / 2
    # a group with a zero total is NaN in every draw, so its limits are NaN (callers note it)
    return np.quantile(boot, a, axis=0), np.quantile(boot, 1 - a, axis=0)


def _duncan(c: np.ndarray) -> np.ndarray:
    """Duncan index 0.5 sum |a_i/A - b_i/B| over categories (axis -2) of the last-axis pair."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = c / c.sum(axis=-2, keepdims=True)
    return 0.5 * np.abs(s[..., 0] - s[..., 1]).sum(axis=-1)


def _gini_simpson(c: np.ndarray) -> np.ndarray:
    """1 - sum of squared shares over categories (axis -2) of the single last-axis vector."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = c[..., 0] / c[..., 0].sum(axis=-1, keepdims=True)
    return 1 - (s**2).sum(axis=-1)


def dissimilarity_index(df: pd.DataFrame, x1: str, x2: str, *,
                        by: str | Sequence[str] | None = None, conf: float = 0.95,
                        n_boot: int = 1000, seed: int = 2024) -> pd.DataFrame:
    """Duncan index of dissimilarity between two compositions, with a bootstrap interval.

    Rows within each `by` group are categories (e.g. ethnic groups) with counts in two
    populations (e.g. PAs and people with a DP); without `by` the whole frame is one group.
    D = 0.5 sum |x1_i / X1 - x2_i / X2|: the share of either population that would have to
    change category for the two to match. Interval: percentile bootstrap from multinomial
    resamples of both count vectors (seeded, so reruns agree). D is biased upwards when counts
    are small, so the interval can exclude the population value then.
    Reference: Duncan & Duncan, Am Sociol Rev 1955;20:210-7.
    """
    where = "dissimilarity_index"
    by = _as_list(by)
    _check_conf(conf, where)
    _check_positive(n_boot, "n_boot", where)
    keys, counts = _compositions(df, [x1, x2], by, where)
    totals = counts.sum(axis=1)
    empty = (totals == 0).any(axis=1)
    lo, hi = _bootstrap(counts, _duncan, n_boot, seed, conf)
    note = _notes(keys.index, (empty, f"{x1} or {x2} totals 0: no index"))
    return _finish(keys.assign(**{x1: totals[:, 0], x2: totals[:, 1]}),
                   by, [x1, x2, "categories"], value=np.where(empty, np.nan, _duncan(counts)),
                   lower=np.where(empty, np.nan, lo), upper=np.where(empty, np.nan, hi),
                   conf=conf, method=f"Duncan; percentile bootstrap ({n_boot}, seed {seed})",
                   note=note)


def diversity_index(df: pd.DataFrame, x: str, *, by: str | Sequence[str] | None = None,
                    conf: float = 0.95, n_boot: int = 1000, seed: int = 2024) -> pd.DataFrame:
    """Gini-Simpson diversity 1 - sum p_i^2, with a bootstrap interval.

    The chance that two people drawn at random (with replacement) are in different categories;
    0 when everyone is in one category. Rows within each `by` group are categories; without
    `by` the whole frame is one group. Interval: percentile bootstrap, multinomial resamples
    (seeded).
    Reference: Simpson, Nature 1949;163:688.
    """
    where = "diversity_index"
    by = _as_list(by)
    _check_conf(conf, where)
    _check_positive(n_boot, "n_boot", where)
    keys, counts = _compositions(df, [x], by, where)
    total = counts.sum(axis=1)[:, 0]
    empty = total == 0
    lo, hi = _bootstrap(counts, _gini_simpson, n_boot, seed, conf)
    note = _notes(keys.index, (empty, f"{x} totals 0: no index"))
    return _finish(keys.assign(**{x: total}), by, [x, "categories"],
                   value=np.where(empty, np.nan, _gini_simpson(counts)),
                   lower=np.where(empty, np.nan, lo), upper=np.where(empty, np.nan, hi),
                   conf=conf, method=f"Gini-Simpson; percentile bootstrap ({n_boot}, seed "
                                     f"{seed})", note=note)


# --------------------------------------------------------------------------- output


def _finish(out: pd.DataFrame, by: list[str], inputs: list[str], **cols) -> pd.DataFrame:
    """The tidy frame: by columns, inputs, value, lower, upper, conf, method, note."""
    res = out[[*by, *inputs]].copy()
    for k, v in cols.items():
        res[k] = v.to_numpy() if isinstance(v, pd.Series) else v
    return res
