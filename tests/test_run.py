"""`evalkit run` end to end on fixture notebooks and a small synthetic data folder."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers.reports import KERNELSPEC, evalkit_run, make_data, write_notebook
from nbformat.v4 import new_code_cell, new_notebook, new_output

from evalkit.paths import REPO_DIR
from evalkit.run import manifest as record
from evalkit.run import plan, render
from evalkit.run.execute import FAILED, Task, execute


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    write_notebook(folder, "01_first")
    write_notebook(folder, "02_second", CACHE_USED)
    return folder


# a kernel must read the tables the runner validated, not validate them again
CACHE_USED = """from evalkit.data import load as loader


def validate_again(*args, **kwargs):
    raise AssertionError("the kernel validated the data again instead of reading the run's cache")


loader.load_table = validate_again
_ = evalkit.load(resolve_data_dir(data_dir))
"""


@pytest.fixture(scope="module")
def good_run(data_dir: Path, notebooks: Path, tmp_path_factory: pytest.TempPathFactory):
    """One successful run: its report folder and exit code."""
    out = tmp_path_factory.mktemp("reports")
    code = evalkit_run(str(data_dir), "--out", str(out), "--notebook-dir", str(notebooks),
                       "--param", "extra_note=quarterly")
    return out, code


def council_dir(out: Path) -> Path:
    (folder,) = [p.parent for p in out.glob("*/manifest.json")]
    return folder


def test_end_to_end_run_succeeds_and_writes_every_output(good_run, data_dir: Path) -> None:
    out, code = good_run
    assert code == 0
    council = council_dir(out)
    assert council.name == "E06000016"  # the leicester profile holds one council
    man = json.loads((council / "manifest.json").read_text())
    assert man["status"] == "succeeded"
    assert [nb["notebook"] for nb in man["notebooks"]] == ["01_first", "02_second"]
    for nb in man["notebooks"]:
        assert nb["status"] == "succeeded" and nb["error"] is None
        assert nb["outputs"]["html"] == f"{nb['notebook']}/{nb['notebook']}.html"
        for key in ("notebook", "html", "results", "key_findings"):
            assert (council / nb["outputs"][key]).is_file(), key
        assert nb["duration_s"] >= nb["execute_s"] > 0
        assert nb["privacy"] == []
    assert man["parameters"] == {"data_dir": str(data_dir.resolve()), "la_code": "E06000016",
                                 "min_cell": 5, "extra_note": "quarterly"}


def test_manifest_checksums_rows_and_versions_match_the_input(good_run, data_dir: Path) -> None:
    import hashlib

    import evalkit

    man = json.loads((council_dir(good_run[0]) / "manifest.json").read_text())
    dataset = evalkit.load(data_dir)
    listed = {f["path"]: f["sha256"] for f in man["data"]["inputs"]}
    read = [Path(p) for paths in dataset.files.values() for p in paths]
    assert len(listed) == len(read) > 0
    for path in read:
        rel = path.resolve().relative_to(data_dir.resolve()).as_posix()
        assert listed[rel] == hashlib.sha256(path.read_bytes()).hexdigest()
    rows = man["data"]["rows"]
    episodes = rows["support_episodes"]
    assert episodes["kept"] == len(dataset.support_episodes)
    assert episodes["read"] == episodes["kept"] + episodes["excluded"]
    assert episodes["excluded"] == sum(episodes["excluded_by_reason"].values())
    assert man["versions"]["papermill"] and man["versions"]["pandas"] == pd.__version__
    assert man["data"]["period"]["start"] <= man["data"]["period"]["end"]


def test_html_hides_code_has_contents_and_no_alt_text_warning(good_run) -> None:
    council = council_dir(good_run[0])
    man = json.loads((council / "manifest.json").read_text())
    rendering = [w for nb in man["notebooks"] for w in nb["warnings"]
                 if not w.startswith("the kernel failed to start")]  # a busy machine's retry
    assert rendering == []  # nbconvert's warnings, e.g. a figure without alt text
    soup = BeautifulSoup((council / "01_first" / "01_first.html").read_text(), "html.parser")
    assert not soup.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
    assert "import evalkit" not in soup.get_text()
    toc = [a["href"] for a in soup.select("nav.evalkit-toc a")]
    assert toc == ["#Fixture-report-01_first", "#Key-findings", "#Methods-and-caveats",
                   "#Glossary"]
    assert all(soup.find(id=href[1:]) for href in toc)
    assert all(img.get("alt") for img in soup.find_all("img"))
    assert not soup.find_all("script", src=True)  # nothing fetched from the internet


def test_index_links_resolve_and_show_status(good_run) -> None:
    out, _ = good_run
    man = json.loads((council_dir(out) / "manifest.json").read_text())
    run = f"runs/{man['run']['id']}/E06000016"
    assert os.readlink(out / "E06000016") == run  # the council's address links the run's folder
    assert sorted(p.name for p in out.iterdir()) == ["E06000016", "index.html", "runs"]
    soup = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    links = [a["href"] for a in soup.find_all("a") if not a["href"].startswith("#")]
    assert {f"{run}/01_first/01_first.html", f"{run}/02_second/02_second.html",
            f"{run}/manifest.json"} <= set(links)
    for href in links:
        assert not Path(href).is_absolute() and (out / href).is_file(), href
    row = soup.find("tbody").find("tr").get_text(" ")
    assert "succeeded" in row and re.search(r"\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", row)
    assert f"run {man['run']['id']}" in row  # which run produced the pages
    assert man["run"]["started_at"][:16].replace("T", " ") in row


def test_rerun_gives_identical_results_also_in_parallel_for_two_councils(
        good_run, data_dir: Path, notebooks: Path, tmp_path: Path) -> None:
    first = council_dir(good_run[0])
    assert evalkit_run(str(data_dir), "--out", str(tmp_path), "--notebook-dir", str(notebooks),
                       "--param", "extra_note=quarterly", "--la", "E06000016", "all",
                       "--jobs", "2") == 0
    for name in ("01_first", "02_second"):
        assert (first / name / "results.json").read_bytes() == \
               (tmp_path / "E06000016" / name / "results.json").read_bytes()
    national = json.loads((tmp_path / "all" / "01_first" / "results.json").read_text())
    assert national["parameters"]["la_code"] == "all"
    index = BeautifulSoup((tmp_path / "index.html").read_text(), "html.parser")
    assert [r.th.get_text() for r in index.tbody.find_all("tr")] == ["All councils",
                                                                     "Leicester (E06000016)"]


def test_missing_required_column_stops_before_any_notebook(data_dir: Path, tmp_path: Path,
                                                           capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(data_dir, broken)
    (episodes,) = broken.glob("support_episodes.*")
    frame = pd.read_csv(episodes) if episodes.suffix == ".csv" else pd.read_parquet(episodes)
    episodes.unlink()
    frame.drop(columns=["ethnicity"]).to_csv(broken / "support_episodes.csv", index=False)
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "01_first")
    out = tmp_path / "out"
    code = evalkit_run(str(broken), "--out", str(out), "--notebook-dir", str(notebooks))
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot be used" in err and "ethnicity" in err
    assert not out.exists()  # nothing ran, nothing written


def test_failing_notebook_fails_the_run_and_index_says_so(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = out / "E06000016" / "01_broken" / "01_broken.html"  # last quarter's good report
    stale.parent.mkdir(parents=True)
    stale.write_text("last quarter")
    (out / "E06000016" / "manifest.json").write_text("{}")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "01_broken", "raise ValueError('planted failure')")
    assert evalkit_run(str(data_dir), "--out", str(out), "--notebook-dir", str(notebooks)) == 1
    council = council_dir(out)
    man = json.loads((council / "manifest.json").read_text())
    (nb,) = man["notebooks"]
    assert man["status"] == nb["status"] == "failed"
    assert "ValueError: planted failure" in nb["error"]
    assert nb["withheld"] == record.WITHHELD["failed"]
    assert nb["outputs"] == dict.fromkeys(["notebook", "html", "results", "key_findings"])
    assert not (council / "01_broken").exists()  # nothing of a failed notebook is published
    assert not stale.exists()  # no earlier page left to be mistaken for this run's report
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    row = index.find("tbody").find("tr")
    assert row.li.get_text() == (f"Fixture report 01_broken: failed "
                                 f"({record.WITHHELD['failed']})")  # its title, in words
    assert [a.get_text() for a in row.find_all("a")] == [
        "Summary of the reports for Leicester (E06000016)", "run record (manifest, JSON)"]


def test_a_kernel_that_dies_fails_its_notebook_and_is_reaped(tmp_path: Path) -> None:
    import nbformat
    import psutil

    notebook = tmp_path / "01_dies.ipynb"
    nbformat.write(new_notebook(metadata={"kernelspec": KERNELSPEC}, cells=[
        new_code_cell("print('started')"), new_code_cell("import os\nos._exit(3)")]), notebook)
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    entry = execute(Task("all", notebook, tmp_path / "out" / "01_dies", "01_dies", []))
    assert entry["status"] == FAILED and "DeadKernelError" in entry["error"]
    assert entry["outputs"]["html"] is None  # nothing to render: no page to mistake for a report
    assert {c.pid for c in psutil.Process().children(recursive=True)} <= before


# a kernel that exits at its first start (as one does when another process took its port) and
# starts normally the next time
FLAKY_KERNEL = """import os, sys
if not os.path.exists(sys.argv[1]):
    open(sys.argv[1], "w").close()
    sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
"""


def test_a_kernel_that_fails_to_start_is_started_again(tmp_path: Path, monkeypatch) -> None:
    import sys

    import nbformat

    spec = tmp_path / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", FLAKY_KERNEL, str(tmp_path / "started-once"), "-f",
                 "{connection_file}"], "display_name": "flaky", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    notebook = tmp_path / "01_flaky.ipynb"
    nbformat.write(new_notebook(metadata={"kernelspec": {**KERNELSPEC, "name": "flaky"}}, cells=[
        new_code_cell("open('results.json', 'w').write('{}')")]), notebook)
    entry = execute(Task("all", notebook, tmp_path / "out" / "01_flaky", "01_flaky", []))
    assert entry["status"] == "succeeded", entry["error"]
    (warning,) = entry["warnings"]
    assert warning.startswith("the kernel failed to start") and "started it again" in warning


def test_folder_not_written_by_evalkit_is_never_deleted(data_dir: Path, tmp_path: Path,
                                                        capsys) -> None:
    mine = tmp_path / "out" / "E06000016" / "notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("someone's notes")
    write_notebook(tmp_path / "nb", "01_first")
    assert evalkit_run(str(data_dir), "--out", str(tmp_path / "out"),
                       "--notebook-dir", str(tmp_path / "nb")) == 2
    assert mine.is_file() and "not written by evalkit run" in capsys.readouterr().err


def test_unmarked_image_is_reported_as_an_alt_text_warning(monkeypatch) -> None:
    """nbconvert's warnings only: its logger is traitlets' shared one, where jupyter_client may
    log meanwhile (a kernel client of an earlier notebook cleared by the garbage collector)."""
    nb = new_notebook(cells=[new_code_cell("plot()", outputs=[new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])])
    exporter = render._exporter()
    export = exporter.from_notebook_node

    def meanwhile(*args, **kwargs):
        exporter.log.warning("Could not destroy zmq context")  # as jupyter_client logs it
        return export(*args, **kwargs)

    monkeypatch.setattr(exporter, "from_notebook_node", meanwhile)
    _, warnings = render.export_html(nb, "t")
    assert warnings == ["Alternative text is missing on 1 image(s)."]


def test_parse_params_types_values_and_rejects_reserved(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("conf: 0.9\nlabel: spring\nweeks: 6\n")
    got = plan.parse_params(["weeks=8", "flag=true", "empty="], spec)
    assert got == {"conf": 0.9, "label": "spring", "weeks": 8, "flag": True, "empty": None}
    with pytest.raises(plan.RunError, match="la_code"):
        plan.parse_params(["la_code=E06000016"], None)
    with pytest.raises(plan.RunError, match="KEY=VALUE"):
        plan.parse_params(["no equals sign"], None)


def test_example_params_file_is_accepted() -> None:
    got = plan.parse_params([], REPO_DIR / "examples" / "quarterly.yaml")
    assert got["target_days"] == [14, 28, 56] and got["group_level"] == "broad"


def test_discover_orders_and_filters_notebooks(tmp_path: Path) -> None:
    for name in ("02_b", "01_a", "03_c"):
        write_notebook(tmp_path, name)
    (tmp_path / "scratch.ipynb").write_text("{}")
    assert [p.stem for p in plan.discover(tmp_path, None)] == ["01_a", "02_b", "03_c"]
    assert [p.stem for p in plan.discover(tmp_path, "3,01")] == ["03_c", "01_a"]
    with pytest.raises(plan.RunError, match="no notebook numbered"):
        plan.discover(tmp_path, "04")


def test_unknown_council_is_refused_before_running(data_dir: Path, tmp_path: Path,
                                                   capsys) -> None:
    write_notebook(tmp_path / "nb", "01_first")
    code = evalkit_run(str(data_dir), "--out", str(tmp_path / "out"), "--la", "E09999999",
                "--notebook-dir", str(tmp_path / "nb"))
    assert code == 2 and "E09999999" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
