"""What makes `evalkit run` fast: default parallelism, quiet kernels, no slow optional import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from evalkit.run import runner as run


def test_default_jobs_runs_a_councils_notebooks_together_within_cores_plus_one():
    council = 10 * 2**20
    assert run.default_jobs(3, 2, council) == 3
    assert run.default_jobs(6, 2, council) == 3
    assert run.default_jobs(2, 8, council) == 2
    assert run.default_jobs(3, None, council) == 2


def test_default_jobs_keeps_large_data_within_the_memory_budget():
    national = 900 * 2**20
    jobs = run.default_jobs(3, 8, national)
    assert jobs == 1
    assert run.KERNEL_BASE + jobs * (run.KERNEL_BASE + run.TABLE_FACTOR * national) \
        <= run.MEMORY_BUDGET
    assert run.default_jobs(3, 8, 10 * 2**30) == 1  # never fewer than one


def test_ipykernel_kernels_are_quieted_and_unknown_kernels_left_alone():
    assert run.kernel_options("python3") == run.QUIET_KERNEL
    assert run.kernel_options("no-such-kernel-xyz") == []


def test_nbformat_still_validates_without_the_optional_iri_checker():
    code = ("from evalkit.run import render; render.skip_slow_optional_imports(); "
            "import sys, nbformat; nb = nbformat.v4.new_notebook(); nbformat.validate(nb); "
            "print('rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_installed_kernel_is_forked_when_run_through_the_evalkit_command():
    # the `evalkit` script runs bin/python3 while `ipykernel install` names bin/python: both
    # must count as this Python, or every report kernel starts (and imports) from scratch
    script = Path(sys.executable).with_name("evalkit")
    python = script.read_text().splitlines()[0].removeprefix("#!").strip()
    code = ("from jupyter_client.kernelspec import KernelSpecManager\n"
            "from evalkit.run.kernel import forkable\n"
            "print(forkable(KernelSpecManager().get_kernel_spec('python3').argv, None))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['-f', '{connection_file}']"
