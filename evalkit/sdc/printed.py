"""Rows of printed text, as the privacy gate reads them for person-level rows.

A DataFrame printed wider than pandas' `display.width` (80 characters in a kernel) comes out in
blocks of columns, one under another, separated by a blank line; the header line of every block
but the last ends with a backslash. Read line by line, each line would hold only some of a
person's values (e.g. two long-named columns a block), fewer than the gate needs to recognise
the row. `lines` puts such blocks side by side again: line i of each block is one row.
"""

from __future__ import annotations

import re

TEXT_CELL_WORDS = 6  # words one value of a person row printed as text may span
BLANK_LINE = re.compile(r"\n[ \t]*\n")
CONTINUED = "\\"  # pandas ends a wrapped block's header with it: more columns follow


def _side_by_side(blocks: list[list[str]]) -> list[str]:
    """The lines of a wrapped frame's blocks joined row by row; lines as they are when the
    blocks do not line up (not a frame pandas wrapped)."""
    if len(blocks) > 1 and len({len(block) for block in blocks}) == 1:
        return [" ".join(parts) for parts in zip(*blocks, strict=True)]
    return [line for block in blocks for line in block]


def lines(text: str) -> list[str]:
    """The lines of `text`, each block of a wrapped DataFrame joined to the blocks after it."""
    found: list[str] = []
    frame: list[list[str]] = []
    for block in BLANK_LINE.split(text):
        frame.append(block.splitlines())
        if not (frame[-1] and frame[-1][0].rstrip().endswith(CONTINUED)):
            found += _side_by_side(frame)
            frame = []
    return found + _side_by_side(frame)


def rows(text: str) -> list[list[str]]:
    """Each row of printed text (e.g. a DataFrame printed without its id column, wrapped or not)
    as the cells it may hold: its words and runs of up to TEXT_CELL_WORDS words (values such as
    "Asian or Asian British: Indian")."""
    return [[" ".join(words[i:j]) for i in range(len(words))
             for j in range(i + 1, min(i + TEXT_CELL_WORDS, len(words)) + 1)]
            for words in map(str.split, lines(text)) if words]
