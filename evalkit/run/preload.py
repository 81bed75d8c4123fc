"""The process `evalkit run` forks its notebook workers from, started early.

A worker drives papermill and renders the executed notebook with nbconvert; importing those
takes a few seconds of CPU. On Linux the workers are forks of the standard library's
multiprocessing forkserver, which imports them once (PRELOAD) and renders one small page
(`evalkit.run.warm`), so no worker imports them again. `evalkit run` starts it before loading
the data, so the two proceed side by side. Elsewhere (macOS; `evalkit run` needs a POSIX system)
workers are spawned as new processes. Notebook kernels are not forked: each is the standard
kernel its kernelspec names, started by jupyter_client as a new process; a national run's
workers run their notebooks themselves (`evalkit.run.inprocess`), with the analyses its
forkserver imported (NATIONAL).
"""

from __future__ import annotations

import sys
import threading
from multiprocessing import get_context
from multiprocessing.context import BaseContext

from evalkit.run import EACH_COUNCIL

#: The forkserver start method where it is the usual choice (Linux; elsewhere, spawn).
FORKSERVER = sys.platform.startswith("linux")
#: What a worker needs: the notebook runner (papermill) and the page renderer (nbconvert), then
#: one page rendered (`evalkit.run.warm`).
PRELOAD = ["evalkit.run.execute", "papermill", "nbconvert", "evalkit.run.warm"]
#: What a national run's workers need too, as they run the notebooks themselves
#: (`evalkit.run.inprocess`): IPython's shell and the analyses the notebooks import (about 2 s
#: of a core a worker otherwise, and a national run has a worker a council), then a made-up
#: council's notebooks run once (`evalkit.run.rehearse`: what a process does the first time
#: only, about 0.3 s a council). Imported before the warm-up (PRELOAD's last module), so that
#: its freezing covers them.
NATIONAL = ["evalkit.run.inprocess", "evalkit.analyses.uptake", "evalkit.analyses.pa_market",
            "evalkit.analyses.outcomes", "evalkit.run.rehearse"]
#: The thread starting the forkserver (`start_forkserver`), once started.
_STARTER: dict[str, threading.Thread | None] = {}


def national_run(la: list[str]) -> bool:
    """Whether `--la` values (or the command line's words) ask for every council, each with its
    own reports (`--la all-councils`, `--la=all-councils`): a run whose workers run the notebooks
    themselves. Other national runs (`--la` with many codes) do too, but import the analyses in
    each worker."""
    return any(word.removeprefix("--la=") == EACH_COUNCIL for word in la)


def worker_context() -> BaseContext:
    """How `evalkit run` starts its workers: forkserver on Linux, spawn elsewhere."""
    return get_context("forkserver" if FORKSERVER else "spawn")


def start_forkserver(national: bool = False) -> threading.Thread | None:
    """Start the forkserver (importing PRELOAD, and NATIONAL for a `national` run) now, in the
    background, once per process (the first call decides what it imports); nothing where
    there is none (see FORKSERVER). Returns the thread that starts it.

    multiprocessing starts the forkserver for the first process started through it, and that
    start waits until PRELOAD is imported: so a process that does nothing is started, from a
    thread, and the caller goes on at once.
    """
    if not FORKSERVER:
        return None
    if "thread" not in _STARTER:
        context = worker_context()
        context.set_forkserver_preload(PRELOAD[:-1] + (NATIONAL if national else [])
                                       + PRELOAD[-1:])
        _STARTER["thread"] = threading.Thread(target=_start_idle_process, args=(context,),
                                              daemon=True, name="evalkit-forkserver-start")
        _STARTER["thread"].start()
    return _STARTER["thread"]


def wait_until_ready() -> None:
    """Return once the forkserver has imported PRELOAD (at once where there is none), so that
    starting a worker then takes milliseconds; a signal can interrupt the wait."""
    starter = start_forkserver()
    if starter is not None:
        starter.join()


def _start_idle_process(context: BaseContext) -> None:
    """Start (and reap) a process that does nothing, through `context`."""
    idle = context.Process(target=int, daemon=True)  # daemon: never waited for at exit
    idle.start()
    idle.join()
