"""`REPORT_DIR/index.html`: every council's reports with run date, data period and status; and
how a council is named on the pages (`council_label`)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from evalkit.data.councils import place_name
from evalkit.run import render
from evalkit.run.execute import FAILED, SUCCEEDED

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>evalkit reports</title>
<style>{css}</style>
</head>
<body>
<a class="evalkit-skip" href="#content">Skip to content</a>
<main id="content">
<h1>Direct Payments: reports by council</h1>
<p>Only reports whose status is <strong>succeeded</strong> are finished and may be shared.
Failed or blocked runs are listed so the problem can be fixed; they are not reports.</p>
<table>
<caption>Reports by council, with the date of the run and the period the data cover</caption>
<thead><tr><th scope="col">Council</th><th scope="col">Run date</th><th scope="col">Data period</th>
<th scope="col">Status</th><th scope="col">Reports</th><th scope="col">Details</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main>
</body>
</html>
"""


def council_label(la: str) -> str:
    """A council's name and code for the pages ("Leicester (E06000016)")."""
    if la == "all":
        return "All councils"
    name = place_name(la)
    return f"{name} ({la})" if name != la else la


def _links(la: str, notebooks: list[dict[str, Any]]) -> str:
    """List items for a council's notebooks: succeeded ones linked as reports, failed ones with
    their diagnostic output, others (blocked) by status only."""
    items = []
    for nb in notebooks:
        page = nb.get("outputs", {}).get("html")
        name = html.escape(nb["notebook"])
        status = html.escape(nb["status"])
        if nb["status"] == SUCCEEDED and page:
            items.append(f'<li><a href="{html.escape(f"{la}/{page}")}">{name}</a></li>')
        elif nb["status"] == FAILED and page:
            items.append(f'<li>{name}: <strong>{status}</strong> (<a href="'
                         f'{html.escape(f"{la}/{page}")}">diagnostic output</a>)</li>')
        else:
            items.append(f"<li>{name}: <strong>{status}</strong></li>")
    return "".join(items)


def write_index(out: Path) -> Path:
    """`REPORT_DIR/index.html` listing every council's manifest found in REPORT_DIR (all councils
    first, then by code), with relative links; only succeeded notebooks are linked as reports."""
    rows = []
    for path in sorted(out.glob("*/manifest.json"), key=lambda m: (m.parent.name != "all",
                                                                     m.parent.name)):
        man = json.loads(path.read_text())
        la = path.parent.name
        period = man.get("data", {}).get("period", {})
        rows.append(
            f"<tr><th scope=\"row\">{html.escape(council_label(la))}</th>"
            f"<td>{html.escape(man['run']['started_at'][:10])}</td>"
            f"<td>{period.get('start') or '?'} to {period.get('end') or '?'}</td>"
            f"<td>{html.escape(man['status'])}</td>"
            f"<td><ul>{_links(la, man.get('notebooks', []))}</ul></td>"
            f'<td><a href="{html.escape(la)}/manifest.json">manifest</a></td></tr>')
    page = out / "index.html"
    page.write_text(INDEX.format(css=render.CSS.read_text(), rows="\n".join(rows)),
                    encoding="utf-8")
    return page
