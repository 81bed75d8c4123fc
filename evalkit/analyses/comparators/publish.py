"""The publication step of the comparators: the council's, its region's and England's counts,
protected like every other count (rounded, 1-7 suppressed), and each share and its comparison
worked out from the protected counts only (`derive`).

The comparison is Fingertips': the council's Wilson interval (95% and 99.8%, the funnel limits
of `evalkit.stats.funnels`) set against the comparator's share; wholly above it is higher,
wholly below lower, else similar. England and region counts are large sums, but they are
published through the same step, so a region minus its other councils tells no more than the
rounded counts do.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from evalkit.analyses.comparators.compute import COUNCIL, ENGLAND, REGION, Comparison, area_name
from evalkit.report import publication
from evalkit.report.publication import Frames, Publication
from evalkit.sdc.protect import Share, Spec
from evalkit.stats import funnels
from evalkit.stats.funnels import FUNNEL_CONF
from evalkit.stats.limits import wilson_limits

NOTEBOOK = "comparators"
#: counts of a measure's rows; a group row whose denominator is suppressed is left out
SPEC = Spec(counts=("numerator", "denominator"), whole="denominator",
            shares=(Share("numerator", "denominator"),))


def position(x: np.ndarray, n: np.ndarray, baseline: np.ndarray, conf: float) -> np.ndarray:
    """'higher', 'lower' or 'similar' where the Wilson interval of x / n at `conf` lies wholly
    above, wholly below or around `baseline`; None where x, n or the baseline is missing."""
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0) & np.isfinite(baseline)
    lo, hi = wilson_limits(np.where(ok, x, 0.0), np.where(ok, n, 1.0), conf)
    out = funnels.position(lo, hi, baseline)
    out[~ok] = None
    return out


def against(wide: pd.DataFrame, name: str) -> pd.DataFrame:
    """`wide` (protected numerator, denominator and share `value` per row, the comparator's
    share in column `name`) with the row's position against it at each funnel level, in
    `<name>_950` and `<name>_998`; a share that is not shown is not compared."""
    x, n = wide["numerator"].to_numpy(float), wide["denominator"].to_numpy(float)
    base = np.where(wide["value"].notna(), wide[name].to_numpy(float), np.nan)
    return wide.assign(**{f"{name}_{round(conf * 1000)}": position(x, n, base, conf)
                          for conf in FUNNEL_CONF})


def compared(shown: Frames) -> dict[str, pd.DataFrame | None]:
    """'comparisons': per measure and group, the council's share beside its region's and
    England's, and its position against each at 95% and 99.8%, from the protected counts."""
    rows = shown["areas"]
    if rows is None or rows.empty:
        return {"comparisons": None}
    keys = ["measure", "group"]
    wide = rows[rows["area_type"] == COUNCIL][[*keys, "numerator", "denominator", "value"]]
    for kind, name in ((REGION, "region"), (ENGLAND, "england")):
        other = rows[rows["area_type"] == kind][[*keys, "value"]]
        wide = against(wide.merge(other.rename(columns={"value": name}), on=keys, how="left"),
                       name)
    return {"comparisons": wide}


def publish(cmp: Comparison, min_cell: int) -> Publication:
    """Protect the comparator rows of `cmp` (frame 'areas', with each area's name) and derive
    'comparisons'; the context says whose figures they are and where they came from."""
    areas = None if cmp.rows is None else cmp.rows.assign(name=[
        area_name(t, c) for t, c in zip(cmp.rows["area_type"], cmp.rows["area_code"],
                                          strict=True)], value=np.nan, lower=np.nan, upper=np.nan)
    context: Mapping[str, object] = {
        "la_code": cmp.la_code, "place": area_name(COUNCIL, cmp.la_code),
        "region": area_name(REGION, cmp.region) if cmp.region else None,
        "source": cmp.source, "reason": cmp.reason, "min_cell": min_cell}
    return publication.publish(NOTEBOOK, {"areas": areas}, context, specs={"areas": SPEC},
                               derive=compared)
