"""Kernels forked from the running process (`evalkit.run.kernel`): chosen only for ipykernel
in this Python, they run notebooks as a new kernel would, fail cleanly when they die, and take
interrupts in their own session."""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from evalkit.run.kernel import ForkedKernelManager, ForkedProcess, forkable, kernel_args

PYTHON = sys.executable
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
PROBE = "evalkit_fork_probe"  # a module only this test process has: a fork inherits it


@pytest.mark.parametrize("argv, expected", [
    ([PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"], ["-f", "{connection_file}"]),
    ([PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"],
     ["-f", "c.json"]),
    (["/usr/bin/python3.9", "-m", "ipykernel_launcher", "-f", "c.json"], None),  # other Python
    ([PYTHON, "-O", "-m", "ipykernel_launcher", "-f", "c.json"], None),  # changes the interpreter
    ([PYTHON, "-Xutf8", "-m", "ipykernel_launcher", "-f", "c.json"], None),
    ([str(Path(PYTHON).parent / ".." / Path(PYTHON).parent.name / Path(PYTHON).name), "-m",
      "ipykernel_launcher"], []),  # the same path, spelled differently
    ([PYTHON, "-m", "other_kernel", "-f", "c.json"], None),
    (["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"], None),
    ([], None),
])
def test_only_ipykernel_in_this_python_is_forked(argv: list[str], expected) -> None:
    assert kernel_args(argv) == expected


def test_python_and_python3_of_this_venv_are_both_this_python(tmp_path: Path) -> None:
    # a venv's console scripts run bin/python3 while `ipykernel install` writes bin/python
    siblings = [p for p in Path(PYTHON).parent.glob("python*")
                if p.resolve() == Path(PYTHON).resolve()]
    assert len(siblings) >= 1
    for python in siblings:
        assert kernel_args([str(python), "-m", "ipykernel_launcher", "-f", "c.json"]) == \
            ["-f", "c.json"]


def test_another_venv_on_the_same_interpreter_is_not_this_python(tmp_path: Path) -> None:
    other = tmp_path / "venv" / "bin" / "python"
    other.parent.mkdir(parents=True)
    other.symlink_to(Path(PYTHON).resolve())  # what a venv's bin/python is
    assert kernel_args([str(other), "-m", "ipykernel_launcher", "-f", "c.json"]) is None


def test_a_kernelspec_with_its_own_python_settings_is_started_normally() -> None:
    argv = [PYTHON, "-m", "ipykernel_launcher", "-f", "c.json"]
    assert forkable(argv, {**os.environ}) == ["-f", "c.json"]
    assert forkable(argv, {**os.environ, "PYTHONPATH": "/somewhere/else"}) is None


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
    """Children of this process, zombies included (a kernel not yet reaped is among them)."""
    import psutil

    return {c.pid for c in psutil.Process().children()}


def test_notebook_runs_in_a_fork_of_this_process_as_a_new_kernel_would(tmp_path: Path) -> None:
    import numpy as np

    np.random.seed(0)  # a fork must not inherit this: a new kernel draws its own seed
    sys.modules[PROBE] = types.ModuleType(PROBE)
    try:
        nb = run_notebook(tmp_path, "import os, sys\n"
                                    f"print({PROBE!r} in sys.modules, os.getppid(), os.getcwd())",
                          "import os\nprint(os.getsid(0) == os.getpid())",
                          "import matplotlib\nprint(matplotlib.get_backend())",
                          "import numpy as np\nprint(np.random.random())",
                          "import matplotlib.pyplot as plt\n_ = plt.plot([1, 2])")
    finally:
        del sys.modules[PROBE]
    parent, session, backend, draw, _ = outputs(nb)
    assert parent == f"True {os.getpid()} {tmp_path}\n"
    assert session == "True\n"  # its own session, so signals to its group reach only it
    assert "inline" in backend
    shown = [o for o in nb.cells[-1].outputs if "image/png" in o.get("data", {})]
    assert len(shown) == 1  # a pyplot figure is shown after its cell, as in any kernel
    assert float(draw) != np.random.RandomState(0).random_sample()
    assert nb.metadata["language_info"]["name"] == "python"


def test_a_kernel_that_dies_fails_the_notebook_and_is_reaped(tmp_path: Path) -> None:
    before = children()
    with pytest.raises(DeadKernelError):
        run_notebook(tmp_path, "print('started')", "import os\nos._exit(3)")
    assert children() <= before


def test_an_interrupt_reaches_the_forked_kernel(tmp_path: Path) -> None:
    """On a timeout nbclient interrupts the kernel (SIGINT to its process group): the cell stops
    with KeyboardInterrupt long before it would have ended, and the kernel is then stopped."""
    before = children()
    t0 = time.monotonic()
    with pytest.raises(pm.PapermillExecutionError, match="KeyboardInterrupt"):
        run_notebook(tmp_path, "import time\ntime.sleep(120)", execution_timeout=2,
                     interrupt_on_timeout=True)
    assert time.monotonic() - t0 < 30
    assert children() <= before


def test_forked_process_handle_reports_exit_code_like_popen() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(5)
    proc = ForkedProcess(pid)
    assert proc.wait(timeout=10) == 5
    assert proc.poll() == 5
    proc.kill()  # already gone: no error, as Popen
