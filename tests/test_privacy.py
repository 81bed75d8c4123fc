"""The privacy gate: identifiers and small counts never reach a published report."""

from __future__ import annotations

import base64
import gc
import json
import weakref
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers.reports import evalkit_run, make_data, write_notebook

import evalkit
from evalkit.sdc import gate as privacy

TABLES = {
    "support_episodes": pd.DataFrame({"person_id": ["P0001234", "P0005678", "42"]}),
    "pa_register": pd.DataFrame({"pa_id": ["PA-00017"]}),
    "pa_requests": pd.DataFrame({"request_id": ["REQ0009"], "person_id": ["P0001234"],
                                 "pa_id": [None]}),
    "survey": None,
}
IDS = privacy.identifiers(TABLES)


def page(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"<html><body><main>{body}</main></body></html>")
    return path


def kinds(findings: list[privacy.Finding]) -> list[str]:
    return [f.kind for f in findings]


def test_identifiers_collects_every_id_column_normalised_and_keeps_short_ones_apart() -> None:
    assert IDS.values["person_id"] == {"p0001234", "p0005678"}
    assert IDS.values["pa_id"] == {"pa00017"}
    assert IDS.values["request_id"] == {"req0009"}
    assert IDS.unchecked == {"support_episodes.person_id": {"42"}}  # like a count
    (problem,) = IDS.problems()
    assert problem.startswith("support_episodes.person_id: 1 identifier(s)")
    assert "42" not in problem



def test_identifiers_are_normalised_in_arrow_as_value_by_value() -> None:
    # ASCII values go through Arrow, the rest through `normalise`: the same sets either way
    values = ["P0001234", "pa_00017", "Req-0009", "ABCDEF", "abcde", "12345", "123456", "x",
              " - ", "", "Straße12", "ﬁle9", "１２３４５６", "ÅB1", "ab c", "P0001234", None, 42]
    expected = {privacy.normalise(v) for v in values if v is not None} - {""}
    texts = [None if v is None else str(v) for v in values]
    for column in (pd.Series(values, dtype=object), pd.Series(texts),  # pandas' own str dtype
                   pd.Series(texts, dtype="category")):
        checked, plain = privacy.normalised_values(column)
        assert checked == {v for v in expected if privacy.checkable(v)}
        assert plain == {v for v in expected if not privacy.checkable(v)}
        assert {"p0001234", "strasse12", "file9", "abcdef"} <= checked and "12345" in plain


def test_a_text_seen_before_is_found_again_in_every_file_and_for_each_input(
        tmp_path: Path) -> None:
    # what was found in a text is kept for the next file showing it, by the input it was for
    text = "<p>Person P0001234 waited longest.</p>"
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text(f"<html><body><main>{text}</main></body></html>")
    files = [tmp_path / "a.html", tmp_path / "b.html"]
    found = privacy.scan(files, IDS, 5, tmp_path)
    assert [(f.file, f.kind) for f in found] == [("a.html", "identifier"), ("b.html", "identifier")]
    other = privacy.identifiers({"support_episodes": pd.DataFrame({"person_id": ["Q0009999"]})})
    assert privacy.scan(files, other, 5, tmp_path) == []
    kept = weakref.ref(other)
    del other
    gc.collect()
    assert kept() is not None  # held by what was kept of its texts, until the run forgets them
    privacy.forget()
    gc.collect()
    assert kept() is None


@pytest.mark.parametrize("body", [
    "<p>Person P0001234 waited longest.</p>",
    "<table><tr><td>PA-00017</td></tr></table>",
    "<div title='REQ0009'>x</div>",
])
def test_identifier_in_text_table_or_attribute_is_found(tmp_path: Path, body: str) -> None:
    found = privacy.scan_html(page(tmp_path, body), IDS, 5, name="page.html")
    assert kinds(found) == ["identifier"]
    assert "P0001234" not in found[0].where and "PA-00017" not in found[0].where


def test_identifier_inside_a_longer_token_or_image_data_is_not_a_finding(tmp_path: Path) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00").decode()  # an image's first bytes
    body = ("<p>XP0001234 and 42 people, 1,234 in all</p>"
            f"<img alt='chart' src='data:image/png;base64,{png}AAAP0001234AAA'>")
    assert privacy.scan_html(page(tmp_path, body), IDS, 5, name="page.html") == []


@pytest.mark.parametrize("body, expected", [
    ("<table><thead><tr><th>Group</th><th class='count'>People</th></tr></thead>"
     "<tbody><tr><th>Asian</th><td>3</td></tr><tr><th>Black</th><td>[c]</td></tr></tbody></table>",
     1),
    ("<table><tbody><tr><td>Asian</td><td data-count>4</td><td>2</td></tr></tbody></table>", 1),
    ("<table><tbody><tr><td>Asian</td><td class='count'>1,234</td><td class='count'>0</td>"
     "<td class='count'>5</td><td class='count'>[c]</td></tr></tbody></table>", 0),
    ("<table><thead><tr><th></th><th colspan='2' class='count'>People</th><th>%</th></tr></thead>"
     "<tbody><tr><th rowspan='2'>A</th><th>x</th><td>2</td><td>3</td><td>1</td></tr>"
     "<tr><th>y</th><td>7</td><td>9</td><td>2</td></tr></tbody></table>", 2),
])
def test_small_counts_in_marked_count_cells_are_found(tmp_path: Path, body: str,
                                                      expected: int) -> None:
    found = privacy.scan_html(page(tmp_path, body), IDS, 5, name="page.html")
    assert kinds(found) == ["small_count"] * expected


def test_unmarked_numbers_are_not_counts(tmp_path: Path) -> None:
    body = "<table><tbody><tr><td>Share</td><td>3</td></tr></tbody></table><p>2 of 4</p>"
    assert privacy.scan_html(page(tmp_path, body), IDS, 5, name="page.html") == []


def test_results_json_and_key_findings_are_scanned(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"estimates": [{"name": "x", "group": "P0005678", "n": 42}]}))
    findings = tmp_path / "key_findings.md"
    findings.write_text("- Fine sentence.\n- Mentions REQ0009.\n")
    found = privacy.scan([results, findings], IDS, 5, tmp_path)
    assert [(f.file, f.kind) for f in found] == [("results.json", "identifier"),
                                                 ("key_findings.md", "identifier")]
    assert found[1].where == "a request_id value in line 2"


def test_run_is_blocked_by_planted_identifier_and_planted_small_count(tmp_path: Path) -> None:
    data_dir = make_data(tmp_path / "data")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "01_leaks_id", "print('Longest wait:', eps['person_id'].iloc[0])")
    write_notebook(notebooks, "02_leaks_count",
                   "display(HTML(\"<table><tbody><tr><th>Somali</th>"
                   "<td class='count'>3</td></tr></tbody></table>\"))")
    out = tmp_path / "out"
    code = evalkit_run(str(data_dir), "--out", str(out), "--notebook-dir", str(notebooks),
                "--jobs", "2")
    assert code == 1
    (manifest,) = out.glob("*/manifest.json")
    man = json.loads(manifest.read_text())
    assert man["status"] == "blocked by privacy gate"
    leaks = {nb["notebook"]: nb for nb in man["notebooks"]}
    assert {f["kind"] for f in leaks["01_leaks_id"]["privacy"]} == {"identifier"}
    assert {f["kind"] for f in leaks["02_leaks_count"]["privacy"]} == {"small_count"}
    people = privacy.identifiers({"support_episodes": evalkit.load(data_dir).support_episodes})
    text = manifest.read_text().casefold()
    assert not [p for p in people.values["person_id"] if p in text]  # findings never quote ids
    for nb in leaks.values():
        assert nb["status"] == "blocked by privacy gate" and nb["withheld"]
        assert nb["outputs"] == dict.fromkeys(["notebook", "html", "results", "key_findings"])
        assert not (manifest.parent / nb["notebook"]).exists()  # nothing of it is published
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    hrefs = [a["href"] for a in index.find_all("a")]
    reports = [h for h in hrefs if h.endswith(".html") and not h.endswith("/summary.html")]
    assert not reports  # nothing linked as a report (the summary names them, unlinked)
    assert index.get_text(" ").count("blocked by privacy gate") >= 3
