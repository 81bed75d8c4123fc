"""Notebook 02's displays, part one: key findings, the Data section, who the PAs are and language
coverage. Each show_* takes the report's Publication and shows one table, chart or list; it
formats what was published (figures already protected by the publication step: a suppressed
count or a share that cannot be shown is missing) and computes nothing from the data
(display_recruitment.py has the rest)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.analyses.pa_market.compute_workforce import SOURCES
from evalkit.analyses.pa_market.findings import data_notes, key_findings
from evalkit.analyses.pa_market.publish import TOTAL
from evalkit.data import codes
from evalkit.data.areas import area_label
from evalkit.report import charts, findings, style, tables, wording
from evalkit.report.findings import fmt_share
from evalkit.report.publication import Publication
from evalkit.sdc.protect import SUPPRESSED

DIMENSION_LABELS = {"ethnic_group_broad": "Ethnic group (broad)", "ethnic_group": "Ethnic group",
                    "gender": "Gender", "language": "Language", "religion": "Religion"}
HEATMAP_LANGUAGES = 8  # languages other than English in the area heatmap


def when(pub: Publication) -> str:
    """The month of the register snapshot described ('March 2026'), or 'no snapshot'."""
    snapshot = pub.context["snapshot"]
    return wording.month(snapshot) if snapshot is not None else "no snapshot"


def table(pub: Publication, df: pd.DataFrame, count_cols: list[str], **options: Any) -> None:
    """`tables.table` for a frame of protected figures: missing counts shown as [c] with the
    publication's disclosure note; no further suppression (the publication step protected it)."""
    tables.table(df, count_cols, min_cell=pub.context["min_cell"],
                 footnote=pub.context["disclosure_note"], **options)


def share_rule(pub: Publication) -> str:
    """Why a chart leaves a group out: its share is not shown."""
    return (f"groups with a count suppressed or fewer than "
            f"{wording.min_people(pub.context['min_cell'])} people have no share shown")


def interval_text(df: pd.DataFrame) -> pd.Series:
    """'a to b' percentage strings for a frame's lower/upper (blank where missing)."""
    return df.apply(lambda r: "" if pd.isna(r["lower"]) else
                    f"{fmt_share(r['lower'])} to {fmt_share(r['upper'])}", axis=1)


# --- Key findings -----------------------------------------------------------------------
def show_key_findings(pub: Publication) -> None:
    """Key findings as a bullet list."""
    findings.key_findings(key_findings(pub))


# --- Data -------------------------------------------------------------------------------
def show_snapshots(pub: Publication) -> None:
    """Register snapshots: agencies returning, PAs listed and active, at each snapshot."""
    s, c = pub["snapshots"], pub.context
    if s.empty:
        style.say("There is no PA register in this data folder.")
        return
    t = pd.DataFrame({"snapshot": s["snapshot_date"].dt.strftime("%Y-%m-%d"),
                      "returns": s["returns"].astype(str) + " of " + s["agencies"].astype(str),
                      "active_pas": s["active_pas"]})
    style.say(f"This report covers {c['place']}. The register has {len(c['snapshot_dates'])} "
              f"snapshot(s); the report describes the one of {wording.day(c['snapshot'])}, and "
              f"people with a Direct Payment on {wording.day(c['as_at'])}.")
    table(pub, t, ["active_pas"], caption="PA register snapshots",
                 labels={"snapshot": "Snapshot", "returns": "Agency returns received",
                         "active_pas": "Active PAs (each counted once)"})


def show_returns(pub: Publication) -> None:
    """PAs returned per agency per snapshot, the published Total row, and which returns are
    missing."""
    r = pub["returns"]
    if r.empty:
        style.say("There is no PA register in this data folder.")
        return
    r = r.assign(snapshot=r["snapshot_date"].dt.strftime("%Y-%m-%d"))
    order = [*dict.fromkeys(a for a in r["agency"] if a != TOTAL), TOTAL]
    wide = r.pivot(index="agency", columns="snapshot", values="pas").reindex(order)
    snaps = list(wide.columns)
    missing = r[r["missing"]].groupby("agency")["snapshot"].agg(", ".join)
    wide["No return for"] = [missing.get(a, "") for a in wide.index]
    wide = wide.reset_index().rename(columns={"agency": "Agency"})
    table(pub, wide, snaps, caption=f"PA listings returned by each agency at each snapshot; "
                 f"{int(r['missing'].sum())} missing return(s), shown as 0 and named in the "
                 "last column")


def show_data_quality(pub: Publication) -> None:
    """Rows read, kept and excluded (with the reason) for the files this notebook uses, then
    what the data lack."""
    tables.quality_table(pub["quality"], min_cell=pub.context["min_cell"],
                         notes=data_notes(pub), footnote=pub.context["disclosure_note"])


# --- Who the PAs are --------------------------------------------------------------------
def composition_table(pub: Publication, by: str) -> pd.DataFrame:
    """One row per group, count and share in each source, and a Total row (the published total,
    rounded on its own; none for languages, which a PA can have several of)."""
    comp = pub.get(f"composition/{by}")
    if comp is None:
        return pd.DataFrame()
    srcs = [s for s in SOURCES.values() if s in set(comp["source"])]
    wide = comp.assign(listed=True).pivot(index="group", columns="source",
                                          values=["count", "value", "listed"])
    out = pd.DataFrame({"Group": wide.index.astype(str)})
    for src in srcs:
        # a group absent from a source has none there: 0 people, a 0% share
        absent = wide[("listed", src)].isna().to_numpy()
        out[f"{src}: n"] = np.where(absent, 0.0, wide[("count", src)].to_numpy())
        out[f"{src}: %"] = np.where(absent, 0.0, wide[("value", src)].to_numpy())
    if by != "language":
        totals = comp.groupby("source")["total"].first()
        total = {"Group": "Total", **{f"{s}: n": totals[s] for s in srcs},
                 **{f"{s}: %": 1.0 for s in srcs}}
        out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    return out


def show_composition(pub: Publication, by: str = "ethnic_group_broad") -> None:
    """Composition table for one dimension: active PAs, DP recipients employing PAs, adults."""
    what = DIMENSION_LABELS.get(by, by)
    t = composition_table(pub, by)
    if t.empty:
        style.say(f"{what}: not recorded in this data, so not shown.")
        return
    counts = [c for c in t.columns if c.endswith(": n")]
    note = (" A PA can speak several languages, so shares add to more than 100%."
            if by == "language" else "")
    table(pub, t, counts, share_cols=[c[:-3] + ": %" for c in counts],
          labels={c: c for c in t.columns},  # as written above
          caption=f"{what} of active PAs ({when(pub)}), of people with a Direct Payment "
                 f"used for PAs{'' if by == 'language' else ', and of adults'}.{note}")


def show_composition_chart(pub: Publication) -> None:
    """Share of each broad ethnic group among PAs, recipients and adults (dots with CIs)."""
    comp = pub.get("composition/ethnic_group_broad")
    if comp is None or comp.empty:
        style.say("Ethnic group is not recorded, so the composition chart is not shown.")
        return
    ok = comp[comp["value"].notna()]
    groups = [g for g in codes.BROAD_GROUPS if g in set(ok["group"])]
    pas = ok[ok["source"] == SOURCES["pas"]].set_index("group")["value"]
    rec_ = ok[ok["source"] == SOURCES["recipients"]].set_index("group")["value"]
    gap = (pas - rec_).dropna()
    if len(gap):
        g = gap.abs().idxmax()
        more = "more" if gap[g] > 0 else "less"
        title = (f"{g} people are {more} common among PAs ({fmt_share(pas[g])}) than among people "
                 f"who employ PAs ({fmt_share(rec_[g])})")
    else:
        title = "Ethnic mix of active PAs and of the people they could work for"
    fig, ax = style.figure(8, 0.6 * len(groups) + 2)
    y = np.arange(len(groups))[::-1]
    for i, src in enumerate(SOURCES.values()):
        d = ok[ok["source"] == src].set_index("group").reindex(groups)
        ax.errorbar(d["value"] * 100, y + (1 - i) * 0.2,
                    xerr=[(d["value"] - d["lower"]) * 100, (d["upper"] - d["value"]) * 100],
                    fmt="o", color=style.PALETTE[i], capsize=2, label=src)
    ax.set_yticks(y, groups)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    style.finish(fig, ax, title=title, subtitle=f"Share by broad ethnic group, {when(pub)}, 95% "
                 f"confidence intervals; {share_rule(pub)}",
                 xlabel="% of each population", ylabel="")
    alt = ("Dot chart of the share of each broad ethnic group among active PAs, DP recipients "
           "who employ PAs and adults: " + "; ".join(
               f"{r.group} {r.source} {fmt_share(r.value)}" for r in ok.itertuples()) + ".")
    style.show(fig, charts.headline(title, alt))


def show_dissimilarity(pub: Publication) -> None:
    """Index of dissimilarity (broad ethnic groups) with its bootstrap CI."""
    d = pub["dissimilarity"]
    if d.empty:
        style.say("The index of dissimilarity needs the ethnic group of PAs and of a comparison "
                  "population; it cannot be computed here.")
        return
    t = d[["comparison", "pas", "other", "value"]].assign(ci=interval_text(d))
    table(pub, t, ["pas", "other"], share_cols=["value"],
                 labels={"pas": "Active PAs", "other": "People compared with",
                         "value": "Index of dissimilarity", "ci": "95% CI"},
                 caption="Index of dissimilarity: the share of PAs who would need to be from a "
                 "different broad ethnic group for the two mixes to match (0% = identical)")


def show_representation(pub: Publication) -> None:
    """Relative likelihood (SC-WRES) of adults in each group being an active PA, vs White."""
    rep = pub["representation"]
    rl = rep[(rep["measure"] == "relative_likelihood") & rep["value"].notna()]
    if rl.empty:
        style.say("Relative likelihoods need the adult population by ethnic group and enough PAs "
                  "in each group; they cannot be shown here.")
        return
    low = rl[rl["upper"] < 1]
    title = (f"Adults from {len(low)} ethnic group(s) are less likely than White adults to "
             "work as a PA" if len(low) else
             "No ethnic group is clearly less likely than White adults to work as a PA")
    what = ("the relative likelihood of adults in each broad ethnic group being an active PA "
            "compared with White adults")
    alt = charts.headline(title, charts.alt_text("Dot chart", what, rl, "group", pct=False))
    charts.ci_dots(rl, "group", title=title, alt=alt, pct=False, ref=1.0, log=True,
                   subtitle=f"Relative likelihood (SC-WRES) vs White adults, {when(pub)}, "
                   "95% CIs; 1 = equally likely", xlabel="Relative likelihood (log scale)",
                   ylabel="Ethnic group (broad)", sort=False)


# --- Language coverage ------------------------------------------------------------------
def show_language_supply(pub: Publication) -> None:
    """For each language people with a DP prefer: how many, and active PAs who speak it."""
    c = pub["coverage"]
    if c.empty:
        style.say("No one with a Direct Payment has a recorded preferred language, so language "
                  "coverage cannot be measured.")
        return
    t = c.sort_values("recipients", ascending=False).reset_index(drop=True)[
        ["language", "recipients", "share_of_recipients", "pas", "pas_per_10"]]
    table(pub, t, ["recipients", "pas"], share_cols=["share_of_recipients"],
                 labels={"recipients": "People with a DP",
                         "share_of_recipients": "% of people with a DP",
                         "pas": "Active PAs who speak it", "pas_per_10": "PAs per 10 people"},
                 caption=f"Preferred languages of people with a Direct Payment "
                 f"({wording.month(pub.context['as_at'])}) and active PAs who speak them "
                 f"({when(pub)})")


def show_language_gaps(pub: Publication) -> None:
    """Ranked gap table: people living where no active PA speaks their language. Every person
    with a DP is counted, so the shares are exact: no confidence interval."""
    c = pub["coverage"]
    c = c[c["with_area"] > 0]
    if c.empty:
        style.say("No one with a Direct Payment has both a recorded language and a recorded area, "
                  "so the gap by area cannot be measured.")
        return
    t = pd.DataFrame({"language": c["language"], "no_pa_area": c["no_pa_area"],
                      "with_area": c["with_area"], "value": c["value"],
                      "areas": c["areas"], "areas_without": c["areas_without"]})
    table(pub, t, ["no_pa_area", "with_area", "areas", "areas_without"], share_cols=["value"],
                 labels={"no_pa_area": "Living where no PA speaks it",
                         "with_area": "People (area known)",
                         "value": "% living where no PA speaks it",
                         "areas": "Areas where they live",
                         "areas_without": "Areas with no PA speaking it"},
                 caption="Language gaps, most people first: people with a DP living in an area "
                 f"where no active PA ({when(pub)}) speaks their language. Everyone is counted, "
                 "so these are exact figures, not estimates, and have no confidence interval")


def show_language_gap_chart(pub: Publication) -> None:
    """Share of each language's speakers living where no active PA speaks it: dots without
    intervals, as every person is counted (an exact share, not an estimate)."""
    c = pub["coverage"]
    ok = c[c["value"].notna()]
    if ok.empty:
        style.say("No language has enough speakers to chart its coverage without risking "
                  "disclosure.")
        return
    top = worst_gap(ok, list(ok["language"]))
    title = (f"{fmt_share(top['value'])} of {top['language']} speakers with a DP live where "
             f"no active PA speaks {top['language']}" if top is not None else
             "Every language shown has an active PA who speaks it wherever its speakers live")
    alt = charts.headline(
        title, "Dot chart: the share of people with a DP living where no active PA "
                   "speaks their language, exact (everyone counted). " + "; ".join(
                       f"{r.language} {fmt_share(r.value)}" for r in ok.itertuples()) + ".")
    charts.ci_dots(ok.assign(lower=np.nan, upper=np.nan), "language", title=title,
                   subtitle="Share of each language's DP recipients living in an area with no "
                   f"active PA who speaks it, {when(pub)}; everyone is counted, so there is no "
                   "confidence interval." + charts.left_out(len(c) - len(ok), "language(s)"),
                   xlabel="% living where no active PA speaks their language", alt=alt,
                   ylabel="Preferred language", sort=False)


def show_area_heatmap(pub: Publication, top: int = HEATMAP_LANGUAGES) -> None:
    """Areas x languages: active PAs living in the area who speak the language, in each area
    where people with a DP prefer it (protected counts; suppressed = [c]; areas where 1 to 7
    people prefer it are not published, so they are blank like areas where nobody does).

    The `top` languages other than English with most speakers. Counts, not PAs per person: a
    rate needs more people than an area-language cell holds before it can be shown.
    """
    smallest = pub.context["smallest_shown"]
    by_size = pub["coverage"].sort_values("recipients", ascending=False)
    langs = [x for x in by_size["language"] if x != "English"][:top]
    g = pub["grid"][pub["grid"]["language"].isin(langs)]
    langs = [x for x in langs if x in set(g["language"])]
    if g.empty:
        style.say("There are not enough people with a recorded area and language for an area "
                  "heatmap.")
        return
    names = pub.context.get("area_names", {})
    g = g.assign(area=[area_label(a, names) for a in g["area"]])
    pas = g.pivot(index="area", columns="language", values="pas").reindex(columns=langs)
    if pas.isna().all().all():
        style.say("Every area where enough people with a DP prefer a language has 1 to "
                  f"{pub.context['smallest_shown'] - 1} active PAs who speak it (confidential), "
                  "so the area heatmap is not shown.")
        return
    wanted = g.assign(listed=1).pivot(index="area", columns="language", values="listed").reindex(
        columns=langs).notna()
    shown = pas.astype(object).where(pas.notna() | ~wanted, SUPPRESSED).where(wanted, np.nan)
    none, cells = int((pas == 0).sum().sum()), int(wanted.sum().sum())
    hidden = int((shown == SUPPRESSED).sum().sum())
    cov = pub["coverage"][pub["coverage"]["language"].isin(langs)]
    unseen = bool((cov["no_pa_area"].isna() | (cov["no_pa_area"] > 0)).any())
    title = heatmap_title(none, cells, worst_gap(cov, langs), unseen)
    fig = style.heatmap(shown, title=title,
                        subtitle=f"Active PAs who speak each language, by area, {when(pub)}, "
                        "where people with a DP prefer it; 0 = no active PA there speaks it; "
                        f"blank = fewer than {smallest} people there prefer it; {SUPPRESSED} = 1 "
                        f"to {smallest - 1} PAs; other counts rounded to the nearest "
                        f"{pub.context['rounding_base']}",
                        xlabel="Language", ylabel="Area (name and code)" if names else
                        "Area code", fmt="{:,.0f}")
    style.show(fig, charts.headline(
        title, f"Heatmap of {len(shown)} areas by {len(langs)} languages: "
                             "active PAs who speak each language where people with a DP prefer "
                             f"it; {none} of {cells} such cells have no PA who speaks it; "
                             f"{hidden} cells are suppressed."))


def worst_gap(coverage: pd.DataFrame, languages: list[str]) -> pd.Series | None:
    """The published coverage row of the language (of `languages`) with the largest share of
    speakers living where no active PA speaks it; None when no such share is shown above 0."""
    gaps = coverage[coverage["language"].isin(languages) & (coverage["value"] > 0)]
    return gaps.sort_values("value", ascending=False).iloc[0] if len(gaps) else None


def heatmap_title(none: int, cells: int, worst: pd.Series | None, unseen: bool) -> str:
    """The heatmap's finding in words: how many cells shown have no PA who speaks the language,
    and the language worst served (from the gap table, so the title agrees with the findings
    even when its gap cells are too small to show). `unseen`: some people of these languages
    live where no PA speaks theirs (or their count is confidential), so a title never says
    every area is served when the gaps are only too small to show."""
    served = ("" if worst is None else f"{worst['language']} speakers are the worst served: "
              f"{fmt_share(worst['value'])} live where no active PA speaks {worst['language']}")
    if none:
        shown = (f"{none} of the {cells} areas and languages shown have no active PA who speaks "
                 "the language")
        return f"{shown}; {served[0].lower()}{served[1:]}" if served else shown
    if served or unseen:
        return (f"{served or 'Some people live where no active PA speaks their language'}, in "
                "areas where too few people prefer it to show; every area shown has an active PA "
                "who speaks each language")
    return ("In every area and language shown an active PA living there speaks the language "
            "people prefer")
