"""Notebook 02's words and records, read from its Publication only: key findings, notes on what
the data lack, the results.json rows, and the small wordings the displays share. Every figure is
as the publication step protected it (rounded counts, shares from them, estimates kept under the
ACRO rule): a missing figure is not worded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from evalkit.analyses.pa_market.compute import PARAMETERS
from evalkit.analyses.pa_market.compute_recruitment import (
    ALL_REQUESTS,
    NO_PREFERENCE_GROUP,
    PREFERENCE_LABELS,
)
from evalkit.analyses.pa_market.compute_workforce import SOURCES
from evalkit.analyses.pa_market.publish import NOTEBOOK
from evalkit.report import findings
from evalkit.report import record as rec
from evalkit.report.findings import fmt_share
from evalkit.report.publication import Publication
from evalkit.sdc.protect import TOO_FEW

#: What each `Market.lacking` code means for the report ({la_code} and {area_level} filled in).
LACKING = {
    "register_not_split": "The PA register has no council or area codes matching {la_code}'s, "
                          "so PAs of every council in the data folder are compared with this "
                          "council's people.",
    "no_register": "There is no PA register in this data folder, so nothing can be said about "
                   "who the PAs are or which languages they speak.",
    "no_requests": "There are no PA requests in this data folder, so time to recruit and match "
                   "achieved cannot be measured.",
    "no_dp_used_for": "support_episodes has no dp_used_for column, so every Direct Payment "
                      "holder is compared with the PAs, including those who buy agency care.",
    "no_preferred_language": "support_episodes has no preferred_language column, so language "
                             "coverage cannot be measured.",
    "no_area_episodes": "support_episodes has no {area_level} column, so coverage by area "
                        "cannot be measured.",
    "no_area_register": "pa_register has no {area_level} column, so coverage by area cannot be "
                        "measured.",
    "no_religion": "The PA register has no religion column, so faith is not described.",
    "no_faith_preference": "PA requests have no faith_preference column, so faith preferences "
                           "are not analysed.",
    "no_match_source": "PA requests have no match_source column, so how PAs were found is not "
                       "known.",
}
#: The results.json group of each request group.
GROUP_KEYS = {ALL_REQUESTS: "all", NO_PREFERENCE_GROUP: "no_preference",
              **{label: key for key, label in PREFERENCE_LABELS.items()}}
#: Why a language gap has no interval in results.json: it counts everyone, it is not sampled.
EXACT = "exact count of every person with a DP: no confidence interval"
COMPARISON_KEYS = {f"{SOURCES['pas']} vs {SOURCES['recipients']}": "recipients",
                   f"{SOURCES['pas']} vs {SOURCES['population']}": "population"}


# --------------------------------------------------------------------------- shared wording
def ci_text(row: pd.Series, fmt: Callable[[float], str] = fmt_share) -> str:
    """'95% CI a to b' for a row with lower, upper, conf."""
    return f"{100 * row['conf']:.0f}% CI {fmt(row['lower'])} to {fmt(row['upper'])}"


def days_text(v: float) -> str:
    """Days as a whole number, or 'not reached' when the curve never gets there."""
    return "not reached" if pd.isna(v) else f"{v:.0f}"


def median_text(row: pd.Series, column: str = "value") -> str:
    """A published median (or its limit `column`) in days; 'too few to estimate' when disclosure
    control held it back, 'not reached' when the curve never gets there."""
    return TOO_FEW if row["note"] == TOO_FEW else days_text(row[column])


def count_text(n: float) -> str:
    """A published count in words: '1,280'."""
    return f"{n:,.0f}"


def data_notes(pub: Publication) -> list[str]:
    """The loader's warnings about these files, then what the data folder lacks, in words."""
    c = pub.context
    return [*c["warnings"], *(LACKING[code].format(la_code=c["la_code"],
                                                   area_level=c["area_level"])
                              for code in c["lacking"])]


def gap_sentence(row: pd.Series) -> str:
    """'Somali speakers (3.1% of people with a Direct Payment): 64% (320 of the 500 with a
    recorded area) live where no active PA speaks Somali, in 5 of the 10 areas they live in.' from
    one protected coverage row (short enough for key findings with a language name of several
    words). Every person is counted, so the gap is exact and has no interval; the parts whose
    figures are not shown (a count, share or area count held back) are left out."""
    lang, n, without = row["language"], row["areas"], row["areas_without"]
    where = ("" if pd.isna(n) or pd.isna(without) else
             f", in all {n:.0f} areas they live in" if without == n else
             f", in {without:.0f} of the {n:.0f} areas they live in")
    share = ("" if pd.isna(row["share_of_recipients"]) else
             f" ({fmt_share(row['share_of_recipients'])} of people with a Direct Payment)")
    counted = ("" if pd.isna(row["no_pa_area"]) or pd.isna(row["with_area"]) else
               f" ({count_text(row['no_pa_area'])} of the {count_text(row['with_area'])} with "
               "a recorded area)")
    return (f"{lang} speakers{share}: {fmt_share(row['value'])}{counted} live where no active "
            f"PA speaks {lang}{where}.")


# --------------------------------------------------------------------------- key findings
def key_findings(pub: Publication) -> list[str]:
    """3-6 plain sentences from the protected figures, each with its uncertainty."""
    coverage, medians, filled, cox = pub["coverage"], pub["medians"], pub["filled"], pub["cox"]
    out = []
    cov = coverage[(coverage["language"] != "English") & (coverage["value"] > 0)]
    out += [gap_sentence(r) for _, r in cov.head(2).iterrows()]
    med = medians[medians["group"] == ALL_REQUESTS]
    if len(med) and pd.notna(med["value"].iloc[0]):
        r = med.iloc[0]
        f28 = filled[(filled["group"] == ALL_REQUESTS) & (filled["days"] == 28)]
        tail = (f"; of the requests followed for 28 days, {fmt_share(f28['value'].iloc[0])} "
                f"were filled within 28 days ({ci_text(f28.iloc[0])})"
                if len(f28) and pd.notna(f28["value"].iloc[0]) else "")
        out.append(f"Half of the {count_text(r['n'])} requests for a PA were filled within "
                   f"{days_text(r['value'])} days ({ci_text(r, days_text)} days){tail}.")
    slow = cox[cox["value"].notna() & (cox["upper"] < 1)
               & (cox["preference"] != PREFERENCE_LABELS["hospital_discharge"])
               ].sort_values("value")  # discharge is a need, not a PA to match
    for _, r in slow.head(1).iterrows():
        out.append(findings.hazard_ratio_sentence(
            f"requests that asked for a PA matching their {r['preference'].lower()}", r["value"],
            r["lower"], r["upper"], comparison="requests without that preference",
            event="were filled", conf=r["conf"]))
    target = pub.context["discharge_target_days"]
    hd = filled[(filled["group"] == PREFERENCE_LABELS["hospital_discharge"])
                & (filled["days"] == target)]
    if len(hd) and pd.notna(hd["value"].iloc[0]):
        r = hd.iloc[0]
        out.append(f"Of {count_text(r['followed'])} requests for people leaving hospital "
                   f"followed for {target} days, {fmt_share(r['value'])} were filled within "
                   f"{target} days ({ci_text(r)}).")
    d = pub["dissimilarity"]
    if len(d) and pd.notna(d["value"].iloc[0]):
        r = d.iloc[0]
        out.append(f"To mirror the ethnic mix of the people who employ them, "
                   f"{fmt_share(r['value'])} of active PAs would need to be from a different broad "
                   f"ethnic group (index of dissimilarity, {ci_text(r)}).")
    return out[:6] if out else ["There are not enough data to report a finding safely."]


# --------------------------------------------------------------------------- results.json
def estimates(pub: Publication) -> pd.DataFrame:
    """The key estimates for results.json (names in docs/planted_effects.md, 02 section), with
    the `note` that says why a limit is missing where the method gave one. Only protected
    figures: `n` is a published (rounded) count, and an estimate held back is left out."""
    cols = ["name", "group", "reference", "value", "lower", "upper", "conf", "n", "note"]
    shown = {name: pub[name][pub[name]["value"].notna()]
             for name in ("cox", "coverage", "medians", "filled", "dissimilarity",
                          "representation", "match", "change/all")}
    cox, cov, med, fb = shown["cox"], shown["coverage"], shown["medians"], shown["filled"]
    dis, rep, mt, ret = (shown[k] for k in ("dissimilarity", "representation", "match",
                                            "change/all"))
    rl = rep[rep["measure"] == "relative_likelihood"]
    parts = [
        cox.assign(name="recruitment_hazard_ratio", reference="no such preference"),
        cov.assign(name="language_gap", group=cov["language"], reference="", n=cov["with_area"],
                   note=EXACT),
        med.assign(name="recruitment_median_days", group=med["group"].map(GROUP_KEYS),
                   reference=""),
        fb.assign(name="recruitment_filled_share", reference="", n=fb["followed"],
                  group=fb["group"].map(GROUP_KEYS) + ":" + fb["days"].astype(int).astype(str)),
        dis.assign(name="pa_dissimilarity_index", n=dis["pas"], reference="",
                   group="ethnic_group_broad:" + dis["comparison"].map(COMPARISON_KEYS)),
        rl.assign(name="pa_relative_likelihood", reference="White", n=rl["x"]),
        mt.assign(name="pa_match_share", reference="", n=mt["checked"],
                  group=mt["preference"].map(GROUP_KEYS)),
        ret.assign(name="pa_retention", group="all", reference="", n=ret["active_from"])]
    parts = [p.reindex(columns=cols) for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def record(pub: Publication, path: str = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(pub), notebook=NOTEBOOK,
                     parameters={k: pub.context[k] for k in PARAMETERS}, path=path)
    findings.write_key_findings(key_findings(pub), out.parent / "key_findings.md")
    return out
