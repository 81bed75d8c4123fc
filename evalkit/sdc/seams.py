"""Text a page shows as one although markup splits it, for the privacy gate (`evalkit.sdc.gate`):
`LA000<span></span>123`, `LA000<!-- -->123` and `<b>LA000</b>&nbsp;<b>123</b>` read LA000123 and
LA000 123, yet no single string of the page holds either. Consecutive strings a browser shows in
the same block (a paragraph, a cell, a list item...) meet at a seam; where letters, digits,
separators or spaces touch it on both sides they are joined, spaces as a browser collapses them,
and read again. Strings of different blocks are never joined (two table cells are two values).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator

from bs4 import BeautifulSoup, NavigableString

#: Elements that start a block of text: strings in two are two texts.
BLOCKS = frozenset({"address", "article", "aside", "blockquote", "body", "caption", "dd",
                    "details", "div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2",
                    "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "li", "main", "nav",
                    "ol", "p", "pre", "section", "summary", "table", "td", "text", "th", "title",
                    "tr", "ul"})
#: What may touch a seam on each side for the strings to read as one: a letter, a digit, a
#: space of any kind or a separator an identifier may hold (the gate's GAP characters).
SIDE = re.compile(r"[^\W_]|[\s\-._,/]")
#: Characters kept of the run's first string before its first seam and of its last string after
#: its last seam (no identifier is as long; a word cut at the edge is left out).
EDGE_CHARS = 128
FIRST_WORD = re.compile(r"^[^\W_]+")
LAST_WORD = re.compile(r"[^\W_]+$")


def shown_strings(soup: BeautifulSoup) -> Iterator[tuple[int, str]]:
    """(its block, text) for each string a browser shows (not comments, scripts, style sheets
    or templates, each a subclass of NavigableString), in order; the block is the nearest
    enclosing element of BLOCKS (its id: the soup holds every element meanwhile)."""
    for string in soup.find_all(string=True):
        if type(string) is NavigableString:
            yield id(next((p for p in string.parents if p.name in BLOCKS), None)), str(string)


def _glued(before: str, after: str) -> bool:
    """Whether two consecutive strings of one block read as one text across their seam."""
    return bool(before and after and SIDE.fullmatch(before[-1]) and SIDE.fullmatch(after[0]))


def _joined(run: list[str]) -> list[str]:
    """The run's strings, its first cut to EDGE_CHARS before the seam and its last after."""
    first, last = run[0], run[-1]
    if len(first) > EDGE_CHARS:
        first = FIRST_WORD.sub("", first[-EDGE_CHARS:])
    if len(last) > EDGE_CHARS:
        last = LAST_WORD.sub("", last[:EDGE_CHARS])
    return [first, *run[1:-1], last]


def glued_runs(strings: Iterable[tuple[Hashable, str]]) -> Iterator[list[str]]:
    """Each run of two or more consecutive shown strings, given with their block, that read as
    one text (`_glued`, in the same block), as its parts: `shown` joins them as a page shows
    them; each part alone holds what the gate finds string by string."""
    run: list[str] = []
    block: Hashable = None
    for where, string in strings:
        if run and not (where == block and _glued(run[-1], string)):
            if len(run) > 1:
                yield _joined(run)
            run = []
        run.append(string)
        block = where
    if len(run) > 1:
        yield _joined(run)


def shown(parts: list[str]) -> str:
    """A run's parts as a page shows them: joined, each stretch of spaces as one."""
    return " ".join("".join(parts).split())
