"""Notebook 01's key findings and results.json rows, written from its `Publication` only.

The Publication's frames are protected (evalkit.sdc.protect): every count quoted or recorded is
rounded (or missing when suppressed), every share is x' / n' of rounded counts, so results.json
`n` and `value` give away nothing the pages do not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.analyses.uptake.compute_snapshot import (
    GROUP_COLUMNS,
    NOT_RECORDED,
    NOT_STATED,
    OTHER_LANGUAGE,
)
from evalkit.report import record as rec
from evalkit.report import wording
from evalkit.report.findings import (
    MAX_FINDINGS,
    first_within_limit,
    fmt_share,
    percent_sentence,
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
@dataclass(frozen=True)
class Finding:
    """A key finding and the Publication frame its numbers come from (the section it sums up)."""

    text: str
    source: str


def _quotable(rows: pd.DataFrame, min_cell: int) -> pd.Series:
    """Rows with a published estimate and enough people to quote it."""
    return rows["value"].notna() & (rows["people"] >= wording.min_people(min_cell))


def _likely(row: pd.Series, who: str, than: str) -> str:
    """'At the same age, gender and support need, <who> were less likely than <than> to have a
    Direct Payment (odds ratio 0.62, 95% CI 0.46 to 0.85).' from an adjusted odds ratio row (the
    odds ratio chart's figures); at most MAX_WORDS words (shorter wordings when names are long)."""
    v, lo, hi = row["value"], row["lower"], row["upper"]
    how = ("less likely than" if hi < 1 else "more likely than" if lo > 1
           else "about as likely as")
    ratio = (f"(odds ratio {v:.2f}, {round(row['conf'] * 100)}% CI {lo:.2f} to {hi:.2f})."
             + (" The difference could be due to chance." if lo <= 1 <= hi else ""))
    who = who[:1].upper() + who[1:]
    return first_within_limit(
        f"At the same age, gender and support need, {who[:1].lower()}{who[1:]} were {how} "
        f"{than} to have a Direct Payment {ratio}",
        f"{who} were {how} {than} of the same need to have a Direct Payment {ratio}",
        f"{who} were {how} the reference group of the same need to have a Direct Payment "
        f"{ratio}")


def _group_findings(pub: Publication) -> list[Finding]:
    """Up to three groups compared with the reference group at the same need (the odds ratio
    chart): clear gaps first, lowest first; then one sentence naming groups too small to compare."""
    ctx = pub.context
    o = pub["odds/group"]
    o = o[(o["factor"] == "group") & (o["group"] != NOT_STATED)]
    ok = _quotable(o, ctx["min_cell"])
    ref = wording.people(ctx["reference"])
    if not ok.any():
        return [Finding("Only one ethnic group has enough recorded people here, so uptake cannot "
                        "be compared between groups.", "odds/group")]
    shown = o[ok].assign(_clear=(o["upper"] < 1) | (o["lower"] > 1))
    shown = shown.sort_values(["_clear", "value"], ascending=[False, True]).head(3)
    out = [Finding(_likely(r, f"the {int(r['people']):,} {wording.people(r['group'])}", ref),
                   "odds/group") for _, r in shown.iterrows()]
    small = o[~ok]["group"].astype(str).tolist()
    if small:
        more = " and other groups" if len(small) > 2 else ""
        out.append(Finding(first_within_limit(
            f"There were too few people in the {wording.names(small[:2])} group"
            f"{'s' if len(small) > 1 else ''}{more} to compare them with {ref}.",
            f"There were too few people in other ethnic groups to compare them with {ref}.",
            "There were too few people in other ethnic groups to compare them with the "
            "reference group."), "odds/group"))
    return out


def _language_finding(pub: Publication) -> list[Finding]:
    """The language whose speakers are furthest below the reference language's speakers at the
    same need, if any clearly is (the odds ratio chart's language rows)."""
    o = pub["odds/group"]
    lang = o[(o["factor"] == "language") & ~o["group"].isin([NOT_RECORDED, OTHER_LANGUAGE])]
    lang = lang[_quotable(lang, pub.context["min_cell"]) & (lang["upper"] < 1)]
    if lang.empty:
        return []
    r = lang.sort_values("value").iloc[0]
    return [Finding(_likely(r, f"the {int(r['people']):,} {r['group']} speakers",
                            f"{r['reference']} speakers"), "odds/group")]


def _offer_finding(pub: Publication) -> list[Finding]:
    """The lowest Direct Payment offer rate, with every group whose rate lies within its
    interval (none is hidden behind 'the lowest'), against the reference group's rate."""
    g, ctx = pub.context["group_col"], pub.context
    off = pub["offers/group"]
    if off is None:
        return []
    off = off[(off["measure"] == "offered") & off["value"].notna() & (off[g] != NOT_STATED)]
    off = off[off["recorded"] >= wording.min_people(ctx["min_cell"])].sort_values("value")
    if len(off) < 2:
        return []
    low = off.iloc[0]
    near = off[off["value"] <= low["upper"]]
    ref = off[off[g] == ctx["reference"]]

    def rate(r: pd.Series, ci: bool) -> str:
        text = f"{fmt_share(r['value'])} of {int(r['recorded']):,} {wording.people(r[g])}"
        return text + (f" (95% CI {fmt_share(r['lower'])} to {fmt_share(r['upper'])})" if ci
                       else "")

    def sentence(ci: bool, limit: int, compare: bool = True) -> str:
        lowest = wording.names([rate(r, ci and i == 0)
                                for i, (_, r) in enumerate(near.head(limit).iterrows())])
        if len(near) > limit:
            lowest += ", and other groups at similar rates,"
        which = "the lowest rate" if len(near) == 1 else "the lowest, similar rates"
        against = ("" if not compare or ref.empty or ref.index[0] in near.index[:limit] else
                   f", against {rate(ref.iloc[0], ci)}")
        return (f"Of people with an offer recorded, {lowest} had been offered a Direct Payment, "
                f"{which}{against}.")

    return [Finding(first_within_limit(sentence(True, 3), sentence(False, 3), sentence(False, 1),
                                       sentence(False, 1, compare=False)), "offers/group")]


def sourced_findings(pub: Publication) -> list[Finding]:
    """3 to 6 findings, each with its uncertainty and denominator and the frame it comes from.

    Groups are compared with the report's reference group at the same age, gender and support
    need, with the adjusted odds ratios the report charts ('less likely' below 1: the direction,
    not 'times as likely', as odds are not risks)."""
    ctx = pub.context
    place, when = ctx["place"], wording.day(ctx["period_end"])
    o = pub["overall"].iloc[0]
    if o["people"] == 0:
        return [Finding(f"No adult was receiving long-term community support in {place} on "
                        f"{when}, so there is nothing to report.", "overall")]
    who = f"adults on long-term community support in {place} on {when}"
    out = [Finding(percent_sentence(
        f"the {int(o['people']):,} {who}" if np.isfinite(o["people"]) else who,
        o["value"], o["lower"], o["upper"], outcome="had a Direct Payment", n=o["people"],
        decimals=1), "overall")]
    out += _group_findings(pub) + _language_finding(pub)
    if len(out) < MAX_FINDINGS:
        out += _offer_finding(pub)
    return out[:MAX_FINDINGS]


def key_findings(pub: Publication) -> list[str]:
    """The key findings' sentences (`sourced_findings`)."""
    return [f.text for f in sourced_findings(pub)]


def record(pub: Publication, path: str | Path = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(pub), notebook=pub.notebook, parameters=pub.context["params"],
                     path=path)
    write_key_findings(key_findings(pub), out.parent / "key_findings.md")
    return out
