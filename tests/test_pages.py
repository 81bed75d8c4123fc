"""How a report page is built for every reader (render.decorate, style.table): tables in boxes
that scroll on their own on a phone, named for screen readers; no empty header cells; a
glossary. Executed notebooks keep the same metadata on every run and machine, and their kernels
run encrypted (no ipykernel TCP warning). The published pages themselves are checked in Chromium
by test_browser.py (axe-core, 390 px, A4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import zmq
from bs4 import BeautifulSoup

from evalkit.report import style
from evalkit.run import execute, glossary, render

PAGE = ("<html><head></head><body><main><h2>Data</h2><table><caption>Rows read\n from each file"
        "</caption><tr><td>1</td></tr></table><table><tr><td>2</td></tr></table></main></body>"
        "</html>")


def test_each_table_scrolls_in_its_own_focusable_named_box():
    soup = BeautifulSoup(render.decorate(PAGE, title="01_uptake", details=[]), "html.parser")
    boxes = soup.select("main div.evalkit-scroll")
    assert [b.find("table") is not None for b in boxes] == [True, True]
    assert [b["aria-label"] for b in boxes] == ["Rows read from each file", "Table"]
    assert all(b["tabindex"] == "0" and b["role"] == "group" for b in boxes)


def test_table_of_filtered_rows_shows_no_row_numbers_under_an_empty_header(monkeypatch):
    shown: list = []
    monkeypatch.setattr(style, "display", shown.append)
    df = pd.DataFrame({"lag": [1, 2, 3, 6], "p": [0.5, 0.4, 0.3, 0.2]})
    style.table(df[df["lag"].isin([1, 6])], caption="Residual autocorrelation")
    style.table(df.set_index("lag"), caption="By lag")
    filtered, named = (BeautifulSoup(h.data, "html.parser") for h in shown)
    assert [th.get_text() for th in filtered.select("thead th")] == ["lag", "p"]
    assert "lag" in [th.get_text() for th in named.select("thead th")]  # a named index is data


def test_glossary_defines_the_terms_the_page_uses_and_is_in_the_contents():
    page = PAGE.replace("<h2>Data</h2>", "<h2>Data</h2><p>Direct Payments by group: odds ratio "
                        "0.62 (95% CI 0.46 to 0.85); [c] = confidential.</p>")
    soup = BeautifulSoup(render.decorate(page, title="01_uptake", details=[]), "html.parser")
    section = soup.select_one("main section.evalkit-glossary")
    terms = [dt.get_text() for dt in section.select("dt")]
    assert terms == ["Direct Payment", "Odds ratio", "Confidence interval (CI)", "Suppressed [c]"]
    assert all(dd.get_text().strip() for dd in section.select("dd"))
    assert soup.select_one(f"nav.evalkit-toc a[href='#{glossary.ANCHOR}']") is not None
    assert section is soup.select("main > *")[-1]  # at the end, after the report


def test_every_term_is_found_by_its_own_name_and_a_page_without_terms_has_no_glossary():
    assert all(term.used_in(term.name) for term in glossary.TERMS)
    soup = BeautifulSoup(render.decorate(PAGE, title="t", details=[]), "html.parser")
    assert soup.select_one(".evalkit-glossary") is None


def test_executed_notebook_metadata_is_the_same_on_every_run_and_machine():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")], metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"},
        "papermill": {"parameters": {"min_cell": 5}, "default_parameters": {}, "duration": 4.2,
                      "input_path": "/home/someone/nb.ipynb", "version": "2.7.0"}})
    nb.cells[0].metadata.update({"tags": ["parameters"], "papermill": {"duration": 1.0},
                                 "execution": {"iopub.status.busy": "2026-12-03T19:04:05Z"}})
    meta = render.stable_metadata(nb).metadata
    assert meta == {"kernelspec": {"display_name": "Python 3", "language": "python",
                                   "name": "python3"}, "language_info": {"name": "python"},
                    "papermill": {"parameters": {"min_cell": 5}, "default_parameters": {}}}
    assert nb.cells[0].metadata == {"tags": ["parameters"]}


def test_published_notebooks_have_stable_metadata(published):
    for name in ("01_uptake", "02_pa_market", "03_outcomes"):
        nb = published(name).notebook
        assert nb.metadata["language_info"] == {"name": "python"}
        assert set(nb.metadata["papermill"]) == set(render.STABLE_PAPERMILL)
        assert not any({"execution", "papermill"} & set(c.metadata) for c in nb.cells)


def test_run_kernels_talk_encrypted_so_ipykernel_gives_no_tcp_warning(tmp_path):
    if not zmq.has("curve"):
        pytest.skip("this pyzmq has no CurveZMQ: the kernel cannot be given keys")

    async def start_and_stop(log: Path) -> None:
        km = execute.tracked_kernel_manager()(kernel_name="python3")
        with log.open("w") as err:
            await km.start_kernel(stderr=err)
            try:
                client = km.client()
                client.start_channels()
                await client.wait_for_ready(timeout=60)
                client.stop_channels()
            finally:
                await km.shutdown_kernel(now=True)

    log = tmp_path / "kernel.err"
    asyncio.run(start_and_stop(log))
    assert "without encryption" not in log.read_text()
