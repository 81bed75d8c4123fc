"""Notebook 01's opening figure: ASCOF 3D, the official Direct Payment measure, for the council.

ASCOF 3D part 1a (self-directed support) and part 2a (Direct Payments) by age band, from the
published frame "ascof" (publish.py): its counts are rounded and suppressed like every other
count, and its percentages are worked out from the rounded counts, so they can differ a little
from NHS England's. `evalkit ascof` prints the exact official figures for the analyst only.
"""

from __future__ import annotations

import pandas as pd

from evalkit.analyses.uptake.display import count, place, when
from evalkit.report import style, tables
from evalkit.report.publication import Publication

#: the two parts of ASCOF 3D as a reader knows them
MEASURES = {"3D1a": "Self-directed support (3D part 1a)", "3D2a": "Direct Payments (3D part 2a)"}
LABELS = {"age_band": "Age band",
          "denominator": "Adults on long-term support in the community (denominator)",
          **{f"people_{m}": f"{label}: people" for m, label in MEASURES.items()},
          **{f"percent_{m}": f"{label} (%)" for m, label in MEASURES.items()}}


def by_age_band(ascof: pd.DataFrame) -> pd.DataFrame:
    """One row per age band (in published order): the denominator, and each measure's
    numerator (`people_<measure>`) and percent (`percent_<measure>`)."""
    bands = list(dict.fromkeys(ascof["age_band"]))
    wide = ascof.pivot(index="age_band", columns="measure",
                       values=["numerator", "denominator", "percent"]).reindex(bands)
    out = pd.DataFrame({"age_band": bands,
                        "denominator": wide["denominator"].max(axis=1).to_numpy()})
    for m in MEASURES:
        out[f"people_{m}"] = wide["numerator"][m].to_numpy()
        out[f"percent_{m}"] = wide["percent"][m].to_numpy()
    return out


def dp_sentence(pub: Publication, table: pd.DataFrame) -> str:
    """The Direct Payment share of adults 18 and over in plain words (or why it is not shown)."""
    adults = table[table["age_band"] == "18+"]
    if adults.empty or pd.isna(adults["percent_3D2a"].iloc[0]):
        return (f"The Direct Payment share of all adults in {place(pub)} cannot be shown: too few "
                "people, or a count it needs is confidential.")
    row = adults.iloc[0]
    return (f"On {when(pub)}, {row['percent_3D2a']:.1f}% of the {count(row['denominator'])} adults "
            f"(18 and over) on long-term support in the community in {place(pub)} had a Direct "
            "Payment (ASCOF 3D part 2a).")


def show_ascof(pub: Publication) -> None:
    """ASCOF 3D parts 1a and 2a by age band, the adults' Direct Payment share in a sentence,
    and why the figures can differ a little from NHS England's; with data that are not raw
    CLD, a sentence saying the measure needs it."""
    ascof = pub["ascof"]
    if ascof is None:
        style.say("ASCOF 3D, the official Direct Payment measure, needs raw Client Level Data "
                  "(CLD) to be worked out as NHS England does; these data are not raw CLD, so it "
                  "is not shown.")
        return
    if ascof.empty:
        style.say(f"No age band in {place(pub)} has enough people to show ASCOF 3D without "
                  "risking disclosure.")
        return
    table = by_age_band(ascof)
    tables.table(table, ["denominator", *(f"people_{m}" for m in MEASURES)],
                 min_cell=pub.context["min_cell"], labels=LABELS,
                 caption=f"ASCOF 3D by age band, {place(pub)}, {when(pub)}",
                 footnote=pub.context["disclosure_note"])
    snapshot = pd.Timestamp(pub.context["period_end"]).date().isoformat()
    style.say(f"{dp_sentence(pub, table)} These percentages are worked out from counts rounded "
              "for disclosure control, so they can differ a little from NHS England's published "
              "ASCOF 3D; the exact official calculation is printed, for the analyst only and "
              f"not into a report, by `evalkit ascof DATA_DIR --period-end {snapshot}`.")
