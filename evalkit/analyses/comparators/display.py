"""How a council compares: its headline figures beside its region's and England's, with the
comparison in words as Fingertips gives it ("better than England", "similar to the region").
Reads only the comparators' `Publication`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evalkit.analyses.comparators.compute import MEASURES
from evalkit.report import style, tables
from evalkit.report.publication import Publication

#: a position in words, for measures where higher is better, lower is better, or neither
WORDS = {"higher": {"higher": "better than", "lower": "worse than", "similar": "similar to"},
         "lower": {"higher": "worse than", "lower": "better than", "similar": "similar to"},
         None: {"higher": "higher than", "lower": "lower than", "similar": "similar to"}}


def in_words(at_95: str | None, at_998: str | None, better: str | None, whom: str) -> str:
    """One comparison in words: e.g. 'worse than England (beyond the 99.8% limit)', or why
    it was not made."""
    if at_95 is None or pd.isna(at_95):
        return "not compared (too few people, or a count is confidential)"
    words = f"{WORDS[better][at_95]} {whom}"
    if at_95 != "similar":
        words += " (beyond the 99.8% limit)" if at_998 == at_95 else " (beyond the 95% limit)"
    return words


def comparison_table(pub: Publication, measures: Sequence[str]) -> pd.DataFrame:
    """One row per measure and group shown: the shares and the comparisons in words."""
    cmp = pub["comparisons"]
    region = pub.context["region"] or "the region"
    cmp = cmp[cmp["measure"].isin(measures)]
    better = [MEASURES[m].better for m in cmp["measure"]]  # a list: None stays None
    return pd.DataFrame({
        "measure": cmp["measure"].map(lambda m: MEASURES[m].label), "group": cmp["group"],
        "numerator": cmp["numerator"], "denominator": cmp["denominator"], "value": cmp["value"],
        "region": cmp["region"], "england": cmp["england"],
        "vs_england": [in_words(a, b, w, "England") for a, b, w in
                       zip(cmp["england_950"], cmp["england_998"], better, strict=True)],
        "vs_region": [in_words(a, b, w, region) for a, b, w in
                      zip(cmp["region_950"], cmp["region_998"], better, strict=True)]})


def show_comparators(pub: Publication, measures: Sequence[str]) -> None:
    """The council's `measures` beside its region and England, with the comparisons in words;
    a sentence saying why when there are no comparators or none of these measures."""
    place = pub.context["place"]
    cmp = pub["comparisons"]
    if cmp is None:
        style.say(f"{place} is not compared with England or its region here: "
                  f"{pub.context['reason'] or 'the data hold none of these measures'}.")
        return
    table = comparison_table(pub, measures)
    if table.empty:
        style.say(f"The national data hold none of these measures for {place}, so they are "
                  "not compared with England or its region.")
        return
    tables.table(table, ["numerator", "denominator"], min_cell=pub.context["min_cell"],
                 labels={"measure": "Measure", "group": "Group",
                         "numerator": f"{place}: counted", "denominator": f"{place}: out of",
                         "value": place, "region": pub.context["region"] or "Region",
                         "england": "England", "vs_england": "Compared with England",
                         "vs_region": "Compared with the region"},
                 share_cols=["value", "region", "england"],
                 caption=f"{place} compared with its region and England",
                 footnote=pub.context["disclosure_note"])
    style.say(f"Comparisons are Fingertips': {place}'s 95% and 99.8% confidence intervals set "
              "against the region's and England's share (the funnel plot's limits); 'similar' "
              f"means the difference could be chance. Figures are from {pub.context['source']}, "
              "worked out the way this report works out its own.")
