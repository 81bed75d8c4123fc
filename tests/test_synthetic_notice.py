"""Data made by `evalkit synth` are marked (a file it writes, recorded by the loader) and every
page, key_findings.md and the index of a run on them say they are synthetic; real data are not
marked; the test run's shared `evalkit run` (on `evalkit synth` data) shows the banner."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers.tables import EXTRACT, make_clean_tables, write_tables

from evalkit.analyses.comparators import compute
from evalkit.data import load as loader
from evalkit.data import synthetic
from evalkit.run import england, render
from evalkit.run.index import index_page

MARKER = {"generator": "evalkit synth", "profile": "leicester", "seed": 1, "scale": 0.2}
PAGE = "<html><head></head><body><main><h1>Key findings</h1></main></body></html>"


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_clean_tables(seed=0, n=40)


def test_marker_round_trip_and_unreadable_marker_still_marks(tmp_path):
    assert synthetic.read_marker(tmp_path) is None
    synthetic.write_marker(tmp_path, profile="leicester", seed=1, scale=0.2)
    assert synthetic.read_marker(tmp_path) == MARKER
    (tmp_path / synthetic.MARKER).write_text("not json")
    assert synthetic.read_marker(tmp_path) == {"generator": "unknown"}


def test_loader_records_the_marker_also_from_its_cache(tmp_path, tables, monkeypatch):
    folder = write_tables(tables, tmp_path / "data")
    assert loader.load(folder, extract_date=EXTRACT).synthetic is None
    synthetic.write_marker(folder, profile="leicester", seed=1, scale=0.2)
    fresh = loader.load(folder, extract_date=EXTRACT)
    assert fresh.synthetic == MARKER
    loader.save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))
    (folder / synthetic.MARKER).unlink()  # the marker is read from the folder, not the cache
    assert loader.load(folder, extract_date=EXTRACT).synthetic is None


def test_notice_names_the_generator_and_says_no_real_council():
    assert render.synthetic_notice(None) is None
    notice = render.synthetic_notice(MARKER)
    assert notice.startswith("Synthetic demonstration data.")
    assert "evalkit synth (profile leicester, seed 1)" in notice
    assert "no real council or person" in notice


def test_page_and_key_findings_carry_the_notice_only_for_synthetic_data(tmp_path):
    notice = render.synthetic_notice(MARKER)
    page = render.decorate(PAGE, title="01_uptake", details=[], notice=notice)
    assert '<p class="evalkit-synthetic"><strong>Synthetic demonstration data.</strong>' in page
    assert "class=\"evalkit-synthetic\"" not in render.decorate(PAGE, title="01_uptake", details=[])
    findings = tmp_path / "key_findings.md"
    findings.write_text("# Key findings\n\n- A finding.\n")
    render.mark_key_findings(findings, None)
    assert "Synthetic" not in findings.read_text()
    render.mark_key_findings(findings, notice)
    lines = findings.read_text().splitlines()
    assert lines[0] == "# Key findings"
    assert lines[2].startswith("> **Synthetic demonstration data.** These figures were made up")
    assert lines[-1] == "- A finding."


@pytest.mark.parametrize("marker", [MARKER, None])
def test_england_page_has_the_banner_only_for_synthetic_data(marker):
    councils = pd.DataFrame({"area_code": ["E06000016", "E06000015"], "numerator": [600, 300],
                             "denominator": [1000, 1000]}).assign(
        area_type=compute.COUNCIL, measure="dp_share", group=compute.EVERYONE)
    table = compute.with_totals(councils[compute.COLUMNS])
    page, _ = england.page(table, 5, render.synthetic_notice(marker))
    banner = BeautifulSoup(page, "html.parser").select(".evalkit-synthetic")
    assert len(banner) == (1 if marker else 0)


@pytest.mark.parametrize("marker", [MARKER, None])
def test_index_has_the_banner_when_a_council_used_synthetic_data(marker):
    man = {"status": "succeeded", "data": {"synthetic": marker, "period": {}}, "notebooks": []}
    page = index_page({"E06000016": ("E06000016", man)})
    assert ("Synthetic demonstration data." in page) is (marker is not None)


def test_published_run_on_synth_data_says_so_everywhere(published, published_dir):
    reports = [published(nb) for nb in ("01_uptake", "02_pa_market", "03_outcomes")]
    manifest = json.loads((reports[0].folder.parent / "manifest.json").read_text())
    assert manifest["data"]["synthetic"]["generator"] == "evalkit synth"
    pages = [r.page for r in reports] + [published_dir / "index.html"]
    for page in pages:
        banner = BeautifulSoup(page.read_text(), "html.parser").select(".evalkit-synthetic")
        assert len(banner) == 1 and "Synthetic demonstration data." in banner[0].get_text()
    for report in reports:
        assert "> **Synthetic demonstration data.**" in report.key_findings.splitlines()[2]
