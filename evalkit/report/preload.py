"""The process `evalkit run` forks its notebook workers and kernels from, started early.

Importing pandas, scipy, statsmodels, matplotlib, papermill, nbconvert and ipykernel takes a
few seconds of CPU. The multiprocessing forkserver imports them once (PRELOAD); every worker is a
fork of it, and every notebook kernel a fork of a worker (`evalkit.report.kernel`), so none of
them imports anything again. This module is light on purpose: `evalkit run` starts the
forkserver before importing its own dependencies, so the two import side by side.
"""

from __future__ import annotations

from multiprocessing import forkserver, set_forkserver_preload

#: The runner, papermill and nbconvert for the workers; ipykernel and what the notebooks import
#: for the kernels; then one page rendered and one chart drawn (`evalkit.report.warm`).
PRELOAD = ["evalkit.report.run", "papermill", "nbconvert", "evalkit.report.kernel",
           "ipykernel.kernelapp", "evalkit.uptake", "evalkit.pa_market", "evalkit.outcomes",
           "evalkit.report.warm"]


def start_forkserver() -> None:
    """Start the forkserver (importing PRELOAD) now, in the background; no-op if it runs."""
    set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()
