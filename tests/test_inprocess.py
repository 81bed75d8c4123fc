"""A national run executes its notebooks in the worker processes themselves
(`evalkit.run.inprocess`): the same outputs, errors and results as in a kernel of their own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers.reports import KERNELSPEC, evalkit_run
from nbformat.v4 import new_code_cell, new_notebook

from evalkit.run import pool
from evalkit.run.execute import FAILED, SUCCEEDED, Task

#: Cells whose outputs are of every kind a cell can have (a kernel sends a cell's stdout and
#: stderr each in its own buffer, so a cell writes to one of them only).
CELLS = [
    'print("a")\nprint("b")',
    'import sys\nprint("to stderr", file=sys.stderr)',
    "from IPython.display import HTML, clear_output, display\n"
    'display(HTML("<b>shown</b>"))\n1 + 1',
    'display("replaced")\nclear_output(wait=True)\ndisplay("kept")',
    'import warnings\nwarnings.warn("careful")',
    "import matplotlib.pyplot as plt\nplt.plot([1, 2]);  # left open: shown inline at the end",
    "",  # an empty cell is not run and has no execution count
    'import os, subprocess\nos.write(2, b"to a descriptor\\n")\n'
    'subprocess.run(["echo", "from a program"], check=True);',
    "import json, os, pyarrow\nfrom threadpoolctl import threadpool_info\n"
    'json.dump({"blas": sorted({p["num_threads"] for p in threadpool_info()}),\n'
    '           "arrow": pyarrow.cpu_count(), "cwd": os.getcwd()}, open("results.json", "w"))',
]
CELL_FILE = re.compile(r"^\S+:\d+: ", re.MULTILINE)  # where a warning was raised
CELL_NAME = re.compile(r"\([^,()]+, ")  # a cell's file in an error message
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def notebook(tmp_path: Path, cells: list[str], name: str = "01_fixture") -> Path:
    """A fixture notebook of `cells`."""
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(new_notebook(metadata={"kernelspec": KERNELSPEC},
                                cells=[new_code_cell(c) for c in cells]), path)
    return path


def run(path: Path, out: Path, in_process: bool) -> dict[str, Any]:
    """Run one notebook for one council, in a kernel of its own (jobs 2: more jobs than
    councils) or in the worker (jobs 1: a national run); its manifest entry."""
    task = Task("E06000016", path, out / path.stem, path.stem, [], environ=ONE_THREAD)
    assert pool.national([task], 1 if in_process else 2) is in_process
    [(_, entry)] = list(pool.run_tasks([task], jobs=1 if in_process else 2))
    return entry


def outputs(path: Path) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Each code cell's execution count and outputs, without what differs between any two
    runs: tracebacks, and the file a warning names (a kernel's names its process)."""
    nb = nbformat.read(path, as_version=4)
    return [(cell.execution_count, [{k: CELL_FILE.sub("", v) if k == "text" else v
                                     for k, v in out.items() if k != "traceback"}
                                    for out in cell.outputs])
            for cell in nb.cells if cell.cell_type == "code"]


def test_a_notebook_run_in_the_worker_has_a_kernels_outputs(tmp_path: Path) -> None:
    path = notebook(tmp_path, CELLS)
    kernel, worker = run(path, tmp_path / "kernel", False), run(path, tmp_path / "worker", True)
    assert kernel["status"] == worker["status"] == SUCCEEDED
    executed = outputs(tmp_path / "worker" / path.stem / f"{path.stem}.ipynb")
    in_kernel = outputs(tmp_path / "kernel" / path.stem / f"{path.stem}.ipynb")
    # but for the descriptors' cell: ipykernel collects what is written to them, as the
    # worker does, except under pytest (it looks for PYTEST_CURRENT_TEST), as here
    at = next(i for i, cell in enumerate(CELLS) if "os.write" in cell)
    assert executed[:at] + executed[at + 1:] == in_kernel[:at] + in_kernel[at + 1:]
    counts, cells = zip(*executed, strict=True)
    assert counts == (1, 2, 3, 4, 5, 6, None, 7, 8)
    assert cells[0] == [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"}]
    assert cells[1] == [{"output_type": "stream", "name": "stderr", "text": "to stderr\n"}]
    assert [o["output_type"] for o in cells[2]] == ["display_data", "execute_result"]
    assert [o["data"]["text/plain"] for o in cells[3]] == ["'kept'"]
    assert "UserWarning: careful" in cells[4][0]["text"]
    assert "image/png" in cells[5][0]["data"]
    assert cells[7] == [{"output_type": "stream", "name": "stdout", "text": "from a program\n"},
                        {"output_type": "stream", "name": "stderr", "text": "to a descriptor\n"}]
    results = json.loads((tmp_path / "worker" / path.stem / "results.json").read_text())
    assert results == {"blas": [1], "arrow": 1, "cwd": str((tmp_path / "worker" / path.stem)
                                                              .resolve())}


@pytest.mark.parametrize("cell", ['raise ValueError("no such council")', "1 +",
                                  "import sys\nsys.exit(3)"])
def test_a_failing_cell_fails_the_notebook_as_in_a_kernel(tmp_path: Path, cell: str) -> None:
    path = notebook(tmp_path, ["x = 1", cell, 'open("results.json", "w").write("{}")'])
    kernel, worker = run(path, tmp_path / "kernel", False), run(path, tmp_path / "worker", True)
    assert kernel["status"] == worker["status"] == FAILED
    # the same error, but for the name a kernel gives the cell's file ("(<name>, line 1)")
    assert CELL_NAME.sub("(", worker["error"]) == CELL_NAME.sub("(", kernel["error"])
    assert worker["error"].startswith("cell 2: ")
    assert not (tmp_path / "worker" / path.stem / "results.json").exists()  # stopped there


def test_the_reports_run_in_the_worker_are_those_of_a_kernel(
        demo_like_data: Path, published_dir: Path, tmp_path: Path) -> None:
    # --jobs 1 with one council: a national run's way (whole councils a worker, in it)
    assert evalkit_run(str(demo_like_data), "--out", str(tmp_path), "--jobs", "1") == 0
    assert_same_reports(tmp_path, published_dir)


def test_a_rehearsed_workers_reports_are_those_of_a_kernel(
        demo_like_data: Path, published_dir: Path, tmp_path: Path) -> None:
    # every council: the forkserver ran a made-up council's notebooks before forking the
    # worker (evalkit.run.rehearse); nothing of it may show. A new process: the first start of
    # the forkserver in a process decides what it imports.
    done = subprocess.run([sys.executable, "-m", "evalkit.cli", "run", str(demo_like_data),
                           "--out", str(tmp_path), "--la", "all-councils", "--jobs", "1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rehearsal" not in done.stderr
    assert_same_reports(tmp_path, published_dir)


def assert_same_reports(folder_root: Path, published_dir: Path) -> None:
    """The reports under `folder_root` are those of `published_dir` (run in kernels): results,
    key findings, downloads and every notebook output."""
    kernels = sorted(published_dir.glob("*/*/results.json"))
    assert len(kernels) == 3
    for results in kernels:
        folder = folder_root / results.parent.relative_to(published_dir)
        assert (folder / "results.json").read_text() == results.read_text()
        assert ((folder / "key_findings.md").read_text()
                == (results.parent / "key_findings.md").read_text())
        for csv in sorted((results.parent / "downloads").glob("*.csv")):
            assert (folder / "downloads" / csv.name).read_text() == csv.read_text()
        assert (outputs(folder / f"{folder.name}.ipynb")
                == outputs(results.parent / f"{folder.name}.ipynb"))


CLEARING = """
import builtins, gc, weakref
from evalkit.run import inprocess
from evalkit.run.execute import CLEAR
class Cycle:
    pass
def cycle():
    made = Cycle()
    made.me = made  # a cycle: only the garbage collector frees it
    return made, weakref.ref(made)
builtins.kept, kept = cycle()
left, gone = cycle()
del left  # the last notebook's garbage
inprocess.prepare(CLEAR, {})
print(gone() is None, kept() is not None)  # collected; alive (builtins holds it)
frozen = gc.get_freeze_count()
print(frozen > 0, not any(o is kept() for o in gc.get_objects()))  # frozen: not walked again
del builtins.kept  # garbage now, but frozen: the next clearing does not walk it again
full = gc.get_stats()[2]["collections"]
inprocess.prepare(CLEAR, {})
print(kept() is not None)  # freed with the worker, a council's notebooks later
print(gc.get_stats()[2]["collections"] == full + 1)  # one full collection (no output cache)
"""


def test_clearing_collects_the_last_notebooks_garbage_and_freezes_the_rest(
        tmp_path: Path) -> None:
    # a new process: IPython's shell is one a process
    done = subprocess.run([sys.executable, "-c", CLEARING], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["True"] * 6
