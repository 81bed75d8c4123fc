"""Downloads of a report's tables (evalkit.report.downloads): a CSV file per table and one
spreadsheet laid out as the Analysis Function's "Releasing statistics in spreadsheets" asks,
holding exactly the protected figures the page shows; and the privacy gate reading them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from openpyxl import Workbook, load_workbook

from evalkit.report import downloads, style, tables
from evalkit.report.publication import publish
from evalkit.run import manifest, render
from evalkit.run.execute import BLOCKED, SUCCEEDED
from evalkit.sdc import gate, protect

RAW = pd.DataFrame({"group": ["Asian", "Black", "Mixed"], "people": [1447, 241, 3],
                    "dp": [581, 96, 2], "share": 0.0, "lower": 0.0, "upper": 0.0})
SPEC = protect.Spec(counts=("people", "dp"),
                    shares=(protect.Share(x="dp", n="people", value="share"),))
IDS = gate.identifiers({"support_episodes": pd.DataFrame({"person_id": ["LA/000123"]})})


def page_html(monkeypatch: pytest.MonkeyPatch, show) -> str:
    """An nbconvert-like page holding what `show()` displays."""
    shown: list = []
    monkeypatch.setattr(style, "display", shown.append)
    show()
    outputs = "".join(f"<div class='jp-OutputArea-output'>{h.data}</div>" for h in shown)
    return f"<html><head><title>t</title></head><body><main>{outputs}</main></body></html>"


def published(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    """The protected frame of RAW, shown as a report shows it, rendered with its downloads."""
    pub = publish("01_test", {"uptake": RAW}, {"min_cell": 5}, specs={"uptake": SPEC})
    frame = pub["uptake"][["group", "people", "dp", "share"]]
    page = page_html(monkeypatch, lambda: tables.table(
        frame, ["people", "dp"], min_cell=5, percent_cols=["share"],
        labels={"group": "Ethnic group", "people": "People", "dp": "With a DP",
                "share": "Share with a DP"},
        caption="People and Direct Payments by ethnic group",
        footnote=pub.context["disclosure_note"]))
    out = tmp_path / "01_test" / "01_test.html"
    out.parent.mkdir()
    out.write_text(render.decorate(page, title="Uptake", details=["Run 1"], out=out))
    return frame, out


def test_csv_holds_the_protected_figures_the_page_shows(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    frame, out = published(monkeypatch, tmp_path)
    rows = list(csv.reader(io.StringIO(
        (out.parent / "downloads" / "01_test-table-01.csv").read_text())))
    assert rows[0] == ["Ethnic group", "People (count)", "With a DP (count)",
                       "Share with a DP"]
    for row, (_, want) in zip(rows[1:], frame.iterrows(), strict=True):
        assert row[0] == want["group"]
        for got, count in zip(row[1:3], (want["people"], want["dp"]), strict=True):
            assert got == ("[c]" if pd.isna(count) else str(int(count)))
        assert row[3] == ("[x]" if pd.isna(want["share"]) else f"{100 * want['share']:.1f}")
    assert rows[1][1:3] == ["1445", "580"]  # rounded as published, not RAW's 1447 and 581
    assert rows[3][1:4] == ["[c]", "[c]", "[x]"]  # RAW's 3 and 2 are withheld


def test_page_links_every_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, out = published(monkeypatch, tmp_path)
    soup = BeautifulSoup(out.read_text(), "html.parser")
    links = {a["href"] for a in soup.select("p.evalkit-download a")}
    assert links == {"downloads/01_test-tables.xlsx", "downloads/01_test-table-01.csv"}
    assert all((out.parent / href).is_file() for href in links)
    note = soup.find(class_="evalkit-footnote")  # the CSV link follows the table's footnote
    assert note.find_previous("table") is soup.find("table")
    assert note.find_next_sibling().a["href"].endswith(".csv")


def test_spreadsheet_follows_the_releasing_statistics_guidance(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, out = published(monkeypatch, tmp_path)
    wb = load_workbook(out.parent / "downloads" / "01_test-tables.xlsx")
    assert wb.sheetnames == ["Cover", "Contents", "Notes", "Table_1"]
    assert wb["Cover"]["A1"].value == "Uptake"
    assert wb["Contents"]["A4"].hyperlink.location == "'Table_1'!A1" or \
        wb["Contents"]["A4"].hyperlink.target == "#'Table_1'!A1"
    notes = {r[0]: r[1] for r in wb["Notes"].iter_rows(min_row=4, values_only=True)}
    assert any(text.startswith("[c] means") for text in notes.values())
    assert any(text.startswith("[x] means") for text in notes.values())
    sheet = wb["Table_1"]
    assert sheet["A1"].value == "People and Direct Payments by ethnic group"
    assert "[note 1]" in sheet["A2"].value
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges
    (table,) = sheet.tables.values()
    assert table.ref == "A3:D6"  # headings, then the three rows: no blank row inside
    body = list(sheet.iter_rows(min_row=4, values_only=True))
    assert body[0] == ("Asian", 1445, 580, pytest.approx(40.1))  # numbers stored as numbers
    assert body[2][1:] == ("[c]", "[c]", "[x]")


def test_long_sparse_table_moves_to_the_downloads_only(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    n = downloads.LONG_ROWS
    frame = pd.DataFrame({"area": [f"Area {i}" for i in range(n)],
                          "people": [float("nan") if i % 3 else 10.0 for i in range(n)]})
    page = page_html(monkeypatch, lambda: tables.table(
        frame, ["people"], min_cell=5, caption="People by area", footnote="[c]: withheld"))
    out = tmp_path / "01_test.html"
    soup = BeautifulSoup(render.decorate(page, title="t", details=[], out=out), "html.parser")
    assert soup.find("table") is None and soup.find(class_="evalkit-footnote") is None
    said = soup.find(string=lambda s: "downloads only" in s)
    assert said and f"has {n} rows" in said
    rows = (tmp_path / "downloads" / "01_test-table-01.csv").read_text().splitlines()
    assert len(rows) == n + 1


def test_a_long_table_is_left_out_on_paper_with_a_sentence_saying_where_it_is(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    n = downloads.PRINT_ROWS
    frame = pd.DataFrame({"area": [f"Area {i}" for i in range(n)], "people": 10.0})
    page = page_html(monkeypatch, lambda: tables.table(
        frame, ["people"], min_cell=5, caption="People by area", footnote="[c]: withheld"))
    soup = BeautifulSoup(render.decorate(page, title="t", details=[], out=tmp_path / "p.html"),
                         "html.parser")
    table, note = soup.find("table"), soup.find(class_="evalkit-footnote")
    assert "evalkit-screen-only" in table["class"]
    assert "evalkit-screen-only" in note["class"]
    said = soup.find(class_="evalkit-print-only").get_text()
    assert f"has {n} rows: it is left out on paper" in said and "p-table-01.csv" in said
    shorter = page_html(monkeypatch, lambda: tables.table(
        frame.head(n - 1), ["people"], min_cell=5, caption="People by area"))
    kept = BeautifulSoup(render.decorate(shorter, title="t", details=[], out=tmp_path / "q.html"),
                         "html.parser")
    assert kept.find(class_="evalkit-print-only") is None


def test_headings_over_several_rows_and_row_spans_are_flattened() -> None:
    html = ("<table><thead><tr><th></th><th colspan='2' class='count'>People</th></tr>"
            "<tr><th>Group</th><th>2024</th><th>2025</th></tr></thead><tbody>"
            "<tr><th rowspan='2'>Asian</th><td>1,445</td><td>[c]</td></tr>"
            "<tr><td>12.5%</td><td>n/a</td></tr></tbody></table>")
    table = downloads.read_table(BeautifulSoup(html, "html.parser").table, 4)
    assert table.title == "Table 4"
    assert table.columns == ["Group", "People: 2024 (count)", "People: 2025 (count)"]
    assert table.rows == [["Asian", 1445, "[c]"], ["Asian", 12.5, "[x]"]]


def council_with(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A council folder holding a clean report of notebook 01_x and one download `name`."""
    folder = tmp_path / "01_x" / "downloads"
    folder.mkdir(parents=True)
    (tmp_path / "01_x" / "01_x.html").write_text("<main><p>Fine.</p></main>")
    path = folder / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return tmp_path


def spreadsheet(rows: list[list[object]], sheet: str = "Table_1") -> bytes:
    """A spreadsheet of one sheet holding `rows`."""
    wb = Workbook()
    wb.active.title = sheet
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name, content, kind", [
    ("x.csv", "Group,People (count)\nLA 000123,10\n", "identifier"),
    ("x.xlsx", spreadsheet([["Group", "People (count)"], ["la-000-123", 10]]), "identifier"),
    ("x.xlsx", spreadsheet([["Group"], ["Asian"]], sheet="LA000123"), "identifier"),
    ("x.csv", "Group,People (count)\nAsian,3\n", "small_count"),
    ("x.xlsx", spreadsheet([["Group", "People (count)"], ["Asian", 3]]), "small_count"),
    ("x.xlsx", b"PK\x03\x04 not a workbook", "unreadable"),
])
def test_a_planted_identifier_or_small_count_in_a_download_blocks_the_notebook(
        tmp_path: Path, name: str, content: str | bytes, kind: str) -> None:
    council = council_with(tmp_path, name, content)
    entry = {"notebook": "01_x", "status": SUCCEEDED, "error": None,
             "outputs": {"html": "01_x/01_x.html"}}
    manifest.gate(council, [entry], IDS, 5)
    assert entry["status"] == BLOCKED
    assert {f["kind"] for f in entry["privacy"]} == {kind}
    assert "000123" not in str(entry)
    assert not (council / "01_x").exists()  # nothing of it is published


def test_clean_downloads_pass_the_gate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, out = published(monkeypatch, tmp_path)
    assert gate.scan_folder(out.parent, IDS, 5) == []


def test_spreadsheet_of_synthetic_data_says_so_on_its_cover(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    page = page_html(monkeypatch, lambda: tables.table(
        RAW[["group", "people"]], ["people"], min_cell=5, caption="People", footnote="note"))
    out = tmp_path / "01_test.html"
    notice = render.synthetic_notice({"generator": "evalkit synth", "seed": 1})
    render.decorate(page, title="Uptake", details=[], notice=notice, out=out)
    cover = load_workbook(tmp_path / "downloads" / "01_test-tables.xlsx")["Cover"]
    assert cover["A2"].value == notice
