"""HTML tables as the privacy gate reads them for small counts (`evalkit.sdc.gate`): a cell is a
count when it, or its column's header, is marked as one (`class="count"` or `data-count`, as
`evalkit.report.style.table` marks them); the downloads' equivalent is `evalkit.sdc.sheets`.
"""

from __future__ import annotations

from collections.abc import Iterator

from bs4 import Tag

from evalkit.sdc import disclosure
from evalkit.sdc.people import WHOLE_NUMBER


def _is_count(cell: Tag) -> bool:
    """A cell marked as a count by class="count" or a data-count attribute."""
    return "count" in (cell.get("class") or []) or cell.has_attr("data-count")


def _expanded(row: Tag) -> list[Tag]:
    """A row's cells with each repeated over its colspan."""
    cells: list[Tag] = []
    for cell in row.find_all(["td", "th"], recursive=False):
        try:
            span = max(1, int(cell.get("colspan", 1)))
        except ValueError:
            span = 1
        cells.extend([cell] * span)
    return cells


def _count_value(text: str) -> int | None:
    """The whole number in a cell's text, or None when it is not one (e.g. "[c]", "12.5%")."""
    text = text.strip()
    return int(float(text.replace(",", ""))) if WHOLE_NUMBER.match(text) else None


def small_counts(table: Tag, min_cell: int) -> Iterator[tuple[int, int]]:
    """(body row, column), from 1, of each count cell holding 1..min_cell-1 in one table.

    Header marks apply to the column below; columns are aligned from the right so row-header
    cells (which pandas may merge with rowspan) do not shift the data columns.
    """
    rows = table.find_all("tr")
    head_rows = [r for r in rows if r.find_parent("thead") is not None]
    body_rows = [r for r in rows if r.find_parent("thead") is None]
    marked: set[int] = set()  # column positions counted from the right, 1 = last
    for row in head_rows:
        cells = _expanded(row)
        marked |= {len(cells) - i for i, c in enumerate(cells) if _is_count(c)}
    for r, row in enumerate(body_rows, start=1):
        cells = _expanded(row)
        for i, cell in enumerate(cells):
            if not (_is_count(cell) or (len(cells) - i) in marked):
                continue
            value = _count_value(cell.get_text())
            if value is not None and disclosure.small(value, min_cell):
                yield r, i + 1
