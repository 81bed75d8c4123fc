"""Rows and columns of printed text, as the privacy gate reads them for person-level rows.

A DataFrame printed wider than pandas' `display.width` (80 characters in a kernel) comes out in
blocks of columns, one under another, separated by a blank line; the header line of every block
but the last ends with a backslash. Read line by line, each line would hold only some of a
person's values (e.g. two long-named columns a block), fewer than the gate needs to recognise
the row. `blocks` puts such blocks side by side again: line i of each block is one row. A frame
printed transposed (`df.head().T`, a common way to look at a wide frame) has a person in each
column: `columns` reads a block's columns of characters, top to bottom.
"""

from __future__ import annotations

import re

TEXT_CELL_WORDS = 6  # words one value of a person row printed as text may span
BLANK_LINE = re.compile(r"\n[ \t]*\n")
CONTINUED = "\\"  # pandas ends a wrapped block's header with it: more columns follow
FIELD = re.compile(r"\S+(?: \S+)*")  # a printed value: words single spaces apart
SERIES_FOOTER = re.compile(r"dtype:? \S+$")  # under a printed Series ("Name: 1, dtype: object")


def _side_by_side(frame: list[list[str]]) -> list[list[str]]:
    """A wrapped frame's blocks as one block, joined row by row; the blocks as they are when
    they do not line up (not a frame pandas wrapped)."""
    if len(frame) > 1 and len({len(block) for block in frame}) == 1:
        return [[" ".join(parts) for parts in zip(*frame, strict=True)]]
    return frame


def blocks(text: str) -> list[list[str]]:
    """The blocks of lines of `text` (between blank lines), each block of a wrapped DataFrame
    joined to the blocks after it."""
    found: list[list[str]] = []
    frame: list[list[str]] = []
    for block in BLANK_LINE.split(text):
        frame.append(block.splitlines())
        if not (frame[-1] and frame[-1][0].rstrip().endswith(CONTINUED)):
            found += _side_by_side(frame)
            frame = []
    return found + _side_by_side(frame)


def lines(text: str) -> list[str]:
    """The lines of `text`, a wrapped DataFrame's blocks side by side."""
    return [line for block in blocks(text) for line in block]


def rows(text: str) -> list[list[str]]:
    """Each row of printed text (e.g. a DataFrame printed without its id column, wrapped or not)
    as the cells it may hold: its words and runs of up to TEXT_CELL_WORDS words (values such as
    "Asian or Asian British: Indian")."""
    return [[" ".join(words[i:j]) for i in range(len(words))
             for j in range(i + 1, min(i + TEXT_CELL_WORDS, len(words)) + 1)]
            for words in map(str.split, lines(text)) if words]


def _spans(block: list[str]) -> list[tuple[int, int]]:
    """The character columns of a block that hold a value on some line: runs between columns
    blank on every line (two spaces apart at least, as pandas sets its columns), a Series'
    footer line left out (it would run across the gap between labels and values)."""
    block = [line for line in block if not SERIES_FOOTER.search(line)] or block
    width = max(map(len, block))
    used = "".join("x" if any(i < len(line) and not line[i].isspace() for line in block)
                   else " " for i in range(width))
    return [m.span() for m in FIELD.finditer(used)]


def columns(text: str) -> list[list[str]]:
    """Each column of each block of printed text (a wrapped DataFrame's blocks side by side),
    as its values top to bottom: a person's values when a frame was printed transposed."""
    return [[line[start:end].strip() for line in block]
            for block in blocks(text) if len(block) > 1 for start, end in _spans(block)]
