"""Each group against a reference group: difference and ratio of proportions, likelihoods.

The SC-WRES relative likelihood is the ratio of proportions, so both share one computation.
Counts are summed within `by` and the group column; each group is compared with the reference
group in the same `by` stratum.
Reference: Newcombe, Stat Med 1998;17:873-90; Skills for Care, SC-WRES metrics 2-4.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from evalkit.stats import checks
from evalkit.stats.tidy import join_notes, sum_groups


def _vs_reference(df: pd.DataFrame, x: str, n: str, group: str, reference: str,
                  by: list[str], where: str) -> pd.DataFrame:
    """Counts per (by, group) beside the reference group's counts in the same `by` stratum."""
    checks.frame(df, [x, n, group, *by], where, numeric=[x, n])
    checks.keys(df, [*by, group], where)
    checks.nonnegative(df, [x, n], where)
    checks.at_most(df, x, n, where)
    if not (df[group] == reference).any():
        raise ValueError(f"{where}: reference {reference!r} is not a value of {group!r}; "
                         f"values are {sorted(df[group].astype(str).unique())[:20]}")
    out = sum_groups(df, [x, n], [*by, group])
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
    interval, with 0.5 added to each count when a count is 0 (method says which); the interval
    then runs down to 0 when the group has no events, or up to infinity when the reference has
    none, so it always holds the ratio. Two rows per group, `measure` "difference" and "ratio".
    Reference: Newcombe, Stat Med 1998;17:873-90; statsmodels `confint_proportions_2indep`.
    """
    where = "compare_proportions"
    by = checks.as_list(by)
    checks.conf(conf, where)
    out = _vs_reference(df, x, n, group, reference, by, where)
    return _compare(out, x, n, by + [group], conf, ("difference", "ratio"))


def _compare(out: pd.DataFrame, x: str, n: str, keys: list[str], conf: float,
             measures: Sequence[str]) -> pd.DataFrame:
    """Rows per group and measure ("difference", "ratio") against the `ref_` counts beside it."""
    x1, n1, x2, n2 = (out[c].to_numpy(float) for c in (x, n, f"ref_{x}", f"ref_{n}"))
    usable = (n1 > 0) & (n2 > 0)
    s1, t1 = np.where(usable, x1, 0.5), np.where(usable, n1, 1)
    s2, t2 = np.where(usable, x2, 0.5), np.where(usable, n2, 1)
    alpha = 1 - conf
    base_note = join_notes(out.index, (out["_rows"] == 0, "no rows in this group"),
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
        note = join_notes(out.index, (base_note != "", base_note),
                          (both_zero & usable, "no events in either group: no ratio"),
                          (zero & ok, "a count is 0: 0.5 added to each count for the interval"))
        # A log interval never reaches 0 or infinity: when the group has no events (ratio 0)
        # or the reference has none (ratio infinite) it runs to that end, so it holds the ratio.
        lower = np.where(s1 == 0, 0.0, np.where(zero, lo_a, lo_l))
        upper = np.where(s2 == 0, np.inf, np.where(zero, hi_a, hi_l))
        frames.append(out.assign(measure="ratio", value=np.where(ok, p1 / p2, np.nan),
                                 lower=np.where(ok, lower, np.nan),
                                 upper=np.where(ok, upper, np.nan),
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
    log interval for a ratio of proportions (0.5 added when a count is 0; from 0 when the group
    has no events), as `compare_proportions`.
    Reference: Skills for Care, SC-WRES metrics 2-4; NHS WRES technical guidance.
    """
    where = "relative_likelihood"
    by = checks.as_list(by)
    checks.conf(conf, where)
    out = _vs_reference(df, x, n, group, reference, by, where)
    res = _compare(out, x, n, by + [group], conf, ("ratio",))
    return res.drop(columns="measure")
