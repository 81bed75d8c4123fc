"""Privacy gate: the last, independent check of everything a run would publish.

`scan_folder(folder, ids, min_cell)` scans every file under a council's (staging) report folder
and returns findings; any finding means the file's notebook must not be published. `scan` does
the same for a list of files. What is looked for:

- Identifiers: every `person_id`, `pa_id`, `request_id`, `respondent_id` value of the input (and
  any column named like an NHS number) is normalised (case folded, separators ` - . _ , /`
  removed) and looked for, normalised the same way, as a whole token, as a run of up to
  MAX_PARTS tokens joined by separators (`943 476 5919`, `LA/000123`) and as a whole table cell
  or short text, in: HTML text (also as shown across markup, `seams`), attributes and `<title>`;
  every JSON key and value; Markdown and other text; every CSV field, cell, comment, sheet name
  and property of a spreadsheet (`sheets.read`); every source, output and metadata of an
  executed `.ipynb`; and file names. Embedded raster images (`data:image/png;base64,...` whose bytes
  are an image's) are skipped; any other data URI (a CSV behind a download link, an SVG,
  percent-encoded text) is a finding.
- Short identifiers: a value with no letter and fewer than MIN_PLAIN characters, or letters only
  (e.g. `42`, `0815`, `AB`) cannot be told apart from a count, a year or a code in a published
  table; matching them would block every report, not matching them would let them through.
  The gate therefore refuses to vouch for such input: `scan_folder` reports one folder-wide
  `identifiers_unchecked` finding (so nothing is published) and `Identifiers.problems()` says
  why, so the run can refuse the data before running anything. Give such data longer
  pseudonymous identifiers. Figures written as numbers (`1,234`, `12.5`) and ISO dates are not
  taken as identifiers.
- Person-level rows: a table (HTML `<table>`, table in a notebook's HTML output, CSV, or a
  notebook's printed output: `printed` puts a wrapped frame back together) with at least
  MIN_PERSON_ROWS rows, or columns (a frame shown transposed), that each reproduce an input row
  on MIN_PERSON_COLUMNS or more of its person columns (PERSON_COLUMNS: dates, birth month, area,
  ethnicity, gender, language...), even without an identifier column.
- Small counts: in every HTML table, a cell marked as a count (`class="count"` or `data-count`
  on it or its column's header, as `evalkit.report.style.table` marks them) holding 1 to
  `min_cell - 1`; suppressed cells (`[c]`) and 0 pass. The same in the tables of CSV files
  and spreadsheets (downloads), whose count columns are headed "... (count)".
- What the gate cannot read: image and binary files, images a notebook displayed itself
  (not through `evalkit.report.style.show`, which checked the labels and, in a run, marks
  each chart under the run's key: `Identifiers.chart_key`), and data URIs other than images.

Findings (file, kind, where) never contain an identifier: places and file names are redacted.
`redact(text, ids)` scrubs a message (a cell's error, a log line) the same way before it is
written anywhere; `message(text, ids)` also withholds one holding a person's row. A PNG's labels
cannot be read: `evalkit.sdc.labels` hashes the identifiers for `evalkit.report.style`, which
refuses a chart with a label among them.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from evalkit.sdc import counts, printed, seams, sheets
from evalkit.sdc.embedded import unmarked_images, unreadable, without_data, without_images
from evalkit.sdc.people import (
    MIN_PERSON_COLUMNS,
    PERSON_COLUMNS,
    PersonRows,
    person_rows,
)

ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "support_episodes": ("person_id", "nhs_number"),
    "pa_register": ("pa_id",),
    "pa_requests": ("request_id", "person_id", "pa_id"),
    "survey": ("respondent_id",),
}
NHS_COLUMN = re.compile(r"nhs", re.IGNORECASE)  # extra identifier columns, if a table keeps one
MIN_PERSON_ROWS = 3  # such rows that make a table person-level (fewer if the table is shorter)
MIN_PLAIN = 6  # characters an identifier without both letters and digits needs to be checked
MAX_PARTS = 5  # tokens joined by separators that may together spell one identifier
WHOLE_TEXT = 64  # texts up to this long are also compared whole, all separators removed
REDACTED = "[identifier]"
PERSON_ROW_MESSAGE = "[message withheld: it holds values from a person's row of the input]"

ATOM = re.compile(r"[^\W_]+")  # letters and digits
GAP = re.compile(r"[\s\-._,/]{1,3}")  # separators that may sit inside one identifier
NON_ALNUM = re.compile(r"[\W_]+")
DECIMALS = re.compile(r"\d\.\d+$")  # a digit, a point, then the token
FIGURE = re.compile(r"\d{1,3}(,\d{3})*(\.\d+)?|\d+\.\d+|\d{4}-\d{2}(-\d{2})?")
KEY_CHARS = 32  # no key value printed is longer ("2024-10-29T00:00:00.000" is 23)
KEPT_TEXT_CHARS = 2_000  # texts up to this long keep what was found in them (`_columns_in`)
NUMBER_START = re.compile(r"[-+.\d]")
MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ t]00:00:00(\.0+)?$")
MARKUP = ("text/html", "image/svg+xml")  # outputs whose tables are read as a page's
UNREADABLE = (".png", ".jpg", ".jpeg", ".gif", ".pdf", ".parquet", ".pkl", ".zip")


@dataclass(frozen=True)
class Finding:
    """One thing the gate refuses to publish: which file, what kind, and where in it."""

    file: str
    kind: str  # identifier, person_rows, small_count, image, unreadable, identifiers_unchecked
    where: str

    def as_dict(self) -> dict[str, str]:
        """Plain dict for the manifest."""
        return asdict(self)


def normalise(value: str) -> str:
    """An identifier as compared: case folded, separators and punctuation removed."""
    return NON_ALNUM.sub("", str(value)).casefold()


def checkable(value: str) -> bool:
    """True when a normalised identifier cannot be mistaken for a count, year or word."""
    mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return mixed or len(value) >= MIN_PLAIN


@dataclass(frozen=True, eq=False)  # equal only to itself: `_columns_in` keeps results by it
class Identifiers:
    """The input's identifiers (normalised, with their column) and person rows to look for."""

    by_value: Mapping[str, str]  # checkable normalised identifier -> its column
    unchecked: Mapping[str, frozenset[str]] = field(default_factory=dict)  # table.column: short
    people: tuple[PersonRows, ...] = ()
    chart_key: bytes | None = None  # a run's: its charts are marked (`embedded.chart_mark`)

    @property
    def values(self) -> dict[str, frozenset[str]]:
        """Checkable normalised identifiers by column."""
        cols = set(self.by_value.values())
        return {c: frozenset(v for v, col in self.by_value.items() if col == c) for c in cols}

    def problems(self) -> list[str]:
        """Why the gate cannot vouch for this input, by table and column (no values quoted);
        empty when it can."""
        return [f"{col}: {len(v)} identifier(s) without both letters and digits and shorter than "
                f"{MIN_PLAIN} characters cannot be told apart from published counts, years or "
                "codes; give the data longer pseudonymous identifiers"
                for col, v in sorted(self.unchecked.items()) if v]


def normalised_values(column: pd.Series) -> tuple[set[str], set[str]]:
    """A column's distinct values normalised (`normalise`, empty ones left out), as (checkable,
    plain) sets (`checkable`). National tables hold millions of identifiers: the ASCII ones,
    nearly all, are normalised in Arrow (removing what is not [A-Za-z0-9] and lower-casing is
    `normalise` for ASCII text), the rest value by value."""
    values = pa.array(column.dropna().astype(str).unique(), type=pa.string())
    ascii_text = pc.string_is_ascii(values)
    norm = pc.ascii_lower(pc.replace_substring_regex(values.filter(ascii_text), "[^A-Za-z0-9]+",
                                                     ""))
    norm = norm.filter(pc.greater(pc.binary_length(norm), 0))
    ok = pc.or_(pc.and_(pc.match_substring_regex(norm, "[0-9]"),
                        pc.match_substring_regex(norm, "[a-z]")),
                pc.greater_equal(pc.binary_length(norm), MIN_PLAIN))
    others = {v for v in map(normalise, values.filter(pc.invert(ascii_text)).to_pylist()) if v}
    return (set(norm.filter(ok).to_pylist()) | {v for v in others if checkable(v)},
            set(norm.filter(pc.invert(ok)).to_pylist()) | {v for v in others if not checkable(v)})


def identifiers(tables: Mapping[str, pd.DataFrame | None]) -> Identifiers:
    """Collect identifiers and person rows of the input tables (a Dataset's tables by name)."""
    by_value: dict[str, str] = {}
    short: dict[str, frozenset[str]] = {}
    people = []
    for table, frame in tables.items():
        if frame is None:
            continue
        extra = tuple(c for c in frame.columns if NHS_COLUMN.search(str(c)))
        for col in (c for c in dict.fromkeys((*ID_COLUMNS.get(table, ()), *extra)) if c in frame):
            checked, plain = normalised_values(frame[col])
            by_value.update(dict.fromkeys(checked, col))
            if plain:
                short[f"{table}.{col}"] = frozenset(plain)
        if table in PERSON_COLUMNS and (rows := person_rows(table, frame)) is not None:
            people.append(rows)
    return Identifiers(by_value, short, tuple(people))


# ---- identifiers in text ---------------------------------------------------------------------

def candidates(text: str, figures: bool = False) -> Iterator[tuple[int, int, str]]:
    """(start, end, normalised) for each token, each run of up to MAX_PARTS tokens joined by
    separators, and (for short texts) the whole text; figures, ISO dates and the decimals of a
    number (`13.123456`, as in execution times) are left out unless `figures`."""
    atoms = list(ATOM.finditer(text))
    for i, first in enumerate(atoms):
        if not figures and DECIMALS.match(text, max(first.start() - 2, 0), first.end()):
            continue
        key, end = "", first.start()
        for atom in atoms[i:i + MAX_PARTS]:
            if key and not GAP.fullmatch(text, end, atom.start()):
                break
            key, end = key + atom.group().casefold(), atom.end()
            if figures or not FIGURE.fullmatch(text, first.start(), end):
                yield first.start(), end, key
    if atoms and len(text) <= WHOLE_TEXT and (figures or not FIGURE.fullmatch(text.strip())):
        yield atoms[0].start(), atoms[-1].end(), normalise(text)


def _matches(text: str, ids: Identifiers, short: bool = False) -> Iterator[tuple[int, int, str]]:
    """(start, end, column) of each identifier in `text` (`short`: unchecked ones too, and
    in figures as well)."""
    extra = {v: c for c, vals in ids.unchecked.items() for v in vals} if short else {}
    for start, end, key in candidates(without_images(text), figures=short):
        col = ids.by_value.get(key) or extra.get(key)
        if col:
            yield start, end, col


def redact(text: str, ids: Identifiers) -> str:
    """`text` with every identifier of the input, short ones included, replaced by
    REDACTED, e.g. for a cell's error message before it goes into a manifest or log (a number
    equal to a short identifier is redacted too: a message may lose a figure, never a person's
    identifier; embedded data are written as `[image]` or `[data]`: `without_data`)."""
    text = without_data(str(text))
    spans = sorted({(s, e) for s, e, _ in _matches(text, ids, short=True)})
    out, at = [], 0
    for start, end in spans:
        if start >= at:
            out += [text[at:start], REDACTED]
            at = end
        elif end > at:  # overlaps the previous span: extend it
            at = end
    return "".join([*out, text[at:]])


def redact_object(obj: Any, ids: Identifiers) -> Any:
    """A JSON-like object (e.g. a manifest) with every key and text value redacted; numbers,
    booleans and None are kept."""
    if isinstance(obj, Mapping):
        return {redact(str(k), ids): redact_object(v, ids) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_object(v, ids) for v in obj]
    if obj is None or isinstance(obj, bool | int | float):
        return obj
    return redact(str(obj), ids)


def _id_findings(texts: Iterable[tuple[str, str]], ids: Identifiers,
                 file: str) -> Iterator[Finding]:
    """One finding per identifier column found in each (place, text) pair, and one for each
    data URI other than a raster image."""
    for place, text in texts:
        for col in _columns_found(text, ids):
            yield Finding(file, "identifier", f"a {col} value in {redact(place, ids)}")
        yield from _embedded_findings(text, place, ids, file)


def _embedded_findings(text: str, place: str, ids: Identifiers, file: str) -> Iterator[Finding]:
    """An "unreadable" finding for each data URI in `text` other than a raster image
    (`evalkit.sdc.embedded`): a download link's CSV or an SVG's labels could hold anything."""
    for kind in unreadable(text):
        yield Finding(file, "unreadable", f"{redact(place, ids)}: embedded data "
                                          f"({redact(kind, ids)}) cannot be checked; show it as "
                                          "a table (evalkit.report.style.table), whose page "
                                          "gets its CSV download")


@functools.lru_cache(maxsize=printed.TEXTS_KEPT)
def _columns_in(text: str, ids: Identifiers) -> tuple[str, ...]:
    """The identifier columns with a value in `text`, in order, kept for the next file that shows
    the text (a council's page, notebook, downloads and results show the same headings, labels
    and figures: about 6 texts in 7 of a council's folder were scanned already)."""
    return tuple(dict.fromkeys(col for _, _, col in _matches(text, ids)))


def _columns_found(text: str, ids: Identifiers) -> tuple[str, ...]:
    """`_columns_in`, kept only for texts up to KEPT_TEXT_CHARS long."""
    return (_columns_in if len(text) <= KEPT_TEXT_CHARS else _columns_in.__wrapped__)(text, ids)


def forget() -> None:
    """Drop what was kept of the texts and rows scanned (`_columns_in`, `_keyed`), and with
    it the run's Identifiers they hold (millions of values): for a process that goes on after
    a run."""
    _columns_in.cache_clear()
    _keyed.cache_clear()


# ---- tables ------------------------------------------------------------------------------------

def _cell_text(text: str) -> str:
    """A published cell normalised as `evalkit.sdc.people` writes input values."""
    text = " ".join(text.split()).casefold()
    if day := MIDNIGHT.match(text):
        return day.group(1)
    if not NUMBER_START.match(text):  # most cells: words (an exception per cell is slow)
        return text
    try:
        return format(float(text.replace(",", "")), ".10g")
    except ValueError:
        return text


@functools.lru_cache(maxsize=printed.TEXTS_KEPT)
def _keyed(line: tuple[str, ...], ids: Identifiers) -> bool:
    """Whether a published row holds a key value of an input row; only its cells of one or two
    words (a date and its time) with a digit are looked at: every key has one (dates, birth
    months, budgets, area codes). Kept for the next file with the row: a report's table is in
    its page, its notebook, its CSV and its spreadsheet."""
    short = (c.strip() for c in line)
    keys = {_cell_text(c) for c in short
            if len(c) <= KEY_CHARS and c.count(" ") <= 1 and printed.DIGIT.search(c)}
    return any(key in people.by_key for key in keys for people in ids.people)


def _person_findings(rows: list[list[str]], ids: Identifiers, file: str, where: str,
                     columns: list[list[str]] | None = None) -> Iterator[Finding]:
    """A finding when MIN_PERSON_ROWS rows (all, if fewer) reproduce input rows, or as many
    `columns` do (by default the table's own: a frame shown transposed, `df.head().T`, or one
    person's row printed as a Series, has a person in each column but the first, its labels;
    a column counts only with a value that is not a key, e.g. an area beside the dates)."""
    if columns is None:
        columns = [list(column) for column in itertools.zip_longest(*rows, fillvalue="")]
    for lines, kind, labels in ((rows, "row", 0), (columns, "column", 1)):
        cells = [{_cell_text(c) for c in line if c.strip()} for line in lines
                 if len(line) >= MIN_PERSON_COLUMNS and _keyed(tuple(line), ids)]
        for people in ids.people:
            hits = sum(people.reproduced(c, mixed=labels > 0) for c in cells
                       if len(c) >= MIN_PERSON_COLUMNS)
            if hits and hits >= min(MIN_PERSON_ROWS, len(lines) - labels):
                yield Finding(file, "person_rows", f"{where}: {hits} {kind}(s) reproduce "
                                                   f"{people.table} rows")
                return


def holds_person_row(text: str, ids: Identifiers) -> bool:
    """True when one line of `text` (e.g. a cell's error), or one column of a frame printed in
    it, holds MIN_PERSON_COLUMNS values of one input row, key value included: a person's row
    printed into a message."""
    for lines, mixed in ((printed.rows(text), False), (printed.columns(text), True)):
        for line in lines:
            cells = {_cell_text(c) for c in line}
            if len(cells) >= MIN_PERSON_COLUMNS and any(p.reproduced(cells, mixed)
                                                        for p in ids.people):
                return True
    return False


def message(text: str, ids: Identifiers) -> str:
    """A message (a cell's error, a warning) as it may be written or printed: redacted, or
    PERSON_ROW_MESSAGE if it holds values of a person's row."""
    return PERSON_ROW_MESSAGE if holds_person_row(text, ids) else redact(text, ids)


def _small_counts(soup: BeautifulSoup, min_cell: int, file: str,
                  place: str = "") -> Iterator[Finding]:
    """Findings for count cells holding 1..min_cell-1 in the tables of an HTML document."""
    for t, table in enumerate(soup.find_all("table"), start=1):
        for r, c in counts.small_counts(table, min_cell):
            yield Finding(file, "small_count",
                          f"{place}table {t}, row {r}, column {c}: a count below {min_cell}")


def _page_findings(soup: BeautifulSoup, ids: Identifiers, min_cell: int, file: str,
                   place: str = "") -> Iterator[Finding]:
    """Small counts and person-level rows in every table of an HTML document, person-level
    rows in its text (lists, paragraphs, `<pre>`, alt text: `printed.page_rows`) and
    identifiers its markup splits (`_seam_findings`)."""
    yield from _small_counts(soup, min_cell, file, place)
    yield from _seam_findings(soup, ids, file, place)
    for t, table in enumerate(soup.find_all("table"), start=1):
        body = [r for r in table.find_all("tr") if r.find_parent("thead") is None]
        rows = [[c.get_text(" ") for c in r.find_all(["td", "th"])] for r in body]
        yield from _person_findings(rows, ids, file, f"{place}table {t}")
    texts = [text for _, text in _html_texts(soup)]
    yield from _person_findings(printed.page_rows(texts), ids, file, f"{place}text", [])


# ---- files ----------------------------------------------------------------------------------

def _seam_findings(soup: BeautifulSoup, ids: Identifiers, file: str,
                   place: str = "") -> Iterator[Finding]:
    """An identifier that markup splits but the page shows whole (`evalkit.sdc.seams`), and
    that none of the split strings holds itself (those are found string by string)."""
    for parts in seams.glued_runs(seams.shown_strings(soup)):
        if found := _columns_found(seams.shown(parts), ids):
            held = {col for part in parts for col in _columns_found(part, ids)}
            for col in (col for col in found if col not in held):
                yield Finding(file, "identifier", f"a {col} value split by markup in "
                                                  f"{place}text")


def _html_texts(soup: BeautifulSoup) -> Iterator[tuple[str, str]]:
    """(place, text) for every string (title included) and attribute value."""
    for string in soup.find_all(string=True):
        if string.parent is not None and string.parent.name != "style":
            yield f"<{string.parent.name}> text", str(string)
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            yield f"<{tag.name} {attr}>", " ".join(value) if isinstance(value, list) else value


def _image_findings(markup: str, ids: Identifiers, file: str, place: str) -> list[Finding]:
    """An "image" finding for the embedded images `style.show` did not mark in this run, whose
    labels no one checked (none outside a run: no key)."""
    n = unmarked_images(markup, ids.chart_key) if ids.chart_key else 0
    return [Finding(file, "image", f"{place}: {n} embedded image(s) not drawn by "
                                   "evalkit.report.style.show; their labels cannot be checked")
            ] if n else []


def scan_html(path: Path, ids: Identifiers, min_cell: int, *, name: str) -> list[Finding]:
    """Findings in one rendered HTML page."""
    markup = path.read_text(encoding="utf-8")
    soup = _soup(markup)
    body = markup[max(markup.find("<body"), 0):]  # nbconvert's style sheets, in the head,
    return [*_id_findings(_html_texts(soup), ids, name),  # embed images of their own
            *_image_findings(body, ids, name, "the page"),
            *_page_findings(soup, ids, min_cell, name)]


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
    """Findings in a JSON file (results.json, manifest.json): identifiers, person-level rows."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [*_id_findings(_json_texts(document), ids, name),
            *_person_findings(printed.json_rows(document), ids, name, "$", [])]


def _images(output: Mapping[str, Any]) -> list[str]:
    """The media types of an output's images other than SVG (base64, which cannot be read)."""
    return [k for k in output.get("data", {}) if k.startswith("image/") and k != "image/svg+xml"]


def _without_images(output: dict[str, Any]) -> dict[str, Any]:
    """An output without its base64 images (SVG, which is text, is kept)."""
    data = {k: v for k, v in output.get("data", {}).items() if k not in _images(output)}
    return {**output, "data": data} if "data" in output else output


def _soup(markup: str) -> BeautifulSoup:
    """An HTML page or output, or an SVG, parsed for its text, its embedded images' base64 left
    out (`without_images`: a chart's is about 100,000 characters, which the person-row check
    read line by line; the gate's time for a council's folder was 1.24 times as long with
    them); an SVG's `<?xml` prolog does not matter here: BeautifulSoup's warning that it may
    be XML is not for this use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(without_images(markup), "html.parser")


def scan_notebook(path: Path, ids: Identifiers, min_cell: int, *, name: str) -> list[Finding]:
    """Findings in an executed notebook: every source, output and metadata value (an HTML or
    SVG output's markup as written: tag and attribute names and styles included), the tables
    of its HTML outputs, and images displayed as such (a figure shown by matplotlib itself
    rather than `evalkit.report.style.show`, whose labels no one checked)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [{**c, "outputs": [_without_images(o) for o in c.get("outputs", [])]}
             for c in nb.get("cells", [])]
    findings = list(_id_findings(_json_texts({**nb, "cells": cells}), ids, name))
    findings += [Finding(name, "image", f"cell {i} output {j}: an image ({kind}) not drawn by "
                                        "evalkit.report.style.show; its labels cannot be checked")
                 for i, cell in enumerate(nb.get("cells", []))
                 for j, output in enumerate(cell.get("outputs", [])) for kind in _images(output)]
    for i, cell in enumerate(cells):
        for j, output in enumerate(cell["outputs"]):
            at, data = f"cell {i} output {j}", output.get("data", {})
            if text := printed.output_text(output):
                findings += _person_findings(printed.rows(text), ids, name, f"{at} (text)",
                                             printed.columns(text))
            if "application/json" in data:
                findings += _person_findings(printed.json_rows(data["application/json"]), ids,
                                             name, f"{at} (JSON)", [])
            for kind in MARKUP:
                if markup := printed.joined(data.get(kind, "")):
                    findings += _image_findings(markup, ids, name, at)
                    findings += _page_findings(_soup(markup), ids, min_cell, name, f"{at} ")
    return findings


def scan_table(path: Path, ids: Identifiers, min_cell: int, *, name: str) -> list[Finding]:
    """Findings in a CSV file or spreadsheet (`sheets.read`): every field, person-level rows,
    and counts of 1 to min_cell - 1 in columns headed as counts (`sheets.small_counts`)."""
    findings = []
    for sheet, rows in sheets.read(path):
        at = redact(f"{sheet}, ", ids) if sheet else ""
        texts = ((f"{at}row {r}, column {c}", v) for r, row in enumerate(rows, 1)
                 for c, v in enumerate(row, 1))
        findings += [*_id_findings(texts, ids, name),
                     *_person_findings(rows, ids, name, sheet or "the table"),
                     *(Finding(name, "small_count", f"{at}row {r}, column {c}: a count below "
                                                    f"{min_cell}")
                       for r, c in sheets.small_counts(rows, min_cell))]
    return findings


def scan_text(path: Path, ids: Identifiers, *, name: str) -> list[Finding]:
    """Findings in a plain-text file such as key_findings.md; lines with `|` are read as the
    rows of a (Markdown) table, and every line as printed text (a list of people, a CSV)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    table = [line.split("|") for line in lines if line.count("|") >= 2]
    rows = (list(_person_findings(table, ids, name, "the table"))
            or list(_person_findings(printed.rows(text), ids, name, "the text",
                                     printed.columns(text))))
    return [*_id_findings(((f"line {i}", s) for i, s in enumerate(lines, 1)), ids, name), *rows]


def scan_file(path: Path, ids: Identifiers, min_cell: int, *, name: str) -> list[Finding]:
    """Findings in one file, by its type; a file that cannot be read as text is one."""
    suffix = path.suffix.lower()
    found = list(_id_findings([("the file name", name)], ids, redact(name, ids)))
    if suffix in UNREADABLE:
        return [*found, Finding(redact(name, ids), "unreadable",
                                "not text: the gate cannot check it")]
    try:
        if suffix in (".html", ".htm"):
            return found + scan_html(path, ids, min_cell, name=name)
        if suffix == ".ipynb":
            return found + scan_notebook(path, ids, min_cell, name=name)
        if suffix == ".json":
            return found + scan_json(path, ids, name=name)
        if suffix in (".csv", *sheets.SPREADSHEETS):
            return found + scan_table(path, ids, min_cell, name=name)
        return found + scan_text(path, ids, name=name)
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error, ValueError, TypeError):
        return [*found, Finding(redact(name, ids), "unreadable",
                                f"cannot be read as {suffix or 'text'}")]


def scan(paths: Iterable[Path], ids: Identifiers, min_cell: int, root: Path) -> list[Finding]:
    """Scan each file by its type; names are relative to `root` (redacted)."""
    findings: list[Finding] = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        findings += [Finding(redact(f.file, ids), f.kind, f.where)
                     for f in scan_file(path, ids, min_cell, name=name)]
    return findings


def scan_folder(folder: Path, ids: Identifiers, min_cell: int) -> list[Finding]:
    """Findings in every file under `folder` (e.g. a council's staging folder), names relative
    to it; plus one folder-wide finding (file "*") when the input has identifiers too short to
    check, so that nothing of it is published."""
    unchecked = [Finding("*", "identifiers_unchecked", p) for p in ids.problems()]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return unchecked + scan(files, ids, min_cell, folder)


def blocked(findings: Iterable[Finding], prefix: str) -> list[Finding]:
    """The findings that block the files under `prefix` (e.g. "01_uptake/"): their own and the
    folder-wide ones."""
    return [f for f in findings if f.file == "*" or f.file.startswith(prefix)]
