"""`REPORT_DIR/index.html`: every council (name and code, a link to its summary page) with its
reports (titles in words, each with its headline), the run that produced them (start and run
id), data period and status; and how a council is named on the pages (`council_label`)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from evalkit.data.councils import place_name
from evalkit.run import render
from evalkit.run.execute import SUCCEEDED

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
{notice}
<p>Only reports whose status is <strong>succeeded</strong> are finished and published. Notebooks
that failed or that the privacy gate blocked are listed, with nothing of them published, so the
problem can be fixed: the manifest says why.</p>
<div class="evalkit-scroll" tabindex="0" role="group" aria-label="Reports by council">
<table>
<caption>Reports by council, with the run that produced them and the period the data cover</caption>
<thead><tr><th scope="col">Council</th><th scope="col">Run</th><th scope="col">Data period</th>
<th scope="col">Status</th><th scope="col">Reports and their headlines</th>
<th scope="col">Details</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>
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


def _links(folder: str, notebooks: list[dict[str, Any]]) -> str:
    """List items for a council's notebooks (outputs in `folder`, relative to REPORT_DIR): those
    that succeeded and passed the privacy gate linked as reports, the others (failed, blocked:
    nothing of them is published) by status and why they were withheld."""
    items = []
    for nb in notebooks:
        page = nb.get("outputs", {}).get("html")
        name = html.escape(nb.get("title") or nb["notebook"])
        if nb["status"] == SUCCEEDED and page:
            headline = f"<br>{html.escape(nb['headline'])}" if nb.get("headline") else ""
            items.append(f'<li><a href="{html.escape(f"{folder}/{page}")}">{name}</a>'
                         f"{headline}</li>")
        else:
            why = nb.get("withheld") or "not published"
            items.append(f"<li>{name}: <strong>{html.escape(nb['status'])}</strong> "
                         f"({html.escape(why)})</li>")
    return "".join(items)


def _summary(la: str, folder: str, man: Mapping[str, Any]) -> str:
    """A link to the council's summary page when it has one."""
    summary = man.get("summary")
    return (f'<p><a href="{html.escape(f"{folder}/{summary}")}">Summary of the reports for '
            f"{html.escape(council_label(la))}</a></p>" if summary else "")


def _run(run: Mapping[str, Any]) -> str:
    """When the run that produced a council's reports started (UTC) and its id (a manifest
    written before runs had ids has none)."""
    started = html.escape(str(run.get("started_at", "?"))[:16].replace("T", " "))
    run_id = run.get("id")
    return f"{started} UTC" + (f"<br>run {html.escape(run_id)}" if run_id else "")


def index_page(councils: Mapping[str, tuple[str, Mapping[str, Any]]]) -> str:
    """The index page: a row per council (all councils first, then by code) from `councils`,
    code -> (its folder relative to REPORT_DIR, its manifest), with relative links; only
    succeeded notebooks are linked as reports; a council whose data came from `evalkit synth`
    puts its synthetic-data banner at the top."""
    rows = []
    for la in sorted(councils, key=lambda c: (c != "all", c)):
        folder, man = councils[la]
        period = man.get("data", {}).get("period", {})
        rows.append(
            f"<tr><th scope=\"row\">{html.escape(council_label(la))}</th>"
            f"<td>{_run(man.get('run', {}))}</td>"
            f"<td>{period.get('start') or '?'} to {period.get('end') or '?'}</td>"
            f"<td>{html.escape(man.get('status', '?'))}</td>"
            f"<td>{_summary(la, folder, man)}<ul>{_links(folder, man.get('notebooks', []))}</ul>"
            "</td>"
            f'<td><a href="{html.escape(folder)}/manifest.json">run record (manifest, JSON)'
            "</a></td></tr>")
    notices = {render.synthetic_notice(man.get("data", {}).get("synthetic"))
               for _, man in councils.values()} - {None}
    return INDEX.format(css=render.CSS.read_text(), rows="\n".join(rows),
                        notice="".join(render.notice_html(n) for n in sorted(notices)))
