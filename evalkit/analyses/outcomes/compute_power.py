"""How long until we would know: the smallest level change each group's data could detect, and
the months of data a planned change would need (analytic ITS power, `evalkit.stats.power`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.analyses.outcomes.compute_its import ChangeFit
from evalkit.analyses.outcomes.compute_series import monthly_series
from evalkit.data import codes
from evalkit.stats import power

MAX_POST = 120  # months: beyond ten years of post-change data a design is not worth planning
POWER_COLUMNS = ["group", "mde", "baseline", "n_pre", "n_post", "dispersion", "se"]


def planning(episodes: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *,
             detect_ratio: float = 1.2, post: int = 12, alpha: float = 0.05,
             groups: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """For a change starting after the data end, per group: baseline monthly DP starts (last 12
    months), the smallest level change detectable with 80% power after `post` months, and the
    months of post-change data needed to detect `detect_ratio` (analytic, methods.power)."""
    groups = groups or {g: episodes["ethnic_group_broad"].eq(g)
                        for g in codes.BROAD_GROUPS if g != codes.NOT_STATED}
    rows = []
    for label, mask in groups.items():
        s = monthly_series(episodes, mask, "new_dp_starts", start, end)
        n_pre = len(s)
        base = float(s["y"].tail(12).mean()) if n_pre else 0.0
        row = {"group": label, "baseline": base, "months_before": n_pre, "mde": np.nan,
               "months_needed": np.nan, "note": ""}
        if base <= 0 or n_pre < 8:
            row["note"] = "too few months or no DP starts"
        else:
            try:
                row["mde"] = power.its_mde(base, n_pre, post, alpha=alpha)
            except ValueError as err:
                row["note"] = str(err)
            need = months_needed(detect_ratio, base, n_pre, alpha=alpha)
            row["months_needed"] = np.nan if need is None else need
            if need is None:
                row["note"] = f"more than {MAX_POST} months of data would be needed"
        rows.append(row)
    return pd.DataFrame(rows)


def months_needed(rate_ratio: float, baseline: float, n_pre: int, *, alpha: float = 0.05,
                  target: float = 0.8, min_post: int = 8) -> int | None:
    """Fewest post-change months (min_post..MAX_POST) with `target` power for `rate_ratio`:
    `power.its_months_needed` found by bisection (power rises with months), None beyond."""
    def ok(n_post: int) -> bool:
        return power.its_power(rate_ratio, baseline, n_pre, n_post, alpha=alpha) >= target
    if not ok(MAX_POST):
        return None
    lo, hi = min_post - 1, MAX_POST
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def change_power(fit: ChangeFit, alpha: float = 0.05) -> dict:
    """Smallest level change the change's own fitted model could detect with 80% power: from the
    standard error of its level change (`power.mde_from_se`), so the stacked cells, the other
    changes' terms and the dispersion all count. `se` is that standard error (log scale)."""
    r = fit.result
    level = fit.estimate("level_change")
    if r is None or fit.outcome == "setup_days" or level is None:
        return {"group": fit.group, "mde": np.nan}
    pre = fit.series[fit.series["post"] == 0]
    return {"group": fit.group, "mde": power.mde_from_se(float(level["se"]), alpha=alpha),
            "baseline": float(pre["y"].mean()), "n_pre": r.n_pre, "n_post": r.n_post,
            "dispersion": max(1.0, r.pearson_dispersion), "se": float(level["se"])}


def changes_power(fits: list[ChangeFit], alpha: float = 0.05) -> pd.DataFrame:
    """`change_power` of each evaluated change, one row each (POWER_COLUMNS)."""
    rows = [change_power(f, alpha) for f in fits if f.result is not None]
    return pd.DataFrame(rows, columns=POWER_COLUMNS)
