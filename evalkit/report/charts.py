"""Chart pieces every report shares: dot charts of estimates with confidence intervals, the
same for ratios on a log scale, and alt text listing every estimate drawn."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from evalkit.report import style
from evalkit.report.findings import fmt_percent

LABEL_WIDTH = 60  # characters: longer row labels are shortened with "[...]"


def headline(title: str, alt: str) -> str:
    """Say a chart's headline (its title: the finding) as page text, where screen readers and
    search find it (inside the image they cannot), and return the alt text led by it."""
    style.say(f"**{title}.**")
    return f"{title}. {alt}"


def alt_text(kind: str, what: str, d: pd.DataFrame, label: str, *, pct: bool = True,
             after: str = "") -> str:
    """Alt text: the chart type, what it shows, every estimate with its interval, then `after`."""
    def one(r: pd.Series) -> str:
        if pct:
            return f"{r[label]} {fmt_percent(r['value'], r['lower'], r['upper'])}"
        return f"{r[label]} {r['value']:.2f} (95% CI {r['lower']:.2f} to {r['upper']:.2f})"
    text = f"{kind}: {what}. " + "; ".join(one(r) for _, r in d.iterrows()) + "."
    return f"{text} {after}" if after else text


def hidden_note(hidden: int, min_cell: int, what: str = "group(s)") -> str:
    """The subtitle's note on rows left out by disclosure control ('' when none)."""
    return (f" {hidden} {what} not shown: a count below {min_cell} could be worked out."
            if hidden else "")


def left_out(hidden: int, what: str = "group(s)") -> str:
    """The subtitle's note on rows a protected frame leaves blank ('' when none)."""
    return (f" {hidden} {what} not shown: a count is confidential or there are too few people."
            if hidden else "")


def ci_dots(d: pd.DataFrame, label: str, *, title: str, subtitle: str, xlabel: str, alt: str,
            ylabel: str = "Ethnic group", pct: bool = True, ref: float | None = None,
            ref_label: str = "", log: bool = False, sort: bool = True) -> None:
    """Show value/lower/upper as dots with interval lines, one row per `label` (largest first
    when `sort`), shares x100 when `pct`, with `alt` as the image's alt text."""
    k = 100 if pct else 1
    d = d.sort_values("value", ascending=False) if sort else d
    shown = pd.DataFrame({"label": [textwrap.shorten(str(v), LABEL_WIDTH) for v in d[label]],
                          **{c: d[c].astype(float).to_numpy() * k
                             for c in ("value", "lower", "upper")}})
    line = ref * k if ref is not None and np.isfinite(ref) else None
    fig = style.ci_chart(shown, "label", "value", "lower", "upper", reference_line=line,
                         reference_label=ref_label or None, title=title, subtitle=subtitle,
                         xlabel=xlabel, ylabel=ylabel, log=log)
    style.show(fig, alt)


def ratio_dots(d: pd.DataFrame, label: str, *, what: str, title: str, subtitle: str,
               xlabel: str, ylabel: str = "Ethnic group", after: str = "",
               sort: bool = True) -> None:
    """Ratios with intervals as dots on a log scale around 1, under their `headline` (the
    title as page text); the alt text, led by the title, lists each ratio."""
    alt = headline(title, alt_text("Dot chart", what, d, label, pct=False, after=after))
    ci_dots(d, label, title=title, subtitle=subtitle, xlabel=xlabel, alt=alt, ylabel=ylabel,
            pct=False, ref=1.0, log=True, sort=sort)
