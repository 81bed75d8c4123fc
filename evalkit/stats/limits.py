"""Confidence limits shared by indicators and funnels: the normal quantile, Wilson and Poisson
limits.

Reference: Newcombe & Altman (2000) for Wilson; Breslow & Day (1987) for Byar's approximation;
PHEindicatormethods 2.1.0.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

SMALL_COUNT = 10  # below this, exact Poisson limits (rates, ISRs) and no DSR (PHE convention)


def two_sided_z(conf: float) -> float:
    """The standard normal quantile for a two-sided interval at `conf`."""
    return float(st.norm.ppf(1 - (1 - conf) / 2))


def wilson_limits(x: np.ndarray, n: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits for x of n: exactly 0 below when x = 0 and exactly 1 above when x = n.

    Those are the limits' true values; the closed form rounds them (an upper limit of
    0.9999999999999999 at x = n), which would put the estimate outside its own interval.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    lo, hi = proportion_confint(x, n, alpha=1 - conf, method="wilson")
    return np.where(x == 0, 0.0, lo), np.where(x == n, 1.0, hi)


def byars_limits(x: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to exact Poisson limits for a count (Breslow & Day 1987).

    The lower limit is NaN where the approximation goes negative (PHE convention).
    """
    z = two_sided_z(conf)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        hi = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    lo = np.where(lo < 0, np.nan, lo)
    return lo, hi


def _exact_limits(x: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (chi-square) Poisson limits for a count; lower is 0 when x is 0."""
    x = np.asarray(x, dtype=float)
    lo, hi = confint_poisson(x, np.ones_like(x), method="exact-c", alpha=1 - conf)
    return np.where(x == 0, 0.0, lo), hi


def poisson_limits(x: np.ndarray, conf: float, method: str = "auto"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson limits for counts: exact below 10 events, Byar's from 10 (`method="auto"`)."""
    x = np.asarray(x, dtype=float)
    use_exact = {"auto": x < SMALL_COUNT, "exact": np.ones(x.shape, bool),
                 "byars": np.zeros(x.shape, bool)}[method]
    blo, bhi = byars_limits(x, conf)
    elo, ehi = _exact_limits(x, conf)
    names = np.where(use_exact, "Exact", "Byars")
    return np.where(use_exact, elo, blo), np.where(use_exact, ehi, bhi), names
