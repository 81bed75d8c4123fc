"""Notebook 01's key findings and results.json rows, written from its `Publication` only.

The Publication's frames are protected (evalkit.sdc.protect): every count quoted or recorded is
rounded (or missing when suppressed), every share is x' / n' of rounded counts, so results.json
`n` and `value` give away nothing the pages do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.analyses.uptake.compute_snapshot import (
    ENGLISH,
    GROUP_COLUMNS,
    NOT_RECORDED,
    NOT_STATED,
    OTHER_LANGUAGE,
)
from evalkit.report import record as rec
from evalkit.report import wording
from evalkit.report.findings import (
    MAX_FINDINGS,
    percent_sentence,
    ratio_sentence,
    too_few,
    write_key_findings,
)
from evalkit.report.publication import Publication


# ---------------------------------------------------------------- results.json
def _rows(name: str, df: pd.DataFrame, group: pd.Series | str, reference: pd.Series | str,
          n: str) -> pd.DataFrame:
    """Estimate rows in the results.json shape from a frame with value, lower, upper, conf."""
    return pd.DataFrame({"name": name, "group": group, "reference": reference,
                         "value": df["value"], "lower": df["lower"], "upper": df["upper"],
                         "conf": df["conf"], "n": df[n].astype("Float64").astype("Int64")})


def estimates(pub: Publication) -> pd.DataFrame:
    """Key estimates in the results.json shape (names as docs/planted_effects.md, 01 section)."""
    broad = GROUP_COLUMNS["broad"]
    o = pub["odds/broad"]
    o = o[o["factor"].isin(["group", "language", "interpreter"])]
    prefix = o["factor"].map({"group": "", "language": "language:", "interpreter": "interpreter:"})
    rows = [_rows("uptake_odds_ratio", o, prefix + o["group"], prefix + o["reference"], "people")
            .assign(note=o["note"])]

    def shares(df: pd.DataFrame | None, name: str, n: str, col: str = broad) -> None:
        if df is not None and len(df):
            rows.append(_rows(name, df, df[col], "", n))

    shares(pub["uptake/broad"], "uptake_share", "people")
    off = pub["offers/broad"]
    if off is not None:
        shares(off[off["measure"] == "offered"], "dp_offer_rate", "recorded")
        shares(off[off["measure"] == "accepted"], "dp_acceptance_rate", "offered")
    isr = pub["isr/group"]
    if len(isr):
        rows.append(_rows("standardised_uptake_ratio", isr, isr[pub.context["group_col"]],
                          "same age, gender and support reason", "observed"))
    shares(pub["overall"], "uptake_share_all", "people", col="group")
    shares(pub["carer/broad"], "unpaid_carer_share", "people")
    r = pub["setup/ratio_broad"]
    if r is not None:
        rows.append(_rows("dp_setup_time_ratio", r, r[broad], r["reference"], "people"))
    out = pd.concat(rows, ignore_index=True)
    return out[out["group"].astype(str) != ""]


# ---------------------------------------------------------------- key findings
def _small(people: float, min_cell: int) -> bool:
    """Too few people to estimate a group's gap usefully (or to show it)."""
    return not np.isfinite(people) or people < wording.min_people(min_cell)


def ratio_finding(pub: Publication, row: pd.Series, who: str) -> str:
    """One Key findings sentence from a standardised uptake ratio row (observed / expected)."""
    min_cell = pub.context["min_cell"]
    n = row["people"]
    if not np.isfinite(row["value"]) or _small(n, min_cell):
        return too_few(f"{who} on community support",
                       "how likely they were to have a Direct Payment")
    return ratio_sentence(
        f"the {int(n):,} {who} on community support", row["value"], row["lower"], row["upper"],
        n=n, comparison="people of the same age, gender and support need",
        outcome="have a Direct Payment", min_n=wording.min_people(min_cell))


def _group_findings(pub: Publication) -> list[str]:
    """Up to three sentences on the groups furthest below the uptake expected for their need
    (groups too small to quote come last)."""
    g, ctx = pub.context["group_col"], pub.context
    isr = pub["isr/group"]
    isr = isr[isr[g] != NOT_STATED] if len(isr) else isr
    if isr.empty or isr[g].nunique() < 2:
        return ["Only one ethnic group has enough recorded people here, so uptake cannot be "
                "compared between groups."]
    big = isr["people"] >= wording.min_people(ctx["min_cell"])  # a suppressed count is small
    isr = isr.assign(_big=big).sort_values(["_big", "value"], ascending=[False, True])
    return [ratio_finding(pub, r, wording.people(r[g]))
            for _, r in isr[isr[g] != ctx["reference"]].head(3).iterrows()]


def _language_finding(pub: Publication) -> list[str]:
    """The language whose speakers are furthest below expected uptake, if any clearly is."""
    lang = pub["isr/language"]
    if lang is None:
        return []
    lang = lang[~lang["language"].isin([ENGLISH, NOT_RECORDED, OTHER_LANGUAGE])]
    lang = lang[(lang["upper"] < 1)
                & (lang["people"] >= wording.min_people(pub.context["min_cell"]))]
    if lang.empty:
        return []
    r = lang.sort_values("value").iloc[0]
    return [ratio_finding(pub, r, f"{r['language']} speakers")]


def _offer_finding(pub: Publication) -> list[str]:
    """The group with the lowest DP offer rate, when two or more groups can be compared."""
    g = pub.context["group_col"]
    off = pub["offers/group"]
    if off is None:
        return []
    off = off[(off["measure"] == "offered") & off["value"].notna()]
    off = off[(off[g] != NOT_STATED)
              & (off["recorded"] >= wording.min_people(pub.context["min_cell"]))]
    if len(off) < 2:
        return []
    low = off.sort_values("value").iloc[0]
    return [percent_sentence(
        f"the {int(low['recorded']):,} {wording.people(low[g])} with an offer recorded (the "
        "lowest rate of any group)", low["value"], low["lower"], low["upper"],
        outcome="had been offered a Direct Payment")]


def key_findings(pub: Publication) -> list[str]:
    """3 to 6 sentences from the estimates, each with its uncertainty and denominator.

    Group sentences quote standardised uptake ratios (observed / expected DPs at the same age,
    gender and support reason): unlike an odds ratio they read correctly as 'times as likely'.
    """
    ctx = pub.context
    place, when = ctx["place"], wording.day(ctx["period_end"])
    o = pub["overall"].iloc[0]
    if o["people"] == 0:
        return [f"No adult was receiving long-term community support in {place} on {when}, so "
                "there is nothing to report."]
    who = f"adults on long-term community support in {place} on {when}"
    out = [percent_sentence(
        f"the {int(o['people']):,} {who}" if np.isfinite(o["people"]) else who,
        o["value"], o["lower"], o["upper"], outcome="had a Direct Payment", n=o["people"],
        decimals=1)]
    out += _group_findings(pub) + _language_finding(pub)
    if len(out) < MAX_FINDINGS:
        out += _offer_finding(pub)
    return out[:MAX_FINDINGS]


def record(pub: Publication, path: str | Path = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(pub), notebook=pub.notebook, parameters=pub.context["params"],
                     path=path)
    write_key_findings(key_findings(pub), out.parent / "key_findings.md")
    return out
