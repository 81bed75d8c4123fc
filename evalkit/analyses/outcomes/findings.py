"""Notebook 03's words and results.json rows, read from its Publication only: who a change
targeted, the sentence for each change's estimate and survey shift, which estimate to quote,
the key findings, and the key estimates (names as docs/planted_effects.md, 03_outcomes)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.analyses.outcomes.compute import NOTEBOOK
from evalkit.analyses.outcomes.compute_controlled import OUTCOME as CONTROLLED_OUTCOME
from evalkit.analyses.outcomes.compute_experience import MEASURES
from evalkit.analyses.outcomes.compute_series import OUTCOMES, split_items, teams_of
from evalkit.data import codes
from evalkit.report import findings, wording
from evalkit.report import record as rec
from evalkit.report.publication import Publication

SHORT_NAME = 60  # characters of a change's name kept when a finding would be too long


# ---------------------------------------------------------------- the changes
def who(change: pd.Series) -> str:
    """Plain words for the change's target: 'Asian people', 'people whose preferred language is
    Somali', 'people in teams T01, T02'."""
    parts = []
    for item in split_items(change["target_groups"]):
        low = item.lower()
        if low == "all":
            parts.append("people" if teams_of(change) else "everyone")
        elif item in codes.BROAD_GROUPS:
            parts.append(f"{item} people")
        elif item in codes.ETHNIC_GROUPS:
            parts.append(f"people in the {item} group")
        else:
            name = codes.language(item.split(":", 1)[1] if low.startswith("language:") else item)
            parts.append(f"people whose preferred language is {name}")
    text = " and ".join(parts)
    teams = teams_of(change)
    return f"{text} in teams {', '.join(teams)}" if teams else text


def selected(pub: Publication) -> pd.DataFrame:
    """The changes selected for evaluation, in the log's order."""
    changes = pub["changes"]
    return changes[changes["selected"]]


def change(pub: Publication, change_id: str) -> pd.Series:
    """The `changes` row of a selected change; ValueError naming the selected ones otherwise."""
    chosen = selected(pub)
    if change_id not in set(chosen["change_id"]):
        raise ValueError(f"change {change_id!r} was not evaluated; evaluated: "
                         f"{chosen['change_id'].tolist()}")
    return chosen[chosen["change_id"] == change_id].iloc[0]


def names(pub: Publication, ids: str) -> str:
    """The names of the changes whose log ids `ids` lists (';'-separated), joined by ', ': the
    report names a change by its name, never by its id in the log."""
    by_id = dict(zip(pub["changes"]["change_id"], pub["changes"]["name"], strict=True))
    return ", ".join(by_id.get(i, i) for i in split_items(ids))


def group_words(pub: Publication, group: str) -> str:
    """Plain words for a row's group: a change's target and name for its `<change_id>:<target>`
    key (results.json keeps the key), else a broad ethnic group's people."""
    log = pub["changes"]
    hit = log[log["group"] == group]
    if len(hit):
        return f"{who(hit.iloc[0])}, the target of {hit.iloc[0]['name']}"
    return f"{group} people"


def term(estimates: pd.DataFrame | None, name: str) -> pd.Series | None:
    """The row of an estimates frame for term `name` (level_change, ...), or None."""
    if estimates is None:
        return None
    rows = estimates[estimates["term"] == name]
    return rows.iloc[0] if len(rows) else None


# ---------------------------------------------------------------- sentences
def _ratio_words(e: pd.Series, expected: str = "the level the pre-change trend predicted") -> str:
    ci = f"95% CI {e['lower']:.2f} to {e['upper']:.2f}"
    if e["lower"] > 1:
        return f"rose to {e['value']:.2f} times {expected} ({ci})"
    if e["upper"] < 1:
        return f"fell to {e['value']:.2f} times {expected} ({ci})"
    return f"were {e['value']:.2f} times {expected} ({ci}), which could be chance"


def _change_sentence(c: pd.Series, subject: str, results: list[str]) -> str:
    """"After <change> (<month>), <subject> among <who> <result>." in the longest wording within
    the findings' word limit: who, when and then the change's long name give way; the result
    (estimate, interval, "could be chance") is never cut. `results` longest first."""
    name, when = c["name"], wording.month(c["date"])
    short = textwrap.shorten(name, SHORT_NAME, placeholder=" ...")
    heads = [f"After {name} ({when}), {subject} among {who(c)}",
             f"After {name} ({when}), {subject} among the people it targeted",
             f"After {short}, {subject} among the people it targeted"]
    return findings.check_wording(findings.first_within_limit(
        *(f"{head} {result}." for result in results for head in heads)))


def its_sentence(pub: Publication, change_id: str) -> str:
    """One sentence: the level change with CI, for whom, against what counterfactual."""
    c = change(pub, change_id)
    words = OUTCOMES[pub.context["outcome"]][0]
    if not c["evaluated"]:
        short = textwrap.shorten(c["name"], SHORT_NAME, placeholder=" ...")
        return findings.check_wording(findings.first_within_limit(
            f"{c['name']} ({wording.month(c['date'])}) could not be evaluated: "
            f"{c['shortfall']}.",
            f"{short} could not be evaluated; the section on it says why."))
    e = term(pub[f"its/{change_id}"], "level_change")
    if pub.context["outcome"] == "setup_days":
        ci = f"95% CI {e['lower']:.1f} to {e['upper']:.1f}"
        return _change_sentence(c, words, [
            f"changed by {e['value']:+.1f} days ({ci}) against the pre-change trend"])
    return _change_sentence(c, words, [_ratio_words(e)])


def controlled_sentence(pub: Publication, change_id: str) -> str:
    """One sentence: the controlled level change (against the comparison group's own trend)."""
    c = change(pub, change_id)
    e = term(pub[f"controlled_its/{change_id}"], "treated:level_change")
    return _change_sentence(c, "DP starts", [
        _ratio_words(e, f"the level expected from {c['comparison']}"),
        _ratio_words(e, "the level expected from the comparison group")])


def recommended_sentence(pub: Publication, change_id: str) -> str:
    """The sentence of the estimate the report says to quote (`quote`): the controlled
    comparison's when it is the one to quote, else the interrupted time series'."""
    kind, _ = quote(pub, change_id)
    return controlled_sentence(pub, change_id) if kind == "controlled" else its_sentence(
        pub, change_id)


def survey_sentence(shifts: pd.DataFrame, change: pd.Series, measure: str = "scrqol") -> str:
    """One sentence on a survey measure before vs after, with its CI."""
    r = shifts[shifts["measure"] == measure].iloc[0]
    words = MEASURES[measure][0].split(" (")[0]
    short = textwrap.shorten(change["name"], SHORT_NAME, placeholder=" ...")
    return findings.first_within_limit(*(findings.difference_sentence(
        subject, r["value"], r["lower"], r["upper"], measure=words, unit="points",
        n=min(r["n_before"], r["n_after"]), words=("higher than before", "lower than before"))
        for subject in (f"{who(change.drop('target_teams'))} surveyed after {change['name']}",
                        f"the people it targeted surveyed after {change['name']}",
                        f"the people it targeted surveyed after {short}")))


def quote(pub: Publication, change_id: str) -> tuple[str, str]:
    """Which estimate the council should quote ('none', 'its' or 'controlled'), and why."""
    c = change(pub, change_id)
    if not c["evaluated"]:
        return "none", "the change could not be evaluated: " + c["shortfall"]
    ctl = pub[f"controlled_its/{change_id}"]
    outcome = pub.context["outcome"]
    if outcome != CONTROLLED_OUTCOME:
        return "its", (f"the single-group interrupted time series of {OUTCOMES[outcome][0]}: "
                       "the controlled comparison counts DP starts, another outcome")
    if ctl is None:
        reason = c["controlled_reason"]
        return "its", ("the single-group interrupted time series, as there is no usable "
                       "comparison group" + (f" ({reason})" if reason else ""))
    if term(ctl, "treated:trend")["p_value"] < pub.context["alpha"]:
        return "its", ("the single-group interrupted time series: the comparison group's trend "
                       "before the change was not parallel, so the controlled estimate could "
                       "mislead")
    return "controlled", ("the controlled interrupted time series: it removes changes that "
                          "affected both groups alike and gives each group its own trend; no "
                          "difference in the groups' trends before the change was detected, "
                          "which does not prove they were parallel")


def _verdict(e: pd.Series) -> str:
    """'a rise', 'a fall' or 'no clear change' from a ratio's interval."""
    return "a rise" if e["lower"] > 1 else "a fall" if e["upper"] < 1 else "no clear change"


def disagreement(pub: Publication, change_id: str) -> str:
    """When the single-group and the controlled estimates give different answers (a rise, a fall
    or no clear change), a sentence saying so and why they can differ; '' when they agree."""
    ctl = term(pub[f"controlled_its/{change_id}"], "treated:level_change")
    own = term(pub[f"its/{change_id}"], "level_change")
    if ctl is None or own is None or pub.context["outcome"] != CONTROLLED_OUTCOME:
        return ""
    if _verdict(own) == _verdict(ctl):
        return ""
    c = change(pub, change_id)
    kind, _ = quote(pub, change_id)
    chosen = "controlled comparison" if kind == "controlled" else "single-group series"
    return (f"The two estimates disagree: the single-group series shows {_verdict(own)} "
            f"({own['value']:.2f}) and the comparison with {c['comparison']} shows "
            f"{_verdict(ctl)} ({ctl['value']:.2f}). They differ when something else changed "
            "for both groups at the same time (the comparison removes it) or when the groups' "
            f"trends differ (the single-group series is then safer); quote the {chosen}.")


def key_findings(pub: Publication) -> list[str]:
    """One to six sentences generated from the estimates: each evaluated change's level change
    (at most five), the changes that could not be evaluated, and
    survey shifts in quality of life whose interval excludes no change. A change's sentence is
    the estimate the report says to quote (`recommended_sentence`), never a run chart's signal."""
    chosen = selected(pub)
    if not len(chosen):
        changes = pub["changes"]
        planned = int((~changes["implemented"]).sum()) if len(changes) else 0
        return [f"No implemented practice change is logged for {pub.context['place']}"
                + (f"; {planned} planned change(s) are listed." if planned else ".")]
    done = chosen[chosen["evaluated"]]
    out = [recommended_sentence(pub, cid) for cid in done["change_id"]][:5]
    skipped = chosen.loc[~chosen["evaluated"], "name"].tolist()
    if skipped:
        out.append(findings.first_within_limit(
            f"{'; '.join(skipped)}: could not be evaluated, mainly because of too few months or "
            "DP starts before or after; the sections below say what is missing.",
            f"{len(skipped)} change{'s' if len(skipped) > 1 else ''} could not be evaluated, "
            "mainly because of too few months or DP starts before or after; the sections below "
            "say which and why."))
    for _, c in chosen.iterrows():
        shifts = pub[f"survey/{c['change_id']}"]
        if shifts is not None and len(out) < findings.MAX_FINDINGS:
            r = shifts[shifts["measure"] == "scrqol"].iloc[0]
            if np.isfinite(r["value"]) and r["lower"] * r["upper"] > 0:
                out.append(survey_sentence(shifts, c))
    return out[:findings.MAX_FINDINGS]


# ---------------------------------------------------------------- results.json
SCALES = {"rate ratio": "ratio", "absolute": "difference"}  # its estimates' scale -> results'


def estimates(pub: Publication) -> pd.DataFrame:
    """Key estimates in the results.json shape, every change estimate the report shows, each with
    `scale` (ratio or difference): its_level_change / its_slope_change (group
    `<change_id>:<target>`), its_controlled_level_change, offer_rate_difference (teams that
    received the change against the others), survey_shift (`<change_id>:<measure>:<target>`);
    names as docs/planted_effects.md, 03_outcomes."""
    chosen = [c for _, c in selected(pub).iterrows()]
    rows = []
    for c in chosen:
        for name in ("level_change", "slope_change"):
            e = term(pub[f"its/{c['change_id']}"], name)
            if e is not None:
                rows.append({"name": f"its_{name}", "group": c["group"],
                             "reference": "pre-change trend", "value": e["value"],
                             "lower": e["lower"], "upper": e["upper"], "conf": e["conf"],
                             "n": c["events_before"] + c["events_after"],
                             "p_value": e["p_value"], "outcome": pub.context["outcome"],
                             "scale": SCALES[e["scale"]], "co_changes": c["co_changes"]})
    for c in chosen:
        e = term(pub[f"controlled_its/{c['change_id']}"], "treated:level_change")
        if e is not None:
            rows.append({"name": "its_controlled_level_change", "group": c["group"],
                         "reference": c["comparison"], "value": e["value"], "lower": e["lower"],
                         "upper": e["upper"], "conf": e["conf"],
                         "n": pub[f"controlled/{c['change_id']}"]["y"].sum(),
                         "p_value": e["p_value"], "outcome": CONTROLLED_OUTCOME,
                         "scale": "ratio"})
        offers = pub[f"offers_did/{c['change_id']}"]
        if offers is not None:
            d = offers.iloc[0]
            rows.append({"name": "offer_rate_difference", "group": c["group"],
                         "reference": "teams that did not receive the change",
                         "value": d["value"], "lower": d["lower"], "upper": d["upper"],
                         "conf": d["conf"], "n": d["n"], "p_value": d["p_value"],
                         "scale": "difference"})
    for c in chosen:
        shifts = pub[f"survey/{c['change_id']}"]
        if shifts is None:
            continue
        for _, r in shifts.iterrows():
            if np.isfinite(r["value"]):
                rows.append({"name": "survey_shift",
                             "group": f"{r['change_id']}:{r['measure']}:{r['group']}",
                             "reference": "before the change", "value": r["value"],
                             "lower": r["lower"], "upper": r["upper"], "conf": r["conf"],
                             "n": r["n_before"] + r["n_after"], "p_value": r["p_value"],
                             "effect_size": r["effect_size"], "scale": "difference",
                             "compared": r["compared"]})
    cols = ["name", "group", "reference", "value", "lower", "upper", "conf", "n"]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=cols)


def record(pub: Publication, path: str | Path = "results.json") -> Path:
    """Write the key estimates to `path` and the key findings to key_findings.md beside it."""
    out = rec.record(estimates(pub), notebook=NOTEBOOK, parameters=pub.context["params"],
                     path=path)
    findings.write_key_findings(key_findings(pub), out.parent / "key_findings.md")
    return out
