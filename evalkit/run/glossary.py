"""The glossary at the end of every report page: each term the page uses, in plain words.

`TERMS` holds one definition per term and the words that show the page uses it; `section` builds
the page's "Glossary" section from the terms found in its text, so the contents list links to it
and a reader of any report can look a word up without leaving the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

HEADING = "Glossary"
ANCHOR = "Glossary"


@dataclass(frozen=True)
class Term:
    """A term, what it means in plain words, and a pattern finding it in a page's text."""

    name: str
    meaning: str
    pattern: str

    def used_in(self, text: str) -> bool:
        return re.search(self.pattern, text, flags=re.IGNORECASE) is not None


TERMS = (
    Term("Direct Payment",
         "Money the council pays to a person, or to someone acting for them, instead of "
         "arranging their care itself, so that they can choose and buy their own support, for "
         "example by employing a personal assistant.", r"direct payment"),
    Term("Personal assistant (PA)",
         "Someone a person employs, often with a Direct Payment, to help with daily care and "
         "support.", r"personal assistant|\bPAs?\b"),
    Term("Long-term support",
         "Care and support the council arranges or pays for over a longer period, such as home "
         "care, a care home place or a Direct Payment, rather than a one-off or short-term "
         "service.", r"long-term support"),
    Term("ASCOF 3D",
         "A national measure from the Adult Social Care Outcomes Framework: of the people "
         "receiving long-term support in the community, the share who receive self-directed "
         "support (part 1) and the share who receive Direct Payments (part 2). NHS England "
         "publishes it for every council.", r"ASCOF 3D"),
    Term("Self-directed support",
         "Support where the person knows how much money is available for their care and "
         "chooses how it is spent.", r"self-directed"),
    Term("Reference group",
         "The group every other group is compared with; the report says which group it is.",
         r"reference group"),
    Term("Odds ratio",
         "A way of comparing how likely two groups are to have something, such as a Direct "
         "Payment. 1 means equally likely; below 1, the group is less likely than the reference "
         "group (0.6 means its odds are 40% lower); above 1, more likely.", r"odds ratio"),
    Term("Confidence interval (CI)",
         "The range the true figure is likely to lie in, given how many people the figure is "
         "based on. A 95% confidence interval would hold the true figure 95 times in 100. A wide "
         "range means the figure is uncertain.", r"confidence interval|\bCI\b"),
    Term("Could be chance",
         "The difference is small enough, given the number of people, that it could have arisen "
         "by chance alone: its confidence interval includes no difference.", r"chance"),
    Term("Standardised ratio",
         "The number of people observed divided by the number expected if the group had the "
         "same rates as everyone of the same age and need; 1 means as many as expected.",
         r"standardised"),
    Term("Interrupted time series",
         "A way of judging whether a change in practice made a difference: the monthly trend "
         "before the change is carried forward and compared with what happened after it. A "
         "controlled one also compares with a similar group the change did not affect, to allow "
         "for other things that happened at the same time.", r"interrupted time series"),
    Term("Placebo change",
         "A date on which nothing was changed, tested like a real change to check that the "
         "method does not find effects where there are none.", r"placebo"),
    Term("Unusual month (process limits)",
         "A month outside the range the previous months make likely (the process limits of a "
         "statistical process control chart). It shows that something changed, not what caused "
         "it.", r"unusual month|process limit|run chart"),
    Term("Funnel plot",
         "A chart of areas by their size, with lines showing how far from the overall figure an "
         "area of that size could be by chance; areas outside the lines differ by more than "
         "chance would explain.", r"funnel"),
    Term("Hazard ratio",
         "Compares how soon something happens in two groups, such as finding a personal "
         "assistant: above 1, sooner than in the reference group; below 1, later.",
         r"hazard ratio"),
    Term("Median",
         "The middle value: half the people had less, half more.", r"median"),
    Term("Geometric mean",
         "An average suited to amounts such as budgets, where a few very large values would "
         "pull an ordinary average up.", r"geometric mean"),
    Term("Suppressed [c]",
         "[c] marks a confidential figure: it is not shown because it is based on so few people "
         "that someone could be identified, or because it would let a reader work such a figure "
         "out. Counts are rounded to the nearest 5 for the same reason.", r"\[c\]|suppress"),
    Term("Not available [x]",
         "[x] marks a figure that cannot be worked out, for example a share when a count it "
         "needs is confidential.", r"\[x\]"),
    Term("Snapshot date",
         "The date on which people receiving support are counted.", r"snapshot"),
)


def used(text: str) -> list[Term]:
    """The terms `text` uses, in glossary order."""
    return [term for term in TERMS if term.used_in(text)]


def section(soup: BeautifulSoup, main: Tag) -> Tag | None:
    """The "Glossary" section for the page: a heading and a definition list of the terms used in
    `main`'s text (None when it uses none)."""
    terms = used(main.get_text(" "))
    if not terms:
        return None
    box = soup.new_tag("section", attrs={"class": "evalkit-glossary",
                                         "aria-labelledby": ANCHOR})
    heading = soup.new_tag("h2", id=ANCHOR)
    heading.string = HEADING
    intro = soup.new_tag("p")
    intro.string = "What the words on this page mean."
    box.extend([heading, intro])
    items = soup.new_tag("dl")
    for term in terms:
        name, meaning = soup.new_tag("dt"), soup.new_tag("dd")
        name.string, meaning.string = term.name, term.meaning
        items.extend([name, meaning])
    box.append(items)
    return box
