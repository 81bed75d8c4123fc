"""Notebook 01's displays of offers, what Direct Payments are like once started, areas and the
trend (one call per cell), read from the protected `Publication` only; shared pieces in
display.py."""

from __future__ import annotations

import pandas as pd

from evalkit.analyses.uptake.compute_snapshot import NOT_STATED
from evalkit.analyses.uptake.display import (
    gap_title,
    period,
    place,
    share_chart,
    uptake_table,
    when,
)
from evalkit.data.areas import area_label
from evalkit.report import charts, style, wording
from evalkit.report.findings import fmt_percent, fmt_share
from evalkit.report.publication import Publication

MAX_FUNNEL_LABELS = 10
#: A group gets its own line (trend) or curve (continuation) with at least this many people per
#: cell of disclosure control, and never fewer than MIN_LINE_PEOPLE.
LINE_CELLS, MIN_LINE_PEOPLE = 10, 20


def _line_min(min_cell: int) -> int:
    """Fewest people (or DPs started) a group needs for its own line on a chart."""
    return max(LINE_CELLS * min_cell, MIN_LINE_PEOPLE)


# ---------------------------------------------------------------- offer and take-up
def show_offers(pub: Publication) -> None:
    """Offer rate and acceptance rate by group (where dp_offered is recorded)."""
    offers = pub["offers/group"]
    if offers is None:
        style.say("The data have no dp_offered field, so offer and acceptance rates cannot be "
                  "shown.")
        return
    g, ref = pub.context["group_col"], pub.context["reference"]
    share_chart(pub, offers[offers["measure"] == "offered"], g,
                lambda d: gap_title(d, g, ref, "The Direct Payment offer rate"),
                "Share offered a Direct Payment at the last assessment or review",
                xlabel="% offered a Direct Payment")
    share_chart(pub, offers[offers["measure"] == "accepted"], g,
                lambda d: gap_title(d, g, ref, "Acceptance of an offer"),
                "Share of those offered who took a Direct Payment",
                xlabel="% of those offered with a Direct Payment")


# ---------------------------------------------------------------- what DPs are like
def _ratio_chart(pub: Publication, d: pd.DataFrame | None, what: str, subtitle: str,
                 worse: str) -> None:
    """Dot chart of geometric-mean ratios to the reference group (1 = the same)."""
    g, ref = pub.context["group_col"], pub.context["reference"]
    if d is None:
        style.say(f"The data cannot compare {what} between groups here (too few values or no "
                  f"{ref} people).")
        return
    d = d[d["value"].notna() & (d[g] != NOT_STATED)]
    if d.empty:
        style.say(f"Too few people per group to compare {what}.")
        return
    side = d[d["lower"] > 1] if worse == "longer" else d[d["upper"] < 1]
    names = side[g].astype(str).tolist()
    title = (f"{wording.names(names[:3])} people have a {worse} {what} than {ref} people at the "
             "same need" if names else f"No group clearly has a {worse} {what} than {ref} people "
             "at the same need")
    charts.ratio_dots(d, g, what=f"ratio of {what} to {ref} people", title=title,
                      subtitle=subtitle,
                      xlabel=f"Ratio to {ref} people (log scale; 1 = the same)")


def show_setup(pub: Publication) -> None:
    """Median days from DP request to first payment by group (Kaplan-Meier), and the ratio of
    typical set-up time to the reference group at the same need."""
    setup = pub["setup/median"]
    if setup is None:
        style.say("The data have no DP request and first-payment dates in this period, so set-up "
                  "time cannot be shown.")
        return
    d = setup[setup["value"].notna()]
    d = d[d["group"] != NOT_STATED]
    if d.empty:
        style.say("Too few Direct Payment requests to show set-up time.")
        return
    top = d.sort_values("value").iloc[-1]
    title = (f"{top['group']} people waited longest for their first payment: a median of "
             f"{top['value']:.0f} days")
    charts.ci_dots(
        d.assign(lower=d["lower"].fillna(d["value"]), upper=d["upper"].fillna(d["value"])),
        "group", title=title,
        subtitle=f"Median days from asking for a Direct Payment to the first payment "
                 f"(Kaplan-Meier), requests made {period(pub)}, {place(pub)}; 95% CIs.",
        xlabel="Days from request to first payment", pct=False,
        alt=charts.headline(title, "Dot chart of median days from request to first payment: "
                            + "; ".join(f"{r['group']} {r['value']:.0f} days"
                                        for _, r in d.iterrows()) + "."))
    _ratio_chart(pub, pub["setup/ratio"], "set-up time",
                 f"Ratio of typical (geometric mean) days from request to first payment to "
                 f"{pub.context['reference']} people, same age band, gender and support reason, "
                 f"Direct Payments first paid {period(pub)}, {place(pub)}; 95% CIs.", "longer")


def show_continuation(pub: Publication) -> None:
    """Share of DPs still running 0 to 12 months after starting, by group (among the DPs that
    could be followed that long), from protected counts."""
    c = pub["continuation"]
    if c is None:
        style.say("No Direct Payments started in this period, so continuation cannot be shown.")
        return
    sizes = c[c["months"] == 0].set_index("group")["followed"]
    keep = sizes[(sizes >= _line_min(pub.context["min_cell"]))
                 & (sizes.index != NOT_STATED)].index[:len(style.PALETTE)]
    c = c[c["group"].isin(keep) & c["value"].notna()]
    if c.empty:
        style.say("Too few Direct Payments started in each group to show continuation.")
        return
    still = pd.DataFrame({"group": c["group"], "months": c["months"],
                          "value": 100 - c["value"] * 100, "lower": 100 - c["upper"] * 100,
                          "upper": 100 - c["lower"] * 100})
    e12 = c[c["months"] == 12].sort_values("value")
    title = ("Share of Direct Payments ended within a year: " + ", ".join(
        f"{fmt_share(r['value'])} ({r['group']})" for _, r in e12.iterrows()) if len(e12)
        else "Direct Payments still running, by ethnic group")
    fig = style.km_chart(still, time="months", group="group", title=title,
                         subtitle=f"Share still running among Direct Payments started "
                                  f"{period(pub)} that could be followed that long, "
                                  f"{place(pub)}; ending includes moving to council-managed "
                                  "support; shaded: 95% CI.",
                         xlabel="Months since the Direct Payment started",
                         ylabel="% still receiving the Direct Payment")
    style.show(fig, charts.headline(
        title, "Step chart of the share of Direct Payments still running by months since start, "
               "by ethnic group. Share ended within 12 months: " + "; ".join(
                   f"{r['group']} {fmt_percent(r['value'], r['lower'], r['upper'])}"
                   for _, r in e12.iterrows()) + "."))


def show_ended(pub: Publication) -> None:
    """Table: share of DPs ended within 3, 6 and 12 months by group, with CIs."""
    c = pub["continuation"]
    if c is None:
        style.say("No Direct Payments started in this period.")
        return
    t = c[c["months"].isin([3, 6, 12])]
    t = t[["group", "months", "followed", "ended", "running", "value", "lower", "upper"]]
    uptake_table(pub, t.rename(columns={"value": "ended_share"}),
                 ["followed", "ended", "running"],
                 percent_cols=["ended_share", "lower", "upper"],
                 caption="Share of Direct Payments ended within 3, 6 and 12 months of starting, "
                         "among those started at least that long before the snapshot date")


def show_mix(pub: Publication, column: str) -> None:
    """Who manages the DP (dp_managed_by) or what it buys (dp_used_for), by group."""
    t = pub[f"mix/{column}"]
    what = "who manages it" if column == "dp_managed_by" else "what it pays for"
    if t is None:
        style.say(f"The data have no {column} field, so {what} cannot be shown.")
        return
    t = t.rename(columns={pub.context["group_col"]: "group"})
    uptake_table(pub, t, [c for c in t.columns if c != "group"],
                 caption=f"People with a Direct Payment by ethnic group and {what}")


def show_plan_size(pub: Publication, column: str) -> None:
    """Ratio of typical weekly budget or planned hours to the reference group at the same need."""
    what = "weekly budget" if column == "weekly_budget" else "number of planned hours"
    if column not in pub.context["fields"]:
        style.say(f"The data have no {column} field, so the size of support plans cannot be "
                  "compared.")
        return
    _ratio_chart(pub, pub[f"plan_size/{column}"], what,
                 f"Ratio of geometric mean {what} to {pub.context['reference']} people, same age "
                 f"band, gender and support reason, {place(pub)}, {when(pub)}; 95% CIs.",
                 "smaller")


def show_carer(pub: Publication) -> None:
    """Share with an unpaid carer recorded, by group and DP status."""
    carer, g = pub["carer/group"], pub.context["group_col"]
    if carer is None:
        style.say("The data have no has_unpaid_carer field, so whether people have an unpaid carer "
                  "cannot be shown.")
        return
    d = carer[carer[g] != NOT_STATED]
    d = d.assign(label=d[g] + ": " + d["dp_status"])

    def title(shown: pd.DataFrame) -> str:
        lo, hi = shown.sort_values("value").iloc[[0, -1]].itertuples()
        return (f"An unpaid carer is recorded for {fmt_share(lo.value)} ({lo.label}) to "
                f"{fmt_share(hi.value)} ({hi.label}) of people")
    share_chart(pub, d, "label", title, "Share with an unpaid carer recorded, by ethnic group "
                "and Direct Payment status", xlabel="% with an unpaid carer recorded",
                ylabel="Ethnic group and Direct Payment status")


# ---------------------------------------------------------------- areas
def _funnel_limits(limits: pd.DataFrame) -> pd.DataFrame:
    """stats.funnel_limits' long rows as the wide percent columns style.funnel_chart reads."""
    wide = limits.pivot_table(index="population", columns="conf", values=["lower", "upper"])
    lo, hi = min(limits["conf"]), max(limits["conf"])
    return pd.DataFrame({"population": wide.index,
                         "lower_2s_limit": wide[("lower", lo)].to_numpy() * 100,
                         "upper_2s_limit": wide[("upper", lo)].to_numpy() * 100,
                         "lower_3s_limit": wide[("lower", hi)].to_numpy() * 100,
                         "upper_3s_limit": wide[("upper", hi)].to_numpy() * 100,
                         "baseline": limits["baseline"].iloc[0] * 100})


def named(pub: Publication, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each area shown as 'Name (code)' when the data have an areas lookup."""
    names = pub.context.get("area_names", {})
    return frame.assign(area=[area_label(a, names) for a in frame["area"]])


def show_funnel(pub: Publication) -> None:
    """Funnel plot of DP share by area with 95% and 99.8% limits."""
    units, d, limits = pub["areas/units"], pub["areas/funnel"], pub["areas/limits"]
    if units is None or d is None or limits is None:
        style.say("The data have no area_code (and one council), so areas cannot be compared.")
        return
    hidden = len(units) - len(d)
    d = named(pub, d)
    kind = "councils" if pub.context["la_code"] == "all" else "areas"
    hi = int(d["position"].str.startswith("higher").sum())
    lo = int(d["position"].str.startswith("lower").sum())
    n998 = int(d["position"].str.contains("99.8").sum())
    overall = fmt_share(limits["baseline"].iloc[0])
    parts = [f"{k} {'has' if k == 1 else 'have'} a {side} share" for k, side in
             ((lo, "lower"), (hi, "higher")) if k]
    title = (f"Of {len(d)} {kind}, {' and '.join(parts)} of Direct Payments than the overall "
             f"{overall}, more than chance would explain" if parts
             else f"No {kind[:-1]} differs from the overall Direct Payment share by more than "
             "chance would explain")
    fig = style.funnel_chart(
        d.assign(value=d["value"] * 100), _funnel_limits(limits), x="people", y="value",
        label="area", max_labels=MAX_FUNNEL_LABELS, unit_name=kind, title=title,
        subtitle=f"Share of adults on community long-term support with a Direct Payment, by "
                 f"{kind[:-1]}, {place(pub)}, {when(pub)}; dashed 95% and dotted 99.8% limits"
                 + (f"; {hidden} small {kind} not shown" if hidden else "")
                 + (f"; the table below lists the {lo + hi} outside the 95% limits" if lo + hi
                    else "") + ".",
        xlabel=f"Adults on community long-term support in the {kind[:-1]}",
        ylabel="% with a Direct Payment")
    style.show(fig, charts.headline(
        title, f"Funnel plot: Direct Payment share for {len(d)} {kind} against their size, with "
               f"95% and 99.8% limits around the overall share of {overall}; {lo + hi} of them "
               f"outside the 95% limits and {n998} outside the 99.8% limits."))


def show_areas_outside(pub: Publication) -> None:
    """Table of areas outside the funnel limits."""
    units = pub["areas/funnel"]
    if units is None:
        style.say("No area comparison is possible.")
        return
    u = units[units["position"] != "within"]
    if u.empty:
        style.say("No area lies outside the 95% limits.")
        return
    u = named(pub, u[["area", "people", "dp", "no_dp", "value", "position"]])
    uptake_table(pub, u.rename(columns={"value": "share"}), ["people", "dp", "no_dp"],
                 percent_cols=["share"],
                 caption="Areas whose Direct Payment share lies outside the funnel limits")


# ---------------------------------------------------------------- trend
def trend_title(t: pd.DataFrame, group_col: str, what: str) -> str:
    """A title saying what the lines show: which groups clearly rose or fell from the first
    quarter to the last (their 95% intervals do not overlap), and whether every group moved the
    same way in the last quarter."""
    wide = {c: t.pivot_table(index=group_col, columns="quarter", values=c)
            for c in ("value", "lower", "upper")}
    quarters = list(wide["value"].columns)
    if len(quarters) < 2:
        return f"{what} by quarter"
    first, prev, last = quarters[0], quarters[-2], quarters[-1]
    rose = wide["lower"][last] > wide["upper"][first]
    fell = wide["upper"][last] < wide["lower"][first]
    moves = [f"{verb} for {wording.names(list(map(str, who[who].index)))} people"
             for verb, who in (("rose", rose), ("fell", fell)) if who.any()]
    since = f"from {first:%b %Y} to {last:%b %Y}"
    title = (f"{what} {' and '.join(moves)} {since}" if moves
             else f"{what}: no group clearly rose or fell {since}")
    step = (wide["value"][last] - wide["value"][prev]).dropna()
    if len(step) > 1 and ((step < 0).all() or (step > 0).all()):
        title += f"; every group {'fell' if (step < 0).all() else 'rose'} in the last quarter"
    return title


def show_trend(pub: Publication, measure: str = "uptake") -> None:
    """Quarterly DP share ('uptake') or new DP starts per 1,000 ('new_starts') by group."""
    t, g, k = pub["trend"], pub.context["group_col"], pub.context["min_cell"]
    if t.empty or measure not in set(t.get("measure", [])):
        style.say("There is no data for the trend period.")
        return
    t = t[(t["measure"] == measure) & (t[g] != NOT_STATED)]
    size = t.groupby(g)["people"].min()
    t = t[t[g].isin(size[size >= _line_min(k)].index[:len(style.PALETTE)])]
    if t.empty:
        style.say("Too few people per group for a quarterly trend.")
        return
    small = t["value"].isna()  # left blank by protection
    scale = 100 if measure == "uptake" else 1
    t = t.assign(**{c: t[c] * scale for c in ("value", "lower", "upper")})
    first, last = t["quarter"].min(), t["quarter"].max()
    change = t[t["quarter"].isin([first, last])].pivot_table(index=g, columns="quarter",
                                                             values="value")
    what = "Direct Payment uptake" if measure == "uptake" else "New Direct Payment starts"
    quarters = wording.span(first, last, short=True)
    title = trend_title(t, g, what)
    fig = style.line_chart(
        t, "quarter", "value", lower="lower", upper="upper", group=g, title=title,
        subtitle=(("Share of adults on community long-term support with a Direct Payment, %"
                   if measure == "uptake" else "New Direct Payments per 1,000 adults on "
                   "community long-term support")
                  + f", {place(pub)}, quarters ending {quarters}; shaded: 95% CI"
                  + ("; points with a confidential count or too few people not shown."
                     if small.any() else ".")),
        xlabel="Quarter ending",
        ylabel="% with a Direct Payment" if measure == "uptake" else "Starts per 1,000")
    unit = "%" if measure == "uptake" else " per 1,000"
    ends = change.reindex(columns=[first, last]).dropna()  # a quarter wholly hidden has no column
    style.show(fig, charts.headline(
        title, f"Line chart of {what} by ethnic group, quarters ending {quarters}"
               + (": " + "; ".join(f"{grp} from {v[first]:.1f}{unit} to {v[last]:.1f}{unit}"
                                   for grp, v in ends.iterrows()) if len(ends) else "") + "."))
