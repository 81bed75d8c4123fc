"""Text a page shows as one although markup splits it, for the privacy gate (`evalkit.sdc.gate`):
`LA000<span></span>123` reads LA000123 and `<b>LA000</b> 123` reads LA000 123, yet no single
string of the page holds either. Consecutive strings meet at a seam; where letters, digits or
separators (not a line break) touch it on both sides, they are joined and read again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: What may touch a seam on each side for the strings to read as one: a letter, a digit or a
#: separator an identifier may hold (the gate's GAP characters but a line break).
SIDE = re.compile(r"[^\W_]|[ \t\-._,/]")
#: Characters kept of the run's first string before its first seam and of its last string after
#: its last seam (no identifier is as long; a word cut at the edge is left out).
EDGE_CHARS = 128
FIRST_WORD = re.compile(r"^[^\W_]+")
LAST_WORD = re.compile(r"[^\W_]+$")


def _glued(before: str, after: str) -> bool:
    """Whether two consecutive strings read as one text across their seam."""
    return bool(before and after and SIDE.fullmatch(before[-1]) and SIDE.fullmatch(after[0]))


def _joined(run: list[str]) -> list[str]:
    """The run's strings, its first cut to EDGE_CHARS before the seam and its last after."""
    first, last = run[0], run[-1]
    if len(first) > EDGE_CHARS:
        first = FIRST_WORD.sub("", first[-EDGE_CHARS:])
    if len(last) > EDGE_CHARS:
        last = LAST_WORD.sub("", last[:EDGE_CHARS])
    return [first, *run[1:-1], last]


def glued_runs(strings: Iterable[str]) -> Iterator[list[str]]:
    """Each run of two or more consecutive strings that read as one text (`_glued`), as its
    parts: join them to read the text across the seams, or read each to find what one holds."""
    run: list[str] = []
    for string in strings:
        if run and not _glued(run[-1], string):
            if len(run) > 1:
                yield _joined(run)
            run = []
        run.append(string)
    if len(run) > 1:
        yield _joined(run)
