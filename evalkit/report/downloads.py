"""The tables of a report page as downloads: one CSV file per table and one spreadsheet (.xlsx)
holding all of them, laid out as the Government Analysis Function's "Releasing statistics in
spreadsheets" asks.

The downloads are read from the report page's own tables (`page_tables`), after the page was
built from the report's `Publication` (evalkit.report.publication.publish): they hold exactly
the figures the page shows, through the same disclosure step, never a raw frame. A figure is
written as a number (thousands separators and a trailing % removed; a column of percentages
says "(%)" in its heading), a withheld count as [c], a missing figure as [x]. A count column's
heading ends with COUNT_MARK, so the privacy gate (evalkit.sdc.gate) can check every count in a
download as it checks the page's.

The spreadsheet has a cover sheet, a contents sheet (a link to each table), a notes sheet (the
shorthand and each table's footnote as numbered notes), then one table a sheet: its title in
cell A1, a line saying what the sheet holds and which notes apply, the headings, then the rows;
no merged cells, no blank rows or columns inside a table, each table marked as a table.

A long table with many withheld cells (LONG_ROWS rows or more, at least SPARSE of its cells
[c]) is moved to the downloads only: `move_long` replaces it on the page with a sentence saying
so. Any other table of PRINT_ROWS rows or more stays on the screen but is left out on paper,
where a sentence says where to read it (the report's print stylesheet hides
`evalkit-screen-only` and shows `evalkit-print-only`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.table import Table as SheetTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from evalkit.sdc import sheets

COUNT_MARK = f" {sheets.COUNT_MARK}"  # the privacy gate reads count columns by it
WITHHELD, MISSING = "[c]", "[x]"
SHORTHAND = {
    WITHHELD: "[c] means a count withheld to protect people's privacy (a count of 1 to the "
              "smallest count shown minus one, or a larger count that would give one away), or "
              "a figure worked out from one.",
    MISSING: "[x] means the figure is not available: too few people to estimate it, or it does "
             "not apply.",
}
LONG_ROWS = 40  # a table this long and SPARSE withheld is moved to the downloads only
SPARSE = 0.2
PRINT_ROWS = 20  # a table this long is left out on paper (it would fill pages), not on screen
NUMBER = re.compile(r"^[-\u2212]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")
FOLDER = "downloads"
Value = str | int | float


@dataclass(frozen=True)
class Table:
    """One table of a page as it is downloaded: title, headings, rows and its footnote."""

    title: str
    columns: list[str]
    rows: list[list[Value]]
    note: str = ""

    @property
    def withheld(self) -> float:
        """The share of the table's cells that are [c]."""
        cells = [v for row in self.rows for v in row]
        return sum(v == WITHHELD for v in cells) / len(cells) if cells else 0.0

    def csv(self) -> str:
        """The table as CSV: the headings, then the rows."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


def _grid(rows: Sequence[Tag]) -> list[list[Tag]]:
    """The cells of `rows` with each repeated over its colspan and rowspan."""
    grid: list[list[Tag]] = []
    spill: dict[tuple[int, int], Tag] = {}  # (row, column) filled by a rowspan from above
    for r, row in enumerate(rows):
        cells: list[Tag] = []
        for cell in row.find_all(["th", "td"], recursive=False):
            while (r, len(cells)) in spill:
                cells.append(spill.pop((r, len(cells))))
            for _ in range(_span(cell, "colspan")):
                for below in range(1, _span(cell, "rowspan")):
                    spill[r + below, len(cells)] = cell
                cells.append(cell)
        while (r, len(cells)) in spill:
            cells.append(spill.pop((r, len(cells))))
        grid.append(cells)
    return grid


def _span(cell: Tag, attr: str) -> int:
    """A cell's colspan or rowspan (1 when absent or not a number)."""
    text = str(cell.get(attr, "1"))
    return max(1, int(text)) if text.isdigit() else 1


def _text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def value(text: str) -> Value:
    """A cell as downloaded: a number when it is one (1,234 -> 1234, 40.1% -> 40.1), [x] when
    missing (n/a or empty), else the text ([c] kept)."""
    if text in ("", "n/a", "nan", "NaN"):
        return MISSING
    if not NUMBER.match(text):
        return text
    number = text.replace(",", "").replace("%", "").replace("\u2212", "-")
    return float(number) if "." in number else int(number)


def read_table(table: Tag, number: int) -> Table:
    """A page's `<table>` as a downloadable Table (`number` names it when it has no caption).

    Headings over several header rows are joined ("Active PAs: n"); a column marked as a count
    (class="count", as evalkit.report.style marks them) gets COUNT_MARK; a column whose values
    are all percentages gets "(%)"; an unnamed column of whole numbers (row numbers) is left
    out."""
    rows = table.find_all("tr")
    head = _grid([r for r in rows if r.find_parent("thead") is not None])
    body = _grid([r for r in rows if r.find_parent("thead") is None])
    width = max(map(len, head + body), default=0)
    columns = []
    for j in range(width):
        parts = [_text(row[j]) for row in head if j < len(row)]
        columns.append(": ".join(dict.fromkeys(p for p in parts if p)))
    counts = {j for row in head + body for j, c in enumerate(row)
              if "count" in (c.get("class") or []) or c.has_attr("data-count")}
    texts = [[_text(row[j]) if j < len(row) else "" for j in range(width)] for row in body]
    texts = [row for row in texts if any(row)]
    keep = [j for j in range(width)
            if columns[j] or not all(row[j].isdigit() for row in texts)]
    headings = [_heading(columns[j], j in counts, [row[j] for row in texts]) for j in keep]
    caption = table.find("caption")
    title = _text(caption) if caption else f"Table {number}"
    note = footnote(table)
    return Table(title, _unique(headings), [[value(row[j]) for j in keep] for row in texts],
                 _text(note) if note else "")


def block(table: Tag) -> Tag:
    """The table with the elements wrapping only it (e.g. a scrolling box): what the page
    shows as the table."""
    while table.parent is not None and table.parent.name == "div" and len(
            table.parent.find_all(True, recursive=False)) == 1:
        table = table.parent
    return table


def footnote(table: Tag) -> Tag | None:
    """The footnote printed right under a table (`<p class="evalkit-footnote">`), if any."""
    after = block(table).find_next_sibling()
    return after if after is not None and "evalkit-footnote" in (after.get("class") or []) \
        else None


def _heading(name: str, count: bool, cells: list[str]) -> str:
    """A column's heading in the downloads."""
    name = name or "Category"
    if count:
        return name + COUNT_MARK
    shown = [c for c in cells if NUMBER.match(c)]
    if shown and all(c.endswith("%") for c in shown) and "%" not in name:
        return f"{name} (%)"
    return name


def _unique(headings: list[str]) -> list[str]:
    """Headings made unique (a spreadsheet table needs them so) by numbering repeats."""
    seen: dict[str, int] = {}
    out = []
    for h in headings:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def page_tables(main: Tag) -> list[tuple[Tag, Table]]:
    """Every table of a page's main part with its downloadable form."""
    return [(t, read_table(t, i)) for i, t in enumerate(main.find_all("table"), start=1)]


def csv_name(stem: str, number: int) -> str:
    """The file name of a page's table `number` ("01_uptake-table-03.csv")."""
    return f"{stem}-table-{number:02d}.csv"


def workbook_name(stem: str) -> str:
    return f"{stem}-tables.xlsx"


# ---- the spreadsheet ---------------------------------------------------------------------------

def _notes(tables: Sequence[Table]) -> list[str]:
    """The notes sheet's notes: the shorthand used, then each distinct footnote."""
    used = {v for t in tables for row in t.rows for v in row if v in SHORTHAND}
    return [SHORTHAND[s] for s in SHORTHAND if s in used] + list(
        dict.fromkeys(t.note for t in tables if t.note))


def _table_notes(table: Table, notes: list[str]) -> list[int]:
    """The numbers of the notes that apply to `table`."""
    used = {SHORTHAND[v] for row in table.rows for v in row if v in SHORTHAND}
    return [i for i, n in enumerate(notes, start=1) if n in used or n == table.note]


def _sheet_table(ws: Worksheet, name: str, header_row: int, width: int, height: int) -> None:
    """Mark the cells from `header_row` as a spreadsheet table named `name`, headings bold."""
    last = ws.cell(header_row + height, width).coordinate
    table = SheetTable(displayName=name, ref=f"A{header_row}:{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(table)
    for cell in ws[header_row]:
        cell.font = Font(bold=True)


def _write_rows(ws: Worksheet, title: str, lines: Sequence[str], columns: Sequence[str],
                rows: Sequence[Sequence[Value]], name: str) -> None:
    """A sheet: `title` in A1 (larger), `lines` below it, then a table of `columns` and
    `rows` named `name`."""
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in lines:
        ws.append([line])
    ws.append(list(columns))
    for row in rows:
        ws.append(list(row))
    if rows:
        _sheet_table(ws, name, len(lines) + 2, len(columns), len(rows))
    for j, heading in enumerate(columns, start=1):
        width = max([len(str(heading)), *(len(str(r[j - 1])) for r in rows)])
        ws.column_dimensions[ws.cell(1, j).column_letter].width = min(max(width + 2, 12), 60)


def workbook(tables: Sequence[Table], *, title: str, about: Sequence[str]) -> bytes:
    """The spreadsheet of `tables` (cover, contents, notes, one table a sheet) as .xlsx bytes;
    `about` are the cover sheet's lines (place, period, source, disclosure control)."""
    notes = _notes(tables)
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.append([title])
    cover["A1"].font = Font(bold=True, size=14)
    for line in [*about, f"This spreadsheet holds the {len(tables)} table(s) of the report, one "
                 "a sheet; the Contents sheet links to each, the Notes sheet explains the "
                 "shorthand ([c], [x]) and the notes each table refers to."]:
        cover.append([line])
    cover.column_dimensions["A"].width = 100
    _write_rows(wb.create_sheet("Contents"), "Contents",
                ["This worksheet contains one table."], ["Sheet", "Table title"],
                [[f"Table_{i}", t.title] for i, t in enumerate(tables, start=1)], "contents")
    for i in range(len(tables)):
        link = wb["Contents"].cell(4 + i, 1)
        link.hyperlink = f"#'Table_{i + 1}'!A1"
    _write_rows(wb.create_sheet("Notes"), "Notes", ["This worksheet contains one table."],
                ["Note number", "Note text"],
                [[f"[note {i}]", n] for i, n in enumerate(notes, start=1)], "notes")
    for i, t in enumerate(tables, start=1):
        refs = ", ".join(f"[note {n}]" for n in _table_notes(t, notes))
        line = "This worksheet contains one table." + (
            f" Notes that apply: {refs} (see the Notes sheet)." if refs else "")
        _write_rows(wb.create_sheet(f"Table_{i}"), t.title, [line], t.columns, t.rows,
                    f"table_{i}")
    wb.properties.title = title
    wb.properties.language = "en-GB"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- on the page -------------------------------------------------------------------------------

def _link(soup: BeautifulSoup, href: str, text: str) -> Tag:
    link = soup.new_tag("a", href=href)
    link.string = text
    return link


def _paragraph(soup: BeautifulSoup, *parts: str | Tag) -> Tag:
    para = soup.new_tag("p", attrs={"class": "evalkit-download"})
    for part in parts:
        para.append(part)
    return para


def _screen_only(soup: BeautifulSoup, tag: Tag, note: Tag | None, words: str) -> None:
    """Mark a table (and its footnote) as shown on screen only, with `words` on paper."""
    for part in (block(tag), note):
        if part is not None:
            part["class"] = [*(part.get("class") or []), "evalkit-screen-only"]
    para = soup.new_tag("p", attrs={"class": "evalkit-print-only"})
    para.string = words
    (note or block(tag)).insert_after(para)


def is_long(table: Table) -> bool:
    """True for a table moved to the downloads only (long, many cells withheld)."""
    return len(table.rows) >= LONG_ROWS and table.withheld >= SPARSE


def publish(soup: BeautifulSoup, main: Tag, folder: Path, stem: str, *, title: str,
            about: Sequence[str]) -> list[Path]:
    """Write the downloads of the page `soup` (its tables in `main`) to `folder` (CSV files
    and the spreadsheet, named after the notebook `stem`), and link them on the page: a
    paragraph under each table, and one at the start of `main` for the spreadsheet. A long
    sparse table (`is_long`) is replaced by a sentence saying where it is. Returns the files
    written (none when the page has no table)."""
    found = page_tables(main)
    if not found:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    book = workbook_name(stem)
    written = [folder / book]
    written[0].write_bytes(workbook([t for _, t in found], title=title, about=about))
    for i, (tag, table) in enumerate(found, start=1):
        path = folder / csv_name(stem, i)
        path.write_text(table.csv(), encoding="utf-8")
        written.append(path)
        csv_link = _link(soup, f"{FOLDER}/{path.name}", f"Download table {i} as CSV")
        where = f" (or sheet Table_{i} of the spreadsheet)."
        note = footnote(tag)
        if is_long(table):
            block(tag).replace_with(_paragraph(
                soup, f"Table {i}, {table.title}, has {len(table.rows)} rows with "
                f"{table.withheld:.0%} of its cells withheld ([c]): too long to read on the "
                "page, it is in the downloads only. ", csv_link, where))
            if note is not None:
                note.decompose()
        else:
            (note or block(tag)).insert_after(_paragraph(soup, csv_link, where))
            if len(table.rows) >= PRINT_ROWS:
                _screen_only(soup, tag, note, f"Table {i}, {table.title}, has "
                             f"{len(table.rows)} rows: it is left out on paper. Read it on the "
                             f"report's web page or in its downloads ({path.name}{where[:-1]}).")
    main.insert(0, _paragraph(soup, f"All {len(found)} tables of this report are in one "
                                    "spreadsheet: ", _link(soup, f"{FOLDER}/{book}",
                                                           "download the spreadsheet (xlsx)"),
                              "; each table is also a CSV file, linked under it."))
    return written
