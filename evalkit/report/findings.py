"""Plain-English sentences from estimates, each with its uncertainty, for Key findings.

Sentences are generated from the numbers, never typed: short, one idea each, ready to translate
or read aloud. Every sentence passes `check_wording`, which refuses "BAME" and wording that merges
all non-White groups into one: findings name specific groups (DESIGN.md, Terminology).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from IPython.display import Markdown, display

from evalkit.report.record import write_published

MIN_N = 10  # fewer people than this in a group: say so rather than quote a number
MAX_WORDS = 45
MAX_FINDINGS = 6
_MERGED = re.compile(
    r"\bB\.?\s?A\.?\s?M\.?\s?E\b|\bB\.?M\.?E\b|\bnon[\s\-\u2010\u2011]?white\b"
    r"|\bethnic\s+minorit(?:y|ies)\b|\bminority[\s\-]+ethnic\b|\bpeople\s+of\s+colou?r\b",
    re.IGNORECASE)


def check_wording(sentence: str) -> str:
    """Return `sentence`, or raise ValueError if it says BAME or merges non-White groups."""
    found = _MERGED.search(sentence)
    if found:
        raise ValueError(f"findings: {found.group(0)!r} merges all non-White groups into one (or "
                         f"uses BAME); name the specific groups instead. Sentence: {sentence!r}")
    return sentence


def _num(x: object) -> float | None:
    """A finite float, or None for missing, suppressed ('[c]') or non-numeric values."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _conf(conf: float) -> str:
    return f"{conf * 100:g}% CI"


def _usable(values: tuple[object, ...], n: object, min_n: int) -> bool:
    """Enough people and a complete estimate to quote."""
    count = _num(n) if n is not None else None
    return all(_num(v) is not None for v in values) and (n is None or (count or 0) >= min_n)


def _ci(lower: float, upper: float, conf: float, decimals: int | None,
        percent: bool = False) -> str:
    """'(95% CI 0.64 to 0.79)'; proportions as percentages when `percent` (`fmt_share`'s
    places when `decimals` is None)."""
    return f"({_conf(conf)} {_number(lower, decimals, percent)} to " \
           f"{_number(upper, decimals, percent)})"


def _number(x: float, decimals: int | None, percent: bool) -> str:
    """A proportion as a percentage (`decimals` places, or `fmt_share`'s) or a plain number."""
    if not percent:
        return f"{x:.{decimals or 0}f}"
    return fmt_share(x) if decimals is None else f"{x * 100:.{decimals}f}%"


def _fmt_ratio_as(template: str, value: float, lower: float, upper: float, conf: float,
                  decimals: int) -> str:
    """`template` with {v} (the ratio) and {ci} (its interval) filled in."""
    return template.format(v=f"{value:.{decimals}f}", ci=_ci(lower, upper, conf, decimals))


def fmt_share(value: object) -> str:
    """A share as a percentage for titles, tables and prose: 0.314 -> '31%', 0.034 -> '3.4%'
    (one decimal below 10%); 'n/a' when missing."""
    v = _num(value)
    if v is None:
        return "n/a"
    return f"{100 * v:.1f}%" if abs(round(100 * v, 1)) < 10 else f"{100 * v:.0f}%"


def fmt_ratio(value: float, lower: float, upper: float, conf: float = 0.95,
              decimals: int = 2) -> str:
    """'0.71 times as likely (95% CI 0.64 to 0.79)'."""
    return _fmt_ratio_as("{v} times as likely {ci}", value, lower, upper, conf, decimals)


def fmt_odds_ratio(value: float, lower: float, upper: float, conf: float = 0.95,
                   decimals: int = 2) -> str:
    """'odds ratio 0.66 (95% CI 0.55 to 0.80)': odds are not risks, so never 'times as likely'."""
    return _fmt_ratio_as("odds ratio {v} {ci}", value, lower, upper, conf, decimals)


def fmt_hazard_ratio(value: float, lower: float, upper: float, conf: float = 0.95,
                     decimals: int = 2) -> str:
    """'hazard ratio 0.62 (95% CI 0.50 to 0.77)': a ratio of rates, not of final shares."""
    return _fmt_ratio_as("hazard ratio {v} {ci}", value, lower, upper, conf, decimals)


def fmt_percent(value: float, lower: float, upper: float, conf: float = 0.95,
                decimals: int | None = None) -> str:
    """Proportions (0 to 1) as '23% (95% CI 20% to 26%)', '3.4% (95% CI 2.9% to 4.0%)':
    by default as `fmt_share` writes each, so charts, tables and sentences agree."""
    return f"{_number(value, decimals, True)} {_ci(lower, upper, conf, decimals, percent=True)}"


def fmt_difference(value: float, lower: float, upper: float, conf: float = 0.95, *,
                   unit: str = "percentage points", decimals: int = 1,
                   words: tuple[str, str] = ("higher", "lower")) -> str:
    """'3.2 percentage points lower (95% CI -5.4 to -1.0)': size and direction, signed interval."""
    if round(value, decimals) == 0:
        size = f"no different ({value:+.{decimals}f} {unit})"
    else:
        size = f"{abs(value):.{decimals}f} {unit} {words[0] if value > 0 else words[1]}"
    return f"{size} {_ci(lower, upper, conf, decimals)}"


def too_few(subject: str, what: str) -> str:
    """'There were too few Black people in the data to say how likely they were to ...'."""
    return check_wording(f"There were too few {subject} in the data to say {what}.")


def _chance(lower: float, upper: float, null: float) -> str:
    """A short second sentence when the interval includes no difference."""
    return " This could be due to chance." if lower <= null <= upper else ""


def ratio_sentence(subject: str, value: object, lower: object, upper: object, *,
                   comparison: str, outcome: str, conf: float = 0.95, n: object = None,
                   min_n: int = MIN_N) -> str:
    """'Asian people were 0.71 times as likely as White people to have a Direct Payment (95% CI
    0.64 to 0.79).' Too-few sentence when n < min_n or the estimate is missing/suppressed."""
    if not _usable((value, lower, upper), n, min_n):
        return too_few(subject, f"how likely they were to {outcome}")
    v, lo, hi = _num(value), _num(lower), _num(upper)
    return check_wording(f"{subject[:1].upper()}{subject[1:]} were {v:.2f} times as likely as "
                         f"{comparison} to {outcome} {_ci(lo, hi, conf, 2)}."
                         f"{_chance(lo, hi, 1.0)}")


def _direction(value: float, words: tuple[str, str], same: str, decimals: int = 2) -> str:
    """'<words[0]> than' above 1, '<words[1]> than' below 1, '<same>' when it rounds to 1."""
    if round(value, decimals) == 1:
        return same
    return f"{words[0] if value > 1 else words[1]} than"


def odds_ratio_sentence(subject: str, value: object, lower: object, upper: object, *,
                        comparison: str, outcome: str, conf: float = 0.95, n: object = None,
                        min_n: int = MIN_N) -> str:
    """'Asian people had lower odds than White people of having a Direct Payment: odds ratio
    0.66 (95% CI 0.55 to 0.80).' `outcome` is a gerund phrase ('having a Direct Payment').
    Too-few sentence when n < min_n or the estimate is missing/suppressed."""
    if not _usable((value, lower, upper), n, min_n):
        return too_few(subject, f"how their odds of {outcome} compared")
    v, lo, hi = _num(value), _num(lower), _num(upper)
    odds = _direction(v, ("had higher odds", "had lower odds"), "had similar odds to")
    return check_wording(f"{subject[:1].upper()}{subject[1:]} {odds} {comparison} of "
                         f"{outcome}: {fmt_odds_ratio(v, lo, hi, conf)}.{_chance(lo, hi, 1.0)}")


def hazard_ratio_sentence(subject: str, value: object, lower: object, upper: object, *,
                          comparison: str, event: str, conf: float = 0.95, n: object = None,
                          min_n: int = MIN_N,
                          words: tuple[str, str] = ("more quickly", "more slowly")) -> str:
    """'Requests stating a language preference were filled more slowly than requests without
    one: hazard ratio 0.62 (95% CI 0.50 to 0.77).' `event` is a past-tense verb phrase ('were
    filled'); `words` name the directions for a ratio above and below 1."""
    if not _usable((value, lower, upper), n, min_n):
        return too_few(subject, f"how quickly they {event}")
    v, lo, hi = _num(value), _num(lower), _num(upper)
    pace = _direction(v, words, "at about the same rate as")
    return check_wording(f"{subject[:1].upper()}{subject[1:]} {event} {pace} {comparison}: "
                         f"{fmt_hazard_ratio(v, lo, hi, conf)}.{_chance(lo, hi, 1.0)}")


def percent_sentence(subject: str, value: object, lower: object, upper: object, *,
                     outcome: str, conf: float = 0.95, n: object = None, min_n: int = MIN_N,
                     decimals: int | None = None) -> str:
    """'23% of Asian people on long-term support had a Direct Payment (95% CI 20% to 26%).'"""
    if not _usable((value, lower, upper), n, min_n):
        return too_few(subject, f"what share {outcome}")
    return check_wording(f"{_number(_num(value), decimals, True)} of {subject} {outcome} "
                         f"{_ci(_num(lower), _num(upper), conf, decimals, percent=True)}.")


def difference_sentence(subject: str, value: object, lower: object, upper: object, *,
                        measure: str, conf: float = 0.95, n: object = None, min_n: int = MIN_N,
                        unit: str = "percentage points", decimals: int = 1,
                        words: tuple[str, str] = ("higher", "lower")) -> str:
    """'For Gujarati speakers, the quality of life score was 1.2 points higher (95% CI 0.4 to
    2.0).' `words` names the directions (e.g. ("higher after the change", "lower ...")."""
    if not _usable((value, lower, upper), n, min_n):
        return too_few(subject, f"how {measure} differed")
    lo, hi = _num(lower), _num(upper)
    text = fmt_difference(_num(value), lo, hi, conf, unit=unit, decimals=decimals, words=words)
    return check_wording(f"For {subject}, {measure} was {text}.{_chance(lo, hi, 0.0)}")


def first_within_limit(*wordings: str) -> str:
    """The first of `wordings` (the same finding, longest first) of at most MAX_WORDS words; the
    last when none is: long group names (e.g. detailed ethnic groups) need the shorter ones."""
    return next((w for w in wordings if len(w.split()) <= MAX_WORDS), wordings[-1])


def key_findings(sentences: list[str]) -> list[str]:
    """Show the findings as a Markdown list (each module's `record` writes the same sentences
    to key_findings.md with `write_key_findings`).

    Each finding must be one short plain sentence (at most MAX_WORDS words) that passes
    `check_wording`; there are at most MAX_FINDINGS of them. Returns the sentences.
    """
    display(Markdown(_bullets(sentences)))
    return list(sentences)


def write_key_findings(sentences: list[str], path: str | os.PathLike[str], *,
                       title: str = "Key findings") -> Path:
    """Write the findings (checked as `key_findings` checks them) to `path` as a Markdown list
    under `title`: the plain-text copy for translation or reading aloud (mode 644, as
    `write_published` writes). Returns the path."""
    return write_published(path, f"# {title}\n\n{_bullets(sentences)}\n")


def _bullets(sentences: list[str]) -> str:
    """The checked findings as Markdown bullets."""
    if not sentences or len(sentences) > MAX_FINDINGS:
        raise ValueError(f"key_findings: give 1 to {MAX_FINDINGS} findings, not {len(sentences)}")
    for s in sentences:
        if not isinstance(s, str) or not s.strip():
            raise ValueError(f"key_findings: each finding must be a non-empty sentence, not {s!r}")
        if len(s.split()) > MAX_WORDS:
            raise ValueError(f"key_findings: keep each finding to {MAX_WORDS} words or fewer so "
                             f"it can be translated or read aloud; {len(s.split())} words in "
                             f"{s!r}")
        check_wording(s)
    return "\n".join(f"- {s.strip()}" for s in sentences)
