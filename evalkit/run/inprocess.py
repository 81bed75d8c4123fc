"""The notebooks of a national `evalkit run`, executed in the worker process itself: a papermill
engine (papermill's documented extension point) that runs each code cell in IPython's own shell
and records its outputs as a kernel would send them.

A national run executes hundreds of notebooks; in a kernel each one's outputs travel as messages
between two processes, and each new kernel imports the libraries again. Executing them in the
worker, which papermill and the page renderer already run in, took 0.79 of the CPU time for the
same five councils (docs/national.md), with every output, results.json, key_findings.md and
download identical. papermill still parameterises the notebook, records its metadata, fails it
on an error output (`PapermillExecutionError`) and writes it; only the execution differs.

`prepare` readies the shell for each notebook (`evalkit.run.execute.CLEAR`) and applies the
thread limits the run gives kernels through their environment (OpenBLAS and Arrow were loaded
before it, in the forkserver, so the environment alone would not limit them). What a cell
writes to the process's file descriptors (compiled code, programs it starts) is collected too,
as a kernel collects it. Unlike a kernel, a cell runs outside the main thread, so it cannot set
signal handlers; the cell file names in tracebacks are IPython's (`<ipython-input-N-...>`).
"""

from __future__ import annotations

import functools
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import IO, Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from nbformat import NotebookNode, from_dict
from nbformat.v4 import new_output
from papermill.engines import Engine, papermill_engines
from traitlets import Type
from traitlets.config import Config

#: The name this module's engine is registered under (`papermill.execute_notebook(engine_name=)`).
ENGINE = "evalkit-in-process"
#: The thread limit of OpenMP and Arrow (`evalkit.run.plan.ONE_THREAD`).
THREADS_ENV = "OMP_NUM_THREADS"


class CellOutputs:
    """The outputs of the cell being run, in the order they came, as nbformat outputs: text
    written to stdout or stderr in a row is one stream output, and `clear_output(wait=True)`
    clears only when the next output comes."""

    def __init__(self) -> None:
        self.items: list[NotebookNode] = []
        self.clear_pending = False

    def add(self, output: NotebookNode) -> None:
        if self.clear_pending:
            self.items.clear()
            self.clear_pending = False
        self.items.append(output)

    def write(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.items[-1] if self.items and not self.clear_pending else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            self.add(new_output("stream", name=name, text=text))

    def clear(self, wait: bool) -> None:
        if wait:
            self.clear_pending = True
        else:
            self.items.clear()


class Stream(io.TextIOBase):
    """sys.stdout or sys.stderr while a cell runs: what is written goes to its outputs."""

    encoding = "utf-8"

    def __init__(self, name: str, outputs: CellOutputs) -> None:
        self.name_, self.outputs = name, outputs

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.outputs.write(self.name_, text)
        return len(text)


def rich_output(output_type: str, data: Mapping[str, Any],
                metadata: Mapping[str, Any] | None) -> NotebookNode:
    """A display_data or execute_result output of IPython's formatted `data`, as nbformat's
    `new_output` makes it but without checking it against the notebook schema on its own:
    papermill checks the whole notebook as it writes it (a council's 130-odd charts and tables
    were checked one by one, a hundredth of its worker's time)."""
    count = {"execution_count": None} if output_type == "execute_result" else {}
    return from_dict({"output_type": output_type, "data": dict(data),
                      "metadata": dict(metadata or {}), **count})


class Publisher(DisplayPublisher):
    """`display()` and `clear_output()`: display_data outputs of the running cell."""

    def publish(self, data: Mapping[str, Any], metadata: Mapping[str, Any] | None = None,
                source: Any = None, *, transient: Mapping[str, Any] | None = None,
                update: bool = False, **kwargs: Any) -> None:
        cell = self.shell.cell_outputs
        display_id = (transient or {}).get("display_id")
        if update and display_id is not None:  # an update replaces that display's outputs
            for out in self.shell.displays.get(display_id, []):
                out.data, out.metadata = dict(data), dict(metadata or {})
            return
        out = rich_output("display_data", data, metadata)
        cell.add(out)
        if display_id is not None:
            self.shell.displays.setdefault(display_id, []).append(out)

    def clear_output(self, wait: bool = False) -> None:
        self.shell.cell_outputs.clear(wait)


class Hook(DisplayHook):
    """A cell's value: an execute_result output, as a kernel sends it (no "Out[n]:" printed)."""

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: Mapping[str, Any],
                          md_dict: Mapping[str, Any] | None = None) -> None:
        # its execution count: the cell's (`Shell.run`)
        self.shell.cell_outputs.add(rich_output("execute_result", format_dict, md_dict))


class Shell(InteractiveShell):
    """IPython's shell with each cell's outputs collected (`run`) instead of printed."""

    display_pub_class = Type(Publisher)
    displayhook_class = Type(Hook)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell_outputs = CellOutputs()
        self.displays: dict[str, list[NotebookNode]] = {}

    def showtraceback(self, exc_tuple: tuple[type[BaseException], BaseException, Any] | None = None,
                      filename: str | None = None, tb_offset: int | None = None,
                      exception_only: bool = False, running_compiled_code: bool = False) -> None:
        """The error as the cell's error output (ename, evalue, traceback), as a kernel sends
        it."""
        etype, value, tb = exc_tuple or sys.exc_info()
        lines = (self.InteractiveTB.get_exception_only(etype, value) if exception_only else
                 self.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset))
        self.cell_outputs.add(new_output("error", ename=etype.__name__ if etype else "Error",
                                         evalue=str(value), traceback=lines))

    def enable_gui(self, gui: str | None = None) -> None:
        """No GUI event loop: figures are drawn inline (`shell`) or not at all."""
        if gui is not None:
            raise ValueError(f"a report cannot show a {gui} window; draw charts inline")

    def showsyntaxerror(self, filename: str | None = None,
                        running_compiled_code: bool = False) -> None:
        self.showtraceback(exception_only=True)

    def run(self, source: str, store_history: bool = True) -> tuple[list[NotebookNode], bool,
                                                                     int | None]:
        """Run one cell: its outputs, whether it succeeded and its execution count. What the
        cell (or a program it starts, or compiled code) writes to the process's stdout and
        stderr descriptors are its last stream outputs, as a kernel captures them: they never
        reach the run's terminal unchecked."""
        self.cell_outputs = CellOutputs()
        count, error = self.execution_count, None
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with (descriptors_to(out, err), redirect_stdout(Stream("stdout", self.cell_outputs)),
                  redirect_stderr(Stream("stderr", self.cell_outputs))):
                try:
                    result = self.run_cell(source, store_history=store_history)
                    count = result.execution_count
                    error = None if result.success else (result.error_before_exec
                                                         or result.error_in_exec or Exception())
                except BaseException as raised:  # e.g. SystemExit from an event callback
                    error = raised
                    self.showtraceback((type(raised), raised, raised.__traceback__))
            for name, written in (("stdout", out), ("stderr", err)):
                written.seek(0)
                self.cell_outputs.write(name, written.read().decode("utf-8", "replace"))
        outputs = self.cell_outputs.items
        for out in outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
        if error is not None and not any(o.output_type == "error" for o in outputs):
            self.cell_outputs.add(new_output("error", ename=type(error).__name__,
                                             evalue=str(error), traceback=[]))
        return outputs, error is None, count


@contextmanager
def descriptors_to(out: IO[bytes], err: IO[bytes]) -> Iterator[None]:
    """The process's stdout and stderr file descriptors (1 and 2) written to `out` and `err`
    meanwhile (Python's own buffered output flushed before and after, so it lands where it
    belongs)."""
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        for fd, sink in ((1, out), (2, err)):
            os.dup2(sink.fileno(), fd)
        yield
    finally:
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


@functools.cache
def shell() -> Shell:
    """This process's shell (one per process, as IPython's shell is a singleton), with
    matplotlib's inline backend as in a kernel (a pyplot figure left open is displayed at the
    end of its cell), no history written to disk and no output cache (`_`, `Out`: no
    notebook reads them, and IPython's reset flushing it collected garbage once more than
    `evalkit.run.execute.CLEAR` does, 1.2% of a worker's time)."""
    made = Shell.instance(config=Config({"HistoryManager": {"enabled": False},
                                         "InteractiveShell": {"cache_size": 0}}))
    made.enable_matplotlib("inline")
    return made


def prepare(clear: str, environ: Mapping[str, str]) -> None:
    """Ready the shell for the next notebook: make its names `__main__`'s (IPython's
    `init_sys_modules`: pickle finds a cell's classes there, as in a kernel; the shell did so
    when it was made, but a forkserver that rehearsed, `evalkit.run.rehearse`, made it before
    its worker's start set `__main__`), run `clear` in it (`evalkit.run.execute.CLEAR`),
    forget the last notebook's displays, and limit the numerical libraries' threads as
    `environ` limits a kernel's; RuntimeError if `clear` failed."""
    sh = shell()
    sh.init_sys_modules()
    sh.displays.clear()
    outputs, ok, _ = sh.run(clear, store_history=False)
    if not ok:
        error = next((o for o in outputs if o.output_type == "error"), None)
        raise RuntimeError("the shell could not be cleared for the next notebook: "
                           f"{error.ename if error else 'unknown error'}")
    limit_threads(environ)


def limit_threads(environ: Mapping[str, str]) -> None:
    """The thread limits `environ` sets (`evalkit.run.plan.thread_limits`), each for the
    libraries that read it: OpenBLAS's and MKL's BLAS (threadpoolctl), OpenMP and Arrow's CPU
    pool (OMP_NUM_THREADS)."""
    import pyarrow
    from threadpoolctl import threadpool_limits

    blas = environ.get("OPENBLAS_NUM_THREADS") or environ.get("MKL_NUM_THREADS")
    if blas:
        threadpool_limits(limits=int(blas), user_api="blas")
    if openmp := environ.get(THREADS_ENV):
        threadpool_limits(limits=int(openmp), user_api="openmp")
        pyarrow.set_cpu_count(int(openmp))


class InProcessEngine(Engine):
    """papermill's engine for this process's shell: each code cell with source is run in order
    (empty ones are skipped, as nbclient skips them) until one fails; `on_notebook_start` (an
    nbclient hook `evalkit.run.execute` passes) is called before the first."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> None:
        sh = shell()
        if (started := kwargs.get("on_notebook_start")) is not None:
            started(notebook=nb_man.nb)
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            nb_man.cell_start(cell, index)
            try:
                cell.outputs, ok, cell.execution_count = sh.run(cell.source)
                if not ok:
                    nb_man.cell_exception(cell, index)
                    break
            finally:
                nb_man.cell_complete(cell, index)


papermill_engines.register(ENGINE, InProcessEngine)
