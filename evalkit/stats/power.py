"""How long until we would know: power, minimum detectable effects and data needed.

ITS level change on monthly counts (analytic): the Wald test of the level-change coefficient of
the segmented Poisson / quasi-Poisson model that `evalkit.stats.its.its` fits, with
Var(b) = dispersion x [X' W X]^-1, W = diag(expected monthly counts under the alternative), the
same design columns (trend, level change, optional slope change, Fourier pairs). Assumptions:
expected counts follow baseline x exp(trend x (t - 1)) x RR^post with no seasonal swing in the
mean (the Fourier terms still cost their degrees of freedom); months are independent given the
mean (no residual autocorrelation); the dispersion is known (quasi-Poisson with the dispersion
seen in the pre-change data). Two-group survey means: two-sample t test (statsmodels
`TTestIndPower`), with the sample size divided by the design effect of any weighting.
"""

from __future__ import annotations

import functools
import math
import sys

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower

from evalkit.stats.its import design_matrix


def its_power(rate_ratio: float, baseline: float, n_pre: int, n_post: int, *,
              dispersion: float = 1.0, slope_change: bool = True, harmonics: int = 2,
              period: int = 12, trend: float = 0.0, alpha: float = 0.05, min_pre: int = 8,
              min_post: int = 8) -> float:
    """Power of the two-sided Wald test for an ITS level change of `rate_ratio`.

    `baseline` is the expected count in the first month, `trend` the log change per month
    before the change, `dispersion` the quasi-Poisson dispersion (1 = Poisson).
    """
    _check(baseline, n_pre, n_post, dispersion, alpha, min_pre, min_post, "its_power")
    if rate_ratio <= 0:
        raise ValueError(f"its_power: rate_ratio must be positive, not {rate_ratio}")
    se = _level_se(rate_ratio, baseline, n_pre, n_post, dispersion, slope_change, harmonics,
                   period, trend)
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(math.log(rate_ratio)) / se
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def its_mde(baseline: float, n_pre: int, n_post: int, *, direction: str = "increase",
            power: float = 0.8, dispersion: float = 1.0, slope_change: bool = True,
            harmonics: int = 2, period: int = 12, trend: float = 0.0, alpha: float = 0.05,
            min_pre: int = 8, min_post: int = 8) -> float:
    """Smallest level-change rate ratio detected with `power` (above 1 for an increase,
    below 1 for a decrease)."""
    if direction not in ("increase", "decrease"):
        raise ValueError(f"its_mde: direction must be 'increase' or 'decrease', not "
                         f"{direction!r}")
    _check_power(power, "its_mde")
    sign = 1 if direction == "increase" else -1

    def gap(log_rr: float) -> float:
        return its_power(math.exp(sign * log_rr), baseline, n_pre, n_post,
                         dispersion=dispersion, slope_change=slope_change,
                         harmonics=harmonics, period=period, trend=trend, alpha=alpha,
                         min_pre=min_pre, min_post=min_post) - power

    top = 5.0  # a 148-fold change: beyond it, no level change is detectable in this design
    if gap(top) < 0:
        raise ValueError(f"its_mde: even a {math.exp(top):.0f}-fold change would not reach "
                         f"power {power} with baseline {baseline} over {n_pre}+{n_post} months")
    return math.exp(sign * optimize.brentq(gap, 1e-9, top, xtol=1e-10))


def mde_from_se(se: float, *, power: float = 0.8, alpha: float = 0.05,
                direction: str = "increase") -> float:
    """Smallest level-change rate ratio detected with `power` by a fitted model whose log level
    change has standard error `se`: exp(+/-(z_{1-alpha/2} + z_power) se) (the far tail ignored).

    Use it with the SE of the model actually fitted (stacked cells, other changes' terms, the
    estimated dispersion): `its_mde`'s single-series design gave 0.68 of that SE for a change
    sharing its series with others (issue 17). Infinite when no ratio a float holds would do.
    """
    if direction not in ("increase", "decrease"):
        raise ValueError(f"mde_from_se: direction must be 'increase' or 'decrease', not "
                         f"{direction!r}")
    _check_power(power, "mde_from_se")
    if not se > 0:
        raise ValueError(f"mde_from_se: se must be positive, not {se}")
    sign = 1 if direction == "increase" else -1
    log_ratio = sign * (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se
    return math.inf if log_ratio > math.log(sys.float_info.max) else math.exp(log_ratio)


def its_months_needed(rate_ratio: float, baseline: float, n_pre: int, *, power: float = 0.8,
                      max_post: int = 120, dispersion: float = 1.0, slope_change: bool = True,
                      harmonics: int = 2, period: int = 12, trend: float = 0.0,
                      alpha: float = 0.05, min_pre: int = 8, min_post: int = 8) -> int | None:
    """Fewest post-change months (at least `min_post`) giving `power` to detect `rate_ratio`;
    None when `max_post` months would not be enough."""
    _check_power(power, "its_months_needed")
    for n_post in range(min_post, max_post + 1):
        if its_power(rate_ratio, baseline, n_pre, n_post, dispersion=dispersion,
                     slope_change=slope_change, harmonics=harmonics, period=period,
                     trend=trend, alpha=alpha, min_pre=min_pre, min_post=min_post) >= power:
            return n_post
    return None


def mean_difference_mde(n1: int, n2: int | None = None, *, sd: float, alpha: float = 0.05,
                        power: float = 0.8, design_effect: float = 1.0) -> float:
    """Smallest difference in means (in the units of `sd`) a two-sided two-sample t test
    detects with `power`; n1, n2 are respondents per group (n2 defaults to n1)."""
    _check_power(power, "mean_difference_mde")
    n2 = n1 if n2 is None else n2
    if min(n1, n2) / design_effect < 2 or sd <= 0 or design_effect < 1:
        raise ValueError(f"mean_difference_mde: need sd > 0, design_effect >= 1 and at least 2 "
                         f"effective respondents per group; found n1={n1}, n2={n2}, sd={sd}, "
                         f"design_effect={design_effect}")
    d = TTestIndPower().solve_power(effect_size=None, nobs1=n1 / design_effect,
                                    ratio=n2 / n1, alpha=alpha, power=power)
    return float(d * sd)


def mean_difference_n(difference: float, *, sd: float, ratio: float = 1.0, alpha: float = 0.05,
                      power: float = 0.8, design_effect: float = 1.0) -> int:
    """Respondents needed in the first group (the second has `ratio` times as many) to detect
    `difference` in means with `power`, inflated by the design effect."""
    _check_power(power, "mean_difference_n")
    if difference == 0 or sd <= 0 or design_effect < 1:
        raise ValueError(f"mean_difference_n: need difference != 0, sd > 0 and "
                         f"design_effect >= 1; found {difference}, {sd}, {design_effect}")
    n = TTestIndPower().solve_power(effect_size=abs(difference) / sd, nobs1=None, ratio=ratio,
                                    alpha=alpha, power=power)
    return int(math.ceil(n * design_effect))


# --- helpers -------------------------------------------------------------------------------


def _check(baseline: float, n_pre: int, n_post: int, dispersion: float, alpha: float,
           min_pre: int, min_post: int, where: str) -> None:
    if n_pre < min_pre or n_post < min_post:
        raise ValueError(f"{where}: need at least {min_pre} months before the change and "
                         f"{min_post} after; found {n_pre} before and {n_post} after")
    if baseline <= 0 or dispersion <= 0 or not 0 < alpha < 1:
        raise ValueError(f"{where}: need baseline > 0, dispersion > 0 and 0 < alpha < 1; found "
                         f"{baseline}, {dispersion}, {alpha}")


def _check_power(power: float, where: str) -> None:
    if not 0 < power < 1:
        raise ValueError(f"{where}: power must lie strictly between 0 and 1, not {power}")


@functools.lru_cache(maxsize=256)
def _design(n_pre: int, n_post: int, slope_change: bool, harmonics: int,
            period: int) -> tuple[np.ndarray, int]:
    """The ITS design for months 1..n_pre+n_post (read-only) and its level_change column; cached
    because a search for an MDE or a length asks for the same design many times."""
    t = np.arange(1, n_pre + n_post + 1)
    frame = pd.DataFrame({"time": t, "post": (t > n_pre).astype(int)})
    x = design_matrix(frame, "time", "post", slope_change=slope_change, month=None,
                      harmonics=harmonics, period=period)
    xv = x.to_numpy(dtype=float)
    xv.flags.writeable = False
    return xv, list(x.columns).index("level_change")


def _level_se(rate_ratio: float, baseline: float, n_pre: int, n_post: int, dispersion: float,
              slope_change: bool, harmonics: int, period: int, trend: float) -> float:
    """SE of the log level change under the alternative, from the Fisher information."""
    xv, level = _design(n_pre, n_post, slope_change, harmonics, period)
    t = np.arange(1, n_pre + n_post + 1)
    mu = baseline * np.exp(trend * (t - 1)) * rate_ratio ** (t > n_pre)
    info = xv.T @ (mu[:, None] * xv) / dispersion
    return float(np.sqrt(np.linalg.inv(info)[level, level]))
