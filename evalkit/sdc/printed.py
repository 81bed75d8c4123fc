"""The rows (and columns) a published text may show a person's values in, for the privacy gate's
person-level row check: printed output, JSON documents and the text of a page.

A DataFrame printed wider than pandas' `display.width` (80 characters in a kernel) comes out in
blocks of columns, one under another, separated by a blank line; the header line of every block
but the last ends with a backslash. Read line by line, each line would hold only some of a
person's values (e.g. two long-named columns a block), fewer than the gate needs to recognise
the row. `blocks` puts such blocks side by side again: line i of each block is one row. A frame
printed transposed (`df.head().T`, a common way to look at a wide frame), or one person's row
printed as a Series, has a person in each column: `columns` reads a block's columns of
characters, top to bottom. Values printed inside Python's or JSON's punctuation (`to_dict()`,
`to_json()`, `to_csv()`, a list of tuples) are read between the punctuation (`rows`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

#: Texts whose rows `page_rows` keeps: more than a council's folder has that differ (about
#: 1,000-3,000), at about 25 KB a text (its runs of words), so at most about 100 MiB.
TEXTS_KEPT = 4_096
TEXT_CELL_WORDS = 8  # words one printed value may span (ONS 2021 ethnic group names: up to 8)
BLANK_LINE = re.compile(r"\r?\n[ \t\r]*\n")
DIGIT = re.compile(r"\d")
CONTINUED = "\\"  # pandas ends a wrapped block's header with it: more columns follow
FIELD = re.compile(r"\S+(?: \S+)*")  # a printed value: words single spaces apart
NON_SPACE = re.compile(r"\S+")
SERIES_FOOTER = re.compile(r"dtype:? \S+$")  # under a printed Series ("Name: 1, dtype: object")
#: A number written with thousands separators (kept whole), or punctuation printed around values:
#: quotes, brackets, "=", ";", a comma, a colon before a space or a JSON value (not a time's).
SEPARATORS = re.compile(r"(?<![\w.,-])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.,])"
                        r"|[\"'{}\[\]()=;,]+|:(?=\s|[\"'{\[])")


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


def _runs(words: list[str]) -> list[str]:
    """Every run of 1 to TEXT_CELL_WORDS consecutive words, joined by spaces."""
    return [" ".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, min(i + TEXT_CELL_WORDS, len(words)) + 1)]


def rows(text: str) -> list[list[str]]:
    """Each row of printed text (e.g. a DataFrame printed without its id column, wrapped or not)
    as the cells it may hold: runs of up to TEXT_CELL_WORDS words (values such as "Asian or
    Asian British: Indian"), as printed and between punctuation (a dict or a CSV line). A line
    without a digit is an empty row: it cannot hold a person's key value (dates, birth months,
    budgets and area codes all have one), but it counts as a row of the text."""
    return [_cells(line) if DIGIT.search(line) else []
            for line in lines(text) if line and not line.isspace()]


def _cells(line: str) -> list[str]:
    """The runs of words of a line as printed, and between punctuation if that differs."""
    words = line.split()
    between = SEPARATORS.sub(lambda m: m.group() if m.group()[0].isdigit() else " ", line).split()
    return _runs(words) + (_runs(between) if between != words else [])


def _spans(block: list[str]) -> list[tuple[int, int]]:
    """The character columns of a block that hold a value on some line: runs between columns
    blank on every line (two spaces apart at least, as pandas sets its columns), a Series'
    footer line left out (it would run across the gap between labels and values)."""
    block = [line for line in block if not SERIES_FOOTER.search(line)] or block
    used = bytearray(b" " * max(map(len, block)))
    for line in block:
        for word in NON_SPACE.finditer(line):
            used[word.start():word.end()] = b"x" * (word.end() - word.start())
    return [m.span() for m in FIELD.finditer(used.decode("ascii"))]


def columns(text: str) -> list[list[str]]:
    """Each column of each block of printed text (a wrapped DataFrame's blocks side by side),
    as its values top to bottom: a person's values when a frame was printed transposed."""
    return [[line[start:end].strip() for line in block]
            for block in blocks(text) if len(block) > 1 for start, end in _spans(block)]


def page_rows(texts: list[str]) -> list[list[str]]:
    """The rows of a page's texts (its strings and attribute values, e.g. alt text): each line
    and each part between semicolons (a chart's alt text lists its estimates so), and the
    columns of text printed in it (a `<pre>` frame shown transposed)."""
    return [list(row) for text in texts for row in _text_rows(text)]


@functools.lru_cache(maxsize=TEXTS_KEPT)
def _text_rows(text: str) -> tuple[tuple[str, ...], ...]:
    """`page_rows` of one text, kept for the next page that shows it: a report's page and its
    executed notebook show the same tables and text, and every council's pages the same
    headings and glossary (the gate's time for four councils' folders 0.84 of what it was,
    about 0.67 when it had scanned them before: docs/national.md)."""
    return tuple(map(tuple, rows(text.replace(";", "\n")) + columns(text)))


def _scalars(values: list[Any]) -> list[str]:
    """The values that are neither missing nor an object or array, as text."""
    return [str(v) for v in values if v is not None and not isinstance(v, dict | list)]


def json_rows(document: Any) -> list[list[str]]:
    """The rows a parsed JSON document may hold a person in: the scalars of each object and
    array (the "records", "index", "split" and "values" layouts of `DataFrame.to_json`), and
    of an object of objects with the same keys its inner objects' values key by key (the
    "columns" layout)."""
    found, todo = [], [document] if isinstance(document, dict | list) else []
    while todo:
        node = todo.pop()
        children = list(node.values()) if isinstance(node, dict) else node
        if scalars := _scalars(children):
            found.append(scalars)
        inner = [c for c in children if isinstance(c, dict)]
        if (isinstance(node, dict) and 1 < len(inner) == len(children)
                and all(c.keys() == inner[0].keys() for c in inner)):  # a table's columns
            for key in inner[0]:
                found.append(_scalars([c.get(key) for c in inner]))
        todo += [c for c in children if isinstance(c, dict | list)]
    return [row for row in found if row]


def joined(text: str | list[str]) -> str:
    """A text nbformat stores as a string or a list of lines."""
    return "".join(text) if isinstance(text, list) else text


def output_text(output: Mapping[str, Any]) -> str:
    """An output's text as printed: a stream's text, an error's value and traceback, a result's
    plain, LaTeX and Markdown forms, each its own block (a blank line apart)."""
    data = output.get("data", {})
    return "\n\n".join(joined(part) for part in (
        output.get("text", ""), output.get("evalue", ""), "\n".join(output.get("traceback", [])),
        *(data.get(kind, "") for kind in ("text/plain", "text/latex", "text/markdown"))) if part)
