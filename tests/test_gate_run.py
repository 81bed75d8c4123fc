"""`evalkit run` with the privacy gate as the last check: notebooks that print person-level rows,
draw an identifier as a chart label, fail with identifiers or a person's row in the error, or
print identifiers in other case and with separators are blocked or failed, nothing of them is
published or linked, and no identifier reaches any file under REPORT_DIR, stdout or stderr; a
clean notebook is published.

One run (a subprocess, so every byte it writes to stdout and stderr is seen) of six small
notebooks on the small synthetic data with planted identifiers serves most tests, once with
the notebooks in kernels and once in the worker, as a national run runs them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers.reports import evalkit_run, make_data, write_notebook

from evalkit.run import manifest as record
from evalkit.sdc.gate import PERSON_ROW_MESSAGE

COUNCIL = "E06000016"
#: Synthetic person ids replaced by identifiers in the formats the gate must find in any form.
PLANTED = {"P00000001": "LA/000123", "P00000002": "9434765919", "P00000003": "A1234",
           "P00000004": "X12"}
WHO = """ids = data.support_episodes["person_id"]
slashed = ids[ids.str.contains("/")].iloc[0]
nhs = ids[ids.str.fullmatch(r"\\d{10}")].iloc[0]
five = ids[ids.str.len() == 5].iloc[0]
three = ids[ids.str.len() == 3].iloc[0]
"""
ATTACKS = {
    "02_rows": "print(eps.drop(columns=['person_id']).head(8))",
    "03_chart": WHO + """fig, ax = plt.subplots()
ax.barh(["Asian", slashed], [3, 4])
show(fig, alt="Bar chart by group")""",
    "04_error": WHO + "raise ValueError(f'person {nhs[:3]} {nhs[3:6]} {nhs[6:]} and {three} "
                      "have no start date')",
    "05_forms": WHO + "print(slashed.lower().replace('/', ' '), f'{nhs[:3]}-{nhs[3:6]}-{nhs[6:]}',"
                      " five.lower(), f'{three[0]}-{three[1:]}'.lower())\n"
                      "import os\nos.write(2, f'{nhs}\\n'.encode())  # below Python's stderr",
    "06_row_error": "row = eps.drop(columns=['person_id']).iloc[0].to_dict()\n"
                    "raise ValueError(f'bad row {row}')",
}
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def plant(data: Path, planted: dict[str, str]) -> Path:
    """Give some people of the synthetic data other identifiers, in every table that names them."""
    for name in ("support_episodes.csv", "pa_requests.csv"):
        path = data / name
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["person_id"] = frame["person_id"].replace(planted)
        frame.to_csv(path, index=False)
    return data


def ids_in(data: Path) -> frozenset[str]:
    """Every person identifier of a data folder, as lower-case letters and digits."""
    ids = pd.read_csv(data / "support_episodes.csv", dtype=str)["person_id"].unique()
    return frozenset(re.sub(r"[\W_]", "", i).casefold() for i in ids)


def pattern(identifier: str) -> str:
    """A regex finding `identifier` as a whole token in any case, with or without separators
    between any of its characters."""
    chars = re.sub(r"[\W_]", "", identifier).casefold()
    return r"(?<![a-z0-9])" + r"[\s\-./_,]*".join(map(re.escape, chars)) + r"(?![a-z0-9])"


@dataclass(frozen=True)
class Result:
    out: Path
    code: int
    stdout: str
    stderr: str
    ids: frozenset[str] = field(repr=False)

    @property
    def council(self) -> Path:
        return self.out / COUNCIL

    def manifest(self) -> dict:
        return json.loads((self.council / "manifest.json").read_text())

    def notebooks(self) -> dict[str, dict]:
        return {nb["notebook"]: nb for nb in self.manifest()["notebooks"]}


PLANTED_FORMS = re.compile("|".join(pattern(i) for i in PLANTED.values()))


def leaks(text: str, ids: frozenset[str]) -> int:
    """How many identifiers `text` holds (images aside: they are not text): every one of `ids`
    as a whole token, and the planted ones also in any case and with any separators."""
    text = DATA_URI.sub(" ", text).casefold()
    return len(PLANTED_FORMS.findall(text)) + len(set(re.findall(r"[a-z0-9]+", text)) & ids)


@pytest.fixture(scope="module")
def planted_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic data with the PLANTED identifiers."""
    return plant(make_data(tmp_path_factory.mktemp("planted") / "data"), PLANTED)


@pytest.fixture(scope="module")
def short_tmp() -> Iterator[Path]:
    """A short TMPDIR for the run (its forkserver's Unix socket path may not pass 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ek-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=["2", "1"], ids=["kernels", "in the worker"])
def attacked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             short_tmp: Path, planted_data: Path) -> Result:
    """One `evalkit run` of a clean notebook and the attacks, on data with planted identifiers:
    with --jobs 2, each notebook in a kernel; with --jobs 1, as a national run runs them, in
    the worker process itself (one council fills the one job)."""
    root = tmp_path_factory.mktemp("gate_run")
    notebooks = root / "nb"
    write_notebook(notebooks, "01_clean")
    for name, code in ATTACKS.items():
        write_notebook(notebooks, name, code)
    out = root / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "run", str(planted_data), "--out", str(out),
         "--notebook-dir", str(notebooks), "--jobs", request.param],
        # without PYTEST_CURRENT_TEST, as a run outside the tests: with it, ipykernel would
        # not collect what a cell writes to its descriptors into the notebook (05_forms does)
        env={**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
             "TMPDIR": str(short_tmp)}, capture_output=True, text=True,
        timeout=600)
    return Result(out, proc.returncode, proc.stdout, proc.stderr, ids_in(planted_data))


def test_a_clean_notebook_is_published_and_linked(attacked: Result) -> None:
    clean = attacked.notebooks()["01_clean"]
    assert clean["status"] == "succeeded" and clean["privacy"] == [] and not clean["withheld"]
    for key in ("notebook", "html", "results", "key_findings"):
        assert (attacked.council / clean["outputs"][key]).is_file(), key
    index = BeautifulSoup((attacked.out / "index.html").read_text(), "html.parser")
    pages = [a["href"] for a in index.find_all("a") if a["href"].endswith(".html")]
    run = attacked.manifest()["run"]["id"]
    assert pages == [f"runs/{run}/{COUNCIL}/summary.html",
                     f"runs/{run}/{COUNCIL}/01_clean/01_clean.html"]
    summary = BeautifulSoup((attacked.council / "summary.html").read_text(), "html.parser")
    assert [a["href"] for a in summary.find_all("a") if a["href"].endswith(".html")] == [
        "01_clean/01_clean.html"]  # the withheld notebooks are named, never linked


@pytest.mark.parametrize("name, status, kinds", [
    ("02_rows", "blocked by privacy gate", {"person_rows"}),
    ("03_chart", "failed", set()),
    ("04_error", "failed", set()),
    ("05_forms", "blocked by privacy gate", {"identifier"}),
    ("06_row_error", "failed", set()),
])
def test_each_attack_is_blocked_or_failed_and_withheld(attacked: Result, name: str, status: str,
                                                       kinds: set[str]) -> None:
    assert attacked.code == 1
    nb = attacked.notebooks()[name]
    assert nb["status"] == status and nb["withheld"]
    assert kinds <= {f["kind"] for f in nb["privacy"]}
    assert nb["outputs"] == dict.fromkeys(["notebook", "html", "results", "key_findings"])
    assert not (attacked.council / name).exists()  # nothing of it is published
    index = (attacked.out / "index.html").read_text()
    assert name in index and f"{name}/" not in index  # listed by status, never linked


def test_failures_say_why_without_the_identifier(attacked: Result) -> None:
    notebooks = attacked.notebooks()
    assert "include an identifier from the input data" in notebooks["03_chart"]["error"]
    assert notebooks["04_error"]["error"] == ("cell 5: ValueError: person [identifier] and "
                                              "[identifier] have no start date")
    assert notebooks["06_row_error"]["error"] == PERSON_ROW_MESSAGE
    assert "[identifier]" in attacked.stdout  # the summary prints the redacted error
    assert PERSON_ROW_MESSAGE in attacked.stdout and "bad row" not in attacked.stdout


def test_no_identifier_in_any_published_file_or_output(attacked: Result) -> None:
    files = [p for p in attacked.out.rglob("*") if p.is_file() and not p.is_symlink()]
    assert {p.name for p in files} >= {"index.html", "manifest.json", "01_clean.ipynb"}
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not leaks(text, attacked.ids), path.relative_to(attacked.out)
        assert not leaks(path.name, attacked.ids)
    assert not leaks(attacked.stdout, attacked.ids)
    assert not leaks(attacked.stderr, attacked.ids)


def test_the_run_leaves_no_hashes_or_staging_behind(attacked: Result, short_tmp: Path) -> None:
    assert sorted(p.name for p in attacked.out.iterdir()) == [COUNCIL, "index.html", "runs"]
    assert not list(short_tmp.glob("evalkit-run-*"))  # the cache with the hashed ids is gone


def test_identifiers_the_gate_cannot_check_refuse_the_data(tmp_path: Path, planted_data: Path,
                                                           capsys) -> None:
    data = plant(shutil.copytree(planted_data, tmp_path / "data"), {"P00000005": "12345"})
    write_notebook(tmp_path / "nb", "01_clean")
    out = tmp_path / "out"
    assert evalkit_run(str(data), "--out", str(out), "--notebook-dir", str(tmp_path / "nb")) == 2
    err = capsys.readouterr().err
    assert "support_episodes.person_id: 1 identifier(s)" in err and "12345" not in err
    assert not out.exists()  # nothing ran, nothing written


def test_a_council_whose_manifest_is_not_clean_is_not_published(
        tmp_path: Path, planted_data: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    write_notebook(tmp_path / "nb", "01_error", WHO + "raise KeyError(slashed)")
    for redaction in ("redact_object", "message"):  # a gap in the manifest's redaction
        monkeypatch.setattr(record.privacy, redaction, lambda obj, ids: obj)
    out = tmp_path / "out"
    assert evalkit_run(str(planted_data), "--out", str(out),
                       "--notebook-dir", str(tmp_path / "nb")) == 1
    captured = capsys.readouterr()
    assert "its manifest did not pass the privacy gate" in captured.err
    assert "nothing of this council was published" in captured.err
    assert not (out / COUNCIL).exists() and not list(out.glob(f"runs/*/{COUNCIL}"))
    assert COUNCIL not in (out / "index.html").read_text()
    assert "LA/000123" not in captured.err + captured.out
