"""Kernels forked from the running process (`evalkit.report.kernel`): chosen only for ipykernel
in this Python, they run notebooks, fail cleanly when they die, and are interrupted on a timeout."""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from evalkit.report.kernel import ForkedKernelManager, ForkedProcess, kernel_args

PYTHON = sys.executable
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
PROBE = "evalkit_fork_probe"  # a module only this test process has: a fork inherits it


@pytest.mark.parametrize("argv, expected", [
    ([PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"], ["-f", "{connection_file}"]),
    ([PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"],
     ["-f", "c.json"]),
    (["/usr/bin/python3.9", "-m", "ipykernel_launcher", "-f", "c.json"], None),  # other Python
    ([PYTHON, "-O", "-m", "ipykernel_launcher", "-f", "c.json"], None),  # changes the interpreter
    ([PYTHON, "-m", "other_kernel", "-f", "c.json"], None),
    (["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"], None),
    ([], None),
])
def test_only_ipykernel_in_this_python_is_forked(argv: list[str], expected) -> None:
    assert kernel_args(argv) == expected


def run_notebook(tmp_path: Path, *cells: str, **kwargs) -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC}, cells=[new_code_cell(c) for c in cells])
    path = tmp_path / "in.ipynb"
    nbformat.write(nb, path)
    return pm.execute_notebook(path, tmp_path / "out.ipynb", kernel_name="python3",
                               cwd=str(tmp_path), progress_bar=False,
                               kernel_manager_class=ForkedKernelManager, **kwargs)


def outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]


def children() -> set[int]:
    """Live children of this process (a reaped kernel is not among them)."""
    import psutil

    return {c.pid for c in psutil.Process().children() if c.status() != psutil.STATUS_ZOMBIE}


def test_notebook_runs_in_a_fork_of_this_process_in_its_working_folder(tmp_path: Path) -> None:
    sys.modules[PROBE] = types.ModuleType(PROBE)
    try:
        nb = run_notebook(tmp_path, "import os, sys\n"
                                    f"print({PROBE!r} in sys.modules, os.getppid(), os.getcwd())",
                          "x = 6 * 7\nprint(x)")
    finally:
        del sys.modules[PROBE]
    assert outputs(nb) == [f"True {os.getpid()} {tmp_path}\n", "42\n"]
    assert nb.metadata["language_info"]["name"] == "python"


def test_a_kernel_that_dies_fails_the_notebook_and_is_reaped(tmp_path: Path) -> None:
    before = children()
    with pytest.raises((DeadKernelError, RuntimeError), match="(?i)dead|died|kernel"):
        run_notebook(tmp_path, "import os\nos._exit(3)")
    assert children() <= before


def test_a_cell_over_the_time_limit_is_interrupted_and_the_kernel_stopped(tmp_path: Path) -> None:
    before = children()
    t0 = time.monotonic()
    with pytest.raises((CellTimeoutError, pm.PapermillExecutionError)):
        run_notebook(tmp_path, "import time\ntime.sleep(120)", execution_timeout=3)
    assert time.monotonic() - t0 < 60
    assert children() <= before


def test_forked_process_handle_reports_exit_code_like_popen() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(5)
    proc = ForkedProcess(pid)
    assert proc.wait(timeout=10) == 5
    assert proc.poll() == 5
    proc.kill()  # already gone: no error, as Popen
