"""Workers of `evalkit run` (`evalkit.run.pool`): a national run gives each worker a council's
notebooks, run one after another in the worker itself, each as if in a kernel of its own."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import nbformat
import pytest
from helpers.reports import KERNELSPEC
from nbformat.v4 import new_code_cell, new_notebook

from evalkit.data.load import CACHE_ENV
from evalkit.run import pool, runner
from evalkit.run.execute import SUCCEEDED, Task

MARK = "EVALKIT_TEST_NOTEBOOK"
#: What each fixture notebook records of its kernel, in its results.json.
RECORD = f"""import json, os
import matplotlib as mpl, pandas as pd
json.dump({{"pid": os.getpid(), "cwd": os.getcwd(), "mark": os.environ.get({MARK!r}),
           "left_over": "LEFT_OVER" in globals(), "outputs": len(Out),
           "settings": [pd.get_option("display.max_columns"), mpl.rcParams["font.size"]]}},
          open("results.json", "w"))
LEFT_OVER = 1
pd.set_option("display.max_columns", 0)
mpl.rcParams["font.size"] = 3
"""
#: A cell whose value enters a kernel's output history (Out), run before RECORD; a worker's
#: shell keeps none (`evalkit.run.inprocess.shell`), so nothing of a notebook reaches the next.
SHOWN = "LEFT_OVER_VALUE = [1, 2]\nLEFT_OVER_VALUE"


def tasks(tmp_path: Path, councils: list[str]) -> list[Task]:
    """Two fixture notebooks for each council, each with its own environment mark."""
    out = []
    for stem in ("01_first", "02_second"):
        notebook = tmp_path / f"{stem}.ipynb"
        nbformat.write(new_notebook(metadata={"kernelspec": KERNELSPEC},
                                    cells=[new_code_cell(SHOWN), new_code_cell(RECORD)]),
                       notebook)
    for la in councils:
        for stem in ("01_first", "02_second"):
            out.append(Task(la, tmp_path / f"{stem}.ipynb", tmp_path / "out" / la / stem, stem,
                            [], environ={MARK: f"{la} {stem}"}))
    return out


def test_a_council_a_worker_when_councils_fill_the_jobs() -> None:
    made = [Task(la, Path(f"{nb}.ipynb"), Path(la), nb, []) for la in "AB" for nb in "xyz"]
    assert pool.batches(made, 2) == [made[:3], made[3:]]
    assert pool.batches(made, 3) == [[t] for t in made]  # a council's notebooks side by side


def test_a_councils_notebooks_share_its_worker_each_cleared_and_in_its_own_folder(
        tmp_path: Path) -> None:
    made = tasks(tmp_path, list("ABCD"))
    done = list(pool.run_tasks(made, jobs=2))
    assert len(done) == 8 and all(entry["status"] == SUCCEEDED for _, entry in done)
    seen = {}
    for task, _ in done:
        seen[task.la, task.stem] = json.loads((task.out_dir / "results.json").read_text())
        assert seen[task.la, task.stem] == {**seen[task.la, task.stem], "cwd": str(
            task.out_dir.resolve()), "mark": f"{task.la} {task.stem}", "left_over": False,
            "outputs": 0,  # no output history: nothing of the notebook before
            "settings": [20, 10.0]}  # pandas' and matplotlib's defaults, whatever ran before
        executed = nbformat.read(task.out_dir / f"{task.stem}.ipynb", as_version=4)
        assert executed.cells[-1].execution_count == 2  # counted from 1, as in a new kernel
    workers = [{seen[t.la, t.stem]["pid"] for t in batch} for batch in pool.batches(made, 2)]
    assert all(len(pids) == 1 for pids in workers)  # a council's notebooks in one process
    assert len(set().union(*workers)) == len(workers) == 4  # never two councils in one


def test_a_single_councils_notebooks_each_have_a_kernel(tmp_path: Path) -> None:
    done = list(pool.run_tasks(tasks(tmp_path, ["A"]), jobs=2))
    pids = {json.loads((task.out_dir / "results.json").read_text())["pid"] for task, _ in done}
    assert len(pids) == 2


def test_a_run_of_councils_starts_with_the_largest(tmp_path: Path) -> None:
    own = {}
    for la, size in (("A", 10), ("B", 3000), ("C", 200)):  # bytes of each council's cache
        own[la] = tmp_path / "councils" / la
        own[la].mkdir(parents=True)
        (own[la] / "support_episodes.parquet").write_bytes(b"x" * size)
    made = [Task(la, Path(f"{nb}.ipynb"), tmp_path / la / nb, nb, [],
                 environ={CACHE_ENV: str(tmp_path / "national")})
            for la in "ABCD" for nb in ("01_uptake", "02_pa_market")]
    (light, own_jobs), (heavy, jobs) = runner._phases(made, own, 3, 1)
    assert (own_jobs, jobs) == (3, 1)
    assert [(t.la, t.stem) for t in light] == [
        ("B", "01_uptake"), ("B", "02_pa_market"), ("C", "01_uptake"), ("C", "02_pa_market"),
        ("A", "01_uptake"), ("A", "02_pa_market")]  # largest first, notebooks in their order
    assert [t.environ[CACHE_ENV] for t in light[:2]] == [str(own["B"])] * 2
    assert [t.la for t in heavy] == ["D", "D"]  # no cache of its own: the national data


def test_the_next_council_starts_before_the_last_ones_answers_are_taken(tmp_path: Path) -> None:
    # the runner gates a council when it takes its last answer: its core goes to the next one
    done = pool.run_tasks(tasks(tmp_path, ["A", "B"]), jobs=1)
    first = [next(done), next(done)]
    assert [task.la for task, _ in first] == ["A", "A"]
    assert any(p.name.startswith("evalkit B ") for p in multiprocessing.active_children())
    assert [task.la for task, _ in done] == ["B", "B"]


def test_a_worker_kept_alive_by_a_notebooks_thread_is_stopped_once_it_has_answered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "GRACE", 0.5)
    notebook = tmp_path / "01_thread.ipynb"
    nbformat.write(new_notebook(metadata={"kernelspec": KERNELSPEC}, cells=[new_code_cell(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n"
        "open('results.json', 'w').write('{}')")]), notebook)
    made = [Task(la, notebook, tmp_path / "out" / la, "01_thread", []) for la in "AB"]
    started = time.monotonic()
    done = list(pool.run_tasks(made, jobs=1))  # a worker a council, each left with a thread
    assert time.monotonic() - started < 30  # not the threads' 60 s
    assert [(t.la, e["status"]) for t, e in done] == [("A", SUCCEEDED), ("B", SUCCEEDED)]
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("evalkit ")]
