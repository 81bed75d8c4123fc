"""The process `evalkit run` forks its notebook workers and kernels from, started early.

Importing pandas, scipy, statsmodels, matplotlib, papermill, nbconvert and ipykernel takes a
few seconds of CPU. On Linux the multiprocessing forkserver imports them once (PRELOAD); every
worker is a fork of it, and every notebook kernel a fork of a worker (`evalkit.run.kernel`),
so none of them imports anything again. This module is light on purpose: `evalkit run` starts
the forkserver before importing its own dependencies, so the two import side by side. Elsewhere
(macOS, Windows) workers are spawned as new processes and kernels started the usual way.
"""

from __future__ import annotations

import sys
from multiprocessing import get_context
from multiprocessing.context import BaseContext

#: Fork-based start-up only where forking a process that has imported numpy is safe.
FORKSERVER = sys.platform.startswith("linux")
#: The runner, papermill and nbconvert for the workers; ipykernel and what the notebooks import
#: for the kernels; then one page rendered and one chart drawn (`evalkit.run.warm`).
PRELOAD = ["evalkit.run.runner", "papermill", "nbconvert", "evalkit.run.kernel",
           "ipykernel.kernelapp", "evalkit.analyses.uptake", "evalkit.analyses.pa_market",
           "evalkit.analyses.outcomes",
           "evalkit.run.warm"]


def start_forkserver() -> None:
    """Start the forkserver (importing PRELOAD) now, in the background; no-op if it runs, or
    where there is none (see FORKSERVER)."""
    if FORKSERVER:
        from multiprocessing import forkserver, set_forkserver_preload

        set_forkserver_preload(PRELOAD)
        forkserver.ensure_running()


def worker_context() -> BaseContext:
    """How `evalkit run` starts its workers: forkserver on Linux, spawn elsewhere."""
    return get_context("forkserver" if FORKSERVER else "spawn")
