"""A council's summary page, `summary.html` in its folder: each published report's title in
words, its headline and other key findings (direction and uncertainty in plain words, as each
notebook wrote them to key_findings.md: nothing is worked out again here) and links down to the
report and its spreadsheet. Reports that were withheld are named, with why, and not linked.

`describe` enters each notebook's title and headline (its first key finding) in its manifest
entry, for the index; `publish` writes the page and scans it with the privacy gate: a page with
a finding is removed, and the council is published without it.
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evalkit.report import downloads
from evalkit.run import render
from evalkit.run.execute import SUCCEEDED
from evalkit.run.index import council_label
from evalkit.sdc import gate as privacy

SUMMARY = "summary.html"
READING = ("How to read this page: each sentence is a report's key finding. A 95% confidence "
           "interval (CI) is the range the true figure is likely to lie in; \u201ccould be "
           "chance\u201d means that range includes no difference. Counts are rounded to the "
           "nearest 5 and small counts are not shown, to protect people's privacy.")
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<a class="evalkit-skip" href="#content">Skip to content</a>
<main id="content">
<h1>{title}</h1>
{notice}
<p>{period}</p>
<p>{reading}</p>
{sections}
</main>
</body>
</html>
"""


def report_title(notebook: Path) -> str | None:
    """The report's title in words: the first level-1 heading of the notebook's first
    Markdown cell ("Who gets a Direct Payment, and who does not"); None when it has none."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", ""))
            heading = next((line for line in source.splitlines() if line.startswith("# ")), None)
            return heading[2:].strip() if heading else None
    return None


def key_findings(path: Path) -> list[str]:
    """The findings of a key_findings.md: its bullet lines."""
    return [line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("- ")]


def describe(council: Path, entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Enter each notebook's `title` (from its source notebook) and, for a published one,
    its `headline` (first key finding; None when withheld) in its manifest entry; returns the
    key findings by notebook."""
    findings = {}
    for entry in entries:
        source = Path(entry.get("source") or "")
        entry["title"] = report_title(source) if source.is_file() else None
        found = entry.get("outputs", {}).get("key_findings")
        published = entry["status"] == SUCCEEDED and found and (council / found).is_file()
        findings[entry["notebook"]] = key_findings(council / found) if published else []
        entry["headline"] = next(iter(findings[entry["notebook"]]), None)
    return findings


def _section(council: Path, entry: Mapping[str, Any], findings: list[str]) -> str:
    """One report's part of the page."""
    title = html.escape(entry.get("title") or entry["notebook"])
    page = entry.get("outputs", {}).get("html")
    if entry["status"] != SUCCEEDED or not page:
        why = entry.get("withheld") or "not published"
        return f"<section><h2>{title}</h2><p>Not published: {html.escape(why)}.</p></section>"
    first, *rest = [html.escape(s) for s in findings] or ["No key findings."]
    others = "".join(f"<li>{s}</li>" for s in rest)
    book = Path(page).parent / downloads.FOLDER / downloads.workbook_name(entry["notebook"])
    links = [f'<a href="{html.escape(page)}">Read the report: {title}</a>']
    if (council / book).is_file():
        links.append(f'<a href="{html.escape(book.as_posix())}">Download the tables of '
                     f"{title} (spreadsheet, xlsx)</a>")
    return (f"<section><h2>{title}</h2><p><strong>Headline:</strong> {first}</p>"
            + (f"<p>Also found:</p><ul>{others}</ul>" if others else "")
            + f"<p>{' &middot; '.join(links)}</p></section>")


def page(council: Path, la: str, entries: list[dict[str, Any]],
         findings: Mapping[str, list[str]], data: Mapping[str, Any]) -> str:
    """The summary page of council `la` (its folder `council`; `findings` by notebook; the
    run's `data` description from `evalkit.run.manifest.describe_data`)."""
    period = data.get("periods", {}).get(la) or {}
    return PAGE.format(
        title=html.escape(f"Direct Payments: summary of the reports for {council_label(la)}"),
        css=render.CSS.read_text(),
        notice=render.notice_html(render.synthetic_notice(data.get("synthetic"))),
        period=html.escape(f"Data from {period.get('start') or '?'} to "
                           f"{period.get('end') or '?'}."),
        reading=html.escape(READING),
        sections="\n".join(_section(council, e, findings[e["notebook"]])
                           for e in sorted(entries, key=lambda e: e["notebook"])))


def publish(council: Path, la: str, entries: list[dict[str, Any]], data: Mapping[str, Any],
            ids: privacy.Identifiers, min_cell: int) -> str | None:
    """Write the council's summary page into its folder, after the privacy gate has kept only
    the notebooks that passed, and scan it; returns its name, or None (page removed, a message
    on stderr) when the gate found something in it."""
    path = council / SUMMARY
    path.write_text(page(council, la, entries, describe(council, entries), data),
                    encoding="utf-8")
    if found := privacy.scan([path], ids, min_cell, council):
        path.unlink()
        for entry in entries:
            entry["headline"] = None
        print(f"evalkit run: {council_label(la)}: its summary page did not pass the privacy "
              f"gate ({len(found)} finding(s)); it was not published", file=sys.stderr)
        return None
    return SUMMARY
