"""Tables in downloads as the privacy gate reads them: a CSV file or a spreadsheet (.xlsx) as
sheets of rows of text, and the small counts in them.

A count column is one whose heading ends with COUNT_MARK (as `evalkit.report.downloads` heads
them, the downloads' equivalent of the page's `class="count"`). A spreadsheet is read whole with
openpyxl: every sheet (hidden ones too), every cell's value and comment, the sheet names and the
document's properties; a formula is read as written, not worked out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

from evalkit.sdc import disclosure

COUNT_MARK = "(count)"
SPREADSHEETS = (".xlsx", ".xlsm")
PROPERTIES = ("title", "subject", "creator", "description", "keywords", "category",
              "lastModifiedBy", "identifier")
Sheet = tuple[str, list[list[str]]]  # (where: "" for a CSV file, else the sheet), rows


def _text(value: object) -> str:
    """A cell as text; a whole number written without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read(path: Path) -> list[Sheet]:
    """A CSV file or spreadsheet as sheets of rows of text. Raises UnicodeDecodeError or
    csv.Error (a CSV file), or ValueError (not a readable spreadsheet)."""
    if path.suffix.lower() not in SPREADSHEETS:
        return [("", list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")))))]
    try:
        wb = load_workbook(path, data_only=False)
    except Exception as err:  # a zip that is not a workbook, or a broken one
        raise ValueError(f"not a readable spreadsheet ({type(err).__name__})") from None
    props = [_text(getattr(wb.properties, name, None)) for name in PROPERTIES]
    sheets: list[Sheet] = [("document properties", [props]), ("sheet names", [wb.sheetnames])]
    for ws in wb.worksheets:
        rows = [[_text(c.value) for c in row] for row in ws.iter_rows()]
        comments = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
        sheets.append((f"sheet {ws.title}", rows + ([comments] if comments else [])))
    return sheets


def small_counts(rows: list[list[str]], min_cell: int) -> Iterator[tuple[int, int]]:
    """(row, column), both from 1, of each whole number of 1 to min_cell - 1 in a column headed
    as a count (a heading ending with COUNT_MARK in any row above it)."""
    counts: set[int] = set()
    for r, row in enumerate(rows, start=1):
        for c in counts & set(range(len(row))):
            value = _number(row[c])
            if value is not None and value.is_integer() and disclosure.small(value, min_cell):
                yield r, c + 1
        counts |= {c for c, cell in enumerate(row) if cell.strip().endswith(COUNT_MARK)}


def _number(text: str) -> float | None:
    """A cell's number (thousands separators allowed), or None when it is not one."""
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        return None
