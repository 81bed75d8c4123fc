"""A council's summary page and the index above it (evalkit.run.summary, evalkit.run.index):
readable titles, each report's headline and key findings as the notebook wrote them, links down
only to reports that succeeded and passed the privacy gate, and the gate over the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from bs4 import BeautifulSoup
from nbformat.v4 import new_markdown_cell, new_notebook

from evalkit.run import render, summary
from evalkit.run.execute import BLOCKED, SUCCEEDED
from evalkit.run.index import index_page
from evalkit.sdc import gate

COUNCIL = "E06000016"
FINDINGS = {"01_uptake": ["Black people were less likely than White people to have a Direct "
                          "Payment (odds ratio 0.62, 95% CI 0.46 to 0.85).",
                          "Offer rates were similar."],
            "02_pa_market": ["Half of 175 requests were filled within 55 days (95% CI 47 to 67 "
                             "days)."]}
TITLES = {"01_uptake": "Who gets a Direct Payment, and who does not",
          "02_pa_market": "Personal Assistants: who is available",
          "03_outcomes": "Did the changes work?"}
DATA: dict[str, Any] = {"periods": {COUNCIL: {"start": "2021-04-01", "end": "2026-03-31"}},
                        "synthetic": None}
IDS = gate.identifiers({"support_episodes": pd.DataFrame({"person_id": ["LA/000123"]})})


def council(tmp_path: Path, findings: dict[str, list[str]] = FINDINGS
            ) -> tuple[Path, list[dict[str, Any]]]:
    """A council folder as the gate leaves it: 01 and 02 published (01 with its spreadsheet),
    03 blocked (nothing of it kept); and their manifest entries."""
    folder = tmp_path / COUNCIL
    entries = []
    for stem, title in TITLES.items():
        source = tmp_path / "notebooks" / f"{stem}.ipynb"
        source.parent.mkdir(exist_ok=True)
        nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {title}\n\nWhy it matters.")]),
                       source)
        entry = {"notebook": stem, "source": str(source), "status": BLOCKED,
                 "withheld": "not published: the privacy gate found something",
                 "outputs": dict.fromkeys(["notebook", "html", "results", "key_findings"])}
        if stem in findings:
            (folder / stem).mkdir(parents=True)
            (folder / stem / f"{stem}.html").write_text("<main></main>")
            (folder / stem / "key_findings.md").write_text(
                "# Key findings\n\n" + "".join(f"- {s}\n" for s in findings[stem]))
            entry |= {"status": SUCCEEDED, "withheld": None,
                      "outputs": {"notebook": None, "html": f"{stem}/{stem}.html",
                                  "results": None, "key_findings": f"{stem}/key_findings.md"}}
        entries.append(entry)
    (folder / "01_uptake" / "downloads").mkdir()
    (folder / "01_uptake" / "downloads" / "01_uptake-tables.xlsx").write_bytes(b"")
    return folder, entries


def test_summary_page_has_each_reports_headline_and_links_down(tmp_path: Path) -> None:
    folder, entries = council(tmp_path)
    assert summary.publish(folder, COUNCIL, entries, DATA, IDS, 5) == "summary.html"
    soup = BeautifulSoup((folder / "summary.html").read_text(), "html.parser")
    assert "Leicester (E06000016)" in soup.h1.get_text()
    assert [h.get_text() for h in soup.find_all("h2")] == list(TITLES.values())
    text = soup.get_text(" ")
    for sentences in FINDINGS.values():
        assert all(s in text for s in sentences)  # as the notebook wrote them
    headline = soup.find("strong", string="Headline:").parent.get_text()
    assert FINDINGS["01_uptake"][0] in headline
    links = {a["href"] for a in soup.find_all("a") if not a["href"].startswith("#")}
    assert links == {"01_uptake/01_uptake.html", "02_pa_market/02_pa_market.html",
                     "01_uptake/downloads/01_uptake-tables.xlsx"}
    assert "Not published" in soup.find_all("section")[2].get_text()  # 03, blocked
    assert [e["headline"] for e in entries] == [FINDINGS["01_uptake"][0],
                                                FINDINGS["02_pa_market"][0], None]
    assert [e["title"] for e in entries] == list(TITLES.values())
    assert gate.scan([folder / "summary.html"], IDS, 5, folder) == []


def test_summary_page_with_an_identifier_is_not_published(tmp_path: Path) -> None:
    folder, entries = council(tmp_path, {"01_uptake": ["Person LA 000123 waited longest."]})
    assert summary.publish(folder, COUNCIL, entries, DATA, IDS, 5) is None
    assert not (folder / "summary.html").exists()
    assert all(e["headline"] is None for e in entries)


def test_index_has_readable_titles_headlines_and_summary_links(tmp_path: Path) -> None:
    folder, entries = council(tmp_path)
    page = summary.publish(folder, COUNCIL, entries, DATA, IDS, 5)
    man = {"status": BLOCKED, "summary": page, "data": {"period": DATA["periods"][COUNCIL]},
           "notebooks": entries}
    soup = BeautifulSoup(index_page({COUNCIL: (f"runs/r1/{COUNCIL}", man)}), "html.parser")
    row = soup.find("tbody").tr
    assert row.th.get_text() == "Leicester (E06000016)"
    assert row.find("a", string="Summary of the reports for Leicester (E06000016)")["href"] == \
        f"runs/r1/{COUNCIL}/summary.html"
    reports = {a.get_text(): a["href"] for a in row.find("ul").find_all("a")}
    assert reports == {TITLES["01_uptake"]: f"runs/r1/{COUNCIL}/01_uptake/01_uptake.html",
                       TITLES["02_pa_market"]: f"runs/r1/{COUNCIL}/02_pa_market/02_pa_market.html"}
    assert FINDINGS["01_uptake"][0] in row.get_text()
    assert TITLES["03_outcomes"] in row.get_text()  # named, with why, never linked


def test_index_of_an_earlier_run_without_titles_still_names_each_report() -> None:
    man = {"status": SUCCEEDED, "notebooks": [{"notebook": "01_uptake", "status": SUCCEEDED,
                                               "outputs": {"html": "01_uptake/01_uptake.html"}}]}
    soup = BeautifulSoup(index_page({COUNCIL: (COUNCIL, man)}), "html.parser")
    assert soup.find("tbody").find("ul").a.get_text() == "01_uptake"
    assert "Summary" not in soup.find("tbody").get_text()


def test_summary_page_of_synthetic_data_has_the_banner(tmp_path: Path) -> None:
    folder, entries = council(tmp_path)
    marker = {"generator": "evalkit synth", "seed": 1}
    summary.publish(folder, COUNCIL, entries, {**DATA, "synthetic": marker}, IDS, 5)
    soup = BeautifulSoup((folder / "summary.html").read_text(), "html.parser")
    assert soup.find(class_="evalkit-synthetic") is not None
    assert render.synthetic_notice(marker).split(". ")[1] in soup.get_text(" ")
