"""Notebooks of `evalkit run`, in a worker process: papermill with the notebook's kernel, then its
HTML page; the result is each notebook's manifest entry.

The kernel is the one the notebook's kernelspec names, started by jupyter_client as a new process
(as `papermill` on the command line starts it), one a notebook (`Kernel`). A national run's
worker, given a council's notebooks (`evalkit.run.pool`), runs them one after another in the
worker itself (`InProcess`, `evalkit.run.inprocess`): no kernel to start and import the
libraries in, and no outputs sent between processes; between notebooks its shell's names are
cleared and it moves to the next notebook's folder. Statuses and times are recorded as
`evalkit.run.manifest` and `evalkit.run.index` read them. `work` is a worker process's body: it
runs its notebooks and, when the runner stops it (SIGTERM), kills the kernels it started first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

from evalkit.run import render

SUCCEEDED = "succeeded"
FAILED = "failed"
BLOCKED = "blocked by privacy gate"
#: Kernel options: log only critical messages, so the runner's output is not filled with the
#: "KeyboardInterrupt caught" that jupyter_client's interrupt-then-shutdown can cause (nor, where
#: pyzmq has no CurveZMQ, with ipykernel's "Kernel is running over TCP without encryption": the
#: kernel listens on localhost only); cell errors still reach the notebook and a dead kernel
#: still fails it.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]
#: Times a notebook is started when its kernel fails before running any cell. jupyter_client picks
#: the kernel's TCP ports and the new kernel binds them a moment later; another process can take
#: one in between ("Address already in use", papermill issue 511), more often on a busy machine.
KERNEL_STARTS = 2
#: Seconds a stopping worker waits for a kernel it killed to end (and be reaped).
KILL_WAIT = 5.0
#: The kernel managers of the notebooks this process runs (see `tracked_kernel_manager`), and a
#: lock held while one starts its kernel, so a stopping worker finds every kernel, even one
#: that is starting.
_KERNELS: weakref.WeakSet[Any] = weakref.WeakSet()
_STARTING = threading.Lock()
OUTPUTS = ("notebook", "html", "results", "key_findings")


def now() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Task:
    """One notebook for one council, and the header of its page."""

    la: str
    notebook: Path
    out_dir: Path
    title: str
    details: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # for the kernel, e.g. the load cache
    notice: str | None = None  # the synthetic-data notice (`render.synthetic_notice`), if any

    @property
    def stem(self) -> str:
        return self.notebook.stem


def kernel_name(notebook: Path) -> str:
    """The kernel the notebook declares, or python3."""
    meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    return meta.get("kernelspec", {}).get("name") or "python3"


def kernel_options(kernel: str) -> list[str]:
    """QUIET_KERNEL for ipykernel kernels; nothing for others, which may not understand it."""
    return QUIET_KERNEL if ipykernel(kernel) else []


def ipykernel(kernel: str) -> bool:
    """Whether the kernel is IPython's (a Python notebook); False for other and missing ones
    (papermill reports a missing kernel)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except NoSuchKernel:
        return False
    return any("ipykernel" in a for a in argv)


class Kernel:
    """The kernel a notebook runs in: the kernelspec's, started by papermill through a
    `tracked_kernel_manager` (so a stopping worker can kill it) and shut down at the end."""

    def __init__(self) -> None:
        self.manager: Any = None

    def options(self, task: Task, kernel: str) -> dict[str, Any]:
        """papermill's options to run `task` in this kernel (a new manager, whose kernel
        papermill starts, the first time or after `close`)."""
        if self.manager is None:
            self.manager = tracked_kernel_manager()(kernel_name=kernel)
        return {"km": self.manager, "extra_arguments": kernel_options(kernel)}

    def close(self) -> None:
        """Shut the kernel down (at once: its notebook has ended) and forget it."""
        from jupyter_core.utils import run_sync

        km, self.manager = self.manager, None
        if km is not None and km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)


class InProcess:
    """A national run's worker, running one council's Python notebooks (`evalkit.run.pool`) one
    after another in its own shell (`evalkit.run.inprocess`), cleared before each by CLEAR."""

    def options(self, task: Task, kernel: str) -> dict[str, Any]:
        """papermill's options to run `task` here, once the shell is cleared for it (papermill
        moves to the notebook's folder; `execute` has set its environment)."""
        from evalkit.run import inprocess

        inprocess.prepare(CLEAR, task.environ)
        return {"engine_name": inprocess.ENGINE}


#: Where a notebook runs.
Runner = Kernel | InProcess


#: What a worker's shell runs before each notebook (`InProcess`): IPython's own reset of the
#: user's names (what `%reset -f` does, without the magic's garbage collection: the one below
#: is the only one), matplotlib's open figures closed and its settings (rcParams) back to those
#: of its rc file, as a new kernel loads them (the backend stays; `figure.max_open_warning`
#: and `date.epoch` are not reset), pandas' options back to their defaults (a notebook's
#: `display.max_columns` would change how the next one prints, and what the gate reads; pandas
#: warns of its deprecated options as it resets them; its default number of columns shown is 20
#: in a kernel but 0 where pandas was imported outside IPython, as the worker imported it), the
#: execution count from 1. Last, the garbage the last notebook left is collected and what is
#: left frozen (`gc.freeze`): the garbage collector no longer walks it in the next notebook's
#: collections (0.93 of the CPU time of five councils' notebooks run one after another:
#: docs/national.md). What was frozen before is not walked again (that walk, over everything the
#: forkserver imported, took a tenth of a council's CPU): a cycle alive then and garbage now is
#: freed with the worker, which runs one council's notebooks (`evalkit.run.pool`).
CLEAR = """get_ipython().reset(new_session=False)
import gc as _gc, matplotlib as _mpl, matplotlib.pyplot as _plt, sys as _sys, warnings as _w
_plt.close("all")
_mpl.rc_file_defaults()
if "pandas" in _sys.modules:
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        _sys.modules["pandas"].reset_option("all")
    _sys.modules["pandas"].set_option("display.max_columns", 20)
get_ipython().execution_count = 1
_gc.collect()
_gc.freeze()
del _gc, _mpl, _plt, _sys, _w
"""


def execute(task: Task, shell: InProcess | None = None) -> dict[str, Any]:
    """Run one notebook with papermill and render its page; returns its manifest entry. With
    `shell` (a national run's worker) a Python notebook runs in this process; any other in a
    kernel of its own, shut down at the end.

    A notebook that raises is recorded as failed with its error (and not rendered: the runner
    publishes nothing of it, and redacts the error before writing it anywhere); a notebook that
    finishes without writing results.json has broken the notebook contract and is failed too.
    A kernel that dies leaves
    no executed notebook (papermill saves it only at the end or on a cell error), only the error;
    one that fails before the first cell is started again (KERNEL_STARTS), with a warning.
    """
    import papermill as pm

    task.out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(task.environ)  # this worker process is the run's; the kernel inherits it
    executed = task.out_dir / f"{task.stem}.ipynb"
    results = task.out_dir / "results.json"
    kernel = kernel_name(task.notebook)
    entry = _entry(task, kernel)
    shared: Runner = shell if shell is not None and ipykernel(kernel) else Kernel()
    t0 = time.perf_counter()
    try:
        entry["warnings"] += _papermill(task, executed, kernel, shared)
        if not results.is_file():
            raise RuntimeError(f"the notebook finished but wrote no results.json at {results}; "
                               "it must call evalkit.report.record.record(..., path=results_path)")
        entry["status"] = SUCCEEDED
    except pm.PapermillExecutionError as err:
        entry["status"] = FAILED
        entry["error"] = f"cell {err.exec_count}: {err.ename}: {err.evalue}"
    except Exception as err:  # kernel death, missing kernel, broken notebook: record, not crash
        entry["status"] = FAILED
        entry["error"] = f"{type(err).__name__}: {err}"
    finally:
        if isinstance(shared, Kernel):
            shared.close()
    entry["execute_s"] = round(time.perf_counter() - t0, 3)
    t1 = time.perf_counter()
    entry["outputs"] = _render(task, executed, entry)
    entry["render_s"] = round(time.perf_counter() - t1, 3)
    entry["finished_at"] = now()
    entry["duration_s"] = round(time.perf_counter() - t0, 3)
    return entry


def _entry(task: Task, kernel: str | None) -> dict[str, Any]:
    """The start of a notebook's manifest entry."""
    return {"notebook": task.stem, "source": str(task.notebook.resolve()), "kernel": kernel,
            "started_at": now(), "error": None, "warnings": []}


def lost(task: Task, exitcode: int | None) -> dict[str, Any]:
    """The manifest entry of a notebook whose worker process ended without a result (killed,
    or an error outside the notebook, printed above); nothing it wrote is kept."""
    entry = _entry(task, None)
    return {**entry, "status": FAILED, "finished_at": entry["started_at"],
            "error": f"the worker process ended without a result (exit code {exitcode})",
            "execute_s": 0.0, "render_s": 0.0, "duration_s": 0.0,
            "outputs": dict.fromkeys(OUTPUTS)}


def _papermill(task: Task, executed: Path, kernel: str, shared: Runner) -> list[str]:
    """Execute the notebook into `executed` in `shared`: a kernel is started again (up to
    KERNEL_STARTS times in all) while it fails before the first cell, with a warning each time
    (returned); other errors, the notebook's own included, are raised."""
    warnings: list[str] = []
    if isinstance(shared, InProcess):
        _papermill_once(task, executed, kernel, shared, threading.Event())
        return warnings
    for _ in range(KERNEL_STARTS - 1):
        ready = threading.Event()
        try:
            _papermill_once(task, executed, kernel, shared, ready)
            return warnings
        except Exception as err:
            if ready.is_set():
                raise
            shared.close()
            warnings.append(f"the kernel failed to start ({type(err).__name__}: {err}); "
                            "started it again")
    _papermill_once(task, executed, kernel, shared, threading.Event())
    return warnings


def _papermill_once(task: Task, executed: Path, kernel: str, shared: Runner,
                    ready: threading.Event) -> None:
    """One papermill execution; `ready` is set when the kernel is ready and the cells are about
    to run (nbclient's `on_notebook_start` hook, which the in-process engine calls too)."""
    import papermill as pm

    options = shared.options(task, kernel)
    # request_save_on_cell_execute=False: papermill would otherwise rewrite (and validate) the
    # whole notebook, images included, before and after every cell (about 5 s of CPU a
    # notebook); it still writes it at the end, and on a cell error before raising. A kernel's
    # manager is the worker's (`Kernel`), so nbclient leaves the kernel to `execute`, which
    # shuts it down at once (its exit handlers never run: a notebook must close what it opens,
    # e.g. a TemporaryDirectory, in its own cells)
    pm.execute_notebook(task.notebook, executed, parameters=task.parameters, kernel_name=kernel,
                        cwd=str(task.out_dir), progress_bar=False,
                        request_save_on_cell_execute=False,
                        on_notebook_start=lambda **_: ready.set(), **options)


def _render(task: Task, executed: Path, entry: dict[str, Any]) -> dict[str, str | None]:
    """Render the executed notebook if it succeeded (a failed one is never published, so it
    gets no page); output paths relative to the council folder, None for files that were not
    written."""
    page = task.out_dir / f"{task.stem}.html"
    council = task.out_dir.parent
    outputs: dict[str, str | None] = dict.fromkeys(OUTPUTS)
    if executed.is_file():
        outputs["notebook"] = executed.relative_to(council).as_posix()
    if outputs["notebook"] and entry["status"] == SUCCEEDED:
        try:
            entry["warnings"] += render.render(executed, page, title=task.title,
                                               details=task.details, notice=task.notice)
            outputs["html"] = page.relative_to(council).as_posix()
        except Exception as err:  # a page that cannot be rendered fails the notebook
            entry["status"] = FAILED
            entry["error"] = entry["error"] or f"rendering failed: {type(err).__name__}: {err}"
    render.mark_key_findings(task.out_dir / "key_findings.md", task.notice)
    for key, name in (("results", "results.json"), ("key_findings", "key_findings.md")):
        if (task.out_dir / name).is_file():
            outputs[key] = (task.out_dir / name).relative_to(council).as_posix()
    return outputs


@functools.cache
def tracked_kernel_manager() -> type:
    """The kernel manager class of `Kernel`: jupyter_client's AsyncKernelManager that
    gives a kernel whose spec supports it CurveZMQ keys (transport_encryption "auto"), and
    enters itself in _KERNELS, under _STARTING, as it starts its kernel (imported here, not
    at the top, so the runner, which only imports this module for its names, does not pay for
    jupyter_client)."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            if zmq.has("curve"):  # the kernel's channels encrypted, so ipykernel does not warn
                self.transport_encryption = "auto"  # that they are not

        async def start_kernel(self, **kw: Any) -> None:
            # the kernel's own stdout and stderr lead nowhere: ipykernel puts what a cell writes
            # there (compiled code, programs it starts) into the notebook, where the privacy
            # gate reads it, and would echo it to the run's terminal too, unchecked
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            with _STARTING:
                _KERNELS.add(self)
                await super().start_kernel(**kw)

    return TrackedKernelManager


def work(tasks: list[Task], result: Connection, in_process: bool = False) -> None:
    """A worker process's body (`evalkit.run.pool`): run `tasks` one after another, each in a
    kernel of its own or, `in_process`, in this process (`InProcess`), sending each one's
    manifest entry as it ends.

    The worker leads its own session, so a Ctrl-C in the terminal reaches only the runner, which
    then stops its workers. SIGTERM (or SIGINT) kills the kernels this worker started and ends
    it; so does the runner's end before the worker's (it was killed, e.g. with SIGKILL). The
    notebooks run in a thread: nbclient adds its own signal handlers only in a main thread, so
    this process's handling stays as set here.
    """
    os.setsid()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_worker)
    finished = threading.Event()
    threading.Thread(target=_watch_runner, args=(result, finished), daemon=True,
                     name="evalkit-watch-runner").start()
    thread = threading.Thread(target=_execute_all, args=(tasks, result, in_process),
                              name=f"evalkit {tasks[0].la}")
    thread.start()
    thread.join()  # if execute raised (printed by the thread), the runner fails the rest
    finished.set()


def _execute_all(tasks: list[Task], result: Connection, in_process: bool) -> None:
    """Execute each task (`in_process`: in this process, `InProcess`), sending each entry."""
    shell = InProcess() if in_process else None
    for task in tasks:
        result.send(execute(task, shell))


def _watch_runner(result: Connection, finished: threading.Event) -> None:
    """Stop this worker as SIGTERM does if the runner has gone before the notebook finished:
    the runner holds the other end of `result`, which the OS closes when it ends."""
    watch = select.poll()
    watch.register(result.fileno(), select.POLLERR)
    watch.poll()
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGTERM)


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    """Kill this worker's kernels (waiting for one being started), then end the worker; the
    handler of SIGTERM and SIGINT, which are ignored from then on."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    try:
        with _STARTING:
            for km in list(_KERNELS):
                if km.has_kernel:
                    asyncio.run(_kill(km))
    finally:
        os._exit(128 + signum)


async def _kill(km: Any) -> None:
    """Kill a kernel's process group, wait for the kernel to end (so it is reaped) and remove
    its connection file."""
    try:
        await km.provisioner.kill()
        await asyncio.wait_for(km.provisioner.wait(), KILL_WAIT)
        km.cleanup_connection_file()  # not all of cleanup_resources: the kernel's sockets
        # belong to the thread running the notebook
    except Exception as err:  # the worker ends anyway; say which kernel may be left
        print(f"evalkit run: could not stop a kernel ({type(err).__name__}: {err})",
              file=sys.stderr)
