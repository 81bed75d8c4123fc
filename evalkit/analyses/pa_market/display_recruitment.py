"""Notebook 02's displays, part two: time to recruit, match achieved, change between snapshots,
and the methods and caveats. Each show_* takes the report's Publication and formats what was
published, figures already protected by the publication step (display.py has the first part)."""

from __future__ import annotations

import pandas as pd

from evalkit.analyses.pa_market.compute_recruitment import (
    ALL_REQUESTS,
    NO_PREFERENCE_GROUP,
    PREFERENCE_LABELS,
)
from evalkit.analyses.pa_market.display import interval_text, share_rule, table, when
from evalkit.analyses.pa_market.findings import ci_text, data_notes, median_text
from evalkit.data import codes
from evalkit.report import charts, style, wording
from evalkit.report.findings import fmt_share
from evalkit.report.publication import Publication

SOURCE_LABELS = {"register": "PA register", "agency": "Support agency",
                 "family member": "Family member", "word of mouth": "Word of mouth",
                 "not recorded": codes.NOT_RECORDED}
CHANGE_LABELS = {"all": "All PAs", "ethnic_group_broad": "Broad ethnic group",
                 "language": "Language"}
AREA_WORDS = {"area_code": "ward or small area", "la_code": "the whole council"}


def _request_label(group: str) -> str:
    """'Requests stating a language preference', 'Hospital-discharge requests', ..."""
    if group == PREFERENCE_LABELS["hospital_discharge"]:
        return "Hospital-discharge requests"
    if group in (ALL_REQUESTS, NO_PREFERENCE_GROUP):
        return f"Requests with {group.lower()}" if group == NO_PREFERENCE_GROUP else group
    return f"Requests stating a {group.lower()} preference"


# --- Time to recruit --------------------------------------------------------------------
def show_recruitment_curves(pub: Publication) -> None:
    """Share of requests still waiting by weeks since the request, by stated preference: of the
    requests followed that long, those not yet filled (protected counts, Wilson CIs)."""
    w = pub["waiting"]
    w = w[w["value"].notna()]
    groups = list(dict.fromkeys(w["group"]))
    if len(groups) > len(style.PALETTE):  # one colour each; the table has all requests
        groups = [g for g in groups if g != ALL_REQUESTS][:len(style.PALETTE)]
    if not groups:
        style.say("There are not enough PA requests to draw time-to-recruit curves.")
        return
    med = pub["medians"].set_index("group")
    slow = [(g, med.loc[g, "value"]) for g in groups if g != ALL_REQUESTS
            and g in med.index and pd.notna(med.loc[g, "value"])]
    title = "Time from a request to a PA starting"
    if slow and ALL_REQUESTS in med.index and pd.notna(med.loc[ALL_REQUESTS, "value"]):
        g, v = max(slow, key=lambda x: x[1])
        title = (f"{_request_label(g)} waited longest: median {v:.0f} days against "
                 f"{med.loc[ALL_REQUESTS, 'value']:.0f} for all requests")
    d = w[w["group"].isin(groups)]
    d = pd.DataFrame({"group": d["group"], "days": d["days"], "waiting": 100 * (1 - d["value"]),
                      "lower": 100 * (1 - d["upper"]), "upper": 100 * (1 - d["lower"])})
    start = pd.DataFrame({"group": groups, "days": 0, "waiting": 100.0, "lower": 100.0,
                          "upper": 100.0})
    fig = style.line_chart(pd.concat([start, d], ignore_index=True), "days", "waiting",
                           lower="lower", upper="upper", group="group", title=title,
                           subtitle="Of the requests followed for each number of days, the share "
                           "not yet filled, with 95% intervals; groups overlap (a request can "
                           f"state several preferences); {share_rule(pub)}",
                           xlabel="Days since the request", ylabel="% of requests still waiting")
    alt = ("Line chart of the share of PA requests still waiting by days since the request, "
           "for " + "; ".join(f"{g} (median {median_text(med.loc[g])} days)" for g in groups
                              if g in med.index) + ".")
    style.show(fig, charts.headline(title, alt))


def show_time_to_fill(pub: Publication) -> None:
    """Median days with CI and share filled within each target, by request group."""
    med = pub["medians"]
    if med.empty:
        style.say("There are no PA requests, so time to recruit cannot be measured.")
        return
    t = pd.DataFrame({"group": med["group"], "n": med["n"], "events": med["events"],
                      "median": med.apply(median_text, axis=1),
                      "median_ci": med.apply(lambda r: "" if pd.isna(r["value"]) else
                                             f"{median_text(r, 'lower')} to "
                                             f"{median_text(r, 'upper')}", axis=1)})
    labels = {"group": "Requests", "n": "Number", "events": "Filled", "median": "Median days",
              "median_ci": "95% CI (days)"}
    for days, part in pub["filled"].groupby("days", sort=False):
        # blank where the target is not set for the group (the discharge target applies to
        # hospital-discharge requests, and to all requests for comparison)
        key, part = f"within_{int(days)}", part.set_index("group")
        labels |= {key: f"Filled within {int(days)} days",
                   f"{key}_ci": f"Filled within {int(days)} days (95% CI)"}
        t[key] = t["group"].map(part["value"].map(fmt_share)).fillna("")
        t[f"{key}_ci"] = t["group"].map(
            interval_text(part.reset_index()).set_axis(part.index)).fillna("")
    days = pub.context["discharge_target_days"]
    discharge = ("" if days in pub.context["target_days"] else f". The {days}-day target is "
                 "for hospital discharge, shown for all requests to compare")
    table(pub, t, ["n", "events"], labels=labels,
          caption="Days from request to a PA starting (Kaplan-Meier median; open and withdrawn "
          "requests count for as long as they were observed, never dropped). Filled within N "
          "days: of the requests followed for N days (made at least N days before the end of "
          "the data and not withdrawn sooner), the share filled within N days" + discharge)


def show_recruitment_cox(pub: Publication) -> None:
    """Hazard ratios of being filled, each preference type vs none (Cox PH)."""
    cox = pub["cox"]
    c = cox[cox["value"].notna()]
    if c.empty:
        style.say("There are too few filled requests to model who waits longer.")
        return
    slow = c[c["upper"] < 1]
    title = (f"Requests stating a {' or '.join(slow['preference'].str.lower())} preference "
             "take longer to fill" if len(slow) else
             "None of the stated preferences clearly changes how quickly a request is filled")
    what = ("hazard ratios of a request being filled, for requests stating each preference "
            "against those that do not")
    alt = charts.headline(title, charts.alt_text("Dot chart", what, c, "preference", pct=False,
                                          after="Below 1 means slower."))
    charts.ci_dots(c, "preference", title=title, alt=alt, pct=False, ref=1.0, log=True,
                   subtitle="Hazard ratio of being filled (Cox model, each type adjusted for "
                   "the others), 95% CIs; below 1 = waits longer", xlabel="Hazard ratio: how "
                   "quickly filled, against requests without the preference (log scale)",
                   ylabel="Stated preference", sort=False)
    for r in cox[cox["value"].isna()].itertuples():
        style.say(f"{r.preference}: no hazard ratio shown ({r.note}).")
    style.say(proportional_hazards(c))


def proportional_hazards(c: pd.DataFrame) -> str:
    """A sentence on the Cox model's checks: whether errors were clustered by person (when
    someone made several requests), and whether each ratio held over the waiting time
    (proportional-hazards test, p < 0.05 means it did not)."""
    drifting = c.loc[c["ph_p_value"] < 0.05, "preference"].str.lower().tolist()
    held = ("Each ratio held steady over the waiting time (proportional-hazards check)."
            if not drifting else
            f"The ratio for {' and '.join(drifting)} changed over the waiting time "
            "(proportional-hazards check), so read it as an average over the wait.")
    clustered = "method" in c and c["method"].fillna("").str.contains("clustered").any()
    return ("Intervals allow for one person making several requests (errors clustered by "
            f"person). {held}" if clustered else held)


# --- Match achieved ---------------------------------------------------------------------
def show_match(pub: Publication) -> None:
    """Of filled requests with each preference, the share whose PA matched it (Wilson CI)."""
    t = pub["match"]
    if t.empty:
        style.say("No filled request states a preference whose match can be checked against the "
                  "register.")
        return
    d = t[["preference", "filled", "checked", "matched", "value"]].assign(
        ci=interval_text(t), not_on_register=t["not_on_register"])
    table(pub, d, ["filled", "checked", "matched", "not_on_register"], share_cols=["value"],
                 labels={"filled": "Filled requests stating it",
                         "checked": "PA found on the register", "value": "% matched",
                         "ci": "95% CI", "not_on_register": "PA not on the register"},
                 caption="Match achieved: of filled requests stating a preference, the share "
                 "whose PA met it")


def show_match_sources(pub: Publication) -> None:
    """How PAs were found, by the person's broad ethnic group (share of filled requests)."""
    s = pub["sources"]
    if s.empty:
        style.say("How PAs were found is not recorded (no match_source column), or no request "
                  "was filled.")
        return
    s = s.assign(source=s["source"].map(lambda v: SOURCE_LABELS.get(v, v.capitalize())))
    wide = s.pivot(index="group", columns="source", values="requests")
    srcs = list(wide.columns)
    wide["Filled requests"] = s.groupby("group")["total"].first()  # rounded on its own
    shares = s.pivot(index="group", columns="source", values="value").add_prefix("% ")
    order = [g for g in [ALL_REQUESTS, *codes.BROAD_GROUPS, "Not known"] if g in wide.index]
    wide = wide.join(shares).reindex(order).reset_index().rename(columns={"group": "Group"})
    fam = s[(s["group"] == ALL_REQUESTS) & (s["source"] == SOURCE_LABELS["family member"])]
    cap = "How PAs were found, by the person's ethnic group"
    if len(fam) and pd.notna(fam["value"].iloc[0]):
        cap += (f": {fmt_share(fam['value'].iloc[0])} of filled requests were filled by a family "
                f"member ({ci_text(fam.iloc[0])}); relatives, including those living elsewhere, "
                "may be employed as PAs")
    table(pub, wide, [*srcs, "Filled requests"], share_cols=list(shares.columns),
          labels={c: c for c in wide.columns}, caption=cap)  # source names as they are


# --- Change between snapshots -----------------------------------------------------------
def _change_rows(ch: pd.DataFrame) -> pd.DataFrame:
    """The columns of the change table from a `snapshot_change` frame."""
    return pd.DataFrame({"group": ch["group"], "stayed": ch["retained"], "left": ch["leavers"],
                         "joined": ch["joiners"], "net": ch["joiners"] - ch["leavers"],
                         "retention": ch["value"], "ci": interval_text(ch)})


def show_change(pub: Publication, by: str = "all") -> None:
    """Joiners, leavers, net change and retention between the last two snapshots."""
    dates = pub.context["snapshot_dates"]
    if len(dates) < 2:
        style.say(f"The register has only {len(dates)} snapshot(s)"
                  + (f" ({wording.day(dates[0])})" if dates else "")
                  + ": change between snapshots needs at least two.")
        return
    ch = pub.get(f"change/{by}")
    if ch is None or ch.empty:
        style.say("No active PAs to compare between the last two snapshots.")
        return
    what = CHANGE_LABELS.get(by, by)
    t = _change_rows(ch)
    if by == "ethnic_group_broad":
        total = pub["change/all"].assign(group=CHANGE_LABELS["all"])
        t = pd.concat([t, _change_rows(total)], ignore_index=True)
    note = " (a PA who speaks two languages counts in both)" if by == "language" else ""
    r0 = ch.iloc[0]
    table(pub, t, ["stayed", "left", "joined"], share_cols=["retention"],
          labels={"group": what, "net": "Net change", "ci": "95% CI"},
          caption=f"Active PAs at {wording.day(r0['from_date'])} who stayed or left by "
          f"{wording.day(r0['to_date'])}, and PAs who joined"
          f"{'' if by == 'all' else ' by ' + what.lower()}{note}; net change = joined - left "
          "(of the rounded counts); retention = share who stayed")


# --- Methods and caveats ----------------------------------------------------------------
def show_methods(pub: Publication) -> None:
    """Methods and caveats, including what the data lack."""
    c = pub.context
    area = AREA_WORDS.get(c["area_level"], c["area_level"])
    extract = c["extract"]
    end = f" ({wording.day(extract)})" if extract is not None and pd.notna(extract) else ""
    lines = [
        "- **The register only holds PAs known to the support agencies.** PAs employed "
        "directly (found by word of mouth, or family members) are missing unless an agency "
        "lists them, so coverage gaps may be smaller in reality, and unknowable from here.",
        f"- **Who the PAs are.** Active PAs at the {when(pub)} snapshot, each counted once "
        "however many agencies list them, against people with a Direct Payment used for PAs "
        "(alone or with agency care) and the adult population. Shares have Wilson 95% CIs. The "
        "index of dissimilarity (Duncan) has a percentile bootstrap CI; it is biased upwards "
        "when counts are small. Relative likelihood follows the Social Care Workforce Race "
        "Equality Standard: (PAs / adults) in a group over the same for White adults, each "
        "group on its own (groups are never merged).",
        f"- **Language coverage.** People with a Direct Payment on {wording.day(c['as_at'])} by "
        f"preferred language, against active PAs at the {when(pub)} snapshot who list the "
        f"language. An area ({area}) counts as having no PA who speaks it when no active PA "
        "living in it lists it. PAs may travel beyond their area, so this is a measure of local "
        "supply. 'Not recorded' is not treated as English. Everyone with a Direct Payment is "
        "counted, so the gaps are exact figures, not estimates from a sample, and have no "
        "confidence interval.",
        "- **Time to recruit.** Kaplan-Meier from request to filled; withdrawn requests are "
        f"censored at withdrawal and open ones at the end of the data{end}; none is dropped. "
        "Medians with log-transformed CIs (as R's survfit). The share filled within N days is "
        "counted among the requests followed for N days (made at least N days before the end "
        "of the data and not withdrawn sooner), so it can be worked out from rounded counts. "
        "A Cox proportional-hazards model (Efron ties) with one indicator per preference type "
        "gives hazard ratios: below 1 means such requests are filled more slowly. When a "
        "person made several requests, its standard errors are robust and clustered by person; "
        "a proportional-hazards check (Schoenfeld residuals against the rank of time) says "
        "whether each ratio held over the wait.",
        "- **Match achieved.** The PA who filled a request is looked up on the register by "
        "their PA number; PAs not on the register are counted apart and left out of the share.",
        "- **Councils.** The register has no council column, so when the data hold several "
        "councils a PA belongs to the council whose areas include where the PA lives.",
        f"- **Disclosure control.** {c['disclosure_note']} A median or a model estimate is "
        "shown only with enough people (and requests filled or not) behind it. No "
        "person-level row or identifier is shown.",
    ]
    lacks = "\n".join(f"- {n}" for n in data_notes(pub))
    lacking = f"\n\n**What this data folder lacks.**\n{lacks}" if lacks else ""
    style.say("\n".join(lines) + lacking)
