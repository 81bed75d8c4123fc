"""Notebook 01's displays (one call per cell): key findings, data, uptake by group, language and
interpreter need, standardised ratios and odds ratios, and the methods text.

Every function reads only the `Publication` (`publish.py`), whose frames are already protected
(counts rounded, small counts missing, shares from the rounded counts), and formats it through
the shared report pieces; titles and alt text are written from the published numbers, and a
missing figure is never drawn or quoted. The displays of what DPs are like, areas and trend are
in display_dp.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from evalkit.analyses.uptake.compute_snapshot import ENGLISH, NOT_RECORDED, NOT_STATED
from evalkit.analyses.uptake.findings import key_findings
from evalkit.report import charts, style, tables, wording
from evalkit.report import findings as sentences
from evalkit.report.publication import Publication
from evalkit.sdc.disclosure import SUPPRESSED

LABELS = {  # column names -> what a reader sees in a table heading
    "group": "Ethnic group", "people": "People", "dp": "With a Direct Payment",
    "share": "Share with a Direct Payment (%)", "age_band": "Age band",
    "primary_support_reason": "Primary support reason", "no_dp": "Without a Direct Payment",
    "ended_share": "Share ended (%)", "running": "Still running (estimated)",
    "PA": "Personal Assistant(s)", "agency care": "Agency care",
    "mixed": "Both PA and agency care", "other": "Something else", "field": "Field",
    "value": "Value",
    "total": "People counted", "months": "Within (months)", "started": "DPs started",
    "ended": "Ended (estimated)", "lower": "95% CI lower (%)", "upper": "95% CI upper (%)",
    "area": "Area", "position": "Position on the funnel plot",
    "share_recorded": "Share with a DP as recorded (%)",
    "share_if_all_not_stated": "Share if all Not stated were in this group (%)",
    "followed": "DPs followed this long",
}


# ---------------------------------------------------------------- pieces the displays share
def place(pub: Publication) -> str:
    """The council (or all councils) the report covers, in words."""
    return pub.context["place"]


def when(pub: Publication) -> str:
    """The snapshot date in words."""
    return wording.day(pub.context["period_end"])


def period(pub: Publication) -> str:
    """The lookback period in words, e.g. '1 April 2023 to 31 March 2026'."""
    return wording.span(pub.context["period_start"], pub.context["period_end"])


def uptake_table(pub: Publication, df: pd.DataFrame, count_cols: Sequence[str], *,
                 percent_cols: Sequence[str] = (), caption: str = "") -> None:
    """A table of protected figures with LABELS as headings: suppressed counts as [c], shares
    (0-1) in `percent_cols` as percentages, and the page's disclosure note under it."""
    tables.table(df.reset_index(drop=True), count_cols, min_cell=pub.context["min_cell"],
                 labels=LABELS, percent_cols=list(percent_cols), caption=caption,
                 footnote=pub.context["disclosure_note"])


def shown_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows with a published estimate (protection leaves the others blank), and how many were
    left out."""
    ok = df["value"].notna()
    return df[ok], int((~ok).sum())


def group_rows(pub: Publication, df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """`shown_rows` of the recorded ethnic groups (Not stated left out of group charts)."""
    d, hidden = shown_rows(df)
    return d[d[pub.context["group_col"]] != NOT_STATED], hidden


def count(value: object) -> str:
    """A protected count in words: '1,235', or '[c]' when suppressed."""
    return f"{int(value):,}" if pd.notna(value) else SUPPRESSED


def share_chart(pub: Publication, df: pd.DataFrame, label: str,
                title: str | Callable[[pd.DataFrame], str], what: str,
                xlabel: str = "% with a Direct Payment", ref: float | None = None,
                ref_label: str = "", ylabel: str = "Ethnic group") -> None:
    """Chart a frame of protected shares (Wilson CIs) under its headline, with generated alt
    text led by it.

    `title` may be a function of the rows shown, so it never names a group left out."""
    d, hidden = shown_rows(df)
    if d.empty:
        style.say(f"No group has enough people to show {what.lower()} without risking disclosure.")
        return
    title = title(d) if callable(title) else title
    charts.ci_dots(d, label, title=title,
                   subtitle=f"{what}, {place(pub)}, {when(pub)}, percent with 95% confidence "
                            f"intervals.{charts.left_out(hidden)}",
                   xlabel=xlabel, alt=charts.headline(title, charts.alt_text("Dot chart", what, d,
                                                                             label)),
                   ylabel=ylabel, ref=ref, ref_label=ref_label)


def gap_title(df: pd.DataFrame, label: str, reference: str, measure: str,
              who: str = "people") -> str:
    """A finding title: which groups' intervals lie wholly below (or above) the reference's."""
    ref = df[df[label] == reference]
    if ref.empty or len(df) < 2:
        return f"{measure} by group"
    r = ref.iloc[0]
    others = df[(df[label] != reference) & (df[label] != NOT_STATED)]
    below = others[others["upper"] < r["lower"]][label].astype(str).tolist()
    above = others[others["lower"] > r["upper"]][label].astype(str).tolist()
    for side, names in (("lower", below), ("higher", above)):
        if names:
            return (f"{measure} is {side} for {wording.names(names[:3])} {who} than for "
                    f"{reference} {who}")
    return f"{measure}: no group clearly differs from {reference} {who}"


# ---------------------------------------------------------------- key findings and data
def show_key_findings(pub: Publication) -> None:
    """Key findings as a bullet list (`record` writes them to key_findings.md)."""
    sentences.key_findings(key_findings(pub))


def show_quality(pub: Publication) -> None:
    """The data-quality table: rows read from each file, kept or excluded and why."""
    tables.quality_table(pub["quality"], min_cell=pub.context["min_cell"],
                         footnote=pub.context["disclosure_note"])


def show_coverage(pub: Publication) -> None:
    """Period covered, who is in the snapshot, and the warnings from loading."""
    first = pub.context["first_start"]
    if first is None:
        style.say(f"There are no support episodes for {place(pub)}.")
        return
    people = count(pub["overall"]["people"].iloc[0])
    text = (f"Support episodes run from {wording.day(first)} to {when(pub)} (the date this "
            f"report describes) for {place(pub)}. On that date {people} adults were receiving "
            "long-term support in the community (rounded to the nearest "
            f"{pub.context['rounding_base']}).")
    style.say(text + "".join(f"\n\n_Note: {w}_" for w in pub.context["warnings"]))


def show_missing(pub: Publication) -> None:
    """People with ethnicity Not stated or language / interpreter need Not recorded."""
    uptake_table(pub, pub["missing"], ["people", "total"],
                 caption="People whose ethnicity or language is not recorded")


def show_sensitivity(pub: Publication) -> None:
    """Each group's DP share as recorded and if all 'Not stated' people were in it."""
    b, g = pub["bounds"], pub.context["group_col"]
    ns = b["not_stated_people"].iloc[0] if len(b) else 0
    if ns == 0:
        style.say("Everyone counted has a recorded ethnicity, so no bounds are needed.")
        return
    t = b[[g, "people", "dp", "no_dp", "share_recorded", "share_if_all_not_stated"]]
    uptake_table(pub, t.rename(columns={g: "group"}), ["people", "dp", "no_dp"],
                 percent_cols=["share_recorded", "share_if_all_not_stated"],
                 caption=f"Share with a Direct Payment if none or all of the {count(ns)} people "
                         "with ethnicity Not stated belonged to each group")


# ---------------------------------------------------------------- uptake by group
def show_uptake(pub: Publication) -> None:
    """Share with a DP by group, against community long-term support users (Wilson CIs)."""
    g, ref, overall = pub.context["group_col"], pub.context["reference"], pub["overall"]
    df = pub["uptake/group"]
    df = df[df[g] != NOT_STATED]
    if df.empty:
        style.say("No one counted has a recorded ethnic group.")
        return
    share_chart(pub, df, g, lambda d: gap_title(d, g, ref, "Direct Payment uptake"),
                "Share of adults on community long-term support with a Direct Payment",
                ref=overall["value"].iloc[0] if len(overall) else None, ref_label="All")


def show_population_uptake(pub: Publication) -> None:
    """People with a DP per adult of the group in the population."""
    g, pop = pub.context["group_col"], pub["uptake/population"]
    if pop is None or pop.empty:
        style.say("There is no population table for this area, so uptake per adult resident cannot "
                  "be shown.")
        return
    d, hidden = group_rows(pub, pop)
    if d.empty:
        style.say("No group has enough people to show uptake per adult resident.")
        return
    d = d.assign(**{c: d[c] * 1000 for c in ("value", "lower", "upper")})
    title = gap_title(d, g, pub.context["reference"], "Direct Payments per adult resident")
    charts.ci_dots(
        d, g, title=title,
        subtitle=f"People with a Direct Payment per 1,000 adults of the group living in "
                 f"{place(pub)}, {when(pub)}, 95% confidence intervals." + charts.left_out(hidden),
        xlabel="Direct Payments per 1,000 adults", pct=False,
        alt=charts.headline(title, charts.alt_text(
            "Dot chart", "people with a Direct Payment per 1,000 adults", d, g, pct=False)))


def show_language(pub: Publication) -> None:
    """Share with a DP by preferred language (rare languages lumped)."""
    lang = pub["uptake/language"]
    if lang is None:
        style.say("The data have no preferred_language field, so communities that ethnic codes "
                  "cannot see (for example Somali or Gujarati speakers) cannot be identified. Ask "
                  "for preferred language to be recorded.")
        return
    share_chart(pub, lang, "language",
                lambda d: gap_title(d, "language", ENGLISH, "Direct Payment uptake", "speakers"),
                "Share with a Direct Payment by preferred language", ylabel="Preferred language")


def show_interpreter(pub: Publication) -> None:
    """Share with a DP by interpreter need."""
    need = pub["uptake/interpreter"]
    if need is None:
        style.say("The data have no interpreter_required field, so uptake by interpreter need "
                  "cannot be shown.")
        return
    d = need.assign(need=need["interpreter"].map(
        {"yes": "Needs an interpreter", "no": "No interpreter needed"}).fillna(NOT_RECORDED))
    yes, no = (d[d["interpreter"] == v] for v in ("yes", "no"))
    if len(yes) and len(no) and yes["upper"].iloc[0] < no["lower"].iloc[0]:
        title = "People who need an interpreter are less likely to have a Direct Payment"
    elif len(yes) and len(no) and yes["lower"].iloc[0] > no["upper"].iloc[0]:
        title = "People who need an interpreter are more likely to have a Direct Payment"
    else:
        title = "Direct Payment uptake: no clear difference by interpreter need"
    share_chart(pub, d, "need", title,
                "Share with a Direct Payment by whether an interpreter is needed",
                ylabel="Interpreter need")


# ---------------------------------------------------------------- standardised for age and need
def show_isr(pub: Publication) -> None:
    """Indirectly standardised uptake ratio by group (observed / expected DPs)."""
    g, df = pub.context["group_col"], pub["isr/group"]
    if df.empty:
        style.say("No one is counted on this date, so no standardised ratio can be computed.")
        return
    d, hidden = group_rows(pub, df)
    if d.empty:
        style.say("No group has enough people for a standardised ratio.")
        return
    low = d[d["upper"] < 1][g].astype(str).tolist()
    title = (f"{wording.names(low[:3])} people have fewer Direct Payments than expected for their "
             "age and need" if low else "No group clearly has fewer Direct Payments than expected")
    charts.ci_dots(
        d, g, title=title,
        subtitle=f"Observed / expected Direct Payments given age band, gender and support reason, "
                 f"{place(pub)}, {when(pub)}; 1 = as expected; 95% CIs." + charts.left_out(hidden),
        xlabel="Standardised uptake ratio (log scale)", ref=1.0, ref_label="as expected",
        pct=False, log=True,
        alt=charts.headline(title, charts.alt_text(
            "Dot chart", "standardised uptake ratios (1 = as expected)", d, g, pct=False)))


def show_odds(pub: Publication) -> None:
    """Adjusted odds ratios (ethnic group, language, interpreter need) from the cell GLM."""
    o = pub["odds/group"]
    o = o[o["factor"].isin(["group", "language", "interpreter"]) & o["value"].notna()
          & (o["people"] >= wording.min_people(pub.context["min_cell"]))]
    if o.empty:
        style.say("There are too few people in groups other than the reference to estimate "
                  "adjusted odds ratios.")
        return
    what = {"group": "{g} vs {r}", "language": "{g} vs {r} speakers",
            "interpreter": "Interpreter needed vs not"}
    d = o.assign(label=[what[f].format(g=g, r=r) for f, g, r in
                        zip(o["factor"], o["group"], o["reference"], strict=True)])
    low = d[d["upper"] < 1]["label"].tolist()
    title = ("Lower odds of a Direct Payment at the same age and need: " + wording.names(low[:2])
             if low else "No group has clearly lower odds of a Direct Payment at the same age "
             "and need")
    charts.ratio_dots(
        d, "label", what="adjusted odds ratios of having a Direct Payment", title=title,
        subtitle=f"Adjusted odds ratios, {place(pub)}, {when(pub)}: binomial model on counts by "
                 "ethnic group, language, interpreter need, age band, gender and support reason"
                 + (", and council" if pub.context["la_code"] == "all" else "") + "; 95% CIs.",
        xlabel="Odds ratio (log scale; 1 = same odds as the reference)",
        ylabel="Group compared with the reference")


def show_which_measure(pub: Publication) -> None:
    """Which measure to quote, and why (the same for every report)."""
    ref = pub.context["reference"]
    style.say(f"**Which to quote.** The key findings compare each group with {ref} people (the "
              "reference group) using the adjusted odds ratios above: at the same age, gender, "
              "support reason, language and interpreter need, a ratio below 1 means less likely "
              f"to have a Direct Payment than {ref} people. The standardised uptake ratio "
              "compares a group with everyone of the same age, gender and support needs, and "
              "turns into people (a ratio of 0.8 means 20 in every 100 expected Direct Payments "
              "are missing). When Direct Payments are common (over about 20%) an odds ratio is "
              "further from 1 than the ratio of the shares, so do not read an odds ratio of 0.75 "
              "as '25% fewer'.")


def show_intersection(pub: Publication) -> None:
    """Group x age band x support reason: people, DPs and share, with suppression."""
    t = pub["intersection"].rename(columns={pub.context["group_col"]: "group"})
    if t.empty:
        style.say("No one is counted on this date.")
        return
    uptake_table(pub, t, ["people", "dp", "no_dp"], percent_cols=["share"],
                 caption="People and Direct Payment share by ethnic group, age band and support "
                         "reason")


# ---------------------------------------------------------------- methods
def show_methods(pub: Publication) -> None:
    """Methods and caveats, in plain words."""
    style.say(f"""**Definitions.** People counted are adults (18+ on the snapshot date) with an
ongoing long-term support episode of type "Long Term Support: Community" on {when(pub)}.
A person has a Direct Payment when the delivery mechanism is "Direct Payment only" or
"Part Direct Payment", as
ASCOF measure 1C(2A) counts them. Ethnic groups are the ONS 2021 groups (5 broad, 19 detailed);
Not stated is shown, never merged into another group, and no groups are combined into one
"non-White" category.

**Intervals.** Shares use Wilson score intervals; standardised ratios use Byar's method (exact
below 10); odds ratios are Wald intervals from a binomial model fitted on counts by ethnic group x
language x interpreter need x age band x gender x support reason{', with a term per council'
if pub.context['la_code'] == 'all' else ''}; medians and continuation come from Kaplan-Meier
estimates; set-up time, budget and hours ratios are ratios of geometric means from a regression
on the log scale with age band, gender and support reason.

**What standardisation does and does not do.** It compares people of the same age band, gender
and primary support reason. It cannot adjust for need not recorded in these fields, for family
care, for differences in how needs are assessed, or for people who never reach social care. A
gap that remains is a question for practice, not proof of discrimination.

**Disclosure control.** Every count in this report (tables, charts, sentences and results.json)
is protected once, before anything is shown: counts of 1 to {pub.context['smallest_shown'] - 1}
are shown as [c] (rows breaking such a count down are left out) and every other count is
rounded to the nearest {pub.context['rounding_base']}, each on its own, so totals may not equal
the sum of their parts (a few larger counts are [c] too, where a total would give a [c] away).
Shares, rates and their intervals are worked out from the rounded counts, and are not shown for
fewer than {wording.min_people(pub.context['min_cell'])} people; model estimates (odds ratios,
ratios of typical set-up time, budget and hours) are shown as fitted only when every group
compared has at least {pub.context['min_cell']} people in each outcome. No person-level row is
shown. See docs/disclosure.md.""")
