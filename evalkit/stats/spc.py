"""Statistical process control: XmR, p' (Laney) and t charts with NHS Making Data Count rules.

Limits and rules behave as the R package NHSRplotthedots 0.2.2 (`ptd_spc_standard`,
`ptd_calculate_point_type`): centre = mean of the baseline points, limits = mean +/- 2.66 mR-bar,
2-sigma lines at two thirds of that, optional screening of moving ranges >= 3.267 mR-bar (Nelson
1982), baseline fixed after n points, limits recalculated after each rebase. Rules, by precedence
on a point: outside the limits; a trend of `trend_length` points each strictly higher (or lower)
than the one before; 2 of 3 consecutive points beyond the same 2-sigma line (all three on that
side of the mean; only those beyond are flagged); a shift of `shift_length` points on one side of
the mean. Both lengths default to 7 as in NHSRplotthedots (the MDC Excel tool allows 6).
point_type follows the direction of the special cause (above the mean or increasing = high)
against `improvement_direction`: improvement, concern, or neutral_high / neutral_low.

Rare events (a few a month) put most monthly counts at 0 or 1, where those rules flag chance; NHS
Making Data Count suggests a chart of the time between events instead: `t_chart` (Nelson 1994,
as Montgomery's Introduction to Statistical Quality Control, Example 7.6, and qicharts2's 't').
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

LIMIT = 2.66  # 3 / d2 with d2 = 1.128, rounded as the MDC tool and NHSRplotthedots use
SCREEN = 3.267  # D4 for n = 2: moving ranges at or above 3.267 mR-bar are screened out
D2 = 1.128
DIRECTIONS = {"increase": 1, "decrease": -1, "neutral": 0}
RESERVED = ("i", "y", "p", "rebase_group", "mean", "lpl", "upl")
WEIBULL = 3.6  # t charts: times between events to the power 1/3.6 are nearly symmetric (Nelson)
SAME_DAY = 0.5  # days between two events on the same day (a zero has no power transform)


def xmr(df: pd.DataFrame, y: str, *, x: str | None = None, rebase: Iterable | None = None,
        fix_after_n_points: int | None = None, screen_outliers: bool = True,
        improvement_direction: str = "increase", trend_length: int = 7,
        shift_length: int = 7) -> pd.DataFrame:
    """XmR chart of `y` in the order of `x` (or row order), one row per point.

    `rebase`: the `x` values (1-based positions when `x` is None) at which new limits start.
    `fix_after_n_points` (>= 12): limits from the first n points of each rebase group only.
    Returns i, x, y, rebase_group, mean, lpl, upl, near_lpl, near_upl, outside_limits,
    close_to_limits, relative_to_mean, special_cause_type, point_type and the settings used.
    """
    data = _prepare(df, [y], x, "xmr")
    _check_options(fix_after_n_points, improvement_direction, trend_length, shift_length, "xmr")
    points = _points(data, y, x, rebase, "xmr")
    parts = []
    for _, part in points.groupby("rebase_group", sort=True):
        base = part["y"].to_numpy()[: fix_after_n_points or len(part)]
        centre = base.mean()
        amr = _mean_moving_range(base, screen_outliers)
        parts.append(part.assign(mean=centre, lpl=centre - LIMIT * amr, upl=centre + LIMIT * amr,
                                 near_lpl=centre - 2 / 3 * LIMIT * amr,
                                 near_upl=centre + 2 / 3 * LIMIT * amr))
    return _finish(pd.concat(parts), improvement_direction, trend_length, shift_length,
                   screen_outliers, fix_after_n_points)


def p_prime(df: pd.DataFrame, numerator: str, denominator: str, *, x: str | None = None,
            rebase: Iterable | None = None, fix_after_n_points: int | None = None,
            screen_outliers: bool = False, improvement_direction: str = "increase",
            trend_length: int = 7, shift_length: int = 7) -> pd.DataFrame:
    """Laney p' chart of numerator/denominator, one row per point, same columns as `xmr`.

    p-bar = sum(numerator) / sum(denominator) over the baseline; z_i = (p_i - p-bar) / s_i with
    s_i = sqrt(p-bar (1 - p-bar) / n_i); sigma_z = mR-bar(z) / 1.128; limits
    p-bar +/- 3 s_i sigma_z, capped to [0, 1]; 2-sigma lines at p-bar +/- 2 s_i sigma_z.
    Screening is off by default, as in Laney (2002), Quality Engineering 14:531-7.
    """
    data = _prepare(df, [numerator, denominator], x, "p_prime")
    _check_options(fix_after_n_points, improvement_direction, trend_length, shift_length,
                   "p_prime")
    bad = (data[denominator] <= 0) | (data[numerator] < 0) | (data[numerator] > data[denominator])
    if bad.any():
        raise ValueError(f"p_prime: need 0 <= {numerator} <= {denominator} and {denominator} > 0;"
                         f" {int(bad.sum())} row(s) break this, e.g. "
                         f"{data.loc[bad, [numerator, denominator]].head(3).to_dict('records')}")
    data = data.assign(_p=data[numerator] / data[denominator])
    points = _points(data, "_p", x, rebase, "p_prime").assign(
        n=data[denominator].to_numpy(dtype=float), count=data[numerator].to_numpy(dtype=float))
    parts = []
    for _, part in points.groupby("rebase_group", sort=True):
        k = fix_after_n_points or len(part)
        pbar = part["count"].iloc[:k].sum() / part["n"].iloc[:k].sum()
        s = np.sqrt(pbar * (1 - pbar) / part["n"])
        z = (part["y"] - pbar) / s
        sigma_z = _mean_moving_range(z.to_numpy()[:k], screen_outliers) / D2
        parts.append(part.assign(mean=pbar, lpl=np.clip(pbar - 3 * s * sigma_z, 0, 1),
                                 upl=np.clip(pbar + 3 * s * sigma_z, 0, 1),
                                 near_lpl=pbar - 2 * s * sigma_z, near_upl=pbar + 2 * s * sigma_z))
    out = _finish(pd.concat(parts), improvement_direction, trend_length, shift_length,
                  screen_outliers, fix_after_n_points)
    return out.rename(columns={"y": "p", "count": numerator, "n": denominator})


def t_chart(df: pd.DataFrame, y: str, *, x: str | None = None, rebase: Iterable | None = None,
            fix_after_n_points: int | None = None, screen_outliers: bool = True,
            improvement_direction: str = "decrease", trend_length: int = 7,
            shift_length: int = 7) -> pd.DataFrame:
    """t chart of the times between rare events `y` (all > 0), one row per event, same columns
    as `xmr`.

    Times between events of a steady process are exponential, far from symmetric; y^(1/3.6) is
    nearly symmetric (Nelson 1994, J Qual Technol 26:239-40), so the XmR chart and its rules are
    worked out on y^(1/3.6) and the points, centre and limits are raised back to the power 3.6
    (a negative lower limit becomes 0). A long time between events means fewer events, so the
    default improvement direction is `decrease` (events are wanted: pass `increase` when they
    are not).
    """
    data = _prepare(df, [y], x, "t_chart")
    short = data[y] <= 0
    if short.any():
        raise ValueError(f"t_chart: times between events must be above 0; {int(short.sum())} "
                         f"row(s) of {y!r} are not (give same-day events {SAME_DAY} days, as "
                         "`between_events` does)")
    points = xmr(data.assign(**{y: data[y] ** (1 / WEIBULL)}), y, x=x, rebase=rebase,
                 fix_after_n_points=fix_after_n_points, screen_outliers=screen_outliers,
                 improvement_direction=improvement_direction, trend_length=trend_length,
                 shift_length=shift_length)
    scaled = ("y", "mean", "lpl", "upl", "near_lpl", "near_upl")
    return points.assign(**{c: points[c].clip(lower=0) ** WEIBULL for c in scaled})


def between_events(dates: pd.Series) -> pd.DataFrame:
    """Days from each event to the one before it (the first event has none): columns date and
    days, in date order; two events on the same day are SAME_DAY days apart."""
    when = pd.to_datetime(pd.Series(dates)).dropna().sort_values(kind="stable")
    days = when.diff().dt.days.to_numpy(dtype=float)[1:]
    return pd.DataFrame({"date": when.to_numpy()[1:],
                         "days": np.where(days > 0, days, SAME_DAY)})


def summary(points: pd.DataFrame) -> pd.DataFrame:
    """One row per rebase group: n, mean, limits, flagged positions and the rules that fired."""
    def one(part: pd.DataFrame) -> pd.Series:
        flagged = part[part["point_type"] != "common_cause"]
        return pd.Series({"n": len(part), "mean": part["mean"].iloc[0],
                          "lpl": part["lpl"].iloc[0], "upl": part["upl"].iloc[0],
                          "flagged_points": ";".join(str(i) for i in flagged["i"]),
                          "rules": ";".join(pd.unique(flagged["special_cause_type"]))})
    return pd.DataFrame([one(part).rename(group) for group, part in
                         points.groupby("rebase_group")]).rename_axis("rebase_group").reset_index()


# --- helpers -------------------------------------------------------------------------------


def _prepare(df: pd.DataFrame, cols: list[str], x: str | None, where: str) -> pd.DataFrame:
    need = [*cols, *([x] if x else [])]
    if x in RESERVED:
        raise ValueError(f"{where}: x must not be one of the output columns {RESERVED}; found "
                         f"{x!r} (rename it, or leave x out when rows are already in order)")
    missing = [c for c in need if c not in df]
    if missing:
        raise ValueError(f"{where}: column(s) {missing} not found; columns are {list(df.columns)}")
    gaps = df[need].isna().any(axis=1)
    if gaps.any():
        raise ValueError(f"{where}: {int(gaps.sum())} row(s) have a missing value in {need}; an "
                         "SPC chart needs a complete series")
    return df.sort_values(x, kind="stable") if x else df


def _check_options(fix_after_n_points: int | None, direction: str, trend_length: int,
                   shift_length: int, where: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"{where}: improvement_direction must be one of {list(DIRECTIONS)}, "
                         f"not {direction!r}")
    if fix_after_n_points is not None and fix_after_n_points < 12:
        raise ValueError(f"{where}: fix_after_n_points must be at least 12 (as in "
                         f"NHSRplotthedots), not {fix_after_n_points}")
    for name, value in (("trend_length", trend_length), ("shift_length", shift_length)):
        if value < 2:
            raise ValueError(f"{where}: {name} must be at least 2, not {value}")


def _points(data: pd.DataFrame, y: str, x: str | None, rebase: Iterable | None,
            where: str) -> pd.DataFrame:
    """Position, x, y and rebase group (0, 1, ...) of each point."""
    position = np.arange(1, len(data) + 1)
    key = data[x].to_numpy() if x else position
    starts = list(rebase or [])
    unknown = [r for r in starts if r not in set(key.tolist())]
    if unknown:
        raise ValueError(f"{where}: rebase value(s) {unknown} are not in "
                         f"{x or 'the positions 1..n'}")
    group = np.cumsum(np.isin(key, starts))
    sizes = np.bincount(group)
    if (sizes < 2).any():
        raise ValueError(f"{where}: every rebase group needs at least 2 points for a moving "
                         f"range; group sizes are {sizes.tolist()}")
    out = pd.DataFrame({"i": position, "y": data[y].to_numpy(dtype=float), "rebase_group": group})
    if x:
        out.insert(1, x, key)
    return out


def _mean_moving_range(values: np.ndarray, screen: bool) -> float:
    """Mean |y_t - y_(t-1)|; with screening, ranges >= 3.267 x that mean are dropped once."""
    mr = np.abs(np.diff(values))
    amr = mr.mean()
    return mr[mr < SCREEN * amr].mean() if screen else amr


def _runs(flags: np.ndarray, length: int) -> np.ndarray:
    """True for every point inside some window of `length` consecutive True flags."""
    out = np.zeros(len(flags), bool)
    for start in range(len(flags) - length + 1):
        if flags[start:start + length].all():
            out[start:start + length] = True
    return out


def _trend(moves: np.ndarray, length: int) -> np.ndarray:
    """Points inside a run of `length` points joined by `length` - 1 moves the same way."""
    out = np.zeros(len(moves) + 1, bool)
    for start in range(len(moves) - length + 2):
        if moves[start:start + length - 1].all():
            out[start:start + length] = True
    return out


def _group_rules(part: pd.DataFrame, trend_length: int, shift_length: int) -> pd.DataFrame:
    """Flags for each rule within one rebase group."""
    y = part["y"].to_numpy()
    rtm = part["relative_to_mean"].to_numpy()
    close = part["close_to_limits"].to_numpy()
    step = np.diff(y)
    two_in_three = np.zeros(len(y), bool)
    for start in range(len(y) - 2):
        window = slice(start, start + 3)
        if close[window].sum() >= 2 and abs(rtm[window].sum()) == 3:
            two_in_three[window] |= close[window]
    trend = _trend(step > 0, trend_length) | _trend(step < 0, trend_length)
    # a point in a trend takes the direction of the step to its right when the next point is
    # also in a trend, otherwise of the step from its left (as NHSRplotthedots labels it)
    right = np.r_[trend[1:], False] & trend
    rising = np.where(right, np.r_[step, 0] > 0, np.r_[0, step] > 0)
    return part.assign(_trend=trend, _rising=rising, _two_in_three=two_in_three,
                       _shift=_runs(rtm > 0, shift_length) | _runs(rtm < 0, shift_length))


def _finish(points: pd.DataFrame, direction: str, trend_length: int, shift_length: int,
            screen_outliers: bool, fix_after_n_points: int | None) -> pd.DataFrame:
    """Add the limit tests, the rules with their precedence and the point type."""
    y = points["y"]
    outside = (y > points["upl"]) | (y < points["lpl"])
    points = points.assign(
        outside_limits=outside,
        close_to_limits=~outside & ((y < points["near_lpl"]) | (y > points["near_upl"])),
        relative_to_mean=np.sign(y - points["mean"]).astype(int))
    points = pd.concat([_group_rules(part, trend_length, shift_length)
                        for _, part in points.groupby("rebase_group", sort=True)])
    side = np.where(points["relative_to_mean"] > 0, "Above", "Below")
    conditions = [points["outside_limits"], points["_trend"], points["_two_in_three"],
                  points["_shift"]]
    labels = [np.where(y > points["upl"], "Above UCL", "Below LCL"),
              np.where(points["_rising"], f"{trend_length} Point Trend (Increasing)",
                       f"{trend_length} Point Trend (Decreasing)"),
              np.char.add(np.char.add("2 in 3 ", side), " CL"),
              np.char.add(np.char.add(f"{shift_length} Points ", side), " CL")]
    special = pd.Series(np.select(conditions, labels, default="Common Cause"), index=points.index)
    # the direction of the special cause (above / increasing = +1) against the improvement one
    towards = np.select([special.str.contains("Above|Increasing"),
                         special.str.contains("Below|Decreasing")], [1, -1], default=0)
    sign = DIRECTIONS[direction]
    if sign == 0:
        kind = np.select([towards > 0, towards < 0],
                         ["special_cause_neutral_high", "special_cause_neutral_low"],
                         default="common_cause")
    else:
        kind = np.select([towards * sign > 0, towards * sign < 0],
                         ["special_cause_improvement", "special_cause_concern"],
                         default="common_cause")
    return (points.drop(columns=["_trend", "_rising", "_two_in_three", "_shift"])
            .assign(special_cause_type=special, point_type=kind,
                    improvement_direction=direction, screen_outliers=screen_outliers,
                    fix_after_n_points=fix_after_n_points, trend_length=trend_length,
                    shift_length=shift_length)
            .reset_index(drop=True))
