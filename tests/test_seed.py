"""Kernels grown from a worker's seed (`evalkit.run.seed`): the first kernel of a worker is a
fork holding the notebooks' imports already, otherwise the kernel a new process would be;
a kernel after it (the first died) is a new process; a seed never used ends with its worker."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import psutil
import pytest
from helpers.reports import KERNELSPEC
from nbformat.v4 import new_code_cell, new_notebook

from evalkit.run import pool, seed
from evalkit.run.execute import FAILED, SUCCEEDED, Task

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="seeds are forked")

#: What the fixture notebook records of its kernel, before importing anything of its own.
RECORD = """import json, os, sys
import matplotlib
json.dump({"pid": os.getpid(), "parent": os.getppid(), "session": os.getsid(0),
           "cwd": os.getcwd(), "mark": os.environ.get("EVALKIT_TEST_SEED"),
           "preloaded": "evalkit.analyses.outcomes" in sys.modules,
           "backend": matplotlib.get_backend()},
          open("results.json", "w"))
"""
DIE = "import os\nos._exit(3)"


def notebook(path: Path, *cells: str) -> Path:
    nbformat.write(new_notebook(metadata={"kernelspec": KERNELSPEC},
                                cells=[new_code_cell(c) for c in cells]), path)
    return path


def test_a_workers_first_kernel_grows_from_its_seed_as_a_new_one_would_start(
        tmp_path: Path) -> None:
    nb = notebook(tmp_path / "record.ipynb", RECORD)
    tasks = [Task(la, nb, tmp_path / la, "record", [], environ={"EVALKIT_TEST_SEED": la})
             for la in "AB"]
    done = list(pool.run_tasks(tasks, jobs=2))
    assert [entry["status"] for _, entry in done] == [SUCCEEDED] * 2, [e["error"] for _, e in done]
    for task, _ in done:
        got = json.loads((task.out_dir / "results.json").read_text())
        assert got["preloaded"]  # the forkserver's imports: no new interpreter
        assert got["session"] == got["pid"]  # leads its own session, as jupyter_client's do
        assert (got["cwd"], got["mark"]) == (str(task.out_dir.resolve()), task.la)
        assert got["backend"] == seed.INLINE


def test_a_kernel_after_the_first_is_a_new_process(tmp_path: Path) -> None:
    die, record = notebook(tmp_path / "die.ipynb", DIE), notebook(tmp_path / "rec.ipynb", RECORD)
    tasks = [Task("A", die, tmp_path / "die", "die", []),
             Task("A", record, tmp_path / "rec", "rec", [], environ={"EVALKIT_TEST_SEED": "A"})]
    done = dict((task.stem, entry) for task, entry in pool.run_tasks(tasks, jobs=1))
    assert (done["die"]["status"], done["rec"]["status"]) == (FAILED, SUCCEEDED)
    got = json.loads((tmp_path / "rec" / "results.json").read_text())
    assert not got["preloaded"] and got["mark"] == "A"  # started by jupyter_client


def test_a_seed_never_used_ends_with_its_worker() -> None:
    seed.plant()
    pid = seed._seed[0]  # noqa: SLF001 - this module's own state
    assert psutil.Process(pid).ppid() == os.getpid()
    seed.uproot()  # reaps it: returns only once it has ended
    assert seed._seed is None and not psutil.pid_exists(pid)  # noqa: SLF001


def test_only_this_pythons_ipykernel_is_forked() -> None:
    python = sys.executable
    assert seed._kernel_args([python, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                              "k.json"]) == ["-f", "k.json"]  # noqa: SLF001
    assert seed._kernel_args(["/usr/bin/R", "-m", "ipykernel_launcher"]) is None  # noqa: SLF001
    assert seed._kernel_args([python, "-m", "other_kernel", "-f", "k.json"]) is None  # noqa: SLF001
