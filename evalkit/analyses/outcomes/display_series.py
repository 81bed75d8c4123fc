"""Notebook 03's charts of each change's monthly series: the run chart (process monitoring, never
the answer to "did the change work") or, for rare DP starts, the t chart's verdict in words; and
the interrupted time series. Read from the Publication only. Each chart's headline (its title,
written from the published numbers) is also page text and opens its alt text, so a screen reader
and a search find it; months that disclosure control left out are gaps, never zeros."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evalkit.analyses.outcomes.compute_series import OUTCOMES
from evalkit.analyses.outcomes.findings import change, its_sentence, names, term, who
from evalkit.report import charts, style, wording
from evalkit.report.publication import Publication

LAGS_SHOWN = (1, 3, 6, 12)  # residual autocorrelation lags shown under each ITS
#: The ITS chart's y axis stops this far above the highest line or point: a counterfactual
#: interval far wider than the data would otherwise flatten the series (issue 18: bands of
#: 700-1,100 over data of 10-45).
HEADROOM = 1.5

#: What a run chart can and cannot say about a change (issue 17: after a change with no effect
#: planted, 79% of synthetic charts still signal, because the series has its own trend and other
#: changes; Making Data Count reads a signal as "the process changed", not "this worked").
SPC_CAUTION = ("An unusual month shows that the process changed, not that this change caused "
               "it: trends and other changes in the same months also give signals. Whether the "
               "change worked is answered by the interrupted time series below, which allows for "
               "the trend and the other changes.")

#: Making Data Count's rule names (as `stats.spc` labels them) in words, for `{unit}`s.
RULE_WORDS = ((re.compile(r"Above UCL"), "above the upper limit"),
              (re.compile(r"Below LCL"), "below the lower limit"),
              (re.compile(r"(\d+) Point Trend \(Increasing\)"), r"\1 {unit}s rising in a row"),
              (re.compile(r"(\d+) Point Trend \(Decreasing\)"), r"\1 {unit}s falling in a row"),
              (re.compile(r"2 in 3 Above CL"), "2 of 3 {unit}s near the upper limit"),
              (re.compile(r"2 in 3 Below CL"), "2 of 3 {unit}s near the lower limit"),
              (re.compile(r"(\d+) Points Above CL"), r"\1 {unit}s in a row above the average"),
              (re.compile(r"(\d+) Points Below CL"), r"\1 {unit}s in a row below the average"))


def rule_words(rule: str, unit: str = "month") -> str:
    """A Making Data Count rule ("7 Points Above CL") in words ("7 months in a row above the
    average")."""
    for pattern, words in RULE_WORDS:
        if pattern.fullmatch(rule):
            return pattern.sub(words.replace("{unit}", unit), rule)
    raise ValueError(f"rule_words: unknown SPC rule {rule!r}")


def headline(fig: Figure, title: str, alt: str) -> None:
    """Show the chart's headline as page text, then the chart with alt text that opens with it."""
    style.show(fig, charts.headline(title, alt))


def chart_values(series: pd.DataFrame, outcome: str) -> tuple[pd.Series, int]:
    """The published monthly values (the protected count, the share of protected counts, or the
    mean days; NaN where not published) and how many months have none to draw."""
    y = series["share"] if OUTCOMES[outcome][2] == "p_prime" else series["y"]
    return y, int(y.isna().sum())


def held_back(estimate: pd.Series, c: pd.Series) -> bool:
    """Say so and answer True when disclosure control held an estimate back (too few events or
    months behind the model, the ACRO rule)."""
    if pd.notna(estimate["value"]):
        return False
    style.say(f"The estimate for **{c['name']}** is not shown: too few events or months behind "
              "the model to publish it safely.")
    return True


# ---------------------------------------------------------------- run charts
def spc_title(pub: Publication, change_id: str) -> str:
    """The run chart's headline: how many months were unusual and why, in words; never a claim
    about the change."""
    c = change(pub, change_id)
    words = OUTCOMES[pub.context["outcome"]][0]
    points, summ = pub[f"spc/{change_id}"], pub[f"spc_limits/{change_id}"]
    unusual = int((points["point_type"] != "common_cause").sum())
    rules = sorted({r for rs in summ["rules"] for r in rs.split(";") if r})
    subject = f"{words.capitalize()} among {who(c)}"
    if not unusual:
        return f"{subject}: no unusual months, the process was stable over {period_words(pub)}"
    return (f"{subject}: {unusual} unusual month{'s' if unusual > 1 else ''} over "
            f"{period_words(pub)} ({'; '.join(rule_words(r) for r in rules)})")


def show_spc(pub: Publication, change_id: str) -> None:
    """Run chart with XmR or p' limits and Making Data Count flags for one change's series; for
    DP starts without one (too rare, or months too small to publish), the t chart's verdict in
    words; else why there is none."""
    c = change(pub, change_id)
    points, summ = pub[f"spc/{change_id}"], pub[f"spc_limits/{change_id}"]
    if points is None:
        style.say(_no_run_chart(pub, c))
        return
    outcome = pub.context["outcome"]
    words, _, chart, _ = OUTCOMES[outcome]
    y, hidden = chart_values(pub[f"series/{change_id}"], outcome)
    scale = 100 if chart == "p_prime" else 1
    fig, ax = style.figure()
    flagged = points["point_type"] != "common_cause"
    ax.plot(points["month"], y * scale, "-o", color=style.DARK_BLUE, markersize=3, linewidth=1)
    special = flagged & y.notna().to_numpy()
    ax.plot(points["month"][special], y[special] * scale, "o", color=style.ORANGE, markersize=6)
    for line, dash in (("mean", "-"), ("lpl", "--"), ("upl", "--")):
        for _, part in points.groupby("rebase_group"):
            ax.plot(part["month"], part[line] * scale, dash, color=style.DARK_GREY, linewidth=1)
    ax.axvline(c["first_month"], color=style.TURQUOISE, linestyle=":")
    title = spc_title(pub, change_id)
    style.finish(fig, ax, title=title, subtitle=f"{pub.context['place']}; "
                 + (f"limits recalculated at {c['name']} (dotted line)" if len(summ) > 1 else
                    f"one set of limits; {c['name']} at the dotted line")
                 + "; orange points are unusual months (NHS Making Data Count rules)."
                 f"{charts.left_out(hidden, 'month(s)')}",
                 xlabel="Month", ylabel=words + (" (%)" if scale == 100 else ""))
    means = summ["mean"].to_numpy() * scale
    headline(fig, title, f"Run chart of {words} among {who(c)} with process limits. Average "
             + " then ".join(f"{m:.2f}" for m in means) + ".")
    rules = summ["rules"].map(lambda rs: "; ".join(rule_words(r) for r in rs.split(";") if r))
    shown = summ.assign(**{c_: summ[c_] * scale for c_ in ("mean", "lpl", "upl")},
                        rules=rules.where(rules != "", "none"),
                        period=np.where(summ["rebase_group"] == 0, "before", "after")
                        if len(summ) > 1 else "whole series")
    style.table(shown[["period", "n", "mean", "lpl", "upl", "rules"]],
                labels={"n": "months", "mean": "average", "lpl": "lower limit",
                        "upl": "upper limit", "rules": "why months were unusual"},
                plain_cols=["n"], caption=f"Run chart limits around {c['name']}")
    style.say(SPC_CAUTION)


def _no_run_chart(pub: Publication, c: pd.Series) -> str:
    """Why a change has no run chart, with the t chart's verdict when DP starts were rare."""
    rare = pub[f"spc_rare/{c['change_id']}"]
    if rare is None:
        return (f"Too few months or events around {c['name']} to draw a run chart: it needs "
                "4 months and, for a count, 3 or more events a month on average (with rarer "
                "events the rules flag chance), and no month's count may be confidential (the "
                "chart's limits would give it away).")
    side = rare.set_index("period")

    def gaps(period: str) -> str:
        r = side.loc[period]
        kinds = [k for k, on in (("long", r["longer"]), ("short", r["shorter"])) if on]
        return (f"some gaps were unusually {' and some '.join(kinds)} {period} it"
                if kinds else f"no gap was unusual {period} it")

    return (f"DP starts among {who(c)} are too few a month for a monthly run chart (or for "
            "every month to be shown), so the time between one start and the next was charted "
            "instead (a t chart, as NHS Making Data Count suggests for rare events): "
            f"{gaps('before')}, and {gaps('after')}. The chart itself is not shown, as each gap "
            "would show when people started. An unusual gap shows the process changed, not "
            "that this change caused it.")


# ---------------------------------------------------------------- interrupted time series
def its_lines(pub: Publication, change_id: str) -> tuple[pd.DataFrame, float, str]:
    """What the ITS chart draws, on the chart's scale (% for rates): month, observed (NaN where
    not published: a gap), fitted, counterfactual and its interval after the change; the top of
    the y axis (HEADROOM above the highest point or line); and a note when the interval is
    cut off there ("" when not)."""
    outcome = pub.context["outcome"]
    cf = pub[f"its_lines/{change_id}"]
    series = pub[f"series/{change_id}"].set_index("month").reindex(cf["month"])
    y, _ = chart_values(series, outcome)
    rate = "n" in series and outcome != "setup_days"
    div = series["n"].to_numpy(dtype=float) if rate else 1.0
    scale = 100 if rate else 1
    post = (cf["post"] == 1).to_numpy()
    lines = pd.DataFrame({
        "month": cf["month"].to_numpy(), "observed": y.to_numpy(dtype=float) * scale,
        "fitted": cf["fitted"].to_numpy() / div * scale,
        **{k: np.where(post, cf[k].to_numpy() / div * scale, np.nan)
           for k in ("counterfactual", "lower", "upper")}})
    top = HEADROOM * float(np.nanmax(lines[["observed", "fitted", "counterfactual"]].to_numpy()))
    reach = float(lines["upper"].max())  # NaN (no note) when no month after has an interval
    note = (f" The shaded interval is cut off at the top of the chart: it reaches {reach:,.0f}."
            if reach > top else "")
    return lines, top, note


def show_its(pub: Publication, change_id: str) -> None:
    """The ITS chart (observed, fitted, counterfactual with CI), estimates and autocorrelation,
    or the statement of what is missing."""
    c = change(pub, change_id)
    outcome = pub.context["outcome"]
    words = OUTCOMES[outcome][0]
    if not c["evaluated"]:
        style.say(f"**{c['name']}** was not evaluated: {c['shortfall']}.")
        return
    series, est = pub[f"series/{change_id}"], pub[f"its/{change_id}"]
    if held_back(term(est, "level_change"), c):
        return
    _, hidden = chart_values(series, outcome)
    lines, top, note = its_lines(pub, change_id)
    rate = "n" in series and outcome != "setup_days"
    fig, ax = style.figure()
    ax.plot(lines["month"], lines["observed"], "o", color=style.DARK_BLUE, markersize=4,
            label="observed")
    ax.plot(lines["month"], lines["fitted"], "-", color=style.DARK_BLUE, label="model")
    ax.plot(lines["month"], lines["counterfactual"], "--", color=style.ORANGE,
            label="without the change")
    ax.fill_between(lines["month"], lines["lower"], lines["upper"].clip(upper=top),
                    color=style.ORANGE, alpha=0.2, linewidth=0)
    ax.set_ylim(0, top)
    ax.axvline(c["first_month"], color=style.DARK_GREY, linestyle=":")
    ax.legend(loc="upper left")
    e = term(est, "level_change")
    title = its_sentence(pub, change_id).rstrip(".")
    style.finish(fig, ax, title=title,
                 subtitle=f"{words.capitalize()}, {pub.context['place']}, "
                 f"{period_words(pub)}; dashed: the pre-change trend continued (other changes "
                 f"kept), 95% CI shaded.{note}{charts.left_out(hidden, 'month(s)')}",
                 xlabel="Month", ylabel=words + (" (%)" if rate else ""))
    headline(fig, title, f"Interrupted time series chart of {words} among {who(c)}, with the "
             f"change in {wording.month(c['date'])}. Estimated level change {e['value']:.2f} "
             f"(95% CI {e['lower']:.2f} to {e['upper']:.2f}); the dashed counterfactual line "
             f"shows the pre-change trend continued.{note}")
    shown = est[["term", "value", "lower", "upper", "p_value"]].assign(
        term=est["term"].map(lambda t: _term_words(pub, t)))
    style.table(shown, labels={"term": "Term", "value": "Estimate", "lower": "Lower 95%",
                               "upper": "Upper 95%", "p_value": "p"},
                decimals={"value": 3, "lower": 3, "upper": 3, "p_value": 3},
                caption=f"{est['method'].iloc[0]}; {int(c['n_pre'])} months before, "
                        f"{int(c['n_post'])} after; dispersion {c['dispersion']:.2f}")
    for text in pub[f"its_notes/{change_id}"]["note"]:
        style.say(f"_Other change not separated: {text}._")
    _autocorrelation(pub[f"its_checks/{change_id}"])


def period_words(pub: Publication) -> str:
    """The period the series cover, short ("Apr 2021 to Mar 2025")."""
    return wording.span(pub.context["start"], pub.context["end"], short=True)


def _term_words(pub: Publication, term_name: str) -> str:
    """A model term in words; another change's term by that change's name."""
    base = {"trend": "trend per month before the change", "level_change": "level change",
            "slope_change": "change in trend per month after"}
    if term_name in base:
        return base[term_name]
    cid, kind = term_name.split(":", 1)
    return f"{names(pub, cid)} (other change): {base[kind]}"


def _autocorrelation(checks: pd.DataFrame) -> None:
    """Residual autocorrelation (Ljung-Box) at a few lags, with a plain sentence."""
    shown = checks[checks["lag"].isin(LAGS_SHOWN)]
    last = checks.iloc[-1]
    verdict = ("no sign of leftover autocorrelation" if not last["p_value"] < 0.05 else
               "some leftover autocorrelation: the intervals may be too narrow")
    style.say(f"Model check: {verdict} (Ljung-Box test over {int(last['lag'])} lags, "
              f"p = {last['p_value']:.2f}).")
    style.table(shown[["lag", "acf", "ljung_box", "p_value"]],
                labels={"lag": "Lag (months)", "acf": "Autocorrelation",
                        "ljung_box": "Ljung-Box", "p_value": "p"}, plain_cols=["lag"],
                caption="Residual autocorrelation")
