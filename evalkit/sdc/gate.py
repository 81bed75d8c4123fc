"""Privacy gate: scan what a run would publish for identifiers and small counts.

Run by `evalkit run` after rendering and before a report is published; any finding blocks it.

- Identifiers: every `person_id`, `pa_id`, `request_id` and `respondent_id` value in the input
  is looked for as a whole token (a maximal run of letters, digits, `_` and `-`) in the visible
  text, titles and attributes of each HTML page (embedded `data:` images and style sheets are
  skipped) and in every string and number of `results.json` and `key_findings.md`.
  Values of 3 characters or fewer, and all-digit values of 5 digits or fewer, cannot be told
  apart from ordinary numbers and words; they are counted in the result as not scanned.
- Small counts: in every HTML `<table>`, a cell is a count when it, or the header cell above its
  column, has `class="count"` or a `data-count` attribute (`evalkit.report.style.table` marks
  count columns this way). A count cell whose text is a whole number from 1 to `min_cell - 1`
  (thousands separators allowed) breaks disclosure control; suppressed cells (`[c]`) and 0 pass.

Findings say where the problem is but never repeat the identifier itself, because the manifest
that lists them may be shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from bs4 import BeautifulSoup, Tag

from evalkit.sdc import disclosure

ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "support_episodes": ("person_id",),
    "pa_register": ("pa_id",),
    "pa_requests": ("request_id", "person_id", "pa_id"),
    "survey": ("respondent_id",),
}
TOKEN = re.compile(r"[A-Za-z0-9_\-]+")
WHOLE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.0+)?$|^\d+(\.0+)?$")
SKIPPED_TAGS = ("style",)


@dataclass(frozen=True)
class Finding:
    """One thing the gate refuses to publish: which file, what kind, and where in it."""

    file: str
    kind: str  # "identifier" or "small_count"
    where: str

    def as_dict(self) -> dict[str, str]:
        """Plain dict for the manifest."""
        return asdict(self)


@dataclass(frozen=True)
class Identifiers:
    """Identifier values to look for, by column, and how many were too short to scan."""

    values: Mapping[str, frozenset[str]]
    not_scanned: int

    def column_of(self, token: str) -> str | None:
        """The identifier column a token belongs to, or None."""
        return next((col for col, vals in self.values.items() if token in vals), None)


def scannable(value: str) -> bool:
    """True when a value is distinctive enough to search for without matching ordinary text."""
    return len(value) > 3 and not (value.isdigit() and len(value) <= 5)


def identifiers(tables: Mapping[str, pd.DataFrame | None]) -> Identifiers:
    """Collect the identifier values of the input tables (a Dataset's tables by name)."""
    found: dict[str, set[str]] = {}
    for table, columns in ID_COLUMNS.items():
        frame = tables.get(table)
        if frame is None:
            continue
        for col in columns:
            if col in frame:
                vals = frame[col].dropna().astype(str).str.strip()
                found.setdefault(col, set()).update(v for v in vals.unique() if v)
    skipped = sum(not scannable(v) for vals in found.values() for v in vals)
    return Identifiers(
        {col: frozenset(v for v in vals if scannable(v)) for col, vals in found.items()}, skipped
    )


def _id_findings(texts: Iterable[tuple[str, str]], ids: Identifiers,
                 file: str) -> Iterator[Finding]:
    """Findings for identifier tokens in (place, text) pairs."""
    for place, text in texts:
        for token in TOKEN.findall(text):
            col = ids.column_of(token)
            if col:
                yield Finding(file, "identifier", f"a {col} value in {place}")


def _html_texts(soup: BeautifulSoup) -> Iterator[tuple[str, str]]:
    """(place, text) for every visible string and attribute value, skipping data: URIs."""
    for string in soup.find_all(string=True):
        if string.parent is not None and string.parent.name not in SKIPPED_TAGS:
            yield f"<{string.parent.name}> text", str(string)
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            if not text.startswith("data:"):
                yield f"<{tag.name} {attr}>", text


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


def _small_counts(soup: BeautifulSoup, min_cell: int, file: str) -> Iterator[Finding]:
    """Findings for count cells holding 1..min_cell-1 in the page's tables.

    Header marks apply to the column below; columns are aligned from the right so row-header
    cells (which pandas may merge with rowspan) do not shift the data columns.
    """
    for t, table in enumerate(soup.find_all("table"), start=1):
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
                    yield Finding(file, "small_count",
                                  f"table {t}, row {r}, column {i + 1}: a count below {min_cell}")


def scan_html(path: Path, ids: Identifiers, min_cell: int, *, name: str) -> list[Finding]:
    """Findings in one rendered HTML page."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return [*_id_findings(_html_texts(soup), ids, name), *_small_counts(soup, min_cell, name)]


def _json_texts(obj: Any, place: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, text) for every key and scalar in a parsed JSON document."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield f"{place} key", str(key)
            yield from _json_texts(value, f"{place}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _json_texts(value, f"{place}[{i}]")
    elif obj is not None:
        yield place, str(obj)


def scan_json(path: Path, ids: Identifiers, *, name: str) -> list[Finding]:
    """Findings in a results.json file."""
    return list(_id_findings(_json_texts(json.loads(path.read_text())), ids, name))


def scan_text(path: Path, ids: Identifiers, *, name: str) -> list[Finding]:
    """Findings in a plain-text file such as key_findings.md."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return list(_id_findings(((f"line {i}", s) for i, s in enumerate(lines, 1)), ids, name))


def scan(paths: Iterable[Path], ids: Identifiers, min_cell: int, root: Path) -> list[Finding]:
    """Scan each file by its type (.html, .json, other text); names are relative to `root`."""
    findings: list[Finding] = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        if path.suffix == ".html":
            findings += scan_html(path, ids, min_cell, name=name)
        elif path.suffix == ".json":
            findings += scan_json(path, ids, name=name)
        else:
            findings += scan_text(path, ids, name=name)
    return findings
