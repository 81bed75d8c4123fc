"""Notebook 03's show_* functions: one chart or table per call, read from its Publication only,
with titles and alt text written from the published numbers, which the publication step has
protected (counts rounded or suppressed, shares from the rounded counts, model estimates kept
under the ACRO rule). Charts do not draw a month whose count or share is not published; tables
show a suppressed count as [c] with the publication's disclosure note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from evalkit.analyses.outcomes.compute_experience import MEASURES
from evalkit.analyses.outcomes.compute_series import MIN_EVENTS, OUTCOMES
from evalkit.analyses.outcomes.display_series import headline, held_back, period_words
from evalkit.analyses.outcomes.findings import (
    change,
    controlled_sentence,
    disagreement,
    group_words,
    key_findings,
    names,
    quote,
    selected,
    survey_sentence,
    term,
    who,
)
from evalkit.report import findings, style, tables, wording
from evalkit.report.publication import Publication


def _table(pub: Publication, df: pd.DataFrame, count_cols: list[str], **options: Any) -> None:
    """`tables.table` for protected figures: suppressed counts as [c], the disclosure note."""
    tables.table(df, count_cols, min_cell=pub.context["min_cell"],
                 footnote=pub.context["disclosure_note"], **options)


# ---------------------------------------------------------------- one call per cell
def show_each(pub: Publication, show: Callable[[Publication, str], None]) -> None:
    """One sub-section per evaluated change: a heading, then `show(pub, change_id)`; the number
    of changes varies, so the notebook makes this one call per section."""
    chosen = selected(pub)
    if chosen.empty:
        style.say("No implemented change was selected, so there is nothing to show here.")
        return
    for _, c in chosen.iterrows():
        style.say(f"### {c['name']} ({wording.month(c['date'])}, for {who(c)})")
        show(pub, c["change_id"])


def show_key_findings(pub: Publication) -> None:
    """Key findings as a bullet list (`record` writes them to key_findings.md)."""
    findings.key_findings(key_findings(pub))


def show_quality(pub: Publication) -> None:
    """Rows read from the files notebook 03 uses, kept and excluded by reason, and any notes."""
    tables.quality_table(pub["quality"], min_cell=pub.context["min_cell"],
                         notes=pub.context["warnings"], footnote=pub.context["disclosure_note"])


def _series_table(pub: Publication, chosen: pd.DataFrame) -> pd.DataFrame:
    """Per change: target, first whole month, months and events before/after, other changes."""
    others = chosen["co_changes"].map(lambda ids: names(pub, ids))
    return pd.DataFrame({
        "change": chosen["name"],
        "target": [who(c) for _, c in chosen.iterrows()],
        "first month": chosen["first_month"].dt.strftime("%b %Y"),
        "months before": chosen["months_before"].astype(int),
        "months after": chosen["months_after"].astype(int),
        "events before": chosen["events_before"],
        "events after": chosen["events_after"],
        "other changes in the model": others.where(others != "", "none"),
        "status": chosen["shortfall"].where(~chosen["evaluated"], "evaluated")})


def show_series(pub: Publication) -> None:
    """The series built for each change: months and events either side (counts suppressed)."""
    words = OUTCOMES[pub.context["outcome"]][0]
    style.say(f"Outcome: **{words}**, {pub.context['place']}, {period_words(pub)}. "
              "The series starts when the extract first holds episodes that ended as well as "
              "ongoing ones.")
    chosen = selected(pub)
    if chosen.empty:
        style.say("No implemented change was selected, so no series was built.")
        return
    _table(pub, _series_table(pub, chosen), ["events before", "events after"],
           caption="Series built for each change", plain_cols=["months before", "months after"])


def show_timeline(pub: Publication) -> None:
    """What changed when: each logged change as a point on the time line of the series."""
    log = pub["changes"]
    if log.empty:
        style.say("The data have no practice-change log, so there is nothing to evaluate.")
        return
    start, end = pub.context["start"], pub.context["end"]
    fig, ax = style.figure(8.0, 1.4 + 0.45 * len(log))
    y = np.arange(len(log))[::-1]
    ax.axvspan(start, end + pd.offsets.MonthEnd(0), color=style.GREY, alpha=0.3, linewidth=0)
    for yi, (_, c) in zip(y, log.iterrows(), strict=True):
        done = bool(c["implemented"])
        ax.plot(c["date"], yi, "o", color=style.DARK_BLUE if done else "white",
                markeredgecolor=style.DARK_BLUE, markersize=9)
        ax.annotate(f"{c['name']} ({'planned' if not done else who(c)})",
                    (c["date"], yi), xytext=(8, 0), textcoords="offset points", va="center",
                    fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.8, len(log) - 0.2)
    n_impl = int(log["implemented"].sum())
    title = (f"{len(log)} practice changes logged between {wording.month(log['date'].min())} "
             f"and {wording.month(log['date'].max())}; {n_impl} implemented, "
             f"{len(log) - n_impl} planned")
    style.finish(fig, ax, title=title, subtitle=f"What changed when; the grey band is the data "
                 f"({period_words(pub)}); hollow markers are planned changes", xlabel="", ylabel="")
    headline(fig, title, "Timeline of the practice-change log: " + "; ".join(
        f"{c['name']}, {wording.month(c['date'])}, {c['status']}, for {who(c)}"
        for _, c in log.iterrows()) + f". Data cover {period_words(pub)}.")


def show_planned(pub: Publication) -> None:
    """Planned (not implemented) changes: listed, not evaluated."""
    log = pub["changes"]
    planned = log[~log["implemented"].astype(bool)]
    if planned.empty:
        style.say("No planned changes are logged: every logged change has been implemented.")
        return
    table = pd.DataFrame({"change": planned["name"],
                          "planned date": planned["date"].dt.strftime("%b %Y"),
                          "for": [who(c) for _, c in planned.iterrows()]})
    style.table(table, caption="Planned changes (listed, not evaluated)")


# ---------------------------------------------------------------- controlled comparison
def show_controlled(pub: Publication, change_id: str) -> None:
    """Target vs comparison (indexed to the pre-change mean), controlled ITS and the pre-change
    trend difference, then which estimate to quote."""
    c = change(pub, change_id)
    est = pub[f"controlled_its/{change_id}"]
    if est is None:
        style.say(f"No controlled comparison for **{c['name']}**: "
                  f"{c['controlled_reason'] or 'the change could not be evaluated'}.")
    else:
        _controlled_chart(pub, c, est)
    _offers(pub, c)
    _, why = quote(pub, change_id)
    style.say(f"**Estimate to quote for {c['name']}:** {why}. {disagreement(pub, change_id)}")


def _controlled_chart(pub: Publication, c: pd.Series, est: pd.DataFrame) -> None:
    """Both series as % of their pre-change means, then the pre-change trend difference."""
    cid, comparison = c["change_id"], c["comparison"]
    s = pub[f"controlled/{cid}"]
    lvl, tr = term(est, "treated:level_change"), term(est, "treated:trend")
    if held_back(lvl, c):
        return
    chart = s.assign(arm=s["arm"].map({"target": who(c), "comparison": comparison}))
    parallel = tr["p_value"] >= pub.context["alpha"]
    title = controlled_sentence(pub, cid).rstrip(".")
    fig = style.line_chart(chart, "month", "index", group="arm", title=title,
                           subtitle="Monthly DP starts as % of each group's mean before the "
                           f"change, {pub.context['place']}", xlabel="Month",
                           ylabel="% of pre-change mean")
    fig.axes[0].axvline(c["first_month"], color=style.DARK_GREY, linestyle=":")
    headline(fig, title, f"Line chart of monthly DP starts as a percentage of the pre-change "
               f"mean for {who(c)} and {comparison}. Controlled level change "
               f"{lvl['value']:.2f} (95% CI {lvl['lower']:.2f} to {lvl['upper']:.2f}).")
    style.say(f"Pre-change trends: before the change the target group's trend was "
              f"{tr['value']:.3f} times the comparison's per month (95% CI {tr['lower']:.3f} to "
              f"{tr['upper']:.3f}); "
              + ("no difference was detected, which does not prove the trends were parallel. "
                 if parallel else "the trends differed. ")
              + "The controlled model gives each group its own trend.")


def _offers(pub: Publication, c: pd.Series) -> None:
    """DP offer rate by team before and after a change rolled out by team, and its DiD."""
    rates, did = pub[f"offers/{c['change_id']}"], pub[f"offers_did/{c['change_id']}"]
    if rates is None:
        return
    _table(pub, rates[["team", "period", "trained", "offered", "episodes", "value", "lower",
                       "upper"]], ["offered", "episodes"], percent_cols=["value", "lower", "upper"],
           labels={"value": "Offer rate (%)", "lower": "Lower 95%", "upper": "Upper 95%",
                   "trained": "Received the change"},
           caption=f"DP offer rate by team before and after {c['name']}")
    if did is not None:
        d = did.iloc[0]
        style.say(f"Offer rate, teams that received the change against the others: "
                  f"{100 * d['value']:+.1f} percentage points (95% CI {100 * d['lower']:.1f} to "
                  f"{100 * d['upper']:.1f}; errors clustered by team, {int(d['n_clusters'])} "
                  "teams).")


# ---------------------------------------------------------------- experience
def show_experience(pub: Publication, change_id: str) -> None:
    """Survey measures before vs after one change among its target group, with CIs and effect
    sizes (weighted where weights exist)."""
    c = change(pub, change_id)
    shifts = pub[f"survey/{change_id}"]
    if shifts is None:
        style.say("There is no survey for this council (or it cannot show the target group), so "
                  "experience cannot be compared.")
        return
    shown = shifts.assign(measure=shifts["measure"].map(lambda m: MEASURES[m][0]))
    _survey_table(pub, shown, "measure", "measure",
                  f"Survey of {who(c.drop('target_teams'))} before and after "
                  f"{c['name']} ({wording.month(c['date'])})")
    style.say(survey_sentence(shifts, c) + " " + survey_sentence(shifts, c, "info_ease"))


def show_experience_by(pub: Publication, by: str) -> None:
    """Before vs after the first change, every surveyed group (`ethnic group` or `preferred
    language`): quality of life with CIs; groups too small are suppressed."""
    table = pub.get(f"survey_by/{by}")
    if table is None:
        style.say(f"No survey data by {by}.")
        return
    first = selected(pub).iloc[0]
    _survey_table(pub, table[table["measure"] == "scrqol"], "group", by,
                  f"Quality of life (0 to 24) by {by}, before and after {first['name']}")


def _survey_table(pub: Publication, frame: pd.DataFrame, first: str, first_label: str,
                  caption: str) -> None:
    """Before/after survey means with the difference, its CI and effect size (blank where too
    few answered to publish them), and the protected numbers who answered."""
    values = ("mean_before", "mean_after", "value", "lower", "upper", "effect_size")
    style.table(frame[[first, "n_before", "n_after", *values]],
                count_cols=["n_before", "n_after"], threshold=pub.context["min_cell"],
                footnote=pub.context["disclosure_note"],
                labels={first: first_label, "n_before": "respondents before",
                        "n_after": "respondents after", "mean_before": "mean before",
                        "mean_after": "mean after", "value": "after - before",
                        "lower": "lower 95%", "upper": "upper 95%",
                        "effect_size": "effect size (d)"},
                caption=caption)


def show_engagement(pub: Publication) -> None:
    """Themes by community and year from the engagement log (no names)."""
    t = pub["engagement"]
    if t is None:
        style.say("The council has not supplied an engagement table, so what people told us cannot "
                  "be shown beside the numbers.")
        return
    _table(pub, t, ["people"], labels={"period": "Year", "people": "People taking part"},
           plain_cols=["sessions"],
           caption="What people told the council, by community, theme and year")


# ---------------------------------------------------------------- power and methods
def show_power(pub: Publication) -> None:
    """Smallest detectable change per group now, and months of data needed."""
    p, alpha = pub["power"], pub.context["alpha"]
    if not p.empty:
        shown = p[["group", "baseline", "n_pre", "n_post", "mde"]].assign(
            group=p["group"].map(lambda g: group_words(pub, g)))
        style.table(shown,
                    labels={"group": "people", "baseline": "DP starts a month before",
                            "n_pre": "months before",
                            "n_post": "months after", "mde": "smallest detectable ratio"},
                    plain_cols=["n_pre", "n_post"],
                    caption="For each evaluated change: the smallest level change its data "
                            "could detect with 80% power")
    plan, ratio = pub["planning"], pub.context["detect_ratio"]
    style.table(plan.assign(group=plan["group"].map(lambda g: group_words(pub, g))),
                labels={"group": "people", "baseline": "DP starts a month (last 12 months)",
                        "months_before": "months of data so far",
                        "mde": "smallest detectable ratio after 12 months",
                        "months_needed": f"months needed to detect {ratio:g}"},
                plain_cols=["months_before"], decimals={"baseline": 1, "mde": 2,
                                                        "months_needed": 0},
                caption="Planning a new change: power of an interrupted time series (80%, "
                        f"two-sided alpha {alpha:g})")
    ok = plan.dropna(subset=["months_needed"])
    if len(ok):
        best = ok.sort_values("months_needed").iloc[0]
        style.say(f"For {group_words(pub, best['group'])}, a rise of {ratio:g} times in DP "
                  f"starts would take {int(best['months_needed'])} months after a change to "
                  "detect; smaller groups take longer.")


def show_methods(pub: Publication) -> None:
    """Methods and caveats in plain words, with the threats that apply to this log."""
    chosen = selected(pub)
    modelled = chosen[chosen["co_changes"] != ""]
    overlaps = sorted(f"{c['name']} with {names(pub, c['co_changes'])}"
                      for _, c in modelled.iterrows())
    start = pub.context["start"]
    early = chosen.loc[chosen["date"] < start, "name"].tolist()
    style.say(f"""**Interrupted time series.** For each implemented change, the monthly outcome
among the people it targeted is fitted by a segmented quasi-Poisson regression (OLS with Newey-West
errors for set-up days) with a trend, two pairs of seasonal terms, a level change and a change
in trend from the first whole month after the change. The counterfactual is the pre-change trend
continued. Intervals are 95% Wald intervals; residual autocorrelation is checked with the
Ljung-Box test.

**Other changes at the same time.** Changes overlap: {'; '.join(overlaps) or 'none here'}. The
monthly counts are split into cells by which other changes' targets people are in (for example
Asian people in trained teams); each cell has its own level, the cells share the trend and
seasonality, and each other change gets its own level and trend terms only in the cells it
targeted, so its effect is not credited to the change of interest. A change in the same month
for the same people cannot be separated; set-up days are modelled on the whole series.

**Regression to the mean.** A change introduced after a bad spell can look effective when
numbers simply return to normal; the pre-change trend and the run charts help to see this.

**Small numbers.** Series with fewer than {MIN_EVENTS} events before or after a change, or
fewer than 8 months either side, are not modelled. {pub.context['disclosure_note']} Months
whose figure is not shown are not drawn in charts. Model estimates are shown as fitted, only
with enough events either side and enough months behind them; the planning and power tables
are worked out from the rounded counts.

**Changes introduced before their data existed.** {', '.join(early) or 'No change'}
began before the series starts ({wording.month(start)}); a change with no data before it (for
example a PA register with no earlier request records) cannot be evaluated by comparing before
and after.

**Survey.** Quality of life is ASCOF 1A (eight ASCOT items scored 3 to 0, 0 to 24); control,
satisfaction and ease of finding information are shown as answered (lower is better);
"never tried" to find information is left out. Means are weighted where the survey has weights,
with Welch intervals using the effective sample size; effect sizes are Cohen's d. Respondents
before and after are different people.""")
